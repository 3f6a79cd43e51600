//! `plan_region` against hand computation on the catalog's FR and PL rows (point intensities:
//! `wattlens catalog show grids FR` gives 56.039 g/kWh, PL 661.926 g/kWh).

use super::*;
use crate::catalog::Catalog;

const FR: f64 = 56.039;
const PL: f64 = 661.926;

fn job(regions: &[&str]) -> RegionJob {
    RegionJob {
        from: None,
        regions: regions.iter().map(|s| (*s).to_string()).collect(),
        data_gb: 50_000.0,
        energy_kwh: Range::point(100_000.0),
        hours: None,
        bandwidth_gbps: 10.0,
        network_kwh_per_gb: Some(Range::point(0.006)),
        site: SiteInputs {
            pue: Some(Range::point(1.2)),
            ..SiteInputs::default()
        },
    }
}

/// Percentiles carry 7 significant digits.
fn close(got: f64, want: f64) {
    assert!(
        (got - want).abs() <= want.abs() * 1e-6,
        "got {got}, want {want}"
    );
}

fn point(p: Percentiles, want: f64) {
    close(p.p5, want);
    close(p.p50, want);
    close(p.p95, want);
}

#[test]
fn point_inputs_match_hand_computation() {
    let cat = Catalog::embedded();
    let p = plan_region(&cat, &job(&["PL", "FR"]), McOptions::default()).expect("plan");
    assert_eq!(p.schema, "wattlens.plan/v1");
    let (pl, fr) = (&p.regions[0], &p.regions[1]);
    assert_eq!((pl.region.as_str(), fr.region.as_str()), ("PL", "FR"));
    // FR: 100,000 kWh x 1.2 x 56.039 g/kWh = 6,724.68 kg; 50,000 GB x 0.006 kWh/GB = 300 kWh,
    // x 56.039 g/kWh = 16.8117 kg; total 6,741.4917 kg.
    point(fr.carbon_kgco2e, 100_000.0 * 1.2 * FR / 1000.0);
    point(fr.transfer_energy_kwh, 300.0);
    point(fr.transfer_carbon_kgco2e, 300.0 * FR / 1000.0);
    point(fr.total_carbon_kgco2e, 6_741.491_7);
    // PL: 100,000 x 1.2 x 661.926 / 1000 = 79,431.12 kg; 300 x 0.661926 = 198.5778 kg.
    point(pl.carbon_kgco2e, 79_431.12);
    point(pl.transfer_carbon_kgco2e, 198.5778);
    point(pl.total_carbon_kgco2e, 79_629.697_8);
    // 50,000 GB x 8 bit / 10 Gbit/s = 40,000 s = 11.11 h.
    point(fr.transfer_hours, 40_000.0 / 3600.0);
    assert_eq!(p.best.region, "FR");
    assert_eq!(p.best.runner_up.as_deref(), Some("PL"));
    // 79,629.6978 - 6,741.4917 = 72,888.2061 kg.
    point(p.best.margin_kgco2e.expect("margin"), 72_888.206_1);
    assert!(p.best.distinguishable);
    // The only note says how to get the latency (no --from here).
    assert_eq!(p.notes.len(), 1, "{:?}", p.notes);
    assert!(p.notes[0].starts_with("no latency"), "{:?}", p.notes);
    // Water: WUE x IT + EWIF x facility, both positive here.
    assert!(fr.water_l.p5 > 0.0 && fr.water_l.p5 <= fr.water_l.p95);
}

#[test]
fn overlapping_regions_are_not_distinguishable() {
    // gcp:asia-east2 360..505 g/kWh, gcp:asia-northeast1 452.85..463 g/kWh (the catalog's
    // ranges), PUE 1.2, no data: both intensities are drawn at the same quantile u, so the
    // margin is 120,000 kWh x ((452.85 + 10.15u) - (360 + 145.02u)) / 1000 kg, positive below
    // u = 0.688 and negative above: east2 wins at the P50 but not at every draw.
    let cat = Catalog::embedded();
    let mut j = job(&["gcp:asia-northeast1", "gcp:asia-east2"]);
    j.network_kwh_per_gb = Some(Range::point(0.0));
    let p = plan_region(&cat, &j, McOptions::default()).expect("plan");
    assert_eq!(p.best.region, "gcp:asia-east2");
    let m = p.best.margin_kgco2e.expect("margin");
    assert!(m.p5 < 0.0 && m.p95 > 0.0, "{m:?}");
    // P50 at u = 0.5: 120 x (92.85 - 67.435) = 3,049.8 kg.
    assert!((m.p50 - 3_049.8).abs() < 120.0, "{m:?}");
    assert!(!p.best.distinguishable);
    assert!(p.notes[0].contains("not distinguishable"), "{:?}", p.notes);
}

#[test]
fn one_grid_under_two_names_is_a_tie() {
    // FR and its alias FRA: the margin is exactly 0 on every draw.
    let cat = Catalog::embedded();
    let p = plan_region(&cat, &job(&["FR", "FRA"]), McOptions::default()).expect("plan");
    assert_eq!(p.best.region, "FR");
    assert_eq!(p.best.margin_kgco2e, Some(Percentiles::point(0.0)));
    assert!(!p.best.distinguishable);
}

#[test]
fn the_shared_energy_is_paired() {
    // An energy range alone (point PUE and intensities): the margin is (PL - FR) x 1.2 x E on
    // each draw, so its P5/P95 are those of E scaled, and it never crosses 0.
    let cat = Catalog::embedded();
    let mut j = job(&["FR", "PL"]);
    j.energy_kwh = Range::new(50_000.0, 150_000.0);
    j.network_kwh_per_gb = Some(Range::point(0.0));
    let p = plan_region(&cat, &j, McOptions::default()).expect("plan");
    let m = p.best.margin_kgco2e.expect("margin");
    let k = (PL - FR) * 1.2 / 1000.0;
    assert!(m.p5 > 50_000.0 * k && m.p95 < 150_000.0 * k, "{m:?}");
    let ratio = m.p50 / p.regions[0].carbon_kgco2e.p50;
    assert!((ratio / ((PL - FR) / FR) - 1.0).abs() < 0.01, "{ratio}");
    assert!(p.best.distinguishable);
}

#[test]
fn one_region_is_its_own_best() {
    let cat = Catalog::embedded();
    let p = plan_region(&cat, &job(&["FR"]), McOptions::default()).expect("plan");
    assert_eq!(p.best.region, "FR");
    assert_eq!(p.best.runner_up, None);
    assert_eq!(p.best.margin_kgco2e, None);
}

#[test]
fn the_catalog_network_intensity_is_used_and_cited() {
    let cat = Catalog::embedded();
    let mut j = job(&["FR"]);
    j.network_kwh_per_gb = None;
    let p = plan_region(&cat, &j, McOptions::default()).expect("plan");
    assert_eq!(
        (p.network_kwh_per_gb.p5, p.network_kwh_per_gb.p95),
        (0.0019, 0.015)
    );
    assert!(p.network_source.contains("Aslan"), "{}", p.network_source);
    let t = p.regions[0].transfer_energy_kwh;
    assert!(
        t.p5 >= 50_000.0 * 0.0019 && t.p95 <= 50_000.0 * 0.015,
        "{t:?}"
    );
}

#[test]
fn bad_inputs_name_their_field() {
    let cat = Catalog::embedded();
    let field = |j: RegionJob| match plan_region(&cat, &j, McOptions::default()) {
        Err(PlanError::Invalid { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    let mut j = job(&["FR"]);
    j.data_gb = 0.0;
    assert_eq!(field(j), Field::Data);
    let mut j = job(&["FR"]);
    j.energy_kwh = Range::point(-1.0);
    assert_eq!(field(j), Field::Energy);
    let mut j = job(&["FR"]);
    j.bandwidth_gbps = 0.0;
    assert_eq!(field(j), Field::Bandwidth);
    let mut j = job(&["FR"]);
    j.hours = Some(0.0);
    assert_eq!(field(j), Field::Hours);
    let mut j = job(&["FR"]);
    j.network_kwh_per_gb = Some(Range::point(-0.1));
    assert_eq!(field(j), Field::NetworkIntensity);
    assert_eq!(field(job(&[])), Field::Regions);
    assert_eq!(field(job(&["FR", "fr"])), Field::Regions);
}

#[test]
fn an_unknown_region_names_regions_and_suggests() {
    let cat = Catalog::embedded();
    let e =
        plan_region(&cat, &job(&["FR", "cn-nortwest"]), McOptions::default()).expect_err("unknown");
    let shown = e.render(&|f| format!("--{}", f.name()));
    assert!(
        shown.starts_with("--regions: unknown grid region"),
        "{shown}"
    );
    assert!(shown.contains("cn-northwest"), "{shown}");
}

#[test]
fn latency_from_a_country_to_each_region() {
    // From FR (46.227638 N, 2.213749 E, the table's geographic centre) to PL (51.919438 N,
    // 19.145136 E): haversine h = 0.0117125, d = 2 x 6371 x asin(sqrt(h)) = 1381.70 km;
    // RTT = 2 x 1381.70 x k / 199.862 + 1 ms = 18.97 (k 1.3), 30.04 (k 2.1), 41.10 (k 2.9) ms.
    // FR to itself: the floor alone, 1 ms. world has no location: no latency, said in a note.
    let cat = Catalog::embedded();
    let mut j = job(&["FR", "PL", "world"]);
    j.from = Some("FR".into());
    let p = plan_region(&cat, &j, McOptions::default()).expect("plan");
    assert_eq!(p.from.as_deref(), Some("FR"));
    let fr = p.regions[0].latency_ms.expect("FR");
    assert_eq!((fr.p5, fr.p50, fr.p95), (1.0, 1.0, 1.0));
    let pl = p.regions[1].latency_ms.expect("PL");
    assert!((pl.p5 - 18.97).abs() < 0.01, "{pl:?}");
    assert!((pl.p50 - 30.04).abs() < 0.01, "{pl:?}");
    assert!((pl.p95 - 41.10).abs() < 0.01, "{pl:?}");
    assert!(p.regions[2].latency_ms.is_none());
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("no latency for world: the catalog has no location")),
        "{:?}",
        p.notes
    );
}

#[test]
fn no_latency_without_from_and_an_unknown_from_names_the_field() {
    let cat = Catalog::embedded();
    let p = plan_region(&cat, &job(&["FR"]), McOptions::default()).expect("plan");
    assert!(p.regions[0].latency_ms.is_none() && p.from.is_none());
    assert!(p
        .notes
        .iter()
        .any(|n| n.starts_with("no latency: give {from}")));
    let json = serde_json::to_value(&p).expect("json");
    assert!(json["regions"][0].get("latency_ms").is_none());
    let mut j = job(&["FR"]);
    j.from = Some("atlantis".into());
    let e = plan_region(&cat, &j, McOptions::default()).expect_err("unknown");
    assert!(
        matches!(
            e,
            PlanError::Invalid {
                field: Field::From,
                ..
            }
        ),
        "{e:?}"
    );
}
