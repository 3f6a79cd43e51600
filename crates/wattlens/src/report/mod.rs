//! Rendering an [`Estimate`] for people: a terminal table, Markdown and CSV. (JSON is
//! [`Estimate::to_json`].) Renderers return text; the binary decides where it goes.

pub mod compare;
mod run;
mod text;

pub use run::{codecarbon_row, run_json, run_summary, write_run_json, RunInfo, CODECARBON_COLUMNS};
pub use text::{csv, markdown, table};

use crate::estimate::Estimate;
use crate::uncertainty::{fmt_human, fmt_input};

/// How a figure is shown: its label and how to scale its unit.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Scale {
    /// kWh, shown as mWh/Wh/kWh/MWh/GWh/TWh.
    Energy,
    /// kgCO2e, shown as mg/g/kg/t/kt/Mt.
    Mass,
    /// litres, shown as mL/L/m3.
    Water,
    /// kW, shown as W/kW/MW/GW.
    Power,
    /// A fraction, shown in percent.
    Percent,
    /// A plain number with a fixed unit.
    Plain(&'static str),
    /// A count of things (servers, accelerators, requests, tokens), no unit: a whole count is
    /// shown in full below a million ([`fmt_input`]: `28,936`, not `28,900`).
    Count,
}

/// One shown value of a figure of `scale`, already scaled: counts with [`fmt_input`], the rest
/// with [`fmt_human`].
pub(crate) fn cell(scale: Scale, v: f64) -> String {
    match scale {
        Scale::Count => fmt_input(v),
        _ => fmt_human(v),
    }
}

/// Known figures in display order: (key, label, scale).
pub(crate) const FIGURES: &[(&str, &str, Scale)] = &[
    ("it_energy_kwh", "IT energy", Scale::Energy),
    ("facility_energy_kwh", "facility energy", Scale::Energy),
    (
        "energy_kwh_per_day",
        "facility energy per day",
        Scale::Energy,
    ),
    (
        "energy_kwh_per_year",
        "facility energy per year",
        Scale::Energy,
    ),
    (
        "carbon_kgco2e",
        "carbon (operational + embodied)",
        Scale::Mass,
    ),
    (
        "operational_carbon_kgco2e",
        "operational carbon, location-based",
        Scale::Mass,
    ),
    (
        "market_carbon_kgco2e",
        "operational carbon, market-based",
        Scale::Mass,
    ),
    ("embodied_carbon_kgco2e", "embodied carbon", Scale::Mass),
    ("water_l", "water consumed", Scale::Water),
    ("onsite_water_l", "  on-site (cooling)", Scale::Water),
    ("offsite_water_l", "  off-site (electricity)", Scale::Water),
    ("cost", "electricity cost", Scale::Plain("")),
    ("pue", "PUE", Scale::Plain("")),
    ("it_power_kw", "IT power", Scale::Power),
    ("facility_power_kw", "facility power", Scale::Power),
    ("cooling_energy_kwh", "cooling energy", Scale::Energy),
    (
        "power_conversion_energy_kwh",
        "power conversion energy",
        Scale::Energy,
    ),
    ("other_energy_kwh", "other facility energy", Scale::Energy),
    ("servers", "servers", Scale::Count),
    ("accelerators", "accelerators", Scale::Count),
    // Inference (`estimate infer`).
    ("requests", "requests covered", Scale::Count),
    (
        "energy_wh_per_request",
        "facility energy per request",
        Scale::Plain("Wh"),
    ),
    (
        "it_energy_wh_per_request",
        "  IT energy per request",
        Scale::Plain("Wh"),
    ),
    (
        "accelerator_energy_wh_per_request",
        "  accelerator energy per request",
        Scale::Plain("Wh"),
    ),
    (
        "carbon_g_per_request",
        "carbon per request",
        Scale::Plain("gCO2e"),
    ),
    (
        "water_ml_per_request",
        "water per request",
        Scale::Plain("mL"),
    ),
    (
        "energy_wh_per_1k_tokens",
        "facility energy per 1,000 output tokens",
        Scale::Plain("Wh"),
    ),
    (
        "accelerator_energy_j_per_token",
        "accelerator energy per output token",
        Scale::Plain("J"),
    ),
    ("output_tokens", "output tokens per request", Scale::Count),
    ("memory_gb", "memory per replica", Scale::Plain("GB")),
    ("latency_s", "latency of a request", Scale::Plain("s")),
    (
        "time_per_output_token_ms",
        "time per output token",
        Scale::Plain("ms"),
    ),
    (
        "throughput_tokens_per_s",
        "output tokens per second per replica",
        Scale::Plain("tokens/s"),
    ),
    (
        "fleet_accelerators",
        "accelerators busy for the request rate",
        Scale::Count,
    ),
    ("compute_flop", "compute", Scale::Plain("FLOP")),
    ("duration_days", "duration", Scale::Plain("days")),
    ("accelerator_hours", "accelerator-hours", Scale::Plain("h")),
    ("implied_mfu", "implied MFU", Scale::Plain("")),
    (
        "lost_time_fraction",
        "time lost to failures",
        Scale::Percent,
    ),
    (
        "mean_time_between_interruptions_hours",
        "mean time between interruptions",
        Scale::Plain("h"),
    ),
    (
        "checkpoint_interval_minutes",
        "checkpoint interval",
        Scale::Plain("min"),
    ),
];

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
pub(crate) fn rows(e: &Estimate) -> Vec<(String, [String; 3], String)> {
    FIGURES
        .iter()
        .filter_map(|(key, label, scale)| {
            let p = e.get(key)?;
            let cur = if *key == "cost" {
                e.currency.as_str()
            } else {
                ""
            };
            let (k, unit) = unit_for(*scale, p.p50, cur);
            Some(((*label).to_string(), p.scale(k), unit, *scale))
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
