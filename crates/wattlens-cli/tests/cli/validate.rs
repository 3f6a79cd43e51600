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
    // 55 runs with parameters, tokens and hours since the table's second pass (2026-11-26:
    // 31 before), + GLM-130B and OPT-175B, whose hours are bounds.
    assert_eq!(v["hours"].as_array().expect("rows").len(), 57);

    // Held-back families (the shipped prior never saw them): 12 runs of 9 families (5 of 5
    // before the second pass: 14%, 5 of 5, 3.77).
    let h = summary(&v, "hours_summary", "held-back");
    assert_eq!(f(h, "rows"), 12.0);
    assert!(f(h, "median_abs_error") <= 0.25, "goal: {h}");
    assert!(f(h, "coverage") >= 0.8, "goal: {h}");
    // Goal P95/P5 <= 3 NOT met: the shipped C0's Student-t interval over 8 calibration
    // families is 3.78 wide (t95(7) = 1.895).
    assert!(f(h, "median_width") <= 3.8, "honest figure 3.78: {h}");

    // Which form ships: the registered rule chose C2 (lowest PRESS among the calibration
    // families); its procedure, nested leave-one-family-out, is worse than C0 left out family
    // by family (35% against 33%, 53 of 55 both; 36%, 22 of 31 against 28%, 23 of 31 before
    // the second pass), so the second-level rule ships C0.
    let sel = &v["selection"];
    assert_eq!(
        (&sel["registered"], &sel["shipped"]),
        (&"C2".into(), &"C0".into()),
        "{sel}"
    );
    assert_eq!(v["prior"]["form"], "C0");
    assert!(f(&sel["constant"], "median_abs_error") <= 0.34, "{sel}");
    assert_eq!(f(&sel["constant"], "inside"), 53.0, "{sel}");
    assert_eq!(sel["nested"], v["cross_validated"]["summary"], "{sel}");

    // Leave one family out, nested (the form chosen in each fold), all 55 runs out-of-family.
    let cv = &v["cross_validated"]["summary"];
    assert_eq!(f(cv, "rows"), 55.0);
    assert!(f(cv, "coverage") >= 0.8, "goal: {cv}");
    // Goals |error| <= 25% and P95/P5 <= 3 NOT met: 35% and 9.80 (36% and 2.50, with 22 of 31
    // inside, before the second pass). The width is CodeGeeX's (u 0.03 on Ascend 910): in
    // every fold but its own it is one of 16 families, and the spread of ln u it adds widens
    // every other family's interval.
    assert!(
        f(cv, "median_abs_error") <= 0.36,
        "honest figure 0.35: {cv}"
    );
    assert!(f(cv, "median_width") <= 9.9, "honest figure 9.80: {cv}");
    assert_eq!(
        v["cross_validated"]["folds"]
            .as_array()
            .expect("folds")
            .len(),
        17
    );
    // Each candidate's own leave-one-family-out (the form fixed in every fold): C0 (the shipped
    // prior) 33% / 53 of 55; none meets 25% or a width of 3.
    let cands = v["candidates"].as_array().expect("candidates");
    for c in cands {
        let o = &c["cross_validated"];
        assert!(f(o, "median_abs_error") <= 0.39, "{c}");
        assert!(f(o, "inside") >= 53.0, "{c}");
    }

    // Energy from hardware x count x days (x PUE) on the independent rows, each at its own
    // scope: goal median error <= 10% NOT met. Patterson et al.'s five (facility energy): 12%,
    // 5 of 5 inside; with Dodge et al.'s two GPU-only rows (added 2026-11-26 by a rule
    // registered before they were run: the A100 run +14%, inside; BERT-small on 8 V100s +85%,
    // outside) 13%, 6 of 7.
    let e = summary(&v, "energy_summary", "independent");
    assert_eq!(f(e, "rows"), 7.0);
    assert_eq!(f(e, "inside"), 6.0);
    assert!(f(e, "median_abs_error") <= 0.14, "honest figure 0.13: {e}");
    let facility = summary(&v, "energy_summary", "independent, facility");
    assert_eq!((f(facility, "rows"), f(facility, "inside")), (5.0, 5.0));
    assert!(
        f(facility, "median_abs_error") <= 0.13,
        "honest figure 0.12: {facility}"
    );
    let gpu = summary(&v, "energy_summary", "independent, GPU only");
    assert_eq!((f(gpu, "rows"), f(gpu, "inside")), (2.0, 1.0));
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
    // 6 x 70e9 x 2e12 = 8.4e23 FLOP / (312e12 FLOP/s x 0.2926 x 3600) = 2.556M A100-hours at
    // the shipped C0's median, exp(-1.229) = 0.2926 (published 1,720,320: +49%).
    assert!((f(&row, "p50_h") / 2.556e6 - 1.0).abs() < 0.02, "{row}");
    assert!((f(&row, "error") - 0.49).abs() < 0.03, "{row}");
    assert_eq!(row["split"], "calibration");
    assert_eq!(row["inside"], true);
    // The prior the estimates used is the shipped default, C0 fitted on the calibration half:
    // the registered rule chose C2 (the lowest PRESS, 0.0847, among C0-C4), which the
    // second-level rule did not ship (its nested leave-one-family-out is worse than C0's).
    assert_eq!(v["prior_used"], "ln u = -1.23");
    assert_eq!(v["prior"]["form"], "C0");
    assert_eq!(v["selection"]["registered"], "C2");
    assert_eq!(v["selection"]["shipped"], "C0");
    assert_eq!(
        v["prior"]["families"].as_array().expect("families").len(),
        8
    );
    let c = v["candidates"].as_array().expect("candidates");
    assert_eq!(c.len(), 5);
    // C4's MoE term cannot be fitted once Llama (the one MoE family of the calibration half) is
    // left out: no PRESS, so the rule cannot choose it.
    assert!(c[4]["press_calibration"].is_null(), "{}", c[4]);
    assert!(
        (f(&c[2], "press_calibration") - 0.0847).abs() < 1e-4,
        "{}",
        c[2]
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
        "shipped prior, fitted on the calibration half (43 runs of 8 families",
        "form C0, ln u = -1.23",
        "registered rule (lowest PRESS among the calibration families): C2",
        "C2 procedure, nested leave-one-family-out:   |error| 35%, 53 of 55 inside, P95/P5 9.80",
        "C0, leave-one-family-out:                    |error| 33%, 53 of 55 inside, P95/P5 8.97",
        "shipped: C0 (C2's nested leave-one-family-out",
        "C4 PRESS inf",
        "llama-3.1-405b",
        "held-back",
        "median |error|",
        "gopher-280b*",
        "rows with no check:",
        "gemma-1-2b: not published",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
    assert!(!out.contains("leave-one-family-out, nested"), "{out}");
    assert!(!out.contains("out-of-family |error|"), "{out}");
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
    // 6 x 8e9 x 1e12 = 4.8e22 FLOP / (989e12 x 0.2926 x 3600) = 46,070 H100-hours, at the
    // prior's median, exp(-1.229) = 0.2926.
    let (prior, _) = hours(&[]);
    assert!((prior / 46_070.0 - 1.0).abs() < 0.02, "{prior}");
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

/// The prior's rows are catalog rows: `catalog show` gives their source (which form ships and
/// why), the explanation gives the equation, and a user catalog that overrides a coefficient
/// moves the estimate.
#[test]
fn the_conditional_prior_is_catalog_rows_that_drive_the_estimate() {
    let show = stdout(&["catalog", "show", "defaults", "train.utilisation.hopper"]);
    for needle in [
        "(not in the fitted form: 0)",
        "form C0 (ln u = -1.23) fitted on 43 runs of 8 families",
        "the registered leave-one-family-out rule chose C2, and the second-level rule (docs/validation.md section 5) ships C0",
        "2019-2025",
    ] {
        assert!(show.contains(needle), "missing {needle:?} in\n{show}");
    }
    let base = [
        "estimate", "train", "--params", "8B", "--tokens", "1T", "--gpu", "h100", "--gpus", "64",
    ];
    let mut explain = base.to_vec();
    explain.push("--explain");
    let out = stdout(&explain);
    for needle in [
        "effective_utilisation = 0.139..0.615 [default] train.utilisation.*: ln u = -1.23 with no covariate",
        "median 0.293,",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
    // The registered C2's generation term added back by a user catalog: the H100 run gets the
    // median exp(-1.229 - 0.4254) = 0.1912, 4.8e22 / (989e12 x 0.1912 x 3600) = 70,510 h
    // (46,070 h with the shipped C0).
    let p = super::temp_file(
        "generation.toml",
        "[[default]]\nkey = \"train.utilisation.hopper\"\nlow = -0.4254\nhigh = -0.4254\n",
    );
    let mut args = vec!["--catalog", p.to_str().expect("p")];
    args.extend_from_slice(&base);
    let v = json(&args);
    let h = f(&v["accelerator_hours"], "p50");
    assert!((h / 70_510.0 - 1.0).abs() < 0.02, "{h}");
}

/// The likeliest reason each run stays outside its out-of-family P5..P95 (the generated block
/// of docs/validation.md lists every such run and needs a reason for each: a new miss fails the
/// test until it is explained here).
const OUTSIDE: &[(&str, &str)] = &[
    ("llama-3.2-1b", "u 0.05: a 1B model on H100s (small matrices, communication-bound) trained by distillation; the smallest model in the table"),
    ("codegeex-13b", "u 0.03: 1,536 Ascend 910 over the 65 days from 18 April to 22 June 2022 against the catalog's FP16 peak (256 TFLOP/s; no BF16 is published): a first-generation MindSpore stack, and the dates may span time when not every processor trained; the one run on an accelerator no other family used"),
];

fn md_summary(s: &mut String, name: &str, v: &Value) {
    use std::fmt::Write;
    let _ = writeln!(
        s,
        "| {name} | {} | {} | {:.0}% | {} of {} ({:.0}%) | {:.2} | {:+.0}% |",
        v["rows"],
        v["families"],
        f(v, "median_abs_error") * 100.0,
        v["inside"],
        v["rows"],
        f(v, "coverage") * 100.0,
        f(v, "median_width"),
        f(v, "bias") * 100.0
    );
}

/// The generated block of docs/validation.md section 5, from `validate --cross-validate --json`.
fn render_doc_block(v: &Value) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let p = &v["prior"];
    let fams: Vec<&str> = p["families"]
        .as_array()
        .expect("families")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let beta: Vec<f64> = p["fitted"]["beta"]
        .as_array()
        .expect("beta")
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    // The medians: one for C0 (the constant), by generation for C2 (constant + Hopper).
    let medians = match p["form"].as_str() {
        Some("C0") => format!(" (median `u` {:.3})", beta[0].exp()),
        Some("C2") => format!(
            " (median `u` {:.3} before Hopper, {:.3} on Hopper or later)",
            beta[0].exp(),
            (beta[0] + beta[1]).exp()
        ),
        _ => String::new(),
    };
    let sel = &v["selection"];
    let line = |x: &Value| {
        format!(
            "{:.0}%, {} of {} inside, P95/P5 {:.2}",
            f(x, "median_abs_error") * 100.0,
            x["inside"],
            x["rows"],
            f(x, "median_width")
        )
    };
    let _ = writeln!(
        s,
        "The registered rule chose **{}** among the calibration families. The second-level rule \
         (stated after that result was seen) compares its procedure, nested leave-one-family-out \
         over all {} families ({}), with C0 left out family by family ({}): {}. Shipped: \
         **{}**, `{}`{medians}, fitted on the calibration half: {} runs of {} families ({}), \
         spread t95({}) x s = {:.3}, as `train.utilisation.*` (the estimates used `{}`).\n",
        sel["registered"].as_str().expect("registered"),
        sel["nested"]["families"],
        line(&sel["nested"]),
        line(&sel["constant"]),
        sel["reason"].as_str().expect("reason"),
        p["form"].as_str().expect("form"),
        p["equation"].as_str().expect("equation"),
        p["rows"],
        fams.len(),
        fams.join(", "),
        p["dof"],
        f(&p["fitted"], "spread"),
        v["prior_used"].as_str().expect("prior_used")
    );
    let held_back_runs = &summary(v, "hours_summary", "held-back")["rows"];
    let families = &sel["nested"]["families"];
    let _ = write!(
        s,
        "The candidate forms (registered above), each fitted on the calibration half; PRESS is what the rule compares (leave-one-family-out mean squared error of `ln u` among the calibration families; `inf`: a fold cannot be fitted); held-back is each form's calibration fit on the {held_back_runs} held-back runs; out-of-family is each form fixed and refitted leaving each of the {families} families out:\n\n"
    );
    s.push_str("| form | fitted on the calibration half | PRESS | held-back \\|error\\| | holds | P95/P5 | out-of-family \\|error\\| | holds | P95/P5 |\n|---|---|---|---|---|---|---|---|---|\n");
    for c in v["candidates"].as_array().expect("candidates") {
        let hb = &c["held_back"];
        let cv = &c["cross_validated"];
        let _ = writeln!(
            s,
            "| {} | `{}` | {} | {:.0}% | {} of {} | {:.2} | {:.0}% | {} of {} | {:.2} |",
            c["form"].as_str().expect("form"),
            c["equation"].as_str().unwrap_or("-"),
            c["press_calibration"]
                .as_f64()
                .map_or("inf".into(), |x| format!("{x:.4}")),
            f(hb, "median_abs_error") * 100.0,
            hb["inside"],
            hb["rows"],
            f(hb, "median_width"),
            f(cv, "median_abs_error") * 100.0,
            cv["inside"],
            cv["rows"],
            f(cv, "median_width"),
        );
    }
    let chosen: Vec<String> = v["cross_validated"]["folds"]
        .as_array()
        .expect("folds")
        .iter()
        .map(|fo| {
            format!(
                "{} {}",
                fo["left_out"].as_str().expect("left_out"),
                fo["prior"]["form"].as_str().expect("form")
            )
        })
        .collect();
    let _ = writeln!(
        s,
        "\nNested leave-one-family-out (the rule run inside each fold on the other {} families) chose, by family left out: {}.\n",
        chosen.len().saturating_sub(1),
        chosen.join(", ")
    );
    let head = "| set | runs | families | median \\|P50 error\\| | P5-P95 holds | median P95/P5 | bias |\n|---|---|---|---|---|---|---|\n";
    s.push_str("Accelerator-hours from parameters x tokens x accelerator (`wattlens validate --kind train --cross-validate`):\n\n");
    s.push_str(head);
    for n in ["held-back", "calibration", "all"] {
        let label = match n {
            "held-back" => "held-back families, shipped prior",
            "calibration" => "calibration families, shipped prior (in-sample)",
            _ => "all runs, shipped prior",
        };
        md_summary(&mut s, label, summary(v, "hours_summary", n));
    }
    md_summary(
        &mut s,
        "**all runs, leave one family out, shipped C0 (the form fixed)**",
        &sel["constant"],
    );
    md_summary(
        &mut s,
        "all runs, leave one family out, registered procedure (nested: form chosen in each fold)",
        &v["cross_validated"]["summary"],
    );
    s.push_str("\nEnergy from accelerator x count x days (x PUE for facility energy):\n\n");
    s.push_str(head);
    md_summary(
        &mut s,
        "independent energy, each at its own scope (the goal's figure)",
        summary(v, "energy_summary", "independent"),
    );
    md_summary(
        &mut s,
        "independent, facility energy (Patterson et al.)",
        summary(v, "energy_summary", "independent, facility"),
    );
    md_summary(
        &mut s,
        "independent, GPU energy only (Dodge et al.), against the accelerators' energy",
        summary(v, "energy_summary", "independent, GPU only"),
    );
    md_summary(
        &mut s,
        "energy = hours x nominal power (arithmetic only)",
        summary(v, "energy_summary", "from nominal power"),
    );
    s.push_str("\nEvery run, out-of-family under the registered procedure (each predicted by the form the registered rule chose and fitted without its family; the comparison the second-level rule reads); u is the run's implied effective utilisation:\n\n");
    s.push_str("| run | family | split | accelerator | published h | P50 (P5-P95) | error | inside | u |\n|---|---|---|---|---|---|---|---|---|\n");
    let hours = v["hours"].as_array().expect("rows");
    let cv = v["cross_validated"]["rows"].as_array().expect("cv rows");
    let short = |x: f64| {
        if x >= 1e6 {
            format!("{:.3}M", x / 1e6)
        } else {
            format!("{:.0}k", x / 1e3)
        }
    };
    for r in cv {
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} | {} | {} ({}-{}) | {:+.0}% | {} | {:.2} |",
            r["id"].as_str().expect("id"),
            r["family"].as_str().expect("family"),
            r["split"].as_str().expect("split"),
            r["accelerator"].as_str().expect("accelerator"),
            short(f(r, "published_h")),
            short(f(r, "p50_h")),
            short(f(r, "p5_h")),
            short(f(r, "p95_h")),
            f(r, "error") * 100.0,
            if r["inside"] == true { "yes" } else { "**no**" },
            f(r, "implied_utilisation")
        );
    }
    s.push_str("\nOutside P5..P95 out-of-family under the registered procedure, with the likeliest reason:\n\n");
    for r in cv.iter().filter(|r| r["inside"] == false) {
        let id = r["id"].as_str().expect("id");
        let why = OUTSIDE
            .iter()
            .find(|(k, _)| *k == id)
            .map(|(_, w)| *w)
            .unwrap_or_else(|| panic!("{id} is outside: add its likeliest reason to OUTSIDE"));
        let _ = writeln!(s, "- `{id}` ({:+.0}%): {why}.", f(r, "error") * 100.0);
    }
    for r in hours.iter().filter(|r| r["bound"].is_string()) {
        let _ = writeln!(
            s,
            "- `{}` is left out of the fit and the summaries: {} (estimate P50 {}, {:+.0}% of the bound).",
            r["id"].as_str().expect("id"),
            r["bound"].as_str().expect("bound"),
            short(f(r, "p50_h")),
            f(r, "error") * 100.0
        );
    }
    s
}

/// docs/validation.md section 5's figures are generated from `wattlens validate`, so the doc
/// cannot drift; `WATTLENS_BLESS=1 cargo test -p wattlens-cli --test cli validate::` rewrites.
#[test]
fn validation_doc_block_is_generated_from_validate() {
    const BEGIN: &str = "<!-- validate-train:begin (generated by crates/wattlens-cli/tests/cli/validate.rs; WATTLENS_BLESS=1 rewrites) -->\n";
    const END: &str = "<!-- validate-train:end -->";
    let v = json(&["validate", "--kind", "train", "--cross-validate"]);
    let want = render_doc_block(&v);
    // Every listed reason is for a run that is outside (no stale reasons).
    let cv = v["cross_validated"]["rows"].as_array().expect("rows");
    for (id, _) in OUTSIDE {
        assert!(
            cv.iter().any(|r| r["id"] == *id && r["inside"] == false),
            "{id} has a reason in OUTSIDE but is inside now: remove it"
        );
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/validation.md");
    let doc = std::fs::read_to_string(&path).expect("docs/validation.md");
    let start = doc.find(BEGIN).expect("the begin marker") + BEGIN.len();
    let end = doc[start..].find(END).expect("the end marker") + start;
    if doc[start..end] == want {
        return;
    }
    if std::env::var_os("WATTLENS_BLESS").is_some() {
        std::fs::write(&path, format!("{}{want}{}", &doc[..start], &doc[end..])).expect("write");
        return;
    }
    panic!("docs/validation.md section 5 differs from `wattlens validate`; run with WATTLENS_BLESS=1 or paste:\n{want}");
}

fn infer_summary<'a>(v: &'a Value, inputs: &str, set: &str) -> &'a Value {
    v["summaries"]
        .as_array()
        .expect("summaries")
        .iter()
        .find(|s| s["inputs"] == inputs && s["set"] == set)
        .unwrap_or_else(|| panic!("no {inputs}/{set} summary"))
}

/// `validate --kind infer` pins today's figures of the inference model, so that a regression or
/// an improvement shows here. Goals: median |error| <= 35%, coverage >= 70%. With parameters
/// only (the shape inferred from the size, docs/models.md 7.1; before it: 54% off, 9 of 56
/// inside) the P50 is 23.1% off at the median and 44 of 56 inside (79%), P95/P5 2.43, bias
/// -9%; with the row's shape 18.7% off and 33 of 45 inside (73%), P95/P5 2.11, 8 rows refused
/// (unchanged): both goals both ways, since the top of `infer.power_low` moved to 0.70 (the
/// CUDA-graph decode device check, docs/validation.md 4.4).
#[test]
fn validate_infer_pins_todays_figures() {
    let v = json(&["validate", "--kind", "infer"]);
    assert_eq!(v["schema"], "wattlens.validate/v1");
    assert_eq!(v["kind"], "infer");
    assert_eq!(v["checks"].as_array().expect("checks").len(), 56);
    assert_eq!(v["skipped"].as_array().expect("skipped").len(), 19);
    let near = |s: &Value, key: &str, want: f64| {
        assert!((f(s, key) - want).abs() < 0.005, "{key}: want {want}: {s}");
    };
    // infer.power_low's top went from 0.43 to 0.54 (Splitwise's H100 token-phase power, an
    // independent source): parameters only 32 -> 36 of 56 inside, error 34.7% -> 28.0%, width
    // 2.227 -> 2.234; with the shape 23 -> 26 of 45, 28.2% -> 24.6%, width 1.825 -> 1.960.
    // The B200 row's peak bandwidth went from 8.0 to 7.7 TB/s (NVIDIA's Blackwell datasheet, the
    // driver's 7680-bit bus; docs/models.md 7.1): parameters only bias -17.7% -> -17.2%, batch
    // 17-128 error 13.7% -> 13.0% and bias -7.9% -> -6.9%, batch 129+ error 32.4% -> 31.76%;
    // coverage unchanged everywhere.
    // infer.power_low's top went from 0.54 to 0.59 (Argonne's LLM-Inference-Bench: batch-1
    // decode on one H100 at 363-414 W of 700 W under vLLM and TensorRT-LLM; docs/models.md 7.1):
    // parameters only 36 -> 40 of 56 inside, error 28.0% -> 25.4%, width 2.234 -> 2.293, bias
    // -17.2% -> -14.2%; with the shape 26 -> 29 of 45, 24.6% -> 24.3%, width 1.960 -> 2.004.
    // infer.power_low's top went from 0.59 to 0.70 (batch-1 decode replayed as CUDA graphs,
    // Qwen3 32B's shape on an H200: 493 W of 700 W, by the rule registered before the device
    // check ran; docs/validation.md 4.4): parameters only 40 -> 44 of 56 inside, error 25.4% ->
    // 23.1%, width 2.293 -> 2.427, bias -14.2% -> -8.7%; with the shape 29 -> 33 of 45, 24.3% ->
    // 18.7%, width 2.004 -> 2.108, bias -13.7% -> -9.8%.
    let p = infer_summary(&v, "params", "all");
    assert_eq!(
        (f(p, "rows"), f(p, "inside"), f(p, "refused")),
        (56.0, 44.0, 0.0)
    );
    near(p, "median_abs_error", 0.231);
    near(p, "bias", -0.087);
    near(p, "median_width", 2.427);
    assert!(f(p, "median_abs_error") <= 0.35, "the error goal: {p}");
    assert!(f(p, "coverage") >= 0.70, "the coverage goal: {p}");
    let s = infer_summary(&v, "shape", "all");
    assert_eq!(
        (f(s, "rows"), f(s, "inside"), f(s, "refused")),
        (45.0, 33.0, 8.0)
    );
    near(s, "median_abs_error", 0.187);
    near(s, "bias", -0.098);
    near(s, "median_width", 2.108);
    assert!(f(s, "median_abs_error") <= 0.35, "the error goal: {s}");
    assert!(f(s, "coverage") >= 0.70, "the coverage goal: {s}");
    // One source dominates: the ML.ENERGY leaderboard v3, 53 of the 56.
    let m = infer_summary(&v, "params", "mlev3");
    assert_eq!((f(m, "rows"), f(m, "inside")), (53.0, 41.0));
    // By batch band (every checked row has a batch, so the bands partition "all"): the misses
    // are at batch 1-16 (11 of 19 inside, 25% low: decode power and step time, docs/models.md
    // 7.1; 8 of 19 and 32% low with power_low 0.20-0.59, 5 of 19 and 35% low with 0.20-0.54, 1
    // of 19 and 42% low with 0.20-0.43); from batch 17 up the ranges hold 33 of 37. A change at
    // low batch shows here first.
    let bands = [
        ("batch 1-16", 19.0, 11.0, 0.255, -0.249),
        ("batch 17-128", 22.0, 18.0, 0.137, -0.040),
        ("batch 129+", 15.0, 15.0, 0.296, 0.230),
    ];
    for (band, rows, inside, err, bias) in bands {
        let b = infer_summary(&v, "params", band);
        assert_eq!(
            (f(b, "rows"), f(b, "inside")),
            (rows, inside),
            "{band}: {b}"
        );
        near(b, "median_abs_error", err);
        near(b, "bias", bias);
    }
    let sb = infer_summary(&v, "shape", "batch 1-16");
    assert_eq!((f(sb, "rows"), f(sb, "inside")), (18.0, 11.0), "{sb}");
    near(sb, "median_abs_error", 0.238);
    let total: f64 = bands.iter().map(|b| b.1).sum();
    assert_eq!(total, f(p, "rows"), "the bands partition the checked rows");
    // Llama 3.1 8B on one H100 at batch 64: measured 0.119 J per output token; with the shape
    // the P50 is within 5% (0.123 with power_low 0.20-0.70; 0.119 with 0.20-0.59, 0.116 with
    // 0.20-0.43), with parameters only within 8% (0.127; 0.122 with 0.20-0.59, 0.060 before the
    // shape was inferred).
    let row = v["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["id"] == "mlev3-llama-3-1-8b-h100x1-bs64")
        .expect("row");
    assert!(
        (f(&row["shape"]["estimate"], "p50_j") / 0.119 - 1.0).abs() < 0.05,
        "{row}"
    );
    assert!(
        (f(&row["params"]["estimate"], "p50_j") / 0.119 - 1.0).abs() < 0.08,
        "{row}"
    );
}

#[test]
fn validate_infer_refuses_cross_validate() {
    assert_usage_error(
        &["validate", "--kind", "infer", "--cross-validate"],
        &["--cross-validate", "fits nothing"],
    );
}

/// docs/validation.md's inference block, generated from `validate --kind infer --json`.
#[test]
fn validation_doc_infer_block_is_generated_from_validate() {
    use std::fmt::Write;
    const BEGIN: &str = "<!-- validate-infer:begin (generated by crates/wattlens-cli/tests/cli/validate.rs; WATTLENS_BLESS=1 rewrites) -->\n";
    const END: &str = "<!-- validate-infer:end -->";
    let v = json(&["validate", "--kind", "infer"]);
    let mut want = String::from("| inputs | set | measurements | families | refused | median \\|P50 error\\| | P5-P95 holds | median P95/P5 | bias |\n|---|---|---|---|---|---|---|---|---|\n");
    for s in v["summaries"].as_array().expect("summaries") {
        let _ = writeln!(
            want,
            "| {} | {} | {} | {} | {} | {:.0}% | {} of {} ({:.0}%) | {:.2} | {:+.0}% |",
            if s["inputs"] == "params" {
                "parameters only"
            } else {
                "with the shape"
            },
            s["set"].as_str().expect("set"),
            s["rows"],
            s["families"],
            s["refused"],
            f(s, "median_abs_error") * 100.0,
            s["inside"],
            s["rows"],
            f(s, "coverage") * 100.0,
            f(s, "median_width"),
            f(s, "bias") * 100.0
        );
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/validation.md");
    let doc = std::fs::read_to_string(&path).expect("docs/validation.md");
    let start = doc.find(BEGIN).expect("the begin marker") + BEGIN.len();
    let end = doc[start..].find(END).expect("the end marker") + start;
    if doc[start..end] == want {
        return;
    }
    if std::env::var_os("WATTLENS_BLESS").is_some() {
        std::fs::write(&path, format!("{}{want}{}", &doc[..start], &doc[end..])).expect("write");
        return;
    }
    panic!("docs/validation.md's inference block differs from `wattlens validate --kind infer`; run with WATTLENS_BLESS=1 or paste:\n{want}");
}
