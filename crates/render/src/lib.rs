//! Draws digit grids, line and bar charts, captioned compositions and GIF animations into PNG
//! and GIF files, and the parts of HTML pages that show them, written atomically; it knows images and numbers, not how they were made.
//!
//! Everything here writes files atomically: the bytes go to a temporary file in the destination
//! folder, which is then renamed into place, so a reader never sees half a PNG.
//!
//! | file | what it makes |
//! |---|---|
//! | [`grid`] | a grid of digits as an 8-bit grayscale image ([`digit_grid_f32`], [`digit_grid_u8`]) |
//! | [`io`] | PNG in and out ([`save_png`], [`load_png_gray`]) |
//! | [`animation`] | a looping GIF of grids ([`GifAnimation`]) |
//! | [`plot`] | line charts ([`save_line_chart`]) |
//! | [`bar`] | bar charts, e.g. the class histogram ([`save_bar_chart`]) |
//! | [`compose`] | grids side by side or stacked with captions, labelled rows ([`hstack_labeled`], [`vstack_labeled`], [`label_rows`]) |
//! | [`html`] | parts of self-contained HTML pages: frame with inline CSS, tables, figures ([`html::Page`]) |
//!
//! ```no_run
//! use render::{digit_grid_f32, save_png, GridLayout, PixelRange};
//!
//! # fn main() -> Result<(), render::RenderError> {
//! // 64 generated digits of 28x28 in [-1, 1] (tanh output), one after the other.
//! let batch = vec![0.0f32; 64 * 28 * 28];
//! let grid = digit_grid_f32(&batch, 28, 28, PixelRange::MinusOneToOne, &GridLayout::new(8, 8))?;
//! save_png(&grid, "samples/epoch-0001.png")?;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

use std::path::PathBuf;

pub mod animation;
mod axes;
pub mod bar;
mod canvas;
pub mod compose;
#[cfg(test)]
mod gallery;
pub mod grid;
pub mod html;
pub mod image;
pub mod io;
mod legend;
mod number;
pub mod plot;

pub use animation::{epoch_sample_paths, GifAnimation};
pub use axes::MIN_CHART_SIZE;
pub use bar::{save_bar_chart, BarChart};
pub use compose::{hstack_labeled, label_rows, row_label_width, vstack_labeled};
pub use grid::{digit_grid_f32, digit_grid_u8, GridLayout, PixelRange};
pub use image::GrayImage;
pub use io::{load_png_gray, save_png};
pub use plot::{save_line_chart, LineChart, RefLine, Series};

/// Largest width or height, in pixels, of any image or chart this module makes or reads.
///
/// It bounds what a wrong argument or a hostile PNG header can make us allocate.
pub const MAX_SIDE: u32 = 8_192;

/// Everything that can go wrong while rendering or writing an image, chart or animation.
///
/// Grouped by who caused it: the file system (`Read`, `Write`), a file's content (`Decode`),
/// the caller's arguments (`InvalidInput`, `FrameSize`, `PixelCount`, `TooLarge`), or an encoder
/// or the chart library (`Encode`, `Draw`). Messages name the file and the problem.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A file could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file we tried to read.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A file (or its temporary sibling, or its folder) could not be written.
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        /// The file we tried to write.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A file was read but its content is not what we can use.
    #[error("{}: {message}", path.display())]
    Decode {
        /// The file we read.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// An encoder (PNG, GIF) refused the data.
    #[error("{}: cannot encode {format}: {message}", path.display())]
    Encode {
        /// The file we were making.
        path: PathBuf,
        /// `"PNG"` or `"GIF"`.
        format: &'static str,
        /// What the encoder said.
        message: String,
    },
    /// The chart library failed while drawing.
    #[error("{}: cannot draw: {message}", path.display())]
    Draw {
        /// The file we were making (empty for in-memory drawing).
        path: PathBuf,
        /// What the chart library said.
        message: String,
    },
    /// An argument is out of its domain; the message says which and what is accepted.
    #[error("{0}")]
    InvalidInput(String),
    /// Animation frames differ in size.
    #[error(
        "frames have different sizes: 0 is {}x{}, {index} is {}x{}{}",
        first.0, first.1, size.0, size.1,
        path.as_ref().map(|p| format!(" ({})", p.display())).unwrap_or_default()
    )]
    FrameSize {
        /// Width and height of frame 0.
        first: (u32, u32),
        /// Index of the first frame whose size differs.
        index: usize,
        /// Width and height of that frame.
        size: (u32, u32),
        /// The file that frame came from, when it came from a file.
        path: Option<PathBuf>,
    },
    /// A [`GrayImage`] whose pixel buffer does not match its width and height.
    #[error("image of {width}x{height} needs {expected} pixels, has {len}")]
    PixelCount {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// `width * height`.
        expected: u64,
        /// Actual length of the pixel buffer.
        len: usize,
    },
    /// An image or chart would exceed [`MAX_SIDE`] on a side.
    #[error("{what} would be {width}x{height} pixels, more than the limit of {MAX_SIDE} per side")]
    TooLarge {
        /// What we were about to make.
        what: String,
        /// Requested width (saturated at `u64::MAX`).
        width: u64,
        /// Requested height (saturated at `u64::MAX`).
        height: u64,
    },
}

/// Shorthand for results of this module.
pub type Result<T, E = RenderError> = std::result::Result<T, E>;

/// Checks that a `width` x `height` image is within [`MAX_SIDE`] and not empty.
pub(crate) fn check_size(what: &str, width: u64, height: u64) -> Result<(u32, u32)> {
    if width == 0 || height == 0 {
        return Err(RenderError::InvalidInput(format!(
            "{what} would be {width}x{height} pixels: width and height must be at least 1"
        )));
    }
    if width > u64::from(MAX_SIDE) || height > u64::from(MAX_SIDE) {
        return Err(RenderError::TooLarge {
            what: what.to_string(),
            width,
            height,
        });
    }
    // Both fit in u32 because MAX_SIDE does.
    Ok((width as u32, height as u32))
}
