//! Latent-space traversal: what a trained generator draws along paths through its noise space.
//!
//! [`traversal_sheet`] draws one picture with up to three sections, each a grid whose rows are
//! paths and whose columns are steps along them:
//! - straight lines (lerp) between pairs of random noise vectors,
//! - great-circle arcs (slerp) between the same pairs,
//! - sweeps of single coordinates of one random point, from `-range` to `+range`;
//! - for a class-conditional generator, one row per digit with one random point per column.
//!
//! In the first three sections of a conditional run, row `r` draws the `r`-th trained digit
//! (cycling).
//!
//! [`loop_animation`] makes a looping GIF of a grid of digits, each walking its own closed
//! slerp loop through a few random points.
//!
//! Every random choice comes from [`rng::STREAM_TRAVERSE`] of the seed, each purpose from its
//! own far-apart part of that stream: the pairs of a `--mode lerp` sheet are those of the
//! `--mode all` sheet, and the same seed gives the same picture.
//!
//! ```no_run
//! use gan::traverse::{traversal_sheet, SheetOptions};
//! # fn main() -> gan::Result<()> {
//! let mut gan = gan::RunDir::open("runs/run-001")?.load_gan()?;
//! let sheet = traversal_sheet(&mut gan, &SheetOptions::default())?;
//! render::save_png(&sheet, "traverse.png")?;
//! # Ok(())
//! # }
//! ```

mod paths;

pub use paths::{coordinate_sweeps, interpolate_rows, lerp, slerp, slerp_loop, Interpolation};

use crate::data::pixel_range;
use crate::error::{GanError, Result};
use crate::model::IMAGE_PIXELS;
use crate::rng;
use crate::train::Gan;
use autograd::{BufferPool, Tensor};
use rand_chacha::ChaCha8Rng;
use render::{GifAnimation, GrayImage, GridLayout};

/// Side of a digit in pixels.
const SIDE: usize = 28;

/// Where in [`rng::STREAM_TRAVERSE`] each purpose draws from: part `p` starts at word
/// `p << PART_SHIFT`, so parts never overlap (each holds 2^40 words).
const PART_SHIFT: u32 = 40;
const PART_ENDS: u128 = 0;
const PART_BASE: u128 = 1;
const PART_COORDS: u128 = 2;
const PART_LOOPS: u128 = 3;
const PART_DIGITS: u128 = 4;

fn part(seed: u64, p: u128) -> ChaCha8Rng {
    rng::restore(seed, rng::STREAM_TRAVERSE, p << PART_SHIFT)
}

/// A section of the traversal sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Straight lines between pairs of random points.
    Lerp,
    /// Great-circle arcs between the same pairs.
    Slerp,
    /// Sweeps of single coordinates of one random point.
    Coords,
    /// Conditional generators only: one row per digit, each column one random point (the same
    /// handwriting style across the digits). Added to every sheet of a conditional run.
    Digits,
}

/// What [`traversal_sheet`] draws.
#[derive(Debug, Clone, PartialEq)]
pub struct SheetOptions {
    /// The sections, top to bottom.
    pub sections: Vec<Section>,
    /// Paths per interpolation section (one per row).
    pub rows: usize,
    /// Points along each path, ends included (one per column).
    pub steps: usize,
    /// A sweep moves its coordinate from `-range` to `+range`.
    pub range: f32,
    /// The coordinates to sweep, one row each; `None`: `rows` distinct random ones, in order.
    pub coords: Option<Vec<usize>>,
    /// The seed of every random choice.
    pub seed: u64,
}

impl Default for SheetOptions {
    /// All three sections, 8 rows of 10 steps, sweeps from -3 to +3, seed 0.
    fn default() -> Self {
        Self {
            sections: vec![Section::Lerp, Section::Slerp, Section::Coords],
            rows: 8,
            steps: 10,
            range: 3.0,
            coords: None,
            seed: 0,
        }
    }
}

/// The coordinates a sheet sweeps for a latent size of `latent`: `options.coords`, or
/// `min(rows, latent)` distinct ones drawn from the seed, in increasing order.
pub fn sweep_coordinates(options: &SheetOptions, latent: usize) -> Vec<usize> {
    match &options.coords {
        Some(coords) => coords.clone(),
        None => {
            let mut r = part(options.seed, PART_COORDS);
            let mut coords =
                rand::seq::index::sample(&mut r, latent, options.rows.min(latent)).into_vec();
            coords.sort_unstable();
            coords
        }
    }
}

/// The latent points of one section: `[rows * steps, latent]`, each row's caption, and for a
/// conditional generator each point's digit.
fn section_latents(
    gan: &Gan,
    section: Section,
    options: &SheetOptions,
) -> Result<(Tensor, Vec<String>, Option<Vec<u8>>)> {
    let (z, captions) = section_points(gan, section, options)?;
    if !gan.generator.conditional() {
        return Ok((z, captions, None));
    }
    let digits = gan.config.digit_list()?;
    let steps = options.steps;
    let rows = z.shape()[0] / steps.max(1);
    let classes = (0..rows)
        .flat_map(|r| std::iter::repeat_n(digits[r % digits.len()], steps))
        .collect();
    Ok((z, captions, Some(classes)))
}

/// The latent points of one section and each row's caption.
fn section_points(
    gan: &Gan,
    section: Section,
    options: &SheetOptions,
) -> Result<(Tensor, Vec<String>)> {
    let (rows, steps) = (options.rows, options.steps);
    let numbered = || (1..=rows).map(|r| r.to_string()).collect();
    match section {
        Section::Digits => {
            let digits = gan.config.digit_list()?;
            let columns = gan.noise(steps, &mut part(options.seed, PART_DIGITS));
            let mut z = Tensor::zeros(&[digits.len() * steps, gan.config.latent]);
            for row in z.data_mut().chunks_exact_mut(columns.len()) {
                row.copy_from_slice(columns.data());
            }
            Ok((z, digits.iter().map(|d| d.to_string()).collect()))
        }
        Section::Lerp | Section::Slerp => {
            // Pair r is rows 2r and 2r + 1 of the draw, so it does not depend on `rows`.
            let ends = gan.noise(2 * rows, &mut part(options.seed, PART_ENDS));
            let latent = gan.config.latent;
            let (mut from, mut to) = (Vec::new(), Vec::new());
            for (i, point) in ends.data().chunks_exact(latent).enumerate() {
                if i % 2 == 0 { &mut from } else { &mut to }.extend_from_slice(point);
            }
            let from = Tensor::from_vec(&[rows, latent], from)?;
            let to = Tensor::from_vec(&[rows, latent], to)?;
            let how = match section {
                Section::Lerp => Interpolation::Lerp,
                _ => Interpolation::Slerp,
            };
            Ok((interpolate_rows(&from, &to, steps, how)?, numbered()))
        }
        Section::Coords => {
            let base = gan.noise(1, &mut part(options.seed, PART_BASE));
            let coords = sweep_coordinates(options, gan.config.latent);
            let labels = coords.iter().map(|c| format!("z[{c}]")).collect();
            let z = coordinate_sweeps(base.data(), &coords, options.range, steps)?;
            Ok((z, labels))
        }
    }
}

fn caption(section: Section, options: &SheetOptions) -> String {
    let (rows, steps) = (options.rows, options.steps);
    match section {
        Section::Lerp => {
            format!("Straight lines (lerp) between {rows} pairs of random points, {steps} steps")
        }
        Section::Slerp if options.sections.contains(&Section::Lerp) => {
            "Great-circle arcs (slerp) between the same pairs".to_string()
        }
        Section::Slerp => format!(
            "Great-circle arcs (slerp) between {rows} pairs of random points, {steps} steps"
        ),
        Section::Coords => format!(
            "One coordinate of a random point from \u{2212}{r} to +{r}, the others fixed",
            r = options.range
        ),
        Section::Digits => {
            format!("Each digit from the same {steps} random points, one per column")
        }
    }
}

fn check_sheet(options: &SheetOptions) -> Result<()> {
    if options.sections.is_empty() {
        return Err(GanError::InvalidInput(
            "a traversal sheet needs at least one section (lerp, slerp or coords)".into(),
        ));
    }
    let interpolates = options
        .sections
        .iter()
        .any(|s| matches!(s, Section::Lerp | Section::Slerp));
    let random_coords = options.sections.contains(&Section::Coords) && options.coords.is_none();
    if options.rows == 0 && (interpolates || random_coords) {
        return Err(GanError::InvalidInput(
            "0 rows: ask for at least one row".into(),
        ));
    }
    Ok(())
}

/// The digits `gan` draws at the latent points `z` (`[n, latent]`), as a grid of `cols`
/// columns (white on black, the render module's default zoom and gaps).
fn digit_grid(
    gan: &mut Gan,
    z: &Tensor,
    classes: Option<&[u8]>,
    cols: usize,
    pool: &mut BufferPool,
) -> Result<GrayImage> {
    let pixels = match classes {
        Some(_) => gan.generate_labeled(z, classes, pool)?,
        None => gan.generate(z, pool)?,
    };
    let layout = GridLayout::for_count(pixels.len() / IMAGE_PIXELS, cols);
    Ok(render::digit_grid_f32(
        &pixels,
        SIDE,
        SIDE,
        pixel_range(gan.config.output),
        &layout,
    )?)
}

/// Draws the traversal sheet of `gan`: the sections of `options`, top to bottom, each under
/// its caption, every row labelled on the left (the number of its pair of end points, which
/// the lerp and slerp sections share, or `z[i]` for the sweep of coordinate `i`).
///
/// Errors when `options` asks for no section, no rows or fewer than 2 steps, sweeps a
/// coordinate the generator does not have or a range that is not a positive number, or when
/// the picture would be too large.
pub fn traversal_sheet(gan: &mut Gan, options: &SheetOptions) -> Result<GrayImage> {
    check_sheet(options)?;
    let mut pool = BufferPool::new();
    let layout = GridLayout::new(1, 1);
    let pitch = SIDE as u32 * layout.scale + layout.gap;
    let centre = |row: usize| layout.gap + row as u32 * pitch + (pitch - layout.gap) / 2;
    let mut sections = options.sections.clone();
    if !gan.generator.conditional() && sections.contains(&Section::Digits) {
        return Err(GanError::InvalidInput(
            "the digits section needs a class-conditional generator (train with --conditional)"
                .into(),
        ));
    }
    if gan.generator.conditional() && !sections.contains(&Section::Digits) {
        sections.push(Section::Digits);
    }
    let mut grids = Vec::with_capacity(sections.len());
    for &section in &sections {
        let (z, labels, classes) = section_latents(gan, section, options)?;
        let grid = digit_grid(gan, &z, classes.as_deref(), options.steps, &mut pool)?;
        grids.push((caption(section, options), grid, labels));
    }
    let width = grids
        .iter()
        .map(|(_, _, labels)| render::row_label_width(labels))
        .max()
        .unwrap_or(0);
    let mut labelled = Vec::with_capacity(grids.len());
    for (caption, grid, labels) in grids {
        let at: Vec<(u32, String)> = labels
            .into_iter()
            .enumerate()
            .map(|(row, label)| (centre(row), label))
            .collect();
        labelled.push((caption, render::label_rows(&grid, &at, width)?));
    }
    Ok(render::vstack_labeled(&labelled)?)
}

/// What [`loop_animation`] draws.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoopOptions {
    /// The animation shows `grid × grid` digits.
    pub grid: usize,
    /// Random points on each digit's loop (at least 2).
    pub points: usize,
    /// Frames from one point to the next.
    pub frames_per_leg: usize,
    /// Milliseconds per frame (GIF rounds to 10 ms).
    pub delay_ms: u32,
    /// The seed of the points.
    pub seed: u64,
}

impl Default for LoopOptions {
    /// 4 × 4 digits, loops through 4 points, 12 frames per leg at 80 ms (about 4 s a loop).
    fn default() -> Self {
        Self {
            grid: 4,
            points: 4,
            frames_per_leg: 12,
            delay_ms: 80,
            seed: 0,
        }
    }
}

/// A looping animation of `grid × grid` digits, each walking its own closed path: slerp
/// through `points` random latent points and back to the first, so that the animation loops
/// without a jump (every frame is shown equally long).
///
/// Errors when `grid` is 0, `points < 2` or `frames_per_leg` is 0, or the frames would be too
/// large.
pub fn loop_animation(gan: &mut Gan, options: &LoopOptions) -> Result<GifAnimation> {
    if options.grid == 0 {
        return Err(GanError::InvalidInput(
            "an animation of a 0 × 0 grid shows nothing: ask for a grid of at least 1".into(),
        ));
    }
    let digits = options.grid * options.grid;
    let mut r = part(options.seed, PART_LOOPS);
    let paths = (0..digits)
        .map(|_| slerp_loop(&gan.noise(options.points, &mut r), options.frames_per_leg))
        .collect::<Result<Vec<Tensor>>>()?;
    let frames = options.points * options.frames_per_leg;
    let latent = gan.config.latent;
    let mut pool = BufferPool::new();
    let mut gif = GifAnimation::new(options.delay_ms).with_last_frame_hold(1);
    let mut z = Tensor::zeros(&[digits, latent]);
    for f in 0..frames {
        for (row, path) in z.data_mut().chunks_exact_mut(latent).zip(&paths) {
            row.copy_from_slice(&path.data()[f * latent..(f + 1) * latent]);
        }
        gif.push(digit_grid(gan, &z, None, options.grid, &mut pool)?)?;
    }
    Ok(gif)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TrainConfig;

    /// A small untrained generator: enough to check layout and determinism quickly.
    fn tiny_gan() -> Gan {
        let config = TrainConfig {
            latent: 6,
            g_hidden: vec![16],
            d_hidden: vec![16],
            ..TrainConfig::default()
        };
        Gan::new(&config).unwrap()
    }

    #[test]
    fn the_same_seed_gives_the_same_sheet_and_another_seed_another() {
        let mut gan = tiny_gan();
        let options = SheetOptions {
            rows: 3,
            steps: 4,
            ..SheetOptions::default()
        };
        let a = traversal_sheet(&mut gan, &options).unwrap();
        let b = traversal_sheet(&mut gan, &options).unwrap();
        assert_eq!(a, b);
        let other = SheetOptions {
            seed: 1,
            ..options.clone()
        };
        assert_ne!(a, traversal_sheet(&mut gan, &other).unwrap());
        // Three sections of 3 rows of 86 px, stacked, 4 columns wide plus labels.
        assert!(
            a.height > 3 * 3 * 86 && a.width > 4 * 86,
            "{}x{}",
            a.width,
            a.height
        );
    }

    #[test]
    fn a_conditional_sheet_adds_a_row_per_digit() {
        let config = TrainConfig {
            conditional: true,
            digits: "1,4,7".into(),
            ..tiny_gan().config
        };
        let mut gan = Gan::new(&config).unwrap();
        let options = SheetOptions {
            sections: vec![Section::Lerp],
            rows: 2,
            steps: 4,
            ..SheetOptions::default()
        };
        let (z, captions, classes) = section_latents(&gan, Section::Digits, &options).unwrap();
        assert_eq!(captions, ["1", "4", "7"]);
        let classes = classes.unwrap();
        assert_eq!(&classes[..5], &[1, 1, 1, 1, 4]);
        let latent = config.latent;
        // Each column keeps its point across the rows.
        assert_eq!(z.data()[..4 * latent], z.data()[8 * latent..12 * latent]);
        let conditional = traversal_sheet(&mut gan, &options).unwrap();
        let mut plain = tiny_gan();
        let err = traversal_sheet(
            &mut plain,
            &SheetOptions {
                sections: vec![Section::Digits],
                ..options.clone()
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("class-conditional"), "{err}");
        // 2 lerp rows, then 3 digit rows: taller than the lerp section alone.
        let lerp_only = traversal_sheet(&mut plain, &options).unwrap();
        assert!(conditional.height > lerp_only.height + 2 * 86);
    }

    #[test]
    fn single_sections_share_the_random_points_of_the_full_sheet() {
        let gan = tiny_gan();
        let all = SheetOptions::default();
        let lerp_only = SheetOptions {
            sections: vec![Section::Lerp],
            ..SheetOptions::default()
        };
        let (z_all, _) = section_points(&gan, Section::Lerp, &all).unwrap();
        let (z_one, _) = section_points(&gan, Section::Lerp, &lerp_only).unwrap();
        assert_eq!(z_all.data(), z_one.data());
        // Lerp and slerp rows share their end points.
        let (z_slerp, labels) = section_points(&gan, Section::Slerp, &all).unwrap();
        let (steps, latent) = (all.steps, 6);
        for row in 0..all.rows {
            for s in [0, steps - 1] {
                let at = (row * steps + s) * latent;
                assert_eq!(
                    z_all.data()[at..at + latent],
                    z_slerp.data()[at..at + latent]
                );
            }
        }
        assert_eq!(labels.len(), all.rows);
        // Fewer rows: the first pairs of the longer sheet.
        let fewer = SheetOptions {
            rows: 3,
            ..SheetOptions::default()
        };
        let (z_few, _) = section_points(&gan, Section::Lerp, &fewer).unwrap();
        assert_eq!(z_few.data(), &z_all.data()[..3 * steps * latent]);
    }

    #[test]
    fn random_coordinates_are_distinct_sorted_and_in_range() {
        let options = SheetOptions::default();
        let coords = sweep_coordinates(&options, 100);
        assert_eq!(coords.len(), 8);
        assert!(coords.windows(2).all(|w| w[0] < w[1]) && coords[7] < 100);
        assert_eq!(sweep_coordinates(&options, 5), vec![0, 1, 2, 3, 4]);
        let given = SheetOptions {
            coords: Some(vec![5, 0]),
            ..options
        };
        assert_eq!(sweep_coordinates(&given, 100), vec![5, 0]);
    }

    #[test]
    fn bad_options_are_explained() {
        let mut gan = tiny_gan();
        let err = |o: SheetOptions| {
            traversal_sheet(&mut tiny_gan(), &o)
                .unwrap_err()
                .to_string()
        };
        let base = SheetOptions::default();
        assert!(err(SheetOptions {
            coords: Some(vec![6]),
            ..base.clone()
        })
        .contains("0 to 5"));
        assert!(err(SheetOptions {
            steps: 1,
            ..base.clone()
        })
        .contains("at least 2 steps"));
        assert!(err(SheetOptions {
            rows: 0,
            ..base.clone()
        })
        .contains("at least one row"));
        assert!(err(SheetOptions {
            sections: vec![],
            ..base.clone()
        })
        .contains("at least one section"));
        // Only given coordinates need no rows.
        let coords_only = SheetOptions {
            sections: vec![Section::Coords],
            rows: 0,
            coords: Some(vec![1, 2]),
            ..base
        };
        assert!(traversal_sheet(&mut gan, &coords_only).is_ok());
    }

    #[test]
    fn the_animation_loops_through_its_frames() {
        let mut gan = tiny_gan();
        let options = LoopOptions {
            grid: 2,
            points: 3,
            frames_per_leg: 2,
            ..LoopOptions::default()
        };
        let gif = loop_animation(&mut gan, &options).unwrap();
        assert_eq!(gif.len(), 6);
        assert!(loop_animation(
            &mut gan,
            &LoopOptions {
                grid: 0,
                ..options.clone()
            }
        )
        .is_err());
        assert!(loop_animation(
            &mut gan,
            &LoopOptions {
                points: 1,
                ..options
            }
        )
        .is_err());
    }
}
