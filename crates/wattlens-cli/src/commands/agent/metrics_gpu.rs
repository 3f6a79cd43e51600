//! The GPU split's metrics: how each GPU's (and MIG instance's) energy was split among the
//! workloads, each MIG instance's modelled share of its parent, and each workload's GPU energy
//! by split. Every series only ever grows (one per split method), so a split that changes from
//! one interval to the next never relabels a series. docs/metrics.md.

use super::{Entry, Frozen, Labels, Snapshot};
use wattlens::agent::GpuSplit;

/// Adds the GPU split's families (none on a node without GPUs).
pub(super) fn families(s: &mut Snapshot, a: &Frozen, entries: &[&Entry], ids: &[Labels]) {
    if a.gpu_split.is_empty() {
        return;
    }
    let f = s.family(
        "wattlens_gpu_split_energy_joules",
        "Energy of each GPU or MIG instance (J) by how it was split among the workloads: \
         utilisation (per-process SM utilisation), resident (processes on it), equal (the \
         driver lists none), idle (nobody to charge).",
        true,
    );
    for ((device, split), e) in &a.gpu_split {
        f.series.push((
            Labels::of(vec![
                ("device", device.clone().into()),
                ("gpu_split", split.as_str().into()),
            ]),
            e.0,
        ));
    }
    if !a.mig.is_empty() {
        let f = s.family(
            "wattlens_mig_energy_joules",
            "Each MIG instance's share of its parent GPU's energy (J, modelled: the parent's \
             counter split by compute slices x utilisation, or by slices).",
            true,
        );
        for ((device, split), e) in &a.mig {
            f.series.push((
                Labels::of(vec![
                    ("device", device.clone().into()),
                    ("mig_split", split.as_str().into()),
                ]),
                e.0,
            ));
        }
    }
    let f = s.family(
        "wattlens_workload_gpu_energy_joules",
        "GPU energy charged to each workload (J) by how the GPUs were split (gpu_split); only \
         the splits that charged it.",
        true,
    );
    let splits = [GpuSplit::Utilisation, GpuSplit::Resident, GpuSplit::Equal];
    for (e, l) in entries.iter().zip(ids) {
        for (x, split) in e.totals.gpu_split.iter().zip(splits) {
            if x.0 > 0.0 {
                f.series
                    .push((l.with(vec![("gpu_split", split.as_str().into())]), x.0));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{encode, snapshot, Frozen};
    use std::collections::HashMap;
    use wattlens::agent::{Found, Limits, NodeAgent, Seen, Workload};
    use wattlens::measure::{ModelInputs, Policy};
    use wattlens::source::gpu_use::{GpuUse, MigUse};
    use wattlens::source::{DeviceId, Part, Reading, SourceKind, Value};

    #[test]
    fn the_split_of_each_gpu_and_mig_instance_is_exposed_by_method() {
        // gpu0: 100 W for 1 s = 100 J, a's 10 at 30 %, nobody's 11 at 10 %: a = 75 J
        // (utilisation), idle 25 J. gpu1: 70 J, MIG 4g (a's 10) + 3g (empty) by slices:
        // 40 J to gi1, split by residents -> a; 30 J to gi2 -> idle.
        let r = |t: f64, name: &str, w: f64| Reading {
            t,
            device: DeviceId::new(SourceKind::Nvml, name),
            value: Value::Counter {
                part: Part::Gpu,
                energy_uj: (w * t * 1e6) as u64,
                max_uj: u64::MAX,
                used: None,
                share: None,
            },
        };
        let found = || Found {
            seen: vec![Seen {
                workload: Workload::classify("a.service"),
                cpu_s: 0.0,
                rss_gb: 0.0,
                pids: vec![10],
            }],
            ..Found::default()
        };
        let mig = |id: &str, slices, pids| MigUse {
            id: id.into(),
            slices,
            pids: Some(pids),
            ..MigUse::default()
        };
        let on: HashMap<String, GpuUse> = [
            (
                "nvml/gpu0".to_string(),
                GpuUse {
                    pids: Some(vec![10, 11]),
                    utilisation: Some(vec![(10, 30.0), (11, 10.0)]),
                    mig: vec![],
                },
            ),
            (
                "nvml/gpu1".to_string(),
                GpuUse {
                    mig: vec![mig("gi1", 4, vec![10]), mig("gi2", 3, vec![])],
                    ..GpuUse::default()
                },
            ),
        ]
        .into_iter()
        .collect();
        let inputs = ModelInputs {
            policy: Policy::Processes,
            cpu_tdp: None,
            cpu_w_per_thread: 3.5,
            dram_w_per_gb: 0.375,
        };
        let mut a = NodeAgent::new(inputs, Limits::default(), None);
        for t in [0.0, 1.0] {
            let readings = [r(t, "gpu0", 100.0), r(t, "gpu1", 70.0)];
            a.tick_use(t, &readings, None, found(), &on);
        }
        let (m, _) = encode(snapshot(&Frozen::of(&a), 0.0, "test"), false).expect("encode");
        for line in [
            "wattlens_gpu_split_energy_joules_total{device=\"nvml/gpu0\",gpu_split=\"utilisation\"} 100.0",
            "wattlens_gpu_split_energy_joules_total{device=\"nvml/gpu1/gi1\",gpu_split=\"resident\"} 40.0",
            "wattlens_gpu_split_energy_joules_total{device=\"nvml/gpu1/gi2\",gpu_split=\"idle\"} 30.0",
            "wattlens_mig_energy_joules_total{device=\"nvml/gpu1/gi1\",mig_split=\"slices\"} 40.0",
            "wattlens_mig_energy_joules_total{device=\"nvml/gpu1/gi2\",mig_split=\"slices\"} 30.0",
            "unit=\"a.service\",gpu_split=\"utilisation\"} 75.0",
            "unit=\"a.service\",gpu_split=\"resident\"} 40.0",
        ] {
            assert!(m.lines().any(|l| l.ends_with(line) || l == line), "{line}\n{m}");
        }
        assert!(!m.contains("gpu_split=\"equal\""), "{m}");
    }
}
