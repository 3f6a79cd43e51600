//! Issue 10, items 1 and 2: `--series` reads the providers' JSON (format detected, or given
//! with `--series-format`) and the shipped real series (`gb-2023`, `dk1-2024`, ...); bad
//! documents exit 2 naming the file and the record.

use super::{assert_usage_error, json, lib_fixture, stderr, temp_file, wattlens};
use serde_json::Value;

/// 1 server at 1 kW, load 1, PUE 1, for `hours` from `start`, on `series`.
fn fleet(series: &str, start: &str, hours: &str, extra: &[&str]) -> Vec<String> {
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
        start,
        "--series",
        series,
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    a.extend(extra.iter().map(ToString::to_string));
    a
}

fn refs(a: &[String]) -> Vec<&str> {
    a.iter().map(String::as_str).collect()
}

fn kg(v: &Value) -> f64 {
    v["operational_carbon_kgco2e"]["p50"]
        .as_f64()
        .unwrap_or(f64::NAN)
}

const JAN1: &str = "2023-01-01T00:00:00Z";

#[test]
fn issue_10_gb_2023_is_shipped_with_its_attribution() {
    // 1 kWh over 2023-01-01 00:00..01:00Z: forecast 0.5 x 73 + 0.5 x 63 = 68 g.
    let v = json(&refs(&fleet("gb-2023", JAN1, "1", &[])));
    assert!((kg(&v) - 0.068).abs() < 1e-12, "{v}");
    assert_eq!(v["carbon_basis"], "series");
    let scope = v["intensity_scope"].as_str().unwrap_or_default();
    assert!(
        scope.starts_with(
            "series gb-2023 (column forecast; NESO Carbon Intensity API, carbonintensity.org.uk, \
             CC BY 4.0) (average signal), mean 68 g/kWh"
        ),
        "{scope}"
    );
    // The actual column: 0.5 x 72 + 0.5 x 80 = 76 g.
    let v = json(&refs(&fleet(
        "gb-2023",
        JAN1,
        "1",
        &["--series-column", "actual"],
    )));
    assert!((kg(&v) - 0.076).abs() < 1e-12, "{v}");
    // DK1 2024's first hour, 172.0 g/kWh; DK2's 171.4.
    let v = json(&refs(&fleet("dk1-2024", "2024-01-01T00:00:00Z", "1", &[])));
    assert!((kg(&v) - 0.172).abs() < 1e-12, "{v}");
    assert!(v["intensity_scope"]
        .as_str()
        .unwrap_or_default()
        .contains("Source: Energinet"));
    let v = json(&refs(&fleet("dk2-2024", "2024-01-01T00:00:00Z", "1", &[])));
    assert!((kg(&v) - 0.1714).abs() < 1e-12, "{v}");
}

#[test]
fn a_name_that_is_neither_a_file_nor_shipped_lists_the_shipped_names() {
    assert_usage_error(
        &refs(&fleet("gb-2022", JAN1, "1", &[])),
        &[
            "cannot read intensity series gb-2022",
            "nor is `gb-2022` a shipped series: gb-2023, dk1-2024, dk2-2024",
        ],
    );
    assert_usage_error(
        &refs(&fleet("gb-2023", JAN1, "1", &["--series-column", "index"])),
        &["gb-2023: no column `index` in the shipped series; choose one of: forecast, actual"],
    );
}

#[test]
fn a_provider_json_is_read_detected_or_given() {
    let gb = lib_fixture("gb_carbon_intensity_national_2023-01-01.json");
    let gb = gb.to_str().expect("utf-8");
    let shipped = kg(&json(&refs(&fleet("gb-2023", JAN1, "3", &[]))));
    // The JSON holds the same six half-hours as the shipped file: the same carbon.
    let detected = json(&refs(&fleet(gb, JAN1, "3", &[])));
    assert!((kg(&detected) - shipped).abs() < 1e-12, "{detected}");
    // (73 + 63 + 71 + 76 + 72 + 66) x 0.5 = 210.5 g.
    assert!((shipped - 0.2105).abs() < 1e-12, "{shipped}");
    let given = json(&refs(&fleet(gb, JAN1, "3", &["--series-format", "gb"])));
    assert!((kg(&given) - shipped).abs() < 1e-12);
    assert!(detected["intensity_scope"]
        .as_str()
        .unwrap_or_default()
        .contains("(GB Carbon Intensity API, national, forecast)"));
    // Given as another provider's: its missing parts are named.
    assert_usage_error(
        &refs(&fleet(gb, JAN1, "3", &["--series-format", "watttime"])),
        &[
            "a watttime document needs its `meta` object",
            "the formats read are csv",
        ],
    );
    assert_usage_error(
        &refs(&fleet(gb, JAN1, "3", &["--series-format", "xml"])),
        &["invalid value for --series-format: `xml`; give one of csv, electricitymaps, gb, watttime, energinet"],
    );
    // Energinet, newest first with both price areas: DK1 03:50..04:10Z, 78, 77, 78, 77
    // (5 min each): (78 + 77 + 78 + 77) / 4 = 77.5 g/kWh x 1 kW x 20 min = 25.8333 g.
    let dk = lib_fixture("energinet_co2emisprog_dk_5min.json");
    let dk = dk.to_str().expect("utf-8");
    let v = json(&refs(&fleet(
        dk,
        "2024-03-04T03:50:00Z",
        "20min",
        &["--series-column", "DK1"],
    )));
    assert!((kg(&v) - 77.5 / 3.0 / 1000.0).abs() < 1e-8, "{v}");
    assert_usage_error(
        &refs(&fleet(dk, "2024-03-04T03:50:00Z", "20min", &[])),
        &["2 price areas; name one; choose one of: DK1, DK2"],
    );
}

#[test]
fn a_watttime_moer_is_refused_for_a_footprint_and_planned_on() {
    let wt = lib_fixture("watttime_historical_caiso_north.json");
    let wt = wt.to_str().expect("utf-8");
    assert_usage_error(
        &refs(&fleet(wt, "2024-03-04T00:00:00Z", "10min", &[])),
        &["(WattTime CAISO_NORTH co2_moer, lb/MWh x 0.45359237) is a marginal signal"],
    );
    let v = json(&[
        "plan",
        "window",
        "--series",
        wt,
        "--duration",
        "5min",
        "--power",
        "12kW",
        "--pue",
        "1",
        "--deadline",
        "2024-03-04T00:10:00Z",
    ]);
    assert_eq!(v["signal"], "marginal", "{v}");
    // The cleaner slot is 00:05 at 900 lb/MWh x 0.45359237 = 408.233 g/kWh; 1 kWh -> 0.408 kg.
    let c = v["carbon_kgco2e"]["p50"].as_f64().expect("p50");
    assert!((c - 0.408_233_133).abs() < 1e-9, "{v}");
}

#[test]
fn bad_documents_exit_2_naming_the_file_and_record() {
    let em = |a: &str, b: &str| {
        format!(
            "{{\"zone\":\"DE\",\"history\":[{{\"datetime\":\"{a}\",\"carbonIntensity\":100}},\
             {{\"datetime\":\"{b}\",\"carbonIntensity\":200}}]}}"
        )
    };
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            em("2024-03-04T01:00:00Z", "2024-03-04T00:00:00Z"),
            vec!["record history[1]: the time 2024-03-04T00:00:00Z is earlier than record history[0]"],
        ),
        (
            em("2024-03-04T01:00:00Z", "2024-03-04T01:00:00Z"),
            vec!["record history[1]: the time 2024-03-04T01:00:00Z repeats record history[0]"],
        ),
        (
            em("2024-03-04T00:00:00Z", "2024-03-04T02:00:00+01:00"),
            vec!["record history[1]", "has the offset +01:00, but record history[0] has +00:00"],
        ),
        (
            em("2024-03-04T00:00:00Z", "2024-03-04T01:00:00Z").replace("200", "-5"),
            vec!["record history[1]: `carbonIntensity` -5 is negative"],
        ),
        (
            em("2024-03-04T00:00:00Z", "2024-03-04T01:00:00Z").replace("200", "\"high\""),
            vec!["record history[1]: `carbonIntensity` is \"high\", not a number"],
        ),
        (
            "{\"rows\": []}".into(),
            vec!["a JSON document of no known shape (an object with keys rows)", "watttime"],
        ),
        (String::new(), vec!["the file is empty (or only blank)"]),
    ];
    for (text, needles) in cases {
        let f = temp_file("doc.json", &text);
        let path = f.path.display().to_string();
        let mut all = needles.clone();
        all.push(&path);
        assert_usage_error(&refs(&fleet(&path, "2024-03-04T00:00:00Z", "1", &[])), &all);
    }
    // An empty CSV says so too (it said "the header `` has no time columns" before).
    let f = temp_file("empty.csv", "");
    let o = wattlens(&refs(&fleet(&f.path.display().to_string(), JAN1, "1", &[])));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("empty.csv: the file is empty"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_plan_on_the_gb_forecast_is_scored_on_its_actual() {
    let v = json(&[
        "plan",
        "window",
        "--series",
        "gb-2023",
        "--duration",
        "2h",
        "--power",
        "10kW",
        "--pue",
        "1",
        "--start",
        JAN1,
        "--deadline",
        "2023-01-02T00:00:00Z",
        "--evaluate-on",
        "gb-2023",
        "--evaluate-column",
        "actual",
    ]);
    // Starting at once, 00:00..02:00Z: forecast (73 + 63 + 71 + 76) / 4 = 70.75 g/kWh x 20 kWh
    // = 1.415 kg; on the actual (72 + 80 + 72 + 65) / 4 = 72.25 -> 1.445 kg.
    let p50 = |k: &str| v[k]["p50"].as_f64().unwrap_or(f64::NAN);
    assert!((p50("baseline_carbon_kgco2e") - 1.415).abs() < 1e-9, "{v}");
    let real = v["realised"]["baseline_carbon_kgco2e"]["p50"].as_f64();
    assert!((real.unwrap_or(f64::NAN) - 1.445).abs() < 1e-9, "{v}");
    assert!(v["realised"]["series"]
        .as_str()
        .unwrap_or_default()
        .starts_with("gb-2023 (column actual; NESO"));
}

#[test]
fn an_energinet_csv_download_needs_its_format_named() {
    let dk = lib_fixture("energinet_co2emisprog_dk_5min.csv");
    let dk = dk.to_str().expect("utf-8");
    let start = "2024-03-04T03:50:00Z";
    // DK2 03:50..04:10Z: 59, 59, 59, 58 (5 min each) = 58.75 g/kWh x 1/3 kWh = 19.583 g.
    let v = json(&refs(&fleet(
        dk,
        start,
        "20min",
        &["--series-format", "energinet", "--series-column", "dk2"],
    )));
    assert!((kg(&v) - 58.75 / 3.0 / 1000.0).abs() < 1e-8, "{v}");
    // Detected, it is a CSV without a `timestamp` column.
    assert_usage_error(
        &refs(&fleet(dk, start, "20min", &["--series-column", "dk2"])),
        &["has no time columns"],
    );
}
