//! The workloads an agent exposes, bounded: each live workload keeps its totals; one that is
//! gone stays exposed for a retention time (so that a scraper reads its last value), then folds
//! into one aggregate ([`Folded`]) and is forgotten, so memory stays flat on a busy node. Past
//! [`Limits::max_workloads`] live workloads, the newest are charged together to one
//! `_overflow` workload (said in the notes); nothing is ever charged twice or dropped.

use super::discover::Seen;
use super::workload::Workload;
use crate::energy::Method;
use crate::units::{GramsCo2e, Joules, Litres, Watts};
use std::collections::HashMap;
use std::sync::Arc;

/// The components a workload's energy is counted by: CPU, DRAM, GPUs.
pub const COMPONENTS: [&str; 3] = ["cpu", "dram", "gpu"];

/// How many workloads an agent keeps, and for how long after they are gone.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// The most workloads exposed one by one (live and recently gone together).
    pub max_workloads: usize,
    /// Seconds a gone workload stays exposed before it folds.
    pub retain_s: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_workloads: 10_000,
            retain_s: 300.0,
        }
    }
}

/// What one workload was charged so far.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Totals {
    /// Energy by component ([`COMPONENTS`]).
    pub energy: [Joules; 3],
    /// The weakest method behind each component's energy.
    pub methods: [Option<Method>; 3],
    /// Operational carbon (location-based, facility energy through the site's PUE).
    pub carbon: GramsCo2e,
    /// On-site plus off-site water.
    pub water: Litres,
    /// Power over the last interval (all components).
    pub power: Watts,
    /// GPU energy by how each GPU was split ([`super::GpuSplit`]: utilisation, resident,
    /// equal).
    pub gpu_split: [Joules; 3],
}

impl Totals {
    /// Adds one interval's charge.
    pub(crate) fn add(&mut self, e: [f64; 3], methods: [Option<Method>; 3], dt: f64) {
        for i in 0..3 {
            self.energy[i] += Joules(e[i]);
            if e[i] > 0.0 {
                if let Some(m) = methods[i] {
                    self.methods[i] = Some(self.methods[i].map_or(m, |o| o.weakest(m)));
                }
            }
        }
        self.power = Watts(if dt > 0.0 {
            e.iter().sum::<f64>() / dt
        } else {
            0.0
        });
    }

    /// All components together.
    #[must_use]
    pub fn total(&self) -> Joules {
        self.energy.iter().copied().fold(Joules(0.0), |a, b| a + b)
    }
}

/// One exposed workload (cheap to clone: the labels are shared).
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Who.
    pub workload: Arc<Workload>,
    /// Its totals.
    pub totals: Totals,
    /// When it was last seen gone (agent time, s); `None` while live.
    pub gone_at: Option<f64>,
}

/// Workloads gone and folded: how many, and their totals.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Folded {
    /// How many.
    pub count: u64,
    /// Their energy by component.
    pub energy: [Joules; 3],
    /// Their carbon.
    pub carbon: GramsCo2e,
    /// Their water.
    pub water: Litres,
}

/// Where one seen workload's charge goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Slot(pub String);

/// The bounded set (see the module's doc).
#[derive(Debug, Default)]
pub struct WorkloadSet {
    limits: Limits,
    entries: HashMap<String, Entry>,
    /// CPU time at the last reading of every seen cgroup (overflowed ones too), s.
    last_cpu: HashMap<String, f64>,
    folded: Folded,
    /// Workloads charged to `_overflow` at the last poll.
    overflowed: usize,
}

impl WorkloadSet {
    /// An empty set.
    #[must_use]
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// The exposed workloads (no order).
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// How many are exposed.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none is.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The folded aggregate.
    #[must_use]
    pub fn folded(&self) -> Folded {
        self.folded
    }

    /// Workloads charged to `_overflow` at the last poll.
    #[must_use]
    pub fn overflowed(&self) -> usize {
        self.overflowed
    }

    /// Takes one poll's workloads: each one's CPU time since its last reading (0 at its first:
    /// that reading is its baseline) and memory, and where its charge goes. Workloads not seen
    /// are marked gone at `t`.
    pub(crate) fn observe(&mut self, t: f64, seen: Vec<Seen>) -> (Vec<(f64, f64)>, Vec<Slot>) {
        let mut uses = Vec::with_capacity(seen.len());
        let mut slots = Vec::with_capacity(seen.len());
        let mut now: HashMap<String, f64> = HashMap::with_capacity(seen.len());
        let mut overflowed = 0;
        for s in seen {
            let id = s.workload.id.clone();
            let d = self
                .last_cpu
                .get(&id)
                .map_or(0.0, |l| (s.cpu_s - l).max(0.0));
            now.insert(id.clone(), s.cpu_s);
            uses.push((d, s.rss_gb));
            let slot = if let Some(e) = self.entries.get_mut(&id) {
                e.gone_at = None;
                if e.workload.command.is_none() && s.workload.command.is_some() {
                    Arc::make_mut(&mut e.workload).command = s.workload.command;
                }
                // A pod's names as the node says them now: a changed label file renames the
                // series (a hostile test found the first names kept for good, while the docs
                // say the file is read again); names no longer known keep the last ones.
                if s.workload.pod.is_some()
                    && (e.workload.pod != s.workload.pod
                        || e.workload.namespace != s.workload.namespace)
                {
                    let w = Arc::make_mut(&mut e.workload);
                    w.namespace = s.workload.namespace;
                    w.pod = s.workload.pod;
                }
                // Likewise a container's name.
                if s.workload.container_name.is_some()
                    && e.workload.container_name != s.workload.container_name
                {
                    Arc::make_mut(&mut e.workload).container_name = s.workload.container_name;
                }
                id
            } else if self.entries.len() < self.limits.max_workloads {
                self.entries.insert(
                    id.clone(),
                    Entry {
                        workload: Arc::new(s.workload),
                        totals: Totals::default(),
                        gone_at: None,
                    },
                );
                id
            } else {
                overflowed += 1;
                let o = Workload::overflow();
                let key = o.id.clone();
                self.entries.entry(key.clone()).or_insert(Entry {
                    workload: Arc::new(o),
                    totals: Totals::default(),
                    gone_at: None,
                });
                key
            };
            slots.push(Slot(slot));
        }
        self.overflowed = overflowed;
        for (id, e) in &mut self.entries {
            if e.gone_at.is_none() && !now.contains_key(id) && id != "_overflow" {
                e.gone_at = Some(t);
            }
        }
        self.last_cpu = now;
        (uses, slots)
    }

    /// Charges one interval's parts to the slots.
    pub(crate) fn charge(
        &mut self,
        slot: &Slot,
        e: [f64; 3],
        methods: [Option<Method>; 3],
        dt: f64,
        carbon: GramsCo2e,
        water: Litres,
    ) {
        if let Some(entry) = self.entries.get_mut(&slot.0) {
            entry.totals.add(e, methods, dt);
            entry.totals.carbon += carbon;
            entry.totals.water += water;
        }
    }

    /// Adds one interval's GPU energy by split to a slot.
    pub(crate) fn charge_gpu(&mut self, slot: &Slot, by: [f64; 3]) {
        if let Some(entry) = self.entries.get_mut(&slot.0) {
            for (t, x) in entry.totals.gpu_split.iter_mut().zip(by) {
                *t += Joules(x);
            }
        }
    }

    /// Sets the last interval's power of every workload not charged this poll to 0.
    pub(crate) fn zero_power_except(&mut self, slots: &[Slot]) {
        let charged: std::collections::HashSet<&str> = slots.iter().map(|s| s.0.as_str()).collect();
        for (id, e) in &mut self.entries {
            if !charged.contains(id.as_str()) {
                e.totals.power = Watts(0.0);
            }
        }
    }

    /// Folds the workloads gone for longer than the retention time; how many folded.
    pub(crate) fn fold(&mut self, t: f64) -> usize {
        let retain = self.limits.retain_s;
        let old: Vec<String> = self
            .entries
            .iter()
            .filter(|(_, e)| e.gone_at.is_some_and(|g| t - g >= retain))
            .map(|(k, _)| k.clone())
            .collect();
        for k in &old {
            if let Some(e) = self.entries.remove(k) {
                self.folded.count += 1;
                for i in 0..3 {
                    self.folded.energy[i] += e.totals.energy[i];
                }
                self.folded.carbon += e.totals.carbon;
                self.folded.water += e.totals.water;
            }
        }
        old.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(id: &str, cpu_s: f64) -> Seen {
        Seen {
            workload: Workload::classify(id),
            cpu_s,
            rss_gb: 0.0,
            pids: vec![],
        }
    }

    #[test]
    fn gone_workloads_fold_after_retention_and_memory_stays_flat() {
        let mut s = WorkloadSet::new(Limits {
            max_workloads: 100,
            retain_s: 10.0,
        });
        // 10,000 short workloads, one per second, each seen twice: at most ~12 exposed at once.
        let mut most = 0;
        for i in 0..10_000_u32 {
            let t = f64::from(i);
            let (uses, slots) = s.observe(t, vec![seen(&format!("w{i}.service"), 1.0)]);
            assert_eq!(uses.len(), 1);
            s.charge(
                &slots[0],
                [1.0, 0.0, 0.0],
                [None; 3],
                1.0,
                GramsCo2e(0.5),
                Litres(0.0),
            );
            s.fold(t);
            most = most.max(s.len());
        }
        assert!(most <= 12, "{most}");
        // Nothing lost: every joule is either exposed or folded.
        let exposed: f64 = s.entries().map(|e| e.totals.energy[0].0).sum();
        assert_eq!(exposed + s.folded().energy[0].0, 10_000.0);
        assert_eq!(s.folded().count + s.len() as u64, 10_000);
        assert_eq!(
            s.folded().carbon.0 + s.entries().map(|e| e.totals.carbon.0).sum::<f64>(),
            5000.0
        );
    }

    #[test]
    fn past_the_limit_new_workloads_share_the_overflow_workload() {
        let mut s = WorkloadSet::new(Limits {
            max_workloads: 2,
            retain_s: 10.0,
        });
        let (_, slots) = s.observe(0.0, vec![seen("a", 0.0), seen("b", 0.0), seen("c", 0.0)]);
        assert_eq!(slots[2].0, "_overflow");
        assert_eq!(s.overflowed(), 1);
        // CPU time is counted from each one's own baseline, overflowed or not.
        let (uses, _) = s.observe(1.0, vec![seen("a", 1.0), seen("b", 2.0), seen("c", 3.5)]);
        assert_eq!(
            uses.iter().map(|u| u.0).collect::<Vec<_>>(),
            [1.0, 2.0, 3.5]
        );
    }
}
