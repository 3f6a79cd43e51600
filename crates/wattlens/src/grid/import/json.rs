//! The providers' JSON documents: Electricity Maps, the GB Carbon Intensity API, WattTime and
//! Energinet's Energi Data Service, each read into records and then intervals
//! ([`super::records`]).

use super::records::{intervals, Reader, Rec};
use super::{quote, ImportOptions, SeriesFormat, MAX_FILE_BYTES};
use crate::grid::{GridError, IntensitySeries, Signal};
use jiff::SignedDuration;
use serde_json::{Map, Value};
use std::io::Read;

/// Kilograms per pound (exact, by definition of the international pound, 1959): lb/MWh x
/// 0.45359237 = kg/MWh = g/kWh.
pub const KG_PER_LB: f64 = 0.453_592_37;

/// Reads a whole JSON document, at most [`MAX_FILE_BYTES`].
pub(super) fn read_doc<R: Read>(reader: R, origin: &str) -> Result<Value, GridError> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| GridError::Read {
            origin: origin.into(),
            why: e.to_string(),
        })?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(GridError::TooLarge {
            origin: origin.into(),
            max_mib: MAX_FILE_BYTES / (1024 * 1024),
        });
    }
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    // A key twice in one object (`"carbonIntensity": 172, "carbonIntensity": 9999`) is refused:
    // a `Value` keeps the last and says nothing (hostile round 6).
    let checked = std::str::from_utf8(text)
        .map_err(|e| serde::de::Error::custom(e.to_string()))
        .and_then(crate::json_keys::check_unique_keys);
    checked
        .and_then(|()| serde_json::from_slice(text))
        .map_err(|e: serde_json::Error| GridError::Json {
            origin: origin.into(),
            line: e.line(),
            column: e.column(),
            why: e
                .to_string()
                .split(" at line ")
                .next()
                .unwrap_or_default()
                .to_string(),
        })
}

/// What a document holds at the top, for a message: `an object with keys a, b` or `an array`.
pub(super) fn keys(doc: &Value) -> String {
    match doc {
        Value::Object(m) if m.is_empty() => "an empty object".into(),
        Value::Object(m) => {
            let k: Vec<&str> = m.keys().map(String::as_str).take(8).collect();
            quote(&format!("an object with keys {}", k.join(", ")))
        }
        Value::Array(_) => "an array at the top".into(),
        _ => "not an object".into(),
    }
}

/// The document read as `format`.
pub(super) fn parse(
    doc: &Value,
    format: SeriesFormat,
    origin: &str,
    options: &ImportOptions,
) -> Result<IntensitySeries, GridError> {
    let shape = |why: String| GridError::Shape {
        origin: origin.into(),
        why,
    };
    let Some(obj) = doc.as_object() else {
        return Err(shape(format!(
            "the {} format is a JSON object; this is {}",
            format.name(),
            keys(doc)
        )));
    };
    let read = match format {
        SeriesFormat::Csv => return Err(shape("a JSON document read as csv".into())),
        SeriesFormat::ElectricityMaps => electricity_maps(obj, origin, options)?,
        SeriesFormat::Gb => gb(obj, origin, options)?,
        SeriesFormat::WattTime => watttime(obj, origin, options)?,
        SeriesFormat::Energinet => {
            let items = array(obj, "records", origin, SeriesFormat::Energinet)?;
            super::energinet::records(items, origin, options, &|i| format!("records[{i}]"))?
        }
    };
    finish(read, origin, options)
}

/// A provider's records to a series: the signal asked for checked, the records to intervals.
pub(super) fn finish(
    read: Parsed,
    origin: &str,
    options: &ImportOptions,
) -> Result<IntensitySeries, GridError> {
    if let Some(asked) = options.signal {
        if asked != read.signal {
            return Err(GridError::Signal {
                origin: origin.into(),
                what: read.what,
                found: read.signal,
                asked,
            });
        }
    }
    let ivs = intervals(origin, &read.recs, read.last)?;
    IntensitySeries::new(format!("{origin} ({})", read.what), read.signal, ivs)
}

/// What a provider document gave.
pub(super) struct Parsed {
    pub recs: Vec<Rec>,
    pub signal: Signal,
    /// How long the last point holds, when the provider says.
    pub last: Option<SignedDuration>,
    /// The provider, series and field, for the series' source.
    pub what: String,
}

fn array<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    origin: &str,
    format: SeriesFormat,
) -> Result<&'a Vec<Value>, GridError> {
    obj.get(key)
        .and_then(Value::as_array)
        .ok_or_else(|| GridError::Shape {
            origin: origin.into(),
            why: format!("the {} format needs a `{key}` array", format.name()),
        })
}

/// A column given to a format that holds one series.
fn no_column(options: &ImportOptions, origin: &str, format: SeriesFormat) -> Result<(), GridError> {
    match &options.column {
        Some(c) => Err(GridError::Choose {
            origin: origin.into(),
            why: format!(
                "the {} format holds one series, so there is no `{}` to choose",
                format.name(),
                quote(c)
            ),
            choices: "(none: give no column)".into(),
        }),
        None => Ok(()),
    }
}

fn electricity_maps(
    obj: &Map<String, Value>,
    origin: &str,
    options: &ImportOptions,
) -> Result<Parsed, GridError> {
    no_column(options, origin, SeriesFormat::ElectricityMaps)?;
    let key = match (obj.contains_key("history"), obj.contains_key("forecast")) {
        (true, true) => {
            return Err(GridError::Shape {
                origin: origin.into(),
                why: "an electricitymaps document with both `history` and `forecast`; keep one"
                    .into(),
            })
        }
        (true, false) => "history",
        _ => "forecast",
    };
    let items = array(obj, key, origin, SeriesFormat::ElectricityMaps)?;
    let mut r = Reader::new(origin);
    let mut recs = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("{key}[{i}]");
        recs.push(Rec {
            start: r.time(item, &at, "datetime")?,
            end: None,
            value: r.value(item, &at, "carbonIntensity", 1.0)?,
            at,
        });
    }
    let zone = obj.get("zone").and_then(Value::as_str).unwrap_or("?");
    Ok(Parsed {
        recs,
        signal: Signal::Average,
        last: None,
        what: format!("Electricity Maps {} {key}, carbonIntensity", quote(zone)),
    })
}

/// How a GB regional document names its regions: `13 (London)`.
fn region_name(region: &Value) -> String {
    let id = region
        .get("regionid")
        .map_or_else(String::new, Value::to_string);
    let short = region
        .get("shortname")
        .and_then(Value::as_str)
        .unwrap_or("");
    quote(&format!("{id} ({short})"))
}

/// Whether `region` is the one the user named: its `regionid`, `shortname` or `dnoregion`.
fn is_region(region: &Value, name: &str) -> bool {
    let name = name.trim();
    let id = match region.get("regionid") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.trim().to_string(),
        _ => String::new(),
    };
    (!id.is_empty() && id == name)
        || ["shortname", "dnoregion"].iter().any(|k| {
            region
                .get(*k)
                .and_then(Value::as_str)
                .is_some_and(|s| s.eq_ignore_ascii_case(name))
        })
}

/// The region chosen among `regions` (the only one when none is named).
fn choose_region<'a>(
    regions: &[&'a Value],
    options: &ImportOptions,
    origin: &str,
) -> Result<(&'a Value, usize), GridError> {
    let choices = || {
        let all: Vec<String> = regions.iter().map(|r| region_name(r)).collect();
        quote(&all.join(", "))
    };
    match &options.column {
        Some(name) => regions
            .iter()
            .position(|r| is_region(r, name))
            .map(|i| (regions[i], i))
            .ok_or_else(|| GridError::Choose {
                origin: origin.into(),
                why: format!("no GB region `{}` in the document", quote(name)),
                choices: choices(),
            }),
        None if regions.len() == 1 => Ok((regions[0], 0)),
        None => Err(GridError::Choose {
            origin: origin.into(),
            why: format!(
                "a GB regional document with {} regions; name one (its id, short name or DNO \
                 region)",
                regions.len()
            ),
            choices: choices(),
        }),
    }
}

fn gb(
    obj: &Map<String, Value>,
    origin: &str,
    options: &ImportOptions,
) -> Result<Parsed, GridError> {
    let data = array(obj, "data", origin, SeriesFormat::Gb)?;
    let mut r = Reader::new(origin);
    let mut recs = Vec::with_capacity(data.len());
    let first = data.first();
    let what;
    if first.is_some_and(|f| f.get("regionid").is_some()) {
        // By region: {"data": [{"regionid", .., "data": [{from, to, intensity}]}]}.
        let regions: Vec<&Value> = data.iter().collect();
        let (region, i) = choose_region(&regions, options, origin)?;
        let inner = region
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| GridError::Shape {
                origin: origin.into(),
                why: format!("GB region data[{i}] has no `data` array"),
            })?;
        for (j, item) in inner.iter().enumerate() {
            let at = format!("data[{i}].data[{j}]");
            recs.push(gb_rec(&mut r, item, item, &at, "forecast")?);
        }
        what = format!(
            "GB Carbon Intensity API, region {}, forecast",
            region_name(region)
        );
    } else if first.is_some_and(|f| f.get("regions").is_some()) {
        // By time: {"data": [{from, to, "regions": [{regionid, .., intensity}]}]}.
        let mut name = None;
        for (i, slot) in data.iter().enumerate() {
            let regions: Vec<&Value> = slot
                .get("regions")
                .and_then(Value::as_array)
                .map(|a| a.iter().collect())
                .unwrap_or_default();
            if regions.is_empty() {
                return Err(r.err(&format!("data[{i}]"), "no `regions` array"));
            }
            let (region, j) = choose_region(&regions, options, origin)?;
            name.get_or_insert_with(|| region_name(region));
            let at = format!("data[{i}].regions[{j}]");
            recs.push(gb_rec(&mut r, slot, region, &at, "forecast")?);
        }
        what = format!(
            "GB Carbon Intensity API, region {}, forecast",
            name.unwrap_or_default()
        );
    } else {
        let column = options.column.as_deref().unwrap_or("forecast").trim();
        let column = match column.to_ascii_lowercase().as_str() {
            "forecast" => "forecast",
            "actual" => "actual",
            _ => {
                return Err(GridError::Choose {
                    origin: origin.into(),
                    why: format!("no GB national series `{}`", quote(column)),
                    choices: "forecast, actual".into(),
                })
            }
        };
        for (i, item) in data.iter().enumerate() {
            let at = format!("data[{i}]");
            recs.push(gb_rec(&mut r, item, item, &at, column)?);
        }
        what = format!("GB Carbon Intensity API, national, {column}");
    }
    Ok(Parsed {
        recs,
        signal: Signal::Average,
        last: None,
        what,
    })
}

/// One GB half-hour: `from`, `to` in `times`, `intensity.<column>` in `values`.
fn gb_rec(
    r: &mut Reader<'_>,
    times: &Value,
    values: &Value,
    at: &str,
    column: &str,
) -> Result<Rec, GridError> {
    let start = r.time(times, at, "from")?;
    let end = r.time(times, at, "to")?;
    let value = match values.get("intensity") {
        Some(i @ Value::Object(_)) => r.value(i, &format!("{at}.intensity"), column, 1.0)?,
        Some(Value::Null) | None => None,
        Some(_) => return Err(r.err(at, "`intensity` is not an object")),
    };
    Ok(Rec {
        at: at.into(),
        start,
        end: Some(end),
        value,
    })
}

fn watttime(
    obj: &Map<String, Value>,
    origin: &str,
    options: &ImportOptions,
) -> Result<Parsed, GridError> {
    no_column(options, origin, SeriesFormat::WattTime)?;
    let data = array(obj, "data", origin, SeriesFormat::WattTime)?;
    let shape = |why: String| GridError::Shape {
        origin: origin.into(),
        why,
    };
    let meta = obj
        .get("meta")
        .and_then(Value::as_object)
        .ok_or_else(|| shape("a watttime document needs its `meta` object (units)".into()))?;
    let units = meta.get("units").and_then(Value::as_str).unwrap_or("");
    let scale = match units {
        "lbs_co2_per_mwh" => KG_PER_LB,
        "" => return Err(shape("the watttime `meta` has no `units`".into())),
        other => {
            return Err(shape(format!(
                "watttime `meta.units` is `{}`, not lbs_co2_per_mwh: not a carbon intensity \
                 this importer converts",
                quote(other)
            )))
        }
    };
    let signal_type = meta
        .get("signal_type")
        .and_then(Value::as_str)
        .unwrap_or("co2_moer");
    let signal = match signal_type {
        "co2_moer" => Signal::Marginal,
        "co2_aoer" => Signal::Average,
        other => {
            return Err(shape(format!(
                "watttime `meta.signal_type` is `{}`; the importer reads co2_moer (marginal) \
                 and co2_aoer (average)",
                quote(other)
            )))
        }
    };
    let last = meta
        .get("data_point_period_seconds")
        .and_then(Value::as_f64)
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 366.0 * 86_400.0)
        .map(SignedDuration::from_secs_f64);
    let mut r = Reader::new(origin);
    let mut recs = Vec::with_capacity(data.len());
    for (i, item) in data.iter().enumerate() {
        let at = format!("data[{i}]");
        recs.push(Rec {
            start: r.time(item, &at, "point_time")?,
            end: None,
            value: r.value(item, &at, "value", scale)?,
            at,
        });
    }
    let region = meta.get("region").and_then(Value::as_str).unwrap_or("?");
    Ok(Parsed {
        recs,
        signal,
        last,
        what: format!(
            "WattTime {} {signal_type}, lb/MWh x {KG_PER_LB}",
            quote(region)
        ),
    })
}
