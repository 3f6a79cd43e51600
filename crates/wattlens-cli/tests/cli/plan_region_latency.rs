//! `wattlens plan region --from`: the round trip each candidate adds, against the hand
//! computation of Paris-Warsaw (the library's `plan::latency` test), a candidate without a
//! location, no latency without `--from`, and an unknown `--from` (exit 2 naming the flag).

use super::*;

fn plan(extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        "plan",
        "region",
        "--regions",
        "gcp:europe-west9,gcp:europe-central2,gcp:europe-west5",
        "--data",
        "1TB",
        "--energy",
        "1MWh",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect();
    a.extend(extra.iter().map(|s| (*s).to_string()));
    a
}

fn args(a: &[String]) -> Vec<&str> {
    a.iter().map(String::as_str).collect()
}

#[test]
fn latency_from_warsaw_to_paris_by_hand() {
    // gcp:europe-central2 is Warsaw (52.23 N, 21.01 E), gcp:europe-west9 Paris (48.86 N,
    // 2.35 E): great circle 1366.4 km (haversine, R = 6371 km); RTT = 2 x 1366.4 x k /
    // 199.862 km/ms + 1 ms = 18.78 (k 1.3), 29.71 (k 2.1), 40.65 (k 2.9) ms. Warsaw to itself:
    // the 1 ms floor. Google gives no city for europe-west5: no latency_ms, said in a note.
    let a = plan(&["--from", "gcp:europe-central2"]);
    let v = json(&args(&a));
    assert_eq!(v["from"], "gcp:europe-central2");
    let r = v["regions"].as_array().expect("regions");
    let paris = &r[0]["latency_ms"];
    for (k, want) in [("p5", 18.78), ("p50", 29.71), ("p95", 40.65)] {
        let got = paris[k].as_f64().expect(k);
        assert!((got - want).abs() < 0.01, "{k}: {got} vs {want}");
    }
    assert_eq!(r[1]["latency_ms"]["p50"].as_f64(), Some(1.0));
    assert!(r[2].get("latency_ms").is_none(), "{}", r[2]);
    let n = notes(&v);
    assert!(
        n.contains("round trip over fibre from gcp:europe-central2"),
        "{n}"
    );
    assert!(
        n.contains("no latency for gcp:europe-west5: the catalog has no location"),
        "{n}"
    );
    let table = stdout(&args(&plan(&["--from", "gcp:europe-central2"])));
    assert!(
        table.lines().next().expect("head").ends_with("latency ms"),
        "{table}"
    );
    assert!(table.contains("29.7 (18.8..40.7)"), "{table}");
}

#[test]
fn no_latency_without_from_and_the_note_says_how() {
    let v = json(&args(&plan(&[])));
    assert!(v.get("from").is_none(), "{v}");
    for r in v["regions"].as_array().expect("regions") {
        assert!(r.get("latency_ms").is_none(), "{r}");
    }
    assert!(notes(&v).contains("no latency: give --from"), "{v}");
    let table = stdout(&args(&plan(&[])));
    assert!(!table.contains("latency ms"), "{table}");
}

#[test]
fn an_unknown_from_exits_2_naming_the_flag() {
    assert_usage_error(
        &args(&plan(&["--from", "atlantis"])),
        &["--from", "atlantis", "catalog list locations"],
    );
    // A grid without a point (the world average) is no place to measure from.
    assert_usage_error(&args(&plan(&["--from", "world"])), &["--from", "world"]);
}

#[test]
fn a_country_name_finds_its_point_and_the_table_is_listed() {
    let v = json(&args(&plan(&["--from", "France"])));
    assert_eq!(v["from"], "FR");
    let list = stdout(&["catalog", "list", "locations"]);
    assert!(list.contains("gcp:europe-west1"), "{list}");
    let show = stdout(&["catalog", "show", "locations", "cn-northwest"]);
    assert!(show.contains("Xi'an") && show.contains("source"), "{show}");
}
