//! The run's energy profile: polls merged into bins of at least `PROFILE_BIN_S`, the bins
//! adding up to the energy charged.

use super::pipeline::{ModelInputs, Pipeline, ProfileBin};
use super::Policy;
use crate::source::{DeviceId, Part, Reading, SourceKind, Value};
use crate::units::{Joules, Watts};

fn gpu(t: f64, uj: u64) -> Reading {
    Reading {
        t,
        device: DeviceId::new(SourceKind::Nvml, "gpu0"),
        value: Value::Counter {
            part: Part::Gpu,
            energy_uj: uj,
            max_uj: u64::MAX,
            used: None,
            share: None,
        },
    }
}

fn rapl(t: f64) -> Reading {
    Reading {
        t,
        device: DeviceId::new(SourceKind::Rapl, "package-0"),
        value: Value::Counter {
            part: Part::Cpu,
            energy_uj: 0,
            max_uj: u64::from(u32::MAX),
            used: None,
            share: None,
        },
    }
}

fn pipeline() -> Pipeline {
    Pipeline::new(ModelInputs {
        policy: Policy::Machine,
        cpu_tdp: Some(Watts(100.0)),
        cpu_w_per_thread: 3.5,
        dram_w_per_gb: 0.375,
    })
}

#[test]
fn polls_a_second_apart_make_minute_bins_and_add_up() {
    // 150 polls 1 s apart, the GPU at 10 W for 100 s then 40 W: bins [0, 60), [60, 120),
    // [120, 149); 60 x 10 = 600 J, 40 x 10 + 20 x 40 = 1200 J, 29 x 40 = 1160 J.
    let mut p = pipeline();
    let mut uj = 0u64;
    for s in 0..150u32 {
        if s > 0 {
            uj += if s <= 100 { 10_000_000 } else { 40_000_000 };
        }
        p.tick(&[rapl(f64::from(s)), gpu(f64::from(s), uj)]);
    }
    let m = p.finish();
    let bins: Vec<(f64, f64, f64)> = m
        .profile
        .iter()
        .map(|b| (b.start, b.end, (b.energy.0 * 1e6).round() / 1e6))
        .collect();
    assert_eq!(
        bins,
        [
            (0.0, 60.0, 600.0),
            (60.0, 120.0, 1200.0),
            (120.0, 149.0, 1160.0)
        ]
    );
    let total: Joules = m.profile.iter().map(|b| b.energy).sum();
    assert!((total.0 - m.breakdown.total().0).abs() < 1e-6);
}

#[test]
fn long_polls_are_bins_of_their_own() {
    // Polls 1800 s apart (longer than a bin of PROFILE_BIN_S): one bin each, as the trace
    // charged them.
    let mut p = pipeline();
    for (t, uj) in [
        (0.0, 0),
        (1800.0, 1_800_000_000_000),
        (3600.0, 7_200_000_000_000),
    ] {
        p.tick(&[rapl(t), gpu(t, uj)]);
    }
    assert_eq!(
        p.finish().profile,
        [
            ProfileBin {
                start: 0.0,
                end: 1800.0,
                energy: Joules(1.8e6)
            },
            ProfileBin {
                start: 1800.0,
                end: 3600.0,
                energy: Joules(5.4e6)
            },
        ]
    );
}
