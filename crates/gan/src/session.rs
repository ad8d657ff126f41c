//! A training run on disk: a [`Trainer`] tied to a [`RunDir`], which after every epoch writes
//! the fixed-noise grid, `metrics.csv`, the plots, `progress.gif`, the checkpoints and
//! `report.html`, and which
//! can stop (Ctrl-C) with a checkpoint and resume from it to the same bytes.
//!
//! Resuming is exact because everything random is recomputed or restored: the epoch's shuffle
//! comes from the seed and the epoch number, the noise stream's position is saved, and so are
//! the batch within the epoch, the optimizers' state and the epoch's running sums.

use crate::charts::{self, TrainingCurves};
use crate::checkpoint::{self, Checkpoint, CheckpointMeta};
use crate::config::TrainConfig;
use crate::data::TrainingData;
use crate::epoch::{EpochMetrics, Progress};
use crate::error::{write_atomic, write_csv, GanError, Result};
use crate::fixed_grid::FixedGrid;
use crate::lock::RunLock;
use crate::run::RunDir;
use crate::train::{Gan, Trainer};
use render::{GridLayout, LineChart, Series};
use std::path::{Path, PathBuf};

/// Fields of the configuration that may change when a run is resumed.
pub const RESUMABLE_FIELDS: [&str; 4] = ["epochs", "eval_every", "checkpoint_every", "data_dir"];

/// Milliseconds per frame of `progress.gif`.
const GIF_FRAME_MS: u32 = 400;

/// Measures sample quality at the end of an epoch: `(FID, largest/smallest class ratio)`.
pub type QualityProbe = Box<dyn FnMut(&mut Gan) -> Result<(f64, f64)>>;

/// What one finished epoch left behind.
#[derive(Debug, Clone)]
pub struct EpochReport {
    /// The epoch's figures (with FID and class ratio when they were measured).
    pub metrics: EpochMetrics,
    /// The fixed-noise grid of this epoch.
    pub grid: PathBuf,
    /// Problems that did not stop training (e.g. the GIF could not be rebuilt).
    pub warnings: Vec<String>,
}

/// A trainer writing into a run folder.
pub struct TrainingRun {
    run: RunDir,
    trainer: Trainer,
    fixed_grid: FixedGrid,
    probe: Option<QualityProbe>,
    /// The run lock, held while this value lives (see [`crate::lock`]).
    lock: Option<RunLock>,
    /// Whether this process made the run folder (and so removes it when training fails before
    /// the first checkpoint).
    fresh: bool,
    warnings: Vec<String>,
}

impl TrainingRun {
    /// Starts a fresh run in a new run folder (see [`RunDir::create`] for `runs`, `name` and
    /// `force`), holding its run lock: validates the configuration, loads the data and builds
    /// the networks first, so bad input leaves no empty run behind and replaces nothing, then
    /// writes `config.toml` and `real.png` (removing the folder again if that fails).
    pub fn start(
        runs: &Path,
        name: Option<&str>,
        force: bool,
        config: &TrainConfig,
    ) -> Result<TrainingRun> {
        config.validate()?;
        RunDir::free_path(runs, name, force)?;
        let trainer = Trainer::new(config, load_data(config)?)?;
        let (path, lock) = RunDir::claim(runs, name, force)?;
        let run = RunDir::create_claimed(path, &lock)?;
        let mut session = TrainingRun::new(run, trainer)?;
        session.lock = Some(lock);
        session.fresh = true;
        let written = write_atomic(&session.run.config_path(), config.to_toml().as_bytes())
            .and_then(|()| session.write_real_grid());
        if let Err(e) = written {
            let _ = std::fs::remove_dir_all(session.run.path());
            return Err(e);
        }
        Ok(session)
    }

    /// Problems that did not stop the run from opening (an old checkpoint without checksums,
    /// stale temporary files removed).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The lock file held while this run trains.
    pub fn lock_file(&self) -> Option<&Path> {
        self.lock.as_ref().map(RunLock::path)
    }

    /// Steps left until the configured number of epochs.
    pub fn steps_left(&self) -> u64 {
        let t = &self.trainer;
        let p = t.position();
        let epochs_left = t.config().epochs.saturating_sub(p.epoch) as u64;
        (epochs_left * t.batches_per_epoch() as u64).saturating_sub(p.batch_in_epoch as u64)
    }

    /// Continues `run` from its latest checkpoint with `config`, which may differ from the
    /// run's own only in [`RESUMABLE_FIELDS`] (e.g. more epochs); any other difference is an
    /// error naming the fields.
    ///
    /// Holds the run lock (a second trainer of the run is refused) and first removes the
    /// temporary files killed writers left. A run killed before its first checkpoint (a
    /// `config.toml` and no checkpoint) trains from the start.
    pub fn resume(run: RunDir, config: &TrainConfig) -> Result<TrainingRun> {
        config.validate()?;
        let lock = RunLock::acquire(run.path())?;
        let mut warnings: Vec<String> = crate::cleanup::remove_stale_temp_files(run.path())
            .iter()
            .map(|p| format!("removed {}, left by a killed writer", p.display()))
            .collect();
        let saved = run.config()?;
        let changed = fixed_differences(config, &saved);
        if !changed.is_empty() {
            return Err(GanError::Run {
                path: run.path().to_path_buf(),
                reason: format!(
                    "--resume: the settings given disagree with the run's config.toml ({}); \
                     only {} may change when resuming: drop the other flags, or start a new \
                     run with another --name",
                    changed.join("; "),
                    RESUMABLE_FIELDS.join(", ")
                ),
            });
        }
        let path = run.latest_checkpoint();
        if !path.exists() {
            warnings.push(format!(
                "{} has no checkpoint yet (its trainer stopped before the first one): \
                 training from the start",
                run.path().display()
            ));
            let trainer = Trainer::new(config, load_data(config)?)?;
            write_atomic(&run.config_path(), config.to_toml().as_bytes())?;
            let mut session = TrainingRun::new(run, trainer)?;
            session.write_real_grid()?;
            session.lock = Some(lock);
            session.warnings = warnings;
            return Ok(session);
        }
        let ckpt = Checkpoint::read(&path)?;
        warnings.extend(ckpt.warnings.iter().cloned());
        let ckpt_config = ckpt.config()?;
        let mismatch = fixed_differences(&ckpt_config, &saved);
        if !mismatch.is_empty() {
            return Err(bad(
                &path,
                &format!(
                    "was written with another configuration than config.toml ({})",
                    mismatch.join("; ")
                ),
            ));
        }
        let mut trainer = Trainer::new(config, load_data(config)?)?;
        ckpt.load_trainer(&mut trainer)?;
        let done = trainer.position().epoch;
        if done >= config.epochs {
            return Err(GanError::Run {
                path: run.path().to_path_buf(),
                reason: format!(
                    "already trained for {} epochs: to continue, ask for more, e.g. \
                     --resume {} --epochs {}",
                    done,
                    run.path().display(),
                    done + 10
                ),
            });
        }
        if *config != saved {
            write_atomic(&run.config_path(), config.to_toml().as_bytes())?;
        }
        let mut session = TrainingRun::new(run, trainer)?;
        session.lock = Some(lock);
        session.warnings = warnings;
        Ok(session)
    }

    fn new(run: RunDir, trainer: Trainer) -> Result<TrainingRun> {
        let fixed_grid = FixedGrid::new(trainer.gan())?;
        Ok(TrainingRun {
            run,
            trainer,
            fixed_grid,
            probe: None,
            lock: None,
            fresh: false,
            warnings: Vec::new(),
        })
    }

    /// Measures quality with `probe` every `eval_every` epochs (and after the last one).
    pub fn set_quality_probe(&mut self, probe: QualityProbe) {
        self.probe = Some(probe);
    }

    /// The run folder.
    pub fn run(&self) -> &RunDir {
        &self.run
    }

    /// The trainer (networks, optimizers, position).
    pub fn trainer(&self) -> &Trainer {
        &self.trainer
    }

    /// Trains until the configured number of epochs. `on_step` sees every step and returns
    /// `false` to stop: a checkpoint is then written and [`GanError::Interrupted`] returned.
    /// `on_epoch` sees each finished epoch. A non-finite loss stops training with
    /// [`GanError::Diverged`], leaving the last good checkpoint untouched.
    ///
    /// A fresh run that fails before its first checkpoint removes its run folder.
    ///
    /// `report.html` is rewritten after every epoch, and once more without refreshing when
    /// training stops early.
    pub fn train(
        &mut self,
        on_step: impl FnMut(&Progress) -> bool,
        on_epoch: impl FnMut(&EpochReport),
    ) -> Result<()> {
        let result = self.train_epochs(on_step, on_epoch);
        if let Err(e) = &result {
            if self.fresh && !self.run.latest_checkpoint().exists() {
                let _ = std::fs::remove_dir_all(self.run.path());
            } else {
                crate::report::after_stop(&self.run, e);
            }
        }
        result
    }

    fn train_epochs(
        &mut self,
        mut on_step: impl FnMut(&Progress) -> bool,
        mut on_epoch: impl FnMut(&EpochReport),
    ) -> Result<()> {
        while self.trainer.position().epoch < self.trainer.config().epochs {
            match self.trainer.train_epoch(&mut on_step) {
                Ok(Some(metrics)) => {
                    let report = self.finish_epoch(metrics)?;
                    on_epoch(&report);
                }
                Ok(None) => {
                    let checkpoint = self.save_checkpoint()?;
                    return Err(GanError::Interrupted { checkpoint });
                }
                Err(GanError::Diverged {
                    epoch,
                    step,
                    what,
                    value,
                    ..
                }) => {
                    let latest = self.run.latest_checkpoint();
                    return Err(GanError::Diverged {
                        epoch,
                        step,
                        what,
                        value,
                        checkpoint: latest.is_file().then_some(latest),
                    });
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn finish_epoch(&mut self, mut metrics: EpochMetrics) -> Result<EpochReport> {
        let epoch = metrics.epoch;
        let config = self.trainer.config().clone();
        let due = config.eval_every > 0
            && (epoch.is_multiple_of(config.eval_every) || epoch == config.epochs);
        if let (true, Some(probe)) = (due, self.probe.as_mut()) {
            let (fid, ratio) = probe(self.trainer.gan_mut())?;
            metrics.fid = Some(fid);
            metrics.class_ratio = Some(ratio);
            self.trainer.record_quality(fid, ratio);
        }
        self.write_metrics()?;
        let grid = self.trainer.draw(&self.fixed_grid)?;
        let grid_path = self.run.sample_grid_path(epoch);
        render::save_png(&grid, &grid_path)?;
        self.write_plots()?;
        let mut warnings = Vec::new();
        let frames = render::epoch_sample_paths(self.run.samples_dir())?;
        let gif = self.run.path().join("progress.gif");
        let mut animation = render::GifAnimation::new(GIF_FRAME_MS);
        let saved = frames
            .iter()
            .try_for_each(|png| animation.push_png(png))
            .and_then(|()| animation.save(&gif));
        if let Err(e) = saved {
            warnings.push(format!("{} not updated: {e}", gif.display()));
        }
        self.save_checkpoint()?;
        warnings.extend(crate::report::after_epoch(
            &self.run,
            epoch,
            config.epochs,
            metrics.seconds,
        ));
        Ok(EpochReport {
            metrics,
            grid: grid_path,
            warnings,
        })
    }

    fn write_real_grid(&self) -> Result<()> {
        let grid = self.trainer.config().grid;
        let data = self.trainer.data();
        let cells = (grid * grid).min(data.len());
        let real: Vec<u8> = (0..cells).flat_map(|i| data.image(i).to_vec()).collect();
        let layout = GridLayout::for_count(cells, grid);
        let image = render::digit_grid_u8(&real, 28, 28, &layout)?;
        render::save_png(&image, self.run.path().join("real.png"))?;
        Ok(())
    }

    fn write_metrics(&self) -> Result<()> {
        let history = &self.trainer.position().history;
        write_csv(
            &self.run.metrics_path(),
            EpochMetrics::CSV_COLUMNS,
            history.iter().map(EpochMetrics::csv_record),
        )
    }

    fn write_plots(&self) -> Result<()> {
        let h = &self.trainer.position().history;
        let curves = training_curves(h);
        charts::save_training_plots(&curves, self.run.plots_dir())?;
        let fid: Vec<(f64, f64)> = h
            .iter()
            .filter_map(|m| Some((m.epoch as f64, m.fid?)))
            .collect();
        if !fid.is_empty() {
            let chart = LineChart::new(
                "FID against the test digits (lower is better)",
                "epoch",
                "FID",
            )
            .with_series(Series::new("FID", fid));
            let path = self.run.plots_dir().join("quality.png");
            render::save_line_chart(&chart, path, charts::CHART_WIDTH, charts::CHART_HEIGHT)?;
        }
        Ok(())
    }

    /// Writes `checkpoints/latest.safetensors` (and `epoch-NNNN` at every `checkpoint_every`
    /// finished epoch) with everything [`TrainingRun::resume`] needs; returns the latest's path.
    pub fn save_checkpoint(&self) -> Result<PathBuf> {
        let t = &self.trainer;
        let (opt_g, opt_d) = t.optimizers();
        let mut meta = CheckpointMeta::default();
        meta.set("config", t.config().to_toml());
        meta.set_position(t.position(), opt_g, opt_d)?;
        let opts = [("generator", opt_g), ("discriminator", opt_d)];
        let latest = self.run.latest_checkpoint();
        let every = t.config().checkpoint_every;
        let p = t.position();
        // The epoch's checkpoint first, `latest` last: a kill between the two then resumes
        // from the previous epoch and writes both again (the other order lost epoch-NNNN).
        if p.batch_in_epoch == 0 && every > 0 && p.epoch.is_multiple_of(every) {
            let path = self.run.epoch_checkpoint(p.epoch);
            checkpoint::save(&path, t.gan(), &opts, &meta)?;
        }
        checkpoint::save(&latest, t.gan(), &opts, &meta)?;
        Ok(latest)
    }
}

/// The per-epoch curves of a run's history, for the plots.
pub fn training_curves(history: &[EpochMetrics]) -> TrainingCurves {
    let col = |f: fn(&EpochMetrics) -> f64| history.iter().map(f).collect::<Vec<f64>>();
    TrainingCurves {
        epoch: col(|m| m.epoch as f64),
        d_loss: col(|m| m.d_loss),
        g_loss: col(|m| m.g_loss),
        d_acc_real: col(|m| m.d_acc_real),
        d_acc_fake: col(|m| m.d_acc_fake),
        d_acc: col(|m| m.d_acc),
    }
}

/// The metrics history saved in a run's latest checkpoint.
pub fn saved_history(run: &RunDir) -> Result<Vec<EpochMetrics>> {
    Checkpoint::read(&run.latest_checkpoint())?.history()
}

fn load_data(config: &TrainConfig) -> Result<TrainingData> {
    let dir = Path::new(&config.data_dir);
    if dir.exists() && !dir.is_dir() {
        return Err(GanError::Config(format!(
            "data_dir (--data) {} is a file, not a folder: give the folder that holds the MNIST \
             IDX files (e.g. --data data/mnist)",
            dir.display()
        )));
    }
    let mut data = TrainingData::load(&config.data_dir, &config.digit_list()?)?;
    data.truncate(config.limit);
    Ok(data)
}

pub(crate) fn fixed_differences(a: &TrainConfig, b: &TrainConfig) -> Vec<String> {
    a.differences(b)
        .into_iter()
        .filter(|d| {
            let field = d.split(':').next().unwrap_or_default();
            !RESUMABLE_FIELDS.contains(&field)
        })
        .collect()
}

fn bad(path: &std::path::Path, reason: &str) -> GanError {
    GanError::Checkpoint {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}
