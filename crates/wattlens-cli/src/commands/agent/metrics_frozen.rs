//! The node agent's figures frozen at one publication ([`Frozen`]), and the agent process's
//! own CPU time and memory.

use std::collections::BTreeMap;
use wattlens::agent::{Device, Entry, Folded, GpuSplit, Lost, MigSplit, NodeAgent};
use wattlens::energy::Method;
use wattlens::footprint::SiteValues;
use wattlens::units::{GramsCo2e, Joules, Litres, Watts};

/// What the agent process itself uses: CPU seconds and resident bytes, of the real process
/// whatever `--procfs-root` says (the agent's own cost is never faked). CPU time from the
/// process's CPU clock (nanoseconds: `/proc/self/stat` counts 10 ms ticks, and a small node's
/// agent read 0 s for its first seconds); memory from `/proc/self/status`.
pub(super) fn own_usage() -> Option<(f64, f64)> {
    let cpu = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    #[allow(clippy::cast_precision_loss)]
    let cpu_s = cpu.tv_sec as f64 + cpu.tv_nsec as f64 / 1e9;
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some((cpu_s, kb * 1024.0))
}

/// The node agent's figures at one publication: numbers, and the workloads' labels shared
/// (not copied), so that freezing them costs little; the labelled series are built from it
/// only when a scrape comes.
#[derive(Debug, Default)]
pub struct Frozen {
    pub(super) devices: BTreeMap<String, Device>,
    pub(super) node_power: Watts,
    pub(super) idle: [Joules; 3],
    pub(super) site: Option<SiteValues>,
    pub(super) carbon_water: (GramsCo2e, Litres),
    pub(super) folded: Folded,
    pub(super) entries: Vec<Entry>,
    pub(super) methods: [Option<Method>; 3],
    pub(super) lost: Lost,
    pub(super) polls: u64,
    pub(super) gpu_split: BTreeMap<(String, GpuSplit), Joules>,
    pub(super) mig: BTreeMap<(String, MigSplit), Joules>,
}

impl Frozen {
    /// Freezes the node agent's figures now.
    #[must_use]
    pub fn of(a: &NodeAgent) -> Self {
        Self {
            devices: a.devices().clone(),
            node_power: a.node_power(),
            idle: a.idle_energy(),
            site: a.site().copied(),
            carbon_water: a.node_carbon_water(),
            folded: a.workloads().folded(),
            entries: a.workloads().entries().cloned().collect(),
            methods: a.label_methods(),
            lost: a.lost().clone(),
            polls: a.polls(),
            gpu_split: a.gpu_splits().clone(),
            mig: a.mig_energy().clone(),
        }
    }
    pub(super) fn devices(&self) -> &BTreeMap<String, Device> {
        &self.devices
    }
    pub(super) fn node_power(&self) -> Watts {
        self.node_power
    }
    pub(super) fn idle_energy(&self) -> [Joules; 3] {
        self.idle
    }
    pub(super) fn site(&self) -> Option<&SiteValues> {
        self.site.as_ref()
    }
    pub(super) fn node_carbon_water(&self) -> (GramsCo2e, Litres) {
        self.carbon_water
    }
    pub(super) fn label_methods(&self) -> [Option<Method>; 3] {
        self.methods
    }
    pub(super) fn lost(&self) -> &Lost {
        &self.lost
    }
    pub(super) fn polls(&self) -> u64 {
        self.polls
    }
}
