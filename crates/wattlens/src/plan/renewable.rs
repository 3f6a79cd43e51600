//! Matching flexible jobs to on-site renewables (`wattlens plan renewable`): a site's renewable
//! supply, its other (inflexible) load, an optional battery and a queue of jobs with release
//! times and deadlines -> the schedule that puts the most job energy on site, the renewable
//! share before (every job at its release) and after, the grid energy and carbon avoided, and
//! an upper bound on what any schedule could reach (`docs/models.md` section 13).
//!
//! - [`profile`]: the supply and other load as kW on a fixed step (CSV or a shipped forecast).
//! - [`dispatch`]: the battery's greedy dispatch for a fixed schedule (optimal).
//! - [`carbon`]: the grid carbon before and after through the accounting core.
//! - [`search`]: exhaustive search on small instances (exact), else greedy placement and local
//!   improvement; [`bound`]: the upper bound that gives the heuristic's gap.

pub mod bound;
pub mod carbon;
pub mod dispatch;
pub mod profile;
mod result;
pub mod search;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_offgrid;

pub use dispatch::Storage;
pub use profile::{parse_profile, shipped_supply, Profile, ShippedSupply, SHIPPED_SUPPLY};
pub use result::{RenewablePlan, Scheduled, StorageUse};

use super::{Slot, PLAN_SCHEMA};
use crate::footprint::Site;
use crate::grid::{IntensitySeries, Signal};
use crate::runner::McOptions;
use jiff::{SignedDuration, Timestamp};
use search::{CellJob, Instance};

/// Most cells the plan's grid may have (the greatest common divisor of the steps and the jobs'
/// durations, releases and deadlines over the supply's span).
pub const MAX_CELLS: usize = 2_000_000;

/// Local improvement passes after the greedy placement.
pub const PASSES: usize = 8;

/// Cells the heuristic may look at before it stops trying further starting points (the first
/// always runs): about 0.1 s on one core.
pub const BUDGET: u64 = 40_000_000;

/// Cells the battery's polish may look at (each candidate evaluates the whole schedule with the
/// battery dispatched): about 0.06 s on one core.
pub const POLISH_BUDGET: u64 = 10_000_000;

/// Why a renewable plan cannot be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenewError {
    /// A row of a profile file.
    #[error("{origin}: line {line}: {why}")]
    Line {
        /// The file.
        origin: String,
        /// The line (1-based; the header is line 1).
        line: u64,
        /// What is wrong and what to do.
        why: String,
    },
    /// A profile file as a whole.
    #[error("{origin}: {why}")]
    File {
        /// The file.
        origin: String,
        /// What is wrong and what to do.
        why: String,
    },
    /// A job of the queue (0-based, in the queue's order).
    #[error("job {index}: {why}")]
    Job {
        /// The job's place in the queue.
        index: usize,
        /// What is wrong and what to do.
        why: String,
    },
    /// The other load (its profile does not cover the supply's span).
    #[error("{0}")]
    OtherLoad(String),
    /// The grid intensity series (it does not cover a cell the plan changes).
    #[error("{0}")]
    Series(String),
    /// Another input (storage, capacity, the cell grid).
    #[error("{0}")]
    Invalid(String),
}

/// The site's other load: met first by the supply, never moved.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum OtherLoad {
    /// None.
    None,
    /// A constant load, kW.
    Constant(f64),
    /// A profile, resampled (piecewise constant, exact) onto the plan's cells; it must cover
    /// the supply's span.
    Profile(Profile),
}

/// A flexible job.
#[derive(Clone, Debug, PartialEq)]
pub struct RenewJob {
    /// Its name.
    pub name: String,
    /// How long it runs, without a pause (whole seconds).
    pub duration: SignedDuration,
    /// Its IT power, kW (> 0); the site's load is this x PUE.
    pub power_kw: f64,
    /// When it may start (`None`: the supply's start); the baseline starts it here.
    pub release: Option<Timestamp>,
    /// When it must be done (`None`: the supply's end; a later one is cut to it, with a note).
    pub deadline: Option<Timestamp>,
}

/// What a plan is made of.
#[derive(Clone, Debug, PartialEq)]
pub struct RenewInputs {
    /// The renewable supply, kW.
    pub supply: Profile,
    /// The other load.
    pub other: OtherLoad,
    /// The battery.
    pub storage: Option<Storage>,
    /// The jobs, in file order.
    pub jobs: Vec<RenewJob>,
    /// The site's PUE (>= 1): a job's load at the site is its IT power x PUE.
    pub pue: f64,
}

/// What the grid energy's carbon is accounted with.
#[derive(Clone, Copy, Debug)]
pub struct GridCarbon<'a> {
    /// The site: its location-based intensity (annual, a range drawn by the runner) when there
    /// is no series; its PUE is not used (the jobs' load already holds [`RenewInputs::pue`]).
    pub site: &'a Site,
    /// The intensity over time: each cell's grid energy at the series over that cell.
    pub series: Option<&'a IntensitySeries>,
    /// Monte Carlo options.
    pub opts: McOptions,
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a.abs()
    } else {
        gcd(b, a % b)
    }
}

/// Plans the jobs (see the module's page).
///
/// # Errors
/// [`RenewError`]: a job that is not whole seconds long, released before the supply starts,
/// with its deadline at or before its release, longer than its window or than the supply; an
/// other-load profile that does not cover the supply; a battery with a capacity < 0, a
/// round-trip outside (0, 1] or a power <= 0; a grid finer than [`MAX_CELLS`]; a series that does
/// not cover a cell whose grid energy the plan changes.
#[allow(clippy::too_many_lines)]
pub fn plan_renewable(i: &RenewInputs, grid: GridCarbon<'_>) -> Result<RenewablePlan, RenewError> {
    let sup = &i.supply;
    let mut notes = Vec::new();
    if let Some(s) = &i.storage {
        if !(s.capacity_kwh.is_finite() && s.capacity_kwh >= 0.0) {
            return Err(RenewError::Invalid(format!(
                "storage capacity {} kWh must be a finite number >= 0",
                s.capacity_kwh
            )));
        }
        if !(s.round_trip > 0.0 && s.round_trip <= 1.0) {
            return Err(RenewError::Invalid(format!(
                "round-trip efficiency {} is outside (0, 1]",
                s.round_trip
            )));
        }
        if s.power_kw.is_some_and(|p| !(p.is_finite() && p > 0.0)) {
            return Err(RenewError::Invalid(
                "storage power must be a finite number > 0 kW".into(),
            ));
        }
    }
    if !(i.pue.is_finite() && i.pue >= 1.0) {
        return Err(RenewError::Invalid(format!("PUE {} must be >= 1", i.pue)));
    }
    // The cell: the gcd of the supply's step, the other load's step and offset, and every
    // job's duration, release offset and deadline offset, in seconds (so that no window is
    // rounded, and a job's schedule never depends on another job's length).
    let mut cell = sup.step.as_secs();
    if let OtherLoad::Profile(o) = &i.other {
        if o.start > sup.start || o.end() < sup.end() {
            return Err(RenewError::OtherLoad(format!(
                "{} covers {}..{}, not the whole supply ({}..{}); give the other load over the \
                 supply's whole span",
                o.origin,
                o.start,
                o.end(),
                sup.start,
                sup.end()
            )));
        }
        cell = gcd(cell, o.step.as_secs());
        cell = gcd(cell, sup.start.duration_since(o.start).as_secs());
        if o.step != sup.step || o.start != sup.start {
            notes.push(format!(
                "the other load (step {}) is resampled onto the supply's grid (step {}), as \
                 constant over each of its own steps",
                super::shown_duration(o.step),
                super::shown_duration(sup.step)
            ));
        }
    }
    for (k, j) in i.jobs.iter().enumerate() {
        let job_err = |why: String| RenewError::Job { index: k, why };
        if j.duration.subsec_nanos() != 0 || j.duration.as_secs() <= 0 {
            return Err(job_err(format!(
                "duration {} must be a positive whole number of seconds",
                j.duration
            )));
        }
        if !(j.power_kw.is_finite() && j.power_kw > 0.0) {
            return Err(job_err(format!("power {} kW must be > 0", j.power_kw)));
        }
        cell = gcd(cell, j.duration.as_secs());
        for (what, at) in [("earliest", j.release), ("deadline", j.deadline)] {
            let Some(at) = at else { continue };
            let off = at.duration_since(sup.start);
            if off.subsec_nanos() != 0 {
                return Err(job_err(format!(
                    "{what} {at} is not on a whole second; give whole seconds"
                )));
            }
            // Offsets outside the supply are refused or cut below; they must not shrink the
            // grid.
            if at > sup.start && at < sup.end() {
                cell = gcd(cell, off.as_secs());
            }
        }
    }
    let span = sup.end().duration_since(sup.start).as_secs();
    let n = usize::try_from(span / cell).unwrap_or(usize::MAX);
    if n > MAX_CELLS {
        return Err(RenewError::Invalid(format!(
            "the supply's step and the jobs' durations, releases and deadlines only share a \
             grid of {}, {n} cells over the supply (at most {MAX_CELLS}); round them to whole \
             steps of the supply",
            super::shown_duration(SignedDuration::from_secs(cell))
        )));
    }
    let step = SignedDuration::from_secs(cell);
    let dt_h = cell as f64 / 3600.0;
    let t_of = |c: usize| sup.start + SignedDuration::from_secs(cell * c as i64);
    let avail: Vec<f64> = (0..n)
        .map(|c| {
            let t = t_of(c);
            let s = sup.at(t).unwrap_or(0.0);
            let o = match &i.other {
                OtherLoad::None => 0.0,
                OtherLoad::Constant(k) => *k,
                OtherLoad::Profile(p) => p.at(t).unwrap_or(0.0),
            };
            (s - o).max(0.0)
        })
        .collect();
    // Jobs onto cells.
    let mut jobs = Vec::with_capacity(i.jobs.len());
    let mut cut = 0;
    for (k, j) in i.jobs.iter().enumerate() {
        let job_err = |why: String| RenewError::Job { index: k, why };
        let len = usize::try_from(j.duration.as_secs() / cell).unwrap_or(usize::MAX);
        let release = j.release.unwrap_or(sup.start);
        if release < sup.start {
            return Err(job_err(format!(
                "earliest {release} is before the supply starts ({}); the supply must cover \
                 every job's window",
                sup.start
            )));
        }
        if release >= sup.end() {
            return Err(job_err(format!(
                "earliest {release} is at or after the supply ends ({}); the supply must cover \
                 every job's window",
                sup.end()
            )));
        }
        let mut deadline = j.deadline.unwrap_or(sup.end());
        if deadline <= release {
            return Err(job_err(format!(
                "deadline {deadline} is at or before its earliest start {release}"
            )));
        }
        if deadline > sup.end() {
            deadline = sup.end();
            cut += 1;
        }
        if len > n {
            return Err(job_err(format!(
                "it runs {}, longer than the supply ({}..{})",
                super::shown_duration(j.duration),
                sup.start,
                sup.end()
            )));
        }
        let off = release.duration_since(sup.start).as_secs();
        // Every release and deadline inside the supply is on the grid: no rounding.
        let first = usize::try_from(off / cell).unwrap_or(usize::MAX);
        let end = usize::try_from(deadline.duration_since(sup.start).as_secs() / cell)
            .unwrap_or(0)
            .min(n);
        if first + len > end {
            return Err(job_err(format!(
                "it runs {}, longer than its window {release}..{deadline}",
                super::shown_duration(j.duration)
            )));
        }
        jobs.push(CellJob {
            len,
            load_kw: j.power_kw * i.pue,
            first,
            last: end - len,
        });
    }
    if cut > 0 {
        notes.push(format!(
            "{cut} job(s) with a deadline after the supply ends ({}) must end by then",
            sup.end()
        ));
    }
    let inst = Instance {
        dt_h,
        avail_kw: avail,
        jobs,
        storage: i.storage,
    };
    let baseline: Vec<usize> = inst.jobs.iter().map(|j| j.first).collect();
    let (mut starts, exact) = match inst.exhaustive() {
        Some(s) => (s, true),
        None => {
            let mut s = inst.greedy_local(PASSES, BUDGET);
            inst.polish(&mut s, 3, POLISH_BUDGET);
            (s, false)
        }
    };
    let mut before_cells = Vec::new();
    let mut after_cells = Vec::new();
    let before = inst.on_site(&baseline, Some(&mut before_cells));
    let mut after = inst.on_site(&starts, Some(&mut after_cells));
    if after.total_kwh() < before.total_kwh() {
        // The search ignores the battery; the baseline is a schedule too.
        starts.clone_from(&baseline);
        after = before;
        after_cells.clone_from(&before_cells);
        notes.push("no schedule found beats starting every job at its release".into());
    }
    let energy: f64 = inst.jobs.iter().map(|j| j.energy_kwh(dt_h)).sum();
    let bound = bound::upper_bound(&inst).max(after.total_kwh());
    // On site <= the job energy in every cell; `min` only takes off the sums' rounding.
    let share = |x: f64| {
        if energy > 0.0 {
            (x / energy).min(1.0)
        } else {
            0.0
        }
    };
    // Below 1e-9 the gap is the bound's rounding head room, not a shortfall.
    let gap = if bound > 0.0 {
        let g = 1.0 - after.total_kwh() / bound;
        if g < 1e-9 {
            0.0
        } else {
            g
        }
    } else {
        0.0
    };
    // Grid energy per cell: the jobs' load less what is met on site.
    let (lb, la) = (inst.load(&baseline), inst.load(&starts));
    let grid_of = |l: &[f64], d: &[f64]| -> Vec<f64> {
        (0..n)
            .map(|t| {
                (l[t] * dt_h - inst.avail_kw[t].min(l[t]) * dt_h - d.get(t).copied().unwrap_or(0.0))
                    .max(0.0)
            })
            .collect()
    };
    let (gb, ga) = (grid_of(&lb, &before_cells), grid_of(&la, &after_cells));
    let (eb, ea) = (gb.iter().sum::<f64>(), ga.iter().sum::<f64>());
    let (bb, ba) = (
        carbon::bins(&gb, &t_of, step),
        carbon::bins(&ga, &t_of, step),
    );
    let c = carbon::grid_carbon(grid.site, grid.series, (&bb, eb), (&ba, ea), grid.opts)?;
    let (basis, signal) = match grid.series {
        Some(s) => (s.source().to_string(), s.signal()),
        None => (
            format!(
                "{} ({})",
                grid.site.intensity.range.display(),
                grid.site.intensity.source
            ),
            Signal::Average,
        ),
    };
    let schedule = i
        .jobs
        .iter()
        .zip(&inst.jobs)
        .zip(&starts)
        .map(|((j, c), &s)| {
            let start = t_of(s);
            Scheduled {
                name: j.name.clone(),
                slots: vec![Slot {
                    start,
                    end: start + j.duration,
                }],
                delay_h: start
                    .duration_since(j.release.unwrap_or(sup.start))
                    .as_secs_f64()
                    / 3600.0,
                energy_kwh: c.energy_kwh(dt_h),
            }
        })
        .collect();
    if i.storage.is_some() {
        notes.push(
            "the battery starts empty, charges only from the renewable surplus left after the \
             other load and the jobs, and gives energy only to the jobs"
                .into(),
        );
    }
    Ok(RenewablePlan {
        schema: PLAN_SCHEMA,
        supply: sup.origin.clone(),
        other_load: match &i.other {
            OtherLoad::None => "none".into(),
            OtherLoad::Constant(k) => format!("{k} kW constant"),
            OtherLoad::Profile(p) => p.origin.clone(),
        },
        step_minutes: dt_h * 60.0,
        pue: i.pue,
        job_energy_kwh: energy,
        renewable_available_kwh: inst.avail_kw.iter().sum::<f64>() * dt_h,
        renewable_share_before: share(before.total_kwh()),
        renewable_share_after: share(after.total_kwh()),
        on_site_kwh_before: before.total_kwh(),
        on_site_kwh_after: after.total_kwh(),
        grid_energy_avoided_kwh: after.total_kwh() - before.total_kwh(),
        carbon_avoided_kgco2e: c.avoided,
        grid_energy_kwh_before: eb,
        grid_energy_kwh_after: ea,
        grid_carbon_kgco2e_before: c.before,
        grid_carbon_kgco2e_after: c.after,
        carbon_basis: basis,
        signal,
        storage: i.storage.map(|s| StorageUse {
            capacity_kwh: s.capacity_kwh,
            round_trip: s.round_trip,
            power_kw: s.power_kw,
            charged_kwh: after.storage.charged_kwh,
            discharged_kwh: after.storage.discharged_kwh,
            discharged_kwh_before: before.storage.discharged_kwh,
        }),
        method: if exact {
            "exhaustive"
        } else {
            "greedy_local_search"
        },
        exact,
        upper_bound_share: share(bound),
        gap_fraction: if exact { 0.0 } else { gap },
        schedule,
        samples: c.samples,
        notes,
    })
}
