//! Atomic file writes, through the workspace's one writer ([`mnist_idx::atomic`]): a temporary
//! file `.NAME.tmp-PID-N` in the same folder, synced, then renamed over the target, so a crash
//! or Ctrl-C never leaves a half-written checkpoint, config or CSV. A kill in mid-write can leave
//! the temporary file; [`crate::cleanup`] removes it when the run is next trained.

use crate::error::{io_error, Result};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// Writes `bytes` to `path` atomically. The folder must exist.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_io(path, bytes).map_err(io_error(path))
}

/// [`write_atomic`] with a plain I/O error, for modules with their own error type. On failure
/// the temporary file is removed and `path` is left as it was.
pub fn write_atomic_io(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let pause = slow_write_for_tests(path);
    mnist_idx::atomic::write_with(path, |file| match pause {
        None => file.write_all(bytes),
        Some(pause) => {
            let half = bytes.len() / 2;
            file.write_all(&bytes[..half])?;
            std::thread::sleep(pause);
            file.write_all(&bytes[half..])
        }
    })
}

/// A test-only switch for `scripts/crash-soak.sh`: with `GAN_TEST_SLOW_WRITE_MS=N` set, every
/// checkpoint write pauses N ms halfway through its temporary file, so that a kill can land
/// during a checkpoint write. Unset (always, outside that script), it costs one lookup.
fn slow_write_for_tests(path: &Path) -> Option<Duration> {
    if !matches!(path.extension(), Some(e) if e == "safetensors") {
        return None;
    }
    let ms = std::env::var("GAN_TEST_SLOW_WRITE_MS").ok()?.parse().ok()?;
    Some(Duration::from_millis(ms))
}
