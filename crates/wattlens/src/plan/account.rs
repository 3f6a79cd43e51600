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
        let hours = slots
            .iter()
            .map(|s| s.duration().as_secs_f64())
            .sum::<f64>()
            / 3600.0;
        Self::on_bins(series, &bins, power_w, hours, site)
    }

    /// The job of mean IT power `power_w` over `hours` whose energy has the shape of `bins`
    /// (their energy-weighted mean intensity on `series` is the site's): a recorded run's
    /// profile placed at a start, or constant power over slots.
    ///
    /// # Errors
    /// Those of [`JobModel::on`].
    pub(crate) fn on_bins(
        series: &IntensitySeries,
        bins: &[EnergyBin],
        power_w: Range,
        hours: f64,
        site: &Site,
    ) -> Result<Self, PlanError> {
        let mean = SeriesMean::of(series, bins)?;
        let placed = PlacedSeries::profile(series, bins)?;
        let mut site = carbon_only(site);
        mean.apply(placed, &mut site, None, &mut Vec::new());
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
pub(crate) fn carbon_only(site: &Site) -> Site {
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
pub(super) struct Scored {
    pub(super) carbon: Percentiles,
    pub(super) baseline: Percentiles,
    pub(super) savings: Percentiles,
    pub(super) power_kw: Percentiles,
    pub(super) samples: usize,
}

pub(super) fn score(
    chosen: &JobModel,
    baseline: &JobModel,
    opts: McOptions,
    units: &Units,
) -> Scored {
    // Only the power and the PUE are drawn (`carbon_only`; the intensity of a placed profile
    // is its mean), so a schedule's carbon is `P x PUE x hours x mean intensity`: one Monte
    // Carlo of a one-hour job's facility energy (`P x PUE`, kWh), scaled by each schedule's
    // `hours x mean` (g/kWh x h), gives every percentile; the saving is the same draws scaled by
    // the difference, so it is paired by construction. A point power scales a 1 W job's.
    let (unit_kwh, power_kw, samples) = units.get(chosen, opts);
    let exposure = |m: &JobModel| m.hours * m.site.intensity.range.mid().value() / 1000.0;
    // Monte Carlo percentiles carry 7 significant digits (as the runner's); points stay exact.
    let tidy = |x: f64| {
        if samples > 1 && x != 0.0 && x.is_finite() {
            format!("{x:.6e}").parse().unwrap_or(x)
        } else {
            x + 0.0
        }
    };
    // `k2 x unit - k1 x unit` per percentile: the same draw scaled by each exposure (the saving
    // of every draw is `(k2 - k1) x unit`, so its percentiles are these, in order).
    let scaled = |k2: f64, k1: f64| {
        let at = |u: f64| k2 * u - k1 * u;
        let (a, b) = (at(unit_kwh.p5), at(unit_kwh.p95));
        Percentiles {
            p5: tidy(a.min(b)),
            p50: tidy(at(unit_kwh.p50)),
            p95: tidy(a.max(b)),
        }
    };
    let (c, b) = (exposure(chosen), exposure(baseline));
    Scored {
        carbon: scaled(c, 0.0),
        baseline: scaled(b, 0.0),
        savings: scaled(b, c),
        power_kw,
        samples,
    }
}

/// One-hour jobs' facility energy and power by power range and site PUE, so that a queue of
/// jobs at one site needs one Monte Carlo per distinct power range (one for all point powers).
#[derive(Debug, Default)]
pub(crate) struct Units(std::cell::RefCell<Vec<(UnitKey, Unit)>>);

/// A one-hour job's facility energy (kWh), IT power (kW) and samples.
type Unit = (Percentiles, Percentiles, usize);

/// What a unit job's draws depend on: the power range (`1 W` for any point power), the PUE
/// range and the sampling options.
type UnitKey = ([u64; 2], [u64; 2], usize, u64, usize);

impl Units {
    /// The facility energy (kWh) and IT power (kW) of `job` running one hour, and the samples.
    fn get(&self, job: &JobModel, opts: McOptions) -> Unit {
        let point = job.power_w.is_point();
        let power = if point {
            Range::point(1.0)
        } else {
            job.power_w
        };
        let pue = job.site.pue.range;
        let key: UnitKey = (
            [power.lo.to_bits(), power.hi.to_bits()],
            [pue.lo.to_bits(), pue.hi.to_bits()],
            opts.samples,
            opts.seed,
            opts.threads,
        );
        let found = self
            .0
            .borrow()
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v);
        let (e, w, n) = found.unwrap_or_else(|| {
            let unit = JobModel {
                power_w: power,
                hours: 1.0,
                site: job.site.clone(),
            };
            let r = runner::run(&unit, opts, Vec::new());
            let get = |f| r.get(f).unwrap_or(Percentiles::point(0.0));
            let v = (get(Figure::FacilityEnergy), get(Figure::ItPower), r.samples);
            self.0.borrow_mut().push((key, v));
            v
        });
        if point {
            let k = job.power_w.lo;
            let s = |p: Percentiles| Percentiles {
                p5: p.p5 * k,
                p50: p.p50 * k,
                p95: p.p95 * k,
            };
            (s(e), s(w), n)
        } else {
            (e, w, n)
        }
    }
}

/// `1 - chosen / baseline` of two mean intensities (0 without a baseline).
pub(super) fn fraction(chosen: f64, baseline: f64) -> f64 {
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
#[derive(Debug)]
pub struct Planner<'a> {
    pub(super) series: &'a IntensitySeries,
    pub(super) index: ContiguousIndex,
    pub(super) units: Units,
}

impl<'a> Planner<'a> {
    /// The planner of `series`, in `O(n)`.
    #[must_use]
    pub fn new(series: &'a IntensitySeries) -> Self {
        Self {
            series,
            index: ContiguousIndex::new(series),
            units: Units::default(),
        }
    }

    /// [`plan_window`] on this planner's series.
    ///
    /// # Errors
    /// Those of [`plan_window`].
    pub fn plan(&self, job: &Job, site: &Site, opts: McOptions) -> Result<WindowPlan, PlanError> {
        plan(self.series, &self.index, &self.units, job, site, opts)
    }
}

/// The latest a job may end: its deadline, refused at or before `earliest`, and clamped (with
/// a note) to `s1`, the end of the series; `s1` without a deadline. One rule for a job of a
/// length (`plan window`) and for a recorded run's profile (`plan window --profile`).
///
/// # Errors
/// [`PlanError`] naming `--deadline` when it is at or before the start.
pub(super) fn latest_end(
    deadline: Option<Timestamp>,
    earliest: Timestamp,
    s1: Timestamp,
    notes: &mut Vec<String>,
) -> Result<Timestamp, PlanError> {
    match deadline {
        Some(dl) if dl <= earliest => Err(PlanError::invalid(
            Field::Deadline,
            format!(
                "{} is at or before the start, {}",
                shown(dl),
                shown(earliest)
            ),
        )),
        Some(dl) if dl > s1 => {
            notes.push(format!(
                "the deadline {} is after the series ends: the job is planned to end by {}",
                shown(dl),
                shown(s1)
            ));
            Ok(s1)
        }
        Some(dl) => Ok(dl),
        None => Ok(s1),
    }
}

fn plan(
    series: &IntensitySeries,
    index: &ContiguousIndex,
    units: &Units,
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
    if let Err(e) = crate::limits::check(Field::Power, p) {
        return Err(PlanError::invalid(Field::Power, e.to_string()));
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
    let latest_end = latest_end(job.deadline, earliest, s1, &mut notes)?;
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
    let s = score(&c, &b, opts, units);
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
        profile: None,
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
        let s = score(&c, &b, opts, &Units::default());
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
