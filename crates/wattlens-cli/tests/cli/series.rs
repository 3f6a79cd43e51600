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
            && notes.contains("carbon uses --intensity, 400 g/kWh instead")
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
fn a_marginal_series_is_refused_for_footprints_and_a_named_column_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("m.csv");
    std::fs::write(
        &csv,
        "from,to,moer\n2024-03-04T00:00:00Z,2024-03-04T06:00:00Z,500\n",
    )
    .expect("write");
    let mut a = fleet("4", &["--series-column", "moer"]);
    let i = a.iter().position(|x| x == "--series").expect("series");
    a[i + 1] = csv.display().to_string();
    let v = json(&refs(&a));
    // 4 kWh x 500 g/kWh = 2 kg.
    assert!((v["operational_carbon_kgco2e"]["p50"].as_f64().expect("p50") - 2.0).abs() < 1e-9);
    assert!(
        v["intensity_scope"]
            .as_str()
            .is_some_and(|s| s.contains("(average signal)")),
        "{v}"
    );
    // A marginal signal answers another question: refused, pointing at the planner.
    a.extend(["--series-signal".to_string(), "marginal".to_string()]);
    assert_usage_error(
        &refs(&a),
        &[
            "--series-signal marginal",
            "not what share",
            "wattlens plan",
        ],
    );
    a.extend(["--cfe".to_string(), "0.5".to_string()]);
    assert_usage_error(&refs(&a), &["--series-signal marginal"]);
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
    c.env("WATTLENS_HISTORY", super::test_ledger());
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

/// `fleet` of [`fleet`] reading another series file.
fn fleet_on(file: &Path, hours: &str, extra: &[&str]) -> Vec<String> {
    let mut a = fleet(hours, extra);
    let i = a.iter().position(|x| x == "--series").expect("series");
    a[i + 1] = file.display().to_string();
    a
}

#[test]
fn a_device_that_never_ends_a_line_fails_fast() {
    let started = std::time::Instant::now();
    assert_usage_error(
        &refs(&fleet_on(Path::new("/dev/zero"), "4", &[])),
        &["--series", "/dev/zero: line 1 is longer than 64 KiB", "CSV"],
    );
    assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
    let dir = tempfile::tempdir().expect("tempdir");
    let nul = dir.path().join("nul.csv");
    std::fs::write(&nul, vec![0u8; 1 << 20]).expect("write");
    assert_usage_error(
        &refs(&fleet_on(&nul, "4", &[])),
        &["line 1 is longer than 64 KiB"],
    );
}

#[test]
fn a_directory_is_refused_as_not_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = wattlens(&refs(&fleet_on(dir.path(), "4", &[])));
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("it is a directory; give a CSV file") && !err.contains("one cell per"),
        "{err}"
    );
}

#[test]
fn a_huge_header_is_quoted_short() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("wide.csv");
    let header = (0..5000)
        .map(|i| format!("c{i}"))
        .collect::<Vec<_>>()
        .join(",");
    std::fs::write(&csv, format!("{header}\n")).expect("write");
    let o = wattlens(&refs(&fleet_on(&csv, "4", &[])));
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.len() < 600, "{} bytes: {err}", err.len());
    assert!(err.contains("…"), "{err}");
}

#[test]
fn an_absurd_series_value_names_the_series_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("big.csv");
    std::fs::write(
        &csv,
        "timestamp,g_per_kwh\n2024-03-04T00:00:00Z,1e60\n2024-03-04T01:00:00Z,1e60\n",
    )
    .expect("write");
    let o = wattlens(&refs(&fleet_on(&csv, "4", &[])));
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("--series")
            && err.contains("line 2, column 2 (g_per_kwh): `1e60` is above 100,000 g/kWh")
            && !err.contains("--it-power"),
        "{err}"
    );
}

#[test]
fn a_series_in_g_per_mwh_warns_of_the_unit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("mwh.csv");
    std::fs::write(
        &csv,
        "from,to,g_per_kwh\n2024-03-04T00:00:00Z,2024-03-04T06:00:00Z,90000\n",
    )
    .expect("write");
    let o = wattlens(&refs(&fleet_on(&csv, "4", &[])));
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("warning: --series")
            && err.contains("time-weighted mean, 90000 g/kWh")
            && err.contains("g/MWh"),
        "{err}"
    );
}

#[test]
fn a_user_intensity_with_a_series_needs_the_fallback() {
    assert_usage_error(
        &refs(&fleet("4", &["--intensity", "400g/kWh"])),
        &["--intensity and --series", "--series-fallback"],
    );
    // From the config file too.
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "[site]\nintensity = \"400\"\n").expect("write");
    let o = Command::new(env!("CARGO_BIN_EXE_wattlens"))
        .env("WATTLENS_HISTORY", super::test_ledger())
        .env_remove("WATTLENS_CATALOG")
        .env("WATTLENS_CONFIG", &cfg)
        .args(refs(&fleet("4", &["--json"])))
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--series-fallback"), "{}", stderr(&o));
    // With the fallback, a covered span uses the series.
    let v = json(&refs(&fleet(
        "4",
        &["--intensity", "400g/kWh", "--series-fallback"],
    )));
    assert_eq!(v["carbon_basis"], "series");
}

#[test]
fn csv_output_says_the_carbon_basis_and_scope() {
    let mut a = fleet("4", &[]);
    a.extend(["--format".to_string(), "csv".to_string()]);
    let o = wattlens(&refs(&a));
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(out.contains("\nbasis,series,,,,\n"), "{out}");
    assert!(
        out.contains("\nscope,\"series ") && out.contains("mean 200 g/kWh over"),
        "{out}"
    );
    let o = wattlens(&[
        "estimate",
        "fleet",
        "--servers",
        "1",
        "--server-power",
        "1kW",
        "--hours",
        "4",
        "--format",
        "csv",
    ]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(out.contains("\nbasis,annual,,,,\n"), "{out}");
}

#[test]
fn a_named_time_column_reads_the_energinet_file() {
    let dk = fixture("dk-energinet-2024-03-04.csv");
    let v = json(&refs(&fleet_on(
        &dk,
        "4",
        &[
            "--series-column",
            "dk1_gco2_per_kwh",
            "--series-time-column",
            "hour_start_utc",
        ],
    )));
    // (77.1 + 78.2 + 79.0 + 77.9) / 4 = 78.05 g/kWh x 4 kWh = 312.2 g.
    let c = v["operational_carbon_kgco2e"]["p50"].as_f64().expect("p50");
    assert!((c - 0.3122).abs() < 1e-9, "{c}");
    assert_eq!(v["carbon_basis"], "series");
    // Without it, the header has no time column.
    assert_usage_error(
        &refs(&fleet_on(
            &dk,
            "4",
            &["--series-column", "dk1_gco2_per_kwh"],
        )),
        &["has no time columns"],
    );
}

#[test]
fn a_range_of_durations_meets_the_hours_each_sample_covers() {
    // 1 kW from 00:00Z for h uniform in 2..4 h on 2 h at 100 g/kWh then 300: a sample of h
    // hours emits 200 + 300 x (h - 2) g, so P5/P50/P95 sit at h = 2.1, 3 and 3.9: 230, 500 and
    // 770 g. (Before issue 8 put time in the accounting, each sample drew its intensity apart
    // from its duration and the P95 came out near 676 g.)
    let v = json(&refs(&fleet("2..4", &["--samples", "20000"])));
    let scope = v["intensity_scope"].as_str().expect("scope");
    assert!(
        scope.contains("mean 100..200 g/kWh over spans of 2..4 h"),
        "{scope}"
    );
    let [p5, p50, p95] = all(&v, "operational_carbon_kgco2e");
    for (got, want) in [(p5, 0.23), (p50, 0.5), (p95, 0.77)] {
        assert!((got - want).abs() < 0.01 * want, "{got} kg against {want}");
    }
    assert_eq!(v["carbon_basis"], "series");
    assert!(v["notes"].to_string().contains("over its own span"), "{v}");
}

#[test]
fn a_live_run_whose_series_ends_keeps_its_measurement_and_exit_code() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("short.csv");
    let now = jiff::Timestamp::now().as_second();
    let at = |s: i64| jiff::Timestamp::from_second(s).expect("time");
    std::fs::write(
        &csv,
        format!(
            "from,to,g_per_kwh\n{},{},100\n",
            at(now - 3600),
            at(now + 2)
        ),
    )
    .expect("write");
    let out = dir.path().join("run.json");
    let o = Command::new(env!("CARGO_BIN_EXE_wattlens"))
        .env("WATTLENS_HISTORY", super::test_ledger())
        .env_remove("WATTLENS_CATALOG")
        .env_remove("WATTLENS_CONFIG")
        .arg("run")
        .arg("--sysfs-root")
        .arg(super::lib_fixture("sysfs-none"))
        .arg("--procfs-root")
        .arg(super::lib_fixture("procfs-4cpu"))
        .args(["--quiet", "--samples", "1", "--series"])
        .arg(&csv)
        .arg("--json")
        .arg(&out)
        .args(["--", "sh", "-c", "sleep 2.5; exit 3"])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("json")).expect("JSON");
    assert_eq!(v["carbon_basis"], "annual");
    let notes = v["notes"].to_string();
    assert!(
        notes.contains("does not cover") && notes.contains("its measurement is kept"),
        "{notes}"
    );
}

#[test]
fn a_marked_window_takes_the_series_over_its_own_span() {
    // trace-series.jsonl with two windows: `a` over 01:30..02:00Z (0.5 kWh of GPU at 100 g/kWh)
    // and `b` over 02:00..02:30Z (1.5 kWh at 300). Each window's carbon is its own facility
    // energy x its own span's intensity, not x the run's mean (250 g/kWh); together they make
    // the run's.
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture_text = std::fs::read_to_string(fixture("trace-series.jsonl")).expect("fixture");
    let mark = |t: f64, text: &str| {
        format!(
            "{{\"t\":{t:.1},\"source\":\"wattlens\",\"device\":\"marks\",\"kind\":\"mark\",\"text\":\"{text}\"}}\n"
        )
    };
    // Each mark after the readings of its poll, so times never decrease.
    let mut trace = String::new();
    for line in fixture_text.lines() {
        trace.push_str(line);
        trace.push('\n');
        if line.contains("\"nvml\"") {
            match line {
                l if l.contains("\"t\":0.0") => trace.push_str(&mark(0.0, "begin a")),
                l if l.contains("\"t\":1800.0") => {
                    trace.push_str(&mark(1800.0, "end a"));
                    trace.push_str(&mark(1800.0, "begin b"));
                }
                l if l.contains("\"t\":3600.0") => trace.push_str(&mark(3600.0, "end b")),
                _ => {}
            }
        }
    }
    let path = dir.path().join("marked.jsonl");
    std::fs::write(&path, trace).expect("write trace");
    let out = dir.path().join("run.json");
    let o = Command::new(env!("CARGO_BIN_EXE_wattlens"))
        .env("WATTLENS_HISTORY", super::test_ledger())
        .env_remove("WATTLENS_CATALOG")
        .env_remove("WATTLENS_CONFIG")
        .args(["run", "--quiet", "--samples", "1", "--pue", "1", "--replay"])
        .arg(&path)
        .arg("--json")
        .arg(&out)
        .arg("--series")
        .arg(series())
        .output()
        .expect("runs wattlens");
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("json")).expect("JSON");
    let windows = v["windows"].as_array().expect("windows");
    let fig = |name: &str, key: &str| {
        windows
            .iter()
            .find(|w| w["name"] == name)
            .and_then(|w| w[key]["p50"].as_f64())
            .expect("figure")
    };
    for (name, ci) in [("a", 0.1), ("b", 0.3)] {
        let (fac, op) = (
            fig(name, "facility_energy_kwh"),
            fig(name, "operational_carbon_kgco2e"),
        );
        assert!(fac > 0.0);
        assert!(
            (op - fac * ci).abs() < 1e-6 * op.max(1e-9),
            "{name}: {op} vs {fac} x {ci}"
        );
    }
    let total = fig("a", "operational_carbon_kgco2e") + fig("b", "operational_carbon_kgco2e");
    let run = v["operational_carbon_kgco2e"]["p50"].as_f64().expect("run");
    assert!((total - run).abs() < 1e-6 * run, "{total} vs {run}");
}
