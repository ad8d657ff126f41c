//! Bar charts, e.g. how many generated digits the evaluator puts in each class.

use std::path::Path;

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axes::check_chart_size;
use super::canvas::{draw_rgb, msg, series_color, TextSizes, FONT, INK};
use super::io::save_rgb_png;
use super::legend::{draw_legend, LegendEntry};
use super::number::{tick_labels, value_label};

/// Colour of the reference line and its legend entry.
const REF_GREY: RGBColor = RGBColor(90, 90, 90);
use super::{RenderError, Result};

/// A bar chart: one labelled bar per value, the value printed above it, and an optional
/// dashed reference line, named in a legend under the title (e.g. the count every class would have if generation were uniform).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BarChart {
    /// Drawn above the chart.
    pub title: String,
    /// Description of the horizontal axis.
    pub x_label: String,
    /// Description of the vertical axis.
    pub y_label: String,
    /// One label per bar, drawn under it.
    pub labels: Vec<String>,
    /// Bar heights; a NaN or infinite value leaves its slot empty, marked "n/a".
    pub values: Vec<f64>,
    /// Height and legend text of a dashed horizontal reference line.
    pub reference: Option<(f64, String)>,
}

impl BarChart {
    /// A chart of `values` labelled by `labels`.
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
        labels: &[String],
        values: &[f64],
    ) -> Self {
        Self {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            labels: labels.to_vec(),
            values: values.to_vec(),
            reference: None,
        }
    }

    /// The same chart with a dashed reference line at `y`, named `label` in the legend.
    pub fn with_reference(mut self, y: f64, label: impl Into<String>) -> Self {
        self.reference = Some((y, label.into()));
        self
    }
}

/// Draws `chart` into a `width` x `height` PNG at `path`, atomically (900 x 600 reads well).
///
/// Errors when there are no bars, when labels and values differ in number, or on a size below
/// [`MIN_CHART_SIZE`](crate::MIN_CHART_SIZE).
///
/// ```no_run
/// use render::{save_bar_chart, BarChart};
/// # fn main() -> Result<(), render::RenderError> {
/// let labels: Vec<String> = (0..10).map(|d| d.to_string()).collect();
/// let counts = [980.0, 1130.0, 1032.0, 1010.0, 982.0, 892.0, 958.0, 1028.0, 974.0, 1009.0];
/// let chart = BarChart::new("Classes of 10000 generated digits", "digit", "count", &labels, &counts)
///     .with_reference(1000.0, "uniform");
/// save_bar_chart(&chart, "runs/x/class-histogram.png", 900, 600)?;
/// # Ok(())
/// # }
/// ```
pub fn save_bar_chart(
    chart: &BarChart,
    path: impl AsRef<Path>,
    width: u32,
    height: u32,
) -> Result<()> {
    let path = path.as_ref();
    check_chart_size(width, height)?;
    let n = chart.values.len();
    if n == 0 || chart.labels.len() != n {
        return Err(RenderError::InvalidInput(format!(
            "{}: a bar chart needs one label per value and at least one value, got {} labels and {n} values",
            path.display(),
            chart.labels.len()
        )));
    }
    if n > 1000 {
        return Err(RenderError::InvalidInput(format!(
            "{}: {n} bars cannot be read on one chart (at most 1000)",
            path.display()
        )));
    }
    let finite = || chart.values.iter().copied().filter(|v| v.is_finite());
    let reference = chart.reference.as_ref().filter(|(y, _)| y.is_finite());
    let extremes = finite().chain(reference.map(|r| r.0));
    let (lo, hi) = extremes.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    // Room above (and below) for the values printed on the bars.
    let span = if hi - lo > 0.0 && (hi - lo).is_finite() {
        hi - lo
    } else {
        1.0
    };
    let y_range = (
        if lo < 0.0 { lo - 0.12 * span } else { 0.0 },
        if hi > 0.0 || lo == 0.0 {
            hi + 0.12 * span
        } else {
            0.0
        },
    );
    let sizes = TextSizes::for_chart(width, height);

    let rgb = draw_rgb(width, height, path, |root| {
        root.fill(&WHITE).map_err(msg)?;
        let body = root
            .margin(10, 0, 0, 0)
            .titled(&chart.title, (FONT, sizes.title).into_font().color(&INK))
            .map_err(msg)?;
        let legend: Vec<LegendEntry> = reference
            .map(|(y, label)| {
                let text = format!("{label}: {}", value_label(*y));
                LegendEntry::new(text, REF_GREY, true)
            })
            .into_iter()
            .collect();
        let legend_h = draw_legend(&body, &legend, &sizes)?;
        let (_, body) = body.split_vertically(legend_h);
        let y_ticks: Vec<f64> = {
            use plotters::coord::ranged1d::Ranged;
            let r: plotters::coord::types::RangedCoordf64 = (y_range.0..y_range.1).into();
            r.key_points(8usize)
        };
        let fmt_y = tick_labels(&y_ticks);
        let tick_font = (FONT, sizes.tick).into_font();
        let widest = y_ticks
            .iter()
            .map(|v| tick_font.box_size(&fmt_y(v)).map(|b| b.0).unwrap_or(0))
            .max()
            .unwrap_or(0);
        let last = n as i32 - 1;
        let fmt_x = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) => usize::try_from(*i)
                .ok()
                .and_then(|i| chart.labels.get(i))
                .cloned()
                .unwrap_or_default(),
            _ => String::new(),
        };
        let mut ctx = ChartBuilder::on(&body)
            .margin_left(8)
            .margin_right((sizes.tick * 1.5) as u32)
            .margin_top(8)
            .margin_bottom(8)
            .x_label_area_size((sizes.tick * 1.4 + sizes.label * 1.4 + 8.0) as u32)
            .y_label_area_size((widest as f64 + sizes.label * 1.4 + 14.0) as u32)
            .build_cartesian_2d((0..last).into_segmented(), y_range.0..y_range.1)
            .map_err(msg)?;
        ctx.configure_mesh()
            .disable_x_mesh()
            .x_labels(n + 1)
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

        // The reference line goes behind the bars and the values.
        if let Some((y, _)) = reference {
            let line_w = (2.0 * sizes.tick / 18.0).round().max(1.0) as u32;
            let pts = [(SegmentValue::Exact(0), *y), (SegmentValue::Last, *y)];
            ctx.draw_series(DashedLineSeries::new(
                pts,
                10,
                6,
                REF_GREY.stroke_width(line_w),
            ))
            .map_err(msg)?;
        }

        let (plot_w, _) = ctx.plotting_area().dim_in_pixel();
        let slot = plot_w / n as u32;
        let bar_margin = (slot / 8).max(1);
        let color = series_color(0);
        let bars = chart
            .values
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(|(i, &v)| (i as i32, v));
        ctx.draw_series(
            Histogram::vertical(&ctx)
                .style(color.filled())
                .margin(bar_margin)
                .data(bars),
        )
        .map_err(msg)?;

        // Values above the bars, when the slots are wide enough to hold them.
        let value_size = sizes.legend.min(f64::from(slot) * 0.45);
        if value_size >= 9.0 {
            let font = (FONT, value_size).into_font().color(&INK);
            for (i, &v) in chart.values.iter().enumerate() {
                let (text, y, anchor, dy) = if !v.is_finite() {
                    ("n/a".to_string(), 0.0, VPos::Bottom, -4)
                } else if v >= 0.0 {
                    (value_label(v), v, VPos::Bottom, -4)
                } else {
                    (value_label(v), v, VPos::Top, 4)
                };
                // A white box behind the text keeps it readable over the reference line.
                let (w, h) = font.font.box_size(&text).map_err(msg)?;
                let (w, h) = (w as i32 / 2 + 6, h as i32 + 3);
                let (top, bottom) = if dy < 0 {
                    (dy - h, dy + 2)
                } else {
                    (dy - 2, dy + h)
                };
                let backing = Rectangle::new([(-w, top), (w, bottom)], WHITE.filled());
                let style = font.clone().pos(Pos::new(HPos::Center, anchor));
                let at = (SegmentValue::CenterOf(i as i32), y);
                ctx.draw_series(std::iter::once(
                    EmptyElement::at(at) + backing + Text::new(text, (0, dy), style),
                ))
                .map_err(msg)?;
            }
        }

        Ok(())
    })?;
    save_rgb_png(width, height, &rgb, path)
}

#[cfg(test)]
mod tests {
    use super::super::load_png_gray;
    use super::*;

    fn digits() -> Vec<String> {
        (0..10).map(|d| d.to_string()).collect()
    }

    #[test]
    fn bar_chart_decodes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hist.png");
        let values = [
            980.0,
            1130.0,
            1032.0,
            1010.0,
            982.0,
            892.0,
            958.0,
            1028.0,
            974.0,
            f64::NAN,
        ];
        let chart = BarChart::new("Classes", "digit", "count", &digits(), &values)
            .with_reference(1000.0, "uniform");
        save_bar_chart(&chart, &path, 900, 600).unwrap();
        let img = load_png_gray(&path).unwrap();
        assert_eq!((img.width, img.height), (900, 600));
        let dark = img.pixels.iter().filter(|&&p| p < 200).count();
        assert!(dark > 900 * 600 / 20, "bars missing: {dark} dark pixels");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn negative_single_and_many_bars() {
        let dir = tempfile::tempdir().unwrap();
        let one = BarChart::new("One", "x", "y", &["a".to_string()], &[-2.0]);
        save_bar_chart(&one, dir.path().join("one.png"), 400, 300).unwrap();
        let zero = BarChart::new("Zero", "x", "y", &["a".to_string()], &[0.0]);
        save_bar_chart(&zero, dir.path().join("zero.png"), 400, 300).unwrap();
        let labels: Vec<String> = (0..300).map(|i| i.to_string()).collect();
        let many = BarChart::new("Many", "x", "y", &labels, &vec![1.0; 300]);
        save_bar_chart(&many, dir.path().join("many.png"), 400, 300).unwrap();
    }

    #[test]
    fn bar_chart_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.png");
        let chart = BarChart::new("t", "x", "y", &digits(), &[1.0; 9]);
        let msg = save_bar_chart(&chart, &path, 900, 600)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("got 10 labels and 9 values"), "{msg}");
        let empty = BarChart::new("t", "x", "y", &[], &[]);
        assert!(save_bar_chart(&empty, &path, 900, 600).is_err());
        assert!(!path.exists());
    }
}
