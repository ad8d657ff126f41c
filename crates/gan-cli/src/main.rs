//! The `gan` command: train, sample and inspect GANs on handwritten digits.

mod detect;
mod idx;
mod sample;
mod train;

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
    Train(train::TrainArgs),
    /// Draw digits from a trained run's generator into a PNG grid or an IDX file.
    Sample(sample::SampleArgs),
    /// Train a one-digit detector (digit vs the rest) and report accuracy, precision, recall.
    Detect(detect::DetectArgs),
    /// Inspect IDX files.
    Idx(idx::IdxArgs),
}

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Train(args) => train::run(args),
        Command::Sample(args) => sample::run(args),
        Command::Detect(args) => detect::run(args),
        Command::Idx(args) => idx::run(args),
    }
}
