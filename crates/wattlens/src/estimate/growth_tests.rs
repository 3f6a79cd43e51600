//! Tests of the growth trajectory against hand computations.

use super::*;
use crate::estimate::power::Split;
use crate::estimate::resolve::{fleet_growth, FleetInputs, GrowthInputs};
use crate::estimate::site::SiteInputs;
use crate::footprint::Param;

/// 1,000 kWh of IT energy a day at PUE 1 (so facility = IT), 24 h: 365,000 kWh a year.
fn fleet() -> FleetSpec {
    let mut site = crate::footprint::tests_support::site();
    site.pue = Param::new(Range::point(1.0), "test");
    FleetSpec {
        load: super::super::fleet::Load::Energy(Range::point(1000.0)),
        hours: Range::point(24.0),
        split: Split::HostOnly {
            rest_share: Range::point(0.0),
        },
        site,
    }
}

fn rates(x: f64, y: f64, e: f64, z: f64) -> Rates {
    Rates {
        demand_growth: Range::point(x),
        efficiency_gain: Range::point(y),
        elasticity: Range::point(e),
        grid_decarbonisation: Range::point(z),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn three_years_of_twenty_percent_demand_and_ten_percent_efficiency() {
    // X = 20%, Y = 10%: energy factor 1.2 x 0.9 = 1.08 a year. Base 365,000 kWh a year:
    // year 3 = 365,000 x 1.08^3 = 365,000 x 1.259712 = 459,794.88 kWh.
    // Demand index 1.2^3 = 1.728; energy per unit 0.9^3 = 0.729.
    // Cumulative = 365,000 x (1 + 1.08 + 1.1664 + 1.259712) = 365,000 x 4.506112
    //            = 1,644,730.88 kWh.
    let t = trajectory(
        &fleet(),
        &rates(0.2, 0.1, 0.0, 0.0),
        3,
        2024,
        McOptions::default(),
    );
    assert_eq!(t.years.len(), 4);
    assert_eq!(t.years[0].year, 2024);
    assert_eq!(t.years[3].year, 2027);
    assert!(close(t.years[0].energy_kwh.p50, 365_000.0));
    let y3 = &t.years[3];
    assert!(
        close(y3.energy_kwh.p50, 459_794.88),
        "{}",
        y3.energy_kwh.p50
    );
    assert!(close(y3.demand_index.p50, 1.728));
    assert!(close(y3.energy_per_unit_index.p50, 0.729));
    assert!(close(y3.cumulative_energy_kwh.p50, 1_644_730.88));
    assert!(close(t.energy_growth_rate.p50, 0.08));
    // Energy grows from the first year: demand outruns efficiency in 2025.
    assert_eq!(t.outrun_year, Some(2025));
    assert_eq!(t.outrun_year_p5, Some(2025));
}

#[test]
fn efficiency_that_outpaces_demand_never_crosses() {
    // X = 5%, Y = 10%: 1.05 x 0.9 = 0.945 a year < 1: energy falls every year.
    let t = trajectory(
        &fleet(),
        &rates(0.05, 0.1, 0.0, 0.0),
        5,
        2024,
        McOptions::default(),
    );
    assert_eq!(t.outrun_year, None);
    assert!(close(
        t.years[5].energy_kwh.p50,
        365_000.0 * 0.945f64.powi(5)
    ));
    assert!(close(t.energy_growth_rate.p50, -0.055));
}

#[test]
fn rebound_turns_savings_into_growth() {
    // X = 5%, Y = 10%, E = 1.5 (backfire): demand index per year 1.05 x 0.9^-1.5 = 1.229775...;
    // energy per year 1.05 x 0.9^(1 - 1.5) = 1.05 / sqrt(0.9) = 1.106797... > 1: energy grows
    // although 1.05 x 0.9 < 1 without rebound.
    let f = Factors {
        x: 0.05,
        y: 0.1,
        e: 1.5,
        z: 0.0,
    };
    assert!(close(f.growth(), 1.05 / 0.9f64.sqrt() - 1.0));
    assert!(close(f.demand(1), 1.05 * 0.9f64.powf(-1.5)));
    let t = trajectory(
        &fleet(),
        &rates(0.05, 0.1, 1.5, 0.0),
        2,
        2024,
        McOptions::default(),
    );
    assert_eq!(t.outrun_year, Some(2025));
    assert!(close(
        t.years[2].energy_kwh.p50,
        365_000.0 * (1.05 / 0.9f64.sqrt()).powi(2)
    ));
    // E = 1 takes back all the savings: energy follows demand growth alone, 1.05 a year.
    let full = Factors { e: 1.0, ..f };
    assert!(close(full.energy(4), 1.05f64.powi(4)));
}

#[test]
fn elasticity_zero_is_exactly_no_rebound() {
    let opts = McOptions {
        samples: 2000,
        seed: 3,
        threads: 1,
    };
    let ranged = |e: Range| Rates {
        demand_growth: Range::new(0.1, 0.3),
        efficiency_gain: Range::new(0.05, 0.2),
        elasticity: e,
        grid_decarbonisation: Range::new(0.0, 0.05),
    };
    let with = trajectory(&fleet(), &ranged(Range::point(0.0)), 4, 2024, opts);
    // Per draw: (1 - Y)^(-0 x t) is exactly 1.
    let f = Factors {
        x: 0.2,
        y: 0.1,
        e: 0.0,
        z: 0.0,
    };
    assert_eq!(f.energy(3), 1.2f64.powi(3) * 0.9f64.powi(3));
    // A positive elasticity raises every year's energy after the base year.
    let rebound = trajectory(&fleet(), &ranged(Range::new(0.2, 0.6)), 4, 2024, opts);
    assert_eq!(rebound.years[0].energy_kwh, with.years[0].energy_kwh);
    assert!(rebound.years[4].energy_kwh.p50 > with.years[4].energy_kwh.p50);
}

#[test]
fn ranges_give_ordered_percentiles_and_paired_years() {
    let r = Rates {
        demand_growth: Range::new(0.1, 0.3),
        efficiency_gain: Range::point(0.1),
        elasticity: Range::point(0.0),
        grid_decarbonisation: Range::point(0.0),
    };
    let t = trajectory(&fleet(), &r, 3, 2024, McOptions::default());
    let y = &t.years[3];
    assert!(y.energy_kwh.p5 < y.energy_kwh.p50 && y.energy_kwh.p50 < y.energy_kwh.p95);
    // X uniform in [0.1, 0.3] and monotone: P50 of energy = 365,000 x (1.2 x 0.9)^3 up to the
    // sampling error of 10,000 draws.
    assert!((y.energy_kwh.p50 / 459_794.88 - 1.0).abs() < 0.01);
    // The effective rate's P5: 1.11 x 0.9 - 1 = -0.001 (X at its 5th percentile, 0.11): the
    // low end does not grow, so the P5 crossing is not in the first year.
    assert!(t.energy_growth_rate.p5 < 0.0 && t.energy_growth_rate.p95 > 0.0);
    assert_eq!(t.outrun_year, Some(2025));
    assert_eq!(t.outrun_year_p5, None);
}

#[test]
fn grid_decarbonisation_lowers_carbon_not_energy() {
    // Z = 10%: year 2 carbon = operational carbon of year 2's energy x 0.9^2 = 0.81 x.
    // The test site: its intensity applies to 365,000 kWh of facility energy.
    let plain = trajectory(
        &fleet(),
        &rates(0.0, 0.0, 0.0, 0.0),
        2,
        2024,
        McOptions::default(),
    );
    let clean = trajectory(
        &fleet(),
        &rates(0.0, 0.0, 0.0, 0.1),
        2,
        2024,
        McOptions::default(),
    );
    assert_eq!(plain.years[2].energy_kwh, clean.years[2].energy_kwh);
    let c0 = plain.years[2].carbon_kgco2e.p50;
    assert!(c0 > 0.0);
    assert!(close(clean.years[2].carbon_kgco2e.p50, c0 * 0.81));
    // Cumulative: c0 x (1 + 0.9 + 0.81) = 2.71 c0.
    assert!(close(
        clean.years[2].cumulative_carbon_kgco2e.p50,
        c0 * 2.71
    ));
}

#[test]
fn iea_preset_reaches_about_1000_twh_in_2026() {
    // IEA, Electricity 2024: 460 TWh in 2022; 2026 between 620 (low) and 1,050 TWh (high),
    // headline "more than 1,000 TWh". Preset: (1.35 x 0.9)^4 x 460 = 1.215^4 x 460
    // = 2.17924... x 460 = 1,002.45 TWh.
    let cat = crate::catalog::Catalog::embedded();
    let g = GrowthInputs {
        preset: Some("iea-2024".into()),
        ..GrowthInputs::default()
    };
    let (r, growth) = fleet_growth(
        &cat,
        &FleetInputs::default(),
        &g,
        &SiteInputs::default(),
        2030,
    )
    .expect("preset");
    let e = run_growth(r, &growth, McOptions::default());
    let t = e.details.trajectory().expect("trajectory");
    assert_eq!(t.years.first().map(|y| y.year), Some(2022));
    assert_eq!(t.years.last().map(|y| y.year), Some(2026));
    let twh = |kwh: f64| kwh / 1e9;
    assert!((twh(t.years[0].energy_kwh.p50) - 460.0).abs() < 1e-6);
    let end = twh(t.years[4].energy_kwh.p50);
    assert!((end - 1002.45).abs() < 0.01, "{end}");
    assert!((620.0..=1050.0).contains(&end));
    assert!(e.published.iter().all(|p| p.estimate_p50.is_some()));
}
