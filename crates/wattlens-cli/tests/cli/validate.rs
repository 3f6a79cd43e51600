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
    // Goal P95/P5 <= 3 NOT met: the shipped C0's Student-t interval over 7 calibration
    // families is 3.77 wide (t95(6) = 1.943); the registered C2's was 4.31.
    assert!(f(h, "median_width") <= 3.8, "honest figure 3.77: {h}");

    // Which form ships: the registered rule chose C2 (lowest PRESS among the calibration
    // families); its procedure, nested leave-one-family-out, is worse than C0 left out family
    // by family (36%, 22 of 31 against 28%, 23 of 31), so the second-level rule ships C0.
    let sel = &v["selection"];
    assert_eq!(
        (&sel["registered"], &sel["shipped"]),
        (&"C2".into(), &"C0".into()),
        "{sel}"
    );
    assert_eq!(v["prior"]["form"], "C0");
    assert!(f(&sel["constant"], "median_abs_error") <= 0.29, "{sel}");
    assert_eq!(f(&sel["constant"], "inside"), 23.0, "{sel}");
    assert_eq!(sel["nested"], v["cross_validated"]["summary"], "{sel}");

    // Leave one family out, nested (the form chosen in each fold), all 31 runs out-of-family.
    let cv = &v["cross_validated"]["summary"];
    assert_eq!(f(cv, "rows"), 31.0);
    assert!(f(cv, "median_width") <= 3.0, "goal: {cv}");
    // Goals |error| <= 25% and coverage >= 80% NOT met: 36% and 22 of 31 (71%), most misses
    // the A100-era LLaMA/Falcon runs (u 0.43-0.51) and the small Llama 3.x (u 0.05-0.16).
    assert!(
        f(cv, "median_abs_error") <= 0.37,
        "honest figure 0.36: {cv}"
    );
    assert!(f(cv, "inside") >= 22.0, "honest figure 22 of 31: {cv}");
    assert_eq!(
        v["cross_validated"]["folds"]
            .as_array()
            .expect("folds")
            .len(),
        12
    );
    // Each candidate's own leave-one-family-out (the form fixed in every fold): C0 (today's
    // single prior) 28% / 23 of 31; the best, C3, 27% / 26 of 31 — none meets 25% and 80%.
    let cands = v["candidates"].as_array().expect("candidates");
    for c in cands {
        let o = &c["cross_validated"];
        assert!(f(o, "median_abs_error") <= 0.31, "{c}");
        assert!(f(o, "inside") >= 22.0, "{c}");
    }

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
    // 6 x 70e9 x 2e12 = 8.4e23 FLOP / (312e12 FLOP/s x 0.3063 x 3600) = 2.442M A100-hours at
    // the shipped C0's median, exp(-1.183) = 0.3063 (published 1,720,320: +42%).
    assert!((f(&row, "p50_h") / 2.442e6 - 1.0).abs() < 0.02, "{row}");
    assert!((f(&row, "error") - 0.42).abs() < 0.03, "{row}");
    assert_eq!(row["split"], "calibration");
    assert_eq!(row["inside"], true);
    // The prior the estimates used is the shipped default, C0 fitted on the calibration half:
    // the registered rule chose C2 (the lowest PRESS, 0.0882, among C0-C4), which the
    // second-level rule did not ship (its nested leave-one-family-out is worse than C0's).
    assert_eq!(v["prior_used"], "ln u = -1.18");
    assert_eq!(v["prior"]["form"], "C0");
    assert_eq!(v["selection"]["registered"], "C2");
    assert_eq!(v["selection"]["shipped"], "C0");
    assert_eq!(
        v["prior"]["families"].as_array().expect("families").len(),
        7
    );
    let c = v["candidates"].as_array().expect("candidates");
    assert_eq!(c.len(), 5);
    // C4's MoE term cannot be fitted once Llama (the one MoE family of the calibration half) is
    // left out: no PRESS, so the rule cannot choose it.
    assert!(c[4]["press_calibration"].is_null(), "{}", c[4]);
    assert!(
        (f(&c[2], "press_calibration") - 0.0882).abs() < 1e-4,
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
        "shipped prior, fitted on the calibration half (26 runs of 7 families",
        "form C0, ln u = -1.18",
        "registered rule (lowest PRESS among the calibration families): C2",
        "C2 procedure, nested leave-one-family-out:   |error| 36%, 22 of 31 inside, P95/P5 2.50",
        "C0, leave-one-family-out:                    |error| 28%, 23 of 31 inside, P95/P5 2.28",
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
    // 6 x 8e9 x 1e12 = 4.8e22 FLOP / (989e12 x 0.3063 x 3600) = 44,010 H100-hours, at the
    // prior's median, exp(-1.183) = 0.3063.
    let (prior, _) = hours(&[]);
    assert!((prior / 44_010.0 - 1.0).abs() < 0.02, "{prior}");
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
        "form C0 (ln u = -1.18) fitted on 26 runs of 7 families",
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
        "effective_utilisation = 0.146..0.642 [default] train.utilisation.*: ln u = -1.18 with no covariate",
        "median 0.306,",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
    // The registered C2's generation term added back by a user catalog: the H100 run gets the
    // median exp(-1.183 - 0.4254) = 0.2002, 4.8e22 / (989e12 x 0.2002 x 3600) = 67,340 h
    // (44,010 h with the shipped C0).
    let p = super::temp_file(
        "generation.toml",
        "[[default]]\nkey = \"train.utilisation.hopper\"\nlow = -0.4254\nhigh = -0.4254\n",
    );
    let mut args = vec!["--catalog", p.to_str().expect("p")];
    args.extend_from_slice(&base);
    let v = json(&args);
    let h = f(&v["accelerator_hours"], "p50");
    assert!((h / 67_340.0 - 1.0).abs() < 0.02, "{h}");
}

/// The likeliest reason each run stays outside its out-of-family P5..P95 (the generated block
/// of docs/validation.md lists every such run and needs a reason for each: a new miss fails the
/// test until it is explained here).
const OUTSIDE: &[(&str, &str)] = &[
    ("llama-1-13b", "A100-era run at implied u 0.51, above every other family but Falcon: LLaMA's Table 15 hours are the pre-training alone on a well-tuned stack; and the fold without Llama chose C1 (no generation term), predicting u about 0.28 for every Llama run"),
    ("llama-1-33b", "as llama-1-13b (u 0.46)"),
    ("llama-1-65b", "as llama-1-13b (u 0.48)"),
    ("llama-1-7b", "as llama-1-13b (u 0.43)"),
    ("falcon-7b", "u 0.43 on A100-40GB, as high as LLaMA 1, and the fold without Falcon chose C1 (no generation term: u 0.26 at 7B); its hours are count x days (384 x 14 d), not logged time"),
    ("llama-3-8b", "u 0.16: Meta's H100 hours bill the whole run, and an 8B model fills an H100 less than a 70B or 405B one"),
    ("llama-3.1-8b", "as llama-3-8b (u 0.14)"),
    ("llama-3.2-1b", "u 0.05: a 1B model on H100s (small matrices, communication-bound) trained by distillation; the smallest model in the table"),
    ("llama-3.2-3b", "as llama-3.2-1b (u 0.11)"),
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
    s.push_str("The candidate forms (registered above), each fitted on the calibration half; PRESS is what the rule compares (leave-one-family-out mean squared error of `ln u` among the calibration families; `inf`: a fold cannot be fitted); held-back is each form's calibration fit on the 5 held-back runs; out-of-family is each form fixed and refitted leaving each of the 12 families out:\n\n");
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
        "\nNested leave-one-family-out (the rule run inside each fold on the other 11 families) chose, by family left out: {}.\n",
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
    s.push_str("\nFacility energy from accelerator x count x days x PUE:\n\n");
    s.push_str(head);
    md_summary(
        &mut s,
        "independent energy (Patterson et al.)",
        summary(v, "energy_summary", "independent"),
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
/// inside) the P50 is 34.7% off at the median (the error goal, just), 32 of 56 inside (not the
/// coverage goal), P95/P5 2.23, bias -21%; with the row's shape 28% off, 23 of 45 inside, 8 rows
/// refused (unchanged).
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
    let p = infer_summary(&v, "params", "all");
    assert_eq!(
        (f(p, "rows"), f(p, "inside"), f(p, "refused")),
        (56.0, 36.0, 0.0)
    );
    near(p, "median_abs_error", 0.280);
    near(p, "bias", -0.172);
    near(p, "median_width", 2.234);
    assert!(f(p, "median_abs_error") <= 0.35, "the error goal: {p}");
    let s = infer_summary(&v, "shape", "all");
    assert_eq!(
        (f(s, "rows"), f(s, "inside"), f(s, "refused")),
        (45.0, 26.0, 8.0)
    );
    near(s, "median_abs_error", 0.246);
    near(s, "bias", -0.168);
    near(s, "median_width", 1.960);
    // One source dominates: the ML.ENERGY leaderboard v3, 53 of the 56.
    let m = infer_summary(&v, "params", "mlev3");
    assert_eq!((f(m, "rows"), f(m, "inside")), (53.0, 33.0));
    // By batch band (every checked row has a batch, so the bands partition "all"): the misses
    // are at batch 1-16 (5 of 19 inside, 35% low: decode power, docs/models.md 7.1; 1 of 19
    // and 42% low with power_low 0.20-0.43); from batch 17 up the ranges hold 31 of 37. A change
    // at low batch shows here first.
    let bands = [
        ("batch 1-16", 19.0, 5.0, 0.349, -0.349),
        ("batch 17-128", 22.0, 17.0, 0.130, -0.069),
        ("batch 129+", 15.0, 14.0, 0.3176, 0.230),
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
    assert_eq!((f(sb, "rows"), f(sb, "inside")), (18.0, 4.0), "{sb}");
    near(sb, "median_abs_error", 0.320);
    let total: f64 = bands.iter().map(|b| b.1).sum();
    assert_eq!(total, f(p, "rows"), "the bands partition the checked rows");
    // Llama 3.1 8B on one H100 at batch 64: measured 0.119 J per output token; with the shape
    // the P50 is within 5% (0.119; 0.116 with power_low 0.20-0.43), with parameters only too
    // (0.122; 0.119 before, 0.060 before the shape was inferred).
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
        (f(&row["params"]["estimate"], "p50_j") / 0.119 - 1.0).abs() < 0.05,
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
