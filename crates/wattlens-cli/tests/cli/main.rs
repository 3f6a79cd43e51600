//! The one integration-test binary: runs the real `wattlens` binary and checks exit codes,
//! JSON output and messages. Validation cases name the case from `seed-scenarios.toml`.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A fixture of the library crate (fake `/sys` and `/proc` trees, recorded traces).
fn lib_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../wattlens/tests/fixtures")
        .join(name)
}

fn wattlens(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wattlens"))
        .args(args)
        .env_remove("WATTLENS_CATALOG")
        .env_remove("WATTLENS_CONFIG")
        .output()
        .expect("runs wattlens")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs with `--json` appended and returns the object; fails on a non-zero exit.
fn json(args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.push("--json");
    let o = wattlens(&a);
    assert!(
        o.status.success(),
        "wattlens {args:?} failed: {}",
        stderr(&o)
    );
    serde_json::from_slice(&o.stdout).expect("valid JSON")
}

fn p50(v: &Value, key: &str) -> f64 {
    v[key]["p50"]
        .as_f64()
        .unwrap_or_else(|| panic!("no {key}.p50 in {v}"))
}

/// The `expect` ranges of a seed scenario.
fn expect(case: &str, key: &str) -> (f64, f64) {
    let text = std::fs::read_to_string(fixture("seed-scenarios.toml")).expect("seed file");
    let t: toml::Table = text.parse().expect("seed TOML");
    let r = t[case]["expect"][key]
        .as_array()
        .unwrap_or_else(|| panic!("{case}.expect.{key}"));
    (
        r[0].as_float().expect("low"),
        r[1].as_float().expect("high"),
    )
}

fn assert_in(case: &str, key: &str, got: f64) {
    let (lo, hi) = expect(case, key);
    assert!(
        (lo..=hi).contains(&got),
        "{case}: {key} = {got}, expected within [{lo}, {hi}]"
    );
}

/// Exit code 2, and stderr mentions every needle.
fn assert_usage_error(args: &[&str], needles: &[&str]) {
    let o = wattlens(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "wattlens {args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(
            err.contains(n),
            "wattlens {args:?}: stderr lacks {n:?}: {err}"
        );
    }
}

mod bad_input;
mod catalog;
mod catalog_input;
mod catalog_round2;
mod compare;
mod estimate_followup;
mod estimate_numbers;
mod estimate_round2;
mod infer;
mod output;
mod run;
mod run_process;
mod run_round2;
mod run_trace;
mod run_trace2;
mod seed;
mod series;
mod site_followup;
mod site_input;
