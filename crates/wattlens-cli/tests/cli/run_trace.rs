//! `wattlens run`'s data: what a trace records and a replay does with it, impossible traces,
//! the marks file (a job never hangs or dies because of it), the embodied carbon of windows,
//! and who/where/when in the JSON. Same fixtures and clean environment as `run.rs`.

use super::{isolated as cmd, lib_fixture, replay_trace as replay, run_fixture as run, s, stderr};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("json file")).expect("valid JSON")
}

#[test]
fn a_replay_accounts_as_the_recording_did_unless_a_flag_overrides_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (trace, live, again, other) = (
        dir.path().join("t.jsonl"),
        dir.path().join("live.json"),
        dir.path().join("again.json"),
        dir.path().join("other.json"),
    );
    let o = run(&[
        "--quiet",
        "--charge",
        "machine",
        "--grid",
        "FR",
        "--cpu-tdp",
        "80W",
        "--interval",
        "50ms",
        "--samples",
        "1",
        "--record",
        s(&trace),
        "--json",
        s(&live),
        "--",
        "sleep",
        "0.2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // No flags: the machine, FR's grid and the 80 W CPU come from the trace.
    let o = replay(&trace, &["--json", s(&again)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (a, b) = (read_json(&live), read_json(&again));
    assert_eq!(b["attribution"]["policy"], "machine");
    assert_eq!(a["components"], b["components"]);
    assert_eq!(a["carbon_kgco2e"], b["carbon_kgco2e"]);
    // The power profile: bins from the start, the same on replay, and (with one sample, so
    // every component is its central value) it sums to the components but the modelled rest of
    // the server.
    assert_eq!(a["profile"], b["profile"]);
    let bins = a["profile"].as_array().expect("profile");
    assert!(!bins.is_empty());
    let summed: f64 = bins
        .iter()
        .map(|b| b["energy_kwh"].as_f64().expect("kWh"))
        .sum();
    let parts: f64 = a["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter(|c| c["name"] != "rest of server")
        .map(|c| c["energy_kwh"]["p50"].as_f64().expect("kWh"))
        .sum();
    assert!(
        (summed - parts).abs() <= 1e-9 * parts.max(1e-12),
        "{summed} {parts}"
    );
    assert!(bins[0]["start_s"].as_f64().expect("start") < 0.1);
    assert_eq!(b["replay"]["overridden"], serde_json::json!([]));
    assert_eq!(b["replay"]["recorded_settings"]["charge"], "machine");
    assert_eq!(b["replay"]["recorded_settings"]["site"]["grid"], "FR");
    // A flag wins, and both stderr and the JSON say so.
    let o = replay(&trace, &["--charge", "processes", "--json", s(&other)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("--charge processes overrides the trace's recorded charge (machine)"),
        "{err}"
    );
    let c = read_json(&other);
    assert_eq!(c["attribution"]["policy"], "processes");
    assert_eq!(
        c["replay"]["overridden"][0],
        serde_json::json!({"setting": "charge", "recorded": "machine", "used": "processes"})
    );
    assert!(
        c["notes"].to_string().contains("overrides"),
        "{}",
        c["notes"]
    );
}

#[test]
fn an_old_trace_without_its_settings_still_replays_with_a_note() {
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("r.json");
    let o = replay(
        &lib_fixture("trace-wrap-reset.jsonl"),
        &["--json", s(&json)],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let notes = read_json(&json)["notes"].to_string();
    assert!(
        notes.contains("does not record how it was measured"),
        "{notes}"
    );
}

#[test]
fn impossible_traces_exit_2_naming_the_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let head = "{\"schema\":\"wattlens.trace/v1\",\"started_unix_s\":1.0,\"interval_s\":1.0}\n";
    let power = |t: f64, w: f64| {
        format!("{{\"t\":{t:?},\"source\":\"nvml\",\"device\":\"gpu0\",\"kind\":\"power\",\"part\":\"gpu\",\"power_w\":{w:?}}}\n")
    };
    let mark = |t: f64, m: &str| {
        format!("{{\"t\":{t:?},\"source\":\"child\",\"device\":\"marks\",\"kind\":\"mark\",\"text\":{m:?}}}\n")
    };
    let cases = [
        (
            "back.jsonl",
            format!("{head}{}{}", power(10.0, 5.0), power(0.0, 5.0)),
            "back.jsonl:3:",
        ),
        (
            "neg.jsonl",
            format!("{head}{}{}", power(0.0, 5.0), power(1.0, -50.0)),
            "neg.jsonl:3:",
        ),
        (
            "tdp.jsonl",
            format!(
                "{{\"schema\":\"wattlens.trace/v1\",\"started_unix_s\":1.0,\"interval_s\":1.0,\"cpu_tdp_w\":-100.0}}\n{}",
                power(0.0, 5.0)
            ),
            "tdp.jsonl:1:",
        ),
        (
            "marks.jsonl",
            format!(
                "{head}{}{}{}{}",
                power(0.0, 5.0),
                power(8.0, 5.0),
                mark(8.0, "begin a"),
                mark(4.0, "end a")
            ),
            "marks.jsonl:5:",
        ),
        ("empty.jsonl", String::new(), "no readings"),
        ("header.jsonl", head.to_string(), "no readings"),
    ];
    for (name, text, needle) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        let o = replay(&path, &[]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(needle), "{name}: {err}");
        assert!(err.contains("--replay"), "{name}: {err}");
    }
    // A torn last line that happens to end in '}' is skipped with a note, not an error.
    let full = power(2.0, 123.0);
    let torn = format!(
        "{head}{}{}{}}}",
        power(0.0, 5.0),
        power(1.0, 5.0),
        &full[..full.len() - 4]
    );
    let path = dir.path().join("torn.jsonl");
    std::fs::write(&path, torn).expect("write");
    let o = replay(&path, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("cut short"), "{}", stderr(&o));
    assert!(stderr(&o).contains("1 s"), "{}", stderr(&o));
}

#[test]
fn replaying_a_device_or_a_pipe_exits_2_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("fifo");
    let mut paths = vec![Path::new("/dev/zero").to_path_buf()];
    if Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success())
    {
        paths.push(fifo);
    }
    for p in paths {
        let start = Instant::now();
        let o = replay(&p, &[]);
        assert_eq!(o.status.code(), Some(2), "{}: {}", p.display(), stderr(&o));
        assert!(stderr(&o).contains("not a regular file"), "{}", stderr(&o));
        assert!(start.elapsed() < Duration::from_secs(5));
    }
    // A regular file with one endless line: refused, in bounded memory.
    let long = dir.path().join("long.jsonl");
    std::fs::write(&long, vec![b'0'; 1 << 20]).expect("write");
    let o = replay(&long, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("long.jsonl:1:"), "{}", stderr(&o));
}

#[test]
fn the_json_says_when_where_and_what_ran_and_the_trace_keeps_only_the_program() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let (json, trace) = (dir.path().join("r.json"), dir.path().join("t.jsonl"));
    let o = run(&[
        "--quiet",
        "--json",
        s(&json),
        "--record",
        s(&trace),
        "--",
        "sh",
        "-c",
        "true --token=SECRET",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = read_json(&json);
    let at = v["started_at"].as_str().expect("started_at");
    assert!(
        at.len() >= 20 && at.ends_with('Z') && at.as_bytes()[10] == b'T',
        "{at}"
    );
    assert!(at.starts_with("20"), "{at}");
    assert!(!v["host"].as_str().expect("host").is_empty());
    assert_eq!(v["wattlens_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["command"], "sh");
    let text = std::fs::read_to_string(&trace).expect("trace");
    assert!(!text.contains("SECRET"), "{text}");
    let mode = std::fs::metadata(&trace)
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    // Replayed: the same start, host and program.
    let again = dir.path().join("again.json");
    let o = replay(&trace, &["--json", s(&again)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let b = read_json(&again);
    for k in ["started_at", "host", "command"] {
        assert_eq!(v[k], b[k], "{k}");
    }
    // --record-command asks for the whole command line.
    let o = run(&[
        "--quiet",
        "--record",
        s(&trace),
        "--force",
        "--record-command",
        "--",
        "sh",
        "-c",
        "true --token=SECRET",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&trace).expect("trace");
    assert!(text.contains("SECRET"), "{text}");
}

/// Waits for `path` to exist, up to 10 s.
fn wait_for(path: &Path) -> bool {
    let start = Instant::now();
    while !path.exists() {
        if start.elapsed() > Duration::from_secs(10) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

#[test]
fn a_killed_wattlens_costs_a_marks_job_nothing() {
    // The job holds the marks file open (fd 3) and also appends with `>>` after wattlens died
    // of SIGKILL: neither blocks nor kills it, and it ends with its own code.
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let script = format!(
        "exec 3>>\"$WATTLENS_MARKS\"; echo 'begin a' >&3; \
         stat -c %a \"$(dirname \"$WATTLENS_MARKS\")\" > {perm}; touch {ready}; \
         while [ ! -e {go} ]; do sleep 0.02; done; \
         echo 'end a' >&3; echo 'begin b' >> \"$WATTLENS_MARKS\"; echo $? > {done}; exit 7",
        perm = d.join("perm").display(),
        ready = d.join("ready").display(),
        go = d.join("go").display(),
        done = d.join("done").display(),
    );
    let mut w = cmd()
        .arg("run")
        .arg("--sysfs-root")
        .arg(lib_fixture("sysfs-none"))
        .arg("--procfs-root")
        .arg(lib_fixture("procfs-4cpu"))
        .args(["--quiet", "--marks", "--", "sh", "-c", &script])
        // A SIGKILLed wattlens cannot remove its marks folder: make it inside this test's.
        .env("TMPDIR", d)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    assert!(wait_for(&d.join("ready")), "the job never started");
    w.kill().expect("SIGKILL wattlens");
    let _ = w.wait();
    std::fs::write(d.join("go"), "").expect("go");
    let finished = wait_for(&d.join("done"));
    assert!(finished, "the job hung or died after wattlens was killed");
    assert_eq!(
        std::fs::read_to_string(d.join("done"))
            .unwrap_or_default()
            .trim(),
        "0",
        "the mark write failed"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("perm"))
            .unwrap_or_default()
            .trim(),
        "700"
    );
}

#[test]
fn an_idle_window_gets_the_embodied_carbon_of_its_own_span_and_a_long_line_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("m.json");
    let script = r#"m() { printf "$1" >> "$WATTLENS_MARKS"; }
        m 'begin busy\n'; i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; m 'end busy\n'
        m 'begin idle\n'; sleep 0.4; m 'end idle\n'
        head -c 10000 /dev/zero | tr '\0' 'L' >> "$WATTLENS_MARKS"; m '\nbegin after\n'"#;
    let o = run(&[
        "--marks",
        "--cpu-tdp",
        "100W",
        "--samples",
        "1",
        "--json",
        s(&json),
        "--",
        "sh",
        "-c",
        script,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("operational + embodied for the window's own span"),
        "{err}"
    );
    let v = read_json(&json);
    let w = v["windows"].as_array().expect("windows");
    let names: Vec<&str> = w.iter().filter_map(|w| w["name"].as_str()).collect();
    assert_eq!(names, ["busy", "idle", "after"]);
    let emb = |o: &Value| {
        o["embodied_carbon_kgco2e"]["p50"]
            .as_f64()
            .expect("embodied")
    };
    let (busy, idle, run) = (emb(&w[0]), emb(&w[1]), emb(&v));
    // The sleeping window kept (almost) none of the server busy: far less than the loop.
    assert!(idle < 0.5 * busy, "idle {idle} vs busy {busy}");
    assert!(busy + idle <= run * (1.0 + 1e-6), "{busy} + {idle} > {run}");
    let text = std::fs::read_to_string(&json).expect("json");
    assert!(!text.contains("LLLLLLLL"), "the long line was copied");
    assert!(
        v["notes"].to_string().contains("longer than 4096"),
        "{}",
        v["notes"]
    );
}

/// Whether `v` has one of the JSON Schema `type`s of `schema` (true when it names none).
fn has_type(v: &Value, schema: &Value) -> bool {
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => return true,
    };
    types.iter().any(|t| match *t {
        "string" => v.is_string(),
        "null" => v.is_null(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "boolean" => v.is_boolean(),
        _ => false,
    })
}

#[test]
fn every_key_of_a_run_and_its_windows_is_in_the_schema() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../docs/schema/footprint-v1.json"),
        )
        .expect("schema file"),
    )
    .expect("schema JSON");
    let dir = tempfile::tempdir().expect("tempdir");
    let (json, trace, again) = (
        dir.path().join("r.json"),
        dir.path().join("t.jsonl"),
        dir.path().join("a.json"),
    );
    let o = run(&[
        "--quiet",
        "--marks",
        "--json",
        s(&json),
        "--record",
        s(&trace),
        "--",
        "sh",
        "-c",
        "echo 'begin a' >> \"$WATTLENS_MARKS\"; echo 'end a' >> \"$WATTLENS_MARKS\"",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = replay(&trace, &["--charge", "machine", "--json", s(&again)]);
    assert!(o.status.success(), "{}", stderr(&o));
    for path in [&json, &again] {
        let v = read_json(path);
        let props = &schema["properties"];
        for (k, x) in v.as_object().expect("object") {
            assert!(props.get(k).is_some(), "{k} is not in the schema");
            assert!(has_type(x, &props[k]), "{k} = {x} against {}", props[k]);
        }
        let item = &props["windows"]["items"];
        for w in v["windows"].as_array().expect("windows") {
            for k in item["required"].as_array().expect("required") {
                let k = k.as_str().expect("key");
                assert!(w.get(k).is_some(), "window lacks {k}: {w}");
            }
            for k in w.as_object().expect("window").keys() {
                assert!(
                    item["properties"].get(k).is_some(),
                    "window key {k} not in the schema"
                );
            }
        }
    }
    assert!(read_json(&again)["replay"].is_object());
}

#[test]
fn marks_written_with_a_truncating_redirect_are_still_read() {
    // `>` truncates the marks file at each write: wattlens reads it again from its start. (Marks
    // less than the 20 ms watch period apart can be lost that way; the documented form is `>>`.)
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("m.json");
    // A shorter line after a longer one (the file shrank), and a longer one after a shorter one
    // (it grew, but its start changed).
    let script = r#"for m in "begin a" "end a" "begin bravo" "end bravo"; do
        echo "$m" > "$WATTLENS_MARKS"; sleep 0.1; done"#;
    let o = run(&[
        "--quiet",
        "--marks",
        "--samples",
        "1",
        "--json",
        s(&json),
        "--",
        "sh",
        "-c",
        script,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = read_json(&json);
    let names: Vec<&str> = v["windows"]
        .as_array()
        .expect("windows")
        .iter()
        .filter_map(|w| w["name"].as_str())
        .collect();
    assert_eq!(names, ["a", "bravo"], "{}", v["notes"]);
    assert_eq!(v["windows"][0]["closed_by_run_end"], false);
}

/// A hostile tester's case: a run's Markdown kept only the rest of the server in its component
/// table (the estimate's component list was used). Every component of the run, with its method.
#[test]
fn a_runs_markdown_lists_every_component_with_its_method() {
    let o = replay(
        &lib_fixture("trace-wrap-reset.jsonl"),
        &["--format", "markdown"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let md = String::from_utf8_lossy(&o.stdout);
    for row in [
        "| CPU (active) (measured) |",
        "| CPU (idle share) (measured) |",
        "| memory (DRAM) (modelled) |",
        "| GPUs (integrated) |",
        "| rest of server (modelled) |",
    ] {
        assert!(md.contains(row), "{row} missing:\n{md}");
    }
}
