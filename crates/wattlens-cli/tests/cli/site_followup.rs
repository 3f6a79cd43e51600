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
    assert_eq!(quoted.stdout, bare.stdout);
}

#[test]
fn config_seed_not_whole_is_printed_short() {
    let o = with_config("seed = 1e300\n", &[]);
    usage_error(&o, &["seed", "1.000e300"], &["000000000000"]);
}
