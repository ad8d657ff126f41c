//! Coarse, planned parallelism for element-wise work: large buffers are cut into two fixed
//! halves processed at once. The cut does not depend on the number of threads, and each element
//! is computed the same way in either half, so results are bit-identical with 1 or 2 threads.

/// Element-wise work below this many elements stays on one thread.
const PARALLEL_MIN_LEN: usize = 1 << 15;

/// Runs `f(offset, chunk)` over `out` split into at most two halves, in parallel when large.
pub(crate) fn for_halves<F>(out: &mut [f32], f: F)
where
    F: Fn(usize, &mut [f32]) + Sync,
{
    if out.len() < PARALLEL_MIN_LEN {
        return f(0, out);
    }
    let mid = out.len() / 2;
    let (lo, hi) = out.split_at_mut(mid);
    rayon::join(|| f(0, lo), || f(mid, hi));
}
