//! `wattlens run` when outputs stall: pipes whose reader does not read, signals while the
//! marked windows are accounted, the same file under two names, output checks before the
//! command, `--interval` units and the smaller interface defects.

use super::{lib_fixture, stderr};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// `wattlens run` on the fixture roots, in `dir`.
fn run_cmd(dir: &Path) -> Command {
    let mut c = super::run_cmd();
    c.current_dir(dir);
    c
}

fn run(dir: &Path, args: &[&str]) -> Output {
    run_cmd(dir).args(args).output().expect("runs wattlens")
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

/// A FIFO at `path` whose pipe is already full, and the handle that keeps it so (open for
/// reading and writing, never read): any further write would wait forever.
fn full_fifo(path: &Path) -> std::fs::File {
    use std::io::Write;
    assert!(Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo")
        .success());
    // O_RDWR on a FIFO never waits for the other end (Linux).
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .expect("open FIFO");
    let flags = rustix::fs::fcntl_getfl(&f).expect("getfl");
    rustix::fs::fcntl_setfl(&f, flags | rustix::fs::OFlags::NONBLOCK).expect("setfl");
    let block = [b'x'; 4096];
    loop {
        match (&f).write(&block) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("filling the FIFO: {e}"),
        }
    }
    f
}

#[test]
fn a_pipe_nobody_reads_never_blocks_the_run_nor_loses_its_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let _trace = full_fifo(&d.join("trace.fifo"));
    let _json = full_fifo(&d.join("json.fifo"));
    let mut child = run_cmd(d)
        .args([
            "-q",
            "--interval",
            "10ms",
            "--record",
            "trace.fifo",
            "--json",
            "json.fifo",
            "--csv",
            "run.csv",
            "--",
            "sh",
            "-c",
            "sleep 0.3; exit 3",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    let status = wait_at_most(&mut child, Duration::from_secs(15), "full pipes");
    let took = start.elapsed();
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        std::io::Read::read_to_string(&mut e, &mut err).expect("stderr");
    }
    assert_eq!(status.code(), Some(3), "{err}");
    assert!(took < Duration::from_secs(5), "took {took:?}: {err}");
    // The regular file is written whatever the pipes do.
    let csv = std::fs::read_to_string(d.join("run.csv")).expect("run.csv");
    assert_eq!(csv.lines().count(), 2, "{csv}");
    for flag in ["--record trace.fifo", "--json json.fifo"] {
        assert!(
            err.contains(flag) && err.contains("abandoned"),
            "{flag}: {err}"
        );
    }
}

#[test]
fn a_trace_reader_that_stalls_stops_the_recording_not_the_measurement() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let _trace = full_fifo(&d.join("trace.fifo"));
    // About 1.2 MiB of marks: more than the trace may keep waiting for its reader.
    let script = "l=$(head -c 4000 /dev/zero | tr '\\0' a); i=0; while [ $i -lt 300 ]; do \
                  echo \"begin $l$i\"; i=$((i+1)); done > \"$WATTLENS_MARKS\"; exit 4";
    let mut child = run_cmd(d)
        .args([
            "-q",
            "--marks",
            "--record",
            "trace.fifo",
            "--json",
            "m.json",
            "--",
            "sh",
            "-c",
            script,
        ])
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let status = wait_at_most(&mut child, Duration::from_secs(20), "stalled trace");
    assert_eq!(status.code(), Some(4));
    let j: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("m.json")).expect("m.json")).expect("JSON");
    let notes = j["notes"].to_string();
    assert!(notes.contains("recording stopped"), "{notes}");
}

#[test]
fn the_same_file_under_two_names_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // A symbolic link to a file not made yet.
    std::os::unix::fs::symlink("new.x", d.join("link")).expect("symlink");
    let o = run(
        d,
        &["-q", "--json", "new.x", "--record", "link", "--", "true"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("same file"), "{}", stderr(&o));
    assert!(!d.join("new.x").exists());
    // A hard link to an existing file.
    std::fs::write(d.join("exist.jsonl"), "keep\n").expect("write");
    std::fs::hard_link(d.join("exist.jsonl"), d.join("hard.jsonl")).expect("link");
    let o = run(
        d,
        &[
            "-q",
            "--json",
            "hard.jsonl",
            "--record",
            "exist.jsonl",
            "--force",
            "--",
            "true",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("same file"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(d.join("exist.jsonl")).expect("read"),
        "keep\n"
    );
    // A symbolic link to an existing file, as --replay and --json.
    std::os::unix::fs::symlink("exist.jsonl", d.join("soft.jsonl")).expect("symlink");
    let o = run(d, &["-q", "--replay", "exist.jsonl", "--csv", "soft.jsonl"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("same file"), "{}", stderr(&o));
}

#[test]
fn outputs_that_cannot_be_written_stop_the_run_before_the_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::os::unix::fs::symlink("no-such-folder/x.json", d.join("dangling")).expect("symlink");
    let o = run(d, &["-q", "--json", "dangling", "--", "touch", "ran"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--json dangling"), "{}", stderr(&o));
    assert!(!d.join("ran").exists(), "the command ran");
    std::fs::write(d.join("wide.csv"), "a".repeat(70 * 1024)).expect("write");
    let o = run(d, &["-q", "--csv", "wide.csv", "--", "touch", "ran"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--csv wide.csv"), "{}", stderr(&o));
    assert!(!d.join("ran").exists(), "the command ran");
}

#[test]
fn interval_takes_any_duration_unit_up_to_an_hour() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    for ok in ["1h", "60m", "60min", "0.5h", "3600s", "100ms", "2"] {
        let o = run(d, &["-q", "--interval", ok, "--", "true"]);
        assert_eq!(o.status.code(), Some(0), "--interval {ok}: {}", stderr(&o));
    }
    for bad in ["2h", "5ms", "1e308", "fast", "1..2s"] {
        let o = run(d, &["-q", "--interval", bad, "--", "true"]);
        assert_eq!(o.status.code(), Some(2), "--interval {bad}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("--interval"), "{err}");
        assert!(!err.contains("0000000000"), "a long number: {err}");
    }
}

#[test]
fn a_sigterm_while_windows_are_accounted_still_writes_the_run() {
    if Command::new("python3").arg("--version").output().is_err() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // Many unclosed windows: accounting them takes a while after the command ends.
    let script = "import os\n\
                  with open(os.environ['WATTLENS_MARKS'], 'w') as f:\n    \
                  f.write(''.join(f'begin w{i}\\n' for i in range(20000)))\n\
                  open('done', 'w').close()\n\
                  raise SystemExit(5)\n";
    let mut child = run_cmd(d)
        .args([
            "-q",
            "--marks",
            "--json",
            "post.json",
            "--",
            "python3",
            "-c",
            script,
        ])
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    while !d.join("done").exists() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(200));
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).expect("pid")).expect("pid");
    let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    let sent = Instant::now();
    let status = wait_at_most(&mut child, Duration::from_secs(10), "SIGTERM after the end");
    // Within the documented grace (2 s), with the command's own code and the run written.
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "{:?}",
        sent.elapsed()
    );
    assert_eq!(status.code(), Some(5));
    let j: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("post.json")).expect("post.json"))
            .expect("JSON");
    assert!(j["it_energy_kwh"].is_object(), "{j}");
    let notes = j["notes"].to_string();
    let windows = j["windows"].as_array().map_or(0, Vec::len);
    // Either the windows were done before the signal, or the note says they are left out.
    assert!(
        windows == 20000 || (windows == 0 && notes.contains("SIGTERM arrived")),
        "{windows} windows; {notes}"
    );
}

#[test]
fn a_mistyped_run_flag_is_not_suggested_as_the_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = run(dir.path(), &["--gird", "FR", "--", "true"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("'--grid'"), "{err}");
    assert!(!err.contains("-- --gird"), "{err}");
    assert!(err.contains("before `--`"), "{err}");
}

#[test]
fn a_window_name_with_escape_is_escaped_on_the_terminal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = run(
        dir.path(),
        &[
            "--marks",
            "--",
            "sh",
            "-c",
            "printf 'begin a\\033[31mred\\nend a\\033[31mred\\n' > \"$WATTLENS_MARKS\"",
        ],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("red"), "{err}");
    assert!(!err.contains('\u{1b}'), "a raw ESC: {err:?}");
}

#[test]
fn huge_numbers_in_run_errors_are_written_short() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let fixture = std::fs::read_to_string(lib_fixture("trace-wrap-reset.jsonl")).expect("trace");
    let (head, rest) = fixture.split_once('\n').expect("header line");
    let mut h: serde_json::Value = serde_json::from_str(head).expect("header");
    h["cpu_tdp_w"] = serde_json::json!(1e308);
    std::fs::write(d.join("t.jsonl"), format!("{h}\n{rest}")).expect("write");
    let o = run(d, &["-q", "--replay", "t.jsonl"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains("0000000000"), "a long number: {err}");
}

#[test]
fn quiet_drops_the_summary_but_keeps_warnings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = run(dir.path(), &["-q", "--cpu-tdp", "6000", "--", "true"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("warning: --cpu-tdp"), "{err}");
    assert!(
        !err.contains("kWh") && !err.contains("Wh "),
        "a summary: {err}"
    );
    let help = super::wattlens(&["run", "--help"]);
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("warnings and errors still print"), "{text}");
    // The CPU rating's default is the catalog row first, as the reference says.
    assert!(text.contains("catalog row of this machine's CPU"), "{text}");
}
