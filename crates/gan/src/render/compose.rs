//! Several images side by side, each under a caption: e.g. the grids of a learning-rate sweep.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::IntoFont;

use super::canvas::{draw_rgb, ensure_font, msg, FONT};
use super::image::luma;
use super::{check_size, GrayImage, RenderError, Result};

/// Caption text size in pixels.
const CAPTION_SIZE: f64 = 22.0;
/// White space around everything and between columns, in pixels.
const MARGIN: u32 = 12;
const COLUMN_GAP: u32 = 20;

/// Puts `images` side by side on white, left to right, each centred under its caption (black
/// text, 22 px). A column is as wide as its image or its caption, whichever is wider; images
/// are top-aligned.
///
/// Errors when `images` is empty, an image's pixel buffer does not match its size, or the
/// result would exceed [`super::MAX_SIDE`].
///
/// ```
/// use gan::render::{hstack_labeled, GrayImage};
/// # fn main() -> Result<(), gan::render::RenderError> {
/// let a = GrayImage::filled(80, 80, 0)?;
/// let b = GrayImage::filled(60, 90, 255)?;
/// let sheet = hstack_labeled(&[("lr 2e-4".to_string(), a), ("lr 2e-3".to_string(), b)])?;
/// assert!(sheet.width >= 140 && sheet.height > 90);
/// # Ok(())
/// # }
/// ```
pub fn hstack_labeled(images: &[(String, GrayImage)]) -> Result<GrayImage> {
    if images.is_empty() {
        return Err(RenderError::InvalidInput(
            "nothing to put side by side: no images given".to_string(),
        ));
    }
    ensure_font();
    let font = (FONT, CAPTION_SIZE).into_font();
    let caption_h = (CAPTION_SIZE * 1.6) as u32;
    let mut columns = Vec::with_capacity(images.len());
    for (caption, image) in images {
        image.check()?;
        let text_w = font.box_size(caption).map(|b| b.0).unwrap_or(0);
        columns.push(image.width.max(text_w.saturating_add(8)));
    }
    let total_w = columns
        .iter()
        .fold(u64::from(2 * MARGIN), |acc, &w| acc + u64::from(w))
        + u64::from(COLUMN_GAP) * (images.len() as u64 - 1);
    let tallest = images.iter().map(|(_, i)| i.height).max().unwrap_or(0);
    let total_h = u64::from(2 * MARGIN + caption_h) + u64::from(tallest);
    let (width, height) = check_size("side-by-side image", total_w, total_h)?;

    let lefts: Vec<u32> = columns
        .iter()
        .scan(MARGIN, |x, &w| {
            let left = *x;
            *x += w + COLUMN_GAP;
            Some(left)
        })
        .collect();
    let rgb = draw_rgb(width, height, std::path::Path::new(""), |root| {
        let style = font.color(&BLACK).pos(Pos::new(HPos::Center, VPos::Center));
        for ((caption, _), (&left, &w)) in images.iter().zip(lefts.iter().zip(&columns)) {
            let at = ((left + w / 2) as i32, (MARGIN + caption_h / 2) as i32);
            root.draw(&Text::new(caption.as_str(), at, style.clone()))
                .map_err(msg)?;
        }
        Ok(())
    })?;
    let pixels = rgb
        .chunks_exact(3)
        .map(|p| luma(p[0], p[1], p[2]))
        .collect();
    let mut out = GrayImage::from_pixels(width, height, pixels)?;
    for ((_, image), (&left, &w)) in images.iter().zip(lefts.iter().zip(&columns)) {
        out.blit(image, left + (w - image.width) / 2, MARGIN + caption_h);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_pixels() {
        let a = GrayImage::filled(100, 50, 0).unwrap();
        let b = GrayImage::filled(100, 70, 0).unwrap();
        let out = hstack_labeled(&[("a".into(), a), ("b".into(), b)]).unwrap();
        let caption_h = (CAPTION_SIZE * 1.6) as u32;
        assert_eq!(out.width, 2 * MARGIN + 200 + COLUMN_GAP);
        assert_eq!(out.height, 2 * MARGIN + caption_h + 70);
        // Background white, images black where placed, white under the shorter one.
        assert_eq!(out.get(0, 0), Some(255));
        assert_eq!(out.get(MARGIN, MARGIN + caption_h), Some(0));
        assert_eq!(out.get(MARGIN, MARGIN + caption_h + 60), Some(255));
        assert_eq!(
            out.get(MARGIN + 100 + COLUMN_GAP, MARGIN + caption_h + 60),
            Some(0)
        );
        // Some caption ink.
        let band =
            &out.pixels[(MARGIN * out.width) as usize..((MARGIN + caption_h) * out.width) as usize];
        assert!(band.iter().any(|&p| p < 100), "caption not drawn");
    }

    #[test]
    fn long_caption_widens_its_column() {
        let a = GrayImage::filled(10, 10, 0).unwrap();
        let out = hstack_labeled(&[("a rather long caption".into(), a)]).unwrap();
        assert!(out.width > 10 + 2 * MARGIN + 100, "{}", out.width);
    }

    #[test]
    fn errors() {
        assert!(hstack_labeled(&[]).is_err());
        let bad = GrayImage {
            width: 5,
            height: 5,
            pixels: vec![],
        };
        assert!(matches!(
            hstack_labeled(&[("x".into(), bad)]),
            Err(RenderError::PixelCount { .. })
        ));
        let wide = GrayImage::filled(8000, 1, 0).unwrap();
        let err = hstack_labeled(&[("a".into(), wide.clone()), ("b".into(), wide)]).unwrap_err();
        assert!(err.to_string().contains("limit"), "{err}");
    }
}
