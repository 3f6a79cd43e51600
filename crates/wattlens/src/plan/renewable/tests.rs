//! Tests of `plan renewable` against hand arithmetic and brute force: every start time of 2-4
//! jobs on a short supply (with and without a battery), random and on the shipped DK wind
//! forecast; the exhaustive result equals the optimum, the heuristic never exceeds the bound,
//! the bound is never below the optimum.

use super::search::{CellJob, Instance};
use super::*;
use crate::plan::tests_support::{hourly, t};
use crate::uncertainty::UnitRange;
use crate::units::GramsPerKwh;
use proptest::prelude::*;

fn profile(kw: &[f64]) -> Profile {
    Profile {
        origin: "test".into(),
        start: t(0.0),
        step: SignedDuration::from_hours(1),
        kw: kw.to_vec(),
    }
}

fn job(name: &str, h: i64, kw: f64, release: Option<f64>, deadline: Option<f64>) -> RenewJob {
    RenewJob {
        name: name.into(),
        duration: SignedDuration::from_hours(h),
        power_kw: kw,
        release: release.map(t),
        deadline: deadline.map(t),
    }
}

/// The test site at an annual `g` g/kWh (its PUE 1.5 is not used: the plan's own is).
fn site(g: f64) -> crate::footprint::Site {
    let mut s = crate::footprint::tests_support::site();
    s.intensity = crate::footprint::tests_support::ci(g);
    s
}

/// The plan at an annual intensity of `g` g/kWh.
fn plan(i: &RenewInputs, g: f64) -> Result<RenewablePlan, RenewError> {
    let s = site(g);
    plan_renewable(
        i,
        GridCarbon {
            site: &s,
            series: None,
            opts: McOptions::default(),
        },
    )
}

/// The best on-site energy over every combination of starts.
fn brute(inst: &Instance) -> f64 {
    fn go(inst: &Instance, k: usize, starts: &mut Vec<usize>) -> f64 {
        if k == inst.jobs.len() {
            return inst.on_site(starts, None).total_kwh();
        }
        let mut best = f64::NEG_INFINITY;
        for s in inst.jobs[k].first..=inst.jobs[k].last {
            starts.push(s);
            best = best.max(go(inst, k + 1, starts));
            starts.pop();
        }
        best
    }
    go(inst, 0, &mut Vec::new())
}

#[test]
fn hand_computed_plan() {
    // Supply 0, 0, 10, 10, 0 kW; other load 2 kW; one 2 h job of 8 kW IT at PUE 1 released at
    // 0 with no deadline. Available after the other load: 0, 0, 8, 8, 0. Baseline [0, 2): 0
    // on site of 16 kWh. Best [2, 4): 16 kWh, share 1. Grid avoided 16 kWh; at 100 g/kWh: 1.6 kg.
    let i = RenewInputs {
        supply: profile(&[0.0, 0.0, 10.0, 10.0, 0.0]),
        other: OtherLoad::Constant(2.0),
        storage: None,
        jobs: vec![job("a", 2, 8.0, None, None)],
        pue: 1.0,
    };
    let p = plan(&i, 100.0).expect("plan");
    assert_eq!(p.renewable_share_before, 0.0);
    assert!((p.renewable_share_after - 1.0).abs() < 1e-12);
    assert!((p.grid_energy_avoided_kwh - 16.0).abs() < 1e-12);
    assert!((p.carbon_avoided_kgco2e.p50 - 1.6).abs() < 1e-12);
    assert_eq!(p.schedule[0].slots[0].start, t(2.0));
    assert!((p.schedule[0].delay_h - 2.0).abs() < 1e-12);
    assert!(p.exact);
    assert!((p.upper_bound_share - 1.0).abs() < 1e-6);
    // PUE 1.25: the job draws 10 kW, 8 of it on site: share 16 / 20 = 0.8.
    let p = plan(
        &RenewInputs {
            pue: 1.25,
            ..i.clone()
        },
        100.0,
    )
    .expect("plan");
    assert!((p.renewable_share_after - 0.8).abs() < 1e-12);
    // An annual intensity of 100..300 g/kWh, drawn by the runner: 16 kWh avoided x 200 g/kWh
    // = 3.2 kg at the middle; P5 and P95 near 16 x 110 = 1.76 and 16 x 290 = 4.64 kg.
    let mut st = site(0.0);
    st.intensity.range = UnitRange::new(GramsPerKwh(100.0), GramsPerKwh(300.0));
    let p = plan_renewable(
        &i,
        GridCarbon {
            site: &st,
            series: None,
            opts: McOptions::default(),
        },
    )
    .expect("plan");
    let c = p.carbon_avoided_kgco2e;
    assert!((c.p50 - 3.2).abs() < 0.05, "{c:?}");
    assert!(
        (c.p5 - 1.76).abs() < 0.05 && (c.p95 - 4.64).abs() < 0.05,
        "{c:?}"
    );
    assert!((p.grid_carbon_kgco2e_before.p50 - 3.2).abs() < 0.05);
    assert_eq!(p.grid_carbon_kgco2e_after.p50, 0.0);
    assert!(p.samples > 1);
}

#[test]
fn battery_carries_surplus_to_the_job() {
    // Supply 10, 0, 0 kW; a 1 h job of 5 kW that must run in [1, 3) (release 1): nothing
    // direct. A 10 kWh battery at 0.8 draws 10 kWh (stores 8), gives the job 5 kWh: share 1.
    let i = RenewInputs {
        supply: profile(&[10.0, 0.0, 0.0]),
        other: OtherLoad::None,
        storage: Some(Storage {
            capacity_kwh: 10.0,
            round_trip: 0.8,
            power_kw: None,
        }),
        jobs: vec![job("a", 1, 5.0, Some(1.0), None)],
        pue: 1.0,
    };
    let p = plan(&i, 100.0).expect("plan");
    assert!((p.renewable_share_before - 1.0).abs() < 1e-12);
    let s = p.storage.expect("storage");
    assert!((s.charged_kwh - 10.0).abs() < 1e-12);
    assert!((s.discharged_kwh - 5.0).abs() < 1e-12);
}

#[test]
fn carbon_on_a_series_weights_each_cell() {
    // Supply 0, 10 kW; a 1 h job of 10 kW released at 0: baseline [0, 1) all from the grid
    // (10 kWh at 300 g = 3 kg), schedule [1, 2) all on site: 3 kg avoided (the second hour's
    // 50 g/kWh does not count: its grid energy is 0 both ways).
    let series = hourly(&[300.0, 50.0]);
    let i = RenewInputs {
        supply: profile(&[0.0, 10.0]),
        other: OtherLoad::None,
        storage: None,
        jobs: vec![job("a", 1, 10.0, None, None)],
        pue: 1.0,
    };
    let st = site(1000.0);
    let p = plan_renewable(
        &i,
        GridCarbon {
            site: &st,
            series: Some(&series),
            opts: McOptions::default(),
        },
    )
    .expect("plan");
    // Before: 10 kWh at 300 g = 3 kg; after: nothing from the grid.
    assert!((p.grid_carbon_kgco2e_before.p50 - 3.0).abs() < 1e-9);
    assert_eq!(p.grid_carbon_kgco2e_after.p50, 0.0);
    assert!((p.carbon_avoided_kgco2e.p50 - 3.0).abs() < 1e-9);
    // Supply 0, 5 kW: the schedule [1, 2) still takes 5 kWh from the grid at 50 g/kWh = 0.25
    // kg; avoided 3 - 0.25 = 2.75 kg (on the same draws, through `runner::paired`).
    let i = RenewInputs {
        supply: profile(&[0.0, 5.0]),
        ..i
    };
    let p = plan_renewable(
        &i,
        GridCarbon {
            site: &st,
            series: Some(&series),
            opts: McOptions::default(),
        },
    )
    .expect("plan");
    assert!((p.grid_carbon_kgco2e_after.p50 - 0.25).abs() < 1e-9);
    assert!((p.carbon_avoided_kgco2e.p50 - 2.75).abs() < 1e-9);
    assert!((p.grid_energy_kwh_before - 10.0).abs() < 1e-12);
    assert!((p.grid_energy_kwh_after - 5.0).abs() < 1e-12);
}

#[test]
fn bad_inputs_name_the_job() {
    let base = RenewInputs {
        supply: profile(&[1.0; 4]),
        other: OtherLoad::None,
        storage: None,
        jobs: vec![job("a", 1, 1.0, None, None)],
        pue: 1.0,
    };
    let err = |i: RenewInputs| plan(&i, 1.0).expect_err("bad").to_string();
    let e = err(RenewInputs {
        jobs: vec![job("a", 5, 1.0, None, None)],
        ..base.clone()
    });
    assert!(
        e.contains("job 0") && e.contains("longer than the supply"),
        "{e}"
    );
    let e = err(RenewInputs {
        jobs: vec![job("a", 2, 1.0, Some(1.0), Some(2.0))],
        ..base.clone()
    });
    assert!(e.contains("longer than its window"), "{e}");
    let e = err(RenewInputs {
        jobs: vec![job("a", 1, 1.0, Some(2.0), Some(1.0))],
        ..base.clone()
    });
    assert!(e.contains("at or before its earliest start"), "{e}");
    let e = err(RenewInputs {
        jobs: vec![job("a", 1, 1.0, Some(4.0), None)],
        ..base.clone()
    });
    assert!(e.contains("at or after the supply ends"), "{e}");
    let e = err(RenewInputs {
        storage: Some(Storage {
            capacity_kwh: 1.0,
            round_trip: 1.2,
            power_kw: None,
        }),
        ..base.clone()
    });
    assert!(e.contains("outside (0, 1]"), "{e}");
    let e = err(RenewInputs {
        other: OtherLoad::Profile(Profile {
            start: t(1.0),
            ..profile(&[1.0; 4])
        }),
        ..base
    });
    assert!(e.contains("not the whole supply"), "{e}");
}

#[test]
fn a_coarser_other_load_and_half_hour_jobs_share_a_grid() {
    // Supply hourly 0, 4 kW; other load on 2 h steps, 1 kW; a 30 min job of 3 kW: the grid is
    // 30 min; the best start is 1:00 (3 kW of the 3 kW left): 1.5 kWh on site.
    let i = RenewInputs {
        supply: profile(&[0.0, 4.0]),
        other: OtherLoad::Profile(Profile {
            step: SignedDuration::from_hours(2),
            ..profile(&[1.0])
        }),
        storage: None,
        jobs: vec![RenewJob {
            duration: SignedDuration::from_mins(30),
            ..job("a", 1, 3.0, None, None)
        }],
        pue: 1.0,
    };
    let p = plan(&i, 1.0).expect("plan");
    assert!((p.step_minutes - 30.0).abs() < 1e-12);
    assert!((p.on_site_kwh_after - 1.5).abs() < 1e-12);
    assert_eq!(p.schedule[0].slots[0].start, t(1.0));
}

/// A random small instance: 2-4 jobs on 4-9 cells, with or without a battery.
fn small() -> impl Strategy<Value = Instance> {
    (
        prop::collection::vec(0u32..=10, 4..=9),
        prop::collection::vec((1usize..=3, 1u32..=8, 0usize..=4, 0usize..=4), 2..=4),
        prop::option::of((0u32..=12, 1u32..=10, prop::option::of(1u32..=6))),
    )
        .prop_map(|(avail, js, st)| {
            let n = avail.len();
            let jobs = js
                .into_iter()
                .map(|(len, kw, a, b)| {
                    let len = len.min(n);
                    let first = a.min(n - len);
                    let last = (first + b).min(n - len);
                    CellJob {
                        len,
                        load_kw: f64::from(kw),
                        first,
                        last,
                    }
                })
                .collect();
            Instance {
                dt_h: 1.0,
                avail_kw: avail.into_iter().map(f64::from).collect(),
                jobs,
                storage: st.map(|(c, eta, p)| Storage {
                    capacity_kwh: f64::from(c),
                    round_trip: f64::from(eta) / 10.0,
                    power_kw: p.map(f64::from),
                }),
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn exhaustive_is_the_optimum_and_the_bound_holds(inst in small()) {
        let opt = brute(&inst);
        let ex = inst.exhaustive().expect("small");
        let got = inst.on_site(&ex, None).total_kwh();
        prop_assert!((got - opt).abs() <= 1e-9 * opt.max(1.0), "exhaustive {got} vs {opt}");
        let ub = bound::upper_bound(&inst);
        prop_assert!(ub >= opt - 1e-9, "bound {ub} below the optimum {opt}");
        let mut st = inst.greedy_local(PASSES, BUDGET);
        inst.polish(&mut st, 3, POLISH_BUDGET);
        let g = inst.on_site(&st, None).total_kwh();
        prop_assert!(g <= opt + 1e-9, "heuristic {g} above the optimum {opt}");
        prop_assert!(g <= ub + 1e-9);
    }
}

/// The shipped DK1 wind forecast scaled to a 1 MW peak, a 12-hour stretch of it.
fn dk_window(from_h: usize) -> Vec<f64> {
    let (p, _) = shipped_supply("dk1-wind-2024")
        .expect("shipped")
        .profile(1000.0)
        .expect("profile");
    p.kw[from_h..from_h + 12].to_vec()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Renewable schedules match brute force on the real supply: 2-4 jobs in 12 hours of the
    /// DK1 wind forecast at a random day of 2024.
    #[test]
    fn matches_brute_force_on_the_shipped_wind(
        day in 0usize..360,
        js in prop::collection::vec((1usize..=4, 100u32..=900, 0usize..=6), 2..=4),
        battery in any::<bool>(),
    ) {
        let avail = dk_window(day * 24);
        let jobs: Vec<CellJob> = js
            .into_iter()
            .map(|(len, kw, a)| CellJob {
                len,
                load_kw: f64::from(kw),
                first: a,
                last: 12 - len,
            })
            .collect();
        let inst = Instance {
            dt_h: 1.0,
            avail_kw: avail,
            jobs,
            storage: battery.then_some(Storage { capacity_kwh: 500.0, round_trip: 0.9, power_kw: Some(100.0) }),
        };
        let opt = brute(&inst);
        let ex = inst.exhaustive().expect("small");
        prop_assert!((inst.on_site(&ex, None).total_kwh() - opt).abs() <= 1e-9 * opt.max(1.0));
        let ub = bound::upper_bound(&inst);
        prop_assert!(ub >= opt - 1e-9);
        prop_assert!(inst.on_site(&inst.greedy_local(PASSES, BUDGET), None).total_kwh() <= ub + 1e-9);
    }
}

#[test]
fn shipped_supply_scales_to_its_peak() {
    let (p, missing) = shipped_supply("DK1-wind-2024")
        .expect("shipped")
        .profile(10_000.0)
        .expect("profile");
    assert_eq!(p.kw.len(), 8784);
    let peak = p.kw.iter().copied().fold(0.0, f64::max);
    assert!((peak - 10_000.0).abs() < 1e-9);
    // The README's gaps in the wind columns: 48 + 9 + 24 + 24 h (2024-04-12T22Z..04-14T21Z,
    // 04-14T22Z..04-15T06Z, 05-31T22Z..06-01T21Z onshore, 11-16T23Z..11-17T22Z).
    assert_eq!(missing, 105);
    assert!(p.origin.contains("Energinet"));
    assert!(shipped_supply("dk3-wind-2024").is_none());
}

#[test]
fn profile_csv_errors_name_the_line() {
    let e = |s: &str| {
        parse_profile(s.as_bytes(), "s.csv")
            .expect_err("bad")
            .to_string()
    };
    let ok = "timestamp,kw\n2024-01-01T00:00:00Z,1\n2024-01-01T01:00:00Z,2\n";
    let p = parse_profile(ok.as_bytes(), "s.csv").expect("ok");
    assert_eq!(p.kw, vec![1.0, 2.0]);
    assert_eq!(
        p.end(),
        "2024-01-01T02:00:00Z".parse::<Timestamp>().expect("t")
    );
    assert!(
        e("timestamp,kw\n2024-01-01T01:00:00Z,1\n2024-01-01T00:00:00Z,2\n")
            .starts_with("s.csv: line 3: timestamp 2024-01-01T00:00:00Z is before line 2's")
    );
    assert!(
        e("timestamp,kw\n2024-01-01T00:00:00Z,1\n2024-01-01T00:00:00Z,2\n")
            .starts_with("s.csv: line 3: duplicate timestamp")
    );
    assert!(
        e("timestamp,kw\n2024-01-01T00:00:00Z,1\n2024-01-01T01:00:00Z,-2\n")
            .starts_with("s.csv: line 3: kw -2 must be")
    );
    assert!(
        e("timestamp,kw\n2024-01-01T00:00:00Z,x\n2024-01-01T01:00:00Z,2\n")
            .starts_with("s.csv: line 2: kw \"x\" is not a number")
    );
    assert!(e("timestamp,kw\n").starts_with("s.csv: needs a header and at least two rows"));
    assert!(e(" \n").starts_with("s.csv: the file is empty"));
    assert!(e("time,kw\n").starts_with("s.csv: line 1: the header must name"));
    assert!(e(
        "timestamp,kw\n2024-01-01T00:00:00Z,1\n2024-01-01T01:00:00Z,2\n2024-01-01T03:00:00Z,2\n"
    )
    .starts_with("s.csv: line 4: 2h after the previous row, but the file's step is 1h"));
}

#[test]
fn large_instances_take_the_heuristic_within_the_bound() {
    // 40 jobs over 10 days of the DK1 wind forecast at a 2 MW peak (too many schedules to
    // enumerate): before <= after <= bound <= 1, and the gap is what the two give.
    let (supply, _) = shipped_supply("dk1-wind-2024")
        .expect("shipped")
        .profile(2000.0)
        .expect("profile");
    let supply = Profile {
        kw: supply.kw[..240].to_vec(),
        ..supply
    };
    let mut rng = crate::uncertainty::Rng::new(3);
    let jobs: Vec<RenewJob> = (0..40)
        .map(|k| {
            let r = (rng.next_f64() * 150.0).floor();
            let d = 1.0 + (rng.next_f64() * 8.0).floor();
            let w = d + (rng.next_f64() * 72.0).floor();
            RenewJob {
                name: format!("j{k}"),
                duration: SignedDuration::from_hours(d as i64),
                power_kw: 50.0 + (rng.next_f64() * 400.0).floor(),
                release: Some(supply.start + SignedDuration::from_hours(r as i64)),
                deadline: Some(supply.start + SignedDuration::from_hours((r + w) as i64)),
            }
        })
        .collect();
    for storage in [
        None,
        Some(Storage {
            capacity_kwh: 2000.0,
            round_trip: 0.9,
            power_kw: Some(500.0),
        }),
    ] {
        let i = RenewInputs {
            supply: supply.clone(),
            other: OtherLoad::Constant(300.0),
            storage,
            jobs: jobs.clone(),
            pue: 1.2,
        };
        let p = plan(&i, 100.0).expect("plan");
        assert_eq!(p.method, "greedy_local_search");
        assert!(p.renewable_share_before <= p.renewable_share_after);
        assert!(p.renewable_share_after <= p.upper_bound_share + 1e-12);
        assert!(p.upper_bound_share <= 1.0);
        let gap = 1.0 - p.renewable_share_after / p.upper_bound_share;
        assert!((p.gap_fraction - gap).abs() < 1e-9 || p.gap_fraction == 0.0);
        // Every job inside its window.
        for (s, j) in p.schedule.iter().zip(&i.jobs) {
            assert!(s.slots[0].start >= j.release.expect("release"));
            assert!(s.slots[0].end <= j.deadline.expect("deadline"));
        }
    }
}

/// How good the heuristic is where the optimum is known: 2,000 small instances (the
/// deterministic runner, so the same ones every time), half with a battery. Measured when
/// written: mean 0.9995 of the optimum, worst 0.886; with a battery 0.9993 and 0.889 (without
/// the battery's polish 0.995 and 0.75; one starting point and no polish: 0.994 and 0.60).
#[test]
fn the_heuristic_is_near_the_optimum_on_small_instances() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut worst, mut sum, mut n) = (1.0_f64, 0.0, 0u32);
    let (mut sw, mut ssum, mut sn) = (1.0_f64, 0.0, 0u32);
    for _ in 0..2000 {
        let inst = small().new_tree(&mut runner).expect("tree").current();
        let opt = brute(&inst);
        if opt <= 0.0 {
            continue;
        }
        let base: Vec<usize> = inst.jobs.iter().map(|j| j.first).collect();
        let mut st = inst.greedy_local(PASSES, BUDGET);
        inst.polish(&mut st, 3, POLISH_BUDGET);
        let g = inst
            .on_site(&st, None)
            .total_kwh()
            .max(inst.on_site(&base, None).total_kwh());
        if inst.storage.is_some() {
            sw = sw.min(g / opt);
            ssum += g / opt;
            sn += 1;
        }
        worst = worst.min(g / opt);
        sum += g / opt;
        n += 1;
    }
    let mean = sum / f64::from(n);
    let smean = ssum / f64::from(sn);
    assert!(mean > 0.998 && worst > 0.85, "mean {mean}, worst {worst}");
    assert!(
        smean > 0.998 && sw > 0.85,
        "with a battery: mean {smean}, worst {sw}"
    );
}
