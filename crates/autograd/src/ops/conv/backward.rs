//! The backward rules of both convolutions, a group of samples per product (see [`super`]).

use super::batch::{backward_in_halves, batch_split, group_size, groups, Half, Scratch};
use super::bias::bias_grad;
use super::columns::{add_from_channel_major, to_channel_major, Columns, Geometry};
use super::{largest_half, product, view, view_mut};
use crate::error::Result;
use crate::graph::{Backward, GradSink, Values, Var};
use crate::ops::gemm::{gemm_packed, MatRef, PackedLeft};
use crate::tensor::Tensor;

/// What a backward pass needs: which gradients are wanted, and the larger half's group size.
struct Plan {
    split: Option<usize>,
    most: usize,
    wants_x: bool,
    wants_w: bool,
    wants_b: bool,
}

impl Plan {
    fn new(
        batch: usize,
        work_per_sample: usize,
        (k, pos): (usize, usize),
        grads: &mut GradSink<'_>,
        (x, w, b): (Var, Var, Option<Var>),
    ) -> Plan {
        let split = batch_split(batch, work_per_sample);
        Plan {
            split,
            most: group_size(k, pos, largest_half(batch, split)),
            wants_x: grads.get(x).is_some(),
            wants_w: grads.get(w).is_some(),
            wants_b: b.is_some_and(|b| grads.get(b).is_some()),
        }
    }
}

pub(super) struct Conv2dBackward {
    pub x: Var,
    pub weight: Var,
    pub bias: Option<Var>,
    pub geom: Geometry,
    pub cout: usize,
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
        let vars = (self.x, self.weight, self.bias);
        let plan = Plan::new(gout.dim(0), cout * k * pos, (k, pos), grads, vars);
        let group = plan.most * pos;
        let lens = [
            if plan.wants_w { k * group } else { 0 },
            if plan.wants_x { k * group } else { 0 },
            if plan.wants_w || plan.wants_x {
                cout * group
            } else {
                0
            },
        ];
        let db_len = if plan.wants_b { cout } else { 0 };
        let dw_len = if plan.wants_w { cout * k } else { 0 };
        let split = plan.split;
        let mut scratch = Scratch::take(grads, split.is_some(), lens, db_len, dw_len);
        let wm = MatRef::new(vals.get(self.weight).data(), cout, k);
        let wt = plan.wants_x.then(|| PackedLeft::new(wm.t()));
        // Per group of s samples, with dY gathered (Cout × s·P) and cols = im2col(x) (K × s·P):
        // dW += dY · colsᵀ;  dx += col2im(Wᵀ · dY).
        let half = |h: Half<'_>, par: bool| {
            let Half {
                x,
                dy,
                mut gx,
                mut gw,
                mut db,
                bufs,
            } = h;
            let [cols, dcols, dyg] = bufs;
            let n = x.len() / x_len;
            let mut columns = Columns::new(&geom);
            for (first, s) in groups(n, group_size(k, pos, n)) {
                let ld = s * pos;
                let sample = |i: usize| first + i;
                for i in 0..s {
                    let dyi = &dy[sample(i) * y_len..][..y_len];
                    if let Some(db) = db.as_deref_mut() {
                        bias_grad(db, dyi, pos);
                    }
                    if !dyg.is_empty() {
                        to_channel_major(dyi, pos, &mut dyg[i * pos..], ld);
                    }
                }
                let dym = view(dyg, cout, ld, ld);
                if let Some(gw) = gw.as_deref_mut() {
                    for i in 0..s {
                        let xi = &x[sample(i) * x_len..][..x_len];
                        columns.im2col(xi, &mut cols[i * pos..], ld);
                    }
                    let colsm = view(cols, k, ld, ld);
                    product(par, dym, colsm.t(), 1.0, view_mut(gw, cout, k, k));
                }
                if let (Some(gx), Some(wt)) = (gx.as_deref_mut(), &wt) {
                    gemm_packed(par, wt, dym, 0.0, view_mut(dcols, k, ld, ld));
                    for i in 0..s {
                        let gxi = &mut gx[sample(i) * x_len..][..x_len];
                        columns.col2im(&dcols[i * pos..], ld, gxi);
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
            &half,
        );
        scratch.add_bias_grads(self.bias, grads);
        scratch.give(grads);
        Ok(())
    }
}

pub(super) struct ConvTranspose2dBackward {
    pub x: Var,
    pub weight: Var,
    pub bias: Option<Var>,
    pub geom: Geometry,
    pub cin: usize,
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
        let vars = (self.x, self.weight, self.bias);
        let plan = Plan::new(gout.dim(0), cin * k * pos, (k, pos), grads, vars);
        let group = plan.most * pos;
        let lens = [
            if plan.wants_x || plan.wants_w {
                k * group
            } else {
                0
            },
            if plan.wants_x { cin * group } else { 0 },
            if plan.wants_w { cin * group } else { 0 },
        ];
        let db_len = if plan.wants_b { geom.channels } else { 0 };
        let dw_len = if plan.wants_w { cin * k } else { 0 };
        let split = plan.split;
        let mut scratch = Scratch::take(grads, split.is_some(), lens, db_len, dw_len);
        let wm = plan
            .wants_x
            .then(|| PackedLeft::new(MatRef::new(vals.get(self.weight).data(), cin, k)));
        // Per group of s samples, with cols = im2col(dY) (K × s·P) and x gathered (Cin × s·P):
        // dx += W · cols;  dW += x · colsᵀ.
        let half = |h: Half<'_>, par: bool| {
            let Half {
                x,
                dy,
                mut gx,
                mut gw,
                mut db,
                bufs,
            } = h;
            let [cols, gxg, xg] = bufs;
            let n = x.len() / x_len;
            let mut columns = Columns::new(&geom);
            for (first, s) in groups(n, group_size(k, pos, n)) {
                let ld = s * pos;
                for i in 0..s {
                    let dyi = &dy[(first + i) * y_len..][..y_len];
                    if let Some(db) = db.as_deref_mut() {
                        bias_grad(db, dyi, geom.h * geom.w);
                    }
                    if !cols.is_empty() {
                        columns.im2col(dyi, &mut cols[i * pos..], ld);
                    }
                }
                let colsm = view(cols, k, ld, ld);
                if let (Some(gx), Some(wm)) = (gx.as_deref_mut(), &wm) {
                    gemm_packed(par, wm, colsm, 0.0, view_mut(gxg, cin, ld, ld));
                    for i in 0..s {
                        let gxi = &mut gx[(first + i) * x_len..][..x_len];
                        add_from_channel_major(&gxg[i * pos..], ld, pos, gxi);
                    }
                }
                if let Some(gw) = gw.as_deref_mut() {
                    for i in 0..s {
                        let xi = &x[(first + i) * x_len..][..x_len];
                        to_channel_major(xi, pos, &mut xg[i * pos..], ld);
                    }
                    let xm = view(xg, cin, ld, ld);
                    product(par, xm, colsm.t(), 1.0, view_mut(gw, cin, k, k));
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
            &half,
        );
        scratch.add_bias_grads(self.bias, grads);
        scratch.give(grads);
        Ok(())
    }
}
