//! A training step gives the same bits with one thread and with two (every parallel path of the
//! engine and the optimizer keeps each value's arithmetic order), for the reference MLP and for
//! the conditional DCGAN with every option; the two-thread runs force each parallel half onto
//! the helper thread and count them, so they prove that path ran. The reference step allocates
//! no new buffers once warmed up.

use gan::config::TrainConfig;
use gan::data::TrainingData;
use gan::train::{RealBatch, Trainer};
use mnist_idx::Split;

/// 256 synthetic digits.
fn data() -> TrainingData {
    const N: usize = 256;
    let split = Split {
        images: (0..N * 784).map(|i| ((i * 7919) % 256) as u8).collect(),
        labels: (0..N).map(|i| (i % 10) as u8).collect(),
        len: N,
    };
    TrainingData::from_split(&split, &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).unwrap()
}

/// Trains three steps of `config` on a pool of `threads` threads, every parallel half forced
/// onto the helper thread (`autograd::force_helper`); returns the bits of every step's figures
/// and of every parameter, and how many halves the helper ran.
fn train_config(threads: usize, config: &TrainConfig) -> (Vec<u32>, u64) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| autograd::force_helper(|| steps(config)))
}

/// Three training steps of `config`; the bits of every step's figures and every parameter.
fn steps(config: &TrainConfig) -> Vec<u32> {
    let batch = config.batch;
    {
        let config = config.clone();
        let digits = data();
        let mut trainer = Trainer::new(&config, digits.clone()).unwrap();
        let mut bits = Vec::new();
        let (mut real, mut labels) = (Vec::new(), Vec::new());
        for step in 0..3u32 {
            let indices: Vec<u32> = (0..batch as u32).map(|i| (i + step * 7) % 256).collect();
            digits.fill_batch(&indices, config.output, &mut real);
            digits.fill_labels(&indices, &mut labels);
            let batch = RealBatch {
                pixels: &real,
                labels: &labels,
            };
            let s = trainer.train_step(&[batch]).unwrap();
            bits.extend([s.d_loss, s.g_loss, s.d_real, s.d_fake].map(f32::to_bits));
        }
        let params = &trainer.gan().params;
        for id in params.ids() {
            bits.extend(params.get(id).data().iter().map(|v| v.to_bits()));
        }
        bits
    }
}

/// Three steps of `config` give the same bits on one thread and on two, and the two-thread run
/// did hand halves to the helper.
fn assert_same_bits(config: &TrainConfig) {
    let batch = config.batch;
    let ((one, halves_one), (two, halves_two)) = (train_config(1, config), train_config(2, config));
    assert_eq!(halves_one, 0, "one thread ran no helper half");
    assert!(
        halves_two > 0,
        "batch {batch}: the two-thread path never ran"
    );
    assert_eq!(one.len(), two.len());
    let differ = one.iter().zip(&two).filter(|(a, b)| a != b).count();
    assert_eq!(differ, 0, "batch {batch}: {differ} values differ");
}

#[test]
fn dcgan_steps_give_the_same_bits_with_one_and_two_threads() {
    // The conditional DCGAN with a projection term, spectral norm and EMA: convolutions,
    // transposed convolutions, batch norm (two passes of D) and every hook of the step.
    for batch in [16, 9] {
        let config = TrainConfig {
            model: gan::config::ModelKind::Dcgan,
            conditional: true,
            spectral_norm: true,
            ema: 0.9,
            batch,
            ..TrainConfig::default()
        };
        assert_same_bits(&config);
    }
}

#[test]
fn reference_steps_give_the_same_bits_with_one_and_two_threads() {
    for batch in [64, 17] {
        let config = TrainConfig {
            batch,
            ..TrainConfig::default()
        };
        assert_same_bits(&config);
    }
}

/// After two warm-up steps a training step takes every buffer it needs from the engine's pool.
#[test]
fn a_step_allocates_no_new_buffers_after_warm_up() {
    let config = TrainConfig::default();
    let digits = data();
    let mut trainer = Trainer::new(&config, digits.clone()).unwrap();
    let (mut real, mut labels) = (Vec::new(), Vec::new());
    let indices: Vec<u32> = (0..64).collect();
    digits.fill_batch(&indices, config.output, &mut real);
    digits.fill_labels(&indices, &mut labels);
    let batch = RealBatch {
        pixels: &real,
        labels: &labels,
    };
    let mut counts = Vec::new();
    for _ in 0..5 {
        trainer.train_step(&[batch]).unwrap();
        counts.push(trainer.pool_allocations());
    }
    assert!(
        counts[2..].iter().all(|&c| c == counts[1]),
        "fresh allocations after each step: {counts:?}"
    );
}
