//! The pipeline's gaps: intervals whose CPU or DRAM energy waits for a counter's next reading
//! (`Pending`), and polls without a cumulative CPU-time line whose energy waits for the next
//! complete poll (`Carry`); how each is split once its readings come, or modelled when they
//! never do (docs/models.md section 8, "Failed reads").

use super::attribution::{self, Cpu, Dram, Node, Use};
use super::{weakest, Misses, Pipeline};
use crate::energy::Method;
use crate::source::DeviceId;
use std::collections::BTreeMap;

/// Intervals whose CPU (or DRAM) energy was left to the counter's next reading, which has not
/// come yet: charged by the model if it never does (the device dropped, or the run ended), or
/// shared over them by the reading that covers them.
#[derive(Clone, Debug, Default)]
pub(super) struct Pending {
    /// Each interval apart (start, length, busy and all CPU time, s, the consumers' use), so
    /// that each is split with its own load (hostile round 10: the span's average moved energy
    /// to a process from intervals it did not use the CPU in).
    each: Vec<(f64, f64, f64, f64, Vec<Use>)>,
}

impl Pending {
    pub(super) fn add(&mut self, t0: f64, dt: f64, d_busy: f64, d_total: f64, uses: &[Use]) {
        self.each.push((t0, dt, d_busy, d_total, uses.to_vec()));
    }

    /// Their length together, s.
    fn dt(&self) -> f64 {
        self.each.iter().map(|e| e.1).sum()
    }
}

/// Polls without a cumulative CPU-time line (the machine's, or a watched tree's): their CPU and
/// DRAM energy waits in a [`Carry`] and is split with the next complete poll's, over the time
/// between the readings around them. Kept for the run's note.
#[derive(Clone, Debug)]
pub(super) struct Lacking {
    pub(super) count: u64,
    pub(super) first_t: f64,
    pub(super) what: &'static str,
    /// Polls whose energy was split with a later complete poll's.
    pub(super) merged: u64,
    /// Whether the run ended inside such a gap (its last span split at the rates before it).
    pub(super) at_end: Option<f64>,
}

/// The CPU and DRAM energy of polls without a cumulative CPU-time line, with the CPU times
/// that were read over them: split once the next complete poll's differences span the gap.
#[derive(Clone, Debug, Default)]
pub(super) struct Carry {
    t0: f64,
    pub(super) dt: f64,
    pub(super) d_busy: f64,
    pub(super) d_total: f64,
    pub(super) uses: Vec<Use>,
    /// Measured CPU energy, J, and the time over which the CPU was modelled instead, s.
    pub(super) cpu_j: f64,
    pub(super) cpu_model_dt: f64,
    /// Measured DRAM energy, J, and the time over which DRAM was modelled, s.
    pub(super) dram_j: f64,
    pub(super) dram_model_dt: f64,
    /// Time without the machine's line, and without each tree's, s (for a run that ends in
    /// the gap: no reading spans it then).
    pub(super) lack_machine_dt: f64,
    pub(super) lack_tree_dt: Vec<f64>,
    /// Polls in it that lacked a line.
    pub(super) polls: u64,
    /// Time whose CPU energy waits for the package counter's next reading (its reads failed
    /// inside the gap): covered by that reading, or modelled if the counter is dropped.
    pub(super) cpu_wait_dt: f64,
}

/// Counts one missed read of `key` at `t`, keeping the first one's time and reason.
pub(super) fn count_miss(
    misses: &mut BTreeMap<DeviceId, Misses>,
    key: &DeviceId,
    t: f64,
    reason: impl FnOnce() -> String,
) {
    misses
        .entry(key.clone())
        .and_modify(|m| {
            m.count += 1;
            m.last_t = t;
        })
        .or_insert_with(|| Misses {
            count: 1,
            first_t: t,
            last_t: t,
            reason: reason(),
            before_first: false,
        });
}

impl Pipeline {
    /// Charges intervals whose counter reading never came by the model: the CPU (`cpu`) or
    /// DRAM (`dram`), or by the reading that covers them (`Cpu::Measured`, `Dram::Measured`: shared
    /// in proportion to time), interval by interval.
    pub(super) fn charge_pending(&mut self, p: &Pending, cpu: Cpu, dram: Dram) {
        let span = p.dt();
        if span <= 0.0 {
            return;
        }
        // Interval by interval, each with its own load; a measured energy is shared in
        // proportion to time (the power between the readings taken as even).
        for (t0, dt, d_busy, d_total, uses) in &p.each {
            let f = dt / span;
            let cpu = match cpu {
                Cpu::Measured(e) => Cpu::Measured(e * f),
                c => c,
            };
            let dram = match dram {
                Dram::Measured(e) => Dram::Measured(e * f),
                d => d,
            };
            let u = if *d_total > 0.0 {
                d_busy / d_total
            } else {
                0.0
            };
            let split = attribution::split(
                &Node {
                    dt: *dt,
                    cpus: f64::from(self.cpus),
                    d_busy: *d_busy,
                    u,
                    mem_gb: self.mem_gb,
                    cpu,
                    dram,
                    gpus: &[],
                },
                uses,
            );
            self.book(&split, uses.len(), (*t0, t0 + dt, *dt), true);
        }
    }

    /// Ends the measurement: intervals still waiting for a CPU or DRAM counter's next reading
    /// (the device's reads failed to the end) are charged by the model, since no reading will
    /// cover them now. Call once, after the last poll.
    pub fn close(&mut self) {
        // A run that ended in a gap of the CPU-time lines: no reading spans the gap's end, so
        // the machine's and the trees' CPU time over it are taken at the rates read before it.
        if let Some(mut c) = self.carry.take() {
            if let Some((rb, rt)) = self.machine_rate {
                c.d_busy += rb * c.lack_machine_dt;
                c.d_total += rt * c.lack_machine_dt;
            }
            for ((u, lack), tr) in c.uses.iter_mut().zip(&c.lack_tree_dt).zip(&self.trees) {
                u.cpu_s += tr.rate * lack;
            }
            if let Some(e) = &mut self.lacking {
                e.at_end = Some(
                    c.lack_machine_dt
                        .max(c.lack_tree_dt.iter().copied().fold(0.0, f64::max)),
                );
            }
            // The package counter never came back: what waited for it is modelled.
            c.cpu_model_dt += std::mem::take(&mut c.cpu_wait_dt);
            self.split_carry(&c);
        }
        if let Some(p) = self.pending_cpu.take() {
            let cpu = self.cpu_model();
            self.charge_pending(&p, cpu, Dram::Absent);
        }
        if let Some(p) = self.pending_dram.take() {
            if self.mem_gb > 0.0 {
                self.dram_method = weakest(self.dram_method, Method::Modelled);
                let w = self.inputs.dram_w_per_gb * self.mem_gb;
                self.charge_pending(&p, Cpu::Deferred, Dram::Modelled(w));
            }
        }
    }

    /// Puts one interval's CPU and DRAM energy (and the CPU times read over it) into `carry`:
    /// a poll without a CPU-time line (`lacking`), or any poll while energy waits.
    pub(super) fn hold(
        &mut self,
        (t0, dt, d_busy, d_total): (f64, f64, f64, f64),
        uses: &[Use],
        cpu: Cpu,
        dram: Dram,
        lacks_machine: bool,
        lacking: bool,
    ) {
        let c = self.carry.get_or_insert_with(|| Carry {
            t0,
            ..Carry::default()
        });
        c.dt += dt;
        c.d_busy += d_busy;
        c.d_total += d_total;
        if c.uses.len() < uses.len() {
            c.uses.resize(uses.len(), Use::default());
        }
        for (cu, u) in c.uses.iter_mut().zip(uses) {
            cu.cpu_s += u.cpu_s;
            cu.rss_gb = u.rss_gb;
        }
        match cpu {
            Cpu::Measured(e) => {
                // The reading covers the intervals that waited for it.
                c.cpu_j += e;
                c.cpu_wait_dt = 0.0;
            }
            Cpu::Modelled(_) => {
                // The counter is gone: what waited for it is modelled too.
                c.cpu_model_dt += dt + std::mem::take(&mut c.cpu_wait_dt);
            }
            Cpu::Deferred => c.cpu_wait_dt += dt,
        }
        match dram {
            Dram::Measured(e) => c.dram_j += e,
            Dram::Modelled(_) => c.dram_model_dt += dt,
            Dram::Absent => {}
        }
        if lacks_machine {
            c.lack_machine_dt += dt;
        }
        c.polls += u64::from(lacking);
        if c.lack_tree_dt.len() < self.trees.len() {
            c.lack_tree_dt.resize(self.trees.len(), 0.0);
        }
        for (lack, tr) in c.lack_tree_dt.iter_mut().zip(&self.trees) {
            if tr.cpu_s.is_some() && tr.seen != self.polls {
                *lack += dt;
            }
        }
    }

    /// A complete poll after a gap, at `t`: its differences span the gap, so the energy that
    /// waited in `carry` is split with them, over the whole span.
    pub(super) fn end_gap(&mut self, t: f64) {
        let Some(c) = self.carry.take() else {
            return;
        };
        if let Some(e) = &mut self.lacking {
            e.merged += c.polls;
        }
        if c.cpu_wait_dt > 0.0 && c.dt > 0.0 {
            // Still waiting for the package counter: its share of the span waits on,
            // with the span's busy share.
            let f = c.cpu_wait_dt / c.dt;
            let scaled: Vec<Use> = c
                .uses
                .iter()
                .map(|u| Use {
                    cpu_s: u.cpu_s * f,
                    rss_gb: u.rss_gb,
                })
                .collect();
            self.pending_cpu.get_or_insert_with(Pending::default).add(
                t - c.cpu_wait_dt,
                c.cpu_wait_dt,
                c.d_busy * f,
                c.d_total * f,
                &scaled,
            );
        }
        self.split_carry(&c);
    }

    /// Splits the energy that waited in `c` over its whole span, with the CPU times read over
    /// it, and books it over that span (spread over the profile's bins and the window marks).
    pub(super) fn split_carry(&mut self, c: &Carry) {
        if c.dt <= 0.0 {
            return;
        }
        let u = if c.d_total > 0.0 {
            c.d_busy / c.d_total
        } else {
            0.0
        };
        let cpu = if c.cpu_model_dt > 0.0 {
            let Cpu::Modelled(tdp) = self.cpu_model() else {
                return;
            };
            if c.cpu_j == 0.0 && c.cpu_model_dt >= c.dt {
                Cpu::Modelled(tdp)
            } else {
                let model = tdp * crate::source::procfs::cpu_curve(u) * c.cpu_model_dt;
                Cpu::Measured(c.cpu_j + model)
            }
        } else if c.cpu_j > 0.0 {
            Cpu::Measured(c.cpu_j)
        } else {
            Cpu::Deferred
        };
        let w = self.inputs.dram_w_per_gb * self.mem_gb;
        let dram = if c.dram_model_dt > 0.0 && c.dram_j == 0.0 && c.dram_model_dt >= c.dt {
            Dram::Modelled(w)
        } else if c.dram_j > 0.0 || c.dram_model_dt > 0.0 {
            Dram::Measured(c.dram_j + w * c.dram_model_dt)
        } else {
            Dram::Absent
        };
        let split = attribution::split(
            &Node {
                dt: c.dt,
                cpus: f64::from(self.cpus),
                d_busy: c.d_busy,
                u,
                mem_gb: self.mem_gb,
                cpu,
                dram,
                gpus: &[],
            },
            &c.uses,
        );
        self.book(&split, c.uses.len(), (c.t0, c.t0 + c.dt, c.dt), true);
    }
}
