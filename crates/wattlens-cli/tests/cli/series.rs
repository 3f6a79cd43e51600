//! `--series FILE` (issue 8, part 3): carbon against an intensity series over the work's own
//! span, for every estimate (`--start`) and for a replayed run (the trace's start and profile);
//! the basis said in every output; uncovered spans and bad files as errors, or the annual
//! figure with `--series-fallback`.

use super::{assert_usage_error, fixture, json, stderr, wattlens};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// 2024-03-04: 00:00..02:00Z at 100 g/kWh, 02:00..04:00Z at 300 (one row written +01:00).
fn series() -> String {
    fixture("series-2024-03-04.csv").display().to_string()
}

const START: &str = "2024-03-04T00:00:00Z";

/// The issue's fleet: 1 server at 1 kW, load 1, PUE 1, for `hours` from [`START`].
fn fleet(hours: &str, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        "estimate",
        "fleet",
        "--servers",
        "1",
        "--server-power",
        "1kW",
        "--load",
        "1",
        "--pue",
        "1",
        "--hours",
        hours,
        "--start",
        START,
        "--series",
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    a.push(series());
    a.extend(extra.iter().map(ToString::to_string));
    a
}

fn refs(a: &[String]) -> Vec<&str> {
    a.iter().map(String::as_str).collect()
}

fn all(v: &Value, key: &str) -> [f64; 3] {
    ["p5", "p50", "p95"].map(|p| v[key][p].as_f64().unwrap_or(f64::NAN))
}

#[test]
fn issue_8_a_fleet_over_two_intensities_gives_0_8_kg() {
    let v = json(&refs(&fleet("4", &[])));
    // 1 kW x 4 h = 4 kWh: 2 kWh x 100 + 2 kWh x 300 = 800 g = 0.8 kgCO2e, in every sample.
    for x in all(&v, "operational_carbon_kgco2e") {
        assert!((x - 0.8).abs() < 1e-9, "{v}");
    }
    assert_eq!(v["carbon_basis"], "series");
    let scope = v["intensity_scope"].as_str().expect("scope");
    assert!(scope.starts_with("series "), "{scope}");
    assert!(
        scope.contains(
            "(average signal), mean 200 g/kWh over 2024-03-04T00:00:00Z..2024-03-04T04:00:00Z"
        ),
        "{scope}"
    );
    // The step that made the intensity comes before the carbon it feeds.
    let steps: Vec<&str> = v["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    let at = |n: &str| steps.iter().position(|s| *s == n);
    assert!(at("series_intensity") < at("operational_carbon") && at("series_intensity").is_some());
    // The terminal table's scope line and --explain say it too.
    let o = wattlens(&refs(&fleet("4", &["--explain"])));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        out.contains("carbon intensity scope: series ") && out.contains("mean 200 g/kWh"),
        "{out}"
    );
    assert!(
        out.contains("series_intensity: CI_location = sum E_i x CI_i / sum E_i"),
        "{out}"
    );
}

#[test]
fn an_uncovered_span_exits_2_naming_the_gap_and_the_fallback_flag() {
    // 5 h from 00:00Z: the series ends at 04:00Z.
    assert_usage_error(
        &refs(&fleet("5", &[])),
        &[
            "does not cover 2024-03-04T04:00:00Z..2024-03-04T05:00:00Z",
            "--series-fallback",
        ],
    );
    // An estimate placed in time needs --start; --start alone means nothing.
    let mut no_start = fleet("4", &[]);
    let i = no_start.iter().position(|a| a == "--start").expect("start");
    no_start.drain(i..=i + 1);
    assert_usage_error(&refs(&no_start), &["--series needs --start"]);
    assert_usage_error(
        &["estimate", "fleet", "--servers", "1", "--start", START],
        &["--series"],
    );
    let mut bad = fleet("4", &[]);
    bad[i + 1] = "2024-03-04 00:00".into();
    assert_usage_error(&refs(&bad), &["--start", "RFC 3339"]);
}

#[test]
fn with_the_fallback_the_annual_figure_is_used_and_said() {
    let v = json(&refs(&fleet(
        "5",
        &["--series-fallback", "--intensity", "400g/kWh"],
    )));
    // 5 kWh x 400 g/kWh = 2 kg, the annual figure.
    assert!((v["operational_carbon_kgco2e"]["p50"].as_f64().expect("p50") - 2.0).abs() < 1e-9);
    assert_eq!(v["carbon_basis"], "annual");
    let notes = v["notes"].to_string();
    assert!(
        notes.contains("does not cover 2024-03-04T04:00:00Z..2024-03-04T05:00:00Z")
            && notes.contains("annual intensity")
            && notes.contains("--series-fallback"),
        "{notes}"
    );
}

#[test]
fn without_series_the_basis_is_annual() {
    let v = json(&[
        "estimate",
        "fleet",
        "--servers",
        "1",
        "--server-power",
        "1kW",
        "--hours",
        "4",
    ]);
    assert_eq!(v["carbon_basis"], "annual");
}

#[test]
fn a_marginal_series_is_named_as_such_and_a_named_column_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("m.csv");
    std::fs::write(
        &csv,
        "from,to,moer\n2024-03-04T00:00:00Z,2024-03-04T06:00:00Z,500\n",
    )
    .expect("write");
    let mut a = fleet(
        "4",
        &["--series-column", "moer", "--series-signal", "marginal"],
    );
    let i = a.iter().position(|x| x == "--series").expect("series");
    a[i + 1] = csv.display().to_string();
    let v = json(&refs(&a));
    // 4 kWh x 500 g/kWh = 2 kg.
    assert!((v["operational_carbon_kgco2e"]["p50"].as_f64().expect("p50") - 2.0).abs() < 1e-9);
    assert!(
        v["intensity_scope"]
            .as_str()
            .is_some_and(|s| s.contains("(marginal signal)")),
        "{v}"
    );
    assert!(
        v.to_string().contains("not an average"),
        "the source says a marginal intensity is not an average: {v}"
    );
}

#[test]
fn a_bad_series_file_names_file_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("bad.csv");
    std::fs::write(
        &csv,
        "timestamp,g_per_kwh\n2024-03-04T00:00:00Z,100\n2024-03-04T01:00:00Z,abc\n",
    )
    .expect("write");
    let mut a = fleet("4", &[]);
    let i = a.iter().position(|x| x == "--series").expect("series");
    a[i + 1] = csv.display().to_string();
    assert_usage_error(
        &refs(&a),
        &[
            "--series",
            &csv.display().to_string(),
            "line 3, column 2",
            "not a number",
        ],
    );
}

/// `run --replay` of `trace-series.jsonl` with `--pue 1` and the series, JSON to a file.
fn replay(dir: &Path, with_series: bool) -> Value {
    let out = dir.join("run.json");
    let mut c = Command::new(env!("CARGO_BIN_EXE_wattlens"));
    c.env_remove("WATTLENS_CATALOG")
        .env_remove("WATTLENS_CONFIG")
        .args(["run", "--quiet", "--samples", "1", "--pue", "1", "--replay"])
        .arg(fixture("trace-series.jsonl"))
        .arg("--json")
        .arg(&out);
    if with_series {
        c.arg("--series").arg(series());
    }
    let o = c.output().expect("runs wattlens");
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_str(&std::fs::read_to_string(&out).expect("json")).expect("JSON")
}

#[test]
fn a_replay_integrates_the_traces_own_profile() {
    let dir = tempfile::tempdir().expect("tempdir");
    let v = replay(dir.path(), true);
    // The trace starts at 01:30Z; its GPU counter charges 1.8 MJ = 0.5 kWh over 01:30..02:00Z
    // (100 g/kWh) and 5.4 MJ = 1.5 kWh over 02:00..02:30Z (300 g/kWh):
    // (0.5 x 100 + 1.5 x 300) / 2 = 250 g/kWh (energy-weighted; the time-weighted mean is 200).
    let scope = v["intensity_scope"].as_str().expect("scope");
    assert!(
        scope.contains("mean 250 g/kWh over 2024-03-04T01:30:00Z..2024-03-04T02:30:00Z"),
        "{scope}"
    );
    assert_eq!(v["carbon_basis"], "series");
    let gpu = v["components"]
        .as_array()
        .expect("components")
        .iter()
        .find(|c| c["name"] == "GPUs")
        .map(|c| c["energy_kwh"]["p50"].as_f64().expect("p50"));
    assert!(gpu.is_some_and(|e| (e - 2.0).abs() < 1e-12), "{v}");
    // Every part of the IT energy (the rest of the server is a share of the GPUs) has that
    // shape: operational carbon = facility energy x 0.25 kg/kWh.
    let fac = v["facility_energy_kwh"]["p50"].as_f64().expect("fac");
    let op = v["operational_carbon_kgco2e"]["p50"].as_f64().expect("op");
    assert!((op - fac * 0.25).abs() < 1e-9, "{op} vs {fac}");
    assert!(fac > 2.0, "the rest of the server adds to the GPUs: {fac}");
    // Without --series, the same replay is on the annual basis.
    assert_eq!(replay(dir.path(), false)["carbon_basis"], "annual");
}
