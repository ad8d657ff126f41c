//! The 8-bit grayscale image every function of this module passes around.

use super::{check_size, RenderError, Result};

/// An 8-bit grayscale image, row-major: the pixel at column `x`, row `y` is
/// `pixels[y * width + x]`; 0 is black, 255 is white.
///
/// The fields are public for easy reading. Functions that take a `GrayImage` check that
/// `pixels.len() == width * height` and return [`RenderError::PixelCount`] otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrayImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height` grey levels, row by row from the top.
    pub pixels: Vec<u8>,
}

impl GrayImage {
    /// An image of `width` x `height` pixels all of grey level `fill`.
    ///
    /// Errors when a side is 0 or larger than [`super::MAX_SIDE`].
    pub fn filled(width: u32, height: u32, fill: u8) -> Result<Self> {
        let (width, height) = check_size("image", width.into(), height.into())?;
        Ok(Self {
            width,
            height,
            pixels: vec![fill; width as usize * height as usize],
        })
    }

    /// Wraps `pixels` (row-major, `width * height` of them) as an image.
    pub fn from_pixels(width: u32, height: u32, pixels: Vec<u8>) -> Result<Self> {
        let image = Self {
            width,
            height,
            pixels,
        };
        image.check()?;
        Ok(image)
    }

    /// The grey level at column `x`, row `y`, or `None` outside the image.
    pub fn get(&self, x: u32, y: u32) -> Option<u8> {
        if x >= self.width || y >= self.height {
            return None;
        }
        self.pixels
            .get(y as usize * self.width as usize + x as usize)
            .copied()
    }

    /// Checks that the pixel buffer matches the declared size.
    pub fn check(&self) -> Result<()> {
        let expected = u64::from(self.width) * u64::from(self.height);
        if self.pixels.len() as u64 != expected {
            return Err(RenderError::PixelCount {
                width: self.width,
                height: self.height,
                expected,
                len: self.pixels.len(),
            });
        }
        Ok(())
    }

    /// Copies `src` into `self` with its top-left corner at (`x0`, `y0`), clipping what falls
    /// outside.
    pub(crate) fn blit(&mut self, src: &GrayImage, x0: u32, y0: u32) {
        let (dw, dh) = (self.width as usize, self.height as usize);
        let (sw, sh) = (src.width as usize, src.height as usize);
        let (x0, y0) = (x0 as usize, y0 as usize);
        if x0 >= dw || y0 >= dh {
            return;
        }
        let w = sw.min(dw - x0);
        for y in 0..sh.min(dh - y0) {
            let d = (y0 + y) * dw + x0;
            let s = y * sw;
            if let (Some(dst), Some(row)) =
                (self.pixels.get_mut(d..d + w), src.pixels.get(s..s + w))
            {
                dst.copy_from_slice(row);
            }
        }
    }
}

/// Grey level of an RGB colour (ITU-R BT.601 luma), as a PNG viewer would convert it.
pub(crate) fn luma(r: u8, g: u8, b: u8) -> u8 {
    let y = 299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b);
    ((y + 500) / 1000) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_pixels_checks_length() {
        let err = GrayImage::from_pixels(3, 2, vec![0; 5]).unwrap_err();
        assert_eq!(err.to_string(), "image of 3x2 needs 6 pixels, has 5");
        assert!(GrayImage::from_pixels(3, 2, vec![0; 6]).is_ok());
    }

    #[test]
    fn filled_rejects_empty_and_huge() {
        assert!(GrayImage::filled(0, 5, 0).is_err());
        let err = GrayImage::filled(100_000, 5, 0).unwrap_err();
        assert!(err.to_string().contains("limit"), "{err}");
    }

    #[test]
    fn blit_clips() {
        let mut dst = GrayImage::filled(4, 4, 0).unwrap();
        let src = GrayImage::filled(3, 3, 9).unwrap();
        dst.blit(&src, 2, 2);
        assert_eq!(dst.get(1, 1), Some(0));
        assert_eq!(dst.get(2, 2), Some(9));
        assert_eq!(dst.get(3, 3), Some(9));
        dst.blit(&src, 10, 10);
        assert_eq!(dst.get(4, 4), None);
    }

    #[test]
    fn luma_of_extremes() {
        assert_eq!(luma(0, 0, 0), 0);
        assert_eq!(luma(255, 255, 255), 255);
        assert_eq!(luma(128, 128, 128), 128);
    }
}
