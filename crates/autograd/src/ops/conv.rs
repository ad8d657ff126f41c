//! Convolutions: `conv2d` and `conv_transpose2d`, each as im2col + one GEMM per sample.
//!
//! `im2col` copies every receptive field of one image into a column of a matrix (`K = C·kh·kw`
//! rows, one column per output position), so that a convolution becomes a product with the
//! weight viewed as a matrix; `col2im` is its adjoint (it scatter-adds columns back into an
//! image). `conv_transpose2d` is the adjoint of `conv2d` with respect to its input: its forward
//! pass is conv2d's input gradient and the other way round.
//!
//! Parallelism: a large batch is cut into two fixed halves computed at once, each with its own
//! column buffer. In backward, the first half adds its weight gradient into the gradient store
//! and the second into a scratch buffer that is added afterwards. The cut depends only on the
//! shapes, never on the number of threads, so results are bit-identical with 1 or 2 threads.

use super::bias::{bias_grad, fill_bias};
use super::gemm::{gemm, gemm_par, MatMut, MatRef};
use super::im2col::{col2im, columns, Geometry};
use crate::error::{invalid, shape_mismatch, Result};
use crate::graph::{Backward, GradSink, Graph, Values, Var};
use crate::tensor::Tensor;

/// Batches doing fewer multiply-adds than this stay on one thread.
const PARALLEL_MIN_WORK: usize = 1 << 19;

/// `C ← A·B + β·C`, split over both cores when `par` (the caller is not already parallel).
fn product(par: bool, a: MatRef, b: MatRef, beta: f32, c: MatMut) {
    if par {
        gemm_par(1.0, a, b, beta, c)
    } else {
        gemm(1.0, a, b, beta, c)
    }
}

/// Where to cut a batch into two halves computed at once, or `None` to stay on one thread.
/// Depends only on the shapes.
fn batch_split(batch: usize, work_per_sample: usize) -> Option<usize> {
    (batch >= 2 && batch.saturating_mul(work_per_sample) >= PARALLEL_MIN_WORK).then_some(batch / 2)
}

/// Runs `f(x_n.., y_n.., cols, par)` over the whole batch, or over its two halves at once.
/// `x: (B, x_len)`, `y: (B, y_len)`; `cols` holds one scratch buffer per half.
fn forward_in_halves<F>(
    split: Option<usize>,
    (x, x_len): (&[f32], usize),
    (y, y_len): (&mut [f32], usize),
    cols: &mut [Vec<f32>; 2],
    f: &F,
) where
    F: Fn(&[f32], &mut [f32], &mut [f32], bool) + Sync,
{
    let [c0, c1] = cols;
    match split {
        None => f(x, y, c0, true),
        Some(mid) => {
            let (x0, x1) = x.split_at(mid * x_len);
            let (y0, y1) = y.split_at_mut(mid * y_len);
            super::parallel::join(|| f(x0, y0, c0, false), || f(x1, y1, c1, false));
        }
    }
}

/// One half of a batch in backward: its inputs, output gradients, where its gradients go, and
/// its scratch buffers.
struct Half<'a> {
    /// The half's inputs, `(n, x_len)`.
    x: &'a [f32],
    /// The half's output gradients, `(n, y_len)`.
    dy: &'a [f32],
    /// Its input gradients, if wanted.
    gx: Option<&'a mut [f32]>,
    /// Where its weight gradient is added, if wanted.
    gw: Option<&'a mut [f32]>,
    /// Where its bias gradient is added, if wanted (a zeroed scratch buffer per half).
    db: Option<&'a mut [f32]>,
    cols: &'a mut [f32],
    dcols: &'a mut [f32],
}

/// Scratch buffers of a backward pass: columns and bias gradients per half, and the second
/// half's weight gradient.
struct Scratch {
    cols: [Vec<f32>; 2],
    dcols: [Vec<f32>; 2],
    db: [Vec<f32>; 2],
    dw_hi: Vec<f32>,
}

impl Scratch {
    /// Takes the buffers a backward pass needs from the pool (none of length 0).
    fn take(
        grads: &mut GradSink<'_>,
        split: bool,
        (cols, dcols, db, dw): (usize, usize, usize, usize),
    ) -> Scratch {
        let mut take = |len: usize, needed: bool| {
            if needed && len > 0 {
                grads.scratch(len)
            } else {
                Vec::new()
            }
        };
        let mut s = Scratch {
            cols: [take(cols, true), take(cols, split)],
            dcols: [take(dcols, true), take(dcols, split)],
            db: [take(db, true), take(db, split)],
            dw_hi: take(dw, split),
        };
        s.dw_hi.fill(0.0);
        s.db.iter_mut().for_each(|d| d.fill(0.0));
        s
    }

    fn give(self, grads: &mut GradSink<'_>) {
        let bufs = self.cols.into_iter().chain(self.dcols).chain(self.db);
        for buf in bufs.chain([self.dw_hi]) {
            if buf.capacity() > 0 {
                grads.give(buf);
            }
        }
    }
}

/// Runs `f(half, par)` over the whole batch, or over its two halves at once; the second half's
/// weight gradient goes to a scratch buffer added into `gw` after both are done (a fixed order).
/// Bias gradients go to one scratch buffer per half, added by the caller.
fn backward_in_halves<F>(
    split: Option<usize>,
    (x, x_len): (&[f32], usize),
    (dy, y_len): (&[f32], usize),
    gx: Option<&mut [f32]>,
    mut gw: Option<&mut [f32]>,
    s: &mut Scratch,
    f: &F,
) where
    F: Fn(Half<'_>, bool) + Sync,
{
    let [c0, c1] = &mut s.cols;
    let [d0, d1] = &mut s.dcols;
    let [b0, b1] = &mut s.db;
    let Some(mid) = split else {
        let whole = Half {
            x,
            dy,
            gx,
            gw,
            db: bias(b0),
            cols: c0,
            dcols: d0,
        };
        return f(whole, true);
    };
    let (x0, x1) = x.split_at(mid * x_len);
    let (dy0, dy1) = dy.split_at(mid * y_len);
    let (gx0, gx1) = match gx {
        Some(g) => {
            let (a, b) = g.split_at_mut(mid * x_len);
            (Some(a), Some(b))
        }
        None => (None, None),
    };
    let wants_w = gw.is_some();
    let lo = Half {
        x: x0,
        dy: dy0,
        gx: gx0,
        gw: gw.as_deref_mut(),
        db: bias(b0),
        cols: c0,
        dcols: d0,
    };
    let hi = Half {
        x: x1,
        dy: dy1,
        gx: gx1,
        gw: wants_w.then_some(&mut s.dw_hi[..]),
        db: bias(b1),
        cols: c1,
        dcols: d1,
    };
    super::parallel::join(|| f(lo, false), || f(hi, false));
    if let Some(gw) = gw {
        for (acc, d) in gw.iter_mut().zip(&s.dw_hi) {
            *acc += d;
        }
    }
}

/// A bias-gradient scratch buffer, or `None` when the bias needs no gradient (empty buffer).
fn bias(b: &mut [f32]) -> Option<&mut [f32]> {
    (!b.is_empty()).then_some(b)
}

/// Adds the per-half bias gradients into the bias's gradient, first half first.
fn add_bias_grads(bias: Option<Var>, grads: &mut GradSink<'_>, halves: &[Vec<f32>; 2]) {
    if let Some(gb) = bias.and_then(|b| grads.get(b)) {
        for half in halves {
            for (g, d) in gb.data_mut().iter_mut().zip(half) {
                *g += d;
            }
        }
    }
}

/// The four sizes of a `(B, C, H, W)` shape.
fn dims4(op: &'static str, shape: &[usize], other: &[usize], what: &str) -> Result<[usize; 4]> {
    match shape {
        &[a, b, c, d] => Ok([a, b, c, d]),
        _ => Err(shape_mismatch(op, shape, other, what.to_string())),
    }
}

/// Checks the common arguments of both convolutions.
fn check_conv(
    g: &Graph<'_>,
    op: &'static str,
    x: Var,
    weight: Var,
    bias: Option<Var>,
    stride: usize,
) -> Result<([usize; 4], [usize; 4])> {
    let (sx, sw) = (g.shape(x)?.to_vec(), g.shape(weight)?.to_vec());
    let wants = if op == "conv2d" {
        "the input must be (B, Cin, H, W) and the weight (Cout, Cin, kh, kw)"
    } else {
        "the input must be (B, Cin, H, W) and the weight (Cin, Cout, kh, kw)"
    };
    let dx = dims4(op, &sx, &sw, wants)?;
    let dw = dims4(op, &sw, &sx, wants)?;
    let cin_w = if op == "conv2d" { dw[1] } else { dw[0] };
    if dx[1] != cin_w {
        return Err(shape_mismatch(
            op,
            &sx,
            &sw,
            format!(
                "the input has {} channels but the weight expects {cin_w}",
                dx[1]
            ),
        ));
    }
    if dx[1..].contains(&0) || dw.contains(&0) {
        return Err(shape_mismatch(
            op,
            &sx,
            &sw,
            "channels, image sides and kernel sides must be at least 1",
        ));
    }
    if stride == 0 {
        return Err(invalid(op, "the stride must be at least 1"));
    }
    if x == weight {
        return Err(invalid(
            op,
            "the input and the weight must be different variables",
        ));
    }
    if let Some(b) = bias {
        let cout = if op == "conv2d" { dw[0] } else { dw[1] };
        let sb = g.shape(b)?;
        if sb != [cout] {
            return Err(shape_mismatch(
                op,
                sb,
                &[cout],
                "the bias must have one value per output channel",
            ));
        }
    }
    Ok((dx, dw))
}

impl Graph<'_> {
    /// 2-D convolution (cross-correlation, as PyTorch's `conv2d`):
    /// `y[n, o, i, j] = b[o] + Σ_{c, ki, kj} w[o, c, ki, kj] · x[n, c, i·s − p + ki, j·s − p + kj]`
    /// with zero padding.
    ///
    /// `x: (B, Cin, H, W)`, `weight: (Cout, Cin, kh, kw)`, `bias: (Cout)` →
    /// `(B, Cout, Ho, Wo)` with `Ho = (H + 2p − kh) / s + 1`, `Wo = (W + 2p − kw) / s + 1`.
    pub fn conv2d(
        &mut self,
        x: Var,
        weight: Var,
        bias: Option<Var>,
        stride: usize,
        padding: usize,
    ) -> Result<Var> {
        let ([batch, cin, h, w], [cout, _, kh, kw]) =
            check_conv(self, "conv2d", x, weight, bias, stride)?;
        if h + 2 * padding < kh || w + 2 * padding < kw {
            return Err(shape_mismatch(
                "conv2d",
                self.shape(x)?,
                self.shape(weight)?,
                format!("the kernel {kh}x{kw} is larger than the padded input"),
            ));
        }
        let (ho, wo) = (
            (h + 2 * padding - kh) / stride + 1,
            (w + 2 * padding - kw) / stride + 1,
        );
        let geom = Geometry {
            channels: cin,
            h,
            w,
            kh,
            kw,
            stride,
            padding,
            ho,
            wo,
        };
        let (k, pos) = (geom.rows(), geom.positions());
        let (x_len, y_len) = (geom.image_len(), cout * pos);
        let split = batch_split(batch, cout * k * pos);
        let mut out = self.alloc(batch * y_len);
        let mut cols = self.column_buffers(geom.scratch_len(), split.is_some());
        {
            let wm = MatRef::new(self.value(weight).data(), cout, k);
            let bias = bias.map(|b| self.value(b).data());
            let sample = |x: &[f32], y: &mut [f32], cols: &mut [f32], par: bool| {
                for (xn, yn) in x.chunks_exact(x_len).zip(y.chunks_exact_mut(y_len)) {
                    let beta = fill_bias(yn, bias, pos);
                    let c = MatRef::new(columns(&geom, xn, cols), k, pos);
                    product(par, wm, c, beta, MatMut::new(yn, cout, pos));
                }
            };
            let xs = self.value(x).data();
            forward_in_halves(split, (xs, x_len), (&mut out, y_len), &mut cols, &sample);
        }
        cols.into_iter().for_each(|c| self.give_buffer(c));
        let value = Tensor::from_parts(vec![batch, cout, ho, wo], out);
        let inputs: Vec<Var> = [x, weight].into_iter().chain(bias).collect();
        Ok(self.push_op("conv2d", value, &inputs, || Conv2dBackward {
            x,
            weight,
            bias,
            geom,
            cout,
        }))
    }

    /// 2-D transposed convolution (PyTorch's `conv_transpose2d`, without output padding): the
    /// adjoint of [`Graph::conv2d`] with respect to its input, which upsamples by the stride.
    ///
    /// `x: (B, Cin, H, W)`, `weight: (Cin, Cout, kh, kw)` as PyTorch stores it, `bias: (Cout)` →
    /// `(B, Cout, Ho, Wo)` with `Ho = (H − 1)·s − 2p + kh`, `Wo = (W − 1)·s − 2p + kw`.
    pub fn conv_transpose2d(
        &mut self,
        x: Var,
        weight: Var,
        bias: Option<Var>,
        stride: usize,
        padding: usize,
    ) -> Result<Var> {
        let ([batch, cin, h, w], [_, cout, kh, kw]) =
            check_conv(self, "conv_transpose2d", x, weight, bias, stride)?;
        let side = |n: usize, k: usize| ((n - 1) * stride + k).checked_sub(2 * padding);
        let (ho, wo) = match (side(h, kh), side(w, kw)) {
            (Some(ho), Some(wo)) if ho > 0 && wo > 0 => (ho, wo),
            _ => {
                return Err(shape_mismatch(
                    "conv_transpose2d",
                    self.shape(x)?,
                    self.shape(weight)?,
                    format!("padding {padding} leaves no output"),
                ))
            }
        };
        // The conv2d whose input gradient this is: its image is our output, its output our input.
        let geom = Geometry {
            channels: cout,
            h: ho,
            w: wo,
            kh,
            kw,
            stride,
            padding,
            ho: h,
            wo: w,
        };
        let (k, pos) = (geom.rows(), geom.positions());
        let (x_len, y_len) = (cin * pos, geom.image_len());
        let split = batch_split(batch, cin * k * pos);
        let mut out = self.alloc(batch * y_len);
        let mut cols = self.column_buffers(geom.scratch_len(), split.is_some());
        {
            let wm = MatRef::new(self.value(weight).data(), cin, k);
            let bias = bias.map(|b| self.value(b).data());
            let sample = |x: &[f32], y: &mut [f32], cols: &mut [f32], par: bool| {
                for (xn, yn) in x.chunks_exact(x_len).zip(y.chunks_exact_mut(y_len)) {
                    let beta = fill_bias(yn, bias, ho * wo);
                    let xm = MatRef::new(xn, cin, pos);
                    if geom.is_identity() {
                        product(par, wm.t(), xm, beta, MatMut::new(yn, k, pos));
                    } else {
                        if beta == 0.0 {
                            yn.fill(0.0);
                        }
                        product(par, wm.t(), xm, 0.0, MatMut::new(cols, k, pos));
                        col2im(&geom, cols, yn);
                    }
                }
            };
            let xs = self.value(x).data();
            forward_in_halves(split, (xs, x_len), (&mut out, y_len), &mut cols, &sample);
        }
        cols.into_iter().for_each(|c| self.give_buffer(c));
        let value = Tensor::from_parts(vec![batch, cout, ho, wo], out);
        let inputs: Vec<Var> = [x, weight].into_iter().chain(bias).collect();
        Ok(self.push_op("conv_transpose2d", value, &inputs, || {
            ConvTranspose2dBackward {
                x,
                weight,
                bias,
                geom,
                cin,
            }
        }))
    }

    /// One column buffer per half of the batch (none of length 0).
    fn column_buffers(&mut self, len: usize, split: bool) -> [Vec<f32>; 2] {
        let mut take = |needed: bool| {
            if needed && len > 0 {
                self.alloc(len)
            } else {
                Vec::new()
            }
        };
        [take(true), take(split)]
    }

    /// Returns a temporary buffer to the pool.
    fn give_buffer(&mut self, buf: Vec<f32>) {
        if buf.capacity() > 0 {
            self.pool.give(buf);
        }
    }
}

struct Conv2dBackward {
    x: Var,
    weight: Var,
    bias: Option<Var>,
    geom: Geometry,
    cout: usize,
}

impl Backward for Conv2dBackward {
    fn backward(
        &self,
        _out: &Tensor,
        gout: &Tensor,
        vals: &Values<'_>,
        grads: &mut GradSink<'_>,
    ) -> Result<()> {
        let (geom, cout) = (self.geom, self.cout);
        let (k, pos) = (geom.rows(), geom.positions());
        let (x_len, y_len) = (geom.image_len(), cout * pos);
        let batch = gout.dim(0);
        let wants_b = self.bias.is_some_and(|b| grads.get(b).is_some());
        let wants_x = grads.get(self.x).is_some();
        let wants_w = grads.get(self.weight).is_some();
        let split = batch_split(batch, cout * k * pos);
        let cols_len = if wants_w { geom.scratch_len() } else { 0 };
        let dcols_len = if wants_x { geom.scratch_len() } else { 0 };
        let dw_len = if wants_w { cout * k } else { 0 };
        let db_len = if wants_b { cout } else { 0 };
        let lens = (cols_len, dcols_len, db_len, dw_len);
        let mut scratch = Scratch::take(grads, split.is_some(), lens);
        let wm = MatRef::new(vals.get(self.weight).data(), cout, k);
        // dW += dY_n · cols(x_n)ᵀ  (Cout×P · P×K);  dx_n += col2im(Wᵀ · dY_n)  (K×Cout · Cout×P).
        let sample_grads = |mut h: Half<'_>, par: bool| {
            let samples = h.x.chunks_exact(x_len).zip(h.dy.chunks_exact(y_len));
            for (n, (xn, dyn_)) in samples.enumerate() {
                let dy = MatRef::new(dyn_, cout, pos);
                if let Some(db) = h.db.as_deref_mut() {
                    bias_grad(db, dyn_, pos);
                }
                if let Some(gw) = h.gw.as_deref_mut() {
                    let c = MatRef::new(columns(&geom, xn, h.cols), k, pos);
                    product(par, dy, c.t(), 1.0, MatMut::new(gw, cout, k));
                }
                if let Some(gx) = h.gx.as_deref_mut() {
                    let gxn = &mut gx[n * x_len..][..x_len];
                    if geom.is_identity() {
                        product(par, wm.t(), dy, 1.0, MatMut::new(gxn, k, pos));
                    } else {
                        product(par, wm.t(), dy, 0.0, MatMut::new(h.dcols, k, pos));
                        col2im(&geom, h.dcols, gxn);
                    }
                }
            }
        };
        let xs = vals.get(self.x).data();
        let (gx, gw) = grads.get_two(self.x, self.weight);
        backward_in_halves(
            split,
            (xs, x_len),
            (gout.data(), y_len),
            gx.map(|t| t.data_mut()),
            gw.map(|t| t.data_mut()),
            &mut scratch,
            &sample_grads,
        );
        add_bias_grads(self.bias, grads, &scratch.db);
        scratch.give(grads);
        Ok(())
    }
}

struct ConvTranspose2dBackward {
    x: Var,
    weight: Var,
    bias: Option<Var>,
    geom: Geometry,
    cin: usize,
}

impl Backward for ConvTranspose2dBackward {
    fn backward(
        &self,
        _out: &Tensor,
        gout: &Tensor,
        vals: &Values<'_>,
        grads: &mut GradSink<'_>,
    ) -> Result<()> {
        let (geom, cin) = (self.geom, self.cin);
        let (k, pos) = (geom.rows(), geom.positions());
        let (x_len, y_len) = (cin * pos, geom.image_len());
        let batch = gout.dim(0);
        let wants_b = self.bias.is_some_and(|b| grads.get(b).is_some());
        let wants_x = grads.get(self.x).is_some();
        let wants_w = grads.get(self.weight).is_some();
        let split = batch_split(batch, cin * k * pos);
        let cols_len = if wants_x || wants_w {
            geom.scratch_len()
        } else {
            0
        };
        let dw_len = if wants_w { cin * k } else { 0 };
        let db_len = if wants_b { geom.channels } else { 0 };
        let lens = (cols_len, 0, db_len, dw_len);
        let mut scratch = Scratch::take(grads, split.is_some(), lens);
        let wm = MatRef::new(vals.get(self.weight).data(), cin, k);
        // With cols = im2col(dY_n) (K×P): dx_n += W · cols (Cin×K · K×P); dW += x_n · colsᵀ.
        let sample_grads = |mut h: Half<'_>, par: bool| {
            let samples = h.x.chunks_exact(x_len).zip(h.dy.chunks_exact(y_len));
            for (n, (xn, dyn_)) in samples.enumerate() {
                if let Some(db) = h.db.as_deref_mut() {
                    bias_grad(db, dyn_, geom.h * geom.w);
                }
                if h.gx.is_none() && h.gw.is_none() {
                    continue;
                }
                let c = MatRef::new(columns(&geom, dyn_, h.cols), k, pos);
                if let Some(gx) = h.gx.as_deref_mut() {
                    let gxn = &mut gx[n * x_len..][..x_len];
                    product(par, wm, c, 1.0, MatMut::new(gxn, cin, pos));
                }
                if let Some(gw) = h.gw.as_deref_mut() {
                    let xm = MatRef::new(xn, cin, pos);
                    product(par, xm, c.t(), 1.0, MatMut::new(gw, cin, k));
                }
            }
        };
        let xs = vals.get(self.x).data();
        let (gx, gw) = grads.get_two(self.x, self.weight);
        backward_in_halves(
            split,
            (xs, x_len),
            (gout.data(), y_len),
            gx.map(|t| t.data_mut()),
            gw.map(|t| t.data_mut()),
            &mut scratch,
            &sample_grads,
        );
        add_bias_grads(self.bias, grads, &scratch.db);
        scratch.give(grads);
        Ok(())
    }
}

#[cfg(test)]
#[path = "conv_tests.rs"]
mod tests;
