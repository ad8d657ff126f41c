//! `gan detect`: trains an MLP to tell one digit from all the others and reports accuracy,
//! precision, recall, F1 and the confusion matrix on the test digits.

use anyhow::{Context, Result};
use clap::Parser;
use digit_classifiers::detector::{
    self as detect, train_detector, DetectConfig, DetectData, DetectOutcome, EpochFigures,
    LrSchedule,
};
use std::path::PathBuf;
use std::time::Instant;

/// Flags of `gan detect`.
#[derive(Parser)]
pub struct DetectArgs {
    /// The digit to detect (0–9), or `all` for every digit and a table.
    #[arg(long)]
    digit: String,
    /// Folder with the MNIST IDX files.
    #[arg(long, default_value = gan::config::DEFAULT_DATA_DIR)]
    data: PathBuf,
    // Hidden layer sizes (help from `hidden_help`, the default from DetectConfig).
    #[arg(long, value_delimiter = ',', help = hidden_help())]
    hidden: Option<Vec<usize>>,
    /// Passes over the training digits.
    #[arg(long, default_value_t = DetectConfig::default().epochs)]
    epochs: usize,
    /// Digits per batch.
    #[arg(long, default_value_t = DetectConfig::default().batch)]
    batch: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = DetectConfig::default().lr)]
    lr: f32,
    /// Seed of the validation split, initial weights, shuffling, shifts and dropout.
    #[arg(long, default_value_t = DetectConfig::default().seed)]
    seed: u64,
    /// Largest random shift of a training digit, in pixels.
    #[arg(long, default_value_t = DetectConfig::default().shift)]
    shift: usize,
    /// Train on the digits as they are (same as --shift 0).
    #[arg(long)]
    no_shift: bool,
    /// Dropout probability after each hidden layer (0: none).
    #[arg(long, default_value_t = DetectConfig::default().dropout)]
    dropout: f32,
    /// Weight the target digit up in the loss by the class ratio (about 9).
    #[arg(long)]
    weighting: bool,
    /// Feed pixels in [0, 1] instead of standardised with the MNIST mean and deviation.
    #[arg(long)]
    no_normalize: bool,
    /// Decide at the threshold with the best F1 on the validation digits instead of at
    /// probability ½.
    #[arg(long)]
    tune_threshold: bool,
    /// Keep the learning rate constant instead of the cosine decay.
    #[arg(long)]
    no_schedule: bool,
    /// Folder for detect.csv and detect.md (with --digit all).
    #[arg(long, default_value = "runs/detect")]
    out: PathBuf,
}

/// The help of `--hidden`, with `DetectConfig`'s default sizes as they are typed.
fn hidden_help() -> String {
    let sizes: Vec<String> = DetectConfig::default()
        .hidden
        .iter()
        .map(usize::to_string)
        .collect();
    format!(
        "Hidden layer sizes; 512 for a single hidden layer [default: {}]",
        sizes.join(",")
    )
}

fn config_for(a: &DetectArgs, digit: u8) -> Result<DetectConfig> {
    let defaults = DetectConfig::default();
    let c = DetectConfig {
        digit,
        hidden: a.hidden.clone().unwrap_or_else(|| defaults.hidden.clone()),
        epochs: a.epochs,
        batch: a.batch,
        lr: a.lr,
        seed: a.seed,
        shift: if a.no_shift { 0 } else { a.shift },
        dropout: a.dropout,
        schedule: if a.no_schedule {
            LrSchedule::Constant
        } else {
            defaults.schedule
        },
        weighting: defaults.weighting || a.weighting,
        normalize: defaults.normalize && !a.no_normalize,
        tune_threshold: defaults.tune_threshold || a.tune_threshold,
        ..defaults
    };
    c.validate().context("check the flags of gan detect")?;
    Ok(c)
}

fn describe(c: &DetectConfig) -> String {
    let hidden: Vec<String> = c.hidden.iter().map(usize::to_string).collect();
    format!(
        "MLP 784→{}→1, {} epoch{}, batch {}, Adam lr {}{}, {} pixels, shifts ±{} px, dropout {}, \
         target weighting {}, threshold {}",
        hidden.join("→"),
        c.epochs,
        if c.epochs == 1 { "" } else { "s" },
        c.batch,
        c.lr,
        if c.schedule == LrSchedule::Cosine {
            " (cosine decay)"
        } else {
            ""
        },
        if c.normalize {
            "standardised"
        } else {
            "[0, 1]"
        },
        c.shift,
        c.dropout,
        if c.weighting { "on" } else { "off" },
        if c.tune_threshold {
            "from validation"
        } else {
            "½"
        },
    )
}

fn pct(v: f64) -> String {
    format!("{:.2}%", 100.0 * v)
}

fn print_epoch(e: &EpochFigures, epochs: usize) {
    println!(
        "  epoch {}/{epochs}  {:5.1} s  loss {:.4}  validation: loss {:.4}  accuracy {}  \
         precision {}  recall {}  F1 {}",
        e.epoch,
        e.seconds,
        e.train_loss,
        e.val_loss,
        pct(e.val.accuracy()),
        pct(e.val.precision()),
        pct(e.val.recall()),
        pct(e.val.f1()),
    );
}

fn print_outcome(o: &DetectOutcome) {
    let d = o.config.digit;
    let t = &o.test;
    println!(
        "digit {d} vs the rest, {} test digits, decision p > {:.3}{}:",
        t.total(),
        o.threshold_probability(),
        if o.config.tune_threshold {
            " (best F1 on validation)"
        } else {
            ""
        }
    );
    println!(
        "  accuracy {}  precision {}  recall {}  F1 {}",
        pct(t.accuracy()),
        pct(t.precision()),
        pct(t.recall()),
        pct(t.f1())
    );
    println!(
        "  {:>16} {:>13} {:>13}",
        "",
        format!("called {d}"),
        "called other"
    );
    println!(
        "  {:>16} {:>13} {:>13}",
        format!("is {d}"),
        format!("TP {}", t.tp),
        format!("FN {}", t.fn_)
    );
    println!(
        "  {:>16} {:>13} {:>13}",
        "is another digit",
        format!("FP {}", t.fp),
        format!("TN {}", t.tn)
    );
    let mut fps: Vec<(usize, u64)> = o
        .test_fp_by_digit
        .iter()
        .copied()
        .enumerate()
        .filter(|&(_, n)| n > 0)
        .collect();
    fps.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
    if !fps.is_empty() {
        let list: Vec<String> = fps.iter().map(|(k, n)| format!("{k}: {n}")).collect();
        println!("  false positives by true digit: {}", list.join(", "));
    }
}

/// Runs `gan detect`.
pub fn run(a: DetectArgs) -> Result<()> {
    let digits = detect::parse_digits(&a.digit).context("--digit")?;
    let configs = digits
        .iter()
        .map(|&d| config_for(&a, d))
        .collect::<Result<Vec<_>>>()?;
    let start = Instant::now();
    let mnist = mnist_idx::Mnist::load(&a.data).with_context(|| {
        format!(
            "cannot load MNIST from {} (pass the folder with --data)",
            a.data.display()
        )
    })?;
    let data = DetectData::new(&mnist, configs[0].val_fraction, a.seed)?;
    println!(
        "{} training digits, {} held out for validation (seed {}), {} test digits",
        data.train.len(),
        data.val.len(),
        a.seed,
        data.test.len()
    );
    println!("{}", describe(&configs[0]));
    let mut outcomes = Vec::with_capacity(configs.len());
    for c in &configs {
        println!("digit {}:", c.digit);
        let o = train_detector(c, &data, |e| print_epoch(e, c.epochs))?;
        print_outcome(&o);
        println!("  {:.1} s", o.seconds);
        outcomes.push(o);
    }
    if outcomes.len() > 1 {
        println!();
        print!("{}", detect::table_markdown(&outcomes));
        let (csv, md) = detect::write_tables(&a.out, &outcomes)?;
        println!("wrote {} and {}", csv.display(), md.display());
    }
    println!("total {:.1} s", start.elapsed().as_secs_f64());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> DetectArgs {
        let mut argv = vec!["detect", "--data", "/nonexistent/mnist"];
        argv.extend_from_slice(extra);
        DetectArgs::try_parse_from(argv).unwrap()
    }

    #[test]
    fn a_bad_digit_is_refused_before_any_work() {
        let e = format!("{:#}", run(args(&["--digit", "12"])).unwrap_err());
        assert!(
            e.contains("`12`") && e.contains("0–9") && e.contains("all"),
            "{e}"
        );
        // A good digit gets as far as the (missing) data.
        let e = format!("{:#}", run(args(&["--digit", "3"])).unwrap_err());
        assert!(e.contains("--data"), "{e}");
    }

    #[test]
    fn switches_change_each_choice() {
        let c = config_for(&args(&["--digit", "1"]), 1).unwrap();
        assert_eq!(c, DetectConfig::default());
        let a = args(&[
            "--digit",
            "1",
            "--no-shift",
            "--weighting",
            "--no-normalize",
            "--tune-threshold",
            "--no-schedule",
            "--dropout",
            "0",
            "--hidden",
            "512",
        ]);
        let c = config_for(&a, 1).unwrap();
        assert_eq!(c.shift, 0);
        assert!(c.weighting && !c.normalize && c.tune_threshold);
        assert_eq!((c.schedule, c.dropout), (LrSchedule::Constant, 0.0));
        assert_eq!(c.hidden, vec![512]);
        let bad = args(&["--digit", "1", "--dropout", "1.5"]);
        assert!(config_for(&bad, 1).is_err());
    }
}
