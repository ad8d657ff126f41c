//! `gan sample`: digits from a trained run's generator, as a PNG grid or an IDX file.
//!
//! The noise is drawn from the seed's sample stream, or read from an f32 IDX file (`--noise`),
//! so another implementation can be fed the very same vectors; `--raw` writes the generator's
//! float outputs instead of grey levels, for comparing numbers rather than pictures.

use anyhow::{bail, Context, Result};
use autograd::{BufferPool, Tensor};
use clap::Parser;
use gan::model::IMAGE_PIXELS;
use gan::{rng, Gan, RunDir};
use render::GridLayout;
use std::path::{Path, PathBuf};

/// Flags of `gan sample`.
#[derive(Parser)]
pub struct SampleArgs {
    /// The run folder (e.g. runs/run-001); its latest checkpoint is used.
    run: PathBuf,
    // How many digits (help from `n_help`, without --noise: DEFAULT_N).
    #[arg(long, conflicts_with = "noise", help = n_help())]
    n: Option<usize>,
    /// Seed of the noise (default: the run's seed). The same seed gives the same digits.
    #[arg(long, conflicts_with = "noise")]
    seed: Option<u64>,
    /// Noise vectors to feed the generator instead of drawing them: an f32 IDX file of shape
    /// N×latent (N digits; latent as the run was trained with).
    #[arg(long, value_name = "FILE.idx")]
    noise: Option<PathBuf>,
    /// Write the generator's float outputs (f32 IDX, N×28×28, in the output activation's range)
    /// instead of u8 grey levels. Only with an .idx or .idx.gz --out.
    #[arg(long)]
    raw: bool,
    /// Output file: FILE.png (a grid) or FILE.idx / FILE.idx.gz (u8, N×28×28, for other tools).
    #[arg(long)]
    out: PathBuf,
    /// Only this digit (a run trained with --conditional). Without it, a conditional run's
    /// digits cycle through those it was trained on (10,000 samples: 1,000 of each of ten).
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=9))]
    digit: Option<u8>,
    /// Also write the digit each sample was asked to be (u8 IDX of N values), for
    /// `gan eval --samples FILE.idx --labels LABELS.idx`. Conditional runs only.
    #[arg(long, value_name = "LABELS.idx")]
    labels_out: Option<PathBuf>,
}

/// The most digits accepted, from `--n` or a `--noise` file (a 100,000-digit IDX file is 78 MB,
/// 314 MB with `--raw`).
const MAX_SAMPLES: usize = 100_000;

/// Digits generated per forward pass, which bounds the memory of the activations.
const CHUNK: usize = 1_000;

enum Format {
    Png,
    Idx(mnist_idx::Compression),
}

fn format_of(out: &Path) -> Result<Format> {
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

/// How many digits `gan sample` draws without `--n` or `--noise`.
const DEFAULT_N: usize = 64;

/// The help of `--n`.
fn n_help() -> String {
    format!("How many digits [default: {DEFAULT_N}]")
}

/// Where the noise comes from, and a few words saying so.
fn noise_for(a: &SampleArgs, gan: &Gan) -> Result<(Tensor, String)> {
    let latent = gan.config.latent;
    if let Some(path) = &a.noise {
        let noise = read_noise(path, latent)?;
        return Ok((noise, format!("noise from {}", path.display())));
    }
    let n = a.n.unwrap_or(DEFAULT_N);
    if n == 0 || n > MAX_SAMPLES {
        bail!("--n {n}: ask for between 1 and {MAX_SAMPLES} digits");
    }
    let seed = a.seed.unwrap_or(gan.config.seed);
    // One draw of n×latent from the sample stream: the same values, in the same order, as
    // `Gan::sample_u8` draws chunk by chunk, so both give the same digits for a seed.
    let noise = gan.noise(n, &mut rng::stream(seed, rng::STREAM_SAMPLE));
    Ok((noise, format!("seed {seed}")))
}

/// Reads an f32 IDX file of shape `N × latent`, checking the shape and the values.
fn read_noise(path: &Path, latent: usize) -> Result<Tensor> {
    let array = mnist_idx::read::<f32>(path).with_context(|| {
        format!(
            "cannot read --noise {} (it must be an f32 IDX file of shape N×{latent})",
            path.display()
        )
    })?;
    let (n, width) = match array.dims[..] {
        [n, width] => (n, width),
        _ => bail!(
            "--noise {}: has shape {:?}, expected N×{latent} (two dimensions: one noise vector \
             of {latent} values per digit)",
            path.display(),
            array.dims
        ),
    };
    if width != latent {
        bail!(
            "--noise {}: vectors of {width} values, but this run's generator takes latent \
             {latent}: write the noise as an N×{latent} f32 IDX file",
            path.display()
        );
    }
    if n == 0 || n > MAX_SAMPLES {
        bail!(
            "--noise {}: holds {n} vectors; give between 1 and {MAX_SAMPLES}",
            path.display()
        );
    }
    if let Some(i) = array.data.iter().position(|v| !v.is_finite()) {
        bail!(
            "--noise {}: value {i} (vector {}, element {}) is {}; noise must be finite",
            path.display(),
            i / latent,
            i % latent,
            array.data[i]
        );
    }
    Ok(Tensor::from_vec(&[n, latent], array.data)?)
}

/// The digit of every sample: `--digit`, or the trained digits in turn for a conditional run;
/// `None` for an unconditional one (where `--digit` is an error).
fn labels_for(digit: Option<u8>, gan: &Gan, n: usize, run: &Path) -> Result<Option<Vec<u8>>> {
    let conditional = gan.generator.conditional();
    match (digit, conditional) {
        (None, false) => Ok(None),
        (None, true) => Ok(Some(gan.cycled_labels(n)?)),
        (Some(_), false) => bail!(
            "--digit: {} was not trained with --conditional, so it cannot be asked for a digit; \
             train one with `gan train --conditional` (or drop --digit)",
            run.display()
        ),
        (Some(d), true) => {
            let trained = gan.config.digit_list()?;
            if !trained.contains(&d) {
                bail!(
                    "--digit {d}: {} was trained on the digits {trained:?} only",
                    run.display()
                );
            }
            Ok(Some(vec![d; n]))
        }
    }
}

/// `G(z)` for every row of `noise` (with its digit, for a conditional generator), `CHUNK` rows
/// per pass: `n × 784` floats.
fn generate_all(gan: &mut Gan, noise: &Tensor, labels: Option<&[u8]>) -> Result<Vec<f32>> {
    let (n, latent) = (noise.dim(0), noise.dim(1));
    let mut pool = BufferPool::new();
    let mut out = Vec::with_capacity(n * IMAGE_PIXELS);
    for (i, rows) in noise.data().chunks(CHUNK * latent).enumerate() {
        let z = Tensor::from_vec(&[rows.len() / latent, latent], rows.to_vec())?;
        let chunk = labels.map(|l| &l[i * CHUNK..i * CHUNK + z.dim(0)]);
        out.extend(gan.generate_labeled(&z, chunk, &mut pool)?);
    }
    Ok(out)
}

/// Runs `gan sample`.
pub fn run(a: SampleArgs) -> Result<()> {
    let format = format_of(&a.out)?;
    if a.raw && !matches!(format, Format::Idx(_)) {
        bail!(
            "--raw writes float outputs as an f32 IDX file: give an --out ending in .idx or \
             .idx.gz (not {})",
            a.out.display()
        );
    }
    let run = RunDir::open(&a.run)?;
    let mut gan = crate::load_run_gan(&run)?;
    let (noise, source) = noise_for(&a, &gan)?;
    let n = noise.dim(0);
    let cols = (n as f64).sqrt().ceil() as usize;
    let layout = GridLayout::for_count(n, cols);
    if matches!(format, Format::Png) {
        // Refuse a grid too large for a PNG before computing any digit.
        layout.grid_size(28, 28).with_context(|| {
            format!("--n {n} digits do not fit one PNG grid: write an .idx file instead")
        })?;
    }
    let labels = labels_for(a.digit, &gan, n, &a.run)?;
    if a.labels_out.is_some() && labels.is_none() {
        bail!(
            "--labels-out: {} is not conditional, so its samples were asked no digit",
            a.run.display()
        );
    }
    let pixels = generate_all(&mut gan, &noise, labels.as_deref())?;
    match format {
        Format::Png => {
            let mut cells = gan::data::pixels_to_u8(&pixels, gan.config.output);
            cells.resize(layout.rows * layout.cols * IMAGE_PIXELS, 0);
            let grid = render::digit_grid_u8(&cells, 28, 28, &layout)?;
            render::save_png(&grid, &a.out)?;
        }
        Format::Idx(compression) => {
            let dims = [n, 28, 28];
            let written = if a.raw {
                mnist_idx::write(&a.out, &dims, &pixels, compression)
            } else {
                let digits = gan::data::pixels_to_u8(&pixels, gan.config.output);
                mnist_idx::write(&a.out, &dims, &digits, compression)
            };
            written.with_context(|| format!("cannot write {}", a.out.display()))?;
        }
    }
    if let (Some(path), Some(labels)) = (&a.labels_out, &labels) {
        let compression = mnist_idx::Compression::from_path(path);
        mnist_idx::write(path, &[n], labels, compression)
            .with_context(|| format!("cannot write --labels-out {}", path.display()))?;
        println!("wrote the {n} requested digits to {}", path.display());
    }
    let which = match (a.digit, &labels) {
        (Some(d), _) => format!(" of digit {d}"),
        (None, Some(_)) => " (the trained digits in turn)".to_string(),
        (None, None) => String::new(),
    };
    println!(
        "wrote {n} {}{which} from {} ({source}) to {}",
        if a.raw {
            "raw generator outputs"
        } else {
            "digits"
        },
        run.latest_checkpoint().display(),
        a.out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gan::TrainConfig;

    fn tiny_gan() -> Gan {
        let config = TrainConfig {
            latent: 3,
            g_hidden: vec![5],
            d_hidden: vec![5],
            seed: 7,
            ..TrainConfig::default()
        };
        Gan::new(&config).unwrap()
    }

    #[test]
    fn drawn_noise_gives_the_digits_of_sample_u8() {
        let mut gan = tiny_gan();
        // More than one chunk, so chunking on both sides is exercised.
        let n = CHUNK + 3;
        let noise = gan.noise(n, &mut rng::stream(11, rng::STREAM_SAMPLE));
        let pixels = generate_all(&mut gan, &noise, None).unwrap();
        let ours = gan::data::pixels_to_u8(&pixels, gan.config.output);
        assert_eq!(ours, gan.sample_u8(n, 11).unwrap());
    }

    #[test]
    fn digits_are_asked_of_conditional_runs_only_and_cycle_otherwise() {
        let run = Path::new("runs/x");
        let plain = tiny_gan();
        assert_eq!(labels_for(None, &plain, 3, run).unwrap(), None);
        let err = labels_for(Some(7), &plain, 3, run).unwrap_err().to_string();
        assert!(err.contains("was not trained with --conditional"), "{err}");

        let config = TrainConfig {
            conditional: true,
            digits: "2,7".into(),
            ..plain.config.clone()
        };
        let mut cond = Gan::new(&config).unwrap();
        assert_eq!(
            labels_for(Some(7), &cond, 2, run).unwrap(),
            Some(vec![7, 7])
        );
        assert_eq!(
            labels_for(None, &cond, 3, run).unwrap(),
            Some(vec![2, 7, 2])
        );
        let err = labels_for(Some(3), &cond, 2, run).unwrap_err().to_string();
        assert!(err.contains("trained on the digits [2, 7] only"), "{err}");
        // Chunked generation with labels gives what sample_u8 gives.
        let n = CHUNK + 3;
        let noise = cond.noise(n, &mut rng::stream(11, rng::STREAM_SAMPLE));
        let labels = cond.cycled_labels(n).unwrap();
        let pixels = generate_all(&mut cond, &noise, Some(&labels)).unwrap();
        let ours = gan::data::pixels_to_u8(&pixels, cond.config.output);
        assert_eq!(ours, cond.sample_u8(n, 11).unwrap());
    }

    #[test]
    fn noise_files_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("z.idx");
        mnist_idx::write(&path, &[2, 3], &[0.5f32; 6], mnist_idx::Compression::None).unwrap();
        assert_eq!(read_noise(&path, 3).unwrap().shape(), [2, 3]);
        let err = read_noise(&path, 4).unwrap_err().to_string();
        assert!(
            err.contains("latent 4") && err.contains("3 values"),
            "{err}"
        );

        mnist_idx::write(&path, &[6], &[0.5f32; 6], mnist_idx::Compression::None).unwrap();
        let err = read_noise(&path, 6).unwrap_err().to_string();
        assert!(err.contains("two dimensions"), "{err}");

        let mut values = [0.5f32; 6];
        values[4] = f32::NAN;
        mnist_idx::write(&path, &[2, 3], &values, mnist_idx::Compression::None).unwrap();
        let err = read_noise(&path, 3).unwrap_err().to_string();
        assert!(err.contains("vector 1, element 1"), "{err}");

        mnist_idx::write(&path, &[2, 3], &[1u8; 6], mnist_idx::Compression::None).unwrap();
        let err = format!("{:#}", read_noise(&path, 3).unwrap_err());
        assert!(err.contains("f32 IDX"), "{err}");
    }
}
