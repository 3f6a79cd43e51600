//! Paired changes against hand arithmetic.

use super::*;
use crate::estimate::fleet::{FleetSpec, Load};
use crate::estimate::power::Split;
use crate::uncertainty::Range;

fn fleet(pue: Range, intensity: f64) -> FleetSpec {
    let mut site = crate::footprint::tests_support::site();
    site.pue = crate::footprint::Param::new(pue, "test");
    site.intensity = crate::footprint::Param::new(
        crate::uncertainty::UnitRange::point(crate::units::GramsPerKwh(intensity)),
        "test",
    );
    FleetSpec {
        load: Load::Servers {
            servers: Range::new(100.0, 200.0),
            server_w: Range::point(6500.0),
            load: Range::new(0.5, 1.0),
            accelerators_per_server: Range::point(8.0),
        },
        hours: Range::point(24.0),
        split: Split::Fractions {
            accel: 0.5,
            host: Range::point(0.1),
        },
        site,
    }
}

const OPTS: McOptions = McOptions {
    samples: 2_000,
    seed: 7,
    threads: 2,
};

fn get(c: &[(Figure, Percentiles)], f: Figure) -> Percentiles {
    c.iter()
        .find(|(k, _)| *k == f)
        .map(|(_, p)| *p)
        .expect("figure")
}

#[test]
fn a_variant_identical_to_the_baseline_changes_nothing() {
    let b = fleet(Range::new(1.1, 1.6), 400.0);
    let same = b.clone();
    let c = changes(&b, &[&same, &same, &same], OPTS);
    assert_eq!(c.samples, 2_000);
    assert_eq!(c.variants.len(), 3);
    for v in &c.variants {
        assert!(v.len() >= 5);
        for (f, p) in v {
            assert_eq!((p.p5, p.p50, p.p95), (0.0, 0.0, 0.0), "{f}");
            assert_eq!(Verdict::of(p), Verdict::Same);
        }
    }
}

#[test]
fn a_lower_pue_scales_facility_energy_and_leaves_it_energy() {
    // E_fac = E_it x PUE, sample by sample: PUE 1.5 -> 1.1 changes E_fac by
    // E_it x (1.1 - 1.5) = -(0.4 / 1.5) x E_fac(1.5), so the change's P5 is -0.4/1.5 of the
    // baseline's P95 (the order flips), and E_it changes by exactly 0.
    // (2,001 samples: the median is one sample, the same from either end.)
    let opts = McOptions {
        samples: 2_001,
        ..OPTS
    };
    let b = fleet(Range::point(1.5), 400.0);
    let v = fleet(Range::point(1.1), 400.0);
    let c = changes(&b, &[&v], opts);
    let base = crate::runner::run(&b, opts, vec![]);
    let fac = base.get(Figure::FacilityEnergy).expect("fac");
    let d = get(&c.variants[0], Figure::FacilityEnergy);
    let k = -0.4 / 1.5;
    for (got, want) in [
        (d.p5, fac.p95 * k),
        (d.p50, fac.p50 * k),
        (d.p95, fac.p5 * k),
    ] {
        assert!((got - want).abs() < 1e-6 * want.abs(), "{got} vs {want}");
    }
    assert_eq!(
        get(&c.variants[0], Figure::ItEnergy),
        Percentiles::point(0.0)
    );
    assert_eq!(Verdict::of(&d), Verdict::Better);
    assert_eq!(
        Verdict::of(&get(&c.variants[0], Figure::ItEnergy)),
        Verdict::Same
    );
}

#[test]
fn a_greener_grid_changes_carbon_not_energy() {
    // 400 -> 100 g/kWh: operational carbon x 0.25, facility energy unchanged.
    let b = fleet(Range::new(1.1, 1.6), 400.0);
    let v = fleet(Range::new(1.1, 1.6), 100.0);
    let c = changes(&b, &[&v], OPTS);
    assert_eq!(
        get(&c.variants[0], Figure::FacilityEnergy),
        Percentiles::point(0.0)
    );
    let op = crate::runner::run(&b, OPTS, vec![])
        .get(Figure::OperationalCarbon)
        .expect("op");
    let d = get(&c.variants[0], Figure::OperationalCarbon);
    // The change is -0.75 x the baseline's, sample by sample.
    assert!((d.p5 - op.p95 * -0.75).abs() < 1e-5 * op.p95);
    assert!((d.p95 - op.p5 * -0.75).abs() < 1e-5 * op.p5);
    assert_eq!(Verdict::of(&d), Verdict::Better);
}

#[test]
fn the_verdict_needs_the_whole_range() {
    let p = |a, b, c| Percentiles {
        p5: a,
        p50: b,
        p95: c,
    };
    assert_eq!(Verdict::of(&p(-3.0, -2.0, -0.1)), Verdict::Better);
    assert_eq!(Verdict::of(&p(0.1, 2.0, 3.0)), Verdict::Worse);
    assert_eq!(
        Verdict::of(&p(-3.0, -2.0, 0.0)),
        Verdict::NotDistinguishable
    );
    assert_eq!(Verdict::of(&p(-3.0, 2.0, 3.0)), Verdict::NotDistinguishable);
    assert_eq!(Verdict::of(&p(0.0, 0.0, 0.0)), Verdict::Same);
    assert_eq!(Verdict::NotDistinguishable.label(), "not distinguishable");
}

#[test]
fn one_thread_or_two_give_the_same_changes() {
    let b = fleet(Range::new(1.1, 1.6), 400.0);
    let vs: Vec<FleetSpec> = [1.0, 1.2, 2.0]
        .iter()
        .map(|k| fleet(Range::new(1.1 * k, 1.6 * k), 300.0))
        .collect();
    let refs: Vec<&FleetSpec> = vs.iter().collect();
    let one = changes(&b, &refs, McOptions { threads: 1, ..OPTS });
    let two = changes(&b, &refs, OPTS);
    assert_eq!(one, two);
}

#[test]
fn the_runs_own_samples_give_the_same_changes() {
    // changes_of pairs the runner's kept f32 samples; changes re-evaluates in f64: the same
    // within f32 rounding (7 digits), and exactly 0 for an identical variant.
    let b = fleet(Range::new(1.1, 1.6), 400.0);
    let v = fleet(Range::new(1.2, 1.3), 100.0);
    let keep = |m: &FleetSpec| crate::runner::run_keeping(m, OPTS, vec![], &CHANGE_FIGURES).1;
    let (kb, kv, ks) = (keep(&b), keep(&v), keep(&b.clone()));
    let fast = changes_of(&kb, &[&kv, &ks]);
    let slow = changes(&b, &[&v], OPTS);
    assert_eq!(fast.samples, 2_000);
    for ((f, p), (g, q)) in fast.variants[0].iter().zip(&slow.variants[0]) {
        assert_eq!(f, g);
        let tol = 1e-5 * (p.p5.abs() + p.p95.abs()).max(1e-9);
        assert!(
            (p.p50 - q.p50).abs() < tol && (p.p5 - q.p5).abs() < tol,
            "{f}: {p:?} vs {q:?}"
        );
    }
    for (f, p) in &fast.variants[1] {
        assert_eq!(*p, Percentiles::point(0.0), "{f}");
    }
    // A run of points stands for every sample.
    let mut point = b.clone();
    point.load = Load::ItPower(Range::point(500.0));
    point.site.pue = crate::footprint::Param::new(Range::point(1.5), "test");
    let kp = keep(&point);
    assert_eq!(kp.cols[0].len(), 1);
    let c = changes_of(&kb, &[&kp]);
    assert_eq!(c.samples, 2_000);
}
