//! Convolutions: `conv2d` and `conv_transpose2d`, as im2col + grouped GEMMs.
//!
//! `im2col` copies every receptive field of one image into a column of a matrix (`K = C·kh·kw`
//! rows, one column per output position), so that a convolution becomes a product with the
//! weight viewed as a matrix; `col2im` is its adjoint (it scatter-adds columns back into an
//! image). `conv_transpose2d` is the adjoint of `conv2d` with respect to its input: its forward
//! pass is conv2d's input gradient and the other way round.
//!
//! Samples are taken in groups ([`batch`]): the columns of a group's samples sit side by side in
//! one matrix of `S·P` columns, so one product serves `S` samples. A product per sample would be
//! narrow (`P` = 49 columns for a 7×7 output) and would pack the weight again for every sample;
//! a group's product is wide enough for the kernel, and sums the weight gradient over `S·P`
//! positions at once. What a group's product reads or writes per channel (`dY` in conv2d's
//! backward, `x` in conv_transpose2d's) is gathered into a channel-major matrix `(C, S·P)`.
//!
//! Parallelism: a large batch is cut into two fixed halves computed at once (see [`batch`]).

mod backward;
mod batch;
mod bias;
mod columns;
mod gather;
#[cfg(test)]
mod tests;

use super::gemm::{gemm, gemm_packed, gemm_par, MatMut, MatRef, PackedLeft};
use crate::error::{invalid, shape_mismatch, Result};
use crate::graph::{Graph, Var};
use crate::tensor::Tensor;
use backward::{Conv2dBackward, ConvTranspose2dBackward};
use batch::{batch_split, forward_in_halves, group_size, groups, Buffers};
use bias::fill_bias;
use columns::{from_channel_major, to_channel_major, Columns, Geometry};

/// `C ← A·B + β·C`, split over both cores when `par` (the caller is not already parallel).
fn product(par: bool, a: MatRef, b: MatRef, beta: f32, c: MatMut) {
    if par {
        gemm_par(1.0, a, b, beta, c)
    } else {
        gemm(1.0, a, b, beta, c)
    }
}

/// A row-major `rows × cols` view whose rows are `ld` apart (a group's matrix).
fn view(data: &[f32], rows: usize, cols: usize, ld: usize) -> MatRef<'_> {
    MatRef {
        data,
        rows,
        cols,
        rs: ld,
        cs: 1,
    }
}

/// The writable [`view`].
fn view_mut(data: &mut [f32], rows: usize, cols: usize, ld: usize) -> MatMut<'_> {
    MatMut {
        data,
        rows,
        cols,
        rs: ld,
        cs: 1,
    }
}

/// The samples in a half of `batch` cut at `split`: the larger half's count.
fn largest_half(batch: usize, split: Option<usize>) -> usize {
    split.map_or(batch, |mid| mid.max(batch - mid))
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
        let most = group_size(k, pos, largest_half(batch, split));
        let mut out = self.alloc(batch * y_len);
        let lens = [k * most * pos, cout * most * pos, 0];
        let mut bufs = self.group_buffers(split.is_some(), lens);
        {
            let wm = PackedLeft::new(MatRef::new(self.value(weight).data(), cout, k));
            let bias = bias.map(|b| self.value(b).data());
            // Per group of s samples: cols = im2col (K × s·P); prod = W · cols (Cout × s·P).
            let half = |x: &[f32], y: &mut [f32], bufs: &mut Buffers, par: bool| {
                let [cols, prod, _] = bufs;
                let n = x.len() / x_len;
                let mut columns = Columns::new(&geom);
                for (first, s) in groups(n, group_size(k, pos, n)) {
                    let ld = s * pos;
                    for i in 0..s {
                        let xi = &x[(first + i) * x_len..][..x_len];
                        columns.im2col(xi, &mut cols[i * pos..], ld);
                    }
                    let c = view_mut(prod, cout, ld, ld);
                    gemm_packed(par, &wm, view(cols, k, ld, ld), 0.0, c);
                    for i in 0..s {
                        let yi = &mut y[(first + i) * y_len..][..y_len];
                        from_channel_major(&prod[i * pos..], ld, pos, bias, yi);
                    }
                }
            };
            let xs = self.value(x).data();
            forward_in_halves(split, (xs, x_len), (&mut out, y_len), &mut bufs, &half);
        }
        self.give_group_buffers(bufs);
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
        let most = group_size(k, pos, largest_half(batch, split));
        let mut out = self.alloc(batch * y_len);
        let lens = [k * most * pos, cin * most * pos, 0];
        let mut bufs = self.group_buffers(split.is_some(), lens);
        {
            let wt = PackedLeft::new(MatRef::new(self.value(weight).data(), cin, k).t());
            let bias = bias.map(|b| self.value(b).data());
            // Per group of s samples: xs = x gathered (Cin × s·P); cols = Wᵀ · xs (K × s·P);
            // y = bias + col2im(cols).
            let half = |x: &[f32], y: &mut [f32], bufs: &mut Buffers, par: bool| {
                let [cols, gathered, _] = bufs;
                let n = x.len() / x_len;
                let mut columns = Columns::new(&geom);
                for (first, s) in groups(n, group_size(k, pos, n)) {
                    let ld = s * pos;
                    for i in 0..s {
                        let xi = &x[(first + i) * x_len..][..x_len];
                        to_channel_major(xi, pos, &mut gathered[i * pos..], ld);
                    }
                    let xm = view(gathered, cin, ld, ld);
                    gemm_packed(par, &wt, xm, 0.0, view_mut(cols, k, ld, ld));
                    for i in 0..s {
                        let yi = &mut y[(first + i) * y_len..][..y_len];
                        if fill_bias(yi, bias, ho * wo) == 0.0 {
                            yi.fill(0.0);
                        }
                        columns.col2im(&cols[i * pos..], ld, yi);
                    }
                }
            };
            let xs = self.value(x).data();
            forward_in_halves(split, (xs, x_len), (&mut out, y_len), &mut bufs, &half);
        }
        self.give_group_buffers(bufs);
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

    /// Three buffers of the given lengths for each half of the batch (none of length 0, and the
    /// second half's only when the batch is split).
    fn group_buffers(&mut self, split: bool, lens: [usize; 3]) -> [Buffers; 2] {
        let mut take = |needed: bool| {
            lens.map(|len| {
                if needed && len > 0 {
                    self.alloc(len)
                } else {
                    Vec::new()
                }
            })
        };
        [take(true), take(split)]
    }

    /// Returns the group buffers to the pool.
    fn give_group_buffers(&mut self, bufs: [Buffers; 2]) {
        for buf in bufs.into_iter().flatten() {
            if buf.capacity() > 0 {
                self.pool.give(buf);
            }
        }
    }
}
