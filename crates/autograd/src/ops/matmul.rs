//! Matrix products: `matmul` (either operand transposed through strides), `linear`
//! (`x·Wᵀ + b`, the weight stored `[out, in]` as PyTorch's `nn.Linear` keeps it) and `linear_act`
//! (`act(x·Wᵀ + b)` in one op).
//!
//! Backward of a product computes two products of equal work (the gradient of each operand);
//! when both are needed they run at once, one per core, each on one thread. A gradient buffer
//! that no other op has written yet is overwritten (β = 0), not zero-filled and added to.

use super::gemm::{gemm, gemm_par, gemm_par_map, MatMut, MatRef, PARALLEL_MIN_WORK};
use crate::error::{shape_mismatch, Result};
use crate::graph::{Backward, GradSink, GradTarget, Graph, Values, Var};
use crate::ops::activation::Activation;
use crate::tensor::Tensor;

fn matrix_dims(op: &'static str, shape: &[usize], other: &[usize]) -> Result<(usize, usize)> {
    match shape {
        [r, c] => Ok((*r, *c)),
        _ => Err(shape_mismatch(
            op,
            shape,
            other,
            "both operands must be 2-D matrices",
        )),
    }
}

impl Graph<'_> {
    /// `a · b` for 2-D `a` (m×k) and `b` (k×n).
    pub fn matmul(&mut self, a: Var, b: Var) -> Result<Var> {
        self.matmul_t(a, false, b, false)
    }

    /// `op(a) · op(b)`, where `op` transposes its operand when the flag is set (through strides;
    /// only a large transposed `b` is copied into row-major order inside the product, a block of
    /// at most 256 rows at a time).
    pub fn matmul_t(&mut self, a: Var, ta: bool, b: Var, tb: bool) -> Result<Var> {
        let (sa, sb) = (self.shape(a)?.to_vec(), self.shape(b)?.to_vec());
        let (ar, ac) = matrix_dims("matmul", &sa, &sb)?;
        let (br, bc) = matrix_dims("matmul", &sb, &sa)?;
        let (m, k) = if ta { (ac, ar) } else { (ar, ac) };
        let (k2, n) = if tb { (bc, br) } else { (br, bc) };
        if k != k2 {
            return Err(shape_mismatch(
                "matmul",
                &sa,
                &sb,
                format!("inner dimensions differ ({k} vs {k2}) after transposes ta={ta}, tb={tb}"),
            ));
        }
        let mut out = self.alloc(m * n);
        {
            let av = MatRef::new(self.value(a).data(), ar, ac).t_if(ta);
            let bv = MatRef::new(self.value(b).data(), br, bc).t_if(tb);
            gemm_par(1.0, av, bv, 0.0, MatMut::new(&mut out, m, n));
        }
        let value = Tensor::from_parts(vec![m, n], out);
        Ok(self.push_op("matmul", value, &[a, b], || MatMulBackward { a, ta, b, tb }))
    }

    /// `x · Wᵀ + b` for `x` of shape `[batch, in]`, `weight` `[out, in]` and `bias` `[out]`.
    pub fn linear(&mut self, x: Var, weight: Var, bias: Option<Var>) -> Result<Var> {
        self.linear_fused(x, weight, bias, None)
    }

    /// `act(x · Wᵀ + b)` in one op: the activation is applied to each part of the product as
    /// soon as it is computed, and differentiated through the output alone, so it costs no pass
    /// over memory and no node of its own. The same values as [`Graph::linear`] followed by the
    /// activation's own op. A leaky ReLU of negative slope (whose output does not show the sign
    /// of its input) is recorded as those two ops.
    pub fn linear_act(
        &mut self,
        x: Var,
        weight: Var,
        bias: Option<Var>,
        act: Activation,
    ) -> Result<Var> {
        if act.fusable() {
            self.linear_fused(x, weight, bias, Some(act))
        } else {
            let y = self.linear(x, weight, bias)?;
            act.apply(self, y)
        }
    }

    fn linear_fused(
        &mut self,
        x: Var,
        weight: Var,
        bias: Option<Var>,
        act: Option<Activation>,
    ) -> Result<Var> {
        let (sx, sw) = (self.shape(x)?.to_vec(), self.shape(weight)?.to_vec());
        let (batch, inputs) = matrix_dims("linear", &sx, &sw)?;
        let (outputs, w_in) = matrix_dims("linear", &sw, &sx)?;
        if inputs != w_in {
            return Err(shape_mismatch(
                "linear",
                &sx,
                &sw,
                format!("input has {inputs} features but the weight [out, in] expects {w_in}"),
            ));
        }
        if let Some(b) = bias {
            let sb = self.shape(b)?;
            if sb != [outputs] {
                return Err(shape_mismatch(
                    "linear",
                    sb,
                    &[outputs],
                    "the bias must have one value per output feature",
                ));
            }
        }
        let mut out = self.alloc(batch * outputs);
        let beta = match bias {
            Some(b) => {
                let bias = self.value(b).data();
                for row in out.chunks_exact_mut(outputs) {
                    row.copy_from_slice(bias);
                }
                1.0
            }
            None => 0.0,
        };
        {
            let xv = MatRef::new(self.value(x).data(), batch, inputs);
            let wv = MatRef::new(self.value(weight).data(), outputs, inputs).t();
            let c = MatMut::new(&mut out, batch, outputs);
            match act {
                Some(act) => gemm_par_map(1.0, xv, wv, beta, c, |row| act.apply_in_place(row)),
                None => gemm_par(1.0, xv, wv, beta, c),
            }
        }
        let value = Tensor::from_parts(vec![batch, outputs], out);
        let inputs_vars: Vec<Var> = std::iter::once(x).chain([weight]).chain(bias).collect();
        Ok(
            self.push_op("linear", value, &inputs_vars, || LinearBackward {
                x,
                weight,
                bias,
                act,
            }),
        )
    }
}

struct MatMulBackward {
    a: Var,
    ta: bool,
    b: Var,
    tb: bool,
}

impl Backward for MatMulBackward {
    fn backward(
        &self,
        _out: &Tensor,
        gout: &Tensor,
        vals: &Values<'_>,
        grads: &mut GradSink<'_>,
    ) -> Result<()> {
        let (av, bv) = (vals.get(self.a), vals.get(self.b));
        let (ar, ac) = (av.dim(0), av.dim(1));
        let (br, bc) = (bv.dim(0), bv.dim(1));
        let (m, n) = (gout.dim(0), gout.dim(1));
        let g = MatRef::new(gout.data(), m, n);
        let opa = MatRef::new(av.data(), ar, ac).t_if(self.ta);
        let opb = MatRef::new(bv.data(), br, bc).t_if(self.tb);
        // d op(A) = dC · op(B)ᵀ and d op(B) = op(A)ᵀ · dC, written through transposed views.
        let grad_a = |ga: &mut Tensor, par: bool| {
            let view = MatMut::new(ga.data_mut(), ar, ac).t_if(self.ta);
            product(par, g, opb.t(), 1.0, view)
        };
        let grad_b = |gb: &mut Tensor, par: bool| {
            let view = MatMut::new(gb.data_mut(), br, bc).t_if(self.tb);
            product(par, opa.t(), g, 1.0, view)
        };
        if self.a == self.b {
            // a·a (or a·aᵀ): two contributions into one buffer, one after the other.
            if let Some(ga) = grads.get(self.a) {
                grad_a(ga, true);
                grad_b(ga, true);
            }
            return Ok(());
        }
        match grads.get_two(self.a, self.b) {
            (Some(ga), Some(gb)) if worth_splitting(m * n * opa.cols) => {
                super::parallel::join(|| grad_a(ga, false), || grad_b(gb, false));
            }
            (Some(ga), Some(gb)) => {
                grad_a(ga, false);
                grad_b(gb, false);
            }
            (Some(ga), None) => grad_a(ga, true),
            (None, Some(gb)) => grad_b(gb, true),
            (None, None) => {}
        }
        Ok(())
    }
}

/// Whether two products of `work` multiply-adds each are worth running at once (a product that
/// small would not be split in halves either).
fn worth_splitting(work: usize) -> bool {
    work >= PARALLEL_MIN_WORK
}

/// `C ← A·B + β·C`, split over both cores when `par` (the caller is not already running in
/// parallel).
fn product(par: bool, a: MatRef, b: MatRef, beta: f32, c: MatMut) {
    if par {
        gemm_par(1.0, a, b, beta, c)
    } else {
        gemm(1.0, a, b, beta, c)
    }
}

/// β of a product into a gradient buffer: 0 overwrites a fresh one, 1 adds into an existing one.
fn beta(fresh: &bool) -> f32 {
    if *fresh {
        0.0
    } else {
        1.0
    }
}

/// `db (=|+=) Σ_rows dy` for `dy: (rows, outputs)`, row after row (a fixed order).
fn bias_grad(db: GradTarget, dy: &[f32], outputs: usize) {
    let fresh = db.fresh;
    let db = db.tensor.data_mut();
    if fresh {
        db.fill(0.0);
    }
    for row in dy.chunks_exact(outputs) {
        for (acc, d) in db.iter_mut().zip(row) {
            *acc += d;
        }
    }
}

struct LinearBackward {
    x: Var,
    weight: Var,
    bias: Option<Var>,
    /// A fused activation, differentiated through the op's output.
    act: Option<Activation>,
}

impl Backward for LinearBackward {
    fn backward(
        &self,
        out: &Tensor,
        gout: &Tensor,
        vals: &Values<'_>,
        grads: &mut GradSink<'_>,
    ) -> Result<()> {
        let (xv, wv) = (vals.get(self.x), vals.get(self.weight));
        let (batch, inputs) = (xv.dim(0), xv.dim(1));
        let outputs = wv.dim(0);
        // dZ = dY · act'(Z), the gradient before the activation (dY itself without one).
        let dz_buf = self.act.map(|act| {
            let mut dz = grads.scratch(gout.len());
            act.backprop(out.data(), gout.data(), &mut dz);
            dz
        });
        let dz = dz_buf.as_deref().unwrap_or(gout.data());
        if let Some(gb) = self.bias.and_then(|b| grads.target(b)) {
            bias_grad(gb, dz, outputs);
        }
        let g = MatRef::new(dz, batch, outputs);
        // dX = dZ · W  (batch×out · out×in);  dW = dZᵀ · X  (out×batch · batch×in). A fresh
        // gradient buffer is written with β = 0, an existing one accumulated into with β = 1.
        let grad_x = |gx: GradTarget, par: bool| {
            let w = MatRef::new(wv.data(), outputs, inputs);
            let c = MatMut::new(gx.tensor.data_mut(), batch, inputs);
            product(par, g, w, beta(&gx.fresh), c)
        };
        let grad_w = |gw: GradTarget, par: bool| {
            let x = MatRef::new(xv.data(), batch, inputs);
            let c = MatMut::new(gw.tensor.data_mut(), outputs, inputs);
            product(par, g.t(), x, beta(&gw.fresh), c)
        };
        match grads.targets_two(self.x, self.weight) {
            (Some(gx), Some(gw)) if worth_splitting(batch * inputs * outputs) => {
                super::parallel::join(|| grad_x(gx, false), || grad_w(gw, false));
            }
            (Some(gx), Some(gw)) => {
                grad_x(gx, false);
                grad_w(gw, false);
            }
            (Some(gx), None) => grad_x(gx, true),
            (None, Some(gw)) => grad_w(gw, true),
            (None, None) => {}
        }
        if let Some(buf) = dz_buf {
            grads.give(buf);
        }
        Ok(())
    }
}
