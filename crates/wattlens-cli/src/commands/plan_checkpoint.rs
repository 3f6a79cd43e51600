//! `wattlens plan checkpoint`: flags to a [`CheckpointInputs`], the plan and (with hardware) the
//! footprint lost from the library, then a table or the `wattlens.plan/v1` JSON.

use crate::bounds;
use crate::cli::{CheckpointArgs, IntervalMethod};
use crate::data_units::{self, Quantity};
use crate::settings::{self, Config};
use crate::{ExitStatus, Output};
use anyhow::{bail, Result};
use wattlens::catalog::Catalog;
use wattlens::estimate::resolve::HardwareInputs;
use wattlens::figure::Figure;
use wattlens::input::Dim;
use wattlens::plan::checkpoint::{
    self, hours_text, CheckpointInputs, CheckpointReport, Method, Point, Rate,
};
use wattlens::uncertainty::{fmt_human, Percentiles, Range, DEFAULT_SAMPLES};

/// A time flag whose bare numbers are in `unit`, bounded by its field's limits.
fn time(flag: &str, text: Option<&str>, unit: &str) -> Result<Option<Range>> {
    bounds::check(flag, settings::range_in(flag, text, Dim::Time, unit)?)
}

/// A size in GB or a rate in GB/s with an optional unit (`2.4TB`, `1TB/s`, `400Gbit/s`; see
/// [`crate::data_units`]); a bare number is in GB (GB/s).
fn gigabytes(flag: &str, text: Option<&str>, per_second: bool) -> Result<Option<Range>> {
    let Some(text) = text else { return Ok(None) };
    let q = if per_second {
        Quantity::BytesPerSecond
    } else {
        Quantity::Size
    };
    bounds::check(flag, Some(data_units::parse(flag, text, q)?))
}

/// [`settings::hardware`], bounded (as `estimate`'s).
fn hardware(a: &crate::cli::HardwareArgs) -> Result<HardwareInputs> {
    let hw = settings::hardware(a)?;
    bounds::check("--server-power", hw.server_power)?;
    bounds::check("--gpus-per-server", hw.gpus_per_server)?;
    bounds::check("--load", hw.load)?;
    Ok(hw)
}

/// Runs `plan checkpoint`.
pub fn run(
    a: &CheckpointArgs,
    cat: &Catalog,
    cfg: &Config,
    out: &mut Output,
) -> Result<ExitStatus> {
    if a.site.series.is_some() {
        bail!("--series: a plan has no start time to place a series at; give the mean intensity over the run with --intensity");
    }
    let count = |flag: &str, text: Option<&str>| bounds::check(flag, settings::count(flag, text)?);
    let inputs = CheckpointInputs {
        interruptions: count("--interruptions", a.interruptions.as_deref())?,
        wall_h: time("--days", a.days.as_deref(), "d")?,
        mtbf_per_device_h: time("--mtbf-per-device", a.mtbf_per_device.as_deref(), "h")?,
        devices: count("--gpus", a.gpus.as_deref())?,
        write_h: time(
            "--checkpoint-minutes",
            a.checkpoint_minutes.as_deref(),
            "min",
        )?,
        size_gb: gigabytes("--checkpoint-size", a.checkpoint_size.as_deref(), false)?,
        bandwidth_gb_s: gigabytes("--storage-bandwidth", a.storage_bandwidth.as_deref(), true)?,
        restart_h: time("--restart-minutes", a.restart_minutes.as_deref(), "min")?,
        asynchronous: a.asynchronous,
        stall_h: time("--stall-minutes", a.stall_minutes.as_deref(), "min")?,
        method: match a.method {
            IntervalMethod::Daly => Method::Daly,
            IntervalMethod::Young => Method::Young,
        },
    };
    let plan = checkpoint::plan(cat, &inputs)?;
    let hw = hardware(&a.hw)?;
    let lost = if checkpoint::has_hardware(&hw) {
        let site = settings::site(&a.site, &cfg.site)?;
        let mc = settings::mc_with(a.samples.as_deref(), a.seed, cfg, DEFAULT_SAMPLES)?;
        Some(checkpoint::lost(cat, &plan, &hw, &site, mc)?)
    } else {
        None
    };
    let mut report = CheckpointReport::new(plan, lost);
    report.name_fields(&|f| settings::name_of(&a.site, &cfg.site, crate::flags::flag(f)));
    if report.lost.is_none() && site_given(&a.site) {
        report.notes.push(
            "the site flags count only for the footprint lost, which needs the hardware: --gpu (or --server, --server-power) with --gpus and --days".to_string(),
        );
    }
    let text = if a.json {
        let mut s = serde_json::to_string_pretty(&report)?;
        s.push('\n');
        s
    } else {
        table(&report)
    };
    out.stdout(&text)?;
    Ok(ExitStatus::Success)
}

/// Whether any site flag was given.
fn site_given(s: &crate::cli::SiteArgs) -> bool {
    [
        &s.pue,
        &s.grid,
        &s.intensity,
        &s.market_intensity,
        &s.cfe,
        &s.wue,
        &s.ewif,
        &s.price,
        &s.datacenter,
        &s.cooling,
        &s.lifetime,
        &s.equivalent_country,
    ]
    .iter()
    .any(|v| v.is_some())
}

fn percent(f: f64) -> String {
    format!("{}%", fmt_human(f * 100.0))
}

/// A figure with its range when it has one: `1.2 MWh (P5 1 .. P95 1.4)`.
fn ranged(p: Percentiles, unit: &str) -> String {
    let sep = if unit.is_empty() { "" } else { " " };
    if p.p5 == p.p95 {
        format!("{}{sep}{unit}", fmt_human(p.p50))
    } else {
        format!(
            "{}{sep}{unit} (P5 {} .. P95 {})",
            fmt_human(p.p50),
            fmt_human(p.p5),
            fmt_human(p.p95)
        )
    }
}

/// The plan as an aligned table, then the sweep.
fn table(r: &CheckpointReport) -> String {
    let p = &r.plan;
    let o = &p.optimum;
    let method = match p.method {
        Method::Young => "Young's",
        _ => "Daly's",
    };
    let mode = if p.asynchronous {
        "asynchronous"
    } else {
        "synchronous"
    };
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut row = |k: &str, v: String| rows.push((k.to_string(), v));
    let basis = match p.rate {
        Rate::Count {
            interruptions,
            wall_h,
        } => format!(
            "{} interruptions over {}",
            fmt_human(interruptions),
            hours_text(wall_h)
        ),
        Rate::PerDevice { mtbf_h, devices } => format!(
            "{} per device over {} devices",
            hours_text(mtbf_h),
            fmt_human(devices)
        ),
        _ => String::new(),
    };
    row(
        "mean time between interruptions",
        format!("{}  ({basis})", hours_text(p.mtbi_h)),
    );
    let write = match p.size {
        Some((gb, bw)) => format!(
            "{}  ({} GB at {} GB/s)",
            hours_text(p.write_h),
            fmt_human(gb),
            fmt_human(bw)
        ),
        None => hours_text(p.write_h),
    };
    row("checkpoint write", write);
    if p.asynchronous {
        row("stall per checkpoint", hours_text(p.stall_h));
    }
    row("restart", hours_text(p.restart_h));
    row(
        "optimal interval",
        format!(
            "{}  (Young's {}, Daly's {})",
            hours_text(o.interval_h),
            hours_text(p.young_h),
            hours_text(p.daly_h)
        ),
    );
    let over = p.lost_h().map_or(String::new(), |h| {
        format!("  ({} over the run)", hours_text(h))
    });
    row("time lost", format!("{}{over}", percent(o.lost_fraction())));
    row("  checkpointing", percent(o.parts.checkpoint));
    row("  rework", percent(o.parts.rework));
    row("  restart", percent(o.parts.restart));
    if let Some(l) = &r.lost {
        let figures = [
            (Figure::FacilityEnergy, "energy lost", "kWh"),
            (Figure::Carbon, "carbon lost", "kgCO2e"),
            (Figure::Water, "water lost", "L"),
            (
                Figure::Cost,
                "electricity cost lost",
                l.run.currency.as_str(),
            ),
        ];
        for (f, label, unit) in figures {
            if let Some(v) = l.get(f) {
                row(label, ranged(v, unit));
            }
        }
    }
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut s = format!("Checkpoint plan: {method} optimal interval, {mode} checkpoints\n\n");
    for (k, v) in &rows {
        s.push_str(&format!("  {k:<width$}  {v}\n"));
    }
    s.push_str("\nIntervals around the optimum\n\n");
    s.push_str(&sweep(&p.sweep, r));
    for n in &r.notes {
        s.push_str(&format!("\nnote: {n}"));
    }
    if !r.notes.is_empty() {
        s.push('\n');
    }
    s
}

/// The sweep as a table: interval, its multiple of the optimum, the parts and the whole.
fn sweep(points: &[Point], r: &CheckpointReport) -> String {
    let mut head = vec![
        "interval",
        "x optimum",
        "checkpointing",
        "rework",
        "restart",
        "time lost",
    ];
    if r.lost.is_some() {
        head.push("energy lost (kWh)");
    }
    let body: Vec<Vec<String>> = points
        .iter()
        .map(|p| {
            let f = p.lost_fraction();
            let mut cells = vec![
                hours_text(p.interval_h),
                fmt_human(p.factor),
                percent(p.parts.checkpoint),
                percent(p.parts.rework),
                percent(p.parts.restart),
                if f >= 1.0 {
                    "never finishes".to_string()
                } else {
                    percent(f)
                },
            ];
            if let Some(l) = &r.lost {
                let e = l.share(Figure::FacilityEnergy, f);
                cells.push(e.map_or(String::new(), |e| fmt_human(e.p50)));
            }
            cells
        })
        .collect();
    let widths: Vec<usize> = (0..head.len())
        .map(|i| {
            body.iter()
                .map(|c| c[i].len())
                .chain([head[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| {
        let mut s = String::from(" ");
        for (c, w) in cells.iter().zip(&widths) {
            s.push_str(&format!("  {c:>w$}"));
        }
        s.push('\n');
        s
    };
    let mut s = line(head.clone());
    for cells in &body {
        s.push_str(&line(cells.iter().map(String::as_str).collect()));
    }
    s
}
