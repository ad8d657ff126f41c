//! `gan report RUN|SWEEP`: writes the folder's `report.html` and prints its path.

use anyhow::Result;
use clap::Parser;
use gan::report::{self, RunState};
use gan::RunDir;
use std::path::PathBuf;

/// Flags of `gan report`.
#[derive(Parser)]
pub struct ReportArgs {
    /// A run folder (runs/run-001) or a sweep folder (runs/sweep-lr).
    folder: PathBuf,
}

/// Runs `gan report`.
pub fn run(a: ReportArgs) -> Result<()> {
    let page = if a.folder.join("sweep.toml").is_file() {
        report::write_sweep_page(&a.folder)?
    } else {
        let run = RunDir::open(&a.folder)?;
        report::write_run_page(run.path(), &RunState::AsFound)?
    };
    println!("{}", page.display());
    Ok(())
}
