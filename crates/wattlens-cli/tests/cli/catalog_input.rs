//! User catalog files that must be refused (file, line, field, exit 2) or must not panic, and
//! the names `catalog list` shows and suggests.

use super::*;

#[test]
fn negative_default_range_is_refused_with_file_line_and_field() {
    let p = temp_file(
        "neg-load.toml",
        "# a load below zero\n[[default]]\nkey = \"train.load\"\nlow = -5\nhigh = -1\n",
    );
    assert_usage_error(
        &[
            "--catalog",
            p.to_str().expect("p"),
            "estimate",
            "train",
            "--gpu",
            "h100",
            "--gpus",
            "8",
            "--days",
            "1",
        ],
        &["neg-load.toml", "line 4", "train.load", "low", "-5"],
    );
}

#[test]
fn nan_mfu_in_user_catalog_is_refused() {
    let p = temp_file(
        "nan-mfu.toml",
        "[[default]]\nkey = \"train.mfu\"\nlow = 0.3\nhigh = nan\n",
    );
    assert_usage_error(
        &[
            "--catalog",
            p.to_str().expect("p"),
            "estimate",
            "train",
            "--params",
            "7B",
            "--tokens",
            "1T",
            "--gpu",
            "h100",
            "--gpus",
            "8",
        ],
        &["nan-mfu.toml", "line 4", "high", "NaN"],
    );
}

#[test]
fn implausible_values_in_each_table_are_refused() {
    for (table, body, field) in [
        (
            "accelerator",
            "name = \"x\"\nboard_power_w = -300",
            "board_power_w",
        ),
        (
            "accelerator",
            "name = \"x\"\nembodied_kgco2e_low = 200\nembodied_kgco2e_high = 100",
            "embodied_kgco2e_high",
        ),
        ("server", "name = \"x\"\nmax_power_kw = inf", "max_power_kw"),
        (
            "server",
            "name = \"x\"\naccelerator = \"h100\"\naccelerators = 0",
            "accelerators",
        ),
        (
            "accelerator",
            "name = \"x\"\nbf16_tflops = 5e-324",
            "bf16_tflops",
        ),
        (
            "datacenter",
            "name = \"x\"\npue_low = 0.9\npue_high = 1.2",
            "pue_low",
        ),
        ("datacenter", "name = \"x\"\nwue_low = -1", "wue_low"),
        ("model", "name = \"x\"\ntotal_params = -7e9", "total_params"),
        (
            "equivalent",
            "key = \"us_home_kwh_per_year\"\nvalue = 0",
            "value",
        ),
        ("grid", "key = \"FR\"\ncfe_share = 1.5", "cfe_share"),
        (
            "ewif",
            "key = \"coal\"\nl_per_kwh_low = nan",
            "l_per_kwh_low",
        ),
        (
            "default",
            "key = \"site.pue\"\nlow = 0.5\nhigh = 1.2",
            "low",
        ),
    ] {
        let p = temp_file("bad-row.toml", &format!("[[{table}]]\n{body}\n"));
        assert_usage_error(
            &["--catalog", p.to_str().expect("p"), "catalog", "list"],
            &["bad-row.toml", "line ", field],
        );
    }
}

#[test]
fn unknown_default_key_is_refused_with_a_suggestion() {
    let p = temp_file(
        "typo.toml",
        "[[default]]\nkey = \"train.mfuu\"\nlow = 0.3\nhigh = 0.4\n",
    );
    assert_usage_error(
        &["--catalog", p.to_str().expect("p"), "catalog", "list"],
        &["typo.toml", "line 2", "train.mfuu", "train.mfu"],
    );
}

#[test]
fn zero_power_server_is_refused_not_a_panic() {
    let p = temp_file(
        "zero.toml",
        "[[server]]\nname = \"zero\"\naccelerators = 0\nmax_power_kw = 0\n",
    );
    let cat = p.to_str().expect("p");
    for cmd in ["fleet", "datacenter"] {
        assert_usage_error(
            &[
                "--catalog",
                cat,
                "estimate",
                cmd,
                "--servers",
                "10",
                "--server",
                "zero",
            ],
            &["zero.toml", "line 4", "max_power_kw"],
        );
    }
}

#[test]
fn tiny_or_cpu_only_servers_never_panic() {
    // Rows that pass validation, at the edges of the bounds.
    for (i, body) in [
        "accelerators = 0\nmax_power_kw = 1e-300",
        "accelerators = 0\nmax_power_kw = 1\ncpu_sockets = 2\ncpu_tdp_w = 300\ndram_gb = 512",
        "accelerator = \"h100\"\naccelerators = 0\nmax_power_kw = 10",
        "accelerator = \"h100\"\naccelerators = 100000\nmax_power_kw = 1e-300\ncpu_sockets = 64\ncpu_tdp_w = 1e4",
        "accelerator = \"h100\"\naccelerators = 8\nmax_power_kw = 10000",
    ]
    .iter()
    .enumerate()
    {
        let p = temp_file(
            &format!("edge{i}.toml"),
            &format!("[[server]]\nname = \"edge\"\n{body}\n"),
        );
        let cat = p.to_str().expect("p");
        for cmd in ["fleet", "datacenter"] {
            let o = wattlens(&[
                "--catalog", cat, "estimate", cmd, "--servers", "10", "--server", "edge", "--json",
            ]);
            let err = stderr(&o);
            assert!(
                matches!(o.status.code(), Some(0 | 2)) && !err.contains("panicked"),
                "{body} / {cmd}: {:?} {err}",
                o.status
            );
            if o.status.success() {
                let v: Value = serde_json::from_slice(&o.stdout).expect("json");
                assert!(!v.to_string().contains("null"), "{body} / {cmd}: {v}");
            }
        }
    }
}

#[test]
fn catalog_list_shows_the_key_to_type_and_the_aliases() {
    let o = wattlens(&["catalog", "list", "accelerators"]);
    let out = String::from_utf8_lossy(&o.stdout);
    let line = out
        .lines()
        .find(|l| l.contains("NVIDIA H100 SXM5 80GB"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.starts_with("h100 "), "{line}");
    assert!(line.contains("h100-sxm5"), "{line}");
    let o = wattlens(&["catalog", "list", "grids"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.lines()
            .any(|l| l.starts_with("FR ") && l.contains("FRA")),
        "{out}"
    );
}

#[test]
fn vendor_prefixed_names_are_accepted() {
    for (typed, name) in [
        ("nvidia-h100", "NVIDIA H100 SXM5 80GB"),
        ("amd-mi300x", "AMD Instinct MI300X"),
        ("intel-gaudi3", "Intel Gaudi 3 (HL-325L OAM)"),
        ("NVIDIA A100", "NVIDIA A100 SXM4 80GB"),
    ] {
        let v = json(&[
            "estimate", "train", "--gpu", typed, "--gpus", "8", "--days", "1",
        ]);
        assert_eq!(v["accelerator"], name, "{typed}");
    }
    for (kind, typed) in [
        ("accelerators", "google-tpu-v5p"),
        ("servers", "nvidia-dgx-h100"),
    ] {
        let o = wattlens(&["catalog", "show", kind, typed]);
        assert!(o.status.success(), "{typed}: {}", stderr(&o));
    }
}

#[test]
fn suggestions_name_the_key_to_type() {
    assert_usage_error(
        &[
            "estimate",
            "train",
            "--gpu",
            "nvidia-h10",
            "--gpus",
            "8",
            "--days",
            "1",
        ],
        &["did you mean", "h100 (NVIDIA H100 SXM5 80GB)"],
    );
}

/// Runs wattlens with a time limit: `None` when it had to be killed (a hang).
fn wattlens_within(args: &[&str], limit: std::time::Duration) -> Option<Output> {
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_wattlens"))
        .env("WATTLENS_HISTORY", super::test_ledger())
        .args(args)
        .env_remove("WATTLENS_CATALOG")
        .env_remove("WATTLENS_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs wattlens");
    let start = std::time::Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return Some(child.wait_with_output().expect("output"));
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// A config file with every key but `samples` (whose bounds are checked elsewhere: a huge
/// value would allocate gigabytes before that check exists).
const CONFIG_SEED: &str = "seed = 42\n\n[site]\ngrid = \"gcp:europe-west1\"\npue = \"1.1..1.3\"\nintensity = \"100g/kWh\"\nmarket_intensity = \"20g/kWh\"\nwue = \"0.5L/kWh\"\newif = \"3.1L/kWh\"\nprice = \"0.09EUR/kWh\"\ndatacenter = \"google\"\ncooling = \"air\"\nlifetime = \"5y\"\n";

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config {
        // Each case starts the binary: fewer cases than the library fuzz targets.
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(32),
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    })]

    #[test]
    fn mutated_config_files_never_panic_or_hang(
        edits in proptest::collection::vec(
            (proptest::sample::select(vec![
                "nan", "inf", "-1", "0", "1e308", "\"", "[", "]", "=", "\n", "..", "EUR", "%", "-",
                "\u{0}", "[site]\n", "catalog = \"\"\n", "seed = -1\n", "\"1e999\"",
            ]), proptest::prelude::any::<proptest::sample::Index>(), proptest::bool::ANY),
            1..5,
        ),
    ) {
        let mut text = CONFIG_SEED.to_string();
        for (token, at, replace) in &edits {
            let mut k = at.index(text.len() + 1);
            while !text.is_char_boundary(k) {
                k -= 1;
            }
            if *replace {
                let end = (k + token.len()).min(text.len());
                let mut end = end;
                while !text.is_char_boundary(end) {
                    end += 1;
                }
                text.replace_range(k..end, token);
            } else {
                text.insert_str(k, token);
            }
        }
        let p = temp_file("fuzz-config.toml", &text);
        let o = wattlens_within(
            &["--config", p.to_str().expect("p"), "estimate", "fleet", "--energy", "1MWh", "--json"],
            std::time::Duration::from_secs(30),
        );
        let Some(o) = o else {
            return Err(proptest::test_runner::TestCaseError::fail(format!("hang with config:\n{text}")));
        };
        let err = stderr(&o);
        proptest::prop_assert!(
            matches!(o.status.code(), Some(0 | 2)) && !err.contains("panicked"),
            "{:?} {err}\nconfig:\n{text}",
            o.status
        );
        if o.status.success() {
            let v: Value = serde_json::from_slice(&o.stdout).expect("json");
            proptest::prop_assert!(!v.to_string().contains("null"), "{v}\nconfig:\n{text}");
        }
    }
}
