//! The one internal entry point for matrix products, with its contract and a naive reference.
//!
//! Contract of [`gemm`]: `C ← α·A·B + β·C` where `A` is m×k, `B` is k×n and `C` is m×n, each a
//! strided view into a slice (row stride, column stride, in elements, never negative). A
//! transpose is a view with swapped strides: callers never copy an operand to transpose it. Two
//! copies happen inside, though. matrixmultiply packs blocks of both operands into its own
//! buffers in every product, transposed or not. And a right operand `B` that is the transposed
//! view of a row-major matrix (row stride 1, column stride at least `k`) is first copied into
//! row-major order when the columns of `C` being computed number `n ≥ 16` and `k·n ≥ 4096`
//! ([`TRANSPOSE_MIN_LEN`]; under [`gemm_par`] each column half is judged on its own): one depth
//! block of at most 256 rows of those columns at a time, into a per-thread scratch buffer that is
//! reused (see [`transposed_right`] for why; the result has the same bits as without the copy).
//! A transposed left operand, and smaller or narrower transposed right operands, are read through
//! their strides. With `β = 0` the old contents of `C` are ignored, even NaN. Every view is checked to lie inside its slice, so no call can read
//! or write out of bounds. [`gemm`] runs on the calling thread; [`gemm_par`] splits the columns of
//! `C` into two halves computed at once when the product is large enough to pay, and
//! [`gemm_par_map`] also applies a function to each half's rows right after computing them (a
//! fused activation). Splitting by columns keeps each output element's summation order, so all
//! give the same bits.

use super::transpose::transpose;
use std::cell::RefCell;

/// A read-only strided matrix view.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MatRef<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub rs: usize,
    pub cs: usize,
}

/// A writable strided matrix view.
#[derive(Debug)]
pub(crate) struct MatMut<'a> {
    pub data: &'a mut [f32],
    pub rows: usize,
    pub cols: usize,
    pub rs: usize,
    pub cs: usize,
}

impl<'a> MatRef<'a> {
    /// A row-major `rows × cols` matrix.
    pub fn new(data: &'a [f32], rows: usize, cols: usize) -> MatRef<'a> {
        MatRef {
            data,
            rows,
            cols,
            rs: cols,
            cs: 1,
        }
    }

    /// The transpose, as a view.
    pub fn t(self) -> MatRef<'a> {
        MatRef {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
        }
    }

    /// The transpose when `flag` is set.
    pub fn t_if(self, flag: bool) -> MatRef<'a> {
        if flag {
            self.t()
        } else {
            self
        }
    }

    fn check(&self, what: &str) {
        assert!(
            fits(self.data.len(), self.rows, self.cols, self.rs, self.cs),
            "gemm: {what} view {}x{} (strides {}, {}) exceeds its {} elements",
            self.rows,
            self.cols,
            self.rs,
            self.cs,
            self.data.len()
        );
    }

    #[cfg(test)]
    fn at(&self, i: usize, j: usize) -> f32 {
        self.data[i * self.rs + j * self.cs]
    }
}

impl<'a> MatMut<'a> {
    /// A row-major `rows × cols` matrix.
    pub fn new(data: &'a mut [f32], rows: usize, cols: usize) -> MatMut<'a> {
        MatMut {
            data,
            rows,
            cols,
            rs: cols,
            cs: 1,
        }
    }

    /// The transpose, as a view.
    pub fn t(self) -> MatMut<'a> {
        MatMut {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
        }
    }

    /// The transpose when `flag` is set.
    pub fn t_if(self, flag: bool) -> MatMut<'a> {
        if flag {
            self.t()
        } else {
            self
        }
    }

    fn check(&self) {
        assert!(
            fits(self.data.len(), self.rows, self.cols, self.rs, self.cs),
            "gemm: output view {}x{} (strides {}, {}) exceeds its {} elements",
            self.rows,
            self.cols,
            self.rs,
            self.cs,
            self.data.len()
        );
    }
}

fn fits(len: usize, rows: usize, cols: usize, rs: usize, cs: usize) -> bool {
    if rows == 0 || cols == 0 {
        return true;
    }
    let last = (rows - 1)
        .checked_mul(rs)
        .and_then(|r| (cols - 1).checked_mul(cs).and_then(|c| r.checked_add(c)));
    matches!(last, Some(l) if l < len)
}

fn check_dims(a: &MatRef, b: &MatRef, c: &MatMut) {
    assert!(
        a.cols == b.rows && a.rows == c.rows && b.cols == c.cols,
        "gemm: dimensions {}x{} · {}x{} → {}x{} do not chain",
        a.rows,
        a.cols,
        b.rows,
        b.cols,
        c.rows,
        c.cols
    );
    a.check("left");
    b.check("right");
    c.check();
}

/// `C ← α·A·B + β·C` on the calling thread (see the module contract).
pub(crate) fn gemm(alpha: f32, a: MatRef, b: MatRef, beta: f32, c: MatMut) {
    check_dims(&a, &b, &c);
    // SAFETY: the views were checked to lie inside their slices; `c` is borrowed mutably, so it
    // aliases neither `a` nor `b`.
    unsafe {
        raw_sgemm(
            alpha,
            &a,
            &b,
            beta,
            c.data.as_mut_ptr(),
            c.rs,
            c.cs,
            0,
            c.cols,
        )
    }
}

/// Products below this many multiply-adds run on one thread: splitting costs more than it saves.
pub(crate) const PARALLEL_MIN_WORK: usize = 1 << 19;

/// Like [`gemm`], but computes the two column halves of `C` at once when the product is large.
pub(crate) fn gemm_par(alpha: f32, a: MatRef, b: MatRef, beta: f32, c: MatMut) {
    par_columns(alpha, a, b, beta, c, None)
}

/// [`gemm_par`], then `then` applied to every row of each column half of `C` as soon as that half
/// is computed, while it is still in cache (a fused activation). `C` must be row-major
/// (column stride 1).
pub(crate) fn gemm_par_map<F>(alpha: f32, a: MatRef, b: MatRef, beta: f32, c: MatMut, then: F)
where
    F: Fn(&mut [f32]) + Sync,
{
    assert!(
        c.cs == 1 || c.cols <= 1,
        "gemm_par_map: the output must be row-major"
    );
    par_columns(alpha, a, b, beta, c, Some(&then))
}

type RowFn<'f> = &'f (dyn Fn(&mut [f32]) + Sync);

fn par_columns(alpha: f32, a: MatRef, b: MatRef, beta: f32, c: MatMut, then: Option<RowFn>) {
    check_dims(&a, &b, &c);
    let ptr = SendPtr(c.data.as_mut_ptr());
    let (rows, rs, cs, cols) = (c.rows, c.rs, c.cs, c.cols);
    // SAFETY: the views were checked to lie inside their slices and `c.data` stays mutably
    // borrowed for the whole call; the two halves write disjoint column ranges, and `then` (on a
    // row-major `C`) sees each row's part of its own range only.
    let columns = |col0: usize, col1: usize| unsafe {
        raw_sgemm(alpha, &a, &b, beta, ptr.get(), rs, cs, col0, col1);
        if let Some(f) = then {
            for i in 0..rows {
                let row = ptr.get().add(i * rs + col0 * cs);
                f(std::slice::from_raw_parts_mut(row, col1 - col0));
            }
        }
    };
    let work = a.rows.saturating_mul(a.cols).saturating_mul(b.cols);
    if work < PARALLEL_MIN_WORK || cols < 16 {
        return columns(0, cols);
    }
    // Split at a multiple of 8 columns (the kernel's tile width) to avoid partial tiles.
    let half = (cols / 2).div_ceil(8) * 8;
    super::parallel::join(|| columns(0, half), || columns(half, cols));
}

#[derive(Clone, Copy)]
struct SendPtr(*mut f32);
// SAFETY: used only to hand disjoint regions of one buffer to the two sides of a join.
unsafe impl Send for SendPtr {}
unsafe impl Sync for SendPtr {}
impl SendPtr {
    fn get(self) -> *mut f32 {
        self.0
    }
}

/// Columns `[col0, col1)` of `C ← α·A·B + β·C`.
///
/// # Safety
/// The views must have been checked with `check_dims`, and `c` must point at the output view's
/// buffer, valid for writes over the whole view and not aliased by `a` or `b`.
#[allow(clippy::too_many_arguments)]
unsafe fn raw_sgemm(
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
    let n = col1 - col0;
    if a.rows == 0 || n == 0 {
        return;
    }
    if a.cols == 0 {
        // An empty sum: C ← β·C.
        for i in 0..a.rows {
            for j in col0..col1 {
                let p = c.add(i * rsc + j * csc);
                *p = if beta == 0.0 { 0.0 } else { beta * *p };
            }
        }
        return;
    }
    let k = a.cols;
    if b.rs == 1 && b.cs >= k && n >= 16 && k * n >= TRANSPOSE_MIN_LEN {
        return SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            transposed_right(alpha, a, b, beta, c, rsc, csc, col0, n, &mut scratch)
        });
    }
    sgemm_columns(alpha, a, b, col0, beta, c.add(col0 * csc), rsc, csc, n)
}

/// A right operand that is a transposed view is copied into row-major order (see
/// [`super::transpose`]) when `k·n`, its depth times the number of columns of `C` this call
/// computes, is at least this many elements (and `n ≥ 16`).
const TRANSPOSE_MIN_LEN: usize = 4096;

/// Rows of a transposed right operand copied at a time: matrixmultiply's own depth blocking
/// (`kc` = 256 for f32), so each copy stays in the L2 cache until it is packed, and the product
/// sums in the same blocks as without the copy.
const TRANSPOSE_DEPTH: usize = 256;

thread_local! {
    /// Each thread's buffer for transposed right operands: it grows to the largest block it has
    /// seen and is then reused, so a steady loop does not allocate.
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// [`raw_sgemm`] of columns `col0..col0 + n` when `B` is a transposed row-major matrix (row
/// stride 1): depth block by depth block ([`TRANSPOSE_DEPTH`] rows of `B`, the last one shorter),
/// the block's `n` columns copied into row-major order in `scratch` (which grows to
/// `min(k, 256)·n` elements), then multiplied and accumulated into `C` (β for the first block, 1
/// after it).
///
/// # Safety
/// As for [`raw_sgemm`].
#[allow(clippy::too_many_arguments)]
unsafe fn transposed_right(
    alpha: f32,
    a: &MatRef,
    b: &MatRef,
    beta: f32,
    c: *mut f32,
    rsc: usize,
    csc: usize,
    col0: usize,
    n: usize,
    scratch: &mut Vec<f32>,
) {
    let k = a.cols;
    let depth = k.min(TRANSPOSE_DEPTH);
    if scratch.len() < depth * n {
        scratch.resize(depth * n, 0.0);
    }
    for p0 in (0..k).step_by(TRANSPOSE_DEPTH) {
        let kb = (k - p0).min(TRANSPOSE_DEPTH);
        // Rows j of the source are columns j of B: B(p, j) = data[p + j·cs].
        let block = &mut scratch[..kb * n];
        transpose(&b.data[col0 * b.cs + p0..], n, kb, b.cs, block);
        let a_block = MatRef {
            data: &a.data[p0 * a.cs..],
            rows: a.rows,
            cols: kb,
            rs: a.rs,
            cs: a.cs,
        };
        let b_block = MatRef::new(block, kb, n);
        let beta = if p0 == 0 { beta } else { 1.0 };
        sgemm_columns(
            alpha,
            &a_block,
            &b_block,
            0,
            beta,
            c.add(col0 * csc),
            rsc,
            csc,
            n,
        );
    }
}

/// `C ← α·A·B[:, b0..b0 + n] + β·C` for the `n`-column `C` at `c`.
///
/// # Safety
/// As for [`raw_sgemm`], with `b` holding the columns `b0..b0 + n` and `c` pointing at the first
/// of the `n` columns.
#[allow(clippy::too_many_arguments)]
unsafe fn sgemm_columns(
    alpha: f32,
    a: &MatRef,
    b: &MatRef,
    b0: usize,
    beta: f32,
    c: *mut f32,
    rsc: usize,
    csc: usize,
    n: usize,
) {
    matrixmultiply::sgemm(
        a.rows,
        a.cols,
        n,
        alpha,
        a.data.as_ptr(),
        a.rs as isize,
        a.cs as isize,
        b.data.as_ptr().add(b0 * b.cs),
        b.rs as isize,
        b.cs as isize,
        beta,
        c,
        rsc as isize,
        csc as isize,
    );
}

#[cfg(test)]
/// The naive reference: three loops, accumulating in f64. Every fast path is tested against it.
pub(crate) fn gemm_reference(alpha: f32, a: MatRef, b: MatRef, beta: f32, c: MatMut) {
    check_dims(&a, &b, &c);
    for i in 0..c.rows {
        for j in 0..c.cols {
            let mut acc = 0.0f64;
            for p in 0..a.cols {
                acc += f64::from(a.at(i, p)) * f64::from(b.at(p, j));
            }
            let idx = i * c.rs + j * c.cs;
            let old = if beta == 0.0 { 0.0 } else { beta * c.data[idx] };
            c.data[idx] = alpha * acc as f32 + old;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn random(len: usize, seed: u64) -> Vec<f32> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..len).map(|_| rng.random_range(-1.0..1.0)).collect()
    }

    #[test]
    fn fast_paths_match_the_reference_for_every_transpose() {
        // Depths above 256 take the transposed right operand's multi-block path; (64, 520, 48)
        // is also large enough for `gemm_par` to split it.
        let shapes = [
            (1, 1, 1),
            (3, 5, 7),
            (64, 100, 256),
            (17, 33, 130),
            (5, 257, 16),
            (8, 300, 40),
            (20, 600, 33),
            (64, 520, 48),
        ];
        for &(m, k, n) in &shapes {
            for ta in [false, true] {
                for tb in [false, true] {
                    let a = random(m * k, 1);
                    let b = random(k * n, 2);
                    let a_view = if ta {
                        MatRef::new(&a, k, m).t()
                    } else {
                        MatRef::new(&a, m, k)
                    };
                    let b_view = if tb {
                        MatRef::new(&b, n, k).t()
                    } else {
                        MatRef::new(&b, k, n)
                    };
                    let start = random(m * n, 3);
                    let mut want = start.clone();
                    gemm_reference(0.5, a_view, b_view, 2.0, MatMut::new(&mut want, m, n));
                    let mut got = start.clone();
                    gemm(0.5, a_view, b_view, 2.0, MatMut::new(&mut got, m, n));
                    let mut par = start.clone();
                    gemm_par(0.5, a_view, b_view, 2.0, MatMut::new(&mut par, m, n));
                    assert_eq!(want.len(), got.len());
                    for (w, g) in want.iter().zip(&got) {
                        assert!((w - g).abs() < 1e-4 * (1.0 + w.abs()), "{m}x{k}x{n}");
                    }
                    assert_eq!(got, par, "the parallel split must not change any bit");
                }
            }
        }
    }

    #[test]
    fn a_deep_transposed_right_operand_gives_the_bits_of_its_row_major_copy() {
        // k > 256: several depth blocks, the last one partial; n ≥ 16 and k·n ≥ 4096, so the
        // transposed view is copied block by block. The product must equal both the reference
        // and, bit for bit, the product with a row-major copy of Bᵀ made beforehand.
        for &(m, k, n) in &[(3, 257, 16), (9, 513, 24), (16, 700, 40)] {
            assert!(n >= 16 && k * n >= TRANSPOSE_MIN_LEN && k > TRANSPOSE_DEPTH);
            let a = random(m * k, 4);
            let bt = random(n * k, 5); // row-major n×k: B = btᵀ
            let b_view = MatRef::new(&bt, n, k).t();
            let mut b_copy = vec![0.0; k * n];
            for p in 0..k {
                for j in 0..n {
                    b_copy[p * n + j] = bt[j * k + p];
                }
            }
            let start = random(m * n, 6);
            let mut want = start.clone();
            let a_view = MatRef::new(&a, m, k);
            gemm_reference(1.5, a_view, b_view, -1.0, MatMut::new(&mut want, m, n));
            let mut got = start.clone();
            gemm(1.5, a_view, b_view, -1.0, MatMut::new(&mut got, m, n));
            let mut copied = start.clone();
            let b_rows = MatRef::new(&b_copy, k, n);
            gemm(1.5, a_view, b_rows, -1.0, MatMut::new(&mut copied, m, n));
            assert_eq!(want.len(), got.len());
            for (w, g) in want.iter().zip(&got) {
                assert!((w - g).abs() < 1e-4 * (1.0 + w.abs()), "{m}x{k}x{n}");
            }
            assert_eq!(got, copied, "{m}x{k}x{n}: the copy changed the result");
        }
    }

    #[test]
    fn beta_zero_ignores_nan_in_the_output() {
        let a = vec![1.0, 2.0];
        let b = vec![3.0, 4.0];
        let mut c = vec![f32::NAN];
        gemm(
            1.0,
            MatRef::new(&a, 1, 2),
            MatRef::new(&b, 2, 1),
            0.0,
            MatMut::new(&mut c, 1, 1),
        );
        assert_eq!(c, vec![11.0]);
    }

    #[test]
    #[should_panic(expected = "exceeds")]
    fn a_view_outside_its_slice_is_refused() {
        let a = vec![0.0; 5];
        let b = vec![0.0; 6];
        let mut c = vec![0.0; 6];
        gemm(
            1.0,
            MatRef::new(&a, 2, 3),
            MatRef::new(&b, 3, 2),
            0.0,
            MatMut::new(&mut c, 2, 2),
        );
    }
}
