//! [`Features`]: the plain `n × dim` matrix every metric works on.

use super::MetricsError;

/// A row-major `n × dim` matrix of `f32`: one row of `dim` values per sample.
///
/// Holds classifier features (e.g. 10,000 × 128) or class probabilities (n × 10). The shape is
/// checked once, in [`Features::new`]; values are checked (finite) by each metric.
///
/// ```
/// use metrics::Features;
/// # fn main() -> Result<(), metrics::MetricsError> {
/// let x = Features::new(2, 3, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])?;
/// assert_eq!(x.row(1), Some(&[4.0, 5.0, 6.0][..]));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    n: usize,
    dim: usize,
    data: Vec<f32>,
}

impl Features {
    /// Wraps `data` (row-major, `n * dim` values) as an `n × dim` matrix.
    ///
    /// Errors if `dim` is 0 or `data.len() != n * dim`. `n` may be 0; metrics that need samples
    /// say how many.
    pub fn new(n: usize, dim: usize, data: Vec<f32>) -> Result<Self, MetricsError> {
        if dim == 0 {
            return Err(MetricsError::ZeroDimension { n });
        }
        let expected = n as u128 * dim as u128;
        if expected != data.len() as u128 {
            return Err(MetricsError::ShapeMismatch {
                n,
                dim,
                expected,
                len: data.len(),
            });
        }
        Ok(Self { n, dim, data })
    }

    /// Number of rows (samples).
    pub fn n(&self) -> usize {
        self.n
    }

    /// Number of columns (features per sample).
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// All values, row-major.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// Gives the data vector back.
    pub fn into_data(self) -> Vec<f32> {
        self.data
    }

    /// Row `i`, or `None` if `i >= n`.
    pub fn row(&self, i: usize) -> Option<&[f32]> {
        let start = i.checked_mul(self.dim)?;
        self.data.get(start..start.checked_add(self.dim)?)
    }

    /// The rows in order.
    pub fn rows(&self) -> std::slice::ChunksExact<'_, f32> {
        self.data.chunks_exact(self.dim)
    }

    /// Errors with the position of the first NaN or infinite value; `set` names the matrix in
    /// the message.
    pub(crate) fn check_finite(&self, set: &'static str) -> Result<(), MetricsError> {
        match self.data.iter().position(|v| !v.is_finite()) {
            None => Ok(()),
            Some(p) => Err(MetricsError::NonFinite {
                set,
                row: p / self.dim,
                col: p % self.dim,
                value: f64::from(self.data[p]),
            }),
        }
    }

    /// Errors unless there are at least `needed` rows.
    pub(crate) fn check_count(
        &self,
        what: &'static str,
        set: &'static str,
        needed: usize,
    ) -> Result<(), MetricsError> {
        if self.n < needed {
            return Err(MetricsError::TooFewSamples {
                what,
                set,
                needed,
                found: self.n,
            });
        }
        Ok(())
    }

    /// `cap` rows spread evenly over the matrix (rows `⌊i·n/cap⌋`), or a plain copy if
    /// `n <= cap`. Deterministic, and keeps every part of a set that is sorted (e.g. by class).
    pub(crate) fn strided_subset(&self, cap: usize) -> Features {
        if self.n <= cap {
            return self.clone();
        }
        let mut data = Vec::with_capacity(cap * self.dim);
        for i in 0..cap {
            // i < cap < n, so i * n / cap < n; u128 avoids overflow.
            let r = (i as u128 * self.n as u128 / cap as u128) as usize;
            data.extend_from_slice(&self.data[r * self.dim..(r + 1) * self.dim]);
        }
        Features {
            n: cap,
            dim: self.dim,
            data,
        }
    }

    /// A copy with `center` subtracted from every row (`center.len() == dim`).
    pub(crate) fn centered(&self, center: &[f32]) -> Features {
        let mut data = self.data.clone();
        for row in data.chunks_exact_mut(self.dim) {
            for (v, c) in row.iter_mut().zip(center) {
                *v -= c;
            }
        }
        Features {
            n: self.n,
            dim: self.dim,
            data,
        }
    }

    /// Column means, accumulated in `f64`.
    pub(crate) fn column_means(&self) -> Vec<f64> {
        let mut mean = vec![0.0f64; self.dim];
        for row in self.rows() {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += f64::from(v);
            }
        }
        if self.n > 0 {
            let inv = 1.0 / self.n as f64;
            mean.iter_mut().for_each(|m| *m *= inv);
        }
        mean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_checks_shape() {
        assert!(Features::new(2, 3, vec![0.0; 6]).is_ok());
        assert!(matches!(
            Features::new(2, 3, vec![0.0; 5]),
            Err(MetricsError::ShapeMismatch {
                expected: 6,
                len: 5,
                ..
            })
        ));
        assert!(matches!(
            Features::new(usize::MAX, 2, vec![]),
            Err(MetricsError::ShapeMismatch { .. })
        ));
        assert!(matches!(
            Features::new(0, 0, vec![]),
            Err(MetricsError::ZeroDimension { n: 0 })
        ));
        assert!(Features::new(0, 4, vec![]).is_ok());
    }

    #[test]
    fn rows_and_row() {
        let x = Features::new(2, 2, vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(x.row(0), Some(&[1.0, 2.0][..]));
        assert_eq!(x.row(2), None);
        assert_eq!(x.row(usize::MAX), None);
        assert_eq!(x.rows().count(), 2);
    }

    #[test]
    fn finite_check_reports_position() {
        let x = Features::new(2, 3, vec![0.0, 0.0, 0.0, 0.0, f32::NAN, 0.0]).unwrap();
        match x.check_finite("fake features") {
            Err(MetricsError::NonFinite { row, col, .. }) => assert_eq!((row, col), (1, 1)),
            other => panic!("expected NonFinite, got {other:?}"),
        }
    }

    #[test]
    fn strided_subset_spreads_rows() {
        let x = Features::new(10, 1, (0..10).map(|v| v as f32).collect()).unwrap();
        let s = x.strided_subset(4);
        assert_eq!(s.data(), &[0.0, 2.0, 5.0, 7.0]);
        assert_eq!(x.strided_subset(20), x);
    }

    #[test]
    fn column_means_and_centering() {
        let x = Features::new(2, 2, vec![1.0, 10.0, 3.0, 20.0]).unwrap();
        assert_eq!(x.column_means(), vec![2.0, 15.0]);
        assert_eq!(x.centered(&[2.0, 15.0]).data(), &[-1.0, -5.0, 1.0, 5.0]);
    }
}
