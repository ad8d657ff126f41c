//! Tests of the evaluation on real digits with the shipped evaluator.

use super::*;
use metrics::confusion_matrix;
use std::path::PathBuf;

fn mnist() -> Mnist {
    Mnist::load(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/mnist")).unwrap()
}

fn evaluator() -> Classifier {
    Classifier::load_default().expect("data/evaluator/classifier.safetensors is committed")
}

#[test]
fn the_histogram_of_test_digits_is_the_confusion_matrix_column_sums() {
    let (m, mut c) = (mnist(), evaluator());
    let n = 2_000;
    let out = c.classify(&m.test.images[..n * PIXELS], n).unwrap();
    let hist = class_histogram(&out.labels).unwrap();
    let conf = confusion_matrix(&m.test.labels[..n], &out.labels, NUM_CLASSES).unwrap();
    for (pred, &count) in hist.counts().iter().enumerate() {
        let column: u64 = (0..NUM_CLASSES).map(|t| conf.get(t, pred).unwrap()).sum();
        assert_eq!(count, column, "class {pred}");
    }
    // And the evaluator is right about most of them.
    assert!(conf.accuracy() > 0.98, "accuracy {}", conf.accuracy());
}

#[test]
fn digits_against_themselves_have_zero_fid_and_full_coverage() {
    let (m, mut c) = (mnist(), evaluator());
    let n = 1_000;
    let digits = &m.test.images[..n * PIXELS];
    let reference = Reference::new(&mut c, digits, n).unwrap();
    let r = figures(&mut c, &reference, digits, n).unwrap();
    assert!(r.fid.abs() < 1e-6, "FID {}", r.fid);
    assert_eq!((r.precision, r.recall, r.coverage), (1.0, 1.0, 1.0));
    let q = quick_quality(&mut c, digits, n, &reference.stats).unwrap();
    assert!(q.fid.abs() < 1e-6 && q.class_ratio.is_some());
    assert_eq!(q.class_counts, r.class_counts);
}

#[test]
fn noise_is_far_and_training_digits_are_close() {
    let (m, mut c) = (mnist(), evaluator());
    let n = 500;
    let reference = Reference::new(&mut c, &m.test.images[..2_000 * PIXELS], 2_000).unwrap();
    let e = evaluate(&mut c, &reference, &m, &m.train.images[..n * PIXELS], n, 7).unwrap();
    assert_eq!(
        e.samples, e.train_digits,
        "the samples are the first training digits"
    );
    assert!(e.train_digits.fid * 10.0 < e.noise.fid, "{e:?}");
    // Noise covers no real digit. (Its k-NN precision is not near 0: real digits with wide
    // balls cover many noise features; density, which counts the balls, is lower.)
    assert!(e.noise.recall < 0.05 && e.noise.coverage < 0.05, "{e:?}");
    assert!(
        e.train_digits.recall > 0.7 && e.train_digits.coverage > 0.4,
        "{e:?}"
    );
    assert_eq!(
        e.noise.class_ratio, None,
        "noise looks like one or few digits"
    );
    assert!(e.train_digits.mnist_score > e.noise.mnist_score);
    assert_eq!(noise_digits(3, 7), noise_digits(3, 7));
    assert_ne!(noise_digits(3, 7), noise_digits(3, 8));
}

#[test]
fn an_idx_file_goes_through_end_to_end() {
    let (m, mut c) = (mnist(), evaluator());
    let dir = tempfile::tempdir().unwrap();
    let idx = dir.path().join("samples.idx");
    let n = 300;
    mnist_idx::write(
        &idx,
        &[n, 28, 28],
        &m.train.images[n * PIXELS..2 * n * PIXELS],
        mnist_idx::Compression::None,
    )
    .unwrap();
    let (digits, found) = read_samples(&idx).unwrap();
    assert_eq!(found, n);
    let reference = Reference::new(&mut c, &m.test.images[..1_000 * PIXELS], 1_000).unwrap();
    let figures = evaluate(&mut c, &reference, &m, &digits, n, 1).unwrap();
    let report = EvalReport {
        source: idx.display().to_string(),
        n,
        seed: 1,
        reference: "1000 MNIST test digits".into(),
        evaluator: EvaluatorInfo {
            weights: "w".into(),
            sha256: "s".into(),
            test_accuracy: 0.99,
        },
        figures,
        seconds: 0.0,
        conditional: None,
    };
    let json = PathBuf::from(format!("{}.eval.json", idx.display()));
    let png = report.save(&json).unwrap();
    assert_eq!(png, dir.path().join("samples.idx.class-histogram.png"));
    assert!(std::fs::metadata(&png).unwrap().len() > 1_000);
    let back: EvalReport = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!((back.n, &back.source), (n, &report.source));
    assert_eq!(back.figures.noise.class_ratio, None);
    for (b, r) in [
        (&back.figures.samples, &report.figures.samples),
        (&back.figures.train_digits, &report.figures.train_digits),
        (&back.figures.noise, &report.figures.noise),
    ] {
        assert_eq!(b.class_counts, r.class_counts);
        // JSON keeps 17 significant digits; parsing may round the last one.
        assert!(
            (b.fid - r.fid).abs() <= 1e-12 * r.fid.abs(),
            "{} vs {}",
            b.fid,
            r.fid
        );
        assert!((b.precision - r.precision).abs() < 1e-12);
    }
    let table = report.table();
    assert!(
        table.contains("FID") && table.contains("train digits (floor)"),
        "{table}"
    );

    // Wrong shapes are explained.
    let flat = dir.path().join("flat.idx");
    mnist_idx::write(
        &flat,
        &[10, 784],
        &m.train.images[..10 * PIXELS],
        mnist_idx::Compression::None,
    )
    .unwrap();
    let err = read_samples(&flat).unwrap_err().to_string();
    assert!(err.contains("N x 28 x 28"), "{err}");
}

#[test]
fn conditional_figures_reward_the_right_labels_and_name_the_classes() {
    let (m, mut c) = (mnist(), evaluator());
    let n = 2_000;
    let digits = &m.test.images[..n * PIXELS];
    let labels = &m.test.labels[..n];
    let reference = ClassReference::new(&mut c, digits, labels, n).unwrap();
    let right = conditional_figures(&mut c, &reference, digits, labels, n).unwrap();
    assert!(right.label_accuracy > 0.98, "{}", right.label_accuracy);
    // Every class against itself: FID 0.
    assert_eq!(right.class_fid.len(), NUM_CLASSES);
    assert!(right
        .class_fid
        .iter()
        .all(|f| f.is_some_and(|v| v.abs() < 1e-6)));
    // The same digits asked to be the next class: the evaluator disagrees, the FIDs grow.
    let shifted: Vec<u8> = labels.iter().map(|&d| (d + 1) % 10).collect();
    let wrong = conditional_figures(&mut c, &reference, digits, &shifted, n).unwrap();
    assert!(wrong.label_accuracy < 0.05, "{}", wrong.label_accuracy);
    assert!(wrong.mean_class_fid.unwrap() > 10.0 * right.mean_class_fid.unwrap().max(0.1));
    // Labels of the wrong length are refused.
    assert!(conditional_figures(&mut c, &reference, digits, &labels[..10], n).is_err());
}
