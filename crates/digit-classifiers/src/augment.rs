//! Random shifts of training digits, for both classifiers: a digit moved a pixel or two in each
//! direction, the uncovered border filled with background, so that a classifier does not depend
//! on the exact centring of MNIST (generated digits are not always centred).

use mnist_idx::SIDE;

/// Writes the 28×28 digit `image` moved `dx` pixels right and `dy` pixels down (negative: left,
/// up) into `out` (28×28), each grey level `p` as `value(p)`; pixels shifted in from outside
/// are background, `value(0)`.
pub fn shift_into(image: &[u8], dx: i32, dy: i32, value: impl Fn(u8) -> f32, out: &mut [f32]) {
    let background = value(0);
    let side = SIDE as i32;
    for (y, row) in out.chunks_exact_mut(SIDE).enumerate().take(SIDE) {
        let sy = y as i32 - dy;
        for (x, o) in row.iter_mut().enumerate() {
            let sx = x as i32 - dx;
            *o = if (0..side).contains(&sy) && (0..side).contains(&sx) {
                value(image[(sy * side + sx) as usize])
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
        let value = |p: u8| f32::from(p) / 255.0 - 0.5;
        shift_into(&src, 2, -1, value, &mut out);
        let inked: Vec<usize> = (0..out.len()).filter(|&i| out[i] == 0.5).collect();
        assert_eq!(inked, vec![4 * SIDE + 9]);
        assert!(out
            .iter()
            .enumerate()
            .all(|(i, &v)| i == 4 * SIDE + 9 || v == -0.5));
        shift_into(&src, 0, 0, value, &mut out);
        assert_eq!(out[5 * SIDE + 7], 0.5);
        // A shift by the whole side leaves only background.
        shift_into(&src, 0, 28, value, &mut out);
        assert!(out.iter().all(|&v| v == -0.5));
    }
}
