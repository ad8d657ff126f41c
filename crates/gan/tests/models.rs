//! Every model behind the seam trains, saves and loads: MLP and DCGAN, plain and conditional,
//! with and without the generator's average; a loaded checkpoint generates the same bits.

use autograd::{BufferPool, Tensor};
use gan::checkpoint::{self, Checkpoint, CheckpointMeta};
use gan::config::ModelKind;
use gan::data::TrainingData;
use gan::model::BatchCoupling;
use gan::train::{Gan, RealBatch, Trainer};
use gan::TrainConfig;
use mnist_idx::Split;

fn data() -> TrainingData {
    const N: usize = 32;
    let split = Split {
        images: (0..N * 784).map(|i| ((i * 7919) % 256) as u8).collect(),
        labels: (0..N).map(|i| (i % 10) as u8).collect(),
        len: N,
    };
    TrainingData::from_split(&split, &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).unwrap()
}

fn config(model: ModelKind, conditional: bool, ema: f64) -> TrainConfig {
    let small = model == ModelKind::Mlp;
    TrainConfig {
        model,
        conditional,
        ema,
        batch: 8,
        g_hidden: if small {
            vec![16]
        } else {
            TrainConfig::default().g_hidden
        },
        d_hidden: if small {
            vec![16]
        } else {
            TrainConfig::default().d_hidden
        },
        ..TrainConfig::default()
    }
}

/// Trains two steps, saves, loads into a fresh `Gan`, and compares what both generate.
fn train_save_load(c: &TrainConfig) {
    let digits = data();
    let mut trainer = Trainer::new(c, digits.clone()).unwrap();
    let (mut real, mut labels) = (Vec::new(), Vec::new());
    for step in 0..2u32 {
        let idx: Vec<u32> = (0..8).map(|i| (i + step * 8) % 32).collect();
        digits.fill_batch(&idx, c.output, &mut real);
        digits.fill_labels(&idx, &mut labels);
        let batch = RealBatch {
            pixels: &real,
            labels: &labels,
        };
        let s = trainer.train_step(&[batch]).unwrap();
        assert!(s.d_loss.is_finite() && s.g_loss.is_finite(), "{c:?}: {s:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.safetensors");
    checkpoint::save(&path, trainer.gan(), &[], &CheckpointMeta::default()).unwrap();
    let mut loaded = Gan::new(c).unwrap();
    Checkpoint::read(&path)
        .unwrap()
        .load_gan(&mut loaded)
        .unwrap();
    let z = trainer.gan().noise(10, &mut gan::rng::stream(1, 99));
    let mut pool = BufferPool::new();
    let ours = trainer.gan_mut().generate(&z, &mut pool).unwrap();
    let theirs = loaded.generate(&z, &mut pool).unwrap();
    assert_eq!(ours.len(), 10 * 784);
    assert!(
        ours.iter()
            .zip(&theirs)
            .all(|(a, b)| a.to_bits() == b.to_bits()),
        "{c:?}"
    );
}

#[test]
fn every_model_trains_saves_and_loads() {
    for model in [ModelKind::Mlp, ModelKind::Dcgan] {
        for conditional in [false, true] {
            for ema in [0.0, 0.9] {
                train_save_load(&config(model, conditional, ema));
            }
        }
    }
}

#[test]
fn projection_and_concatenation_discriminators_train_save_and_load() {
    use gan::config::Conditioning;
    for model in [ModelKind::Mlp, ModelKind::Dcgan] {
        let c = TrainConfig {
            conditioning: Conditioning::Projection,
            ..config(model, true, 0.0)
        };
        train_save_load(&c);
        let gan = Gan::new(&c).unwrap();
        let embed = gan.params.find("discriminator.embed.weight").unwrap();
        let features = if model == ModelKind::Mlp { 16 } else { 6272 };
        assert_eq!(gan.params.get(embed).shape(), &[10, features]);
        assert!(gan.discriminator.params().contains(&embed));
        // The first layer reads the pixels alone.
        let first = gan.params.find("discriminator.layers.0.weight").unwrap();
        let inputs = gan.params.get(first).shape()[1];
        assert_eq!(inputs, if model == ModelKind::Mlp { 784 } else { 1 });
        // Concatenation instead: no embedding, the label enters with the pixels.
        let c = TrainConfig {
            conditioning: Conditioning::Concat,
            ..c
        };
        train_save_load(&c);
        let gan = Gan::new(&c).unwrap();
        assert!(gan.params.find("discriminator.embed.weight").is_none());
        let first = gan.params.find("discriminator.layers.0.weight").unwrap();
        let inputs = gan.params.get(first).shape()[1];
        assert_eq!(inputs, if model == ModelKind::Mlp { 794 } else { 11 });
    }
}

#[test]
fn minibatch_stddev_discriminators_train_save_load_and_count_their_parameters() {
    use gan::config::Conditioning;
    for model in [ModelKind::Mlp, ModelKind::Dcgan] {
        for conditioning in [Conditioning::Projection, Conditioning::Concat] {
            let c = TrainConfig {
                minibatch_stddev: 4,
                conditioning,
                ..config(model, true, 0.0)
            };
            train_save_load(&c);
            let gan = Gan::new(&c).unwrap();
            let coupling = gan.discriminator.batch_coupling();
            match model {
                // Groups of 4 within each half of 8: one joined pass; 6 would straddle them.
                ModelKind::Mlp => {
                    assert_eq!(coupling, BatchCoupling::Groups(4));
                    assert!(coupling.allows_joining(8) && !coupling.allows_joining(6));
                }
                ModelKind::Dcgan => assert_eq!(coupling, BatchCoupling::Batch),
            }
            // One more input to the last layer (and to the projection's embedding).
            let (last, features) = match model {
                ModelKind::Mlp => ("discriminator.layers.2.weight", 16 + 1),
                ModelKind::Dcgan => ("discriminator.layers.6.weight", 6272 + 1),
            };
            let w = gan.params.find(last).unwrap();
            assert_eq!(gan.params.get(w).shape(), &[1, features]);
            if conditioning == Conditioning::Projection {
                let embed = gan.params.find("discriminator.embed.weight").unwrap();
                assert_eq!(gan.params.get(embed).shape(), &[10, features]);
            }
            let total: usize = gan.params.ids().map(|id| gan.params.get(id).len()).sum();
            let counted = gan::limits::parameter_count(&c).unwrap();
            assert_eq!(total as u64, counted, "{model:?} {conditioning:?}");
        }
    }
}

#[test]
fn spectrally_normalised_discriminators_train_save_and_load_with_pytorch_names() {
    for model in [ModelKind::Mlp, ModelKind::Dcgan] {
        let c = TrainConfig {
            spectral_norm: true,
            ..config(model, true, 0.0)
        };
        train_save_load(&c);
        let gan = Gan::new(&c).unwrap();
        let first = "discriminator.layers.0";
        assert!(gan.params.find(&format!("{first}.weight_orig")).is_some());
        assert!(gan.params.find(&format!("{first}.weight")).is_none());
        let buffers: Vec<String> = gan
            .discriminator
            .buffers()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert!(
            buffers.contains(&format!("{first}.weight_u")),
            "{buffers:?}"
        );
        assert!(
            buffers.contains(&format!("{first}.weight_v")),
            "{buffers:?}"
        );
    }
}

#[test]
fn dcgan_tensors_have_pytorch_names_and_shapes() {
    let c = config(ModelKind::Dcgan, false, 0.0);
    let trainer = Trainer::new(&c, data()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.safetensors");
    checkpoint::save(&path, trainer.gan(), &[], &CheckpointMeta::default()).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut got: Vec<(String, Vec<usize>, String)> = st
        .tensors()
        .into_iter()
        .map(|(n, v)| (n, v.shape().to_vec(), format!("{:?}", v.dtype())))
        .collect();
    got.sort();
    let f = |n: &str, s: &[usize]| (n.to_string(), s.to_vec(), "F32".to_string());
    let i = |n: &str| (n.to_string(), vec![], "I64".to_string());
    let mut want = vec![
        f("generator.layers.0.weight", &[6272, 100]),
        f("generator.layers.0.bias", &[6272]),
        f("generator.layers.1.weight", &[6272]),
        f("generator.layers.1.bias", &[6272]),
        f("generator.layers.1.running_mean", &[6272]),
        f("generator.layers.1.running_var", &[6272]),
        i("generator.layers.1.num_batches_tracked"),
        f("generator.layers.4.weight", &[128, 64, 4, 4]),
        f("generator.layers.4.bias", &[64]),
        f("generator.layers.5.weight", &[64]),
        f("generator.layers.5.bias", &[64]),
        f("generator.layers.5.running_mean", &[64]),
        f("generator.layers.5.running_var", &[64]),
        i("generator.layers.5.num_batches_tracked"),
        f("generator.layers.7.weight", &[64, 1, 4, 4]),
        f("generator.layers.7.bias", &[1]),
        f("discriminator.layers.0.weight", &[64, 1, 4, 4]),
        f("discriminator.layers.0.bias", &[64]),
        f("discriminator.layers.2.weight", &[128, 64, 4, 4]),
        f("discriminator.layers.2.bias", &[128]),
        f("discriminator.layers.3.weight", &[128]),
        f("discriminator.layers.3.bias", &[128]),
        f("discriminator.layers.3.running_mean", &[128]),
        f("discriminator.layers.3.running_var", &[128]),
        i("discriminator.layers.3.num_batches_tracked"),
        f("discriminator.layers.6.weight", &[1, 6272]),
        f("discriminator.layers.6.bias", &[1]),
    ];
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn a_conditional_generator_needs_labels_and_dcgan_refuses_hidden_sizes() {
    let mut gan = Gan::new(&config(ModelKind::Mlp, true, 0.0)).unwrap();
    let z = Tensor::zeros(&[3, 100]);
    let mut pool = BufferPool::new();
    let err = gan.generate_labeled(&z, None, &mut pool).unwrap_err();
    assert!(
        err.to_string().contains("needs a digit for every row"),
        "{err}"
    );
    // Without labels given, `generate` cycles through the digits.
    assert_eq!(gan.generate(&z, &mut pool).unwrap().len(), 3 * 784);
    let bad = TrainConfig {
        model: ModelKind::Dcgan,
        g_hidden: vec![64],
        ..TrainConfig::default()
    };
    let err = bad.validate().unwrap_err().to_string();
    assert!(err.contains("apply to model = \"mlp\" only"), "{err}");
}

#[test]
fn every_loss_trains_and_wasserstein_clips_its_critic() {
    use gan::loss::GanLoss;
    for loss in [
        GanLoss::Bce,
        GanLoss::Hinge,
        GanLoss::Lsgan,
        GanLoss::Wasserstein,
    ] {
        let c = TrainConfig {
            loss,
            ..config(ModelKind::Mlp, false, 0.0)
        };
        let mut trainer = Trainer::new(&c, data()).unwrap();
        let mut steps = 0;
        let metrics = trainer
            .train_epoch(|_| {
                steps += 1;
                true
            })
            .unwrap()
            .unwrap();
        assert!(
            metrics.d_loss.is_finite() && metrics.g_loss.is_finite(),
            "{loss}"
        );
        // 32 digits in batches of 8: 4 critic updates, one generator update per d_steps.
        assert_eq!(steps, 4usize.div_ceil(loss.d_steps()), "{loss}");
        if let Some(bound) = loss.weight_clip() {
            let (_, opt_d) = trainer.optimizers();
            for &id in opt_d.params() {
                let w = trainer.gan().params.get(id).data();
                assert!(
                    w.iter().all(|v| v.abs() <= bound),
                    "{loss}: unclipped weight"
                );
            }
        }
    }
}

#[test]
fn a_minibatch_stddev_discriminator_gives_each_half_of_a_joined_batch_its_own_result() {
    // What lets the training step join real and generated digits: groups of 4 never straddle
    // two halves of 8, so one pass of 16 equals two passes of 8.
    let c = TrainConfig {
        minibatch_stddev: 4,
        ..config(ModelKind::Mlp, true, 0.0)
    };
    let mut gan = Gan::new(&c).unwrap();
    let mut pool = BufferPool::new();
    let pixels: Vec<f32> = (0..16 * 784)
        .map(|i| ((i % 97) as f32 / 48.0) - 1.0)
        .collect();
    let labels: Vec<u8> = (0..16).map(|i| (i % 10) as u8).collect();
    let mut g = autograd::Graph::new(&gan.params, &mut pool);
    let x = g.constant(Tensor::from_vec(&[16, 784], pixels.clone()).unwrap());
    let joined = gan.discriminator.forward(&mut g, x, Some(&labels)).unwrap();
    let joined = g.value(joined).data().to_vec();
    let mut halves = Vec::new();
    for half in 0..2 {
        let rows = half * 8..(half + 1) * 8;
        let part = pixels[rows.start * 784..rows.end * 784].to_vec();
        let x = g.constant(Tensor::from_vec(&[8, 784], part).unwrap());
        let y = gan
            .discriminator
            .forward(&mut g, x, Some(&labels[rows]))
            .unwrap();
        halves.extend_from_slice(g.value(y).data());
    }
    for (a, b) in joined.iter().zip(&halves) {
        assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
    }
}

#[test]
fn the_mode_seeking_regulariser_trains_every_model() {
    for model in [ModelKind::Mlp, ModelKind::Dcgan] {
        for conditional in [false, true] {
            let c = TrainConfig {
                mode_seeking: 1.0,
                ..config(model, conditional, 0.0)
            };
            train_save_load(&c);
        }
    }
}
