//! The run lock: an advisory operating-system lock (`flock` on Unix, `LockFileEx` on Windows)
//! held for as long as a process trains into a run folder, so a second `gan train` on the same
//! run (`--resume`, `--force` or the same `--name`) is refused instead of interleaving its files
//! with the first one's.
//!
//! The lock file is `.NAME.lock` beside the run folder `NAME` (not inside it, so that `--force`
//! can hold it while it replaces the folder). It holds the holder's process id, for the message
//! a refused trainer prints. The operating system releases the lock when its holder exits, even
//! after `kill -9`, so a crashed trainer never blocks the next one; the file itself stays (an
//! empty lock file locks nothing, and removing it would race with a process opening it).
//!
//! Not covered: network file systems (NFS, SMB) may not honour these locks, or may honour them
//! only between processes of one machine; readers (`gan sample`, `eval`, `traverse`) take no lock
//! (they only read a run and write their own files atomically).

use crate::error::{io_error, GanError, Result};
use fs4::fs_std::FileExt;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// An exclusive lock on a run folder, released when dropped (or when the process ends).
#[derive(Debug)]
pub struct RunLock {
    _file: File,
    path: PathBuf,
}

impl RunLock {
    /// `.NAME.lock` beside the run folder `run`.
    pub fn lock_path(run: &Path) -> PathBuf {
        let name = run
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "run".into());
        parent_of(run).join(format!(".{name}.lock"))
    }

    /// Takes the lock of the run folder `run` (which need not exist yet; its parent folder is
    /// created), or refuses naming the process that holds it.
    pub fn acquire(run: &Path) -> Result<RunLock> {
        match RunLock::try_acquire(run)? {
            Ok(lock) => Ok(lock),
            Err(holder) => Err(GanError::Run {
                path: run.to_path_buf(),
                reason: format!(
                    "another `gan train` is training this run ({holder}); two trainers would \
                     garble it: wait for that one to finish (or stop it with Ctrl-C), or train \
                     under another --name"
                ),
            }),
        }
    }

    /// Like [`RunLock::acquire`], but a busy lock is `Ok(Err(holder))`, `holder` describing
    /// the process that holds it.
    pub fn try_acquire(run: &Path) -> Result<std::result::Result<RunLock, String>> {
        let parent = parent_of(run);
        fs::create_dir_all(&parent).map_err(io_error(&parent))?;
        let path = RunLock::lock_path(run);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_error(&path))?;
        let locked = FileExt::try_lock_exclusive(&file).map_err(io_error(&path))?;
        if !locked {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            let holder = match text.trim().parse::<u32>() {
                Ok(pid) => format!("process {pid} holds {}", path.display()),
                Err(_) => format!("a process holds {}", path.display()),
            };
            return Ok(Err(holder));
        }
        let pid = std::process::id().to_string();
        (|| -> std::io::Result<()> {
            file.set_len(0)?;
            file.seek(SeekFrom::Start(0))?;
            file.write_all(pid.as_bytes())
        })()
        .map_err(io_error(&path))?;
        Ok(Ok(RunLock { _file: file, path }))
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn parent_of(run: &Path) -> PathBuf {
    match run.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_naming_the_pid_and_freed_on_drop() {
        let tmp = tempfile::tempdir().unwrap();
        let run = tmp.path().join("runs/x");
        let lock = RunLock::acquire(&run).unwrap();
        assert_eq!(lock.path(), tmp.path().join("runs/.x.lock"));
        // flock locks belong to the open file: a second open in this process conflicts too.
        let err = RunLock::acquire(&run).unwrap_err().to_string();
        let pid = std::process::id().to_string();
        assert!(err.contains(&format!("process {pid}")), "{err}");
        drop(lock);
        RunLock::acquire(&run).unwrap();
    }
}
