//! The legend row under a chart's title: it takes its own room, so it never covers a line.

use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::canvas::{msg, Area, TextSizes, FONT, INK};

/// A legend entry: text, colour, dashed or solid with a dot.
pub(crate) struct LegendEntry {
    text: String,
    color: RGBColor,
    dashed: bool,
}

impl LegendEntry {
    /// An entry showing `text` beside a line of `color`, dashed or solid with a dot.
    pub(crate) fn new(text: String, color: RGBColor, dashed: bool) -> Self {
        Self {
            text,
            color,
            dashed,
        }
    }
}

/// Draws legend entries in centred rows at the top of `area`; returns the height used.
pub(crate) fn draw_legend(
    area: &Area<'_>,
    entries: &[LegendEntry],
    sizes: &TextSizes,
) -> std::result::Result<u32, String> {
    if entries.is_empty() {
        return Ok(0);
    }
    let font = (FONT, sizes.legend).into_font();
    let swatch = (sizes.legend * 1.6) as i32;
    let pad = (sizes.legend * 0.4) as i32;
    let spacing = (sizes.legend * 1.4) as i32;
    let row_h = (sizes.legend * 1.5) as i32;
    let (width, _) = area.dim_in_pixel();
    let max_w = width as i32 - 2 * spacing;
    let widths: Vec<i32> = entries
        .iter()
        .map(|e| swatch + pad + font.box_size(&e.text).map(|b| b.0 as i32).unwrap_or(0))
        .collect();
    // Greedy rows: put entries on a row while they fit.
    let mut rows: Vec<Vec<usize>> = vec![Vec::new()];
    let mut row_w = 0;
    for (i, &w) in widths.iter().enumerate() {
        let extra = if row_w == 0 { w } else { w + spacing };
        if row_w > 0 && row_w + extra > max_w {
            rows.push(Vec::new());
            row_w = w;
        } else {
            row_w += extra;
        }
        if let Some(row) = rows.last_mut() {
            row.push(i);
        }
    }
    let text_style = font.color(&INK).pos(Pos::new(HPos::Left, VPos::Center));
    let line_w = (2.0 * sizes.legend / 20.0).round().max(1.0) as u32;
    for (r, row) in rows.iter().enumerate() {
        let total: i32 =
            row.iter().map(|&i| widths[i]).sum::<i32>() + spacing * (row.len() as i32 - 1);
        let mut x = (width as i32 - total) / 2;
        let y = row_h * r as i32 + row_h / 2 + 2;
        for &i in row {
            let e = &entries[i];
            let pts = vec![(x, y), (x + swatch, y)];
            let style = e.color.stroke_width(line_w + 1);
            if e.dashed {
                area.draw(&DashedPathElement::new(pts, 6, 4, style))
                    .map_err(msg)?;
            } else {
                area.draw(&PathElement::new(pts, style)).map_err(msg)?;
                area.draw(&Circle::new(
                    (x + swatch / 2, y),
                    line_w + 2,
                    e.color.filled(),
                ))
                .map_err(msg)?;
            }
            area.draw(&Text::new(
                e.text.clone(),
                (x + swatch + pad, y),
                text_style.clone(),
            ))
            .map_err(msg)?;
            x += widths[i] + spacing;
        }
    }
    Ok((row_h * rows.len() as i32 + 8) as u32)
}
