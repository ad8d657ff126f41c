use super::*;

/// Minimises f(p) = Σ (p − target)² / 2 (gradient p − target) for a few steps and returns
/// the parameter trajectory.
fn run(kind: OptimizerKind, lr: f32, momentum: f32, steps: usize) -> Vec<Vec<f32>> {
    let mut store = ParamStore::new();
    let id = store
        .add("w", Tensor::from_vec(&[3], vec![1.0, -2.0, 0.5]).unwrap())
        .unwrap();
    let settings = OptimizerSettings {
        kind,
        lr,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        alpha: 0.99,
        momentum,
    };
    let mut opt = Optimizer::new(settings, vec![id], &store).unwrap();
    let mut grads = Gradients::zeros_like(&store);
    let mut out = Vec::new();
    for _ in 0..steps {
        set_grad_towards(&store, &mut grads, id, &[0.0, 1.0, 2.0]);
        opt.step(&mut store, &grads).unwrap();
        out.push(store.get(id).data().to_vec());
    }
    out
}

/// Sets the gradient of Σ (p − target)² / 2.
fn set_grad_towards(store: &ParamStore, grads: &mut Gradients, id: ParamId, target: &[f32]) {
    let p = store.get(id).data();
    assert_eq!(p.len(), target.len());
    for (g, (p, t)) in grads
        .get_mut(id)
        .data_mut()
        .iter_mut()
        .zip(p.iter().zip(target))
    {
        *g = p - t;
    }
}

fn close(got: &[f32], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "got {got:?}, want {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!(
            (f64::from(*g) - w).abs() < 1e-6,
            "got {got:?}, want {want:?}"
        );
    }
}

#[test]
fn adam_matches_a_worked_example() {
    // By hand: step 1, m̂ = g and v̂ = g², so each weight moves by lr·sign(g) (ε aside):
    // g = (1, −3, −1.5) → p = (1 − 0.1, −2 + 0.1, 0.5 + 0.1).
    let traj = run(OptimizerKind::Adam, 0.1, 0.0, 3);
    close(&traj[0], &[0.9, -1.9, 0.6]);
    // Step 2 (worked in f64): g = (0.9, −2.9, −1.4); m = 0.9·m + 0.1·g; v = 0.999·v + 0.001·g²,
    // p −= 0.1·(m / 0.19) / (√(v / (1 − 0.999²)) + 1e-8).
    let want: Vec<f64> = [(0.9, 1.0, 0.9), (-1.9, -3.0, -2.9), (0.6, -1.5, -1.4)]
        .iter()
        .map(|&(p, g1, g2): &(f64, f64, f64)| {
            let m = 0.9 * (0.1 * g1) + 0.1 * g2;
            let v = 0.999 * (0.001 * g1 * g1) + 0.001 * g2 * g2;
            p - 0.1 * (m / (1.0 - 0.81)) / ((v / (1.0 - 0.999f64.powi(2))).sqrt() + 1e-8)
        })
        .collect();
    close(&traj[1], &want);
}

#[test]
fn rmsprop_matches_a_worked_example() {
    // Step 1: v = 0.01·g², p −= lr·g / (√v + ε) = lr·g / (0.1·|g|) = 10·lr·sign(g).
    let traj = run(OptimizerKind::Rmsprop, 0.01, 0.0, 2);
    close(&traj[0], &[0.9, -1.9, 0.6]);
    // Step 2: g = (0.9, −2.9, −1.4); v = 0.99·0.01·g1² + 0.01·g2².
    let want: Vec<f64> = [(0.9, 1.0, 0.9), (-1.9, -3.0, -2.9), (0.6, -1.5, -1.4)]
        .iter()
        .map(|&(p, g1, g2): &(f64, f64, f64)| {
            let v = 0.99 * 0.01 * g1 * g1 + 0.01 * g2 * g2;
            p - 0.01 * g2 / (v.sqrt() + 1e-8)
        })
        .collect();
    close(&traj[1], &want);
}

#[test]
fn sgd_with_momentum_matches_a_worked_example() {
    // buf1 = g1 = (1, −3, −1.5): p1 = p0 − 0.1·buf1 = (0.9, −1.7, 0.65).
    // g2 = (0.9, −2.7, −1.35); buf2 = 0.9·buf1 + g2 = (1.8, −5.4, −2.7);
    // p2 = p1 − 0.1·buf2 = (0.72, −1.16, 0.92).
    let traj = run(OptimizerKind::Sgd, 0.1, 0.9, 2);
    close(&traj[0], &[0.9, -1.7, 0.65]);
    close(&traj[1], &[0.72, -1.16, 0.92]);
    let plain = run(OptimizerKind::Sgd, 0.1, 0.0, 1);
    close(&plain[0], &[0.9, -1.7, 0.65]);
}

#[test]
fn the_constructors_use_pytorch_defaults() {
    let s = OptimizerSettings::adam(1e-3);
    assert_eq!(
        (s.kind, s.lr, s.beta1, s.beta2, s.eps),
        (OptimizerKind::Adam, 1e-3, 0.9, 0.999, 1e-8)
    );
    let s = OptimizerSettings::rmsprop(1e-2);
    assert_eq!((s.alpha, s.eps, s.momentum), (0.99, 1e-8, 0.0));
    let s = OptimizerSettings::sgd(0.1).with_momentum(0.9);
    assert_eq!((s.kind, s.momentum), (OptimizerKind::Sgd, 0.9));
    let mut store = ParamStore::new();
    let id = store.add("w", Tensor::zeros(&[2])).unwrap();
    let opt = Optimizer::adam(vec![id], &store, 2e-4, (0.5, 0.999)).unwrap();
    assert_eq!(
        *opt.settings(),
        OptimizerSettings::adam(2e-4).with_betas((0.5, 0.999))
    );
}

#[test]
fn slot_names_are_pytorchs() {
    let mut store = ParamStore::new();
    let a = store.add("a", Tensor::zeros(&[2])).unwrap();
    let b = store.add("b", Tensor::zeros(&[3])).unwrap();
    let names = |s: OptimizerSettings| -> Vec<(&str, usize)> {
        let opt = Optimizer::new(s, vec![a, b], &store).unwrap();
        opt.state().iter().map(|&(n, i, _)| (n, i)).collect()
    };
    assert_eq!(
        names(OptimizerSettings::adam(0.1)),
        [
            ("exp_avg", 0),
            ("exp_avg_sq", 0),
            ("exp_avg", 1),
            ("exp_avg_sq", 1)
        ]
    );
    assert_eq!(
        names(OptimizerSettings::rmsprop(0.1)),
        [
            ("square_avg", 0),
            ("momentum_buffer", 0),
            ("square_avg", 1),
            ("momentum_buffer", 1)
        ]
    );
    assert_eq!(
        names(OptimizerSettings::sgd(0.1)),
        [("momentum_buffer", 0), ("momentum_buffer", 1)]
    );
}

#[test]
fn restored_state_continues_the_same_trajectory() {
    for settings in [
        OptimizerSettings::adam(0.1),
        OptimizerSettings::rmsprop(0.01).with_momentum(0.5),
        OptimizerSettings::sgd(0.1).with_momentum(0.9),
    ] {
        let mut store = ParamStore::new();
        let id = store.add("w", Tensor::full(&[4], 1.0)).unwrap();
        let target = [0.0, -1.0, 2.0, 0.5];
        let mut grads = Gradients::zeros_like(&store);
        let mut opt = Optimizer::new(settings, vec![id], &store).unwrap();
        for _ in 0..3 {
            set_grad_towards(&store, &mut grads, id, &target);
            opt.step(&mut store, &grads).unwrap();
        }
        // Save, then restore into a fresh optimizer over a copy of the parameters.
        let saved: Vec<Tensor> = opt.state().into_iter().map(|(_, _, t)| t.clone()).collect();
        let mut store2 = store.clone();
        let mut fresh = Optimizer::new(settings, vec![id], &store2).unwrap();
        let (slots, steps) = fresh.state_mut();
        assert_eq!(slots.len(), saved.len());
        for ((_, _, t), s) in slots.into_iter().zip(&saved) {
            *t = s.clone();
        }
        *steps = opt.steps();
        for _ in 0..3 {
            set_grad_towards(&store, &mut grads, id, &target);
            opt.step(&mut store, &grads).unwrap();
            set_grad_towards(&store2, &mut grads, id, &target);
            fresh.step(&mut store2, &grads).unwrap();
            assert_eq!(store.get(id).data(), store2.get(id).data(), "{settings:?}");
        }
        assert_eq!(fresh.steps(), 6);
    }
}

#[test]
fn set_lr_changes_the_next_updates_only() {
    let mut store = ParamStore::new();
    let id = store.add("w", Tensor::full(&[1], 1.0)).unwrap();
    let mut grads = Gradients::zeros_like(&store);
    grads.get_mut(id).data_mut()[0] = 1.0;
    let mut opt = Optimizer::sgd(vec![id], &store, 0.5, 0.0).unwrap();
    opt.step(&mut store, &grads).unwrap();
    opt.set_lr(0.25);
    opt.step(&mut store, &grads).unwrap();
    assert_eq!(store.get(id).data(), &[0.25]);
    assert_eq!(opt.settings().lr, 0.25);
}

#[test]
fn invalid_settings_and_foreign_ids_are_errors_not_panics() {
    let mut store = ParamStore::new();
    let id = store.add("w", Tensor::zeros(&[2])).unwrap();
    for bad in [
        OptimizerSettings::adam(-1.0),
        OptimizerSettings::adam(f32::NAN),
        OptimizerSettings::adam(0.1).with_betas((1.0, 0.999)),
        OptimizerSettings::rmsprop(0.1).with_alpha(-0.5),
        OptimizerSettings::sgd(0.1).with_momentum(-0.1),
    ] {
        assert!(Optimizer::new(bad, vec![id], &store).is_err(), "{bad:?}");
    }
    let settings = OptimizerSettings::sgd(0.1);
    assert!(Optimizer::new(settings, vec![id, id], &store).is_err());
    let mut bigger = store.clone();
    let other = bigger.add("v", Tensor::zeros(&[3])).unwrap();
    assert!(Optimizer::new(settings, vec![other], &store).is_err());

    // A step with another store's parameters or gradients fails and changes nothing.
    let mut opt = Optimizer::new(settings, vec![other], &bigger).unwrap();
    let grads = Gradients::zeros_like(&bigger);
    assert!(opt.step(&mut store, &grads).is_err());
    let small_grads = Gradients::zeros_like(&store);
    assert!(opt.step(&mut bigger, &small_grads).is_err());
    let mut reshaped = ParamStore::new();
    reshaped.add("w", Tensor::zeros(&[2])).unwrap();
    reshaped.add("v", Tensor::zeros(&[4])).unwrap();
    let err = opt.step(&mut reshaped, &grads).unwrap_err();
    assert!(err.to_string().contains("shape"), "{err}");
    assert_eq!(opt.steps(), 0);
    // State replaced by a tensor of another shape.
    let (mut slots, _) = opt.state_mut();
    *slots[0].2 = Tensor::zeros(&[5]);
    assert!(opt.step(&mut bigger, &grads).is_err());
}

#[test]
fn large_updates_split_in_halves_give_the_same_bits_as_small_ones() {
    // 2^16 elements take the two-halves path; the same values, cut into tensors below the
    // threshold, take the one-thread path: each element's arithmetic must be the same.
    let n = 1 << 16;
    let values: Vec<f32> = (0..n).map(|i| ((i % 97) as f32 - 48.0) / 17.0).collect();
    let grads_of = |p: &[f32]| -> Vec<f32> { p.iter().map(|x| x * 0.3 - 0.1).collect() };
    let mut big = ParamStore::new();
    let b = big
        .add("big", Tensor::from_vec(&[n], values.clone()).unwrap())
        .unwrap();
    let mut small = ParamStore::new();
    let parts: Vec<ParamId> = values
        .chunks(n / 4)
        .enumerate()
        .map(|(i, c)| {
            small
                .add(
                    format!("p{i}"),
                    Tensor::from_vec(&[c.len()], c.to_vec()).unwrap(),
                )
                .unwrap()
        })
        .collect();
    let settings = OptimizerSettings::adam(0.01);
    let mut opt_big = Optimizer::new(settings, vec![b], &big).unwrap();
    let mut opt_small = Optimizer::new(settings, parts.clone(), &small).unwrap();
    let mut gb = Gradients::zeros_like(&big);
    let mut gs = Gradients::zeros_like(&small);
    for _ in 0..3 {
        let g = grads_of(big.get(b).data());
        gb.get_mut(b).data_mut().copy_from_slice(&g);
        for (&id, c) in parts.iter().zip(g.chunks(n / 4)) {
            gs.get_mut(id).data_mut().copy_from_slice(c);
        }
        opt_big.step(&mut big, &gb).unwrap();
        opt_small.step(&mut small, &gs).unwrap();
    }
    let joined: Vec<f32> = parts
        .iter()
        .flat_map(|&id| small.get(id).data().to_vec())
        .collect();
    assert_eq!(joined.len(), n);
    assert!(big.get(b).data() == joined.as_slice());
}
