//! The two inner loops of [`super::columns::Columns`]: a gather `dst[i] = plane[table[i]]`
//! (`im2col`), sixteen values per instruction with AVX-512 where the CPU has it, and a
//! scatter-add `plane[table[i]] += src[i]` (`col2im`), one value at a time, both without
//! bounds checks (the tables are checked once when they are built).

/// `dst[i] = plane[table[i]]`; `dst` and `table` have the same length.
///
/// # Safety
/// Every offset of `table` lies in `plane` and below 2³¹ ([`super::columns::Columns::new`]
/// checks its tables once).
pub(super) unsafe fn gather(plane: &[f32], table: &[u32], dst: &mut [f32]) {
    assert_eq!(table.len(), dst.len());
    debug_assert!(in_bounds(plane, table));
    #[cfg(target_arch = "x86_64")]
    if crate::ops::gemm::avx512_available() {
        return gather_avx512(plane, table, dst);
    }
    for (d, &o) in dst.iter_mut().zip(table) {
        *d = plane[o as usize];
    }
}

/// `plane[table[i]] += src[i]`; `src` and `table` have the same length. One value at a time:
/// AVX-512's gather + add + scatter was measured slower than this loop (scatters cost more than
/// the scalar stores they replace).
///
/// # Safety
/// As for [`gather`].
pub(super) unsafe fn scatter_add(plane: &mut [f32], table: &[u32], src: &[f32]) {
    assert_eq!(table.len(), src.len());
    debug_assert!(in_bounds(plane, table));
    for (&v, &o) in src.iter().zip(table) {
        *plane.get_unchecked_mut(o as usize) += v;
    }
}

/// Whether every offset of `table` indexes `plane` and fits the instructions' i32 indices.
pub(super) fn in_bounds(plane: &[f32], table: &[u32]) -> bool {
    let max = table.iter().copied().max().unwrap_or(0) as usize;
    max < plane.len() && max <= i32::MAX as usize
}

/// # Safety
/// AVX-512F; every offset of `table` lies in `plane` and below 2³¹; `dst.len() == table.len()`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn gather_avx512(plane: &[f32], table: &[u32], dst: &mut [f32]) {
    use std::arch::x86_64::*;
    let base = plane.as_ptr();
    let n = table.len();
    let mut i = 0;
    while i + 16 <= n {
        let idx = _mm512_loadu_si512(table.as_ptr().add(i) as *const _);
        let v = _mm512_i32gather_ps::<4>(idx, base);
        _mm512_storeu_ps(dst.as_mut_ptr().add(i), v);
        i += 16;
    }
    if i < n {
        let mask: __mmask16 = (1u16 << (n - i)) - 1;
        let idx = _mm512_maskz_loadu_epi32(mask, table.as_ptr().add(i) as *const i32);
        let v = _mm512_mask_i32gather_ps::<4>(_mm512_setzero_ps(), mask, idx, base);
        _mm512_mask_storeu_ps(dst.as_mut_ptr().add(i), mask, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gather_and_scatter_add_match_the_scalar_loops_at_every_tail() {
        let plane: Vec<f32> = (0..300).map(|i| i as f32 * 0.5 - 7.0).collect();
        for n in [0, 1, 15, 16, 17, 49, 196] {
            // Distinct offsets spread over the plane, as a window's table is.
            let table: Vec<u32> = (0..n as u32).map(|i| (i * 7 + 3) % 300).collect();
            let mut got = vec![f32::NAN; n];
            // SAFETY: offsets below 300 = plane.len().
            unsafe { gather(&plane, &table, &mut got) };
            let want: Vec<f32> = table.iter().map(|&o| plane[o as usize]).collect();
            assert_eq!(got, want, "gather of {n}");

            let src: Vec<f32> = (0..n).map(|i| 1.0 / (i as f32 + 1.0)).collect();
            let mut got = plane.clone();
            unsafe { scatter_add(&mut got, &table, &src) };
            let mut want = plane.clone();
            for (&v, &o) in src.iter().zip(&table) {
                want[o as usize] += v;
            }
            assert_eq!(got, want, "scatter-add of {n}");
        }
    }
}
