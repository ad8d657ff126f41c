//! Atomic file writes, shared by every crate of the workspace: the bytes go to a new temporary
//! file `.NAME.tmp-PID-N` in the destination folder, are synced to disk, and the file is renamed
//! over the target. A reader never sees half a file, and a failed write leaves the old file as it
//! was (the temporary file is removed; only a kill in mid-write can leave one behind).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `bytes` to `path` atomically. The folder must exist.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("notes.txt");
/// mnist_idx::atomic::write_file(&path, b"first")?;
/// mnist_idx::atomic::write_file(&path, b"second")?;
/// assert_eq!(std::fs::read(&path)?, b"second");
/// # Ok(())
/// # }
/// ```
pub fn write_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_with(path, |file| file.write_all(bytes))
}

/// Runs `fill` on a new temporary file beside `path`, syncs it and renames it to `path`. On any
/// error the temporary file is removed and `path` is left as it was.
pub fn write_with<E: From<io::Error>>(
    path: &Path,
    fill: impl FnOnce(&mut File) -> Result<(), E>,
) -> Result<(), E> {
    let (mut file, tmp) = create_temp(path)?;
    let result = fill(&mut file)
        .and_then(|()| Ok(file.sync_all()?))
        .and_then(|()| {
            drop(file);
            Ok(fs::rename(&tmp, path)?)
        });
    if result.is_err() {
        // Best effort: the error that matters is the one returned.
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// [`write_with`] for writers that open their file by path (such as safetensors'
/// `serialize_to_file`): `fill` writes the new temporary file at the path it is given; the file
/// is then synced and renamed to `path`. On any error the temporary file is removed and `path`
/// is left as it was.
pub fn write_via_path<E: From<io::Error>>(
    path: &Path,
    fill: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), E> {
    let (file, tmp) = create_temp(path)?;
    drop(file);
    let result = fill(&tmp)
        .and_then(|()| Ok(File::open(&tmp)?.sync_all()?))
        .and_then(|()| Ok(fs::rename(&tmp, path)?));
    if result.is_err() {
        // Best effort: the error that matters is the one returned.
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// A new file `.NAME.tmp-PID-N` in the folder of `path`.
fn create_temp(path: &Path) -> io::Result<(File, PathBuf)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "not a file name to write to")
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".tmp-{}-{n}", std::process::id()));
        let tmp = dir.join(tmp_name);
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => return Ok((f, tmp)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 1_000_000 => continue,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.bin");
        fs::write(&path, b"old").unwrap();
        write_file(&path, b"new").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["x.bin"]);
    }

    #[test]
    fn a_failed_fill_keeps_the_old_file_and_removes_the_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.bin");
        fs::write(&path, b"old").unwrap();
        let e = write_with(&path, |_| Err(io::Error::other("disk full"))).unwrap_err();
        assert_eq!(e.to_string(), "disk full");
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_path_writer_replaces_atomically_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.bin");
        fs::write(&path, b"old").unwrap();
        let e = write_via_path(&path, |tmp| {
            fs::write(tmp, b"half")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(e.to_string(), "disk full");
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        write_via_path(&path, |tmp| fs::write(tmp, b"new")).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_missing_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(write_file(&dir.path().join("no/x.bin"), b"x").is_err());
    }
}
