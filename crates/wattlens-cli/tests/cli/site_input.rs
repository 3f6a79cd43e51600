//! Site flags, settings and their messages: the electricity price of the grid's place, warnings
//! for values a unit slip would give, bounds on sampling, and errors that say what to do.

use super::*;

fn cost(v: &Value) -> (f64, String) {
    (
        p50(v, "cost"),
        v["cost"]["currency"].as_str().unwrap_or("").to_string(),
    )
}

const FLEET: [&str; 8] = [
    "estimate",
    "fleet",
    "--servers",
    "10",
    "--server",
    "hgx-a100",
    "--hours",
    "24",
];

fn fleet_with(extra: &[&str]) -> Vec<String> {
    FLEET
        .iter()
        .chain(extra)
        .map(|s| (*s).to_string())
        .collect()
}

fn run_fleet(extra: &[&str]) -> Output {
    let a = fleet_with(extra);
    wattlens(&a.iter().map(String::as_str).collect::<Vec<_>>())
}

fn json_fleet(extra: &[&str]) -> Value {
    let a = fleet_with(extra);
    json(&a.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn electricity_price_follows_the_grid() {
    let us = cost(&json_fleet(&["--grid", "US"]));
    let ie = cost(&json_fleet(&["--grid", "IE"]));
    let fi = cost(&json_fleet(&["--grid", "FI"]));
    // The countries the issue found priced alike now differ, each in euros.
    let fr = cost(&json_fleet(&["--grid", "FR"]));
    let de = cost(&json_fleet(&["--grid", "DE"]));
    let pl = cost(&json_fleet(&["--grid", "PL"]));
    let se = cost(&json_fleet(&["--grid", "SE"]));
    for c in [&fr, &de, &pl, &se] {
        assert_eq!(c.1, "EUR");
    }
    assert!(
        de.0 > fr.0 && pl.0 > fr.0 && fr.0 > se.0,
        "{fr:?} {de:?} {pl:?} {se:?}"
    );
    let ca = cost(&json_fleet(&["--grid", "us-egrid:CAMX"]));
    assert_eq!(us.1, "USD");
    assert_eq!(ie.1, "EUR");
    assert_eq!(ca.1, "USD");
    assert!(ie.0 > 2.0 * fi.0, "Ireland {ie:?} vs Finland {fi:?}");
    assert!(ca.0 > 1.5 * us.0, "California {ca:?} vs US {us:?}");
    // A cloud region takes the price of the state it is in.
    let va = cost(&json_fleet(&["--grid", "aws:us-east-1"]));
    assert!(va.0 < ca.0, "Virginia {va:?} vs California {ca:?}");
    // --price still wins.
    let given = cost(&json_fleet(&["--grid", "IE", "--price", "0.05GBP/kWh"]));
    assert_eq!(given.1, "GBP");
}

#[test]
fn a_fallback_price_is_named_in_the_default_output() {
    for (grid, needle) in [
        ("JP", "US average"),
        ("LT", "EU-27 average"),
        ("LU", "EU-27 average"),
    ] {
        let o = run_fleet(&["--grid", grid]);
        assert!(o.status.success(), "{}", stderr(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            out.contains("note:") && out.contains(needle) && out.contains("--price"),
            "--grid {grid}: {out}"
        );
    }
    let o = run_fleet(&[]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("no --grid") && out.contains("US average"),
        "{out}"
    );
    // A price of the grid's own place needs no note.
    for grid in ["us-egrid:CAMX", "FR", "gcp:europe-west1"] {
        let o = run_fleet(&["--grid", grid]);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(!out.contains("price"), "--grid {grid}: {out}");
    }
}

#[test]
fn catalog_shows_prices_with_source_year_and_currency() {
    let o = wattlens(&["catalog", "show", "prices", "US-CA"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    for n in ["USD", "EIA", "2023", "industrial"] {
        assert!(out.contains(n), "lacks {n}: {out}");
    }
    let o = wattlens(&["catalog", "list", "prices"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("EUR") && out.contains("US-TX"), "{out}");
}

#[test]
fn implausibly_low_site_and_power_values_warn_with_the_likely_unit() {
    for (flag, value, needle) in [
        ("--intensity", "0.4", "0.4kg/kWh"),
        ("--market-intensity", "0.3", "0.3kg/kWh"),
        ("--price", "0.002", "per Wh"),
        ("--ewif", "0.002", "m3/kWh"),
        ("--wue", "0.003", "m3/kWh"),
    ] {
        let o = run_fleet(&["--grid", "US", flag, value]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains(&format!("warning: {flag} {value}")) && err.contains(needle),
            "{flag} {value}: {err}"
        );
    }
    let o = wattlens(&[
        "estimate",
        "fleet",
        "--servers",
        "4",
        "--server-power",
        "10.2",
        "--hours",
        "1",
    ]);
    let err = stderr(&o);
    assert!(
        err.contains("--server-power 10.2 W") && err.contains("10.2kW"),
        "{err}"
    );
    // Plausible values and a 100% carbon-free contract do not warn.
    let o = run_fleet(&[
        "--intensity",
        "390",
        "--market-intensity",
        "0",
        "--price",
        "0.12EUR/kWh",
        "--wue",
        "0",
    ]);
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
}

#[test]
fn a_pue_implied_by_a_breakdown_warns_as_pue_does() {
    let args = |b: &str| {
        vec![
            "estimate".to_string(),
            "datacenter".into(),
            "--it-power".into(),
            "1MW".into(),
            "--hours".into(),
            "1".into(),
            "--breakdown".into(),
            b.to_string(),
        ]
    };
    let a = args("it=0.2,cooling=0.8");
    let o = wattlens(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("warning: --breakdown implies a PUE of 5") && err.contains("above 3"),
        "{err}"
    );
    let a = args("it=0.5,cooling=0.5");
    let o = wattlens(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
}

#[test]
fn config_samples_out_of_bounds_are_refused_naming_the_file_and_key() {
    for (i, n) in ["0", "-1", "2.5", "1e11", "100000000000"]
        .iter()
        .enumerate()
    {
        let p = temp_file(&format!("samples{i}.toml"), &format!("samples = {n}\n"));
        let p = p.to_string_lossy().into_owned();
        let mut a = vec!["--config", p.as_str()];
        a.extend(FLEET);
        assert_usage_error(&a, &[&p, "samples", "from 1 to 10M"]);
    }
    let p = temp_file("samples-ok.toml", "samples = 500\n");
    let p = p.to_string_lossy().into_owned();
    let mut a = vec!["--config", p.as_str()];
    a.extend(FLEET);
    let v = json(&a);
    assert_eq!(v["samples"], 500);
    for n in ["0", "1e11", "20M"] {
        let mut a = FLEET.to_vec();
        a.extend(["--samples", n]);
        assert_usage_error(&a, &["--samples", "from 1 to 10M"]);
    }
}

#[test]
fn bad_config_values_name_the_file_and_key_not_a_flag() {
    let p = temp_file(
        "site.toml",
        "[site]\npue = \"0.9\"\nintensity = \"0.4kg\"\n",
    );
    let p = p.to_string_lossy().into_owned();
    let mut a = vec!["--config", p.as_str()];
    a.extend(FLEET);
    let o = wattlens(&a);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("pue in [site] of config file") && err.contains(&p) && !err.contains("--pue"),
        "{err}"
    );
    // A flag given on the command line is still named as the flag.
    a.extend(["--pue", "0.8"]);
    assert_usage_error(&a, &["--pue", "below 1"]);
    // So is an implausible value's warning.
    let p2 = temp_file("low.toml", "[site]\nintensity = \"0.4\"\n");
    let p2 = p2.to_string_lossy().into_owned();
    let mut a = vec!["--config", p2.as_str()];
    a.extend(FLEET);
    let err = stderr(&wattlens(&a));
    assert!(
        err.contains("warning: intensity in [site] of config file") && err.contains("0.4kg/kWh"),
        "{err}"
    );
    // A catalog named by the config file is blamed on the file, not on --catalog.
    let p = temp_file("cat.toml", "catalog = \"no-such-catalog.toml\"\n");
    let p = p.to_string_lossy().into_owned();
    let o = wattlens(&["--config", &p, "catalog", "list", "prices"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("catalog in config file") && err.contains(&p) && !err.contains("--catalog"),
        "{err}"
    );
}

#[test]
fn value_errors_say_how_to_write_the_value() {
    assert_usage_error(
        &[
            "estimate", "train", "--gpu", "h100", "--gpus", "8", "--days", "2mo",
        ],
        &["--days", "a bare number is in days", "60d"],
    );
    let o = wattlens(&[
        "estimate", "train", "--gpu", "h100", "--gpus", "8", "--days", "2mo",
    ]);
    assert!(
        !stderr(&o).contains("bare number is in h"),
        "{}",
        stderr(&o)
    );
    assert_usage_error(
        &[
            "estimate", "train", "--params", "8B", "--tokens", "1T", "--gpu", "h100", "--gpus",
            "8", "--mfu", "45",
        ],
        &["--mfu", "45%", "0.45"],
    );
    let mut a = FLEET.to_vec();
    a.extend(["--pue", "1.1-1.3"]);
    assert_usage_error(&a, &["--pue", "1.1..1.3"]);
    let mut a = FLEET.to_vec();
    a.extend(["--load", "30..45"]);
    assert_usage_error(&a, &["--load", "30..45%", "0.3..0.45"]);
}

#[test]
fn an_empty_catalog_or_config_variable_counts_as_unset() {
    let o = Command::new(env!("CARGO_BIN_EXE_wattlens"))
        .env("WATTLENS_HISTORY", super::test_ledger())
        .args(["catalog", "show", "grids", "FR"])
        .env("WATTLENS_CATALOG", "")
        .env("WATTLENS_CONFIG", "")
        .output()
        .expect("runs wattlens");
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_measured_run_names_its_fallback_price_too() {
    let o = wattlens(&["run", "--grid", "JP", "--", "true"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("note: no electricity price for --grid JP") && err.contains("US average"),
        "{err}"
    );
}

#[test]
fn costs_in_different_currencies_are_not_compared() {
    let us = json_fleet(&["--grid", "US"]);
    let p = temp_file("us-estimate.json", &us.to_string());
    let p = p.to_string_lossy().into_owned();
    let fr = json_fleet(&["--grid", "FR", "--compare", &p]);
    let names: Vec<&str> = fr["comparison"]["figures"]
        .as_array()
        .expect("figures")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert!(names.contains(&"facility_energy_kwh"), "{names:?}");
    assert!(
        !names.contains(&"cost"),
        "a EUR cost against a USD cost: {names:?}"
    );
    let us2 = json_fleet(&["--grid", "us-egrid:CAMX", "--compare", &p]);
    let names: Vec<&str> = us2["comparison"]["figures"]
        .as_array()
        .expect("figures")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert!(names.contains(&"cost"), "{names:?}");
}

#[test]
fn csv_names_the_cost_currency() {
    let mut a = fleet_with(&["--grid", "FR", "--format", "csv"]);
    let o = wattlens(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("fleet,cost_eur,"), "{out}");
    a[9] = "US".into();
    let o = wattlens(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("fleet,cost_usd,"), "{out}");
}
