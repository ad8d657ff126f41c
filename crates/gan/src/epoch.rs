//! What training measures: the figures of one step ([`StepStats`]), their running sums over an
//! epoch ([`EpochAccumulator`], saved in checkpoints), one epoch's row of `metrics.csv`
//! ([`EpochMetrics`]) and where a running epoch stands ([`Progress`]).

use serde::{Deserialize, Serialize};

/// Figures of one step.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StepStats {
    /// `BCE(D(x), 1) + BCE(D(G(z)), 0)`.
    pub d_loss: f32,
    /// `BCE(D(G(z)), 1)`.
    pub g_loss: f32,
    /// Share of real digits the discriminator calls real.
    pub acc_real: f32,
    /// Share of generated digits the discriminator calls fake.
    pub acc_fake: f32,
    /// Mean `D(x)` (probability) on real digits.
    pub d_real: f32,
    /// Mean `D(G(z))` on generated digits, before the discriminator's update.
    pub d_fake: f32,
}

/// Running sums over an epoch, weighted by batch size (saved in checkpoints so an interrupted
/// epoch resumes with its figures intact).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochAccumulator {
    /// Digits seen this epoch.
    pub images: u64,
    /// Σ batch · d_loss, and so on.
    pub sums: [f64; 6],
    /// Seconds spent in this epoch before an interruption.
    pub seconds: f64,
}

impl EpochAccumulator {
    pub(crate) fn add(&mut self, s: &StepStats, batch: usize) {
        let w = batch as f64;
        let values = [
            s.d_loss, s.g_loss, s.acc_real, s.acc_fake, s.d_real, s.d_fake,
        ];
        for (sum, v) in self.sums.iter_mut().zip(values) {
            *sum += w * f64::from(v);
        }
        self.images += batch as u64;
    }

    fn mean(&self, i: usize) -> f64 {
        self.sums[i] / (self.images.max(1) as f64)
    }
}

/// One row of `metrics.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Wall-clock seconds of the epoch's training steps.
    pub seconds: f64,
    /// Mean discriminator loss.
    pub d_loss: f64,
    /// Mean generator loss.
    pub g_loss: f64,
    /// Discriminator accuracy over real and generated digits.
    pub d_acc: f64,
    /// Discriminator accuracy on real digits.
    pub d_acc_real: f64,
    /// Discriminator accuracy on generated digits.
    pub d_acc_fake: f64,
    /// Mean D(x).
    pub d_real: f64,
    /// Mean D(G(z)).
    pub d_fake: f64,
    /// Training throughput (real digits per second).
    pub images_per_sec: f64,
    /// FID against the test digits, when evaluated this epoch.
    pub fid: Option<f64>,
    /// Largest/smallest class count among generated digits, when evaluated.
    pub class_ratio: Option<f64>,
}

impl EpochMetrics {
    /// The column names of `metrics.csv`, in the order of [`EpochMetrics::csv_record`].
    pub const CSV_COLUMNS: [&'static str; 12] = [
        "epoch",
        "seconds",
        "d_loss",
        "g_loss",
        "d_acc",
        "d_acc_real",
        "d_acc_fake",
        "d_real",
        "d_fake",
        "images_per_sec",
        "fid",
        "class_ratio",
    ];

    /// The metrics as one record of `metrics.csv`, each number formatted to its column's
    /// precision (FID and class ratio empty when not measured).
    pub fn csv_record(&self) -> [String; 12] {
        let opt = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_default();
        [
            self.epoch.to_string(),
            format!("{:.3}", self.seconds),
            format!("{:.6}", self.d_loss),
            format!("{:.6}", self.g_loss),
            format!("{:.4}", self.d_acc),
            format!("{:.4}", self.d_acc_real),
            format!("{:.4}", self.d_acc_fake),
            format!("{:.4}", self.d_real),
            format!("{:.4}", self.d_fake),
            format!("{:.1}", self.images_per_sec),
            opt(self.fid),
            opt(self.class_ratio),
        ]
    }
}

/// Where a step stands, for progress displays.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// The epoch being trained (1-based).
    pub epoch: usize,
    /// Batches done in this epoch.
    pub batch: usize,
    /// Batches in an epoch.
    pub batches: usize,
    /// The last step's figures.
    pub stats: StepStats,
    /// Digits per second so far in this epoch.
    pub images_per_sec: f64,
}

impl EpochAccumulator {
    /// The figures of the finished epoch `epoch` (FID and class ratio not measured yet).
    pub fn finish(&self, epoch: usize) -> EpochMetrics {
        EpochMetrics {
            epoch,
            seconds: self.seconds,
            d_loss: self.mean(0),
            g_loss: self.mean(1),
            d_acc: (self.mean(2) + self.mean(3)) / 2.0,
            d_acc_real: self.mean(2),
            d_acc_fake: self.mean(3),
            d_real: self.mean(4),
            d_fake: self.mean(5),
            images_per_sec: self.images as f64 / self.seconds.max(1e-9),
            fid: None,
            class_ratio: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_csv_keeps_its_columns_and_number_formats() {
        let mut m = EpochAccumulator {
            images: 640,
            sums: [640.0, 1280.0, 320.0, 480.0, 320.0, 160.0],
            seconds: 3.2,
        }
        .finish(2);
        m.class_ratio = Some(1.5);
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("metrics.csv");
        crate::error::write_csv(&path, EpochMetrics::CSV_COLUMNS, [m.csv_record()]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "epoch,seconds,d_loss,g_loss,d_acc,d_acc_real,d_acc_fake,d_real,d_fake,\
             images_per_sec,fid,class_ratio\n\
             2,3.200,1.000000,2.000000,0.6250,0.5000,0.7500,0.5000,0.2500,200.0,,1.5000\n"
        );
    }
}
