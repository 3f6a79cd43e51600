//! `wattlens catalog list|show`: the embedded reference data with sources and years.

use crate::cli::CatalogCommand;
use crate::{ExitStatus, Output};
use anyhow::{Context, Result};
use serde_json::Value;
use std::fmt::Write;
use wattlens::catalog::{Catalog, Row, Table, TableKind};

fn parse_kind(s: &str) -> Result<TableKind> {
    TableKind::parse(s).with_context(|| {
        format!(
            "unknown catalog table {s:?}; use one of: {}",
            TableKind::ALL
                .iter()
                .map(|k| k.name())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// Above the prices listing: how a price is chosen, and that a price row's key is no grid.
const PRICES_NOTE: &str =
    "Prices are found from --grid (give --price to set one): a grid in a row's \
other names takes that row, others their country's row. KEY names the row for `wattlens catalog \
show prices KEY`; it is not a --grid value (US-CA is no grid; us-egrid:CAMX is).";

/// One line per row: the key to type, the display name where it differs, the summary and the
/// other names the row answers to.
fn list_rows<T: Row>(t: &Table<T>, json: bool) -> Result<String> {
    if json {
        return Ok(serde_json::to_string_pretty(&t.rows()?)? + "\n");
    }
    let with_origin = t.rows_with_origin()?;
    let rows: Vec<&T> = with_origin.iter().map(|(r, _)| *r).collect();
    let keys: Vec<String> = rows.iter().map(|r| r.key()).collect();
    let named = rows.iter().zip(&keys).any(|(r, k)| r.name() != k);
    let kw = keys.iter().map(String::len).max().unwrap_or(3).clamp(3, 24);
    let nw = rows
        .iter()
        .map(|r| r.name().len())
        .max()
        .unwrap_or(4)
        .clamp(4, 40);
    let mut s = String::new();
    if named {
        let _ = writeln!(s, "{:<kw$}  {:<nw$}  DETAILS [OTHER NAMES]", "KEY", "NAME");
    } else {
        let _ = writeln!(s, "{:<kw$}  DETAILS [OTHER NAMES]", "KEY");
    }
    for ((r, from_user), key) in with_origin.iter().zip(&keys) {
        let mark = if *from_user {
            " (from the user file)"
        } else {
            ""
        };
        let others: Vec<&str> = r
            .aliases()
            .unwrap_or("")
            .split('|')
            .map(str::trim)
            .filter(|a| !a.is_empty() && a != key)
            .collect();
        let also = if others.is_empty() {
            String::new()
        } else {
            format!(" [{}]", others.join(", "))
        };
        let also = format!("{mark}{also}");
        if named {
            let _ = writeln!(s, "{key:<kw$}  {:<nw$}  {}{also}", r.name(), r.summary());
        } else {
            let _ = writeln!(s, "{key:<kw$}  {}{also}", r.summary());
        }
    }
    Ok(s)
}

fn show_row<T: Row>(t: &Table<T>, name: &str, json: bool) -> Result<String> {
    let r = t.get(name)?;
    let v = serde_json::to_value(r)?;
    if json {
        return Ok(serde_json::to_string_pretty(&v)? + "\n");
    }
    let mut s = String::new();
    if let Value::Object(m) = v {
        let w = m.keys().map(String::len).max().unwrap_or(8);
        for (k, v) in m {
            let text = match v {
                Value::Null => continue,
                Value::String(x) => x,
                other => other.to_string(),
            };
            let _ = writeln!(s, "{k:<w$}  {text}");
        }
    }
    let _ = writeln!(s, "\nsource: {}", r.cite());
    Ok(s)
}

macro_rules! per_kind {
    ($cat:expr, $kind:expr, $f:ident, $($arg:expr),*) => {
        match $kind {
            TableKind::Accelerators => $f($cat.accelerators()?, $($arg),*),
            TableKind::Servers => $f($cat.servers()?, $($arg),*),
            TableKind::Grids => $f($cat.grids()?, $($arg),*),
            TableKind::Ewif => $f($cat.ewif()?, $($arg),*),
            TableKind::Datacenters => $f($cat.datacenters()?, $($arg),*),
            TableKind::Models => $f($cat.models()?, $($arg),*),
            TableKind::Equivalents => $f($cat.equivalents()?, $($arg),*),
            TableKind::Defaults => $f($cat.defaults()?, $($arg),*),
            TableKind::Prices => $f($cat.prices()?, $($arg),*),
            TableKind::Devices => $f($cat.devices()?, $($arg),*),
            TableKind::PowerCaps => $f($cat.power_caps()?, $($arg),*),
            TableKind::Locations => $f($cat.locations()?, $($arg),*),
            other => Err(anyhow::anyhow!("catalog table {} is not known to this CLI", other.name())),
        }
    };
}

/// Runs a catalog subcommand.
pub fn run(cmd: &CatalogCommand, cat: &Catalog, out: &mut Output) -> Result<ExitStatus> {
    let text = match cmd {
        CatalogCommand::List { kind: None, .. } => {
            let mut s = String::from("catalog tables (wattlens catalog list KIND):\n");
            for k in TableKind::ALL {
                let _ = writeln!(s, "  {}", k.name());
            }
            s
        }
        CatalogCommand::List {
            kind: Some(k),
            json,
        } => {
            let kind = parse_kind(k)?;
            let rows = per_kind!(cat, kind, list_rows, *json)?;
            if kind == TableKind::Prices && !*json {
                // A price row's key is not a grid: prices are found from --grid.
                format!("{PRICES_NOTE}\n{rows}")
            } else {
                rows
            }
        }
        CatalogCommand::Show { kind, name, json } => {
            per_kind!(cat, parse_kind(kind)?, show_row, name, *json)?
        }
    };
    out.stdout(&text)?;
    Ok(ExitStatus::Success)
}
