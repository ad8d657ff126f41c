//! `gan traverse`: what a trained generator draws along paths through its noise space, as a
//! PNG sheet (lerp, slerp, coordinate sweeps) and optionally a looping GIF.

use anyhow::{bail, Result};
use clap::{Parser, ValueEnum};
use gan::traverse::{self, LoopOptions, Section, SheetOptions};
use gan::RunDir;
use std::path::{Path, PathBuf};

/// Flags of `gan traverse`.
#[derive(Parser)]
pub struct TraverseArgs {
    /// The run folder (e.g. runs/run-001); its latest checkpoint is used.
    run: PathBuf,
    /// Output picture, FILE.png.
    #[arg(long)]
    out: PathBuf,
    /// Also write a looping animation, FILE.gif: a grid of digits each walking its own loop.
    #[arg(long)]
    gif: Option<PathBuf>,
    /// What to draw: lerp, slerp, coords (sweeps of single coordinates) or all three.
    #[arg(long, value_enum, default_value_t = Mode::All)]
    mode: Mode,
    /// Paths per interpolation section, and random coordinates swept (one row each).
    #[arg(long, default_value_t = 8)]
    rows: usize,
    /// Points along each path, ends included (one column each).
    #[arg(long, default_value_t = 10)]
    steps: usize,
    /// A sweep moves its coordinate from -RANGE to +RANGE.
    #[arg(long, default_value_t = 3.0, allow_negative_numbers = true)]
    range: f32,
    /// Coordinates to sweep, one row each, numbered from 0 (default: --rows random ones).
    #[arg(long, value_delimiter = ',')]
    coords: Option<Vec<usize>>,
    /// Seed of the random points (default: the run's seed). The same seed gives the same files.
    #[arg(long)]
    seed: Option<u64>,
    /// The animation shows N × N digits.
    #[arg(long, default_value_t = 4, value_name = "N")]
    gif_grid: usize,
    /// Random points on each digit's loop.
    #[arg(long, default_value_t = 4)]
    gif_points: usize,
    /// Frames from one point of a loop to the next.
    #[arg(long, default_value_t = 12)]
    gif_frames: usize,
}

/// The sections of the sheet.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Straight lines between pairs of random points.
    Lerp,
    /// Great-circle arcs between pairs of random points.
    Slerp,
    /// Sweeps of single coordinates of one random point.
    Coords,
    /// The three sections, one above the other.
    All,
}

impl Mode {
    fn sections(self) -> Vec<Section> {
        match self {
            Mode::Lerp => vec![Section::Lerp],
            Mode::Slerp => vec![Section::Slerp],
            Mode::Coords => vec![Section::Coords],
            Mode::All => vec![Section::Lerp, Section::Slerp, Section::Coords],
        }
    }
}

/// Bounds that keep the picture within the renderer's 8192-pixel limit and the animation
/// within a few hundred megabytes of frames.
const MAX_ROWS: usize = 20;
const MAX_STEPS: usize = 40;
const MAX_COORDS: usize = 32;
const MAX_GIF_GRID: usize = 8;
const MAX_GIF_FRAMES_TOTAL: usize = 240;

fn check_extension(path: &Path, ext: &str, flag: &str) -> Result<()> {
    let ok = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case(ext));
    if !ok {
        bail!("{flag} {}: the name must end in .{ext}", path.display());
    }
    Ok(())
}

fn check(a: &TraverseArgs) -> Result<()> {
    check_extension(&a.out, "png", "--out")?;
    if let Some(gif) = &a.gif {
        check_extension(gif, "gif", "--gif")?;
    }
    if a.rows == 0 || a.rows > MAX_ROWS {
        bail!("--rows {}: ask for between 1 and {MAX_ROWS} rows", a.rows);
    }
    if a.steps < 2 || a.steps > MAX_STEPS {
        bail!(
            "--steps {}: ask for between 2 and {MAX_STEPS} steps",
            a.steps
        );
    }
    if !(a.range.is_finite() && a.range > 0.0) {
        bail!(
            "--range {}: give a positive number, e.g. 3 (sweeps from -3 to +3)",
            a.range
        );
    }
    if let Some(coords) = &a.coords {
        if coords.is_empty() || coords.len() > MAX_COORDS {
            bail!("--coords: give between 1 and {MAX_COORDS} coordinates, e.g. --coords 0,5,17");
        }
    }
    if a.gif.is_some() {
        if a.gif_grid == 0 || a.gif_grid > MAX_GIF_GRID {
            bail!(
                "--gif-grid {}: ask for between 1 and {MAX_GIF_GRID}",
                a.gif_grid
            );
        }
        if a.gif_points < 2 {
            bail!(
                "--gif-points {}: a loop needs at least 2 points",
                a.gif_points
            );
        }
        let frames = a.gif_points.saturating_mul(a.gif_frames);
        if a.gif_frames == 0 || frames > MAX_GIF_FRAMES_TOTAL {
            bail!(
                "--gif-points {} × --gif-frames {} = {frames} frames: ask for between 1 and \
                 {MAX_GIF_FRAMES_TOTAL} frames in all",
                a.gif_points,
                a.gif_frames
            );
        }
    }
    Ok(())
}

/// Runs `gan traverse`.
pub fn run(a: TraverseArgs) -> Result<()> {
    check(&a)?;
    let run = RunDir::open(&a.run)?;
    let mut gan = crate::load_run_gan(&run)?;
    let seed = a.seed.unwrap_or(gan.config.seed);
    let sheet = SheetOptions {
        sections: a.mode.sections(),
        rows: a.rows,
        steps: a.steps,
        range: a.range,
        coords: a.coords.clone(),
        seed,
    };
    let image = traverse::traversal_sheet(&mut gan, &sheet)?;
    render::save_png(&image, &a.out)?;
    println!(
        "wrote {} ({}x{}) from {} (seed {seed})",
        a.out.display(),
        image.width,
        image.height,
        run.latest_checkpoint().display()
    );
    if let Some(path) = &a.gif {
        let options = LoopOptions {
            grid: a.gif_grid,
            points: a.gif_points,
            frames_per_leg: a.gif_frames,
            seed,
            ..LoopOptions::default()
        };
        let animation = traverse::loop_animation(&mut gan, &options)?;
        animation.save(path)?;
        println!(
            "wrote {} ({} frames of {n}×{n} digits, each looping through {} points)",
            path.display(),
            animation.len(),
            a.gif_points,
            n = a.gif_grid
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gan::checkpoint::{self, CheckpointMeta};
    use gan::{Gan, TrainConfig};

    /// A run folder holding a small untrained generator: enough for layout and determinism.
    fn tiny_run(dir: &Path) -> PathBuf {
        let config = TrainConfig {
            latent: 8,
            g_hidden: vec![32],
            d_hidden: vec![32],
            seed: 3,
            ..TrainConfig::default()
        };
        let run = RunDir::create(dir, Some("tiny"), false).unwrap();
        mnist_idx::atomic::write_file(&run.config_path(), config.to_toml().as_bytes()).unwrap();
        let gan = Gan::new(&config).unwrap();
        // Readers build the networks from the configuration stored in the checkpoint.
        let mut meta = CheckpointMeta::default();
        meta.set("config", config.to_toml());
        checkpoint::save(&run.latest_checkpoint(), &gan, &[], &meta).unwrap();
        run.path().to_path_buf()
    }

    fn args(extra: &[&str]) -> TraverseArgs {
        TraverseArgs::try_parse_from(["traverse"].iter().chain(extra)).unwrap()
    }

    #[test]
    fn writes_the_same_png_and_gif_for_the_same_seed() {
        let tmp = tempfile::tempdir().unwrap();
        let run = tiny_run(tmp.path());
        let run = run.to_str().unwrap();
        let files = |name: &str, seed: &str| {
            let png = tmp.path().join(format!("{name}.png"));
            let gif = tmp.path().join(format!("{name}.gif"));
            let a = args(&[
                run,
                "--out",
                png.to_str().unwrap(),
                "--gif",
                gif.to_str().unwrap(),
                "--rows",
                "3",
                "--steps",
                "5",
                "--gif-grid",
                "2",
                "--gif-points",
                "2",
                "--gif-frames",
                "3",
                "--seed",
                seed,
            ]);
            super::run(a).unwrap();
            (std::fs::read(png).unwrap(), std::fs::read(gif).unwrap())
        };
        let first = files("a", "7");
        assert_eq!(first, files("b", "7"));
        let other = files("c", "8");
        assert_ne!(first.0, other.0);
        assert_ne!(first.1, other.1);
        let sheet = render::load_png_gray(tmp.path().join("a.png")).unwrap();
        // Three sections of 3 rows of 86 px digits, 5 columns.
        assert!(sheet.height > 9 * 86 && sheet.width > 5 * 86);
    }

    #[test]
    fn user_errors_say_what_to_do() {
        let tmp = tempfile::tempdir().unwrap();
        let run = tiny_run(tmp.path());
        let run = run.to_str().unwrap();
        let out = tmp.path().join("t.png");
        let out = out.to_str().unwrap();
        let err = |extra: &[&str]| {
            let mut all = vec![run, "--out", out];
            all.extend(extra);
            super::run(args(&all)).unwrap_err().to_string()
        };
        assert!(err(&["--coords", "0,8"]).contains("numbered 0 to 7"));
        assert!(err(&["--steps", "1"]).contains("between 2 and"));
        assert!(err(&["--rows", "0"]).contains("between 1 and"));
        assert!(err(&["--range", "-1"]).contains("positive"));
        assert!(err(&["--gif", "x.png"]).contains("must end in .gif"));
        assert!(err(&["--gif", "x.gif", "--gif-points", "1"]).contains("at least 2 points"));
        let bad_out = super::run(args(&[run, "--out", "t.jpg"])).unwrap_err();
        assert!(bad_out.to_string().contains(".png"));
        let missing = tmp.path().join("nope");
        let no_run = super::run(args(&[missing.to_str().unwrap(), "--out", out])).unwrap_err();
        assert!(
            no_run.to_string().contains("no such run folder"),
            "{no_run}"
        );
        assert!(!Path::new(out).exists());
    }
}
