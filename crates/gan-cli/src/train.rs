//! `gan train`: trains a GAN and leaves a run folder; `--resume` continues one.

use crate::config_flags::ConfigFlags;
use crate::interrupt;
use crate::progress::TrainingProgress;
use anyhow::Result;
use clap::Parser;
use gan::{RunDir, TrainConfig, TrainingRun};
use std::path::PathBuf;

/// Flags of `gan train`.
#[derive(Parser)]
#[command(allow_negative_numbers = true)]
pub struct TrainArgs {
    /// Hyperparameters (defaults: the reference configuration).
    #[command(flatten)]
    pub flags: ConfigFlags,
    /// Run folder name under --runs [default: the first free run-NNN].
    #[arg(long)]
    pub name: Option<String>,
    /// Parent folder of run folders.
    #[arg(long, default_value = crate::RUNS_DIR)]
    pub runs: PathBuf,
    /// Replace an existing run folder of the same name.
    #[arg(long)]
    pub force: bool,
    /// Continue the run in this folder from its latest checkpoint (only --epochs,
    /// --eval-every, --checkpoint-every and --data may differ from the run's settings).
    #[arg(long, conflicts_with_all = ["name", "force", "config"])]
    pub resume: Option<PathBuf>,
}

/// Runs `gan train`.
pub fn run(a: TrainArgs) -> Result<()> {
    let mut session = match &a.resume {
        Some(dir) => {
            let run = RunDir::open_for_resume(dir)?;
            let config = a.flags.resolve(run.config()?)?;
            let session = TrainingRun::resume(run, &config)?;
            let t = session.trainer();
            println!(
                "resuming {} at epoch {}, batch {} of {}",
                dir.display(),
                t.position().epoch + 1,
                t.position().batch_in_epoch,
                t.batches_per_epoch()
            );
            session
        }
        None => {
            let config = a.flags.resolve(TrainConfig::default())?;
            let session = TrainingRun::start(&a.runs, a.name.as_deref(), a.force, &config)?;
            println!(
                "training on {} digits for {} epochs into {}",
                session.trainer().data().len(),
                config.epochs,
                session.run().path().display()
            );
            session
        }
    };
    for w in session.warnings() {
        eprintln!("warning: {w}");
    }
    crate::quality::attach_probe(&mut session)?;
    let epochs = session.trainer().config().epochs;
    let progress = TrainingProgress::new(session.steps_left(), epochs, "");
    let mut last_grid = None;
    let result = session.train(
        |p| {
            progress.step(p);
            !interrupt::stop_requested()
        },
        |report| {
            progress.epoch(report);
            last_grid = Some(report.grid.clone());
        },
    );
    progress.finish();
    result?;
    println!("done: {}", session.run().path().display());
    if let Some(grid) = last_grid {
        println!("last grid: {}", grid.display());
    }
    Ok(())
}
