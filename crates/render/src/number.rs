//! The one way numbers become text on charts: axis tick labels, values above bars and numbers
//! in legends all go through [`NumberFormat`].

/// Fixed-point or scientific notation with a number of decimals (of the mantissa, in
/// scientific notation), chosen once for the numbers shown together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NumberFormat {
    scientific: bool,
    decimals: usize,
}

impl NumberFormat {
    /// For the tick labels of one axis: the fewest decimals (at most 6, or 3 of the mantissa)
    /// that show every tick exactly, so the labels share their decimals (`0.0`, `0.2`, `0.4`);
    /// scientific notation when the ticks reach 1e6, all stay below 1e-4 or are less than
    /// 1e-4 apart.
    pub(crate) fn for_ticks(ticks: &[f64]) -> Self {
        let step = ticks
            .windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(f64::INFINITY, f64::min);
        let largest = ticks.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let scientific = largest >= 1e6 || (step.is_finite() && step < 1e-4) || largest < 1e-4;
        let tolerance = if step.is_finite() {
            step * 1e-6
        } else {
            largest * 1e-9
        };
        Self::fewest_decimals(ticks, scientific, if scientific { 3 } else { 6 }, tolerance)
    }

    /// For one number shown on its own (a bar's value, a reference value in a legend): about
    /// three significant digits without trailing zeros (`0.25`, `12.5`, `1200`), scientific
    /// notation outside 0.001..1e6 (`2e-5`).
    pub(crate) fn for_value(v: f64) -> Self {
        let a = v.abs();
        let scientific = v != 0.0 && !(1e-3..1e6).contains(&a);
        let cap = match a {
            _ if scientific => 1,
            a if a >= 100.0 => 0,
            a if a >= 10.0 => 1,
            a if a >= 1.0 => 2,
            _ => 3,
        };
        let rounded = Self {
            scientific,
            decimals: cap,
        };
        let shown = rounded.format(v).parse::<f64>().unwrap_or(v);
        Self::fewest_decimals(&[shown], scientific, cap, shown.abs() * 1e-12)
    }

    /// `v` in this format; never `-0`: a number that rounds to zero is zero.
    pub(crate) fn format(self, v: f64) -> String {
        let d = self.decimals;
        let s = if self.scientific && v != 0.0 {
            format!("{v:.d$e}")
        } else {
            format!("{v:.d$}")
        };
        match s.strip_prefix('-') {
            Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
            _ => s,
        }
    }

    /// The fewest decimals, up to `cap`, whose text reads back within `tolerance` of every value.
    fn fewest_decimals(values: &[f64], scientific: bool, cap: usize, tolerance: f64) -> Self {
        let with = |decimals| Self {
            scientific,
            decimals,
        };
        let shows_all = |f: Self| {
            values.iter().all(|&v| {
                f.format(v)
                    .parse::<f64>()
                    .is_ok_and(|read| (read - v).abs() <= tolerance)
            })
        };
        (0..=cap)
            .map(with)
            .find(|&f| shows_all(f))
            .unwrap_or(with(cap))
    }
}

/// The label formatter of an axis with these ticks (see [`NumberFormat::for_ticks`]).
pub(crate) fn tick_labels(ticks: &[f64]) -> impl Fn(&f64) -> String {
    let format = NumberFormat::for_ticks(ticks);
    move |v: &f64| format.format(*v)
}

/// One number shown on its own (see [`NumberFormat::for_value`]).
pub(crate) fn value_label(v: f64) -> String {
    NumberFormat::for_value(v).format(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_short() {
        assert_eq!(value_label(0.0), "0");
        assert_eq!(value_label(-0.0), "0");
        assert_eq!(value_label(0.5), "0.5");
        assert_eq!(value_label(1000.0), "1000");
        assert_eq!(value_label(2.25), "2.25");
        assert_eq!(value_label(12.5), "12.5");
        assert_eq!(value_label(-0.125), "-0.125");
        assert_eq!(value_label(0.1234), "0.123");
        assert_eq!(value_label(0.1), "0.1");
        assert_eq!(value_label(2e-5), "2e-5");
        assert_eq!(value_label(2.5e-5), "2.5e-5");
        assert_eq!(value_label(9.96e-5), "1e-4");
        assert_eq!(value_label(1.5e6), "1.5e6");
    }

    #[test]
    fn tick_labels_share_the_needed_decimals() {
        let f = tick_labels(&[0.0, 0.2, 0.4]);
        assert_eq!(
            (f(&0.2), f(&0.0), f(&-0.0)),
            ("0.2".into(), "0.0".into(), "0.0".into())
        );
        let f = tick_labels(&[0.0, 0.25, 0.5]);
        assert_eq!((f(&0.25), f(&0.5)), ("0.25".into(), "0.50".into()));
        let f = tick_labels(&[0.7, 0.8, 0.9]);
        assert_eq!(f(&0.8), "0.8");
        let f = tick_labels(&[0.1 + 0.2, 0.4]);
        assert_eq!(f(&(0.1 + 0.2)), "0.3");
        let f = tick_labels(&[0.0, 5.0, 10.0]);
        assert_eq!(f(&10.0), "10");
        let f = tick_labels(&[0.64, 0.66, 0.68]);
        assert_eq!(f(&0.66), "0.66");
        let f = tick_labels(&[1e-5, 2e-5]);
        assert_eq!(f(&1e-5), "1e-5");
        let f = tick_labels(&[1e-5, 1.5e-5, 2e-5]);
        assert_eq!((f(&1e-5), f(&1.5e-5)), ("1.0e-5".into(), "1.5e-5".into()));
        let f = tick_labels(&[0.0, 2e6, 4e6]);
        assert_eq!((f(&0.0), f(&2e6)), ("0".into(), "2e6".into()));
    }
}
