//! Job interruptions and checkpointing: the one failure model, used by `estimate train` and
//! (later) by `plan checkpoint`.
//!
//! First-order model (Young 1974; Daly 2006): with mean time between interruptions `M`,
//! checkpoint write time `d` and restart time `R`, checkpointing every `tau` of work wastes the
//! fraction `W(tau) = d/tau + (tau + d)/(2M) + R/M` of wall time: the checkpoint writes, on
//! average half an interval of lost work per interruption, and the restart. Young's optimum is
//! `tau* = sqrt(2 d M)`; Daly's higher-order optimum is
//! `tau* = sqrt(2 d M) (1 + sqrt(d/(2M))/3 + d/(18M)) - d` for `d < 2M`, else `M`.

/// Young's optimal checkpoint interval, in the unit of the inputs.
#[must_use]
pub fn young_interval(write: f64, mtbf: f64) -> f64 {
    (2.0 * write * mtbf).sqrt()
}

/// Daly's optimal checkpoint interval (Daly 2006, eq. 37), in the unit of the inputs.
#[must_use]
pub fn daly_interval(write: f64, mtbf: f64) -> f64 {
    if write >= 2.0 * mtbf {
        return mtbf;
    }
    let r = (write / (2.0 * mtbf)).sqrt();
    (2.0 * write * mtbf).sqrt() * (1.0 + r / 3.0 + write / (18.0 * mtbf)) - write
}

/// The shortest mean time between interruptions the model accepts, hours: one minute, the
/// lower bound of `--mtbf`. Interruptions more often than that are a slip (a count over the
/// run given as a rate, a unit), and the first-order model means nothing there.
pub const MIN_MTBI_H: f64 = 1.0 / 60.0;

/// Fraction of wall time lost with checkpoint interval `tau`. Not capped: at 1 or more the run
/// never finishes (see [`Infeasible::NeverFinishes`]).
#[must_use]
pub fn waste_fraction(tau: f64, write: f64, restart: f64, mtbf: f64) -> f64 {
    parts(tau, write, restart, mtbf).total()
}

/// The fraction of wall time lost, split by cause (each a fraction of the wall time).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Parts {
    /// Training stalled while checkpoints are taken: `stall / tau`.
    pub checkpoint: f64,
    /// Work since the last durable checkpoint, redone after each interruption.
    pub rework: f64,
    /// Restarts: `R / M`.
    pub restart: f64,
}

impl Parts {
    /// The whole lost fraction (checkpoint + rework + restart, in that order).
    #[must_use]
    pub fn total(&self) -> f64 {
        self.checkpoint + self.rework + self.restart
    }
}

/// The lost fraction's parts with synchronous checkpoints (training stops for each write `d`):
/// `d/tau`, `(tau + d)/(2M)` and `R/M`.
#[must_use]
pub fn parts(tau: f64, write: f64, restart: f64, mtbf: f64) -> Parts {
    Parts {
        checkpoint: write / tau,
        rework: (tau + write) / (2.0 * mtbf),
        restart: restart / mtbf,
    }
}

/// The lost fraction's parts with asynchronous checkpoints: training stalls `s` per checkpoint
/// (a snapshot to host memory) while the write `d` to storage goes on behind it, one write in
/// flight (`tau >= d`). An interruption loses the work since the last snapshot whose write had
/// finished: on average half a period `(tau + s)/2`, plus a whole period when it strikes while
/// the newest write is still in flight (probability `d/(tau + s)`), so `((tau + s)/2 + d)/M`.
/// Parts: `s/tau`, `(tau + s + 2d)/(2M)` and `R/M`.
#[must_use]
pub fn parts_async(tau: f64, stall: f64, write: f64, restart: f64, mtbf: f64) -> Parts {
    Parts {
        checkpoint: stall / tau,
        rework: (tau + stall + 2.0 * write) / (2.0 * mtbf),
        restart: restart / mtbf,
    }
}

/// Failure settings under which no run can finish.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Infeasible {
    /// Interruptions come more often than [`MIN_MTBI_H`].
    #[error("interruptions every {} h are more often than once a minute, the least mean time between them the model accepts", crate::uncertainty::fmt_human(*mtbi_h))]
    TooFrequent {
        /// The mean time between interruptions, hours.
        mtbi_h: f64,
    },
    /// Checkpoints, lost work and restarts take the whole wall time (or more).
    #[error("checkpoints, lost work and restarts would take {} of the wall time, so the run never finishes", fmt_share(*lost_fraction))]
    NeverFinishes {
        /// The fraction of wall time they would take (1 or more).
        lost_fraction: f64,
        /// The mean time between interruptions, hours (infinite with none).
        mtbi_h: f64,
        /// The checkpoint interval, hours.
        interval_h: f64,
    },
}

fn fmt_share(f: f64) -> String {
    format!("{}%", crate::uncertainty::fmt_human(f * 100.0))
}

/// The outcome of the failure model for one run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outcome {
    /// Mean time between interruptions, hours.
    pub mtbi_h: f64,
    /// Checkpoint interval used, hours.
    pub interval_h: f64,
    /// Fraction of wall time lost to checkpoints, rework and restarts (below 1).
    pub lost_fraction: f64,
    /// Wall-clock hours.
    pub wall_h: f64,
}

/// How often interruptions happen.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Rate {
    /// A count of interruptions over the run's wall-clock time.
    Count(f64),
    /// A mean time between interruptions, hours.
    Mtbf(f64),
}

/// Wall time and losses when the wall time is known (interruptions counted over it).
///
/// # Errors
/// [`Infeasible`] when interruptions come more often than [`MIN_MTBI_H`] or the losses take the
/// whole wall time.
pub fn given_wall(
    wall_h: f64,
    rate: Rate,
    write_h: f64,
    restart_h: f64,
    interval_h: Option<f64>,
) -> Result<Outcome, Infeasible> {
    outcome(mtbi(wall_h, rate), wall_h, write_h, restart_h, interval_h)
}

fn mtbi(wall_h: f64, rate: Rate) -> f64 {
    match rate {
        Rate::Count(n) if n > 0.0 => wall_h / n,
        Rate::Count(_) => f64::INFINITY,
        Rate::Mtbf(m) => m,
    }
}

/// Wall time and losses when only the useful (failure-free) time is known: the wall time `T`
/// solves `T (1 - W(M(T))) = useful`. With a mean time between interruptions `W` does not
/// depend on `T` (`T = useful / (1 - W)`); with a count over the run `M = T / N` grows with
/// `T`, so does the useful part of `T`, and the root is bracketed by doubling, then bisected.
///
/// # Errors
/// As [`given_wall`], at the wall time found (or when no wall time leaves the useful time).
pub fn given_useful(
    useful_h: f64,
    rate: Rate,
    write_h: f64,
    restart_h: f64,
    interval_h: Option<f64>,
) -> Result<Outcome, Infeasible> {
    let wall = match rate {
        Rate::Count(_) => {
            // The useful part of a wall time, from the losses unchecked (the settings are
            // checked once, at the root).
            let useful_part = |wall: f64| {
                let (_, w) = losses(mtbi(wall, rate), wall, write_h, restart_h, interval_h);
                wall * (1.0 - w)
            };
            // Bracket: the smallest doubling of the useful time whose useful part covers it.
            let mut hi = useful_h;
            // Doubling reaches f64::MAX from any positive time within about 2,100 steps.
            for _ in 0..2100 {
                if useful_part(hi) >= useful_h {
                    break;
                }
                hi *= 2.0;
            }
            // NaN compares as neither: it counts as not covering the useful time.
            let covers = useful_part(hi)
                .partial_cmp(&useful_h)
                .is_some_and(|o| o.is_ge());
            if !covers || useful_h.partial_cmp(&0.0).is_none_or(|o| o.is_le()) {
                // No finite wall time leaves the useful time: the losses at the useful time.
                return given_wall(useful_h, rate, write_h, restart_h, interval_h);
            }
            let mut lo = hi / 2.0;
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                if useful_part(mid) >= useful_h {
                    hi = mid;
                } else {
                    lo = mid;
                }
                if hi - lo <= 1e-12 * hi {
                    break;
                }
            }
            hi
        }
        Rate::Mtbf(_) => useful_h,
    };
    given_wall(wall, rate, write_h, restart_h, interval_h).map(|o| Outcome {
        wall_h: useful_h / (1.0 - o.lost_fraction),
        ..o
    })
}

/// The checkpoint interval and the fraction of wall time lost, unchecked.
fn losses(
    m: f64,
    wall_h: f64,
    write_h: f64,
    restart_h: f64,
    interval_h: Option<f64>,
) -> (f64, f64) {
    if m.is_finite() {
        let tau = interval_h.unwrap_or_else(|| daly_interval(write_h, m));
        (tau, waste_fraction(tau, write_h, restart_h, m))
    } else {
        // No interruptions: only the checkpoint writes, one per interval (one at the end).
        let tau = interval_h.unwrap_or(wall_h);
        (tau, if tau > 0.0 { write_h / tau } else { 0.0 })
    }
}

fn outcome(
    m: f64,
    wall_h: f64,
    write_h: f64,
    restart_h: f64,
    interval_h: Option<f64>,
) -> Result<Outcome, Infeasible> {
    if m < MIN_MTBI_H {
        return Err(Infeasible::TooFrequent { mtbi_h: m });
    }
    let (tau, w) = losses(m, wall_h, write_h, restart_h, interval_h);
    // A NaN fraction is refused too.
    if w.partial_cmp(&1.0).is_none_or(|o| o.is_ge()) {
        return Err(Infeasible::NeverFinishes {
            lost_fraction: w,
            mtbi_h: m,
            interval_h: tau,
        });
    }
    Ok(Outcome {
        mtbi_h: m,
        interval_h: tau,
        lost_fraction: w,
        wall_h,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn llama3_interruptions() {
        // 54 d x 24 h / 466 = 2.781 h between interruptions
        let o = given_wall(
            54.0 * 24.0,
            Rate::Count(466.0),
            1.0 / 60.0,
            3.0 / 60.0,
            None,
        )
        .expect("feasible");
        assert!((o.mtbi_h - 2.781).abs() < 1e-3);
        // Young: sqrt(2 x 1 min x 166.9 min) = 18.27 min; Daly's is a little shorter
        assert!((young_interval(1.0, 166.87) - 18.27).abs() < 0.01);
        assert!(
            (o.interval_h * 60.0 - 17.6).abs() < 0.2,
            "{}",
            o.interval_h * 60.0
        );
        // 1/17.6 + 18.6/333.7 + 3/166.9 = 0.057 + 0.056 + 0.018 = 0.131
        assert!(
            (o.lost_fraction - 0.131).abs() < 0.003,
            "{}",
            o.lost_fraction
        );
    }

    #[test]
    fn useful_time_is_stretched_by_losses() {
        let o = given_useful(100.0, Rate::Mtbf(10.0), 0.1, 0.1, None).expect("feasible");
        assert!((o.wall_h * (1.0 - o.lost_fraction) - 100.0).abs() < 1e-6);
        assert!(o.wall_h > 100.0);
    }

    #[test]
    fn losses_reaching_the_whole_wall_time_are_infeasible_at_exactly_one() {
        // Hand-checked with a fixed interval: d = 30 min, tau = 60 min, M = 2 h:
        // W = 0.5 / 1 + (1 + 0.5) / 4 + R / 2 = 0.875 + R / 2, which is 1 at R = 15 min.
        let at = |restart_min: f64| {
            given_wall(24.0, Rate::Mtbf(2.0), 0.5, restart_min / 60.0, Some(1.0))
        };
        let o = at(14.0).expect("14 min restarts leave 0.83% of the time");
        assert!((o.lost_fraction - (0.875 + 14.0 / 120.0)).abs() < 1e-12);
        assert!(matches!(
            at(15.0),
            Err(Infeasible::NeverFinishes { lost_fraction, .. }) if lost_fraction == 1.0
        ));
        assert!(matches!(at(16.0), Err(Infeasible::NeverFinishes { .. })));
        // The same settings with only the useful time known: no wall time finishes the run.
        assert!(given_useful(10.0, Rate::Mtbf(2.0), 0.5, 0.25, Some(1.0)).is_err());
    }

    #[test]
    fn interruptions_more_often_than_once_a_minute_are_infeasible() {
        // 1,440 interruptions over a day is one a minute, the least accepted; 1,441 is less.
        let ok =
            given_wall(24.0, Rate::Count(1440.0), 1.0 / 3600.0, 0.0, None).expect("one a minute");
        assert!((ok.mtbi_h - MIN_MTBI_H).abs() < 1e-15);
        assert!(matches!(
            given_wall(24.0, Rate::Count(1441.0), 1.0 / 3600.0, 0.0, None),
            Err(Infeasible::TooFrequent { .. })
        ));
        assert!(matches!(
            given_wall(24.0, Rate::Mtbf(0.5 / 60.0), 1.0 / 3600.0, 0.0, None),
            Err(Infeasible::TooFrequent { .. })
        ));
    }

    #[test]
    fn a_checkpoint_longer_than_the_whole_uninterrupted_run_never_finishes() {
        // No interruptions and a 2 h checkpoint every hour.
        assert!(matches!(
            given_wall(24.0, Rate::Count(0.0), 2.0, 0.0, Some(1.0)),
            Err(Infeasible::NeverFinishes { .. })
        ));
        // One checkpoint at the end of an uninterrupted run: the wall time is the useful time
        // plus the write.
        let o = given_useful(10.0, Rate::Count(0.0), 0.5, 0.0, None).expect("finishes");
        assert!((o.wall_h - 10.5).abs() < 1e-6, "{}", o.wall_h);
    }

    proptest::proptest! {
        /// The lost fraction is never capped: a feasible outcome loses less than the whole
        /// wall time and is the model's own figure; an infeasible one says it is 1 or more.
        #[test]
        fn the_lost_fraction_is_the_models_or_an_error(
            m in (1.0 / 60.0)..1e4f64,
            d in (1.0 / 3600.0)..100f64,
            r in 0.0..100f64,
            wall in 1e-3..1e6f64,
        ) {
            match given_wall(wall, Rate::Mtbf(m), d, r, None) {
                Ok(o) => {
                    proptest::prop_assert!(o.lost_fraction < 1.0);
                    let w = waste_fraction(daly_interval(d, m), d, r, m);
                    proptest::prop_assert!((o.lost_fraction - w).abs() <= 1e-12 * w.max(1.0));
                }
                Err(Infeasible::NeverFinishes { lost_fraction, .. }) => {
                    proptest::prop_assert!(lost_fraction >= 1.0);
                }
                Err(e) => proptest::prop_assert!(false, "{e}"),
            }
        }

        /// With a count over the run and only the useful time known, a feasible wall time
        /// leaves exactly the useful time, with interruptions at most once a minute.
        #[test]
        fn the_wall_time_from_a_count_leaves_the_useful_time(
            n in 0.0..1e6f64,
            d in (1.0 / 3600.0)..1f64,
            r in 0.0..1f64,
            useful in 1e-2..1e6f64,
        ) {
            let n = n.round();
            if let Ok(o) = given_useful(useful, Rate::Count(n), d, r, None) {
                proptest::prop_assert!(o.lost_fraction < 1.0);
                proptest::prop_assert!(o.mtbi_h >= MIN_MTBI_H);
                let left = o.wall_h * (1.0 - o.lost_fraction);
                proptest::prop_assert!((left - useful).abs() <= 1e-6 * useful, "{} vs {}", left, useful);
            }
        }
    }
}
