//! Ctrl-C handling: the first Ctrl-C asks training to stop after the current step (it then
//! writes a checkpoint and exits); a second one exits at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

static STOP: AtomicBool = AtomicBool::new(false);
static INSTALLED: OnceLock<bool> = OnceLock::new();

/// Installs the handler (once per process) and reports whether a stop was asked for.
pub fn stop_requested() -> bool {
    INSTALLED.get_or_init(|| {
        ctrlc::set_handler(|| {
            if STOP.swap(true, Ordering::SeqCst) {
                eprintln!("\nsecond Ctrl-C: exiting without a checkpoint");
                std::process::exit(130);
            }
            eprintln!(
                "\nCtrl-C: finishing this step and writing a checkpoint (Ctrl-C again to quit now)"
            );
        })
        .is_ok()
    });
    STOP.load(Ordering::SeqCst)
}
