//! The one internal entry point for matrix products, with its contract and a naive reference.
//!
//! Contract of [`gemm`]: `C ← α·A·B + β·C` where `A` is m×k, `B` is k×n and `C` is m×n, each a
//! strided view into a slice (row stride, column stride, in elements, never negative). A
//! transpose is a view with swapped strides: callers never copy an operand to transpose it. With
//! `β = 0` the old contents of `C` are ignored, even NaN. Every view is checked to lie inside its
//! slice, so no call can read or write out of bounds. [`gemm`] runs on the calling thread;
//! [`gemm_par`] splits the columns of `C` into two halves computed at once when the product is
//! large enough to pay, and [`gemm_par_map`] also applies a function to each half's rows right
//! after computing them (a fused activation). Splitting by columns keeps each output element's
//! summation order, so all give the same bits.
//!
//! Two kernels sit behind the contract ([`Kernel`]): on CPUs with AVX-512, our own blocked
//! product ([`packed`], packing both operands through their strides, so a transposed operand is
//! never copied first) with a 12×32 micro-kernel ([`avx512`]); elsewhere matrixmultiply
//! ([`portable`]). They differ in the order of their sums, so their results differ in the last
//! bits; each is deterministic. [`gemm_reference`] (tests) is the naive triple loop both are
//! checked against.

#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(target_arch = "x86_64")]
mod packed;
mod portable;
#[cfg(test)]
mod tests;

#[cfg(target_arch = "x86_64")]
pub(crate) use avx512::available as avx512_available;
#[cfg(target_arch = "x86_64")]
use packed::LeftPack;
/// Never built off x86_64 (no AVX-512 kernel there).
#[cfg(not(target_arch = "x86_64"))]
enum LeftPack {}

/// Which implementation computes the products.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kernel {
    /// Our blocked product with the AVX-512 micro-kernel.
    Avx512,
    /// matrixmultiply, on any CPU.
    Portable,
}

impl Kernel {
    /// The fastest kernel this CPU runs (checked once).
    pub(crate) fn best() -> Kernel {
        #[cfg(target_arch = "x86_64")]
        if avx512::available() {
            return Kernel::Avx512;
        }
        Kernel::Portable
    }

    /// Every kernel this CPU runs (tests compare them).
    #[cfg(test)]
    pub(crate) fn all_available() -> Vec<Kernel> {
        let mut kernels = vec![Kernel::Portable];
        if Kernel::best() == Kernel::Avx512 {
            kernels.push(Kernel::Avx512);
        }
        kernels
    }
}

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
    // SAFETY: the best kernel runs on this CPU; no packed left operand.
    unsafe { gemm_on(Kernel::best(), None, alpha, a, b, beta, c) }
}

/// [`gemm`] with a chosen kernel, which the CPU must run ([`Kernel::all_available`]).
#[cfg(test)]
pub(crate) fn gemm_with(kernel: Kernel, alpha: f32, a: MatRef, b: MatRef, beta: f32, c: MatMut) {
    // SAFETY: tests pass kernels from `Kernel::all_available`; no packed left operand.
    unsafe { gemm_on(kernel, None, alpha, a, b, beta, c) }
}

/// The whole of `C ← α·A·B + β·C` on the calling thread, the views checked first.
///
/// # Safety
/// The CPU must run `kernel`; `left`, if given, was packed from `a` for `kernel`.
unsafe fn gemm_on(
    kernel: Kernel,
    left: Option<&LeftPack>,
    alpha: f32,
    a: MatRef,
    b: MatRef,
    beta: f32,
    c: MatMut,
) {
    check_dims(&a, &b, &c);
    // SAFETY: the views were checked to lie inside their slices; `c` is borrowed mutably, so it
    // aliases neither `a` nor `b`; the rest is the caller's promise.
    let c_ptr = c.data.as_mut_ptr();
    raw_sgemm(
        kernel, left, alpha, &a, &b, beta, c_ptr, c.rs, c.cs, 0, c.cols,
    )
}

/// [`gemm_par`] with a chosen kernel, which the CPU must run.
#[cfg(test)]
pub(crate) fn gemm_par_with(
    kernel: Kernel,
    alpha: f32,
    a: MatRef,
    b: MatRef,
    beta: f32,
    c: MatMut,
) {
    par_columns_with(kernel, None, alpha, a, b, beta, c, None)
}

/// A left operand packed once for several products with it: a convolution's weight, used by
/// every group of samples on both threads, is packed once per op instead of once per product.
/// On the portable kernel (which packs inside each product) it is just the view.
pub(crate) struct PackedLeft<'a> {
    view: MatRef<'a>,
    kernel: Kernel,
    packed: Option<LeftPack>,
}

impl<'a> PackedLeft<'a> {
    /// Packs `a` for [`Kernel::best`].
    pub(crate) fn new(a: MatRef<'a>) -> PackedLeft<'a> {
        PackedLeft::with(Kernel::best(), a)
    }

    /// Packs `a` for `kernel`, which the CPU must run.
    pub(crate) fn with(kernel: Kernel, a: MatRef<'a>) -> PackedLeft<'a> {
        a.check("left");
        let packed = match kernel {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 if a.rows > 0 && a.cols > 0 => {
                // SAFETY: the view was checked; `Kernel::Avx512` is only chosen on CPUs with it.
                Some(unsafe { LeftPack::new(&a) })
            }
            _ => None,
        };
        PackedLeft {
            view: a,
            kernel,
            packed,
        }
    }
}

/// `C ← A·B + β·C` with `A` packed already: split over both threads like [`gemm_par`] when
/// `par`, on the calling thread otherwise. The same bits as [`gemm`] with `A`'s view.
pub(crate) fn gemm_packed(par: bool, a: &PackedLeft, b: MatRef, beta: f32, c: MatMut) {
    gemm_packed_with(par, a, 1.0, b, beta, c)
}

/// [`gemm_packed`] with a factor `alpha`: `C ← α·A·B + β·C`.
fn gemm_packed_with(par: bool, a: &PackedLeft, alpha: f32, b: MatRef, beta: f32, c: MatMut) {
    let left = a.packed.as_ref();
    if par {
        par_columns_with(a.kernel, left, alpha, a.view, b, beta, c, None);
    } else {
        // SAFETY: `left` was packed from `a.view` for `a.kernel`, a kernel this CPU runs.
        unsafe { gemm_on(a.kernel, left, alpha, a.view, b, beta, c) }
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
    par_columns_with(Kernel::best(), None, alpha, a, b, beta, c, then)
}

/// [`par_columns`] with a chosen kernel, and `A` packed already when `left` is given.
#[allow(clippy::too_many_arguments)]
fn par_columns_with(
    kernel: Kernel,
    left: Option<&LeftPack>,
    alpha: f32,
    a: MatRef,
    b: MatRef,
    beta: f32,
    c: MatMut,
    then: Option<RowFn>,
) {
    check_dims(&a, &b, &c);
    let ptr = SendPtr(c.data.as_mut_ptr());
    let (rows, rs, cs, cols) = (c.rows, c.rs, c.cs, c.cols);
    // SAFETY: the views were checked to lie inside their slices and `c.data` stays mutably
    // borrowed for the whole call; the two halves write disjoint column ranges, and `then` (on a
    // row-major `C`) sees each row's part of its own range only.
    let columns = |col0: usize, col1: usize| unsafe {
        raw_sgemm(
            kernel,
            left,
            alpha,
            &a,
            &b,
            beta,
            ptr.get(),
            rs,
            cs,
            col0,
            col1,
        );
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
    // Split at a multiple of 32 columns (both kernels' tile widths divide it): no partial tiles.
    // Too narrow a product for that stays whole.
    let half = (cols / 2).div_ceil(32) * 32;
    if half >= cols {
        return columns(0, cols);
    }
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

/// Columns `[col0, col1)` of `C ← α·A·B + β·C` with `kernel`, and `A` packed already when
/// `left` is given.
///
/// # Safety
/// The views must have been checked with `check_dims`, and `c` must point at the output view's
/// buffer, valid for writes over the whole view and not aliased by `a` or `b`; `left`, if
/// given, was packed from `a` for `kernel`.
#[allow(clippy::too_many_arguments)]
unsafe fn raw_sgemm(
    kernel: Kernel,
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
    if a.rows == 0 || col1 == col0 {
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
    match kernel {
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512 => packed::sgemm(left, alpha, a, b, beta, c, rsc, csc, col0, col1),
        #[cfg(not(target_arch = "x86_64"))]
        Kernel::Avx512 => unreachable!("Kernel::best() never picks AVX-512 off x86_64"),
        Kernel::Portable => portable::sgemm(alpha, a, b, beta, c, rsc, csc, col0, col1),
    }
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
