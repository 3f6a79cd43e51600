//! `wattlens validate` (issue 9): the estimators against the disclosure tables, with thresholds
//! at the goals where the data meet them and at today's honest figures where they do
//! not (so a regression fails either way); and the calibrated training prior as `estimate
//! train` uses it.

use super::{assert_usage_error, json, stdout};
use serde_json::Value;

fn summary<'a>(v: &'a Value, list: &str, name: &str) -> &'a Value {
    v[list]
        .as_array()
        .expect("a list")
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {list}: {v}"))
}

fn f(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("no {key} in {v}"))
}

#[test]
fn validate_train_meets_the_goals_on_held_back_families_or_pins_the_honest_figure() {
    let v = json(&["validate", "--kind", "train", "--cross-validate"]);
    assert_eq!(v["schema"], "wattlens.validate/v1");
    assert_eq!(v["kind"], "train");
    // 31 runs with parameters, tokens and hours (+ GLM-130B, whose hours are a bound).
    assert_eq!(v["hours"].as_array().expect("rows").len(), 32);

    // Held-back families (the shipped prior never saw them): 5 runs of 5 families.
    let h = summary(&v, "hours_summary", "held-back");
    assert_eq!(f(h, "rows"), 5.0);
    assert!(f(h, "median_abs_error") <= 0.25, "goal: {h}");
    assert!(f(h, "coverage") >= 0.8, "goal: {h}");
    // Goal P95/P5 <= 3 NOT met: 7 calibration families give a Student-t interval of 3.80.
    assert!(f(h, "median_width") <= 3.85, "honest figure 3.80: {h}");

    // Leave one family out, all 31 runs out-of-family.
    let cv = &v["cross_validated"]["summary"];
    assert_eq!(f(cv, "rows"), 31.0);
    assert!(f(cv, "median_width") <= 3.0, "goal: {cv}");
    // Goals |error| <= 25% and coverage >= 80% NOT met: 28% and 23 of 31 (74%), most misses
    // the A100-era LLaMA runs (u 0.4-0.5) and the small distilled Llama 3.x (u 0.05-0.16).
    assert!(
        f(cv, "median_abs_error") <= 0.29,
        "honest figure 0.28: {cv}"
    );
    assert!(f(cv, "inside") >= 23.0, "honest figure 23 of 31: {cv}");
    assert_eq!(
        v["cross_validated"]["folds"]
            .as_array()
            .expect("folds")
            .len(),
        12
    );

    // Energy from hardware x count x days x PUE on the independent (Patterson et al.) rows:
    // goal median error <= 10% NOT met: 12%, 5 of 5 inside.
    let e = summary(&v, "energy_summary", "independent");
    assert_eq!(f(e, "rows"), 5.0);
    assert_eq!(f(e, "inside"), 5.0);
    assert!(f(e, "median_abs_error") <= 0.13, "honest figure 0.12: {e}");
    let nominal = summary(&v, "energy_summary", "from nominal power");
    assert_eq!(f(nominal, "rows"), 3.0);
}

#[test]
fn validate_train_rows_by_hand() {
    let v = json(&["validate"]);
    let row = v["hours"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["id"] == "llama-2-70b")
        .expect("llama-2-70b")
        .clone();
    // 6 x 70e9 x 2e12 = 8.4e23 FLOP / (312e12 FLOP/s x 0.306 x 3600) = 2.44M A100-hours at the
    // prior's median 0.306 (published 1,720,320: +42%).
    assert!((f(&row, "p50_h") / 2.44e6 - 1.0).abs() < 0.02, "{row}");
    assert!((f(&row, "error") - 0.42).abs() < 0.03, "{row}");
    assert_eq!(row["split"], "calibration");
    assert_eq!(row["inside"], true);
    // The prior the estimates used is the shipped default, the fit on the calibration half.
    assert_eq!(v["prior_used"][0], 0.146);
    assert_eq!(
        v["prior"]["families"].as_array().expect("families").len(),
        7
    );
    let bound = v["hours"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["id"] == "glm-130b")
        .expect("glm");
    assert!(bound["bound"]
        .as_str()
        .is_some_and(|b| b.contains("upper bound")));
}

#[test]
fn validate_text_has_rows_and_summaries() {
    let out = stdout(&["validate", "--kind", "train"]);
    for needle in [
        "prior fitted on the calibration half (26 runs of 7 families",
        "llama-3.1-405b",
        "held-back",
        "median |error|",
        "gopher-280b*",
        "rows with no check:",
        "gemma-1-2b: not published",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
    assert!(!out.contains("leave-one-family-out"), "{out}");
}

#[test]
fn validate_refuses_an_unknown_kind() {
    assert_usage_error(
        &["validate", "--kind", "fleet"],
        &["--kind \"fleet\"", "--kind train or --kind infer"],
    );
}

/// The calibrated prior bills failures: a failure model splits the billed hours rather than
/// adding to them; with `--mfu` (a headline MFU) the lost time is added as before.
#[test]
fn failures_are_inside_the_prior_and_added_to_a_given_mfu() {
    let base = [
        "estimate", "train", "--params", "8B", "--tokens", "1T", "--gpu", "h100", "--gpus", "64",
    ];
    let fail = [
        "--interruptions",
        "20",
        "--checkpoint-minutes",
        "1",
        "--restart-minutes",
        "10",
    ];
    let hours = |extra: &[&str]| {
        let mut a = base.to_vec();
        a.extend_from_slice(extra);
        let v = json(&a);
        (
            f(&v["accelerator_hours"], "p50"),
            f(&v["lost_time_fraction"], "p50"),
        )
    };
    // 6 x 8e9 x 1e12 = 4.8e22 FLOP / (989e12 x 0.306 x 3600) = 44,060 H100-hours.
    let (prior, _) = hours(&[]);
    assert!((prior / 44_060.0 - 1.0).abs() < 0.02, "{prior}");
    let (prior_failed, lost) = hours(&fail);
    assert_eq!(prior, prior_failed, "failures are not added to the prior");
    assert!(
        lost > 0.0,
        "the lost share of the billed hours is reported: {lost}"
    );
    // At MFU 0.4: 4.8e22 / (989e12 x 0.4 x 3600) = 33,700 h of useful time, plus the lost time.
    let (mfu, _) = hours(&["--mfu", "0.4"]);
    assert!((mfu / 33_700.0 - 1.0).abs() < 0.01, "{mfu}");
    let (mfu_failed, _) = hours(&[&["--mfu", "0.4"][..], &fail[..]].concat());
    assert!(mfu_failed > mfu * 1.01, "{mfu_failed} vs {mfu}");
}
