//! A plan's carbon through the accounting core: the job as a model ([`JobModel`]: constant IT
//! power for its duration) whose site carries the schedule's energy profile on the series
//! ([`PlacedSeries::profile`]), run by [`runner::run`]; the baseline alike, and the saving on the
//! same draws ([`runner::paired`]). [`plan_window`] checks the job, searches, and accounts.

use super::{
    shown, shown_duration, ContiguousIndex, Job, PlanError, Realised, Rule, Schedule, Slot,
    WindowPlan, PLAN_SCHEMA,
};
use crate::explain::{Step, StepSink};
use crate::field::{Field, Msg};
use crate::figure::Figure;
use crate::footprint::{Busy, Footprint, ItEnergy, Site};
use crate::grid::{EnergyBin, IntensitySeries, PlacedSeries, SeriesMean, Signal};
use crate::record::Record;
use crate::result::ReportKind;
use crate::runner::{self, Evaluate, McOptions, Usage};
use crate::uncertainty::{fmt_input, Draw, Percentiles, Range};
use crate::units::{Hours, Watts};
use jiff::Timestamp;

/// A job of constant IT power for a number of hours, at a site whose series holds its schedule.
#[derive(Clone, Debug)]
pub struct JobModel {
    /// IT power, W.
    pub power_w: Range,
    /// Hours it runs (the sum of its slots).
    pub hours: f64,
    /// The site, with the schedule's profile on the series in `series`.
    pub site: Site,
}

impl Evaluate for JobModel {
    type State = ();

    /// A planned job is accounted as a fleet of one constant IT power over its hours
    /// (`estimate fleet --it-power P --hours T` on the schedule's series); the report stays
    /// inside the plan.
    fn kind(&self) -> ReportKind {
        ReportKind::Fleet
    }
    fn site(&self) -> &Site {
        &self.site
    }
    /// The IT energy is not split by component.
    fn components(&self) -> &'static [Figure] {
        &[]
    }
    fn evaluate<T: StepSink>(&self, d: &mut Draw, t: &mut T, _: &mut Record<'_>) -> Usage<()> {
        let w = d.value(&self.power_w);
        let e = Watts(w) * Hours(self.hours);
        t.step(|| {
            Step::new(
                "job_energy",
                format!(
                    "E_it = P_it x T = {} W x {} h",
                    fmt_input(w),
                    fmt_input(self.hours)
                ),
                e.0,
                "kWh",
            )
        });
        Usage {
            it: ItEnergy {
                host: e,
                ..ItEnergy::default()
            },
            busy: Busy {
                accelerators: 0.0,
                servers: 0.0,
                period: Hours(self.hours),
            },
            state: (),
        }
    }
    fn finish<T: StepSink>(&self, (): (), fp: &Footprint, _: &mut T, rec: &mut Record<'_>) {
        rec.put(Figure::ItPower, fp.it.total().0 / self.hours);
    }
}

impl JobModel {
    /// The job run in `slots` at `site`, its carbon taken from `series` over those slots.
    ///
    /// # Errors
    /// [`crate::grid::GridError::Uncovered`] naming the first span of the slots the series does
    /// not cover.
    pub fn on(
        series: &IntensitySeries,
        slots: &[Slot],
        power_w: Range,
        site: &Site,
    ) -> Result<Self, PlanError> {
        let bins: Vec<EnergyBin> = slots
            .iter()
            .map(|s| EnergyBin::constant_power(s.start, s.duration(), Watts(1000.0)))
            .collect();
        let mean = SeriesMean::of(series, &bins)?;
        let placed = PlacedSeries::profile(series, &bins)?;
        let mut site = carbon_only(site);
        mean.apply(placed, &mut site, None, &mut Vec::new());
        let hours = slots
            .iter()
            .map(|s| s.duration().as_secs_f64())
            .sum::<f64>()
            / 3600.0;
        Ok(Self {
            power_w,
            hours,
            site,
        })
    }
}

/// `site` with every input that cannot move a plan's figures (location-based carbon and IT
/// power) held at its central value: water, price, the equivalents' inputs and the embodied
/// inputs (a planned job keeps no counted hardware busy, so its embodied carbon is 0 whatever
/// they are), and no market intensity. A point PUE and power then need one evaluation instead
/// of a Monte Carlo over ranges the plan never shows.
fn carbon_only(site: &Site) -> Site {
    let mut s = site.clone();
    for p in [
        &mut s.wue,
        &mut s.ewif,
        &mut s.price,
        &mut s.embodied.per_accelerator_kg,
        &mut s.embodied.per_server_kg,
        &mut s.embodied.service_life_h,
        &mut s.home_kwh_per_year,
        &mut s.car_g_per_km,
        &mut s.phone_charge_g,
    ] {
        p.range = Range::point(p.range.mid());
    }
    s.market_intensity = None;
    s
}

/// Carbon of the schedule and the baseline, and the saving on the same draws.
struct Scored {
    carbon: Percentiles,
    baseline: Percentiles,
    savings: Percentiles,
    power_kw: Percentiles,
    samples: usize,
}

fn score(chosen: &JobModel, baseline: &JobModel, opts: McOptions) -> Scored {
    let c = runner::run(chosen, opts, Vec::new());
    let b = runner::run(baseline, opts, Vec::new());
    let get = |r: &crate::result::Report, f| r.get(f).unwrap_or(Percentiles::point(0.0));
    let diff = runner::paired(&[baseline, chosen], opts);
    let d = diff
        .against_first
        .first()
        .and_then(|v| v.iter().find(|(f, _)| *f == Figure::Carbon))
        .map_or(Percentiles::point(0.0), |(_, p)| *p);
    Scored {
        carbon: get(&c, Figure::Carbon),
        baseline: get(&b, Figure::Carbon),
        // chosen - baseline, negated: baseline - chosen, its P5 from the difference's P95.
        savings: Percentiles {
            p5: -d.p95 + 0.0,
            p50: -d.p50 + 0.0,
            p95: -d.p5 + 0.0,
        },
        power_kw: get(&c, Figure::ItPower),
        samples: c.samples,
    }
}

/// `1 - chosen / baseline` of two mean intensities (0 without a baseline).
fn fraction(chosen: f64, baseline: f64) -> f64 {
    if baseline > 0.0 {
        1.0 - chosen / baseline
    } else {
        0.0
    }
}

/// Plans `job` on `series` at `site`: the lowest-carbon schedule within its window (contiguous,
/// or in chunks when interruptible), the baseline (contiguous from the earliest start), both
/// accounted through the core with `opts`.
///
/// # Errors
/// [`PlanError::Invalid`] naming the input at fault (a duration or power that is not positive,
/// a start outside the series, a deadline at or before the start, a job longer than the series
/// or its window); [`PlanError::Infeasible`] when no schedule fits; [`PlanError::Grid`] when the
/// series does not cover the baseline.
pub fn plan_window(
    series: &IntensitySeries,
    job: &Job,
    site: &Site,
    opts: McOptions,
) -> Result<WindowPlan, PlanError> {
    Planner::new(series).plan(job, site, opts)
}

/// A series ready for many jobs: its prefix integrals ([`ContiguousIndex`]) are built once, so
/// each contiguous job costs only its own window.
#[derive(Clone, Debug)]
pub struct Planner<'a> {
    series: &'a IntensitySeries,
    index: ContiguousIndex,
}

impl<'a> Planner<'a> {
    /// The planner of `series`, in `O(n)`.
    #[must_use]
    pub fn new(series: &'a IntensitySeries) -> Self {
        Self {
            series,
            index: ContiguousIndex::new(series),
        }
    }

    /// [`plan_window`] on this planner's series.
    ///
    /// # Errors
    /// Those of [`plan_window`].
    pub fn plan(&self, job: &Job, site: &Site, opts: McOptions) -> Result<WindowPlan, PlanError> {
        plan(self.series, &self.index, job, site, opts)
    }
}

fn plan(
    series: &IntensitySeries,
    index: &ContiguousIndex,
    job: &Job,
    site: &Site,
    opts: McOptions,
) -> Result<WindowPlan, PlanError> {
    let d = job.duration;
    if !d.is_positive() {
        return Err(PlanError::invalid(
            Field::Duration,
            "a job's duration must be positive",
        ));
    }
    let p = job.power_w;
    if !(p.lo.is_finite() && p.hi.is_finite() && p.lo > 0.0) {
        return Err(PlanError::invalid(
            Field::Power,
            "a job's IT power must be positive",
        ));
    }
    let (s0, s1) = (series.start(), series.end());
    let span = |a: Timestamp, b: Timestamp| format!("{}..{}", shown(a), shown(b));
    let earliest = job.earliest.unwrap_or(s0);
    if earliest < s0 || earliest >= s1 {
        return Err(PlanError::invalid(
            Field::Start,
            format!(
                "{} is outside the series {} ({})",
                shown(earliest),
                series.source(),
                span(s0, s1)
            ),
        ));
    }
    if d > s1.duration_since(s0) {
        return Err(PlanError::invalid(
            Field::Duration,
            format!(
                "the job of {} is longer than the series {} ({})",
                shown_duration(d),
                series.source(),
                span(s0, s1)
            ),
        ));
    }
    let mut notes = Vec::new();
    let latest_end = match job.deadline {
        Some(dl) if dl <= earliest => {
            return Err(PlanError::invalid(
                Field::Deadline,
                format!(
                    "{} is at or before the start, {}",
                    shown(dl),
                    shown(earliest)
                ),
            ))
        }
        Some(dl) if dl > s1 => {
            notes.push(format!(
                "the deadline {} is after the series ends: the job is planned to end by {}",
                shown(dl),
                shown(s1)
            ));
            s1
        }
        Some(dl) => dl,
        None => s1,
    };
    if latest_end.duration_since(earliest) < d {
        let field = if job.deadline.is_some_and(|dl| dl < s1) {
            Field::Deadline
        } else {
            Field::Duration
        };
        return Err(PlanError::invalid(
            field,
            format!(
                "the job of {} does not fit in {} (from the start to the {})",
                shown_duration(d),
                span(earliest, latest_end),
                if field == Field::Deadline {
                    "deadline"
                } else {
                    "series' end"
                }
            ),
        ));
    }
    // The baseline: at once, without a pause (its uncovered span is named).
    let baseline = Schedule {
        slots: vec![Slot {
            start: earliest,
            end: earliest + d,
        }],
        cost_g_per_kw: series
            .carbon(&[EnergyBin::constant_power(earliest, d, Watts(1000.0))])?
            .carbon
            .value(),
    };
    let (chosen, rule) = match job.interruptible {
        None => {
            let best = index.best(earliest, latest_end, d).ok_or_else(|| {
                PlanError::Infeasible(Msg::new(format!(
                    "no gap-free span of {} in the series between {}",
                    shown_duration(d),
                    span(earliest, latest_end)
                )))
            })?;
            (best, None)
        }
        Some(r) => {
            let g = super::best_interruptible(series, earliest, latest_end, d, r)?;
            notes.push(format!(
                "an interruptible job runs in whole intervals of the series' {} grid{}",
                shown_duration(g.step),
                if g.resampled {
                    " (the series was resampled to its shortest interval)"
                } else {
                    ""
                }
            ));
            let pauses = g.schedule.slots.len().saturating_sub(1);
            let rule = Rule {
                min_chunk_h: r.min_chunk.unwrap_or(g.step).as_secs_f64() / 3600.0,
                max_pauses: (r.max_pauses != usize::MAX).then_some(r.max_pauses),
                pauses,
            };
            (g.schedule, Some(rule))
        }
    };
    if series.signal() == Signal::Marginal {
        notes.push(
            "marginal signal: the carbon is what the job's load changes on the grid, not its \
             share of the grid's emissions"
                .into(),
        );
    }
    let c = JobModel::on(series, &chosen.slots, p, site)?;
    let b = JobModel::on(series, &baseline.slots, p, site)?;
    let s = score(&c, &b, opts);
    Ok(WindowPlan {
        schema: PLAN_SCHEMA,
        name: None,
        series: series.source().to_string(),
        signal: series.signal(),
        duration_h: d.as_secs_f64() / 3600.0,
        power_kw: s.power_kw,
        interruptible: rule,
        intensity_g_per_kwh: chosen.mean_intensity(),
        baseline_intensity_g_per_kwh: baseline.mean_intensity(),
        savings_fraction: fraction(chosen.mean_intensity(), baseline.mean_intensity()),
        slots: chosen.slots,
        carbon_kgco2e: s.carbon,
        baseline_slots: baseline.slots,
        baseline_carbon_kgco2e: s.baseline,
        savings_kgco2e: s.savings,
        realised: None,
        samples: s.samples,
        notes,
    })
}

impl WindowPlan {
    /// Scores the schedule and the baseline on `actual` (the realised series of the forecast
    /// planned on) at the same site and power: what the plan really saved. Sets
    /// [`WindowPlan::realised`].
    ///
    /// # Errors
    /// [`PlanError::Infeasible`] when `actual` is of another signal; [`PlanError::Grid`] naming a
    /// span of the schedule or baseline that `actual` does not cover.
    pub fn evaluate_on(
        &mut self,
        actual: &IntensitySeries,
        power_w: Range,
        site: &Site,
        opts: McOptions,
    ) -> Result<&Realised, PlanError> {
        if actual.signal() != self.signal {
            return Err(PlanError::Infeasible(Msg::new(format!(
                "the realised series {} is a {} signal and the plan's a {} one: they are never \
                 mixed",
                actual.source(),
                actual.signal(),
                self.signal
            ))));
        }
        let c = JobModel::on(actual, &self.slots, power_w, site)?;
        let b = JobModel::on(actual, &self.baseline_slots, power_w, site)?;
        let mean = |m: &JobModel| m.site.intensity.range.mid().value();
        let fraction = fraction(mean(&c), mean(&b));
        let s = score(&c, &b, opts);
        Ok(self.realised.insert(Realised {
            series: actual.source().to_string(),
            carbon_kgco2e: s.carbon,
            baseline_carbon_kgco2e: s.baseline,
            savings_kgco2e: s.savings,
            savings_fraction: fraction,
        }))
    }
}

#[cfg(test)]
#[path = "account_tests.rs"]
mod tests;
