//! Inputs that say one thing twice or something impossible (hostile round 6): a JSON key
//! given twice in a trace header, an intensity series, a footprint or `--compare` file; a
//! byte-order mark before a footprint; user-catalog rows of the utilisation prior outside
//! what a utilisation can be. Each is refused with exit 2 naming the file, line or row.

use super::{assert_usage_error, s, temp_file};

/// A trace header with `"tags": {"project": "a", "project": "b"}` replayed as `project=b`;
/// `"site": {"grid": "FR", "grid": "PL"}` as PL. Refused, naming the file, line and key.
#[test]
fn a_key_twice_in_a_trace_header_is_refused() {
    let header = r#"{"schema":"wattlens.trace/v2","started_unix_s":1764100000.0,"interval_s":1.0,"command":["x"],"tags":{"project":"a","project":"b"},"host":"h","wattlens_version":"0.1.0","settings":{"charge":"machine","cpu_w_per_thread":3.5,"dram_w_per_gb":0.375,"rest_share":[0.2,0.56]}}"#;
    let body = "{\"declare\":0,\"source\":\"procfs\",\"device\":\"machine\"}\n\
        {\"t\":0.0,\"d\":0,\"kind\":\"machine\",\"busy_s\":1.0,\"total_s\":4.0,\"cpus\":4,\"mem_total_gb\":16.0}\n\
        {\"t\":1.0,\"d\":0,\"kind\":\"machine\",\"busy_s\":2.0,\"total_s\":8.0,\"cpus\":4,\"mem_total_gb\":16.0}\n";
    let f = temp_file("dupg.jsonl", &format!("{header}\n{body}"));
    assert_usage_error(
        &["run", "--replay", s(&f)],
        &["dupg.jsonl:1", "key \"project\" twice in one object"],
    );
    // The same trace with the key once replays.
    let ok = temp_file(
        "ok.jsonl",
        &format!("{}\n{body}", header.replace(r#""project":"a","#, "")),
    );
    let o = super::replay_trace(&ok, &["--quiet"]);
    assert!(o.status.success(), "{}", super::stderr(&o));
}

/// An Electricity Maps history naming `carbonIntensity` twice in one entry: 9999 was used.
#[test]
fn a_key_twice_in_an_intensity_series_is_refused() {
    let text = std::fs::read_to_string(super::lib_fixture("electricitymaps_history_dk-dk1.json"))
        .expect("fixture");
    let dup = text.replacen(
        "\"carbonIntensity\": 172,",
        "\"carbonIntensity\": 172, \"carbonIntensity\": 9999,",
        1,
    );
    assert_ne!(dup, text, "the fixture has the entry");
    let f = temp_file("em_dup.json", &dup);
    assert_usage_error(
        &[
            "plan",
            "window",
            "--series",
            s(&f),
            "--duration",
            "1h",
            "--power",
            "1kW",
            "--no-chart",
        ],
        &["--series", "em_dup.json", "key \"carbonIntensity\" twice"],
    );
}

/// A footprint with a byte-order mark (some Windows editors write one) is read; one naming a
/// figure twice is refused, as is a `--compare` file naming one twice.
#[test]
fn a_footprint_with_a_bom_is_read_and_one_with_a_key_twice_is_refused() {
    let o = super::wattlens(&[
        "estimate", "train", "--params", "7B", "--tokens", "1T", "--gpu", "h100", "--gpus", "64",
        "--format", "json",
    ]);
    assert!(o.status.success());
    let json = String::from_utf8(o.stdout).expect("utf-8");
    let bom = temp_file("bom.json", &format!("\u{feff}{json}"));
    let r = super::wattlens(&["report", s(&bom), "--format", "markdown"]);
    assert!(r.status.success(), "{}", super::stderr(&r));
    let twice = json.replacen("{", "{\"schema\": \"x\",", 1);
    let dup = temp_file("dup.json", &twice);
    assert_usage_error(
        &["report", s(&dup), "--format", "markdown"],
        &["dup.json", "key \"schema\" twice"],
    );
    assert_usage_error(
        &[
            "estimate",
            "train",
            "--params",
            "7B",
            "--tokens",
            "1T",
            "--gpu",
            "h100",
            "--gpus",
            "64",
            "--compare",
            s(&dup),
        ],
        &["--compare", "dup.json", "twice"],
    );
}

fn prior_row(key: &str, value: &str) -> super::TempFile {
    temp_file(
        "prior.toml",
        &format!(
            "[[default]]\nkey = \"{key}\"\nlow = {value}\nhigh = {value}\ndescription = \"t\"\nsource = \"t\"\nyear = \"2026\"\n"
        ),
    )
}

/// Rows of the utilisation prior outside what a utilisation can be: an intercept of 5 gave u
/// = 148 x peak (0.05 days, exit 0), a negative spread a reversed range, a negative variance
/// was clamped; a spread of 1000 blamed --params. Refused at load, naming file, line and key;
/// rows that load but give u past 1 for a run are refused naming --mfu and the rows.
#[test]
fn impossible_utilisation_prior_rows_are_refused() {
    let base = [
        "estimate", "train", "--params", "7B", "--tokens", "1T", "--gpu", "h100", "--gpus", "64",
    ];
    for (key, value, bounds) in [
        ("train.utilisation.intercept", "5", "from -20 to 0"),
        ("train.utilisation.spread", "-0.63", "from 0 to 10"),
        ("train.utilisation.spread", "1000", "from 0 to 10"),
        (
            "train.utilisation.xtwx_inv.intercept.intercept",
            "-5",
            "from 0 to 1000",
        ),
    ] {
        let f = prior_row(key, value);
        let mut a = vec!["--catalog", s(&f)];
        a.extend_from_slice(&base);
        assert_usage_error(&a, &["prior.toml, line 3", key, bounds]);
    }
    // A Hopper term of +2 loads, but on an H100 the median is exp(-1.229 + 2) = 2.16 x peak.
    let f = prior_row("train.utilisation.hopper", "2");
    let mut a = vec!["--catalog", s(&f)];
    a.extend_from_slice(&base);
    assert_usage_error(
        &a,
        &[
            "--mfu",
            "train.utilisation.* rows (ln u = -1.23 + 2 [Hopper or later], drawn on 1.03..4.54)",
            "median effective utilisation of 2.16",
            "beyond 1",
        ],
    );
    // With --mfu the prior is not used, so the same rows do not stop the estimate.
    a.extend_from_slice(&["--mfu", "0.4"]);
    let o = super::wattlens(&a);
    assert!(o.status.success(), "{}", super::stderr(&o));
    // ln u = 0 (u = 1 at the median, the bound) loads; its draw, exp(0 -/+ 0.6686 / 0.9) =
    // 0.476..2.1, counts every draw past 1 as 1: 6 x 7e9 x 1e12 = 4.2e22 FLOP at u = 1 on 989
    // TFLOP/s is 11,796 H100-hours, the fewest the estimate may give (half the draws).
    let f = prior_row("train.utilisation.intercept", "0");
    let mut a = vec!["--catalog", s(&f)];
    a.extend_from_slice(&base);
    let v = super::json(&a);
    let p5 = v["accelerator_hours"]["p5"].as_f64().expect("p5");
    assert!(p5 >= 11_796.0 * 0.999, "{p5}");
    let p50 = v["accelerator_hours"]["p50"].as_f64().expect("p50");
    assert!((p50 / 11_796.0 - 1.0).abs() < 0.01, "{p50}");
}

/// Hostile round 7: an off-diagonal entry no covariance has (a negative variance, clamped to 0
/// without a word), an intercept of -20 (u = 2e-9: the refusal blamed --params), a diagonal of
/// 1000 (u drawn on 7e-11..1.2e9) were taken. Refused naming --mfu and the rows; the shown draw
/// counts draws past 1 as 1.
#[test]
fn utilisation_prior_rows_no_run_could_have_are_refused() {
    let base = [
        "estimate", "train", "--params", "7B", "--tokens", "1T", "--gpu", "h100", "--gpus", "64",
    ];
    let two = temp_file(
        "prior.toml",
        "[[default]]\nkey = \"train.utilisation.xtwx_inv.intercept.hopper\"\nlow = -100\nhigh = -100\ndescription = \"t\"\nsource = \"t\"\nyear = \"2026\"\n\
         [[default]]\nkey = \"train.utilisation.hopper\"\nlow = 0.01\nhigh = 0.01\ndescription = \"t\"\nsource = \"t\"\nyear = \"2026\"\n",
    );
    let mut a = vec!["--catalog", s(&two)];
    a.extend_from_slice(&base);
    assert_usage_error(
        &a,
        &[
            "--mfu",
            "xtwx_inv matrix no covariance has",
            "intercept, hopper",
        ],
    );
    // Round 8: three terms whose pairs each pass but whose 3 x 3 minor is negative (x'Ax = 3 -
    // 5.4 = -2.4 for an H100 MoE run).
    let mut rows = String::new();
    for (k, v) in [
        ("xtwx_inv.hopper.hopper", "1"),
        ("xtwx_inv.moe.moe", "1"),
        ("xtwx_inv.intercept.intercept", "1"),
        ("xtwx_inv.intercept.hopper", "-0.9"),
        ("xtwx_inv.intercept.moe", "-0.9"),
        ("xtwx_inv.hopper.moe", "-0.9"),
        ("hopper", "0.01"),
        ("moe", "0.01"),
    ] {
        rows.push_str(&format!(
            "[[default]]\nkey = \"train.utilisation.{k}\"\nlow = {v}\nhigh = {v}\ndescription = \"t\"\nsource = \"t\"\nyear = \"2026\"\n"
        ));
    }
    let three = temp_file("three.toml", &rows);
    let mut a = vec!["--catalog", s(&three)];
    a.extend_from_slice(&base);
    assert_usage_error(&a, &["--mfu", "xtwx_inv matrix no covariance has"]);
    for (key, value, needle) in [
        ("train.utilisation.intercept", "-20", "below 0.001"),
        (
            "train.utilisation.xtwx_inv.intercept.intercept",
            "1000",
            "below 0.001",
        ),
    ] {
        let f = prior_row(key, value);
        let mut a = vec!["--catalog", s(&f)];
        a.extend_from_slice(&base);
        assert_usage_error(&a, &["--mfu", "train.utilisation.* rows", needle]);
    }
    let f = prior_row("train.utilisation.intercept", "0");
    let mut a = vec!["--catalog", s(&f)];
    a.extend_from_slice(&base);
    a.push("--explain");
    let out = super::stdout(&a);
    assert!(
        out.contains("effective_utilisation = 0.476..1 [default]")
            && out.contains("no --mfu: the length is from the effective utilisation 0.476..1 "),
        "{out}"
    );
}

/// Hostile round 7: `--compare` and `plan window --profile` refused a footprint with a
/// byte-order mark that `report` reads.
#[test]
fn compare_reads_a_footprint_with_a_bom() {
    let o = super::wattlens(&[
        "estimate", "train", "--params", "7B", "--tokens", "1T", "--gpu", "h100", "--gpus", "64",
        "--format", "json",
    ]);
    let json = String::from_utf8(o.stdout).expect("utf-8");
    let bom = temp_file("c_bom.json", &format!("\u{feff}{json}"));
    let c = super::wattlens(&[
        "estimate",
        "train",
        "--params",
        "7B",
        "--tokens",
        "1T",
        "--gpu",
        "h100",
        "--gpus",
        "64",
        "--compare",
        s(&bom),
    ]);
    assert!(c.status.success(), "{}", super::stderr(&c));
}
