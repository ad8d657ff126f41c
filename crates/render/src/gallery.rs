//! A gallery of every kind of output, made from synthetic data, for looking at by eye.
//!
//! `RENDER_LOOK_DIR=/tmp/render-look cargo test -p render gallery` writes the files there;
//! without the variable they go to a temporary folder and the test only checks they are made.

use std::path::Path;

use super::*;

/// A 28x28 synthetic "digit" in [-1, 1]: strokes of width ~2.5 px along a few shapes.
fn synthetic_digit(kind: usize, jitter: f32) -> Vec<f32> {
    // Distance from (x, y) to segment a-b.
    fn seg(x: f32, y: f32, a: (f32, f32), b: (f32, f32)) -> f32 {
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let t = (((x - a.0) * dx + (y - a.1) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
        ((x - a.0 - t * dx).powi(2) + (y - a.1 - t * dy).powi(2)).sqrt()
    }
    let j = jitter;
    let mut img = vec![-1.0f32; 28 * 28];
    for y in 0..28 {
        for x in 0..28 {
            let (fx, fy) = (x as f32, y as f32);
            let d = match kind % 5 {
                // 0: an ellipse outline
                0 => {
                    let (rx, ry) = (6.0 + j, 9.0 - j * 0.5);
                    let r = (((fx - 14.0) / rx).powi(2) + ((fy - 14.0) / ry).powi(2)).sqrt();
                    (r - 1.0).abs() * rx.min(ry)
                }
                // 1: a slanted bar
                1 => seg(fx, fy, (15.0 + j, 5.0), (12.0 - j, 23.0)),
                // 7: top bar and a diagonal
                2 => seg(fx, fy, (8.0, 6.0), (20.0, 6.0 + j * 0.3)).min(seg(
                    fx,
                    fy,
                    (20.0, 6.0),
                    (12.0 + j, 23.0),
                )),
                // 4: two strokes and a bar
                3 => seg(fx, fy, (9.0, 5.0), (8.0 + j * 0.5, 15.0))
                    .min(seg(fx, fy, (8.0, 15.0), (20.0, 15.0)))
                    .min(seg(fx, fy, (17.0 + j * 0.3, 5.0), (17.0, 23.0))),
                // L-ish "6" stand-in: a hook
                _ => seg(fx, fy, (17.0, 5.0), (10.0 + j, 16.0)).min({
                    let r = ((fx - 14.0).powi(2) + (fy - 18.0).powi(2)).sqrt();
                    (r - 4.5).abs()
                }),
            };
            // Soft stroke: 1 inside, falling to -1 over a pixel at the edge.
            img[y * 28 + x] = (1.0 - (d - 1.2).max(0.0) * 2.0).clamp(-1.0, 1.0) * 2.0 - 1.0;
        }
    }
    img
}

fn synthetic_batch(n: usize, seed: usize) -> Vec<f32> {
    (0..n)
        .flat_map(|i| {
            let jitter = (((i * 7 + seed * 13) % 11) as f32 - 5.0) * 0.5;
            synthetic_digit(i + seed, jitter)
        })
        .collect()
}

fn write_gallery(dir: &Path) -> Result<()> {
    // (a) a grid of 64 digits x3, and one with fewer digits than cells.
    let batch = synthetic_batch(64, 0);
    let layout = GridLayout::new(8, 8);
    let grid = digit_grid_f32(&batch, 28, 28, PixelRange::MinusOneToOne, &layout)?;
    save_png(&grid, dir.join("grid.png"))?;
    let partial = digit_grid_f32(
        &batch[..10 * 784],
        28,
        28,
        PixelRange::MinusOneToOne,
        &GridLayout::new(2, 8),
    )?;
    save_png(&partial, dir.join("grid-partial.png"))?;

    // (b) two falling and rising curves over 20 epochs, and an accuracy-style chart.
    let xs: Vec<f64> = (1..=20).map(f64::from).collect();
    let curve = |shift: f64, sign: f64| -> Vec<f64> {
        xs.iter()
            .map(|x| 1.1 + sign * 0.3 * (-x / 4.0).exp() + ((x * 1.3 + shift).sin() * 0.04))
            .collect()
    };
    let losses = LineChart::new("Losses", "epoch", "mean loss")
        .with_series(Series::from_xy("falling", &xs, &curve(0.0, 1.0)))
        .with_series(Series::from_xy("rising", &xs, &curve(1.0, -1.0)));
    save_line_chart(&losses, dir.join("losses.png"), 900, 600)?;
    let accuracy = LineChart::new("Accuracy", "epoch", "accuracy")
        .with_y_range(-0.02, 1.02)
        .with_ref_line(0.5, "chance (0.5)")
        .with_series(Series::from_xy(
            "on real",
            &xs,
            &curve(0.0, 1.0).iter().map(|v| v - 0.5).collect::<Vec<_>>(),
        ));
    save_line_chart(&accuracy, dir.join("accuracy.png"), 900, 600)?;

    // (c) the class histogram.
    let labels: Vec<String> = (0..10).map(|d| d.to_string()).collect();
    let counts = [
        980.0, 1130.0, 1032.0, 1010.0, 982.0, 892.0, 958.0, 1028.0, 974.0, 1014.0,
    ];
    let chart = BarChart::new(
        "Classes of 10000 generated digits",
        "digit (evaluator's prediction)",
        "count",
        &labels,
        &counts,
    )
    .with_reference(1000.0, "uniform");
    save_bar_chart(&chart, dir.join("class-histogram.png"), 900, 600)?;

    // (d) three runs overlaid.
    let runs = [("lr 2e-5", 0.0), ("lr 2e-4", 1.5), ("lr 2e-3", 3.0)];
    let mut compare = LineChart::new("Generator loss", "epoch", "mean loss");
    for (name, shift) in runs {
        compare
            .series
            .push(Series::from_xy(name, &xs, &curve(shift, -1.0)));
    }
    save_line_chart(&compare, dir.join("compare.png"), 900, 600)?;

    // (e) grids side by side, and an animation of grids.
    let small = GridLayout::new(4, 4);
    let sheets: Vec<(String, GrayImage)> = (0..3)
        .map(|s| {
            let b = synthetic_batch(16, s);
            digit_grid_f32(&b, 28, 28, PixelRange::MinusOneToOne, &small)
                .map(|g| (runs[s].0.to_string(), g))
        })
        .collect::<Result<_>>()?;
    save_png(&hstack_labeled(&sheets)?, dir.join("sweep.png"))?;
    let mut gif = GifAnimation::new(400);
    for (_, grid) in sheets {
        gif.push(grid)?;
    }
    gif.save(dir.join("progress.gif"))?;

    // (f) awkward charts.
    let edge = dir.join("edge");
    std::fs::create_dir_all(&edge).map_err(|source| RenderError::Write {
        path: edge.clone(),
        source,
    })?;
    let xs: Vec<f64> = (1..=12).map(f64::from).collect();
    let mut ys: Vec<f64> = xs.iter().map(|x| 5e6 + 1e6 * (x * 0.7).sin()).collect();
    ys[5] = f64::NAN;
    let gap = LineChart::new("A NaN at epoch 6 breaks the line", "epoch", "value")
        .with_series(Series::from_xy("big numbers", &xs, &ys));
    save_line_chart(&gap, edge.join("gap.png"), 900, 600)?;
    let single = LineChart::new("One point", "epoch", "loss")
        .with_series(Series::new("only", vec![(1.0, 0.693)]));
    save_line_chart(&single, edge.join("single.png"), 900, 600)?;
    let empty =
        LineChart::new("Nothing yet", "epoch", "loss").with_series(Series::new("none", vec![]));
    save_line_chart(&empty, edge.join("empty.png"), 900, 600)?;
    let mut many = LineChart::new("Eight runs with long names", "step", "learning rate");
    for i in 0..8 {
        let pts = (0..200)
            .map(|s| {
                (
                    f64::from(s),
                    2e-4 * (1.0 + f64::from(i)) * (-f64::from(s) / 80.0).exp(),
                )
            })
            .collect();
        many.series.push(Series::new(
            format!(
                "adam lr {} batch {}",
                2e-4 * f64::from(i + 1),
                32 << (i % 3)
            ),
            pts,
        ));
    }
    save_line_chart(&many, edge.join("many.png"), 900, 600)?;
    save_line_chart(&many, edge.join("many-small.png"), 400, 300)?;
    Ok(())
}

#[test]
fn gallery_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = std::env::var_os("RENDER_LOOK_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir).unwrap();
    write_gallery(&dir).unwrap();
    for f in [
        "grid.png",
        "losses.png",
        "accuracy.png",
        "compare.png",
        "progress.gif",
    ] {
        assert!(dir.join(f).exists(), "{f} missing");
    }
}
