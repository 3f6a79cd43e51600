//! Bad input to `wattlens estimate`: exit code 2 and a message that names the flag and what to
//! do; a property test feeds random flag values.

use super::*;

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
fn a_model_whose_figures_do_not_name_the_accelerator_asks_for_it() {
    assert_usage_error(
        &["estimate", "train", "--model", "gpt-4"],
        &[
            "--gpu",
            "25,000 accelerators but not which",
            "catalog show models",
        ],
    );
    // Given, the published count is used and the published days are shown beside the estimate.
    let v = json(&["estimate", "train", "--model", "gpt-4", "--gpu", "a100"]);
    let n = p50(&v, "accelerator_hours") / 24.0 / p50(&v, "duration_days");
    assert!((n - 25_000.0).abs() < 1.0, "{n}");
    assert_eq!(v["published"][0]["value"], 100.0);
}

#[test]
fn implausible_site_values_are_used_with_a_warning() {
    let o = wattlens(&[
        "estimate",
        "fleet",
        "--servers",
        "1",
        "--server-power",
        "1kW",
        "--hours",
        "1",
        "--load",
        "1",
        "--intensity",
        "5kg/kWh",
        "--pue",
        "1.2",
        "--price",
        "95",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("--intensity 5000 g/kWh is above 1500 g/kWh"),
        "{err}"
    );
    assert!(err.contains("--price 95 USD/kWh"), "{err}");
    assert!(!err.contains("--pue"), "{err}");
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    // Used as given: 1 kWh x 1.2 x 5 kg.
    assert!((p50(&v, "operational_carbon_kgco2e") - 6.0).abs() < 1e-9);
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
    // The value as given, not rounded to the whole number it is said not to be.
    assert_usage_error(
        &[
            "estimate",
            "fleet",
            "--servers",
            "1808.5",
            "--server",
            "hgx-a100",
        ],
        &["--servers", "1808.5 is not a whole number"],
    );
    assert_usage_error(
        &[
            "estimate", "train", "--gpus", "16000.5", "--gpu", "h100", "--days", "5",
        ],
        &["--gpus", "16000.5 is not a whole number"],
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
