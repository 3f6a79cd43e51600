//! `wattlens run` as a process: closed pipes, output files checked before the command starts,
//! pipes and devices as outputs or inside `--sysfs-root`/`--procfs-root`, signals delivered
//! exactly once, mistyped flags, and what the default output says about a modelled CPU. Every
//! test pins the fake `/sys` and `/proc` fixtures, hides real GPUs, writes only in temporary
//! folders, and bounds every wait.

use super::lib_fixture;
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// `wattlens` with a clean environment and no GPU.
fn cmd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_wattlens"));
    c.env_remove("WATTLENS_CATALOG")
        .env_remove("WATTLENS_CONFIG")
        .env_remove("WATTLENS_SYSFS_ROOT")
        .env_remove("WATTLENS_PROCFS_ROOT")
        .env_remove("ROCR_VISIBLE_DEVICES")
        .env_remove("HIP_VISIBLE_DEVICES")
        .env("CUDA_VISIBLE_DEVICES", "");
    c
}

/// `wattlens run` with the fixture roots of a machine without RAPL or GPUs.
fn run_cmd() -> Command {
    let mut c = cmd();
    c.arg("run")
        .arg("--sysfs-root")
        .arg(lib_fixture("sysfs-none"))
        .arg("--procfs-root")
        .arg(lib_fixture("procfs-4cpu"));
    c
}

fn run(args: &[&str]) -> Output {
    run_cmd().args(args).output().expect("runs wattlens")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn has_python() -> bool {
    Command::new("python3").arg("--version").output().is_ok()
}

/// Waits at most `limit` for `child`; kills it (and fails) after that.
fn wait_at_most(child: &mut Child, limit: Duration, what: &str) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            return s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_for(path: &Path, limit: Duration) {
    let start = Instant::now();
    while !path.exists() && start.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `sh -c SCRIPT` with `$W` the wattlens binary and the fixture roots in `$S`.
fn sh(script: &str, dir: &Path) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env("W", env!("CARGO_BIN_EXE_wattlens"))
        .env(
            "S",
            format!(
                "--sysfs-root {} --procfs-root {}",
                lib_fixture("sysfs-none").display(),
                lib_fixture("procfs-4cpu").display()
            ),
        )
        .env_remove("WATTLENS_CATALOG")
        .env_remove("WATTLENS_CONFIG")
        .env("CUDA_VISIBLE_DEVICES", "")
        .output()
        .expect("sh")
}

#[test]
fn a_closed_stderr_neither_panics_run_nor_loses_its_json() {
    // The reader (`true`) is gone before wattlens writes its summary: every write to stderr
    // fails with EPIPE. The JSON is still written and the exit code is still the command's.
    let dir = tempfile::tempdir().expect("tempdir");
    let o = sh(
        "{ sleep 0.2; $W run $S --json m.json -- sh -c 'exit 3'; echo $? > rc; } 2>&1 | true",
        dir.path(),
    );
    assert!(o.status.success(), "{o:?}");
    let rc = std::fs::read_to_string(dir.path().join("rc")).expect("rc");
    assert_eq!(rc.trim(), "3", "exit code with a closed stderr");
    let v: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("m.json")).expect("the --json file"),
    )
    .expect("JSON");
    assert_eq!(v["exit_code"], 3);
}

#[test]
fn a_closed_stderr_does_not_panic_an_estimate_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = sh(
        "{ sleep 0.2; $W estimate fleet --servers 10 --server dgx-a100 --pue 10 --json > out.json; \
         echo $? > rc; } 2>&1 | true",
        dir.path(),
    );
    assert!(o.status.success(), "{o:?}");
    let rc = std::fs::read_to_string(dir.path().join("rc")).expect("rc");
    assert_eq!(rc.trim(), "0", "exit code with a closed stderr");
    let out = std::fs::read_to_string(dir.path().join("out.json")).expect("stdout");
    assert!(out.contains("\"schema\""), "{out}");
}
