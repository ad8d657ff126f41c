//! `im2col` and `col2im`: the column matrices that turn a convolution into a GEMM (see
//! [`super`]), and the gathers between a group of samples `(S, C, P)` and the channel-major
//! matrix `(C, S·P)` a grouped product reads or writes.
//!
//! A group's column matrix has `ld = S·P` columns: sample `s` owns columns `s·P..(s + 1)·P`.
//! So every function here takes the row stride `ld` of the matrix it reads or writes, and a
//! slice that starts at the sample's first column.

use super::gather;

/// How a window walks over an image of `(channels, h, w)`; the column side has one row per
/// `(channel, ki, kj)` and one column per output position `(oh, ow)` of a `ho × wo` grid.
#[derive(Clone, Copy, Debug)]
pub(super) struct Geometry {
    pub(super) channels: usize,
    pub(super) h: usize,
    pub(super) w: usize,
    pub(super) kh: usize,
    pub(super) kw: usize,
    pub(super) stride: usize,
    pub(super) padding: usize,
    pub(super) ho: usize,
    pub(super) wo: usize,
}

impl Geometry {
    /// Rows of the column matrix: `channels·kh·kw`.
    pub(super) fn rows(&self) -> usize {
        self.channels * self.kh * self.kw
    }

    /// Columns of the column matrix: `ho·wo`.
    pub(super) fn positions(&self) -> usize {
        self.ho * self.wo
    }

    /// Elements of one image.
    pub(super) fn image_len(&self) -> usize {
        self.channels * self.h * self.w
    }
}

/// The output positions `o` in `lo..hi` for which the input index `o·s + k − p` lies in
/// `0..n_in`.
#[cfg(test)]
pub(super) fn valid_range(
    k: usize,
    n_out: usize,
    n_in: usize,
    s: usize,
    p: usize,
) -> (usize, usize) {
    let lo = if k >= p { 0 } else { (p - k).div_ceil(s) };
    let hi = if n_in + p <= k {
        0
    } else {
        ((n_in - 1 + p - k) / s + 1).min(n_out)
    };
    (lo.min(hi), hi)
}

/// The fast `im2col` and `col2im` of one geometry: each image plane is copied into a zero-padded
/// plane, and every row of the column matrix is a gather from it through a table of offsets
/// built once (one per window offset `(ki, kj)`, shared by all channels). No bounds to test per
/// value, no short rows: a 7×7 output with a 4×4 window was 16 rows of 7 values per channel in
/// the direct loops ([`im2col`], [`col2im`], kept as the reference).
pub(super) struct Columns {
    g: Geometry,
    /// `offsets[(ki·kw + kj)·P + oh·Wo + ow] = (oh·s + ki)·pw + ow·s + kj`.
    offsets: Vec<u32>,
    /// Width of the padded plane.
    pw: usize,
    /// The padded plane: `ph × pw`, the image at `(p, p)`.
    plane: Vec<f32>,
}

impl Columns {
    /// The tables of `g` (small: `kh·kw·Ho·Wo` offsets and one padded plane).
    pub(super) fn new(g: &Geometry) -> Columns {
        let (s, p) = (g.stride, g.padding);
        let ph = (g.h + 2 * p).max((g.ho - 1) * s + g.kh);
        let pw = (g.w + 2 * p).max((g.wo - 1) * s + g.kw);
        // A padded plane is at most (H + 2p + kh)·(W + 2p + kw) elements of one image plane,
        // whose sizes the graph's checks have bounded: far below 2³¹.
        let offset = |i: usize| u32::try_from(i).expect("a plane offset within 2³¹");
        let mut offsets = Vec::with_capacity(g.kh * g.kw * g.positions());
        for ki in 0..g.kh {
            for kj in 0..g.kw {
                for oh in 0..g.ho {
                    for ow in 0..g.wo {
                        offsets.push(offset((oh * s + ki) * pw + ow * s + kj));
                    }
                }
            }
        }
        let plane = vec![0.0; ph * pw];
        // The gathers' contract: every offset inside the plane (oh·s + ki < ph, ow·s + kj < pw).
        assert!(gather::in_bounds(&plane, &offsets));
        Columns {
            g: *g,
            offsets,
            pw,
            plane,
        }
    }

    /// [`im2col`]: `img: (C, H, W)` into `C·kh·kw` rows of `Ho·Wo` values, `ld` apart.
    pub(super) fn im2col(&mut self, img: &[f32], cols: &mut [f32], ld: usize) {
        let g = self.g;
        let (p, pos, windows) = (g.padding, g.positions(), g.kh * g.kw);
        for (c, src) in img.chunks_exact(g.h * g.w).enumerate() {
            // Only the interior changes: the border stays zero from `new`.
            for (y, row) in src.chunks_exact(g.w).enumerate() {
                self.plane[(y + p) * self.pw + p..][..g.w].copy_from_slice(row);
            }
            for (win, table) in self.offsets.chunks_exact(pos).enumerate() {
                let dst = &mut cols[(c * windows + win) * ld..][..pos];
                // SAFETY: `new` checked every offset against the plane.
                unsafe { gather::gather(&self.plane, table, dst) };
            }
        }
    }

    /// [`col2im`]: adds `C·kh·kw` rows of `Ho·Wo` values, `ld` apart, into `img: (C, H, W)`.
    pub(super) fn col2im(&mut self, cols: &[f32], ld: usize, img: &mut [f32]) {
        let g = self.g;
        let (p, pos, windows) = (g.padding, g.positions(), g.kh * g.kw);
        for (c, dst) in img.chunks_exact_mut(g.h * g.w).enumerate() {
            self.plane.fill(0.0);
            for (win, table) in self.offsets.chunks_exact(pos).enumerate() {
                let src = &cols[(c * windows + win) * ld..][..pos];
                // SAFETY: `new` checked every offset against the plane.
                unsafe { gather::scatter_add(&mut self.plane, table, src) };
            }
            for (y, row) in dst.chunks_exact_mut(g.w).enumerate() {
                let padded = &self.plane[(y + p) * self.pw + p..][..g.w];
                for (d, v) in row.iter_mut().zip(padded) {
                    *d += v;
                }
            }
        }
        // The border took the padding's share: zero it again for the next im2col.
        self.plane.fill(0.0);
    }
}

/// `cols[(c, ki, kj), (oh, ow)] = img[c, oh·s − p + ki, ow·s − p + kj]`, 0 in the padding.
/// `img: (C, H, W)`; `cols`: `C·kh·kw` rows of `Ho·Wo` values, `ld` apart. The direct loops:
/// the reference of [`Columns::im2col`].
#[cfg(test)]
pub(super) fn im2col(g: &Geometry, img: &[f32], cols: &mut [f32], ld: usize) {
    let (s, p, wo) = (g.stride, g.padding, g.wo);
    for c in 0..g.channels {
        let plane = &img[c * g.h * g.w..][..g.h * g.w];
        for ki in 0..g.kh {
            let (oh_lo, oh_hi) = valid_range(ki, g.ho, g.h, s, p);
            for kj in 0..g.kw {
                let (lo, hi) = valid_range(kj, wo, g.w, s, p);
                let row = &mut cols[((c * g.kh + ki) * g.kw + kj) * ld..][..g.positions()];
                row[..oh_lo * wo].fill(0.0);
                row[oh_hi * wo..].fill(0.0);
                for oh in oh_lo..oh_hi {
                    let src = &plane[(oh * s + ki - p) * g.w..][..g.w];
                    let dst = &mut row[oh * wo..][..wo];
                    dst[..lo].fill(0.0);
                    dst[hi..].fill(0.0);
                    if s == 1 && lo < hi {
                        dst[lo..hi].copy_from_slice(&src[lo + kj - p..hi + kj - p]);
                    } else {
                        for ow in lo..hi {
                            dst[ow] = src[ow * s + kj - p];
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: `img[c, oh·s − p + ki, ow·s − p + kj] += cols[(c, ki, kj), (oh, ow)]`
/// (padding positions are dropped). `cols`: `C·kh·kw` rows of `Ho·Wo` values, `ld` apart;
/// `img: (C, H, W)`. The direct loops: the reference of [`Columns::col2im`].
#[cfg(test)]
pub(super) fn col2im(g: &Geometry, cols: &[f32], ld: usize, img: &mut [f32]) {
    let (s, p, wo) = (g.stride, g.padding, g.wo);
    for c in 0..g.channels {
        let plane = &mut img[c * g.h * g.w..][..g.h * g.w];
        for ki in 0..g.kh {
            let (oh_lo, oh_hi) = valid_range(ki, g.ho, g.h, s, p);
            for kj in 0..g.kw {
                let (lo, hi) = valid_range(kj, wo, g.w, s, p);
                let row = &cols[((c * g.kh + ki) * g.kw + kj) * ld..][..g.positions()];
                for oh in oh_lo..oh_hi {
                    let src = &row[oh * wo..][..wo];
                    let dst = &mut plane[(oh * s + ki - p) * g.w..][..g.w];
                    if s == 1 && lo < hi {
                        let dst = &mut dst[lo + kj - p..hi + kj - p];
                        for (d, v) in dst.iter_mut().zip(&src[lo..hi]) {
                            *d += v;
                        }
                    } else {
                        for ow in lo..hi {
                            dst[ow * s + kj - p] += src[ow];
                        }
                    }
                }
            }
        }
    }
}

/// Copies one sample `x: (C, P)` into its columns of a channel-major matrix: `C` rows of `P`
/// values, `ld` apart, starting at `out`.
pub(super) fn to_channel_major(x: &[f32], positions: usize, out: &mut [f32], ld: usize) {
    for (c, plane) in x.chunks_exact(positions).enumerate() {
        out[c * ld..][..positions].copy_from_slice(plane);
    }
}

/// Writes one sample's columns of a channel-major matrix (`C` rows of `P` values, `ld` apart,
/// starting at `m`) into `y: (C, P)`, plus `bias[c]` to channel `c` when given.
pub(super) fn from_channel_major(
    m: &[f32],
    ld: usize,
    positions: usize,
    bias: Option<&[f32]>,
    y: &mut [f32],
) {
    for (c, plane) in y.chunks_exact_mut(positions).enumerate() {
        let src = &m[c * ld..][..positions];
        match bias {
            Some(b) => {
                for (d, &v) in plane.iter_mut().zip(src) {
                    *d = v + b[c];
                }
            }
            None => plane.copy_from_slice(src),
        }
    }
}

/// Adds one sample's columns of a channel-major matrix (`C` rows of `P` values, `ld` apart,
/// starting at `m`) into `y: (C, P)`.
pub(super) fn add_from_channel_major(m: &[f32], ld: usize, positions: usize, y: &mut [f32]) {
    for (c, plane) in y.chunks_exact_mut(positions).enumerate() {
        for (d, &v) in plane.iter_mut().zip(&m[c * ld..][..positions]) {
            *d += v;
        }
    }
}
