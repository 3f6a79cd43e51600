//! Tests of `plan renewable` with releases and deadlines between the supply's steps: the cell
//! grid takes them in (no window is rounded), checked by hand and against a brute force over
//! every quarter-hour start computed minute by minute, independent of the cell grid.

use super::*;
use crate::plan::tests_support::t;
use proptest::prelude::*;

fn site() -> crate::footprint::Site {
    let mut s = crate::footprint::tests_support::site();
    s.intensity = crate::footprint::tests_support::ci(100.0);
    s
}

fn plan(i: &RenewInputs) -> Result<RenewablePlan, RenewError> {
    let s = site();
    plan_renewable(
        i,
        GridCarbon {
            site: &s,
            series: None,
            opts: McOptions::default(),
        },
    )
}

fn hourly(kw: &[f64]) -> Profile {
    Profile {
        origin: "test".into(),
        start: t(0.0),
        step: SignedDuration::from_hours(1),
        kw: kw.to_vec(),
    }
}

fn inputs(kw: &[f64], jobs: Vec<RenewJob>) -> RenewInputs {
    RenewInputs {
        supply: hourly(kw),
        other: OtherLoad::None,
        storage: None,
        jobs,
        pue: 1.0,
    }
}

fn job(mins: i64, kw: f64, release_h: f64, deadline_h: f64) -> RenewJob {
    RenewJob {
        name: "a".into(),
        duration: SignedDuration::from_mins(mins),
        power_kw: kw,
        release: Some(t(release_h)),
        deadline: Some(t(deadline_h)),
    }
}

#[test]
fn a_release_between_steps_is_not_rounded() {
    // Supply 50, 100, 0 kW over 00:00..03:00; a 1 h job of 100 kW released 01:30, deadline
    // 03:00. The grid is gcd(1 h, 1 h, 1.5 h, 3 h) = 30 min. Starts 01:30 (on site 0.5 h x
    // 100 kW = 50 kWh, share 50 / 100 = 50%) or 02:00 (0 kWh): the best is 01:30. Before the
    // fix the release was rounded to 02:00 and the share was 0%.
    let p = plan(&inputs(&[50.0, 100.0, 0.0], vec![job(60, 100.0, 1.5, 3.0)])).expect("plan");
    assert!((p.step_minutes - 30.0).abs() < 1e-12, "{}", p.step_minutes);
    assert_eq!(p.schedule[0].slots[0].start, t(1.5));
    assert!(
        (p.on_site_kwh_after - 50.0).abs() < 1e-9,
        "{}",
        p.on_site_kwh_after
    );
    assert!((p.renewable_share_after - 0.5).abs() < 1e-12);
    // The baseline is the release too: 50 kWh before as well.
    assert!((p.on_site_kwh_before - 50.0).abs() < 1e-9);
    assert!(p.exact);
}

#[test]
fn a_window_exactly_as_long_as_the_job_fits() {
    // Release 01:30, deadline 02:30, 1 h job: the one start is 01:30 (was refused as "longer
    // than its window"); on site 0.5 h x 100 kW = 50 kWh.
    let p = plan(&inputs(&[50.0, 100.0, 0.0], vec![job(60, 100.0, 1.5, 2.5)])).expect("plan");
    assert_eq!(p.schedule[0].slots[0].start, t(1.5));
    assert!((p.on_site_kwh_after - 50.0).abs() < 1e-9);
}

#[test]
fn a_jobs_schedule_does_not_depend_on_another_jobs_length() {
    // Job a alone, then with a 30 min job b released at 00:00 (which before the fix made the
    // grid 30 min and so changed a's result): a's start is 01:30 both times.
    let a = job(60, 100.0, 1.5, 3.0);
    let b = RenewJob {
        name: "b".into(),
        ..job(30, 1.0, 0.0, 3.0)
    };
    let alone = plan(&inputs(&[50.0, 100.0, 0.0], vec![a.clone()])).expect("plan");
    let both = plan(&inputs(&[50.0, 100.0, 0.0], vec![a, b])).expect("plan");
    assert_eq!(alone.schedule[0].slots, both.schedule[0].slots);
}

#[test]
fn sub_second_release_is_refused() {
    let mut j = job(60, 100.0, 1.0, 3.0);
    j.release = Some(t(1.0) + SignedDuration::from_millis(500));
    let e = plan(&inputs(&[50.0, 100.0, 0.0], vec![j]))
        .expect_err("refused")
        .to_string();
    assert!(e.contains("whole second"), "{e}");
}

/// The most on-site energy over every start on a quarter-hour lattice, each schedule computed
/// minute by minute from the hourly supply (no battery, no other load).
fn brute_minutes(kw: &[f64], jobs: &[(i64, f64, i64, i64)]) -> f64 {
    fn go(kw: &[f64], jobs: &[(i64, f64, i64, i64)], starts: &mut Vec<i64>) -> f64 {
        let k = starts.len();
        if k == jobs.len() {
            let mut e = 0.0;
            for m in 0..(kw.len() as i64 * 60) {
                let load: f64 = jobs
                    .iter()
                    .zip(starts.iter())
                    .filter(|(j, &s)| m >= s && m < s + j.0)
                    .map(|(j, _)| j.1)
                    .sum();
                e += kw[(m / 60) as usize].min(load) / 60.0;
            }
            return e;
        }
        let (dur, _, rel, dl) = jobs[k];
        let mut best = f64::NEG_INFINITY;
        let mut s = rel;
        while s + dur <= dl {
            starts.push(s);
            best = best.max(go(kw, jobs, starts));
            starts.pop();
            s += 15;
        }
        best
    }
    go(kw, jobs, &mut Vec::new())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// 1-3 jobs on 6 hours of supply, durations, releases and deadlines on quarter hours (off
    /// the hourly supply grid): the plan's exhaustive result equals the brute force, and its
    /// bound is not below it.
    #[test]
    fn off_grid_windows_match_brute_force(
        kw in prop::collection::vec(0u32..=10, 6),
        js in prop::collection::vec((2i64..=6, 1u32..=8, 0i64..=16, 0i64..=6), 1..=3),
    ) {
        let kw: Vec<f64> = kw.into_iter().map(f64::from).collect();
        // Quarter hours: duration d, release r, deadline r + d + slack, within 24 quarters.
        let qs: Vec<(i64, f64, i64, i64)> = js
            .iter()
            .map(|&(d, p, r, extra)| {
                let r = r.min(24 - d);
                (d * 15, f64::from(p), r * 15, (r + d + extra).min(24) * 15)
            })
            .collect();
        let jobs: Vec<RenewJob> = qs
            .iter()
            .enumerate()
            .map(|(k, &(d, p, r, dl))| RenewJob {
                name: format!("j{k}"),
                duration: SignedDuration::from_mins(d),
                power_kw: p,
                release: Some(t(r as f64 / 60.0)),
                deadline: Some(t(dl as f64 / 60.0)),
            })
            .collect();
        let p = plan(&inputs(&kw, jobs.clone())).expect("plan");
        let opt = brute_minutes(&kw, &qs);
        prop_assert!(p.exact);
        prop_assert!((p.on_site_kwh_after - opt).abs() <= 1e-9 * opt.max(1.0),
            "plan {} vs brute force {opt}", p.on_site_kwh_after);
        let energy: f64 = qs.iter().map(|j| j.1 * j.0 as f64 / 60.0).sum();
        prop_assert!(p.upper_bound_share * energy >= opt - 1e-9);
        for (s, j) in p.schedule.iter().zip(&jobs) {
            prop_assert!(s.slots[0].start >= j.release.expect("release"));
            prop_assert!(s.slots[0].end <= j.deadline.expect("deadline"));
        }
    }
}
