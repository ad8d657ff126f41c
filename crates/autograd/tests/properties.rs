//! Property tests on random shapes: broadcasting against a direct index computation, shape
//! errors instead of panics, round trips of reshape, transpose and concat/slice, and products
//! (every transpose combination, depths past one 256-deep block) against a naive reference.

use autograd::ops::elementwise::broadcast_shape;
use autograd::{BufferPool, Gradients, Graph, ParamStore, Tensor};
use proptest::prelude::*;

/// A shape of rank 1 to 4 with dimensions 1 to 4.
fn shape() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..=4, 1..=4)
}

/// Values for a tensor of `shape`, small integers and halves so sums are exact.
fn tensor(shape: Vec<usize>) -> impl Strategy<Value = Tensor> {
    let n = shape.iter().product::<usize>();
    prop::collection::vec(-8i32..=8, n).prop_map(move |v| {
        Tensor::from_vec(&shape, v.iter().map(|&x| x as f32 / 2.0).collect()).unwrap()
    })
}

/// A shape and a second shape that broadcasts with it: some dimensions set to 1 and some leading
/// dimensions dropped.
fn broadcast_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    shape().prop_flat_map(|a| {
        let rank = a.len();
        (Just(a), prop::collection::vec(any::<bool>(), rank), 0..rank).prop_map(
            |(a, ones, drop)| {
                let b = a
                    .iter()
                    .zip(&ones)
                    .map(|(&d, &one)| if one { 1 } else { d })
                    .skip(drop)
                    .collect();
                (a, b)
            },
        )
    })
}

/// The row-major index into a tensor of `shape` (aligned at the right, stretched where 1) of the
/// output element at multi-index `idx`.
fn broadcast_index(idx: &[usize], shape: &[usize]) -> usize {
    let offset = idx.len() - shape.len();
    shape.iter().enumerate().fold(0, |acc, (i, &d)| {
        acc * d + if d == 1 { 0 } else { idx[i + offset] }
    })
}

fn multi_index(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for i in (0..shape.len()).rev() {
        idx[i] = flat % shape[i];
        flat /= shape[i];
    }
    idx
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn add_and_mul_broadcast_like_numpy_and_send_gradients_back(
        (a, b) in broadcast_pair().prop_flat_map(|(sa, sb)| (tensor(sa), tensor(sb))),
        swap in any::<bool>(),
    ) {
        let (a, b) = if swap { (b, a) } else { (a, b) };
        let mut params = ParamStore::new();
        let ia = params.add("a", a.clone()).unwrap();
        let ib = params.add("b", b.clone()).unwrap();
        let mut pool = BufferPool::new();
        let mut grads = Gradients::zeros_like(&params);
        let mut g = Graph::new(&params, &mut pool);
        let (va, vb) = (g.param(ia), g.param(ib));
        let sum = g.add(va, vb).unwrap();
        let prod = g.mul(va, vb).unwrap();
        let out_shape = broadcast_shape(a.shape(), b.shape()).unwrap();
        prop_assert_eq!(g.shape(sum).unwrap(), out_shape.as_slice());
        let n: usize = out_shape.iter().product();
        prop_assert_eq!(g.value(prod).len(), n);
        for i in 0..n {
            let idx = multi_index(i, &out_shape);
            let x = a.data()[broadcast_index(&idx, a.shape())];
            let y = b.data()[broadcast_index(&idx, b.shape())];
            prop_assert_eq!(g.value(sum).data()[i], x + y);
            prop_assert_eq!(g.value(prod).data()[i], x * y);
        }
        // d Σ(a + b) / db counts how many output elements each element of b reaches.
        let total = g.sum(sum).unwrap();
        g.backward(total, &mut grads).unwrap();
        let reach = (n / b.len()) as f32;
        prop_assert!(grads.get(ib).data().iter().all(|&d| d == reach));
        let reach = (n / a.len()) as f32;
        prop_assert!(grads.get(ia).data().iter().all(|&d| d == reach));
    }

    #[test]
    fn shapes_that_do_not_broadcast_are_errors_not_panics(
        sa in prop::collection::vec(0usize..=3, 0..=3),
        sb in prop::collection::vec(0usize..=3, 0..=3),
    ) {
        let mut params = ParamStore::new();
        let ia = params.add("a", Tensor::zeros(&sa)).unwrap();
        let ib = params.add("b", Tensor::zeros(&sb)).unwrap();
        let mut pool = BufferPool::new();
        let mut g = Graph::new(&params, &mut pool);
        let (va, vb) = (g.param(ia), g.param(ib));
        let expected = broadcast_shape(&sa, &sb);
        for result in [g.add(va, vb), g.sub(va, vb), g.mul(va, vb), g.div(va, vb)] {
            match (&expected, result) {
                (Some(shape), Ok(v)) => prop_assert_eq!(g.shape(v).unwrap(), shape.as_slice()),
                (None, Err(e)) => prop_assert!(e.to_string().contains("broadcast"), "{}", e),
                (e, r) => prop_assert!(false, "expected {:?}, got {:?}", e, r),
            }
        }
    }

    #[test]
    fn reshape_round_trips_and_refuses_other_sizes(
        t in shape().prop_flat_map(tensor),
        extra in 1usize..4,
    ) {
        let shape = t.shape().to_vec();
        let flat = t.clone().reshaped(&[t.len()]).unwrap();
        prop_assert_eq!(flat.clone().reshaped(&shape).unwrap(), t.clone());
        prop_assert!(flat.reshaped(&[t.len() + extra]).is_err());

        let mut pool = BufferPool::new();
        let params = ParamStore::new();
        let mut g = Graph::new(&params, &mut pool);
        let x = g.constant(t.clone());
        let mut reversed = shape.clone();
        reversed.reverse();
        let y = g.reshape(x, &reversed).unwrap();
        let back = g.reshape(y, &shape).unwrap();
        prop_assert_eq!(g.value(back), &t);
        prop_assert!(g.reshape(x, &[t.len() + extra]).is_err());
    }

    #[test]
    fn transposing_twice_through_a_product_gives_the_matrix_back(
        m in 1usize..12,
        k in 1usize..12,
        seed in any::<u64>(),
    ) {
        let a = Tensor::from_vec(&[m, k], values(m * k, seed)).unwrap();
        let eye = |n: usize| {
            Tensor::from_vec(&[n, n], (0..n * n).map(|i| f32::from(i % (n + 1) == 0)).collect())
                .unwrap()
        };
        let mut pool = BufferPool::new();
        let params = ParamStore::new();
        let mut g = Graph::new(&params, &mut pool);
        let (x, im, ik) = (g.constant(a.clone()), g.constant(eye(m)), g.constant(eye(k)));
        let xt = g.matmul_t(x, true, im, false).unwrap(); // aᵀ·I = aᵀ, k×m
        prop_assert_eq!(g.shape(xt).unwrap(), &[k, m]);
        for i in 0..m {
            for j in 0..k {
                prop_assert_eq!(g.value(xt).data()[j * m + i], a.data()[i * k + j]);
            }
        }
        let back = g.matmul_t(xt, true, ik, false).unwrap();
        prop_assert_eq!(g.value(back), &a);
    }

    #[test]
    fn products_match_a_naive_reference(
        m in 1usize..24,
        k in prop_oneof![1usize..40, 250usize..600],
        n in 1usize..48,
        ta in any::<bool>(),
        tb in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let a = values(m * k, seed);
        let b = values(k * n, seed ^ 0x5eed);
        // Stored transposed when the flag is set, so op(stored) is m×k and k×n.
        let a_shape = if ta { [k, m] } else { [m, k] };
        let b_shape = if tb { [n, k] } else { [k, n] };
        let mut pool = BufferPool::new();
        let params = ParamStore::new();
        let mut g = Graph::new(&params, &mut pool);
        let va = g.constant(Tensor::from_vec(&a_shape, a.clone()).unwrap());
        let vb = g.constant(Tensor::from_vec(&b_shape, b.clone()).unwrap());
        let c = g.matmul_t(va, ta, vb, tb).unwrap();
        prop_assert_eq!(g.shape(c).unwrap(), &[m, n]);
        let got = g.value(c).data();
        prop_assert_eq!(got.len(), m * n);
        let at = |i: usize, p: usize| if ta { a[p * m + i] } else { a[i * k + p] };
        let bt = |p: usize, j: usize| if tb { b[j * k + p] } else { b[p * n + j] };
        for i in 0..m {
            for j in 0..n {
                let want: f64 = (0..k).map(|p| f64::from(at(i, p)) * f64::from(bt(p, j))).sum();
                let err = (f64::from(got[i * n + j]) - want).abs();
                prop_assert!(err <= 1e-4 * (1.0 + want.abs()), "{}x{}x{} at {},{}", m, k, n, i, j);
            }
        }
    }

    #[test]
    fn slicing_a_concatenation_gives_the_parts_back(
        rows in prop::collection::vec(1usize..5, 1..4),
        width in 1usize..5,
        seed in any::<u64>(),
    ) {
        let parts: Vec<Tensor> = rows
            .iter()
            .enumerate()
            .map(|(i, &r)| Tensor::from_vec(&[r, width], values(r * width, seed + i as u64)).unwrap())
            .collect();
        let mut pool = BufferPool::new();
        let params = ParamStore::new();
        let mut g = Graph::new(&params, &mut pool);
        let vars: Vec<_> = parts.iter().map(|p| g.constant(p.clone())).collect();
        let joined = g.concat(&vars, 0).unwrap();
        let mut start = 0;
        for part in &parts {
            let end = start + part.shape()[0];
            let slice = g.slice_rows(joined, start, end).unwrap();
            prop_assert_eq!(g.value(slice), part);
            start = end;
        }
        prop_assert!(g.slice_rows(joined, 0, start + 1).is_err());
    }
}

/// `len` values in [-1, 1) from a small deterministic generator.
fn values(len: usize, seed: u64) -> Vec<f32> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}
