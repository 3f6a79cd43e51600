//! The one integration-test binary: runs the real `wattlens` binary and checks exit codes,
//! JSON output and messages. Validation cases name the case from `seed-scenarios.toml`.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A fixture of the library crate (fake `/sys` and `/proc` trees, recorded traces).
fn lib_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../wattlens/tests/fixtures")
        .join(name)
}

/// The run history ledger every test's `wattlens` records into (`WATTLENS_HISTORY`): a file in
/// cargo's temporary folder of this target, emptied when the test binary starts, so that no
/// test writes to the user's data directory. Tests of the ledger itself give their own.
fn test_ledger() -> &'static Path {
    static LEDGER: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    LEDGER.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-tests-history");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("the tests' ledger folder");
        dir.join("history.sqlite")
    })
}

fn wattlens(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wattlens"))
        .args(args)
        .env("WATTLENS_HISTORY", test_ledger())
        .env_remove("WATTLENS_CATALOG")
        .env_remove("WATTLENS_CONFIG")
        .output()
        .expect("runs wattlens")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The stdout of a run that must succeed.
fn stdout(args: &[&str]) -> String {
    let o = wattlens(args);
    assert!(o.status.success(), "wattlens {args:?}: {}", stderr(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The notes of a JSON footprint, one a line.
fn notes(v: &Value) -> String {
    v["notes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// `wattlens` with a clean environment (no user catalog, config or fake roots from the
/// environment) and no GPU: what every `run` test starts from.
fn isolated() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_wattlens"));
    c.env_remove("WATTLENS_CATALOG")
        .env_remove("WATTLENS_CONFIG")
        .env("WATTLENS_HISTORY", test_ledger())
        .env_remove("WATTLENS_SYSFS_ROOT")
        .env_remove("WATTLENS_PROCFS_ROOT")
        .env_remove("ROCR_VISIBLE_DEVICES")
        .env_remove("HIP_VISIBLE_DEVICES")
        .env("CUDA_VISIBLE_DEVICES", "");
    c
}

/// `wattlens run` with the fixture roots of a machine without RAPL or GPUs (4 CPUs).
fn run_cmd() -> Command {
    let mut c = isolated();
    c.arg("run")
        .arg("--sysfs-root")
        .arg(lib_fixture("sysfs-none"))
        .arg("--procfs-root")
        .arg(lib_fixture("procfs-4cpu"));
    c
}

/// [`run_cmd`] with `args`, waited for.
fn run_fixture(args: &[&str]) -> Output {
    run_cmd().args(args).output().expect("runs wattlens")
}

/// `wattlens run --samples 1 --replay TRACE ARGS`.
fn replay_trace(trace: &Path, args: &[&str]) -> Output {
    isolated()
        .args(["run", "--samples", "1", "--replay"])
        .arg(trace)
        .args(args)
        .output()
        .expect("runs wattlens")
}

/// A file written for one test, in a temporary folder of its own that is removed when the
/// value is dropped (the test ends). Use it where a path is expected (`&f`, `f.to_str()`).
struct TempFile {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl std::ops::Deref for TempFile {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for TempFile {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<std::ffi::OsStr> for TempFile {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.path.as_os_str()
    }
}

/// Writes `text` to `name` in a fresh temporary folder.
fn temp_file(name: &str, text: &str) -> TempFile {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write a test file");
    TempFile { _dir: dir, path }
}

/// A path as a UTF-8 argument.
fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8")
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

mod agent;
mod agent_checks;
mod agent_faults;
mod agent_gpu;
mod agent_load;
mod agent_pods;
mod agent_prometheus;
mod agent_round4;
mod bad_input;
mod bad_input_keys;
mod catalog;
mod catalog_input;
mod catalog_overrides;
mod compare;
mod estimate_limits;
mod estimate_numbers;
mod estimate_presets;
mod growth;
mod history;
mod history_safety;
mod implausible;
mod infer;
mod levers;
mod library;
mod output;
mod output_files;
mod plan;
mod plan_checkpoint;
mod plan_profile;
mod plan_region;
mod plan_region_latency;
mod plan_renewable;
mod report_edges;
mod report_formats;
mod report_history;
mod report_safety;
mod run;
mod run_process;
mod run_replay_rows;
mod run_stalls;
mod run_trace;
mod run_trace_checks;
mod seed;
mod series;
mod series_import;
mod site_config;
mod site_input;
mod validate;
mod validate_infer;
mod vary;
mod vary_csv;
