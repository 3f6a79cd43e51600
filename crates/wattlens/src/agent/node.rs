//! One node's energy, interval by interval, split among its workloads with conservation.
//!
//! Per interval `dt` between two polls, as the meter's pipeline does for `wattlens run`:
//! counters give their delta ([`CounterDiff`]: wraps and resets), sampled power its trapezoid
//! ([`PowerIntegrator`]); the CPU is RAPL's package energy (measured) or `TDP x curve(u) x dt`
//! (modelled), DRAM RAPL's or `W/GB x GB x dt`, each GPU its counter or integrated power. The
//! interval's node energy is then split by the meter's own attribution
//! ([`crate::measure`]'s `attribution::split`): CPU active energy by each workload's share of
//! busy CPU time, idle energy by its share of capacity, DRAM by CPU share (measured) or memory
//! (modelled); each GPU by the workloads' processes on it where the driver lists them (NVML),
//! else equally; and the rest to `idle` (nobody's). So, every interval and for every
//! component: `sum(workloads) + idle = node`.
//!
//! A counter read that failed is retried: its next delta spans the gap (nothing lost); an
//! interval in which every CPU counter missed is charged at the next reading, never modelled
//! (that would count it twice). What was lost or could not be read is kept in [`Lost`].

use super::discover::Found;
use super::figures::{Device, Interval, Lost};
use super::gpu::{self, GpuSplit, MigSplit};
use super::pods::PodNames;
use super::set::{Limits, WorkloadSet};
use crate::energy::{CounterDiff, Delta, Method, PowerIntegrator};
use crate::footprint::{Busy, ItEnergy, SiteValues};
use crate::measure::attribution::{self, Cpu, Dram, Gpu, Node, Use};
use crate::measure::ModelInputs;
use crate::source::gpu_use::GpuUse;
use crate::source::procfs::MachineStat;
use crate::source::{DeviceId, Part, Reading, Value};
use crate::units::{GramsCo2e, Hours, Joules, KilowattHours, Litres, Watts};
use std::collections::{BTreeMap, HashMap};

/// A node's running totals (see the module's doc).
#[derive(Debug)]
pub struct NodeAgent {
    inputs: ModelInputs,
    site: Option<SiteValues>,
    counters: HashMap<DeviceId, CounterDiff>,
    powers: HashMap<DeviceId, PowerIntegrator>,
    parts: HashMap<DeviceId, Part>,
    last_t: Option<f64>,
    machine: Option<(f64, f64)>,
    cpus: u32,
    mem_gb: f64,
    devices: BTreeMap<String, Device>,
    node: [Joules; 3],
    idle: [Joules; 3],
    methods: [Option<Method>; 3],
    carbon: GramsCo2e,
    water: Litres,
    power: Watts,
    set: WorkloadSet,
    lost: Lost,
    polls: u64,
    pods: Option<PodNames>,
    gpu_split: BTreeMap<(String, GpuSplit), Joules>,
    mig: BTreeMap<(String, MigSplit), Joules>,
}

fn parts3(p: &[f64; 4]) -> [f64; 3] {
    [p[0] + p[1], p[2], p[3]]
}

impl NodeAgent {
    /// A node with these model coefficients (for what is not measured), these limits on the
    /// workloads kept, and the site's values for carbon and water (none: energy only).
    #[must_use]
    pub fn new(inputs: ModelInputs, limits: Limits, site: Option<SiteValues>) -> Self {
        Self {
            inputs,
            site,
            counters: HashMap::new(),
            powers: HashMap::new(),
            parts: HashMap::new(),
            last_t: None,
            machine: None,
            cpus: 1,
            mem_gb: 0.0,
            devices: BTreeMap::new(),
            node: [Joules(0.0); 3],
            idle: [Joules(0.0); 3],
            methods: [None; 3],
            carbon: GramsCo2e(0.0),
            water: Litres(0.0),
            power: Watts(0.0),
            set: WorkloadSet::new(limits),
            lost: Lost::default(),
            polls: 0,
            pods: None,
            gpu_split: BTreeMap::new(),
            mig: BTreeMap::new(),
        }
    }

    /// Each GPU's (and MIG instance's: `nvml/gpu0/gi5`) energy by how it was split among the
    /// workloads.
    #[must_use]
    pub fn gpu_splits(&self) -> &BTreeMap<(String, GpuSplit), Joules> {
        &self.gpu_split
    }

    /// Each MIG instance's share of its parent GPU's energy, by how it was split (modelled).
    #[must_use]
    pub fn mig_energy(&self) -> &BTreeMap<(String, MigSplit), Joules> {
        &self.mig
    }

    /// Names the Kubernetes pods' workloads (namespace and pod) from now on.
    #[must_use]
    pub fn with_pod_names(mut self, pods: PodNames) -> Self {
        self.pods = Some(pods);
        self
    }

    /// The pod names in use, if any.
    #[must_use]
    pub fn pod_names(&self) -> Option<&PodNames> {
        self.pods.as_ref()
    }

    /// The site values carbon and water are counted at.
    #[must_use]
    pub fn site(&self) -> Option<&SiteValues> {
        self.site.as_ref()
    }

    /// Sets the grid intensity carbon is counted at from now on (an intensity series' value
    /// for this moment); nothing without a site.
    pub fn set_intensity(&mut self, g: crate::units::GramsPerKwh) {
        if let Some(s) = &mut self.site {
            s.intensity = g;
        }
    }

    /// Each device's (and model's) totals, by `source/name`.
    #[must_use]
    pub fn devices(&self) -> &BTreeMap<String, Device> {
        &self.devices
    }

    /// The node's energy by component (CPU, DRAM, GPUs).
    #[must_use]
    pub fn node_energy(&self) -> [Joules; 3] {
        self.node
    }

    /// The weakest method behind each component of the node's energy.
    #[must_use]
    pub fn node_methods(&self) -> [Option<Method>; 3] {
        self.methods
    }

    /// The method behind each component ([`super::COMPONENTS`]) as a stable label: the weakest
    /// of the node's devices of that component from their first reading on (a modelled CPU
    /// when there is no CPU device; DRAM modelled with it), so that a workload's series keeps
    /// its labels from its first publication.
    #[must_use]
    pub fn label_methods(&self) -> [Option<Method>; 3] {
        let of = |c: &str| {
            self.devices
                .iter()
                .filter(|(k, d)| d.component == c && !k.starts_with("model/"))
                .map(|(_, d)| d.method)
                .reduce(Method::weakest)
        };
        let cpu = of("cpu").unwrap_or(Method::Modelled);
        let dram = of("dram").or((cpu == Method::Modelled).then_some(Method::Modelled));
        [Some(cpu), dram, of("gpu")]
    }

    /// Energy charged to no workload, by component.
    #[must_use]
    pub fn idle_energy(&self) -> [Joules; 3] {
        self.idle
    }

    /// The node's operational carbon and water so far.
    #[must_use]
    pub fn node_carbon_water(&self) -> (GramsCo2e, Litres) {
        (self.carbon, self.water)
    }

    /// The node's power over the last interval.
    #[must_use]
    pub fn node_power(&self) -> Watts {
        self.power
    }

    /// The workloads.
    #[must_use]
    pub fn workloads(&self) -> &WorkloadSet {
        &self.set
    }

    /// What was lost or not read.
    #[must_use]
    pub fn lost(&self) -> &Lost {
        &self.lost
    }

    /// Polls taken.
    #[must_use]
    pub fn polls(&self) -> u64 {
        self.polls
    }

    /// Takes one poll at `t` (seconds on a monotonic clock): the sources' readings, the
    /// machine's CPU time and memory (when read), and the workloads found; GPUs split without
    /// per-process information (see [`NodeAgent::tick_gpus`]).
    pub fn tick(
        &mut self,
        t: f64,
        readings: &[Reading],
        machine: Option<MachineStat>,
        found: Found,
    ) -> Interval {
        self.tick_gpus(t, readings, machine, found, &HashMap::new())
    }

    /// [`NodeAgent::tick`] with the processes on each GPU (`nvml/gpu0` -> PIDs, from
    /// [`crate::source::Source::device_pids`]): a GPU's energy is split among the workloads by
    /// their processes on it (a workload with two of its three processes gets 2/3), and is
    /// nobody's (idle) when none of theirs is on it. A GPU the driver says nothing about is
    /// split equally among the workloads (idle when the driver says no workload uses it).
    #[allow(clippy::too_many_lines)]
    pub fn tick_gpus(
        &mut self,
        t: f64,
        readings: &[Reading],
        machine: Option<MachineStat>,
        found: Found,
        gpu_pids: &HashMap<String, Vec<u32>>,
    ) -> Interval {
        let on: HashMap<String, GpuUse> = gpu_pids
            .iter()
            .map(|(k, p)| (k.clone(), GpuUse::resident(p.clone())))
            .collect();
        self.tick_use(t, readings, machine, found, &on)
    }

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
        let (mut pkg, mut dram) = (None::<f64>, None::<f64>);
        // The GPUs read this interval: device, method, energy and use.
        let mut gpus: Vec<(String, Method, Gpu)> = Vec::new();
        let mut missed: Vec<Part> = Vec::new();
        let mut device_j: Vec<(String, &'static str, Method, f64)> = Vec::new();
        for r in readings {
            let key = &r.device;
            match &r.value {
                Value::Counter {
                    part,
                    energy_uj,
                    max_uj,
                    used,
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
                            "{key}: energy counter reset at t = {t:.1} s (driver reload?); \
                             counting from the reset"
                        ));
                    }
                    #[allow(clippy::cast_precision_loss)]
                    let j = delta.value() as f64 / 1e6;
                    match part {
                        Part::Cpu | Part::Psys => *pkg.get_or_insert(0.0) += j,
                        Part::Dram => *dram.get_or_insert(0.0) += j,
                        _ => gpus.push((key.to_string(), Method::Measured, Gpu { j, used: *used })),
                    }
                    device_j.push((key.to_string(), comp, Method::Measured, j));
                }
                Value::Power {
                    part,
                    power_w,
                    used,
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
                        _ => {
                            gpus.push((key.to_string(), Method::Integrated, Gpu { j, used: *used }))
                        }
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
                            "{key}: a read failed at t = {t:.1} s ({reason}); retried, its \
                             next reading covers the gap"
                        ));
                    }
                }
                Value::Dropped { reason } => {
                    self.lost.dropped.insert(key.to_string(), reason.clone());
                    self.lost.note(format!(
                        "{key} dropped at t = {t:.1} s: {reason}; its energy from then on is \
                         not counted"
                    ));
                }
                Value::Machine { .. } | Value::Tree { .. } => {}
            }
        }
        let (mut d_busy, mut d_total) = (0.0, 0.0);
        if let Some(m) = machine {
            if let Some((b, tot)) = self.machine {
                d_busy = (m.busy_s - b).max(0.0);
                d_total = (m.total_s - tot).max(0.0);
            }
            self.machine = Some((m.busy_s, m.total_s));
            self.cpus = m.cpus.max(1);
            self.mem_gb = m.mem_total_gb;
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
                    component: super::set::COMPONENTS[i],
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

impl NodeAgent {
    /// Puts the pods' namespaces and names on their workloads (notes on what failed).
    fn name_pods(&mut self, found: &mut Found) {
        let Some(p) = &mut self.pods else {
            return;
        };
        let errors = p.errors();
        let mut notes: Vec<String> = p.refresh().into_iter().collect();
        self.lost.pod_label_errors += p.errors() - errors;
        for s in &mut found.seen {
            notes.extend(p.label(&mut s.workload));
        }
        for n in notes {
            self.lost.note(n);
        }
    }
}

#[cfg(test)]
#[path = "node_tests.rs"]
mod tests;
