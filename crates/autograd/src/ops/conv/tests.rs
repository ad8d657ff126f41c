//! Unit tests of the convolution helpers.

use super::columns::valid_range;
use super::*;

#[test]
fn valid_ranges_cover_exactly_the_inside() {
    for &(k, n_out, n_in, s, p) in &[
        (0, 5, 5, 1, 1),
        (2, 5, 5, 1, 1),
        (0, 3, 6, 2, 1),
        (4, 3, 2, 1, 2),
        (3, 2, 1, 3, 2),
    ] {
        let (lo, hi) = valid_range(k, n_out, n_in, s, p);
        for o in 0..n_out {
            let i = (o * s + k) as isize - p as isize;
            let inside = i >= 0 && (i as usize) < n_in;
            assert_eq!(
                inside,
                (lo..hi).contains(&o),
                "{k} {n_out} {n_in} {s} {p} o={o}"
            );
        }
    }
}

#[test]
fn col2im_is_the_adjoint_of_im2col() {
    // <im2col(x), c> = <x, col2im(c)> for any x, c.
    let g = Geometry {
        channels: 2,
        h: 5,
        w: 4,
        kh: 3,
        kw: 2,
        stride: 2,
        padding: 1,
        ho: 3,
        wo: 3,
    };
    let x: Vec<f32> = (0..g.image_len())
        .map(|i| (i as f32 * 0.37).sin())
        .collect();
    let c: Vec<f32> = (0..g.rows() * g.positions())
        .map(|i| (i as f32 * 0.11).cos())
        .collect();
    let mut cols = vec![0.0; c.len()];
    im2col(&g, &x, &mut cols, g.positions());
    let mut img = vec![0.0; x.len()];
    col2im(&g, &c, g.positions(), &mut img);
    assert_eq!((cols.len(), x.len()), (c.len(), img.len()));
    let lhs: f64 = cols.iter().zip(&c).map(|(a, b)| f64::from(a * b)).sum();
    let rhs: f64 = x.iter().zip(&img).map(|(a, b)| f64::from(a * b)).sum();
    assert!((lhs - rhs).abs() < 1e-4, "{lhs} vs {rhs}");
}
