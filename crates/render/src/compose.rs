//! Several images side by side or one above the other, each under a caption (e.g. the grids of
//! a learning-rate sweep, the sections of a latent traversal), and labels beside rows of a grid.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::IntoFont;

use super::canvas::{draw_rgb, ensure_font, msg, FONT};
use super::image::luma;
use super::{check_size, GrayImage, RenderError, Result};

/// Caption text size in pixels.
const CAPTION_SIZE: f64 = 22.0;
/// Row label text size in pixels.
const ROW_LABEL_SIZE: f64 = 18.0;
/// White space around everything, between columns and between sections, in pixels.
const MARGIN: u32 = 12;
const COLUMN_GAP: u32 = 20;
const SECTION_GAP: u32 = 24;
/// White space between a row label and its row.
const LABEL_PAD: u32 = 8;

/// A text to draw: what, where (pixels) and how it is anchored there.
struct Placed {
    text: String,
    at: (i32, i32),
    size: f64,
    anchor: Pos,
}

/// A white `width` x `height` grey image with `texts` drawn on it in black.
fn text_canvas(width: u32, height: u32, texts: &[Placed]) -> Result<GrayImage> {
    let rgb = draw_rgb(width, height, std::path::Path::new(""), |root| {
        for t in texts {
            let style = (FONT, t.size).into_font().color(&BLACK).pos(t.anchor);
            root.draw(&Text::new(t.text.as_str(), t.at, style))
                .map_err(msg)?;
        }
        Ok(())
    })?;
    let pixels = rgb
        .chunks_exact(3)
        .map(|p| luma(p[0], p[1], p[2]))
        .collect();
    GrayImage::from_pixels(width, height, pixels)
}

/// The width in pixels of `text` at `size`.
fn text_width(text: &str, size: f64) -> u32 {
    ensure_font();
    (FONT, size)
        .into_font()
        .box_size(text)
        .map(|b| b.0)
        .unwrap_or(0)
}

/// Puts `images` side by side on white, left to right, each centred under its caption (black
/// text, 22 px). A column is as wide as its image or its caption, whichever is wider; images
/// are top-aligned.
///
/// Errors when `images` is empty, an image's pixel buffer does not match its size, or the
/// result would exceed [`super::MAX_SIDE`].
///
/// ```
/// use render::{hstack_labeled, GrayImage};
/// # fn main() -> Result<(), render::RenderError> {
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
    let caption_h = (CAPTION_SIZE * 1.6) as u32;
    let mut columns = Vec::with_capacity(images.len());
    for (caption, image) in images {
        image.check()?;
        let text_w = text_width(caption, CAPTION_SIZE);
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
    let captions: Vec<Placed> = images
        .iter()
        .zip(lefts.iter().zip(&columns))
        .map(|((caption, _), (&left, &w))| Placed {
            text: caption.clone(),
            at: ((left + w / 2) as i32, (MARGIN + caption_h / 2) as i32),
            size: CAPTION_SIZE,
            anchor: Pos::new(HPos::Center, VPos::Center),
        })
        .collect();
    let mut out = text_canvas(width, height, &captions)?;
    for ((_, image), (&left, &w)) in images.iter().zip(lefts.iter().zip(&columns)) {
        out.blit(image, left + (w - image.width) / 2, MARGIN + caption_h);
    }
    Ok(out)
}

/// Stacks `images` top to bottom on white, each under its caption (black text, 22 px,
/// left-aligned with its image). Images are left-aligned; the result is as wide as the widest
/// image or caption.
///
/// Errors when `images` is empty, an image's pixel buffer does not match its size, or the
/// result would exceed [`super::MAX_SIDE`].
///
/// ```
/// use render::{vstack_labeled, GrayImage};
/// # fn main() -> Result<(), render::RenderError> {
/// let a = GrayImage::filled(80, 40, 0)?;
/// let b = GrayImage::filled(60, 50, 255)?;
/// let sheet = vstack_labeled(&[("lerp".to_string(), a), ("slerp".to_string(), b)])?;
/// assert!(sheet.width >= 80 && sheet.height > 90);
/// # Ok(())
/// # }
/// ```
pub fn vstack_labeled(images: &[(String, GrayImage)]) -> Result<GrayImage> {
    if images.is_empty() {
        return Err(RenderError::InvalidInput(
            "nothing to stack: no images given".to_string(),
        ));
    }
    let caption_h = (CAPTION_SIZE * 1.6) as u32;
    let mut widest = 0u32;
    for (caption, image) in images {
        image.check()?;
        widest = widest
            .max(image.width)
            .max(text_width(caption, CAPTION_SIZE));
    }
    let tops: Vec<u64> = images
        .iter()
        .scan(u64::from(MARGIN), |y, (_, image)| {
            let top = *y;
            *y += u64::from(caption_h) + u64::from(image.height) + u64::from(SECTION_GAP);
            Some(top)
        })
        .collect();
    let total_h = tops.last().copied().unwrap_or(0)
        + u64::from(caption_h)
        + images.last().map_or(0, |(_, i)| u64::from(i.height))
        + u64::from(MARGIN);
    let total_w = u64::from(widest) + u64::from(2 * MARGIN);
    let (width, height) = check_size("stacked image", total_w, total_h)?;
    // Every top is below `height`, which fits in u32.
    let captions: Vec<Placed> = images
        .iter()
        .zip(&tops)
        .map(|((caption, _), &top)| Placed {
            text: caption.clone(),
            at: (MARGIN as i32, (top + u64::from(caption_h / 2)) as i32),
            size: CAPTION_SIZE,
            anchor: Pos::new(HPos::Left, VPos::Center),
        })
        .collect();
    let mut out = text_canvas(width, height, &captions)?;
    for ((_, image), &top) in images.iter().zip(&tops) {
        out.blit(image, MARGIN, top as u32 + caption_h);
    }
    Ok(out)
}

/// The width of the band [`label_rows`] needs for `labels`: the widest label (18 px text)
/// plus padding.
pub fn row_label_width<S: AsRef<str>>(labels: &[S]) -> u32 {
    labels
        .iter()
        .map(|l| text_width(l.as_ref(), ROW_LABEL_SIZE))
        .max()
        .unwrap_or(0)
        + 2 * LABEL_PAD
}

/// `image` widened by a white band of `width` pixels on its left, holding each label
/// right-aligned next to the image, centred on its row: `labels` are `(y, text)`, `y` the
/// centre of the row in `image`'s pixels. Use [`row_label_width`] for a `width` that fits,
/// or the widest of several so that grids labelled separately line up.
///
/// Errors when `image`'s pixel buffer does not match its size or the result would exceed
/// [`super::MAX_SIDE`].
pub fn label_rows(image: &GrayImage, labels: &[(u32, String)], width: u32) -> Result<GrayImage> {
    image.check()?;
    let (out_w, out_h) = check_size(
        "labelled image",
        u64::from(image.width) + u64::from(width),
        u64::from(image.height),
    )?;
    let right = width.saturating_sub(LABEL_PAD) as i32;
    let texts: Vec<Placed> = labels
        .iter()
        .map(|(y, text)| Placed {
            text: text.clone(),
            at: (right, (*y).min(out_h) as i32),
            size: ROW_LABEL_SIZE,
            anchor: Pos::new(HPos::Right, VPos::Center),
        })
        .collect();
    let mut out = text_canvas(out_w, out_h, &texts)?;
    out.blit(image, width, 0);
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
    fn vstack_layout_and_pixels() {
        let a = GrayImage::filled(100, 50, 0).unwrap();
        let b = GrayImage::filled(60, 30, 0).unwrap();
        let out = vstack_labeled(&[("first".into(), a), ("second".into(), b)]).unwrap();
        let caption_h = (CAPTION_SIZE * 1.6) as u32;
        assert_eq!(out.width, 2 * MARGIN + 100);
        assert_eq!(
            out.height,
            2 * MARGIN + 2 * caption_h + 50 + 30 + SECTION_GAP
        );
        // First image under its caption, second under the first, both left-aligned.
        assert_eq!(out.get(MARGIN, MARGIN + caption_h), Some(0));
        assert_eq!(out.get(MARGIN + 99, MARGIN + caption_h + 49), Some(0));
        let top_b = MARGIN + caption_h + 50 + SECTION_GAP + caption_h;
        assert_eq!(out.get(MARGIN, top_b), Some(0));
        assert_eq!(out.get(MARGIN + 59, top_b + 29), Some(0));
        assert_eq!(out.get(MARGIN + 60, top_b), Some(255));
        assert_eq!(out.get(MARGIN, top_b - 1), Some(255));
        // Each caption has ink in its band, left of the middle.
        for band_top in [MARGIN, MARGIN + caption_h + 50 + SECTION_GAP] {
            let ink = (band_top..band_top + caption_h)
                .flat_map(|y| (0..out.width / 2).map(move |x| (x, y)))
                .any(|(x, y)| out.get(x, y).is_some_and(|p| p < 100));
            assert!(ink, "no caption at y {band_top}");
        }
        assert!(vstack_labeled(&[]).is_err());
        let tall = GrayImage::filled(1, 5000, 0).unwrap();
        let err = vstack_labeled(&[("a".into(), tall.clone()), ("b".into(), tall)]).unwrap_err();
        assert!(err.to_string().contains("limit"), "{err}");
    }

    #[test]
    fn row_labels_sit_left_of_their_rows() {
        let grid = GrayImage::filled(50, 100, 0).unwrap();
        let labels = vec![(25, "z[3]".to_string()), (75, "z[17]".to_string())];
        let width = row_label_width(&["z[3]", "z[17]"]);
        assert!(width > 2 * LABEL_PAD && width < 100, "{width}");
        let out = label_rows(&grid, &labels, width).unwrap();
        assert_eq!((out.width, out.height), (50 + width, 100));
        assert_eq!(out.get(width, 0), Some(0));
        assert_eq!(out.get(0, 0), Some(255));
        let ink_in = |y0: u32, y1: u32| {
            (y0..y1).any(|y| (0..width).any(|x| out.get(x, y).is_some_and(|p| p < 100)))
        };
        assert!(ink_in(15, 35) && ink_in(65, 85), "labels not drawn");
        assert!(!ink_in(40, 60), "ink between the rows");
        assert!(row_label_width(&["a much longer label"]) > width);
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
