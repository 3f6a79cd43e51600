//! Tests of the GPU split: each method against hand arithmetic, MIG from a fixture, and
//! conservation as a property.

use super::*;
use proptest::prelude::*;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
}

fn by_split(c: &Charge) -> Vec<f64> {
    c.workloads.iter().map(|w| w.iter().sum()).collect()
}

#[test]
fn by_utilisation_with_foreign_processes_idle() {
    // 300 J; pids 10 (60 %), 11 (20 %) are a's, 12 (15 %) b's, 50 (5 %) nobody's:
    // a = 300 x 80/100 = 240, b = 300 x 15/100 = 45, idle = 300 x 5/100 = 15.
    let g = GpuUse {
        pids: Some(vec![10, 11, 12, 50]),
        utilisation: Some(vec![(10, 60.0), (11, 20.0), (12, 15.0), (50, 5.0)]),
        mig: vec![],
    };
    let c = split(
        "nvml/gpu0",
        300.0,
        None,
        Some(&g),
        &[vec![10, 11], vec![12, 99]],
    );
    assert_eq!(c.workloads, [[240.0, 0.0, 0.0], [45.0, 0.0, 0.0]]);
    assert!(close(c.idle, 15.0));
    assert_eq!(
        c.units,
        [("nvml/gpu0".into(), GpuSplit::Utilisation, 300.0)]
    );
}

/// Hostile test: a GPU whose processes (90, 91) belong to no workload sent all its energy to
/// idle (right) but was labelled `utilisation` / `resident`; docs/metrics.md says `idle`.
#[test]
fn a_gpu_used_by_no_workload_is_labelled_idle() {
    // 100 J, pids 90 (70 %) and 91 (30 %), workloads own 10 and 11 only: all 100 J idle.
    let g = GpuUse {
        pids: Some(vec![90, 91]),
        utilisation: Some(vec![(90, 70.0), (91, 30.0)]),
        mig: vec![],
    };
    let c = split("nvml/gpu0", 100.0, None, Some(&g), &[vec![10], vec![11]]);
    assert_eq!(c.workloads, [[0.0; 3], [0.0; 3]]);
    assert!(close(c.idle, 100.0));
    assert_eq!(c.units, [("nvml/gpu0".into(), GpuSplit::Idle, 100.0)]);
    // Without utilisation: resident processes of no workload, idle too.
    let g = GpuUse {
        utilisation: None,
        ..g
    };
    let c = split("nvml/gpu0", 100.0, None, Some(&g), &[vec![10], vec![11]]);
    assert!(close(c.idle, 100.0));
    assert_eq!(c.units, [("nvml/gpu0".into(), GpuSplit::Idle, 100.0)]);
    // A workload's process at 0 % beside a foreign one at 100 %: utilisation gives it
    // nothing, so the GPU is idle (100 x 0/100 = 0 J to the workload).
    let g = GpuUse {
        pids: Some(vec![10, 90]),
        utilisation: Some(vec![(10, 0.0), (90, 100.0)]),
        mig: vec![],
    };
    let c = split("nvml/gpu0", 100.0, None, Some(&g), &[vec![10]]);
    assert!(close(c.idle, 100.0));
    assert_eq!(c.units, [("nvml/gpu0".into(), GpuSplit::Idle, 100.0)]);
}

#[test]
fn all_zero_utilisation_falls_back_to_resident_and_an_empty_gpu_is_idle() {
    let pids = [vec![10, 11], vec![12]];
    // Sampled, nobody active (NVML lists no sample): by residents, a 2/3 and b 1/3 of 300 J.
    let g = GpuUse {
        pids: Some(vec![10, 11, 12]),
        utilisation: Some(vec![]),
        mig: vec![],
    };
    let c = split("g", 300.0, None, Some(&g), &pids);
    assert_eq!(by_split(&c), [200.0, 100.0]);
    assert_eq!((c.idle, c.units[0].1), (0.0, GpuSplit::Resident));
    // Zeros sampled: the same.
    let g = GpuUse {
        utilisation: Some(vec![(10, 0.0), (12, 0.0)]),
        ..g
    };
    assert_eq!(
        by_split(&split("g", 300.0, None, Some(&g), &pids)),
        [200.0, 100.0]
    );
    // a's 10 beside nobody's 50: half each; the half of 50 is idle.
    let c = split(
        "g",
        300.0,
        None,
        Some(&GpuUse::resident(vec![10, 50])),
        &pids,
    );
    assert_eq!((by_split(&c), c.idle), (vec![150.0, 0.0], 150.0));
    // No process on it: all idle, split `idle`.
    let c = split("g", 300.0, None, Some(&GpuUse::resident(vec![])), &pids);
    assert_eq!(
        (by_split(&c), c.idle, c.units[0].1),
        (vec![0.0, 0.0], 300.0, GpuSplit::Idle)
    );
}

#[test]
fn a_driver_that_says_nothing_splits_equally_unless_the_gpu_is_unused() {
    let pids = [vec![1], vec![2]];
    let c = split("hwmon/card1", 90.0, None, None, &pids);
    assert_eq!(c.workloads, [[0.0, 0.0, 45.0], [0.0, 0.0, 45.0]]);
    assert_eq!((c.idle, c.units[0].1), (0.0, GpuSplit::Equal));
    let c = split("hwmon/card1", 90.0, Some(false), None, &pids);
    assert_eq!((c.idle, c.units[0].1), (90.0, GpuSplit::Idle));
    let c = split("hwmon/card1", 90.0, None, None, &[]);
    assert_eq!(c.idle, 90.0);
}

#[test]
fn a_mig_gpu_is_split_across_its_instances_then_within_each() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/gpu-use-mig.toml"
    ))
    .expect("fixture");
    let mut g: GpuUse = toml::from_str(&text).expect("toml");
    // a = [10], b = [12]; 11 is nobody's.
    let pids = [vec![10], vec![12]];
    // 700 J by slices 4 : 2 : 1 -> gi1 400, gi5 200, gi13 100. gi1: b's 12 alone -> b 400
    // (resident). gi5: 10 at 30 %, 11 at 10 % -> a = 200 x 30/40 = 150, idle 50
    // (utilisation). gi13: no process -> idle 100. a + b + idle = 150 + 400 + 150 = 700.
    let c = split("nvml/gpu0", 700.0, None, Some(&g), &pids);
    assert_eq!(
        c.mig,
        [
            ("nvml/gpu0/gi1".into(), MigSplit::Slices, 400.0),
            ("nvml/gpu0/gi5".into(), MigSplit::Slices, 200.0),
            ("nvml/gpu0/gi13".into(), MigSplit::Slices, 100.0),
        ]
    );
    assert_eq!(c.workloads, [[150.0, 0.0, 0.0], [0.0, 400.0, 0.0]]);
    assert!(close(c.idle, 150.0));
    assert_eq!(
        c.units.iter().map(|u| u.1).collect::<Vec<_>>(),
        [GpuSplit::Resident, GpuSplit::Utilisation, GpuSplit::Idle]
    );
    // With each instance's utilisation: weights 4 x 0.5 = 2, 2 x 1 = 2, 1 x 0 = 0 -> gi1 350,
    // gi5 350, gi13 0; b = 350, a = 350 x 30/40 = 262.5, idle = 87.5.
    for (m, u) in g.mig.iter_mut().zip([0.5, 1.0, 0.0]) {
        m.utilisation = Some(u);
    }
    let c = split("nvml/gpu0", 700.0, None, Some(&g), &pids);
    assert_eq!(
        c.mig[0],
        ("nvml/gpu0/gi1".into(), MigSplit::Utilisation, 350.0)
    );
    assert_eq!(by_split(&c), [262.5, 350.0]);
    assert!(close(c.idle, 87.5));
    // One instance's utilisation unknown: back to slices.
    g.mig[2].utilisation = None;
    assert_eq!(
        split("g", 700.0, None, Some(&g), &pids).mig[0].1,
        MigSplit::Slices
    );
}

fn any_use() -> impl Strategy<Value = GpuUse> {
    let pids = proptest::option::of(proptest::collection::vec(0_u32..16, 0..6));
    let util = proptest::option::of(proptest::collection::vec(
        (
            0_u32..16,
            prop_oneof![Just(0.0), 0.0..150.0_f64, Just(f64::NAN)],
        ),
        0..6,
    ));
    let mig = proptest::collection::vec(
        (
            0_u32..8,
            proptest::option::of(prop_oneof![Just(0.0), -0.5..1.5_f64]),
            proptest::option::of(proptest::collection::vec(0_u32..16, 0..4)),
            proptest::option::of(proptest::collection::vec((0_u32..16, 0.0..100.0_f64), 0..4)),
        )
            .prop_map(|(slices, utilisation, pids, process_utilisation)| MigUse {
                id: format!("gi{slices}"),
                slices,
                utilisation,
                pids,
                process_utilisation,
            }),
        0..4,
    );
    (pids, util, mig).prop_map(|(pids, utilisation, mig)| GpuUse {
        pids,
        utilisation,
        mig,
    })
}

proptest! {
    /// Issue 11: whatever the driver says, workloads + idle = the GPU's energy, nobody gets a
    /// negative share, and the devices (MIG instances) split are the whole GPU.
    #[test]
    fn the_gpu_split_conserves_energy(
        j in 0.0..1e6_f64,
        used in proptest::option::of(any::<bool>()),
        g in proptest::option::of(any_use()),
        pids in proptest::collection::vec(proptest::collection::vec(0_u32..16, 0..4), 0..5),
    ) {
        let c = split("g", j, used, g.as_ref(), &pids);
        let given: f64 = c.workloads.iter().flatten().sum();
        prop_assert!(close(given + c.idle, j), "{given} + {} != {j}", c.idle);
        prop_assert!(c.workloads.iter().flatten().all(|x| *x >= 0.0));
        prop_assert!(c.idle >= -1e-9 * (1.0 + j));
        prop_assert!(close(c.units.iter().map(|u| u.2).sum::<f64>(), j));
        if !c.mig.is_empty() {
            prop_assert!(close(c.mig.iter().map(|m| m.2).sum::<f64>(), j));
        }
    }
}
