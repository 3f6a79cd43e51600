//! The pipeline against hand arithmetic for traces with gaps (hostile round 6): a poll without
//! the machine's or the process tree's CPU-time line, a CPU counter whose reads fail and never
//! come back, a GPU that stops answering before the end.

use super::*;
use crate::figure::Figure;
use crate::source::SourceKind;

use super::test_readings::{at, counter, energy, inputs};

/// 4 CPUs, 2 of them busy: busy_s 2 t, total_s 4 t (u = 0.5).
fn machine(t: f64) -> Reading {
    super::test_readings::machine(t, 2.0 * t, 4.0 * t, 0.0)
}

/// The measured tree uses one CPU: cpu_s = t.
fn tree(t: f64) -> Reading {
    super::test_readings::tree(t, t, 0.0)
}

fn package(t: f64, value: Value) -> Reading {
    at(t, SourceKind::Rapl, "package-0", value)
}

/// The package at 50 W: 50 J a second.
fn counted(t: f64) -> Value {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let energy_uj = (1.0e6 + 50.0e6 * t) as u64;
    counter(Part::Cpu, energy_uj, 262_143_328_850)
}

/// The GPU at 200 W.
fn gpu(t: f64) -> Reading {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let energy_uj = (200.0e6 * t) as u64;
    at(
        t,
        SourceKind::Nvml,
        "gpu0",
        counter(Part::Gpu, energy_uj, u64::MAX),
    )
}

fn run(policy: Policy, polls: impl Fn(f64) -> Vec<Reading>) -> Measurement {
    let mut p = Pipeline::new(inputs(policy));
    for i in 0..=10_u32 {
        p.tick(&polls(f64::from(i)));
    }
    p.close();
    p.finish()
}

/// Package 50 W for 10 s = 500 J; GPU 200 W for 10 s = 2,000 J. Under `--charge processes` the
/// tree has 1 of the machine's 2 busy CPU-seconds a second, so half the active CPU energy:
/// active = 500 x (c(0.5) - c(0)) / c(0.5) = 500 x 0.63 / 0.75 = 420 J, the tree's 210 J; the
/// idle share 80 J, the tree's a quarter (1 of 4 CPUs): 20 J. Without the machine's line at t =
/// 3..6 (or the tree's) the CPU and DRAM energy of those polls waits and is split with the next
/// complete poll's differences, and the figures are the same, not 30.3 / 17.2 mWh (the gap read as idle) or 40.7 / 5
/// mWh (the tree's share lost).
#[test]
fn a_poll_without_a_cpu_time_line_changes_nothing_at_a_steady_rate() {
    let full = run(Policy::Processes, |t| {
        vec![machine(t), tree(t), package(t, counted(t)), gpu(t)]
    });
    let active = energy(&full, Figure::ComponentCpu);
    let idle = energy(&full, Figure::ComponentCpuIdle);
    assert!((active - 210.0).abs() < 1e-6, "{active}");
    assert!((idle - 20.0).abs() < 1e-6, "{idle}");
    let gap = |t: f64| (3.0..=6.0).contains(&t);
    for (lacks, what) in [
        (0, "without the machine's CPU time"),
        (1, "without the measured processes' CPU time"),
    ] {
        let m = run(Policy::Processes, |t| {
            let mut r = vec![package(t, counted(t)), gpu(t)];
            if !(gap(t) && lacks == 0) {
                r.push(machine(t));
            }
            if !(gap(t) && lacks == 1) {
                r.push(tree(t));
            }
            r
        });
        for key in [
            Figure::ComponentCpu,
            Figure::ComponentCpuIdle,
            Figure::ComponentGpu,
        ] {
            assert!(
                (energy(&m, key) - energy(&full, key)).abs() < 1e-6,
                "{what}: {key:?} {} vs {}",
                energy(&m, key),
                energy(&full, key)
            );
        }
        assert!(
            m.warnings
                .iter()
                .any(|w| w.starts_with(&format!("4 polls {what}"))
                    && w.contains(
                        "(the first at t = 3.0 s): the CPU and DRAM energy of them was split with \
                         the next complete poll's"
                    )),
            "{what}: {:?}",
            m.warnings
        );
    }
    // An explicit failed read of /proc/stat is the same gap.
    let m = run(Policy::Machine, |t| {
        let mut r = vec![package(t, counted(t)), tree(t)];
        r.push(if gap(t) {
            Reading {
                t,
                device: DeviceId::new(SourceKind::Procfs, "machine"),
                value: Value::Missed {
                    reason: "EIO".into(),
                },
            }
        } else {
            machine(t)
        });
        r
    });
    assert!((energy(&m, Figure::ComponentCpu) - 420.0).abs() < 1e-6);
    assert!((energy(&m, Figure::ComponentCpuIdle) - 80.0).abs() < 1e-6);
}

/// RAPL counted for t = 0..5 (250 J), its reads failing at 6..9 and the device dropped at 10:
/// the 5 s it did not cover are modelled, 100 W TDP x c(0.5) = 75 W x 5 s = 375 J, not lost
/// (the whole machine: 625 J in all; it was 250 J plus one modelled second). The CPU is then
/// labelled modelled, and the measurement says a counter was read.
#[test]
fn intervals_a_dropped_counter_never_covered_are_modelled() {
    let m = run(Policy::Machine, |t| {
        let v = match t {
            t if t <= 5.0 => counted(t),
            t if t < 10.0 => Value::Missed {
                reason: "EIO".into(),
            },
            _ => Value::Dropped {
                reason: "5 reads failed".into(),
            },
        };
        vec![machine(t), package(t, v)]
    });
    let cpu = energy(&m, Figure::ComponentCpu) + energy(&m, Figure::ComponentCpuIdle);
    assert!((cpu - 625.0).abs() < 1e-6, "{cpu}");
    assert!(m.cpu_counter_read);
    assert_eq!(m.cpu_tdp, Some(Watts(100.0)));
    // The same failures to the end with no drop: `close` models them (250 + 5 x 75 = 625 J),
    // and the note says no reading came after t = 5.
    let m = run(Policy::Machine, |t| {
        let v = if t <= 5.0 {
            counted(t)
        } else {
            Value::Missed {
                reason: "EIO".into(),
            }
        };
        vec![machine(t), package(t, v)]
    });
    let cpu = energy(&m, Figure::ComponentCpu) + energy(&m, Figure::ComponentCpuIdle);
    assert!((cpu - 625.0).abs() < 1e-6, "{cpu}");
    assert!(
        m.warnings
            .iter()
            .any(|w| w.starts_with("rapl/package-0: 5 reads failed")
                && w.ends_with(
                    "no reading came after t = 5.0 s, so from then to the end it is modelled"
                )),
        "{:?}",
        m.warnings
    );
    // Failures between two readings are covered by the counter: 500 J, measured, no model.
    let m = run(Policy::Machine, |t| {
        let v = if (3.0..=6.0).contains(&t) {
            Value::Missed {
                reason: "EIO".into(),
            }
        } else {
            counted(t)
        };
        vec![machine(t), package(t, v)]
    });
    let cpu = energy(&m, Figure::ComponentCpu) + energy(&m, Figure::ComponentCpuIdle);
    assert!((cpu - 500.0).abs() < 1e-6, "{cpu}");
    assert_eq!(m.cpu_tdp, None);
    assert!(m
        .warnings
        .iter()
        .any(|w| w.ends_with("its energy counter covers the gaps")));
}

/// A GPU with no line after t = 5 loses its last 5 s (1,000 of 2,000 J), and the note says so
/// rather than "its energy counter covers the gaps".
#[test]
fn a_gpu_that_stops_answering_is_said_not_covered() {
    let m = run(Policy::Machine, |t| {
        let mut r = vec![machine(t), package(t, counted(t))];
        if t <= 5.0 {
            r.push(gpu(t));
        }
        r
    });
    assert!((energy(&m, Figure::ComponentGpu) - 1_000.0).abs() < 1e-6);
    assert!(
        m.warnings.iter().any(|w| {
            w.starts_with("nvml/gpu0: 5 reads failed")
            && w.ends_with(
                "no reading came after t = 5.0 s, so its energy from then to the end is not counted"
            )
        }),
        "{:?}",
        m.warnings
    );
}

/// Hostile round 7: skipping a poll without the machine's line lost the readings in it. Every
/// gap here leaves the figures of the full trace: the last poll (t = 10) or the last three
/// without the machine's line (the run's last interval was lost: GPUs 1.25 Wh for 1.39), a
/// package counter reset at t = 4 inside a gap (the readings at 3..6 were thrown away and the
/// reset missed), and a windows mark inside a gap.
#[test]
fn polls_without_the_machines_line_keep_their_readings() {
    let full = run(Policy::Machine, |t| {
        vec![machine(t), package(t, counted(t)), gpu(t)]
    });
    for gap in [&[10.0][..], &[8.0, 9.0, 10.0], &[2.0, 3.0]] {
        let m = run(Policy::Machine, |t| {
            let mut r = vec![package(t, counted(t)), gpu(t)];
            if !gap.contains(&t) {
                r.push(machine(t));
            }
            r
        });
        for key in [
            Figure::ComponentCpu,
            Figure::ComponentCpuIdle,
            Figure::ComponentGpu,
        ] {
            assert!(
                (energy(&m, key) - energy(&full, key)).abs() < 1e-6,
                "gap {gap:?}: {key:?} {} vs {}",
                energy(&m, key),
                energy(&full, key)
            );
        }
        assert!(
            (m.duration.0 - 10.0).abs() < 1e-9,
            "{gap:?}: {:?}",
            m.duration
        );
        // Round 8: a gap at the end has no next poll, and its note says what was done instead.
        if gap == [10.0] {
            assert!(
                m.warnings.iter().any(|w| w
                    == "1 poll without the machine's CPU time (procfs stat) (the first at t = \
                        10.0 s): the run ended in such a gap, so its last 1.0 s were split at \
                        the rates read before it"),
                "{:?}",
                m.warnings
            );
        }
    }
    // A reset at t = 4 (the counter restarts from 2 J): 3 s x 50 W up to the reading of t = 3,
    // then the 2 J counted since the reset (what the interval 3..4 drew before it is unknown),
    // then 6 s x 50 W: 150 + 2 + 300 = 452 J, gap or not.
    let reset = |t: f64| {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let energy_uj = if t < 4.0 {
            (1.0e6 + 50.0e6 * t) as u64
        } else {
            (2.0e6 + 50.0e6 * (t - 4.0)) as u64
        };
        Value::Counter {
            part: Part::Cpu,
            energy_uj,
            max_uj: 262_143_328_850,
            used: None,
            share: None,
        }
    };
    let with = |gap: bool| {
        run(Policy::Machine, |t| {
            let mut r = vec![package(t, reset(t))];
            if !(gap && (3.0..=6.0).contains(&t)) {
                r.push(machine(t));
            }
            r
        })
    };
    for m in [with(false), with(true)] {
        let cpu = energy(&m, Figure::ComponentCpu) + energy(&m, Figure::ComponentCpuIdle);
        assert!((cpu - 452.0).abs() < 1e-6, "{cpu}");
        assert!(
            m.warnings
                .iter()
                .any(|w| w.contains("energy counter reset at t = 4.0 s")),
            "{:?}",
            m.warnings
        );
    }
}

/// Hostile round 7: a window whose marks fall inside a gap of the machine's line got 0 J. The
/// window w from t = 2 to 5 holds 3 s of 50 W of package and 200 W of GPU: 750 J, gap or not.
#[test]
fn a_window_inside_a_gap_keeps_its_energy() {
    let window = |gap: bool| {
        let mut p = Pipeline::new(inputs(Policy::Machine));
        for i in 0..=10_u32 {
            let t = f64::from(i);
            let mut readings = vec![package(t, counted(t)), gpu(t)];
            if !(gap && (3.0..=6.0).contains(&t)) {
                readings.push(machine(t));
            }
            let events = match i {
                2 => vec![Event::Mark {
                    text: "begin w".into(),
                }],
                5 => vec![Event::Mark {
                    text: "end w".into(),
                }],
                _ => vec![],
            };
            p.poll(&Poll {
                t,
                readings,
                events,
            });
        }
        p.close();
        let m = p.finish();
        let w = m.windows.iter().find(|w| w.name == "w").expect("w").clone();
        w.breakdown.total().0
    };
    assert!((window(false) - 750.0).abs() < 1e-6, "{}", window(false));
    assert!((window(true) - 750.0).abs() < 1e-6, "{}", window(true));
}

/// Hostile round 7: the package read for t = 0..5 and failing after, dropped at 10. The 5 s
/// modelled late (75 W, 375 J) are spread over the window marks and the profile's bins: a
/// window from t = 6 to 9 holds 3 s x 75 W = 225 J (it held 0 J of CPU), and the profile stays
/// in time order with the run's total in it.
#[test]
fn a_span_modelled_late_lands_in_its_windows_and_bins() {
    let mut p = Pipeline::new(inputs(Policy::Machine));
    for i in 0..=10_u32 {
        let t = f64::from(i);
        let v = match i {
            0..=5 => counted(t),
            10 => Value::Dropped {
                reason: "5 reads failed".into(),
            },
            _ => Value::Missed {
                reason: "EIO".into(),
            },
        };
        let events = match i {
            6 => vec![Event::Mark {
                text: "begin w".into(),
            }],
            9 => vec![Event::Mark {
                text: "end w".into(),
            }],
            _ => vec![],
        };
        p.poll(&Poll {
            t,
            readings: vec![machine(t), package(t, v)],
            events,
        });
    }
    p.close();
    let m = p.finish();
    let w = m.windows.iter().find(|w| w.name == "w").expect("w");
    assert!(
        (w.breakdown.total().0 - 225.0).abs() < 1e-6,
        "{:?}",
        w.breakdown
    );
    let total: f64 = m.profile.iter().map(|b| b.energy.0).sum();
    assert!((total - 625.0).abs() < 1e-6, "{total}");
    assert!(
        m.profile.windows(2).all(|b| b[0].end <= b[1].start + 1e-9),
        "{:?}",
        m.profile
    );
    assert!(
        m.warnings.iter().any(|w| w
            == "rapl/package-0 dropped at t = 10.0 s: 5 reads failed; from its last reading (t \
                = 5.0 s) on, the model stands for it"),
        "{:?}",
        m.warnings
    );
}

/// Hostile round 8: a gap while the load changed was split at the rate before it (active -80%
/// with the load rising from 0 to 4 busy CPUs, +80% falling; the process -96%). The machine idle
/// until t = 5 and fully busy after, its line missing at t = 6..9: the waiting energy is split
/// with the differences of t = 10, which span the gap, so the figures equal the full trace's.
#[test]
fn a_gap_while_the_load_changes_is_split_by_the_time_that_spans_it() {
    let machine_step = |t: f64, up: bool| {
        let busy = |t: f64| {
            if up {
                4.0 * (t - 5.0).max(0.0)
            } else {
                4.0 * t.min(5.0)
            }
        };
        Reading {
            t,
            device: DeviceId::new(SourceKind::Procfs, "machine"),
            value: Value::Machine {
                busy_s: busy(t),
                total_s: 4.0 * t,
                cpus: 4,
                mem_total_gb: 0.0,
            },
        }
    };
    for up in [true, false] {
        for policy in [Policy::Machine, Policy::Processes] {
            let trace = |gap: bool| {
                run(policy, |t| {
                    let mut r = vec![package(t, counted(t)), tree(t)];
                    if !(gap && (6.0..=9.0).contains(&t)) {
                        r.push(machine_step(t, up));
                    }
                    r
                })
            };
            let (full, gap) = (trace(false), trace(true));
            for key in [Figure::ComponentCpu, Figure::ComponentCpuIdle] {
                // The gap's 4 s are split together (one busy share over t = 5..10), not each
                // second with its own: equal to the full trace's within what that merges.
                let (f, g) = (energy(&full, key), energy(&gap, key));
                assert!(
                    (g - f).abs() <= 0.05 * f.max(1.0),
                    "up {up}, {policy:?}: {key:?} {g} vs {f}"
                );
            }
            let total = |m: &Measurement| {
                energy(m, Figure::ComponentCpu) + energy(m, Figure::ComponentCpuIdle)
            };
            assert!((total(&gap) - total(&full)).abs() < 1e-6);
        }
    }
}

/// Hostile round 9: the package's reads failing at t = 3..6 put the whole 4 s into the
/// interval of the reading at t = 7 (a window from t = 4 to 5 got almost nothing). The reading
/// that covers them is now split over the span and spread over its marks: at a steady 50 W the
/// window holds 50 J of CPU, and (the GPU's reads failing alike, 200 W) 200 J of GPU.
#[test]
fn a_reading_after_failed_reads_is_spread_over_the_span_it_covers() {
    let mut p = Pipeline::new(inputs(Policy::Machine));
    for i in 0..=10_u32 {
        let t = f64::from(i);
        let v = if (3..=6).contains(&i) {
            Value::Missed {
                reason: "EIO".into(),
            }
        } else {
            counted(t)
        };
        let events = match i {
            4 => vec![Event::Mark {
                text: "begin w".into(),
            }],
            5 => vec![Event::Mark {
                text: "end w".into(),
            }],
            _ => vec![],
        };
        let g = if (3..=6).contains(&i) {
            Reading {
                t,
                device: DeviceId::new(SourceKind::Nvml, "gpu0"),
                value: Value::Missed {
                    reason: "timeout".into(),
                },
            }
        } else {
            gpu(t)
        };
        p.poll(&Poll {
            t,
            readings: vec![machine(t), package(t, v), g],
            events,
        });
    }
    p.close();
    let m = p.finish();
    // 50 W of package and 200 W of GPU over the window's second.
    let w = m.windows.iter().find(|w| w.name == "w").expect("w");
    assert!(
        (w.breakdown.total().0 - 250.0).abs() < 1e-6,
        "{:?}",
        w.breakdown
    );
    let total: f64 = m.profile.iter().map(|b| b.energy.0).sum();
    assert!((total - 2_500.0).abs() < 1e-6, "{total}");
    for b in &m.profile {
        let per_s = b.energy.0 / (b.end - b.start);
        assert!((per_s - 250.0).abs() < 1e-6, "{:?}", m.profile);
    }
}

/// Hostile round 9: the package's read failing at t = 7 and the package dropped at t = 8, inside
/// a gap of the machine's line (t = 6..9): the waiting second was modelled with no busy time and
/// lost active CPU. It waits in the gap's carry now and is modelled with the gap's busy share, so
/// the figures equal the same trace without the gap.
#[test]
fn a_counter_dropped_inside_a_cpu_time_gap_is_modelled_at_the_gaps_busy_share() {
    let trace = |gap: bool| {
        run(Policy::Machine, |t| {
            let mut r = Vec::new();
            if !(gap && (6.0..=9.0).contains(&t)) {
                r.push(machine(t));
            }
            let i = t as u32;
            match i {
                0..=6 => r.push(package(t, counted(t))),
                7 => r.push(package(
                    t,
                    Value::Missed {
                        reason: "EIO".into(),
                    },
                )),
                8 => r.push(package(
                    t,
                    Value::Dropped {
                        reason: "gone".into(),
                    },
                )),
                _ => {}
            }
            r
        })
    };
    let cpu = |m: &Measurement| {
        (
            energy(m, Figure::ComponentCpu),
            energy(m, Figure::ComponentCpuIdle),
        )
    };
    let (full, gap) = (cpu(&trace(false)), cpu(&trace(true)));
    assert!(
        (full.0 - gap.0).abs() < 1e-6 && (full.1 - gap.1).abs() < 1e-6,
        "{full:?} vs {gap:?}"
    );
    // 6 s measured at 50 W (300 J) and 4 s modelled at 100 W x c(0.5) = 75 W (300 J).
    assert!((full.0 + full.1 - 600.0).abs() < 1e-6, "{full:?}");
}

/// Hostile round 10: one failed package read at t = 5, just as the process started to use the
/// CPU, split the covering reading's 2 s at their average load: the process was charged for the
/// second before it ran (+17%). Each waiting interval is now split with its own load: the figures
/// equal the trace without the miss, under both policies.
#[test]
fn a_covering_reading_is_split_interval_by_interval() {
    let machine_step = |t: f64| Reading {
        t,
        device: DeviceId::new(SourceKind::Procfs, "machine"),
        value: Value::Machine {
            busy_s: 4.0 * (t - 5.0).max(0.0),
            total_s: 4.0 * t,
            cpus: 4,
            mem_total_gb: 0.0,
        },
    };
    let late_tree = |t: f64| Reading {
        t,
        device: DeviceId::new(SourceKind::Procfs, "tree"),
        value: Value::Tree {
            cpu_s: 2.0 * (t - 5.0).max(0.0),
            rss_gb: 0.0,
            pids: 1,
            consumer: 0,
        },
    };
    for policy in [Policy::Machine, Policy::Processes] {
        let trace = |miss: bool| {
            run(policy, |t| {
                let v = if miss && (t - 5.0).abs() < 1e-9 {
                    Value::Missed {
                        reason: "EIO".into(),
                    }
                } else {
                    counted(t)
                };
                vec![machine_step(t), late_tree(t), package(t, v)]
            })
        };
        let (full, miss) = (trace(false), trace(true));
        for key in [Figure::ComponentCpu, Figure::ComponentCpuIdle] {
            assert!(
                (energy(&full, key) - energy(&miss, key)).abs() < 1e-6,
                "{policy:?} {key:?}: {} vs {}",
                energy(&miss, key),
                energy(&full, key)
            );
        }
    }
}

/// Hostile round 10: a GPU whose reads failed from the start lost its energy before its first
/// reading (a counter's first reading is its baseline) under a note saying its counter covered
/// the gaps. 200 W from t = 4 to 10: 1,200 J, and the note says the rest is not counted.
#[test]
fn reads_failing_before_the_first_reading_are_said_not_counted() {
    let m = run(Policy::Machine, |t| {
        let g = if t < 4.0 {
            Reading {
                t,
                device: DeviceId::new(SourceKind::Nvml, "gpu0"),
                value: Value::Missed {
                    reason: "timeout".into(),
                },
            }
        } else {
            gpu(t)
        };
        vec![machine(t), package(t, counted(t)), g]
    });
    assert!((energy(&m, Figure::ComponentGpu) - 1_200.0).abs() < 1e-6);
    assert!(
        m.warnings
            .iter()
            .any(|w| w.starts_with("nvml/gpu0: 4 reads failed")
                && w.ends_with("; its energy before its first reading is not counted")),
        "{:?}",
        m.warnings
    );
}

/// Hostile round 11: a package never read got the GPU's "its energy is not counted" although the
/// CPU was modelled; a run whose machine line first came at t = 1 split the interval before it
/// as idle without a note (the poll with the first line was not counted).
#[test]
fn notes_for_a_device_never_read_and_a_late_first_machine_line() {
    let m = run(Policy::Machine, |t| {
        vec![
            machine(t),
            package(
                t,
                Value::Missed {
                    reason: "EIO".into(),
                },
            ),
        ]
    });
    assert!(
        m.warnings
            .iter()
            .any(|w| w.starts_with("rapl/package-0: 11 reads failed")
                && w.ends_with("; it was never read, so it is modelled")),
        "{:?}",
        m.warnings
    );
    let m = run(Policy::Machine, |t| {
        let mut r = vec![package(t, counted(t))];
        if t >= 1.0 {
            r.push(machine(t));
        }
        r
    });
    assert!(
        m.warnings.iter().any(|w| w
            == "1 poll came before the machine's first CPU-time line (procfs stat): its CPU \
                energy is split as if the machine were idle"),
        "{:?}",
        m.warnings
    );
}
