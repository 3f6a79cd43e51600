//! `wattlens history [list] | show ID | diff A B | export | rm ID`: reading the run history
//! ledger (`crate::history`) back. `show` prints a report as `run`/`estimate` printed it,
//! `diff` uses `--compare`'s renderer. Also [`summary`], the table/Markdown/JSON of a report
//! that `run --format` prints too.

use crate::cli::{
    ExportFormat, HistoryArgs, HistoryCommand, HistoryFilterArgs, HistoryKind, HistoryListArgs,
    SummaryFormat,
};
use crate::history::{Filter, Ledger, Place, Row, Spread};
use crate::{ExitStatus, Output};
use anyhow::{bail, Context, Result};
use std::fmt::Write as _;
use wattlens::measure::WindowFigures;
use wattlens::report::{self, compare};
use wattlens::result::{Report, ReportKind};

/// Runs `wattlens history`.
pub fn run(a: &HistoryArgs, place: &Place, out: &mut Output) -> Result<ExitStatus> {
    let path = place.path()?;
    match &a.command {
        None => list(&a.list, path, out),
        Some(HistoryCommand::List(l)) => list(l, path, out),
        Some(HistoryCommand::Show { id, format, json }) => {
            let id = parse_id(id)?;
            let ledger = existing(path)?;
            let (kind, text) = ledger.report(id)?;
            let format = if *json { SummaryFormat::Json } else { *format };
            if format == SummaryFormat::Json {
                out.stdout(&text)?;
                return Ok(ExitStatus::Success);
            }
            let e = parse_report(&text, id)?;
            let mut shown = summary(format, &e, &[])?;
            if kind == "run" {
                shown.push_str(&windows_note(&text, id));
            }
            out.stdout(&shown)?;
            Ok(ExitStatus::Success)
        }
        Some(HistoryCommand::Diff { a, b, format }) => {
            let (ia, ib) = (parse_id(a)?, parse_id(b)?);
            let ledger = existing(path)?;
            let ea = parse_report(&ledger.report(ia)?.1, ia)?;
            let other = ledger.report(ib)?.1;
            let v: serde_json::Value = serde_json::from_str(&other)
                .with_context(|| format!("history run {ib}: its stored report is not JSON"))?;
            let name = format!("history run {ib}");
            let c = compare::read(&v, &name)
                .and_then(|eb| compare::compare(&ea, &eb, &name))
                .map_err(|e| anyhow::anyhow!("history diff: {e}"))?;
            let text = match format {
                SummaryFormat::Json => {
                    let mut s = serde_json::to_string_pretty(&c.to_json())?;
                    s.push('\n');
                    s
                }
                f => format!(
                    "history run {ia} ({} {}) beside run {ib}:\n{}",
                    ea.method.as_str(),
                    ea.kind,
                    c.render(*f == SummaryFormat::Markdown)
                ),
            };
            out.stdout(&text)?;
            Ok(ExitStatus::Success)
        }
        Some(HistoryCommand::Export {
            format,
            filter,
            limit,
        }) => {
            let mut f = filter_of(filter)?;
            f.limit = limit.as_deref().map(parse_limit).transpose()?.flatten();
            let Some(ledger) = Ledger::open_existing(path)? else {
                nothing_yet(path);
                if *format == ExportFormat::Json {
                    out.stdout("[]\n")?;
                }
                return Ok(ExitStatus::Success);
            };
            export(&ledger, &f, *format, out)?;
            Ok(ExitStatus::Success)
        }
        Some(HistoryCommand::Rm { id }) => {
            let id = parse_id(id)?;
            let mut ledger = existing(path)?;
            if !ledger.remove(id)? {
                bail!(
                    "no run {id} in the history ledger {}; `wattlens history list` shows the IDs",
                    path.display()
                );
            }
            eprintln!("wattlens: removed run {id} from {}", path.display());
            Ok(ExitStatus::Success)
        }
    }
}

/// A report as `run` (its summary) or `estimate` (its table) prints it, or as Markdown or the
/// `wattlens.footprint/v1` JSON with its windows.
///
/// # Errors
/// When the JSON cannot be written.
pub fn summary(format: SummaryFormat, e: &Report, windows: &[WindowFigures]) -> Result<String> {
    Ok(match format {
        SummaryFormat::Table if e.kind == ReportKind::Run => report::run_summary(e, windows),
        SummaryFormat::Table => report::table(e, false),
        SummaryFormat::Markdown => report::markdown(e, false),
        SummaryFormat::Json => {
            let mut buf = Vec::new();
            report::write_run_json(&mut buf, e, windows)?;
            String::from_utf8(buf)?
        }
    })
}

fn list(l: &HistoryListArgs, path: &std::path::Path, out: &mut Output) -> Result<ExitStatus> {
    let mut f = filter_of(&l.filter)?;
    f.limit = parse_limit(&l.limit)?;
    let Some(ledger) = Ledger::open_existing(path)? else {
        nothing_yet(path);
        if l.json {
            out.stdout("[]\n")?;
        }
        return Ok(ExitStatus::Success);
    };
    let (rows, more) = ledger.list(&f)?;
    if l.json {
        let mut s = serde_json::to_string_pretty(&rows)?;
        s.push('\n');
        out.stdout(&s)?;
    } else if rows.is_empty() {
        eprintln!("wattlens: no recorded run matches in {}", path.display());
    } else {
        out.stdout(&table(&rows))?;
        if more {
            eprintln!(
                "wattlens: more rows match than the {} shown: --limit N shows more, --limit 0 all",
                rows.len()
            );
        }
    }
    Ok(ExitStatus::Success)
}

/// The list as an aligned table: ID, start (UTC, to the second), kind, command, the P50s of
/// facility energy, carbon and water, method, tags.
fn table(rows: &[Row]) -> String {
    let head = [
        "ID",
        "STARTED (UTC)",
        "KIND",
        "COMMAND",
        "ENERGY",
        "CARBON",
        "WATER",
        "METHOD",
        "TAGS",
    ];
    let cells: Vec<[String; 9]> = rows
        .iter()
        .map(|r| {
            let p50 = |s: Option<Spread>, f: fn(f64) -> String| {
                s.map_or_else(|| "-".into(), |s| f(s.p50))
            };
            let kind = if r.kind == "run" {
                "run".to_string()
            } else {
                format!("{} {}", r.kind, r.report_kind)
            };
            [
                r.id.to_string(),
                r.started.get(..19).unwrap_or(&r.started).replace('T', " "),
                kind,
                r.command.clone().unwrap_or_default(),
                p50(r.energy_kwh, report::fmt_energy_kwh),
                p50(r.carbon_kgco2e, report::fmt_mass_kg),
                p50(r.water_l, fmt_water_l),
                r.method.clone(),
                r.tags
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(" "),
            ]
        })
        .collect();
    let mut w = head.map(str::len);
    for c in &cells {
        for (i, s) in c.iter().enumerate() {
            w[i] = w[i].max(s.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |c: &[String]| {
        let mut l = String::new();
        for (i, s) in c.iter().enumerate() {
            // Numbers right-aligned, text left.
            if (4..7).contains(&i) || i == 0 {
                let _ = write!(l, "{s:>width$}  ", width = w[i]);
            } else {
                let _ = write!(l, "{s:<width$}  ", width = w[i]);
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&head.map(String::from));
    for c in &cells {
        line(c);
    }
    out
}

/// Litres in mL, L or m3 by size.
pub(crate) fn fmt_water_l(l: f64) -> String {
    let h = wattlens::uncertainty::fmt_human;
    if l.abs() >= 1e3 {
        format!("{} m3", h(l / 1e3))
    } else if l.abs() >= 1.0 || l == 0.0 {
        format!("{} L", h(l))
    } else {
        format!("{} mL", h(l * 1e3))
    }
}

/// Every row with its full report: CSV of the indexed columns (tags as `k=v;k=v`), or a JSON
/// array of objects (the columns and `report`), written as it goes.
fn export(ledger: &Ledger, f: &Filter, format: ExportFormat, out: &mut Output) -> Result<()> {
    let mut buf = String::new();
    let flush_at = 1 << 16;
    match format {
        ExportFormat::Csv => {
            let mut rows = 0_usize;
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record([
                "id",
                "started",
                "kind",
                "report_kind",
                "command",
                "host",
                "method",
                "energy_kwh_p5",
                "energy_kwh_p50",
                "energy_kwh_p95",
                "carbon_kgco2e_p5",
                "carbon_kgco2e_p50",
                "carbon_kgco2e_p95",
                "water_l_p5",
                "water_l_p50",
                "water_l_p95",
                "exit_code",
                "wattlens_version",
                "tags",
            ])?;
            ledger.each(f, f.limit, false, |r, _| {
                let s = |x: Option<Spread>| {
                    x.map_or([String::new(), String::new(), String::new()], |s| {
                        [s.p5.to_string(), s.p50.to_string(), s.p95.to_string()]
                    })
                };
                let (e, c, wa) = (s(r.energy_kwh), s(r.carbon_kgco2e), s(r.water_l));
                let mut rec = vec![
                    r.id.to_string(),
                    r.started,
                    r.kind,
                    r.report_kind,
                    r.command.unwrap_or_default(),
                    r.host.unwrap_or_default(),
                    r.method,
                ];
                rec.extend(e);
                rec.extend(c);
                rec.extend(wa);
                rec.push(r.exit_code.map(|c| c.to_string()).unwrap_or_default());
                rec.push(r.wattlens_version);
                rec.push(
                    r.tags
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(";"),
                );
                w.write_record(&rec)?;
                rows += 1;
                if rows % 1024 == 0 {
                    let done = std::mem::replace(&mut w, csv::Writer::from_writer(Vec::new()));
                    out.stdout(&String::from_utf8(done.into_inner()?)?)?;
                }
                Ok(())
            })?;
            out.stdout(&String::from_utf8(w.into_inner()?)?)?;
        }
        ExportFormat::Json => {
            buf.push('[');
            let mut first = true;
            ledger.each(f, f.limit, true, |r, report| {
                let mut v = serde_json::to_value(&r)?;
                let report: serde_json::Value =
                    serde_json::from_str(report.as_deref().unwrap_or("")).with_context(|| {
                        format!("history run {}: its stored report is not JSON", r.id)
                    })?;
                v["report"] = report;
                buf.push_str(if first { "\n" } else { ",\n" });
                first = false;
                buf.push_str(&serde_json::to_string(&v)?);
                if buf.len() >= flush_at {
                    out.stdout(&std::mem::take(&mut buf))?;
                }
                Ok(())
            })?;
            buf.push_str(if first { "]\n" } else { "\n]\n" });
            out.stdout(&buf)?;
        }
    }
    Ok(())
}

/// The ledger at `path`; an error that says how to record into it when there is none.
pub(crate) fn existing(path: &std::path::Path) -> Result<Ledger> {
    Ledger::open_existing(path)?.with_context(|| {
        format!(
            "no history ledger at {}: nothing recorded yet (`wattlens run` records every run; \
             --history FILE names another ledger)",
            path.display()
        )
    })
}

fn nothing_yet(path: &std::path::Path) {
    eprintln!(
        "wattlens: no history ledger at {} yet: nothing recorded",
        path.display()
    );
}

fn parse_report(text: &str, id: i64) -> Result<Report> {
    serde_json::from_str(text).with_context(|| {
        format!("history run {id}: its stored report cannot be read as wattlens.footprint/v1")
    })
}

/// A run's marked windows are not re-rendered from the ledger: the note says where they are.
fn windows_note(text: &str, id: i64) -> String {
    let n = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v["windows"].as_array().map(Vec::len))
        .unwrap_or(0);
    if n == 0 {
        return String::new();
    }
    let noun = if n == 1 { "window" } else { "windows" };
    format!("  {n} marked {noun}: `wattlens history show {id} --json` lists them\n")
}

fn parse_id(text: &str) -> Result<i64> {
    match text.trim().parse::<i64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => bail!(
            "invalid run ID {text:?}: give the number in the ID column of `wattlens history list`"
        ),
    }
}

/// `--limit`: a count of rows as every count reads (`20`, `1k`, `1e3`); 0 is all. A count
/// past what SQLite can number (2^63 - 1 rows) is refused without echoing it: the error
/// printer writes a long digit run short, so `99999999999999999999` came back as `1.000e20`.
fn parse_limit(text: &str) -> Result<Option<usize>> {
    let n = match text.trim().parse::<u64>() {
        Ok(n) => n as f64,
        Err(_) => match wattlens::input::parse_range(text.trim(), wattlens::input::Dim::Count) {
            Ok(r) if r.is_point() && r.lo.fract() == 0.0 => r.lo,
            _ => bail!(
                "invalid value for --limit: {text:?} is not a whole number of rows; give e.g. \
                 20, 1k or 1e3 (0 for all)"
            ),
        },
    };
    // i64::MAX as f64 rounds up to 2^63, which i64 cannot hold: compare with `<`.
    if n >= i64::MAX as f64 {
        bail!(
            "invalid value for --limit: more rows than a ledger can hold (SQLite numbers rows \
             below 2^63); give a smaller count, or 0 for all"
        );
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = n as usize;
    Ok((n > 0).then_some(n))
}

/// The `--since`/`--tag`/`--kind` filter; `limit` unset.
pub(crate) fn filter_of(a: &HistoryFilterArgs) -> Result<Filter> {
    let tags = a
        .tags
        .iter()
        .map(|t| match t.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().into(), v.trim().into())),
            _ => bail!("invalid value for --tag: {t:?} is not KEY=VALUE"),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Filter {
        since_ms: a
            .since
            .as_deref()
            .map(|t| since(t, jiff::Timestamp::now()))
            .transpose()?,
        tags,
        kind: a.kind.map(|k| match k {
            HistoryKind::Run => "run".into(),
            HistoryKind::Estimate => "estimate".into(),
        }),
        limit: None,
    })
}

/// `--since`: an RFC 3339 instant, or a duration back from `now` (a bare number is in days).
fn since(text: &str, now: jiff::Timestamp) -> Result<i64> {
    let bad = || {
        anyhow::anyhow!(
            "invalid value for --since: {text:?}; give an RFC 3339 time \
             (2026-11-01T00:00:00Z) or a duration back from now (30d, 12h, 90min)"
        )
    };
    if let Ok(t) = text.trim().parse::<jiff::Timestamp>() {
        return Ok(t.as_millisecond());
    }
    let r = wattlens::input::parse_range_in(text, wattlens::input::Dim::Time, "d")
        .map_err(|_| bad())?;
    let hours = r.mid();
    if r.lo != r.hi || !(0.0..=1e6).contains(&hours) {
        return Err(bad());
    }
    #[allow(clippy::cast_possible_truncation)]
    let back_ms = (hours * 3_600_000.0).round() as i64;
    Ok(now.as_millisecond() - back_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_rfc3339_or_a_duration_back_from_now() {
        let now: jiff::Timestamp = "2026-11-25T12:00:00Z".parse().expect("now");
        // 30 days = 30 x 86,400,000 ms = 2,592,000,000 ms.
        assert_eq!(
            since("30d", now).expect("30d"),
            now.as_millisecond() - 2_592_000_000
        );
        // 12 h = 43,200,000 ms.
        assert_eq!(
            since("12h", now).expect("12h"),
            now.as_millisecond() - 43_200_000
        );
        let t: jiff::Timestamp = "2026-11-01T01:00:00+01:00".parse().expect("t");
        assert_eq!(
            since("2026-11-01T01:00:00+01:00", now).expect("rfc"),
            t.as_millisecond()
        );
        for bad in ["yesterday", "-3d", "1d..2d", "2026-13-01"] {
            let e = since(bad, now).expect_err(bad).to_string();
            assert!(e.contains("--since") && e.contains("RFC 3339"), "{e}");
        }
    }

    #[test]
    fn ids_and_limits_are_checked() {
        assert_eq!(parse_id(" 12 ").expect("id"), 12);
        assert!(parse_id("0").is_err() && parse_id("x").is_err());
        assert_eq!(parse_limit("0").expect("all"), None);
        assert_eq!(parse_limit("5").expect("5"), Some(5));
        assert!(parse_limit("-1").is_err());
        // Counts read as counts do; too many rows is refused naming the flag, not echoing a
        // number the error printer would rewrite (hostile test: 1e20, 20 nines).
        assert_eq!(parse_limit("1k").expect("1k"), Some(1000));
        assert_eq!(parse_limit("1e3").expect("1e3"), Some(1000));
        for huge in [
            "1e20",
            "99999999999999999999",
            "18446744073709551615",
            "9223372036854775807",
        ] {
            let e = parse_limit(huge).expect_err(huge).to_string();
            assert!(
                e.contains("--limit") && e.contains("more rows than"),
                "{huge}: {e}"
            );
        }
        assert_eq!(
            parse_limit("9223372036854774784").expect("below 2^63"),
            Some(9_223_372_036_854_774_784)
        );
        let e = parse_limit("1.5").expect_err("1.5").to_string();
        assert!(e.contains("\"1.5\" is not a whole number"), "{e}");
    }

    #[test]
    fn water_is_shown_in_the_unit_its_size_calls_for() {
        assert_eq!(fmt_water_l(2500.0), "2.5 m3");
        assert_eq!(fmt_water_l(3.0), "3 L");
        assert_eq!(fmt_water_l(0.004), "4 mL");
    }
}
