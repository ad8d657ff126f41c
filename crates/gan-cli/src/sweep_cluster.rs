//! `gan sweep … --plan-only` (commands and a Slurm script instead of training) and
//! `gan sweep --collect SWEEP` (the summary of the runs those commands trained).

use crate::sweep::SweepArgs;
use anyhow::{bail, Result};
use gan::sweep::{self, SweepPlan};
use gan::sweep_plan::{self, COMMANDS, SLURM};

/// Runs `--plan-only` or `--collect`.
pub fn run(a: &SweepArgs) -> Result<()> {
    match &a.collect {
        Some(dir) => collect(dir, a.no_eval),
        None => plan_only(a),
    }
}

fn plan_only(a: &SweepArgs) -> Result<()> {
    let plan = a.plan()?;
    let dir = a.sweep_dir(&plan);
    sweep::create_folder(&dir, &plan, a.force())?;
    let files = sweep_plan::write_plan(&dir, &plan)?;
    println!(
        "planned {} runs over {} ({}) in {}:",
        files.configs.len(),
        plan.varied.name(),
        plan.values.join(", "),
        dir.display()
    );
    print!("{}", std::fs::read_to_string(&files.commands)?);
    let (commands, slurm) = (dir.join(COMMANDS), dir.join(SLURM));
    println!(
        "\nrun them from this directory, with `gan` on PATH:\n  \
         one by one:     bash {c}\n  \
         GNU parallel:   parallel -j 2 < {c}\n  \
         Slurm:          sbatch {s}\n\
         then: gan sweep --collect {d}",
        c = commands.display(),
        s = slurm.display(),
        d = dir.display()
    );
    Ok(())
}

fn collect(dir: &std::path::Path, no_eval: bool) -> Result<()> {
    let plan = SweepPlan::load(dir)?;
    let sweep_plan::Progress {
        finished,
        not_finished: others,
    } = sweep_plan::statuses(dir, &plan)?;
    let not_done: Vec<String> = others
        .iter()
        .map(|(s, st)| {
            let fix = match st {
                sweep_plan::RunStatus::Unfinished { .. } => format!(
                    "continue with `gan train --resume {}`",
                    dir.join(&s.folder).display()
                ),
                _ => format!("its command is in {}", dir.join(COMMANDS).display()),
            };
            format!("{}: {}; {fix}", s.folder, st.describe(s.config.epochs))
        })
        .collect();
    if finished.is_empty() {
        bail!(
            "{}: no run has finished yet:\n  {}",
            dir.display(),
            not_done.join("\n  ")
        );
    }
    let mut evaluate = crate::quality::sweep_evaluator(!no_eval, &plan.base.data_dir)?;
    let rows = sweep::summarize(dir, &finished, |run| evaluate(run))?;
    let written = sweep::write_report(dir, &plan, &rows)?;
    crate::sweep::print_summary(&plan, &rows, &written);
    if !not_done.is_empty() {
        bail!(
            "collected {} of {} runs; not finished:\n  {}\ncollect again when they are",
            finished.len(),
            finished.len() + others.len(),
            not_done.join("\n  ")
        );
    }
    Ok(())
}
