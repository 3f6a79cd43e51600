//! What a replay writes about the recorded run (hostile round 4): the CSV row's `timestamp` and
//! `cpu_utilization_percent` from the trace, not the replaying machine (item 10), and a counter
//! reset's time with the trace's precision (item 11).

use super::{replay_trace, stderr};
use std::path::Path;

/// A v2 trace starting 2025-11-22T02:00:00Z (unix 1763776800), one poll every `dt` s: the
/// machine (4 CPUs) and RAPL package-0 at each of `uj`; the machine's busy CPU time grows by
/// `busy` x `dt` x 4 s a poll out of 4 x `dt` s.
fn trace(dir: &Path, uj: &[u64], dt: f64, busy: f64) -> std::path::PathBuf {
    let mut lines = vec![
        r#"{"schema":"wattlens.trace/v2","started_unix_s":1763776800.0,"interval_s":1.0,"command":["x"],"cpu_tdp_w":100.0}"#.to_string(),
        r#"{"declare":0,"source":"procfs","device":"machine"}"#.to_string(),
        r#"{"declare":1,"source":"rapl","device":"package-0"}"#.to_string(),
    ];
    let mut t = 0.0;
    for (i, e) in uj.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let k = i as f64;
        t = (k * dt * 1e6).round() / 1e6;
        lines.push(format!(
            r#"{{"t":{t},"d":0,"kind":"machine","busy_s":{},"total_s":{},"cpus":4,"mem_total_gb":16.0}}"#,
            100.0 + k * dt * 4.0 * busy,
            400.0 + k * dt * 4.0
        ));
        lines.push(format!(
            r#"{{"t":{t},"d":1,"kind":"counter","part":"cpu","energy_uj":{e},"max_uj":262143328850}}"#
        ));
    }
    lines.push(format!(r#"{{"t":{t},"event":"exit","code":0}}"#));
    let p = dir.join("t.jsonl");
    std::fs::write(&p, lines.join("\n") + "\n").expect("write trace");
    p
}

/// The (column, value) pairs of the first row of a CSV file.
fn row(path: &Path) -> Vec<(String, String)> {
    let mut r = csv::Reader::from_path(path).expect("csv");
    let header: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    let rec = r.records().next().expect("a row").expect("a CSV row");
    header
        .into_iter()
        .zip(rec.iter().map(String::from))
        .collect()
}

fn get<'a>(row: &'a [(String, String)], col: &str) -> &'a str {
    &row.iter().find(|(k, _)| k == col).expect("column").1
}

#[test]
fn a_replayed_rows_time_and_cpu_use_are_the_recorded_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 4 polls 10 s apart: 30 s from 02:00:00; busy 10 of every 40 CPU-seconds = 25%.
    let t = trace(
        dir.path(),
        &[0, 1_000_000_000, 2_000_000_000, 3_000_000_000],
        10.0,
        0.25,
    );
    let csv = dir.path().join("rows.csv");
    let json = dir.path().join("run.json");
    for charge in ["machine", "processes"] {
        let o = replay_trace(
            &t,
            &[
                "-q",
                "--no-history",
                "--charge",
                charge,
                "--grid",
                "DE",
                "--csv",
                csv.to_str().expect("utf-8"),
                "--json",
                json.to_str().expect("utf-8"),
            ],
        );
        assert!(o.status.success(), "{charge}: {}", stderr(&o));
        let r = row(&csv);
        std::fs::remove_file(&csv).expect("rm");
        // The recorded run's end: 02:00:00 + 30 s (the JSON's started_at is its start), not the
        // time of the replay.
        assert_eq!(get(&r, "timestamp"), "2025-11-22T02:00:30", "{charge}");
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("JSON");
        assert_eq!(v["started_at"], "2025-11-22T02:00:00Z", "{v}");
        // No tree readings: the whole machine is charged either way (`machine`), and its
        // utilisation is (130 - 100) / (520 - 400) = 30 / 120 = 25%, not 0.
        assert_eq!(get(&r, "tracking_mode"), "machine", "{charge}");
        let u: f64 = get(&r, "cpu_utilization_percent").parse().expect("number");
        assert!((u - 25.0).abs() < 1e-9, "{charge}: {u}");
    }
}

#[test]
fn a_counter_reset_between_10_ms_polls_is_noted_at_its_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Polls at 0, 0.01, 0.02, 0.03 s; the counter falls at t = 0.02 s.
    let t = trace(
        dir.path(),
        &[1_000_000, 2_000_000, 500_000, 600_000],
        0.01,
        0.25,
    );
    let json = dir.path().join("run.json");
    let o = replay_trace(
        &t,
        &[
            "-q",
            "--no-history",
            "--json",
            json.to_str().expect("utf-8"),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&json).expect("json");
    // It was noted "at t = 0.0 s".
    assert!(
        text.contains("rapl/package-0: energy counter reset at t = 0.02 s"),
        "{text}"
    );
}
