//! One poll of the node agent ([`NodeAgent::tick_use`]): its readings into energy
//! (`node_readings.rs`), the machine's CPU time, the workloads seen, then the interval's split
//! with conservation (the module `node`'s doc) and the workloads charged.

use super::readings::Read;
use super::NodeAgent;
use crate::agent::discover::Found;
use crate::agent::figures::{Device, Interval};
use crate::agent::gpu;
use crate::energy::Method;
use crate::footprint::{Busy, ItEnergy};
use crate::measure::attribution::{self, Cpu, Dram, Node, Use};
use crate::source::gpu_use::GpuUse;
use crate::source::procfs::MachineStat;
use crate::source::{Part, Reading};
use crate::units::{GramsCo2e, Hours, Joules, KilowattHours, Litres, Watts};
use std::collections::HashMap;

fn parts3(p: &[f64; 4]) -> [f64; 3] {
    [p[0] + p[1], p[2], p[3]]
}

impl NodeAgent {
    /// [`NodeAgent::tick`] with what each GPU was used by (`nvml/gpu0` -> processes, their
    /// utilisation, MIG instances; from [`crate::source::Source::device_use`]): each GPU split
    /// by the processes' utilisation, else their residence, else equally (the module
    /// `agent::gpu`, docs/models.md); a MIG GPU across its instances first.
    #[allow(clippy::too_many_lines)]
    pub fn tick_use(
        &mut self,
        t: f64,
        readings: &[Reading],
        machine: Option<MachineStat>,
        mut found: Found,
        gpu_use: &HashMap<String, GpuUse>,
    ) -> Interval {
        self.polls += 1;
        self.name_pods(&mut found);
        let dt = self.last_t.map(|l| t - l).filter(|d| *d > 0.0);
        if self.last_t.is_some_and(|l| t <= l) {
            return Interval::default();
        }
        self.last_t = Some(t);
        let Read {
            pkg,
            dram,
            gpus,
            missed,
            device_j,
        } = self.read(t, dt, readings);
        let (mut d_busy, mut d_total) = (0.0, 0.0);
        if let Some(m) = machine {
            if let Some((b, tot)) = self.machine {
                // What was estimated while /proc/stat could not be read is taken back out.
                let (ab, at) = std::mem::take(&mut self.machine_assumed);
                d_busy = (m.busy_s - b - ab).max(0.0);
                d_total = (m.total_s - tot - at).max(0.0);
                if let Some(dt) = dt {
                    self.machine_rate = Some((d_busy / dt, d_total / dt));
                }
            }
            self.machine = Some((m.busy_s, m.total_s));
            self.cpus = m.cpus.max(1);
            self.mem_gb = m.mem_total_gb;
        } else if let (Some(_), Some(dt)) = (self.machine, dt) {
            // /proc/stat unreadable this poll (hostile round 7: the interval was charged as
            // idle, the workloads' share lost, nothing said): the machine's CPU time is taken
            // at the rate of the interval before, corrected at the next reading.
            if let Some((rb, rt)) = self.machine_rate {
                d_busy = rb * dt;
                d_total = rt * dt;
                self.machine_assumed.0 += d_busy;
                self.machine_assumed.1 += d_total;
            }
            let n = self
                .lost
                .read_failures
                .entry("procfs/machine".to_string())
                .or_insert(0);
            *n += 1;
            if *n == 1 {
                self.lost.note(format!(
                    "procfs/machine: /proc/stat could not be read at t = {} s; until it is read \
                     again the machine's CPU time is taken at the rate of the interval before \
                     (wattlens_read_failures_total counts the polls)",
                    crate::uncertainty::fmt_seconds(t)
                ));
            }
        }
        self.lost.vanished_cgroups += found.vanished;
        if found.truncated {
            self.lost.truncated_walks += 1;
            if self.lost.truncated_walks == 1 {
                self.lost.note(
                    "the cgroup tree has more folders than the agent walks; the rest are \
                     charged to idle"
                        .into(),
                );
            }
        }
        let seen_pids: Vec<Vec<u32>> = found.seen.iter().map(|s| s.pids.clone()).collect();
        let (uses, slots) = self.set.observe(t, found.seen);
        for (key, comp, method, j) in device_j {
            let d = self.devices.entry(key).or_insert(Device {
                component: comp,
                method,
                energy: Joules(0.0),
                power: Watts(0.0),
            });
            d.energy += Joules(j);
            d.power = Watts(dt.map_or(0.0, |dt| j / dt));
        }
        let Some(dt) = dt else {
            return Interval::default();
        };
        let cpus = f64::from(self.cpus);
        let u = if d_total > 0.0 { d_busy / d_total } else { 0.0 };
        let cpu = if pkg.is_none() && missed.contains(&Part::Cpu) {
            Cpu::Deferred
        } else if let Some(e) = pkg {
            Cpu::Measured(e)
        } else {
            Cpu::Modelled(
                self.inputs
                    .cpu_tdp
                    .unwrap_or(Watts(self.inputs.cpu_w_per_thread * cpus))
                    .0,
            )
        };
        let dram_e = if dram.is_none() && missed.contains(&Part::Dram) {
            Dram::Absent
        } else if let Some(e) = dram {
            Dram::Measured(e)
        } else if self.mem_gb > 0.0 && pkg.is_none() {
            // Only with a modelled CPU: a measured package without a DRAM domain has its
            // memory power inside it or not measured, never invented here.
            Dram::Modelled(self.inputs.dram_w_per_gb * self.mem_gb)
        } else {
            Dram::Absent
        };
        let uses: Vec<Use> = uses
            .iter()
            .map(|(cpu_s, rss_gb)| Use {
                cpu_s: *cpu_s,
                rss_gb: *rss_gb,
            })
            .collect();
        let split = attribution::split(
            &Node {
                dt,
                cpus,
                d_busy,
                u,
                mem_gb: self.mem_gb,
                cpu,
                dram: dram_e,
                gpus: &[],
            },
            &uses,
        );
        // GPUs: by the workloads' processes on each, where the driver says.
        let mut split = split;
        let mut gpu_by = vec![[0.0; 3]; split.consumers.len()];
        for (key, _, g) in &gpus {
            split.node[3] += g.j;
            let c = gpu::split(key, g.j, g.used, gpu_use.get(key), &seen_pids);
            for ((cons, by), w) in split
                .consumers
                .iter_mut()
                .zip(&mut gpu_by)
                .zip(&c.workloads)
            {
                cons[3] += w.iter().sum::<f64>();
                for (b, x) in by.iter_mut().zip(w) {
                    *b += x;
                }
            }
            split.unattributed[3] += c.idle;
            for (dev, s, e) in c.units {
                *self.gpu_split.entry((dev, s)).or_insert(Joules(0.0)) += Joules(e);
            }
            for (dev, s, e) in c.mig {
                *self.mig.entry((dev, s)).or_insert(Joules(0.0)) += Joules(e);
            }
        }
        let methods = [
            match cpu {
                Cpu::Measured(_) => Some(Method::Measured),
                Cpu::Modelled(_) => Some(Method::Modelled),
                Cpu::Deferred => None,
            },
            match dram_e {
                Dram::Measured(_) => Some(Method::Measured),
                Dram::Modelled(_) => Some(Method::Modelled),
                Dram::Absent => None,
            },
            gpus.iter().map(|g| g.1).reduce(Method::weakest),
        ];
        let node = parts3(&split.node);
        // Modelled parts have no device of their own: the model is the device.
        for (i, (m, name)) in [(methods[0], "model/cpu"), (methods[1], "model/dram")]
            .into_iter()
            .enumerate()
        {
            if m == Some(Method::Modelled) {
                let d = self.devices.entry(name.into()).or_insert(Device {
                    component: crate::agent::set::COMPONENTS[i],
                    method: Method::Modelled,
                    energy: Joules(0.0),
                    power: Watts(0.0),
                });
                d.energy += Joules(node[i]);
                d.power = Watts(node[i] / dt);
            }
        }
        let site = self.site;
        let footprint = |e: [f64; 3]| -> (GramsCo2e, Litres) {
            let Some(s) = site else {
                return (GramsCo2e(0.0), Litres(0.0));
            };
            let f = s.footprint(
                &ItEnergy {
                    accelerators: KilowattHours::from(Joules(e[2])),
                    host: KilowattHours::from(Joules(e[0] + e[1])),
                    rest: KilowattHours(0.0),
                },
                &Busy {
                    accelerators: 0.0,
                    servers: 0.0,
                    period: Hours(dt / 3600.0),
                },
            );
            (GramsCo2e(f.operational_carbon.0 * 1000.0), f.water())
        };
        let mut out = Interval {
            dt,
            node,
            ..Interval::default()
        };
        for ((slot, p), by) in slots.iter().zip(&split.consumers).zip(&gpu_by) {
            let e = parts3(p);
            let (c, w) = footprint(e);
            self.set.charge(slot, e, methods, dt, c, w);
            self.set.charge_gpu(slot, *by);
            for (o, x) in out.workloads.iter_mut().zip(e) {
                *o += x;
            }
        }
        self.set.zero_power_except(&slots);
        out.idle = parts3(&split.unattributed);
        let (c, w) = footprint(node);
        self.carbon += c;
        self.water += w;
        for i in 0..3 {
            self.node[i] += Joules(node[i]);
            self.idle[i] += Joules(out.idle[i]);
            if node[i] > 0.0 {
                if let Some(m) = methods[i] {
                    self.methods[i] = Some(self.methods[i].map_or(m, |o| o.weakest(m)));
                }
            }
        }
        self.power = Watts(node.iter().sum::<f64>() / dt);
        self.set.fold(t);
        out
    }
}
