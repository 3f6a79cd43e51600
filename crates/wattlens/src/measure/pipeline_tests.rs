//! The pipeline against hand arithmetic: measured and modelled CPU, misses, marks, windows.

use super::*;
use crate::source::SourceKind;

use super::test_readings::{at, counter, inputs};

fn machine(t: f64, busy: f64, total: f64) -> Reading {
    super::test_readings::machine(t, busy, total, 16.0)
}

fn tree(t: f64, cpu: f64) -> Reading {
    super::test_readings::tree(t, cpu, 1.6)
}

fn package(t: f64, energy_uj: u64) -> Reading {
    at(
        t,
        SourceKind::Rapl,
        "package-0",
        counter(Part::Cpu, energy_uj, 1 << 40),
    )
}

fn missed(t: f64, source: &str, device: &str) -> Reading {
    Reading {
        t,
        device: DeviceId::new(SourceKind::parse(source), device),
        value: Value::Missed {
            reason: "Resource temporarily unavailable".into(),
        },
    }
}

/// Issue 8: an interval whose package read failed is neither modelled (the next delta
/// covers it, so modelling would count it twice) nor lost.
#[test]
fn a_missed_package_read_is_covered_by_the_next_delta_not_modelled() {
    // RAPL: 0 -> 100 J (t = 1) -> missed (t = 2) -> 300 J (t = 3): 300 J in all, measured.
    let mut p = Pipeline::new(inputs(Policy::Machine));
    p.tick(&[package(0.0, 0), machine(0.0, 0.0, 0.0)]);
    p.tick(&[package(1.0, 100_000_000), machine(1.0, 2.0, 4.0)]);
    p.tick(&[missed(2.0, "rapl", "package-0"), machine(2.0, 4.0, 8.0)]);
    p.tick(&[package(3.0, 300_000_000), machine(3.0, 6.0, 12.0)]);
    let m = p.finish();
    let cpu: f64 = m.breakdown.components[..2].iter().map(|c| c.energy.0).sum();
    assert!((cpu - 300.0).abs() < 1e-9, "{cpu}");
    assert!(m.breakdown.components[..2]
        .iter()
        .all(|c| c.method == Method::Measured));
    assert_eq!(m.cpu_tdp, None, "the CPU was never modelled");
    assert_eq!(
        m.warnings,
        [
            "rapl/package-0: 1 read failed and was retried (the first at t = 2.0 s: \
          Resource temporarily unavailable); its energy counter covers the gaps"
        ]
    );
}

#[test]
fn misses_give_one_note_per_device_and_at_most_a_few_devices_by_name() {
    // 8 GPUs, each missing every other read for 100 polls: 6 notes, not 400.
    let mut p = Pipeline::new(inputs(Policy::Machine));
    for i in 0..200u32 {
        let t = f64::from(i);
        let batch: Vec<Reading> = (0..8)
            .map(|g| {
                let device = format!("gpu{g}");
                if i % 2 == 1 {
                    missed(t, "nvml", &device)
                } else {
                    Reading {
                        t,
                        device: DeviceId::new(SourceKind::Nvml, device),
                        value: Value::Power {
                            part: Part::Gpu,
                            power_w: 100.0,
                            used: None,
                            share: None,
                        },
                    }
                }
            })
            .collect();
        p.tick(&batch);
    }
    let m = p.finish();
    assert_eq!(m.warnings.len(), MISSES_NAMED + 1, "{:?}", m.warnings);
    assert!(m.warnings[0].starts_with("nvml/gpu0: 100 reads failed and were retried"));
    // The last poll (t = 199) is a miss that no reading follows (hostile round 6: the note
    // said the gap was interpolated).
    assert!(
        m.warnings[0].ends_with(
            "no reading came after t = 198.0 s, so its energy from then to the end is not counted"
        ),
        "{}",
        m.warnings[0]
    );
    assert_eq!(
        m.warnings[MISSES_NAMED],
        "3 more devices had reads that failed and were retried (300 reads; not shown)"
    );
    // 8 x 100 W over 198 s (the last power read is at t = 198): 158,400 J, none lost.
    let gpu = m.breakdown.components.last().expect("gpu");
    assert!((gpu.energy.0 - 158_400.0).abs() < 1e-6, "{gpu:?}");
    // A dropped device's note is its drop, not its misses.
    let mut p = Pipeline::new(inputs(Policy::Machine));
    p.tick(&[missed(0.0, "nvml", "gpu0")]);
    p.tick(&[Reading {
        t: 1.0,
        device: DeviceId::new(SourceKind::Nvml, "gpu0"),
        value: Value::Dropped {
            reason: "GPU is lost (5 reads failed in a row)".into(),
        },
    }]);
    assert_eq!(
        p.finish().warnings,
        ["nvml/gpu0 dropped at t = 1.0 s: GPU is lost (5 reads failed in a row); it was never read, so its energy is not counted"]
    );
}

#[test]
fn modelled_cpu_for_my_processes_follows_the_curve() {
    // 4 CPUs, 10 s, the machine is busy 30 of 40 CPU-s (u = 0.75 -> curve 0.885) and the
    // tree uses 20 of those 30 s: s = 2/3, c = 20 / 40 = 0.5.
    // active = 100 W x (0.885 - 0.12) x 10 s x 2/3 = 510 J; idle = 100 x 0.12 x 10 x 0.5 = 60 J
    // DRAM: 0.375 W/GB x 16 GB x 10 s x (1.6 / 16) = 6 J
    let mut p = Pipeline::new(inputs(Policy::Processes));
    p.tick(&[tree(0.0, 0.0), machine(0.0, 0.0, 0.0)]);
    p.tick(&[tree(10.0, 20.0), machine(10.0, 30.0, 40.0)]);
    let m = p.finish();
    let e: Vec<f64> = m.breakdown.components.iter().map(|c| c.energy.0).collect();
    assert!((e[0] - 510.0).abs() < 1e-9, "{e:?}");
    assert!((e[1] - 60.0).abs() < 1e-9, "{e:?}");
    assert!((e[2] - 6.0).abs() < 1e-9, "{e:?}");
    assert!(m
        .breakdown
        .components
        .iter()
        .all(|c| c.method == Method::Modelled));
    // The whole machine: u = 30 / 40 = 0.75 -> 0.885; 100 W x 10 s x 0.885 = 885 J
    let mut w = Pipeline::new(inputs(Policy::Machine));
    w.tick(&[tree(0.0, 0.0), machine(0.0, 0.0, 0.0)]);
    w.tick(&[tree(10.0, 20.0), machine(10.0, 30.0, 40.0)]);
    let m = w.finish();
    let cpu = m.breakdown.components[0].energy.0 + m.breakdown.components[1].energy.0;
    assert!((cpu - 885.0).abs() < 1e-9, "{cpu}");
}

#[test]
fn measured_package_is_shared_by_busy_time() {
    // RAPL 500 J over 10 s, u = 0.5 -> idle fraction 0.12 / 0.75 = 0.16 -> idle 80 J,
    // active 420 J; the tree has 10 of 20 busy s -> 210 J active; capacity 10/40 -> 20 J idle.
    let counter = |t: f64, uj: u64| Reading {
        t,
        device: DeviceId::new(SourceKind::Rapl, "package-0"),
        value: Value::Counter {
            part: Part::Cpu,
            energy_uj: uj,
            max_uj: u64::from(u32::MAX) * 64,
            used: None,
            share: None,
        },
    };
    let mut p = Pipeline::new(inputs(Policy::Processes));
    p.tick(&[counter(0.0, 0), tree(0.0, 0.0), machine(0.0, 0.0, 0.0)]);
    p.tick(&[
        counter(10.0, 500_000_000),
        tree(10.0, 10.0),
        machine(10.0, 20.0, 40.0),
    ]);
    let m = p.finish();
    let c = &m.breakdown.components;
    assert_eq!(c[0].method, Method::Measured);
    assert!((c[0].energy.0 - 210.0).abs() < 1e-9, "{c:?}");
    assert!((c[1].energy.0 - 20.0).abs() < 1e-9, "{c:?}");
    assert!((m.machine_idle.0 - 80.0).abs() < 1e-9);
}

#[test]
fn marks_cut_windows_out_of_the_run() {
    // Whole machine, 100 W CPU modelled at u = 0.5 (curve 0.75): 75 J a second, and DRAM
    // 0.375 W/GB x 16 GB = 6 J a second. "begin a" at t = 2, "end a" at t = 5: 3 x 81 =
    // 243 J. "begin b" at 4 is never ended: closed at the last poll (t = 6), 162 J, with a
    // warning. Bad lines are ignored with a warning.
    let mark = |text: &str| Event::Mark { text: text.into() };
    let mut p = Pipeline::new(inputs(Policy::Machine));
    for t in 0..=6 {
        let t = f64::from(t);
        let mut poll = Poll {
            t,
            readings: vec![machine(t, 20.0 * t, 40.0 * t)],
            events: Vec::new(),
        };
        match t as u32 {
            2 => poll.events.push(mark("begin a")),
            4 => poll
                .events
                .extend([mark("begin b"), mark("end nothing"), mark("hello")]),
            5 => poll.events.push(mark("  end   a ")),
            _ => {}
        }
        p.poll(&poll);
    }
    let m = p.finish();
    let joules = |w: &Window| {
        w.breakdown
            .components
            .iter()
            .map(|c| c.energy.0)
            .sum::<f64>()
    };
    assert_eq!(m.windows.len(), 2);
    let (a, b) = (&m.windows[0], &m.windows[1]);
    assert_eq!((a.name.as_str(), a.start.0, a.end.0), ("a", 2.0, 5.0));
    assert!((joules(a) - 243.0).abs() < 1e-9, "{a:?}");
    assert!(!a.closed_by_run_end);
    assert_eq!((b.name.as_str(), b.start.0, b.end.0), ("b", 4.0, 6.0));
    assert!((joules(b) - 162.0).abs() < 1e-9, "{b:?}");
    assert!(b.closed_by_run_end);
    let w = m.warnings.join("\n");
    assert!(w.contains("\"end nothing\" without a begin"), "{w}");
    assert!(w.contains("\"hello\" is not"), "{w}");
    assert!(w.contains("\"b\" had no end mark"), "{w}");
}

#[test]
fn many_marks_stay_cheap_and_an_overlong_line_is_refused() {
    // 20,000 windows never ended, a thousand duplicate begins and a 5 KB line: every window
    // comes back, the notes stay a few lines, and the long line is not copied anywhere.
    let mark = |text: String| Event::Mark { text };
    let mut p = Pipeline::new(inputs(Policy::Machine));
    p.tick(&[machine(0.0, 0.0, 0.0)]);
    let mut events: Vec<Event> = (0..20_000).map(|i| mark(format!("begin w{i}"))).collect();
    events.extend((0..1000).map(|i| mark(format!("begin w{i}"))));
    events.push(mark("x".repeat(MAX_MARK_BYTES + 1)));
    p.poll(&Poll {
        t: 1.0,
        readings: vec![machine(1.0, 20.0, 40.0)],
        events,
    });
    p.poll(&Poll {
        t: 2.0,
        readings: vec![machine(2.0, 40.0, 80.0)],
        events: vec![mark("end w7".into())],
    });
    let m = p.finish();
    assert_eq!(m.windows.len(), 20_000);
    assert_eq!(m.windows[0].name, "w7");
    assert_eq!(m.windows[1].name, "w0");
    assert!(m.windows[1].closed_by_run_end);
    assert!(m.warnings.len() <= 25, "{}", m.warnings.len());
    let w = m.warnings.join("\n");
    assert!(
        w.contains("19999 windows had no end mark (\"w0\", \"w1\""),
        "{w}"
    );
    assert!(w.contains("more mark lines were ignored"), "{w}");
    assert!(w.len() < 10_000, "{}", w.len());
}

/// One consumer's pipeline over `steps` of (machine busy, machine total, this tree's CPU
/// time) increments, 1 s apart, with an optional RAPL package counter (J per step).
fn charged(policy: Policy, steps: &[(f64, f64, f64)], package_j: Option<&[f64]>) -> (f64, f64) {
    let mut p = Pipeline::new(inputs(policy));
    let (mut busy, mut total, mut cpu, mut uj) = (0.0, 0.0, 0.0, 0_u64);
    let counter = |t: f64, uj: u64| Reading {
        t,
        device: DeviceId::new(SourceKind::Rapl, "package-0"),
        value: Value::Counter {
            part: Part::Cpu,
            energy_uj: uj,
            max_uj: u64::MAX,
            used: None,
            share: None,
        },
    };
    let mut batch = vec![tree(0.0, 0.0), machine(0.0, 0.0, 0.0)];
    if package_j.is_some() {
        batch.push(counter(0.0, 0));
    }
    p.tick(&batch);
    for (i, (b, tot, c)) in steps.iter().enumerate() {
        let t = (i + 1) as f64;
        busy += b;
        total += tot;
        cpu += c;
        let mut batch = vec![tree(t, cpu), machine(t, busy, total)];
        if let Some(j) = package_j {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            {
                uj += (j[i] * 1e6) as u64;
            }
            batch.push(counter(t, uj));
        }
        p.tick(&batch);
    }
    let e = p.finish().breakdown.components;
    (e[0].energy.0, e[1].energy.0)
}

proptest::proptest! {
    /// Consumers that share the machine's busy time share its active CPU energy: their
    /// charges add up to what the whole machine is charged, never more, whether the
    /// package is measured or modelled; their idle shares never exceed the machine's idle.
    #[test]
    fn attribution_to_concurrent_consumers_conserves_the_machines_energy(
        steps in proptest::collection::vec(
            (0.0_f64..=1.0, proptest::collection::vec(0.01_f64..1.0, 1..5), 10.0_f64..500.0),
            1..6,
        ),
        measured in proptest::bool::ANY,
    ) {
        // 4 CPUs, 1 s apart: 4 CPU-s of capacity a step; the machine is busy `u` of it,
        // split among the consumers in the drawn proportions.
        let n = steps.iter().map(|s| s.1.len()).max().unwrap_or(1);
        let machine_steps: Vec<(f64, f64, f64)> =
            steps.iter().map(|(u, _, _)| (4.0 * u, 4.0, 0.0)).collect();
        let package: Vec<f64> = steps.iter().map(|s| s.2).collect();
        let package = measured.then_some(&package[..]);
        let (whole_active, whole_idle) = charged(Policy::Machine, &machine_steps, package);
        let (mut active, mut idle) = (0.0, 0.0);
        for k in 0..n {
            let mine: Vec<(f64, f64, f64)> = steps
                .iter()
                .map(|(u, w, _)| {
                    let sum: f64 = w.iter().sum();
                    let wk = w.get(k).copied().unwrap_or(0.0);
                    (4.0 * u, 4.0, 4.0 * u * wk / sum)
                })
                .collect();
            let (a, i) = charged(Policy::Processes, &mine, package);
            active += a;
            idle += i;
        }
        let tol = 1e-6 * (1.0 + whole_active.abs());
        proptest::prop_assert!((active - whole_active).abs() <= tol, "{active} vs {whole_active}");
        proptest::prop_assert!(idle <= whole_idle + tol, "{idle} vs {whole_idle}");
    }
}

/// Issue 8: warnings are bounded. A counter that resets at every poll (a driver reloading in a
/// loop) gives a few lines and a count, not one line per poll; the energy is still counted.
#[test]
fn counter_resets_are_said_a_few_times_then_counted() {
    let mut p = Pipeline::new(inputs(Policy::Machine));
    // 0, then 10 J, 5 J (reset: counts 5 J from 0), 15 J, 5 J (reset), ... for 200 polls.
    for i in 0..200_u32 {
        let uj = match i {
            0 => 0,
            _ if i % 2 == 1 => 10_000_000,
            _ => 5_000_000,
        };
        p.tick(&[package(f64::from(i), uj)]);
    }
    let m = p.finish();
    assert_eq!(m.warnings.len(), DEVICE_WARNINGS + 1, "{:?}", m.warnings);
    assert!(m.warnings[0].starts_with("rapl/package-0: energy counter reset at t = 2.0 s"));
    assert_eq!(
        m.warnings[DEVICE_WARNINGS],
        "79 more counter resets or dropped devices (not shown)"
    );
}

/// Seen on an H100 (docs/validation.md section 3): `wattlens run -- sleep 8` beside a GPU burn
/// started outside it charged no GPU energy (right) and said nothing (wrong: a GPU workload in
/// another container looks the same). Two GPUs: gpu0 used by the measured tree, gpu1 by
/// someone else, each 200 W for 10 s.
#[test]
fn gpus_no_measured_process_used_are_named_in_a_note() {
    let gpu = |t: f64, g: u32, used: bool| Reading {
        t,
        device: DeviceId::new(SourceKind::Nvml, format!("gpu{g}")),
        value: Value::Counter {
            part: Part::Gpu,
            // 200 W: 200 J a second, in microjoules.
            energy_uj: (t * 200.0 * 1e6) as u64,
            max_uj: u64::MAX,
            used: Some(used),
            share: None,
        },
    };
    let run = |gpu0_used: bool, policy: Policy| {
        let mut p = Pipeline::new(inputs(policy));
        for i in 0..=10u32 {
            let t = f64::from(i);
            p.tick(&[
                machine(t, t, 4.0 * t),
                tree(t, 0.0),
                gpu(t, 0, gpu0_used),
                gpu(t, 1, false),
            ]);
        }
        p.finish()
    };
    let m = run(true, Policy::Processes);
    let notes: Vec<&String> = m
        .warnings
        .iter()
        .filter(|w| w.contains("drew energy"))
        .collect();
    // Both GPUs drew 2 x 200 W x 10 s = 4,000 J = 1.11 Wh; gpu0's 2,000 J (0.556 Wh) is charged.
    assert_eq!(notes.len(), 1, "{:?}", m.warnings);
    assert!(
        notes[0]
            .starts_with("nvml/gpu1 drew energy during the run but no measured process used it"),
        "{}",
        notes[0]
    );
    assert!(
        notes[0].contains("drew 1.111 Wh in all, 0.5556 Wh of it charged here"),
        "{}",
        notes[0]
    );
    // Every GPU used: no note; the whole machine charged: no note.
    let all = |m: &Measurement| m.warnings.iter().any(|w| w.contains("drew energy"));
    assert!(!all(&run(true, Policy::Machine)));
    let m = run(false, Policy::Processes);
    assert!(
        m.warnings
            .iter()
            .any(|w| w.starts_with("nvml/gpu0, nvml/gpu1 drew energy") && w.contains("used them")),
        "{:?}",
        m.warnings
    );
}

/// A GPU shared with a process outside the tree: under `--charge processes` the tree is
/// charged its share of the processes' SM utilisation each interval (before: the whole GPU,
/// the other process's work included), and a note says so; `--charge machine` charges it
/// whole. 200 W for 10 s; the tree's share 0.25 for the first 5 s, then alone (no share).
#[test]
fn a_gpu_shared_with_a_process_outside_is_charged_at_the_trees_share() {
    let gpu = |t: f64| Reading {
        t,
        device: DeviceId::new(SourceKind::Nvml, "gpu0"),
        value: Value::Counter {
            part: Part::Gpu,
            energy_uj: (t * 200.0 * 1e6) as u64,
            max_uj: u64::MAX,
            used: Some(true),
            share: (t <= 5.0).then_some(0.25),
        },
    };
    let run = |policy: Policy| {
        let mut p = Pipeline::new(inputs(policy));
        for i in 0..=10u32 {
            let t = f64::from(i);
            p.tick(&[machine(t, t, 4.0 * t), tree(t, 0.0), gpu(t)]);
        }
        p.finish()
    };
    let m = run(Policy::Processes);
    // 5 s x 200 W x 0.25 + 5 s x 200 W = 250 + 1,000 J.
    let g = m.breakdown.components.last().expect("gpu");
    assert!((g.energy.0 - 1_250.0).abs() < 1e-6, "{g:?}");
    // Its embodied carbon goes with the part of the time it held: (5 x 0.25 + 5 x 1) / 10.
    assert!((m.accelerators - 0.625).abs() < 1e-12, "{}", m.accelerators);
    let notes: Vec<&String> = m.warnings.iter().filter(|w| w.contains("shared")).collect();
    assert_eq!(notes.len(), 1, "{:?}", m.warnings);
    assert!(
        notes[0].starts_with(
            "nvml/gpu0 was shared with processes outside the measured tree: while it was, it \
             drew 0.2778 Wh and 0.06944 Wh (25%) is charged here"
        ),
        "{}",
        notes[0]
    );
    let m = run(Policy::Machine);
    let g = m.breakdown.components.last().expect("gpu");
    assert!((g.energy.0 - 2_000.0).abs() < 1e-6, "{g:?}");
    assert_eq!(m.accelerators, 1.0);
    assert!(
        !m.warnings.iter().any(|w| w.contains("shared")),
        "{:?}",
        m.warnings
    );
}

/// Hostile rounds 13 and 14: a GPU the tree used for half the run carried a whole GPU's
/// embodied carbon, so two runs taking turns on one GPU carried two; weighting by energy
/// instead let a short burst then an idle hold carry almost all of it. Now each carries the
/// part of the GPU's time it held: 200 W for 2 s used, then 20 W for 2 s released: 0.5.
#[test]
fn a_gpu_used_for_part_of_the_run_carries_that_part_of_its_embodied_carbon() {
    let mut p = Pipeline::new(inputs(Policy::Processes));
    for i in 0..=4u32 {
        let t = f64::from(i);
        let j = if i <= 2 {
            t * 200.0
        } else {
            400.0 + (t - 2.0) * 20.0
        };
        p.tick(&[
            machine(t, t, 4.0 * t),
            tree(t, 0.0),
            Reading {
                t,
                device: DeviceId::new(SourceKind::Nvml, "gpu0"),
                value: Value::Counter {
                    part: Part::Gpu,
                    energy_uj: (j * 1e6) as u64,
                    max_uj: u64::MAX,
                    used: Some(i <= 2),
                    share: None,
                },
            },
        ]);
    }
    let m = p.finish();
    let g = m.breakdown.components.last().expect("gpu");
    assert!((g.energy.0 - 400.0).abs() < 1e-6, "{g:?}");
    assert!((m.accelerators - 0.5).abs() < 1e-12, "{}", m.accelerators);
}

/// Hostile test (issue 11, round 3): `run --replay` of a trace whose package counter (range
/// 2^40 uJ here) went from 600 kJ to 5 J in 1 s counted a "wrap" of 2^40 - 6e11 + 5e6 + 1 uJ
/// = 499,516 J (139 Wh, 500 kW). The package cannot draw over 2,000 W: a reset, noted, and
/// only what was counted after it is kept: 100 J (0 -> t = 1) + 5 J (since the reset) +
/// 100 J (t = 2 -> 3) = 205 J.
#[test]
fn a_reset_in_the_upper_range_is_not_read_as_a_wrap() {
    let mut p = Pipeline::new(inputs(Policy::Machine));
    p.tick(&[package(0.0, 599_900_000_000), machine(0.0, 0.0, 0.0)]);
    p.tick(&[package(1.0, 600_000_000_000), machine(1.0, 2.0, 4.0)]);
    p.tick(&[package(2.0, 5_000_000), machine(2.0, 4.0, 8.0)]);
    p.tick(&[package(3.0, 105_000_000), machine(3.0, 6.0, 12.0)]);
    let m = p.finish();
    let cpu: f64 = m.breakdown.components[..2].iter().map(|c| c.energy.0).sum();
    assert!((cpu - 205.0).abs() < 1e-9, "{cpu}");
    assert!(
        m.warnings[0].starts_with("rapl/package-0: energy counter reset at t = 2.0 s"),
        "{:?}",
        m.warnings
    );
}
