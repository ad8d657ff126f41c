//! Spatial pooling over `(B, C, H, W)`: `max_pool2d` (which saves the position of each window's
//! maximum for its backward pass) and `avg_pool2d`. No padding; windows that do not fit are
//! dropped (PyTorch's floor mode).
//!
//! Large tensors are cut into two halves at a plane boundary and processed at once; every plane
//! is computed the same way in either half, so results are bit-identical with 1 or 2 threads.

use crate::error::{invalid, shape_mismatch, Result};
use crate::graph::{Backward, GradSink, Graph, Values, Var};
use crate::pool::BufferPool;
use crate::tensor::Tensor;

/// Work on fewer output elements than this stays on one thread.
const PARALLEL_MIN_LEN: usize = 1 << 15;

/// The sizes of one pooling: `planes = B·C` images of `h × w`, pooled into `ho × wo`.
#[derive(Clone, Copy, Debug)]
struct Window {
    h: usize,
    w: usize,
    kernel: usize,
    stride: usize,
    ho: usize,
    wo: usize,
}

impl Window {
    fn in_len(&self) -> usize {
        self.h * self.w
    }

    fn out_len(&self) -> usize {
        self.ho * self.wo
    }

    /// The input offset (within its plane) of window element `(ki, kj)` of output `(oh, ow)`.
    fn at(&self, oh: usize, ow: usize, ki: usize, kj: usize) -> usize {
        (oh * self.stride + ki) * self.w + ow * self.stride + kj
    }
}

/// Runs `f(first_plane, a, b)` over two buffers of `unit` elements per plane (each plane owns
/// `unit_a` elements of `a` and `unit_b` of `b`), cut into two halves at a plane boundary and
/// processed at once when large.
fn plane_halves<F>(a: &mut [f32], unit_a: usize, b: &mut [f32], unit_b: usize, f: F)
where
    F: Fn(usize, &mut [f32], &mut [f32]) + Sync,
{
    let planes = a.len().checked_div(unit_a).unwrap_or(0);
    if a.len().max(b.len()) < PARALLEL_MIN_LEN || planes < 2 {
        return f(0, a, b);
    }
    let mid = planes / 2;
    let (a0, a1) = a.split_at_mut(mid * unit_a);
    let (b0, b1) = b.split_at_mut(mid * unit_b);
    super::parallel::join(|| f(0, a0, b0), || f(mid, a1, b1));
}

impl Graph<'_> {
    fn pool_window(
        &self,
        op: &'static str,
        x: Var,
        kernel: usize,
        stride: usize,
    ) -> Result<Window> {
        let shape = self.shape(x)?;
        let &[_, _, h, w] = shape else {
            return Err(shape_mismatch(
                op,
                shape,
                &[kernel, kernel],
                "the input must be (B, C, H, W)",
            ));
        };
        if kernel == 0 || stride == 0 {
            return Err(invalid(op, "the kernel and the stride must be at least 1"));
        }
        if kernel > h || kernel > w {
            return Err(shape_mismatch(
                op,
                shape,
                &[kernel, kernel],
                "the window is larger than the image",
            ));
        }
        Ok(Window {
            h,
            w,
            kernel,
            stride,
            ho: (h - kernel) / stride + 1,
            wo: (w - kernel) / stride + 1,
        })
    }

    /// The maximum over each `kernel × kernel` window, moved by `stride`.
    ///
    /// `x: (B, C, H, W)` → `(B, C, Ho, Wo)` with `Ho = (H − k) / s + 1`. The gradient goes to the
    /// first maximum of each window (a NaN counts as a maximum).
    pub fn max_pool2d(&mut self, x: Var, kernel: usize, stride: usize) -> Result<Var> {
        let win = self.pool_window("max_pool2d", x, kernel, stride)?;
        let [b, c] = [self.value(x).dim(0), self.value(x).dim(1)];
        let len = b * c * win.out_len();
        let mut out = self.alloc(len);
        // Where each maximum sits in its window (ki·k + kj), a small integer stored exactly.
        let mut argmax = self.alloc(len);
        {
            let input = self.value(x).data();
            let (il, ol) = (win.in_len(), win.out_len());
            plane_halves(&mut out, ol, &mut argmax, ol, |first, out, arg| {
                let planes = out.chunks_exact_mut(ol).zip(arg.chunks_exact_mut(ol));
                for (i, (y, a)) in planes.enumerate() {
                    let src = &input[(first + i) * il..][..il];
                    for oh in 0..win.ho {
                        for ow in 0..win.wo {
                            let (mut best, mut at) = (src[win.at(oh, ow, 0, 0)], 0);
                            for ki in 0..kernel {
                                for kj in 0..kernel {
                                    let v = src[win.at(oh, ow, ki, kj)];
                                    if v > best || (v.is_nan() && !best.is_nan()) {
                                        (best, at) = (v, ki * kernel + kj);
                                    }
                                }
                            }
                            y[oh * win.wo + ow] = best;
                            a[oh * win.wo + ow] = at as f32;
                        }
                    }
                }
            });
        }
        let value = Tensor::from_parts(vec![b, c, win.ho, win.wo], out);
        if !self.requires_grad(x) {
            // Forward only (sampling, evaluation): nothing to save.
            self.pool.give(argmax);
            return Ok(self.push_op("max_pool2d", value, &[x], || MaxPoolBackward {
                x,
                win,
                argmax: Vec::new(),
            }));
        }
        Ok(self.push_op("max_pool2d", value, &[x], || MaxPoolBackward {
            x,
            win,
            argmax,
        }))
    }

    /// The mean over each `kernel × kernel` window, moved by `stride`.
    ///
    /// `x: (B, C, H, W)` → `(B, C, Ho, Wo)` with `Ho = (H − k) / s + 1`.
    pub fn avg_pool2d(&mut self, x: Var, kernel: usize, stride: usize) -> Result<Var> {
        let win = self.pool_window("avg_pool2d", x, kernel, stride)?;
        let [b, c] = [self.value(x).dim(0), self.value(x).dim(1)];
        let mut out = self.alloc(b * c * win.out_len());
        {
            let input = self.value(x).data();
            let (il, ol) = (win.in_len(), win.out_len());
            let scale = 1.0 / (kernel * kernel) as f32;
            plane_halves(&mut out, ol, &mut [], 0, |first, out, _| {
                for (i, y) in out.chunks_exact_mut(ol).enumerate() {
                    let src = &input[(first + i) * il..][..il];
                    for oh in 0..win.ho {
                        for ow in 0..win.wo {
                            let mut total = 0.0;
                            for ki in 0..kernel {
                                for kj in 0..kernel {
                                    total += src[win.at(oh, ow, ki, kj)];
                                }
                            }
                            y[oh * win.wo + ow] = total * scale;
                        }
                    }
                }
            });
        }
        let value = Tensor::from_parts(vec![b, c, win.ho, win.wo], out);
        Ok(self.push_op("avg_pool2d", value, &[x], || AvgPoolBackward { x, win }))
    }
}

struct MaxPoolBackward {
    x: Var,
    win: Window,
    argmax: Vec<f32>,
}

impl Backward for MaxPoolBackward {
    fn backward(
        &self,
        _out: &Tensor,
        gout: &Tensor,
        _vals: &Values<'_>,
        grads: &mut GradSink<'_>,
    ) -> Result<()> {
        let Some(gx) = grads.get(self.x) else {
            return Ok(());
        };
        let (win, dy, arg) = (self.win, gout.data(), &self.argmax[..]);
        let (il, ol, k) = (win.in_len(), win.out_len(), win.kernel);
        // Windows overlap when the stride is smaller than the kernel: each plane is still
        // handled by one thread, in a fixed order.
        plane_halves(gx.data_mut(), il, &mut [], 0, |first, gx, _| {
            for (i, g) in gx.chunks_exact_mut(il).enumerate() {
                let plane = (first + i) * ol;
                for oh in 0..win.ho {
                    for ow in 0..win.wo {
                        let o = plane + oh * win.wo + ow;
                        let at = arg[o] as usize;
                        g[win.at(oh, ow, at / k, at % k)] += dy[o];
                    }
                }
            }
        });
        Ok(())
    }

    fn recycle(self: Box<Self>, pool: &mut BufferPool) {
        pool.give(self.argmax);
    }
}

struct AvgPoolBackward {
    x: Var,
    win: Window,
}

impl Backward for AvgPoolBackward {
    fn backward(
        &self,
        _out: &Tensor,
        gout: &Tensor,
        _vals: &Values<'_>,
        grads: &mut GradSink<'_>,
    ) -> Result<()> {
        let Some(gx) = grads.get(self.x) else {
            return Ok(());
        };
        let (win, dy) = (self.win, gout.data());
        let (il, ol, k) = (win.in_len(), win.out_len(), win.kernel);
        let scale = 1.0 / (k * k) as f32;
        plane_halves(gx.data_mut(), il, &mut [], 0, |first, gx, _| {
            for (i, g) in gx.chunks_exact_mut(il).enumerate() {
                let plane = (first + i) * ol;
                for oh in 0..win.ho {
                    for ow in 0..win.wo {
                        let d = dy[plane + oh * win.wo + ow] * scale;
                        for ki in 0..k {
                            for kj in 0..k {
                                g[win.at(oh, ow, ki, kj)] += d;
                            }
                        }
                    }
                }
            }
        });
        Ok(())
    }
}
