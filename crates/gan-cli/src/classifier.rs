//! `gan classifier train|test`: the evaluator CNN behind `gan eval`.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use digit_classifiers::evaluator::{
    self as classifier, record_path, Classifier, ClassifierRecord, EpochRecord, EvaluatorTrainer,
    TrainSettings,
};
use metrics::confusion_matrix;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Flags of `gan classifier`.
#[derive(Parser)]
pub struct ClassifierArgs {
    #[command(subcommand)]
    command: ClassifierCommand,
}

#[derive(Subcommand)]
enum ClassifierCommand {
    /// Train the evaluator on the 60,000 MNIST training digits; writes the weights and a JSON
    /// record (test accuracy, SHA-256, this command) beside them.
    Train(TrainFlags),
    /// Recompute the test accuracy and confusion matrix of saved weights, after checking their
    /// SHA-256 against the JSON record.
    Test(TestFlags),
}

#[derive(Parser)]
struct TrainFlags {
    /// Passes over the training digits.
    #[arg(long, default_value_t = TrainSettings::default().epochs)]
    epochs: usize,
    /// Seed of every random choice (init, order, shifts, dropout).
    #[arg(long, default_value_t = TrainSettings::default().seed)]
    seed: u64,
    /// Digits per batch.
    #[arg(long, default_value_t = TrainSettings::default().batch)]
    batch: usize,
    /// Peak learning rate (Adam; linear warm-up, then cosine to 0).
    #[arg(long, default_value_t = TrainSettings::default().lr)]
    lr: f32,
    /// Weights file to write (the record goes beside it, ending in .json).
    #[arg(long, default_value = classifier::DEFAULT_WEIGHTS)]
    out: PathBuf,
    /// Folder with the MNIST IDX files.
    #[arg(long, default_value = gan::config::DEFAULT_DATA_DIR)]
    data: PathBuf,
}

#[derive(Parser)]
struct TestFlags {
    /// Weights file (default: the shipped data/evaluator/classifier.safetensors).
    #[arg(long)]
    weights: Option<PathBuf>,
    /// Folder with the MNIST IDX files.
    #[arg(long, default_value = gan::config::DEFAULT_DATA_DIR)]
    data: PathBuf,
}

/// Runs `gan classifier`.
pub fn run(a: ClassifierArgs) -> Result<()> {
    match a.command {
        ClassifierCommand::Train(f) => train(f),
        ClassifierCommand::Test(f) => test(f),
    }
}

fn load_mnist(dir: &Path) -> Result<mnist_idx::Mnist> {
    mnist_idx::Mnist::load(dir).with_context(|| {
        format!(
            "cannot load MNIST from {} (run from the workspace root or pass --data)",
            dir.display()
        )
    })
}

fn train(f: TrainFlags) -> Result<()> {
    let settings = TrainSettings {
        epochs: f.epochs,
        batch: f.batch,
        lr: f.lr,
        seed: f.seed,
        ..TrainSettings::default()
    };
    let mnist = load_mnist(&f.data)?;
    if let Some(dir) = f.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let mut trainer = EvaluatorTrainer::new(settings, mnist.train.len)?;
    println!(
        "training the evaluator: {} epochs of {} digits, batch {}, lr {}, seed {}",
        f.epochs, mnist.train.len, f.batch, f.lr, f.seed
    );
    let start = Instant::now();
    let mut history = Vec::new();
    for _ in 0..f.epochs {
        let r = trainer.train_epoch(&mnist.train.images, &mnist.train.labels)?;
        let test =
            classifier::accuracy(trainer.classifier(), &mnist.test.images, &mnist.test.labels)?;
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "epoch {:>2}/{}  loss {:.4}  train {:6.2}%  test {:6.2}%  lr {:.1e}  {:6.0} s",
            r.epoch,
            f.epochs,
            r.loss,
            100.0 * r.train_accuracy,
            100.0 * test,
            r.lr,
            seconds
        );
        history.push(EpochRecord {
            epoch: r.epoch,
            loss: r.loss,
            train_accuracy: r.train_accuracy,
            test_accuracy: test,
            seconds,
        });
    }
    let seconds = start.elapsed().as_secs_f64();
    let test_accuracy = history.last().map_or(0.0, |h| h.test_accuracy);
    let classifier = trainer.into_classifier();
    let sha256 = classifier.save(&f.out)?;
    let record = ClassifierRecord {
        weights: f
            .out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        sha256,
        test_accuracy,
        command,
        seconds,
        epochs: f.epochs,
        seed: f.seed,
        batch: f.batch,
        lr: f64::from(f.lr),
        max_shift: settings.max_shift,
        architecture: ARCHITECTURE.into(),
        history,
    };
    let json = record_path(&f.out);
    record.save(&json)?;
    println!(
        "test accuracy {:.2}% after {:.0} s; wrote {} and {}",
        100.0 * test_accuracy,
        seconds,
        f.out.display(),
        json.display()
    );
    Ok(())
}

/// The network in words, for the record.
const ARCHITECTURE: &str = "conv 5x5x32, ReLU, max-pool 2; conv 5x5x64, ReLU, max-pool 2; \
                            linear 1024->128, ReLU (features); dropout 0.5; linear 128->10";

fn test(f: TestFlags) -> Result<()> {
    let path = match f.weights {
        Some(p) => p,
        None => Classifier::default_path()?,
    };
    let (mut classifier, record) = Classifier::load_verified(&path)?;
    println!(
        "{}: SHA-256 {} matches {}",
        path.display(),
        record.sha256,
        record_path(&path).display()
    );
    let mnist = load_mnist(&f.data)?;
    let start = Instant::now();
    let out = classifier.classify(&mnist.test.images, mnist.test.len)?;
    let m = confusion_matrix(&mnist.test.labels, &out.labels, classifier::CLASSES)?;
    println!(
        "test accuracy {:.2}% ({} of {} right, {:.1} s; recorded {:.2}%)",
        100.0 * m.accuracy(),
        (m.accuracy() * m.total() as f64).round(),
        m.total(),
        start.elapsed().as_secs_f64(),
        100.0 * record.test_accuracy
    );
    println!("confusion matrix (rows: true digit, columns: predicted digit):");
    print!("     ");
    for p in 0..m.classes() {
        print!("{p:>6}");
    }
    println!("  recall");
    for t in 0..m.classes() {
        print!("{t:>5}");
        for count in m.row(t).unwrap_or_default() {
            print!("{count:>6}");
        }
        println!("  {:5.1}%", 100.0 * m.recall(t).unwrap_or(0.0));
    }
    Ok(())
}
