//! Sweeps for a cluster: `gan sweep … --plan-only` writes one self-contained `gan train`
//! command per setting (a configuration file each) and a Slurm job-array script running one
//! line of them; `gan sweep --collect` later finds which runs finished.
//!
//! ```text
//! runs/<sweep>/sweep.toml         the plan
//!              configs/<run>.toml every setting's full configuration
//!              commands.txt       line i: gan train --config …/configs/<run>.toml --runs runs/<sweep> --name <run>
//!              slurm.sh           sbatch runs/<sweep>/slurm.sh: task i runs line i
//! ```

use crate::error::{io_error, write_atomic, Result};
use crate::run::RunDir;
use crate::session::saved_history;
use crate::sweep::{Setting, SweepPlan};
use std::path::{Path, PathBuf};

/// The commands file inside a sweep folder.
pub const COMMANDS: &str = "commands.txt";
/// The Slurm script inside a sweep folder.
pub const SLURM: &str = "slurm.sh";

/// How far one setting's run got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunStatus {
    /// No run folder with a checkpoint.
    Missing,
    /// Trained `done` of its epochs.
    Unfinished {
        /// Finished epochs.
        done: usize,
    },
    /// Every configured epoch is done.
    Finished,
}

impl RunStatus {
    /// `missing`, `unfinished (3 of 20 epochs)`, `finished`.
    pub fn describe(&self, epochs: usize) -> String {
        match self {
            RunStatus::Missing => "missing".into(),
            RunStatus::Unfinished { done } => format!("unfinished ({done} of {epochs} epochs)"),
            RunStatus::Finished => "finished".into(),
        }
    }
}

/// How far the run of `setting` in the sweep folder `dir` got.
pub fn run_status(dir: &Path, setting: &Setting) -> RunStatus {
    let Ok(run) = RunDir::open(dir.join(&setting.folder)) else {
        return RunStatus::Missing;
    };
    match saved_history(&run) {
        Ok(h) if h.len() >= setting.config.epochs => RunStatus::Finished,
        Ok(h) => RunStatus::Unfinished { done: h.len() },
        Err(_) => RunStatus::Missing,
    }
}

/// What `--plan-only` wrote.
#[derive(Debug, Clone)]
pub struct PlanFiles {
    /// One configuration per setting.
    pub configs: Vec<PathBuf>,
    /// The commands file.
    pub commands: PathBuf,
    /// The Slurm script.
    pub slurm: PathBuf,
}

/// `word` as one shell word: unchanged when it is plain, single-quoted otherwise.
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:=,+@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The command that trains `setting` of the sweep in `dir` (paths as given, so the line runs
/// from the directory the sweep was planned in), its configuration at `config`.
pub fn train_command(program: &str, dir: &Path, setting: &Setting, config: &Path) -> String {
    [
        program,
        "train",
        "--config",
        &config.display().to_string(),
        "--runs",
        &dir.display().to_string(),
        "--name",
        &setting.folder,
    ]
    .iter()
    .map(|w| shell_quote(w))
    .collect::<Vec<_>>()
    .join(" ")
}

/// Writes each setting's configuration, the commands file (one line per setting, in the plan's
/// order) and the Slurm script into the sweep folder `dir` (which holds the plan already).
pub fn write_plan(dir: &Path, plan: &SweepPlan) -> Result<PlanFiles> {
    let configs_dir = dir.join("configs");
    std::fs::create_dir_all(&configs_dir).map_err(io_error(&configs_dir))?;
    let mut configs = Vec::new();
    let mut lines = String::new();
    for setting in plan.settings()? {
        let path = configs_dir.join(format!("{}.toml", setting.folder));
        write_atomic(&path, setting.config.to_toml().as_bytes())?;
        lines.push_str(&train_command("gan", dir, &setting, &path));
        lines.push('\n');
        configs.push(path);
    }
    let commands = dir.join(COMMANDS);
    write_atomic(&commands, lines.as_bytes())?;
    let slurm = dir.join(SLURM);
    write_atomic(&slurm, slurm_script(dir, configs.len()).as_bytes())?;
    make_executable(&slurm)?;
    Ok(PlanFiles {
        configs,
        commands,
        slurm,
    })
}

/// A Slurm job array over the commands file of the sweep in `dir`: task `i` (1-based) runs
/// line `i`. Submitted from the directory the sweep was planned in.
pub fn slurm_script(dir: &Path, tasks: usize) -> String {
    let name = dir
        .file_name()
        .map_or("sweep".into(), |n| n.to_string_lossy().into_owned());
    let commands = shell_quote(&dir.join(COMMANDS).display().to_string());
    let log = dir.join("slurm-%A_%a.out");
    format!(
        r#"#!/bin/bash
# Slurm job array for the sweep in {dir}: array task i runs line i of {commands}.
# Submit from the directory the sweep was planned in, with `gan` on PATH:
#   sbatch {script}
# Without Slurm, one task by hand: SLURM_ARRAY_TASK_ID=1 bash {script}
#SBATCH --job-name={name}
#SBATCH --array=1-{tasks}
#SBATCH --cpus-per-task=2
#SBATCH --output={log}
set -euo pipefail
cd "${{SLURM_SUBMIT_DIR:-.}}"
task="${{SLURM_ARRAY_TASK_ID:?is set by Slurm (sbatch --array); set it by hand to run one line}}"
line=$(sed -n "${{task}}p" {commands})
if [ -z "$line" ]; then
  echo "no line $task in {commands} (it has {tasks})" >&2
  exit 1
fi
echo "task $task: $line"
exec bash -c "$line"
"#,
        dir = dir.display(),
        script = shell_quote(&dir.join(SLURM).display().to_string()),
        log = log.display(),
    )
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).map_err(io_error(path))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> Result<()> {
    Ok(())
}

/// The settings of a sweep by how far their runs got.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// Settings whose run finished every epoch.
    pub finished: Vec<Setting>,
    /// The others, with how far they got.
    pub not_finished: Vec<(Setting, RunStatus)>,
}

/// The settings of the sweep in `dir` split into finished ones and the others with their status.
pub fn statuses(dir: &Path, plan: &SweepPlan) -> Result<Progress> {
    let mut progress = Progress::default();
    for s in plan.settings()? {
        match run_status(dir, &s) {
            RunStatus::Finished => progress.finished.push(s),
            other => progress.not_finished.push((s, other)),
        }
    }
    Ok(progress)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::Varied;
    use crate::TrainConfig;

    #[test]
    fn words_are_quoted_only_when_needed() {
        assert_eq!(shell_quote("runs/sweep-lr"), "runs/sweep-lr");
        assert_eq!(shell_quote("my runs"), "'my runs'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn plan_writes_one_command_and_config_per_setting() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("sweep lr");
        let plan = SweepPlan::new(Varied::Lr, "2e-4,2e-3", TrainConfig::default()).unwrap();
        crate::sweep::create_folder(&dir, &plan, false).unwrap();
        let files = write_plan(&dir, &plan).unwrap();
        let text = std::fs::read_to_string(&files.commands).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[1].starts_with("gan train --config '"), "{}", lines[1]);
        assert!(lines[1].ends_with("--name lr-2e-3"), "{}", lines[1]);
        let config = std::fs::read_to_string(&files.configs[1]).unwrap();
        let config = TrainConfig::from_toml(&config).unwrap();
        assert_eq!(config, plan.settings().unwrap()[1].config);
        let script = std::fs::read_to_string(&files.slurm).unwrap();
        assert!(script.contains("#SBATCH --array=1-2"), "{script}");
        let progress = statuses(&dir, &plan).unwrap();
        assert!(progress.finished.is_empty());
        assert_eq!(progress.not_finished[0].1, RunStatus::Missing);
    }
}
