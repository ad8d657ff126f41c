//! The grid a run draws after every epoch, always from the same noise so that the epochs can
//! be compared: `grid × grid` digits for an unconditional generator; for a conditional one, one
//! row per digit it trains on and `grid` columns, each column one noise vector (the same style
//! across the digits).

use crate::data::pixel_range;
use crate::error::Result;
use crate::rng;
use crate::train::Gan;
use autograd::{BufferPool, Tensor};
use render::{GrayImage, GridLayout};

/// The fixed noise (and digits) of a run's grids.
#[derive(Debug, Clone)]
pub struct FixedGrid {
    noise: Tensor,
    labels: Option<Vec<u8>>,
    layout: GridLayout,
}

impl FixedGrid {
    /// The grid of `gan`'s configuration, noise from the seed's fixed-noise stream.
    pub fn new(gan: &Gan) -> Result<FixedGrid> {
        let c = &gan.config;
        let mut stream = rng::stream(c.seed, rng::STREAM_FIXED_NOISE);
        if !gan.generator.conditional() {
            return Ok(FixedGrid {
                noise: gan.noise(c.grid * c.grid, &mut stream),
                labels: None,
                layout: GridLayout::new(c.grid, c.grid),
            });
        }
        let digits = c.digit_list()?;
        let columns = gan.noise(c.grid, &mut stream);
        let mut noise = Tensor::zeros(&[digits.len() * c.grid, c.latent]);
        for row in noise.data_mut().chunks_exact_mut(columns.len()) {
            row.copy_from_slice(columns.data());
        }
        let labels = digits
            .iter()
            .flat_map(|&d| std::iter::repeat_n(d, c.grid))
            .collect();
        Ok(FixedGrid {
            noise,
            labels: Some(labels),
            layout: GridLayout::new(digits.len(), c.grid),
        })
    }

    /// The grid of what `gan` makes of the fixed noise now (evaluation mode, averaged weights
    /// when there are some).
    pub fn draw(&self, gan: &mut Gan, pool: &mut BufferPool) -> Result<GrayImage> {
        let pixels = gan.generate_labeled(&self.noise, self.labels.as_deref(), pool)?;
        let range = pixel_range(gan.config.output);
        Ok(render::digit_grid_f32(
            &pixels,
            28,
            28,
            range,
            &self.layout,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TrainConfig;

    #[test]
    fn a_conditional_grid_has_a_row_per_digit_with_shared_noise_per_column() {
        let c = TrainConfig {
            conditional: true,
            digits: "3,5,7".into(),
            grid: 4,
            g_hidden: vec![8],
            d_hidden: vec![8],
            ..TrainConfig::default()
        };
        let mut gan = Gan::new(&c).unwrap();
        let grid = FixedGrid::new(&gan).unwrap();
        assert_eq!(
            grid.labels.as_deref(),
            Some(&[3, 3, 3, 3, 5, 5, 5, 5, 7, 7, 7, 7][..])
        );
        let latent = c.latent;
        let row = |r: usize| &grid.noise.data()[r * 4 * latent..(r + 1) * 4 * latent];
        assert_eq!(row(0), row(2));
        let image = grid.draw(&mut gan, &mut BufferPool::new()).unwrap();
        let plain = FixedGrid::new(
            &Gan::new(&TrainConfig {
                conditional: false,
                ..c
            })
            .unwrap(),
        );
        let plain = plain.unwrap();
        assert_eq!(plain.labels, None);
        assert!(
            image.height < image.width,
            "3 rows of 4: {}x{}",
            image.width,
            image.height
        );
    }
}
