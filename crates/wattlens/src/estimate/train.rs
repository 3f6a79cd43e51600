//! Training runs: compute (`6 x active params x tokens`, or given FLOPs), duration (from
//! accelerators x peak x MFU, or given days or accelerator-hours), power per accelerator from a
//! stated basis, failures by the Young/Daly model, then the shared footprint accounting.

use super::failures::{self, Rate};
use super::power::PowerBasis;
use super::power_cap::PowerCap;
use crate::explain::{Step, StepSink};
use crate::figure::Figure;
use crate::footprint::{Busy, Footprint, ItEnergy, Site};
use crate::record::Record;
use crate::result::ReportKind;
use crate::runner::{Evaluate, Usage};
use crate::uncertainty::{fmt_input, Draw, Range};
use crate::units::{Flops, FlopsPerSecond, Hours, Seconds, Watts};

/// How much compute the run does.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Compute {
    /// Not known (the duration is given instead).
    Unknown,
    /// Total training FLOPs.
    Flops(Range),
    /// `6 x active params x tokens` (Kaplan et al. 2020).
    ParamsTokens {
        /// Parameters active per token.
        active_params: Range,
        /// Training tokens.
        tokens: Range,
    },
}

/// How long the run lasts.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Duration {
    /// Wall-clock hours.
    Wall(Range),
    /// Accelerator-hours (wall hours = this / accelerators).
    AcceleratorHours(Range),
    /// From compute: `FLOPs / (accelerators x peak x MFU)`, plus failure losses.
    FromCompute {
        /// Model FLOPs utilisation.
        mfu: Range,
    },
    /// From compute at an effective utilisation over the billed accelerator-hours:
    /// `FLOPs / (accelerators x peak x u)`, `u` drawn log-uniformly between its ends. The
    /// utilisation already bills failures and restarts, so failure losses are not added on top:
    /// a failure model, if given, only splits the billed time.
    Effective {
        /// Natural logarithms of the ends of the effective utilisation (useful FLOPs over peak
        /// across the billed hours), taken once here rather than in every draw.
        ln_utilisation: Range,
    },
}

/// Failure inputs.
#[derive(Clone, Debug, PartialEq)]
pub struct Failures {
    /// Interruption count over the run, or MTBF hours.
    pub rate: RateSpec,
    /// Checkpoint write time, hours.
    pub write_h: Range,
    /// Restart time, hours.
    pub restart_h: Range,
    /// A fixed checkpoint interval, hours (default: Daly's optimum).
    pub interval_h: Option<Range>,
}

/// The interruption rate as given.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum RateSpec {
    /// Interruptions over the run's wall time.
    Count(Range),
    /// Mean time between interruptions, hours.
    Mtbf(Range),
}

/// A training run to estimate.
#[derive(Clone, Debug)]
pub struct TrainSpec {
    /// Compute.
    pub compute: Compute,
    /// Dense peak of one accelerator, FLOP/s.
    pub peak: Range,
    /// Number of accelerators.
    pub accelerators: Range,
    /// Accelerators per server (for embodied carbon of servers).
    pub per_server: Range,
    /// Duration.
    pub duration: Duration,
    /// Power per accelerator.
    pub power: PowerBasis,
    /// Failures, if modelled.
    pub failures: Option<Failures>,
    /// Where it runs.
    pub site: Site,
    /// A CPU-only run: `accelerators` counts servers, there is no accelerator peak, no
    /// accelerator-hours and no implied MFU.
    pub cpu_only: bool,
    /// A cap on accelerator power (compute-bound curve), if any.
    pub power_cap: Option<PowerCap>,
}

/// A failure outcome of one draw. Resolving checks the failure settings at the worst ends of
/// their ranges, so every draw is feasible; should one not be, its figures are NaN, which the
/// runner's finiteness check refuses, rather than a capped number.
fn feasible(o: Result<failures::Outcome, failures::Infeasible>) -> failures::Outcome {
    o.unwrap_or(failures::Outcome {
        mtbi_h: f64::NAN,
        interval_h: f64::NAN,
        lost_fraction: f64::NAN,
        wall_h: f64::NAN,
    })
}

/// What a training evaluation carries to the figures derived from its footprint.
#[derive(Clone, Copy, Debug)]
pub struct TrainState {
    accelerators: f64,
    peak: FlopsPerSecond,
    flops: Option<Flops>,
    wall_h: f64,
    outcome: Option<failures::Outcome>,
}

impl Evaluate for TrainSpec {
    type State = TrainState;

    fn kind(&self) -> ReportKind {
        ReportKind::Train
    }
    fn site(&self) -> &Site {
        &self.site
    }

    fn evaluate<T: StepSink>(
        &self,
        d: &mut Draw,
        t: &mut T,
        _rec: &mut Record<'_>,
    ) -> Usage<TrainState> {
        let n = d.value(&self.accelerators);
        let peak = FlopsPerSecond(d.value(&self.peak));
        let per_server = d.value(&self.per_server);
        let flops = match &self.compute {
            Compute::Unknown => None,
            Compute::Flops(f) => Some(Flops(d.value(f))),
            Compute::ParamsTokens {
                active_params,
                tokens,
            } => {
                let (p, k) = (d.value(active_params), d.value(tokens));
                let f = Flops(6.0 * p * k);
                t.step(|| {
                    Step::new(
                        "compute",
                        format!(
                            "C = 6 x N_active x D = 6 x {} x {}",
                            fmt_input(p),
                            fmt_input(k)
                        ),
                        f.0,
                        "FLOP",
                    )
                    .source("Kaplan et al. 2020, Scaling Laws for Neural Language Models (6ND)")
                });
                Some(f)
            }
        };
        // The failure model takes four uniforms whether it is given or not, and whether its
        // interval is (every input takes one): a variant that adds or drops it keeps every later
        // draw (MFU, power) in step with the baseline's.
        let unused = Range::point(0.0);
        let fail = match self.failures.as_ref() {
            Some(f) => {
                let rate = match &f.rate {
                    RateSpec::Count(c) => Rate::Count(d.value(c)),
                    RateSpec::Mtbf(m) => Rate::Mtbf(d.value(m)),
                };
                let (w, s) = (d.value(&f.write_h), d.value(&f.restart_h));
                let i = d.value(f.interval_h.as_ref().unwrap_or(&unused));
                Some((rate, w, s, f.interval_h.is_some().then_some(i)))
            }
            None => {
                for _ in 0..4 {
                    let _ = d.value(&unused);
                }
                None
            }
        };
        // Without a cap, an unused unit curve takes the uniforms a cap's curve would (every
        // input takes one): a capped variant and an uncapped baseline (`--vary power-cap`) keep
        // every later draw (MFU, power) in step.
        let cap = match self.power_cap.as_ref() {
            Some(c) => Some((c.fraction, c.compute.draw(d))),
            None => {
                let unit = super::power_cap::Factors {
                    time: Range::point(1.0),
                    energy: Range::point(1.0),
                };
                let _ = unit.draw(d);
                None
            }
        };
        if let Some((c, k)) = cap {
            t.step(|| {
                Step::new(
                    "power_cap",
                    format!(
                        "cap {}% of board power (compute-bound curve): time x T = {}, accelerator energy x X = {}, accelerator power x X / T{}",
                        fmt_input(c * 100.0),
                        fmt_input(k.time),
                        fmt_input(k.energy),
                        self.power_cap
                            .as_ref()
                            .and_then(|p| p.watts)
                            .map_or(String::new(), |w| format!(", at most the cap's {} W", fmt_input(w)))
                    ),
                    k.power(),
                    "",
                )
                .source("power-caps table (`wattlens catalog list power-caps`): the measured points it lists (Zeus, You et al., NSDI 2023; McDonald et al. 2022)")
            });
        }
        let cap_time = cap.map_or(1.0, |(_, k)| k.time);

        // Wall-clock hours and failure outcome.
        let (wall, outcome) = match &self.duration {
            Duration::Wall(h) | Duration::AcceleratorHours(h) => {
                let wall = match &self.duration {
                    Duration::AcceleratorHours(_) => d.value(h) / n,
                    _ => d.value(h),
                };
                if cap.is_some() {
                    t.step(|| {
                        Step::new(
                            "work_under_cap",
                            format!(
                                "the duration is fixed: the capped accelerators do 1 / T = 1 / {} of the uncapped work in it",
                                fmt_input(cap_time)
                            ),
                            1.0 / cap_time,
                            "",
                        )
                    });
                }
                let o = fail.map(|(r, w, s, i)| feasible(failures::given_wall(wall, r, w, s, i)));
                (wall, o)
            }
            Duration::FromCompute { mfu } => {
                let u = d.value(mfu);
                let f = flops.unwrap_or(Flops(0.0));
                let useful = Hours(Hours::from(f / FlopsPerSecond(n * peak.0 * u)).0 * cap_time);
                t.step(|| {
                    Step::new(
                        "useful_time",
                        format!(
                            "t = C / (N_acc x peak x MFU) x T_cap = {} / ({} x {} FLOP/s x {}) x {}",
                            fmt_input(f.0),
                            fmt_input(n),
                            fmt_input(peak.0),
                            fmt_input(u),
                            fmt_input(cap_time)
                        ),
                        useful.0,
                        "h",
                    )
                });
                match fail {
                    Some((r, w, s, i)) => {
                        let o = feasible(failures::given_useful(useful.0, r, w, s, i));
                        (o.wall_h, Some(o))
                    }
                    None => (useful.0, None),
                }
            }
            Duration::Effective { ln_utilisation } => {
                // Log-uniform: the central value is the geometric mean of the ends (the fitted
                // median), and the draws' P5..P95 are the fitted interval. A draw past 1 (the
                // tail of a wide interval: no run beats its peak) counts as 1, which leaves the
                // median and the lower quantiles where they are.
                let u = d.value(ln_utilisation).exp().min(1.0);
                let f = flops.unwrap_or(Flops(0.0));
                // A power cap stretches the billed time as it does the useful time (T_cap = 1
                // without a cap): the accelerators do the same work more slowly.
                let billed = Hours(Hours::from(f / FlopsPerSecond(n * peak.0 * u)).0 * cap_time);
                t.step(|| {
                    Step::new(
                        "billed_time",
                        format!(
                            "t = C / (N_acc x peak x u_eff) x T_cap = {} / ({} x {} FLOP/s x {}) x {}, u_eff = effective utilisation (calibrated prior; failures and restarts included)",
                            fmt_input(f.0),
                            fmt_input(n),
                            fmt_input(peak.0),
                            fmt_input(u),
                            fmt_input(cap_time)
                        ),
                        billed.0,
                        "h",
                    )
                });
                let o =
                    fail.map(|(r, w, s, i)| feasible(failures::given_wall(billed.0, r, w, s, i)));
                (billed.0, o)
            }
        };
        if let Some(o) = outcome {
            t.step(|| {
                Step::new(
                    "lost_time_fraction",
                    if o.mtbi_h.is_finite() {
                        format!(
                            "W = d/tau + (tau + d)/(2M) + R/M with M = {} h, tau = {} min",
                            fmt_input(o.mtbi_h),
                            fmt_input(o.interval_h * 60.0)
                        )
                    } else {
                        format!(
                            "W = d/tau with no interruptions, tau = {} min",
                            fmt_input(o.interval_h * 60.0)
                        )
                    },
                    o.lost_fraction,
                    "",
                )
                .source("Young 1974; Daly 2006, A higher order estimate of the optimum checkpoint interval")
            });
        }
        t.step(|| {
            Step::new(
                "wall_time",
                // The step's value follows in hours; the formula gives it in days.
                format!("wall-clock time = {} d", fmt_input(wall / 24.0)),
                wall,
                "h",
            )
        });

        let mut p = self.power.draw(d, t);
        if let (Some(c), Some((_, k))) = (&self.power_cap, cap) {
            p.accel = Watts(c.apply(p.accel.0, k));
        }
        let hours = Hours(wall);
        let it = ItEnergy {
            accelerators: p.accel * hours * n,
            host: p.host * hours * n,
            rest: p.rest * hours * n,
        };
        t.step(|| {
            Step::new(
                "accelerator_energy",
                format!(
                    "E_acc = N_acc x P_acc x t = {} x {} W x {} h",
                    fmt_input(n),
                    fmt_input(p.accel.0),
                    fmt_input(wall)
                ),
                it.accelerators.0,
                "kWh",
            )
        });
        let busy = Busy {
            accelerators: if self.cpu_only { 0.0 } else { n },
            servers: n / per_server,
            period: hours,
        };
        Usage {
            it,
            busy,
            state: TrainState {
                accelerators: n,
                peak,
                flops,
                wall_h: wall,
                outcome,
            },
        }
    }

    fn finish<T: StepSink>(&self, s: TrainState, fp: &Footprint, t: &mut T, rec: &mut Record<'_>) {
        let (n, peak, flops, wall, outcome) =
            (s.accelerators, s.peak, s.flops, s.wall_h, s.outcome);
        let fac = fp.facility;
        let lost = outcome.map_or(0.0, |o| o.lost_fraction);
        if !self.cpu_only {
            rec.put(Figure::AcceleratorHours, n * wall);
        }
        rec.put(Figure::Duration, wall / 24.0);
        rec.put(Figure::FacilityPower, fac.0 / wall);
        rec.put(Figure::LostTimeFraction, lost);
        if let Some(o) = outcome {
            // With no interruptions (a count of 0) there is no mean time between them: the
            // figure is left out rather than written as infinity (which JSON cannot hold).
            let none_possible = matches!(
                self.failures.as_ref().map(|f| &f.rate),
                Some(RateSpec::Count(c)) if c.lo <= 0.0
            );
            if !none_possible {
                rec.put(Figure::MeanTimeBetweenInterruptions, o.mtbi_h);
            }
            rec.put(Figure::CheckpointInterval, o.interval_h * 60.0);
        }
        if let Some(f) = flops {
            rec.put(Figure::Compute, f.0);
            let from_compute = matches!(
                self.duration,
                Duration::FromCompute { .. } | Duration::Effective { .. }
            );
            if !from_compute && !self.cpu_only {
                let useful = Seconds::from(Hours(wall * (1.0 - lost)));
                let mfu = f.0 / (n * peak.0 * useful.0);
                t.step(|| {
                    Step::new(
                        "implied_mfu",
                        format!(
                            "MFU = C / (N_acc x peak x useful time) = {} / ({} x {} FLOP/s x {} s)",
                            fmt_input(f.0),
                            fmt_input(n),
                            fmt_input(peak.0),
                            fmt_input(useful.0)
                        ),
                        mfu,
                        "",
                    )
                });
                rec.put(Figure::ImpliedMfu, mfu);
            }
        }
    }
}
