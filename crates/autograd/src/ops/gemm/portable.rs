//! The portable path, for CPUs without AVX-512: matrixmultiply's kernels (which pack both
//! operands themselves), with one addition: a right operand `B` that is the transposed view of a
//! row-major matrix (row stride 1, column stride at least `k`) is first copied into row-major
//! order when the columns of `C` being computed number `n ≥ 16` and `k·n ≥ 4096`
//! ([`TRANSPOSE_MIN_LEN`]), one depth block of at most 256 rows of those columns at a time, into
//! a per-thread scratch buffer that is reused (see [`transposed_right`] for why; the result has
//! the same bits as without the copy).

use super::MatRef;
use crate::ops::transpose::transpose;
use std::cell::RefCell;

/// Columns `[col0, col1)` of `C ← α·A·B + β·C` through matrixmultiply.
///
/// # Safety
/// As for `super::raw_sgemm`; `A` has at least one column.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn sgemm(
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

/// [`sgemm`] of columns `col0..col0 + n` when `B` is a transposed row-major matrix (row
/// stride 1): depth block by depth block ([`TRANSPOSE_DEPTH`] rows of `B`, the last one shorter),
/// the block's `n` columns copied into row-major order in `scratch` (which grows to
/// `min(k, 256)·n` elements), then multiplied and accumulated into `C` (β for the first block, 1
/// after it).
///
/// # Safety
/// As for [`sgemm`].
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
/// As for [`sgemm`], with `b` holding the columns `b0..b0 + n` and `c` pointing at the first
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
