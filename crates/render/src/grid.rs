//! Digits into a picture: a grid of images, each scaled up, white on black as MNIST is shown.

use super::{check_size, GrayImage, RenderError, Result};

/// The range the values of f32 images are in; values outside it are clamped, NaN is black.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelRange {
    /// -1 is black, +1 is white: tanh output, and data scaled to [-1, 1].
    MinusOneToOne,
    /// 0 is black, 1 is white: sigmoid output, and data scaled to [0, 1].
    ZeroToOne,
}

impl PixelRange {
    /// The 8-bit grey level of `v`: clamped into the range, rounded, NaN as black.
    pub fn to_u8(self, v: f32) -> u8 {
        if v.is_nan() {
            return 0;
        }
        let unit = match self {
            PixelRange::MinusOneToOne => (v + 1.0) * 0.5,
            PixelRange::ZeroToOne => v,
        };
        (unit.clamp(0.0, 1.0) * 255.0).round() as u8
    }
}

/// How digits are laid out: `rows` x `cols` cells, each image scaled by `scale` (nearest
/// neighbour), `gap` pixels of grey level `gap_level` between cells and around the grid.
/// Cells without an image are filled with the gap colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GridLayout {
    /// Number of rows of cells.
    pub rows: usize,
    /// Number of columns of cells.
    pub cols: usize,
    /// Integer zoom of each image (3 turns 28 px into 84 px).
    pub scale: u32,
    /// Pixels between cells, and around the grid.
    pub gap: u32,
    /// Grey level of the gaps and of empty cells.
    pub gap_level: u8,
}

impl GridLayout {
    /// Default zoom: 28 px digits become 84 px.
    pub const DEFAULT_SCALE: u32 = 3;
    /// Default gap between cells in pixels.
    pub const DEFAULT_GAP: u32 = 2;
    /// Default gap colour: a mid-dark grey that separates black cells without glaring.
    pub const DEFAULT_GAP_LEVEL: u8 = 96;

    /// A `rows` x `cols` grid with the default zoom, gap and gap colour.
    pub fn new(rows: usize, cols: usize) -> Self {
        Self {
            rows,
            cols,
            scale: Self::DEFAULT_SCALE,
            gap: Self::DEFAULT_GAP,
            gap_level: Self::DEFAULT_GAP_LEVEL,
        }
    }

    /// A grid `cols` wide with just enough rows for `count` images (at least one row).
    pub fn for_count(count: usize, cols: usize) -> Self {
        let rows = if cols == 0 {
            0
        } else {
            count.div_ceil(cols).max(1)
        };
        Self::new(rows, cols)
    }

    /// The same layout with another zoom.
    pub fn with_scale(self, scale: u32) -> Self {
        Self { scale, ..self }
    }

    /// The same layout with another gap width.
    pub fn with_gap(self, gap: u32) -> Self {
        Self { gap, ..self }
    }

    /// Width and height in pixels of the grid for images of `height` x `width`.
    pub fn grid_size(&self, height: usize, width: usize) -> Result<(u32, u32)> {
        if self.rows == 0 || self.cols == 0 {
            return Err(RenderError::InvalidInput(format!(
                "a grid needs at least one row and one column, got {} rows and {} columns",
                self.rows, self.cols
            )));
        }
        if self.scale == 0 {
            return Err(RenderError::InvalidInput(
                "grid scale must be at least 1 (1 keeps the images' size)".to_string(),
            ));
        }
        if height == 0 || width == 0 {
            return Err(RenderError::InvalidInput(format!(
                "images of {height}x{width} pixels cannot be drawn: both sides must be at least 1"
            )));
        }
        let side = |cells: usize, px: usize| -> u64 {
            let cell = (px as u64).saturating_mul(self.scale.into());
            let cells = cells as u64;
            cells
                .saturating_mul(cell)
                .saturating_add(cells.saturating_add(1).saturating_mul(self.gap.into()))
        };
        check_size(
            "digit grid",
            side(self.cols, width),
            side(self.rows, height),
        )
    }
}

/// Draws f32 images (one after the other in `data`, each `height` x `width`, row-major, values
/// in `range`) into a grid: white digits on black, scaled and separated as `layout` says.
///
/// `data` may hold fewer images than the grid has cells (the rest stay empty), not more.
///
/// ```
/// use render::{digit_grid_f32, GridLayout, PixelRange};
/// # fn main() -> Result<(), render::RenderError> {
/// let two = vec![-1.0f32; 2 * 28 * 28];
/// let grid = digit_grid_f32(&two, 28, 28, PixelRange::MinusOneToOne, &GridLayout::new(1, 2))?;
/// assert_eq!((grid.width, grid.height), (2 * 84 + 3 * 2, 84 + 2 * 2));
/// # Ok(())
/// # }
/// ```
pub fn digit_grid_f32(
    data: &[f32],
    height: usize,
    width: usize,
    range: PixelRange,
    layout: &GridLayout,
) -> Result<GrayImage> {
    build_grid(data, height, width, layout, |v| range.to_u8(v))
}

/// Draws 8-bit images (0 black .. 255 white, as MNIST stores them) into a grid; see
/// [`digit_grid_f32`].
pub fn digit_grid_u8(
    data: &[u8],
    height: usize,
    width: usize,
    layout: &GridLayout,
) -> Result<GrayImage> {
    build_grid(data, height, width, layout, |v| v)
}

fn build_grid<T: Copy>(
    data: &[T],
    height: usize,
    width: usize,
    layout: &GridLayout,
    level: impl Fn(T) -> u8,
) -> Result<GrayImage> {
    let (gw, gh) = layout.grid_size(height, width)?;
    let per_image = height * width; // fits: each side is bounded by grid_size
    if !data.len().is_multiple_of(per_image) {
        return Err(RenderError::InvalidInput(format!(
            "got {} values, not a whole number of {height}x{width} images ({per_image} values each)",
            data.len()
        )));
    }
    let count = data.len() / per_image;
    let cells = layout.rows * layout.cols; // bounded: grid_size checked the pixel size
    if count > cells {
        return Err(RenderError::InvalidInput(format!(
            "{count} images do not fit a grid of {} rows and {} columns ({cells} cells)",
            layout.rows, layout.cols
        )));
    }
    let mut out = GrayImage::filled(gw, gh, layout.gap_level)?;
    let s = layout.scale as usize;
    let gap = layout.gap as usize;
    let (cell_w, cell_h) = (width * s, height * s);
    let stride = gw as usize;
    let mut row_buf = vec![0u8; cell_w];
    for (i, image) in data.chunks_exact(per_image).enumerate() {
        let x0 = gap + (i % layout.cols) * (cell_w + gap);
        let y0 = gap + (i / layout.cols) * (cell_h + gap);
        for (y, src_row) in image.chunks_exact(width).enumerate() {
            for (dst, &v) in row_buf.chunks_exact_mut(s).zip(src_row) {
                dst.fill(level(v));
            }
            for dy in 0..s {
                let start = (y0 + y * s + dy) * stride + x0;
                if let Some(dst) = out.pixels.get_mut(start..start + cell_w) {
                    dst.copy_from_slice(&row_buf);
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dimensions_follow_layout() {
        let data = vec![0.0f32; 64 * 784];
        let g = digit_grid_f32(
            &data,
            28,
            28,
            PixelRange::MinusOneToOne,
            &GridLayout::new(8, 8),
        )
        .unwrap();
        assert_eq!(g.width, 8 * 84 + 9 * 2);
        assert_eq!(g.height, 8 * 84 + 9 * 2);
        assert_eq!(g.pixels.len(), (g.width * g.height) as usize);
        let g = digit_grid_u8(
            &[0; 6],
            2,
            3,
            &GridLayout::new(2, 1).with_scale(1).with_gap(0),
        )
        .unwrap();
        assert_eq!((g.width, g.height), (3, 4));
    }

    #[test]
    fn black_white_and_grey_gaps() {
        // Image 0 all -1 (black), image 1 all +1 (white), cell 2 empty.
        let mut data = vec![-1.0f32; 784];
        data.extend(vec![1.0f32; 784]);
        let layout = GridLayout::new(1, 3);
        let g = digit_grid_f32(&data, 28, 28, PixelRange::MinusOneToOne, &layout).unwrap();
        let gap = GridLayout::DEFAULT_GAP_LEVEL;
        assert_eq!(g.get(0, 0), Some(gap)); // outer border
        assert_eq!(g.get(2, 2), Some(0)); // first pixel of cell 0
        assert_eq!(g.get(2 + 83, 2 + 83), Some(0)); // last pixel of cell 0
        assert_eq!(g.get(2 + 84, 40), Some(gap)); // gap between cells 0 and 1
        assert_eq!(g.get(2 + 84 + 1, 40), Some(gap));
        assert_eq!(g.get(2 + 84 + 2, 40), Some(255)); // cell 1 starts white
        assert_eq!(g.get(2 + 2 * 86 + 10, 40), Some(gap)); // empty cell 2
        assert_eq!(g.get(g.width - 1, g.height - 1), Some(gap));
    }

    #[test]
    fn scaling_is_nearest_neighbour() {
        // A 2x2 image [0 255; 255 0] scaled 3x without gaps.
        let g = digit_grid_u8(&[0, 255, 255, 0], 2, 2, &GridLayout::new(1, 1).with_gap(0)).unwrap();
        assert_eq!((g.width, g.height), (6, 6));
        assert_eq!(&g.pixels[0..6], &[0, 0, 0, 255, 255, 255]);
        assert_eq!(&g.pixels[18..24], &[255, 255, 255, 0, 0, 0]);
    }

    #[test]
    fn values_are_clamped_and_ranges_differ() {
        let r = PixelRange::MinusOneToOne;
        assert_eq!(r.to_u8(-5.0), 0);
        assert_eq!(r.to_u8(5.0), 255);
        assert_eq!(r.to_u8(0.0), 128);
        assert_eq!(r.to_u8(f32::NAN), 0);
        assert_eq!(r.to_u8(f32::INFINITY), 255);
        let r = PixelRange::ZeroToOne;
        assert_eq!(r.to_u8(0.0), 0);
        assert_eq!(r.to_u8(0.5), 128);
        assert_eq!(r.to_u8(1.0), 255);
        assert_eq!(r.to_u8(-1.0), 0);
    }

    #[test]
    fn errors_are_explained() {
        let e = |data: &[f32], h, w, layout: GridLayout| {
            digit_grid_f32(data, h, w, PixelRange::ZeroToOne, &layout)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            e(&[0.0; 4], 2, 2, GridLayout::new(1, 0)),
            "a grid needs at least one row and one column, got 1 rows and 0 columns"
        );
        assert!(e(&[0.0; 5], 2, 2, GridLayout::new(2, 2)).contains("not a whole number"));
        assert_eq!(
            e(&[0.0; 20], 2, 2, GridLayout::new(2, 2)),
            "5 images do not fit a grid of 2 rows and 2 columns (4 cells)"
        );
        assert!(e(&[], 0, 2, GridLayout::new(1, 1)).contains("at least 1"));
        assert!(e(&[], 2, 2, GridLayout::new(1, 1).with_scale(0)).contains("scale"));
        assert!(e(&[], 28, 28, GridLayout::new(1, usize::MAX)).contains("limit"));
    }

    #[test]
    fn empty_data_gives_an_empty_grid() {
        let g = digit_grid_f32(&[], 28, 28, PixelRange::ZeroToOne, &GridLayout::new(2, 2)).unwrap();
        assert!(g.pixels.iter().all(|&p| p == GridLayout::DEFAULT_GAP_LEVEL));
    }

    #[test]
    fn for_count_rounds_rows_up() {
        assert_eq!(GridLayout::for_count(10, 4).rows, 3);
        assert_eq!(GridLayout::for_count(0, 4).rows, 1);
        assert_eq!(GridLayout::for_count(5, 0).rows, 0);
    }
}
