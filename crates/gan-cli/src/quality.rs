//! Sample quality during and after training, through the evaluator classifier.

use gan::sweep::SettingQuality;
use gan::RunDir;

/// A function measuring a finished run for a sweep's summary (`None` when disabled).
pub fn sweep_evaluator(
    enabled: bool,
) -> anyhow::Result<impl FnMut(&RunDir) -> gan::Result<Option<SettingQuality>>> {
    // Wired to the evaluator classifier once it is in the tree (issue 6).
    let _ = enabled;
    Ok(|_: &RunDir| Ok(None))
}
