//! A training run's interruptions: the failure inputs (a count or a mean time between them,
//! with checkpoint and restart times), and the refusal of settings under which the run could
//! never finish.

use super::super::{positive, user};
use super::TrainInputs;
use crate::estimate::failures::{self, Rate};
use crate::estimate::train::{Compute, Duration, Failures, RateSpec, TrainSpec};
use crate::estimate::EstimateError;
use crate::explain::Assumption;
use crate::field::Field;
use crate::uncertainty::{fmt_human, fmt_input, Range};

/// The failure inputs (`interruptions`/`mtbf` with checkpoint and restart times).
pub(super) fn failures(
    t: &TrainInputs,
    out: &mut Vec<Assumption>,
) -> Result<Option<Failures>, EstimateError> {
    let rate = if let Some(c) = t.interruptions {
        user(out, "interruptions", &c, "", Field::Interruptions);
        Some(RateSpec::Count(c))
    } else if let Some(m) = positive(Field::Mtbf, t.mtbf_h)? {
        user(out, "mtbf", &m, "h", Field::Mtbf);
        Some(RateSpec::Mtbf(m))
    } else {
        None
    };
    Ok(if let Some(rate) = rate {
        let write_h = t.checkpoint_h.ok_or_else(|| EstimateError::Missing("{checkpoint_minutes}: how long one checkpoint takes to write (needed with {interruptions}/{mtbf})".into()))?;
        let restart_h = t.restart_h.ok_or_else(|| EstimateError::Missing("{restart_minutes}: how long a restart after an interruption takes (needed with {interruptions}/{mtbf})".into()))?;
        user(
            out,
            "checkpoint_write",
            &write_h.scale(60.0),
            "min",
            Field::CheckpointMinutes,
        );
        user(
            out,
            "restart",
            &restart_h.scale(60.0),
            "min",
            Field::RestartMinutes,
        );
        let interval_h = positive(Field::CheckpointInterval, t.interval_h)?;
        Some(Failures {
            rate,
            write_h,
            restart_h,
            interval_h,
        })
    } else {
        if t.checkpoint_h.is_some() || t.restart_h.is_some() || t.interval_h.is_some() {
            return Err(EstimateError::Missing("{interruptions} or {mtbf}: checkpoint and restart times only matter with an interruption rate".into()));
        }
        None
    })
}

/// Refuses failure settings under which the run could never finish, checked at the worst ends
/// of their ranges (every Monte Carlo draw lies between them, and the lost fraction grows with
/// the checkpoint and restart times and falls as the mean time between interruptions grows):
/// interruptions more often than once a minute, or checkpoints, lost work and restarts taking
/// the whole wall time. The error names the flags that disagree and the values used.
pub(super) fn feasible(spec: &TrainSpec, t: &TrainInputs) -> Result<(), EstimateError> {
    let Some(f) = &spec.failures else {
        return Ok(());
    };
    // The longest write and restart lose the most; with a count over a run whose length comes
    // from compute, the shortest stretch the run least, so interruptions come most often.
    let times = [
        (f.write_h.hi, f.restart_h.hi),
        (f.write_h.lo, f.restart_h.lo),
    ];
    let rate = match &f.rate {
        RateSpec::Count(c) => Rate::Count(c.hi),
        RateSpec::Mtbf(m) => Rate::Mtbf(m.lo),
    };
    // The lost fraction is convex in the interval: its worst is at one end of a given range.
    let intervals: Vec<Option<f64>> = match &f.interval_h {
        Some(i) => vec![Some(i.lo), Some(i.hi)],
        None => vec![None],
    };
    // The shortest run (the fewest hours to spread a count of interruptions over).
    // The least compute (the fewest FLOPs to spread the run over), if known.
    let least_flops = || match &spec.compute {
        Compute::Unknown => None,
        Compute::Flops(f) => Some(f.lo),
        Compute::ParamsTokens {
            active_params,
            tokens,
        } => Some(6.0 * active_params.lo * tokens.lo),
    };
    let fastest = |u: &Range| spec.accelerators.hi * spec.peak.hi * u.hi;
    let shortest = |d: &Duration| -> Option<(bool, f64)> {
        Some(match d {
            Duration::Wall(h) => (true, h.lo),
            Duration::AcceleratorHours(h) => (true, h.lo / spec.accelerators.hi),
            Duration::FromCompute { mfu } => (false, least_flops()? / fastest(mfu) / 3600.0),
            // The billed time is the wall time (failures are inside it).
            Duration::Effective { ln_utilisation } => {
                let u = Range::point(ln_utilisation.hi.exp().min(1.0));
                (true, least_flops()? / fastest(&u) / 3600.0)
            }
        })
    };
    let Some((wall_known, hours)) = shortest(&spec.duration) else {
        return Ok(());
    };
    let corners = intervals
        .iter()
        .flat_map(|i| times.iter().map(move |t| (*i, *t)));
    for (interval, (write, restart)) in corners {
        let o = if wall_known {
            failures::given_wall(hours, rate, write, restart, interval)
        } else {
            failures::given_useful(hours, rate, write, restart, interval)
        };
        let Err(why) = o else { continue };
        return Err(infeasible(t, f, rate, (write, restart), wall_known, why));
    }
    Ok(())
}

/// The error for failure settings under which the run never finishes, naming the inputs that
/// disagree (with those that set the length a count of interruptions is spread over).
fn infeasible(
    t: &TrainInputs,
    f: &Failures,
    rate: Rate,
    (write, restart): (f64, f64),
    wall_known: bool,
    why: failures::Infeasible,
) -> EstimateError {
    let rate_field = match f.rate {
        RateSpec::Count(_) => Field::Interruptions,
        RateSpec::Mtbf(_) => Field::Mtbf,
    };
    let length = length_fields(t, f, wall_known);
    let (mut fields, message) = match why {
        failures::Infeasible::TooFrequent { mtbi_h } => {
            let message = match rate {
                Rate::Count(n) => format!(
                    "{} interruptions over a run of {} is one every {}, more often than once a minute (the least {{mtbf}} accepts); {{interruptions}} counts the interruptions over the whole run",
                    fmt_input(n),
                    duration_text(mtbi_h * n),
                    duration_text(mtbi_h)
                ),
                Rate::Mtbf(_) => format!(
                    "an interruption every {} is more often than once a minute, the least the failure model accepts",
                    duration_text(mtbi_h)
                ),
            };
            (vec![rate_field], message)
        }
        failures::Infeasible::NeverFinishes {
            lost_fraction,
            mtbi_h,
            interval_h,
        } => {
            let mut fields = vec![rate_field, Field::CheckpointMinutes];
            if mtbi_h.is_finite() {
                fields.push(Field::RestartMinutes);
            }
            if f.interval_h.is_some() {
                fields.push(Field::CheckpointInterval);
            }
            let message = never_finishes(f, (write, restart), lost_fraction, mtbi_h, interval_h);
            (fields, message)
        }
    };
    fields.extend(&length);
    EstimateError::Disagree {
        fields,
        message: message.into(),
    }
}

/// The inputs that set the length a count of interruptions is spread over (none for a mean
/// time between interruptions).
fn length_fields(t: &TrainInputs, f: &Failures, wall_known: bool) -> Vec<Field> {
    if !matches!(f.rate, RateSpec::Count(_)) {
        return Vec::new();
    }
    let given = |field: Field, v: bool| v.then_some(field);
    let from_compute = !wall_known;
    [
        given(Field::Days, t.wall_h.is_some()),
        given(Field::GpuHours, t.gpu_hours.is_some()),
        given(Field::Gpus, t.gpu_hours.is_some() && t.gpus.is_some()),
        given(Field::Flops, from_compute && t.flops.is_some()),
        given(Field::Params, from_compute && t.params.is_some()),
        given(
            Field::ActiveParams,
            from_compute && t.active_params.is_some(),
        ),
        given(Field::Tokens, from_compute && t.tokens.is_some()),
        given(Field::Model, from_compute && t.model.is_some()),
        given(Field::Mfu, from_compute && t.mfu.is_some()),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Why a run never finishes: the share of the wall time its checkpoints, lost work and
/// restarts would take.
fn never_finishes(
    f: &Failures,
    (write, restart): (f64, f64),
    lost_fraction: f64,
    mtbi_h: f64,
    interval_h: f64,
) -> String {
    let every = if mtbi_h.is_finite() {
        format!("an interruption every {}", duration_text(mtbi_h))
    } else {
        "no interruptions".to_string()
    };
    let ranged = !(f.write_h.is_point()
        && f.restart_h.is_point()
        && f.interval_h.is_none_or(|i| i.is_point())
        && match &f.rate {
            RateSpec::Count(c) => c.is_point(),
            RateSpec::Mtbf(m) => m.is_point(),
        });
    format!(
        "with {every}, a checkpoint write of {}, a restart of {} and a checkpoint every {}{}, checkpoints, lost work and restarts would take {}% of the wall time, so the run never finishes; shorten the checkpoint write or restart, or check the interruption rate",
        duration_text(write),
        duration_text(restart),
        duration_text(interval_h),
        if ranged { " (the worst ends of the ranges)" } else { "" },
        fmt_human(lost_fraction * 100.0)
    )
}

/// A time in hours in the unit that reads best: `30 min`, `1.9 s`, `2.78 h`, `12 d`.
fn duration_text(h: f64) -> String {
    if h < 1.0 / 60.0 {
        format!("{} s", fmt_human(h * 3600.0))
    } else if h < 1.0 {
        format!("{} min", fmt_human(h * 60.0))
    } else if h < 48.0 {
        format!("{} h", fmt_human(h))
    } else {
        format!("{} d", fmt_human(h / 24.0))
    }
}
