//! The drawing surface shared by charts and captions: the bundled font, an in-memory RGB
//! canvas for plotters, and the colours and text sizes every chart uses.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, RGBColor};

use super::{check_size, RenderError, Result};

/// DejaVu Sans (Bitstream Vera licence, see `assets/DejaVuSans-LICENSE.txt`).
static DEJAVU_SANS: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// The font family every text of this module is drawn with.
pub(crate) const FONT: &str = "sans-serif";

/// Registers the bundled font with plotters, once per process; safe from any thread.
pub(crate) fn ensure_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for family in ["sans-serif", "serif", "monospace"] {
            // Cannot fail for the bundled file; if it ever did, drawing text reports an error.
            let _ = plotters::style::register_font(family, FontStyle::Normal, DEJAVU_SANS);
        }
    });
}

/// The drawing area handed to a [`draw_rgb`] closure.
pub(crate) type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// Converts any drawing error to a message.
pub(crate) fn msg<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Draws on a white `width` x `height` RGB canvas with `draw` and returns its pixels
/// (3 bytes each, row-major). `path` only names the file in error messages.
pub(crate) fn draw_rgb(
    width: u32,
    height: u32,
    path: &Path,
    draw: impl FnOnce(&Area<'_>) -> std::result::Result<(), String>,
) -> Result<Vec<u8>> {
    ensure_font();
    let (width, height) = check_size("chart", width.into(), height.into())?;
    let mut buf = vec![255u8; width as usize * height as usize * 3];
    {
        let backend =
            BitMapBackend::with_buffer_and_format(&mut buf, (width, height)).map_err(|e| {
                RenderError::Draw {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                }
            })?;
        let root = backend.into_drawing_area();
        draw(&root)
            .and_then(|()| root.present().map_err(msg))
            .map_err(|message| RenderError::Draw {
                path: path.to_path_buf(),
                message,
            })?;
    }
    Ok(buf)
}

/// Tableau 10 (matplotlib's default cycle): ten colours that stay apart on white and for
/// most colour-blind readers; series beyond ten reuse them.
pub(crate) const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Colour of the `i`-th series.
pub(crate) fn series_color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Dark grey for text and axes: softer than black, still high contrast.
pub(crate) const INK: RGBColor = RGBColor(40, 40, 40);

/// Text sizes in pixels for a chart `height` pixels tall (tuned on 900x600: title 28,
/// axis labels 22, tick labels 18, legend 20).
pub(crate) struct TextSizes {
    /// Chart title.
    pub title: f64,
    /// Axis descriptions.
    pub label: f64,
    /// Tick values.
    pub tick: f64,
    /// Legend entries and values printed on bars.
    pub legend: f64,
}

impl TextSizes {
    /// Sizes for a chart of the given pixel size, scaled from 600 px tall and kept readable.
    pub(crate) fn for_chart(width: u32, height: u32) -> Self {
        let s = (f64::from(height) / 600.0)
            .min(f64::from(width) / 900.0)
            .clamp(0.6, 3.0);
        Self {
            title: 28.0 * s,
            label: 22.0 * s,
            tick: 18.0 * s,
            legend: 20.0 * s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn font_registration_is_idempotent_across_threads() {
        let handles: Vec<_> = (0..4).map(|_| std::thread::spawn(ensure_font)).collect();
        for h in handles {
            h.join().unwrap();
        }
        let buf = draw_rgb(120, 40, Path::new("t"), |root| {
            root.draw(&Text::new(
                "Hi",
                (5, 5),
                (FONT, 20.0).into_font().color(&BLACK),
            ))
            .map_err(msg)
        })
        .unwrap();
        assert!(buf.iter().any(|&b| b < 128), "text drew nothing");
    }
}
