//! `wattlens plan window --profile run.json` (issue 10, item 3): a recorded run's power
//! profile planned as the job, its numbers by hand, and bad input (exit 2, naming the flag and
//! the file).

use super::{assert_usage_error, json, s, temp_file, TempFile};
use serde_json::Value;

/// Hourly `timestamp,g_per_kwh` rows from 2024-03-04T00:00Z (the last holds for an hour).
fn hourly(values: &[u32]) -> TempFile {
    let mut text = String::from("timestamp,g_per_kwh\n");
    for (i, v) in values.iter().enumerate() {
        text.push_str(&format!("2024-03-04T{i:02}:00:00Z,{v}\n"));
    }
    temp_file("series.csv", &text)
}

/// A `wattlens.footprint/v1` report of `kind` with `profile` bins `(start_s, end_s, kWh)` and
/// IT energy `(p5, p50, p95)`, as `wattlens run --json` writes them.
fn report(kind: &str, profile: &[(f64, f64, f64)], it: (f64, f64, f64)) -> TempFile {
    let bins: Vec<Value> = profile
        .iter()
        .map(|&(a, b, e)| serde_json::json!({"start_s": a, "end_s": b, "energy_kwh": e}))
        .collect();
    let v = serde_json::json!({
        "schema": "wattlens.footprint/v1",
        "kind": kind,
        "method": "measured",
        "it_energy_kwh": {"p5": it.0, "p50": it.1, "p95": it.2},
        "duration_s": profile.last().map_or(0.0, |b| b.1),
        "profile": bins,
    });
    temp_file("run.json", &v.to_string())
}

fn p50(v: &Value, key: &str) -> f64 {
    v[key]["p50"].as_f64().unwrap_or(f64::NAN)
}

#[test]
fn a_recorded_peak_is_placed_on_the_cleanest_hour() {
    // Bins 1 kWh over the first hour, 3 kWh over the second, scaled to the run's IT energy of
    // 8 kWh (x2: 2 and 6 kWh). On 100 300 50 400 100 at PUE 1 (g of IT energy):
    // start 00: 2 x 100 + 6 x 300 = 2000; 01: 2 x 300 + 6 x 50 = 900; 02: 100 + 2400 = 2500;
    // 03: 800 + 600 = 1400. Best 01:00: 0.9 kg at 900 / 8 = 112.5 g/kWh; at once 2 kg at 250;
    // saving 1.1 kg, 1 - 112.5 / 250 = 0.55.
    let f = hourly(&[100, 300, 50, 400, 100]);
    let r = report(
        "run",
        &[(0.0, 3600.0, 1.0), (3600.0, 7200.0, 3.0)],
        (8.0, 8.0, 8.0),
    );
    let v = json(&[
        "plan",
        "window",
        "--series",
        s(&f),
        "--profile",
        s(&r),
        "--pue",
        "1",
    ]);
    assert_eq!(v["schema"], "wattlens.plan/v1");
    assert_eq!(v["slots"][0]["start"], "2024-03-04T01:00:00Z");
    assert_eq!(v["slots"][0]["end"], "2024-03-04T03:00:00Z");
    assert_eq!(v["baseline_slots"][0]["start"], "2024-03-04T00:00:00Z");
    assert!((p50(&v, "carbon_kgco2e") - 0.9).abs() < 1e-9, "{v}");
    assert!((p50(&v, "baseline_carbon_kgco2e") - 2.0).abs() < 1e-9);
    assert!((p50(&v, "savings_kgco2e") - 1.1).abs() < 1e-9);
    assert!((v["savings_fraction"].as_f64().unwrap_or(0.0) - 0.55).abs() < 1e-12);
    assert!((v["duration_h"].as_f64().unwrap_or(0.0) - 2.0).abs() < 1e-12);
    // Mean IT power: 8 kWh over 2 h.
    assert!((p50(&v, "power_kw") - 4.0).abs() < 1e-9);
    assert_eq!(v["profile"]["bins"], 2);
    assert!(v["profile"]["source"]
        .as_str()
        .unwrap_or("")
        .ends_with("run.json"));
    assert!((v["profile"]["it_energy_kwh"]["p50"].as_f64().unwrap_or(0.0) - 8.0).abs() < 1e-12);
    // From 02:00 with a deadline at 05:00: 02 (2500) or 03 (1400): 03:00, 1.4 kg.
    let v = json(&[
        "plan",
        "window",
        "--series",
        s(&f),
        "--profile",
        s(&r),
        "--pue",
        "1",
        "--start",
        "2024-03-04T02:00:00Z",
        "--deadline",
        "2024-03-04T05:00:00Z",
    ]);
    assert_eq!(v["slots"][0]["start"], "2024-03-04T03:00:00Z");
    assert!((p50(&v, "carbon_kgco2e") - 1.4).abs() < 1e-9);
}

#[test]
fn a_flat_profile_plans_as_the_same_constant_power_job() {
    let f = hourly(&[200, 120, 80, 90, 300, 60]);
    let r = report(
        "run",
        &[
            (0.0, 1800.0, 3.0),
            (1800.0, 3600.0, 3.0),
            (3600.0, 5400.0, 3.0),
            (5400.0, 7200.0, 3.0),
        ],
        (12.0, 12.0, 12.0),
    );
    let a = json(&[
        "plan",
        "window",
        "--series",
        s(&f),
        "--profile",
        s(&r),
        "--pue",
        "1.2",
    ]);
    let b = json(&[
        "plan",
        "window",
        "--series",
        s(&f),
        "--duration",
        "2h",
        "--power",
        "6kW",
        "--pue",
        "1.2",
    ]);
    for key in ["slots", "baseline_slots"] {
        assert_eq!(a[key], b[key], "{key}");
    }
    for key in [
        "carbon_kgco2e",
        "baseline_carbon_kgco2e",
        "savings_kgco2e",
        "power_kw",
    ] {
        assert!((p50(&a, key) - p50(&b, key)).abs() < 1e-9, "{key}: {a} {b}");
    }
}

#[test]
fn bad_profiles_and_flags_are_refused_naming_them() {
    let f = hourly(&[100, 300, 50, 400]);
    let ok = report("run", &[(0.0, 3600.0, 1.0)], (1.0, 1.0, 1.0));
    let plan = |extra: &[&str]| {
        let mut a = vec!["plan", "window", "--series", s(&f)];
        a.extend_from_slice(extra);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let check = |extra: &[&str], needles: &[&str]| {
        let args = plan(extra);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_usage_error(&refs, needles);
    };
    // An estimate's JSON, not a run's.
    let est = report("fleet", &[], (1.0, 1.0, 1.0));
    check(
        &["--profile", s(&est)],
        &["--profile", "estimate fleet", "wattlens run"],
    );
    // Not a footprint at all.
    let junk = temp_file("run.json", "{\"schema\": \"wattlens.plan/v1\"}");
    check(
        &["--profile", s(&junk)],
        &["--profile", "run.json", "not the JSON of"],
    );
    // A run without a profile.
    let empty = report("run", &[], (1.0, 1.0, 1.0));
    check(
        &["--profile", s(&empty)],
        &["--profile", "no power profile"],
    );
    // Longer than the window to the deadline (5 h on a 4 h series, then 1 h by 00:30).
    let long = report("run", &[(0.0, 18000.0, 1.0)], (1.0, 1.0, 1.0));
    check(&["--profile", s(&long)], &["lasts 5h", "longer than"]);
    check(
        &["--profile", s(&ok), "--deadline", "2024-03-04T00:30:00Z"],
        &["lasts 1h", "deadline"],
    );
    // With --power or --duration, or --interruptible.
    check(
        &["--profile", s(&ok), "--power", "1kW"],
        &["--profile", "--power"],
    );
    check(
        &["--profile", s(&ok), "--duration", "1h"],
        &["--profile", "--duration"],
    );
    check(
        &["--profile", s(&ok), "--interruptible"],
        &["--interruptible", "--profile", "pause"],
    );
}

#[test]
fn scored_on_the_actual_the_profile_keeps_its_shape() {
    // Planned on 100 300 50 400 100 (01:00, as above); realised 100 100 400 50 100: from 01:00
    // 2 x 100 + 6 x 400 = 2.6 kg, from 00:00 2 x 100 + 6 x 100 = 0.8 kg: 1 - 2.6/0.8 = -2.25.
    let f = hourly(&[100, 300, 50, 400, 100]);
    let actual = temp_file(
        "actual.csv",
        "timestamp,g_per_kwh\n2024-03-04T00:00:00Z,100\n2024-03-04T01:00:00Z,100\n\
         2024-03-04T02:00:00Z,400\n2024-03-04T03:00:00Z,50\n2024-03-04T04:00:00Z,100\n",
    );
    let r = report(
        "run",
        &[(0.0, 3600.0, 1.0), (3600.0, 7200.0, 3.0)],
        (8.0, 8.0, 8.0),
    );
    let v = json(&[
        "plan",
        "window",
        "--series",
        s(&f),
        "--profile",
        s(&r),
        "--pue",
        "1",
        "--evaluate-on",
        s(&actual),
    ]);
    let re = &v["realised"];
    assert!(
        (re["savings_fraction"].as_f64().unwrap_or(0.0) + 2.25).abs() < 1e-12,
        "{v}"
    );
    assert!((p50(re, "carbon_kgco2e") - 2.6).abs() < 1e-9);
    assert!((p50(re, "baseline_carbon_kgco2e") - 0.8).abs() < 1e-9);
}
