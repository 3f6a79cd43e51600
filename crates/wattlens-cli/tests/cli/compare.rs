//! `wattlens estimate ... --compare FILE`: an estimate beside a measured run (a replayed trace)
//! or another estimate, figure by figure, and the files it refuses.

use super::*;

/// The footprint of the replayed fixture trace (2 s; CPU 200 J, GPUs 550 J, DRAM 12 J; see the
/// fixtures' README), written to `dir/run.json`.
fn measured_run(dir: &std::path::Path) -> (PathBuf, Value) {
    let path = dir.join("run.json");
    let o = wattlens(&[
        "run",
        "--charge",
        "machine",
        "--replay",
        lib_fixture("trace-wrap-reset.jsonl")
            .to_str()
            .expect("utf-8"),
        "--json",
        path.to_str().expect("utf-8"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = serde_json::from_str(&std::fs::read_to_string(&path).expect("run.json")).expect("json");
    (path, v)
}

fn figure<'a>(cmp: &'a Value, name: &str) -> &'a Value {
    cmp["figures"]
        .as_array()
        .expect("figures")
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {cmp}"))
}

#[test]
fn an_estimate_beside_a_measured_run_figure_by_figure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, run) = measured_run(dir.path());
    // An estimate of the same 2 s on one 400 W server at full load: 800 J of IT energy.
    let v = json(&[
        "estimate",
        "fleet",
        "--servers",
        "1",
        "--server-power",
        "400W",
        "--load",
        "1",
        "--hours",
        "0.000555556",
        "--compare",
        path.to_str().expect("utf-8"),
    ]);
    let cmp = &v["comparison"];
    assert_eq!(cmp["kind"], "run");
    assert_eq!(cmp["source"], path.to_str().expect("utf-8"));
    let it = figure(cmp, "it_energy_kwh");
    // The other side is the run's own figure, untouched.
    assert_eq!(it["other"], run["it_energy_kwh"]);
    // 400 W x 2 s = 800 J = 2.222e-4 kWh on this side (a point: load and power are points).
    let this = it["this"]["p50"].as_f64().expect("this");
    assert!((this - 800.0 / 3.6e6).abs() < 1e-9, "{this}");
    let other = run["it_energy_kwh"]["p50"].as_f64().expect("run p50");
    let ratio = it["ratio_p50"].as_f64().expect("ratio");
    assert!((ratio - this / other).abs() < 1e-9, "{ratio}");
    assert_eq!(
        it["other_p50_inside_p5_p95"], false,
        "a point holds no range"
    );
    // IT energy by kind: the run's GPUs (integrated) against the estimate's accelerators.
    let kinds = cmp["it_energy_by_kind"].as_array().expect("kinds");
    let acc = kinds
        .iter()
        .find(|k| k["kind"] == "accelerator")
        .expect("accelerator kind");
    let gpus = run["components"]
        .as_array()
        .expect("components")
        .iter()
        .find(|c| c["name"] == "GPUs")
        .expect("GPUs");
    assert_eq!(acc["other_p50_kwh"], gpus["energy_kwh"]["p50"]);
    // 550 J (fixtures' README), within the measurement band.
    let j = acc["other_p50_kwh"].as_f64().expect("kwh") * 3.6e6;
    assert!((j / 550.0 - 1.0).abs() < 0.05, "{j} J");
    assert_eq!(acc["other_method"], "integrated");
    // The table carries the same section.
    let o = wattlens(&[
        "estimate",
        "fleet",
        "--servers",
        "1",
        "--server-power",
        "400W",
        "--hours",
        "0.000555556",
        "--compare",
        path.to_str().expect("utf-8"),
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("compared with"), "{text}");
    assert!(text.contains("IT energy by kind of component"), "{text}");
}

#[test]
fn an_estimate_beside_itself_agrees_everywhere() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("train.json");
    let args = [
        "estimate",
        "train",
        "--model",
        "llama-3.1-405b",
        "--grid",
        "FR",
    ];
    let o = wattlens(&[&args[..], &["--json"]].concat());
    std::fs::write(&path, &o.stdout).expect("write");
    let v = json(&[&args[..], &["--compare", path.to_str().expect("utf-8")]].concat());
    let figures = v["comparison"]["figures"].as_array().expect("figures");
    assert!(figures.len() >= 10, "{figures:?}");
    for f in figures {
        assert_eq!(f["this"], f["other"], "{f}");
        assert_eq!(f["other_p50_inside_p5_p95"], true, "{f}");
        if let Some(r) = f["ratio_p50"].as_f64() {
            assert!((r - 1.0).abs() < 1e-12, "{f}");
        }
    }
}

#[test]
fn files_that_cannot_be_compared_are_usage_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = [
        "estimate",
        "fleet",
        "--servers",
        "10",
        "--server",
        "hgx-a100",
    ];
    let with = |file: &std::path::Path, extra: &[&str]| {
        let mut a: Vec<String> = base.iter().map(|s| (*s).to_string()).collect();
        a.extend(["--compare".into(), file.display().to_string()]);
        a.extend(extra.iter().map(|s| (*s).to_string()));
        a
    };
    let check = |args: Vec<String>, needles: &[&str]| {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_usage_error(&a, needles);
    };
    let missing = dir.path().join("missing.json");
    check(
        with(&missing, &[]),
        &["--compare", "missing.json", "cannot read"],
    );
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "energy: lots\n").expect("write");
    check(with(&text, &[]), &["--compare", "not JSON", "line 1"]);
    let other = dir.path().join("other.json");
    std::fs::write(&other, r#"{"schema": "codecarbon", "energy": 1}"#).expect("write");
    check(
        with(&other, &[]),
        &[
            "--compare",
            "not a wattlens.footprint/v1 object",
            "\"codecarbon\"",
        ],
    );
    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, r#"{"schema": "wattlens.footprint/v1"}"#).expect("write");
    check(with(&empty, &[]), &["--compare", "no figure in common"]);
    let (run, _) = measured_run(dir.path());
    check(with(&run, &["--format", "csv"]), &["--compare", "csv"]);
}

#[test]
fn a_component_kind_only_this_estimate_has_is_kept_so_the_kinds_add_up() {
    // A DGX fleet (accelerators, host, rest) beside a CPU-only `--it-power` estimate (host and
    // rest only): the accelerators stay in the by-kind rows, with 0 on the other side.
    let dir = tempfile::tempdir().expect("tempdir");
    let other = dir.path().join("cpu.json");
    let o = wattlens(&[
        "estimate",
        "fleet",
        "--it-power",
        "2kW",
        "--hours",
        "10",
        "--grid",
        "FR",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::write(&other, &o.stdout).expect("write");
    let v = json(&[
        "estimate",
        "fleet",
        "--servers",
        "1",
        "--server",
        "dgx-h100",
        "--hours",
        "10",
        "--grid",
        "FR",
        "--compare",
        other.to_str().expect("utf-8"),
    ]);
    let kinds = v["comparison"]["it_energy_by_kind"]
        .as_array()
        .expect("kinds");
    let acc = kinds
        .iter()
        .find(|k| k["kind"] == "accelerator")
        .unwrap_or_else(|| panic!("accelerators dropped: {kinds:?}"));
    assert_eq!(acc["other_p50_kwh"], 0.0, "{acc}");
    let sum: f64 = kinds
        .iter()
        .map(|k| k["this_p50_kwh"].as_f64().expect("this"))
        .sum();
    let components: f64 = v["components"]
        .as_array()
        .expect("components")
        .iter()
        .map(|c| c["energy_kwh"]["p50"].as_f64().expect("p50"))
        .sum();
    assert!(
        (sum - components).abs() < 1e-6 * components,
        "{sum} vs {components}"
    );
}

#[test]
fn a_device_a_folder_or_a_huge_file_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cmp = |file: &str, needles: &[&str]| {
        assert_usage_error(
            &["estimate", "fleet", "--it-power", "1MW", "--compare", file],
            needles,
        );
    };
    // /dev/zero never ends: it once ran out of memory.
    let not_regular = ["not a regular file (a pipe, a device or a folder)"];
    cmp(
        "/dev/zero",
        &[&["--compare /dev/zero: "][..], &not_regular[..]].concat(),
    );
    let folder = dir.path().to_str().expect("utf-8");
    cmp(folder, &not_regular);
    // A sparse file: 65 MiB long, nothing written.
    let big = dir.path().join("big.json");
    std::fs::File::create(&big)
        .and_then(|f| f.set_len(65 * 1024 * 1024))
        .expect("sparse file");
    cmp(
        big.to_str().expect("utf-8"),
        &["--compare", "big.json: larger than 64 MiB"],
    );
}

#[test]
fn a_file_that_is_not_a_footprint_is_named_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (run, _) = measured_run(dir.path());
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(&run).expect("run")).expect("json");
    // A footprint whose figures are sound but whose components cannot be read.
    v["components"][0]["kind"] = Value::from("teapot");
    let edited = dir.path().join("edited.json");
    std::fs::write(&edited, v.to_string()).expect("write");
    let other = dir.path().join("other.json");
    std::fs::write(&other, r#"{"schema": "codecarbon"}"#).expect("write");
    for (file, what) in [
        (&edited, "cannot be read as a footprint"),
        (&other, "is not a wattlens.footprint/v1 object"),
    ] {
        let shown = file.to_str().expect("utf-8");
        let o = wattlens(&["estimate", "fleet", "--it-power", "1MW", "--compare", shown]);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{e}");
        assert!(
            e.starts_with(&format!("error: --compare {shown} {what}")),
            "{e}"
        );
        assert_eq!(e.matches(shown).count(), 1, "{e}");
    }
}
