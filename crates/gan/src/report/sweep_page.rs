//! The page of one sweep folder: which runs finished, the summary table, the overlaid curves
//! and each setting's last grid, linking every run's own page.

use super::{csv_table, file_links, toml_rows, write_page, PAGE};
use crate::error::Result;
use crate::sweep::SweepPlan;
use crate::sweep_plan::{run_status, RunStatus};
use render::html::{self, Html, Page};
use std::path::{Path, PathBuf};

/// Display width of each setting's last grid, in CSS pixels.
const GRID: u32 = 224;

/// The page of the sweep in `dir`, as HTML.
pub fn sweep_page(dir: &Path) -> Result<String> {
    let plan = SweepPlan::load(dir)?;
    let settings = plan.settings()?;
    let name = dir.file_name().map_or_else(
        || dir.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut page = Page::new(format!(
        "{name}: {} {}",
        plan.varied.name(),
        plan.values.join(" vs ")
    ));

    let statuses: Vec<RunStatus> = settings.iter().map(|s| run_status(dir, s)).collect();
    let finished = statuses
        .iter()
        .filter(|s| **s == RunStatus::Finished)
        .count();
    let others: Vec<String> = settings
        .iter()
        .zip(&statuses)
        .filter(|(_, st)| **st != RunStatus::Finished)
        .map(|(s, st)| format!("{} ({})", s.folder, st.describe(s.config.epochs)))
        .collect();
    let (class, status) = if others.is_empty() {
        (
            "",
            format!("{finished} of {} runs finished", settings.len()),
        )
    } else {
        (
            "warning",
            format!(
                "{finished} of {} runs finished; not yet: {}",
                settings.len(),
                others.join(", ")
            ),
        )
    };
    page = page.status(class, Html::text(status));

    // The summary, each setting linking to its run's page.
    let page_of = |label: &str| -> Option<String> {
        let s = settings.iter().find(|s| s.label == label)?;
        let rel = format!("{}/{PAGE}", s.folder);
        dir.join(&rel).is_file().then_some(rel)
    };
    let summary = csv_table(&dir.join("summary.csv"), |label| match page_of(label) {
        Some(rel) => html::link(&rel, label),
        None => Html::text(label),
    })?;
    page = page.section(
        "Summary",
        Html::concat([
            html::paragraph(format!(
                "Everything but {} as in each run's config.toml (seed {}, {} epochs, batch {}). \
                 D accuracy low/high: the band over the last epochs; over/under-produced: \
                 digits the evaluator finds in more than 12.5% or less than 7.5% of the samples.",
                plan.varied.name(),
                plan.base.seed,
                plan.base.epochs,
                plan.base.batch
            )),
            summary.unwrap_or_else(|| {
                html::paragraph_class(
                    "muted",
                    format!(
                        "No summary yet: it is written when the sweep ends (or by `gan sweep \
                         --collect {}`).",
                        dir.display()
                    ),
                )
            }),
        ]),
    );

    let plots: Vec<Html> = [
        ("plots/generator-loss.png", "generator loss"),
        ("plots/discriminator-loss.png", "discriminator loss"),
        ("plots/discriminator-accuracy.png", "discriminator accuracy"),
    ]
    .iter()
    .filter(|(f, _)| dir.join(f).is_file())
    .map(|(f, caption)| html::plot(f, caption))
    .collect();
    page = page.section("Curves, overlaid", html::row(plots));

    let grids: Vec<Html> = settings
        .iter()
        .zip(&statuses)
        .filter_map(|(s, st)| {
            let (epoch, grid) = last_grid(&dir.join(&s.folder))?;
            let src = format!("{}/samples/{grid}", s.folder);
            let target = page_of(&s.label).unwrap_or_else(|| src.clone());
            let caption = match st {
                RunStatus::Finished => format!("{} (epoch {epoch})", s.label),
                other => format!(
                    "{} (epoch {epoch}, {})",
                    s.label,
                    other.describe(s.config.epochs)
                ),
            };
            Some(html::figure_to(&target, &src, &caption, Some(GRID)))
        })
        .collect();
    page = page.section("Last grids", html::gallery(grids));

    let runs: Vec<Html> = settings
        .iter()
        .zip(&statuses)
        .map(|(s, st)| {
            let label = Html::text(format!("{}: {}", s.label, st.describe(s.config.epochs)));
            match page_of(&s.label) {
                Some(rel) => html::link(&rel, label),
                None => label,
            }
        })
        .collect();
    page = page.section("Runs", html::list(runs));

    let mut rows = vec![
        ("varied".to_string(), Html::text(plan.varied.name())),
        ("values".to_string(), Html::text(plan.values.join(", "))),
    ];
    if let Ok(toml::Value::Table(base)) = toml::Value::try_from(&plan.base) {
        toml_rows(&base, "base.", &mut rows);
    }
    page = page.section("Plan", html::key_value_table(&rows));
    page = page.section(
        "Files",
        file_links(
            dir,
            &[
                "summary.md",
                "summary.csv",
                "grids.png",
                "sweep.toml",
                crate::sweep_plan::COMMANDS,
                crate::sweep_plan::SLURM,
            ],
        ),
    );
    Ok(page.render())
}

/// Writes `dir/report.html`; returns its path.
pub fn write_sweep_page(dir: &Path) -> Result<PathBuf> {
    write_page(dir, &sweep_page(dir)?)
}

/// The last fixed-noise grid of a run folder: `(epoch, file name)`.
fn last_grid(run: &Path) -> Option<(usize, String)> {
    std::fs::read_dir(run.join("samples"))
        .ok()?
        .filter_map(|e| {
            let name = e.ok()?.file_name().to_string_lossy().into_owned();
            let epoch = name
                .strip_prefix("epoch-")?
                .strip_suffix(".png")?
                .parse::<usize>()
                .ok()?;
            Some((epoch, name))
        })
        .max()
}
