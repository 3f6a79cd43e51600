//! The ledger's schema and its migrations, versioned by `PRAGMA user_version`: version N is
//! `MIGRATIONS[..N]` applied in order, each in its own transaction with the version bump, so a
//! process killed during a migration leaves the previous version. A file of a newer version
//! (written by a newer wattlens) is refused with both versions named, never rewritten; so is a
//! database that is not a ledger (another program's tables, or a `runs` table at version 0).

use anyhow::{bail, Result};
use rusqlite::Connection;
use std::path::Path;

/// The migrations, in order; never edit a released one, add the next.
const MIGRATIONS: &[&str] = &[
    // 1: runs with their indexed figures and the full report; tags as key/value rows.
    "CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        started_ms INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        kind TEXT NOT NULL,
        report_kind TEXT NOT NULL,
        command TEXT,
        host TEXT,
        method TEXT NOT NULL,
        energy_kwh_p5 REAL, energy_kwh_p50 REAL, energy_kwh_p95 REAL,
        carbon_kg_p5 REAL, carbon_kg_p50 REAL, carbon_kg_p95 REAL,
        water_l_p5 REAL, water_l_p50 REAL, water_l_p95 REAL,
        exit_code INTEGER,
        wattlens_version TEXT NOT NULL,
        report TEXT NOT NULL
     );
     CREATE INDEX runs_started ON runs (started_ms, id);
     CREATE INDEX runs_kind_started ON runs (kind, started_ms, id);
     CREATE TABLE tags (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
     ) WITHOUT ROWID;
     CREATE INDEX tags_key_value ON tags (key, value, run_id);",
];

/// The schema version this wattlens writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// The tables (and views) of the database, by name, SQLite's own left out.
fn tables(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut q = conn.prepare(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') \
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )?;
    let names = q.query_map([], |r| r.get(0))?.collect();
    names
}

/// Refuses a database that is not a wattlens ledger, before anything writes to it: one with
/// tables but no `runs` table (another program's database: wattlens would add its tables to
/// it), and one with a `runs` table at schema version 0 (its `PRAGMA user_version` was reset,
/// or another program's `runs`: a migration would fail on it). An empty database is a new
/// ledger.
///
/// # Errors
/// Either case, naming the file and what to do; any SQLite error.
pub fn refuse_foreign(conn: &Connection, path: &Path) -> Result<()> {
    let err = |e| super::explain(path, e);
    let tables = tables(conn).map_err(err)?;
    if tables.is_empty() {
        return Ok(());
    }
    let shown = path.display();
    if !tables.iter().any(|t| t == "runs") {
        let mut list = tables
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if tables.len() > 5 {
            list.push_str(&format!(" and {} more", tables.len() - 5));
        }
        bail!(
            "history ledger {shown} is not a wattlens ledger: it is an SQLite database with \
             other tables ({list}); move it aside or choose another --history FILE"
        );
    }
    if version(conn).map_err(err)? == 0 {
        bail!(
            "history ledger {shown} is not a wattlens ledger: it has a `runs` table but schema \
             version 0 (its PRAGMA user_version was reset, or another program made the table); \
             move it aside or choose another --history FILE"
        );
    }
    Ok(())
}

/// Brings the ledger at `path` to [`VERSION`].
///
/// # Errors
/// A database that is not a ledger ([`refuse_foreign`]); a newer version; a corrupt file; any
/// SQLite error; each naming the file.
pub fn migrate(conn: &Connection, path: &Path) -> Result<()> {
    let err = |e| super::explain(path, e);
    refuse_foreign(conn, path)?;
    let newer = |found: i64| {
        anyhow::anyhow!(
            "history ledger {} has schema version {found}, newer than the {VERSION} this \
             wattlens {} knows: a newer wattlens wrote it; upgrade wattlens, or give another \
             --history FILE",
            path.display(),
            env!("CARGO_PKG_VERSION")
        )
    };
    let found = version(conn).map_err(err)?;
    if found < 0 {
        bail!(
            "history ledger {} has schema version {found}, which no wattlens writes; give \
             another --history FILE",
            path.display()
        );
    }
    if found > VERSION {
        return Err(newer(found));
    }
    if found == VERSION {
        return Ok(());
    }
    // Another process may be migrating the same file: the write lock first, then the version
    // read again under it.
    conn.execute_batch("BEGIN IMMEDIATE").map_err(err)?;
    let result = (|| -> Result<()> {
        let found = version(conn).map_err(err)?;
        if found > VERSION {
            return Err(newer(found));
        }
        // Under the write lock: what another process made since the first look.
        refuse_foreign(conn, path)?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(found)?) {
            conn.execute_batch(sql).map_err(err)?;
            conn.pragma_update(None, "user_version", i64::try_from(i + 1)?)
                .map_err(err)?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => conn.execute_batch("COMMIT").map_err(err)?,
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(e);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message of [`migrate`] on a file made by `make`, and the tables left in it.
    fn refused(make: &str) -> (String, Vec<String>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("other.db");
        let conn = Connection::open(&path).expect("open");
        conn.execute_batch(make).expect("make");
        let e = format!("{:#}", migrate(&conn, &path).expect_err("refused"));
        assert!(
            e.contains("other.db is not a wattlens ledger")
                && e.contains("move it aside or choose another --history FILE"),
            "{e}"
        );
        (e, tables(&conn).expect("tables"))
    }

    #[test]
    fn another_programs_database_is_refused_and_left_alone() {
        let (e, left) = refused("CREATE TABLE foo (x); CREATE TABLE bar (y);");
        assert!(e.contains("other tables (bar, foo)"), "{e}");
        assert_eq!(left, ["bar", "foo"]);
        // Its own user_version (a schema of its own) does not make it a ledger, older or newer.
        let (e, _) = refused("CREATE TABLE foo (x); PRAGMA user_version = 7;");
        assert!(!e.contains("upgrade"), "{e}");
        let (_, left) = refused("CREATE TABLE foo (x); PRAGMA user_version = 1;");
        assert_eq!(left, ["foo"]);
    }

    #[test]
    fn a_ledger_whose_version_was_reset_is_refused_not_a_raw_create_table_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("other.db");
        let conn = Connection::open(&path).expect("open");
        migrate(&conn, &path).expect("a ledger");
        conn.pragma_update(None, "user_version", 0).expect("reset");
        let e = format!("{:#}", migrate(&conn, &path).expect_err("refused"));
        assert!(
            e.contains("has a `runs` table but schema version 0") && !e.contains("CREATE TABLE"),
            "{e}"
        );
        // An empty file is a new ledger.
        let fresh = dir.path().join("fresh.db");
        std::fs::write(&fresh, b"").expect("empty file");
        let conn = Connection::open(&fresh).expect("open");
        migrate(&conn, &fresh).expect("an empty file becomes a ledger");
        assert_eq!(tables(&conn).expect("tables"), ["runs", "tags"]);
    }

    #[test]
    fn a_fresh_file_gets_the_current_version_and_a_newer_one_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("h.sqlite");
        let conn = Connection::open(&path).expect("open");
        migrate(&conn, &path).expect("migrates");
        assert_eq!(version(&conn).expect("version"), VERSION);
        // Twice is a no-op.
        migrate(&conn, &path).expect("again");
        conn.pragma_update(None, "user_version", VERSION + 1)
            .expect("bump");
        let e = migrate(&conn, &path).expect_err("newer").to_string();
        assert!(
            e.contains(&format!("schema version {}", VERSION + 1)),
            "{e}"
        );
        assert!(
            e.contains("h.sqlite") && e.contains("upgrade wattlens"),
            "{e}"
        );
    }
}
