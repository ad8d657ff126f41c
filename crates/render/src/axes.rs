//! Axis ranges shared by the line and bar charts (tick labels: [`crate::number`]).

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
}
