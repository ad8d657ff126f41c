//! Looping GIF animations of grayscale frames, e.g. the sample grid of every epoch.
//!
//! [`GifAnimation`] is the one way to make a GIF: push frames (images with
//! [`GifAnimation::push`], PNG files with [`GifAnimation::push_png`]), then
//! [`GifAnimation::save`]. The training loop saves `samples/epoch-0001.png`,
//! `samples/epoch-0002.png`, ... and after each epoch rebuilds the animation from all of them:
//!
//! ```no_run
//! use render::{epoch_sample_paths, GifAnimation};
//! # fn main() -> Result<(), render::RenderError> {
//! let mut gif = GifAnimation::new(500);
//! for png in epoch_sample_paths("runs/x/samples")? {
//!     gif.push_png(png)?;
//! }
//! gif.save("runs/x/progress.gif")?;
//! # Ok(())
//! # }
//! ```

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use super::io::{load_png_gray, write_atomic};
use super::{GrayImage, RenderError, Result};

/// How many times longer than the others the last frame stays, so the final state can be seen.
pub const LAST_FRAME_HOLD: u32 = 3;

/// An animation built one frame at a time, then saved with [`GifAnimation::save`].
///
/// All frames must have the size of the first; they are held in memory until saved (a frame
/// of 8 × 8 digits is about 60 KB).
#[derive(Debug, Clone)]
pub struct GifAnimation {
    frames: Vec<GrayImage>,
    delay_ms: u32,
    last_frame_hold: u32,
}

impl GifAnimation {
    /// An empty animation showing each frame `delay_ms` milliseconds (GIF counts in
    /// hundredths of a second, so this is rounded to 10 ms) and the last one
    /// [`LAST_FRAME_HOLD`] times as long.
    pub fn new(delay_ms: u32) -> Self {
        Self {
            frames: Vec::new(),
            delay_ms,
            last_frame_hold: LAST_FRAME_HOLD,
        }
    }

    /// The same animation with the last frame shown `factor` times the delay (at least 1).
    pub fn with_last_frame_hold(self, factor: u32) -> Self {
        Self {
            last_frame_hold: factor.max(1),
            ..self
        }
    }

    /// Appends a frame; errors if its size differs from the first frame's.
    pub fn push(&mut self, frame: GrayImage) -> Result<()> {
        frame.check()?;
        if let Some(first) = self.frames.first() {
            check_same_size(first, &frame, self.frames.len(), None)?;
        }
        self.frames.push(frame);
        Ok(())
    }

    /// Appends the PNG at `path` (read as grey) as a frame.
    pub fn push_png(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let frame = load_png_gray(path)?;
        if let Some(first) = self.frames.first() {
            check_same_size(first, &frame, self.frames.len(), Some(path))?;
        }
        self.frames.push(frame);
        Ok(())
    }

    /// Number of frames so far.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether no frame was added yet.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Writes the animation as a GIF looping forever at `path`, atomically.
    ///
    /// Errors when no frame was pushed or when a side exceeds 65535 pixels.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let n = self.frames.len();
        let mut enc = GifWriter::new(path, self.frames.first(), self.delay_ms)?;
        for (i, frame) in self.frames.iter().enumerate() {
            enc.frame(frame, i + 1 == n, self.last_frame_hold)?;
        }
        enc.finish()
    }
}

/// The files `epoch-<N>.png` in `dir`, in increasing order of `N` (so `epoch-10000.png`
/// comes after `epoch-9999.png`). Other files are ignored.
pub fn epoch_sample_paths(dir: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
    let dir = dir.as_ref();
    let read_err = |source| RenderError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_err)? {
        let entry = entry.map_err(read_err)?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let number = name
            .strip_prefix("epoch-")
            .and_then(|s| s.strip_suffix(".png"))
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<u64>().ok());
        if let Some(n) = number {
            found.push((n, entry.path()));
        }
    }
    found.sort();
    Ok(found.into_iter().map(|(_, p)| p).collect())
}

fn no_frames(path: &Path) -> RenderError {
    RenderError::InvalidInput(format!(
        "{}: an animation needs at least one frame, got none",
        path.display()
    ))
}

fn check_same_size(
    first: &GrayImage,
    frame: &GrayImage,
    index: usize,
    path: Option<&Path>,
) -> Result<()> {
    if (first.width, first.height) != (frame.width, frame.height) {
        return Err(RenderError::FrameSize {
            first: (first.width, first.height),
            index,
            size: (frame.width, frame.height),
            path: path.map(Path::to_path_buf),
        });
    }
    Ok(())
}

/// A GIF encoder over an in-memory buffer, written out atomically by `finish`.
struct GifWriter<'p> {
    path: &'p Path,
    encoder: gif::Encoder<Vec<u8>>,
    delay_cs: u16,
}

impl<'p> GifWriter<'p> {
    fn new(path: &'p Path, first: Option<&GrayImage>, delay_ms: u32) -> Result<Self> {
        let first = first.ok_or_else(|| no_frames(path))?;
        let too_large = || {
            RenderError::InvalidInput(format!(
                "{}: frames of {}x{} pixels are too large for a GIF (at most 65535 per side)",
                path.display(),
                first.width,
                first.height
            ))
        };
        let w = u16::try_from(first.width).map_err(|_| too_large())?;
        let h = u16::try_from(first.height).map_err(|_| too_large())?;
        let palette: Vec<u8> = (0..=255u8).flat_map(|g| [g, g, g]).collect();
        let mut encoder =
            gif::Encoder::new(Vec::new(), w, h, &palette).map_err(|e| enc(path, e))?;
        encoder
            .set_repeat(gif::Repeat::Infinite)
            .map_err(|e| enc(path, e))?;
        let delay_cs = u16::try_from(delay_ms.saturating_add(5) / 10).unwrap_or(u16::MAX);
        Ok(Self {
            path,
            encoder,
            delay_cs,
        })
    }

    fn frame(&mut self, image: &GrayImage, last: bool, hold: u32) -> Result<()> {
        image.check()?;
        let delay = if last {
            u16::try_from(u32::from(self.delay_cs).saturating_mul(hold)).unwrap_or(u16::MAX)
        } else {
            self.delay_cs
        };
        // Grey level g is palette index g, so the pixels are the indices as they are.
        let frame = gif::Frame {
            width: image.width as u16,
            height: image.height as u16,
            buffer: Cow::Borrowed(&image.pixels),
            delay,
            ..gif::Frame::default()
        };
        self.encoder
            .write_frame(&frame)
            .map_err(|e| enc(self.path, e))
    }

    fn finish(self) -> Result<()> {
        let path = self.path;
        let bytes = self.encoder.into_inner().map_err(|e| enc(path, e))?;
        write_atomic(path, &bytes)
    }
}

fn enc(path: &Path, e: impl std::fmt::Display) -> RenderError {
    RenderError::Encode {
        path: path.to_path_buf(),
        format: "GIF",
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::save_png;
    use super::*;

    fn frame(w: u32, h: u32, level: u8) -> GrayImage {
        GrayImage::filled(w, h, level).unwrap()
    }

    /// Decodes a GIF: (frames as grey levels, delays, repeat).
    fn decode(path: &Path) -> (Vec<Vec<u8>>, Vec<u16>, gif::Repeat) {
        let mut opts = gif::DecodeOptions::new();
        opts.set_color_output(gif::ColorOutput::Indexed);
        let mut dec = opts.read_info(std::fs::File::open(path).unwrap()).unwrap();
        let (mut frames, mut delays) = (Vec::new(), Vec::new());
        while let Some(f) = dec.read_next_frame().unwrap() {
            frames.push(f.buffer.to_vec());
            delays.push(f.delay);
        }
        (frames, delays, dec.repeat())
    }

    #[test]
    fn gif_round_trip_loops_and_holds_last_frame() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("progress.gif");
        let mut gif = GifAnimation::new(200);
        for level in [0, 128, 255] {
            gif.push(frame(5, 4, level)).unwrap();
        }
        gif.save(&path).unwrap();
        let (decoded, delays, repeat) = decode(&path);
        assert_eq!(decoded.len(), 3);
        assert_eq!(decoded[1], vec![128; 20]);
        assert_eq!(delays, vec![20, 20, 60]);
        assert_eq!(repeat, gif::Repeat::Infinite);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temp file left"
        );
    }

    #[test]
    fn gif_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.gif");
        let msg = GifAnimation::new(100).save(&path).unwrap_err().to_string();
        assert!(msg.contains("at least one frame"), "{msg}");
        let mut gif = GifAnimation::new(100);
        for _ in 0..3 {
            gif.push(frame(254, 254, 0)).unwrap();
        }
        let msg = gif.push(frame(100, 100, 0)).unwrap_err().to_string();
        assert_eq!(
            msg,
            "frames have different sizes: 0 is 254x254, 3 is 100x100"
        );
        assert_eq!(gif.len(), 3);
        assert!(!path.exists());
    }

    #[test]
    fn gif_from_epoch_pngs_in_numeric_order() {
        let dir = tempfile::tempdir().unwrap();
        for (n, level) in [(2, 20u8), (10, 100), (1, 10), (10000, 200)] {
            save_png(
                &frame(3, 3, level),
                dir.path().join(format!("epoch-{n:04}.png")),
            )
            .unwrap();
        }
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        std::fs::write(dir.path().join("epoch-.png"), "x").unwrap();
        let paths = epoch_sample_paths(dir.path()).unwrap();
        let names: Vec<_> = paths
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "epoch-0001.png",
                "epoch-0002.png",
                "epoch-0010.png",
                "epoch-10000.png"
            ]
        );
        let gif_path = dir.path().join("progress.gif");
        let mut gif = GifAnimation::new(500);
        for p in &paths {
            gif.push_png(p).unwrap();
        }
        gif.save(&gif_path).unwrap();
        let (decoded, delays, _) = decode(&gif_path);
        let firsts: Vec<u8> = decoded.iter().map(|f| f[0]).collect();
        assert_eq!(firsts, vec![10, 20, 100, 200]);
        assert_eq!(delays, vec![50, 50, 50, 150]);

        // A frame of another size names its file.
        let odd = dir.path().join("epoch-0003.png");
        save_png(&frame(4, 4, 0), &odd).unwrap();
        let paths = epoch_sample_paths(dir.path()).unwrap();
        let mut gif = GifAnimation::new(500);
        let msg = paths
            .iter()
            .try_for_each(|p| gif.push_png(p))
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("frames have different sizes: 0 is 3x3, 2 is 4x4 ("),
            "{msg}"
        );
        assert!(msg.contains("epoch-0003.png"), "{msg}");
    }

    #[test]
    fn incremental_builder() {
        let dir = tempfile::tempdir().unwrap();
        let mut anim = GifAnimation::new(100).with_last_frame_hold(1);
        assert!(anim.is_empty());
        anim.push(frame(2, 2, 1)).unwrap();
        assert!(anim.push(frame(3, 2, 1)).is_err());
        let png = dir.path().join("f.png");
        save_png(&frame(2, 2, 7), &png).unwrap();
        anim.push_png(&png).unwrap();
        assert_eq!(anim.len(), 2);
        let path = dir.path().join("a.gif");
        anim.save(&path).unwrap();
        let (decoded, delays, _) = decode(&path);
        assert_eq!(decoded, vec![vec![1; 4], vec![7; 4]]);
        assert_eq!(delays, vec![10, 10]);
        assert!(GifAnimation::new(1).save(&path).is_err());
    }
}
