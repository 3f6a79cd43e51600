//! Tests of planning a recorded run's profile: the sweep against brute force, a flat profile
//! against the constant-power plan, the accounting by hand, and reports that are not runs.

use super::*;
use crate::plan::tests_support::{hourly, hours, rows, t};
use crate::plan::{plan_window, Job};
use crate::result::ProfilePoint;

fn site(pue: f64) -> Site {
    let mut s = crate::footprint::tests_support::site();
    s.pue = crate::footprint::Param::new(Range::point(pue), "test");
    s
}

/// A job of `(start_h, end_h, kWh)` bins, its IT energy their sum (a point).
fn job(bins: &[(f64, f64, f64)]) -> ProfileJob {
    let total: f64 = bins.iter().map(|b| b.2).sum();
    ProfileJob {
        source: "run.json".into(),
        bins: bins
            .iter()
            .map(|&(a, b, e)| ShapeBin {
                start: hours(a),
                end: hours(b),
                energy_kwh: e,
            })
            .collect(),
        it_energy_kwh: Percentiles::point(total),
        earliest: None,
        deadline: None,
    }
}

/// A run's report with `profile` (s, s, kWh) and IT energy `it` (P5, P50, P95).
fn report(kind: &str, profile: &[(f64, f64, f64)], it: (f64, f64, f64)) -> Report {
    let v = serde_json::json!({
        "schema": crate::result::SCHEMA,
        "kind": kind,
        "method": "measured",
        "it_energy_kwh": {"p5": it.0, "p50": it.1, "p95": it.2},
        "duration_s": 1.0,
        "profile": profile.iter().map(|&(a, b, e)| ProfilePoint {
            start_s: a, end_s: b, energy_kwh: e
        }).collect::<Vec<_>>(),
    });
    serde_json::from_value(v).expect("a report")
}

#[test]
fn a_peak_lands_on_the_cleanest_hour() {
    // Hourly 100 300 50 400 100. Bins: 1 kWh over the first hour, 3 kWh over the second.
    // Start 00: 1 x 100 + 3 x 300 = 1000 g; 01: 300 + 150 = 450; 02: 50 + 1200 = 1250;
    // 03: 400 + 300 = 700. Between hours, e.g. 01:30: 0.5 x 300 + 0.5 x 50 = 175, and
    // 3 x (0.5 x 50 + 0.5 x 400) = 675, 850: worse. The best is 01:00 at 450 g.
    let s = hourly(&[100.0, 300.0, 50.0, 400.0, 100.0]);
    let p = Planner::new(&s);
    let j = job(&[(0.0, 1.0, 1.0), (1.0, 2.0, 3.0)]);
    let (start, g) = p.best_profile_start(&j, t(0.0), t(5.0)).expect("fits");
    assert_eq!(start, t(1.0));
    assert!((g - 450.0).abs() < 1e-9, "{g}");
    assert!((p.profile_cost(&j, t(0.0)).expect("covered") - 1000.0).abs() < 1e-9);
}

#[test]
fn the_sweep_equals_brute_force_on_every_minute() {
    // Series and bins on whole minutes, so every breakpoint (boundary - bin edge) is a whole
    // minute: the brute force over every minute start, carbon from the series' own integral
    // (`IntensitySeries::carbon`), is the exact minimum.
    let mut seed = 7_u64;
    let mut next = |m: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % m
    };
    for case in 0..40 {
        // 6-12 intervals of 10-60 min, values 0..500, sometimes a gap.
        let mut ivs = Vec::new();
        let mut h = 0.0;
        for i in 0..(6 + next(7)) {
            let len = (10 + next(51)) as f64 / 60.0;
            if i == 3 && case % 4 == 0 {
                h += 0.25;
            }
            ivs.push((h, h + len, next(500) as f64));
            h += len;
        }
        let s = rows(&ivs);
        let mut bins = Vec::new();
        let mut b = 0.0;
        for _ in 0..(1 + next(5)) {
            let len = (1 + next(40)) as f64 / 60.0;
            bins.push((b, b + len, next(10) as f64 + 0.5));
            b += len + if next(3) == 0 { 5.0 / 60.0 } else { 0.0 };
        }
        let j = job(&bins);
        let p = Planner::new(&s);
        let got = p.best_profile_start(&j, s.start(), s.end());
        let mut brute: Option<(f64, Timestamp)> = None;
        let mut m = 0;
        loop {
            let start = s.start() + hours(f64::from(m) / 60.0);
            if start + j.span() > s.end() {
                break;
            }
            if let Ok(c) = s.carbon(&j.bins_at(start)) {
                let c = c.carbon.value();
                if brute.is_none_or(|(b, _)| c < b - 1e-9 * b.max(1.0)) {
                    brute = Some((c, start));
                }
            }
            m += 1;
        }
        match (got, brute) {
            (Some((st, g)), Some((b, bs))) => {
                assert!((g - b).abs() < 1e-6 * b.max(1.0), "case {case}: {g} vs {b}");
                assert_eq!(st, bs, "case {case}: {ivs:?} {bins:?}");
            }
            (None, None) => {}
            other => panic!("case {case}: {other:?}"),
        }
    }
}

#[test]
fn a_flat_profile_plans_as_the_constant_power_job() {
    // 12 kWh spread evenly over 4 bins of 30 min = 6 kW for 2 h, at PUE 1.2.
    let s = hourly(&[200.0, 120.0, 80.0, 90.0, 300.0, 60.0]);
    let flat = job(&[
        (0.0, 0.5, 3.0),
        (0.5, 1.0, 3.0),
        (1.0, 1.5, 3.0),
        (1.5, 2.0, 3.0),
    ]);
    let p = Planner::new(&s)
        .plan_profile(&flat, &site(1.2), McOptions::default())
        .expect("plans");
    let c = plan_window(
        &s,
        &Job {
            duration: hours(2.0),
            power_w: Range::point(6000.0),
            earliest: None,
            deadline: None,
            interruptible: None,
        },
        &site(1.2),
        McOptions::default(),
    )
    .expect("plans");
    assert_eq!(p.slots, c.slots);
    assert_eq!(p.baseline_slots, c.baseline_slots);
    let close = |a: Percentiles, b: Percentiles| {
        (a.p5 - b.p5).abs() < 1e-9 && (a.p50 - b.p50).abs() < 1e-9 && (a.p95 - b.p95).abs() < 1e-9
    };
    assert!(close(p.carbon_kgco2e, c.carbon_kgco2e), "{p:?} {c:?}");
    assert!(close(p.baseline_carbon_kgco2e, c.baseline_carbon_kgco2e));
    assert!(close(p.power_kw, c.power_kw));
    assert!((p.savings_fraction - c.savings_fraction).abs() < 1e-12);
    assert!((p.intensity_g_per_kwh - c.intensity_g_per_kwh).abs() < 1e-9);
    // By hand: 02-04 at 80, 90: 6 kW x (80 + 90) g/kWh x 1 h x 1.2 = 1.224 kg; baseline 00-02:
    // 6 x (200 + 120) x 1.2 = 2.304 kg.
    assert!((p.carbon_kgco2e.p50 - 1.224).abs() < 1e-9);
    assert!((p.baseline_carbon_kgco2e.p50 - 2.304).abs() < 1e-9);
    let info = p.profile.expect("profile info");
    assert_eq!(info.bins, 4);
    assert!((info.it_energy_kwh.p50 - 12.0).abs() < 1e-12);
}

#[test]
fn a_report_is_scaled_to_its_it_energy_and_ranges_follow_it() {
    // Bins 0-3600 s 1 kWh and 3600-7200 s 3 kWh, IT energy 6..8..10 kWh: scaled by 2 to 2 and
    // 6 kWh. On 100 300 50 400 100 (as above, x2): the best start is 01:00, 900 g IT, PUE 1:
    // carbon drawn uniformly over 6..10 kWh x 900/8 g/kWh: P5 = 6.2 x 112.5 g = 0.6975 kg,
    // P50 = 8 x 112.5 = 0.9 kg, P95 = 9.8 x 112.5 = 1.1025 kg.
    let r = report(
        "run",
        &[(0.2, 3600.2, 1.0), (3600.2, 7200.2, 3.0)],
        (6.0, 8.0, 10.0),
    );
    let j = ProfileJob::from_report(&r, "run.json").expect("a run");
    assert_eq!(j.bins[0].start, SignedDuration::ZERO);
    assert_eq!(j.span(), hours(2.0));
    assert!((j.bins[1].energy_kwh - 6.0).abs() < 1e-12);
    let s = hourly(&[100.0, 300.0, 50.0, 400.0, 100.0]);
    let p = Planner::new(&s)
        .plan_profile(&j, &site(1.0), McOptions::default())
        .expect("plans");
    assert_eq!(p.slots[0].start, t(1.0));
    assert!((p.intensity_g_per_kwh - 112.5).abs() < 1e-9);
    let c = p.carbon_kgco2e;
    assert!((c.p50 - 0.9).abs() < 5e-3, "{c:?}");
    assert!(
        (c.p5 - 0.6975).abs() < 5e-3 && (c.p95 - 1.1025).abs() < 5e-3,
        "{c:?}"
    );
    // Baseline from 00:00: (2 x 100 + 6 x 300) / 8 = 250 g/kWh; saving 1 - 112.5/250 = 0.55.
    assert!((p.baseline_intensity_g_per_kwh - 250.0).abs() < 1e-9);
    assert!((p.savings_fraction - 0.55).abs() < 1e-12);
}

#[test]
fn reports_that_are_not_runs_with_profiles_are_refused() {
    let why = |r: &Report| {
        ProfileJob::from_report(r, "x.json")
            .expect_err("refused")
            .render(&|f| f.name().to_string())
    };
    let e = why(&report("train", &[(0.0, 60.0, 1.0)], (1.0, 1.0, 1.0)));
    assert!(
        e.contains("estimate train") && e.contains("wattlens run"),
        "{e}"
    );
    let e = why(&report("run", &[], (1.0, 1.0, 1.0)));
    assert!(e.contains("no power profile"), "{e}");
    let e = why(&report(
        "run",
        &[(0.0, 60.0, 1.0), (30.0, 90.0, 1.0)],
        (1.0, 1.0, 1.0),
    ));
    assert!(e.contains("bin 2"), "{e}");
    let e = why(&report("run", &[(0.0, 60.0, 0.0)], (1.0, 1.0, 1.0)));
    assert!(e.contains("no energy"), "{e}");
}

#[test]
fn windows_too_short_and_gaps_are_refused_or_avoided() {
    let s = rows(&[(0.0, 2.0, 300.0), (3.0, 6.0, 10.0)]);
    let p = Planner::new(&s);
    let j = job(&[(0.0, 1.0, 1.0), (1.0, 2.0, 1.0)]);
    // The gap 2-3 is never crossed: the best is 03:00.
    let (start, g) = p.best_profile_start(&j, s.start(), s.end()).expect("fits");
    assert_eq!(start, t(3.0));
    assert!((g - 20.0).abs() < 1e-9);
    // Longer than the window to the deadline.
    let mut late = j.clone();
    late.deadline = Some(t(1.5));
    let e = p
        .plan_profile(&late, &site(1.0), McOptions::default())
        .expect_err("too long")
        .render(&|f| f.name().to_string());
    assert!(e.contains("lasts 2h") && e.contains("deadline"), "{e}");
    // A profile longer than the series.
    let long = job(&[(0.0, 7.0, 1.0)]);
    assert!(p
        .plan_profile(&long, &site(1.0), McOptions::default())
        .is_err());
}

#[test]
fn scored_on_a_realised_series_the_profile_keeps_its_shape() {
    // Planned on 100 300 50 400 100 (the best start 01:00, as above); realised 100 100 400 50
    // 100: the profile (1 then 3 kWh) from 01:00 is 100 + 3 x 400 = 1300 g, from 00:00 (the
    // baseline) 100 + 300 = 400 g: the plan lost, 1 - 1300/400 = -2.25. PUE 1: 1.3 kg, 0.4 kg.
    let s = hourly(&[100.0, 300.0, 50.0, 400.0, 100.0]);
    let actual = hourly(&[100.0, 100.0, 400.0, 50.0, 100.0]);
    let j = job(&[(0.0, 1.0, 1.0), (1.0, 2.0, 3.0)]);
    let mut p = Planner::new(&s)
        .plan_profile(&j, &site(1.0), McOptions::default())
        .expect("plans");
    let r = p
        .evaluate_profile_on(&actual, &j, &site(1.0), McOptions::default())
        .expect("covered")
        .clone();
    assert!((r.savings_fraction + 2.25).abs() < 1e-12, "{r:?}");
    assert!((r.carbon_kgco2e.p50 - 1.3).abs() < 1e-9);
    assert!((r.baseline_carbon_kgco2e.p50 - 0.4).abs() < 1e-9);
}

/// The energy a sample draws is centred on the run's P50 with the width of its P5..P95 (a
/// hostile test found the plan 1.5% above the run's P50 when it drew between P5 and P95).
#[test]
fn the_energy_draw_is_centred_on_the_runs_p50() {
    let mut j = job(&[(0.0, 1.0, 1.0)]);
    // P5 1.0, P50 1.1, P95 1.4: half-width 0.2 -> 0.9..1.3, middle 1.1.
    j.it_energy_kwh = Percentiles {
        p5: 1.0,
        p50: 1.1,
        p95: 1.4,
    };
    let r = j.energy();
    assert!(
        (r.lo - 0.9).abs() < 1e-12 && (r.hi - 1.3).abs() < 1e-12,
        "{r:?}"
    );
    assert!((r.mid() - 1.1).abs() < 1e-12);
    // Clipped at 0 and still centred: P50 0.1, width 0.5 -> 0..0.2.
    j.it_energy_kwh = Percentiles {
        p5: 0.05,
        p50: 0.1,
        p95: 0.55,
    };
    let r = j.energy();
    assert!(r.lo == 0.0 && (r.hi - 0.2).abs() < 1e-12, "{r:?}");
}
