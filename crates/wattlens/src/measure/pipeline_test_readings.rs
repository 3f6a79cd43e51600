//! Readings and inputs for the pipeline's tests: one constructor per kind of trace line, so
//! that each test file's own helpers say only what differs (its load, its counter, its power).

use super::{Measurement, ModelInputs, Policy};
use crate::figure::Figure;
use crate::source::{DeviceId, Part, Reading, SourceKind, Value};
use crate::units::Watts;

/// A 100 W CPU rating and the catalog's per-thread and per-GB defaults.
pub(super) fn inputs(policy: Policy) -> ModelInputs {
    ModelInputs {
        policy,
        cpu_tdp: Some(Watts(100.0)),
        cpu_w_per_thread: 3.5,
        dram_w_per_gb: 0.375,
    }
}

/// The machine's CPU-time line: 4 CPUs, `busy_s` of `total_s` busy, `mem_total_gb` installed.
pub(super) fn machine(t: f64, busy_s: f64, total_s: f64, mem_total_gb: f64) -> Reading {
    Reading {
        t,
        device: DeviceId::new(SourceKind::Procfs, "machine"),
        value: Value::Machine {
            busy_s,
            total_s,
            cpus: 4,
            mem_total_gb,
        },
    }
}

/// The measured tree's (consumer 0) line: its CPU time and memory.
pub(super) fn tree(t: f64, cpu_s: f64, rss_gb: f64) -> Reading {
    Reading {
        t,
        device: DeviceId::new(SourceKind::Procfs, "tree"),
        value: Value::Tree {
            cpu_s,
            rss_gb,
            pids: 1,
            consumer: 0,
        },
    }
}

/// An energy counter reading (no process use said) that wraps after `max_uj`.
pub(super) fn counter(part: Part, energy_uj: u64, max_uj: u64) -> Value {
    Value::Counter {
        part,
        energy_uj,
        max_uj,
        used: None,
        share: None,
    }
}

/// `value` read from device `name` of source `kind` at `t`.
pub(super) fn at(t: f64, kind: SourceKind, name: &str, value: Value) -> Reading {
    Reading {
        t,
        device: DeviceId::new(kind, name),
        value,
    }
}

/// The energy of the components of `key` (J; 0 when absent).
pub(super) fn energy(m: &Measurement, key: Figure) -> f64 {
    m.breakdown
        .components
        .iter()
        .filter(|c| c.key == key)
        .map(|c| c.energy.0)
        .sum()
}
