//! Reading the ledger back: the filters of `history list` and `history export` (`--since`,
//! `--tag`, `--kind`, `--limit`) as one SQL query over the indexed columns, newest first.

use super::{explain, Ledger};
use anyhow::Result;
use rusqlite::types::Value;
use serde::Serialize;
use std::collections::BTreeMap;

/// Which rows.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Rows started at or after this instant (Unix milliseconds).
    pub since_ms: Option<i64>,
    /// Rows carrying every one of these tags.
    pub tags: Vec<(String, String)>,
    /// `run` or `estimate`.
    pub kind: Option<String>,
    /// At most this many rows (the newest); `None`: all.
    pub limit: Option<usize>,
}

/// A figure's P5, P50 and P95.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Spread {
    /// 5th percentile.
    pub p5: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
}

/// One row of the ledger, without its report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// The ID (`history show ID`).
    pub id: i64,
    /// When the work started, RFC 3339 UTC.
    pub started: String,
    /// `run` or `estimate`.
    pub kind: String,
    /// The report's kind (`run`, `train`, `infer` ...).
    pub report_kind: String,
    /// The program measured, or `estimate train`.
    pub command: Option<String>,
    /// The host name.
    pub host: Option<String>,
    /// `measured`, `modelled` ...
    pub method: String,
    /// Facility energy, kWh.
    pub energy_kwh: Option<Spread>,
    /// Carbon (operational + embodied), kg CO2e.
    pub carbon_kgco2e: Option<Spread>,
    /// Water consumed, L.
    pub water_l: Option<Spread>,
    /// The measured command's exit code.
    pub exit_code: Option<i64>,
    /// The wattlens that wrote it.
    pub wattlens_version: String,
    /// Its labels.
    pub tags: BTreeMap<String, String>,
}

const COLUMNS: &str = "id, started_at, kind, report_kind, command, host, method, \
    energy_kwh_p5, energy_kwh_p50, energy_kwh_p95, carbon_kg_p5, carbon_kg_p50, carbon_kg_p95, \
    water_l_p5, water_l_p50, water_l_p95, exit_code, wattlens_version";

impl Filter {
    /// The WHERE clause (with `?` placeholders) and its values.
    fn clause(&self) -> (String, Vec<Value>) {
        let mut parts = Vec::new();
        let mut values = Vec::new();
        if let Some(ms) = self.since_ms {
            parts.push("started_ms >= ?".to_string());
            values.push(Value::Integer(ms));
        }
        if let Some(k) = &self.kind {
            parts.push("kind = ?".to_string());
            values.push(Value::Text(k.clone()));
        }
        for (k, v) in &self.tags {
            parts.push("id IN (SELECT run_id FROM tags WHERE key = ? AND value = ?)".to_string());
            values.push(Value::Text(k.clone()));
            values.push(Value::Text(v.clone()));
        }
        let clause = if parts.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", parts.join(" AND "))
        };
        (clause, values)
    }
}

impl Ledger {
    /// The rows the filter picks, newest first, and whether more matched than its limit.
    ///
    /// # Errors
    /// Any SQLite error, the file named.
    pub fn list(&self, f: &Filter) -> Result<(Vec<Row>, bool)> {
        let mut rows = Vec::new();
        // One more than the limit says whether there are more.
        let limit = f.limit.map(|n| n.saturating_add(1));
        self.each(f, limit, false, |row, _| {
            rows.push(row);
            Ok(())
        })?;
        let more = f.limit.is_some_and(|n| rows.len() > n);
        rows.truncate(f.limit.unwrap_or(usize::MAX));
        Ok((rows, more))
    }

    /// Calls `each` with every row the filter picks (newest first, at most `f.limit`), with its
    /// report JSON when `with_report`.
    ///
    /// # Errors
    /// Any SQLite error, the file named; an error of `each`.
    pub fn each(
        &self,
        f: &Filter,
        limit: Option<usize>,
        with_report: bool,
        mut each: impl FnMut(Row, Option<String>) -> Result<()>,
    ) -> Result<()> {
        let err = |e| explain(&self.path, e);
        let (clause, mut values) = f.clause();
        let limit_sql = match limit {
            Some(n) => {
                values.push(Value::Integer(i64::try_from(n).unwrap_or(i64::MAX)));
                "LIMIT ?"
            }
            None => "",
        };
        let report = if with_report { ", report" } else { "" };
        let sql = format!(
            "SELECT {COLUMNS}{report} FROM runs {clause} ORDER BY started_ms DESC, id DESC \
             {limit_sql}"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(err)?;
        let mut tag_stmt = self
            .conn
            .prepare_cached("SELECT key, value FROM tags WHERE run_id = ?1 ORDER BY key")
            .map_err(err)?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(values))
            .map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            let spread = |i: usize| -> rusqlite::Result<Option<Spread>> {
                Ok(
                    match (r.get::<_, Option<f64>>(i)?, r.get(i + 1)?, r.get(i + 2)?) {
                        (Some(p5), Some(p50), Some(p95)) => Some(Spread { p5, p50, p95 }),
                        _ => None,
                    },
                )
            };
            let id: i64 = r.get(0).map_err(err)?;
            // A cell that does not read names its run and column (it named only the column).
            let cell = |e| bad_cell(&self.path, id, e);
            let tags = tag_stmt
                .query_map([id], |t| Ok((t.get(0)?, t.get(1)?)))
                .map_err(err)?
                .collect::<rusqlite::Result<BTreeMap<String, String>>>()
                .map_err(err)?;
            let row = Row {
                id,
                started: r.get(1).map_err(cell)?,
                kind: r.get(2).map_err(cell)?,
                report_kind: r.get(3).map_err(cell)?,
                command: r.get(4).map_err(cell)?,
                host: r.get(5).map_err(cell)?,
                method: r.get(6).map_err(cell)?,
                energy_kwh: spread(7).map_err(cell)?,
                carbon_kgco2e: spread(10).map_err(cell)?,
                water_l: spread(13).map_err(cell)?,
                exit_code: r.get(16).map_err(cell)?,
                wattlens_version: r.get(17).map_err(cell)?,
                tags,
            };
            let json = if with_report {
                Some(r.get(18).map_err(cell)?)
            } else {
                None
            };
            each(row, json)?;
        }
        Ok(())
    }
}

/// The error of a cell of run `id` that does not read as its column's type: the run and the
/// column by name, what is stored, and what to do.
fn bad_cell(path: &std::path::Path, id: i64, e: rusqlite::Error) -> anyhow::Error {
    use rusqlite::Error as E;
    let index = match &e {
        E::InvalidColumnType(i, ..)
        | E::FromSqlConversionFailure(i, ..)
        | E::IntegralValueOutOfRange(i, _) => Some(*i),
        _ => None,
    };
    let Some(i) = index else {
        return explain(path, e);
    };
    let name = COLUMNS.split(", ").chain(["report"]).nth(i).unwrap_or("?");
    let want = if name.ends_with("_p5") || name.ends_with("_p50") || name.ends_with("_p95") {
        "a number"
    } else if name == "exit_code" {
        "a whole number"
    } else {
        "text"
    };
    let stored = match &e {
        E::InvalidColumnType(_, _, ty) | E::FromSqlConversionFailure(_, ty, _) => {
            let held = match ty {
                rusqlite::types::Type::Text => "text",
                rusqlite::types::Type::Real => "a real number",
                rusqlite::types::Type::Integer => "an integer",
                rusqlite::types::Type::Blob => "binary data",
                rusqlite::types::Type::Null => "nothing (NULL)",
            };
            format!("holds {held} where {want} belongs")
        }
        _ => format!("holds a value out of range where {want} belongs"),
    };
    anyhow::anyhow!(
        "history ledger {}: run {id}, column {name} {stored} (was the file edited or damaged?); \
         `wattlens history rm {id}` removes that run, or restore the ledger from a copy",
        path.display()
    )
}
