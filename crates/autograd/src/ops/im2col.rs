//! `im2col` and `col2im`: the column matrices that turn a convolution into one GEMM per sample
//! (see [`super::conv`]).

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

    /// A 1×1 window with stride 1 and no padding: the columns are the image itself.
    pub(super) fn is_identity(&self) -> bool {
        self.kh == 1 && self.kw == 1 && self.stride == 1 && self.padding == 0
    }

    /// The length of a column buffer (0 when the image serves as its own columns).
    pub(super) fn scratch_len(&self) -> usize {
        if self.is_identity() {
            0
        } else {
            self.rows() * self.positions()
        }
    }
}

/// The output positions `o` in `lo..hi` for which the input index `o·s + k − p` lies in
/// `0..n_in`.
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

/// `cols[(c, ki, kj), (oh, ow)] = img[c, oh·s − p + ki, ow·s − p + kj]`, 0 in the padding.
/// `img: (C, H, W)`, `cols: (C·kh·kw, Ho·Wo)`.
pub(super) fn im2col(g: &Geometry, img: &[f32], cols: &mut [f32]) {
    let (s, p, wo) = (g.stride, g.padding, g.wo);
    for c in 0..g.channels {
        let plane = &img[c * g.h * g.w..][..g.h * g.w];
        for ki in 0..g.kh {
            let (oh_lo, oh_hi) = valid_range(ki, g.ho, g.h, s, p);
            for kj in 0..g.kw {
                let (lo, hi) = valid_range(kj, wo, g.w, s, p);
                let row =
                    &mut cols[((c * g.kh + ki) * g.kw + kj) * g.positions()..][..g.positions()];
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
/// (padding positions are dropped). `cols: (C·kh·kw, Ho·Wo)`, `img: (C, H, W)`.
pub(super) fn col2im(g: &Geometry, cols: &[f32], img: &mut [f32]) {
    let (s, p, wo) = (g.stride, g.padding, g.wo);
    for c in 0..g.channels {
        let plane = &mut img[c * g.h * g.w..][..g.h * g.w];
        for ki in 0..g.kh {
            let (oh_lo, oh_hi) = valid_range(ki, g.ho, g.h, s, p);
            for kj in 0..g.kw {
                let (lo, hi) = valid_range(kj, wo, g.w, s, p);
                let row = &cols[((c * g.kh + ki) * g.kw + kj) * g.positions()..][..g.positions()];
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

/// The column matrix of `img`: `img` itself for an identity geometry, else [`im2col`] into
/// `scratch`.
pub(super) fn columns<'a>(g: &Geometry, img: &'a [f32], scratch: &'a mut [f32]) -> &'a [f32] {
    if g.is_identity() {
        img
    } else {
        im2col(g, img, scratch);
        scratch
    }
}
