//! An exponential moving average of the generator's weights (`--ema 0.999`): after every
//! generator update, `avg ← decay·avg + (1 − decay)·weight`, as `ema.mul_(d).add_(w, alpha=1-d)`
//! computes it in PyTorch. Images made after training (grids, `sample`, `eval`, `traverse`) use
//! the average when a run has one; batch-norm statistics are the generator's own (copied, not
//! averaged).

use autograd::{ParamId, ParamStore};

/// The averaged weights: a copy of the parameter store whose generator entries are averaged.
#[derive(Debug, Clone)]
pub struct Ema {
    decay: f32,
    /// Every parameter; those of the generator hold the average.
    pub params: ParamStore,
}

impl Ema {
    /// An average starting at the current weights of `params`.
    pub fn new(decay: f32, params: &ParamStore) -> Ema {
        Ema {
            decay,
            params: params.clone(),
        }
    }

    /// The decay.
    pub fn decay(&self) -> f32 {
        self.decay
    }

    /// One step of the average toward the weights `ids` of `params`.
    pub fn update(&mut self, params: &ParamStore, ids: &[ParamId]) {
        let d = self.decay;
        let rest = 1.0 - d;
        for &id in ids {
            let src = params.get(id).data();
            let dst = self.params.get_mut(id).data_mut();
            for (a, &w) in dst.iter_mut().zip(src) {
                *a = *a * d + w * rest;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use autograd::Tensor;

    #[test]
    fn the_average_moves_toward_the_weights_by_one_minus_decay() {
        let mut params = ParamStore::new();
        let w = params.add("w", Tensor::full(&[2], 0.0)).unwrap();
        let other = params.add("other", Tensor::full(&[1], 5.0)).unwrap();
        let mut ema = Ema::new(0.9, &params);
        params.get_mut(w).data_mut().fill(1.0);
        params.get_mut(other).data_mut().fill(7.0);
        ema.update(&params, &[w]);
        let avg = ema.params.get(w).data();
        assert_eq!(avg.len(), 2);
        assert!(avg.iter().all(|&v| (v - 0.1).abs() < 1e-7), "{avg:?}");
        // Parameters outside `ids` keep the value they had when the average started.
        assert_eq!(ema.params.get(other).data(), &[5.0]);
    }
}
