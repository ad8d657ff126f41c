//! Removing what killed writers leave behind: the temporary files of atomic writes
//! (`.NAME.tmp-PID-N`, the pattern of [`mnist_idx::atomic`]; `.NAME.PID.N.tmp` from older
//! versions) whose writing process no longer exists. Called when a run is opened for training,
//! with the run lock held, so no trainer of this run is writing; a reader (`gan eval` writing
//! `eval.json`) may be, which is why a file is removed only when its process is gone.

use std::fs;
use std::path::{Path, PathBuf};

/// The process id in a temporary file name of ours, or `None` when `name` is not one.
pub fn temp_file_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?;
    // `.NAME.tmp-PID-N`
    if let Some(i) = rest.rfind(".tmp-") {
        let mut parts = rest[i + 5..].split('-');
        let (pid, n, extra) = (parts.next()?, parts.next()?, parts.next());
        if i > 0 && extra.is_none() && is_number(n) {
            return pid.parse().ok().filter(|_| is_number(pid));
        }
    }
    // `.NAME.PID.N.tmp` (older versions of gan's atomic writer)
    let body = rest.strip_suffix(".tmp")?;
    let mut parts = body.rsplitn(3, '.');
    let (n, pid, stem) = (parts.next()?, parts.next()?, parts.next()?);
    if stem.is_empty() || !is_number(n) || !is_number(pid) {
        return None;
    }
    pid.parse().ok()
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether a process with this id exists (on systems where that cannot be asked, `true`: the
/// file is then kept).
pub fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return true;
        };
        if pid <= 0 {
            return true;
        }
        // SAFETY: kill with signal 0 sends nothing; it only checks that the process exists.
        let r = unsafe { libc::kill(pid, 0) };
        r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
    #[cfg(not(unix))]
    {
        true
    }
}

/// Removes our stale temporary files in `dir` and its sub-folders (not following links);
/// returns the files removed. Errors are ignored: clean-up is best effort.
pub fn remove_stale_temp_files(dir: &Path) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() {
                stack.push(path);
                continue;
            }
            if !kind.is_file() {
                continue;
            }
            let name = entry.file_name();
            let Some(pid) = name.to_str().and_then(temp_file_pid) else {
                continue;
            };
            if !process_alive(pid) && fs::remove_file(&path).is_ok() {
                removed.push(path);
            }
        }
    }
    removed.sort();
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_pattern_is_recognised() {
        assert_eq!(temp_file_pid(".latest.safetensors.tmp-123-0"), Some(123));
        assert_eq!(temp_file_pid(".metrics.csv.456.7.tmp"), Some(456));
        for other in [
            "latest.safetensors",
            ".latest.safetensors",
            ".x.tmp-abc-0",
            ".x.tmp-1-2-3",
            "x.tmp-1-2",
            ".tmp-1-2",
            ".x.1.tmp",
            "notes.tmp",
        ] {
            assert_eq!(temp_file_pid(other), None, "{other}");
        }
    }

    #[test]
    fn stale_files_go_and_live_ones_stay() {
        let tmp = tempfile::tempdir().unwrap();
        let sub = tmp.path().join("checkpoints");
        fs::create_dir_all(&sub).unwrap();
        // A process id that cannot exist (above Linux's pid_max), and ours.
        let dead = sub.join(".latest.safetensors.tmp-2147483000-0");
        let dead_old = tmp.path().join(".config.toml.2147483001.3.tmp");
        let live = sub.join(format!(".latest.safetensors.tmp-{}-0", std::process::id()));
        let other = sub.join(".notes.txt");
        for f in [&dead, &dead_old, &live, &other] {
            fs::write(f, b"partial").unwrap();
        }
        let removed = remove_stale_temp_files(tmp.path());
        assert_eq!(removed.len(), 2, "{removed:?}");
        assert!(!dead.exists() && !dead_old.exists());
        assert!(live.exists() && other.exists());
    }
}
