//! The run history ledger's safety (issue 13): 20 runs finishing at once all land; a writer
//! killed inside its transaction leaves the ledger consistent; a corrupt file and a newer schema
//! are clear errors that never cost a run its output or exit code; the WAL stays small.

use super::history::{history, rows, run_into};
use super::stderr;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;

#[test]
fn twenty_runs_finishing_at_the_same_moment_all_land() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("h.sqlite");
    let go = dir.path().join("go");
    // Every command waits for the same file, so all 20 end (and write) together.
    let wait = format!(
        "while [ ! -e '{}' ]; do sleep 0.02; done",
        go.to_str().expect("utf-8")
    );
    let children: Vec<_> = (0..20)
        .map(|i| {
            run_into(&ledger)
                .args([
                    "--quiet",
                    "--tag",
                    &format!("n={i}"),
                    "--",
                    "sh",
                    "-c",
                    &wait,
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(500));
    std::fs::write(&go, "").expect("go");
    for c in children {
        let o = c.wait_with_output().expect("wait");
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(
            !stderr(&o).contains("not recorded"),
            "a run was lost: {}",
            stderr(&o)
        );
    }
    let all = rows(&ledger);
    assert_eq!(all.len(), 20);
    let mut tags: Vec<i64> = all
        .iter()
        .filter_map(|r| r["tags"]["n"].as_str()?.parse().ok())
        .collect();
    tags.sort_unstable();
    assert_eq!(tags, (0..20).collect::<Vec<_>>());
}

#[test]
fn a_writer_killed_inside_its_transaction_leaves_the_ledger_consistent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("h.sqlite");
    for _ in 0..2 {
        let o = run_into(&ledger)
            .args(["--quiet", "--", "true"])
            .output()
            .expect("run");
        assert!(o.status.success(), "{}", stderr(&o));
    }
    // The hook sleeps between BEGIN and COMMIT after saying so on stderr: killed there.
    let mut child = run_into(&ledger)
        .args(["--quiet", "--tag", "killed=yes", "--", "true"])
        .env("WATTLENS_TEST_LEDGER_PAUSE_MS", "60000")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let err = child.stderr.take().expect("stderr");
    let mut seen = String::new();
    for line in BufReader::new(err).lines() {
        let line = line.expect("line");
        seen.push_str(&line);
        if line.contains("inside the ledger transaction") {
            break;
        }
    }
    assert!(seen.contains("inside the ledger transaction"), "{seen}");
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");

    // The two committed runs, and none of the killed one.
    let all = rows(&ledger);
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(all.iter().all(|r| r["tags"]["killed"].is_null()));
    let conn = rusqlite::Connection::open(&ledger).expect("open");
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(check, "ok");
    let orphans: i64 = conn
        .query_row(
            "SELECT count(*) FROM tags WHERE run_id NOT IN (SELECT id FROM runs)",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(orphans, 0);
    drop(conn);
    // And the next run records as usual.
    let o = run_into(&ledger)
        .args(["--quiet", "--", "true"])
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("not recorded"), "{}", stderr(&o));
    assert_eq!(rows(&ledger).len(), 3);
}

/// A run with `--json` against a ledger that cannot be written: its exit code (3) and its JSON
/// file are the same as without a ledger; the warning names the file and `why`.
fn run_keeps_its_output(ledger: &Path, why: &str) {
    let out = ledger.with_extension("json");
    let o = run_into(ledger)
        .args(["--quiet", "--json"])
        .arg(&out)
        .args(["--", "sh", "-c", "exit 3"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let v: Value =
        serde_json::from_slice(&std::fs::read(&out).expect("--json written")).expect("JSON");
    assert_eq!(v["schema"], "wattlens.footprint/v1");
    let err = stderr(&o);
    assert!(
        err.contains("warning: not recorded in the run history")
            && err.contains(ledger.to_str().expect("utf-8"))
            && err.contains(why),
        "{err}"
    );
    // Reading it is an error that says the same.
    let o = history(ledger, &["list"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains(why), "{}", stderr(&o));
}

#[test]
fn a_corrupt_ledger_is_a_clear_warning_and_the_run_keeps_its_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("h.sqlite");
    std::fs::write(&ledger, "this is no database\n".repeat(300)).expect("write");
    run_keeps_its_output(&ledger, "is not an SQLite database or is corrupt");
}

#[test]
fn a_newer_schema_is_refused_by_version_and_the_run_keeps_its_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("h.sqlite");
    let conn = rusqlite::Connection::open(&ledger).expect("create");
    conn.pragma_update(None, "user_version", 99)
        .expect("version");
    drop(conn);
    run_keeps_its_output(&ledger, "has schema version 99, newer than the 1");
}

#[test]
fn another_programs_database_is_not_taken_over_and_the_run_keeps_its_output() {
    // Hostile test round 3, defect 13: a database with only a table `foo` got wattlens' tables.
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("other.db");
    let conn = rusqlite::Connection::open(&ledger).expect("create");
    conn.execute_batch("CREATE TABLE foo (x); INSERT INTO foo VALUES (1);")
        .expect("foo");
    drop(conn);
    let before = std::fs::read(&ledger).expect("read");
    run_keeps_its_output(
        &ledger,
        "is not a wattlens ledger: it is an SQLite database with other tables (foo); move it \
         aside or choose another --history FILE",
    );
    // Not a byte changed, no WAL made beside it.
    assert_eq!(std::fs::read(&ledger).expect("read"), before);
    assert!(!dir.path().join("other.db-wal").exists());
}

#[test]
fn a_ledger_whose_version_was_reset_is_a_clear_warning_not_a_create_table_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("h.sqlite");
    let o = run_into(&ledger)
        .args(["-q", "--", "true"])
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", stderr(&o));
    let conn = rusqlite::Connection::open(&ledger).expect("open");
    conn.pragma_update(None, "user_version", 0).expect("reset");
    drop(conn);
    run_keeps_its_output(&ledger, "has a `runs` table but schema version 0");
}

#[test]
fn after_a_history_command_the_file_alone_holds_every_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("h.sqlite");
    for _ in 0..2 {
        let o = run_into(&ledger)
            .args(["--quiet", "--", "true"])
            .output()
            .expect("run");
        assert!(o.status.success(), "{}", stderr(&o));
    }
    // Runs leave their commits in the WAL beside the file (no fsyncs at each close)...
    assert!(dir.path().join("h.sqlite-wal").exists());
    // ...and a `history` command folds it back at its close: a copy of the file alone is whole.
    assert_eq!(rows(&ledger).len(), 2);
    assert!(!dir.path().join("h.sqlite-wal").exists());
    let copy = dir.path().join("copy.sqlite");
    std::fs::copy(&ledger, &copy).expect("copy");
    assert_eq!(rows(&copy).len(), 2);
}

#[test]
fn the_wal_stays_small_over_many_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("h.sqlite");
    for _ in 0..24 {
        let o = run_into(&ledger)
            .args(["--quiet", "--", "true"])
            .output()
            .expect("run");
        assert!(o.status.success(), "{}", stderr(&o));
    }
    // Folded back past 64 frames of 4,120 bytes (263,712 bytes with its header): never more
    // than that plus one run's frames (about 8, 40 kB), however many runs.
    let wal = std::fs::metadata(dir.path().join("h.sqlite-wal")).map_or(0, |m| m.len());
    assert!(wal < 64 * 4120 + 32 + 20 * 4120, "WAL of {wal} bytes");
    // Folded at least once: the file itself holds runs (an empty ledger is a few pages).
    assert!(std::fs::metadata(&ledger).expect("file").len() > 16 * 4096);
    assert_eq!(rows(&ledger).len(), 24);
}
