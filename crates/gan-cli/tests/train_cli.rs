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

/// The command-line reproductions of the robustness issue: each now exits 1 with a message.
#[test]
fn hostile_input_gets_a_clear_error_not_a_panic_or_abort() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    let r = runs.to_str().unwrap();
    for (flag, value, expected) in [
        (
            "--seed",
            "18446744073709551615",
            "seed = 18446744073709551615",
        ),
        ("--limit", "18446744073709551615", "limit = "),
        (
            "--checkpoint-every",
            "18446744073709551615",
            "checkpoint_every = ",
        ),
        ("--epochs", "18446744073709551615", "epochs = "),
        ("--latent", "10000000000", "GAN_MAX_WIDTH"),
        ("--hidden", "100000000", "GAN_MAX_WIDTH"),
    ] {
        let mut args = vec!["train", "--runs", r, "--data", DATA, flag, value];
        if flag != "--epochs" {
            args.extend(["--epochs", "1"]);
        }
        let out = gan(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{flag}: {err}");
        assert!(err.contains(expected), "{flag}: {err}");
    }
    let toml = tmp.path().join("big.toml");
    std::fs::write(&toml, "grid = 100000\n").unwrap();
    let err = fails(&["train", "--runs", r, "--config", toml.to_str().unwrap()]);
    assert!(err.contains("GAN_MAX_GRID"), "{err}");
    assert!(!runs.exists() || std::fs::read_dir(&runs).unwrap().count() == 0);

    // --resume RUN --epochs 2^64-1
    tiny_train(&runs, "a", "1");
    let run = runs.join("a");
    let out = gan(&[
        "train",
        "--resume",
        run.to_str().unwrap(),
        "--epochs",
        "18446744073709551615",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("epochs = "));

    // --data FILE
    let file = tmp.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let err = fails(&["train", "--runs", r, "--data", file.to_str().unwrap()]);
    assert!(err.contains("is a file, not a folder"), "{err}");

    // sample --n 100000 --out x.png refuses before computing.
    let png = tmp.path().join("x.png");
    let err = fails(&[
        "sample",
        run.to_str().unwrap(),
        "--n",
        "100000",
        "--out",
        png.to_str().unwrap(),
    ]);
    assert!(err.contains("do not fit one PNG grid"), "{err}");

    // An edited config.toml is refused by the readers.
    let config = run.join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("\"tanh\"", "\"sigmoid\"")).unwrap();
    let err = fails(&[
        "sample",
        run.to_str().unwrap(),
        "--out",
        png.to_str().unwrap(),
    ]);
    assert!(err.contains("output: \"sigmoid\" vs \"tanh\""), "{err}");
}

#[cfg(unix)]
#[test]
fn idx_info_refuses_a_fifo_without_blocking() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("pipe");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let err = fails(&["idx", "info", fifo.to_str().unwrap()]);
    assert!(err.contains("not a regular file"), "{err}");
}

#[cfg(unix)]
#[test]
fn a_second_trainer_is_refused_and_a_killed_one_does_not_block() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().to_str().unwrap();
    tiny_train(tmp.path(), "x", "1");
    let run = tmp.path().join("x");
    let mut first = Command::new(env!("CARGO_BIN_EXE_gan"))
        .args([
            "train",
            "--resume",
            run.to_str().unwrap(),
            "--epochs",
            "100000",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the first trainer holds the lock (it writes its PID into the lock file).
    let lock = tmp.path().join(".x.lock");
    let pid = first.id().to_string();
    for _ in 0..200 {
        if std::fs::read_to_string(&lock).unwrap_or_default() == pid {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let err = fails(&["train", "--resume", run.to_str().unwrap(), "--epochs", "3"]);
    assert!(err.contains(&format!("process {pid}")), "{err}");
    let err = fails(&[
        "train", "--runs", runs, "--name", "x", "--force", "--data", DATA,
    ]);
    assert!(err.contains(&format!("process {pid}")), "{err}");
    first.kill().unwrap(); // SIGKILL: no clean-up of its own
    first.wait().unwrap();
    // The first trainer may have finished several (tiny) epochs meanwhile: ask for one more
    // than its checkpoint holds (metrics.csv has a header and one row per finished epoch).
    let rows = std::fs::read_to_string(run.join("metrics.csv"))
        .unwrap()
        .lines()
        .count();
    let more = rows.to_string();
    ok(&[
        "train",
        "--resume",
        run.to_str().unwrap(),
        "--epochs",
        &more,
    ]);
}
