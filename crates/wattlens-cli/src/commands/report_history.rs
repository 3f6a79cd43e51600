//! `wattlens report --since 30d --format html|markdown` (no SOURCE): the history ledger's runs
//! over time, picked as `history list` picks them (`--since`, `--tag`, `--kind`): a table of
//! the runs (start, kind, command, energy, carbon, water P50) and, in HTML, an inline SVG chart
//! of each run's carbon (P50, with its P5..P95) against its start time.

use super::history::{existing, filter_of, fmt_water_l};
use crate::cli::ReportArgs;
use crate::history::{Place, Row};
use anyhow::{bail, Result};
use std::fmt::Write as _;
use wattlens::report::{fmt_energy_kwh, fmt_mass_kg};

/// The page for `report` without SOURCE.
///
/// # Errors
/// A format other than html or markdown, no ledger, bad filters, any SQLite error.
pub fn render(args: &ReportArgs, place: &Place) -> Result<String> {
    let format = args.format.as_str();
    if !matches!(format, "html" | "markdown") {
        bail!(
            "report: --format {format} renders one footprint: give its SOURCE (a footprint JSON, \
             `-` or a history ID from `wattlens history list`); without SOURCE, report renders \
             the history's runs over time as --format html or markdown"
        );
    }
    let filter = filter_of(&args.filter)?;
    let ledger = existing(place.path()?)?;
    let (mut rows, _) = ledger.list(&filter)?;
    // The ledger lists newest first; the page reads oldest to newest.
    rows.reverse();
    let picked = picked(args);
    Ok(if format == "html" {
        html(&rows, &picked)
    } else {
        markdown(&rows, &picked)
    })
}

/// What the filters picked, in words.
fn picked(args: &ReportArgs) -> String {
    let f = &args.filter;
    let mut parts = Vec::new();
    if let Some(s) = &f.since {
        parts.push(format!("since {s}"));
    }
    for t in &f.tags {
        parts.push(format!("tag {t}"));
    }
    if let Some(k) = f.kind {
        parts.push(format!("kind {}", format!("{k:?}").to_lowercase()));
    }
    if parts.is_empty() {
        "all recorded runs".into()
    } else {
        format!("recorded runs, {}", parts.join(", "))
    }
}

/// The cells of one row: ID, start (UTC, to the second), kind, command, energy, carbon, water.
fn cells(r: &Row) -> [String; 7] {
    let p50 = |s: Option<crate::history::Spread>, f: fn(f64) -> String| {
        s.map_or("-".into(), |s| f(s.p50))
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
        p50(r.energy_kwh, fmt_energy_kwh),
        p50(r.carbon_kgco2e, fmt_mass_kg),
        p50(r.water_l, fmt_water_l),
    ]
}

const HEAD: [&str; 7] = [
    "ID",
    "started (UTC)",
    "kind",
    "command",
    "energy P50",
    "carbon P50",
    "water P50",
];

fn markdown(rows: &[Row], picked: &str) -> String {
    let mut o = format!(
        "# wattlens: runs over time\n\n{} {} ({picked}), oldest first; facility energy, \
         carbon (operational + embodied) and water consumed, P50.\n\n",
        rows.len(),
        if rows.len() == 1 { "run" } else { "runs" }
    );
    let _ = writeln!(o, "| {} |", HEAD.join(" | "));
    let _ = writeln!(o, "|---:|---|---|---|---:|---:|---:|");
    for r in rows {
        let c = cells(r).map(|s| s.replace('|', "\\|"));
        let _ = writeln!(o, "| {} |", c.join(" | "));
    }
    o
}

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const CSS: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:60em;\
color:#222;padding:0 1em}h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;\
border-bottom:1px solid #ccc}table{border-collapse:collapse;width:100%}td,th{text-align:left;\
padding:.2em .5em;border-bottom:1px solid #eee}td.n{text-align:right;white-space:nowrap}\
.muted{color:#666}svg{display:block}.dot{fill:#2f6f9f}.range{stroke:#2f6f9f;stroke-width:2}\
@media print{body{margin:0;max-width:none;font-size:11px}table,svg{break-inside:avoid}}";

fn html(rows: &[Row], picked: &str) -> String {
    let mut o = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>wattlens: runs \
         over time</title><style>{CSS}</style></head><body><h1>wattlens: runs over time</h1>\
         <p class=\"muted\">{} {} ({}), oldest first; facility energy, carbon (operational + \
         embodied) and water consumed, P50.</p>",
        rows.len(),
        if rows.len() == 1 { "run" } else { "runs" },
        esc(picked)
    );
    chart(&mut o, rows);
    o.push_str("<h2>Runs</h2><table><tr>");
    for h in HEAD {
        let _ = write!(o, "<th>{}</th>", esc(h));
    }
    o.push_str("</tr>");
    for r in rows {
        o.push_str("<tr>");
        for (i, c) in cells(r).iter().enumerate() {
            let class = if i == 0 || i >= 4 { " class=\"n\"" } else { "" };
            let _ = write!(o, "<td{class}>{}</td>", esc(c));
        }
        o.push_str("</tr>");
    }
    o.push_str("</table></body></html>\n");
    o
}

/// Carbon per run against its start: a dot at the P50 and a line from P5 to P95, on a time
/// axis from the first run's start to the last's and a carbon axis from 0 to the largest P95.
fn chart(o: &mut String, rows: &[Row]) {
    let points: Vec<(i64, &Row, crate::history::Spread)> = rows
        .iter()
        .filter_map(|r| {
            let t = r.started.parse::<jiff::Timestamp>().ok()?;
            Some((t.as_millisecond(), r, r.carbon_kgco2e?))
        })
        .collect();
    let _ = write!(
        o,
        "<h2>Carbon per run (P50, P5 .. P95)</h2><svg class=\"chart\" width=\"640\" \
         height=\"220\" role=\"img\" aria-label=\"carbon per run over time\" data-runs=\"{}\">",
        points.len()
    );
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        o.push_str(
            "<text x=\"10\" y=\"20\" font-size=\"12\">no recorded run with a carbon figure</text></svg>",
        );
        return;
    };
    let most = points
        .iter()
        .map(|p| p.2.p95.max(p.2.p50))
        .fold(0.0, f64::max);
    // Runs that all emitted nothing get a 1 mg axis: the smallest positive f64 printed its top
    // as `2.45e-302 mgCO2e`.
    let top = if most > 0.0 { most * 1.1 } else { 1e-6 };
    let span = (last.0 - first.0).max(1);
    let (x0, w, h) = (70.0, 550.0, 170.0);
    #[allow(clippy::cast_precision_loss)]
    let x = |t: i64| {
        if points.len() == 1 {
            x0 + w / 2.0
        } else {
            x0 + w * ((t - first.0) as f64 / span as f64)
        }
    };
    let y = |v: f64| 10.0 + h * (1.0 - (v / top).clamp(0.0, 1.0));
    let mut line = String::new();
    for (t, r, s) in &points {
        let _ = write!(line, "{:.1},{:.1} ", x(*t), y(s.p50));
        let _ = write!(
            o,
            "<line class=\"range\" x1=\"{0:.1}\" y1=\"{1:.1}\" x2=\"{0:.1}\" y2=\"{2:.1}\"/>\
             <circle class=\"dot\" cx=\"{0:.1}\" cy=\"{3:.1}\" r=\"4\"><title>run {4} ({5}), \
             {6}: {7}</title></circle>",
            x(*t),
            y(s.p5),
            y(s.p95),
            y(s.p50),
            r.id,
            esc(r.command.as_deref().unwrap_or(&r.kind)),
            esc(&r.started),
            esc(&fmt_mass_kg(s.p50))
        );
    }
    let _ = write!(
        o,
        "<polyline points=\"{}\" fill=\"none\" stroke=\"#2f6f9f\" stroke-opacity=\"0.4\"/>\
         <line x1=\"{x0}\" y1=\"{1:.1}\" x2=\"{2:.1}\" y2=\"{1:.1}\" stroke=\"#333\"/>\
         <text x=\"0\" y=\"20\" font-size=\"11\">{3}</text><text x=\"0\" y=\"{1:.1}\" \
         font-size=\"11\">0</text><text x=\"{x0}\" y=\"215\" font-size=\"11\">{4}</text>\
         <text x=\"{5:.1}\" y=\"215\" font-size=\"11\" text-anchor=\"end\">{6}</text></svg>",
        line.trim_end(),
        10.0 + h,
        x0 + w,
        esc(&fmt_mass_kg(top)),
        esc(first.1.started.get(..10).unwrap_or("")),
        x0 + w,
        esc(last.1.started.get(..10).unwrap_or("")),
    );
}

#[cfg(test)]
mod tests {
    use crate::history::{Row, Spread};

    fn row(id: i64, started: &str, carbon: f64) -> Row {
        let s = Spread {
            p5: carbon,
            p50: carbon,
            p95: carbon,
        };
        Row {
            id,
            started: started.into(),
            kind: "run".into(),
            report_kind: "run".into(),
            command: Some("true".into()),
            host: None,
            method: "modelled".into(),
            energy_kwh: Some(s),
            carbon_kgco2e: Some(s),
            water_l: Some(s),
            exit_code: Some(0),
            wattlens_version: "0".into(),
            tags: std::collections::BTreeMap::new(),
        }
    }

    #[test]
    fn runs_that_emitted_nothing_get_a_readable_axis() {
        let rows = [
            row(1, "2026-11-01T00:00:00Z", 0.0),
            row(2, "2026-11-02T00:00:00Z", 0.0),
        ];
        let page = super::html(&rows, "all");
        assert!(!page.contains("e-30"), "{page}");
        assert!(page.contains(">1 mgCO2e</text>"), "{page}");
        // A 2 g run: the axis tops at 2 g x 1.1 = 2.2 g.
        let rows = [
            row(1, "2026-11-01T00:00:00Z", 0.0),
            row(2, "2026-11-02T00:00:00Z", 0.002),
        ];
        assert!(super::html(&rows, "all").contains(">2.2 gCO2e</text>"));
    }
}
