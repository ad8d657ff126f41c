//! `report.html`: one self-contained page per run folder and per sweep folder, built from the
//! files they hold (relative links, no network), written atomically.
//!
//! A run's page is rewritten after every epoch (refreshing itself while the run trains), when
//! training stops, after `gan eval`, and on demand (`gan report`); a sweep's page when its
//! summary is written.

mod run_page;
mod sweep_page;

pub use run_page::{run_page, write_run_page, RunState};
pub use sweep_page::{sweep_page, write_sweep_page};

use crate::error::{io_error, Result};
use render::html::{self, Html};
use std::path::Path;

/// The page's file name inside a run or sweep folder.
pub const PAGE: &str = "report.html";

/// After a finished epoch: the page of `run` (training on unless `epoch` is the last);
/// returns a warning instead of failing, since a page must never stop training.
pub fn after_epoch(
    run: &crate::RunDir,
    epoch: usize,
    epochs: usize,
    seconds: f64,
) -> Option<String> {
    let state = if epoch >= epochs {
        RunState::Finished
    } else {
        RunState::Training {
            epoch_seconds: seconds,
        }
    };
    write_run_page(run.path(), &state)
        .err()
        .map(|e| format!("{} not updated: {e}", run.path().join(PAGE).display()))
}

/// After training stopped early (interrupted, diverged, failed): the page without refreshing,
/// saying why. Best effort: a page that cannot be written leaves the error as it was.
pub fn after_stop(run: &crate::RunDir, why: &crate::GanError) {
    let reason = match why {
        crate::GanError::Interrupted { .. } => "interrupted".to_string(),
        other => other.to_string(),
    };
    let _ = write_run_page(run.path(), &RunState::Stopped(reason));
}

/// A CSV file as a table (its first line the header), or nothing when it is absent. Cells of
/// the first column are passed through `first` (e.g. to link them).
fn csv_table(path: &Path, first: impl Fn(&str) -> Html) -> Result<Option<Html>> {
    if !path.is_file() {
        return Ok(None);
    }
    let mut reader = csv::Reader::from_path(path).map_err(|e| csv_error(path, e))?;
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(path, e))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, e))?;
        rows.push(
            record
                .iter()
                .enumerate()
                .map(|(i, cell)| {
                    if i == 0 {
                        first(cell)
                    } else {
                        Html::text(cell)
                    }
                })
                .collect(),
        );
    }
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    Ok(Some(html::table(&header, &rows)))
}

fn csv_error(path: &Path, e: csv::Error) -> crate::GanError {
    crate::GanError::Run {
        path: path.to_path_buf(),
        reason: format!("unreadable CSV: {e}"),
    }
}

/// A TOML table as key-value rows (nested tables flattened as `a.b`).
fn toml_rows(table: &toml::Table, prefix: &str, out: &mut Vec<(String, Html)>) {
    for (key, value) in table {
        let key = format!("{prefix}{key}");
        match value {
            toml::Value::Table(inner) => toml_rows(inner, &format!("{key}."), out),
            toml::Value::String(s) => out.push((key, Html::text(s))),
            other => out.push((key, Html::text(other.to_string()))),
        }
    }
}

/// Links to those of `files` (relative to `dir`) that exist.
fn file_links(dir: &Path, files: &[&str]) -> Html {
    html::list(
        files
            .iter()
            .filter(|f| dir.join(f).exists())
            .map(|f| html::link(f, html::code(f))),
    )
}

/// Writes `page` to `dir/report.html` atomically; returns the path.
fn write_page(dir: &Path, page: &str) -> Result<std::path::PathBuf> {
    let path = dir.join(PAGE);
    mnist_idx::atomic::write_file(&path, page.as_bytes()).map_err(io_error(&path))?;
    Ok(path)
}

/// Every local reference of the page at `page` that does not exist, relative to its folder.
pub fn missing_references(page: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(page).map_err(io_error(page))?;
    let dir = page.parent().unwrap_or(Path::new("."));
    Ok(html::local_references(&text)
        .into_iter()
        .filter(|r| !dir.join(r).exists())
        .collect())
}
