//! The `gan` command: train, sample and inspect GANs on handwritten digits.

mod classifier;
mod config_flags;
mod detect;
mod eval;
mod idx;
mod interrupt;
mod progress;
mod quality;
mod report;
mod sample;
mod sweep;
mod sweep_cluster;
mod train;
mod traverse;

use anyhow::Result;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// The parent folder of run and sweep folders unless `--runs` says otherwise.
const RUNS_DIR: &str = "runs";

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
    /// Write a run's or a sweep's report.html (a page for the browser) and print its path.
    Report(report::ReportArgs),
}

/// The command line, the configuration flags' help showing `TrainConfig::default()`.
fn command() -> clap::Command {
    Cli::command()
        .mut_subcommand("train", |c| config_flags::with_defaults(c, &[]))
        .mut_subcommand("sweep", |c| {
            config_flags::with_defaults(c, &sweep::VARIED_FLAGS)
        })
}

fn main() {
    let mut cmd = command();
    let matches = cmd.get_matches_mut();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.format(&mut cmd).exit());
    if let Err(e) = run(cli) {
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
        Command::Report(args) => report::run(args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gan::TrainConfig;

    fn help(subcommand: &str) -> String {
        let mut cmd = command();
        cmd.build();
        cmd.find_subcommand_mut(subcommand)
            .unwrap()
            .render_long_help()
            .to_string()
    }

    fn error(args: &[&str]) -> String {
        match command().try_get_matches_from(args) {
            Ok(_) => panic!("{args:?} was accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn help_shows_the_defaults_of_train_config() {
        let d = TrainConfig::default();
        for sub in ["train", "sweep"] {
            let text = help(sub);
            let epochs = format!("Passes over the training digits [default: {}]", d.epochs);
            assert!(text.contains(&epochs), "{sub}: {text}");
            let seed = format!("[default: {}]", d.seed);
            assert!(text.contains(&seed), "{sub}: {text}");
        }
        let text = help("train");
        let batch = format!("Real digits per batch [default: {}]", d.batch);
        assert!(text.contains(&batch), "{text}");
        let optimizer = format!("Optimizer of both networks [default: {}]", d.optimizer);
        assert!(text.contains(&optimizer), "{text}");
        assert!(text.contains("[default: 2e-4]"), "{text}");
        assert!(
            text.contains("[possible values: adam, rmsprop, sgd]"),
            "{text}"
        );
        assert!(text.contains("[possible values: mlp, dcgan]"), "{text}");
        // The lists a sweep compares have no default.
        let text = help("sweep");
        assert!(text.contains("e.g. 32,64,128\n"), "{text}");
        assert!(
            text.contains("[possible values: adam, rmsprop, sgd]"),
            "{text}"
        );
    }

    #[test]
    fn wrong_enum_values_list_the_possible_ones() {
        let e = error(&["gan", "train", "--optimizer", "adamw"]);
        assert!(
            e.contains("'adamw'") && e.contains("adam, rmsprop, sgd"),
            "{e}"
        );
        let e = error(&["gan", "sweep", "--lr", "1e-3,1e-4", "--loss", "wgan"]);
        assert!(e.contains("'wgan'") && e.contains("bce"), "{e}");
    }

    #[test]
    fn model_and_loss_flags_reach_the_config() {
        let matches = command()
            .try_get_matches_from(["gan", "train", "--model", "mlp", "--loss", "bce"])
            .unwrap();
        let Command::Train(args) = Cli::from_arg_matches(&matches).unwrap().command else {
            panic!("not train");
        };
        let c = args.flags.resolve(TrainConfig::default()).unwrap();
        assert_eq!((c.model, c.loss), Default::default());
        assert_eq!(args.flags.model, Some(gan::config::ModelKind::Mlp));
        assert_eq!(args.flags.loss, Some(gan::loss::GanLoss::Bce));
    }
}
