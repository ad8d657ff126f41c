//! The page of one run folder: status, grids, curves, evaluation, metrics, configuration.

use super::{csv_table, file_links, toml_rows, write_page};
use crate::error::{io_error, Result};
use digit_classifiers::quality::{histogram_path, EvalReport};
use render::html::{self, Html, Liveness, Page};
use std::path::{Path, PathBuf};

/// What the run is doing as its page is written.
#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    /// Training: the page refreshes itself; its last epoch took `epoch_seconds`.
    Training {
        /// Seconds of the last epoch.
        epoch_seconds: f64,
    },
    /// Every configured epoch is done.
    Finished,
    /// Training stopped early, for this reason.
    Stopped(String),
    /// Not known (a page made on demand): finished if the last fixed-noise grid is of the last epoch, otherwise
    /// described as not training.
    AsFound,
}

/// Widest a per-epoch thumbnail is shown, in CSS pixels.
const THUMB: u32 = 120;
/// The latest grid's display width, in CSS pixels.
const LARGE: u32 = 448;
/// The display width of the real digits and the animation beside it.
const BESIDE: u32 = 300;

/// The page of the run in `dir`, as HTML.
pub fn run_page(dir: &Path, state: &RunState) -> Result<String> {
    let name = dir.file_name().map_or_else(
        || dir.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let config_text = std::fs::read_to_string(dir.join("config.toml"))
        .map_err(io_error(dir.join("config.toml")))?;
    let config: toml::Table = config_text.parse().map_err(|e| crate::GanError::Run {
        path: dir.join("config.toml"),
        reason: format!("unreadable configuration: {e}"),
    })?;
    let epochs = config
        .get("epochs")
        .and_then(toml::Value::as_integer)
        .unwrap_or(0)
        .max(0) as usize;
    let grids = epoch_grids(dir)?;
    let done = grids.last().map_or(0, |(e, _)| *e);

    let model = config
        .get("model")
        .and_then(toml::Value::as_str)
        .unwrap_or("");
    let conditional = config.get("conditional").and_then(toml::Value::as_bool) == Some(true);
    let kind = if conditional { "conditional " } else { "" };
    let mut page = Page::new(format!("{name}: {kind}{model} GAN"));
    let resume = format!("gan train --resume {}", dir.display());
    let (status, class) = match state {
        RunState::Training { epoch_seconds } => {
            let refresh = (epoch_seconds / 2.0).clamp(5.0, 60.0).round() as u32;
            let stale = (3.0 * epoch_seconds).max(120.0) as u64 + u64::from(refresh);
            page = page.live(
                Liveness {
                    refresh_seconds: refresh,
                    stale_after_seconds: stale,
                },
                format!(
                    "not training: epoch {done} of {epochs} was the last update (stopped or \
                     killed; continue with `{resume}`)"
                ),
            );
            (
                format!(
                    "training: epoch {done} of {epochs} done ({epoch_seconds:.1} s per epoch); \
                     this page reloads every {refresh} s"
                ),
                "training",
            )
        }
        RunState::Finished => (format!("finished: {done} of {epochs} epochs"), ""),
        RunState::Stopped(why) => (
            format!("not training: stopped after epoch {done} of {epochs} ({why}); continue with `{resume}`"),
            "warning",
        ),
        RunState::AsFound if done >= epochs => {
            (format!("finished: {done} of {epochs} epochs"), "")
        }
        RunState::AsFound => (
            format!(
                "{done} of {epochs} epochs done; not training unless a `gan train` is still \
                 running it (continue with `{resume}`)"
            ),
            "warning",
        ),
    };
    page = page.status(class, Html::text(status));

    // The latest grid large, with real digits beside it, and the animation.
    let mut top = Vec::new();
    if let Some((epoch, grid)) = grids.last() {
        top.push(html::figure(
            grid,
            &format!("epoch {epoch} (fixed noise)"),
            Some(LARGE),
        ));
    }
    if dir.join("real.png").is_file() {
        top.push(html::figure("real.png", "real digits", Some(BESIDE)));
    }
    if dir.join("progress.gif").is_file() {
        top.push(html::figure(
            "progress.gif",
            "every epoch, animated",
            Some(BESIDE),
        ));
    }
    page = page.section("Samples", html::row(top));
    if grids.len() > 1 {
        let strip = html::strip(
            grids
                .iter()
                .map(|(e, g)| html::figure(g, &format!("epoch {e}"), Some(THUMB))),
        );
        page = page.section("Every epoch", strip);
    }

    let plots: Vec<Html> = [
        ("plots/losses.png", "losses"),
        ("plots/accuracy.png", "discriminator accuracy"),
        ("plots/quality.png", "FID during training"),
    ]
    .iter()
    .filter(|(f, _)| dir.join(f).is_file())
    .map(|(f, caption)| html::plot(f, caption))
    .collect();
    page = page.section("Training curves", html::row(plots));

    page = page.section("Evaluation", evaluation(dir)?);
    if let Some(table) = csv_table(&dir.join("metrics.csv"), |c: &str| Html::text(c))? {
        page = page.section("Metrics per epoch", table);
    }
    let mut rows = Vec::new();
    toml_rows(&config, "", &mut rows);
    page = page.section("Configuration", html::key_value_table(&rows));
    page = page.section(
        "Files",
        file_links(
            dir,
            &[
                "config.toml",
                "metrics.csv",
                "eval.json",
                "real.png",
                "progress.gif",
                "checkpoints/latest.safetensors",
            ],
        ),
    );
    Ok(page.render())
}

/// Writes `dir/report.html`; returns its path.
pub fn write_run_page(dir: &Path, state: &RunState) -> Result<PathBuf> {
    write_page(dir, &run_page(dir, state)?)
}

/// The fixed-noise grids, `(epoch, relative path)`, in epoch order.
fn epoch_grids(dir: &Path) -> Result<Vec<(usize, String)>> {
    let samples = dir.join("samples");
    if !samples.is_dir() {
        return Ok(Vec::new());
    }
    let mut grids = Vec::new();
    for entry in std::fs::read_dir(&samples).map_err(io_error(&samples))? {
        let name = entry.map_err(io_error(&samples))?.file_name();
        let name = name.to_string_lossy();
        let epoch = name
            .strip_prefix("epoch-")
            .and_then(|n| n.strip_suffix(".png"))
            .and_then(|n| n.parse::<usize>().ok());
        if let Some(epoch) = epoch {
            grids.push((epoch, format!("samples/{name}")));
        }
    }
    grids.sort();
    Ok(grids)
}

/// The figures of `eval.json` beside the floor and noise, the class histogram, and for a
/// conditional run the per-digit rows; a hint when the run was not evaluated.
fn evaluation(dir: &Path) -> Result<Html> {
    let json = dir.join("eval.json");
    if !json.is_file() {
        return Ok(html::paragraph_class(
            "muted",
            Html::concat([
                Html::text("Not evaluated yet: "),
                html::code(&format!("gan eval {}", dir.display())),
                Html::text(" measures FID, precision/recall and the class histogram."),
            ]),
        ));
    }
    let text = std::fs::read_to_string(&json).map_err(io_error(&json))?;
    let report: EvalReport = match serde_json::from_str(&text) {
        Ok(r) => r,
        Err(e) => {
            return Ok(html::paragraph_class(
                "warning",
                format!("eval.json is unreadable ({e}): run `gan eval` again"),
            ))
        }
    };
    let rows: Vec<Vec<Html>> = report
        .figure_rows()
        .into_iter()
        .map(|(name, values)| {
            std::iter::once(Html::text(name))
                .chain(values.into_iter().map(Html::text))
                .collect()
        })
        .collect();
    let figures = html::table(
        &["figure", "samples", "train digits (floor)", "noise"],
        &rows,
    );
    let mut parts = vec![html::paragraph(format!(
        "{} digits (seed {}) against {}; evaluator test accuracy {:.2}%.",
        report.n,
        report.seed,
        report.reference,
        100.0 * report.evaluator.test_accuracy
    ))];
    let histogram = histogram_path(&json);
    let histogram = histogram
        .file_name()
        .filter(|_| histogram.is_file())
        .map(|name| html::plot(&name.to_string_lossy(), "predicted classes of the samples"));
    parts.push(figures);
    let conditional = report.conditional_rows();
    let mut beside = Vec::new();
    if !conditional.is_empty() {
        let rows: Vec<Vec<Html>> = conditional
            .into_iter()
            .map(|(name, [a, b])| vec![Html::text(name.trim()), Html::text(a), Html::text(b)])
            .collect();
        parts.push(html::paragraph(
            "Digits asked for a class: how often the evaluator sees the digit asked for, and \
             each digit's FID against the test digits of that class.",
        ));
        beside.push(html::table(
            &["per digit", "samples", "train digits (floor)"],
            &rows,
        ));
    }
    // The histogram beside the per-digit rows (or under the figures).
    beside.extend(histogram);
    parts.push(html::row(beside));
    Ok(Html::concat(parts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TrainConfig;

    fn fake_run(epochs_done: usize) -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let config = TrainConfig {
            epochs: 3,
            ..TrainConfig::default()
        };
        std::fs::write(dir.join("config.toml"), config.to_toml()).unwrap();
        std::fs::create_dir_all(dir.join("samples")).unwrap();
        for e in 1..=epochs_done {
            std::fs::write(dir.join(format!("samples/epoch-{e:04}.png")), b"png").unwrap();
        }
        std::fs::write(dir.join("metrics.csv"), "epoch,d_loss\n1,0.5\n").unwrap();
        tmp
    }

    #[test]
    fn a_training_run_refreshes_and_a_stopped_one_does_not() {
        let tmp = fake_run(2);
        let path = write_run_page(
            tmp.path(),
            &RunState::Training {
                epoch_seconds: 30.0,
            },
        )
        .unwrap();
        let page = std::fs::read_to_string(&path).unwrap();
        assert!(page.contains("<meta http-equiv=\"refresh\" content=\"15\">"));
        assert!(page.contains("training: epoch 2 of 3 done"), "{page}");
        assert!(
            page.contains("s=135"),
            "stale after 3 epochs + 15 s: {page}"
        );
        assert!(crate::report::missing_references(&path).unwrap().is_empty());
        // The latest grid large and the strip of every epoch.
        assert!(page.contains("src=\"samples/epoch-0002.png\" alt=\"epoch 2 (fixed noise)\""));
        assert!(page.contains("alt=\"epoch 1\""));

        write_run_page(tmp.path(), &RunState::Stopped("interrupted".into())).unwrap();
        let page = std::fs::read_to_string(&path).unwrap();
        assert!(!page.contains("refresh") && !page.contains("<script>"));
        assert!(
            page.contains("stopped after epoch 2 of 3 (interrupted)"),
            "{page}"
        );

        write_run_page(tmp.path(), &RunState::AsFound).unwrap();
        let page = std::fs::read_to_string(&path).unwrap();
        assert!(page.contains("2 of 3 epochs done; not training"), "{page}");
    }

    #[test]
    fn an_unreadable_eval_json_is_named_not_fatal() {
        let tmp = fake_run(3);
        std::fs::write(tmp.path().join("eval.json"), "{").unwrap();
        let page = run_page(tmp.path(), &RunState::AsFound).unwrap();
        assert!(page.contains("finished: 3 of 3 epochs"));
        assert!(page.contains("eval.json is unreadable"), "{page}");
    }
}
