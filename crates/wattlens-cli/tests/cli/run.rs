//! `wattlens run`: exit codes, signals, the modelled CPU on a machine without RAPL, traces,
//! JSON and CSV outputs. Every test pins `--sysfs-root`/`--procfs-root` (or their environment
//! variables) to checked-in fixtures and hides real GPUs (`CUDA_VISIBLE_DEVICES=`), writes only
//! in temporary folders, and stops every process it starts.

use super::{isolated as cmd, lib_fixture, run_fixture as run, stderr};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("json file")).expect("valid JSON")
}

fn component(v: &Value, name: &str) -> Value {
    v["components"]
        .as_array()
        .expect("components")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no component {name} in {v}"))
        .clone()
}

fn p50(c: &Value) -> f64 {
    c["energy_kwh"]["p50"].as_f64().expect("p50")
}

/// The CPU curve of docs/models.md: fraction of TDP at 0, 10, 50, 100% utilisation.
fn curve(u: f64) -> f64 {
    let pts = [(0.0, 0.12), (0.1, 0.32), (0.5, 0.75), (1.0, 1.02)];
    for w in pts.windows(2) {
        if u <= w[1].0 {
            return w[0].1 + (w[1].1 - w[0].1) * (u - w[0].0) / (w[1].0 - w[0].0);
        }
    }
    1.02
}

#[test]
fn exit_code_passes_through() {
    let o = run(&["--", "sh", "-c", "exit 3"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("exit code 3"), "{}", stderr(&o));
    // Killed by signal 9: 128 + 9, like a shell.
    let o = run(&["--", "sh", "-c", "kill -9 $$"]);
    assert_eq!(o.status.code(), Some(137), "{}", stderr(&o));
}

#[test]
fn the_command_owns_stdout_and_its_arguments_are_untouched() {
    let o = run(&["--quiet", "--", "printf", "%s|", "--json", "a b", "-x"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "--json|a b|-x|");
    assert!(o.status.success());
}

#[test]
fn a_command_that_cannot_start_exits_127_or_126() {
    let o = run(&["--", "wattlens-no-such-command-x"]);
    assert_eq!(o.status.code(), Some(127));
    assert!(stderr(&o).contains("cannot run"), "{}", stderr(&o));
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("not-executable.sh");
    std::fs::write(&script, "#!/bin/sh\nexit 0\n").expect("write");
    let o = run(&["--", script.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(126), "{}", stderr(&o));
}

#[test]
fn sigint_reaches_the_child_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let got = dir.path().join("got");
    let ready = dir.path().join("ready");
    let script = format!(
        "trap 'echo INT >> {g}' INT; : > {r}; i=0; while [ $i -lt 30 ]; do sleep 0.1; i=$((i+1)); done",
        g = got.display(),
        r = ready.display()
    );
    let child = cmd()
        .arg("run")
        .arg("--sysfs-root")
        .arg(lib_fixture("sysfs-none"))
        .arg("--procfs-root")
        .arg(lib_fixture("procfs-4cpu"))
        .args(["--quiet", "--", "sh", "-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    while !ready.exists() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let out = child.wait_with_output().expect("wait");
    // The shell caught it, went on, and ended normally: wattlens was not killed by it either.
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines = std::fs::read_to_string(&got).unwrap_or_default();
    assert_eq!(lines.lines().count(), 1, "child got SIGINT {lines:?}");
}

/// One JSON measurement of `sh -c SCRIPT`, one interval long, with a 100 W CPU.
fn measure(script: &str, dir: &Path, name: &str) -> Value {
    let json = dir.join(name);
    let o = run(&[
        "--cpu-tdp",
        "100W",
        "--interval",
        "600s",
        "--samples",
        "1",
        "--json",
        json.to_str().expect("utf-8"),
        "--",
        "sh",
        "-c",
        script,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    read_json(&json)
}

#[test]
fn without_rapl_a_busy_loop_gets_the_curve_energy_of_its_cpu_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let busy = measure(
        "i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done",
        dir.path(),
        "busy.json",
    );
    let secs = busy["duration_s"].as_f64().expect("duration");
    let cpu_s = busy["attribution"]["cpu_time_s"]
        .as_f64()
        .expect("cpu time");
    assert_eq!(busy["attribution"]["cpus"], 4);
    assert!(cpu_s > 0.2 * secs, "a busy loop used {cpu_s} s of {secs} s");
    // One interval: c = cpu_s / (4 x t); E = 100 W x t x (curve(c) - curve(0) + curve(0) x c)
    let c = cpu_s / (4.0 * secs);
    let active = 100.0 * secs * (curve(c) - curve(0.0)) / 3.6e6;
    let idle = 100.0 * secs * curve(0.0) * c / 3.6e6;
    let got_active = p50(&component(&busy, "CPU (active)"));
    let got_idle = p50(&component(&busy, "CPU (idle share)"));
    assert!(
        (got_active - active).abs() <= 1e-9 * active.max(1e-12) + 1e-15,
        "active {got_active} kWh, the curve gives {active}"
    );
    assert!((got_idle - idle).abs() <= 1e-9 * idle.max(1e-12) + 1e-15);
    assert_eq!(component(&busy, "CPU (active)")["method"], "modelled");

    // An idle sleep of the same length gets less.
    let sleep = measure(&format!("sleep {secs:.2}"), dir.path(), "sleep.json");
    let sleep_cpu =
        p50(&component(&sleep, "CPU (active)")) + p50(&component(&sleep, "CPU (idle share)"));
    assert!(
        sleep_cpu < got_active + got_idle,
        "sleep {sleep_cpu} kWh >= busy {} kWh",
        got_active + got_idle
    );
}

#[test]
fn json_has_the_footprint_schema_keys_and_run_fields() {
    let dir = tempfile::tempdir().expect("tempdir");
    let v = measure("true", dir.path(), "run.json");
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/schema/footprint-v1.json"),
        )
        .expect("schema file"),
    )
    .expect("schema JSON");
    assert_eq!(v["schema"], "wattlens.footprint/v1");
    assert_eq!(v["kind"], "run");
    for key in schema["required"].as_array().expect("required") {
        let k = key.as_str().expect("key");
        assert!(v.get(k).is_some(), "missing {k}");
    }
    assert_eq!(v["exit_code"], 0);
    assert!(v["duration_s"].as_f64().is_some());
    for c in v["components"].as_array().expect("components") {
        assert!(["accelerator", "host", "server"].contains(&c["kind"].as_str().expect("kind")));
        assert!(
            ["measured", "integrated", "modelled"].contains(&c["method"].as_str().expect("method"))
        );
        let e = &c["energy_kwh"];
        assert!(e["p5"].as_f64() <= e["p50"].as_f64() && e["p50"].as_f64() <= e["p95"].as_f64());
    }
}

#[test]
fn replayed_trace_handles_wraps_resets_and_a_lost_device() {
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("replay.json");
    let o = cmd()
        .args(["run", "--charge", "machine", "--samples", "1", "--replay"])
        .arg(lib_fixture("trace-wrap-reset.jsonl"))
        .arg("--json")
        .arg(&json)
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", stderr(&o));
    let v = read_json(&json);
    let kwh = |j: f64| j / 3.6e6;
    // CPU: 100.000001 J through the wrap + 100 J (fixtures/README.md)
    let cpu = p50(&component(&v, "CPU (active)")) + p50(&component(&v, "CPU (idle share)"));
    assert!((cpu - kwh(200.000_001)).abs() < 1e-12, "cpu {cpu}");
    assert_eq!(component(&v, "CPU (active)")["method"], "measured");
    // GPUs: 300 J + 200 J after the reset (NVML) + 50 J trapezoid (hwmon)
    let gpu = component(&v, "GPUs");
    assert!((p50(&gpu) - kwh(550.0)).abs() < 1e-12, "gpu {gpu}");
    assert_eq!(
        gpu["method"], "integrated",
        "the weakest of measured and integrated"
    );
    // DRAM modelled: 0.375 W/GB x 16 GB x 2 s = 12 J
    assert!((p50(&component(&v, "memory (DRAM)")) - kwh(12.0)).abs() < 1e-12);
    assert_eq!(v["duration_s"], 2.0);
    assert_eq!(v["tags"]["project"], "fixture");
    let notes = v["notes"].to_string();
    assert!(notes.contains("reset"), "{notes}");
    assert!(notes.contains("hwmon3 dropped"), "{notes}");
}

/// Hostile test (issue 11, round 3): a package counter going from 200,000,000,000 to
/// 5,000,000 uJ in 1 s (range 262,143,328,850 uJ) was counted as a wrap of 62,148 J and
/// printed `CPU (active) 13 Wh ... measured`, with no note. 62 kJ in 1 s is 62 kW, past the
/// package's 2,000 W ceiling: a reset, noted; the CPU counts 5 J (since the reset) + 100 J
/// (t = 1 -> 2) = 105 J = 0.029 Wh.
#[test]
fn replayed_counter_reset_in_the_upper_range_is_not_a_wrap() {
    let counter = |t: u32, uj: u64| {
        format!(
            "{{\"t\":{t}.0,\"source\":\"rapl\",\"device\":\"package-0\",\"kind\":\"counter\",\
             \"part\":\"cpu\",\"energy_uj\":{uj},\"max_uj\":262143328850}}\n"
        )
    };
    let machine = |t: u32| {
        format!(
            "{{\"t\":{t}.0,\"source\":\"procfs\",\"device\":\"machine\",\"kind\":\"machine\",\
             \"busy_s\":{}.0,\"total_s\":{}.0,\"cpus\":4,\"mem_total_gb\":16.0}}\n",
            100 + t,
            400 + 4 * t
        )
    };
    let mut trace = String::from(
        "{\"schema\":\"wattlens.trace/v1\",\"started_unix_s\":1763776800.0,\"interval_s\":1.0,\
         \"command\":[\"python\"],\"tags\":{}}\n",
    );
    for (t, uj) in [(0, 200_000_000_000_u64), (1, 5_000_000), (2, 105_000_000)] {
        trace.push_str(&machine(t));
        trace.push_str(&counter(t, uj));
    }
    trace.push_str(
        "{\"t\":2.0,\"source\":\"child\",\"device\":\"command\",\"kind\":\"exit\",\"code\":0}\n",
    );
    let f = super::temp_file("tw.jsonl", &trace);
    let json = f.with_file_name("r.json");
    let o = super::replay_trace(&f, &["--charge", "machine", "--json", super::s(&json)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = read_json(&json);
    let cpu = p50(&component(&v, "CPU (active)")) + p50(&component(&v, "CPU (idle share)"));
    assert!((cpu - 105.0 / 3.6e6).abs() < 1e-12, "cpu {cpu} kWh");
    let notes = v["notes"].to_string();
    assert!(
        notes.contains("rapl/package-0: energy counter reset at t = 1.0 s"),
        "{notes}"
    );
}

#[test]
fn record_then_replay_gives_the_same_footprint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trace = dir.path().join("trace.jsonl");
    let live = dir.path().join("live.json");
    let again = dir.path().join("again.json");
    let o = cmd()
        .arg("run")
        .arg("--sysfs-root")
        .arg(lib_fixture("sysfs-intel-2s"))
        .arg("--procfs-root")
        .arg(lib_fixture("procfs-4cpu"))
        .args(["--interval", "50ms", "--tag", "project=t", "--record"])
        .arg(&trace)
        .arg("--json")
        .arg(&live)
        .args(["--", "sleep", "0.3"])
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", stderr(&o));
    let o = cmd()
        .args(["run", "--replay"])
        .arg(&trace)
        .arg("--json")
        .arg(&again)
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", stderr(&o));
    let (a, b) = (read_json(&live), read_json(&again));
    assert_eq!(a["components"], b["components"]);
    assert_eq!(a["facility_energy_kwh"], b["facility_energy_kwh"]);
    assert_eq!(a["duration_s"], b["duration_s"]);
    // RAPL on the Intel fixture: the CPU and DRAM are measured.
    assert_eq!(component(&a, "CPU (active)")["method"], "measured");
    assert_eq!(component(&a, "memory (DRAM)")["method"], "measured");
    let text = std::fs::read_to_string(&trace).expect("trace");
    assert!(text.starts_with("{\"schema\":\"wattlens.trace/v2\""));
    assert!(text.contains("\"device\":\"package-1/dram\""));
    assert!(!text.contains("psys"), "psys only when asked");
}

#[test]
fn a_sigkilled_wattlens_leaves_a_replayable_trace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trace = dir.path().join("trace.jsonl");
    let pidfile = dir.path().join("pid");
    let script = format!("echo $$ > {}; exec sleep 30", pidfile.display());
    let mut w = cmd()
        .arg("run")
        .arg("--sysfs-root")
        .arg(lib_fixture("sysfs-amd"))
        .arg("--procfs-root")
        .arg(lib_fixture("procfs-4cpu"))
        .args(["--quiet", "--interval", "50ms", "--record"])
        .arg(&trace)
        .args(["--", "sh", "-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(600));
    w.kill().expect("SIGKILL wattlens");
    let _ = w.wait();
    // Stop the orphaned command.
    if let Ok(pid) = std::fs::read_to_string(&pidfile) {
        let _ = Command::new("kill").arg(pid.trim()).status();
    }
    let json = dir.path().join("r.json");
    let o = cmd()
        .args(["run", "--replay"])
        .arg(&trace)
        .arg("--json")
        .arg(&json)
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", stderr(&o));
    let v = read_json(&json);
    assert!(v["duration_s"].as_f64().expect("duration") > 0.2, "{v}");
    assert_eq!(
        v["exit_code"],
        Value::Null,
        "the command's end was never seen"
    );
    // The AMD fixture: package measured, the two amdgpu devices charged.
    assert_eq!(component(&v, "GPUs")["method"], "integrated");
}

#[test]
fn unreadable_rapl_falls_back_to_the_model_and_says_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("r.json");
    let o = cmd()
        .env("WATTLENS_SYSFS_ROOT", lib_fixture("sysfs-unreadable"))
        .env("WATTLENS_PROCFS_ROOT", lib_fixture("procfs-4cpu"))
        .args(["run", "--json"])
        .arg(&json)
        .args(["--", "true"])
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    // The fixture's counter is a folder, not a permission error: access advice is given for
    // EACCES/EPERM only (issue 11, hostile test: chmod advice for "Too many open files").
    assert_eq!(err.matches("not a regular file").count(), 1, "{err}");
    assert!(!err.contains("chmod"), "{err}");
    assert!(err.contains("falling back to the modelled CPU"), "{err}");
    assert_eq!(
        component(&read_json(&json), "CPU (active)")["method"],
        "modelled"
    );
}

#[test]
fn csv_appends_rows_in_codecarbon_layout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("emissions.csv");
    let path = csv.to_str().expect("utf-8");
    for _ in 0..2 {
        let o = run(&[
            "--quiet",
            "--csv",
            path,
            "--tag",
            "project=demo",
            "--",
            "true",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let text = std::fs::read_to_string(&csv).expect("csv");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("timestamp,project_name,run_id,experiment_id,duration,emissions,"));
    assert_eq!(lines[0].split(',').count(), 38);
    assert!(lines[0].ends_with(",on_cloud,pue,wue"));
    assert!(lines[1].contains(",demo,"));
    // An existing file keeps its own columns (another CodeCarbon version, here a 3.x subset).
    let other = dir.path().join("old.csv");
    std::fs::write(
        &other,
        "timestamp,project_name,duration,energy_consumed,water_consumed\n",
    )
    .expect("write");
    let o = run(&[
        "--quiet",
        "--csv",
        other.to_str().expect("utf-8"),
        "--",
        "true",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&other).expect("csv");
    let row: Vec<&str> = text.lines().nth(1).expect("row").split(',').collect();
    assert_eq!(row.len(), 5);
    assert_eq!(row[1], "wattlens");
    assert!(row[3].parse::<f64>().is_ok(), "{text}");
}

#[test]
fn attaching_to_a_pid_ends_when_it_exits() {
    let mut sleeper = Command::new("sleep").arg("0.5").spawn().expect("sleep");
    let o = run(&["--interval", "100ms", "--pid", &sleeper.id().to_string()]);
    let _ = sleeper.wait();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("charged to: processes"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn bad_run_flags_are_usage_errors() {
    for (args, needle) in [
        (vec!["--interval", "0"], "--interval"),
        (vec!["--tag", "novalue"], "--tag"),
        (vec!["--pue", "0.5"], "--pue"),
    ] {
        let mut a = args.clone();
        a.extend(["--", "true"]);
        let o = run(&a);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{}", stderr(&o));
    }
}

#[test]
fn the_cpu_rating_comes_from_the_catalog() {
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("r.json");
    let path = json.to_str().expect("utf-8");
    // procfs-4cpu/cpuinfo names one AMD EPYC 7742 socket: 225 W in the catalog.
    let o = run(&["--quiet", "--json", path, "--", "true"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(read_json(&json)["attribution"]["cpu_tdp_w"], 225.0);
    // A named server: DGX A100, 2 x 225 W.
    let o = run(&[
        "--quiet", "--server", "dgx-a100", "--json", path, "--", "true",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(read_json(&json)["attribution"]["cpu_tdp_w"], 450.0);
    // A row without a CPU rating is an error before anything runs.
    let o = run(&["--server", "hgx-a100", "--", "true"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--cpu-tdp"), "{}", stderr(&o));
}

#[test]
fn ctrl_c_on_a_terminal_reaches_the_child_once_not_twice() {
    // A terminal's Ctrl-C goes to the whole foreground process group, wattlens and the command
    // alike; wattlens must not forward it a second time. A small Python driver opens a
    // pseudo-terminal, starts wattlens on it directly (no shell in between: a non-interactive
    // `sh` waiting on a child dies of SIGINT itself, which is how `script -c` made this test
    // depend on $SHELL), types Ctrl-C once the command is ready and exits with wattlens's code.
    // The command is a Python script that counts each SIGINT its handler sees (a shell's trap
    // would merge two close signals into one and could not tell).
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("skipped: python3 is not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let got = dir.path().join("got");
    let ready = dir.path().join("ready");
    let py = dir.path().join("count.py");
    std::fs::write(
        &py,
        format!(
            "import signal, time\n\
             def on_int(s, f):\n    open({g:?}, 'a').write('INT\\n')\n\
             signal.signal(signal.SIGINT, on_int)\n\
             open({r:?}, 'w').close()\n\
             for _ in range(40):\n    time.sleep(0.05)\n",
            g = got.display().to_string(),
            r = ready.display().to_string()
        ),
    )
    .expect("script file");
    let driver = dir.path().join("drive_pty.py");
    std::fs::write(
        &driver,
        "import os, pty, sys, time\n\
         ready, argv = sys.argv[1], sys.argv[2:]\n\
         pid, fd = pty.fork()\n\
         if pid == 0:\n    os.execv(argv[0], argv)\n\
         end = time.time() + 10\n\
         while not os.path.exists(ready) and time.time() < end:\n    time.sleep(0.02)\n\
         os.write(fd, b'\\x03')\n\
         seen = b''\n\
         try:\n    while True:\n        b = os.read(fd, 4096)\n        if not b:\n            break\n        seen += b\n\
         except OSError:\n    pass\n\
         open(ready + '.tty', 'wb').write(seen)\n\
         code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])\n\
         sys.exit(code if code >= 0 else 128 - code)\n",
    )
    .expect("driver file");
    let status = Command::new("python3")
        .env("WATTLENS_HISTORY", super::test_ledger())
        .arg(&driver)
        .arg(&ready)
        .arg(env!("CARGO_BIN_EXE_wattlens"))
        .args(["run", "--quiet", "--sysfs-root"])
        .arg(lib_fixture("sysfs-none"))
        .arg("--procfs-root")
        .arg(lib_fixture("procfs-4cpu"))
        .args(["--", "python3"])
        .arg(&py)
        .env("CUDA_VISIBLE_DEVICES", "")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("python3 tty driver");
    let lines = std::fs::read_to_string(&got).unwrap_or_default();
    assert_eq!(status.code(), Some(0), "child got SIGINT {lines:?}");
    assert_eq!(lines.lines().count(), 1, "child got SIGINT {lines:?}");
    // --quiet on a terminal: no live line either.
    let tty = std::fs::read_to_string(dir.path().join("ready.tty")).expect("terminal output");
    assert!(!tty.contains("wattlens:"), "{tty:?}");
}

#[test]
fn rocr_and_hip_visible_devices_limit_the_amd_gpus_charged() {
    // sysfs-amd: ROCm GPU 0 is hwmon4 (PCI c1:00.0), GPU 1 is hwmon3 (03:00.0); see the
    // fixtures' README.
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("r.json");
    let devices = |env: &[(&str, &str)]| {
        let mut c = cmd();
        c.arg("run")
            .arg("--sysfs-root")
            .arg(lib_fixture("sysfs-amd"))
            .arg("--procfs-root")
            .arg(lib_fixture("procfs-4cpu"))
            .args(["--quiet", "--json"])
            .arg(&json)
            .args(["--", "true"]);
        for (k, v) in env {
            c.env(k, v);
        }
        let o = c.output().expect("runs wattlens");
        assert!(o.status.success(), "{}", stderr(&o));
        (read_json(&json)["devices"].clone(), stderr(&o))
    };
    let (all, _) = devices(&[]);
    assert_eq!(all, serde_json::json!(["hwmon/hwmon3", "hwmon/hwmon4"]));
    let (one, _) = devices(&[("ROCR_VISIBLE_DEVICES", "0")]);
    assert_eq!(one, serde_json::json!(["hwmon/hwmon4"]));
    // HIP indexes what ROCR left; an entry that matches nothing ends the list, with a warning.
    let (one, err) = devices(&[
        ("ROCR_VISIBLE_DEVICES", "1,7"),
        ("HIP_VISIBLE_DEVICES", "0"),
    ]);
    assert_eq!(one, serde_json::json!(["hwmon/hwmon3"]));
    assert!(err.contains("ROCR_VISIBLE_DEVICES entry \"7\""), "{err}");
}

#[test]
fn marks_cut_windows_that_replay_the_same() {
    // The command marks a busy loop and a sleep through WATTLENS_MARKS, then opens a window it
    // never ends (without a newline, too) and writes a line that is not a mark.
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("m.json");
    let trace = dir.path().join("m.jsonl");
    let script = r#"m() { printf "$1" >> "$WATTLENS_MARKS"; }
        m 'begin busy\n'; i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; m 'end busy\n'
        m 'begin idle\n'; sleep 0.3; m 'end idle\n'; m 'hello\n'; m 'begin tail'"#;
    let o = run(&[
        "--quiet",
        "--marks",
        "--cpu-tdp",
        "100W",
        "--json",
        json.to_str().expect("utf-8"),
        "--record",
        trace.to_str().expect("utf-8"),
        "--",
        "sh",
        "-c",
        script,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = read_json(&json);
    let w = v["windows"].as_array().expect("windows");
    let names: Vec<&str> = w
        .iter()
        .map(|w| w["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["busy", "idle", "tail"]);
    let it = |w: &Value| w["it_energy_kwh"]["p50"].as_f64().expect("it p50");
    // The loop burns CPU time; the sleep does not: its active CPU is nothing.
    assert!(it(&w[0]) > 0.0, "{}", w[0]);
    // (CPU time comes in 10 ms ticks: the loop takes tens of them, the sleep at most one.)
    assert!(it(&w[0]) > 5.0 * it(&w[1]), "{} vs {}", w[0], w[1]);
    assert!(it(&w[0]) <= v["it_energy_kwh"]["p95"].as_f64().expect("run p95"));
    // The sleep is 0.3 s; each mark is taken at the poll it triggers, later when the machine is
    // busy (both ends move, not always by the same).
    let idle_s = w[1]["duration_s"].as_f64().expect("s");
    assert!((0.15..1.5).contains(&idle_s), "{idle_s}");
    assert!(w[0]["end_s"].as_f64() <= w[1]["start_s"].as_f64());
    assert_eq!(w[2]["closed_by_run_end"], true);
    let notes = v["notes"].to_string();
    assert!(notes.contains("\\\"hello\\\" is not"), "{notes}");
    assert!(notes.contains("\\\"tail\\\" had no end mark"), "{notes}");
    // The trace carries the marks: replayed, the same windows come back.
    let again = dir.path().join("again.json");
    let o = cmd()
        .args(["run", "--replay"])
        .arg(&trace)
        .arg("--json")
        .arg(&again)
        .output()
        .expect("replay");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(read_json(&again)["windows"], v["windows"]);
    // Without --marks the variable is not set.
    let o = run(&["--quiet", "--", "sh", "-c", "test -z \"$WATTLENS_MARKS\""]);
    assert_eq!(o.status.code(), Some(0));
}
