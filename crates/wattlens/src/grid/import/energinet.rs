//! Energinet's Energi Data Service (`CO2Emis`, `CO2EmisProg`): the API's JSON `records`, and
//! the service's CSV download (`;`-separated with decimal commas, or `,`-separated), both read
//! into the same records: one price area, times in UTC by the column's name.

use super::json::Parsed;
use super::records::{Reader, Rec};
use super::{quote, ImportOptions};
use crate::grid::{GridError, IntensitySeries, Signal};
use jiff::SignedDuration;
use serde_json::{Map, Value};
use std::io::Read;

/// The value column: gCO2/kWh.
const VALUE: &str = "CO2Emission";

/// The service's CSV download as records: each row an object of its header's fields, the
/// value a number (a decimal comma read as a point in a `;`-separated file), an empty cell
/// `null`, anything else kept as text (an error naming the line).
pub(super) fn parse_csv<R: Read>(
    reader: R,
    origin: &str,
    options: &ImportOptions,
) -> Result<IntensitySeries, GridError> {
    let mut text = String::new();
    reader
        .take(super::MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| GridError::Read {
            origin: origin.into(),
            why: e.to_string(),
        })?;
    if text.len() as u64 > super::MAX_FILE_BYTES {
        return Err(GridError::TooLarge {
            origin: origin.into(),
            max_mib: super::MAX_FILE_BYTES / (1024 * 1024),
        });
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let header_line = text.lines().next().unwrap_or_default();
    let semi = header_line.contains(';');
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(if semi { b';' } else { b',' })
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let csv_err = |e: csv::Error| GridError::Csv {
        origin: origin.into(),
        line: e.position().map_or(0, csv::Position::line),
        source: e,
    };
    let header = rdr.headers().map_err(csv_err)?.clone();
    let mut items = Vec::new();
    let mut lines = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(csv_err)?;
        lines.push(rec.position().map_or(0, csv::Position::line));
        let mut m = Map::new();
        for (name, cell) in header.iter().zip(rec.iter()) {
            let v = if cell.is_empty() {
                Value::Null
            } else if name == VALUE {
                let n = if semi {
                    cell.replace(',', ".")
                } else {
                    cell.to_string()
                };
                n.parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map_or_else(|| Value::String(cell.into()), Value::Number)
            } else {
                Value::String(cell.into())
            };
            m.insert(name.to_string(), v);
        }
        items.push(Value::Object(m));
    }
    if !header.iter().any(|h| h == VALUE) {
        return Err(GridError::NoColumn {
            origin: origin.into(),
            column: VALUE.into(),
            header: quote(&header.iter().collect::<Vec<_>>().join(",")),
        });
    }
    let read = records(&items, origin, options, &|i| {
        format!("line {}", lines.get(i).copied().unwrap_or(0))
    })?;
    super::json::finish(read, origin, options)
}

/// The records of one price area (chosen, or the only one), in time order; `label` names
/// record `i` in errors (`records[3]`, `line 5`).
pub(super) fn records(
    items: &[Value],
    origin: &str,
    options: &ImportOptions,
    label: &dyn Fn(usize) -> String,
) -> Result<Parsed, GridError> {
    let shape = |why: String| GridError::Shape {
        origin: origin.into(),
        why,
    };
    let first = items.first().ok_or_else(|| GridError::TooFewRows {
        origin: origin.into(),
        why: "the document holds no records; give one with at least one time and value",
    })?;
    let (time_key, step) = if first.get("Minutes5UTC").is_some() {
        ("Minutes5UTC", SignedDuration::from_mins(5))
    } else if first.get("HourUTC").is_some() {
        ("HourUTC", SignedDuration::from_hours(1))
    } else {
        return Err(shape(format!(
            "energinet record {} has neither `Minutes5UTC` nor `HourUTC`",
            label(0)
        )));
    };
    let mut areas: Vec<&str> = Vec::new();
    for item in items {
        if let Some(a) = item.get("PriceArea").and_then(Value::as_str) {
            if !areas.contains(&a) {
                areas.push(a);
            }
        }
    }
    let area = match (&options.column, areas.as_slice()) {
        (Some(c), _) => match areas.iter().find(|a| a.eq_ignore_ascii_case(c.trim())) {
            Some(a) => Some(*a),
            None => {
                return Err(GridError::Choose {
                    origin: origin.into(),
                    why: format!("no price area `{}` in the records", quote(c)),
                    choices: quote(&areas.join(", ")),
                })
            }
        },
        (None, []) => None,
        (None, [one]) => Some(*one),
        (None, _) => {
            return Err(GridError::Choose {
                origin: origin.into(),
                why: format!("the records hold {} price areas; name one", areas.len()),
                choices: quote(&areas.join(", ")),
            })
        }
    };
    let mut r = Reader::new(origin);
    r.naive_utc = true;
    let mut recs = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let a = item.get("PriceArea").and_then(Value::as_str);
        if area.is_some() && a != area {
            continue;
        }
        let at = label(i);
        recs.push(Rec {
            start: r.time(item, &at, time_key)?,
            end: None,
            value: r.value(item, &at, "CO2Emission", 1.0)?,
            at,
        });
    }
    // The service sorts newest first by default: a wholly descending list is read reversed.
    if recs.len() > 1 && recs.windows(2).all(|w| w[1].start < w[0].start) {
        recs.reverse();
    }
    Ok(Parsed {
        recs,
        signal: Signal::Average,
        last: Some(step),
        what: format!(
            "Energi Data Service {}, CO2Emission",
            quote(area.unwrap_or("?"))
        ),
    })
}
