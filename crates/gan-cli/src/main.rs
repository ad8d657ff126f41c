//! The `gan` command: train, sample and inspect GANs on handwritten digits.

mod classifier;
mod config_flags;
mod detect;
mod eval;
mod idx;
mod interrupt;
mod progress;
mod quality;
mod sample;
mod sweep;
mod train;
mod traverse;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "gan",
    version,
    about = "Train GANs on handwritten digits, on a CPU"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a GAN (defaults: the reference configuration, 20 epochs).
    Train(Box<train::TrainArgs>),
    /// Draw digits from a trained run's generator into a PNG grid or an IDX file.
    Sample(sample::SampleArgs),
    /// Train one run per value of one hyperparameter and compare them.
    Sweep(Box<sweep::SweepArgs>),
    /// Draw what a trained generator makes along paths through its noise space (PNG, GIF).
    Traverse(Box<traverse::TraverseArgs>),
    /// Train a one-digit detector (digit vs the rest) and report accuracy, precision, recall.
    Detect(Box<detect::DetectArgs>),
    /// Inspect IDX files.
    Idx(idx::IdxArgs),
    /// Quality figures of a run's digits (or an IDX file's): FID, MNIST score, precision,
    /// recall, class histogram, beside training digits and noise.
    Eval(eval::EvalArgs),
    /// Train or test the evaluator CNN behind `gan eval` (weights in data/evaluator/).
    Classifier(classifier::ClassifierArgs),
}

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

/// The networks of a run's latest checkpoint (built from the configuration stored in it), with
/// what could not be verified printed as warnings.
pub(crate) fn load_run_gan(run: &gan::RunDir) -> Result<gan::Gan> {
    let (gan, warnings) = run.load_gan_with_warnings()?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    Ok(gan)
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Train(args) => train::run(*args),
        Command::Sample(args) => sample::run(args),
        Command::Sweep(args) => sweep::run(*args),
        Command::Traverse(args) => traverse::run(*args),
        Command::Detect(args) => detect::run(*args),
        Command::Idx(args) => idx::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Classifier(args) => classifier::run(args),
    }
}
