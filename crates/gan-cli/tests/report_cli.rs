//! `report.html` of runs and sweeps, `gan report`, and sweeps planned for a cluster
//! (`--plan-only`, the commands run as separate processes, the Slurm script, `--collect`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/mnist");
/// Tiny settings both `gan train` and `gan sweep` take (a sweep varies batch or hidden sizes).
const TINY: [&str; 8] = [
    "--limit", "64", "--latent", "8", "--epochs", "1", "--data", DATA,
];

fn gan_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gan"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the gan binary runs")
}

fn ok_in(dir: &Path, args: &[&str]) -> String {
    let out = gan_in(dir, args);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "gan {args:?} failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

fn with_tiny<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = args.to_vec();
    all.extend(TINY);
    all
}

/// Asserts that every local file the page refers to exists; returns the page's text.
fn checked_page(page: &Path) -> String {
    let missing = gan::report::missing_references(page).unwrap();
    assert!(
        missing.is_empty(),
        "{}: missing {missing:?}",
        page.display()
    );
    std::fs::read_to_string(page).unwrap()
}

/// A shell (`bash -c`) in `dir` that finds the `gan` under test on its PATH.
fn shell(dir: &Path, script: &str, env: &[(&str, &str)]) -> Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_gan")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("bash");
    cmd.arg("-c").arg(script).current_dir(dir).env("PATH", path);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("bash runs")
}

/// summary.csv without its timing column.
fn summary_without_seconds(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().clone();
    let seconds = header.iter().position(|h| h == "seconds").unwrap();
    let mut rows = vec![header
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != seconds)
        .map(|(_, c)| c.to_string())
        .collect::<Vec<_>>()];
    for record in reader.records() {
        let record = record.unwrap();
        rows.push(
            record
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != seconds)
                .map(|(_, c)| c.to_string())
                .collect(),
        );
    }
    rows
}

#[test]
fn a_run_page_is_written_after_training_eval_and_on_demand() {
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "train",
        "--runs",
        ".",
        "--name",
        "c",
        "--conditional",
        "--limit",
        "64",
        "--batch",
        "32",
        "--latent",
        "8",
        "--hidden",
        "16",
        "--epochs",
        "2",
        "--data",
        DATA,
    ];
    ok_in(tmp.path(), &args);
    let run = tmp.path().join("c");
    let page = checked_page(&run.join("report.html"));
    assert!(page.contains("finished: 2 of 2 epochs"), "{page}");
    assert!(
        !page.contains("http-equiv=\"refresh\""),
        "a finished run does not refresh"
    );
    for part in [
        "samples/epoch-0002.png",
        "samples/epoch-0001.png",
        "progress.gif",
        "plots/losses.png",
        "real.png",
        "Not evaluated yet",
    ] {
        assert!(page.contains(part), "no {part} in the page");
    }

    // gan eval on a conditional run adds its figures and the per-digit rows.
    ok_in(tmp.path(), &["eval", "c", "--n", "200", "--data", DATA]);
    let page = checked_page(&run.join("report.html"));
    for part in [
        "train digits (floor)",
        "class-histogram.png",
        "label accuracy",
        "FID of digit 9",
    ] {
        assert!(page.contains(part), "no {part} after gan eval");
    }

    // On demand: the path is printed, the page rewritten.
    std::fs::remove_file(run.join("report.html")).unwrap();
    let out = ok_in(tmp.path(), &["report", "c"]);
    assert_eq!(out.trim(), "c/report.html");
    checked_page(&run.join("report.html"));
}

#[test]
fn planned_commands_run_apart_and_collect_as_the_sweep_does() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = with_tiny(&["sweep", "--lr", "2e-4,2e-3", "--no-eval", "--name", "s"]);

    // In process.
    let mut inproc = sweep.clone();
    inproc.extend(["--runs", "here"]);
    ok_in(tmp.path(), &inproc);
    let here = tmp.path().join("here/s");
    let page = checked_page(&here.join("report.html"));
    assert!(page.contains("lr-2e-3/report.html"), "runs are linked");
    assert!(page.contains("2 of 2 runs finished"), "{page}");

    // Planned, each command its own process, relative to the planning directory.
    let mut planned = sweep.clone();
    planned.extend(["--runs", "cluster", "--plan-only"]);
    let out = ok_in(tmp.path(), &planned);
    assert!(out.contains("sbatch cluster/s/slurm.sh"), "{out}");
    let dir = tmp.path().join("cluster/s");
    let commands = std::fs::read_to_string(dir.join("commands.txt")).unwrap();
    let lines: Vec<&str> = commands.lines().collect();
    assert_eq!(lines.len(), 2, "{commands}");
    assert!(!dir.join("lr-2e-4").exists(), "--plan-only trains nothing");
    let children: Vec<_> = lines
        .iter()
        .map(|line| {
            let bin = Path::new(env!("CARGO_BIN_EXE_gan")).parent().unwrap();
            Command::new("bash")
                .arg("-c")
                .arg(line)
                .current_dir(tmp.path())
                .env(
                    "PATH",
                    format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
                )
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    ok_in(
        tmp.path(),
        &["sweep", "--collect", "cluster/s", "--no-eval"],
    );
    assert_eq!(
        summary_without_seconds(&dir.join("summary.csv")),
        summary_without_seconds(&here.join("summary.csv"))
    );
    for file in ["summary.md", "grids.png", "plots/generator-loss.png"] {
        assert!(dir.join(file).is_file(), "missing {file}");
    }
    checked_page(&dir.join("report.html"));
}

#[test]
fn the_slurm_script_runs_its_task_and_collect_names_the_missing_run() {
    let tmp = tempfile::tempdir().unwrap();
    let mut planned = with_tiny(&["sweep", "--batch", "16,32", "--no-eval"]);
    planned.extend(["--runs", "runs", "--plan-only"]);
    ok_in(tmp.path(), &planned);
    let script = PathBuf::from("runs/sweep-batch/slurm.sh");
    let text = std::fs::read_to_string(tmp.path().join(&script)).unwrap();
    assert!(text.contains("#SBATCH --array=1-2"), "{text}");

    // No Slurm here: the array task's number by hand.
    let out = shell(
        tmp.path(),
        &format!("bash {}", script.display()),
        &[("SLURM_ARRAY_TASK_ID", "2")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = tmp.path().join("runs/sweep-batch");
    assert!(dir
        .join("batch-32/checkpoints/latest.safetensors")
        .is_file());
    assert!(!dir.join("batch-16").exists());
    let out = shell(
        tmp.path(),
        &format!("bash {}", script.display()),
        &[("SLURM_ARRAY_TASK_ID", "3")],
    );
    assert!(!out.status.success(), "task 3 of 2 fails");

    // Collect gathers what finished and names what did not.
    let out = gan_in(
        tmp.path(),
        &["sweep", "--collect", "runs/sweep-batch", "--no-eval"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("batch-16: missing"), "{err}");
    assert!(err.contains("collected 1 of 2"), "{err}");
    let summary = summary_without_seconds(&dir.join("summary.csv"));
    assert_eq!(summary.len(), 2, "{summary:?}");
    assert_eq!(summary[1][0], "batch 32");
    let page = checked_page(&dir.join("report.html"));
    assert!(page.contains("batch-16 (missing)"), "{page}");
}
