//! The reproductions of the robustness issue, at the library level: damaged or edited
//! checkpoints, a disagreeing config.toml, a second trainer, stale temporary files, a run killed
//! before its first checkpoint, and sizes that used to abort or panic.

use gan::checkpoint::Checkpoint;
use gan::{GanError, RunDir, TrainConfig, TrainingRun};
use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;
use std::collections::HashMap;
use std::path::Path;

fn tiny_config() -> TrainConfig {
    TrainConfig {
        epochs: 1,
        batch: 16,
        latent: 8,
        g_hidden: vec![32],
        d_hidden: vec![32],
        limit: 64,
        grid: 2,
        seed: 5,
        data_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/mnist").into(),
        ..TrainConfig::default()
    }
}

/// A finished one-epoch run in `dir/name`.
fn trained(dir: &Path, name: &str) -> RunDir {
    let mut run = TrainingRun::start(dir, Some(name), false, &tiny_config()).unwrap();
    run.train(|_| true, |_| {}).unwrap();
    run.run().clone()
}

/// Rewrites the safetensors file at `path` after `edit` changed its metadata or tensor bytes.
fn rewrite(
    path: &Path,
    edit: impl FnOnce(&mut HashMap<String, String>, &mut Vec<(String, Vec<usize>, Vec<u8>)>),
) {
    let bytes = std::fs::read(path).unwrap();
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let mut meta = header.metadata().clone().unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = st
        .tensors()
        .into_iter()
        .map(|(n, v)| (n, v.shape().to_vec(), v.data().to_vec()))
        .collect();
    tensors.sort();
    edit(&mut meta, &mut tensors);
    let views: Vec<(String, TensorView)> = tensors
        .iter()
        .map(|(n, s, d)| {
            (
                n.clone(),
                TensorView::new(Dtype::F32, s.clone(), d).unwrap(),
            )
        })
        .collect();
    let out = safetensors::serialize(views, &Some(meta)).unwrap();
    std::fs::write(path, out).unwrap();
}

fn message(e: GanError) -> String {
    e.to_string()
}

#[test]
fn a_flipped_exponent_bit_is_refused_naming_file_and_tensor() {
    let tmp = tempfile::tempdir().unwrap();
    let run = trained(tmp.path(), "r");
    let path = run.latest_checkpoint();
    rewrite(&path, |_, tensors| {
        let (_, _, data) = tensors
            .iter_mut()
            .find(|(n, _, _)| n == "generator.layers.0.weight")
            .unwrap();
        data[3] ^= 0x40; // the top exponent bit of the first weight
    });
    let err = message(Checkpoint::read(&path).err().unwrap());
    assert!(
        err.contains("latest.safetensors") && err.contains("'generator.layers.0.weight'"),
        "{err}"
    );
    let err = format!("{:#}", run.load_gan().err().unwrap());
    assert!(err.contains("damaged"), "{err}");
    let err = message(TrainingRun::resume(run, &tiny_config()).err().unwrap());
    assert!(err.contains("damaged"), "{err}");
}

#[test]
fn edited_metadata_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let config = TrainConfig {
        epochs: 2,
        ..tiny_config()
    };
    let mut session = TrainingRun::start(tmp.path(), Some("r"), false, &config).unwrap();
    let mut steps = 0;
    let _ = session.train(
        |_| {
            steps += 1;
            steps < 2
        },
        |_| {},
    );
    let run = session.run().clone();
    drop(session);
    rewrite(&run.latest_checkpoint(), |meta, _| {
        let b = meta.get_mut("batch_in_epoch").unwrap();
        *b = (b.parse::<usize>().unwrap() + 1).to_string();
    });
    let err = message(TrainingRun::resume(run, &config).err().unwrap());
    assert!(err.contains("metadata") && err.contains("edited"), "{err}");
}

#[test]
fn non_finite_weights_are_refused_on_load() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tiny_config();
    let mut g = gan::Gan::new(&config).unwrap();
    let id = g.params.ids().next().unwrap();
    let name = g.params.name(id).to_string();
    g.params.get_mut(id).data_mut()[2] = f32::NAN;
    let path = tmp.path().join("nan.safetensors");
    let mut meta = gan::checkpoint::CheckpointMeta::default();
    meta.set("config", config.to_toml());
    gan::checkpoint::save(&path, &g, &[], &meta).unwrap();
    let ckpt = Checkpoint::read(&path).unwrap(); // the checksum is right: NaN was saved
    let mut fresh = gan::Gan::new(&config).unwrap();
    let err = message(ckpt.load_params(&mut fresh.params).err().unwrap());
    assert!(
        err.contains(&name) && err.contains("NaN") && err.contains("index 2"),
        "{err}"
    );
}

#[test]
fn checkpoints_without_checksums_load_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let run = trained(tmp.path(), "old");
    rewrite(&run.latest_checkpoint(), |meta, _| {
        meta.remove("checksums");
        meta.remove("metadata_crc32");
    });
    let (_, warnings) = run.load_gan_with_warnings().unwrap();
    assert!(
        warnings[0].contains("before checkpoints had checksums"),
        "{warnings:?}"
    );
}

#[test]
fn readers_use_the_checkpoint_config_and_refuse_a_disagreeing_config_toml() {
    let tmp = tempfile::tempdir().unwrap();
    let run = trained(tmp.path(), "r");
    let text = std::fs::read_to_string(run.config_path()).unwrap();
    // Fields --resume may change do not matter to a reader.
    std::fs::write(run.config_path(), text.replace("epochs = 1", "epochs = 9")).unwrap();
    run.load_gan().unwrap();
    std::fs::write(
        run.config_path(),
        text.replace("output = \"tanh\"", "output = \"sigmoid\""),
    )
    .unwrap();
    let err = format!("{}", run.load_gan().err().unwrap());
    assert!(
        err.contains("output: \"sigmoid\" vs \"tanh\"") && err.contains("config.toml"),
        "{err}"
    );
}

#[test]
fn a_second_trainer_is_refused_naming_the_pid() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tiny_config();
    let first = TrainingRun::start(tmp.path(), Some("x"), false, &config).unwrap();
    let pid = format!("process {}", std::process::id());
    let err = message(
        TrainingRun::start(tmp.path(), Some("x"), true, &config)
            .err()
            .unwrap(),
    );
    assert!(err.contains(&pid), "{err}");
    let err = message(
        TrainingRun::resume(first.run().clone(), &config)
            .err()
            .unwrap(),
    );
    assert!(err.contains(&pid), "{err}");
    // Unnamed runs skip a number another process is claiming.
    let a = TrainingRun::start(tmp.path(), None, false, &config).unwrap();
    let b = TrainingRun::start(tmp.path(), None, false, &config).unwrap();
    assert_ne!(a.run().path(), b.run().path());
    drop(first);
    TrainingRun::start(tmp.path(), Some("x"), true, &config).unwrap();
}

#[test]
fn stale_temporary_files_are_removed_when_training_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let run = trained(tmp.path(), "r");
    let stale = run
        .checkpoints_dir()
        .join(".latest.safetensors.tmp-2147483000-4");
    std::fs::write(&stale, b"half a checkpoint").unwrap();
    let more = TrainConfig {
        epochs: 2,
        ..tiny_config()
    };
    let session = TrainingRun::resume(run, &more).unwrap();
    assert!(!stale.exists());
    assert!(
        session.warnings()[0].contains("killed writer"),
        "{:?}",
        session.warnings()
    );
}

#[test]
fn a_run_killed_before_its_first_checkpoint_resumes_from_scratch() {
    let tmp = tempfile::tempdir().unwrap();
    // What a kill -9 during the first epoch leaves: the folders and config.toml.
    let config = tiny_config();
    let path = tmp.path().join("early");
    for sub in ["samples", "plots", "checkpoints"] {
        std::fs::create_dir_all(path.join(sub)).unwrap();
    }
    std::fs::write(path.join("config.toml"), config.to_toml()).unwrap();
    let run = RunDir::open_for_resume(&path).unwrap();
    let mut session = TrainingRun::resume(run, &config).unwrap();
    session.train(|_| true, |_| {}).unwrap();
    assert!(path.join("checkpoints/latest.safetensors").is_file());
}

#[test]
fn a_fresh_run_that_fails_before_its_first_checkpoint_leaves_no_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let config = TrainConfig {
        lr_g: 1e30,
        lr_d: 1e30,
        optimizer: gan::config::OptimizerKind::Sgd,
        ..tiny_config()
    };
    let mut run = TrainingRun::start(tmp.path(), Some("nan"), false, &config).unwrap();
    let err = run.train(|_| true, |_| {}).unwrap_err();
    assert!(matches!(err, GanError::Diverged { .. }), "{err}");
    assert!(!tmp.path().join("nan").exists());
}

#[test]
fn sizes_that_used_to_abort_or_panic_are_refused_before_any_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: Vec<(TrainConfig, &str)> = vec![
        (
            TrainConfig {
                seed: u64::MAX,
                ..tiny_config()
            },
            "seed = 18446744073709551615",
        ),
        (
            TrainConfig {
                limit: usize::MAX,
                ..tiny_config()
            },
            "limit = ",
        ),
        (
            TrainConfig {
                checkpoint_every: 1 << 63,
                ..tiny_config()
            },
            "checkpoint_every = ",
        ),
        (
            TrainConfig {
                epochs: usize::MAX,
                ..tiny_config()
            },
            "epochs = ",
        ),
        (
            TrainConfig {
                latent: 10_000_000_000,
                ..tiny_config()
            },
            "GAN_MAX_WIDTH",
        ),
        (
            TrainConfig {
                g_hidden: vec![100_000_000],
                ..tiny_config()
            },
            "GAN_MAX_WIDTH",
        ),
        (
            TrainConfig {
                grid: 100_000,
                ..tiny_config()
            },
            "GAN_MAX_GRID",
        ),
        (
            TrainConfig {
                g_hidden: vec![8; 13_000_000],
                ..tiny_config()
            },
            "GAN_MAX_LAYERS",
        ),
    ];
    for (config, expected) in cases {
        let err = message(
            TrainingRun::start(tmp.path(), Some("x"), false, &config)
                .err()
                .unwrap(),
        );
        assert!(err.contains(expected), "{expected}: {err}");
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0, "{err}");
    }
}
