//! `wattlens run` as a process: closed pipes, output files checked before the command starts,
//! pipes and devices as outputs or inside `--sysfs-root`/`--procfs-root`, signals delivered
//! exactly once, mistyped flags, and what the default output says about a modelled CPU. Every
//! test pins the fake `/sys` and `/proc` fixtures, hides real GPUs, writes only in temporary
//! folders, and bounds every wait.

use super::{isolated as cmd, lib_fixture, run_cmd, run_fixture as run, stderr};
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

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
        .env("WATTLENS_HISTORY", super::test_ledger())
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

/// A Python command that appends a line to `got` for each SIGTERM, says it is ready, and exits
/// 0.2 s after the first one (time for a second delivery to show).
fn count_term_script(dir: &Path) -> std::path::PathBuf {
    let py = dir.join("count_term.py");
    std::fs::write(
        &py,
        "import signal, sys, time\n\
         got, ready = sys.argv[1], sys.argv[2]\n\
         first = []\n\
         def on_term(s, f):\n    open(got, 'a').write('TERM\\n')\n    first.append(time.time())\n\
         signal.signal(signal.SIGTERM, on_term)\n\
         open(ready, 'w').close()\n\
         end = time.time() + 5\n\
         while time.time() < end and not (first and time.time() > first[0] + 0.2):\n    time.sleep(0.01)\n",
    )
    .expect("script");
    py
}

/// Starts wattlens measuring the counting script, in a process group of its own (as `timeout`
/// or a batch system starts it), sends SIGTERM as `how` says once the script is ready, and
/// returns how many the script got.
fn term_count(dir: &Path, py: &Path, i: usize, how: &str) -> usize {
    use std::os::unix::process::CommandExt;
    let got = dir.join(format!("got-{how}-{i}"));
    let ready = dir.join(format!("ready-{how}-{i}"));
    let mut child = run_cmd()
        .args(["--quiet", "--interval", "50ms", "--", "python3"])
        .arg(py)
        .arg(&got)
        .arg(&ready)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    wait_for(&ready, Duration::from_secs(10));
    let pid = child.id().to_string();
    // One sender, as `timeout` does it: to wattlens, then to its whole process group.
    let script = match how {
        "alone" => "kill -TERM $1",
        "group" => "kill -TERM -$1",
        _ => "kill -TERM $1; kill -TERM -$1",
    };
    let sent = Command::new("sh")
        .args(["-c", script, "sh", &pid])
        .status()
        .expect("kill");
    assert!(sent.success());
    let status = wait_at_most(&mut child, Duration::from_secs(10), "wattlens");
    assert_eq!(status.code(), Some(0), "{how} #{i}");
    std::fs::read_to_string(&got)
        .unwrap_or_default()
        .lines()
        .count()
}

#[test]
fn sigterm_reaches_the_command_once_whether_sent_to_wattlens_or_its_group() {
    if !has_python() {
        eprintln!("skipped: python3 is not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let py = count_term_script(dir.path());
    for i in 0..3 {
        for how in ["alone", "group", "timeout"] {
            assert_eq!(term_count(dir.path(), &py, i, how), 1, "{how} #{i}");
        }
    }
}

#[test]
fn a_signal_after_the_command_ended_ends_wattlens_after_a_short_grace() {
    // The command fills wattlens' stderr pipe (64 KiB) and nobody reads it: the summary can
    // never be written. The JSON is written first; wattlens then ends within its grace (1 s for
    // a stderr nobody reads, 2 s after a signal) instead of staying blocked and deaf to signals.
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("m.json");
    let mut child = run_cmd()
        .arg("--json")
        .arg(&json)
        .args(["--", "sh", "-c", "head -c 65536 /dev/zero >&2"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    wait_for(&json, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        child.try_wait().expect("try_wait").is_none(),
        "blocked on stderr"
    );
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let start = Instant::now();
    let status = wait_at_most(&mut child, Duration::from_secs(8), "wattlens after SIGTERM");
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    // The files were written, and a stderr nobody reads is abandoned after its 1 s: the
    // command's own code (128 + 15 only when the results were not written in time).
    assert_eq!(status.code(), Some(0));
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("JSON");
    assert_eq!(v["exit_code"], 0);
}

#[test]
fn csv_onto_a_pipe_or_a_device_is_written_never_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    // /dev/stdout is the pipe `| cat` reads: the header and the row, promptly.
    let o = sh(
        "timeout -k 1 5 $W run $S -q --csv /dev/stdout -- true | cat",
        dir.path(),
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.starts_with("timestamp,project_name,"), "{out}");
    assert_eq!(
        out.lines().filter(|l| l.contains(",wattlens,")).count(),
        1,
        "{out}"
    );
    // A pipe nobody reads: an error at once, before the command runs.
    let fifo = dir.path().join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let ran = dir.path().join("ran");
    let mut child = run_cmd()
        .arg("--csv")
        .arg(&fifo)
        .args(["--", "touch"])
        .arg(&ran)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let status = wait_at_most(&mut child, Duration::from_secs(10), "--csv FIFO");
    assert_eq!(status.code(), Some(2));
    assert!(!ran.exists(), "the command ran");
    // A pipe with a reader gets the header and the row, even when the command runs a while
    // (the check's opening must not end the reader's input early).
    let read = dir.path().join("fifo-read");
    assert!(Command::new("mkfifo")
        .arg(&read)
        .status()
        .expect("mkfifo")
        .success());
    let reader = Command::new("cat")
        .arg(&read)
        .stdout(Stdio::piped())
        .spawn()
        .expect("cat");
    // Once `cat` has the pipe open, a writer may open it without waiting; this one stays open
    // until wattlens is done, so `cat` reads to the end of what wattlens wrote.
    let start = Instant::now();
    let own_writer = loop {
        use std::os::unix::fs::OpenOptionsExt;
        let w = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
            .open(&read);
        match w {
            Ok(w) => break w,
            Err(_) if start.elapsed() < Duration::from_secs(10) => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("cat never opened the pipe: {e}"),
        }
    };
    let o = run(&[
        "-q",
        "--csv",
        read.to_str().expect("utf-8"),
        "--",
        "sleep",
        "0.2",
    ]);
    drop(own_writer);
    assert!(o.status.success(), "{}", stderr(&o));
    let got = reader.wait_with_output().expect("cat output");
    let got = String::from_utf8_lossy(&got.stdout);
    assert!(
        got.starts_with("timestamp,") && got.lines().count() == 2,
        "{got}"
    );
    // A device that fails every write: exit 2, the message names the flag.
    if Path::new("/dev/full").exists() {
        let o = run(&["-q", "--csv", "/dev/full", "--", "true"]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("--csv /dev/full"), "{}", stderr(&o));
    }
}

#[test]
fn output_paths_are_checked_before_the_command_starts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = |n: &str| dir.path().join(n).to_str().expect("utf-8").to_string();
    let ran = d("ran");
    std::fs::write(d("old.jsonl"), "{}\n").expect("write");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--json".into(), d("no-such-dir/x.json")],
            "does not exist",
        ),
        (vec!["--json".into(), d("")], "is a folder"),
        (vec!["--csv".into(), d("no-such-dir/e.csv")], "--csv"),
        (
            vec!["--record".into(), d("no-such-dir/t.jsonl")],
            "--record",
        ),
        (
            vec!["--json".into(), d("same"), "--record".into(), d("same")],
            "the same file",
        ),
        (
            vec!["--csv".into(), d("same"), "--json".into(), d("./same")],
            "the same file",
        ),
        (vec!["--record".into(), d("old.jsonl")], "--force"),
    ];
    for (args, needle) in cases {
        let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
        a.extend(["--", "touch", &ran]);
        let o = run(&a);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        assert!(!Path::new(&ran).exists(), "{args:?}: the command ran");
    }
    // --json onto the trace being replayed.
    let trace = lib_fixture("trace-wrap-reset.jsonl");
    let o = run(&[
        "--replay",
        trace.to_str().expect("utf-8"),
        "--json",
        trace.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--replay"), "{}", stderr(&o));
    // --force replaces the trace.
    let o = run(&["-q", "--force", "--record", &d("old.jsonl"), "--", "true"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(d("old.jsonl")).expect("trace");
    assert!(
        text.starts_with("{\"schema\":\"wattlens.trace/v2\""),
        "{text}"
    );
}

#[test]
fn pipes_inside_the_sysfs_and_procfs_roots_are_refused_not_waited_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = |from: &Path, to: &Path| {
        let ok = Command::new("cp")
            .arg("-r")
            .arg(from)
            .arg(to)
            .status()
            .expect("cp");
        assert!(ok.success());
    };
    let sys = dir.path().join("sys");
    let proc = dir.path().join("proc");
    copy(&lib_fixture("sysfs-intel-2s"), &sys);
    copy(&lib_fixture("procfs-4cpu"), &proc);
    let fifo = |p: &Path| {
        std::fs::remove_file(p).expect("rm");
        assert!(Command::new("mkfifo")
            .arg(p)
            .status()
            .expect("mkfifo")
            .success());
    };
    fifo(&sys.join("class/powercap/intel-rapl:0/energy_uj"));
    fifo(&proc.join("stat"));
    fifo(&proc.join("cpuinfo"));
    let mut child = cmd()
        .arg("run")
        .arg("--sysfs-root")
        .arg(&sys)
        .arg("--procfs-root")
        .arg(&proc)
        .args(["--", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let status = wait_at_most(&mut child, Duration::from_secs(10), "FIFOs in the roots");
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut err)
        .expect("stderr");
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
}

#[test]
fn a_mistyped_run_flag_is_an_error_with_a_suggestion_not_the_command() {
    let o = run(&["--gird", "FR", "--", "true"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("'--gird'") && err.contains("--grid"), "{err}");
    assert!(!err.contains("cannot run"), "{err}");
    // After `--`, or after the command's first word, everything is the command's.
    let o = run(&["-q", "printf", "%s|", "--gird", "-x"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "--gird|-x|");
}

#[test]
fn run_errors_say_what_to_do_once() {
    // No command: name the three ways to use run.
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(2));
    for n in ["-- CMD", "--pid", "--replay"] {
        assert!(stderr(&o).contains(n), "{}", stderr(&o));
    }
    // A footprint given to --replay: say what it is and what --replay reads.
    let dir = tempfile::tempdir().expect("tempdir");
    let fp = dir.path().join("run.json");
    let o = run(&["-q", "--json", fp.to_str().expect("utf-8"), "--", "true"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["--replay", fp.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("footprint"), "{}", stderr(&o));
    assert!(stderr(&o).contains("--record"), "{}", stderr(&o));
    // An OS error once, in clap's `error:` style.
    let o = run(&["--replay", "/no/such/trace.jsonl"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(err.matches("No such file").count(), 1, "{err}");
}

#[test]
fn a_modelled_cpu_says_its_rating_and_how_to_give_a_better_one() {
    // procfs-4cpu names an AMD EPYC 7742, a catalog CPU: the note names the row.
    let o = run(&["--", "true"]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("modelled from CPU time"), "{err}");
    assert!(err.contains("EPYC 7742") && err.contains("225 W"), "{err}");
    assert!(
        err.contains("--cpu-tdp") && err.contains("--server"),
        "{err}"
    );
    // An unknown CPU: the per-CPU default, said as such.
    let dir = tempfile::tempdir().expect("tempdir");
    let proc = dir.path().join("proc");
    std::fs::create_dir(&proc).expect("mkdir");
    for f in ["stat", "meminfo"] {
        std::fs::copy(lib_fixture("procfs-4cpu").join(f), proc.join(f)).expect("copy");
    }
    std::fs::write(proc.join("cpuinfo"), "model name\t: Imaginary CPU 9000\n").expect("cpuinfo");
    let o = cmd()
        .arg("run")
        .arg("--sysfs-root")
        .arg(lib_fixture("sysfs-none"))
        .arg("--procfs-root")
        .arg(&proc)
        .args(["--", "true"])
        .output()
        .expect("run");
    let err = stderr(&o);
    assert!(err.contains("W per logical CPU x 4"), "{err}");
    assert!(err.contains("no catalog row"), "{err}");
    // Given by the user: said, without the hint.
    let o = run(&["--cpu-tdp", "100W", "--", "true"]);
    let err = stderr(&o);
    assert!(err.contains("--cpu-tdp 100 W"), "{err}");
    assert!(!err.contains("for this machine's rating"), "{err}");
}

#[test]
fn the_live_line_says_it_and_facility_energy_like_the_summary() {
    if !has_python() {
        eprintln!("skipped: python3 is not installed");
        return;
    }
    // A pseudo-terminal, so that the live line is drawn; its output is copied to a file.
    let dir = tempfile::tempdir().expect("tempdir");
    let seen = dir.path().join("tty");
    let driver = dir.path().join("drive_pty.py");
    std::fs::write(
        &driver,
        "import os, pty, sys\n\
         out, argv = sys.argv[1], sys.argv[2:]\n\
         pid, fd = pty.fork()\n\
         if pid == 0:\n    os.execv(argv[0], argv)\n\
         seen = b''\n\
         try:\n    while True:\n        b = os.read(fd, 4096)\n        if not b:\n            break\n        seen += b\n\
         except OSError:\n    pass\n\
         open(out, 'wb').write(seen)\n\
         sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))\n",
    )
    .expect("driver");
    let status = Command::new("python3")
        .env("WATTLENS_HISTORY", super::test_ledger())
        .arg(&driver)
        .arg(&seen)
        .arg(env!("CARGO_BIN_EXE_wattlens"))
        .args(["run", "--sysfs-root"])
        .arg(lib_fixture("sysfs-none"))
        .arg("--procfs-root")
        .arg(lib_fixture("procfs-4cpu"))
        .args(["--interval", "100ms", "--pue", "1.5", "--", "sleep", "0.7"])
        .env("CUDA_VISIBLE_DEVICES", "")
        .env_remove("WATTLENS_CATALOG")
        .env_remove("WATTLENS_CONFIG")
        .stdin(Stdio::null())
        .status()
        .expect("python3 tty driver");
    assert!(status.success());
    let tty = String::from_utf8_lossy(&std::fs::read(&seen).expect("tty output")).into_owned();
    let live = tty
        .split('\r')
        .find(|l| l.contains("wattlens:") && l.contains("gCO2e"))
        .unwrap_or_else(|| panic!("no live line in {tty:?}"));
    assert!(
        live.contains(" IT ") && live.contains("facility"),
        "{live:?}"
    );
    // The summary names the same two energies.
    assert!(
        tty.contains("IT energy") && tty.contains("facility energy"),
        "{tty:?}"
    );
}

/// The header and first row of a CSV file, as (column, value) pairs.
fn csv_row(text: &str) -> Vec<(String, String)> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let row = r.records().next().expect("a row").expect("a CSV row");
    header
        .into_iter()
        .zip(row.iter().map(str::to_string))
        .collect()
}

/// Checks that `row` (a CodeCarbon row or wattlens') uses every column in CodeCarbon's meaning
/// and unit, for a run on the French grid (returns the failures).
fn codecarbon_meaning(row: &[(String, String)], who: &str) -> Vec<String> {
    let get = |c: &str| -> String {
        row.iter()
            .find(|(k, _)| k == c)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{who}: no column {c}"))
    };
    let num = |c: &str| -> f64 {
        get(c)
            .parse()
            .unwrap_or_else(|_| panic!("{who}: {c} = {:?} is not a number", get(c)))
    };
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * a.abs().max(b.abs()) + 1e-15;
    let empty_or_in = |c: &str, lo: f64, hi: f64| {
        let v = get(c);
        v.is_empty() || v.parse::<f64>().is_ok_and(|x| (lo..=hi).contains(&x))
    };
    let mut bad = Vec::new();
    for (col, v) in row {
        let ok = match col.as_str() {
            // YYYY-MM-DDTHH:MM:SS, local time in CodeCarbon, UTC in wattlens.
            "timestamp" => v.len() == 19 && v.as_bytes()[10] == b'T' && v.as_bytes()[4] == b'-',
            "project_name" | "run_id" | "os" | "codecarbon_version" => !v.is_empty(),
            "experiment_id" | "region" | "python_version" | "gpu_model" => true,
            "duration" => num("duration") > 0.0,
            // kg CO2e: kg per kWh of the French grid (tens of g/kWh), not g.
            "emissions" => (0.02..0.1).contains(&(num("emissions") / num("energy_consumed"))),
            "emissions_rate" => close(num("emissions_rate"), num("emissions") / num("duration")),
            // Average W = kWh x 3.6e6 / s.
            "cpu_power" | "gpu_power" | "ram_power" => {
                let part = col.trim_end_matches("_power");
                close(
                    num(col),
                    num(&format!("{part}_energy")) * 3.6e6 / num("duration"),
                )
            }
            "cpu_energy" | "gpu_energy" | "ram_energy" => num(col) >= 0.0,
            // kWh, PUE included: at least the parts times the PUE.
            "energy_consumed" => {
                let parts = num("cpu_energy") + num("gpu_energy") + num("ram_energy");
                num(col) >= parts * num("pue") * (1.0 - 1e-9)
            }
            // L of on-site water: WUE (L/kWh) x the energy before PUE.
            "water_consumed" => close(num(col), num("wue") * num("energy_consumed") / num("pue")),
            "country_name" => v == "France",
            "country_iso_code" => v == "FRA",
            "cloud_provider" | "cloud_region" => v.is_empty(),
            "on_cloud" => v == "N",
            "cpu_count" => v.parse::<u32>().is_ok_and(|n| n >= 1),
            "gpu_count" => v.parse::<u32>().is_ok(),
            "cpu_model" => !v.is_empty(),
            "longitude" => empty_or_in(col, -180.0, 180.0),
            "latitude" => empty_or_in(col, -90.0, 90.0),
            // GiB of installed memory.
            "ram_total_size" => num(col) > 0.5,
            "ram_used_gb" => empty_or_in(col, 0.0, num("ram_total_size")),
            "tracking_mode" => v == "machine" || v == "process",
            "cpu_utilization_percent" | "gpu_utilization_percent" | "ram_utilization_percent" => {
                empty_or_in(col, 0.0, 100.0)
            }
            // The value used, a short number (not a sampled median to 16 digits).
            "pue" => num(col) >= 1.0 && v.len() <= 5,
            "wue" => num(col) >= 0.0 && v.len() <= 5,
            other => {
                bad.push(format!("{who}: column {other} has no stated meaning"));
                true
            }
        };
        if !ok {
            bad.push(format!("{who}: {col} = {v:?}"));
        }
    }
    bad
}

#[test]
fn csv_rows_mean_what_codecarbon_3_3_rows_mean_column_by_column() {
    let fixture = std::fs::read_to_string(super::fixture("codecarbon-3.3-emissions.csv"))
        .expect("CodeCarbon fixture");
    let theirs = csv_row(&fixture);
    // The fixture's row passes the checks: they state CodeCarbon's meanings.
    assert_eq!(
        codecarbon_meaning(&theirs, "CodeCarbon"),
        Vec::<String>::new()
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("emissions.csv");
    let o = run(&[
        "-q",
        "--grid",
        "FR",
        "--pue",
        "1.2",
        "--wue",
        "0.5",
        "--csv",
        path.to_str().expect("utf-8"),
        "--",
        "sh",
        "-c",
        "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ours = csv_row(&std::fs::read_to_string(&path).expect("csv"));
    // Same names in the same order.
    let names = |r: &[(String, String)]| r.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    assert_eq!(names(&ours), names(&theirs));
    assert_eq!(codecarbon_meaning(&ours, "wattlens"), Vec::<String>::new());
    // The values wattlens knows exactly: the PUE and WUE given, the fixture's 16,000,000 kB of
    // memory in GiB, the CPU model of its cpuinfo.
    let get = |c: &str| ours.iter().find(|(k, _)| k == c).expect("column").1.clone();
    assert_eq!(get("pue"), "1.2");
    assert_eq!(get("wue"), "0.5");
    assert_eq!(get("ram_total_size"), "15.26");
    assert!(
        get("cpu_model").contains("EPYC 7742"),
        "{}",
        get("cpu_model")
    );
    assert!(get("cpu_energy").parse::<f64>().expect("kWh") > 0.0);
}

#[test]
fn csv_of_a_cloud_grid_names_its_provider_region_and_country() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("emissions.csv");
    let o = run(&[
        "-q",
        "--grid",
        "gcp:europe-west1",
        "--csv",
        path.to_str().expect("utf-8"),
        "--",
        "true",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let row = csv_row(&std::fs::read_to_string(&path).expect("csv"));
    let get = |c: &str| row.iter().find(|(k, _)| k == c).expect("column").1.clone();
    assert_eq!(get("cloud_provider"), "gcp");
    assert_eq!(get("cloud_region"), "europe-west1");
    assert_eq!(get("on_cloud"), "Y");
    assert_eq!(get("country_iso_code"), "BEL");
    assert_eq!(get("country_name"), "Belgium");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(12))]
    /// Any unknown word starting with `-` before the command is a usage error; the command
    /// never runs.
    #[test]
    fn unknown_dash_words_before_the_command_are_errors(
        word in "-(-zz[a-z]{1,8}|[A-UW-Z])(=[a-z0-9]{1,4})?",
        after_dashdash: bool,
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let ran = dir.path().join("ran");
        let ran = ran.to_str().expect("utf-8");
        let mut args = vec![word.as_str()];
        if after_dashdash {
            args.extend(["--", "touch", ran]);
        } else {
            args.extend(["touch", ran]);
        }
        let o = run(&args);
        proptest::prop_assert_eq!(o.status.code(), Some(2), "{:?}: {}", args, stderr(&o));
        proptest::prop_assert!(stderr(&o).contains("unexpected argument"), "{}", stderr(&o));
        proptest::prop_assert!(!Path::new(ran).exists());
    }
}
