//! `gan sample`: digits from a trained run's generator, as a PNG grid or an IDX file.

use anyhow::{bail, Context, Result};
use clap::Parser;
use gan::render::{self, GridLayout};
use gan::RunDir;
use std::path::PathBuf;

/// Flags of `gan sample`.
#[derive(Parser)]
pub struct SampleArgs {
    /// The run folder (e.g. runs/run-001); its latest checkpoint is used.
    run: PathBuf,
    /// How many digits.
    #[arg(long, default_value_t = 64)]
    n: usize,
    /// Seed of the noise (default: the run's seed). The same seed gives the same digits.
    #[arg(long)]
    seed: Option<u64>,
    /// Output file: FILE.png (a grid) or FILE.idx / FILE.idx.gz (u8, N×28×28, for other tools).
    #[arg(long)]
    out: PathBuf,
}

/// The largest `--n` accepted (a 100,000-digit IDX file is 78 MB).
const MAX_SAMPLES: usize = 100_000;

enum Format {
    Png,
    Idx(mnist_idx::Compression),
}

fn format_of(out: &std::path::Path) -> Result<Format> {
    let name = out.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let lower = name.to_ascii_lowercase();
    Ok(if lower.ends_with(".png") {
        Format::Png
    } else if lower.ends_with(".idx") {
        Format::Idx(mnist_idx::Compression::None)
    } else if lower.ends_with(".idx.gz") {
        Format::Idx(mnist_idx::Compression::Gzip)
    } else {
        bail!(
            "--out {}: the name must end in .png (a grid), .idx or .idx.gz (an IDX file)",
            out.display()
        )
    })
}

/// Runs `gan sample`.
pub fn run(a: SampleArgs) -> Result<()> {
    if a.n == 0 || a.n > MAX_SAMPLES {
        bail!("--n {}: ask for between 1 and {MAX_SAMPLES} digits", a.n);
    }
    let format = format_of(&a.out)?;
    let run = RunDir::open(&a.run)?;
    let mut gan = run.load_gan()?;
    let seed = a.seed.unwrap_or(gan.config.seed);
    let digits = gan.sample_u8(a.n, seed)?;
    match format {
        Format::Png => {
            let cols = (a.n as f64).sqrt().ceil() as usize;
            let layout = GridLayout::for_count(a.n, cols);
            let mut cells = digits;
            cells.resize(layout.rows * layout.cols * 784, 0);
            let grid = render::digit_grid_u8(&cells, 28, 28, &layout)?;
            render::save_png(&grid, &a.out)?;
        }
        Format::Idx(compression) => {
            mnist_idx::write(&a.out, &[a.n, 28, 28], &digits, compression)
                .with_context(|| format!("cannot write {}", a.out.display()))?;
        }
    }
    println!(
        "wrote {} digits from {} (seed {seed}) to {}",
        a.n,
        run.latest_checkpoint().display(),
        a.out.display()
    );
    Ok(())
}
