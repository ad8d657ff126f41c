//! `gan eval`: quality figures of a run's generator (or of any IDX file of digits) on the
//! evaluator's features, beside training digits (the floor) and noise.

use anyhow::{bail, Context, Result};
use clap::Parser;
use digit_classifiers::evaluator::Classifier;
use digit_classifiers::quality::{self as eval, EvalReport, EvaluatorInfo, Reference};
use gan::RunDir;
use mnist_idx::PIXELS;
use std::path::PathBuf;
use std::time::Instant;

/// Flags of `gan eval`.
#[derive(Parser)]
pub struct EvalArgs {
    /// The run folder (e.g. runs/run-001); its latest checkpoint generates the digits.
    #[arg(conflicts_with = "samples")]
    run: Option<PathBuf>,
    /// Evaluate the digits of an IDX file instead (u8, N x 28 x 28, e.g. from `gan sample`).
    #[arg(long)]
    samples: Option<PathBuf>,
    /// With --samples: the digit each sample was asked to be (u8 IDX of N values 0-9, e.g.
    /// from `gan sample --labels-out`), for label accuracy and per-class FID.
    #[arg(long, requires = "samples", value_name = "LABELS.idx")]
    labels: Option<PathBuf>,
    /// How many digits (from an IDX file: its first N).
    #[arg(long, default_value_t = 10_000)]
    n: usize,
    /// Seed of the generated digits (default: the run's seed; 1 for --samples) and of the noise.
    #[arg(long)]
    seed: Option<u64>,
    /// Where to write the figures (default: RUN/eval.json, or FILE.eval.json beside --samples).
    #[arg(long)]
    json: Option<PathBuf>,
    /// Evaluator weights (default: the shipped data/evaluator/classifier.safetensors).
    #[arg(long)]
    weights: Option<PathBuf>,
    /// Folder with the MNIST IDX files.
    #[arg(long, default_value = gan::config::DEFAULT_DATA_DIR)]
    data: PathBuf,
}

/// The largest `--n` (the training digits it is compared with number 60,000).
const MAX_N: usize = 60_000;

/// Runs `gan eval`.
pub fn run(a: EvalArgs) -> Result<()> {
    if a.n < 10 || a.n > MAX_N {
        bail!("--n {}: evaluate between 10 and {MAX_N} digits", a.n);
    }
    let start = Instant::now();
    let (source, digits, requested, n, seed, json) = match (&a.run, &a.samples) {
        (Some(run), _) => {
            let run = RunDir::open(run)?;
            let mut gan = crate::load_run_gan(&run)?;
            let seed = a.seed.unwrap_or(gan.config.seed);
            // A conditional run's samples cycle through its digits: 1,000 of each of ten.
            let requested = match gan.generator.conditional() {
                true => Some(gan.cycled_labels(a.n)?),
                false => None,
            };
            let digits = gan.sample_u8_labeled(a.n, seed, requested.as_deref())?;
            let json = a.json.clone().unwrap_or_else(|| run.eval_path());
            (
                run.path().display().to_string(),
                digits,
                requested,
                a.n,
                seed,
                json,
            )
        }
        (None, Some(file)) => {
            let (mut digits, found) = eval::read_samples(file)?;
            let n = found.min(a.n);
            if n < 10 {
                bail!(
                    "{}: holds {found} digits; evaluation needs at least 10",
                    file.display()
                );
            }
            if n < a.n {
                println!(
                    "{} holds {found} digits: evaluating all of them",
                    file.display()
                );
            }
            digits.truncate(n * PIXELS);
            let requested = match &a.labels {
                Some(path) => Some(eval::read_labels(path, n)?),
                None => None,
            };
            let json = a
                .json
                .clone()
                .unwrap_or_else(|| PathBuf::from(format!("{}.eval.json", file.display())));
            (
                file.display().to_string(),
                digits,
                requested,
                n,
                a.seed.unwrap_or(1),
                json,
            )
        }
        (None, None) => bail!(
            "nothing to evaluate: give a run folder (gan eval runs/run-001) or an IDX file of \
             digits (gan eval --samples FILE.idx)"
        ),
    };

    let weights = match &a.weights {
        Some(p) => p.clone(),
        None => Classifier::default_path()?,
    };
    let (mut classifier, record) = Classifier::load_verified(&weights)?;
    let mnist = mnist_idx::Mnist::load(&a.data).with_context(|| {
        format!(
            "cannot load MNIST from {} (run from the workspace root or pass --data)",
            a.data.display()
        )
    })?;

    let reference = Reference::new(&mut classifier, &mnist.test.images, mnist.test.len)?;
    let figures = eval::evaluate(&mut classifier, &reference, &mnist, &digits, n, seed)?;
    let conditional = match &requested {
        Some(labels) => Some(eval::evaluate_conditional(
            &mut classifier,
            &mnist,
            &digits,
            labels,
            n,
        )?),
        None => None,
    };
    let report = EvalReport {
        source,
        n,
        seed,
        reference: format!("the {} MNIST test digits", mnist.test.len),
        evaluator: EvaluatorInfo {
            weights: weights.display().to_string(),
            sha256: record.sha256,
            test_accuracy: record.test_accuracy,
        },
        figures,
        conditional,
        seconds: start.elapsed().as_secs_f64(),
    };
    // The figures first: they are the result, and are not lost when the files cannot be
    // written (a read-only run folder).
    println!(
        "{n} digits from {} (seed {seed}); figures on the evaluator's 128-D features, \
         against {}:\n",
        report.source, report.reference
    );
    print!("{}", report.table());
    let png = report.save(&json).with_context(|| {
        format!(
            "the figures above could not be saved to {} (choose another file with --json)",
            json.display()
        )
    })?;
    println!(
        "\nwrote {} and {} ({:.1} s)",
        json.display(),
        png.display(),
        report.seconds
    );
    if let Some(run) = &a.run {
        let page = gan::report::write_run_page(run, &gan::report::RunState::AsFound)?;
        println!("updated {}", page.display());
    }
    Ok(())
}
