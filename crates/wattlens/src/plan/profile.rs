//! A recorded run's power profile as the job (`plan window --profile run.json`): its shape
//! placed at the exact lowest-carbon start, and accounted through the same core as a job of
//! constant power.
//!
//! The carbon of a start `s` is `f(s) = sum_b P_b x (I(s + e_b) - I(s + a_b))`, bin `b` of
//! energy `E_b` over `[a_b, e_b)` after the run's start, `P_b = E_b / (e_b - a_b)` and `I` the
//! series' prefix integral. `f` is piecewise linear in `s` with breakpoints where a bin edge
//! `s + a_b` or `s + e_b` meets a series boundary, so its minimum over the feasible starts of a
//! gap-free run `[tl, th]` lies at `tl`, `th` or a breakpoint `boundary - edge`. The search
//! sweeps every breakpoint in time order, carrying `f` and its slope `f'(s) = sum_j c_j x
//! CI(s + o_j)` (`c_j` the net power change at edge offset `o_j`): `O(E log m)` for `E` edges
//! x boundaries in the window and `m` edges (a heap merges each edge's boundaries), exact at
//! every start to the nanosecond (not only the grid's). The chosen start's carbon is then
//! recomputed bin by bin from the prefix integrals.

use super::account::{fraction, score, JobModel, Planner};
use super::window::TIE;
use super::{at, ns, shown, shown_duration, PlanError, Slot, WindowPlan, PLAN_SCHEMA};
use crate::field::{Field, Msg};
use crate::figure::Figure;
use crate::footprint::Site;
use crate::grid::{EnergyBin, Signal};
use crate::result::{Details, Report, ReportKind};
use crate::runner::McOptions;
use crate::uncertainty::{Percentiles, Range};
use crate::units::Joules;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// One bin of a profile job, relative to the job's start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ShapeBin {
    /// Start after the job's start.
    pub start: SignedDuration,
    /// End after the job's start.
    pub end: SignedDuration,
    /// IT energy in the bin, kWh.
    pub energy_kwh: f64,
}

/// A recorded run's power profile, as a job to place in time.
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileJob {
    /// The report it was read from (its file).
    pub source: String,
    /// The bins, the first starting at zero, scaled to sum to the run's P50 IT energy.
    pub bins: Vec<ShapeBin>,
    /// The run's IT energy, kWh (the report's `it_energy_kwh`).
    pub it_energy_kwh: Percentiles,
    /// When it may start at the earliest (`None`: the series' start); the baseline starts here.
    pub earliest: Option<Timestamp>,
    /// When it must be done (`None`: the series' end).
    pub deadline: Option<Timestamp>,
}

/// What a plan says about the recorded run it placed (`"profile"` in its JSON).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProfileInfo {
    /// The report's file.
    pub source: String,
    /// Bins in its profile.
    pub bins: usize,
    /// Its IT energy, kWh, which the bins are scaled to (P50).
    pub it_energy_kwh: Percentiles,
}

fn bad(why: String) -> PlanError {
    PlanError::Infeasible(Msg::new(why))
}

impl ProfileJob {
    /// The job of `report`'s power profile (a `wattlens run` report with a `profile`), read
    /// from `source`. The bins (measured CPU, memory and accelerators) are scaled to sum to the
    /// report's P50 IT energy, so the modelled rest of the server is spread in proportion; the
    /// first bin's start is the job's start.
    ///
    /// # Errors
    /// [`PlanError::Infeasible`] saying why: not a run, no or an empty profile, a bin that is
    /// not finite, ends before it starts, overlaps the one before or has negative energy, no
    /// energy, no IT energy figure.
    pub fn from_report(report: &Report, source: &str) -> Result<Self, PlanError> {
        if report.kind != ReportKind::Run {
            return Err(bad(format!(
                "{source} is the result of `estimate {}`, not of `wattlens run`: a profile to \
                 plan comes from a run's JSON (`wattlens run --json FILE -- COMMAND`)",
                report.kind
            )));
        }
        let points = match &report.details {
            Details::Run(r) => r.profile.as_slice(),
            _ => &[],
        };
        if points.is_empty() {
            return Err(bad(format!(
                "{source} has no power profile (its \"profile\" is missing or empty): record the \
                 run again with this version of wattlens (`wattlens run --json FILE`)"
            )));
        }
        let it = report
            .get(Figure::ItEnergy)
            .filter(|p| p.p5.is_finite() && p.p95.is_finite() && p.p5 > 0.0)
            .ok_or_else(|| bad(format!("{source} has no positive it_energy_kwh")))?;
        let zero = points[0].start_s;
        let mut prev_end = zero;
        let mut total = 0.0;
        for (i, p) in points.iter().enumerate() {
            let ok = p.start_s.is_finite()
                && p.end_s.is_finite()
                && p.energy_kwh.is_finite()
                && p.end_s > p.start_s
                && p.start_s >= prev_end
                && p.energy_kwh >= 0.0
                && p.end_s - zero < 1e9;
            if !ok {
                return Err(bad(format!(
                    "{source}: profile bin {} ({} s..{} s, {} kWh) is not a bin of a run: each \
                     ends after it starts, after the bin before, with energy >= 0",
                    i + 1,
                    p.start_s,
                    p.end_s,
                    p.energy_kwh
                )));
            }
            prev_end = p.end_s;
            total += p.energy_kwh;
        }
        if total <= 0.0 {
            return Err(bad(format!("{source}: the profile holds no energy")));
        }
        let k = it.p50 / total;
        let d = |s: f64| SignedDuration::from_secs_f64(s - zero);
        Ok(Self {
            source: source.to_string(),
            bins: points
                .iter()
                .map(|p| ShapeBin {
                    start: d(p.start_s),
                    end: d(p.end_s),
                    energy_kwh: p.energy_kwh * k,
                })
                .collect(),
            it_energy_kwh: it,
            earliest: None,
            deadline: None,
        })
    }

    /// From the job's start to its last bin's end.
    #[must_use]
    pub fn span(&self) -> SignedDuration {
        self.bins.last().map_or(SignedDuration::ZERO, |b| b.end)
    }

    /// The bins placed at `start`, as energy bins (IT energy).
    #[must_use]
    pub fn bins_at(&self, start: Timestamp) -> Vec<EnergyBin> {
        self.bins
            .iter()
            .map(|b| {
                EnergyBin::new(
                    start + b.start,
                    b.end - b.start,
                    Joules(b.energy_kwh * 3.6e6),
                )
            })
            .collect()
    }

    /// The IT energy a sample draws: uniform, centred on the run's P50, as wide as its P5..P95
    /// (not below 0), so the plan's middle is the run's P50 (a uniform draw between P5 and P95
    /// centred the plan on their mean, 1.5% above the run's P50 on a skewed run: a hostile
    /// test); a point when P5 = P95.
    fn energy(&self) -> Range {
        let e = self.it_energy_kwh;
        if e.p5 == e.p95 {
            Range::point(e.p50)
        } else {
            let h = (e.p95 - e.p5).abs() / 2.0;
            let lo = (e.p50 - h).max(0.0);
            // Keep the middle at P50 when the low end is clipped at 0.
            Range::new(lo, e.p50 + (e.p50 - lo))
        }
    }

    /// The mean IT power over `hours`, W: the energy a sample draws over the hours.
    fn mean_power_w(&self, hours: f64) -> Range {
        let e = self.energy();
        Range::new(e.lo * 1000.0 / hours, e.hi * 1000.0 / hours)
    }

    /// Edge offsets (ns) and the power change there (kWh per s), merged and in order.
    fn edges(&self) -> Vec<(i128, f64)> {
        let mut e: Vec<(i128, f64)> = Vec::with_capacity(2 * self.bins.len());
        for b in &self.bins {
            let p = b.energy_kwh / (b.end - b.start).as_secs_f64();
            e.push((b.start.as_nanos(), -p));
            e.push((b.end.as_nanos(), p));
        }
        e.sort_by_key(|x| x.0);
        let mut out: Vec<(i128, f64)> = Vec::with_capacity(e.len());
        for (o, c) in e {
            match out.last_mut() {
                Some(l) if l.0 == o => l.1 += c,
                _ => out.push((o, c)),
            }
        }
        out
    }
}

impl Planner<'_> {
    /// The carbon of `job` started at `start`, g of IT energy (`sum_b E_b x mean CI over the
    /// bin`); `None` when the series does not cover every bin.
    #[must_use]
    pub fn profile_cost(&self, job: &ProfileJob, start: Timestamp) -> Option<f64> {
        job.bins.iter().try_fold(0.0, |acc, b| {
            let h = (b.end - b.start).as_secs_f64() / 3600.0;
            Some(acc + b.energy_kwh / h * self.index.cost(start + b.start, b.end - b.start)?)
        })
    }

    /// The start in `[earliest, latest_end - span]` with the lowest carbon (the earliest of
    /// equal ones) and its carbon, g of IT energy: the sweep of the module's docs.
    #[must_use]
    pub fn best_profile_start(
        &self,
        job: &ProfileJob,
        earliest: Timestamp,
        latest_end: Timestamp,
    ) -> Option<(Timestamp, f64)> {
        let idx = &self.index;
        let d = job.span().as_nanos();
        let (lo, hi) = (ns(earliest), ns(latest_end) - d);
        if d <= 0 || hi < lo {
            return None;
        }
        let edges = job.edges();
        let n = idx.starts.len();
        let mut k = idx.ends.partition_point(|&e| e <= lo);
        let mut best: Option<(f64, i128)> = None;
        while k < n && idx.starts[k] <= hi {
            let a = k;
            let mut b = k + 1;
            while b < n && idx.starts[b] == idx.ends[b - 1] && idx.starts[b] < hi + d {
                b += 1;
            }
            let (tl, th) = (lo.max(idx.starts[a]), hi.min(idx.ends[b - 1] - d));
            if tl <= th {
                sweep(self, &edges, (a, b), (tl, th), &mut best);
            }
            k = b;
        }
        let (_, t) = best?;
        let start = at(t);
        Some((start, self.profile_cost(job, start)?))
    }

    /// Plans `job` on this planner's series at `site`: the lowest-carbon start and the
    /// baseline (starting at the earliest start), both accounted through the core with `opts`.
    ///
    /// # Errors
    /// [`PlanError::Invalid`] for a start outside the series or a deadline at or before it;
    /// [`PlanError::Infeasible`] for a profile longer than the series or the window, or no
    /// gap-free span that holds it; [`PlanError::Grid`] when the series does not cover the
    /// baseline.
    pub fn plan_profile(
        &self,
        job: &ProfileJob,
        site: &Site,
        opts: McOptions,
    ) -> Result<WindowPlan, PlanError> {
        let series = self.series;
        let d = job.span();
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
        let mut notes = vec![format!(
            "the job is the power profile of the run {} ({} bins over {} s), scaled to its IT \
             energy ({} kWh P50; the modelled rest of the server spread in proportion)",
            job.source,
            job.bins.len(),
            crate::uncertainty::fmt_num(d.as_secs_f64()),
            crate::uncertainty::fmt_num(job.it_energy_kwh.p50)
        )];
        let latest_end = super::account::latest_end(job.deadline, earliest, s1, &mut notes)?;
        if latest_end.duration_since(earliest) < d {
            return Err(bad(format!(
                "the recorded run {} lasts {}, longer than {} (from the start to the {})",
                job.source,
                shown_duration(d),
                span(earliest, latest_end),
                if job.deadline.is_some_and(|dl| dl < s1) {
                    "deadline"
                } else {
                    "series' end"
                }
            )));
        }
        let baseline_bins = job.bins_at(earliest);
        let baseline_g = series.carbon(&baseline_bins)?.carbon.value();
        let (start, chosen_g) = self
            .best_profile_start(job, earliest, latest_end)
            .ok_or_else(|| {
                bad(format!(
                    "no gap-free span of {} in the series between {}",
                    shown_duration(d),
                    span(earliest, latest_end)
                ))
            })?;
        if series.signal() == Signal::Marginal {
            notes.push(
                "marginal signal: the carbon is what the job's load changes on the grid, not \
                 its share of the grid's emissions"
                    .into(),
            );
        }
        let hours = d.as_secs_f64() / 3600.0;
        // Mean IT power over the span, W: the energy range over the hours.
        let power_w = job.mean_power_w(hours);
        let c = JobModel::on_bins(series, &job.bins_at(start), power_w, hours, site)?;
        let b = JobModel::on_bins(series, &baseline_bins, power_w, hours, site)?;
        let s = score(&c, &b, opts, &self.units);
        let total = job.bins.iter().map(|b| b.energy_kwh).sum::<f64>();
        let slot = |t: Timestamp| {
            vec![Slot {
                start: t,
                end: t + d,
            }]
        };
        Ok(WindowPlan {
            schema: PLAN_SCHEMA,
            name: None,
            series: series.source().to_string(),
            signal: series.signal(),
            duration_h: hours,
            power_kw: s.power_kw,
            interruptible: None,
            slots: slot(start),
            carbon_kgco2e: s.carbon,
            intensity_g_per_kwh: chosen_g / total,
            baseline_slots: slot(earliest),
            baseline_carbon_kgco2e: s.baseline,
            baseline_intensity_g_per_kwh: baseline_g / total,
            savings_kgco2e: s.savings,
            savings_fraction: fraction(chosen_g, baseline_g),
            realised: None,
            profile: Some(ProfileInfo {
                source: job.source.clone(),
                bins: job.bins.len(),
                it_energy_kwh: job.it_energy_kwh,
            }),
            samples: s.samples,
            notes,
        })
    }
}

impl WindowPlan {
    /// [`WindowPlan::evaluate_on`] for a plan of `job` ([`Planner::plan_profile`]): the
    /// profile at the chosen and the baseline start, scored on `actual`.
    ///
    /// # Errors
    /// Those of [`WindowPlan::evaluate_on`].
    pub fn evaluate_profile_on(
        &mut self,
        actual: &crate::grid::IntensitySeries,
        job: &ProfileJob,
        site: &Site,
        opts: McOptions,
    ) -> Result<&super::Realised, PlanError> {
        if actual.signal() != self.signal {
            return Err(bad(format!(
                "the realised series {} is a {} signal and the plan's a {} one: they are never \
                 mixed",
                actual.source(),
                actual.signal(),
                self.signal
            )));
        }
        let first = |s: &[Slot]| s.first().map_or(Timestamp::UNIX_EPOCH, |s| s.start);
        let (cb, bb) = (
            job.bins_at(first(&self.slots)),
            job.bins_at(first(&self.baseline_slots)),
        );
        let g = |bins: &[EnergyBin]| actual.carbon(bins).map(|c| c.carbon.value());
        let fraction = fraction(g(&cb)?, g(&bb)?);
        let hours = self.duration_h;
        let power_w = job.mean_power_w(hours);
        let c = JobModel::on_bins(actual, &cb, power_w, hours, site)?;
        let b = JobModel::on_bins(actual, &bb, power_w, hours, site)?;
        let s = score(&c, &b, opts, &super::account::Units::default());
        Ok(self.realised.insert(super::Realised {
            series: actual.source().to_string(),
            carbon_kgco2e: s.carbon,
            baseline_carbon_kgco2e: s.baseline,
            savings_kgco2e: s.savings,
            savings_fraction: fraction,
        }))
    }
}

/// The sweep over the feasible starts `[tl, th]` of the gap-free run `a..b` (see the module's
/// docs), keeping the lowest `f` (earliest of equal ones) in `best`.
fn sweep(
    p: &Planner<'_>,
    edges: &[(i128, f64)],
    (a, b): (usize, usize),
    (tl, th): (i128, i128),
    best: &mut Option<(f64, i128)>,
) {
    let idx = &p.index;
    // The interval holding `x` (its start inclusive), within the run.
    let holding = |x: i128| (a + idx.ends[a..b].partition_point(|&e| e <= x)).min(b - 1);
    let secs = |n: i128| {
        #[allow(clippy::cast_precision_loss)]
        let s = n as f64 / 1e9;
        s
    };
    let mut f = 0.0;
    let mut slope = 0.0;
    // Each edge's next boundary strictly inside (tl + o, th + o), merged in time order by a
    // heap (memory O(edges), not O(edges x boundaries)).
    let mut next = Vec::with_capacity(edges.len());
    let mut heap = BinaryHeap::with_capacity(edges.len());
    for (e, &(o, c)) in edges.iter().enumerate() {
        let k = holding(tl + o);
        f += c * idx.integral(k, tl + o);
        slope += c * idx.values[k];
        next.push(k + 1);
        if k + 1 < b && idx.starts[k + 1] - o < th {
            heap.push(Reverse((idx.starts[k + 1] - o, e)));
        }
    }
    let keep = |cost: f64, t: i128, best: &mut Option<(f64, i128)>| {
        if best.is_none_or(|(c, _)| cost < c - TIE * c.abs().max(1.0)) {
            *best = Some((cost, t));
        }
    };
    keep(f, tl, best);
    let mut now = tl;
    while let Some(&Reverse((t, _))) = heap.peek() {
        f += slope * secs(t - now);
        now = t;
        if t > tl {
            keep(f, t, best);
        }
        while let Some(&Reverse((u, e))) = heap.peek() {
            if u != t {
                break;
            }
            heap.pop();
            let (o, c) = edges[e];
            let j = next[e];
            slope += c * (idx.values[j] - idx.values[j - 1]);
            next[e] = j + 1;
            if j + 1 < b && idx.starts[j + 1] - o < th {
                heap.push(Reverse((idx.starts[j + 1] - o, e)));
            }
        }
    }
    if th > now {
        keep(f + slope * secs(th - now), th, best);
    }
}

#[cfg(test)]
#[path = "profile_tests.rs"]
mod tests;
