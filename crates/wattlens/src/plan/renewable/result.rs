//! The typed result of `plan renewable` (`wattlens.plan/v1`), serialised as the JSON object.

use crate::grid::Signal;
use crate::plan::Slot;
use crate::uncertainty::Percentiles;
use serde::Serialize;

/// The plan (`wattlens.plan/v1`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RenewablePlan {
    /// [`crate::plan::PLAN_SCHEMA`].
    pub schema: &'static str,
    /// The supply planned on.
    pub supply: String,
    /// The other load.
    pub other_load: String,
    /// The plan's cell, minutes (the steps and durations' greatest common divisor).
    pub step_minutes: f64,
    /// The PUE applied to the jobs' IT power.
    pub pue: f64,
    /// The jobs' energy at the site (IT x PUE), kWh.
    pub job_energy_kwh: f64,
    /// Renewable energy left after the other load over the supply's span, kWh.
    pub renewable_available_kwh: f64,
    /// Share of the job energy met on site with every job at its release.
    pub renewable_share_before: f64,
    /// Share of the job energy met on site with the schedule.
    pub renewable_share_after: f64,
    /// Job energy met on site, before, kWh.
    pub on_site_kwh_before: f64,
    /// Job energy met on site, after, kWh.
    pub on_site_kwh_after: f64,
    /// Grid energy the schedule avoids against the baseline, kWh.
    pub grid_energy_avoided_kwh: f64,
    /// Grid carbon the schedule avoids: the baseline's less the schedule's, on the same draws,
    /// kgCO2e.
    pub carbon_avoided_kgco2e: Percentiles,
    /// The baseline's grid energy, kWh (the jobs' and none of the other load's).
    pub grid_energy_kwh_before: f64,
    /// The schedule's grid energy, kWh.
    pub grid_energy_kwh_after: f64,
    /// The baseline's grid carbon, kgCO2e.
    pub grid_carbon_kgco2e_before: Percentiles,
    /// The schedule's grid carbon, kgCO2e.
    pub grid_carbon_kgco2e_after: Percentiles,
    /// The intensity used (a series, or the site's annual intensity and its source).
    pub carbon_basis: String,
    /// Average or marginal.
    pub signal: Signal,
    /// The battery, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<StorageUse>,
    /// `exhaustive` (the optimum) or `greedy_local_search` (within `gap_fraction` of it).
    pub method: &'static str,
    /// Whether the schedule is proven optimal.
    pub exact: bool,
    /// The most any schedule could put on site, as a share of the job energy (an upper bound).
    pub upper_bound_share: f64,
    /// `1 - after / bound`: the schedule is within this fraction of the optimum.
    pub gap_fraction: f64,
    /// Per job, in file order.
    pub schedule: Vec<Scheduled>,
    /// Monte Carlo samples of the carbon (1 when every input is a point).
    pub samples: usize,
    /// What the reader should know.
    pub notes: Vec<String>,
}

/// The battery's use.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct StorageUse {
    /// Usable capacity, kWh.
    pub capacity_kwh: f64,
    /// Round-trip efficiency.
    pub round_trip: f64,
    /// Charge/discharge power limit, kW (`null`: none).
    pub power_kw: Option<f64>,
    /// Surplus drawn in with the schedule, kWh.
    pub charged_kwh: f64,
    /// Given to the jobs with the schedule (throughput), kWh.
    pub discharged_kwh: f64,
    /// Given to the jobs in the baseline, kWh.
    pub discharged_kwh_before: f64,
}

/// A job's place in the schedule.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scheduled {
    /// Its name.
    pub name: String,
    /// Where it runs (one slot: jobs do not pause).
    pub slots: Vec<Slot>,
    /// Hours after its release it starts.
    pub delay_h: f64,
    /// Its energy at the site, kWh.
    pub energy_kwh: f64,
}
