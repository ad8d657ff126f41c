//! A run interrupted mid-epoch and resumed ends with the same bytes as one that was not.

use gan::error::GanError;
use gan::{TrainConfig, TrainingRun};
use safetensors::SafeTensors;
use std::path::Path;

fn tiny_config() -> TrainConfig {
    TrainConfig {
        epochs: 2,
        batch: 16,
        latent: 8,
        g_hidden: vec![32],
        d_hidden: vec![32],
        limit: 160,
        grid: 2,
        checkpoint_every: 1,
        seed: 11,
        data_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/mnist").into(),
        ..TrainConfig::default()
    }
}

fn tensors(path: &Path) -> Vec<(String, Vec<u8>)> {
    let bytes = std::fs::read(path).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut out: Vec<(String, Vec<u8>)> = st
        .tensors()
        .into_iter()
        .map(|(name, view)| (name, view.data().to_vec()))
        .collect();
    out.sort();
    out
}

/// The metrics without the timing columns (seconds, images per second).
fn metrics_without_timing(run: &Path) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(run.join("metrics.csv"))
        .unwrap();
    reader
        .records()
        .map(|record| {
            record
                .unwrap()
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != 1 && *i != 9)
                .map(|(_, v)| v)
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

fn stop_after(steps: usize) -> impl FnMut(&gan::epoch::Progress) -> bool {
    let mut seen = 0;
    move |_| {
        seen += 1;
        seen < steps
    }
}

#[test]
fn interrupted_and_resumed_matches_uninterrupted() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tiny_config();

    let mut straight = TrainingRun::start(tmp.path(), Some("straight"), false, &config).unwrap();
    straight.train(|_| true, |_| {}).unwrap();

    // Stop mid-epoch 1 (after 4 of 10 steps), resume, stop mid-epoch 2, resume again.
    let mut broken = TrainingRun::start(tmp.path(), Some("broken"), false, &config).unwrap();
    let err = broken.train(stop_after(4), |_| {}).unwrap_err();
    assert!(matches!(err, GanError::Interrupted { .. }), "{err}");
    // The run lock is held while a TrainingRun lives; even this process cannot resume before.
    drop(broken);
    for stop in [9, usize::MAX] {
        let run = gan::RunDir::open(tmp.path().join("broken")).unwrap();
        let mut resumed = TrainingRun::resume(run, &config).unwrap();
        let result = resumed.train(stop_after(stop), |_| {});
        assert_eq!(result.is_ok(), stop == usize::MAX, "{result:?}");
    }

    let (a, b) = (tmp.path().join("straight"), tmp.path().join("broken"));
    for file in [
        "checkpoints/latest.safetensors",
        "checkpoints/epoch-0001.safetensors",
        "checkpoints/epoch-0002.safetensors",
    ] {
        assert_eq!(tensors(&a.join(file)), tensors(&b.join(file)), "{file}");
    }
    for file in [
        "samples/epoch-0001.png",
        "samples/epoch-0002.png",
        "real.png",
    ] {
        assert_eq!(
            std::fs::read(a.join(file)).unwrap(),
            std::fs::read(b.join(file)).unwrap(),
            "{file}"
        );
    }
    assert_eq!(metrics_without_timing(&a), metrics_without_timing(&b));
    assert_eq!(metrics_without_timing(&a).len(), 3);
}

#[test]
fn resuming_refuses_a_changed_setting_and_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tiny_config();
    let mut run = TrainingRun::start(tmp.path(), Some("r"), false, &config).unwrap();
    assert!(run.train(stop_after(3), |_| {}).is_err());
    drop(run);
    let changed = TrainConfig {
        lr_d: 1e-3,
        ..config.clone()
    };
    let dir = gan::RunDir::open(tmp.path().join("r")).unwrap();
    let err = TrainingRun::resume(dir.clone(), &changed).err().unwrap();
    assert!(err.to_string().contains("lr_d"), "{err}");
    let more = TrainConfig {
        epochs: 3,
        ..config
    };
    let mut resumed = TrainingRun::resume(dir, &more).unwrap();
    resumed.train(|_| true, |_| {}).unwrap();
    assert_eq!(resumed.trainer().position().epoch, 3);
}

#[test]
fn a_diverging_run_stops_and_keeps_the_last_good_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let config = TrainConfig {
        lr_g: 1e30,
        lr_d: 1e30,
        optimizer: gan::config::OptimizerKind::Sgd,
        epochs: 3,
        ..tiny_config()
    };
    let mut run = TrainingRun::start(tmp.path(), Some("nan"), false, &config).unwrap();
    let err = run.train(|_| true, |_| {}).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, GanError::Diverged { .. }), "{text}");
    assert!(text.contains("lower learning rate"), "{text}");
}
