//! `gan train`, `gan sample` and `gan sweep` end to end on a few hundred digits.

use std::path::Path;
use std::process::{Command, Output};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/mnist");

fn gan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gan"))
        .args(args)
        .output()
        .expect("the gan binary runs")
}

fn ok(args: &[&str]) -> String {
    let out = gan(args);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "gan {args:?} failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

fn fails(args: &[&str]) -> String {
    let out = gan(args);
    assert!(!out.status.success(), "gan {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).to_string()
}

const TINY: [&str; 10] = [
    "--limit", "128", "--batch", "32", "--latent", "8", "--hidden", "32", "--data", DATA,
];

fn tiny_train(runs: &Path, name: &str, epochs: &str) -> String {
    let mut args = vec!["train", "--runs", runs.to_str().unwrap(), "--name", name];
    args.extend(["--epochs", epochs]);
    args.extend(TINY);
    ok(&args)
}

#[test]
fn train_leaves_a_run_folder_and_sample_reads_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tiny_train(tmp.path(), "t", "2");
    assert!(out.contains("last grid:"), "{out}");
    let run = tmp.path().join("t");
    for file in [
        "config.toml",
        "metrics.csv",
        "real.png",
        "samples/epoch-0001.png",
        "samples/epoch-0002.png",
        "plots/losses.png",
        "plots/accuracy.png",
        "progress.gif",
        "checkpoints/latest.safetensors",
    ] {
        assert!(run.join(file).is_file(), "missing {file}");
    }
    let idx = tmp.path().join("s.idx");
    ok(&[
        "sample",
        run.to_str().unwrap(),
        "--n",
        "20",
        "--out",
        idx.to_str().unwrap(),
    ]);
    let (dims, pixels) = mnist_idx_dims(&idx);
    assert_eq!(dims, [20, 28, 28]);
    assert_eq!(pixels, 20 * 784);
    let png = tmp.path().join("s.png");
    ok(&[
        "sample",
        run.to_str().unwrap(),
        "--out",
        png.to_str().unwrap(),
    ]);
    assert!(png.is_file());

    // A second run of the same name is refused, and nothing is lost.
    let err = fails(&[
        "train",
        "--runs",
        tmp.path().to_str().unwrap(),
        "--name",
        "t",
    ]);
    assert!(err.contains("--force"), "{err}");
    assert!(run.join("checkpoints/latest.safetensors").is_file());

    // Resume with more epochs; a changed setting is refused with its name.
    let err = fails(&[
        "train",
        "--resume",
        run.to_str().unwrap(),
        "--epochs",
        "3",
        "--lr",
        "1e-3",
    ]);
    assert!(err.contains("lr_d") && err.contains("lr_g"), "{err}");
    let out = ok(&["train", "--resume", run.to_str().unwrap(), "--epochs", "3"]);
    assert!(
        out.contains("resuming") && out.contains("epoch-0003.png"),
        "{out}"
    );
}

fn mnist_idx_dims(path: &Path) -> (Vec<usize>, usize) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..4], &[0, 0, 8, 3], "u8 IDX with 3 dimensions");
    let dims: Vec<usize> = bytes[4..16]
        .chunks(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    (dims, bytes.len() - 16)
}

#[test]
fn user_errors_say_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().to_str().unwrap();
    let err = fails(&["train", "--runs", runs, "--lr", "-1"]);
    assert!(err.contains("learning rate"), "{err}");
    let err = fails(&["train", "--runs", runs, "--digits", "12"]);
    assert!(err.contains("'12' is not a digit"), "{err}");
    let err = fails(&["train", "--runs", runs, "--batch", "0"]);
    assert!(err.contains("batch must be at least 1"), "{err}");
    let err = fails(&["train", "--runs", runs, "--data", "/no/such/folder"]);
    assert!(err.contains("/no/such/folder"), "{err}");
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "no run folder left behind"
    );
    let err = fails(&["sample", "/no/such/run", "--out", "x.png"]);
    assert!(err.contains("no such run folder"), "{err}");
}

#[test]
fn a_tiny_sweep_compares_settings_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().to_str().unwrap();
    let mut args = vec![
        "sweep",
        "--optimizer",
        "adam,sgd",
        "--runs",
        runs,
        "--epochs",
        "1",
    ];
    args.extend([
        "--limit",
        "64",
        "--latent",
        "8",
        "--data",
        DATA,
        "--no-eval",
    ]);
    let out = ok(&args);
    assert!(
        out.contains("| optimizer adam |") && out.contains("| optimizer sgd |"),
        "{out}"
    );
    let dir = tmp.path().join("sweep-optimizer");
    for file in [
        "sweep.toml",
        "summary.md",
        "summary.csv",
        "grids.png",
        "plots/generator-loss.png",
        "optimizer-sgd/checkpoints/latest.safetensors",
    ] {
        assert!(dir.join(file).is_file(), "missing {file}");
    }
    let mut reader = csv::Reader::from_path(dir.join("summary.csv")).unwrap();
    let columns = reader.headers().unwrap().len();
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(records.len(), 2, "{records:?}");
    assert!(records.iter().all(|r| r.len() == columns), "{records:?}");
    let out = ok(&["sweep", "--resume", dir.to_str().unwrap(), "--no-eval"]);
    assert!(out.contains("| optimizer sgd |"), "{out}");
}
