//! A fleet's growth trajectory as text: one row per year for a terminal or Markdown (P50 with
//! P5..P95), the year demand outruns the efficiency gains and the cumulative totals; CSV rows in
//! the shape of the figures' rows.

use super::{unit_for, Scale};
use crate::result::{Report, Trajectory, TrajectoryYear};
use crate::uncertainty::{fmt_human, Percentiles, Range};
use std::fmt::Write;

/// A column: its header, unit scale and value in a year.
struct Column {
    name: &'static str,
    scale: Scale,
    get: fn(&TrajectoryYear) -> Option<Percentiles>,
}

const COLUMNS: &[Column] = &[
    Column {
        name: "demand",
        scale: Scale::Plain("x"),
        get: |y| Some(y.demand_index),
    },
    Column {
        name: "energy/unit",
        scale: Scale::Plain("x"),
        get: |y| Some(y.energy_per_unit_index),
    },
    Column {
        name: "energy",
        scale: Scale::Energy,
        get: |y| Some(y.energy_kwh),
    },
    Column {
        name: "carbon",
        scale: Scale::Mass,
        get: |y| Some(y.carbon_kgco2e),
    },
    Column {
        name: "water",
        scale: Scale::Water,
        get: |y| Some(y.water_l),
    },
    Column {
        name: "cost",
        scale: Scale::Plain(""),
        get: |y| y.cost,
    },
];

/// `p50 (p5..p95)`, or the P50 alone when the three are equal.
fn cell(p: &Percentiles, k: f64) -> String {
    let p = p.scale(k);
    let (a, b, c) = (fmt_human(p.p5), fmt_human(p.p50), fmt_human(p.p95));
    if a == c {
        b
    } else {
        format!("{b} ({a}..{c})")
    }
}

fn rate(r: &Range) -> String {
    r.scale(100.0).display("%")
}

/// The rows of the table: header and cells, each column's values scaled to one unit.
fn grid(e: &Report, t: &Trajectory) -> Vec<Vec<String>> {
    let cols: Vec<(&Column, f64, String)> = COLUMNS
        .iter()
        .filter(|c| t.years.iter().all(|y| (c.get)(y).is_some()))
        .map(|c| {
            let top = t
                .years
                .iter()
                .filter_map(|y| (c.get)(y).map(|p| p.p50))
                .fold(0.0, f64::max);
            let (k, unit) = match c.scale {
                Scale::Plain("") => (1.0, e.currency.clone()),
                Scale::Plain(u) => (1.0, u.to_string()),
                s => unit_for(s, top, &e.currency),
            };
            (c, k, unit)
        })
        .collect();
    let mut rows = vec![std::iter::once("year".to_string())
        .chain(cols.iter().map(|(c, _, u)| format!("{} ({u})", c.name)))
        .collect::<Vec<_>>()];
    for y in &t.years {
        rows.push(
            std::iter::once(y.year.to_string())
                .chain(
                    cols.iter()
                        .map(|(c, k, _)| (c.get)(y).map_or("-".into(), |p| cell(&p, *k))),
                )
                .collect(),
        );
    }
    rows
}

/// What the trajectory says in words: the rates, the effective growth, the crossing year and
/// the cumulative totals.
fn summary(e: &Report, t: &Trajectory) -> Vec<String> {
    let r = &t.rates;
    let g = t.energy_growth_rate.scale(100.0);
    let spread = if fmt_human(g.p5) == fmt_human(g.p95) {
        String::new()
    } else {
        format!(
            " (P50; P5..P95 {}%..{}%)",
            fmt_human(g.p5),
            fmt_human(g.p95)
        )
    };
    let mut out = vec![format!(
        "rates a year: demand {}, efficiency {}, elasticity {}, grid decarbonisation {}; effective energy growth {}% a year{spread}",
        rate(&r.demand_growth),
        rate(&r.efficiency_gain),
        r.elasticity.display(""),
        rate(&r.grid_decarbonisation),
        fmt_human(g.p50),
    )];
    let base = t.years.first().map_or(t.start_year, |y| y.year);
    out.push(match (t.outrun_year, t.outrun_year_p5) {
        (Some(y), Some(y5)) => format!("demand outruns the efficiency gains from {y} (P50 energy above {base}'s); at the P5 too from {y5}"),
        (Some(y), None) => format!("demand outruns the efficiency gains from {y} (P50 energy above {base}'s); not at the P5 within the years shown"),
        (None, _) => format!("efficiency keeps up with demand: the P50 energy stays at or below {base}'s in every year shown"),
    });
    if let Some(last) = t.years.last() {
        let total = |p: &Percentiles, s: Scale| {
            let (k, unit) = unit_for(s, p.p50, &e.currency);
            format!("{} {unit}", cell(p, k))
        };
        out.push(format!(
            "cumulative {}..{}: energy {}, operational carbon {}, water {}",
            base,
            last.year,
            total(&last.cumulative_energy_kwh, Scale::Energy),
            total(&last.cumulative_carbon_kgco2e, Scale::Mass),
            total(&last.cumulative_water_l, Scale::Water),
        ));
    }
    out
}

/// The trajectory section of the terminal table, if the result has one.
#[must_use]
pub(crate) fn table(e: &Report) -> Option<String> {
    let t = e.details.trajectory()?;
    let rows = grid(e, t);
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n  trajectory{} (P50 (P5..P95); carbon: operational, location-based, on the decarbonising grid):",
        t.preset.as_ref().map_or(String::new(), |p| format!(" (preset {p})"))
    );
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| {
                if i == 0 {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect();
        let _ = writeln!(out, "  {}", line.join("  "));
    }
    for s in summary(e, t) {
        let _ = writeln!(out, "  {s}");
    }
    Some(out)
}

/// The trajectory section of the Markdown report, if the result has one.
#[must_use]
pub(crate) fn markdown(e: &Report) -> Option<String> {
    let t = e.details.trajectory()?;
    let rows = grid(e, t);
    let mut out = String::from("\nTrajectory (P50 (P5..P95)):\n\n");
    let _ = writeln!(out, "| {} |", rows[0].join(" | "));
    let _ = writeln!(out, "|---|{}", "---:|".repeat(rows[0].len() - 1));
    for r in rows.iter().skip(1) {
        let _ = writeln!(out, "| {} |", r.join(" | "));
    }
    out.push('\n');
    for s in summary(e, t) {
        let _ = writeln!(out, "- {s}");
    }
    Some(out)
}

/// The trajectory as CSV records in the figures' shape: kind `trajectory`, figure
/// `YEAR.key` (`2026.energy_kwh`), P5, P50, P95, `modelled`; base units as in the JSON.
#[must_use]
pub(crate) fn csv_rows(e: &Report) -> Vec<[String; 6]> {
    let Some(t) = e.details.trajectory() else {
        return Vec::new();
    };
    let cost = format!("cost_{}", e.currency.to_ascii_lowercase());
    let mut out = Vec::new();
    for y in &t.years {
        for (key, p) in [
            ("demand_index", Some(y.demand_index)),
            ("energy_per_unit_index", Some(y.energy_per_unit_index)),
            ("energy_kwh", Some(y.energy_kwh)),
            ("carbon_kgco2e", Some(y.carbon_kgco2e)),
            ("water_l", Some(y.water_l)),
            (cost.as_str(), y.cost),
            ("cumulative_energy_kwh", Some(y.cumulative_energy_kwh)),
            ("cumulative_carbon_kgco2e", Some(y.cumulative_carbon_kgco2e)),
            ("cumulative_water_l", Some(y.cumulative_water_l)),
        ] {
            let Some(p) = p else { continue };
            out.push([
                "trajectory".into(),
                format!("{}.{key}", y.year),
                p.p5.to_string(),
                p.p50.to_string(),
                p.p95.to_string(),
                "modelled".into(),
            ]);
        }
    }
    out
}
