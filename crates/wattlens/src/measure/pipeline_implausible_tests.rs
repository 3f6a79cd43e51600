//! The pipeline against hand arithmetic for readings no part could produce (hostile round 4,
//! #1 and #2): counter rises and power readings above the part's ceiling are not energy.

use super::*;
use crate::figure::Figure;
use crate::source::SourceKind;

use super::test_readings::{at, counter, energy};

fn inputs() -> ModelInputs {
    super::test_readings::inputs(Policy::Machine)
}

/// 4 CPUs, one of them busy.
fn machine(t: f64) -> Reading {
    super::test_readings::machine(t, t, 4.0 * t, 0.0)
}

fn package(t: f64, energy_uj: u64) -> Reading {
    at(
        t,
        SourceKind::Rapl,
        "package-0",
        counter(Part::Cpu, energy_uj, 262_143_328_850),
    )
}

fn power(t: f64, part: Part, power_w: f64) -> Reading {
    at(
        t,
        SourceKind::Hwmon,
        "hwmon3",
        Value::Power {
            part,
            power_w,
            used: None,
            share: None,
        },
    )
}

fn gpu_counter(t: f64, energy_uj: u64) -> Reading {
    at(
        t,
        SourceKind::Nvml,
        "gpu0",
        counter(Part::Gpu, energy_uj, u64::MAX),
    )
}

fn cpu(m: &Measurement) -> f64 {
    energy(m, Figure::ComponentCpu) + energy(m, Figure::ComponentCpuIdle)
}

/// Hostile round 4, #2 (fj.jsonl): a package counter at 1 J (t = 0), 200,000 J (t = 0.2 s),
/// 200,001 J (t = 0.4 s). The jump is 199,999 J in 0.2 s, 999,995 W: above 2,000 W x
/// (0.2 + 0.25) s = 900 J, so nothing is counted for it, and the next interval counts from
/// the new value: 200,001 - 200,000 = 1 J in all (it was 200,000 J, 55.6 Wh).
#[test]
fn a_counter_jump_past_the_ceiling_counts_nothing_and_is_noted() {
    let mut p = Pipeline::new(inputs());
    p.tick(&[package(0.0, 1_000_000), machine(0.0)]);
    p.tick(&[package(0.2, 200_000_000_000), machine(0.2)]);
    p.tick(&[package(0.4, 200_001_000_000), machine(0.4)]);
    let m = p.finish();
    assert!((cpu(&m) - 1.0).abs() < 1e-9, "{}", cpu(&m));
    assert_eq!(m.cpu_tdp, None, "the CPU was never modelled");
    let notes: Vec<&String> = m
        .warnings
        .iter()
        .filter(|w| w.contains("implausible"))
        .collect();
    assert_eq!(
        notes,
        [
            "rapl/package-0: 1 implausible reading was not counted (the first at t = 0.2 s: \
             its energy counter rose 199999 J in 0.2 s (999995 W), more than a CPU package can \
             draw (2000 W)); nothing is counted for the interval it ends, and the counter \
             counts on from its new value"
        ],
        "{:?}",
        m.warnings
    );
}

/// Hostile round 4, #1: hwmon power1_average of 1e9 W between two 100 W and 300 W readings.
/// The 1e9 W reading is a missed read: the trapezoid spans t = 0..2 s, (100 + 300) / 2 W x 2 s
/// = 400 J (it was (100 + 1e9) / 2 + (1e9 + 300) / 2 = 1,000,000,200 J, 278 kWh).
#[test]
fn a_power_reading_past_the_ceiling_is_a_missed_read() {
    let mut p = Pipeline::new(inputs());
    p.tick(&[power(0.0, Part::Gpu, 100.0), machine(0.0)]);
    p.tick(&[power(1.0, Part::Gpu, 1e9), machine(1.0)]);
    p.tick(&[power(2.0, Part::Gpu, 300.0), machine(2.0)]);
    let m = p.finish();
    let gpu = energy(&m, Figure::ComponentGpu);
    assert!((gpu - 400.0).abs() < 1e-9, "{gpu}");
    assert!(
        m.warnings.iter().any(|w| w
            == "hwmon/hwmon3: 1 implausible reading was not counted (the first at t = 1.0 s: a \
                power reading of 1.000e9 W, more than a GPU can draw (5000 W)); it is taken as \
                a missed read"),
        "{:?}",
        m.warnings
    );
    // Every reading implausible: no GPU energy at all, and a note counting them, the first
    // time to the millisecond (a live run's first poll is a microsecond or so after 0).
    let mut p = Pipeline::new(inputs());
    for i in 0..5_u32 {
        let t = 0.020_001_115 + f64::from(i) * 0.2;
        p.tick(&[power(t, Part::Gpu, 1.8e13), machine(t)]);
    }
    let m = p.finish();
    assert_eq!(energy(&m, Figure::ComponentGpu), 0.0);
    assert!(
        m.warnings.iter().any(|w| w.starts_with(
            "hwmon/hwmon3: 5 implausible readings were not counted (the first at t = 0.02 s:"
        ) && w.ends_with("they are taken as missed reads")),
        "{:?}",
        m.warnings
    );
}

/// A CPU power reading refused is a missed read of the CPU: its interval is neither modelled
/// nor counted twice. 100 W, 1e6 W, 100 W at t = 0, 1, 2: 100 W x 2 s = 200 J, measured by
/// integration (the model, 100 W TDP x curve, never used).
#[test]
fn a_refused_cpu_power_reading_is_not_modelled() {
    let mut p = Pipeline::new(inputs());
    p.tick(&[power(0.0, Part::Cpu, 100.0), machine(0.0)]);
    p.tick(&[power(1.0, Part::Cpu, 1e6), machine(1.0)]);
    p.tick(&[power(2.0, Part::Cpu, 100.0), machine(2.0)]);
    let m = p.finish();
    assert!((cpu(&m) - 200.0).abs() < 1e-9, "{}", cpu(&m));
    assert_eq!(m.cpu_tdp, None, "the CPU was never modelled");
}

/// Plausible fast rises count exactly: a GPU at 700 W read every 0.2 s (140 J a poll) for 1 s
/// is 700 J; a package at 400 W for 1 s, read every 0.2 s (80 J a poll), is 400 J. No note.
#[test]
fn plausible_fast_rises_count_exactly() {
    let mut p = Pipeline::new(inputs());
    for i in 0..=5_u64 {
        #[allow(clippy::cast_precision_loss)]
        let t = i as f64 * 0.2;
        p.tick(&[
            gpu_counter(t, 7 + i * 140_000_000),
            package(t, 1_000 + i * 80_000_000),
            machine(t),
        ]);
    }
    let m = p.finish();
    assert!((energy(&m, Figure::ComponentGpu) - 700.0).abs() < 1e-9);
    assert!((cpu(&m) - 400.0).abs() < 1e-9, "{}", cpu(&m));
    assert!(
        !m.warnings.iter().any(|w| w.contains("implausible")),
        "{:?}",
        m.warnings
    );
}

/// Hostile round 5: a hand-made trace whose poll at t = 2 has no package line was charged by
/// the CPU model for that interval and labelled the whole run's CPU `modelled`. A device read
/// before and absent from a poll is a missed read: the counter's next reading covers the gap.
/// Package 0, 100, (none), 300, 400 J at t = 0..4: 400 J, all measured, the model never used
/// (it would add 100 W TDP x curve x 1 s); a note counts the poll that lacked it.
#[test]
fn a_poll_without_a_devices_line_is_a_missed_read_not_the_model() {
    let mut p = Pipeline::new(inputs());
    for (t, j) in [
        (0.0, Some(0)),
        (1.0, Some(100)),
        (2.0, None),
        (3.0, Some(300)),
        (4.0, Some(400)),
    ] {
        let mut batch = vec![machine(t)];
        if let Some(j) = j {
            batch.push(package(t, j * 1_000_000));
        }
        p.tick(&batch);
    }
    let m = p.finish();
    assert!((cpu(&m) - 400.0).abs() < 1e-9, "{}", cpu(&m));
    let methods: Vec<_> = m
        .breakdown
        .components
        .iter()
        .filter(|c| matches!(c.key, Figure::ComponentCpu | Figure::ComponentCpuIdle))
        .map(|c| c.method)
        .collect();
    assert_eq!(methods, [Method::Measured, Method::Measured]);
    assert!(
        m.warnings
            .iter()
            .any(|w| w.starts_with("rapl/package-0: 1 read failed")
                && w.contains("t = 2.0 s: no reading in this poll")),
        "{:?}",
        m.warnings
    );
}
