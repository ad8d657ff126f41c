//! Tests of the evaluator: training lowers the loss, weights survive a save and load, the
//! shipped weights classify test digits well, and bad inputs and files are explained.

use super::*;
use std::path::PathBuf;

fn mnist_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/mnist")
}

fn test_split() -> mnist_idx::Split {
    mnist_idx::Split::load(mnist_dir(), mnist_idx::SplitKind::Test).unwrap()
}

#[test]
fn a_few_training_steps_lower_the_loss() {
    let test = test_split();
    let n = 192;
    let (images, labels) = (&test.images[..n * PIXELS], &test.labels[..n]);
    let settings = TrainSettings {
        epochs: 5,
        batch: 32,
        warmup_steps: 0,
        max_shift: 0,
        ..TrainSettings::default()
    };
    let mut trainer = EvaluatorTrainer::new(settings, n).unwrap();
    let first = trainer.train_epoch(images, labels).unwrap();
    let mut last = first;
    for _ in 1..settings.epochs {
        last = trainer.train_epoch(images, labels).unwrap();
    }
    assert!(
        last.loss < 0.8 * first.loss,
        "loss {} after {} epochs, {} after the first",
        last.loss,
        settings.epochs,
        first.loss
    );
    assert!(last.train_accuracy > first.train_accuracy);
}

#[test]
fn the_same_seed_gives_the_same_weights_and_bytes() {
    let test = test_split();
    let n = 64;
    let (images, labels) = (&test.images[..n * PIXELS], &test.labels[..n]);
    let settings = TrainSettings {
        epochs: 1,
        batch: 32,
        ..TrainSettings::default()
    };
    let run = || {
        let mut t = EvaluatorTrainer::new(settings, n).unwrap();
        t.train_epoch(images, labels).unwrap();
        weights::encode(t.into_classifier().params()).unwrap()
    };
    let (a, b) = (run(), run());
    assert_eq!(sha256_hex(&a), sha256_hex(&b));
    let other = EvaluatorTrainer::new(
        TrainSettings {
            seed: 2,
            ..settings
        },
        n,
    )
    .unwrap();
    assert_ne!(
        weights::encode(other.into_classifier().params()).unwrap(),
        a
    );
}

#[test]
fn save_then_load_gives_the_same_predictions() {
    let test = test_split();
    let n = 20;
    let digits = &test.images[..n * PIXELS];
    let mut original = Classifier::new(3).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.safetensors");
    let sha = original.save(&path).unwrap();
    assert_eq!(sha, sha256_hex(&std::fs::read(&path).unwrap()));
    let mut loaded = Classifier::load(&path).unwrap();
    let (a, b) = (
        original.classify(digits, n).unwrap(),
        loaded.classify(digits, n).unwrap(),
    );
    assert_eq!(a, b);
    // A different initialisation would give different features.
    let c = Classifier::new(4).unwrap().classify(digits, n).unwrap();
    assert_ne!(a.features, c.features);
    // Probabilities are distributions and labels their argmax.
    for (row, &label) in a.probs.rows().zip(&a.labels) {
        let sum: f32 = row.iter().sum();
        assert!((sum - 1.0).abs() < 1e-4);
        assert!(row.iter().all(|&p| p <= row[usize::from(label)]));
    }
}

#[test]
fn the_shipped_weights_classify_test_digits() {
    let test = test_split();
    let n = 100;
    let mut c =
        Classifier::load_default().expect("data/evaluator/classifier.safetensors is committed");
    let out = c.classify(&test.images[..n * PIXELS], n).unwrap();
    let right = out
        .labels
        .iter()
        .zip(&test.labels[..n])
        .filter(|(p, t)| p == t)
        .count();
    assert!(right >= 97, "{right} of {n} right");
    assert_eq!((out.features.n(), out.features.dim()), (n, FEATURE_DIM));
    assert!(
        out.features.data().iter().all(|&v| v >= 0.0),
        "features follow a ReLU"
    );
}

#[test]
fn wrong_input_sizes_are_explained() {
    let mut c = Classifier::new(0).unwrap();
    let err = c.classify(&[0u8; 784 * 2 - 1], 2).unwrap_err().to_string();
    assert!(err.contains("n · 784"), "{err}");
    assert!(c.classify(&[], 0).is_err());
}

#[test]
fn bad_files_and_altered_weights_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.safetensors");
    let err = Classifier::load(&missing).err().unwrap().to_string();
    assert!(err.contains("gan classifier train"), "{err}");

    let garbage = dir.path().join("garbage.safetensors");
    std::fs::write(&garbage, b"not weights").unwrap();
    let err = Classifier::load(&garbage).err().unwrap().to_string();
    assert!(err.contains("not a safetensors file"), "{err}");

    let path = dir.path().join("c.safetensors");
    let c = Classifier::new(1).unwrap();
    let sha = c.save(&path).unwrap();
    let err = Classifier::load_verified(&path).err().unwrap().to_string();
    assert!(err.contains("no record"), "{err}");
    let mut record = ClassifierRecord {
        weights: "c.safetensors".into(),
        sha256: sha,
        test_accuracy: 0.1,
        command: "test".into(),
        seconds: 0.0,
        epochs: 0,
        seed: 1,
        batch: 1,
        lr: 0.0,
        max_shift: 0,
        architecture: String::new(),
        history: Vec::new(),
    };
    record.save(&record_path(&path)).unwrap();
    assert!(Classifier::load_verified(&path).is_ok());
    record.sha256 = "0".repeat(64);
    record.save(&record_path(&path)).unwrap();
    let err = Classifier::load_verified(&path).err().unwrap().to_string();
    assert!(err.contains("does not match"), "{err}");
}
