//! What an IDX file holds: dtype, dims and value statistics, computed by streaming the file
//! (for `idx-info` and `gan idx info`).

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::dtype::{Dtype, IdxElement};
use crate::error::{join_dims, Result};
use crate::stream::IdxReader;

/// A summary of an IDX file: its header and the minimum, maximum and mean of its values.
/// `Display` prints it as a few `key: value` lines.
#[derive(Debug, Clone, PartialEq)]
pub struct IdxSummary {
    /// The file, if read from a path.
    pub path: Option<PathBuf>,
    /// Whether the file is gzip-compressed.
    pub gzip: bool,
    /// The element type.
    pub dtype: Dtype,
    /// The dimensions.
    pub dims: Vec<usize>,
    /// The number of values (product of `dims`).
    pub count: u64,
    /// The number of NaN values (floats only), left out of `min`, `max` and `mean`.
    pub nan_count: u64,
    /// The smallest value, if there is one that is not NaN.
    pub min: Option<f64>,
    /// The largest value, if there is one that is not NaN.
    pub max: Option<f64>,
    /// The mean of the values that are not NaN, if there are any.
    pub mean: Option<f64>,
}

/// Summarises the IDX file at `path` (raw or gzipped), reading it in bounded memory.
///
/// ```
/// # fn main() -> Result<(), mnist_idx::Error> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("x.idx");
/// # mnist_idx::write(&path, &[2, 2], &[0u8, 10, 20, 50], mnist_idx::Compression::None)?;
/// let s = mnist_idx::summary(&path)?;
/// assert_eq!((s.min, s.max, s.mean), (Some(0.0), Some(50.0), Some(20.0)));
/// println!("{s}");
/// # Ok(())
/// # }
/// ```
pub fn summary(path: impl AsRef<Path>) -> Result<IdxSummary> {
    IdxSummary::from_reader(IdxReader::open(path)?)
}

impl IdxSummary {
    /// Summarises what `reader` has left to read (all of it, when fresh).
    pub fn from_reader<R: Read>(mut reader: IdxReader<R>) -> Result<IdxSummary> {
        let stats = match reader.dtype() {
            Dtype::U8 => Stats::collect::<u8, R>(&mut reader)?,
            Dtype::I8 => Stats::collect::<i8, R>(&mut reader)?,
            Dtype::I16 => Stats::collect::<i16, R>(&mut reader)?,
            Dtype::I32 => Stats::collect::<i32, R>(&mut reader)?,
            Dtype::F32 => Stats::collect::<f32, R>(&mut reader)?,
            Dtype::F64 => Stats::collect::<f64, R>(&mut reader)?,
        };
        let seen = stats.count - stats.nans;
        Ok(IdxSummary {
            path: reader.path().map(Path::to_path_buf),
            gzip: reader.is_gzip(),
            dtype: reader.dtype(),
            dims: reader.dims().to_vec(),
            count: stats.count,
            nan_count: stats.nans,
            min: (seen > 0).then_some(stats.min),
            max: (seen > 0).then_some(stats.max),
            mean: (seen > 0).then(|| stats.sum / seen as f64),
        })
    }
}

struct Stats {
    count: u64,
    nans: u64,
    min: f64,
    max: f64,
    sum: f64,
}

impl Stats {
    fn collect<T: IdxElement, R: Read>(reader: &mut IdxReader<R>) -> Result<Stats> {
        let mut s = Stats {
            count: 0,
            nans: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            sum: 0.0,
        };
        reader.for_each_chunk::<T>(|values| {
            // Sum each chunk on its own, then add: less rounding than one long running sum.
            let mut chunk_sum = 0.0;
            for v in values.iter().map(|v| v.to_f64()) {
                if v.is_nan() {
                    s.nans += 1;
                    continue;
                }
                s.min = s.min.min(v);
                s.max = s.max.max(v);
                chunk_sum += v;
            }
            s.sum += chunk_sum;
            s.count += values.len() as u64;
        })?;
        Ok(s)
    }
}

impl fmt::Display for IdxSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.path {
            writeln!(f, "file:   {}", p.display())?;
        }
        writeln!(
            f,
            "format: IDX{}",
            if self.gzip { ", gzip-compressed" } else { "" }
        )?;
        writeln!(f, "dtype:  {} (0x{:02x})", self.dtype, self.dtype.code())?;
        match self.dims.as_slice() {
            [] => writeln!(f, "dims:   none (one value)")?,
            [n] => writeln!(f, "dims:   {n}")?,
            [n, rest @ ..] => writeln!(
                f,
                "dims:   {} ({n} items of {})",
                join_dims(&self.dims),
                join_dims(rest)
            )?,
        }
        write!(f, "values: {}", self.count)?;
        if self.nan_count > 0 {
            write!(f, " ({} NaN)", self.nan_count)?;
        }
        if let (Some(min), Some(max), Some(mean)) = (self.min, self.max, self.mean) {
            write!(f, "\nmin:    {min}\nmax:    {max}\nmean:   {mean:.6}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{write_to, Compression};

    fn summarise<T: IdxElement>(dims: &[usize], data: &[T], c: Compression) -> IdxSummary {
        let bytes = write_to(Vec::new(), dims, data, c).unwrap();
        IdxSummary::from_reader(IdxReader::new(&bytes[..]).unwrap()).unwrap()
    }

    #[test]
    fn integers() {
        let s = summarise(&[2, 2], &[-3i16, 5, 7, 11], Compression::Gzip);
        assert_eq!(
            (s.count, s.min, s.max, s.mean),
            (4, Some(-3.0), Some(11.0), Some(5.0))
        );
        assert_eq!(
            s.to_string(),
            "format: IDX, gzip-compressed\ndtype:  i16 (0x0b)\ndims:   2x2 (2 items of 2)\n\
             values: 4\nmin:    -3\nmax:    11\nmean:   5.000000"
        );
    }

    #[test]
    fn floats_with_nan() {
        let s = summarise(&[3], &[1.5f32, f32::NAN, -0.5], Compression::None);
        assert_eq!((s.count, s.nan_count), (3, 1));
        assert_eq!((s.min, s.max, s.mean), (Some(-0.5), Some(1.5), Some(0.5)));
        assert!(s.to_string().contains("values: 3 (1 NaN)"));
    }

    #[test]
    fn empty() {
        let s = summarise::<f64>(&[0, 5], &[], Compression::None);
        assert_eq!((s.count, s.min, s.mean), (0, None, None));
        assert_eq!(
            s.to_string(),
            "format: IDX\ndtype:  f64 (0x0e)\ndims:   0x5 (0 items of 5)\nvalues: 0"
        );
    }

    #[test]
    fn summary_reports_bad_files() {
        let bytes = [0u8, 0, 8, 1, 0, 0, 0, 9, 1];
        let e = IdxSummary::from_reader(IdxReader::new(&bytes[..]).unwrap()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "truncated: header promises 9 items (9 bytes), found 1"
        );
    }
}
