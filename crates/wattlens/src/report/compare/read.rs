//! Reading the footprint to compare with: the checks that name the file and the key at fault
//! (schema, currency, each figure's P5/P50/P95, each component's energy), then the typed
//! [`Report`] (its `Deserialize`).

use super::CompareError;
use crate::figure::Figure;
use crate::result::{Report, SCHEMA};
use crate::uncertainty::Percentiles;
use serde::Deserialize;
use serde_json::Value;

/// Reads the footprint JSON `v` of the file `source` as a [`Report`].
///
/// # Errors
/// [`CompareError::Schema`] when `v` is not a `wattlens.footprint/v1` object,
/// [`CompareError::Invalid`] naming the key of a figure that is not P5/P50/P95 of finite,
/// non-negative, ordered numbers (or a currency that is not text), [`CompareError::Nothing`]
/// when it has no figure at all, [`CompareError::Unreadable`] when the rest cannot be read.
pub fn read(v: &Value, source: &str) -> Result<Report, CompareError> {
    let schema = v.get("schema").and_then(Value::as_str);
    if schema != Some(SCHEMA) {
        return Err(CompareError::Schema(
            source.into(),
            schema.map_or_else(|| "missing".into(), |s| format!("{s:?}")),
        ));
    }
    match v.get("cost").and_then(|c| c.get("currency")) {
        None | Some(Value::Null | Value::String(_)) => {}
        Some(x) => {
            return Err(CompareError::Invalid {
                file: source.into(),
                key: "cost.currency".into(),
                message: format!("is {x}, not a currency code"),
            })
        }
    }
    let mut any = false;
    for f in Figure::table() {
        if let Some(x) = v.get(f.key()) {
            any |= percentiles(x, source, f.key())?.is_some();
        }
    }
    for (i, c) in v
        .get("components")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if let Some(x) = c.get("energy_kwh") {
            percentiles(x, source, &format!("components[{i}].energy_kwh"))?;
        }
    }
    if !any {
        return Err(CompareError::Nothing(source.into()));
    }
    Report::deserialize(v).map_err(|e| CompareError::Unreadable(source.into(), e.to_string()))
}

/// A figure of the other file, checked: an object whose `p5`, `p50` and `p95` are finite,
/// non-negative numbers with `p5 <= p50 <= p95`. `null` counts as absent.
fn percentiles(v: &Value, file: &str, key: &str) -> Result<Option<Percentiles>, CompareError> {
    let bad = |message: String| CompareError::Invalid {
        file: file.to_string(),
        key: key.to_string(),
        message,
    };
    if v.is_null() {
        return Ok(None);
    }
    let Some(obj) = v.as_object() else {
        return Err(bad(format!("is {v}, not an object with p5, p50 and p95")));
    };
    let get = |p: &str| -> Result<f64, CompareError> {
        let x = obj.get(p).ok_or_else(|| bad(format!("has no {p}")))?;
        let n = x
            .as_f64()
            .filter(|n| x.is_number() && n.is_finite())
            .ok_or_else(|| bad(format!(".{p} is {x}, not a number")))?;
        if n < 0.0 {
            return Err(bad(format!(".{p} is {n}, below 0")));
        }
        Ok(n)
    };
    let (p5, p50, p95) = (get("p5")?, get("p50")?, get("p95")?);
    if !(p5 <= p50 && p50 <= p95) {
        return Err(bad(format!(
            "is not ordered: p5 {p5}, p50 {p50}, p95 {p95} (need p5 <= p50 <= p95)"
        )));
    }
    Ok(Some(Percentiles { p5, p50, p95 }))
}
