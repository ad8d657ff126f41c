//! `gradcheck`: compares the analytic gradients of a function built from graph ops with central
//! finite differences.
//!
//! The function's output is reduced with fixed random weights (`loss = Σ wᵢ·yᵢ`), so every output
//! element sends a different gradient back: a gradient that is transposed, or merely 1% off,
//! fails. Inputs are bound as parameters; the differences perturb each input element by ±ε.

use crate::error::Error;
use crate::graph::{Graph, Var};
use crate::params::{Gradients, ParamStore};
use crate::pool::BufferPool;
use crate::tensor::Tensor;
use rand::SeedableRng;

/// How strict a gradient check is.
#[derive(Debug, Clone, Copy)]
pub struct GradCheckConfig {
    /// The finite-difference step.
    pub eps: f32,
    /// The largest accepted relative error `‖analytic − numeric‖ / ‖numeric‖` per input.
    pub tolerance: f64,
    /// Seed of the random output weights.
    pub seed: u64,
}

impl Default for GradCheckConfig {
    fn default() -> GradCheckConfig {
        GradCheckConfig {
            eps: 1e-2,
            tolerance: 2e-3,
            seed: 0x5eed,
        }
    }
}

/// Why a gradient check failed.
#[derive(Debug, thiserror::Error)]
pub enum GradCheckError {
    /// The function itself failed.
    #[error("the checked function failed: {0}")]
    Op(#[from] Error),
    /// Analytic and numeric gradients disagree.
    #[error(
        "gradient of input {input} is off by {relative_error:.2e} (relative); worst element \
         {index}: analytic {analytic}, numeric {numeric}"
    )]
    Mismatch {
        /// Which input.
        input: usize,
        /// `‖analytic − numeric‖ / ‖numeric‖` over that input.
        relative_error: f64,
        /// The element with the largest difference.
        index: usize,
        /// Its analytic gradient.
        analytic: f32,
        /// Its finite-difference gradient.
        numeric: f32,
    },
}

/// Checks the gradients of `f` with respect to each of `inputs`; returns the largest relative
/// error on success.
pub fn gradcheck<F>(inputs: &[Tensor], f: F) -> Result<f64, GradCheckError>
where
    F: Fn(&mut Graph<'_>, &[Var]) -> crate::Result<Var>,
{
    gradcheck_with(inputs, GradCheckConfig::default(), f)
}

/// [`gradcheck`] with explicit settings.
pub fn gradcheck_with<F>(
    inputs: &[Tensor],
    config: GradCheckConfig,
    f: F,
) -> Result<f64, GradCheckError>
where
    F: Fn(&mut Graph<'_>, &[Var]) -> crate::Result<Var>,
{
    let mut params = ParamStore::new();
    for (i, t) in inputs.iter().enumerate() {
        params.add(format!("input.{i}"), t.clone())?;
    }
    let mut pool = BufferPool::new();
    let out_shape = {
        let mut g = Graph::new(&params, &mut pool);
        let vars: Vec<Var> = params.ids().map(|id| g.param(id)).collect();
        let y = f(&mut g, &vars)?;
        g.shape(y)?.to_vec()
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(config.seed);
    let weights = Tensor::uniform(&out_shape, 0.5, 1.5, &mut rng);

    let loss_of = |params: &ParamStore, pool: &mut BufferPool, grads: Option<&mut Gradients>| {
        let mut g = Graph::new(params, pool);
        let vars: Vec<Var> = params.ids().map(|id| g.param(id)).collect();
        let y = f(&mut g, &vars)?;
        let w = g.constant(weights.clone());
        let weighted = g.mul(y, w)?;
        let loss = g.sum(weighted)?;
        if let Some(grads) = grads {
            g.backward(loss, grads)?;
        }
        Ok::<f64, Error>(f64::from(g.value(loss).data()[0]))
    };

    let mut grads = Gradients::zeros_like(&params);
    loss_of(&params, &mut pool, Some(&mut grads))?;

    let mut worst = 0.0f64;
    for id in params.clone().ids() {
        let analytic = grads.get(id).data().to_vec();
        let mut numeric = vec![0.0f32; analytic.len()];
        for (k, num) in numeric.iter_mut().enumerate() {
            let original = params.get(id).data()[k];
            params.get_mut(id).data_mut()[k] = original + config.eps;
            let plus = loss_of(&params, &mut pool, None)?;
            params.get_mut(id).data_mut()[k] = original - config.eps;
            let minus = loss_of(&params, &mut pool, None)?;
            params.get_mut(id).data_mut()[k] = original;
            *num = ((plus - minus) / (2.0 * f64::from(config.eps))) as f32;
        }
        let diff: f64 = analytic
            .iter()
            .zip(&numeric)
            .map(|(a, n)| f64::from(a - n).powi(2))
            .sum::<f64>()
            .sqrt();
        let norm: f64 = numeric
            .iter()
            .map(|n| f64::from(*n).powi(2))
            .sum::<f64>()
            .sqrt();
        let relative = diff / norm.max(1e-6);
        if relative > config.tolerance || !relative.is_finite() {
            let (index, _) = analytic
                .iter()
                .zip(&numeric)
                .map(|(a, n)| (a - n).abs())
                .enumerate()
                .fold(
                    (0, -1.0f32),
                    |best, (i, d)| if d > best.1 { (i, d) } else { best },
                );
            return Err(GradCheckError::Mismatch {
                input: id.index(),
                relative_error: relative,
                index,
                analytic: analytic[index],
                numeric: numeric[index],
            });
        }
        worst = worst.max(relative);
    }
    Ok(worst)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Backward, GradSink, Values};
    use crate::ops::unary::UnaryFn;

    /// `x²` whose derivative is 1% too large.
    #[derive(Clone, Copy)]
    struct SlightlyWrongSquare;
    impl UnaryFn for SlightlyWrongSquare {
        const NAME: &'static str = "slightly_wrong_square";
        fn f(self, x: f32) -> f32 {
            x * x
        }
        fn df(self, x: f32, _: f32) -> f32 {
            2.0 * x * 1.01
        }
    }

    /// `x·M` for a fixed square `M` whose backward forgets to transpose `M`.
    struct TransposedBackward {
        x: Var,
        m: Tensor,
    }
    impl Backward for TransposedBackward {
        fn backward(
            &self,
            _out: &Tensor,
            gout: &Tensor,
            _vals: &Values<'_>,
            grads: &mut GradSink<'_>,
        ) -> crate::Result<()> {
            let n = self.m.dim(0);
            if let Some(gx) = grads.get(self.x) {
                for (grow, dyrow) in gx.data_mut().chunks_mut(n).zip(gout.data().chunks(n)) {
                    for (i, g) in grow.iter_mut().enumerate() {
                        // Correct: Σ_j dy_j · M[i][j]; wrong: Σ_j dy_j · M[j][i].
                        *g += (0..n)
                            .map(|j| dyrow[j] * self.m.data()[j * n + i])
                            .sum::<f32>();
                    }
                }
            }
            Ok(())
        }
    }

    fn inputs() -> Vec<Tensor> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        vec![Tensor::normal(&[2, 3], 0.0, 1.0, &mut rng)]
    }

    #[test]
    fn a_gradient_one_percent_off_fails() {
        let err = gradcheck(&inputs(), |g, v| g.unary(v[0], SlightlyWrongSquare)).unwrap_err();
        assert!(
            matches!(err, GradCheckError::Mismatch { relative_error, .. } if relative_error > 5e-3)
        );
        assert!(gradcheck(&inputs(), |g, v| g.square(v[0])).is_ok());
    }

    #[test]
    fn a_transposed_gradient_fails() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let m = Tensor::normal(&[3, 3], 0.0, 1.0, &mut rng);
        let err = gradcheck(&inputs(), |g, v| {
            let mv = g.constant(m.clone());
            let y = g.matmul(v[0], mv)?;
            let value = g.value(y).clone();
            let (x, m) = (v[0], m.clone());
            Ok(g.push_op("wrong_matmul", value, &[x], || TransposedBackward { x, m }))
        })
        .unwrap_err();
        assert!(
            err.to_string().contains("gradient of input 0 is off"),
            "{err}"
        );
    }
}
