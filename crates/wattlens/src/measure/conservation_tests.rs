//! Issue 8: attribution conserves energy. Random consumers (process trees with random CPU time
//! and memory, GPUs used or not), random sources (RAPL counters, sampled power, or neither so
//! that the CPU and DRAM are modelled) and random interval lengths through the whole pipeline:
//! after every interval, the consumers plus the unattributed share are the node's energy.

use super::{Ledger, ModelInputs, Pipeline, Policy};
use crate::source::{DeviceId, Part, Reading, SourceKind, Value};
use crate::units::Watts;
use proptest::prelude::*;

/// How the CPU (and DRAM) energy of a case is read.
#[derive(Clone, Copy, Debug)]
enum CpuFrom {
    Counter,
    Power,
    Model,
}

fn reading(t: f64, source: &str, device: String, value: Value) -> Reading {
    Reading {
        t,
        device: DeviceId::new(SourceKind::parse(source), device),
        value,
    }
}

fn check(before: &Ledger, after: &Ledger) -> Result<(), TestCaseError> {
    let sum = |l: &Ledger| l.consumers.iter().map(|j| j.0).sum::<f64>() + l.unattributed.0;
    // The totals so far, and this interval's own figures.
    let whole = (sum(after), after.node.0);
    let interval = (sum(after) - sum(before), after.node.0 - before.node.0);
    for (got, node) in [whole, interval] {
        let tol = 1e-9 * after.node.0.abs().max(1e-9);
        prop_assert!((got - node).abs() <= tol, "{got} vs {node}: {after:?}");
    }
    Ok(())
}

proptest! {
    #[test]
    fn consumers_plus_unattributed_are_the_node_every_interval(
        from in prop_oneof![Just(CpuFrom::Counter), Just(CpuFrom::Power), Just(CpuFrom::Model)],
        cpus in 1_u32..64,
        consumers in 1_usize..6,
        gpus in proptest::collection::vec(
            (proptest::bool::ANY, proptest::option::of(proptest::bool::ANY)), 0..4),
        steps in proptest::collection::vec(
            (
                0.01_f64..30.0,                                        // dt, s
                0.0_f64..=1.0,                                         // machine utilisation
                proptest::collection::vec(0.0_f64..1.0, 6),           // consumers' CPU shares
                proptest::collection::vec(0.0_f64..64.0, 6),          // their memory, GB
                0.0_f64..500.0,                                        // CPU power, W
                proptest::collection::vec(0.0_f64..700.0, 4),         // GPU powers, W
            ),
            1..12,
        ),
    ) {
        let mut p = Pipeline::new(ModelInputs {
            policy: Policy::Processes,
            cpu_tdp: Some(Watts(150.0)),
            cpu_w_per_thread: 3.5,
            dram_w_per_gb: 0.375,
        });
        let (mut t, mut busy, mut total) = (0.0_f64, 0.0_f64, 0.0_f64);
        let mut tree_cpu = vec![0.0_f64; consumers];
        let (mut pkg_uj, mut gpu_uj) = (0_u64, vec![0_u64; gpus.len()]);
        let mut before = p.ledger();
        for (i, (dt, u, shares, rss, cpu_w, gpu_w)) in
            std::iter::once(&(0.0, 0.0, vec![0.0; 6], vec![0.0; 6], 0.0, vec![0.0; 4]))
                .chain(steps.iter())
                .enumerate()
        {
            t += dt;
            let cap = f64::from(cpus) * dt;
            busy += u * cap;
            total += cap;
            let mut batch = vec![reading(t, "procfs", "machine".into(), Value::Machine {
                busy_s: busy, total_s: total, cpus, mem_total_gb: 64.0,
            })];
            // The consumers split the busy time in the drawn proportions (sometimes more than
            // the machine's, as when read a moment apart).
            let sum: f64 = shares[..consumers].iter().sum::<f64>().max(1e-9);
            for (k, cpu) in tree_cpu.iter_mut().enumerate() {
                *cpu += u * cap * shares[k] / sum * if k == 0 { 1.1 } else { 1.0 };
                batch.push(reading(t, "procfs", "tree".into(), Value::Tree {
                    cpu_s: *cpu, rss_gb: rss[k], pids: 1, consumer: u32::try_from(k).unwrap_or(0),
                }));
            }
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let uj = |w: f64| (w * dt * 1e6) as u64;
            match from {
                CpuFrom::Counter => {
                    pkg_uj += uj(*cpu_w);
                    for (part, dev) in [(Part::Cpu, "package-0"), (Part::Dram, "package-0/dram")] {
                        batch.push(reading(t, "rapl", dev.into(), Value::Counter {
                            part, energy_uj: pkg_uj, max_uj: u64::MAX, used: None,
                            share: None,
                        }));
                    }
                }
                CpuFrom::Power => batch.push(reading(t, "hwmon", "cpu".into(), Value::Power {
                    part: Part::Cpu, power_w: *cpu_w, used: None,
                    share: None,
                })),
                CpuFrom::Model => {}
            }
            for (g, (counter, used)) in gpus.iter().enumerate() {
                let device = format!("gpu{g}");
                let value = if *counter {
                    gpu_uj[g] += uj(gpu_w[g]);
                    Value::Counter { part: Part::Gpu, energy_uj: gpu_uj[g], max_uj: u64::MAX, used: *used, share: None }
                } else {
                    Value::Power { part: Part::Gpu, power_w: gpu_w[g], used: *used, share: None }
                };
                batch.push(reading(t, "nvml", device, value));
            }
            p.tick(&batch);
            let after = p.ledger();
            prop_assert_eq!(after.consumers.len(), if i == 0 { 0 } else { consumers });
            check(&before, &after)?;
            before = after;
        }
    }
}
