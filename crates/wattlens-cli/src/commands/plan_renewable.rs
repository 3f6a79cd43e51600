//! `wattlens plan renewable`: the supply (a `timestamp,kw` file or a shipped forecast scaled to
//! `--capacity`), the other load, the battery and the job file to
//! [`wattlens::plan::renewable::RenewInputs`], the site (PUE, the grid's intensity or
//! `--series`) resolved as estimates do, the plan from the library, then a table or the
//! `wattlens.plan/v1` JSON object.

use super::plan_region::{mass, single};
use crate::cli::{PlanRenewableArgs, SeriesSignal};
use crate::settings::{self, Config};
use crate::{ExitStatus, Output};
use anyhow::{anyhow, bail, Context, Result};
use std::path::Path;
use wattlens::catalog::Catalog;
use wattlens::grid::Signal;
use wattlens::input::Dim;
use wattlens::plan::renewable::{
    parse_profile, plan_renewable, profile::shipped_supply_names, shipped_supply, GridCarbon,
    OtherLoad, Profile, RenewError, RenewInputs, RenewJob, RenewablePlan, Storage,
};
use wattlens::uncertainty::{fmt_num, DEFAULT_SAMPLES};

/// Runs `plan renewable`.
pub fn run(
    a: &PlanRenewableArgs,
    cat: &Catalog,
    cfg: &Config,
    out: &mut Output,
) -> Result<ExitStatus> {
    if a.site.series.is_some() {
        for (flag, given) in [("--intensity", &a.site.intensity), ("--grid", &a.site.grid)] {
            if given.is_some() {
                bail!(
                    "{flag} and --series both give the grid's intensity; a plan takes it from \
                     --series (drop {flag}, or drop --series to use an annual intensity)"
                );
            }
        }
    }
    let supply = supply(a)?;
    let other = match a.other_load.as_deref() {
        None => OtherLoad::None,
        Some(t) if Path::new(t).is_file() => OtherLoad::Profile(read_profile("--other-load", t)?),
        Some(t) => {
            let kw = point_kw("--other-load", t).with_context(|| {
                format!("--other-load {t:?} is neither a file nor a power (e.g. 2MW)")
            })?;
            OtherLoad::Constant(kw)
        }
    };
    let storage = a
        .storage
        .as_deref()
        .map(|t| -> Result<Storage> {
            let cap = single(
                "--storage",
                settings::range("--storage", Some(t), Dim::Energy)?,
            )?;
            if cap < 0.0 {
                bail!("invalid value for --storage: {t:?} must be an energy >= 0 (e.g. 500kWh)");
            }
            let rt_text = a.round_trip.as_deref().unwrap_or("");
            let rt = single(
                "--round-trip",
                settings::range("--round-trip", Some(rt_text), Dim::Factor)?,
            )?;
            if !(rt > 0.0 && rt <= 1.0) {
                bail!(
                    "invalid value for --round-trip: {rt_text:?} is outside (0, 1]; give the \
                     share of the energy put in that comes back (e.g. 0.9)"
                );
            }
            let power_kw = a
                .storage_power
                .as_deref()
                .map(|p| point_kw("--storage-power", p))
                .transpose()?;
            if power_kw.is_some_and(|p| p <= 0.0) {
                bail!("invalid value for --storage-power: give a power > 0 (e.g. 100kW)");
            }
            Ok(Storage {
                capacity_kwh: cap,
                round_trip: rt,
                power_kw,
            })
        })
        .transpose()?;
    let shown = a.jobs.display();
    let rows = super::plan::read_jobs(&a.jobs, None)?;
    let mut jobs = Vec::with_capacity(rows.len());
    for (k, (line, name, j)) in rows.iter().enumerate() {
        if let Some((first, _, _)) = rows[..k].iter().find(|(_, n, _)| n == name) {
            bail!(
                "--jobs {shown}: line {line}: job name {name:?} is also on line {first}; give \
                 each job its own name (the schedule is reported by name)"
            );
        }
        if !j.power_w.is_point() {
            bail!(
                "--jobs {shown}: line {line}: power must be a single value here, not a range \
                 (the schedule depends on it)"
            );
        }
        jobs.push(RenewJob {
            name: name.clone(),
            duration: j.duration,
            power_kw: j.power_w.lo / 1000.0,
            release: j.earliest,
            deadline: j.deadline,
        });
    }
    let inputs = settings::site(&a.site, &cfg.site)?;
    let site = wattlens::estimate::site::resolve(cat, &inputs, &mut Vec::new())
        .map_err(|e| anyhow!(e.render(&|f| crate::flags::flag(f).to_string())))?
        .site;
    let mut notes = Vec::new();
    let pue = site.pue.range.mid();
    if !site.pue.range.is_point() {
        notes.push(format!(
            "the PUE is a range ({}..{}); the plan uses its middle, {}",
            fmt_num(site.pue.range.lo),
            fmt_num(site.pue.range.hi),
            fmt_num(pue)
        ));
    }
    let series = match &a.site.series {
        None => None,
        Some(path) => {
            let signal = a.site.series_signal.map(|s| match s {
                SeriesSignal::Marginal => Signal::Marginal,
                SeriesSignal::Average => Signal::Average,
            });
            Some(
                crate::series::fill(
                    crate::series::read(
                        path,
                        a.site.series_format.as_deref(),
                        a.site.series_column.as_deref(),
                        a.site.series_time_column.as_deref(),
                        signal,
                    )
                    .context("invalid value for --series")?,
                    a.site.series_fill.as_deref(),
                )?
                .0,
            )
        }
    };
    let mc = settings::mc_with(a.samples.as_deref(), a.seed, cfg, DEFAULT_SAMPLES)?;
    let carbon = GridCarbon {
        site: &site,
        series: series.as_ref(),
        opts: mc,
    };
    let inputs = RenewInputs {
        supply: supply.0,
        other,
        storage,
        jobs,
        pue,
    };
    let mut plan = plan_renewable(&inputs, carbon).map_err(|e| match e {
        RenewError::Job { index, why } => {
            let (line, name, _) = &rows[index];
            anyhow!("--jobs {shown}: line {line} (job {name}): {why}")
        }
        RenewError::Series(m) => anyhow!("invalid value for --series: {m}"),
        RenewError::OtherLoad(m) => anyhow!("invalid value for --other-load: {m}"),
        e => anyhow!("{e}"),
    })?;
    if supply.1 > 0 {
        plan.notes.push(format!(
            "{} hour(s) with no value in the shipped forecast count as no supply",
            supply.1
        ));
    }
    plan.notes.extend(notes);
    // A site value's source names the field it came through (`{intensity}`): in flags here.
    plan.carbon_basis =
        wattlens::field::render(&plan.carbon_basis, &|f| crate::flags::flag(f).to_string());
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

/// The supply and the hours a shipped forecast lacks.
fn supply(a: &PlanRenewableArgs) -> Result<(Profile, usize)> {
    let t = a.supply.as_str();
    if Path::new(t).is_file() {
        if a.capacity.is_some() {
            bail!("--capacity scales a shipped forecast; --supply {t} is a file, in kW already");
        }
        return Ok((read_profile("--supply", t)?, 0));
    }
    let Some(s) = shipped_supply(t) else {
        bail!(
            "invalid value for --supply: {t:?} is neither a file nor a shipped forecast ({})",
            shipped_supply_names()
        );
    };
    let Some(c) = a.capacity.as_deref() else {
        bail!(
            "--supply {} needs --capacity: the peak output its 2024 peak hour is scaled to (e.g. \
             10MW)",
            s.name
        );
    };
    let kw = point_kw("--capacity", c)?;
    s.profile(kw)
        .map_err(|e| anyhow!("invalid value for --capacity: {e}"))
}

fn read_profile(flag: &str, path: &str) -> Result<Profile> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("invalid value for {flag}: cannot read {path}"))?;
    parse_profile(&bytes, path).map_err(|e| anyhow!("invalid value for {flag}: {e}"))
}

/// A single power >= 0, kW.
fn point_kw(flag: &str, text: &str) -> Result<f64> {
    let w = single(flag, settings::range(flag, Some(text), Dim::Power)?)?;
    if !(w.is_finite() && w >= 0.0) {
        bail!("invalid value for {flag}: {text:?} must be a power >= 0");
    }
    Ok(w / 1000.0)
}

fn percent(f: f64) -> String {
    format!("{}%", fmt_num(f * 100.0))
}

/// The terminal table.
fn table(p: &RenewablePlan) -> String {
    let mut rows: Vec<(String, String)> = vec![
        ("supply".into(), p.supply.clone()),
        ("other load".into(), p.other_load.clone()),
        (
            "jobs".into(),
            format!(
                "{} ({} kWh at PUE {}, on {} min cells)",
                p.schedule.len(),
                fmt_num(p.job_energy_kwh),
                fmt_num(p.pue),
                fmt_num(p.step_minutes)
            ),
        ),
        (
            "renewable share".into(),
            format!(
                "{} at release -> {} scheduled",
                percent(p.renewable_share_before),
                percent(p.renewable_share_after)
            ),
        ),
        (
            "grid energy".into(),
            format!(
                "{} kWh at release -> {} kWh scheduled: {} kWh avoided",
                fmt_num(p.grid_energy_kwh_before),
                fmt_num(p.grid_energy_kwh_after),
                fmt_num(p.grid_energy_avoided_kwh)
            ),
        ),
        (
            "grid carbon".into(),
            format!(
                "{} at release -> {} scheduled",
                mass(&p.grid_carbon_kgco2e_before),
                mass(&p.grid_carbon_kgco2e_after)
            ),
        ),
        (
            "carbon avoided".into(),
            format!(
                "{} at {} ({} signal)",
                mass(&p.carbon_avoided_kgco2e),
                p.carbon_basis,
                p.signal
            ),
        ),
    ];
    if let Some(s) = &p.storage {
        rows.push((
            "battery".into(),
            format!(
                "{} kWh at {} round trip: {} kWh to the jobs ({} at release)",
                fmt_num(s.capacity_kwh),
                fmt_num(s.round_trip),
                fmt_num(s.discharged_kwh),
                fmt_num(s.discharged_kwh_before)
            ),
        ));
    }
    rows.push((
        "method".into(),
        if p.exact {
            "exhaustive search: the optimum".into()
        } else {
            format!(
                "greedy + local search: within {} of the optimum (bound {})",
                percent(p.gap_fraction),
                percent(p.upper_bound_share)
            )
        },
    ));
    for j in &p.schedule {
        let s = j.slots[0];
        rows.push((
            j.name.clone(),
            format!("{}..{} (+{} h)", s.start, s.end, fmt_num(j.delay_h)),
        ));
    }
    let w = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut s: String = rows
        .iter()
        .map(|(k, v)| format!("{k:<w$}  {v}\n"))
        .collect();
    for n in &p.notes {
        s.push_str(&format!("note: {n}\n"));
    }
    s
}
