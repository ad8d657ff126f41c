//! Unit tests of the convolution helpers.

use super::columns::{col2im, im2col, valid_range, Columns};
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

#[test]
fn the_gather_tables_match_the_direct_loops() {
    // A 4×4 window with stride 2 and padding 1 (the DCGAN's), odd sizes, a window larger than
    // the stride, and a transposed convolution's geometry (output 28×28 from 14×14).
    let geometries = [
        (2, 14, 14, 4, 4, 2, 1, 7, 7),
        (3, 5, 4, 3, 2, 2, 1, 3, 3),
        (1, 6, 6, 1, 1, 1, 0, 6, 6),
        (2, 28, 28, 4, 4, 2, 1, 14, 14),
        (1, 7, 5, 3, 3, 1, 2, 9, 7),
    ];
    for &(channels, h, w, kh, kw, stride, padding, ho, wo) in &geometries {
        let g = Geometry {
            channels,
            h,
            w,
            kh,
            kw,
            stride,
            padding,
            ho,
            wo,
        };
        let what = format!("{g:?}");
        let ld = g.positions() + 3; // rows of a wider group matrix
        let x: Vec<f32> = (0..g.image_len())
            .map(|i| (i as f32 * 0.37).sin())
            .collect();
        let mut want = vec![f32::NAN; g.rows() * ld];
        let mut got = want.clone();
        im2col(&g, &x, &mut want, ld);
        let mut fast = Columns::new(&g);
        fast.im2col(&x, &mut got, ld);
        for r in 0..g.rows() {
            let (w, f) = (
                &want[r * ld..][..g.positions()],
                &got[r * ld..][..g.positions()],
            );
            assert_eq!(w, f, "{what}: im2col row {r}");
        }
        let c: Vec<f32> = (0..g.rows() * ld)
            .map(|i| (i as f32 * 0.11).cos())
            .collect();
        let mut want_img = x.clone();
        let mut got_img = x.clone();
        col2im(&g, &c, ld, &mut want_img);
        fast.col2im(&c, ld, &mut got_img);
        for (a, b) in want_img.iter().zip(&got_img) {
            assert!((a - b).abs() < 1e-5, "{what}: col2im {a} vs {b}");
        }
        // After a col2im, the padded plane is clean again for the next im2col.
        fast.im2col(&x, &mut got, ld);
        for r in 0..g.rows() {
            let (w, f) = (
                &want[r * ld..][..g.positions()],
                &got[r * ld..][..g.positions()],
            );
            assert_eq!(w, f, "{what}: im2col after col2im, row {r}");
        }
    }
}
