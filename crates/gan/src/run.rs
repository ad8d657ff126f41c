//! The run folder `gan train` leaves, and loading what it holds:
//!
//! ```text
//! runs/<name>/config.toml, metrics.csv, real.png, samples/epoch-NNNN.png, plots/*.png,
//!             progress.gif, checkpoints/latest.safetensors, checkpoints/epoch-NNNN.safetensors,
//!             eval.json
//! ```

use crate::checkpoint::Checkpoint;
use crate::config::TrainConfig;
use crate::error::{io_error, GanError, Result};
use crate::lock::RunLock;
use crate::train::Gan;
use std::fs;
use std::path::{Path, PathBuf};

/// A run folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDir {
    path: PathBuf,
}

impl RunDir {
    /// Creates `runs/<name>` (or the first free `runs/run-NNN` without a name) with its
    /// sub-folders. An existing folder is an error unless `force`, which removes it first.
    pub fn create(runs: &Path, name: Option<&str>, force: bool) -> Result<RunDir> {
        let path = RunDir::free_path(runs, name, force)?;
        if path.exists() {
            fs::remove_dir_all(&path).map_err(io_error(&path))?;
        }
        let run = RunDir { path };
        for dir in [run.samples_dir(), run.plots_dir(), run.checkpoints_dir()] {
            fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        }
        Ok(run)
    }

    /// The folder [`RunDir::create`] would use, checked but not touched: an error for a bad
    /// name, or for an existing folder unless `force`.
    pub fn free_path(runs: &Path, name: Option<&str>, force: bool) -> Result<PathBuf> {
        let path = match name {
            Some(name) => {
                if name.is_empty() || name.contains(['/', '\\']) || name == ".." || name == "." {
                    return Err(GanError::Run {
                        path: runs.join(name),
                        reason: "a run name must be one plain folder name (no slashes)".into(),
                    });
                }
                runs.join(name)
            }
            None => first_free(runs),
        };
        if path.exists() && !force {
            return Err(GanError::Run {
                path,
                reason: "already exists: choose another --name, continue it with --resume, or \
                         add --force to replace it"
                    .into(),
            });
        }
        Ok(path)
    }

    /// Opens an existing run folder that has a configuration and a latest checkpoint.
    pub fn open(path: impl Into<PathBuf>) -> Result<RunDir> {
        let run = RunDir { path: path.into() };
        if !run.path.is_dir() {
            return Err(GanError::Run {
                path: run.path,
                reason: "no such run folder (runs are made by `gan train`, under runs/)".into(),
            });
        }
        for needed in [run.config_path(), run.latest_checkpoint()] {
            if !needed.is_file() {
                return Err(GanError::Run {
                    path: run.path.clone(),
                    reason: format!(
                        "has no {}: it is not a finished or checkpointed `gan train` run",
                        needed.strip_prefix(&run.path).unwrap_or(&needed).display()
                    ),
                });
            }
        }
        Ok(run)
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `config.toml`.
    pub fn config_path(&self) -> PathBuf {
        self.path.join("config.toml")
    }

    /// `metrics.csv`.
    pub fn metrics_path(&self) -> PathBuf {
        self.path.join("metrics.csv")
    }

    /// `samples/`, the fixed-noise grids.
    pub fn samples_dir(&self) -> PathBuf {
        self.path.join("samples")
    }

    /// `samples/epoch-NNNN.png`.
    pub fn sample_grid_path(&self, epoch: usize) -> PathBuf {
        self.samples_dir().join(format!("epoch-{epoch:04}.png"))
    }

    /// `plots/`.
    pub fn plots_dir(&self) -> PathBuf {
        self.path.join("plots")
    }

    /// `checkpoints/`.
    pub fn checkpoints_dir(&self) -> PathBuf {
        self.path.join("checkpoints")
    }

    /// `checkpoints/latest.safetensors`.
    pub fn latest_checkpoint(&self) -> PathBuf {
        self.checkpoints_dir().join("latest.safetensors")
    }

    /// `checkpoints/epoch-NNNN.safetensors`.
    pub fn epoch_checkpoint(&self, epoch: usize) -> PathBuf {
        self.checkpoints_dir()
            .join(format!("epoch-{epoch:04}.safetensors"))
    }

    /// `eval.json`.
    pub fn eval_path(&self) -> PathBuf {
        self.path.join("eval.json")
    }

    /// The run's configuration, from `config.toml`.
    pub fn config(&self) -> Result<TrainConfig> {
        let path = self.config_path();
        let text = fs::read_to_string(&path).map_err(io_error(&path))?;
        let config = TrainConfig::from_toml(&text).map_err(|e| GanError::Run {
            path: path.clone(),
            reason: format!("unreadable configuration: {e}"),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// The networks as the latest checkpoint left them (see [`RunDir::load_gan_with_warnings`]),
    /// without its warnings.
    pub fn load_gan(&self) -> Result<Gan> {
        Ok(self.load_gan_with_warnings()?.0)
    }

    /// The networks as the latest checkpoint left them, built from the configuration stored in
    /// the checkpoint (not from `config.toml`, which a user can edit): a `config.toml` that
    /// disagrees with it in a field that shapes the networks or the data is refused, naming the
    /// fields. Also returns what could not be verified (an old checkpoint without checksums).
    pub fn load_gan_with_warnings(&self) -> Result<(Gan, Vec<String>)> {
        let ckpt = Checkpoint::read(&self.latest_checkpoint())?;
        let config = ckpt.config()?;
        let on_disk = self.config()?;
        let changed = crate::session::fixed_differences(&on_disk, &config);
        if !changed.is_empty() {
            return Err(GanError::Run {
                path: self.config_path(),
                reason: format!(
                    "disagrees with the configuration stored in {} ({}; config.toml's value \
                     first): the weights were trained with the checkpoint's; restore \
                     config.toml to those values (a run's settings cannot change after training)",
                    self.latest_checkpoint().display(),
                    changed.join("; ")
                ),
            });
        }
        let mut gan = Gan::new(&config)?;
        ckpt.load_gan(&mut gan)?;
        Ok((gan, ckpt.warnings))
    }

    /// Claims a run folder for a new training run, under the run lock (see [`crate::lock`]):
    /// `runs/<name>` (an existing one only with `force`), or the first free `runs/run-NNN`,
    /// skipping numbers another process is claiming. Nothing is created but the lock file.
    pub fn claim(runs: &Path, name: Option<&str>, force: bool) -> Result<(PathBuf, RunLock)> {
        if name.is_some() {
            let path = RunDir::free_path(runs, name, force)?;
            let lock = RunLock::acquire(&path)?;
            // Checked again under the lock: another process may have made it meanwhile.
            RunDir::free_path(runs, name, force)?;
            return Ok((path, lock));
        }
        for i in 1u64..100_000 {
            let path = runs.join(format!("run-{i:03}"));
            if path.exists() {
                continue;
            }
            if let Ok(lock) = RunLock::try_acquire(&path)? {
                if !path.exists() {
                    return Ok((path, lock));
                }
            }
        }
        Err(GanError::Run {
            path: runs.to_path_buf(),
            reason: "has no free run-NNN name left: give one with --name".into(),
        })
    }

    /// Makes the folder `path` claimed by [`RunDir::claim`] (replacing an existing one) with its
    /// sub-folders.
    pub fn create_claimed(path: PathBuf, _lock: &RunLock) -> Result<RunDir> {
        if path.exists() {
            fs::remove_dir_all(&path).map_err(io_error(&path))?;
        }
        let run = RunDir { path };
        for dir in [run.samples_dir(), run.plots_dir(), run.checkpoints_dir()] {
            fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        }
        Ok(run)
    }

    /// Opens a run folder for `gan train --resume`: like [`RunDir::open`], but a folder with a
    /// `config.toml` and no checkpoint yet (its trainer was killed before the first one) is
    /// accepted too; it then trains from the start.
    pub fn open_for_resume(path: impl Into<PathBuf>) -> Result<RunDir> {
        let run = RunDir { path: path.into() };
        if run.path.is_dir() && run.config_path().is_file() && !run.latest_checkpoint().exists() {
            return Ok(run);
        }
        RunDir::open(run.path)
    }
}

fn first_free(runs: &Path) -> PathBuf {
    (1u64..)
        .map(|i| runs.join(format!("run-{i:03}")))
        .find(|p| !p.exists())
        .unwrap_or_else(|| runs.join("run"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_refuses_existing_without_force_and_names_the_fix() {
        let tmp = tempfile::tempdir().unwrap();
        let run = RunDir::create(tmp.path(), Some("a"), false).unwrap();
        assert!(run.samples_dir().is_dir() && run.checkpoints_dir().is_dir());
        let err = RunDir::create(tmp.path(), Some("a"), false).unwrap_err();
        assert!(err.to_string().contains("--force"), "{err}");
        fs::write(run.path().join("marker"), b"x").unwrap();
        let again = RunDir::create(tmp.path(), Some("a"), true).unwrap();
        assert!(!again.path().join("marker").exists());
    }

    #[test]
    fn unnamed_runs_take_the_first_free_number() {
        let tmp = tempfile::tempdir().unwrap();
        let a = RunDir::create(tmp.path(), None, false).unwrap();
        let b = RunDir::create(tmp.path(), None, false).unwrap();
        assert!(a.path().ends_with("run-001") && b.path().ends_with("run-002"));
    }

    #[test]
    fn bad_names_and_missing_runs_are_explained() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(RunDir::create(tmp.path(), Some("../x"), false).is_err());
        let err = RunDir::open(tmp.path().join("nope")).unwrap_err();
        assert!(err.to_string().contains("no such run folder"), "{err}");
        fs::create_dir_all(tmp.path().join("empty")).unwrap();
        let err = RunDir::open(tmp.path().join("empty")).unwrap_err();
        assert!(err.to_string().contains("config.toml"), "{err}");
    }
}
