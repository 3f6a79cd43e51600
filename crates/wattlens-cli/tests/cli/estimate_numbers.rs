//! The numbers `wattlens estimate` prints: a model preset with a job's own duration, impossible
//! implied MFUs, extreme but finite inputs (never inf/NaN/null, always exit 0 or 2), budgets that
//! fail closed, JSON that follows the project's schema, silent fallbacks made visible, CPU-only
//! servers, and one human number format in the tables.

use super::{assert_usage_error, json, notes, p50, stderr, stdout, wattlens};
use serde_json::Value;
use std::path::PathBuf;

fn schema() -> Value {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/schema/footprint-v1.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("schema file")).expect("schema")
}

/// The subset of JSON Schema the footprint schema uses: `type`, `required`, `properties`,
/// `items`, `additionalProperties` (as a schema). Returns the paths that break it.
fn violations(v: &Value, s: &Value, path: &str, out: &mut Vec<String>) {
    if let Some(t) = s.get("type") {
        let types: Vec<&str> = match t {
            Value::String(x) => vec![x.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let ok = types.iter().any(|t| match *t {
            "number" => v.is_number(),
            "integer" => v.is_i64() || v.is_u64(),
            "string" => v.is_string(),
            "object" => v.is_object(),
            "array" => v.is_array(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            _ => true,
        });
        if !ok {
            out.push(format!("{path}: {v} is not {types:?}"));
            return;
        }
    }
    if let (Some(o), Some(req)) = (v.as_object(), s.get("required").and_then(Value::as_array)) {
        for k in req.iter().filter_map(Value::as_str) {
            if !o.contains_key(k) {
                out.push(format!("{path}: lacks required {k}"));
            }
        }
    }
    if let Some(o) = v.as_object() {
        let props = s.get("properties").and_then(Value::as_object);
        for (k, x) in o {
            match props.and_then(|p| p.get(k)) {
                Some(ps) => violations(x, ps, &format!("{path}.{k}"), out),
                None => {
                    if let Some(ap) = s.get("additionalProperties").filter(|a| a.is_object()) {
                        violations(x, ap, &format!("{path}.{k}"), out);
                    }
                }
            }
        }
    }
    if let (Some(a), Some(items)) = (v.as_array(), s.get("items")) {
        for (i, x) in a.iter().enumerate() {
            violations(x, items, &format!("{path}[{i}]"), out);
        }
    }
}

/// Every number in the JSON is finite, and no value is null (serde writes NaN and inf as null).
fn all_finite(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Null => out.push(path.to_string()),
        Value::Number(n) if !n.as_f64().is_some_and(f64::is_finite) => out.push(path.to_string()),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| all_finite(x, &format!("{path}[{i}]"), out)),
        Value::Object(o) => o
            .iter()
            .for_each(|(k, x)| all_finite(x, &format!("{path}.{k}"), out)),
        _ => {}
    }
}

// ---- a model preset, fine-tuned -----------------------------------------------------------

const FINE_TUNE: [&str; 13] = [
    "estimate",
    "train",
    "--model",
    "llama-3.1-8b",
    "--gpu",
    "h100",
    "--gpus",
    "8",
    "--days",
    "12h",
    "--grid",
    "DE",
    "--samples=500",
];

#[test]
fn a_fine_tune_of_a_preset_does_not_take_the_presets_pre_training_tokens() {
    let v = json(&FINE_TUNE);
    // No compute is known, so no MFU is implied (it was 2114 from the 15T pre-training tokens).
    assert!(v.get("implied_mfu").is_none(), "{}", v["implied_mfu"]);
    assert!(v.get("compute_flop").is_none(), "{}", v["compute_flop"]);
    // The 12 hours are the job: 8 x 12 = 96 accelerator-hours.
    assert!((p50(&v, "accelerator_hours") - 96.0).abs() < 1e-9);
    // Meta's pre-training figures are not shown beside a 12-hour job; the output says why.
    assert!(v.get("published").is_none(), "{}", v["published"]);
    let n = notes(&v);
    assert!(n.contains("pre-training tokens are not used"), "{n}");
    assert!(
        n.contains("published training figures are not shown"),
        "{n}"
    );
    let t = stdout(&FINE_TUNE);
    assert!(!t.contains("published figures for comparison"), "{t}");
    assert!(
        t.contains("note: Llama 3.1 8B's published training figures"),
        "{t}"
    );
}

#[test]
fn a_fine_tune_with_its_own_tokens_implies_a_possible_mfu_and_no_published_figures() {
    let mut a = FINE_TUNE.to_vec();
    a.extend(["--tokens", "500M"]);
    let v = json(&a);
    // 6 x 8.03B x 500M / (8 x 989 TFLOP/s x 43,200 s) = 0.07
    let m = p50(&v, "implied_mfu");
    assert!(m > 0.05 && m < 0.1, "{m}");
    assert!(v.get("published").is_none(), "{}", v["published"]);
}

#[test]
fn an_implied_mfu_above_one_is_an_error_naming_the_inputs_that_disagree() {
    let mut a = FINE_TUNE.to_vec();
    a.extend(["--tokens", "15T"]);
    assert_usage_error(
        &a,
        &["implied MFU", "impossible", "--tokens", "--days", "--gpus"],
    );
}

#[test]
fn the_presets_own_training_run_still_shows_its_published_figures() {
    let v = json(&[
        "estimate",
        "train",
        "--model",
        "llama-3.1-8b",
        "--gpu",
        "h100",
        "--gpus",
        "1024",
        "--samples=500",
    ]);
    assert!(
        v["published"].as_array().is_some_and(|p| !p.is_empty()),
        "{v}"
    );
    assert!(p50(&v, "compute_flop") > 1e23);
}

// ---- extreme but finite inputs ------------------------------------------------------------

#[test]
fn extreme_finite_inputs_are_refused_naming_the_flag() {
    let base_train = ["estimate", "train", "--params", "1B", "--tokens", "2B"];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            [
                &base_train[..],
                &["--gpu", "h100", "--gpus", "8", "--days", "1e300"],
            ]
            .concat(),
            "--days",
        ),
        (vec!["estimate", "fleet", "--energy", "1e308"], "--energy"),
        (
            vec![
                "estimate",
                "infer",
                "--params",
                "8B",
                "--gpu",
                "a100",
                "--active-params",
                "1e-320",
            ],
            "--active-params",
        ),
        (
            vec![
                "estimate",
                "datacenter",
                "--it-power",
                "1MW",
                "--breakdown",
                "it=1e-300,cooling=1",
            ],
            "--breakdown",
        ),
        (
            vec!["estimate", "fleet", "--energy", "100", "--lifetime", "0"],
            "--lifetime",
        ),
    ];
    for (args, flag) in cases {
        assert_usage_error(&args, &[flag]);
        let o = wattlens(&[&args[..], &["--json"]].concat());
        assert!(o.stdout.is_empty(), "{args:?} printed a result");
    }
}

#[test]
fn a_budget_never_passes_a_figure_that_is_not_a_number() {
    // It exited 0 with NaN carbon: now the input is refused before any budget is checked.
    let o = wattlens(&[
        "estimate",
        "infer",
        "--params",
        "8B",
        "--gpu",
        "a100",
        "--active-params",
        "1e-320",
        "--max-carbon",
        "0",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // A budget that is not a single value is refused before any result is printed.
    let o = wattlens(&[
        "estimate",
        "fleet",
        "--energy",
        "100",
        "--max-carbon",
        "1..2",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "a result was printed before the error");
}

#[test]
fn zero_interruptions_with_failure_flags_write_json_that_follows_the_schema() {
    let v = json(&[
        "estimate",
        "train",
        "--params",
        "1B",
        "--tokens",
        "2B",
        "--gpu",
        "h100",
        "--gpus",
        "8",
        "--interruptions",
        "0",
        "--checkpoint-minutes",
        "1",
        "--restart-minutes",
        "2",
        "--samples=500",
    ]);
    let mut bad = Vec::new();
    violations(&v, &schema(), "$", &mut bad);
    all_finite(&v, "$", &mut bad);
    assert!(bad.is_empty(), "{bad:?}");
    // No interruptions: no mean time between them (it was infinity, written as null).
    assert!(v.get("mean_time_between_interruptions_hours").is_none());
    // Nor in the steps' formulas.
    let all = v.to_string();
    assert!(!all.contains("inf h") && !all.contains("NaN"), "{all}");
}

mod extreme_numbers {
    use super::{all_finite, schema, violations, wattlens};
    use proptest::prelude::*;

    /// Every numeric flag of every `estimate` subcommand, with base arguments that make a valid
    /// estimate without it.
    const CASES: &[(&[&str], &[&str])] = &[
        (
            &[
                "estimate", "train", "--params", "1B", "--tokens", "2B", "--gpu", "h100", "--gpus",
                "8",
            ],
            &[
                "--params",
                "--active-params",
                "--tokens",
                "--gpus",
                "--mfu",
                "--load",
                "--gpus-per-server",
                "--pue",
                "--intensity",
                "--market-intensity",
                "--cfe",
                "--wue",
                "--ewif",
                "--price",
                "--lifetime",
                "--max-carbon",
                "--max-energy",
            ],
        ),
        (
            &["estimate", "train", "--gpu", "h100", "--gpus", "8"],
            &["--days", "--gpu-hours"],
        ),
        (
            &[
                "estimate",
                "train",
                "--gpu",
                "h100",
                "--gpus",
                "8",
                "--days",
                "2",
                "--interruptions",
                "3",
                "--checkpoint-minutes",
                "1",
                "--restart-minutes",
                "2",
            ],
            &[
                "--interruptions",
                "--checkpoint-minutes",
                "--restart-minutes",
                "--checkpoint-interval",
                "--server-power",
                "--flops",
            ],
        ),
        (
            &[
                "estimate",
                "train",
                "--gpu",
                "h100",
                "--gpus",
                "8",
                "--days",
                "2",
                "--mtbf",
                "10h",
                "--checkpoint-minutes",
                "1",
                "--restart-minutes",
                "2",
            ],
            &["--mtbf", "--gpu-power"],
        ),
        (
            &[
                "estimate",
                "fleet",
                "--servers",
                "10",
                "--server-power",
                "1kW",
            ],
            &[
                "--servers",
                "--server-power",
                "--hours",
                "--days",
                "--load",
                "--pue",
                "--lifetime",
                "--price",
            ],
        ),
        (&["estimate", "fleet"], &["--it-power", "--energy"]),
        (
            &["estimate", "infer", "--params", "8B", "--gpu", "a100"],
            &[
                "--params",
                "--active-params",
                "--gpus",
                "--input-tokens",
                "--output-tokens",
                "--batch",
                "--requests",
                "--requests-per-day",
                "--utilization",
                "--mfu",
                "--mbu",
                "--intensity",
                "--max-carbon",
            ],
        ),
        (
            &["estimate", "infer", "--model", "gpt-3"],
            &["--energy-per-request", "--output-tokens", "--requests"],
        ),
        (&["estimate", "datacenter"], &["--it-power"]),
        (
            &["estimate", "datacenter", "--it-power", "1MW"],
            &["--hours", "--days", "--rack-power", "--pue", "--wue"],
        ),
        (
            &[
                "estimate",
                "datacenter",
                "--servers",
                "10",
                "--server-power",
                "1kW",
            ],
            &[
                "--servers",
                "--servers-per-rack",
                "--server-power",
                "--load",
            ],
        ),
    ];

    fn extreme() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("1e300".to_string()),
            Just("1e308".to_string()),
            Just("1.7e308".to_string()),
            Just("1e-320".to_string()),
            Just("4.9e-324".to_string()),
            Just("2.2e-308".to_string()),
            Just("0".to_string()),
            Just("1e-300..1e300".to_string()),
            (-320i32..309).prop_map(|e| format!("1e{e}")),
            (1u32..10, -320i32..309).prop_map(|(m, e)| format!("{m}e{e}")),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]
        #[test]
        fn extreme_finite_numbers_give_finite_json_or_exit_2(
            case in 0..CASES.len(),
            pick in any::<prop::sample::Index>(),
            v in extreme(),
        ) {
            let (base, flags) = CASES[case];
            let flag = flags[pick.index(flags.len())];
            let mut args: Vec<&str> = base.to_vec();
            args.extend([flag, v.as_str(), "--samples", "200", "--json"]);
            let o = wattlens(&args);
            let err = String::from_utf8_lossy(&o.stderr);
            prop_assert!(!err.contains("panicked"), "{args:?}: {err}");
            match o.status.code() {
                Some(0 | 1) => {
                    let j: serde_json::Value = serde_json::from_slice(&o.stdout)
                        .map_err(|e| TestCaseError::fail(format!("{args:?}: {e}")))?;
                    let mut bad = Vec::new();
                    all_finite(&j, "$", &mut bad);
                    violations(&j, &schema(), "$", &mut bad);
                    prop_assert!(bad.is_empty(), "{args:?}: {bad:?}");
                }
                Some(2) => {
                    prop_assert!(o.stdout.is_empty(), "{args:?} printed a result and failed");
                    prop_assert!(err.starts_with("error:"), "{args:?}: {err}");
                }
                other => prop_assert!(false, "{args:?}: exit {other:?}: {err}"),
            }
        }
    }
}

// ---- silent fallbacks, made visible --------------------------------------------------------

#[test]
fn fallbacks_are_notes_in_the_default_output() {
    // A named data centre that publishes no WUE: the generic range is said, not only in --explain.
    let t = stdout(&[
        "estimate",
        "fleet",
        "--energy",
        "100",
        "--datacenter",
        "google",
    ]);
    assert!(
        t.contains("note: --datacenter google publishes no on-site water (WUE)"),
        "{t}"
    );
    // A data centre given as a power only: its embodied carbon is 0, and the output says why.
    let t = stdout(&["estimate", "datacenter", "--it-power", "1MW"]);
    assert!(t.contains("note: embodied carbon is 0"), "{t}");
    // Per-token figures under --energy-per-request come from a default token count.
    let t = stdout(&[
        "estimate",
        "infer",
        "--energy-per-request",
        "0.3Wh",
        "--requests",
        "1000",
    ]);
    assert!(t.contains("default of"), "{t}");
    assert!(t.contains("--output-tokens"), "{t}");
    // Given, no such note.
    let t = stdout(&[
        "estimate",
        "infer",
        "--energy-per-request",
        "0.3Wh",
        "--output-tokens",
        "300",
    ]);
    assert!(!t.contains("default of"), "{t}");
}

// ---- CPU-only servers ----------------------------------------------------------------------

#[test]
fn a_fleet_without_accelerators_has_no_accelerator_component() {
    let v = json(&[
        "estimate",
        "fleet",
        "--servers",
        "10",
        "--server-power",
        "500W",
        "--load",
        "1",
        "--samples=500",
    ]);
    let kinds: Vec<&str> = v["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter_map(|c| c["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["host", "server"]);
    // 10 x 500 W x 24 h = 120 kWh, all of it host and rest of server.
    assert!((p50(&v, "it_energy_kwh") - 120.0).abs() < 1e-3);
    let sum: f64 = v["components"]
        .as_array()
        .expect("c")
        .iter()
        .map(|c| c["energy_kwh"]["p50"].as_f64().expect("kWh"))
        .sum();
    assert!((sum / 120.0 - 1.0).abs() < 0.05, "{sum}");
    assert!(v.get("accelerators").is_none());
    let t = stdout(&[
        "estimate",
        "fleet",
        "--servers",
        "10",
        "--server-power",
        "500W",
    ]);
    assert!(!t.contains("  accelerators "), "{t}");
}

#[test]
fn a_cpu_only_estimate_beside_a_cpu_only_run_compares_near_one() {
    // A measured CPU run (the library's fixture trace) beside a CPU-only estimate of the same
    // server: ratios of the same order, not 400,000x.
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let run = dir.join("run.json");
    let o = wattlens(&[
        "run",
        "-q",
        "--charge",
        "machine",
        "--cpu-tdp",
        "65W",
        "--json",
        run.to_str().expect("utf-8"),
        "--",
        "sleep",
        "0.3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r: Value = serde_json::from_slice(&std::fs::read(&run).expect("run.json")).expect("json");
    let secs = r["duration_s"].as_f64().expect("duration");
    let hours = format!("{}h", secs / 3600.0);
    let v = json(&[
        "estimate",
        "fleet",
        "--servers",
        "1",
        "--server-power",
        "90W",
        "--load",
        "0.1..1",
        "--hours",
        &hours,
        "--samples=500",
        "--compare",
        run.to_str().expect("utf-8"),
    ]);
    let rows = v["comparison"]["figures"].as_array().expect("figures");
    let it = rows
        .iter()
        .find(|f| f["name"] == "it_energy_kwh")
        .expect("IT energy row");
    let ratio = it["ratio_p50"].as_f64().expect("ratio");
    assert!(ratio > 0.1 && ratio < 10.0, "{ratio}");
    // This side has no invented accelerator component.
    assert!(
        v["components"]
            .as_array()
            .expect("components")
            .iter()
            .all(|c| c["kind"] != "accelerator"),
        "{}",
        v["components"]
    );
    let kinds = v["comparison"]["it_energy_by_kind"].as_array().expect("k");
    assert!(
        kinds.iter().all(|k| k["kind"] != "accelerator"),
        "{kinds:?}"
    );
}

// ---- one human number format ---------------------------------------------------------------

#[test]
fn tables_use_one_human_number_format() {
    // 1,000 DGX H100 servers for a year: millions of USD, billions of phone charges.
    let args = [
        "estimate",
        "fleet",
        "--servers",
        "1000",
        "--server",
        "dgx-h100",
        "--days",
        "365",
        "--grid",
        "DE",
    ];
    let t = stdout(&args);
    let md = stdout(&[&args[..], &["--format", "markdown"]].concat());
    for out in [&t, &md] {
        for line in out
            .lines()
            .filter(|l| !l.contains('[') && !l.contains("--") && !l.contains("seed"))
        {
            for word in line.split_whitespace() {
                let w = word.trim_matches(|c: char| c == '|' || c == '(' || c == ')');
                // No bare run of 7+ digits (2017173 USD) and no scientific notation in figures.
                let digits = w.chars().filter(char::is_ascii_digit).count();
                assert!(
                    !(digits >= 7 && w.chars().all(|c| c.is_ascii_digit())),
                    "{w:?} in {line:?}"
                );
                assert!(
                    !(w.contains("e-") || w.contains("e+"))
                        || !w.starts_with(|c: char| c.is_ascii_digit()),
                    "{w:?} in {line:?}"
                );
                assert_ne!(w, "-0", "{line:?}");
            }
        }
    }
    assert!(t.contains(" EUR"), "{t}"); // DE's price is in euros
    assert!(t.contains("M "), "{t}");
    assert!(t.contains("B charges"), "{t}");
}

#[test]
fn rows_that_show_as_zero_are_left_out_of_tables_but_kept_in_json() {
    // A data centre of 1 GW for a year has no known hardware: embodied carbon is 0 kgCO2e, which
    // was a "0 gCO2e" row in a GWh table.
    let args = ["estimate", "datacenter", "--it-power", "1GW"];
    let t = stdout(&args);
    assert!(!t.contains("embodied carbon  "), "{t}");
    assert!(!t.contains(" 0  "), "{t}");
    let v = json(&args);
    assert_eq!(p50(&v, "embodied_carbon_kgco2e"), 0.0);
}

#[test]
fn a_cpu_only_training_run_has_host_and_rest_but_no_accelerators() {
    let v = json(&[
        "estimate",
        "train",
        "--server-power",
        "500W",
        "--servers",
        "4",
        "--days",
        "2",
        "--load",
        "1",
        "--samples=500",
    ]);
    // 4 x 500 W x 48 h = 96 kWh, host and rest of server only.
    assert!((p50(&v, "it_energy_kwh") - 96.0).abs() < 1e-3);
    let kinds: Vec<&str> = v["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter_map(|c| c["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["host", "server"]);
    assert!(v.get("accelerator_hours").is_none());
    assert!(v.get("implied_mfu").is_none());
    // Embodied carbon of 4 servers, none of accelerators.
    assert!(p50(&v, "embodied_carbon_kgco2e") > 0.0);
    // Accelerator flags make no sense there.
    assert_usage_error(
        &[
            "estimate",
            "train",
            "--server-power",
            "500W",
            "--gpus",
            "4",
            "--days",
            "2",
        ],
        &["--gpus", "CPU-only"],
    );
    assert_usage_error(
        &["estimate", "train", "--server-power", "500W"],
        &["--days", "CPU-only"],
    );
    // And --servers is for CPU-only runs only.
    assert_usage_error(
        &[
            "estimate",
            "train",
            "--gpu",
            "h100",
            "--gpus",
            "8",
            "--servers",
            "1",
            "--days",
            "1",
        ],
        &["--servers", "--gpus"],
    );
}

#[test]
fn the_presets_published_duration_is_still_its_training_run() {
    // docs/validation.md: GPT-3 with its published 14.8 days implies an MFU of about 0.2 and
    // shows the published figures beside the estimate.
    let v = json(&[
        "estimate",
        "train",
        "--model",
        "gpt-3",
        "--days",
        "14.8",
        "--pue",
        "1.1",
        "--intensity",
        "429",
        "--samples=500",
    ]);
    let m = p50(&v, "implied_mfu");
    assert!((m - 0.197).abs() < 0.002, "{m}");
    assert!(
        v["published"].as_array().is_some_and(|p| !p.is_empty()),
        "{v}"
    );
}
