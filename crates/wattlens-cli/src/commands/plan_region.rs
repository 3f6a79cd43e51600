//! `wattlens plan region`: flags to a [`RegionJob`], the plan from the library
//! ([`wattlens::plan::region`]), then a table or the `wattlens.plan/v1` JSON object.

use crate::bounds;
use crate::cli::PlanRegionArgs;
use crate::data_units::{self, Quantity};
use crate::settings::{self, Config};
use crate::{ExitStatus, Output};
use anyhow::{anyhow, bail, Context, Result};
use wattlens::catalog::Catalog;
use wattlens::estimate::site::SiteInputs;
use wattlens::field::Field;
use wattlens::input::{parse_price, Dim};
use wattlens::plan::region::{plan_region, RegionJob, RegionPlan};
use wattlens::report::fmt_mass_kg;
use wattlens::uncertainty::{fmt_human, Percentiles, Range, DEFAULT_SAMPLES};

/// Runs `plan region`.
pub fn run(
    a: &PlanRegionArgs,
    cat: &Catalog,
    cfg: &Config,
    out: &mut Output,
) -> Result<ExitStatus> {
    let regions: Vec<String> = a.regions.split(',').map(|r| r.trim().to_string()).collect();
    let pue = bounds::check(
        "--pue",
        settings::range("--pue", a.pue.as_deref(), Dim::Factor)?,
    )?;
    let hours = match &a.hours {
        Some(t) => Some(single(
            "--hours",
            settings::range("--hours", Some(t), Dim::Time)?,
        )?),
        None => None,
    };
    let job = RegionJob {
        regions,
        data_gb: within(
            "--data",
            single(
                "--data",
                Some(data_units::parse("--data", &a.data, Quantity::Size)?),
            )?,
            (1e-9, 1e12),
            "1 B to 1,000 EB",
        )?,
        energy_kwh: bounds::check(
            "--energy",
            settings::range("--energy", Some(&a.energy), Dim::Energy)?,
        )?
        .unwrap_or(Range::point(0.0)),
        hours,
        bandwidth_gbps: within(
            "--bandwidth",
            single(
                "--bandwidth",
                Some(data_units::parse(
                    "--bandwidth",
                    &a.bandwidth,
                    Quantity::BitsPerSecond,
                )?),
            )?,
            (1e-6, 1e6),
            "1 kbit/s to 1 Pbit/s",
        )?,
        network_kwh_per_gb: a
            .network_intensity
            .as_deref()
            .map(|t| scaled("--network-intensity", t, &NETWORK))
            .transpose()?,
        site: SiteInputs {
            pue,
            price: a
                .price
                .as_deref()
                .map(|p| parse_price(p).context("invalid value for --price"))
                .transpose()?,
            ..SiteInputs::default()
        },
        from: a.from.clone(),
    };
    let mc = settings::mc_with(a.samples.as_deref(), a.seed, cfg, DEFAULT_SAMPLES)?;
    let mut plan = plan_region(cat, &job, mc).map_err(|e| anyhow!(crate::flags::plan_error(&e)))?;
    // A region is the site's grid here (`no electricity price for region cn-east ...`).
    plan.name_fields(&|f| match f {
        Field::Grid => "region".into(),
        f => crate::flags::flag(f).to_string(),
    });
    let text = if a.json {
        let mut s = serde_json::to_string_pretty(&plan)?;
        s.push('\n');
        s
    } else {
        table(&plan)
    };
    out.stdout(&text)?;
    Ok(ExitStatus::Success)
}

/// Network energy intensities, to kWh/GB.
const NETWORK: [(&str, f64); 4] = [
    ("kwh/gb", 1.0),
    ("wh/gb", 1e-3),
    ("kwh/tb", 1e-3),
    ("wh/mb", 1.0),
];

/// A number or range with an optional unit from `units` (case-insensitive, the first that
/// ends the text; a range may repeat it: `2Wh/GB..15Wh/GB`), scaled to the units' base; a bare
/// number is in the base unit.
fn scaled(flag: &str, text: &str, units: &[(&str, f64)]) -> Result<Range> {
    let lower = text.trim().to_ascii_lowercase();
    let (number, k) = units
        .iter()
        .find(|(u, _)| lower.ends_with(u))
        .map(|(u, k)| (lower.replace(u, "").trim().to_string(), *k))
        .unwrap_or((lower, 1.0));
    let r = wattlens::parse_range(&number, Dim::Count)
        .with_context(|| format!("invalid value for {flag}: {text:?}"))?;
    Ok(r.scale(k))
}

/// `v` when it lies in `[lo, hi]` (a zero or negative value is left to the plan's own check,
/// which says "positive"), else an error naming the flag and the range in words.
fn within(flag: &str, v: f64, (lo, hi): (f64, f64), words: &str) -> Result<f64> {
    if v > 0.0 && !(lo..=hi).contains(&v) {
        bail!("invalid value for {flag}: outside what any real case reaches; give a value from {words}");
    }
    Ok(v)
}

/// A single value (not a range) of a flag.
pub(super) fn single(flag: &str, r: Option<Range>) -> Result<f64> {
    match r {
        Some(r) if r.is_point() => Ok(r.lo),
        Some(_) => bail!("invalid value for {flag}: give a single value here, not a range"),
        None => bail!("{flag} needs a value"),
    }
}

/// `P50 (P5..P95)` of a mass, or the P50 alone for a point.
pub(super) fn mass(p: &Percentiles) -> String {
    if p.p5 == p.p95 {
        fmt_mass_kg(p.p50)
    } else {
        format!(
            "{} ({}..{})",
            fmt_mass_kg(p.p50),
            fmt_mass_kg(p.p5),
            fmt_mass_kg(p.p95)
        )
    }
}

/// `P50 unit` or `P50 (P5..P95) unit` of a plain quantity.
fn plain(p: &Percentiles, unit: &str) -> String {
    if p.p5 == p.p95 {
        format!("{} {unit}", fmt_human(p.p50))
    } else {
        format!(
            "{} ({}..{}) {unit}",
            fmt_human(p.p50),
            fmt_human(p.p5),
            fmt_human(p.p95)
        )
    }
}

/// The terminal table: one row per region, then the best and the notes.
fn table(p: &RegionPlan) -> String {
    let head = [
        "region",
        "grid g/kWh",
        "PUE",
        "compute",
        "transfer",
        "transfer h",
        "water",
        "total",
    ];
    let range = |p: &Percentiles| {
        if p.p5 == p.p95 {
            fmt_human(p.p50)
        } else {
            format!("{}..{}", fmt_human(p.p5), fmt_human(p.p95))
        }
    };
    let mut head: Vec<String> = head.iter().map(|h| (*h).to_string()).collect();
    // The latency column only with --from (the table without it is unchanged).
    if p.from.is_some() {
        head.push("latency ms".into());
    }
    let mut rows: Vec<Vec<String>> = vec![head.clone()];
    for r in &p.regions {
        let mut row = vec![
            r.region.clone(),
            range(&r.intensity_g_per_kwh),
            range(&r.pue),
            mass(&r.carbon_kgco2e),
            mass(&r.transfer_carbon_kgco2e),
            fmt_human(r.transfer_hours.p50),
            plain(&r.water_l, "L"),
            mass(&r.total_carbon_kgco2e),
        ];
        if p.from.is_some() {
            row.push(r.latency_ms.as_ref().map_or("-".into(), |l| {
                format!(
                    "{} ({}..{})",
                    fmt_human(l.p50),
                    fmt_human(l.p5),
                    fmt_human(l.p95)
                )
            }));
        }
        rows.push(row);
    }
    let widths: Vec<usize> = (0..head.len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut s = String::new();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        s.push_str(line.join("  ").trim_end());
        s.push('\n');
    }
    s.push_str(&format!(
        "\nwork: {} of IT energy{}; data: {} GB at {} Gbit/s; network: {}\n",
        plain(&p.energy_kwh, "kWh"),
        p.hours
            .map_or(String::new(), |h| format!(" over {} h", fmt_human(h))),
        fmt_human(p.data_gb),
        fmt_human(p.bandwidth_gbps),
        plain(&p.network_kwh_per_gb, "kWh/GB"),
    ));
    let b = &p.best;
    match (&b.runner_up, &b.margin_kgco2e) {
        (Some(second), Some(m)) => s.push_str(&format!(
            "best: {} (lowest total carbon), by {} against {}\n",
            b.region,
            mass(m),
            second
        )),
        _ => s.push_str(&format!("best: {} (the only candidate)\n", b.region)),
    }
    for n in &p.notes {
        s.push_str(&format!("note: {n}\n"));
    }
    s
}
