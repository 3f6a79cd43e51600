//! Time in the accounting core, through the public API alone: a series placed under an estimate
//! is integrated by the core over each evaluation's own span (issue 8's hand computations).

use wattlens::grid::{parse_csv, CsvOptions, PlacedSeries, SeriesMean};
use wattlens::units::{Hours, KilowattHours};
use wattlens::{
    resolve, run_resolved, CarbonBasis, Catalog, Figure, FleetInputs, HardwareInputs, McOptions,
    Range, Report, SiteInputs,
};

/// Two hours at 100 g/kWh from 2024-03-04T00:00Z, then two at 300.
const SERIES: &str = "timestamp,g_per_kwh\n\
                      2024-03-04T00:00:00Z,100\n\
                      2024-03-04T01:00:00Z,100\n\
                      2024-03-04T02:00:00Z,300\n\
                      2024-03-04T03:00:00Z,300\n";

/// 1 kW at load 1 and PUE 1 for `hours` from 00:00Z, on the series.
fn fleet(hours: Range, samples: usize) -> Report {
    let catalog = Catalog::embedded();
    let inputs = FleetInputs {
        servers: Some(Range::point(1.0)),
        hours: Some(hours),
        hw: HardwareInputs {
            server_power: Some(Range::point(1000.0)),
            load: Some(Range::point(1.0)),
            ..HardwareInputs::default()
        },
        ..FleetInputs::default()
    };
    let site = SiteInputs {
        pue: Some(Range::point(1.0)),
        ..SiteInputs::default()
    };
    let mut r = resolve::fleet(&catalog, &inputs, &site).expect("resolves");
    let series = parse_csv(SERIES.as_bytes(), "s.csv", &CsvOptions::default()).expect("series");
    let start = "2024-03-04T00:00:00Z".parse().expect("time");
    let shown = SeriesMean::over_durations(&series, start, hours.lo, hours.hi, hours.mid())
        .expect("covered");
    let placed = PlacedSeries::flat(&series, start, Hours(hours.hi)).expect("covered");
    shown.apply(placed, &mut r.spec.site, None, &mut r.assumptions);
    run_resolved(
        r,
        McOptions {
            samples,
            ..McOptions::default()
        },
    )
}

#[test]
fn four_hours_on_two_intensities_give_0_8_kg_on_the_series_basis() {
    let e = fleet(Range::point(4.0), 1000);
    // 2 kWh x 100 + 2 kWh x 300 = 800 g.
    let c = e.get(Figure::OperationalCarbon).expect("carbon");
    assert!((c.p50 - 0.8).abs() < 1e-9, "{c:?}");
    let energy = e.get(Figure::FacilityEnergy).expect("energy");
    assert_eq!(KilowattHours(energy.p50), KilowattHours(4.0));
    // The runner says so itself: no front end has to patch the basis in.
    assert_eq!(e.carbon_basis, CarbonBasis::Series);
}

#[test]
fn each_sample_meets_the_hours_its_own_duration_covers() {
    // h uniform on 2..4 h emits 200 + 300 x (h - 2) g: P5/P50/P95 at h = 2.1, 3, 3.9.
    let e = fleet(Range::new(2.0, 4.0), 20_000);
    let c = e.get(Figure::OperationalCarbon).expect("carbon");
    for (got, want) in [(c.p5, 0.23), (c.p50, 0.5), (c.p95, 0.77)] {
        assert!((got - want).abs() < 0.01 * want, "{got} kg against {want}");
    }
    assert_eq!(e.carbon_basis, CarbonBasis::Series);
}
