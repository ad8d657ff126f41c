//! Sweeps: one training run per value of one hyperparameter, everything else equal (the same
//! seed included), and the pictures and table that compare them.
//!
//! A sweep folder holds `sweep.toml` (the plan, so a sweep can be resumed), one run folder per
//! setting (`lr-2e-4/`, `optimizer-adam/`, ...), `plots/` (overlaid generator loss,
//! discriminator loss and accuracy), `grids.png` (each setting's last grid side by side) and
//! `summary.md` / `summary.csv` and `report.html` (see [`crate::report`]).

use crate::config::{OptimizerKind, TrainConfig};
use crate::epoch::EpochMetrics;
use crate::error::{io_error, write_atomic, write_csv, GanError, Result};
use crate::run::RunDir;
use crate::session::{saved_history, training_curves};
use render;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use strum::VariantNames;

/// The hyperparameter a sweep varies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Varied {
    /// The learning rate of both networks (`--lr 2e-5,2e-4,2e-3`).
    Lr,
    /// The optimizer of both networks (`--optimizer adam,rmsprop,sgd`).
    Optimizer,
    /// The hidden sizes (`--hidden "512;256,512"`: generator sizes, the discriminator mirrored).
    Hidden,
    /// The batch size (`--batch 32,64,128`).
    Batch,
}

impl Varied {
    /// The flag's name.
    pub fn name(self) -> &'static str {
        match self {
            Varied::Lr => "lr",
            Varied::Optimizer => "optimizer",
            Varied::Hidden => "hidden",
            Varied::Batch => "batch",
        }
    }

    /// What separates the values on the command line.
    fn separator(self) -> char {
        if self == Varied::Hidden {
            ';'
        } else {
            ','
        }
    }

    /// `base` with this hyperparameter set to `value`.
    fn apply(self, base: &TrainConfig, value: &str) -> Result<TrainConfig> {
        let bad = |what: &str| {
            GanError::Config(format!(
                "sweep --{} value '{value}' is not {what}",
                self.name()
            ))
        };
        let mut c = base.clone();
        match self {
            Varied::Lr => {
                let lr: f64 = value.parse().map_err(|_| bad("a number such as 2e-4"))?;
                c.lr_g = lr;
                c.lr_d = lr;
            }
            Varied::Optimizer => {
                c.optimizer = value
                    .parse::<OptimizerKind>()
                    .map_err(|_| bad(&format!("one of {}", OptimizerKind::VARIANTS.join(", "))))?;
            }
            Varied::Hidden => {
                let sizes = value
                    .split(',')
                    .map(|v| v.trim().parse::<usize>())
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|_| bad("a list of sizes such as 256,512"))?;
                c.d_hidden = sizes.iter().rev().copied().collect();
                c.g_hidden = sizes;
            }
            Varied::Batch => {
                c.batch = value.parse().map_err(|_| bad("a batch size such as 64"))?;
            }
        }
        c.validate()?;
        Ok(c)
    }
}

/// One setting of a sweep: its label, its run folder's name and its configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// For legends and tables, e.g. `lr 2e-4`.
    pub label: String,
    /// The run folder's name inside the sweep folder, e.g. `lr-2e-4`.
    pub folder: String,
    /// The full configuration.
    pub config: TrainConfig,
}

/// What a sweep trains: the varied hyperparameter, its values and everything else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPlan {
    /// The varied hyperparameter.
    pub varied: Varied,
    /// Its values, as given.
    pub values: Vec<String>,
    /// The configuration of every setting apart from the varied value.
    pub base: TrainConfig,
}

impl SweepPlan {
    /// A plan from the command line's list (`2e-5,2e-4,2e-3`; hidden sizes separated by `;`),
    /// checking every setting's configuration.
    pub fn new(varied: Varied, list: &str, base: TrainConfig) -> Result<SweepPlan> {
        let values: Vec<String> = list
            .split(varied.separator())
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        if values.len() < 2 {
            return Err(GanError::Config(format!(
                "sweep --{}: give at least two values separated by '{}', got '{list}'",
                varied.name(),
                varied.separator()
            )));
        }
        let plan = SweepPlan {
            varied,
            values,
            base,
        };
        let settings = plan.settings()?;
        for (i, s) in settings.iter().enumerate() {
            if settings[..i].iter().any(|o| o.folder == s.folder) {
                return Err(GanError::Config(format!(
                    "sweep --{}: '{}' is given twice",
                    varied.name(),
                    plan.values[i]
                )));
            }
        }
        Ok(plan)
    }

    /// Every setting, in the order given.
    pub fn settings(&self) -> Result<Vec<Setting>> {
        self.values
            .iter()
            .map(|value| {
                let config = self.varied.apply(&self.base, value)?;
                let slug: String = value
                    .chars()
                    .map(|ch| {
                        if ch.is_ascii_alphanumeric() || ch == '.' || ch == '-' {
                            ch
                        } else {
                            '-'
                        }
                    })
                    .collect();
                Ok(Setting {
                    label: format!("{} {value}", self.varied.name()),
                    folder: format!("{}-{slug}", self.varied.name()),
                    config,
                })
            })
            .collect()
    }

    /// Writes the plan to `dir/sweep.toml`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let text = toml::to_string(self)
            .map_err(|e| GanError::Config(format!("cannot encode the sweep plan: {e}")))?;
        write_atomic(&dir.join("sweep.toml"), text.as_bytes())
    }

    /// Reads the plan a sweep folder was made with.
    pub fn load(dir: &Path) -> Result<SweepPlan> {
        let path = dir.join("sweep.toml");
        let text = std::fs::read_to_string(&path).map_err(|e| GanError::Run {
            path: dir.to_path_buf(),
            reason: format!("not a sweep folder ({}: {e})", path.display()),
        })?;
        toml::from_str(&text).map_err(|e| GanError::Run {
            path,
            reason: format!("unreadable sweep plan: {e}"),
        })
    }
}

/// A digit and the share of generated digits the evaluator put in its class.
pub type DigitShare = (u8, f64);

/// Quality figures of one setting's generator, from the evaluator.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingQuality {
    /// FID against the test digits.
    pub fid: f64,
    /// Largest / smallest class count.
    pub class_ratio: f64,
    /// How many generated digits the classifier put in each class.
    pub counts: [u64; 10],
}

impl SettingQuality {
    /// Digits generated at least 25% more (`over`) or less (`under`) often than a tenth, with
    /// their shares, most extreme first.
    pub fn skew(&self) -> (Vec<DigitShare>, Vec<DigitShare>) {
        let total = self.counts.iter().sum::<u64>().max(1) as f64;
        let mut shares: Vec<(u8, f64)> = (0u8..10)
            .map(|d| (d, self.counts[d as usize] as f64 / total))
            .collect();
        shares.sort_by(|a, b| b.1.total_cmp(&a.1));
        let over = shares.iter().copied().filter(|s| s.1 > 0.125).collect();
        let under = shares
            .iter()
            .rev()
            .copied()
            .filter(|s| s.1 < 0.075)
            .collect();
        (over, under)
    }
}

/// One row of a sweep's summary.
#[derive(Debug, Clone)]
pub struct SettingSummary {
    /// The setting.
    pub setting: Setting,
    /// Its finished epochs' metrics.
    pub history: Vec<EpochMetrics>,
    /// FID and class balance, when evaluated.
    pub quality: Option<SettingQuality>,
}

/// How many final epochs the accuracy band covers.
pub const BAND_EPOCHS: usize = 5;

impl SettingSummary {
    /// The lowest and highest discriminator accuracy over the last [`BAND_EPOCHS`] epochs.
    pub fn accuracy_band(&self) -> Option<(f64, f64)> {
        let tail = &self.history[self.history.len().saturating_sub(BAND_EPOCHS)..];
        let lo = tail.iter().map(|m| m.d_acc).reduce(f64::min)?;
        let hi = tail.iter().map(|m| m.d_acc).reduce(f64::max)?;
        Some((lo, hi))
    }

    /// Training seconds over all epochs.
    pub fn seconds(&self) -> f64 {
        self.history.iter().map(|m| m.seconds).sum()
    }
}

/// Reads each setting's history from its run folder in `dir`; `quality` evaluates a run.
pub fn summarize(
    dir: &Path,
    settings: &[Setting],
    mut quality: impl FnMut(&RunDir) -> Result<Option<SettingQuality>>,
) -> Result<Vec<SettingSummary>> {
    settings
        .iter()
        .map(|s| {
            let run = RunDir::open(dir.join(&s.folder))?;
            Ok(SettingSummary {
                setting: s.clone(),
                history: saved_history(&run)?,
                quality: quality(&run)?,
            })
        })
        .collect()
}

/// Writes `summary.csv`, `summary.md`, the overlaid plots, `grids.png` and the sweep's
/// `report.html`; returns the paths.
pub fn write_report(dir: &Path, plan: &SweepPlan, rows: &[SettingSummary]) -> Result<Vec<PathBuf>> {
    let curves: Vec<(String, crate::charts::TrainingCurves)> = rows
        .iter()
        .map(|r| (r.setting.label.clone(), training_curves(&r.history)))
        .collect();
    let mut written = crate::charts::save_comparison_plots(&curves, dir.join("plots"))?;
    let mut grids = Vec::new();
    for r in rows {
        let run = RunDir::open(dir.join(&r.setting.folder))?;
        let last = r.history.last().map(|m| m.epoch).unwrap_or(0);
        let image = render::load_png_gray(run.sample_grid_path(last))?;
        grids.push((r.setting.label.clone(), image));
    }
    let grids_path = dir.join("grids.png");
    render::save_png(&render::hstack_labeled(&grids)?, &grids_path)?;
    written.push(grids_path);
    let csv_path = dir.join("summary.csv");
    write_csv(&csv_path, SUMMARY_COLUMNS, summary_records(rows))?;
    let md_path = dir.join("summary.md");
    write_atomic(&md_path, summary_markdown(plan, rows).as_bytes())?;
    written.extend([csv_path, md_path]);
    written.push(crate::report::write_sweep_page(dir)?);
    Ok(written)
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map(|v| format!("{v:.digits$}"))
        .unwrap_or_else(|| "-".into())
}

fn skew_text(list: &[DigitShare]) -> String {
    if list.is_empty() {
        return "-".into();
    }
    list.iter()
        .map(|(d, share)| format!("{d} ({:.1}%)", share * 100.0))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The column names of `summary.csv`, in the order of [`summary_records`].
pub const SUMMARY_COLUMNS: [&str; 11] = [
    "setting",
    "epochs",
    "d_loss",
    "g_loss",
    "d_acc_low",
    "d_acc_high",
    "fid",
    "class_ratio",
    "over_produced",
    "under_produced",
    "seconds",
];

/// The records of `summary.csv`, one per setting (numbers formatted, `-` where not measured).
pub fn summary_records(rows: &[SettingSummary]) -> Vec<[String; 11]> {
    rows.iter()
        .map(|r| {
            let last = r.history.last();
            let band = r.accuracy_band();
            let (over, under) = r.quality.as_ref().map(|q| q.skew()).unwrap_or_default();
            [
                r.setting.label.clone(),
                r.history.len().to_string(),
                opt(last.map(|m| m.d_loss), 4),
                opt(last.map(|m| m.g_loss), 4),
                opt(band.map(|b| b.0), 3),
                opt(band.map(|b| b.1), 3),
                opt(r.quality.as_ref().map(|q| q.fid), 2),
                opt(r.quality.as_ref().map(|q| q.class_ratio), 2),
                skew_text(&over),
                skew_text(&under),
                format!("{:.1}", r.seconds()),
            ]
        })
        .collect()
}

/// The summary as a Markdown page with the table and the pictures.
pub fn summary_markdown(plan: &SweepPlan, rows: &[SettingSummary]) -> String {
    let mut out = format!(
        "# Sweep over {}: {}\n\nEverything else as in each run's `config.toml` (seed {}, {} \
         epochs, batch {}). Accuracy band: the discriminator's accuracy over the last {} \
         epochs. Over/under-produced: digits the evaluator finds in more than 12.5% or less \
         than 7.5% of 10,000 samples.\n\n",
        plan.varied.name(),
        plan.values.join(", "),
        plan.base.seed,
        plan.base.epochs,
        plan.base.batch,
        BAND_EPOCHS
    );
    out.push_str("| setting | epochs | d_loss | g_loss | D accuracy band | FID | class ratio | over-produced | under-produced | seconds |\n");
    out.push_str("|---|---|---|---|---|---|---|---|---|---|\n");
    for r in rows {
        let last = r.history.last();
        let band = r
            .accuracy_band()
            .map(|(lo, hi)| format!("{lo:.3}–{hi:.3}"))
            .unwrap_or_else(|| "-".into());
        let (over, under) = r.quality.as_ref().map(|q| q.skew()).unwrap_or_default();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {band} | {} | {} | {} | {} | {:.0} |",
            r.setting.label,
            r.history.len(),
            opt(last.map(|m| m.d_loss), 3),
            opt(last.map(|m| m.g_loss), 3),
            opt(r.quality.as_ref().map(|q| q.fid), 2),
            opt(r.quality.as_ref().map(|q| q.class_ratio), 2),
            skew_text(&over),
            skew_text(&under),
            r.seconds()
        );
    }
    out.push_str(
        "\n![last grids](grids.png)\n\n![generator loss](plots/generator-loss.png)\n\n\
         ![discriminator loss](plots/discriminator-loss.png)\n\n\
         ![discriminator accuracy](plots/discriminator-accuracy.png)\n",
    );
    out
}

/// Creates the sweep folder (refusing an existing one unless `force`, which replaces it) and
/// writes the plan into it.
pub fn create_folder(dir: &Path, plan: &SweepPlan, force: bool) -> Result<()> {
    if dir.exists() {
        if !force {
            return Err(GanError::Run {
                path: dir.to_path_buf(),
                reason: "already exists: continue it with `gan sweep --resume`, choose another \
                         --name, or add --force to replace it"
                    .into(),
            });
        }
        std::fs::remove_dir_all(dir).map_err(io_error(dir))?;
    }
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    plan.save(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_parse_values_and_name_folders() {
        let plan = SweepPlan::new(Varied::Lr, "2e-5, 2e-4,2e-3", TrainConfig::default()).unwrap();
        let s = plan.settings().unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!((s[0].config.lr_g, s[0].config.lr_d), (2e-5, 2e-5));
        assert_eq!(
            (s[1].label.as_str(), s[1].folder.as_str()),
            ("lr 2e-4", "lr-2e-4")
        );

        let plan = SweepPlan::new(Varied::Hidden, "512;256,512", TrainConfig::default()).unwrap();
        let s = plan.settings().unwrap();
        assert_eq!(s[1].config.g_hidden, [256, 512]);
        assert_eq!(s[1].config.d_hidden, [512, 256]);
        assert_eq!(s[1].folder, "hidden-256-512");
    }

    #[test]
    fn bad_values_and_duplicates_are_named() {
        let err = SweepPlan::new(Varied::Optimizer, "adam,adamw", TrainConfig::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("'adamw'") && err.contains("rmsprop"), "{err}");
        let err = SweepPlan::new(Varied::Batch, "32", TrainConfig::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("at least two values"), "{err}");
        let err = SweepPlan::new(Varied::Batch, "32,32", TrainConfig::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("given twice"), "{err}");
        let err = SweepPlan::new(Varied::Lr, "2e-4,-1", TrainConfig::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("learning rate"), "{err}");
    }

    #[test]
    fn plans_round_trip_through_toml() {
        let tmp = tempfile::tempdir().unwrap();
        let plan = SweepPlan::new(Varied::Batch, "32,64", TrainConfig::default()).unwrap();
        plan.save(tmp.path()).unwrap();
        assert_eq!(SweepPlan::load(tmp.path()).unwrap(), plan);
    }

    #[test]
    fn summary_csv_quotes_labels_with_commas() {
        let plan = SweepPlan::new(Varied::Hidden, "512;256,512", TrainConfig::default()).unwrap();
        let metrics = EpochMetrics {
            epoch: 1,
            seconds: 2.5,
            d_loss: 1.25,
            g_loss: 0.75,
            d_acc: 0.5,
            d_acc_real: 0.5,
            d_acc_fake: 0.5,
            d_real: 0.5,
            d_fake: 0.5,
            images_per_sec: 100.0,
            fid: None,
            class_ratio: None,
        };
        let rows: Vec<SettingSummary> = plan
            .settings()
            .unwrap()
            .into_iter()
            .map(|setting| SettingSummary {
                setting,
                history: vec![metrics.clone()],
                quality: None,
            })
            .collect();
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("summary.csv");
        write_csv(&path, SUMMARY_COLUMNS, summary_records(&rows)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text.lines().nth(2),
            Some("\"hidden 256,512\",1,1.2500,0.7500,0.500,0.500,-,-,-,-,2.5"),
            "{text}"
        );
        let mut reader = csv::Reader::from_path(&path).unwrap();
        assert_eq!(reader.headers().unwrap(), SUMMARY_COLUMNS.as_slice());
        let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        assert_eq!(records.len(), 2);
        assert!(records.iter().all(|r| r.len() == SUMMARY_COLUMNS.len()));
        assert_eq!(&records[1][0], "hidden 256,512");
        assert_eq!(&records[0][0], "hidden 512");
    }

    #[test]
    fn skew_finds_over_and_under_produced_digits() {
        let q = SettingQuality {
            fid: 1.0,
            class_ratio: 3.0,
            counts: [1000, 1500, 1000, 1000, 1000, 1000, 1000, 1000, 500, 1000],
        };
        let (over, under) = q.skew();
        assert_eq!(over.iter().map(|s| s.0).collect::<Vec<_>>(), [1]);
        assert_eq!(under.iter().map(|s| s.0).collect::<Vec<_>>(), [8]);
        assert!((over[0].1 - 0.15).abs() < 1e-12);
    }
}
