//! One poll's readings into energy by device: counters' deltas ([`CounterDiff`]: wraps and
//! resets said in [`Lost`]), sampled power's trapezoid ([`PowerIntegrator`]); failed reads and
//! dropped devices kept in [`Lost`] with a note. Part of [`NodeAgent::tick_use`].

use super::NodeAgent;
use crate::energy::{CounterDiff, Delta, Method};
use crate::measure::attribution::Gpu;
use crate::source::{Part, Reading, Value};
use crate::units::Watts;

/// What one poll's readings gave.
#[derive(Debug, Default)]
pub(super) struct Read {
    /// CPU package (and psys) energy, J; `None` when no CPU counter gave a delta.
    pub(super) pkg: Option<f64>,
    /// DRAM energy, J; `None` when no DRAM counter gave a delta.
    pub(super) dram: Option<f64>,
    /// The GPUs read this interval: device, method, energy and use.
    pub(super) gpus: Vec<(String, Method, Gpu)>,
    /// The parts of the devices whose read failed.
    pub(super) missed: Vec<Part>,
    /// Each device's energy this interval: device, component, method, J.
    pub(super) device_j: Vec<(String, &'static str, Method, f64)>,
}

impl NodeAgent {
    /// Reads one poll's readings at `t` (`dt` since the last poll; `None` at the first).
    pub(super) fn read(&mut self, t: f64, dt: Option<f64>, readings: &[Reading]) -> Read {
        let mut out = Read::default();
        let Read {
            pkg,
            dram,
            gpus,
            missed,
            device_j,
        } = &mut out;
        for r in readings {
            let key = &r.device;
            match &r.value {
                Value::Counter {
                    part,
                    energy_uj,
                    max_uj,
                    used,
                    ..
                } => {
                    self.parts.entry(key.clone()).or_insert(*part);
                    let diff = self
                        .counters
                        .entry(key.clone())
                        .or_insert_with(|| CounterDiff::for_part(*max_uj, *part));
                    let comp = match part {
                        Part::Cpu | Part::Psys => "cpu",
                        Part::Dram => "dram",
                        _ => "gpu",
                    };
                    let Some(delta) = diff.update_at(*energy_uj, t) else {
                        // Its first reading: exposed at 0 J from now on.
                        device_j.push((key.to_string(), comp, Method::Measured, 0.0));
                        continue;
                    };
                    if let Delta::Implausible(i) = delta {
                        self.lost.implausible(&key.to_string(), t, &i); // counted as 0 J below
                    }
                    if let Delta::Reset(_) = delta {
                        *self.lost.resets.entry(key.to_string()).or_insert(0) += 1;
                        self.lost.note(format!(
                            "{key}: energy counter reset at t = {ts} s (driver reload?); \
                             counting from the reset",
                            ts = crate::uncertainty::fmt_seconds(t)
                        ));
                    }
                    #[allow(clippy::cast_precision_loss)]
                    let j = delta.value() as f64 / 1e6;
                    match part {
                        Part::Cpu | Part::Psys => *pkg.get_or_insert(0.0) += j,
                        Part::Dram => *dram.get_or_insert(0.0) += j,
                        _ => gpus.push((
                            key.to_string(),
                            Method::Measured,
                            Gpu {
                                j,
                                used: *used,
                                share: None,
                            },
                        )),
                    }
                    device_j.push((key.to_string(), comp, Method::Measured, j));
                }
                Value::Power {
                    part,
                    power_w,
                    used,
                    ..
                } => {
                    self.parts.entry(key.clone()).or_insert(*part);
                    if let Some(i) = crate::energy::Implausible::power(*part, *power_w) {
                        // A missed read: the trapezoid around it spans the gap.
                        self.lost.implausible(&key.to_string(), t, &i);
                        missed.push(*part);
                        continue;
                    }
                    let j = self
                        .powers
                        .entry(key.clone())
                        .or_default()
                        .update(crate::units::Seconds(t), Watts(*power_w))
                        .0;
                    let comp = match part {
                        Part::Cpu | Part::Psys => "cpu",
                        Part::Dram => "dram",
                        _ => "gpu",
                    };
                    if dt.is_none() {
                        // Its first reading: exposed at 0 J from now on.
                        device_j.push((key.to_string(), comp, Method::Integrated, 0.0));
                        continue;
                    }
                    match part {
                        Part::Cpu | Part::Psys => *pkg.get_or_insert(0.0) += j,
                        Part::Dram => *dram.get_or_insert(0.0) += j,
                        _ => gpus.push((
                            key.to_string(),
                            Method::Integrated,
                            Gpu {
                                j,
                                used: *used,
                                share: None,
                            },
                        )),
                    }
                    device_j.push((key.to_string(), comp, Method::Integrated, j));
                }
                Value::Missed { reason } => {
                    if let Some(p) = self.parts.get(key) {
                        missed.push(*p);
                    }
                    let n = self.lost.read_failures.entry(key.to_string()).or_insert(0);
                    *n += 1;
                    if *n == 1 {
                        self.lost.note(format!(
                            "{key}: a read failed at t = {ts} s ({reason}); retried, its \
                             next reading covers the gap",
                            ts = crate::uncertainty::fmt_seconds(t)
                        ));
                    }
                }
                Value::Dropped { reason } => {
                    self.lost.dropped.insert(key.to_string(), reason.clone());
                    self.lost.note(format!(
                        "{key} dropped at t = {ts} s: {reason}; its energy from then on is \
                         not counted",
                        ts = crate::uncertainty::fmt_seconds(t)
                    ));
                }
                Value::Machine { .. } | Value::Tree { .. } => {}
            }
        }
        out
    }
}
