//! The what-if result as a terminal or Markdown table, CSV, or the `wattlens.vary/v1` JSON
//! object (the baseline and each variant a `wattlens.footprint/v1` object; a variant also
//! carries what it changed, `vary`, and its paired `change` with a `verdict` per figure).

use super::Outcome;
use crate::cli::{Format, OutputArgs};
use anyhow::Result;
use serde_json::{json, Map, Value};
use wattlens::figure::Figure;
use wattlens::report::csv_key;
use wattlens::result::Report;
use wattlens::uncertainty::Percentiles;
use wattlens::vary::text::{change_cell, range_cell};
use wattlens::vary::Verdict;

/// The schema of the JSON object.
pub const SCHEMA: &str = "wattlens.vary/v1";

/// The output in the format asked.
pub(super) fn render(o: &Outcome, args: &OutputArgs) -> Result<String> {
    let format = if args.json { Format::Json } else { args.format };
    Ok(match format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&to_json(o)?)?;
            s.push('\n');
            s
        }
        Format::Csv => csv(o)?,
        Format::Markdown => table(o, true),
        Format::Table => table(o, false),
    })
}

/// The key of a change in JSON: facility energy is `energy_kwh`, the rest their figure's key.
fn change_key(f: Figure) -> &'static str {
    match f {
        Figure::FacilityEnergy => "energy_kwh",
        f => f.key(),
    }
}

fn to_json(o: &Outcome) -> Result<Value> {
    let variants = o
        .variants
        .iter()
        .zip(&o.changes.variants)
        .map(|((report, pairs), change)| -> Result<Value> {
            let mut v = serde_json::to_value(report)?;
            let mut c = Map::new();
            let mut verdict = Map::new();
            for (f, p) in change {
                c.insert(change_key(*f).into(), serde_json::to_value(p)?);
                verdict.insert(change_key(*f).into(), Verdict::of(p).label().into());
            }
            if let Value::Object(m) = &mut v {
                m.insert(
                    "vary".into(),
                    pairs
                        .iter()
                        .map(|(k, val)| json!({"key": k, "value": val}))
                        .collect(),
                );
                m.insert("change".into(), Value::Object(c));
                m.insert("verdict".into(), Value::Object(verdict));
            }
            Ok(v)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(json!({
        "schema": SCHEMA,
        "command": o.command,
        "samples": o.changes.samples,
        "baseline": serde_json::to_value(&o.baseline)?,
        "variants": variants,
    }))
}

/// The figures of a row: energy, carbon, water, time (where the kind has one), cost.
fn columns(base: &Report) -> Vec<(Figure, &'static str)> {
    [
        (Figure::FacilityEnergy, "energy"),
        (Figure::Carbon, "carbon"),
        (Figure::Water, "water"),
        (Figure::Duration, "time"),
        (Figure::Cost, "cost"),
    ]
    .into_iter()
    .filter(|(f, _)| base.get(*f).is_some())
    .collect()
}

/// The change of `f` with its verdict, or `-` where either lacks the figure.
fn change_text(change: &[(Figure, Percentiles)], f: Figure, currency: &str) -> String {
    change
        .iter()
        .find(|(k, _)| *k == f)
        .map_or("-".into(), |(_, p)| {
            let v = Verdict::of(p);
            if v == Verdict::Same {
                "0 (no change)".into()
            } else {
                format!("{} {}", change_cell(f, p, currency), v.label())
            }
        })
}

fn cells(e: &Report, cols: &[(Figure, &str)]) -> Vec<String> {
    cols.iter()
        .map(|(f, _)| {
            e.get(*f)
                .map_or("-".into(), |p| range_cell(*f, &p, &e.currency))
        })
        .collect()
}

fn table(o: &Outcome, markdown: bool) -> String {
    let cols = columns(&o.baseline);
    let mut head: Vec<String> = vec!["variant".into()];
    head.extend(cols.iter().map(|(_, h)| (*h).to_string()));
    head.push("energy change".into());
    head.push("carbon change".into());
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut first = vec!["baseline".to_string()];
    first.extend(cells(&o.baseline, &cols));
    first.extend(["".into(), "".into()]);
    rows.push(first);
    for ((e, pairs), change) in o.variants.iter().zip(&o.changes.variants) {
        let label: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut r = vec![label.join(" ")];
        r.extend(cells(e, &cols));
        r.push(change_text(change, Figure::FacilityEnergy, &e.currency));
        r.push(change_text(change, Figure::Carbon, &e.currency));
        rows.push(r);
    }
    let mut s = format!(
        "wattlens {}: what-if variants, P50 (P5..P95) of {} Monte Carlo samples, seed {}\n\n",
        o.command, o.changes.samples, o.baseline.seed
    );
    if markdown {
        s.push_str(&format!("| {} |\n", head.join(" | ")));
        s.push_str(&format!("|{}\n", "---|".repeat(head.len())));
        for r in &rows {
            s.push_str(&format!("| {} |\n", r.join(" | ")));
        }
    } else {
        let mut w: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
        for r in &rows {
            for (i, c) in r.iter().enumerate() {
                w[i] = w[i].max(c.chars().count());
            }
        }
        let line = |r: &[String]| {
            let cells: Vec<String> = r
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{c:<width$}", width = w[i]))
                .collect();
            format!("  {}\n", cells.join("  ").trim_end())
        };
        s.push_str(&line(&head));
        for r in &rows {
            s.push_str(&line(r));
        }
    }
    s.push_str(
        "\n  changes are variant - baseline on the same random draws (paired); a variant is \
         better or worse only when the whole P5..P95 range of its change is below or above \
         0, else not distinguishable\n",
    );
    if !markdown {
        s.push_str("\n  --json gives each variant's full result and every change.\n");
    }
    s
}

fn csv(o: &Outcome) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "variant",
        "figure",
        "p5",
        "p50",
        "p95",
        "change_p5",
        "change_p50",
        "change_p95",
        "verdict",
    ])?;
    let mut rows = |label: &str, e: &Report, change: &[(Figure, Percentiles)]| -> Result<()> {
        // The figures as the estimate's own CSV names and filters them.
        for (f, p) in &e.figures {
            let Some(key) = csv_key(e, *f) else { continue };
            let c = change.iter().find(|(k, _)| k == f).map(|(_, c)| *c);
            let num = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
            w.write_record([
                label.to_string(),
                key,
                p.p5.to_string(),
                p.p50.to_string(),
                p.p95.to_string(),
                num(c.map(|c| c.p5)),
                num(c.map(|c| c.p50)),
                num(c.map(|c| c.p95)),
                c.map_or(String::new(), |c| Verdict::of(&c).label().to_string()),
            ])?;
        }
        // The carbon basis and the intensity's scope, as the estimate's CSV has them; the text
        // in the p50 column.
        let basis = e.carbon_basis.to_string();
        for (what, text) in [
            ("basis", basis.as_str()),
            ("scope", e.intensity_scope.as_str()),
        ] {
            w.write_record([label, what, "", text, "", "", "", "", ""])?;
        }
        Ok(())
    };
    rows("baseline", &o.baseline, &[])?;
    for ((e, pairs), change) in o.variants.iter().zip(&o.changes.variants) {
        let label: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        rows(&label.join(" "), e, change)?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}
