//! Blocked products for the [`avx512`] micro-kernel.
//!
//! The loops of the classic blocked product: columns of `C` in blocks of [`NC`], depth in
//! blocks of [`KC`] (the block of `B` is packed into panels of [`NR`] columns that stay in the
//! L2 cache), rows in blocks of [`MC`] (packed into strips of [`MR`] rows); then one tile per
//! strip and panel. Packing reads any strided view, with 16 × 16 register transposes where the
//! view runs the other way than the packed layout: no transpose copy first. (Reading `A` in
//! place instead of packing it was measured slower: rows of a row-major `A` 4 KiB apart fall in
//! the same L1 cache sets.) The first depth block writes `α·S + β·C`, later ones add
//! `α·S` to it: each element of `C` sums its depth blocks in order, whatever the column range a
//! call computes, so splitting `C` by columns between threads keeps every bit.

use super::avx512::{self, Update, MR, NR};
use super::MatRef;
use std::cell::RefCell;

/// Depth of a block: a packed strip (`KC·MR`) and panel (`KC·NR`) stay in the L1 cache.
const KC: usize = 256;
/// Rows of `A` packed at a time (`MC·KC` values, 120 KiB, in the L2 cache): whole strips.
const MC: usize = 10 * MR;
/// Columns of `B` packed at a time (`KC·NC` values, 1 MiB, in the L2 cache).
const NC: usize = 1024;

thread_local! {
    /// Each thread's packing buffers for `A` and `B`: grown to the largest block seen, then
    /// reused, so a steady loop does not allocate.
    static PACKS: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// Columns `[col0, col1)` of `C ← α·A·B + β·C` with the AVX-512 kernel; `A` is packed here,
/// block by block, unless `left` holds it packed already.
///
/// # Safety
/// As for `super::raw_sgemm`, and the CPU must have AVX-512F ([`avx512::available`]); `A` has at
/// least one column; `left`, if given, was packed from `a`.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn sgemm(
    left: Option<&LeftPack>,
    alpha: f32,
    a: &MatRef,
    b: &MatRef,
    beta: f32,
    c: *mut f32,
    rsc: usize,
    csc: usize,
    col0: usize,
    col1: usize,
) {
    let (m, k) = (a.rows, a.cols);
    PACKS.with(|packs| {
        let mut packs = packs.borrow_mut();
        let (pa, pb) = &mut *packs;
        let a_len = if left.is_some() {
            0
        } else {
            MC.min(m).div_ceil(MR) * MR * KC.min(k)
        };
        let b_len = NC.min(col1 - col0).div_ceil(NR) * NR * KC.min(k);
        if pa.len() < a_len {
            pa.resize(a_len, 0.0);
        }
        if pb.len() < b_len {
            pb.resize(b_len, 0.0);
        }
        for j0 in (col0..col1).step_by(NC) {
            let nc = (col1 - j0).min(NC);
            for p0 in (0..k).step_by(KC) {
                let kc = (k - p0).min(KC);
                pack_b(b, p0, kc, j0, nc, pb);
                let update = Update {
                    alpha,
                    beta: if p0 == 0 { beta } else { 1.0 },
                };
                for i0 in (0..m).step_by(MC) {
                    let mc = (m - i0).min(MC);
                    let strips = match left {
                        Some(left) => &left.data[left.block(p0, i0, kc)..],
                        None => {
                            pack_a(a, i0, mc, p0, kc, pa);
                            &pa[..]
                        }
                    };
                    for (t, jt) in (0..nc).step_by(NR).enumerate() {
                        let panel = pb.as_ptr().add(t * kc * NR);
                        let cols = (nc - jt).min(NR);
                        for (s, it) in (i0..i0 + mc).step_by(MR).enumerate() {
                            let rows = (i0 + mc - it).min(MR);
                            let strip = strips.as_ptr().add(s * kc * MR);
                            let tile_c = c.add(it * rsc + (j0 + jt) * csc);
                            avx512::tile(kc, strip, panel, tile_c, rsc, csc, rows, cols, update);
                        }
                    }
                }
            }
        }
    });
}

thread_local! {
    /// A buffer for a [`LeftPack`], kept between packs so that a steady loop does not allocate.
    static LEFT: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// All of a left operand `A`, packed once, for several products with it: depth block `p0`
/// (of [`KC`]) holds every row block (of [`MC`]) in turn, each as [`pack_a`] lays it out.
pub(crate) struct LeftPack {
    data: Vec<f32>,
    /// Rows rounded up to whole strips.
    rows: usize,
}

impl LeftPack {
    /// Packs `a`.
    ///
    /// # Safety
    /// The CPU must have AVX-512F; the view must have been checked.
    pub(crate) unsafe fn new(a: &MatRef) -> LeftPack {
        let (m, k) = (a.rows, a.cols);
        let rows = m.div_ceil(MR) * MR;
        let mut data = LEFT.with(|b| std::mem::take(&mut *b.borrow_mut()));
        data.clear();
        data.resize(rows * k, 0.0);
        let mut pack = LeftPack { data, rows };
        for p0 in (0..k).step_by(KC) {
            let kc = (k - p0).min(KC);
            for i0 in (0..m).step_by(MC) {
                let mc = (m - i0).min(MC);
                let at = pack.block(p0, i0, kc);
                pack_a(a, i0, mc, p0, kc, &mut pack.data[at..]);
            }
        }
        pack
    }

    /// Where the block of depths `p0..p0 + kc` and rows from `i0` starts.
    fn block(&self, p0: usize, i0: usize, kc: usize) -> usize {
        p0 * self.rows + i0 * kc
    }
}

impl Drop for LeftPack {
    fn drop(&mut self) {
        let data = std::mem::take(&mut self.data);
        LEFT.with(|b| {
            let mut b = b.borrow_mut();
            if b.capacity() < data.capacity() {
                *b = data;
            }
        });
    }
}

/// Packs rows `i0..i0 + mc`, depths `p0..p0 + kc` of `A` into strips of [`MR`] rows: strip `s`
/// holds, for each depth `p`, the values `A(i0 + s·MR + r, p0 + p)` for `r < MR` (zero past the
/// last row).
///
/// # Safety
/// The CPU must have AVX-512F; the view must have been checked; `out` holds the strips.
#[target_feature(enable = "avx512f")]
unsafe fn pack_a(a: &MatRef, i0: usize, mc: usize, p0: usize, kc: usize, out: &mut [f32]) {
    let src = a.data.as_ptr();
    for (s, it) in (0..mc).step_by(MR).enumerate() {
        let rows = (mc - it).min(MR);
        let strip = &mut out[s * kc * MR..(s + 1) * kc * MR];
        let dst = strip.as_mut_ptr();
        let first = (i0 + it) * a.rs + p0 * a.cs;
        if a.rs == 1 {
            // Columns of A are contiguous (a transposed view): MR values per depth in a row.
            for p in 0..kc {
                avx512::copy_group(src.add(first + p * a.cs), rows, dst.add(p * MR), MR);
            }
        } else if a.cs == 1 {
            // Rows of A are contiguous: blocks of MR rows × 16 depths transposed in registers.
            for p in (0..kc).step_by(16) {
                let depth = (kc - p).min(16);
                let (from, to) = (src.add(first + p), dst.add(p * MR));
                avx512::transpose16(from, a.rs, rows, depth, to, (MR, MR));
            }
        } else {
            strip.fill(0.0);
            for r in 0..rows {
                for p in 0..kc {
                    strip[p * MR + r] = a.data[first + r * a.rs + p * a.cs];
                }
            }
        }
    }
}

/// Packs depths `p0..p0 + kc`, columns `j0..j0 + nc` of `B` into panels of [`NR`] columns:
/// panel `t` holds, for each depth `p`, the values `B(p0 + p, j0 + t·NR + j)` for `j < NR` (zero
/// past the last column).
///
/// # Safety
/// The CPU must have AVX-512F; the view must have been checked; `out` holds the panels.
#[target_feature(enable = "avx512f")]
unsafe fn pack_b(b: &MatRef, p0: usize, kc: usize, j0: usize, nc: usize, out: &mut [f32]) {
    let src = b.data.as_ptr();
    for (t, jt) in (0..nc).step_by(NR).enumerate() {
        let cols = (nc - jt).min(NR);
        let panel = &mut out[t * kc * NR..(t + 1) * kc * NR];
        let dst = panel.as_mut_ptr();
        let first = p0 * b.rs + (j0 + jt) * b.cs;
        if b.cs == 1 {
            // Rows of B are contiguous: NR values per depth in a row.
            for p in 0..kc {
                avx512::copy_group(src.add(first + p * b.rs), cols, dst.add(p * NR), NR);
            }
        } else if b.rs == 1 {
            // A transposed view: each column is contiguous over the depth. Blocks of 16 columns
            // × 16 depths are transposed in registers.
            for half in 0..NR / 16 {
                let j = half * 16;
                let rows = cols.saturating_sub(j).min(16);
                for p in (0..kc).step_by(16) {
                    let depth = (kc - p).min(16);
                    if rows == 0 {
                        for q in p..p + depth {
                            panel[q * NR + j..q * NR + j + 16].fill(0.0);
                        }
                        continue;
                    }
                    let from = src.add(first + j * b.cs + p);
                    let to = dst.add(p * NR + j);
                    avx512::transpose16(from, b.cs, rows, depth, to, (NR, 16));
                }
            }
        } else {
            panel.fill(0.0);
            for j in 0..cols {
                for p in 0..kc {
                    panel[p * NR + j] = b.data[first + j * b.cs + p * b.rs];
                }
            }
        }
    }
}
