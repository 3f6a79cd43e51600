//! `--vary` fixes: the CSV names and filters figures as the estimate's own CSV does (currency in
//! the cost's name, no `eq.us_homes` for one request, `basis` and `scope` rows), and values that
//! hold commas (`breakdown`) are one value, several separated by `;`.

use super::*;

fn out(args: &[&str]) -> String {
    let o = wattlens(args);
    assert!(o.status.success(), "wattlens {args:?}: {}", stderr(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn the_vary_csv_names_figures_as_the_estimate_csv() {
    let base = [
        "estimate",
        "infer",
        "--model",
        "llama-3.1-8b",
        "--gpu",
        "h100",
        "--batch",
        "8",
        "--grid",
        "FR",
    ];
    let mut v = base.to_vec();
    v.extend_from_slice(&["--vary", "grid=US", "--format", "csv"]);
    let csv = out(&v);
    // FR is priced in EUR, US in USD: each variant's cost carries its own currency.
    assert!(csv.contains("\nbaseline,cost_eur,"), "{csv}");
    assert!(csv.contains("\ngrid=US,cost_usd,"), "{csv}");
    assert!(!csv.contains(",cost,"), "{csv}");
    // One request is under an hour: no US-homes equivalent, as in the estimate's CSV.
    assert!(!csv.contains("eq.us_homes"), "{csv}");
    assert!(csv.contains("\nbaseline,basis,,annual,"), "{csv}");
    assert!(csv.contains("\ngrid=US,basis,,annual,"), "{csv}");
    assert!(
        csv.contains("\ngrid=US,scope,,\"lifecycle co2e, US"),
        "{csv}"
    );
    // The baseline's figure names are the estimate's own.
    let mut e = base.to_vec();
    e.extend_from_slice(&["--format", "csv"]);
    let plain = out(&e);
    let names = |s: &str, first: &str| -> Vec<String> {
        s.lines()
            .skip(1)
            .filter_map(|l| l.split_once(','))
            .filter(|(k, _)| *k == first)
            .filter_map(|(_, r)| r.split(',').next().map(str::to_string))
            .filter(|f| f != "basis" && f != "scope")
            .collect()
    };
    assert_eq!(names(&csv, "baseline")[..], names(&plain, "infer")[..]);
}

#[test]
fn a_breakdown_varies_with_semicolons() {
    let dc = [
        "estimate",
        "datacenter",
        "--breakdown",
        "it=0.5,cooling=0.4,power=0.1",
        "--it-power",
        "20MW",
        "--json",
    ];
    let mut a = dc.to_vec();
    a.extend_from_slice(&["--vary", "breakdown=it=0.8,cooling=0.15,power=0.05"]);
    let v: Value = serde_json::from_str(&out(&a)).expect("json");
    assert_eq!(v["variants"].as_array().expect("variants").len(), 1);
    assert_eq!(
        v["variants"][0]["vary"][0]["value"],
        "it=0.8,cooling=0.15,power=0.05"
    );
    let mut a = dc.to_vec();
    a.extend_from_slice(&[
        "--vary",
        "breakdown=it=0.8,cooling=0.15,power=0.05; it=0.7,cooling=0.2,power=0.1",
    ]);
    let v: Value = serde_json::from_str(&out(&a)).expect("json");
    let vs = v["variants"].as_array().expect("variants");
    assert_eq!(vs.len(), 2);
    // The same IT power at an IT share of 0.5 and 0.8: facility energy x 0.5 / 0.8 = 0.625.
    let e = |x: &Value| x["facility_energy_kwh"]["p50"].as_f64().expect("energy");
    let ratio = e(&vs[0]) / e(&v["baseline"]);
    assert!((ratio - 0.625).abs() < 1e-9, "{ratio}");
}

/// Hostile round 4, item 4: `--save` beside `--vary` (and `--cross`) was silently ignored: exit
/// 0, nothing recorded. The baseline and each variant are now one row each, tagged `vary=`.
#[test]
fn save_with_vary_records_the_baseline_and_each_variant() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("h.sqlite");
    let run = |args: &[&str]| {
        let o = isolated()
            .env("WATTLENS_HISTORY", &ledger)
            .args(args)
            .output()
            .expect("runs");
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let fleet = [
        "estimate",
        "fleet",
        "--servers",
        "1",
        "--server-power",
        "1kW",
        "--hours",
        "1",
    ];
    let mut v = fleet.to_vec();
    v.extend_from_slice(&["--vary", "pue=1.1,1.5", "--save"]);
    run(&v);
    let rows: serde_json::Value =
        serde_json::from_str(&run(&["history", "export", "--format", "json"])).expect("JSON");
    let rows = rows.as_array().expect("array");
    assert_eq!(rows.len(), 3, "{rows:?}");
    let text = serde_json::to_string(rows).expect("text");
    for tag in ["baseline", "pue=1.1", "pue=1.5"] {
        assert!(
            text.contains(&format!("\"vary\":\"{tag}\"")),
            "{tag}: {text}"
        );
    }
    // The variants' energies are their own: facility = IT x PUE on the same draws, so the P50s
    // are 1.5 / 1.1 of each other (the ledger keeps 7 significant figures).
    let energy = |tag: &str| -> f64 {
        let tag = format!("vary={tag}");
        let out = run(&["history", "export", "--format", "json", "--tag", &tag]);
        let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
        v[0]["energy_kwh"]["p50"].as_f64().expect("energy")
    };
    let (lo, hi) = (energy("pue=1.1"), energy("pue=1.5"));
    assert!((hi / lo - 1.5 / 1.1).abs() < 1e-6, "{lo} {hi}");
    // --cross: the baseline and the 2 x 2 combinations.
    let mut v = fleet.to_vec();
    v.extend_from_slice(&[
        "--vary",
        "pue=1.1,1.5",
        "--vary",
        "servers=1,2",
        "--cross",
        "--save",
    ]);
    run(&v);
    let rows: serde_json::Value =
        serde_json::from_str(&run(&["history", "export", "--format", "json"])).expect("JSON");
    assert_eq!(rows.as_array().expect("array").len(), 3 + 5);
    assert!(
        serde_json::to_string(&rows)
            .expect("text")
            .contains("\"vary\":\"pue=1.5 servers=2\""),
        "{rows}"
    );
}
