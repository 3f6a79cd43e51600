//! What a node agent reports beside its workloads: each device's totals ([`Device`]), each
//! interval's split ([`Interval`]) and what could not be counted or read ([`Lost`]).

use crate::energy::Method;
use crate::units::{Joules, Watts};
use std::collections::BTreeMap;

/// Notes kept (the newest).
const MAX_NOTES: usize = 20;

/// One device (or model) of the node and what it counted.
#[derive(Clone, Debug, PartialEq)]
pub struct Device {
    /// `cpu`, `dram` or `gpu`.
    pub component: &'static str,
    /// How its energy was found.
    pub method: Method,
    /// Energy so far.
    pub energy: Joules,
    /// Power over the last interval.
    pub power: Watts,
}

/// What the agent could not count or read, for the operator.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Lost {
    /// Reads that failed and were retried, by device (`rapl/package-0`).
    pub read_failures: BTreeMap<String, u64>,
    /// Devices dropped after failing reads in a row.
    pub dropped: BTreeMap<String, String>,
    /// Counter resets, by device (energy since the reset is counted; before it, up to one
    /// interval's worth may be lost).
    pub resets: BTreeMap<String, u64>,
    /// Readings implying more power than the device's part can draw
    /// ([`crate::energy::Implausible`]), by device: not counted.
    pub implausible: BTreeMap<String, u64>,
    /// Cgroups that vanished between being listed and read (their last interval's CPU time
    /// goes to `idle`).
    pub vanished_cgroups: u64,
    /// Walks of the cgroup tree that stopped at their limit.
    pub truncated_walks: u64,
    /// Reads of the pod label file that failed after the start (its last good names kept).
    pub pod_label_errors: u64,
    /// The newest notes, each a sentence.
    pub notes: Vec<String>,
}

impl Lost {
    pub(crate) fn note(&mut self, s: String) {
        if self.notes.len() >= MAX_NOTES {
            self.notes.remove(0);
        }
        self.notes.push(s);
    }

    /// A reading of `device` at `t` refused as implausible: counted, and noted the first time
    /// for that device.
    pub(crate) fn implausible(&mut self, device: &str, t: f64, what: &crate::energy::Implausible) {
        let n = self.implausible.entry(device.to_string()).or_insert(0);
        *n += 1;
        if *n == 1 {
            self.note(format!(
                "{device}: an implausible reading at t = {ts} s ({what}) was not counted \
                 (wattlens_implausible_readings_total counts them)",
                ts = crate::uncertainty::fmt_seconds(t)
            ));
        }
    }
}

/// One interval's energy by component (CPU, DRAM, GPUs): the node's, the workloads' together,
/// and nobody's (idle); J.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Interval {
    /// Length, s (0 for the first poll).
    pub dt: f64,
    /// The node's.
    pub node: [f64; 3],
    /// All workloads together.
    pub workloads: [f64; 3],
    /// Nobody's.
    pub idle: [f64; 3],
}
