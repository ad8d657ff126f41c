//! Out-of-place transpose of a strided matrix into a row-major buffer.
//!
//! matrixmultiply packs the right operand of a product in panels that run along its columns; when
//! that operand is a transposed view of a row-major matrix (the weight `Wᵀ` of `x·Wᵀ`), packing
//! reads sixteen rows at once, one element of each in turn, which the hardware cannot prefetch:
//! in a training step, where the weights have just been updated and are no longer in cache, that
//! packing took a sixth of the time. Copying the view into row-major order first, reading four
//! rows at a time from start to end (streams the prefetcher follows) and transposing 4×4 blocks
//! in registers, and letting the product pack the copy, costs a fraction of it. The copy holds
//! the same values, so the product's result is the same bits.

/// Writes `srcᵀ` into `dst` (row-major `cols × rows`), where `src` is a `rows × cols` matrix whose
/// row `i` starts at `src[i * rs]` and is contiguous.
///
/// # Panics
/// If `src` or `dst` is too short for the shapes.
pub(crate) fn transpose(src: &[f32], rows: usize, cols: usize, rs: usize, dst: &mut [f32]) {
    if rows == 0 || cols == 0 {
        return;
    }
    assert!(
        rs >= cols,
        "transpose: row stride {rs} below {cols} columns"
    );
    assert!(
        src.len() >= (rows - 1) * rs + cols && dst.len() >= rows * cols,
        "transpose: buffers too short for {rows}x{cols} (stride {rs})"
    );
    let (r4, c4) = (rows / 4 * 4, cols / 4 * 4);
    // SAFETY: the assertion above bounds every index below: rows < `rows`, columns < `cols`.
    unsafe { blocks4(src, rs, r4, c4, dst, rows) };
    for i in 0..rows {
        let first = if i < r4 { c4 } else { 0 };
        for j in first..cols {
            dst[j * rows + i] = src[i * rs + j];
        }
    }
}

/// The `r4 × c4` top-left part in 4×4 blocks, four source rows at a time from start to end.
///
/// # Safety
/// `src` must hold `r4` rows of stride `rs` with at least `c4` columns, `dst` `c4` rows of stride
/// `ld`, with `r4 <= ld`.
#[cfg(target_arch = "x86_64")]
unsafe fn blocks4(src: &[f32], rs: usize, r4: usize, c4: usize, dst: &mut [f32], ld: usize) {
    use std::arch::x86_64::{_mm_loadu_ps, _mm_storeu_ps, _MM_TRANSPOSE4_PS};
    let (s, d) = (src.as_ptr(), dst.as_mut_ptr());
    for i in (0..r4).step_by(4) {
        for j in (0..c4).step_by(4) {
            let p = s.add(i * rs + j);
            let mut a = _mm_loadu_ps(p);
            let mut b = _mm_loadu_ps(p.add(rs));
            let mut c = _mm_loadu_ps(p.add(2 * rs));
            let mut e = _mm_loadu_ps(p.add(3 * rs));
            _MM_TRANSPOSE4_PS(&mut a, &mut b, &mut c, &mut e);
            let q = d.add(j * ld + i);
            _mm_storeu_ps(q, a);
            _mm_storeu_ps(q.add(ld), b);
            _mm_storeu_ps(q.add(2 * ld), c);
            _mm_storeu_ps(q.add(3 * ld), e);
        }
    }
}

/// The portable version of the x86-64 block loop.
///
/// # Safety
/// As for the x86-64 version.
#[cfg(not(target_arch = "x86_64"))]
unsafe fn blocks4(src: &[f32], rs: usize, r4: usize, c4: usize, dst: &mut [f32], ld: usize) {
    for i in 0..r4 {
        for j in 0..c4 {
            dst[j * ld + i] = src[i * rs + j];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_matches_the_definition() {
        for rows in [1, 3, 4, 5, 33, 70] {
            for cols in [1, 2, 4, 7, 36, 65] {
                let rs = cols + 3;
                let src: Vec<f32> = (0..rows * rs).map(|v| v as f32).collect();
                let mut dst = vec![f32::NAN; rows * cols];
                transpose(&src, rows, cols, rs, &mut dst);
                for i in 0..rows {
                    for j in 0..cols {
                        assert_eq!(
                            dst[j * rows + i],
                            src[i * rs + j],
                            "{rows}x{cols} at {i},{j}"
                        );
                    }
                }
            }
        }
    }
}
