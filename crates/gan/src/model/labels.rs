//! Class labels as network inputs: one-hot rows `[n, 10]` (concatenated to the noise or to the
//! pixels) and one-hot planes `[n, 10, 28, 28]` (concatenated to the image channels), as
//! `F.one_hot(y, 10)` and its broadcast to the image size would give in PyTorch.

use crate::error::{GanError, Result};
use autograd::{Graph, Var};
use mnist_idx::PIXELS;

/// Classes a label can take.
pub const CLASSES: usize = 10;

/// The labels a conditional network needs, or an error naming the network.
pub(crate) fn required<'a>(labels: Option<&'a [u8]>, n: usize, who: &str) -> Result<&'a [u8]> {
    match labels {
        Some(l) if l.len() == n && l.iter().all(|&d| usize::from(d) < CLASSES) => Ok(l),
        Some(l) => Err(GanError::InvalidInput(format!(
            "{who}: {} labels for {n} rows, or a label above 9",
            l.len()
        ))),
        None => Err(GanError::InvalidInput(format!(
            "{who} is class-conditional: it needs a digit for every row"
        ))),
    }
}

/// One-hot rows `[n, 10]` as a constant of `g`.
pub(crate) fn one_hot(g: &mut Graph<'_>, labels: &[u8]) -> Result<Var> {
    let mut data = vec![0.0f32; labels.len() * CLASSES];
    for (row, &d) in data.chunks_exact_mut(CLASSES).zip(labels) {
        row[usize::from(d)] = 1.0;
    }
    Ok(g.constant_from(&[labels.len(), CLASSES], &data)?)
}

/// One-hot planes `[n, 10, 28, 28]`: plane `d` of row `i` is all ones when `labels[i] == d`.
pub(crate) fn one_hot_planes(g: &mut Graph<'_>, labels: &[u8]) -> Result<Var> {
    let mut data = vec![0.0f32; labels.len() * CLASSES * PIXELS];
    for (row, &d) in data.chunks_exact_mut(CLASSES * PIXELS).zip(labels) {
        let d = usize::from(d);
        row[d * PIXELS..(d + 1) * PIXELS].fill(1.0);
    }
    Ok(g.constant_from(&[labels.len(), CLASSES, 28, 28], &data)?)
}
