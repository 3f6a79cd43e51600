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
use super::gpu::{GpuSplit, MigSplit};
use super::pods::PodNames;
use super::set::{Limits, WorkloadSet};
use crate::energy::{CounterDiff, Method, PowerIntegrator};
use crate::footprint::SiteValues;
use crate::measure::ModelInputs;
use crate::source::gpu_use::GpuUse;
use crate::source::procfs::MachineStat;
use crate::source::{DeviceId, Part, Reading};
use crate::units::{GramsCo2e, Joules, Litres, Watts};
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
    /// The machine's busy and all CPU time per second over the last interval read, and what
    /// was estimated since the last reading (polls whose /proc/stat read failed), s.
    machine_rate: Option<(f64, f64)>,
    machine_assumed: (f64, f64),
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
            machine_rate: None,
            machine_assumed: (0.0, 0.0),
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

#[path = "node_readings.rs"]
mod readings;
#[path = "node_tick.rs"]
mod tick;

#[cfg(test)]
#[path = "node_tests.rs"]
mod tests;
