//! `gan sweep`: one training per value of one hyperparameter, then overlaid plots, the grids
//! side by side and a summary table.

use crate::config_flags::{enum_parser, ConfigFlags};
use crate::interrupt;
use crate::progress::TrainingProgress;
use anyhow::{bail, Result};
use clap::Parser;
use gan::config::ModelKind;
use gan::config::{HiddenActivation, OptimizerKind, OutputKind};
use gan::loss::GanLoss;
use gan::sweep::{self, Setting, SweepPlan, Varied};
use gan::{GanError, RunDir, TrainConfig, TrainingRun};
use indicatif::MultiProgress;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The flags that take the list of values a sweep compares (their help shows no default).
pub const VARIED_FLAGS: [&str; 4] = ["lr", "optimizer", "hidden", "batch"];

/// Flags of `gan sweep`.
#[derive(Parser)]
pub struct SweepArgs {
    /// Learning rates to compare (Adam by default), e.g. 2e-5,2e-4,2e-3.
    #[arg(long, group = "varied")]
    lr: Option<String>,
    // Optimizers to compare; the help lists the names the library knows.
    #[arg(long, group = "varied", help = optimizer_help())]
    optimizer: Option<String>,
    /// Hidden sizes to compare, separated by ';' (generator sizes, the discriminator mirrored),
    /// e.g. "512;256,512".
    #[arg(long, group = "varied")]
    hidden: Option<String>,
    /// Batch sizes to compare, e.g. 32,64,128.
    #[arg(long, group = "varied")]
    batch: Option<String>,
    /// Sweep folder name under --runs [default: sweep-<hyperparameter>].
    #[arg(long)]
    name: Option<String>,
    /// Parent folder of sweep folders.
    #[arg(long, default_value = crate::RUNS_DIR)]
    runs: PathBuf,
    /// Replace an existing sweep folder of the same name.
    #[arg(long)]
    force: bool,
    /// Continue the sweep in this folder: finished runs are kept, the others resumed.
    #[arg(long, conflicts_with_all = ["varied", "name", "force", "config"])]
    resume: Option<PathBuf>,
    /// Runs trained at once (measured on 2 cores: see docs/experiments.md).
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// TOML file with the settings shared by every run; flags win over it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Passes over the training digits.
    #[arg(long)]
    epochs: Option<usize>,
    /// Digits to learn: all, one digit (3) or a list (3,5).
    #[arg(long)]
    digits: Option<String>,
    /// Length of the noise vector.
    #[arg(long)]
    latent: Option<usize>,
    /// The generator and discriminator architecture.
    #[arg(long, value_parser = enum_parser::<ModelKind>())]
    model: Option<ModelKind>,
    /// The GAN loss.
    #[arg(long, value_parser = enum_parser::<GanLoss>())]
    loss: Option<GanLoss>,
    /// Hidden activation.
    #[arg(long, value_parser = enum_parser::<HiddenActivation>())]
    activation: Option<HiddenActivation>,
    /// Generator output: tanh ([-1,1] data) or sigmoid ([0,1] data).
    #[arg(long, value_parser = enum_parser::<OutputKind>())]
    output: Option<OutputKind>,
    /// The seed shared by every run.
    #[arg(long)]
    seed: Option<u64>,
    /// Folder with the MNIST IDX files.
    #[arg(long)]
    data: Option<String>,
    /// Train on only the first N selected digits (0: all), for quick trials.
    #[arg(long)]
    limit: Option<usize>,
    /// Skip measuring FID and class balance of each run at the end.
    #[arg(long)]
    pub(crate) no_eval: bool,
    /// Train nothing: write the plan, one `gan train` command per setting (commands.txt) and a
    /// Slurm job-array script (slurm.sh) into the sweep folder, for a cluster.
    #[arg(long, conflicts_with_all = ["resume", "jobs"])]
    pub(crate) plan_only: bool,
    /// Gather the finished runs of a planned sweep folder into its summary, plots, grids and
    /// report.html, naming runs that are missing or unfinished.
    #[arg(long, value_name = "SWEEP", conflicts_with_all = ["varied", "name", "force", "config", "resume", "plan_only"])]
    pub(crate) collect: Option<PathBuf>,
}

/// The help of `--optimizer`, naming the optimizers the library knows.
fn optimizer_help() -> String {
    let names = <OptimizerKind as strum::VariantNames>::VARIANTS;
    format!(
        "Optimizers to compare, e.g. {} [possible values: {}]",
        names.join(","),
        names.join(", ")
    )
}

impl SweepArgs {
    /// The sweep folder: `--runs/--name`, by default `sweep-<hyperparameter>`.
    pub(crate) fn sweep_dir(&self, plan: &SweepPlan) -> PathBuf {
        let name = self
            .name
            .clone()
            .unwrap_or_else(|| format!("sweep-{}", plan.varied.name()));
        self.runs.join(name)
    }

    /// Whether to replace an existing sweep folder.
    pub(crate) fn force(&self) -> bool {
        self.force
    }

    pub(crate) fn plan(&self) -> Result<SweepPlan> {
        let flags = ConfigFlags {
            config: self.config.clone(),
            epochs: self.epochs,
            digits: self.digits.clone(),
            latent: self.latent,
            model: self.model,
            loss: self.loss,
            activation: self.activation,
            output: self.output,
            seed: self.seed,
            data: self.data.clone(),
            limit: self.limit,
            ..ConfigFlags::default()
        };
        let base = flags.resolve(TrainConfig::default())?;
        let (varied, list) = match (&self.lr, &self.optimizer, &self.hidden, &self.batch) {
            (Some(v), ..) => (Varied::Lr, v),
            (_, Some(v), ..) => (Varied::Optimizer, v),
            (_, _, Some(v), _) => (Varied::Hidden, v),
            (.., Some(v)) => (Varied::Batch, v),
            _ => bail!(
                "say what to vary: --lr 2e-5,2e-4,2e-3, --optimizer adam,rmsprop,sgd, \
                 --hidden \"512;256,512\" or --batch 32,64,128 (or --resume a sweep folder)"
            ),
        };
        Ok(SweepPlan::new(varied, list, base)?)
    }
}

/// Runs `gan sweep`.
pub fn run(a: SweepArgs) -> Result<()> {
    if a.jobs == 0 {
        bail!("--jobs must be at least 1");
    }
    if a.plan_only || a.collect.is_some() {
        return crate::sweep_cluster::run(&a);
    }
    let (dir, plan) = match &a.resume {
        Some(dir) => (dir.clone(), SweepPlan::load(dir)?),
        None => {
            let plan = a.plan()?;
            let dir = a.sweep_dir(&plan);
            sweep::create_folder(&dir, &plan, a.force)?;
            (dir, plan)
        }
    };
    let settings = plan.settings()?;
    println!(
        "sweep over {} ({}) in {}, {} run(s) at a time",
        plan.varied.name(),
        plan.values.join(", "),
        dir.display(),
        a.jobs
    );
    train_all(&dir, &settings, a.jobs)?;
    let mut evaluate = crate::quality::sweep_evaluator(!a.no_eval, &plan.base.data_dir)?;
    let rows = sweep::summarize(&dir, &settings, |run| evaluate(run))?;
    let written = sweep::write_report(&dir, &plan, &rows)?;
    print_summary(&plan, &rows, &written);
    Ok(())
}

/// Prints the summary table and the files written.
pub(crate) fn print_summary(plan: &SweepPlan, rows: &[sweep::SettingSummary], written: &[PathBuf]) {
    println!(
        "\n{}",
        sweep::summary_markdown(plan, rows)
            .lines()
            .filter(|l| l.starts_with('|'))
            .collect::<Vec<_>>()
            .join("\n")
    );
    for path in written {
        println!("wrote {}", path.display());
    }
}

/// Trains every setting that is not finished yet, `jobs` at a time.
fn train_all(dir: &Path, settings: &[Setting], jobs: usize) -> Result<()> {
    let next = AtomicUsize::new(0);
    let group = MultiProgress::new();
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(settings.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(setting) = settings.get(i) else {
                    break;
                };
                if let Err(e) = train_one(dir, setting, &group) {
                    let stop = matches!(
                        e.downcast_ref::<GanError>(),
                        Some(GanError::Interrupted { .. })
                    );
                    failures
                        .lock()
                        .map(|mut f| f.push(format!("{}: {e:#}", setting.label)))
                        .ok();
                    if stop {
                        next.store(settings.len(), Ordering::SeqCst);
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap_or_default();
    if !failures.is_empty() {
        bail!(
            "{} of {} runs did not finish:\n  {}\ncontinue with `gan sweep --resume {}`",
            failures.len(),
            settings.len(),
            failures.join("\n  "),
            dir.display()
        );
    }
    Ok(())
}

fn train_one(dir: &Path, setting: &Setting, group: &MultiProgress) -> Result<()> {
    let folder = dir.join(&setting.folder);
    let mut session = match RunDir::open(&folder) {
        Ok(run) => {
            let done = gan::session::saved_history(&run)?.len();
            if done >= setting.config.epochs {
                group.println(format!(
                    "{}: finished earlier ({done} epochs)",
                    setting.label
                ))?;
                return Ok(());
            }
            TrainingRun::resume(run, &setting.config)?
        }
        // A folder without a checkpoint holds nothing worth keeping: start it again.
        Err(_) => TrainingRun::start(dir, Some(&setting.folder), folder.exists(), &setting.config)?,
    };
    let epochs = setting.config.epochs;
    let progress = TrainingProgress::in_group(group, session.steps_left(), epochs, &setting.label);
    let result = session.train(
        |p| {
            progress.step(p);
            !interrupt::stop_requested()
        },
        |report| progress.epoch(report),
    );
    progress.finish();
    Ok(result?)
}
