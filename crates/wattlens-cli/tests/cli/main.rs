//! The one integration-test binary: runs the real `wattlens` binary and checks exit codes,
//! JSON output and messages. Validation cases name the case from `seed-scenarios.toml`.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn wattlens(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wattlens"))
        .args(args)
        .env_remove("WATTLENS_CATALOG")
        .env_remove("WATTLENS_CONFIG")
        .output()
        .expect("runs wattlens")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs with `--json` appended and returns the object; fails on a non-zero exit.
fn json(args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.push("--json");
    let o = wattlens(&a);
    assert!(
        o.status.success(),
        "wattlens {args:?} failed: {}",
        stderr(&o)
    );
    serde_json::from_slice(&o.stdout).expect("valid JSON")
}

fn p50(v: &Value, key: &str) -> f64 {
    v[key]["p50"]
        .as_f64()
        .unwrap_or_else(|| panic!("no {key}.p50 in {v}"))
}

/// The `expect` ranges of a seed scenario.
fn expect(case: &str, key: &str) -> (f64, f64) {
    let text = std::fs::read_to_string(fixture("seed-scenarios.toml")).expect("seed file");
    let t: toml::Table = text.parse().expect("seed TOML");
    let r = t[case]["expect"][key]
        .as_array()
        .unwrap_or_else(|| panic!("{case}.expect.{key}"));
    (
        r[0].as_float().expect("low"),
        r[1].as_float().expect("high"),
    )
}

fn assert_in(case: &str, key: &str, got: f64) {
    let (lo, hi) = expect(case, key);
    assert!(
        (lo..=hi).contains(&got),
        "{case}: {key} = {got}, expected within [{lo}, {hi}]"
    );
}

/// Exit code 2, and stderr mentions every needle.
fn assert_usage_error(args: &[&str], needles: &[&str]) {
    let o = wattlens(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "wattlens {args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(
            err.contains(n),
            "wattlens {args:?}: stderr lacks {n:?}: {err}"
        );
    }
}

// ---- published cases (shared/validation/seed-scenarios.toml) -------------------------------

#[test]
fn seed_llama3_405b_pretraining() {
    let v = json(&[
        "estimate",
        "train",
        "--gpu",
        "h100",
        "--gpus",
        "16000",
        "--days",
        "54",
        "--server",
        "dgx-h100",
        "--power-basis",
        "server",
        "--load",
        "1",
        "--pue",
        "1.1",
    ]);
    assert_in(
        "llama3_405b_pretraining",
        "facility_power_mw",
        p50(&v, "facility_power_kw") / 1e3,
    );
    assert_in(
        "llama3_405b_pretraining",
        "facility_energy_mwh",
        p50(&v, "facility_energy_kwh") / 1e3,
    );
}

#[test]
fn seed_llama3_405b_failures() {
    let v = json(&[
        "estimate",
        "train",
        "--gpu",
        "h100",
        "--gpus",
        "16000",
        "--days",
        "54",
        "--interruptions",
        "466",
        "--checkpoint-minutes",
        "1",
        "--restart-minutes",
        "3",
    ]);
    let c = "llama3_405b_failures";
    assert_in(
        c,
        "mean_time_between_interruptions_hours",
        p50(&v, "mean_time_between_interruptions_hours"),
    );
    assert_in(
        c,
        "optimal_checkpoint_interval_minutes",
        p50(&v, "checkpoint_interval_minutes"),
    );
    assert_in(c, "lost_time_fraction", p50(&v, "lost_time_fraction"));
}

#[test]
fn seed_gpt4_training() {
    let v = json(&[
        "estimate",
        "train",
        "--gpu",
        "a100",
        "--gpus",
        "25000",
        "--days",
        "100",
        "--server-power",
        "6.5kW",
        "--gpus-per-server",
        "8",
        "--load",
        "1",
        "--pue",
        "1",
    ]);
    assert_in(
        "gpt4_training",
        "it_energy_mwh",
        p50(&v, "it_energy_kwh") / 1e3,
    );
}

#[test]
fn seed_gpt4_from_first_principles() {
    let v = json(&[
        "estimate",
        "train",
        "--params",
        "1.7e12",
        "--active-params",
        "2.8e11",
        "--tokens",
        "13e12",
        "--gpu",
        "a100",
        "--gpus",
        "25000",
    ]);
    assert_in(
        "gpt4_from_first_principles",
        "duration_days",
        p50(&v, "duration_days"),
    );
}

#[test]
fn seed_chatgpt_daily_servers() {
    let v = json(&[
        "estimate",
        "fleet",
        "--servers",
        "3617",
        "--server-power",
        "6.5kW",
        "--hours",
        "24",
        "--load",
        "1",
        "--pue",
        "1",
    ]);
    assert_in(
        "chatgpt_daily_servers",
        "it_energy_mwh",
        p50(&v, "it_energy_kwh") / 1e3,
    );
}

#[test]
fn seed_chatgpt_daily_households() {
    let v = json(&[
        "estimate",
        "fleet",
        "--energy",
        "500000kWh",
        "--hours",
        "24",
        "--pue",
        "1",
    ]);
    let homes = v["equivalents"]
        .as_array()
        .expect("equivalents")
        .iter()
        .find(|e| e["name"] == "us_homes")
        .expect("us_homes");
    assert!(
        homes["source"].as_str().is_some_and(|s| s.contains("EIA")),
        "{homes}"
    );
    assert_in(
        "chatgpt_daily_households",
        "us_households_equivalent",
        homes["value"]["p50"].as_f64().expect("p50"),
    );
}

#[test]
fn seed_ai_in_every_google_search() {
    let v = json(&[
        "estimate",
        "fleet",
        "--servers",
        "512821",
        "--server-power",
        "6.5kW",
        "--load",
        "1",
        "--pue",
        "1",
    ]);
    let c = "ai_in_every_google_search";
    assert_in(c, "energy_mwh_per_day", p50(&v, "energy_kwh_per_day") / 1e3);
    assert_in(
        c,
        "energy_twh_per_year",
        p50(&v, "energy_kwh_per_year") / 1e9,
    );
}

#[test]
fn seed_datacenter_breakdown() {
    let v = json(&[
        "estimate",
        "datacenter",
        "--breakdown",
        "it=0.50,cooling=0.40,power=0.10",
        "--it-power",
        "1MW",
    ]);
    assert_in("datacenter_breakdown", "pue", p50(&v, "pue"));
}

// ---- output contract ------------------------------------------------------------------------

#[test]
fn json_follows_the_schema_required_keys() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/schema/footprint-v1.json"),
        )
        .expect("schema file"),
    )
    .expect("schema JSON");
    let v = json(&[
        "estimate",
        "train",
        "--model",
        "llama-3.1-405b",
        "--grid",
        "FR",
    ]);
    assert_eq!(v["schema"], "wattlens.footprint/v1");
    for key in schema["required"].as_array().expect("required") {
        let k = key.as_str().expect("key");
        assert!(!v[k].is_null(), "missing {k}");
    }
    for k in [
        "facility_energy_kwh",
        "it_energy_kwh",
        "carbon_kgco2e",
        "water_l",
        "accelerator_hours",
        "duration_days",
        "facility_power_kw",
        "lost_time_fraction",
        "cost",
    ] {
        let f = &v[k];
        assert!(
            f["p5"].as_f64().expect("p5") <= f["p50"].as_f64().expect("p50"),
            "{k}"
        );
        assert!(
            f["p50"].as_f64().expect("p50") <= f["p95"].as_f64().expect("p95"),
            "{k}"
        );
    }
    assert_eq!(v["cost"]["currency"], "USD");
    let comps: Vec<&str> = v["components"]
        .as_array()
        .expect("components")
        .iter()
        .map(|c| c["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(comps, ["accelerator", "host", "server"]);
    // The components add up to the IT energy (P50s of sums differ slightly; compare at P50 within 5%).
    let sum: f64 = v["components"]
        .as_array()
        .expect("c")
        .iter()
        .map(|c| c["energy_kwh"]["p50"].as_f64().expect("e"))
        .sum();
    assert!((sum / p50(&v, "it_energy_kwh") - 1.0).abs() < 0.05, "{sum}");
    // A catalog model with published figures shows them beside the estimate.
    assert!(v["published"].as_array().is_some_and(|p| !p.is_empty()));
    assert!(v["steps"].as_array().is_some_and(|s| s
        .iter()
        .any(|s| s["source"].as_str().is_some_and(|x| x.contains("Kaplan")))));
}

#[test]
fn point_inputs_give_point_outputs_and_seeds_reproduce() {
    let cat = fixture("point-defaults.toml");
    let args = [
        "--catalog",
        cat.to_str().expect("p"),
        "estimate",
        "fleet",
        "--servers",
        "10",
        "--server-power",
        "1kW",
        "--load",
        "1",
        "--pue",
        "1.2",
        "--intensity",
        "400",
        "--wue",
        "0.5",
        "--ewif",
        "2",
        "--price",
        "0.1",
        "--lifetime",
        "4",
    ];
    let v = json(&args);
    let e = &v["facility_energy_kwh"];
    // 10 x 1 kW x 24 h x 1.2 = 288 kWh; x 400 g/kWh = 115.2 kg
    assert_eq!(
        (e["p5"].as_f64(), e["p95"].as_f64()),
        (Some(288.0), Some(288.0))
    );
    assert!((p50(&v, "operational_carbon_kgco2e") - 115.2).abs() < 1e-9);
    assert_eq!(v["samples"], 1);
    let ranged = [
        "estimate",
        "train",
        "--model",
        "llama-3-70b",
        "--gpus",
        "2048",
        "--seed",
        "7",
    ];
    assert_eq!(json(&ranged), json(&ranged));
    let other = json(&[
        "estimate",
        "train",
        "--model",
        "llama-3-70b",
        "--gpus",
        "2048",
        "--seed",
        "8",
    ]);
    assert_ne!(
        json(&ranged)["facility_energy_kwh"],
        other["facility_energy_kwh"]
    );
}

#[test]
fn explain_prints_steps_with_sources_and_assumptions() {
    let o = wattlens(&["estimate", "train", "--model", "gpt-3", "--explain"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", stderr(&o));
    for needle in [
        "steps",
        "C = 6 x N_active x D",
        "E_fac = E_it x PUE",
        "source:",
        "assumptions:",
        "mfu = 0.3..0.5 [default]",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
}

#[test]
fn csv_and_markdown_formats() {
    let o = wattlens(&[
        "estimate",
        "fleet",
        "--servers",
        "2",
        "--server",
        "dgx-h100",
        "--format",
        "csv",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.starts_with("kind,figure,p5,p50,p95,method\n"), "{out}");
    assert!(out.contains("fleet,facility_energy_kwh,"));
    let o = wattlens(&[
        "estimate",
        "fleet",
        "--servers",
        "2",
        "--server",
        "dgx-h100",
        "--format",
        "markdown",
    ]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("| facility energy |"));
}

#[test]
fn budgets_exit_one_when_exceeded() {
    let args = [
        "estimate",
        "fleet",
        "--servers",
        "10",
        "--server-power",
        "1kW",
        "--pue",
        "1",
        "--load",
        "1",
        "--intensity",
        "400",
    ];
    let mut over = args.to_vec();
    over.extend(["--max-carbon", "50kg"]);
    let o = wattlens(&over);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("carbon budget exceeded"));
    let mut under = args.to_vec();
    under.extend(["--max-energy", "1MWh"]);
    assert_eq!(wattlens(&under).status.code(), Some(0));
}

#[test]
fn grids_resolve_by_country_region_and_named_grid() {
    for g in [
        "FR",
        "FRA",
        "USA",
        "us",
        "gcp:europe-west1",
        "aws:us-east-1",
        "us-egrid:CAMX",
        "cn-north",
        "azure:westeurope",
    ] {
        let v = json(&[
            "estimate",
            "fleet",
            "--servers",
            "1",
            "--server-power",
            "1kW",
            "--grid",
            g,
        ]);
        assert!(p50(&v, "operational_carbon_kgco2e") > 0.0, "{g}");
    }
    // Market-based is reported only when known, beside location-based.
    let v = json(&[
        "estimate",
        "fleet",
        "--servers",
        "1",
        "--server-power",
        "1kW",
        "--grid",
        "US",
        "--cfe",
        "100%",
    ]);
    assert_eq!(p50(&v, "market_carbon_kgco2e"), 0.0);
    let v = json(&[
        "estimate",
        "fleet",
        "--servers",
        "1",
        "--server-power",
        "1kW",
        "--grid",
        "US",
    ]);
    assert!(v["market_carbon_kgco2e"].is_null());
}

#[test]
fn datacenter_racks_and_cooling() {
    let v = json(&[
        "estimate",
        "datacenter",
        "--it-power",
        "20MW",
        "--rack-power",
        "100kW",
        "--cooling",
        "air",
    ]);
    let names: Vec<&str> = v["rack"]["suitable_cooling"]
        .as_array()
        .expect("suitable")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert!(!names.iter().any(|n| n.contains("Air")), "{names:?}");
    assert!(v["notes"].as_array().is_some_and(|n| n
        .iter()
        .any(|n| n.as_str().is_some_and(|s| s.contains("exceeds")))));
}

// ---- catalog ---------------------------------------------------------------------------------

#[test]
fn catalog_list_and_show_with_sources() {
    let o = wattlens(&["catalog", "list", "accelerators"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("NVIDIA H100 SXM5 80GB")
            && out.contains("Google TPU v4")
            && out.contains("Ascend"),
        "{out}"
    );
    let o = wattlens(&["catalog", "show", "grids", "us-egrid:CAMX"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("source:") && out.contains("eGRID2022") && out.contains("scope"),
        "{out}"
    );
    let o = wattlens(&["catalog", "show", "defaults", "train.mfu"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("Llama 3"));
    assert_usage_error(
        &["catalog", "show", "accelerators", "h1000"],
        &["unknown accelerator", "did you mean"],
    );
    assert_usage_error(&["catalog", "list", "planets"], &["unknown catalog table"]);
}

#[test]
fn user_catalog_adds_and_overrides_rows() {
    let cat = fixture("user-catalog.toml");
    let cat = cat.to_str().expect("path");
    let v = json(&[
        "--catalog",
        cat,
        "estimate",
        "train",
        "--gpu",
        "npu1",
        "--gpus",
        "8",
        "--days",
        "1",
        "--grid",
        "FR",
        "--pue",
        "1",
    ]);
    assert_eq!(v["accelerator"], "Example NPU 1");
    // The override's 50 g/kWh is used: carbon / facility energy = 0.05 kg/kWh.
    assert!(
        (p50(&v, "operational_carbon_kgco2e") / p50(&v, "facility_energy_kwh") - 0.05).abs() < 1e-6
    );
    let broken = fixture("broken-catalog.toml");
    assert_usage_error(
        &[
            "--catalog",
            broken.to_str().expect("p"),
            "estimate",
            "fleet",
            "--energy",
            "1",
        ],
        &["broken-catalog.toml", "line 4"],
    );
}

#[test]
fn config_file_sets_site_defaults() {
    let dir = std::env::temp_dir().join(format!("wattlens-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tempdir");
    let cfg = dir.join("wattlens.toml");
    std::fs::write(
        &cfg,
        "seed = 3\n[site]\npue = \"1.5\"\nintensity = \"100g/kWh\"\n",
    )
    .expect("write");
    let v = json(&[
        "--config",
        cfg.to_str().expect("p"),
        "estimate",
        "fleet",
        "--energy",
        "10kWh",
    ]);
    assert_eq!(p50(&v, "facility_energy_kwh"), 15.0);
    assert_eq!(v["seed"], 3);
    std::fs::write(&cfg, "[site]\npeu = \"1.5\"\n").expect("write");
    assert_usage_error(
        &[
            "--config",
            cfg.to_str().expect("p"),
            "estimate",
            "fleet",
            "--energy",
            "1",
        ],
        &["wattlens.toml", "line 2"],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn completions_are_generated() {
    let o = wattlens(&["completions", "bash"]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("wattlens"));
}

// ---- bad input ---------------------------------------------------------------------------------

#[test]
fn unknown_names_suggest_the_closest() {
    assert_usage_error(
        &["estimate", "train", "--model", "llama-3.1-450b"],
        &["unknown model", "did you mean", "Llama 3.1 405B"],
    );
    assert_usage_error(
        &[
            "estimate", "train", "--gpu", "h10", "--gpus", "8", "--days", "1",
        ],
        &["unknown accelerator", "H100"],
    );
    assert_usage_error(
        &[
            "estimate",
            "fleet",
            "--energy",
            "1",
            "--grid",
            "gcp:europe-wst1",
        ],
        &["unknown grid", "europe-west1"],
    );
    assert_usage_error(
        &["estimate", "fleet", "--servers", "1", "--server", "dgx-h10"],
        &["unknown server", "DGX H100"],
    );
}

#[test]
fn negative_zero_nan_and_fractional_counts_are_refused() {
    for bad in ["-3", "0", "NaN", "2.5", "inf", "lots"] {
        assert_usage_error(
            &[
                "estimate", "train", "--gpu", "h100", "--gpus", bad, "--days", "1",
            ],
            &["--gpus"],
        );
    }
    assert_usage_error(
        &[
            "estimate", "train", "--gpu", "h100", "--gpus", "8", "--days", "-1",
        ],
        &["--days"],
    );
    assert_usage_error(
        &[
            "estimate",
            "fleet",
            "--servers",
            "0",
            "--server-power",
            "1kW",
        ],
        &["--servers"],
    );
}

#[test]
fn reversed_ranges_and_out_of_domain_values_are_refused() {
    assert_usage_error(
        &["estimate", "train", "--model", "gpt-3", "--mfu", "0.5..0.3"],
        &["--mfu", "reversed"],
    );
    assert_usage_error(
        &["estimate", "train", "--model", "gpt-3", "--mfu", "1.5"],
        &["--mfu", "at most 1"],
    );
    assert_usage_error(
        &["estimate", "fleet", "--energy", "1", "--pue", "0.9"],
        &["--pue", "below 1"],
    );
    assert_usage_error(
        &["estimate", "fleet", "--energy", "1", "--intensity", "300V"],
        &["--intensity"],
    );
    assert_usage_error(
        &[
            "estimate",
            "datacenter",
            "--it-power",
            "1MW",
            "--breakdown",
            "it=0.5,cooling=0.4",
        ],
        &["--breakdown", "sum to 0.9"],
    );
    assert_usage_error(
        &[
            "estimate",
            "train",
            "--model",
            "gpt-3",
            "--precision",
            "fp4",
        ],
        &["--precision"],
    );
    assert_usage_error(
        &["estimate", "fleet", "--energy", "1", "--samples", "0"],
        &["--samples"],
    );
}

#[test]
fn contradictory_flags_are_refused() {
    assert_usage_error(
        &[
            "estimate",
            "train",
            "--gpu",
            "h100",
            "--gpus",
            "8",
            "--days",
            "5",
            "--gpu-hours",
            "100",
        ],
        &["--days", "--gpu-hours"],
    );
    assert_usage_error(
        &[
            "estimate", "train", "--gpu", "h100", "--gpus", "8", "--flops", "1e24", "--params",
            "7B", "--tokens", "1T",
        ],
        &["--flops", "--params"],
    );
    assert_usage_error(
        &[
            "estimate", "train", "--gpu", "h100", "--gpus", "8", "--days", "5", "--mfu", "0.4",
        ],
        &["--mfu", "--days"],
    );
    assert_usage_error(
        &["estimate", "fleet", "--servers", "3", "--it-power", "1MW"],
        &["--servers", "--it-power"],
    );
    assert_usage_error(
        &[
            "estimate", "fleet", "--energy", "1", "--hours", "3", "--days", "1",
        ],
        &["--hours", "--days"],
    );
    assert_usage_error(
        &[
            "estimate",
            "datacenter",
            "--it-power",
            "1MW",
            "--breakdown",
            "it=0.5,cooling=0.5",
            "--pue",
            "1.3",
        ],
        &["--breakdown", "--pue"],
    );
    assert_usage_error(
        &[
            "estimate",
            "fleet",
            "--energy",
            "1",
            "--market-intensity",
            "10",
            "--cfe",
            "0.5",
        ],
        &["--market-intensity", "--cfe"],
    );
}

#[test]
fn missing_inputs_say_what_to_give() {
    assert_usage_error(&["estimate", "train", "--params", "7B"], &["--tokens"]);
    assert_usage_error(
        &["estimate", "train", "--params", "7B", "--tokens", "2T"],
        &["--gpu"],
    );
    assert_usage_error(
        &[
            "estimate", "train", "--params", "7B", "--tokens", "2T", "--gpu", "h100",
        ],
        &["--gpus"],
    );
    assert_usage_error(
        &[
            "estimate",
            "train",
            "--gpu",
            "h100",
            "--gpus",
            "8",
            "--days",
            "1",
            "--interruptions",
            "3",
        ],
        &["--checkpoint-minutes"],
    );
    assert_usage_error(
        &["estimate", "fleet"],
        &["--servers", "--it-power", "--energy"],
    );
    assert_usage_error(
        &[
            "estimate", "train", "--gpu", "tpu-v5e", "--gpus", "8", "--days", "1",
        ],
        &["no published board power", "--gpu-power"],
    );
}

// ---- property test ---------------------------------------------------------------------------

mod random_flags {
    use super::wattlens;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            (0.0f64..1e6).prop_map(|x| format!("{x}")),
            (-1e3f64..0.0).prop_map(|x| format!("{x}")),
            Just("NaN".to_string()),
            Just("inf".to_string()),
            Just("0".to_string()),
            (
                1u32..999,
                prop::sample::select(vec![
                    "k", "M", "B", "T", "W", "kW", "d", "h", "%", "g/kWh", "xyz", ""
                ])
            )
                .prop_map(|(n, u)| format!("{n}{u}")),
            (0.0f64..10.0, 0.0f64..10.0).prop_map(|(a, b)| format!("{a}..{b}")),
            "[ -~]{0,12}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
        #[test]
        fn never_panics_and_exits_0_1_or_2(
            flag in prop::sample::select(vec!["--gpus", "--days", "--mfu", "--params", "--tokens", "--load", "--pue", "--server-power", "--gpu-power", "--intensity", "--wue", "--price", "--interruptions"]),
            v in value(),
        ) {
            let mut args = vec!["estimate", "train", "--model", "llama-2-7b", "--gpus", "64", "--samples", "200"];
            if flag == "--interruptions" {
                args.extend(["--checkpoint-minutes", "1", "--restart-minutes", "2"]);
            }
            if flag == "--gpus" {
                args.truncate(4);
                args.extend(["--samples", "200"]);
            }
            args.extend([flag, v.as_str()]);
            let o = wattlens(&args);
            let err = String::from_utf8_lossy(&o.stderr);
            prop_assert!(matches!(o.status.code(), Some(0..=2)), "{args:?}: {err}");
            prop_assert!(!err.contains("panicked"), "{args:?}: {err}");
            if o.status.code() == Some(2) {
                prop_assert!(err.starts_with("error:"), "{args:?}: {err}");
            }
        }
    }
}
mod run;
