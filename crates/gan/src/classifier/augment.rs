//! Random shifts of training digits: each digit moves by up to ±2 pixels in each direction, the
//! uncovered border filled with background, so the evaluator does not depend on the exact
//! centring MNIST uses (generated digits are not always centred).

use super::model::{standard_value, SIDE};

/// Writes digit `src` (28×28 u8) moved `dx` pixels right and `dy` pixels down into `out`
/// (28×28), standardised like every evaluator input; pixels shifted in from outside are
/// background.
pub fn shift_into(src: &[u8], dx: i32, dy: i32, out: &mut [f32]) {
    let background = standard_value(0);
    let side = SIDE as i32;
    for (y, row) in out.chunks_exact_mut(SIDE).enumerate().take(SIDE) {
        let sy = y as i32 - dy;
        for (x, o) in row.iter_mut().enumerate() {
            let sx = x as i32 - dx;
            *o = if (0..side).contains(&sy) && (0..side).contains(&sx) {
                standard_value(src[(sy * side + sx) as usize])
            } else {
                background
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shift_moves_ink_and_fills_background() {
        let mut src = vec![0u8; SIDE * SIDE];
        src[5 * SIDE + 7] = 255; // ink at row 5, column 7
        src[SIDE * SIDE - 1] = 255; // bottom-right corner, shifted out below
        let mut out = vec![0.0; SIDE * SIDE];
        shift_into(&src, 2, -1, &mut out);
        let ink = standard_value(255);
        let inked: Vec<usize> = (0..out.len()).filter(|&i| out[i] == ink).collect();
        assert_eq!(inked, vec![4 * SIDE + 9]);
        assert!(out
            .iter()
            .enumerate()
            .all(|(i, &v)| i == 4 * SIDE + 9 || v == standard_value(0)));
        shift_into(&src, 0, 0, &mut out);
        assert_eq!(out[5 * SIDE + 7], ink);
    }
}
