//! Ctrl-C handling: the first Ctrl-C asks the command to stop at its next safe point (training
//! stops after the current step and writes a checkpoint; a sweep's evaluation stops before the
//! next run); a second one exits at once. Checkpoints already written stay intact either way:
//! they are written atomically, so a write cut short leaves the previous file.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

static STOP: AtomicBool = AtomicBool::new(false);
static INSTALLED: OnceLock<bool> = OnceLock::new();

/// Installs the handler (once per process) and reports whether a stop was asked for.
pub fn stop_requested() -> bool {
    INSTALLED.get_or_init(|| {
        ctrlc::set_handler(|| {
            if STOP.swap(true, Ordering::SeqCst) {
                eprintln!(
                    "\nsecond Ctrl-C: exiting now; checkpoints already written are kept intact \
                     (a checkpoint being written is abandoned, the previous one stays)"
                );
                std::process::exit(130);
            }
            eprintln!(
                "\nCtrl-C: stopping at the next safe point (training: after this step, with a \
                 checkpoint); Ctrl-C again to quit now"
            );
        })
        .is_ok()
    });
    STOP.load(Ordering::SeqCst)
}
