//! Parameter initialisations, matching PyTorch's defaults.

use crate::tensor::Tensor;
use rand::Rng;

/// How a layer's weights are initialised.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Init {
    /// PyTorch's default for `nn.Linear` and `nn.Conv*`: weights kaiming-uniform with a = √5,
    /// i.e. U(±1/√fan_in), and biases U(±1/√fan_in).
    #[default]
    PyTorchDefault,
    /// Weights N(0, std²) and zero biases (DCGAN's N(0, 0.02²)).
    Normal {
        /// The standard deviation.
        std: f32,
    },
}

impl Init {
    /// DCGAN's initialisation, N(0, 0.02²).
    pub const DCGAN: Init = Init::Normal { std: 0.02 };

    /// A weight tensor of `shape` whose fan-in is `fan_in`.
    pub fn weight(self, shape: &[usize], fan_in: usize, rng: &mut impl Rng) -> Tensor {
        match self {
            Init::PyTorchDefault => {
                // kaiming_uniform(a = √5): gain √(2 / (1 + 5)), bound gain·√(3 / fan_in) = 1/√fan_in.
                let bound = 1.0 / (fan_in.max(1) as f32).sqrt();
                Tensor::uniform(shape, -bound, bound, rng)
            }
            Init::Normal { std } => Tensor::normal(shape, 0.0, std, rng),
        }
    }

    /// A bias tensor of `shape` for a layer whose fan-in is `fan_in`.
    pub fn bias(self, shape: &[usize], fan_in: usize, rng: &mut impl Rng) -> Tensor {
        match self {
            Init::PyTorchDefault => {
                let bound = 1.0 / (fan_in.max(1) as f32).sqrt();
                Tensor::uniform(shape, -bound, bound, rng)
            }
            Init::Normal { .. } => Tensor::zeros(shape),
        }
    }
}
