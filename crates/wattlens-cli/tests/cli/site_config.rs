//! Follow-up checks of site settings, catalog rows and input messages: config values named by
//! their file and key, prices of US grids, catalog rows that would give wrong numbers, and
//! messages that say what the value is and what to do.

use super::*;

const INFER: [&str; 6] = [
    "estimate",
    "infer",
    "--model",
    "llama-3-8b",
    "--gpu",
    "h100",
];

/// Runs `estimate infer` with a config file holding `toml`, plus `extra` flags.
fn with_config(toml: &str, extra: &[&str]) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("wattlens.toml");
    std::fs::write(&path, toml).expect("write config");
    let p = path.to_string_lossy().into_owned();
    let mut a = vec!["--config", p.as_str()];
    a.extend(INFER);
    a.extend(extra);
    wattlens(&a)
}

/// Runs `estimate infer` with a user catalog holding `toml`, plus `extra` flags.
fn with_catalog(toml: &str, extra: &[&str]) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mine.toml");
    std::fs::write(&path, toml).expect("write catalog");
    let p = path.to_string_lossy().into_owned();
    let mut a = vec!["--catalog", p.as_str()];
    a.extend(INFER);
    a.extend(extra);
    wattlens(&a)
}

fn usage_error(o: &Output, needles: &[&str], absent: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "missing {n:?} in: {err}");
    }
    for n in absent {
        assert!(!err.contains(n), "unexpected {n:?} in: {err}");
    }
}

#[test]
fn config_values_out_of_bounds_name_the_config_key_not_the_flag() {
    for (key, value) in [
        ("lifetime", "\"0\""),
        ("lifetime", "\"1000y\""),
        ("pue", "\"1000\""),
        ("intensity", "\"1e9\""),
        ("market_intensity", "\"1e9\""),
        ("price", "\"1e9\""),
        ("wue", "\"1e9\""),
        ("ewif", "\"1e9\""),
    ] {
        let o = with_config(&format!("[site]\n{key} = {value}\n"), &[]);
        let flag = format!("--{}", key.replace('_', "-"));
        usage_error(
            &o,
            &[&format!("{key} in [site] of config file"), "wattlens.toml"],
            &[&format!("{flag}:")],
        );
    }
    // A flag given on the command line is still named as the flag.
    let o = with_config("[site]\npue = \"1.2\"\n", &["--pue", "1000"]);
    usage_error(&o, &["--pue"], &["config file"]);
}

#[test]
fn unknown_config_names_say_which_config_key() {
    for (key, value) in [("grid", "XX"), ("datacenter", "nope"), ("cooling", "nope")] {
        let o = with_config(&format!("[site]\n{key} = \"{value}\"\n"), &[]);
        usage_error(
            &o,
            &[&format!("{key} in [site] of config file"), value],
            &[],
        );
    }
}

#[test]
fn empty_config_catalog_is_unset() {
    let o = with_config("catalog = \"\"\n", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn config_numbers_may_be_written_unquoted() {
    let quoted = with_config("[site]\npue = \"1.2\"\nintensity = \"400\"\n", &["--json"]);
    let bare = with_config("[site]\npue = 1.2\nintensity = 400\n", &["--json"]);
    assert!(bare.status.success(), "{}", stderr(&bare));
    // The two runs read config files in different temp dirs, which the sources name.
    let tidy = |o: &Output| {
        let t = String::from_utf8_lossy(&o.stdout).into_owned();
        let re = t
            .find("of config file ")
            .map(|i| i + "of config file ".len());
        match re.and_then(|i| t[i..].find("wattlens.toml").map(|j| (i, i + j))) {
            Some((a, b)) => t.replace(&t[a..b], "DIR/"),
            None => t,
        }
    };
    assert_eq!(tidy(&quoted), tidy(&bare));
}

#[test]
fn a_config_value_is_recorded_as_config_not_as_a_flag() {
    // Issue 8: provenance is never faked; a PUE from the config file is not `--pue`.
    let o = with_config("[site]\npue = 1.2\n", &["--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let pue = v["assumptions"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["name"] == "pue"))
        .expect("pue assumption");
    assert_eq!(pue["origin"], "config", "{pue}");
    let src = pue["source"].as_str().unwrap_or("");
    assert!(
        src.starts_with("pue in [site] of config file ") && !src.contains("--pue"),
        "{src}"
    );
    // Given as a flag, it stays the user's.
    let o = with_config("[site]\npue = 1.2\n", &["--json", "--pue", "1.3"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let pue = v["assumptions"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["name"] == "pue"))
        .expect("pue assumption");
    assert_eq!(
        (pue["origin"].as_str(), pue["source"].as_str()),
        (Some("user"), Some("--pue"))
    );
}

#[test]
fn config_errors_print_numbers_short() {
    let o = with_config("seed = 1e300\n", &[]);
    usage_error(&o, &["seed", "1.000e300"], &["000000000000"]);
    let o = with_config("[site]\ngrid = 1e300\n", &[]);
    usage_error(&o, &["line 2", "1.000e300"], &["000000000000"]);
}

const TRAIN: [&str; 10] = [
    "estimate", "train", "--gpu", "h100", "--gpus", "8", "--params", "8B", "--tokens", "1T",
];

fn train_with(extra: &[&str]) -> Output {
    let mut a = TRAIN.to_vec();
    a.extend(extra);
    wattlens(&a)
}

#[test]
fn huge_finite_durations_are_out_of_bounds_not_infinite() {
    for flag in ["--days", "--lifetime"] {
        let o = train_with(&[flag, "1.7976931348623157e308"]);
        usage_error(
            &o,
            &[flag, "outside", "give a value from"],
            &["not a finite"],
        );
    }
}

#[test]
fn fractions_far_above_a_hundred_suggest_no_percentage() {
    let o = train_with(&["--cfe", "1e300"]);
    usage_error(&o, &["--cfe", "check the value"], &["1e300%", "1.000e298"]);
    // Within (1, 100] the percentage is still suggested.
    let o = train_with(&["--cfe", "40"]);
    usage_error(&o, &["40%", "0.4"], &[]);
}

#[test]
fn micro_and_milli_watt_hours_are_read() {
    for e in ["1uWh", "1µWh", "5mWh"] {
        let o = wattlens(&["estimate", "fleet", "--energy", e, "--hours", "1"]);
        assert!(o.status.success(), "{e}: {}", stderr(&o));
    }
    let o = wattlens(&["estimate", "fleet", "--energy", "1xWh", "--hours", "1"]);
    usage_error(&o, &["as an energy", "1uWh"], &["a energy"]);
}

#[test]
fn price_ranges_mixing_currencies_are_refused() {
    let o = wattlens(&[
        "estimate",
        "fleet",
        "--servers",
        "1",
        "--server",
        "hgx-a100",
        "--hours",
        "1",
        "--price",
        "0.1USD/kWh..0.2EUR/kWh",
    ]);
    usage_error(&o, &["--price", "USD", "EUR", "one currency"], &[]);
}

#[test]
fn a_range_with_one_implausible_end_gets_no_unit_suggestion() {
    let o = wattlens(&[
        "estimate",
        "fleet",
        "--servers",
        "1",
        "--server",
        "hgx-a100",
        "--hours",
        "1",
        "--intensity",
        "0.1..500",
    ]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("low end"), "{err}");
    assert!(!err.contains("0.1kg/kWh"), "{err}");
}

#[test]
fn restart_minutes_below_a_second_are_refused_zero_is_not() {
    let failures = ["--interruptions", "3", "--checkpoint-minutes", "1"];
    let mut a = failures.to_vec();
    a.extend(["--restart-minutes", "1e-300"]);
    usage_error(&train_with(&a), &["--restart-minutes", "1 s"], &[]);
    let mut a = failures.to_vec();
    a.extend(["--restart-minutes", "0"]);
    let o = train_with(&a);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn carbon_budgets_read_the_co2e_units_the_output_prints() {
    for m in ["500kgCO2e", "0.5tCO2e", "500000gCO2e"] {
        let o = train_with(&["--max-carbon", m]);
        // Exit 1: the budget is read, and exceeded.
        assert_eq!(o.status.code(), Some(1), "{m}: {}", stderr(&o));
        assert!(stderr(&o).contains("500 kgCO2e"), "{m}: {}", stderr(&o));
    }
}

#[test]
fn breakdown_not_summing_to_one_says_what_to_add() {
    let o = wattlens(&[
        "estimate",
        "datacenter",
        "--breakdown",
        "it=0.5,cooling=0.4",
        "--it-power",
        "1MW",
    ]);
    usage_error(&o, &["0.9", "other=0.1"], &[]);
}

#[test]
fn catalog_rows_a_unit_slip_would_give_warn_with_file_line_and_field() {
    let o = with_catalog(
        "[[grid]]\nkey = \"mine\"\nintensity_g_per_kwh = 0.05\n",
        &["--grid", "mine"],
    );
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("mine.toml, line 3") && err.contains("intensity_g_per_kwh"),
        "{err}"
    );
    for (row, field) in [
        (
            "[[datacenter]]\nname = \"d\"\npue_low = 5\npue_high = 6\n",
            "pue_low",
        ),
        (
            "[[accelerator]]\nname = \"a\"\nboard_power_w = 2\n",
            "board_power_w",
        ),
        (
            "[[server]]\nname = \"s\"\nmax_power_kw = 0.01\n",
            "max_power_kw",
        ),
        (
            "[[ewif]]\nkey = \"w\"\nl_per_kwh_low = 500\nl_per_kwh_high = 600\n",
            "l_per_kwh_low",
        ),
    ] {
        let o = with_catalog(row, &[]);
        let err = stderr(&o);
        assert!(o.status.success(), "{row}: {err}");
        assert!(
            err.contains("warning") && err.contains(field),
            "{row}: {err}"
        );
    }
}

#[test]
fn catalog_rows_that_would_give_wrong_numbers_are_refused_with_file_line_and_field() {
    for (row, needles) in [
        (
            "[[server]]\nname = \"tiny\"\naccelerator = \"H100 SXM5 80GB\"\naccelerators = 8\nmax_power_kw = 0.001\n",
            &["line 5", "max_power_kw", "5.6 kW"][..],
        ),
        (
            "[[default]]\nkey = \"infer.power_low\"\nlow = 1\nhigh = 1\n[[default]]\nkey = \"infer.power_high\"\nlow = 0.001\nhigh = 0.001\n",
            &["line 7", "infer.power_low", "infer.power_high"][..],
        ),
        (
            "[[grid]]\nkey = \"g\"\nintensity_g_per_kwh = 300\nscope = \"weird\"\n",
            &["line 4", "scope", "lifecycle, direct, unspecified"][..],
        ),
        (
            "[[model]]\nname = \"m\"\ntraining_accelerator = \"Nope GPU\"\n",
            &["line 3", "training_accelerator", "Nope GPU"][..],
        ),
        (
            "[[equivalent]]\nkey = \"bananas\"\nvalue = 3\n",
            &["line 2", "bananas", "us_home_kwh_per_year"][..],
        ),
    ] {
        let o = with_catalog(row, &[]);
        let mut all = vec!["mine.toml"];
        all.extend(needles);
        usage_error(&o, &all, &[]);
    }
}

#[test]
fn catalog_errors_print_numbers_short() {
    for row in [
        "[[default]]\nkey = \"train.mfu\"\nlow = 1e-300\nhigh = 0.5\n",
        "[[model]]\nname = \"x\"\nreported_training_energy_mwh = 1e300\n",
        "[[grid]]\nkey = \"g\"\nscope = 1e300\n",
        "[[grid]]\nkey = \"g\"\nintensity_g_per_kwh = 1e-300\nintensity_low = 0.5\nintensity_high = 1e300\n",
    ] {
        let o = with_catalog(row, &[]);
        usage_error(&o, &["mine.toml", "e"], &["00000000000"]);
    }
}

fn fleet_on(grid: &str) -> Output {
    wattlens(&[
        "estimate",
        "fleet",
        "--servers",
        "1",
        "--server",
        "hgx-a100",
        "--hours",
        "1",
        "--grid",
        grid,
    ])
}

#[test]
fn us_grids_in_no_single_state_say_the_us_average_price_is_used() {
    for g in [
        "us-egrid:RFCE",
        "us-egrid:NEWE",
        "aws:us-gov-west-1",
        "gcp:us-east7",
    ] {
        let o = fleet_on(g);
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(o.status.success(), "{g}: {}", stderr(&o));
        assert!(
            out.contains(&format!("note: no electricity price for --grid {g} itself"))
                && out.contains("United States"),
            "{g}: {out}"
        );
    }
    // A grid the table maps to its state, and the US itself, take their price without a note.
    for g in ["us-egrid:CAMX", "aws:us-east-1", "US", "us-egrid:US"] {
        let o = fleet_on(g);
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(o.status.success(), "{g}: {}", stderr(&o));
        assert!(!out.contains("no electricity price"), "{g}: {out}");
    }
}

#[test]
fn a_price_row_key_given_as_grid_names_the_grids_inside_it() {
    usage_error(
        &fleet_on("US-CA"),
        &["US-CA", "not a grid", "us-egrid:CAMX"],
        &[],
    );
    let o = wattlens(&["catalog", "list", "prices"]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success());
    assert!(
        out.lines()
            .next()
            .is_some_and(|l| l.contains("not a --grid value")),
        "{out}"
    );
}
