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

/// Fraction of wall time lost with checkpoint interval `tau`, capped below 1.
#[must_use]
pub fn waste_fraction(tau: f64, write: f64, restart: f64, mtbf: f64) -> f64 {
    if mtbf <= 0.0 || tau <= 0.0 {
        return 0.999;
    }
    (write / tau + (tau + write) / (2.0 * mtbf) + restart / mtbf).min(0.999)
}

/// The outcome of the failure model for one run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outcome {
    /// Mean time between interruptions, hours.
    pub mtbi_h: f64,
    /// Checkpoint interval used, hours.
    pub interval_h: f64,
    /// Fraction of wall time lost to checkpoints, rework and restarts.
    pub lost_fraction: f64,
    /// Wall-clock hours.
    pub wall_h: f64,
}

/// How often interruptions happen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rate {
    /// A count of interruptions over the run's wall-clock time.
    Count(f64),
    /// A mean time between interruptions, hours.
    Mtbf(f64),
}

/// Wall time and losses when the wall time is known (interruptions counted over it).
#[must_use]
pub fn given_wall(
    wall_h: f64,
    rate: Rate,
    write_h: f64,
    restart_h: f64,
    interval_h: Option<f64>,
) -> Outcome {
    let m = match rate {
        Rate::Count(n) if n > 0.0 => wall_h / n,
        Rate::Count(_) => f64::INFINITY,
        Rate::Mtbf(m) => m,
    };
    outcome(m, wall_h, write_h, restart_h, interval_h)
}

/// Wall time and losses when only the useful (failure-free) time is known: solves
/// `wall = useful / (1 - W(M(wall)))` by fixed-point iteration.
#[must_use]
pub fn given_useful(
    useful_h: f64,
    rate: Rate,
    write_h: f64,
    restart_h: f64,
    interval_h: Option<f64>,
) -> Outcome {
    let mut wall = useful_h;
    let mut o = given_wall(wall, rate, write_h, restart_h, interval_h);
    for _ in 0..50 {
        let next = useful_h / (1.0 - o.lost_fraction);
        if (next - wall).abs() <= 1e-9 * wall {
            break;
        }
        wall = next;
        o = given_wall(wall, rate, write_h, restart_h, interval_h);
    }
    Outcome {
        wall_h: useful_h / (1.0 - o.lost_fraction),
        ..o
    }
}

fn outcome(m: f64, wall_h: f64, write_h: f64, restart_h: f64, interval_h: Option<f64>) -> Outcome {
    if !m.is_finite() {
        let tau = interval_h.unwrap_or(wall_h);
        let w = if tau > 0.0 {
            (write_h / tau).min(0.999)
        } else {
            0.0
        };
        return Outcome {
            mtbi_h: m,
            interval_h: tau,
            lost_fraction: w,
            wall_h,
        };
    }
    let tau = interval_h.unwrap_or_else(|| daly_interval(write_h, m));
    Outcome {
        mtbi_h: m,
        interval_h: tau,
        lost_fraction: waste_fraction(tau, write_h, restart_h, m),
        wall_h,
    }
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
        );
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
        let o = given_useful(100.0, Rate::Mtbf(10.0), 0.1, 0.1, None);
        assert!((o.wall_h * (1.0 - o.lost_fraction) - 100.0).abs() < 1e-6);
        assert!(o.wall_h > 100.0);
    }
}
