//! Planning: numbers a user can act on before the work runs (`wattlens plan ...`), built on the
//! same models and accounting core as the estimates.
//!
//! Carbon-aware windows (`wattlens plan window`): when to run a job of known duration and
//! constant IT power so that its carbon over an intensity series is lowest, and how much that
//! saves against starting at once. Checkpoints (`wattlens plan checkpoint`, [`checkpoint`]): how
//! often a training job should checkpoint, and what its interruptions cost.
//!
//! - [`ContiguousIndex`] (`window.rs`): the exact lowest-carbon contiguous window, from prefix
//!   integrals of the series, over any interval grid (gaps included).
//! - [`best_interruptible`] (`interruptible.rs`): an exact dynamic programme over the series'
//!   interval grid for jobs that may pause, under a minimum chunk and a maximum number of pauses.
//! - [`plan_window`] (`account.rs`): the chosen schedule and the baseline accounted through the
//!   runner and the accounting core ([`JobModel`], a [`crate::runner::Evaluate`]), so carbon is a
//!   `{p5, p50, p95}` range with the site's PUE; [`WindowPlan`] is the typed result
//!   (`wattlens.plan/v1`), [`WindowPlan::evaluate_on`] scores it on a realised series.
//! - [`ProfileJob`] (`profile.rs`): a recorded run's power profile (`run --json`) as the job,
//!   placed at the exact lowest-carbon start ([`Planner::plan_profile`]).
//! - [`chart`]: the terminal chart of a plan's window, the intensity curve with the slots marked.
//!
//! Where to run (`wattlens plan region`, [`region`]): the same work at each candidate region's
//! site plus moving its data there, and the region with the lowest total carbon.
//!
//! Matching flexible jobs to on-site renewables (`wattlens plan renewable`, [`renewable`]): the
//! schedule that puts the most job energy on the site's own supply, with a battery if any.

pub(crate) mod account;
pub mod chart;
pub mod checkpoint;
mod interruptible;
pub mod latency;
pub mod profile;
#[cfg(test)]
mod proptests;
pub mod region;
pub mod renewable;
mod window;

pub use account::{plan_window, JobModel, Planner};
pub use interruptible::{best_interruptible, Gridded, MAX_CELLS};
pub use profile::{ProfileInfo, ProfileJob, ShapeBin};
pub use window::ContiguousIndex;

use crate::field::{Field, Msg};
use crate::grid::{GridError, Signal};
use crate::uncertainty::{Percentiles, Range};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

/// The schema name of a plan's JSON object.
pub const PLAN_SCHEMA: &str = "wattlens.plan/v1";

/// A job to place in time.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    /// How long it runs (the sum of its chunks when interruptible).
    pub duration: SignedDuration,
    /// Its constant IT power, W (a range: each Monte Carlo sample draws one).
    pub power_w: Range,
    /// When it may start at the earliest (`None`: the series' start); the baseline starts here.
    pub earliest: Option<Timestamp>,
    /// When it must be done (`None`: the series' end).
    pub deadline: Option<Timestamp>,
    /// Whether and how it may pause.
    pub interruptible: Option<Interruptible>,
}

/// How an interruptible job may be cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interruptible {
    /// The shortest chunk it may run for (`None`: one interval of the series' grid).
    pub min_chunk: Option<SignedDuration>,
    /// The most pauses it may take (chunks - 1).
    pub max_pauses: usize,
}

/// One span the job runs in, `[start, end)` (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// Start, inclusive.
    pub start: Timestamp,
    /// End, exclusive.
    pub end: Timestamp,
}

impl Slot {
    /// `end - start`.
    #[must_use]
    pub fn duration(&self) -> SignedDuration {
        self.end.duration_since(self.start)
    }
}

impl Serialize for Slot {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Slot", 2)?;
        st.serialize_field("start", &shown(self.start).to_string())?;
        st.serialize_field("end", &shown(self.end).to_string())?;
        st.end()
    }
}

/// A schedule found by a search: its slots in time order and `∫ CI dt` over them.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    /// The slots, in time order, none touching another.
    pub slots: Vec<Slot>,
    /// `∫ CI dt` over the slots, g/kWh x h (grams per kW of constant power).
    pub cost_g_per_kw: f64,
}

impl Schedule {
    /// The time-weighted mean intensity over the slots, g/kWh.
    #[must_use]
    pub fn mean_intensity(&self) -> f64 {
        let h: f64 = self
            .slots
            .iter()
            .map(|s| s.duration().as_secs_f64() / 3600.0)
            .sum();
        if h > 0.0 {
            self.cost_g_per_kw / h
        } else {
            0.0
        }
    }
}

/// The planned job: its schedule and the baseline's, each accounted through the core.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WindowPlan {
    /// [`PLAN_SCHEMA`].
    pub schema: &'static str,
    /// The job's name (a row of a job file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The series planned on.
    pub series: String,
    /// Average or marginal.
    pub signal: Signal,
    /// The job's length, hours.
    pub duration_h: f64,
    /// The job's IT power, kW (P5/P50/P95 of its range).
    pub power_kw: Percentiles,
    /// The interruption rule, when the job may pause.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interruptible: Option<Rule>,
    /// The lowest-carbon schedule.
    pub slots: Vec<Slot>,
    /// Its carbon (location-based, facility energy), kgCO2e.
    pub carbon_kgco2e: Percentiles,
    /// Its time-weighted mean intensity, g/kWh.
    pub intensity_g_per_kwh: f64,
    /// The baseline: starting at the earliest start and running without a pause.
    pub baseline_slots: Vec<Slot>,
    /// The baseline's carbon, kgCO2e.
    pub baseline_carbon_kgco2e: Percentiles,
    /// The baseline's time-weighted mean intensity, g/kWh.
    pub baseline_intensity_g_per_kwh: f64,
    /// `baseline - schedule`, per sample on the same draws, kgCO2e.
    pub savings_kgco2e: Percentiles,
    /// `1 - schedule / baseline` (the same in every sample: PUE and power cancel).
    pub savings_fraction: f64,
    /// The schedule and baseline scored on a realised series ([`WindowPlan::evaluate_on`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realised: Option<Realised>,
    /// The recorded run whose power profile was planned (`--profile`), when one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileInfo>,
    /// Monte Carlo samples.
    pub samples: usize,
    /// What the reader should know (the grid used, a deadline cut to the series' end ...).
    pub notes: Vec<String>,
}

/// An interruptible job's rule, as the output says it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Rule {
    /// The shortest chunk, hours.
    pub min_chunk_h: f64,
    /// The most pauses (`None`, `null` in JSON: no limit).
    pub max_pauses: Option<usize>,
    /// Pauses the schedule takes.
    pub pauses: usize,
}

/// A plan scored on what really happened: the schedule chosen on a forecast and the baseline,
/// both on the realised series.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Realised {
    /// The realised series.
    pub series: String,
    /// The schedule's carbon on it, kgCO2e.
    pub carbon_kgco2e: Percentiles,
    /// The baseline's carbon on it, kgCO2e.
    pub baseline_carbon_kgco2e: Percentiles,
    /// `baseline - schedule` on it, kgCO2e.
    pub savings_kgco2e: Percentiles,
    /// `1 - schedule / baseline` on it: the saving the plan really gave.
    pub savings_fraction: f64,
}

/// Why a job cannot be planned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// An input the job cannot have (named by field).
    #[error("invalid value for {field}: {why}")]
    Invalid {
        /// The input at fault.
        field: Field,
        /// Why, in field terms.
        why: Msg,
    },
    /// The series cannot hold the job as asked.
    #[error("{0}")]
    Infeasible(Msg),
    /// The series (its coverage, a bin).
    #[error(transparent)]
    Grid(#[from] GridError),
    /// A candidate region's site cannot be resolved (an unknown region: the message names the
    /// closest catalog names).
    #[error("{0}")]
    Site(crate::estimate::EstimateError),
}

impl PlanError {
    /// The message with fields in the caller's words.
    #[must_use]
    pub fn render(&self, name: &dyn Fn(Field) -> String) -> String {
        match self {
            PlanError::Invalid { field, why } => {
                format!("invalid value for {}: {}", name(*field), why.render(name))
            }
            PlanError::Infeasible(m) => m.render(name),
            PlanError::Grid(e) => e.to_string(),
            // The region is the site's grid.
            PlanError::Site(e) => {
                e.render(&|f| name(if f == Field::Grid { Field::Regions } else { f }))
            }
        }
    }

    fn invalid(field: Field, why: impl Into<Msg>) -> Self {
        PlanError::Invalid {
            field,
            why: why.into(),
        }
    }
}

/// Nanoseconds since the epoch.
fn ns(t: Timestamp) -> i128 {
    t.as_nanosecond()
}

/// The timestamp `n` ns after the epoch (in range: it lies between two timestamps).
fn at(n: i128) -> Timestamp {
    Timestamp::from_nanosecond(n).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// A time as the output shows it: to the second.
fn shown(t: Timestamp) -> Timestamp {
    t.round(jiff::Unit::Second).unwrap_or(t)
}

/// A duration as the messages show it (`4h`, `30m`, `1h 30m`).
fn shown_duration(d: SignedDuration) -> String {
    let s = d.as_secs();
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    let mut parts = Vec::new();
    if h > 0 {
        parts.push(format!("{h}h"));
    }
    if m > 0 {
        parts.push(format!("{m}m"));
    }
    if sec > 0 || parts.is_empty() {
        parts.push(format!("{sec}s"));
    }
    parts.join(" ")
}

#[cfg(test)]
pub(crate) mod tests_support {
    use crate::grid::{IntensitySeries, Interval, Signal};
    use crate::units::GramsPerKwh;
    use jiff::{SignedDuration, Timestamp};

    /// `2024-03-04T00:00:00Z` plus `h` hours.
    pub(crate) fn t(h: f64) -> Timestamp {
        let base: Timestamp = "2024-03-04T00:00:00Z".parse().expect("timestamp");
        base + SignedDuration::from_secs_f64(h * 3600.0)
    }

    /// Hourly values from 00:00Z.
    pub(crate) fn hourly(values: &[f64]) -> IntensitySeries {
        rows(
            &values
                .iter()
                .enumerate()
                .map(|(i, &v)| (i as f64, i as f64 + 1.0, v))
                .collect::<Vec<_>>(),
        )
    }

    /// Intervals `[h0, h1)` with values.
    pub(crate) fn rows(rows: &[(f64, f64, f64)]) -> IntensitySeries {
        let ivs = rows
            .iter()
            .map(|&(a, b, v)| Interval::new(t(a), t(b), GramsPerKwh(v)))
            .collect();
        IntensitySeries::new("test", Signal::Average, ivs).expect("valid series")
    }

    /// Hours as a duration.
    pub(crate) fn hours(h: f64) -> SignedDuration {
        SignedDuration::from_secs_f64(h * 3600.0)
    }
}
