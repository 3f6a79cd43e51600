//! Tests of the planner's accounting: carbon through the core with PUE, which inputs make a
//! Monte Carlo, errors naming fields, and scoring on a realised series.

use super::*;
use crate::plan::tests_support::{hourly, hours, t};
use crate::plan::Interruptible;

fn job(h: f64, kw: f64) -> Job {
    Job {
        duration: hours(h),
        power_w: Range::point(kw * 1000.0),
        earliest: None,
        deadline: None,
        interruptible: None,
    }
}

fn site(pue: Range) -> Site {
    let mut s = crate::footprint::tests_support::site();
    s.pue = crate::footprint::Param::new(pue, "test");
    s
}

#[test]
fn carbon_goes_through_the_core_with_pue() {
    // 100 300 50 50, 10 kW for 2 h at PUE 1.5: chosen 02-04, 20 kWh x 1.5 x 50 = 1.5 kg;
    // baseline 00-02, 30 kWh x 200 = 6 kg; saving 4.5 kg, 1 - 50/200 = 0.75.
    let s = hourly(&[100.0, 300.0, 50.0, 50.0]);
    let p = plan_window(
        &s,
        &job(2.0, 10.0),
        &site(Range::point(1.5)),
        McOptions::default(),
    )
    .expect("plans");
    assert_eq!(p.slots[0].start, t(2.0));
    assert!(
        (p.carbon_kgco2e.p50 - 1.5).abs() < 1e-9,
        "{:?}",
        p.carbon_kgco2e
    );
    assert!((p.baseline_carbon_kgco2e.p50 - 6.0).abs() < 1e-9);
    assert!((p.savings_kgco2e.p50 - 4.5).abs() < 1e-9);
    assert!((p.savings_fraction - 0.75).abs() < 1e-12);
    assert!((p.power_kw.p50 - 10.0).abs() < 1e-9);
    // A PUE range gives carbon ranges; the fraction is the same in every sample.
    let r = plan_window(
        &s,
        &job(2.0, 10.0),
        &site(Range::new(1.0, 2.0)),
        McOptions::default(),
    )
    .expect("plans");
    assert!(r.carbon_kgco2e.p5 < r.carbon_kgco2e.p95);
    assert!(r.carbon_kgco2e.p5 > 1.0 - 1e-9 && r.carbon_kgco2e.p95 < 2.0 + 1e-9);
    assert!(r.savings_kgco2e.p5 > 0.0 && r.savings_kgco2e.p5 < r.savings_kgco2e.p95);
    assert!((r.savings_fraction - 0.75).abs() < 1e-12);
}

#[test]
fn only_pue_and_power_ranges_make_a_monte_carlo() {
    // The test site's water, price and embodied inputs may be ranges: a point PUE and power
    // still give one evaluation, as their carbon cannot move.
    let s = hourly(&[100.0, 300.0, 50.0, 50.0]);
    let mut site = site(Range::point(1.0));
    site.wue = crate::footprint::Param::new(Range::new(0.1, 2.0), "test");
    site.price = crate::footprint::Param::new(Range::new(0.1, 0.3), "test");
    let p = plan_window(&s, &job(2.0, 10.0), &site, McOptions::default()).expect("plans");
    assert_eq!(p.samples, 1);
    let mut j = job(2.0, 10.0);
    j.power_w = Range::new(5000.0, 15000.0);
    let r = plan_window(&s, &j, &site, McOptions::default()).expect("plans");
    assert_eq!(r.samples, McOptions::default().samples);
    // 5..15 kW x 2 h x 50 g/kWh: 0.5..1.5 kg, P50 near 1.
    assert!(
        (r.carbon_kgco2e.p50 - 1.0).abs() < 0.05,
        "{:?}",
        r.carbon_kgco2e
    );
}

#[test]
fn bad_jobs_name_their_field() {
    let s = hourly(&[100.0, 300.0, 50.0, 50.0]);
    let site = site(Range::point(1.0));
    let field = |j: Job| match plan_window(&s, &j, &site, McOptions::default()) {
        Err(PlanError::Invalid { field, .. }) => Some(field),
        _ => None,
    };
    assert_eq!(field(job(5.0, 1.0)), Some(Field::Duration));
    assert_eq!(field(job(0.0, 1.0)), Some(Field::Duration));
    assert_eq!(field(job(1.0, 0.0)), Some(Field::Power));
    let mut j = job(1.0, 1.0);
    j.earliest = Some(t(4.0));
    assert_eq!(field(j.clone()), Some(Field::Start));
    j.earliest = Some(t(2.0));
    j.deadline = Some(t(1.0));
    assert_eq!(field(j.clone()), Some(Field::Deadline));
    j.duration = hours(2.0);
    j.deadline = Some(t(3.5));
    assert_eq!(field(j.clone()), Some(Field::Deadline));
    j.deadline = Some(t(9.0));
    let ok = plan_window(&s, &j, &site, McOptions::default()).expect("fits to the end");
    assert!(
        ok.notes[0].contains("after the series ends"),
        "{:?}",
        ok.notes
    );
    j.interruptible = Some(Interruptible {
        min_chunk: Some(hours(3.0)),
        max_pauses: 1,
    });
    assert_eq!(field(j), Some(Field::MinChunk));
}

#[test]
fn planned_on_a_forecast_scored_on_the_actual() {
    // Forecast 100 300 50 50 picks 02-04; the actual is 100 300 400 50: the baseline 00-02
    // costs 400, the schedule 450: the plan lost 12.5%.
    let f = hourly(&[100.0, 300.0, 50.0, 50.0]);
    let a = hourly(&[100.0, 300.0, 400.0, 50.0]);
    let site = site(Range::point(1.0));
    let mut p = plan_window(&f, &job(2.0, 1.0), &site, McOptions::default()).expect("plans");
    let r = p
        .evaluate_on(&a, Range::point(1000.0), &site, McOptions::default())
        .expect("covered")
        .clone();
    assert!((r.carbon_kgco2e.p50 - 0.45).abs() < 1e-9);
    assert!((r.baseline_carbon_kgco2e.p50 - 0.4).abs() < 1e-9);
    assert!((r.savings_fraction + 0.125).abs() < 1e-12);
    assert!((r.savings_kgco2e.p50 + 0.05).abs() < 1e-9);
    let short = hourly(&[100.0, 300.0, 400.0]);
    let e = p
        .evaluate_on(&short, Range::point(1000.0), &site, McOptions::default())
        .expect_err("uncovered");
    assert!(matches!(e, PlanError::Grid(_)), "{e}");
}

#[test]
fn one_scaled_monte_carlo_gives_what_each_schedule_run_alone_gives() {
    // A ranged PUE and power: the plan scales one one-hour job's Monte Carlo by each schedule's
    // hours x mean intensity; running the chosen schedule's own model through the runner, on the
    // same seed and so the same draws, gives the same percentiles (to the 7 digits kept).
    let s = hourly(&[100.0, 300.0, 50.0, 50.0, 80.0]);
    let ranged = Job {
        power_w: Range::new(8_000.0, 12_000.0),
        ..job(2.0, 10.0)
    };
    let site = site(Range::new(1.1, 1.6));
    let opts = McOptions::default();
    let planner = Planner::new(&s);
    let p = planner.plan(&ranged, &site, opts).expect("plans");
    let alone = JobModel::on(&s, &p.slots, ranged.power_w, &site).expect("covered");
    let r = runner::run(&alone, opts, Vec::new());
    let direct = r.get(Figure::Carbon).expect("carbon");
    for (a, b) in [
        (p.carbon_kgco2e.p5, direct.p5),
        (p.carbon_kgco2e.p50, direct.p50),
        (p.carbon_kgco2e.p95, direct.p95),
    ] {
        assert!((a - b).abs() < 1e-6 * b, "{a} vs {b}");
    }
    // The saving is paired: baseline - chosen per draw, so never wider than either.
    assert!(p.savings_kgco2e.p5 > 0.0 && p.savings_kgco2e.p95 < p.baseline_carbon_kgco2e.p95);
    // A second job at another point power reuses the cached unit run, scaled exactly.
    let a = planner.plan(&job(2.0, 10.0), &site, opts).expect("plans");
    let b = planner.plan(&job(2.0, 20.0), &site, opts).expect("plans");
    assert!((b.carbon_kgco2e.p50 - 2.0 * a.carbon_kgco2e.p50).abs() < 1e-6 * b.carbon_kgco2e.p50);
}
