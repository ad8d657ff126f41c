//! The per-digit table of `gan detect --digit all`, as Markdown and CSV.

use super::train::DetectOutcome;
use crate::error::write_atomic;
use crate::error::{io_error, Result};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// File name of the CSV table.
pub const TABLE_CSV: &str = "detect.csv";
/// File name of the Markdown table.
pub const TABLE_MARKDOWN: &str = "detect.md";

/// One line per detector: digit, test accuracy, precision, recall, F1, the confusion counts,
/// the probability threshold and the seconds it took.
pub fn table_csv(outcomes: &[DetectOutcome]) -> String {
    let mut s = String::from("digit,accuracy,precision,recall,f1,tp,fp,fn,tn,threshold,seconds\n");
    for o in outcomes {
        let t = &o.test;
        let _ = writeln!(
            s,
            "{},{:.4},{:.4},{:.4},{:.4},{},{},{},{},{:.4},{:.1}",
            o.config.digit,
            t.accuracy(),
            t.precision(),
            t.recall(),
            t.f1(),
            t.tp,
            t.fp,
            t.fn_,
            t.tn,
            o.threshold_probability(),
            o.seconds
        );
    }
    s
}

/// The same table in Markdown, percentages with two decimals.
pub fn table_markdown(outcomes: &[DetectOutcome]) -> String {
    let mut s = String::from(
        "| digit | accuracy | precision | recall | F1 | TP | FP | FN | TN |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let pct = |v: f64| format!("{:.2}%", 100.0 * v);
    for o in outcomes {
        let t = &o.test;
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            o.config.digit,
            pct(t.accuracy()),
            pct(t.precision()),
            pct(t.recall()),
            pct(t.f1()),
            t.tp,
            t.fp,
            t.fn_,
            t.tn
        );
    }
    s
}

/// Writes `detect.csv` and `detect.md` into `dir` (created if missing), each atomically;
/// returns their paths.
pub fn write_tables(dir: &Path, outcomes: &[DetectOutcome]) -> Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    let csv = dir.join(TABLE_CSV);
    let md = dir.join(TABLE_MARKDOWN);
    write_atomic(&csv, table_csv(outcomes).as_bytes())?;
    write_atomic(&md, table_markdown(outcomes).as_bytes())?;
    Ok((csv, md))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::{BinaryCounts, DetectConfig};

    fn outcome(digit: u8, tp: u64, fp: u64, fn_: u64, tn: u64) -> DetectOutcome {
        DetectOutcome {
            config: DetectConfig {
                digit,
                ..DetectConfig::default()
            },
            epochs: Vec::new(),
            threshold: 0.0,
            val: BinaryCounts::default(),
            test: BinaryCounts { tp, fp, fn_, tn },
            test_fp_by_digit: [0; 10],
            seconds: 1.25,
        }
    }

    #[test]
    fn tables_hold_one_row_per_digit() {
        let rows = [outcome(1, 99, 1, 1, 899), outcome(8, 90, 5, 10, 895)];
        let csv = table_csv(&rows);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[1],
            "1,0.9980,0.9900,0.9900,0.9900,99,1,1,899,0.5000,1.2"
        );
        let md = table_markdown(&rows);
        assert!(md.contains("| 8 | 98.50% | 94.74% | 90.00% | 92.31% | 90 | 5 | 10 | 895 |"));
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("runs/detect");
        let (c, m) = write_tables(&out, &rows).unwrap();
        assert_eq!(std::fs::read_to_string(c).unwrap(), csv);
        assert_eq!(std::fs::read_to_string(m).unwrap(), md);
    }
}
