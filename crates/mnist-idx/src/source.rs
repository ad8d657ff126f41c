//! Where the bytes come from: gzip is recognised by its magic bytes (`1f 8b`), never by a file
//! name, and decompressed on the fly.

use std::io::{self, BufReader, Chain, Cursor, Read};

use flate2::bufread::MultiGzDecoder;

use crate::header::read_full;

/// Buffer size for the raw file or the compressed stream. Large enough that reads are few; the
/// data itself is read in [`CHUNK`](crate::stream) pieces past the buffer.
const BUF_SIZE: usize = 128 * 1024;

type Sniffed<R> = Chain<Cursor<Vec<u8>>, R>;

/// A byte source that decompresses gzip when the input starts with the gzip magic bytes.
pub(crate) enum Source<R: Read> {
    Raw(BufReader<Sniffed<R>>),
    Gzip {
        decoder: Box<MultiGzDecoder<BufReader<Sniffed<R>>>>,
        /// The compressed stream ended before its end marker and checksum: reads then return
        /// `Ok(0)`, so the caller reports truncated data with the byte count it got.
        ended_early: bool,
    },
}

impl<R: Read> Source<R> {
    /// Looks at the first two bytes (and puts them back) to choose raw or gzip.
    pub(crate) fn new(mut inner: R) -> io::Result<Self> {
        let mut magic = [0u8; 2];
        let got = read_full(&mut inner, &mut magic)?;
        let is_gzip = got == 2 && magic == [0x1f, 0x8b];
        let sniffed = Cursor::new(magic[..got].to_vec()).chain(inner);
        let buffered = BufReader::with_capacity(BUF_SIZE, sniffed);
        Ok(if is_gzip {
            Source::Gzip {
                decoder: Box::new(MultiGzDecoder::new(buffered)),
                ended_early: false,
            }
        } else {
            Source::Raw(buffered)
        })
    }

    pub(crate) fn is_gzip(&self) -> bool {
        matches!(self, Source::Gzip { .. })
    }

    /// Whether a gzip stream ended before its end marker and checksum.
    pub(crate) fn ended_early(&self) -> bool {
        matches!(
            self,
            Source::Gzip {
                ended_early: true,
                ..
            }
        )
    }
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::Raw(r) => r.read(buf),
            Source::Gzip {
                ended_early: true, ..
            } => Ok(0),
            Source::Gzip {
                decoder,
                ended_early,
            } => match decoder.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    *ended_early = true;
                    Ok(0)
                }
                other => other,
            },
        }
    }
}
