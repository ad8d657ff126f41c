//! The latent paths `gan traverse` draws, as pure functions: straight lines (lerp), great-circle
//! arcs (slerp), sweeps of one coordinate, and closed loops through several points.
//!
//! Tensors of paths are `[rows * steps, latent]`: row `r`'s step `s` is row `r * steps + s`, so a
//! path's points are consecutive and can be drawn as one row of a digit grid.

use crate::error::{GanError, Result};
use autograd::Tensor;

/// Above this cosine two vectors count as parallel and slerp falls back to lerp (the arc and
/// the chord differ by less than 1e-4 of the norm there, and the arc's formula divides by
/// a vanishing sine).
const PARALLEL_COS: f64 = 0.9995;
/// Below this cosine two vectors count as opposite: the great circle through them is
/// ill-defined, and slerp goes through a perpendicular midpoint instead.
const OPPOSITE_COS: f64 = -0.9995;
/// Vectors shorter than this have no direction; slerp falls back to lerp.
const TINY_NORM: f64 = 1e-12;

/// How to go from one point to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interpolation {
    /// The straight line `(1 - t) a + t b`.
    Lerp,
    /// The great-circle arc ([`slerp`]).
    Slerp,
}

fn same_length(a: &[f32], b: &[f32]) -> Result<()> {
    if a.len() != b.len() {
        return Err(GanError::InvalidInput(format!(
            "cannot interpolate between vectors of {} and {} values: the lengths must match",
            a.len(),
            b.len()
        )));
    }
    Ok(())
}

/// The point `(1 - t) a + t b` of the straight line from `a` (`t = 0`) to `b` (`t = 1`).
///
/// Errors when `a` and `b` differ in length.
///
/// ```
/// let mid = gan::traverse::lerp(&[0.0, 2.0], &[2.0, 4.0], 0.5)?;
/// assert_eq!(mid, vec![1.0, 3.0]);
/// # Ok::<(), gan::GanError>(())
/// ```
pub fn lerp(a: &[f32], b: &[f32], t: f32) -> Result<Vec<f32>> {
    same_length(a, b)?;
    Ok(lerp_unchecked(a, b, t))
}

fn lerp_unchecked(a: &[f32], b: &[f32], t: f32) -> Vec<f32> {
    // This form (not a + t (b - a)) gives exactly a at t = 0 and exactly b at t = 1.
    a.iter()
        .zip(b)
        .map(|(&x, &y)| (1.0 - t) * x + t * y)
        .collect()
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum()
}

/// The point at `t` of the great-circle arc from `a` to `b`:
/// `sin((1 - t) ω) / sin ω · a + sin(t ω) / sin ω · b`, `ω` the angle between them.
///
/// It gives exactly `a` at `t = 0` and exactly `b` at `t = 1`, and when `|a| = |b|` every point
/// has that norm too, so the path stays where Gaussian noise of that size lives (a straight line
/// between two noise vectors passes closer to the origin, where the generator saw no noise).
/// Nearly parallel vectors (and a zero vector) fall back to [`lerp`]. Nearly opposite vectors
/// have no single great circle through them; the path then goes through a midpoint
/// perpendicular to `a`, of the mean norm, in the plane of `a` and `b` when it is defined.
///
/// Errors when `a` and `b` differ in length.
pub fn slerp(a: &[f32], b: &[f32], t: f32) -> Result<Vec<f32>> {
    same_length(a, b)?;
    let (na, nb) = (dot(a, a).sqrt(), dot(b, b).sqrt());
    if na < TINY_NORM || nb < TINY_NORM {
        return Ok(lerp_unchecked(a, b, t));
    }
    let cos = (dot(a, b) / (na * nb)).clamp(-1.0, 1.0);
    if cos > PARALLEL_COS {
        return Ok(lerp_unchecked(a, b, t));
    }
    if cos < OPPOSITE_COS {
        let mid = perpendicular_midpoint(a, b, na, nb);
        return Ok(if t < 0.5 {
            arc(a, &mid, 2.0 * f64::from(t))
        } else {
            arc(&mid, b, 2.0 * f64::from(t) - 1.0)
        });
    }
    Ok(arc_with_cos(a, b, cos, f64::from(t)))
}

/// Slerp between two vectors known to be well apart (about 90° for the halves of the
/// opposite case).
fn arc(a: &[f32], b: &[f32], t: f64) -> Vec<f32> {
    let (na, nb) = (dot(a, a).sqrt(), dot(b, b).sqrt());
    let cos = (dot(a, b) / (na * nb)).clamp(-1.0, 1.0);
    arc_with_cos(a, b, cos, t)
}

fn arc_with_cos(a: &[f32], b: &[f32], cos: f64, t: f64) -> Vec<f32> {
    let omega = cos.acos();
    let sin = omega.sin();
    let wa = ((1.0 - t) * omega).sin() / sin;
    let wb = (t * omega).sin() / sin;
    a.iter()
        .zip(b)
        .map(|(&x, &y)| (wa * f64::from(x) + wb * f64::from(y)) as f32)
        .collect()
}

/// A vector perpendicular to `a` of norm `(|a| + |b|) / 2`: along the part of `b` orthogonal
/// to `a` when that part is measurable, else along the axis on which `a` is smallest.
fn perpendicular_midpoint(a: &[f32], b: &[f32], na: f64, nb: f64) -> Vec<f32> {
    let unit_a: Vec<f64> = a.iter().map(|&x| f64::from(x) / na).collect();
    let reject = |v: Vec<f64>| -> Vec<f64> {
        let along: f64 = v.iter().zip(&unit_a).map(|(x, y)| x * y).sum();
        v.iter().zip(&unit_a).map(|(x, y)| x - along * y).collect()
    };
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let mut dir = reject(b.iter().map(|&y| f64::from(y) / nb).collect());
    if norm(&dir) < 1e-6 {
        let axis = unit_a
            .iter()
            .enumerate()
            .min_by(|x, y| x.1.abs().total_cmp(&y.1.abs()))
            .map_or(0, |(i, _)| i);
        dir = reject(
            (0..a.len())
                .map(|i| f64::from(u8::from(i == axis)))
                .collect(),
        );
    }
    let scale = 0.5 * (na + nb) / norm(&dir).max(TINY_NORM);
    dir.iter().map(|x| (x * scale) as f32).collect()
}

/// The `steps` values of `t` from 0 to 1 inclusive, evenly spaced.
fn ts(steps: usize) -> impl Iterator<Item = f32> {
    let last = (steps - 1) as f32;
    (0..steps).map(move |s| s as f32 / last)
}

fn check_steps(steps: usize) -> Result<()> {
    if steps < 2 {
        return Err(GanError::InvalidInput(format!(
            "a path of {steps} step(s) cannot show a change: ask for at least 2 steps"
        )));
    }
    Ok(())
}

/// Rows of paths: row `r` goes from row `r` of `from` to row `r` of `to` (both `[rows,
/// latent]`) in `steps` evenly spaced points, ends included. The result is
/// `[rows * steps, latent]`.
///
/// Errors when the shapes differ or are not 2-D, or when `steps < 2`.
pub fn interpolate_rows(
    from: &Tensor,
    to: &Tensor,
    steps: usize,
    how: Interpolation,
) -> Result<Tensor> {
    check_steps(steps)?;
    if from.shape() != to.shape() || from.shape().len() != 2 {
        return Err(GanError::InvalidInput(format!(
            "interpolation needs two [rows, latent] tensors of the same shape, got {:?} and {:?}",
            from.shape(),
            to.shape()
        )));
    }
    let (rows, latent) = (from.dim(0), from.dim(1));
    let mut out = Vec::with_capacity(rows * steps * latent);
    for (a, b) in from
        .data()
        .chunks_exact(latent.max(1))
        .zip(to.data().chunks_exact(latent.max(1)))
    {
        for t in ts(steps) {
            out.extend(match how {
                Interpolation::Lerp => lerp_unchecked(a, b, t),
                Interpolation::Slerp => slerp(a, b, t)?,
            });
        }
    }
    Ok(Tensor::from_vec(&[rows * steps, latent], out)?)
}

/// Rows of sweeps of single coordinates: row `r` is `base` with coordinate `coords[r]` moved
/// from `-range` to `+range` in `steps` evenly spaced values, the other coordinates fixed. The
/// result is `[coords.len() * steps, base.len()]`.
///
/// Errors when a coordinate is not below `base.len()`, when `coords` is empty, when `range` is
/// not a positive finite number, or when `steps < 2`.
pub fn coordinate_sweeps(
    base: &[f32],
    coords: &[usize],
    range: f32,
    steps: usize,
) -> Result<Tensor> {
    check_steps(steps)?;
    if !(range.is_finite() && range > 0.0) {
        return Err(GanError::InvalidInput(format!(
            "sweep range {range}: give a positive number (3 sweeps from -3 to +3)"
        )));
    }
    if coords.is_empty() {
        return Err(GanError::InvalidInput(
            "no coordinate to sweep: give at least one".into(),
        ));
    }
    let latent = base.len();
    if let Some(&bad) = coords.iter().find(|&&c| c >= latent) {
        return Err(GanError::InvalidInput(format!(
            "coordinate {bad} does not exist: the latent vector has {latent} coordinates, \
             numbered 0 to {}",
            latent.saturating_sub(1)
        )));
    }
    let mut out = Vec::with_capacity(coords.len() * steps * latent);
    for &c in coords {
        for t in ts(steps) {
            let start = out.len();
            out.extend_from_slice(base);
            out[start + c] = (1.0 - t) * -range + t * range;
        }
    }
    Ok(Tensor::from_vec(&[coords.len() * steps, latent], out)?)
}

/// A closed loop through the rows of `points` (`[k, latent]`, `k ≥ 2`): slerp from each point
/// to the next and from the last back to the first, `frames_per_leg` frames per leg. Each leg
/// leaves out its end (the next leg's start), so played in a loop the path never repeats a
/// frame. The result is `[k * frames_per_leg, latent]`.
pub fn slerp_loop(points: &Tensor, frames_per_leg: usize) -> Result<Tensor> {
    if points.shape().len() != 2 || points.dim(0) < 2 || frames_per_leg == 0 {
        return Err(GanError::InvalidInput(format!(
            "a loop needs at least 2 points ([k, latent], got {:?}) and at least 1 frame per \
             leg (got {frames_per_leg})",
            points.shape()
        )));
    }
    let (k, latent) = (points.dim(0), points.dim(1));
    let rows: Vec<&[f32]> = points.data().chunks_exact(latent.max(1)).collect();
    let mut out = Vec::with_capacity(k * frames_per_leg * latent);
    for (i, &a) in rows.iter().enumerate() {
        let b = rows[(i + 1) % k];
        for f in 0..frames_per_leg {
            out.extend(slerp(a, b, f as f32 / frames_per_leg as f32)?);
        }
    }
    Ok(Tensor::from_vec(&[k * frames_per_leg, latent], out)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(v: &[f32]) -> f64 {
        dot(v, v).sqrt()
    }

    fn close(a: &[f32], b: &[f32], tol: f32) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tol)
    }

    const A: [f32; 4] = [1.5, -0.3, 2.0, 0.7];
    const B: [f32; 4] = [-0.4, 1.1, 0.2, -2.5];

    #[test]
    fn lerp_ends_are_exact_and_midpoint_is_the_mean() {
        assert_eq!(lerp(&A, &B, 0.0).unwrap(), A);
        assert_eq!(lerp(&A, &B, 1.0).unwrap(), B);
        let mean: Vec<f32> = A.iter().zip(&B).map(|(x, y)| (x + y) / 2.0).collect();
        assert_eq!(lerp(&A, &B, 0.5).unwrap(), mean);
        assert!(lerp(&A, &B[..3], 0.5).is_err());
    }

    #[test]
    fn slerp_ends_are_the_inputs() {
        assert_eq!(slerp(&A, &B, 0.0).unwrap(), A);
        assert_eq!(slerp(&A, &B, 1.0).unwrap(), B);
        assert!(slerp(&A, &B[..2], 0.0).is_err());
    }

    #[test]
    fn slerp_keeps_the_norm_of_equal_norm_ends_and_lerp_does_not() {
        let scale = (norm(&A) / norm(&B)) as f32;
        let b: Vec<f32> = B.iter().map(|y| y * scale).collect();
        let r = norm(&A);
        for t in [0.1, 0.25, 0.5, 0.8] {
            let p = slerp(&A, &b, t).unwrap();
            assert!(
                (norm(&p) - r).abs() < 1e-5 * r,
                "t {t}: {} vs {r}",
                norm(&p)
            );
        }
        // The chord dips towards the origin: the test above could fail.
        assert!(norm(&lerp(&A, &b, 0.5).unwrap()) < 0.9 * r);
    }

    #[test]
    fn slerp_moves_at_constant_angular_speed_in_the_plane() {
        // A quarter circle: at t the point is (cos(t π/2), sin(t π/2)).
        let p = slerp(&[1.0, 0.0], &[0.0, 1.0], 1.0 / 3.0).unwrap();
        let angle = std::f32::consts::FRAC_PI_6;
        assert!(close(&p, &[angle.cos(), angle.sin()], 1e-6), "{p:?}");
    }

    #[test]
    fn nearly_parallel_and_zero_vectors_fall_back_to_lerp() {
        let a = [1.0, 0.0, 0.0];
        let b = [1.0, 1e-4, 0.0];
        assert_eq!(slerp(&a, &b, 0.3).unwrap(), lerp(&a, &b, 0.3).unwrap());
        let p = slerp(&a, &a, 0.7).unwrap();
        assert!(p.iter().all(|v| v.is_finite()) && close(&p, &a, 1e-7));
        let zero = [0.0; 3];
        assert_eq!(slerp(&zero, &a, 0.5).unwrap(), vec![0.5, 0.0, 0.0]);
    }

    #[test]
    fn opposite_vectors_go_round_through_a_perpendicular_midpoint() {
        let a = [3.0, 0.0, 0.0, 0.0];
        let b = [-3.0, 0.0, 0.0, 0.0];
        assert_eq!(slerp(&a, &b, 0.0).unwrap(), a);
        assert_eq!(slerp(&a, &b, 1.0).unwrap(), b);
        for t in [0.1, 0.3, 0.5, 0.6, 0.9] {
            let p = slerp(&a, &b, t).unwrap();
            assert!(p.iter().all(|v| v.is_finite()), "{p:?}");
            assert!((norm(&p) - 3.0).abs() < 1e-5, "t {t}: {p:?}");
        }
        let mid = slerp(&a, &b, 0.5).unwrap();
        assert!(dot(&mid, &a).abs() < 1e-5, "{mid:?}");
        // Nearly opposite: the midpoint lies in the plane of a and b (here x, y).
        let b = [-3.0, 0.01, 0.0, 0.0];
        let mid = slerp(&a, &b, 0.5).unwrap();
        assert!(mid[1] > 2.9 && mid[2] == 0.0 && mid[3] == 0.0, "{mid:?}");
        // Continuous at t = 0.5 from both sides.
        let (l, r) = (
            slerp(&a, &b, 0.4999).unwrap(),
            slerp(&a, &b, 0.5001).unwrap(),
        );
        assert!(close(&l, &r, 5e-3), "{l:?} {r:?}");
    }

    #[test]
    fn interpolate_rows_lays_out_paths_row_by_row() {
        let from = Tensor::from_vec(&[2, 2], vec![0.0, 0.0, 1.0, 1.0]).unwrap();
        let to = Tensor::from_vec(&[2, 2], vec![2.0, 4.0, 1.0, 1.0]).unwrap();
        let t = interpolate_rows(&from, &to, 3, Interpolation::Lerp).unwrap();
        assert_eq!(t.shape(), &[6, 2]);
        assert_eq!(
            t.data(),
            &[0.0, 0.0, 1.0, 2.0, 2.0, 4.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
        );
        let s = interpolate_rows(&from, &to, 3, Interpolation::Slerp).unwrap();
        assert_eq!(&s.data()[..2], &[0.0, 0.0]);
        assert_eq!(&s.data()[4..6], &[2.0, 4.0]);
        assert!(interpolate_rows(&from, &to, 1, Interpolation::Lerp).is_err());
        let other = Tensor::zeros(&[2, 3]);
        assert!(interpolate_rows(&from, &other, 3, Interpolation::Lerp).is_err());
    }

    #[test]
    fn a_sweep_changes_only_its_coordinate() {
        let base = [0.5, -1.0, 2.0, 0.25];
        let t = coordinate_sweeps(&base, &[2, 0], 3.0, 4).unwrap();
        assert_eq!(t.shape(), &[8, 4]);
        let rows: Vec<&[f32]> = t.data().chunks_exact(4).collect();
        let expected = [-3.0, -1.0, 1.0, 3.0];
        for (s, row) in rows[..4].iter().enumerate() {
            assert!((row[2] - expected[s]).abs() < 1e-6, "{row:?}");
            assert_eq!([row[0], row[1], row[3]], [base[0], base[1], base[3]]);
        }
        for (s, row) in rows[4..].iter().enumerate() {
            assert!((row[0] - expected[s]).abs() < 1e-6, "{row:?}");
            assert_eq!(&row[1..], &base[1..]);
        }
        let err = coordinate_sweeps(&base, &[4], 3.0, 4).unwrap_err();
        assert!(err.to_string().contains("0 to 3"), "{err}");
        assert!(coordinate_sweeps(&base, &[], 3.0, 4).is_err());
        assert!(coordinate_sweeps(&base, &[0], f32::NAN, 4).is_err());
        assert!(coordinate_sweeps(&base, &[0], 3.0, 1).is_err());
    }

    #[test]
    fn a_loop_returns_to_its_start_without_repeating_it() {
        let points = Tensor::from_vec(&[3, 2], vec![1.0, 0.0, 0.0, 1.0, -1.0, 0.2]).unwrap();
        let path = slerp_loop(&points, 4).unwrap();
        assert_eq!(path.shape(), &[12, 2]);
        let rows: Vec<&[f32]> = path.data().chunks_exact(2).collect();
        assert_eq!(rows[0], &[1.0, 0.0]);
        assert_eq!(rows[4], &[0.0, 1.0]);
        assert_eq!(rows[8], &[-1.0, 0.2]);
        // The last frame is one step before the first, not the first again.
        let last = rows[11];
        let dist = |p: &[f32], q: &[f32]| (p[0] - q[0]).hypot(p[1] - q[1]);
        assert!(last != rows[0], "{last:?}");
        assert!(dist(last, rows[0]) < dist(last, rows[8]), "{last:?}");
        assert!(slerp_loop(&Tensor::zeros(&[1, 2]), 4).is_err());
        assert!(slerp_loop(&points, 0).is_err());
    }
}
