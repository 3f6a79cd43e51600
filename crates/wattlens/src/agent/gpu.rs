//! One GPU's energy over an interval, split among the workloads with conservation (what each
//! workload gets plus what nobody gets equals the GPU's energy), by the best the driver says:
//!
//! 1. **utilisation** — each process's SM utilisation (NVML `nvmlDeviceGetProcessUtilization`):
//!    a workload gets `E x sum(its processes' %) / sum(every sampled process's %)`; the share
//!    of processes that belong to no workload is nobody's (idle);
//! 2. **resident** — no utilisation, or all of it zero: `E x (its processes on the GPU) /
//!    (every process on it)`;
//! 3. **equal** — the driver lists no processes at all (AMD through hwmon, NVML in a container
//!    without the host's PIDs): equal shares among the workloads, unless the source says no
//!    workload uses the device;
//! 4. **idle** — nobody to charge: no process on the GPU, or no workload. Its energy is idle.
//!
//! A MIG GPU is first split across its instances, which have no energy counter of their own:
//! by `slices x utilisation` where every instance's utilisation is known and not all zero,
//! else by compute slices (an instance with no processes keeps its share, which then goes to
//! idle). Each instance is then split as a GPU of its own. Both steps are modelled; the
//! parent's energy is what is measured. Equations: docs/models.md.

use crate::source::gpu_use::{GpuUse, MigUse};
use std::collections::{BTreeSet, HashMap};

/// How a GPU's (or MIG instance's) energy was split among the workloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum GpuSplit {
    /// By the processes' SM utilisation.
    Utilisation,
    /// By the processes resident on it.
    Resident,
    /// Equally among the workloads (the driver lists no processes).
    Equal,
    /// Nobody's (no process on it, or no workload).
    Idle,
}

impl GpuSplit {
    /// Every split, in order.
    pub const ALL: [GpuSplit; 4] = [
        GpuSplit::Utilisation,
        GpuSplit::Resident,
        GpuSplit::Equal,
        GpuSplit::Idle,
    ];

    /// `utilisation`, `resident`, `equal`, `idle`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            GpuSplit::Utilisation => "utilisation",
            GpuSplit::Resident => "resident",
            GpuSplit::Equal => "equal",
            GpuSplit::Idle => "idle",
        }
    }
}

/// How a MIG GPU's energy was split across its instances.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum MigSplit {
    /// By compute slices x the instance's utilisation.
    Utilisation,
    /// By compute slices.
    Slices,
}

impl MigSplit {
    /// `utilisation`, `slices`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            MigSplit::Utilisation => "utilisation",
            MigSplit::Slices => "slices",
        }
    }
}

/// One GPU's interval split.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Charge {
    /// Each workload's share, by split (utilisation, resident, equal), J.
    pub workloads: Vec<[f64; 3]>,
    /// Nobody's, J.
    pub idle: f64,
    /// Each split device (the GPU, or each MIG instance `gpu/instance`) with how it was split
    /// and its energy, J.
    pub units: Vec<(String, GpuSplit, f64)>,
    /// Each MIG instance (`gpu/instance`) with how the parent's energy was split to it, J.
    pub mig: Vec<(String, MigSplit, f64)>,
}

/// Splits `j` joules of GPU `key` among the workloads whose processes are `pids` (see the
/// module's doc); `used`: whether the source says a workload's process uses it.
pub(crate) fn split(
    key: &str,
    j: f64,
    used: Option<bool>,
    gpu: Option<&GpuUse>,
    pids: &[Vec<u32>],
) -> Charge {
    let mut c = Charge {
        workloads: vec![[0.0; 3]; pids.len()],
        ..Charge::default()
    };
    let owner = owners(pids);
    match gpu {
        Some(g) if !g.mig.is_empty() => {
            let (how, weights) = mig_weights(&g.mig);
            let total: f64 = weights.iter().sum();
            for (m, w) in g.mig.iter().zip(&weights) {
                let e = j * w / total;
                let name = format!("{key}/{}", m.id);
                c.mig.push((name.clone(), how, e));
                let m_pids = m.pids.as_deref();
                let (s, idle) = unit(
                    e,
                    m_pids,
                    m.process_utilisation.as_deref(),
                    None,
                    &owner,
                    &mut c.workloads,
                );
                c.idle += idle;
                c.units.push((name, s, e));
            }
        }
        _ => {
            let (s, idle) = unit(
                j,
                gpu.and_then(|g| g.pids.as_deref()),
                gpu.and_then(|g| g.utilisation.as_deref()),
                used,
                &owner,
                &mut c.workloads,
            );
            c.idle = idle;
            c.units.push((key.to_string(), s, j));
        }
    }
    c
}

/// The weights of a MIG GPU's instances (never all zero).
fn mig_weights(mig: &[MigUse]) -> (MigSplit, Vec<f64>) {
    let slices = |m: &MigUse| {
        if m.slices == 0 {
            1.0
        } else {
            f64::from(m.slices)
        }
    };
    let by_use: Option<Vec<f64>> = mig
        .iter()
        .map(|m| {
            m.utilisation.map(|u| {
                slices(m)
                    * if u.is_finite() {
                        u.clamp(0.0, 1.0)
                    } else {
                        0.0
                    }
            })
        })
        .collect();
    match by_use {
        Some(w) if w.iter().sum::<f64>() > 0.0 => (MigSplit::Utilisation, w),
        _ => (MigSplit::Slices, mig.iter().map(slices).collect()),
    }
}

/// Which workload each process belongs to (the first that lists it: a process that moved
/// between two cgroups during a walk is charged once).
fn owners(pids: &[Vec<u32>]) -> HashMap<u32, usize> {
    let mut m = HashMap::new();
    for (w, ps) in pids.iter().enumerate() {
        for p in ps {
            m.entry(*p).or_insert(w);
        }
    }
    m
}

/// One device's `e` joules into `out` (by split); how it was split and what is nobody's.
fn unit(
    e: f64,
    on: Option<&[u32]>,
    util: Option<&[(u32, f64)]>,
    used: Option<bool>,
    owner: &HashMap<u32, usize>,
    out: &mut [[f64; 3]],
) -> (GpuSplit, f64) {
    let pct = |u: f64| {
        if u.is_finite() {
            u.clamp(0.0, 100.0)
        } else {
            0.0
        }
    };
    if let Some(util) = util {
        let total: f64 = util.iter().map(|(_, u)| pct(*u)).sum();
        if total > 0.0 {
            let mut given = 0.0;
            let mut anyone = false;
            for (p, u) in util {
                if let Some(w) = owner.get(p) {
                    let x = e * pct(*u) / total;
                    out[*w][0] += x;
                    given += x;
                    anyone |= pct(*u) > 0.0;
                }
            }
            // No active process of a workload: all of it is idle, and labelled so (a hostile
            // test found it labelled `utilisation`; docs/metrics.md: "or no workload").
            let how = if anyone {
                GpuSplit::Utilisation
            } else {
                GpuSplit::Idle
            };
            return (how, (e - given).max(0.0));
        }
    }
    if let Some(on) = on {
        let on: BTreeSet<u32> = on.iter().copied().collect();
        if on.is_empty() {
            return (GpuSplit::Idle, e);
        }
        #[allow(clippy::cast_precision_loss)]
        let x = e / on.len() as f64;
        let mut given = 0.0;
        let mut anyone = false;
        for p in &on {
            if let Some(w) = owner.get(p) {
                out[*w][1] += x;
                given += x;
                anyone = true;
            }
        }
        let how = if anyone {
            GpuSplit::Resident
        } else {
            GpuSplit::Idle
        };
        return (how, (e - given).max(0.0));
    }
    if used == Some(false) || out.is_empty() {
        return (GpuSplit::Idle, e);
    }
    #[allow(clippy::cast_precision_loss)]
    let x = e / out.len() as f64;
    for o in out.iter_mut() {
        o[2] += x;
    }
    (GpuSplit::Equal, 0.0)
}

#[cfg(test)]
#[path = "gpu_tests.rs"]
mod tests;
