//! The run history: a local SQLite ledger of every `wattlens run` and every `estimate --save`,
//! each row the full `wattlens.footprint/v1` report plus indexed columns (start time, kind,
//! tags, host, command name, energy/carbon/water P5/P50/P95, method, version).
//!
//! It lives in the binary, not the library: it owns a file in the user's data directory, the
//! environment variable that moves it and the warnings a failed write prints, and it keeps the
//! library free of a C build (SQLite is compiled in through `rusqlite`'s `bundled` feature).
//!
//! Safety: WAL mode (readers never block the writer, a killed writer leaves the last committed
//! state), a busy timeout (20 runs ending at once queue rather than fail), versioned migrations
//! (`PRAGMA user_version`; a newer schema is refused, never rewritten). `schema.rs`: the
//! migrations; `query.rs`: reading rows back (filters, list, export); `tags.rs`: what a run's
//! labels may hold.

mod query;
mod schema;
pub mod tags;

pub use query::{Filter, Row, Spread};

use anyhow::{bail, Context, Result};
use rusqlite::{params, Connection, ErrorCode, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::Duration;
use wattlens::figure::Figure;
use wattlens::result::Report;

/// How long a writer waits for another one before giving up: 20 runs ending at the same moment
/// each hold the write lock for about a millisecond.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The WAL size past which a writer folds it back: 64 frames of a 4 KiB page (a run writes
/// about 8: its report of about 10 KB, the row, the indexes, the tags).
const WAL_FOLD_BYTES: u64 = 64 * (4096 + 24) + 32;

/// Where the ledger is, once `--history`, `WATTLENS_HISTORY`, `--no-history` and the data
/// directory are taken into account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// `--no-history`: nothing is recorded.
    Off,
    /// The ledger file.
    At(PathBuf),
    /// No `--history`, no `WATTLENS_HISTORY`, and neither `XDG_DATA_HOME` nor `HOME` set.
    Nowhere,
}

impl Place {
    /// The place from the flags (`history`: `--history` or `WATTLENS_HISTORY`) and the
    /// environment's data directory.
    pub fn resolve(history: Option<&Path>, off: bool) -> Self {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        if off {
            return Self::Off;
        }
        if let Some(p) = history {
            return Self::At(p.to_path_buf());
        }
        // The XDG base directory specification: $XDG_DATA_HOME, else ~/.local/share.
        let data = var("XDG_DATA_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".local/share")));
        data.map_or(Self::Nowhere, |d| {
            Self::At(d.join("wattlens").join("history.sqlite"))
        })
    }

    /// The ledger's path for a command that reads it; an error for `--no-history` or no place.
    pub fn path(&self) -> Result<&Path> {
        match self {
            Self::At(p) => Ok(p),
            Self::Off => bail!("--no-history leaves no ledger to read; give --history FILE"),
            Self::Nowhere => bail!(
                "no history ledger: neither XDG_DATA_HOME nor HOME is set; give --history FILE \
                 or set WATTLENS_HISTORY"
            ),
        }
    }
}

/// What a row records besides the report.
#[derive(Clone, Debug)]
pub struct Entry<'a> {
    /// When the work started, UTC.
    pub started: jiff::Timestamp,
    /// `run` or `estimate`.
    pub kind: &'a str,
    /// The program measured (`python3`), or `estimate train`; never the arguments.
    pub command: &'a str,
    /// The machine's host name.
    pub host: Option<&'a str>,
    /// The labels of the run.
    pub tags: &'a std::collections::BTreeMap<String, String>,
    /// The command's exit code (a run).
    pub exit_code: Option<i32>,
    /// The report's `wattlens.footprint/v1` JSON, the bytes `--json` writes (windows included).
    pub json: &'a str,
}

/// An open ledger.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
}

impl Ledger {
    /// Opens (creating it and its folder when missing) the ledger at `path` to record into, and
    /// brings its schema up to date.
    ///
    /// # Errors
    /// A file that is not an SQLite database, is corrupt, or has a newer schema; a folder that
    /// cannot be created; any SQLite error. Each names the file.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| {
                format!(
                    "history ledger {}: cannot create its folder",
                    path.display()
                )
            })?;
        }
        let ledger = Self::connect(path, true)?;
        ledger.for_writers().map_err(|e| explain(path, e))?;
        Ok(ledger)
    }

    /// A run is its process's only connection. At its close SQLite would fold the WAL back into
    /// the file with four fsyncs, and an fsync waits for the journal commit of everything else
    /// written to the same disk (0.1 ms on an idle machine, 20 ms beside a build). A writer
    /// leaves its commit in the WAL instead (checksummed frames: a crash or a power loss loses
    /// the last runs, never the file's consistency), and folds the WAL back, truncated, once it
    /// holds more than [`WAL_FOLD_BYTES`] (about 8 runs; see [`Ledger::fold_if_large`]): the
    /// next writer reads every frame of the WAL to open it, so it must stay small. `history`
    /// commands fold it back at their close, as SQLite does by default.
    fn for_writers(&self) -> rusqlite::Result<()> {
        self.conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
            true,
        )?;
        // SQLite's own automatic checkpoint does not truncate, and a new process cannot tell
        // which frames an earlier one already folded back: the WAL would only grow.
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        Ok(())
    }

    /// Folds the WAL back into the file, and truncates it, when it is larger than
    /// [`WAL_FOLD_BYTES`]. Best effort, after a commit: a failure (another process holding
    /// the file past the busy timeout) leaves it to the next run.
    fn fold_if_large(&self) {
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        if std::fs::metadata(&wal).is_ok_and(|m| m.len() > WAL_FOLD_BYTES) {
            // It waits for every other reader and writer to finish: briefly, then the next run.
            let _ = self.conn.busy_timeout(Duration::from_millis(200));
            let _ = self
                .conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        }
    }

    /// Opens an existing ledger to read it; `None` when there is no file yet.
    ///
    /// # Errors
    /// As [`Ledger::open`].
    pub fn open_existing(path: &Path) -> Result<Option<Self>> {
        if !path.exists() {
            return Ok(None);
        }
        Self::connect(path, false).map(Some)
    }

    fn connect(path: &Path, create: bool) -> Result<Self> {
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let conn = Connection::open_with_flags(path, flags).map_err(|e| explain(path, e))?;
        let ledger = Ledger {
            conn,
            path: path.to_path_buf(),
        };
        // Before the switch to WAL, which would rewrite another program's database.
        ledger
            .conn
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| explain(path, e))?;
        schema::refuse_foreign(&ledger.conn, path)?;
        ledger.setup().map_err(|e| explain(path, e))?;
        schema::migrate(&ledger.conn, path)?;
        Ok(ledger)
    }

    fn setup(&self) -> rusqlite::Result<()> {
        self.conn.busy_timeout(BUSY_TIMEOUT)?;
        // Switching to WAL takes a lock that the busy handler does not always wait for (another
        // process switching at the same moment): retried within the busy timeout.
        let until = std::time::Instant::now() + BUSY_TIMEOUT;
        loop {
            match self
                .conn
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
            {
                Err(e) if busy(&e) && std::time::Instant::now() < until => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                r => {
                    r?;
                    break;
                }
            }
        }
        // WAL + NORMAL: a commit survives the process being killed at any point; only a power
        // loss can take back the last commits (never corrupt the file). FULL would fsync every
        // run's row (milliseconds on a plain disk).
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        Ok(())
    }

    /// Records one report; returns its ID.
    ///
    /// # Errors
    /// Any SQLite error (the file named), or a report that is not a footprint JSON object.
    pub fn record(&mut self, entry: &Entry<'_>, e: &Report) -> Result<i64> {
        let path = self.path.clone();
        let fig = |f: Figure| e.get(f).map(|p| (p.p5, p.p50, p.p95));
        let (energy, carbon, water) = (
            fig(Figure::FacilityEnergy),
            fig(Figure::Carbon),
            fig(Figure::Water),
        );
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|err| explain(&path, err))?;
        tx.execute(
            "INSERT INTO runs (started_ms, started_at, kind, report_kind, command, host, method, \
             energy_kwh_p5, energy_kwh_p50, energy_kwh_p95, carbon_kg_p5, carbon_kg_p50, \
             carbon_kg_p95, water_l_p5, water_l_p50, water_l_p95, exit_code, wattlens_version, \
             report) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, \
             ?16, ?17, ?18, ?19)",
            params![
                entry.started.as_millisecond(),
                rfc3339(entry.started),
                entry.kind,
                e.kind.as_str(),
                entry.command,
                entry.host,
                e.method.as_str(),
                energy.map(|p| p.0),
                energy.map(|p| p.1),
                energy.map(|p| p.2),
                carbon.map(|p| p.0),
                carbon.map(|p| p.1),
                carbon.map(|p| p.2),
                water.map(|p| p.0),
                water.map(|p| p.1),
                water.map(|p| p.2),
                entry.exit_code,
                env!("CARGO_PKG_VERSION"),
                entry.json,
            ],
        )
        .map_err(|err| explain(&path, err))?;
        let id = tx.last_insert_rowid();
        {
            let mut tag = tx
                .prepare_cached("INSERT INTO tags (run_id, key, value) VALUES (?1, ?2, ?3)")
                .map_err(|err| explain(&path, err))?;
            for (k, v) in entry.tags {
                tag.execute(params![id, k, v])
                    .map_err(|err| explain(&path, err))?;
            }
        }
        test_pause();
        tx.commit().map_err(|err| explain(&path, err))?;
        self.fold_if_large();
        Ok(id)
    }

    /// Removes a row; `false` when there is none with that ID.
    ///
    /// # Errors
    /// Any SQLite error, the file named.
    pub fn remove(&mut self, id: i64) -> Result<bool> {
        let n = self
            .conn
            .execute("DELETE FROM runs WHERE id = ?1", [id])
            .map_err(|e| explain(&self.path, e))?;
        Ok(n > 0)
    }

    /// The stored report JSON of a row, with its kind (`run`, `estimate`).
    ///
    /// # Errors
    /// No row with that ID (the message says how to list them); any SQLite error.
    pub fn report(&self, id: i64) -> Result<(String, String)> {
        use rusqlite::OptionalExtension;
        self.conn
            .query_row("SELECT kind, report FROM runs WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(|e| explain(&self.path, e))?
            .with_context(|| {
                format!(
                    "no run {id} in the history ledger {}; `wattlens history list` shows the IDs",
                    self.path.display()
                )
            })
    }
}

/// Records `e` at `place` (nothing for `--no-history`); the row's ID. Called after the output
/// is written: its error is a warning for the caller to print, never a lost result.
///
/// # Errors
/// No place for the ledger; any error of [`Ledger::open`] or [`Ledger::record`].
pub fn save(place: &Place, entry: &Entry<'_>, e: &Report) -> Result<Option<i64>> {
    let path = match place {
        Place::Off => return Ok(None),
        p => p.path()?,
    };
    Ledger::open(path)?.record(entry, e).map(Some)
}

/// The warning line for a failed [`save`]: the run's output and exit code are not affected.
pub fn warning(err: &anyhow::Error) -> String {
    format!(
        "wattlens: warning: not recorded in the run history: {}\n",
        wattlens::input::short_numbers(&format!("{err:#}"))
    )
}

/// The test-only hook: sleeps inside the write transaction for `WATTLENS_TEST_LEDGER_PAUSE_MS`
/// milliseconds, after saying so on stderr, so that a test can kill a writer between BEGIN and
/// COMMIT.
fn test_pause() {
    let Some(ms) = std::env::var(crate::env::TEST_LEDGER_PAUSE_MS)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    else {
        return;
    };
    eprintln!("wattlens: test hook: inside the ledger transaction, pausing {ms} ms");
    std::thread::sleep(Duration::from_millis(ms));
}

/// This machine's host name (uname's nodename).
pub fn host_name() -> Option<String> {
    let u = rustix::system::uname();
    let name = u.nodename().to_string_lossy().into_owned();
    (!name.is_empty()).then_some(name)
}

/// A time as RFC 3339 in UTC, to the millisecond (`2026-11-25T22:57:00.123Z`).
pub fn rfc3339(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn busy(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code()
        .is_some_and(|c| matches!(c, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked))
}

/// An SQLite error in words that name the file and say what to do.
fn explain(path: &Path, e: rusqlite::Error) -> anyhow::Error {
    let shown = path.display();
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => anyhow::anyhow!(
            "history ledger {shown} is not an SQLite database or is corrupt ({e}); move it \
             aside (its runs are lost to wattlens) or give another --history FILE"
        ),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => anyhow::anyhow!(
            "history ledger {shown} stayed locked by another process for {} s ({e})",
            BUSY_TIMEOUT.as_secs()
        ),
        Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::CannotOpen) => {
            anyhow::anyhow!(
                "history ledger {shown}: cannot open it for writing ({e}); check the file's and \
                 its folder's permissions, or give another --history FILE"
            )
        }
        _ => anyhow::Error::new(e).context(format!("history ledger {shown}")),
    }
}

#[cfg(test)]
mod tests {
    use super::Place;
    use std::path::Path;

    #[test]
    fn no_history_wins_and_a_given_path_is_kept() {
        assert_eq!(Place::resolve(Some(Path::new("/x/h.db")), true), Place::Off);
        assert_eq!(
            Place::resolve(Some(Path::new("/x/h.db")), false),
            Place::At("/x/h.db".into())
        );
        assert!(Place::Off.path().is_err());
    }

    #[test]
    fn times_are_rfc3339_utc_to_the_millisecond() {
        let t: jiff::Timestamp = "2026-11-25T23:57:00.123+01:00".parse().expect("time");
        assert_eq!(super::rfc3339(t), "2026-11-25T22:57:00.123Z");
    }
}
