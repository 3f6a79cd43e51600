//! The run history (issue 13): every `run` and `estimate --save` lands in the SQLite ledger,
//! `history list|show|diff|export|rm` read it back. Also `run --format` and `run`'s budgets.
//! Every test has its own ledger; its safety under concurrency and crashes: `history_safety.rs`.

use super::{isolated, lib_fixture, run_cmd, stderr};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

/// `wattlens history ARGS` against `ledger`.
pub(super) fn history(ledger: &Path, args: &[&str]) -> Output {
    isolated()
        .arg("--history")
        .arg(ledger)
        .arg("history")
        .args(args)
        .output()
        .expect("runs wattlens")
}

/// The rows of `history list --limit 0 --json`.
pub(super) fn rows(ledger: &Path) -> Vec<Value> {
    let o = history(ledger, &["list", "--limit", "0", "--json"]);
    assert!(o.status.success(), "history list: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).expect("a JSON array of rows")
}

/// `wattlens run` on the fixture machine (charged whole, so the energy is not zero) recording
/// into `ledger`.
pub(super) fn run_into(ledger: &Path) -> Command {
    let mut c = run_cmd();
    c.arg("--history").arg(ledger).args([
        "--charge",
        "machine",
        "--interval",
        "100ms",
        "--samples",
        "200",
    ]);
    c
}

#[test]
fn runs_and_saved_estimates_are_recorded_listed_shown_exported_and_removed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("h.sqlite");
    let out = dir.path().join("run.json");
    let o = run_into(&ledger)
        .args(["--tag", "project=llm", "--json"])
        .arg(&out)
        .args(["--", "sh", "-c", "sleep 0.2; exit 0"])
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", stderr(&o));
    // An estimate is recorded with --save only.
    let fleet = [
        "estimate",
        "fleet",
        "--servers",
        "2",
        "--server-power",
        "500W",
        "--hours",
        "10",
    ];
    let o = isolated()
        .arg("--history")
        .arg(&ledger)
        .args(fleet)
        .output()
        .expect("estimate");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        rows(&ledger).len(),
        1,
        "an estimate without --save is not recorded"
    );
    let o = isolated()
        .arg("--history")
        .arg(&ledger)
        .args(fleet)
        .args(["--save", "--samples", "1", "--json"])
        .output()
        .expect("estimate --save");
    assert!(o.status.success(), "{}", stderr(&o));
    let estimate_json = o.stdout;

    let all = rows(&ledger);
    assert_eq!(all.len(), 2, "{all:?}");
    // Newest first.
    let (est, run) = (&all[0], &all[1]);
    assert_eq!(est["kind"], "estimate");
    assert_eq!(est["report_kind"], "fleet");
    assert_eq!(est["command"], "estimate fleet");
    // 2 servers x 500 W x 10 h = 10 kWh of IT energy, x the default PUE: above 10 kWh.
    assert!(
        est["energy_kwh"]["p50"].as_f64().expect("p50") > 10.0,
        "{est}"
    );
    assert_eq!(run["kind"], "run");
    assert_eq!(
        run["command"], "sh",
        "the program only, never its arguments"
    );
    assert_eq!(run["tags"]["project"], "llm");
    assert_eq!(run["exit_code"], 0);
    assert_eq!(run["method"], "modelled");
    let written: Value =
        serde_json::from_slice(&std::fs::read(&out).expect("--json file")).expect("JSON");
    // The indexed columns are the report's own figures.
    assert_eq!(
        run["energy_kwh"]["p50"], written["facility_energy_kwh"]["p50"],
        "{run}"
    );
    assert_eq!(run["carbon_kgco2e"]["p95"], written["carbon_kgco2e"]["p95"]);
    assert_eq!(run["water_l"]["p5"], written["water_l"]["p5"]);
    let run_id = run["id"].as_i64().expect("id").to_string();
    let est_id = est["id"].as_i64().expect("id").to_string();

    // show --json is the file --json wrote, byte for byte.
    let o = history(&ledger, &["show", &run_id, "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(o.stdout, std::fs::read(&out).expect("--json file"));
    let o = history(&ledger, &["show", &est_id, "--json"]);
    assert_eq!(o.stdout, estimate_json);
    // show: the run's summary, the estimate's table.
    let o = history(&ledger, &["show", &run_id]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.starts_with("wattlens: 0.") && text.contains("charged to: machine"),
        "{text}"
    );
    let o = history(&ledger, &["show", &est_id, "--format", "markdown"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("| facility energy |"));

    // diff: figure by figure, with --compare's renderer.
    let o = history(&ledger, &["diff", &est_id, &run_id]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains(&format!("compared with history run {run_id}")) && text.contains("ratio"),
        "{text}"
    );
    let o = history(&ledger, &["diff", &est_id, &run_id, "--format", "json"]);
    let c: Value = serde_json::from_slice(&o.stdout).expect("comparison JSON");
    assert!(
        c["figures"].as_array().is_some_and(|r| !r.is_empty()),
        "{c}"
    );

    // Filters.
    let ids = |args: &[&str]| -> Vec<i64> {
        let mut a = vec!["list", "--json"];
        a.extend(args);
        let o = history(&ledger, &a);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        serde_json::from_slice::<Vec<Value>>(&o.stdout)
            .expect("rows")
            .iter()
            .filter_map(|r| r["id"].as_i64())
            .collect()
    };
    let (r, e) = (
        run["id"].as_i64().expect("id"),
        est["id"].as_i64().expect("id"),
    );
    assert_eq!(ids(&["--kind", "run"]), vec![r]);
    assert_eq!(ids(&["--kind", "estimate"]), vec![e]);
    assert_eq!(ids(&["--tag", "project=llm"]), vec![r]);
    assert_eq!(ids(&["--tag", "project=other"]), Vec::<i64>::new());
    assert_eq!(ids(&["--since", "1h"]), vec![e, r]);
    assert_eq!(ids(&["--since", "2099-01-01T00:00:00Z"]), Vec::<i64>::new());
    assert_eq!(ids(&["--limit", "1"]), vec![e]);
    // The table, with the more-rows hint on stderr.
    let o = history(&ledger, &["--limit", "1"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.starts_with("ID  STARTED (UTC)") && text.contains("estimate fleet"),
        "{text}"
    );
    assert!(stderr(&o).contains("--limit 0"), "{}", stderr(&o));

    // Export: CSV with one line per row, JSON with the full reports.
    let o = history(&ledger, &["export", "--format", "csv"]);
    let csv = String::from_utf8_lossy(&o.stdout);
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.lines().any(|l| l.ends_with(",project=llm")), "{csv}");
    let o = history(&ledger, &["export", "--format", "json", "--kind", "run"]);
    let v: Vec<Value> = serde_json::from_slice(&o.stdout).expect("export JSON");
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["report"], written);

    // rm: gone, and a second rm is an error naming the ID.
    let o = history(&ledger, &["rm", &run_id]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(rows(&ledger).len(), 1);
    let o = history(&ledger, &["rm", &run_id]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(&format!("no run {run_id}")),
        "{}",
        stderr(&o)
    );
}

#[test]
fn no_history_records_nothing_and_bad_history_input_is_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("h.sqlite");
    let o = run_into(&ledger)
        .args(["--no-history", "--quiet", "--", "true"])
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!ledger.exists(), "--no-history wrote a ledger");
    // Reading a ledger that does not exist: nothing, said on stderr.
    let o = history(&ledger, &["list", "--json"]);
    assert!(o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stdout), "[]\n");
    assert!(!ledger.exists(), "reading created the ledger");
    for (args, says) in [
        (&["list", "--since", "yesterday"][..], "--since"),
        (&["list", "--tag", "novalue"][..], "--tag"),
        (&["list", "--limit", "ten"][..], "--limit"),
        (&["show", "abc"][..], "invalid run ID"),
    ] {
        let o = history(&ledger, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
    }
    let o = isolated()
        .args(["--no-history", "history", "list"])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--no-history"), "{}", stderr(&o));
}

#[test]
fn run_format_puts_the_summary_on_stdout_after_the_command_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("h.sqlite");
    let o = run_into(&ledger)
        .args(["--format", "json", "--", "echo", "hello"])
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let json = out
        .strip_prefix("hello\n")
        .expect("the command's output first");
    let v: Value = serde_json::from_str(json).expect("the footprint JSON");
    assert_eq!(v["schema"], "wattlens.footprint/v1");
    assert_eq!(v["kind"], "run");
    assert!(!stderr(&o).contains("facility energy"), "{}", stderr(&o));
    // The recorded report is what was printed.
    let o = history(&ledger, &["show", "1", "--json"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), json);

    let o = run_into(&ledger)
        .args(["--format", "markdown", "--", "true"])
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&o.stdout).contains("| facility energy |"));
    let o = run_into(&ledger)
        .args(["--format", "table", "--", "true"])
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("wattlens: "));
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
}

#[test]
fn run_budgets_exit_1_after_the_command_and_its_own_failure_comes_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("h.sqlite");
    // The whole machine for 0.3 s is some mWh (the summary's facility energy): over 0.001 Wh.
    let o = run_into(&ledger)
        .args(["--quiet", "--max-energy", "0.001Wh", "--", "sleep", "0.3"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("energy budget exceeded: P50"),
        "{}",
        stderr(&o)
    );
    let o = run_into(&ledger)
        .args(["--quiet", "--max-carbon", "0.001g", "--", "sleep", "0.3"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("carbon budget exceeded"));
    // Within budget: the command's 0.
    let o = run_into(&ledger)
        .args(["--quiet", "--max-energy", "1kWh", "--", "true"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The command's own failure takes precedence.
    let o = run_into(&ledger)
        .args(["--quiet", "--max-energy", "0.001Wh", "--"])
        .args(["sh", "-c", "sleep 0.3; exit 4"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    // A bad budget stops before the command runs.
    let mark = dir.path().join("ran");
    let o = run_into(&ledger)
        .args(["--max-energy", "1..2kWh", "--", "touch"])
        .arg(&mark)
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--max-energy"), "{}", stderr(&o));
    assert!(!mark.exists(), "the command ran");
}

#[test]
fn a_replay_is_recorded_with_the_trace_start_and_program() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("h.sqlite");
    let o = isolated()
        .arg("--history")
        .arg(&ledger)
        .args(["run", "--quiet", "--samples", "1", "--replay"])
        .arg(lib_fixture("trace-wrap-reset.jsonl"))
        .output()
        .expect("replay");
    assert!(o.status.success(), "{}", stderr(&o));
    let all = rows(&ledger);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["kind"], "run");
    // The trace's own start (started_unix_s 1763776800 = 2025-11-22 02:00:00 UTC), its
    // program without its arguments (python train.py), its tags.
    assert_eq!(all[0]["started"], "2025-11-22T02:00:00.000Z");
    assert_eq!(all[0]["command"], "python");
    assert_eq!(all[0]["tags"]["project"], "fixture");
}

#[test]
fn a_run_with_marked_windows_is_stored_as_its_json_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("h.sqlite");
    let out = dir.path().join("run.json");
    let o = run_into(&ledger)
        .args(["--quiet", "--marks", "--json"])
        .arg(&out)
        .args([
            "--",
            "sh",
            "-c",
            "echo 'begin a' >> \"$WATTLENS_MARKS\"; sleep 0.2; echo 'end a' >> \"$WATTLENS_MARKS\"",
        ])
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", stderr(&o));
    let file = std::fs::read(&out).expect("--json");
    assert!(String::from_utf8_lossy(&file).contains("\"windows\""));
    let o = history(&ledger, &["show", "1", "--json"]);
    assert_eq!(o.stdout, file, "the windows keep their order and numbers");
    let o = history(&ledger, &["show", "1"]);
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("1 marked window: `wattlens history show 1 --json`"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn the_default_ledger_is_in_the_data_directory() {
    let home = tempfile::tempdir().expect("tempdir");
    let run = |xdg: Option<&Path>| {
        let mut c = run_cmd();
        // An empty WATTLENS_HISTORY counts as unset: the default place.
        c.env("WATTLENS_HISTORY", "")
            .env("HOME", home.path())
            .env_remove("XDG_DATA_HOME");
        if let Some(x) = xdg {
            c.env("XDG_DATA_HOME", x);
        }
        let o = c.args(["--quiet", "--", "true"]).output().expect("run");
        assert!(o.status.success(), "{}", stderr(&o));
    };
    run(None);
    let under_home = home.path().join(".local/share/wattlens/history.sqlite");
    assert!(under_home.exists(), "no ledger at {}", under_home.display());
    let xdg = home.path().join("xdg");
    run(Some(&xdg));
    assert!(xdg.join("wattlens/history.sqlite").exists());
    assert_eq!(rows(&under_home).len(), 1);
}

#[test]
fn tags_that_would_make_the_export_ambiguous_are_refused_before_the_command_runs() {
    // Hostile test round 3, defect 12: `k=v;x=y` exported as `c=a,b;k=v;x=y` read as three
    // tags, a newline broke the list, `a=1 a=2` kept a=2 silently.
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("h.sqlite");
    let marker = dir.path().join("ran");
    let touch = format!("touch {}", marker.display());
    for (tags, needle) in [
        (&["k=v;x=y"][..], "\"k=v;x=y\" holds ';'"),
        (&["n=line\nbreak"][..], "holds a newline"),
        (&["e=\u{1b}[31m"][..], "holds the control character U+001B"),
        (&["a=1", "a=2"][..], "tag a given twice (a=1, a=2)"),
    ] {
        let mut c = run_into(&ledger);
        for t in tags {
            c.args(["--tag", t]);
        }
        let o = c
            .args(["-q", "--", "sh", "-c", &touch])
            .output()
            .expect("run");
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{tags:?}: {err}");
        assert!(
            err.contains("invalid value for --tag") && err.contains(needle),
            "{tags:?}: {err}"
        );
        assert!(!marker.exists(), "{tags:?}: the command ran");
    }
    assert!(!ledger.exists() || rows(&ledger).is_empty());
    // A comma and an `=` in a value stay unambiguous in the CSV export (quoted field; the
    // first `=` ends the key).
    let o = run_into(&ledger)
        .args(["--tag", "c=a,b", "--tag", "url=x?y=1", "-q", "--", "true"])
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", stderr(&o));
    let o = history(&ledger, &["export", "--format", "csv"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.ends_with(",\"c=a,b;url=x?y=1\"\n"), "{text}");
}

#[test]
fn a_replayed_traces_tag_meets_the_same_rules_and_a_tag_flag_replaces_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trace = dir.path().join("t.jsonl");
    let text = std::fs::read_to_string(lib_fixture("trace-wrap-reset.jsonl")).expect("fixture");
    std::fs::write(
        &trace,
        text.replacen(r#""project":"fixture""#, r#""project":"a;b""#, 1),
    )
    .expect("write");
    let replay = |more: &[&str]| {
        isolated()
            .arg("--no-history")
            .args(["run", "--quiet", "--samples", "1", "--replay"])
            .arg(&trace)
            .args(more)
            .output()
            .expect("replay")
    };
    let o = replay(&[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("--replay {}", trace.display()))
            && err.contains("the recorded tag \"project\" = \"a;b\" holds ';'")
            && err.contains("give --tag KEY=VALUE with that key to replace it"),
        "{err}"
    );
    let o = replay(&["--tag", "project=ab"]);
    assert!(o.status.success(), "{}", stderr(&o));
}
