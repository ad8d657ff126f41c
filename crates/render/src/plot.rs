//! Line charts to PNG: a title, labelled axes, a legend row under the title (so it never
//! covers a line), one colour per series, a light mesh.

use std::path::Path;

use plotters::coord::ranged1d::Ranged;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axes::{check_chart_size, padded};
use super::canvas::{draw_rgb, msg, series_color, TextSizes, FONT, INK};
use super::io::save_rgb_png;
use super::legend::{draw_legend, LegendEntry};
use super::number::tick_labels;
use super::{RenderError, Result};

/// Colour of reference lines and their legend entries.
const REF_GREY: RGBColor = RGBColor(120, 120, 120);

/// One named line of a chart. Points with a NaN or infinite coordinate are not drawn and break
/// the line there.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Shown in the legend.
    pub name: String,
    /// (x, y) pairs, drawn in this order.
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// A series from its points.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            name: name.into(),
            points,
        }
    }

    /// A series from matching x and y columns (extra values of the longer one are ignored).
    pub fn from_xy(name: impl Into<String>, xs: &[f64], ys: &[f64]) -> Self {
        Self::new(name, xs.iter().copied().zip(ys.iter().copied()).collect())
    }
}

/// A horizontal dashed grey reference line, e.g. chance level 0.5 on an accuracy chart.
#[derive(Debug, Clone, PartialEq)]
pub struct RefLine {
    /// Height of the line.
    pub y: f64,
    /// Legend text; `None` draws the line without a legend entry.
    pub label: Option<String>,
}

/// A line chart: see [`save_line_chart`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LineChart {
    /// Drawn above the chart.
    pub title: String,
    /// Description of the horizontal axis.
    pub x_label: String,
    /// Description of the vertical axis.
    pub y_label: String,
    /// The lines, coloured in order from a ten-colour palette.
    pub series: Vec<Series>,
    /// Fixed vertical range (low, high); `None` fits the data with a 5% margin.
    pub y_range: Option<(f64, f64)>,
    /// Horizontal reference lines.
    pub ref_lines: Vec<RefLine>,
}

impl LineChart {
    /// A chart with a title and axis labels, and no series yet.
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> Self {
        Self {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            ..Self::default()
        }
    }

    /// The same chart with one more series.
    pub fn with_series(mut self, series: Series) -> Self {
        self.series.push(series);
        self
    }

    /// The same chart with a fixed vertical range.
    pub fn with_y_range(mut self, low: f64, high: f64) -> Self {
        self.y_range = Some((low, high));
        self
    }

    /// The same chart with a dashed reference line at `y`, named in the legend if `label` is
    /// not empty.
    pub fn with_ref_line(mut self, y: f64, label: &str) -> Self {
        let label = (!label.is_empty()).then(|| label.to_string());
        self.ref_lines.push(RefLine { y, label });
        self
    }
}

/// Draws `chart` into a `width` x `height` PNG at `path`, atomically (900 x 600 reads well).
///
/// Non-finite points are skipped, a lone point is drawn as a dot, an empty chart says
/// "no data", and a flat line gets a padded range. Errors on a size below
/// [`MIN_CHART_SIZE`](crate::MIN_CHART_SIZE), an invalid `y_range`, or a failure to write.
///
/// ```no_run
/// use render::{save_line_chart, LineChart, Series};
/// # fn main() -> Result<(), render::RenderError> {
/// let chart = LineChart::new("Losses", "epoch", "loss")
///     .with_series(Series::from_xy("generator", &[1.0, 2.0, 3.0], &[2.1, 1.4, 1.2]));
/// save_line_chart(&chart, "plots/losses.png", 900, 600)?;
/// # Ok(())
/// # }
/// ```
pub fn save_line_chart(
    chart: &LineChart,
    path: impl AsRef<Path>,
    width: u32,
    height: u32,
) -> Result<()> {
    let path = path.as_ref();
    let rgb = render_line_chart(chart, width, height, path)?;
    save_rgb_png(width, height, &rgb, path)
}

/// Draws `chart` and returns its RGB pixels; `path` names the file in errors.
pub(crate) fn render_line_chart(
    chart: &LineChart,
    width: u32,
    height: u32,
    path: &Path,
) -> Result<Vec<u8>> {
    check_chart_size(width, height)?;
    let finite = |&(x, y): &(f64, f64)| x.is_finite() && y.is_finite();
    let all = || {
        chart
            .series
            .iter()
            .flat_map(|s| s.points.iter().copied().filter(finite))
    };
    let has_data = all().next().is_some();
    let x_range = padded(all().map(|p| p.0), 0.03, 0.5);
    let y_range = match chart.y_range {
        Some((lo, hi)) if lo.is_finite() && hi.is_finite() && lo < hi => (lo, hi),
        Some((lo, hi)) => {
            return Err(RenderError::InvalidInput(format!(
                "{}: y range {lo}..{hi} is not a finite range with low < high",
                path.display()
            )))
        }
        None => {
            let refs = chart
                .ref_lines
                .iter()
                .map(|r| r.y)
                .filter(|y| y.is_finite());
            padded(all().map(|p| p.1).chain(refs), 0.05, 0.5)
        }
    };
    let integral_x = all().all(|(x, _)| x.fract() == 0.0 && x.abs() < 1e9);
    let sizes = TextSizes::for_chart(width, height);
    let many = all().count() > 60;

    draw_rgb(width, height, path, |root| {
        root.fill(&WHITE).map_err(msg)?;
        let body = root
            .margin(10, 0, 0, 0)
            .titled(&chart.title, (FONT, sizes.title).into_font().color(&INK))
            .map_err(msg)?;
        let legend = legend_entries(chart);
        let legend_h = draw_legend(&body, &legend, &sizes)?;
        let (_, plot_area) = body.split_vertically(legend_h);

        let y_coord: RangedCoordf64 = (y_range.0..y_range.1).into();
        let x_coord: RangedCoordf64 = (x_range.0..x_range.1).into();
        let y_ticks = y_coord.key_points(8usize);
        let x_hint = if integral_x {
            ((x_range.1 - x_range.0).floor() as usize + 1).clamp(2, 10)
        } else {
            10
        };
        let x_ticks = x_coord.key_points(x_hint);
        let (fmt_x, fmt_y) = (tick_labels(&x_ticks), tick_labels(&y_ticks));
        let tick_font = (FONT, sizes.tick).into_font();
        let widest = y_ticks
            .iter()
            .map(|v| tick_font.box_size(&fmt_y(v)).map(|b| b.0).unwrap_or(0))
            .max()
            .unwrap_or(0);
        let y_area = widest as f64 + sizes.label * 1.4 + 14.0;
        let x_area = sizes.tick * 1.4 + sizes.label * 1.4 + 8.0;

        let mut ctx = ChartBuilder::on(&plot_area)
            .margin_left(8)
            .margin_right((sizes.tick * 1.5) as u32)
            .margin_top(6)
            .margin_bottom(8)
            .x_label_area_size(x_area as u32)
            .y_label_area_size(y_area as u32)
            .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)
            .map_err(msg)?;
        ctx.configure_mesh()
            .x_labels(x_hint)
            .y_labels(8)
            .x_label_formatter(&fmt_x)
            .y_label_formatter(&fmt_y)
            .x_desc(chart.x_label.as_str())
            .y_desc(chart.y_label.as_str())
            .label_style((FONT, sizes.tick).into_font().color(&INK))
            .axis_desc_style((FONT, sizes.label).into_font().color(&INK))
            .axis_style(INK.mix(0.8))
            .bold_line_style(RGBColor(222, 222, 222))
            .light_line_style(TRANSPARENT)
            .draw()
            .map_err(msg)?;

        let line_w = (2.0 * sizes.tick / 18.0).round().max(1.0) as u32;
        for r in &chart.ref_lines {
            if r.y.is_finite() && r.y >= y_range.0 && r.y <= y_range.1 {
                let pts = [(x_range.0, r.y), (x_range.1, r.y)];
                let style = REF_GREY.stroke_width(line_w);
                ctx.draw_series(DashedLineSeries::new(pts, 10, 6, style))
                    .map_err(msg)?;
            }
        }
        let clamp = |(x, y): (f64, f64)| (x, y.clamp(y_range.0, y_range.1));
        for (i, s) in chart.series.iter().enumerate() {
            let color = series_color(i);
            for run in s.points.split(|p| !finite(p)).filter(|r| !r.is_empty()) {
                let pts: Vec<_> = run.iter().copied().map(clamp).collect();
                if pts.len() > 1 {
                    ctx.draw_series(LineSeries::new(pts.clone(), color.stroke_width(line_w)))
                        .map_err(msg)?;
                }
                if !many || pts.len() == 1 {
                    let r = line_w + 2;
                    ctx.draw_series(pts.iter().map(|&p| Circle::new(p, r, color.filled())))
                        .map_err(msg)?;
                }
            }
        }
        if !has_data {
            let (w, h) = plot_area.dim_in_pixel();
            let style = (FONT, sizes.label)
                .into_font()
                .color(&RGBColor(130, 130, 130))
                .pos(Pos::new(HPos::Center, VPos::Center));
            plot_area
                .draw(&Text::new(
                    "no data",
                    ((w / 2) as i32, (h / 2) as i32),
                    style,
                ))
                .map_err(msg)?;
        }
        Ok(())
    })
}

fn legend_entries(chart: &LineChart) -> Vec<LegendEntry> {
    let lines = (chart.series.iter().enumerate())
        .map(|(i, s)| LegendEntry::new(s.name.clone(), series_color(i), false));
    let refs = (chart.ref_lines.iter())
        .filter_map(|r| r.label.as_ref())
        .map(|l| LegendEntry::new(l.clone(), REF_GREY, true));
    lines.chain(refs).collect()
}

#[cfg(test)]
mod tests {
    use super::super::load_png_gray;
    use super::*;

    fn distinct_colours(path: &Path) -> usize {
        let img = load_png_gray(path).unwrap();
        let mut seen = [false; 256];
        for &p in &img.pixels {
            seen[p as usize] = true;
        }
        seen.iter().filter(|&&s| s).count()
    }

    #[test]
    fn charts_decode_with_size_and_content() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "normal",
                LineChart::new("Loss", "epoch", "loss")
                    .with_series(Series::from_xy("a", &[1.0, 2.0, 3.0], &[1.0, 0.5, 0.7]))
                    .with_series(Series::from_xy(
                        "b",
                        &[1.0, 2.0, 3.0],
                        &[0.2, f64::NAN, 0.4],
                    ))
                    .with_ref_line(0.5, "half"),
            ),
            (
                "single",
                LineChart::new("One", "x", "y").with_series(Series::new("p", vec![(1.0, 2.0)])),
            ),
            (
                "empty",
                LineChart::new("None", "x", "y").with_series(Series::new("e", vec![])),
            ),
            (
                "flat",
                LineChart::new("Flat", "x", "y").with_series(Series::from_xy(
                    "f",
                    &[0.0, 1.0],
                    &[0.69, 0.69],
                )),
            ),
            (
                "nonfinite",
                LineChart::new("Inf", "x", "y").with_series(Series::new(
                    "i",
                    vec![
                        (f64::INFINITY, 1.0),
                        (1.0, f64::NEG_INFINITY),
                        (f64::NAN, 0.0),
                    ],
                )),
            ),
            (
                "outside",
                LineChart::new("Clamped", "x", "y")
                    .with_series(Series::from_xy("o", &[0.0, 1.0], &[-3.0, 3.0]))
                    .with_y_range(0.0, 1.0),
            ),
        ];
        for (name, chart) in cases {
            let path = dir.path().join(format!("{name}.png"));
            save_line_chart(&chart, &path, 640, 400).unwrap();
            let img = load_png_gray(&path).unwrap();
            assert_eq!((img.width, img.height), (640, 400), "{name}");
            assert!(distinct_colours(&path) > 10, "{name} looks blank");
        }
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            6,
            "temp left"
        );
    }

    #[test]
    fn chart_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.png");
        let chart = LineChart::new("t", "x", "y");
        let msg = save_line_chart(&chart, &path, 10, 10)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("too small"), "{msg}");
        let bad = chart.clone().with_y_range(1.0, 1.0);
        let msg = save_line_chart(&bad, &path, 400, 300)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("y range 1..1"), "{msg}");
        let msg = save_line_chart(&chart, &path, 100_000, 300)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("limit"), "{msg}");
        assert!(!path.exists());
    }
}
