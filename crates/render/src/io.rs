//! PNG in and out, and the atomic write every file of this module goes through.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use super::image::{luma, GrayImage};
use super::{RenderError, Result, MAX_SIDE};

/// Writes `bytes` to `path` atomically: to a temporary file in the same folder, flushed to
/// disk, then renamed over `path`. On failure the temporary file is removed and `path` is left
/// as it was. The folder must exist.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    mnist_idx::atomic::write_file(path, bytes).map_err(|source| RenderError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Encodes 8-bit pixels (`channels` 1 = grey, 3 = RGB) as PNG bytes; `path` is for messages.
pub(crate) fn encode_png(
    width: u32,
    height: u32,
    channels: u8,
    pixels: &[u8],
    path: &Path,
) -> Result<Vec<u8>> {
    let color = match channels {
        1 => png::ColorType::Grayscale,
        _ => png::ColorType::Rgb,
    };
    let enc_err = |e: png::EncodingError| RenderError::Encode {
        path: path.to_path_buf(),
        format: "PNG",
        message: e.to_string(),
    };
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(color);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(enc_err)?;
        writer.write_image_data(pixels).map_err(enc_err)?;
        writer.finish().map_err(enc_err)?;
    }
    Ok(out)
}

/// Writes `image` as an 8-bit grayscale PNG at `path`, atomically (temporary file in the same
/// folder, then rename). The folder must exist.
///
/// ```no_run
/// # fn main() -> Result<(), render::RenderError> {
/// let img = render::GrayImage::filled(84, 84, 0)?;
/// render::save_png(&img, "black.png")?;
/// # Ok(())
/// # }
/// ```
pub fn save_png(image: &GrayImage, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    image.check()?;
    super::check_size("PNG image", image.width.into(), image.height.into())?;
    let bytes = encode_png(image.width, image.height, 1, &image.pixels, path)?;
    write_atomic(path, &bytes)
}

/// Writes RGB pixels (3 bytes each) as a PNG at `path`, atomically.
pub(crate) fn save_rgb_png(width: u32, height: u32, rgb: &[u8], path: &Path) -> Result<()> {
    let bytes = encode_png(width, height, 3, rgb, path)?;
    write_atomic(path, &bytes)
}

/// Reads any PNG (grey, grey+alpha, RGB, RGBA, palette; 1 to 16 bits) as 8-bit grey.
///
/// Colour is converted to luma (BT.601), alpha is ignored, 16-bit samples keep their high byte.
/// Images larger than [`MAX_SIDE`] on a side are refused before any pixel is allocated.
pub fn load_png_gray(path: impl AsRef<Path>) -> Result<GrayImage> {
    let path = path.as_ref();
    let decode_err = |message: String| RenderError::Decode {
        path: path.to_path_buf(),
        message,
    };
    let file = File::open(path).map_err(|source| RenderError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut decoder = png::Decoder::new(BufReader::new(file));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(|e| match e {
        png::DecodingError::IoError(source) => RenderError::Read {
            path: path.to_path_buf(),
            source,
        },
        e => decode_err(format!("not a readable PNG: {e}")),
    })?;
    let (width, height) = reader.info().size();
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(decode_err(format!(
            "PNG is {width}x{height} pixels, more than the limit of {MAX_SIDE} per side"
        )));
    }
    let (color, _) = reader.output_color_type();
    let channels = color.samples();
    let mut buf = vec![0u8; reader.output_buffer_size()];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| decode_err(format!("not a readable PNG: {e}")))?;
    let (w, h) = (info.width as usize, info.height as usize);
    let mut pixels = Vec::with_capacity(w * h);
    for y in 0..h {
        let start = y * info.line_size;
        let row = buf
            .get(start..start + w * channels)
            .ok_or_else(|| decode_err("PNG row shorter than its width".to_string()))?;
        for px in row.chunks_exact(channels) {
            pixels.push(match px {
                [g] | [g, _] => *g,
                [r, g, b] | [r, g, b, _] => luma(*r, *g, *b),
                _ => 0,
            });
        }
    }
    GrayImage::from_pixels(info.width, info.height, pixels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn no_temp_files(dir: &Path) -> bool {
        fs::read_dir(dir)
            .unwrap()
            .all(|e| !e.unwrap().file_name().to_string_lossy().ends_with(".tmp"))
    }

    #[test]
    fn png_round_trip_and_no_temp_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        let img = GrayImage::from_pixels(3, 2, vec![0, 50, 100, 150, 200, 255]).unwrap();
        save_png(&img, &path).unwrap();
        assert_eq!(load_png_gray(&path).unwrap(), img);
        // Overwriting works too and leaves only the one file.
        save_png(&img, &path).unwrap();
        assert!(no_temp_files(dir.path()));
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn rgb_png_reads_as_luma() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rgb.png");
        save_rgb_png(2, 1, &[255, 255, 255, 255, 0, 0], &path).unwrap();
        let img = load_png_gray(&path).unwrap();
        assert_eq!(img.pixels, vec![255, luma(255, 0, 0)]);
    }

    #[test]
    fn write_into_missing_folder_names_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("epoch-0001.png");
        let img = GrayImage::filled(2, 2, 0).unwrap();
        let msg = save_png(&img, &path).unwrap_err().to_string();
        assert!(
            msg.starts_with(&format!("{}: cannot write: ", path.display())),
            "{msg}"
        );
        assert!(msg.contains("os error"), "{msg}");
    }

    #[test]
    fn bad_pixel_count_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let img = GrayImage {
            width: 4,
            height: 4,
            pixels: vec![0; 3],
        };
        let err = save_png(&img, dir.path().join("x.png")).unwrap_err();
        assert!(matches!(err, RenderError::PixelCount { len: 3, .. }));
        assert!(no_temp_files(dir.path()));
    }

    #[test]
    fn reading_garbage_and_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junk.png");
        fs::write(&path, b"not a png at all").unwrap();
        let msg = load_png_gray(&path).unwrap_err().to_string();
        assert!(
            msg.starts_with(&format!("{}: not a readable PNG", path.display())),
            "{msg}"
        );
        let missing = dir.path().join("nope.png");
        let msg = load_png_gray(&missing).unwrap_err().to_string();
        assert!(msg.contains("cannot read"), "{msg}");
    }
}
