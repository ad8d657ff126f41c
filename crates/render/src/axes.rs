//! Axis ranges and tick labels shared by the line and bar charts.

use super::{RenderError, Result};

/// Smallest chart accepted, in pixels.
pub const MIN_CHART_SIZE: (u32, u32) = (200, 150);

/// Errors unless the chart is at least [`MIN_CHART_SIZE`] (the size limit is checked later).
pub(crate) fn check_chart_size(width: u32, height: u32) -> Result<()> {
    if width < MIN_CHART_SIZE.0 || height < MIN_CHART_SIZE.1 {
        return Err(RenderError::InvalidInput(format!(
            "a chart of {width}x{height} pixels is too small to read: use at least {}x{}",
            MIN_CHART_SIZE.0, MIN_CHART_SIZE.1
        )));
    }
    Ok(())
}

/// (low, high) of `values` widened by `frac` of the span on each side; `(0, 1)` when there are
/// none; a single value `v` becomes `v ± max(|v| * 0.1, ...)` or `v ± flat` when `v` is 0.
pub(crate) fn padded(values: impl Iterator<Item = f64>, frac: f64, flat: f64) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if lo > hi {
        return (0.0, 1.0);
    }
    let span = hi - lo;
    if !span.is_finite() {
        return (f64::MIN / 4.0, f64::MAX / 4.0);
    }
    if span <= f64::EPSILON * lo.abs().max(hi.abs()) {
        let pad = if lo == 0.0 { flat } else { lo.abs() * 0.1 };
        return (lo - pad, hi + pad);
    }
    (lo - span * frac, hi + span * frac)
}

/// A tick formatter with as few decimals as show every tick exactly (0.2 → one, 5 → none,
/// 0.25 → two), scientific notation for very large or very small numbers.
pub(crate) fn tick_formatter(ticks: &[f64]) -> impl Fn(&f64) -> String {
    let step = ticks
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(f64::INFINITY, f64::min);
    let largest = ticks.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let scientific = largest >= 1e6 || (step.is_finite() && step < 1e-4) || largest < 1e-4;
    let tolerance = if step.is_finite() {
        step * 1e-6
    } else {
        largest * 1e-9
    };
    let decimals = (0..=6)
        .find(|&d| {
            let k = 10f64.powi(d);
            ticks
                .iter()
                .all(|v| ((v * k).round() / k - v).abs() <= tolerance)
        })
        .unwrap_or(6) as usize;
    move |v: &f64| {
        let s = if scientific && *v != 0.0 {
            format!("{v:.1e}")
        } else {
            format!("{v:.decimals$}")
        };
        // No "-0.0": a tick at zero is zero.
        match s.strip_prefix('-') {
            Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
            _ => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_padded() {
        assert_eq!(padded([].into_iter(), 0.05, 0.5), (0.0, 1.0));
        assert_eq!(padded([0.0, 0.0].into_iter(), 0.05, 0.5), (-0.5, 0.5));
        let (lo, hi) = padded([2.0].into_iter(), 0.05, 0.5);
        assert!((lo - 1.8).abs() < 1e-12 && (hi - 2.2).abs() < 1e-12);
        assert_eq!(padded([0.0, 10.0].into_iter(), 0.05, 0.5), (-0.5, 10.5));
        let (lo, hi) = padded([f64::MAX, -f64::MAX].into_iter(), 0.05, 0.5);
        assert!((hi - lo).is_finite());
    }

    #[test]
    fn tick_labels_have_the_needed_decimals() {
        let f = tick_formatter(&[0.0, 0.2, 0.4]);
        assert_eq!(
            (f(&0.2), f(&0.0), f(&-0.0)),
            ("0.2".into(), "0.0".into(), "0.0".into())
        );
        let f = tick_formatter(&[0.0, 0.25, 0.5]);
        assert_eq!(f(&0.25), "0.25");
        let f = tick_formatter(&[0.7, 0.8, 0.9]);
        assert_eq!(f(&0.8), "0.8");
        let f = tick_formatter(&[0.0, 5.0, 10.0]);
        assert_eq!(f(&10.0), "10");
        let f = tick_formatter(&[0.64, 0.66, 0.68]);
        assert_eq!(f(&0.66), "0.66");
        let f = tick_formatter(&[1e-5, 2e-5]);
        assert_eq!(f(&1e-5), "1.0e-5");
    }
}
