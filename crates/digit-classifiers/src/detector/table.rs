//! The per-digit table of `gan detect --digit all`, as Markdown and CSV.

use super::train::DetectOutcome;
use crate::error::{io_error, write_atomic, write_csv, Result};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// File name of the CSV table.
pub const TABLE_CSV: &str = "detect.csv";
/// File name of the Markdown table.
pub const TABLE_MARKDOWN: &str = "detect.md";

/// The column names of `detect.csv`, in the order of [`table_records`].
pub const TABLE_COLUMNS: [&str; 11] = [
    "digit",
    "accuracy",
    "precision",
    "recall",
    "f1",
    "tp",
    "fp",
    "fn",
    "tn",
    "threshold",
    "seconds",
];

/// One record per detector: digit, test accuracy, precision, recall, F1, the confusion
/// counts, the probability threshold and the seconds it took, numbers formatted.
pub fn table_records(outcomes: &[DetectOutcome]) -> Vec<[String; 11]> {
    outcomes
        .iter()
        .map(|o| {
            let t = &o.test;
            [
                o.config.digit.to_string(),
                format!("{:.4}", t.accuracy()),
                format!("{:.4}", t.precision()),
                format!("{:.4}", t.recall()),
                format!("{:.4}", t.f1()),
                t.tp.to_string(),
                t.fp.to_string(),
                t.fn_.to_string(),
                t.tn.to_string(),
                format!("{:.4}", o.threshold_probability()),
                format!("{:.1}", o.seconds),
            ]
        })
        .collect()
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
    write_csv(&csv, TABLE_COLUMNS, table_records(outcomes))?;
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
        let md = table_markdown(&rows);
        assert!(md.contains("| 8 | 98.50% | 94.74% | 90.00% | 92.31% | 90 | 5 | 10 | 895 |"));
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("runs/detect");
        let (c, m) = write_tables(&out, &rows).unwrap();
        let csv = std::fs::read_to_string(c).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[0],
            "digit,accuracy,precision,recall,f1,tp,fp,fn,tn,threshold,seconds"
        );
        assert_eq!(
            lines[1],
            "1,0.9980,0.9900,0.9900,0.9900,99,1,1,899,0.5000,1.2"
        );
        assert_eq!(std::fs::read_to_string(m).unwrap(), md);
    }
}
