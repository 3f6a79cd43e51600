//! `plan checkpoint`: how often a training job should checkpoint, and what its interruptions
//! cost. The mean time between interruptions (a count over the run, or one device's mean time
//! between failures over the devices), the checkpoint write (a time, or a size over a storage
//! bandwidth), synchronous or asynchronous writes and the restart time give the optimal interval
//! (Young's or Daly's) and the lost fraction of wall time split into checkpointing, rework and
//! restart, by the one failure model of the training estimate ([`crate::estimate::failures`]);
//! with hardware, the footprint of the whole run from the accounting core, the lost share of it
//! and a sweep of intervals around the optimum.

use crate::catalog::Catalog;
use crate::estimate::failures::{self, Parts};
use crate::estimate::EstimateError;
use crate::field::{Field, Msg};
use crate::uncertainty::{fmt_human, Range};

mod lost;
mod wire;
pub use lost::{has_hardware, lost, CheckpointReport, Lost};
pub use wire::SCHEMA;

/// Which optimal interval a plan uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Method {
    /// Young (1974): `sqrt(2 C M)`.
    Young,
    /// Daly (2006), the higher-order optimum; the training estimate's default.
    #[default]
    Daly,
}

impl Method {
    /// The name in output (`young`, `daly`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Method::Young => "young",
            Method::Daly => "daly",
        }
    }
}

/// `plan checkpoint` inputs, in base units (hours, GB, GB/s). Each value is one number (a
/// [`Range`] that is a point): a plan is for one setting.
#[derive(Clone, Debug, Default)]
pub struct CheckpointInputs {
    /// `interruptions` over the run (with `days`).
    pub interruptions: Option<Range>,
    /// `days`: the run's wall-clock length, hours.
    pub wall_h: Option<Range>,
    /// `mtbf_per_device`: one device's mean time between failures, hours (with `gpus`).
    pub mtbf_per_device_h: Option<Range>,
    /// `gpus`: the devices of the job.
    pub devices: Option<Range>,
    /// `checkpoint_minutes`: the time to write one checkpoint, hours.
    pub write_h: Option<Range>,
    /// `checkpoint_size`, GB (with `storage_bandwidth`).
    pub size_gb: Option<Range>,
    /// `storage_bandwidth`, GB/s.
    pub bandwidth_gb_s: Option<Range>,
    /// `restart_minutes`: the time from an interruption to training again, hours.
    pub restart_h: Option<Range>,
    /// `asynchronous`: the write goes on behind training, which stalls only for a snapshot.
    pub asynchronous: bool,
    /// `stall_minutes`: the stall of one asynchronous checkpoint, hours (default 0).
    pub stall_h: Option<Range>,
    /// Which optimal interval.
    pub method: Method,
}

/// Where the mean time between interruptions comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Rate {
    /// `M = wall / interruptions`.
    Count {
        /// Interruptions over the run.
        interruptions: f64,
        /// The run's wall-clock hours.
        wall_h: f64,
    },
    /// `M = device MTBF / devices`: any device's failure stops the job.
    PerDevice {
        /// One device's mean time between failures, hours.
        mtbf_h: f64,
        /// Devices of the job.
        devices: f64,
    },
}

/// The losses at one checkpoint interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// The interval, hours.
    pub interval_h: f64,
    /// The interval over the optimum.
    pub factor: f64,
    /// The lost fraction of wall time by cause.
    pub parts: Parts,
}

impl Point {
    /// The whole lost fraction of wall time (1 or more: the run never finishes).
    #[must_use]
    pub fn lost_fraction(&self) -> f64 {
        self.parts.total()
    }
}

/// The catalog default of one device's mean time between interruptions, hours.
pub const DEFAULT_MTBF_KEY: &str = "plan.mtbf_per_device_hours";

/// The intervals of the sweep, as multiples of the optimum.
pub const SWEEP: [f64; 7] = [0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0];

/// A checkpoint plan.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckpointPlan {
    /// Where the mean time between interruptions comes from.
    pub rate: Rate,
    /// Mean time between interruptions, hours.
    pub mtbi_h: f64,
    /// The run's wall-clock hours, when known.
    pub wall_h: Option<f64>,
    /// Devices of the job, when known.
    pub devices: Option<f64>,
    /// Time to write one checkpoint, hours.
    pub write_h: f64,
    /// Checkpoint size (GB) and storage bandwidth (GB/s) the write time came from.
    pub size: Option<(f64, f64)>,
    /// Training stalled per checkpoint, hours (the write itself when synchronous).
    pub stall_h: f64,
    /// Restart time, hours.
    pub restart_h: f64,
    /// Asynchronous checkpoints.
    pub asynchronous: bool,
    /// The optimum used.
    pub method: Method,
    /// Young's optimal interval, hours.
    pub young_h: f64,
    /// Daly's optimal interval, hours.
    pub daly_h: f64,
    /// The losses at the optimum of `method`.
    pub optimum: Point,
    /// The losses at [`SWEEP`] multiples of the optimum (asynchronous: only those at least one
    /// write long).
    pub sweep: Vec<Point>,
    /// What the plan assumed (messages naming fields).
    pub notes: Vec<Msg>,
}

impl CheckpointPlan {
    /// Wall-clock hours lost over the run, when its length is known.
    #[must_use]
    pub fn lost_h(&self) -> Option<f64> {
        self.wall_h.map(|w| w * self.optimum.lost_fraction())
    }

    /// The losses at interval `tau` (hours), by the failure model.
    #[must_use]
    pub fn at(&self, tau: f64, factor: f64) -> Point {
        let t = Times {
            mtbi_h: self.mtbi_h,
            write_h: self.write_h,
            stall_h: self.stall_h,
            restart_h: self.restart_h,
            asynchronous: self.asynchronous,
        };
        t.at(tau, factor)
    }
}

/// The times the losses depend on.
struct Times {
    mtbi_h: f64,
    write_h: f64,
    stall_h: f64,
    restart_h: f64,
    asynchronous: bool,
}

impl Times {
    fn at(&self, tau: f64, factor: f64) -> Point {
        let m = self.mtbi_h;
        let parts = if self.asynchronous {
            failures::parts_async(tau, self.stall_h, self.write_h, self.restart_h, m)
        } else {
            failures::parts(tau, self.write_h, self.restart_h, m)
        };
        Point {
            interval_h: tau,
            factor,
            parts,
        }
    }
}

/// One value of a field: a range is refused.
fn one(field: Field, r: Option<Range>) -> Result<Option<f64>, EstimateError> {
    match r {
        None => Ok(None),
        Some(r) if r.is_point() => Ok(Some(r.lo)),
        Some(_) => Err(EstimateError::Invalid {
            field,
            message: "give one value, not a range: a plan is for one setting (plan each end of the range on its own)".into(),
        }),
    }
}

fn missing(what: &str) -> EstimateError {
    EstimateError::Missing(what.into())
}

/// Plans checkpoints.
///
/// # Errors
/// Values outside their limits or given as ranges, missing or conflicting inputs, no
/// interruptions, a checkpoint write no shorter than the mean time between interruptions, and
/// settings under which the run never finishes, each naming its fields.
pub fn plan(cat: &Catalog, i: &CheckpointInputs) -> Result<CheckpointPlan, EstimateError> {
    crate::limits::check_all(&[
        (Field::Interruptions, i.interruptions),
        (Field::Days, i.wall_h),
        (Field::MtbfPerDevice, i.mtbf_per_device_h),
        (Field::Gpus, i.devices),
        (Field::CheckpointMinutes, i.write_h),
        (Field::CheckpointSize, i.size_gb),
        (Field::StorageBandwidth, i.bandwidth_gb_s),
        (Field::RestartMinutes, i.restart_h),
        (Field::StallMinutes, i.stall_h),
    ])?;
    let wall_h = one(Field::Days, i.wall_h)?;
    let devices = one(Field::Gpus, i.devices)?;
    let mut notes = Vec::new();
    let (rate, rate_fields) = rate(cat, i, (wall_h, devices), &mut notes)?;
    let mtbi_h = match rate {
        Rate::Count {
            interruptions,
            wall_h,
        } => wall_h / interruptions,
        Rate::PerDevice { mtbf_h, devices } => mtbf_h / devices,
    };
    let (write_h, size, write_fields) = write(i)?;
    let restart_h = one(Field::RestartMinutes, i.restart_h)?.ok_or_else(|| {
        missing("{restart_minutes}: how long a restart after an interruption takes")
    })?;
    let stall_h = if i.asynchronous {
        let s = one(Field::StallMinutes, i.stall_h)?.unwrap_or_else(|| {
            notes.push(Msg::new("asynchronous checkpoints with no stall given: the snapshot that training waits for is taken as free (give {stall_minutes})"));
            0.0
        });
        if s > write_h {
            return Err(EstimateError::Invalid {
                field: Field::StallMinutes,
                message: "the stall of an asynchronous checkpoint is longer than the write itself; synchronous checkpoints would stall less".into(),
            });
        }
        s
    } else {
        if i.stall_h.is_some() {
            return Err(EstimateError::Invalid {
                field: Field::StallMinutes,
                message: "needs {asynchronous}: a stall only applies to asynchronous checkpoints (a synchronous checkpoint stalls for its whole write); add {asynchronous}, or drop {stall_minutes}".into(),
            });
        }
        write_h
    };
    feasible(mtbi_h, write_h, &rate_fields, &write_fields)?;
    let (young_h, daly_h) = if i.asynchronous {
        // At least one write long: one write in flight at a time.
        (
            failures::young_interval(stall_h, mtbi_h).max(write_h),
            failures::daly_interval(stall_h, mtbi_h).max(write_h),
        )
    } else {
        (
            failures::young_interval(write_h, mtbi_h),
            failures::daly_interval(write_h, mtbi_h),
        )
    };
    let tau = match i.method {
        Method::Young => young_h,
        Method::Daly => daly_h,
    };
    let times = Times {
        mtbi_h,
        write_h,
        stall_h,
        restart_h,
        asynchronous: i.asynchronous,
    };
    let optimum = times.at(tau, 1.0);
    let lost = optimum.lost_fraction();
    // A NaN fraction is refused too.
    if lost.partial_cmp(&1.0).is_none_or(|o| o.is_ge()) {
        let mut fields = rate_fields;
        fields.extend(write_fields);
        fields.push(Field::RestartMinutes);
        return Err(EstimateError::Disagree {
            fields,
            message: format!(
                "with an interruption every {}, checkpoints, lost work and restarts would take {}% of the wall time even at the best interval, so the run never finishes; shorten the checkpoint write or the restart",
                hours_text(mtbi_h),
                fmt_human(lost * 100.0)
            )
            .into(),
        });
    }
    if i.asynchronous {
        // Asynchronous saves the write's stall but makes a checkpoint safe only once its write
        // ends, so more work is redone after an interruption: with a stall near the write, the
        // trade is lost. Compared at each mode's own optimal interval (the same method).
        let sync = Times {
            stall_h: write_h,
            asynchronous: false,
            ..times
        };
        let sync_tau = match i.method {
            Method::Young => failures::young_interval(write_h, mtbi_h),
            Method::Daly => failures::daly_interval(write_h, mtbi_h),
        };
        let sync_lost = sync.at(sync_tau, 1.0).lost_fraction();
        if sync_lost <= lost {
            notes.push(Msg::new(format!(
                "asynchronous checkpoints lose more time here than synchronous ones would ({}% against {}% at each one's optimal interval): a stall of {} is close to the write of {}, and a background write makes each checkpoint safe only when it ends; drop {{asynchronous}}, or give the shorter stall the snapshot really takes",
                fmt_human(lost * 100.0),
                fmt_human(sync_lost * 100.0),
                hours_text(stall_h),
                hours_text(write_h),
            )));
        }
    }
    let sweep = SWEEP
        .iter()
        .map(|&k| (k * tau, k))
        .filter(|&(t, _)| !i.asynchronous || t >= write_h * (1.0 - 1e-12))
        .map(|(t, k)| times.at(t, k))
        .collect();
    Ok(CheckpointPlan {
        rate,
        mtbi_h,
        wall_h,
        devices,
        write_h,
        size,
        stall_h,
        restart_h,
        asynchronous: i.asynchronous,
        method: i.method,
        young_h,
        daly_h,
        optimum,
        sweep,
        notes,
    })
}

/// The interruption rate and the fields that gave it; with only the devices, one device's rate
/// from the catalog (`plan.mtbf_per_device_hours`), said in a note.
fn rate(
    cat: &Catalog,
    i: &CheckpointInputs,
    (wall_h, devices): (Option<f64>, Option<f64>),
    notes: &mut Vec<Msg>,
) -> Result<(Rate, Vec<Field>), EstimateError> {
    let n = one(Field::Interruptions, i.interruptions)?;
    let per_device = one(Field::MtbfPerDevice, i.mtbf_per_device_h)?;
    match (n, per_device) {
        (Some(_), Some(_)) => Err(EstimateError::Conflict {
            a: Field::Interruptions,
            b: Field::MtbfPerDevice,
            why: "give the interruptions counted over the run ({interruptions} with {days}) or one device's failure rate ({mtbf_per_device} with {gpus}), not both".into(),
        }),
        (Some(n), None) => {
            if n <= 0.0 {
                return Err(EstimateError::Invalid {
                    field: Field::Interruptions,
                    message: "must be above zero: with no interruptions there is nothing to recover from, and the best plan is one checkpoint at the end".into(),
                });
            }
            let wall_h = wall_h.ok_or_else(|| {
                missing("{days}: the run's length, which {interruptions} are counted over")
            })?;
            Ok((
                Rate::Count {
                    interruptions: n,
                    wall_h,
                },
                vec![Field::Interruptions, Field::Days],
            ))
        }
        (None, Some(mtbf_h)) => {
            let devices = devices.ok_or_else(|| {
                missing("{gpus}: the devices of the job, each failing every {mtbf_per_device}")
            })?;
            Ok((
                Rate::PerDevice { mtbf_h, devices },
                vec![Field::MtbfPerDevice, Field::Gpus],
            ))
        }
        (None, None) => {
            let Some(devices) = devices else {
                return Err(missing(
                    "{interruptions} with {days} (interruptions counted over the run), or {mtbf_per_device} with {gpus} (one device's mean time between failures), or {gpus} alone (the catalog's rate per device)",
                ));
            };
            let c = cat.coefficient(DEFAULT_MTBF_KEY)?;
            let mtbf_h = c.range().mid();
            notes.push(Msg::new(format!(
                "no {{interruptions}} or {{mtbf_per_device}}: one device interrupts the job every {} (catalog default {DEFAULT_MTBF_KEY}, from {}); give your own",
                hours_text(mtbf_h),
                c.source.as_deref().unwrap_or("no source")
            )));
            Ok((Rate::PerDevice { mtbf_h, devices }, vec![Field::Gpus]))
        }
    }
}

/// The write time, the size and bandwidth it came from, and the fields that gave it.
#[allow(clippy::type_complexity)]
fn write(i: &CheckpointInputs) -> Result<(f64, Option<(f64, f64)>, Vec<Field>), EstimateError> {
    let minutes = one(Field::CheckpointMinutes, i.write_h)?;
    let size = one(Field::CheckpointSize, i.size_gb)?;
    let bandwidth = one(Field::StorageBandwidth, i.bandwidth_gb_s)?;
    match (minutes, size, bandwidth) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(EstimateError::Conflict {
            a: Field::CheckpointMinutes,
            b: if size.is_some() {
                Field::CheckpointSize
            } else {
                Field::StorageBandwidth
            },
            why: "give the write time ({checkpoint_minutes}) or the size and the storage bandwidth ({checkpoint_size} with {storage_bandwidth}), not both".into(),
        }),
        (Some(w), None, None) => Ok((w, None, vec![Field::CheckpointMinutes])),
        (None, Some(s), Some(b)) => Ok((
            s / b / 3600.0,
            Some((s, b)),
            vec![Field::CheckpointSize, Field::StorageBandwidth],
        )),
        (None, Some(_), None) => Err(missing(
            "{storage_bandwidth}: how fast checkpoints are written (GB/s), with {checkpoint_size}",
        )),
        (None, None, Some(_)) => Err(missing(
            "{checkpoint_size}: the size of one checkpoint (GB), with {storage_bandwidth}",
        )),
        (None, None, None) => Err(missing(
            "{checkpoint_minutes} (the time to write one checkpoint), or {checkpoint_size} with {storage_bandwidth}",
        )),
    }
}

/// Refuses interruptions more often than the model accepts, and a write that takes at least
/// the mean time between interruptions.
fn feasible(
    mtbi_h: f64,
    write_h: f64,
    rate_fields: &[Field],
    write_fields: &[Field],
) -> Result<(), EstimateError> {
    if mtbi_h < failures::MIN_MTBI_H {
        return Err(EstimateError::Disagree {
            fields: rate_fields.to_vec(),
            message: format!(
                "an interruption every {} is more often than once a minute, the least the failure model accepts",
                hours_text(mtbi_h)
            )
            .into(),
        });
    }
    if write_h >= mtbi_h {
        let mut fields = write_fields.to_vec();
        fields.extend(rate_fields);
        return Err(EstimateError::Disagree {
            fields,
            message: format!(
                "a checkpoint write of {} is not shorter than the mean time between interruptions ({}): on average the next interruption comes before a checkpoint is written; write faster or smaller checkpoints",
                hours_text(write_h),
                hours_text(mtbi_h)
            )
            .into(),
        });
    }
    Ok(())
}

/// A time in hours in the unit that reads best: `1.9 s`, `30 min`, `2.78 h`, `12 d`.
#[must_use]
pub fn hours_text(h: f64) -> String {
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

#[cfg(test)]
mod tests;
