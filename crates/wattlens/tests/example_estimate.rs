//! Runs `examples/estimate.rs` (the estimate through the public API alone): the test includes
//! the example's file and calls the function its `main` calls, so `cargo test` executes the
//! example's own code, and checks what it prints is a `wattlens.footprint/v1` report of a
//! training run with a positive facility energy.

#[allow(dead_code)] // the example's `main`, which only hands stdout to `write_report`
#[path = "../examples/estimate.rs"]
mod example;

use wattlens::{Details, Figure, Report, ReportKind};

/// What the example prints, read back as the one result type.
fn printed() -> (String, Report) {
    let mut out = Vec::new();
    example::write_report(&mut out).expect("the example's estimate resolves and runs");
    let text = String::from_utf8(out).expect("JSON is UTF-8");
    let report = serde_json::from_str(&text).expect("the output reads back as a Report");
    (text, report)
}

#[test]
fn the_estimate_example_prints_a_training_report() {
    let (text, report) = printed();
    assert!(text.ends_with("}\n"), "one JSON document and a line feed");
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(v["schema"], "wattlens.footprint/v1");
    assert_eq!(v["kind"], "train");
    assert_eq!(report.kind, ReportKind::Train);
    assert!(matches!(report.details, Details::Train(_)));
    let energy = report
        .get(Figure::FacilityEnergy)
        .expect("a training estimate has facility energy");
    assert!(
        energy.p5 > 0.0 && energy.p5 <= energy.p50 && energy.p50 <= energy.p95,
        "{energy:?}"
    );
    // Facility = IT x PUE, and the example gives PUE 1.1..1.2: at the P50 the ratio lies in it.
    let it = report.get(Figure::ItEnergy).expect("IT energy");
    let ratio = energy.p50 / it.p50;
    assert!((1.1..=1.2).contains(&ratio), "facility/IT = {ratio}");
}

#[test]
fn the_example_names_inputs_by_field() {
    let (_, report) = printed();
    // Every `{field}` reference in the texts was rendered (as the field's own name).
    let texts = report
        .notes
        .iter()
        .chain(report.steps.iter().map(|s| &s.formula));
    for t in texts {
        assert!(!t.contains('{'), "unrendered field in {t:?}");
    }
    let pue = report
        .assumptions
        .iter()
        .find(|a| a.name == "pue")
        .expect("the PUE is an assumption");
    assert_eq!(pue.source.as_deref(), Some("pue"));
    assert_eq!(pue.value, "1.1..1.2");
}
