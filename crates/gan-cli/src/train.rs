//! `gan train`: trains a GAN and leaves a run folder.

use anyhow::{Context, Result};
use clap::Parser;
use gan::checkpoint::{self, CheckpointMeta};
use gan::config::{OptimizerKind, OutputKind};
use gan::data::TrainingData;
use gan::render::{self, GridLayout, TrainingCurves};
use gan::{rng, RunDir, TrainConfig, Trainer};
use std::fs;
use std::path::{Path, PathBuf};

/// Flags of `gan train`.
#[derive(Parser)]
pub struct TrainArgs {
    /// TOML file with any configuration field; flags win over it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Run folder name under --runs (default: the first free run-NNN).
    #[arg(long)]
    name: Option<String>,
    /// Parent folder of run folders.
    #[arg(long, default_value = "runs")]
    runs: PathBuf,
    /// Replace an existing run folder of the same name.
    #[arg(long)]
    force: bool,
    #[arg(long)]
    epochs: Option<usize>,
    #[arg(long)]
    batch: Option<usize>,
    /// all, one digit (3) or a list (3,5).
    #[arg(long)]
    digits: Option<String>,
    #[arg(long)]
    latent: Option<usize>,
    /// Generator hidden sizes (the discriminator gets them mirrored), e.g. 256,512.
    #[arg(long, value_delimiter = ',')]
    hidden: Option<Vec<usize>>,
    /// tanh ([-1,1] data) or sigmoid ([0,1] data).
    #[arg(long)]
    output: Option<OutputKind>,
    /// adam, rmsprop or sgd.
    #[arg(long)]
    optimizer: Option<OptimizerKind>,
    /// Learning rate of both networks.
    #[arg(long)]
    lr: Option<f64>,
    #[arg(long)]
    lr_g: Option<f64>,
    #[arg(long)]
    lr_d: Option<f64>,
    #[arg(long)]
    seed: Option<u64>,
    /// Folder with the MNIST IDX files.
    #[arg(long)]
    data: Option<String>,
}

fn build_config(a: &TrainArgs) -> Result<TrainConfig> {
    let mut c = match &a.config {
        Some(path) => {
            let text = fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            TrainConfig::from_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        None => TrainConfig::default(),
    };
    macro_rules! set {
        ($($field:ident <- $flag:expr),+) => { $(if let Some(v) = $flag.clone() { c.$field = v; })+ };
    }
    set!(epochs <- a.epochs, batch <- a.batch, digits <- a.digits, latent <- a.latent,
         output <- a.output, optimizer <- a.optimizer, seed <- a.seed, data_dir <- a.data,
         lr_g <- a.lr, lr_d <- a.lr, lr_g <- a.lr_g, lr_d <- a.lr_d);
    if let Some(h) = &a.hidden {
        c.g_hidden = h.clone();
        c.d_hidden = h.iter().rev().copied().collect();
    }
    c.validate()?;
    Ok(c)
}

/// Runs `gan train`.
pub fn run(a: TrainArgs) -> Result<()> {
    let config = build_config(&a)?;
    let data = TrainingData::load(&config.data_dir, &config.digit_list()?)?;
    let run = RunDir::create(&a.runs, a.name.as_deref(), a.force)?;
    let dir = run.path().to_path_buf();
    gan::atomic::write_atomic(&dir.join("config.toml"), config.to_toml().as_bytes())?;
    let mut trainer = Trainer::new(&config, data)?;
    let range = gan::run::pixel_range(config.output);
    let cells = config.grid * config.grid;
    let layout = GridLayout::new(config.grid, config.grid);
    let real: Vec<u8> = (0..cells.min(trainer.data().len()))
        .flat_map(|i| trainer.data().image(i).to_vec())
        .collect();
    render::save_png(
        &render::digit_grid_u8(&real, 28, 28, &layout)?,
        dir.join("real.png"),
    )?;
    let fixed = trainer.gan.noise(
        cells,
        &mut rng::stream(config.seed, rng::STREAM_FIXED_NOISE),
    );
    println!(
        "training {} digits for {} epochs into {}",
        trainer.data().len(),
        config.epochs,
        dir.display()
    );
    let mut csv = String::from(gan::train::EpochMetrics::CSV_HEADER);
    csv.push('\n');
    while trainer.epoch < config.epochs {
        let batches = trainer.batches_per_epoch();
        let m = trainer
            .train_epoch(|p| {
                if p.batch % 100 == 0 || p.batch == batches {
                    eprint!(
                        "\repoch {} {:>4}/{} d_loss {:.3} g_loss {:.3} {:.0} img/s   ",
                        p.epoch,
                        p.batch,
                        p.batches,
                        p.stats.d_loss,
                        p.stats.g_loss,
                        p.images_per_sec
                    );
                }
                true
            })?
            .context("training stopped early")?;
        eprintln!();
        println!(
            "epoch {:>3}/{}: d_loss {:.4} g_loss {:.4} D acc {:.3} (real {:.3}, fake {:.3}) D(x) {:.3} D(G(z)) {:.3} {:.1} s, {:.0} img/s",
            m.epoch, config.epochs, m.d_loss, m.g_loss, m.d_acc, m.d_acc_real, m.d_acc_fake, m.d_real, m.d_fake, m.seconds, m.images_per_sec
        );
        csv.push_str(&m.csv_row());
        csv.push('\n');
        gan::atomic::write_atomic(&dir.join("metrics.csv"), csv.as_bytes())?;
        let pixels = trainer.generate(&fixed)?;
        let grid = render::digit_grid_f32(&pixels, 28, 28, range, &layout)?;
        render::save_png(
            &grid,
            dir.join("samples")
                .join(format!("epoch-{:04}.png", m.epoch)),
        )?;
        write_plots(&trainer, &dir)?;
        let frames = render::epoch_sample_paths(dir.join("samples"))?;
        render::save_gif_from_pngs(&frames, 400, dir.join("progress.gif"))?;
        save_checkpoint(&trainer, &dir, m.epoch)?;
    }
    println!("done: {}", dir.display());
    Ok(())
}

fn write_plots(t: &Trainer, dir: &Path) -> Result<()> {
    let h = &t.history;
    let col = |f: fn(&gan::train::EpochMetrics) -> f64| h.iter().map(f).collect::<Vec<f64>>();
    let curves = TrainingCurves {
        epoch: col(|m| m.epoch as f64),
        d_loss: col(|m| m.d_loss),
        g_loss: col(|m| m.g_loss),
        d_acc_real: col(|m| m.d_acc_real),
        d_acc_fake: col(|m| m.d_acc_fake),
        d_acc: col(|m| m.d_acc),
    };
    render::save_training_plots(&curves, dir.join("plots"))?;
    Ok(())
}

fn save_checkpoint(t: &Trainer, dir: &Path, epoch: usize) -> Result<()> {
    let mut meta = CheckpointMeta::default();
    meta.set("epoch", epoch);
    meta.set("step", t.step);
    meta.set("config", t.config().to_toml());
    meta.set("noise_word_pos", rng::position(&t.noise_rng));
    meta.set("optimizer.generator.steps", t.opt_g.steps());
    meta.set("optimizer.discriminator.steps", t.opt_d.steps());
    let opts = [("generator", &t.opt_g), ("discriminator", &t.opt_d)];
    let latest = dir.join("checkpoints").join("latest.safetensors");
    checkpoint::save(&latest, &t.gan.params, &opts, &meta)?;
    if t.config().checkpoint_every > 0 && epoch % t.config().checkpoint_every == 0 {
        let every = dir
            .join("checkpoints")
            .join(format!("epoch-{epoch:04}.safetensors"));
        checkpoint::save(&every, &t.gan.params, &opts, &meta)?;
    }
    Ok(())
}
