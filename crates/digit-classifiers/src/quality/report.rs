//! [`EvalReport`]: what `eval.json` holds, the table `gan eval` prints, and the class
//! histogram chart written beside the JSON.

use super::{ConditionalEvaluation, ConditionalFigures, Evaluation};
use crate::error::write_atomic;
use crate::error::{Error, Result};
use metrics::{QualityReport, NUM_CLASSES};
use render::{save_bar_chart, BarChart};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Which evaluator made the figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluatorInfo {
    /// The weights file.
    pub weights: String,
    /// Its SHA-256, checked against its record before use.
    pub sha256: String,
    /// Its accuracy on the 10,000 MNIST test digits.
    pub test_accuracy: f64,
}

/// One evaluation, as written to `eval.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// What was evaluated: a run folder or an IDX file.
    pub source: String,
    /// Number of digits in each set.
    pub n: usize,
    /// Seed of the generated digits (for a run) and of the noise images.
    pub seed: u64,
    /// What FID, precision and recall compare against.
    pub reference: String,
    /// The evaluator.
    pub evaluator: EvaluatorInfo,
    /// Figures of the samples, the training digits and noise.
    #[serde(flatten)]
    pub figures: Evaluation,
    /// For digits generated on request: label accuracy and per-class FID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditional: Option<ConditionalEvaluation>,
    /// Wall-clock seconds of the evaluation.
    pub seconds: f64,
}

/// The chart's file for an evaluation written to `json`: `class-histogram.png` beside
/// `eval.json`, `<name>.class-histogram.png` beside `<name>.eval.json` (or `<name>.json`).
pub fn histogram_path(json: &Path) -> PathBuf {
    let name = json
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name
        .strip_suffix("eval.json")
        .or_else(|| name.strip_suffix("json"))
        .unwrap_or(&name);
    let stem = if stem.is_empty() || stem.ends_with('.') {
        stem.to_string()
    } else {
        format!("{stem}.")
    };
    json.with_file_name(format!("{stem}class-histogram.png"))
}

/// One cell of the table: a figure of one set, formatted.
type Cell = fn(&QualityReport) -> String;

fn ratio(r: &QualityReport) -> String {
    match r.class_ratio {
        Some(v) => format!("{v:.2}"),
        None => {
            let missing: Vec<String> = (0..NUM_CLASSES)
                .filter(|&c| r.class_counts[c] == 0)
                .map(|c| c.to_string())
                .collect();
            if missing.len() <= 3 {
                format!("inf (no {})", missing.join(","))
            } else {
                format!("inf ({} absent)", missing.len())
            }
        }
    }
}

impl EvalReport {
    /// The figures, one row per figure: its name, then the samples', the training digits'
    /// (the floor) and noise's value, formatted. [`EvalReport::table`] and the run page show
    /// these.
    pub fn figure_rows(&self) -> Vec<(&'static str, [String; 3])> {
        let f = &self.figures;
        let cols = [&f.samples, &f.train_digits, &f.noise];
        let rows: [(&str, Cell); 8] = [
            ("FID vs test digits (lower is better)", |r| {
                format!("{:.3}", r.fid)
            }),
            ("MNIST score (1-10, higher is better)", |r| {
                format!("{:.3}", r.mnist_score)
            }),
            ("precision (k=3)", |r| format!("{:.4}", r.precision)),
            ("recall (k=3)", |r| format!("{:.4}", r.recall)),
            ("density (k=5)", |r| format!("{:.4}", r.density)),
            ("coverage (k=5)", |r| format!("{:.4}", r.coverage)),
            ("class ratio largest/smallest", ratio),
            ("most / least frequent class", |r| {
                let c = r.class_counts;
                let (mut hi, mut lo) = (0, 0);
                for d in 0..NUM_CLASSES {
                    if c[d] > c[hi] {
                        hi = d;
                    }
                    if c[d] < c[lo] {
                        lo = d;
                    }
                }
                format!("{hi}:{} / {lo}:{}", c[hi], c[lo])
            }),
        ];
        rows.iter()
            .map(|(name, value)| (*name, cols.map(value)))
            .collect()
    }

    /// For digits generated on request: label accuracy, mean per-class FID, then each digit's
    /// FID, as rows of name, samples' value, the floor's value (`-` where a class had too few
    /// digits). Empty for an unconditional evaluation.
    pub fn conditional_rows(&self) -> Vec<(String, [String; 2])> {
        let Some(c) = &self.conditional else {
            return Vec::new();
        };
        let fid = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
        let both = |f: &dyn Fn(&ConditionalFigures) -> String| [f(&c.samples), f(&c.train_digits)];
        let mut rows = vec![
            (
                "label accuracy (higher is better)".to_string(),
                both(&|f| format!("{:.2}%", 100.0 * f.label_accuracy)),
            ),
            (
                "mean per-class FID (lower is better)".to_string(),
                both(&|f| fid(f.mean_class_fid)),
            ),
        ];
        for d in 0..NUM_CLASSES {
            rows.push((
                format!("  FID of digit {d}"),
                both(&|f| fid(f.class_fid.get(d).copied().flatten())),
            ));
        }
        rows
    }

    /// The figures as a table: one row per figure, columns samples | train digits | noise.
    pub fn table(&self) -> String {
        let f = &self.figures;
        let mut out = String::new();
        let header = ["figure", "samples", "train digits (floor)", "noise"];
        let _ = writeln!(
            out,
            "{:<38} {:>16} {:>21} {:>16}",
            header[0], header[1], header[2], header[3]
        );
        let _ = writeln!(out, "{}", "-".repeat(38 + 17 + 22 + 17));
        for (name, [a, b, c]) in self.figure_rows() {
            let _ = writeln!(out, "{:<38} {:>16} {:>21} {:>16}", name, a, b, c);
        }
        let counts: Vec<String> = f
            .samples
            .class_counts
            .iter()
            .enumerate()
            .map(|(d, c)| format!("{d}:{c}"))
            .collect();
        let _ = writeln!(out, "samples per predicted class: {}", counts.join(" "));
        let conditional = self.conditional_rows();
        if !conditional.is_empty() {
            let _ = writeln!(
                out,
                "\n{:<38} {:>16} {:>21}",
                "digits asked for a class", "samples", "train digits (floor)"
            );
            let _ = writeln!(out, "{}", "-".repeat(38 + 17 + 22));
            for (name, [a, b]) in conditional {
                let _ = writeln!(out, "{:<38} {:>16} {:>21}", name, a, b);
            }
        }
        out
    }

    /// Writes the report to `json` (pretty JSON) and the samples' class histogram to
    /// [`histogram_path`]`(json)`, both atomically; returns the chart's path.
    pub fn save(&self, json: &Path) -> Result<PathBuf> {
        let mut text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::Invalid(format!("cannot encode the evaluation: {e}")))?;
        text.push('\n');
        write_atomic(json, text.as_bytes())?;
        let png = histogram_path(json);
        self.save_histogram(&png)?;
        Ok(png)
    }

    /// Draws the samples' class histogram with the uniform count as a reference line.
    pub fn save_histogram(&self, path: &Path) -> Result<()> {
        let s = &self.figures.samples;
        let labels: Vec<String> = (0..NUM_CLASSES).map(|d| d.to_string()).collect();
        let values: Vec<f64> = s.class_counts.iter().map(|&c| c as f64).collect();
        let source = Path::new(&self.source)
            .file_name()
            .map_or(self.source.clone(), |n| n.to_string_lossy().into_owned());
        let chart = BarChart::new(
            format!("Predicted classes of {} digits from {source}", self.n),
            format!("digit (largest/smallest class: {})", ratio(s)),
            "digits",
            &labels,
            &values,
        )
        .with_reference(self.n as f64 / NUM_CLASSES as f64, "uniform");
        save_bar_chart(&chart, path, 900, 600)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_sits_beside_its_json() {
        let cases = [
            ("runs/a/eval.json", "runs/a/class-histogram.png"),
            ("x/s.idx.eval.json", "x/s.idx.class-histogram.png"),
            ("x/out.json", "x/out.class-histogram.png"),
            ("x/report", "x/report.class-histogram.png"),
        ];
        for (json, png) in cases {
            assert_eq!(
                histogram_path(Path::new(json)),
                PathBuf::from(png),
                "{json}"
            );
        }
    }
}
