//! `estimate fleet` with a growth trajectory (issue 12, item 4): `--years` and the yearly
//! rates, the `iea-2024` preset, the output formats and the refusals.

use super::*;

/// 1,000 kWh of IT energy a day at PUE 1: 365,000 kWh a year in the base year.
const BASE: &[&str] = &[
    "estimate",
    "fleet",
    "--energy",
    "1000kWh",
    "--pue",
    "1",
    "--intensity",
    "400",
    "--start-year",
    "2024",
];

fn with(extra: &[&str]) -> Vec<&'static str> {
    let mut a: Vec<&'static str> = BASE.to_vec();
    for e in extra {
        a.push(Box::leak(e.to_string().into_boxed_str()));
    }
    a
}

fn years(v: &Value) -> &Vec<Value> {
    v["trajectory"]["years"]
        .as_array()
        .expect("trajectory.years")
}

#[test]
fn three_years_at_20_percent_demand_and_10_percent_efficiency() {
    // Energy factor 1.2 x 0.9 = 1.08 a year: 2027 = 365,000 x 1.08^3 = 459,794.88 kWh;
    // carbon at 400 g/kWh = 183,917.952 kg. Demand 1.2^3 = 1.728, energy per unit 0.9^3 = 0.729.
    let v = json(&with(&[
        "--years",
        "3",
        "--demand-growth",
        "20%",
        "--efficiency-gain",
        "10%",
    ]));
    let y = years(&v);
    assert_eq!(y.len(), 4);
    assert_eq!(y[0]["year"], 2024);
    assert_eq!(y[3]["year"], 2027);
    let close = |a: f64, b: f64| (a - b).abs() < 1e-6 * b;
    assert!(close(p50(&y[3], "energy_kwh"), 459_794.88));
    assert!(close(p50(&y[3], "carbon_kgco2e"), 183_917.952));
    assert!(close(p50(&y[3], "demand_index"), 1.728));
    assert!(close(p50(&y[3], "energy_per_unit_index"), 0.729));
    assert_eq!(v["trajectory"]["outrun_year"], 2025);
    // The base report is the fleet as given: one day of 1,000 kWh.
    assert!(close(p50(&v, "facility_energy_kwh"), 1000.0));
}

#[test]
fn efficiency_ahead_of_demand_never_outruns() {
    // 1.05 x 0.9 = 0.945 < 1: energy falls every year.
    let v = json(&with(&[
        "--years",
        "5",
        "--demand-growth",
        "5%",
        "--efficiency-gain",
        "10%",
    ]));
    assert_eq!(v["trajectory"]["outrun_year"], Value::Null);
    let t = stdout(&with(&[
        "--years",
        "5",
        "--demand-growth",
        "5%",
        "--efficiency-gain",
        "10%",
    ]));
    assert!(t.contains("efficiency keeps up with demand"), "{t}");
}

#[test]
fn rebound_makes_demand_outrun_efficiency() {
    // Without rebound 1.05 x 0.9 < 1; with E = 1.5: 1.05 x 0.9^(1 - 1.5) = 1.1068 > 1 (backfire).
    let v = json(&with(&[
        "--years",
        "2",
        "--demand-growth",
        "5%",
        "--efficiency-gain",
        "10%",
        "--elasticity",
        "1.5",
    ]));
    assert_eq!(v["trajectory"]["outrun_year"], 2025);
    let want = 365_000.0 * (1.05 / 0.9f64.sqrt()).powi(2);
    assert!((p50(&years(&v)[2], "energy_kwh") / want - 1.0).abs() < 1e-9);
}

#[test]
fn elasticity_zero_equals_no_rebound_exactly() {
    let rates = [
        "--years",
        "4",
        "--demand-growth",
        "10..30%",
        "--efficiency-gain",
        "5..20%",
    ];
    let plain = stdout(&with(&[&rates[..], &["--json"]].concat()));
    let zero = stdout(&with(
        &[&rates[..], &["--elasticity", "0", "--json"]].concat(),
    ));
    let a: Value = serde_json::from_str(&plain).expect("json");
    let b: Value = serde_json::from_str(&zero).expect("json");
    assert_eq!(a["trajectory"]["years"], b["trajectory"]["years"]);
    assert_eq!(
        a["trajectory"]["energy_growth_rate"],
        b["trajectory"]["energy_growth_rate"]
    );
}

#[test]
fn ranges_give_p5_p50_p95_per_year() {
    let v = json(&with(&[
        "--years",
        "3",
        "--demand-growth",
        "20..30%",
        "--efficiency-gain",
        "10%",
        "--grid-decarbonisation",
        "0..10%",
    ]));
    let y3 = &years(&v)[3];
    for key in ["energy_kwh", "carbon_kgco2e", "cumulative_energy_kwh"] {
        let (a, b, c) = (
            y3[key]["p5"].as_f64().expect("p5"),
            y3[key]["p50"].as_f64().expect("p50"),
            y3[key]["p95"].as_f64().expect("p95"),
        );
        assert!(a < b && b < c, "{key}: {a} {b} {c}");
    }
}

#[test]
fn iea_2024_preset_reaches_about_1000_twh_in_2026() {
    // IEA, Electricity 2024 (January 2024), p. 31: 460 TWh in 2022; 2026 between 620 (low) and
    // 1,050 TWh (high), headline "more than 1,000 TWh". The preset: (1.35 x 0.9)^4 x 460 TWh
    // = 1.215^4 x 460 = 1,002.45 TWh.
    let v = json(&["estimate", "fleet", "--preset", "iea-2024"]);
    let y = years(&v);
    assert_eq!(y.first().map(|r| r["year"].clone()), Some(2022.into()));
    assert_eq!(y.last().map(|r| r["year"].clone()), Some(2026.into()));
    let twh = |r: &Value| p50(r, "energy_kwh") / 1e9;
    assert!((twh(&y[0]) - 460.0).abs() < 1e-6);
    let end = twh(&y[4]);
    assert!((620.0..=1050.0).contains(&end), "{end}");
    assert!((end - 1002.45).abs() < 0.01, "{end}");
    assert_eq!(v["trajectory"]["preset"], "iea-2024");
    let t = stdout(&["estimate", "fleet", "--preset", "iea-2024"]);
    assert!(t.contains("trajectory (preset iea-2024)"), "{t}");
    assert!(t.contains("2026"), "{t}");
    assert!(t.contains("IEA, Electricity 2024"), "{t}");
}

#[test]
fn the_preset_takes_rate_overrides() {
    // The IEA base with demand growing 20% and efficiency 10%: 460 x 1.08^4 = 625.83 TWh.
    let v = json(&[
        "estimate",
        "fleet",
        "--preset",
        "iea-2024",
        "--demand-growth",
        "20%",
    ]);
    let end = p50(&years(&v)[4], "energy_kwh") / 1e9;
    assert!((end - 625.83).abs() < 0.01, "{end}");
}

#[test]
fn csv_and_markdown_carry_the_trajectory() {
    let args = with(&[
        "--years",
        "3",
        "--demand-growth",
        "20%",
        "--efficiency-gain",
        "10%",
        "--format",
        "csv",
    ]);
    let csv = stdout(&args);
    let row = csv
        .lines()
        .find(|l| l.starts_with("trajectory,2027.energy_kwh,"))
        .unwrap_or_else(|| panic!("{csv}"));
    let p50: f64 = row
        .split(',')
        .nth(3)
        .and_then(|x| x.parse().ok())
        .expect("p50");
    // Percentiles keep 7 significant digits: 459,794.88 -> 459,794.9.
    assert!((p50 / 459_794.88 - 1.0).abs() < 1e-6, "{row}");
    let md = stdout(&with(&[
        "--years",
        "3",
        "--demand-growth",
        "20%",
        "--efficiency-gain",
        "10%",
        "--format",
        "markdown",
    ]));
    assert!(md.contains("| 2027 |"), "{md}");
}

#[test]
fn a_fleet_without_growth_flags_has_no_trajectory() {
    let v = json(&BASE[..8]);
    assert!(v.get("trajectory").is_none());
}

#[test]
fn bad_growth_input_is_refused_with_exit_2() {
    let rate = ["--demand-growth", "20%"];
    for (extra, needles) in [
        (vec!["--years", "0"], vec!["--years", "from 1 to 100"]),
        (vec!["--years", "-3"], vec!["--years"]),
        (vec!["--years", "101"], vec!["--years", "from 1 to 100"]),
        (vec!["--years", "2.5"], vec!["--years", "whole"]),
        (vec!["--years", "many"], vec!["--years"]),
        (
            vec!["--years", "3", "--demand-growth", "-150%"],
            vec!["--demand-growth", "-100%"],
        ),
        (
            vec!["--years", "3", "--demand-growth", "-100%"],
            vec!["--demand-growth"],
        ),
        (
            vec!["--years", "3", "--efficiency-gain", "100%"],
            vec!["--efficiency-gain", "below 100%"],
        ),
        (
            vec!["--years", "3", "--efficiency-gain", "-150%"],
            vec!["--efficiency-gain"],
        ),
        (
            vec!["--years", "3", "--demand-growth", "fast"],
            vec!["--demand-growth"],
        ),
        (
            vec![
                "--years",
                "3",
                "--elasticity",
                "-1",
                "--demand-growth",
                "5%",
            ],
            vec!["--elasticity"],
        ),
        (vec!["--elasticity", "0.5"], vec!["--years", "--elasticity"]),
        (rate.to_vec(), vec!["--years", "--demand-growth"]),
        (
            vec!["--years", "3"],
            vec!["--years", "--demand-growth", "--efficiency-gain"],
        ),
        (
            vec!["--years", "3", "--grid-decarbonisation", "100%"],
            vec!["--grid-decarbonisation"],
        ),
    ] {
        assert_usage_error(&with(&extra), &needles);
    }
    assert_usage_error(
        &[
            "estimate", "fleet", "--preset", "iea-2024", "--energy", "5TWh",
        ],
        &["--preset", "--energy"],
    );
    assert_usage_error(
        &["estimate", "fleet", "--preset", "iea-2024", "--pue", "1.3"],
        &["--preset", "--pue"],
    );
    assert_usage_error(
        &["estimate", "fleet", "--preset", "nope"],
        &["--preset", "iea-2024"],
    );
}

#[test]
fn negative_efficiency_gain_means_rising_energy_per_unit() {
    // -10%: energy per unit 1.1 a year: year 2 = 1.21.
    let v = json(&with(&["--years", "2", "--efficiency-gain", "-10%"]));
    assert!((p50(&years(&v)[2], "energy_per_unit_index") - 1.21).abs() < 1e-12);
}

#[test]
fn explain_shows_the_trajectory_step() {
    // 1.08^3 = 1.259712: shown as 1.26.
    let t = stdout(&with(&[
        "--years",
        "3",
        "--demand-growth",
        "20%",
        "--efficiency-gain",
        "10%",
        "--explain",
    ]));
    assert!(t.contains("trajectory_energy_index"), "{t}");
    assert!(t.contains("= 1.26"), "{t}");
}
