//! Text renderers: terminal table, Markdown and CSV.

use super::{rows, unit_for, Scale};
use crate::figure::{Figure, Group};
use crate::footprint::COMPONENTS;
use crate::result::Report;
use crate::uncertainty::{fmt_human, Percentiles};
use std::fmt::Write;

/// Whether every percentile of a row shows as 0: such rows are left out of the tables (the
/// JSON and CSV keep them).
pub(crate) fn shows_zero(p: &Percentiles) -> bool {
    [p.p5, p.p50, p.p95].iter().all(|x| fmt_human(*x) == "0")
}

fn trio(p: &Percentiles) -> [String; 3] {
    [fmt_human(p.p5), fmt_human(p.p50), fmt_human(p.p95)]
}

fn header(e: &Report) -> String {
    let basis = if e.samples > 1 {
        format!(
            "P5 / P50 / P95 of {} Monte Carlo samples, seed {}",
            e.samples, e.seed
        )
    } else {
        "point inputs: one evaluation".to_string()
    };
    let mut what = String::new();
    if let Some(m) = e.details.hardware().and_then(|h| h.model.as_deref()) {
        what.push_str(&format!(" {m}"));
    }
    if let Some(a) = e.details.hardware().and_then(|h| h.accelerator.as_deref()) {
        what.push_str(&format!(" on {a}"));
    }
    if e.kind == crate::result::ReportKind::Run {
        // A run is not an estimate: its method is the least direct of its components'.
        return format!("wattlens run: {} ({basis})", e.method.as_str());
    }
    format!("wattlens estimate {}{what}: modelled ({basis})", e.kind)
}

/// An aligned table for a terminal; with `explain`, every step and assumption follows.
#[must_use]
pub fn table(e: &Report, explain: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", header(e));
    let body = rows(e);
    let w = body.iter().map(|r| r.0.len()).max().unwrap_or(10).max(12);
    let _ = writeln!(
        out,
        "\n  {:<w$}  {:>11}  {:>11}  {:>11}  unit",
        "figure", "P5", "P50", "P95"
    );
    for (label, [a, b, c], unit) in &body {
        let _ = writeln!(out, "  {label:<w$}  {a:>11}  {b:>11}  {c:>11}  {unit}");
    }
    let _ = writeln!(out, "\n  carbon intensity scope: {}", e.intensity_scope);

    if let Some((heading, unit, comps)) = components(e) {
        let _ = writeln!(out, "\n  {heading}, {unit}:");
        for (name, p) in comps {
            let [a, b, c] = trio(&p);
            let _ = writeln!(out, "  {name:<w$}  {a:>11}  {b:>11}  {c:>11}");
        }
    }
    if !e.published.is_empty() {
        let _ = writeln!(out, "\n  published figures for comparison:");
        for p in &e.published {
            let est = p.estimate_p50.map_or(String::new(), |x| {
                format!("  (this estimate, P50: {} {})", fmt_human(x), p.unit)
            });
            let _ = writeln!(
                out,
                "  {}: {} {}{est}\n      source: {}",
                p.name,
                fmt_human(p.value),
                p.unit,
                p.source
            );
        }
    }
    let eqs = equivalents(e);
    if !eqs.is_empty() {
        let _ = writeln!(out, "\n  equivalents (P50):");
        for (v, label, src) in eqs {
            let _ = writeln!(out, "  {v:>16}  {label} [{src}]");
        }
    }
    if let Some(r) = rack(e) {
        let _ = writeln!(out, "\n  {r}");
    }
    if let Some(t) = super::trajectory::table(e) {
        out.push_str(&t);
    }
    for n in &e.notes {
        let _ = writeln!(out, "\n  note: {n}");
    }
    if explain {
        out.push_str(&explanation(e));
    } else {
        let _ = writeln!(
            out,
            "\n  --explain prints every step with its formula and source; --json the full object."
        );
    }
    out
}

/// A component table: its heading, the unit and the rows (name, percentiles).
type ComponentTable = (&'static str, String, Vec<(String, Percentiles)>);

/// The IT energy by component, scaled to one unit from the total: (heading, unit, rows); rows
/// that show as 0 are left out. An estimate's are its modelled components; a measured run's are
/// its own (CPU active and idle share, memory, GPUs, the rest of the server), each named with
/// its method (a run's Markdown kept only the rest of the server before: a hostile test).
fn components(e: &Report) -> Option<ComponentTable> {
    let total = e.get(Figure::ItEnergy)?;
    let (k, unit) = unit_for(Scale::Energy, total.p50, "");
    let run = e.kind == crate::result::ReportKind::Run && !e.components.is_empty();
    let (heading, rows): (&str, Vec<(String, Percentiles)>) = if !run {
        (
            "IT energy by component (modelled)",
            COMPONENTS
                .iter()
                .filter_map(|(f, _)| e.get(*f).map(|p| (f.label().to_string(), p)))
                .collect(),
        )
    } else {
        (
            "IT energy by component",
            e.components
                .iter()
                .filter_map(|c| {
                    e.get(c.key)
                        .map(|p| (format!("{} ({})", c.name, c.method.as_str()), p))
                })
                .collect(),
        )
    };
    let rows = rows
        .into_iter()
        .filter(|(_, p)| !shows_zero(p))
        .map(|(name, p)| (name, p.scale(k)))
        .collect();
    Some((heading, unit, rows))
}

/// The equivalents shown: (P50 with its unit, description, source). An equivalent of nothing
/// (`0 km` at --intensity 0) is left out, as zero rows are.
fn equivalents(e: &Report) -> Vec<(String, &str, &str)> {
    e.equivalents
        .iter()
        .filter_map(|q| {
            e.get(q.figure)
                .map(|p| (&q.description, q.unit, &q.source, p))
        })
        .filter(|(.., p)| fmt_human(p.p50) != "0")
        .map(|(label, unit, src, p)| {
            let v = if unit == "fraction" && p.p50 * 100.0 < 1e-4 {
                "< 0.0001%".to_string()
            } else if unit == "fraction" {
                format!("{}%", fmt_human(p.p50 * 100.0))
            } else {
                format!("{} {unit}", fmt_human(p.p50))
            };
            (v, label.as_str(), src.as_str())
        })
        .collect()
}

/// The rack line of `estimate datacenter`, if any.
fn rack(e: &Report) -> Option<String> {
    let crate::result::Details::Datacenter(d) = &e.details else {
        return None;
    };
    let r = d.rack.as_ref()?;
    let names: Vec<&str> = r.suitable_cooling.iter().map(|c| c.name.as_str()).collect();
    Some(format!(
        "rack: {} kW; cooling types that handle it: {}",
        if r.power_kw.is_finite() {
            fmt_human(r.power_kw)
        } else {
            "-".into()
        },
        if names.is_empty() {
            "none in the catalog".to_string()
        } else {
            names.join(", ")
        }
    ))
}

fn explanation(e: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\nsteps (at the central value of every input):");
    for (i, s) in e.steps.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {:>2}. {}: {} = {} {}",
            i + 1,
            s.name,
            s.formula,
            fmt_human(s.value),
            s.unit
        );
        if let Some(src) = &s.source {
            let _ = writeln!(out, "      source: {src}");
        }
    }
    let _ = writeln!(out, "\nassumptions:");
    for a in &e.assumptions {
        let origin = serde_json::to_value(a.origin)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {} = {} [{origin}]{}",
            a.name,
            a.value,
            a.source.as_ref().map_or(String::new(), |s| format!(" {s}"))
        );
    }
    out
}

/// A Markdown report: the figures table, components, equivalents, notes and, with `explain`,
/// the steps; the same rows the terminal table shows.
#[must_use]
pub fn markdown(e: &Report, explain: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### {}\n", header(e));
    let _ = writeln!(
        out,
        "| figure | P5 | P50 | P95 | unit |\n|---|---:|---:|---:|---|"
    );
    for (label, [a, b, c], unit) in rows(e) {
        let _ = writeln!(out, "| {} | {a} | {b} | {c} | {unit} |", label.trim());
    }
    let _ = writeln!(out, "\nCarbon intensity scope: {}.", e.intensity_scope);
    if let Some((heading, unit, comps)) = components(e) {
        let _ = writeln!(
            out,
            "\n| {heading} | P5 | P50 | P95 | unit |\n|---|---:|---:|---:|---|"
        );
        for (name, p) in comps {
            let [a, b, c] = trio(&p);
            let _ = writeln!(out, "| {name} | {a} | {b} | {c} | {unit} |");
        }
    }
    if !e.published.is_empty() {
        let _ = writeln!(
            out,
            "\n| published | value | this estimate (P50) | source |\n|---|---:|---:|---|"
        );
        for p in &e.published {
            let _ = writeln!(
                out,
                "| {} | {} {} | {} | {} |",
                p.name,
                fmt_human(p.value),
                p.unit,
                p.estimate_p50.map_or("-".into(), fmt_human),
                p.source
            );
        }
    }
    let eqs = equivalents(e);
    if !eqs.is_empty() {
        let _ = writeln!(out, "\nEquivalents (P50):\n");
        for (v, label, src) in eqs {
            let _ = writeln!(out, "- {v}: {label} [{src}]");
        }
    }
    if let Some(r) = rack(e) {
        let _ = writeln!(out, "\n{r}");
    }
    if let Some(t) = super::trajectory::markdown(e) {
        out.push_str(&t);
    }
    if !e.notes.is_empty() {
        let _ = writeln!(out, "\nNotes:\n");
        for n in &e.notes {
            let _ = writeln!(out, "- {n}");
        }
    }
    if explain {
        let _ = writeln!(
            out,
            "\n| step | formula | value | unit | source |\n|---|---|---:|---|---|"
        );
        for s in &e.steps {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                s.name,
                s.formula,
                fmt_human(s.value),
                s.unit,
                s.source.as_deref().unwrap_or("")
            );
        }
    }
    out
}

/// The name of figure `f` of `e` in CSV: its key, the cost's with its currency (`cost_eur`);
/// `None` for an equivalent the table and JSON leave out (`eq.us_homes` for a period under an
/// hour).
#[must_use]
pub fn csv_key(e: &Report, f: Figure) -> Option<String> {
    if f.group() == Group::Equivalent && !e.equivalents.iter().any(|q| q.figure == f) {
        return None;
    }
    Some(if f == Figure::Cost {
        format!("cost_{}", e.currency.to_ascii_lowercase())
    } else {
        f.key().to_string()
    })
}

/// CSV: one row per figure (`kind,figure,p5,p50,p95,method`), in base units as in the JSON keys;
/// the cost's key carries its currency (`cost_eur`), as the other keys carry their units. The
/// equivalents are those the table and JSON show (no `eq.us_homes` for a period under an hour).
/// A growth trajectory follows as rows `trajectory,YEAR.key,p5,p50,p95,modelled`.
/// Then the carbon basis as a row `basis,<annual|series>,,,,` and the carbon intensity scope
/// (as Markdown says it) as `scope,<text>,,,,`; each note follows as a row `note,<text>,,,,`
/// (kind `note`, the text in the figure column).
///
/// # Errors
/// Only if writing to memory fails.
pub fn csv(e: &Report) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["kind", "figure", "p5", "p50", "p95", "method"])?;
    for (k, p) in &e.figures {
        let Some(key) = csv_key(e, *k) else { continue };
        w.write_record([
            e.kind.as_str(),
            &key,
            &p.p5.to_string(),
            &p.p50.to_string(),
            &p.p95.to_string(),
            "modelled",
        ])?;
    }
    for r in super::trajectory::csv_rows(e) {
        w.write_record(&r)?;
    }
    w.write_record(["basis", &e.carbon_basis.to_string(), "", "", "", ""])?;
    w.write_record(["scope", e.intensity_scope.as_str(), "", "", "", ""])?;
    for n in &e.notes {
        w.write_record(["note", n.as_str(), "", "", "", ""])?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
