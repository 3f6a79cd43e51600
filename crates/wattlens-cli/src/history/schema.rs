//! The ledger's schema and its migrations, versioned by `PRAGMA user_version`: version N is
//! `MIGRATIONS[..N]` applied in order, each in its own transaction with the version bump, so a
//! process killed during a migration leaves the previous version. A file of a newer version
//! (written by a newer wattlens) is refused with both versions named, never rewritten.

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

/// Brings the ledger at `path` to [`VERSION`].
///
/// # Errors
/// A newer version; a corrupt file; any SQLite error; each naming the file.
pub fn migrate(conn: &Connection, path: &Path) -> Result<()> {
    let err = |e| super::explain(path, e);
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
