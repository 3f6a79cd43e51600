//! `wattlens plan window` (issue 10, the window planner): the interface the project's checks
//! rely on (`wattlens.plan/v1`, `slots`, `carbon_kgco2e`, `baseline_carbon_kgco2e`,
//! `savings_fraction`, `signal`), a queue (`--jobs`), interruptible jobs, planning on a
//! forecast and scoring on the actual (`--evaluate-on`), and bad input (exit 2, naming the flag,
//! file or line).

use super::{assert_usage_error, json, lib_fixture, s, stdout, temp_file, wattlens, TempFile};
use serde_json::Value;

/// Hourly `timestamp,g_per_kwh` rows from 2024-03-04T00:00Z (the last holds for an hour).
fn hourly(values: &[u32]) -> TempFile {
    let mut text = String::from("timestamp,g_per_kwh\n");
    for (i, v) in values.iter().enumerate() {
        text.push_str(&format!("2024-03-04T{i:02}:00:00Z,{v}\n"));
    }
    temp_file("series.csv", &text)
}

fn p50(v: &Value, key: &str) -> f64 {
    v[key]["p50"].as_f64().unwrap_or(f64::NAN)
}

fn slots(v: &Value) -> Vec<(String, String)> {
    v["slots"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    (
                        s["start"].as_str().unwrap_or("").to_string(),
                        s["end"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9 * b.abs().max(1.0)
}

#[test]
fn a_two_hour_job_on_100_300_50_50_takes_the_last_two_hours() {
    let f = hourly(&[100, 300, 50, 50]);
    let v = json(&[
        "plan",
        "window",
        "--series",
        s(&f),
        "--duration",
        "2h",
        "--power",
        "10kW",
        "--pue",
        "1",
    ]);
    assert_eq!(v["schema"], "wattlens.plan/v1");
    assert_eq!(v["signal"], "average");
    assert_eq!(
        slots(&v),
        vec![(
            "2024-03-04T02:00:00Z".to_string(),
            "2024-03-04T04:00:00Z".to_string()
        )]
    );
    // 20 kWh x 50 g/kWh = 1 kg; at once (from the series' first timestamp) 10 kWh x 100 +
    // 10 kWh x 300 = 4 kg; 1 - 1/4 = 0.75.
    assert!(close(p50(&v, "carbon_kgco2e"), 1.0), "{v}");
    assert!(close(p50(&v, "baseline_carbon_kgco2e"), 4.0), "{v}");
    assert!(
        close(v["savings_fraction"].as_f64().unwrap_or(0.0), 0.75),
        "{v}"
    );
    for key in ["carbon_kgco2e", "baseline_carbon_kgco2e"] {
        for p in ["p5", "p50", "p95"] {
            assert!(v[key][p].is_f64(), "{key}.{p}: {v}");
        }
    }
    // From --start 01:00: at once is 10 x 300 + 10 x 50 = 3.5 kg.
    let v = json(&[
        "plan",
        "window",
        "--series",
        s(&f),
        "--duration",
        "2h",
        "--power",
        "10kW",
        "--pue",
        "1",
        "--start",
        "2024-03-04T01:00:00Z",
    ]);
    assert!(close(p50(&v, "baseline_carbon_kgco2e"), 3.5), "{v}");
    // A PUE range is a carbon range through the accounting core; the fraction stays.
    let v = json(&[
        "plan",
        "window",
        "--series",
        s(&f),
        "--duration",
        "2h",
        "--power",
        "10kW",
        "--pue",
        "1.1..1.5",
    ]);
    let c = &v["carbon_kgco2e"];
    assert!(c["p5"].as_f64() < c["p95"].as_f64(), "{v}");
    assert!(c["p5"].as_f64().unwrap_or(0.0) > 1.1 - 1e-9, "{v}");
    assert!(c["p95"].as_f64().unwrap_or(9.0) < 1.5 + 1e-9, "{v}");
    assert!(
        close(v["savings_fraction"].as_f64().unwrap_or(0.0), 0.75),
        "{v}"
    );
}

#[test]
fn the_table_shows_the_slots_carbon_and_saving() {
    let f = hourly(&[100, 300, 50, 50]);
    let out = stdout(&[
        "plan",
        "window",
        "--series",
        s(&f),
        "--duration",
        "2h",
        "--power",
        "10kW",
        "--pue",
        "1",
    ]);
    assert!(
        out.contains("2024-03-04T02:00:00Z..2024-03-04T04:00:00Z"),
        "{out}"
    );
    assert!(out.contains("1 kgCO2e at 50 g/kWh"), "{out}");
    assert!(out.contains("4 kgCO2e at 200 g/kWh"), "{out}");
    assert!(out.contains("saving") && out.contains("75%"), "{out}");
}

#[test]
fn the_table_charts_the_window_and_no_chart_or_json_leave_it_out() {
    // 100/300/50/50 on 50..300 g/kWh: (100-50)/250 x 7 = 1.4 -> ▂, 300 -> █, 50 -> ▁; the
    // baseline runs in hours 0-2, the schedule in 2-4.
    let f = hourly(&[100, 300, 50, 50]);
    let base = [
        "plan",
        "window",
        "--series",
        s(&f),
        "--duration",
        "2h",
        "--power",
        "10kW",
    ];
    let out = stdout(&base);
    assert!(
        out.contains("chart           ▂█▁▁  50..300 g/kWh\n"),
        "{out}"
    );
    assert!(
        out.contains("\n                --^^  ^ run in, - at once, * both\n"),
        "{out}"
    );
    assert!(
        out.contains("2024-03-04T00:00:00Z to 2024-03-04T04:00:00Z, 1h per column\n"),
        "{out}"
    );
    for flag in ["--no-chart", "--json"] {
        let out = stdout(&[&base[..], &[flag]].concat());
        assert!(
            !out.contains("▂█▁▁") && !out.contains("per column"),
            "{flag}: {out}"
        );
        assert!(out.contains("2024-03-04T02:00:00Z"), "{flag}: {out}");
    }
}

#[test]
fn a_queue_has_no_chart() {
    let f = hourly(&[100, 300, 50, 50]);
    let jobs = temp_file(
        "jobs.csv",
        "name,duration,power,earliest,deadline\nj,2h,10kW,,\n",
    );
    let out = stdout(&["plan", "window", "--series", s(&f), "--jobs", s(&jobs)]);
    assert!(
        out.contains("2024-03-04T02:00:00Z..2024-03-04T04:00:00Z"),
        "{out}"
    );
    assert!(!out.contains("chart") && !out.contains('▁'), "{out}");
}

#[test]
fn a_queue_of_jobs_in_file_order() {
    let f = hourly(&[100, 300, 50, 50, 400, 20]);
    let jobs = temp_file(
        "jobs.csv",
        "name,duration,power,earliest,deadline\n\
         late,1h,1kW,,\n\
         early,2h,2kW,2024-03-04T00:00:00Z,2024-03-04T04:00:00Z\n",
    );
    let v = json(&[
        "plan",
        "window",
        "--series",
        s(&f),
        "--jobs",
        s(&jobs),
        "--pue",
        "1",
    ]);
    assert_eq!(v["schema"], "wattlens.plan/v1");
    let jobs = v["jobs"].as_array().expect("jobs");
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0]["name"], "late");
    assert_eq!(jobs[1]["name"], "early");
    // late: the 20 g/kWh hour, 05:00; 1 kWh x 20 = 0.02 kg.
    assert_eq!(jobs[0]["slots"][0]["start"], "2024-03-04T05:00:00Z");
    assert!(close(p50(&jobs[0], "carbon_kgco2e"), 0.02), "{v}");
    // early: by 04:00, 02:00..04:00 at 50: 4 kWh x 50 = 0.2 kg; at once 2 x 100 + 2 x 300.
    assert_eq!(jobs[1]["slots"][0]["start"], "2024-03-04T02:00:00Z");
    assert!(close(p50(&jobs[1], "carbon_kgco2e"), 0.2), "{v}");
    assert!(close(p50(&jobs[1], "baseline_carbon_kgco2e"), 0.8), "{v}");
    assert!(jobs[1]["savings_fraction"].is_f64() && jobs[1]["signal"] == "average");
}

#[test]
fn an_interruptible_job_takes_the_cheapest_chunks_within_its_limits() {
    let f = hourly(&[10, 300, 20, 300, 30, 40]);
    let base = [
        "plan",
        "window",
        "--series",
        s(&f),
        "--duration",
        "3h",
        "--power",
        "1kW",
        "--pue",
        "1",
        "--interruptible",
        "--min-chunk",
        "1h",
    ];
    // One pause: 00:00..01:00 and 04:00..06:00, 10 + 30 + 40 = 80 g.
    let mut a = base.to_vec();
    a.extend(["--max-pauses", "1"]);
    let v = json(&a);
    assert_eq!(
        slots(&v),
        vec![
            ("2024-03-04T00:00:00Z".into(), "2024-03-04T01:00:00Z".into()),
            ("2024-03-04T04:00:00Z".into(), "2024-03-04T06:00:00Z".into()),
        ]
    );
    assert!(close(p50(&v, "carbon_kgco2e"), 0.08), "{v}");
    assert_eq!(v["interruptible"]["pauses"], 1);
    // No limit on pauses: 10 + 20 + 30 = 60 g.
    let v = json(&base);
    assert!(close(p50(&v, "carbon_kgco2e"), 0.06), "{v}");
    assert_eq!(slots(&v).len(), 3);
}

#[test]
fn planned_on_the_forecast_scored_on_the_actual() {
    // Forecast 100 300 50 50 picks 02:00..04:00; the actual 100 300 400 50 makes that 450 g
    // against 400 at once: a saving of -12.5%.
    let f = temp_file(
        "fa.csv",
        "from,to,forecast,actual\n\
         2024-03-04T00:00:00Z,2024-03-04T01:00:00Z,100,100\n\
         2024-03-04T01:00:00Z,2024-03-04T02:00:00Z,300,300\n\
         2024-03-04T02:00:00Z,2024-03-04T03:00:00Z,50,400\n\
         2024-03-04T03:00:00Z,2024-03-04T04:00:00Z,50,50\n",
    );
    let v = json(&[
        "plan",
        "window",
        "--series",
        s(&f),
        "--series-column",
        "forecast",
        "--duration",
        "2h",
        "--power",
        "1kW",
        "--pue",
        "1",
        "--evaluate-on",
        s(&f),
        "--evaluate-column",
        "actual",
    ]);
    assert!(
        close(v["savings_fraction"].as_f64().unwrap_or(0.0), 0.75),
        "{v}"
    );
    let r = &v["realised"];
    assert!(close(p50(r, "carbon_kgco2e"), 0.45), "{v}");
    assert!(close(p50(r, "baseline_carbon_kgco2e"), 0.4), "{v}");
    assert!(
        close(r["savings_fraction"].as_f64().unwrap_or(0.0), -0.125),
        "{v}"
    );
    // The real GB file (first 49 half-hours of 2023): forecast to plan, actual to score.
    let gb = lib_fixture("gb_neso_carbon_intensity_2023_first_50_lines.csv");
    let v = json(&[
        "plan",
        "window",
        "--series",
        s(&gb),
        "--series-column",
        "forecast",
        "--duration",
        "4h",
        "--power",
        "10kW",
        "--evaluate-on",
        s(&gb),
        "--evaluate-column",
        "actual",
    ]);
    assert!(v["realised"]["savings_fraction"].is_f64(), "{v}");
    assert!(v["savings_fraction"].as_f64().unwrap_or(-1.0) >= 0.0, "{v}");
    // A realised series that does not cover the schedule is named.
    let short = hourly(&[100, 300]);
    assert_usage_error(
        &[
            "plan",
            "window",
            "--series",
            s(&f),
            "--series-column",
            "forecast",
            "--duration",
            "2h",
            "--power",
            "1kW",
            "--evaluate-on",
            s(&short),
        ],
        &["--evaluate-on", "does not cover"],
    );
}

#[test]
fn bad_input_names_the_flag_file_or_line() {
    let f = hourly(&[100, 300, 50, 50]);
    let plan = |extra: &[&str]| {
        let mut a = vec!["plan", "window", "--series", s(&f)];
        a.extend_from_slice(extra);
        a.iter().map(ToString::to_string).collect::<Vec<_>>()
    };
    let check = |extra: &[&str], needles: &[&str]| {
        let a = plan(extra);
        assert_usage_error(&a.iter().map(String::as_str).collect::<Vec<_>>(), needles);
    };
    check(
        &["--duration", "5h", "--power", "1kW"],
        &["--duration", "longer than the series"],
    );
    check(
        &[
            "--duration",
            "1h",
            "--power",
            "1kW",
            "--start",
            "2024-03-04T02:00:00Z",
            "--deadline",
            "2024-03-04T01:00:00Z",
        ],
        &["--deadline", "before the start"],
    );
    check(
        &[
            "--duration",
            "1h",
            "--power",
            "1kW",
            "--start",
            "2024-03-05T00:00:00Z",
        ],
        &["--start", "outside the series"],
    );
    check(
        &[
            "--duration",
            "1h",
            "--power",
            "1kW",
            "--interruptible",
            "--min-chunk",
            "2h",
        ],
        &["--min-chunk", "no longer than"],
    );
    check(
        &["--duration", "1h", "--power", "0kW"],
        &["--power", "above zero"],
    );
    check(
        &["--duration", "0h", "--power", "1kW"],
        &["--duration", "positive"],
    );
    check(
        &["--duration=-1h", "--power", "1kW"],
        &["--duration", "non-negative"],
    );
    check(
        &["--duration", "1h", "--power", "1kW", "--start", "yesterday"],
        &["--start", "RFC 3339"],
    );
    let jobs = temp_file(
        "jobs.csv",
        "name,duration,power,earliest,deadline\nok,1h,1kW,,\nbad,1h,lots,,\n",
    );
    check(&["--jobs", s(&jobs)], &["jobs.csv", "line 3", "power"]);
    let late = temp_file(
        "jobs.csv",
        "name,duration,power,earliest,deadline\nlate,1h,1kW,2024-03-04T03:00:00Z,2024-03-04T02:00:00Z\n",
    );
    check(
        &["--jobs", s(&late)],
        &["line 2", "job late", "deadline", "before the start"],
    );
    let header = temp_file("jobs.csv", "name,hours,power\nx,1,1kW\n");
    check(
        &["--jobs", s(&header)],
        &["line 1", "name,duration,power,earliest,deadline"],
    );
    // A gap in the series under the baseline is an uncovered span, named.
    let gap = temp_file(
        "gap.csv",
        "from,to,g_per_kwh\n\
         2024-03-04T00:00:00Z,2024-03-04T01:00:00Z,100\n\
         2024-03-04T02:00:00Z,2024-03-04T04:00:00Z,50\n",
    );
    assert_usage_error(
        &[
            "plan",
            "window",
            "--series",
            s(&gap),
            "--duration",
            "2h",
            "--power",
            "1kW",
        ],
        &["does not cover 2024-03-04T01:00:00Z..2024-03-04T02:00:00Z"],
    );
    assert_usage_error(
        &["plan", "window", "--duration", "2h", "--power", "1kW"],
        &["--series"],
    );
}

#[test]
fn a_marginal_series_is_planned_and_named() {
    let f = hourly(&[100, 300, 50, 50]);
    let v = json(&[
        "plan",
        "window",
        "--series",
        s(&f),
        "--series-signal",
        "marginal",
        "--duration",
        "1h",
        "--power",
        "1kW",
    ]);
    assert_eq!(v["signal"], "marginal");
    let o = wattlens(&[
        "plan",
        "window",
        "--series",
        s(&f),
        "--series-signal",
        "marginal",
        "--duration",
        "1h",
        "--power",
        "1kW",
    ]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("marginal signal"));
}

#[test]
fn an_interruptible_job_may_pause_across_a_gap_in_the_series() {
    // Hourly 500, 500, 10, (no 03:00 row), 10, 500, 500: a 2 h interruptible job takes 02:00
    // and 04:00, 1 kW x 1 h x (10 + 10) g/kWh = 20 g, one pause over the gap (the baseline,
    // 00:00..02:00, 1 kg). It was refused: the profile's whole span had to be covered. Without
    // a limit, `max_pauses` is null.
    let f = temp_file(
        "gap.csv",
        "from,to,g_per_kwh\n\
         2024-03-04T00:00:00Z,2024-03-04T01:00:00Z,500\n\
         2024-03-04T01:00:00Z,2024-03-04T02:00:00Z,500\n\
         2024-03-04T02:00:00Z,2024-03-04T03:00:00Z,10\n\
         2024-03-04T04:00:00Z,2024-03-04T05:00:00Z,10\n\
         2024-03-04T05:00:00Z,2024-03-04T06:00:00Z,500\n\
         2024-03-04T06:00:00Z,2024-03-04T07:00:00Z,500\n",
    );
    let v = json(&[
        "plan",
        "window",
        "--series",
        s(&f),
        "--duration",
        "2h",
        "--power",
        "1kW",
        "--pue",
        "1",
        "--interruptible",
        "--deadline",
        "2024-03-04T07:00:00Z",
    ]);
    assert_eq!(
        slots(&v),
        [
            (
                "2024-03-04T02:00:00Z".to_string(),
                "2024-03-04T03:00:00Z".to_string()
            ),
            (
                "2024-03-04T04:00:00Z".to_string(),
                "2024-03-04T05:00:00Z".to_string()
            ),
        ]
    );
    assert!(close(p50(&v, "carbon_kgco2e"), 0.02), "{v}");
    assert!(close(p50(&v, "baseline_carbon_kgco2e"), 1.0), "{v}");
    assert!(v["interruptible"]["max_pauses"].is_null(), "{v}");
}

#[test]
fn a_series_in_kg_per_kwh_warns_of_the_unit() {
    // 0.1, 0.3, 0.05 "g/kWh": a file in kg/kWh, 1,000 times too low; planned, with the warning
    // an estimate gives for the same file.
    let f = temp_file(
        "kg.csv",
        "timestamp,g_per_kwh\n2024-03-04T00:00:00Z,0.1\n2024-03-04T01:00:00Z,0.3\n2024-03-04T02:00:00Z,0.05\n",
    );
    let o = wattlens(&[
        "plan",
        "window",
        "--series",
        s(&f),
        "--duration",
        "1h",
        "--power",
        "1kW",
    ]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("is the column in kg/kWh?"), "{err}");
}

#[test]
fn an_absurd_power_is_refused_not_planned() {
    // 1e300 W would print a carbon of 1e287 Mt with exit 0; a job's power has the limits of
    // an IT power, 1 mW to 100 GW.
    let f = hourly(&[100, 300, 50, 50]);
    assert_usage_error(
        &[
            "plan",
            "window",
            "--series",
            s(&f),
            "--duration",
            "2h",
            "--power",
            "1e300W",
        ],
        &["--power", "1 mW to 100 GW"],
    );
}
