//! Rendering a [`Report`] for people: a terminal table, Markdown and CSV (JSON is the
//! `Report`'s own `Serialize`), a measured run's summary and CodeCarbon row, and `--compare`.
//! Renderers return text; the binary decides where it goes.

pub mod compare;
pub mod formats;
mod run;
mod text;
mod trajectory;

#[cfg(test)]
pub(crate) use run::run_json;
pub use run::{codecarbon_row, run_summary, write_run_json, RunInfo, CODECARBON_COLUMNS};
pub use text::{csv, csv_key, markdown, table};

use crate::result::Report;
use crate::uncertainty::{fmt_human, fmt_input};

use crate::figure::Figure;
pub(crate) use crate::figure::Scale;

/// One shown value of a figure of `scale`, already scaled: counts with [`fmt_input`], the rest
/// with [`fmt_human`].
pub(crate) fn cell(scale: Scale, v: f64) -> String {
    match scale {
        Scale::Count => fmt_input(v),
        _ => fmt_human(v),
    }
}

/// Picks a unit for a figure from the size of its P50 and returns (factor, unit).
pub(crate) fn unit_for(scale: Scale, p50: f64, currency: &str) -> (f64, String) {
    let a = p50.abs();
    let pick = |steps: &[(f64, &'static str)]| {
        let mut best = steps[0];
        for s in steps {
            if a >= s.0 {
                best = *s;
            }
        }
        (1.0 / best.0, best.1.to_string())
    };
    match scale {
        Scale::Energy => pick(&[
            (1e-6, "mWh"),
            (1e-3, "Wh"),
            (1.0, "kWh"),
            (1e3, "MWh"),
            (1e6, "GWh"),
            (1e9, "TWh"),
        ]),
        Scale::Mass => pick(&[
            (1e-6, "mgCO2e"),
            (1e-3, "gCO2e"),
            (1.0, "kgCO2e"),
            (1e3, "tCO2e"),
            (1e6, "ktCO2e"),
            (1e9, "MtCO2e"),
        ]),
        Scale::Water => pick(&[
            (1e-3, "mL"),
            (1.0, "L"),
            (1e3, "m3"),
            (1e6, "thousand m3"),
            (1e9, "million m3"),
        ]),
        Scale::Power => pick(&[(1e-3, "W"), (1.0, "kW"), (1e3, "MW"), (1e6, "GW")]),
        Scale::Percent => (100.0, "%".to_string()),
        Scale::Count => (1.0, String::new()),
        Scale::Plain(u) => (
            1.0,
            if u.is_empty() && currency.is_empty() {
                String::new()
            } else if u.is_empty() {
                currency.to_string()
            } else {
                u.to_string()
            },
        ),
    }
}

/// A mass of CO2e in kg, in the unit its size calls for (`15 ktCO2e`, not `15M kgCO2e`).
#[must_use]
pub fn fmt_mass_kg(kg: f64) -> String {
    scaled(Scale::Mass, kg)
}

/// An energy in kWh, in the unit its size calls for (`1.2 GWh`, not `1.2M kWh`).
#[must_use]
pub fn fmt_energy_kwh(kwh: f64) -> String {
    scaled(Scale::Energy, kwh)
}

fn scaled(scale: Scale, v: f64) -> String {
    // A figure that is not finite is shown as `-` in the base unit.
    let (k, unit) = unit_for(scale, if v.is_finite() { v } else { 1.0 }, "");
    format!("{} {unit}", fmt_human(v * k))
}

/// The rows shown for an estimate: (label, the P5, P50 and P95 scaled and formatted, unit).
pub(crate) fn rows(e: &Report) -> Vec<(String, [String; 3], String)> {
    Figure::table()
        .filter_map(|f| {
            let p = e.get(f)?;
            let cur = if f == Figure::Cost {
                e.currency.as_str()
            } else {
                ""
            };
            let (k, unit) = unit_for(f.scale(), p.p50, cur);
            Some((f.label().to_string(), p.scale(k), unit, f.scale()))
        })
        .filter(|(_, p, ..)| !text::shows_zero(p))
        .map(|(label, p, unit, scale)| {
            let cells = [p.p5, p.p50, p.p95].map(|v| cell(scale, v));
            (label, cells, unit)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{cell, Scale};

    #[test]
    fn counts_are_shown_in_full_below_a_million_and_other_figures_to_three_figures() {
        assert_eq!(cell(Scale::Count, 28_936.0), "28,936");
        assert_eq!(cell(Scale::Count, 32_768.0), "32,768");
        assert_eq!(cell(Scale::Count, 1_234_567.0), "1.23M");
        // A count that is not whole (a Monte Carlo percentile) keeps three figures.
        assert_eq!(cell(Scale::Count, 28_936.4), "28,900");
        assert_eq!(cell(Scale::Plain("h"), 28_936.0), "28,900");
    }
}
