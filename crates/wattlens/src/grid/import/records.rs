//! Provider records to intervals: the checks every JSON importer shares (times in one offset,
//! strictly increasing, no repeats or overlaps; values finite, non-negative and bounded), each
//! error naming the file and the record.

use super::{quote, MAX_G_PER_KWH};
use crate::grid::series::{at_ns, ns};
use crate::grid::{GridError, Interval};
use crate::units::GramsPerKwh;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

/// One record as read: where it is, its time (or interval) and its value in g/kWh (`None`: a
/// gap).
#[derive(Clone, Debug)]
pub(super) struct Rec {
    /// A JSON path (`history[3]`).
    pub at: String,
    pub start: Timestamp,
    pub end: Option<Timestamp>,
    pub value: Option<f64>,
}

/// Reads the records of one document, naming errors by file and record.
pub(super) struct Reader<'a> {
    pub origin: &'a str,
    /// The offset of the first time read (`Z` and `+00:00` are one), which every other must
    /// share: a provider writes one offset.
    offset: Option<(String, String)>,
    /// Times without an offset are UTC (Energinet's `Minutes5UTC`, `HourUTC`).
    pub naive_utc: bool,
}

impl<'a> Reader<'a> {
    pub fn new(origin: &'a str) -> Self {
        Self {
            origin,
            offset: None,
            naive_utc: false,
        }
    }

    pub fn err(&self, at: &str, why: impl Into<String>) -> GridError {
        GridError::Record {
            origin: self.origin.into(),
            record: at.into(),
            why: why.into(),
        }
    }

    /// The time in field `key` of `item` (at `at`), in UTC.
    pub fn time(&mut self, item: &Value, at: &str, key: &str) -> Result<Timestamp, GridError> {
        let text = match item.get(key) {
            Some(Value::String(s)) => s.trim(),
            Some(other) => {
                return Err(self.err(
                    at,
                    format!("`{key}` is {}, not a time", quote(&other.to_string())),
                ))
            }
            None => return Err(self.err(at, format!("no `{key}` time"))),
        };
        let bad = |why: String| format!("cannot read `{key}` `{}` as a time ({why})", quote(text));
        if leap_second(text) {
            return Err(self.err(at, bad("a leap second (:60)".into())));
        }
        let t = match parse_time(text) {
            Ok(t) => t,
            Err(e) if self.naive_utc => text
                .parse::<jiff::civil::DateTime>()
                .ok()
                .and_then(|d| jiff::tz::Offset::UTC.to_timestamp(d).ok())
                .ok_or_else(|| self.err(at, bad(e)))?,
            Err(e) => return Err(self.err(at, bad(e))),
        };
        let offset = offset_of(text).unwrap_or_else(|| "+00:00".into());
        match &self.offset {
            None => self.offset = Some((offset, at.to_string())),
            Some((first, first_at)) if *first != offset => {
                return Err(self.err(
                    at,
                    format!(
                        "`{key}` `{}` has the offset {offset}, but record {first_at} has \
                         {first}; a provider writes every time in one offset (UTC), so mixed \
                         offsets mean an edited or merged file",
                        quote(text)
                    ),
                ))
            }
            Some(_) => {}
        }
        Ok(t)
    }

    /// The value in field `key` of `item` times `scale` (a unit conversion), g/kWh; `null` or
    /// missing is a gap.
    pub fn value(
        &self,
        item: &Value,
        at: &str,
        key: &str,
        scale: f64,
    ) -> Result<Option<f64>, GridError> {
        let v = match item.get(key) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Number(n)) => n.as_f64(),
            Some(other) => {
                return Err(self.err(
                    at,
                    format!(
                        "`{key}` is {}, not a number; a missing value is `null`",
                        quote(&other.to_string())
                    ),
                ))
            }
        };
        let g = v.map(|v| v * scale);
        match g {
            Some(g) if g.is_finite() && (0.0..=MAX_G_PER_KWH).contains(&g) => Ok(Some(g)),
            Some(g) if g.is_finite() && g > 0.0 => Err(self.err(
                at,
                format!(
                    "`{key}` {} is above 100,000 g/kWh, beyond any grid: is the unit right?",
                    fmt(g)
                ),
            )),
            Some(g) if g.is_finite() => {
                Err(self.err(at, format!("`{key}` {} is negative", fmt(v.unwrap_or(g)))))
            }
            _ => Err(self.err(at, format!("`{key}` is not a finite number"))),
        }
    }
}

fn fmt(v: f64) -> String {
    crate::uncertainty::fmt_num(v)
}

/// An RFC 3339 time; `HH:MMZ` without seconds (as the GB API writes) is read as `HH:MM:00Z`.
fn parse_time(text: &str) -> Result<Timestamp, String> {
    match text.parse::<Timestamp>() {
        Ok(t) => Ok(t),
        Err(e) => {
            let b = text.as_bytes();
            // `2023-01-01T00:30Z` / `...T00:30+01:00`: insert `:00` after the minutes.
            if b.len() > 16 && b[13] == b':' && !b[16].is_ascii_digit() && b[16] != b':' {
                // Found by the fuzzer: byte 16 may sit inside a multi-byte character.
                if let (Some(head), Some(tail)) = (text.get(..16), text.get(16..)) {
                    if let Ok(t) = format!("{head}:00{tail}").parse::<Timestamp>() {
                        return Ok(t);
                    }
                }
            }
            Err(e.to_string())
        }
    }
}

/// Whether an RFC 3339 time has `60` as its seconds.
fn leap_second(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 19 && b[13] == b':' && b[16] == b':' && &b[17..19] == b"60"
}

/// The offset written at the end of a time, normalised (`Z`, `+00:00`, `-00:00` are
/// `+00:00`); `None` without one.
fn offset_of(text: &str) -> Option<String> {
    if text.ends_with(['Z', 'z']) {
        return Some("+00:00".into());
    }
    let i = text.rfind(['+', '-'])?;
    if i <= 10 {
        return None;
    }
    let off = text[i..].replace(':', "");
    Some(match off.as_str() {
        "+0000" | "-0000" | "+00" | "-00" => "+00:00".into(),
        _ => text[i..].to_string(),
    })
}

/// Records to intervals. Point records (`end` `None`) hold until the next record (in a regular
/// series at most one median step: a missing record is a gap); the last for
/// `last` (the provider's stated period) or the median step. Interval records keep their own
/// ends; time between two is a gap. Records without a value are gaps.
pub(super) fn intervals(
    origin: &str,
    recs: &[Rec],
    last: Option<SignedDuration>,
) -> Result<Vec<Interval>, GridError> {
    let err = |r: &Rec, why: String| GridError::Record {
        origin: origin.into(),
        record: r.at.clone(),
        why,
    };
    if recs.is_empty() {
        return Err(GridError::TooFewRows {
            origin: origin.into(),
            why: "the document holds no records; give one with at least one time and value",
        });
    }
    for w in recs.windows(2) {
        let (p, r) = (&w[0], &w[1]);
        let p_end = p.end.unwrap_or(p.start);
        if r.start == p.start {
            return Err(err(
                r,
                format!(
                    "the time {} repeats record {}; remove the duplicate",
                    r.start, p.at
                ),
            ));
        }
        if r.start < p.start {
            return Err(err(
                r,
                format!(
                    "the time {} is earlier than record {}'s {}; the records must be in time \
                     order",
                    r.start, p.at, p.start
                ),
            ));
        }
        if r.start < p_end {
            return Err(err(
                r,
                format!(
                    "{}..{} overlaps record {}'s {}..{p_end}",
                    r.start,
                    r.end.unwrap_or(r.start),
                    p.at,
                    p.start
                ),
            ));
        }
    }
    let median = || {
        let mut steps: Vec<i128> = recs
            .windows(2)
            .map(|w| ns(w[1].start) - ns(w[0].start))
            .collect();
        steps.sort_unstable();
        let mid = steps.len() / 2;
        match steps.len() {
            0 => None,
            n if n % 2 == 1 => Some(steps[mid]),
            _ => Some((steps[mid - 1] + steps[mid]) / 2),
        }
    };
    // Point records in a regular series: a missing record is a gap (`super::held`).
    let in_order: Vec<i128> = recs
        .windows(2)
        .map(|w| ns(w[1].start) - ns(w[0].start))
        .collect();
    let all_points = recs.iter().all(|r| r.end.is_none());
    let regular = all_points && median().is_some_and(|m| super::is_regular(&in_order, m));
    let mut out = Vec::with_capacity(recs.len());
    for (i, r) in recs.iter().enumerate() {
        let end = match (r.end, recs.get(i + 1)) {
            (Some(end), _) => {
                if end <= r.start {
                    return Err(err(
                        r,
                        format!(
                            "the interval {}..{end} is empty or reversed; `to` must be after \
                             `from`",
                            r.start
                        ),
                    ));
                }
                end
            }
            (None, Some(next)) => {
                let held = super::held(&in_order, i, regular);
                if held == in_order[i] {
                    next.start
                } else {
                    at_ns(ns(r.start) + held, || {
                        format!("{origin}: the end of record {}", r.at)
                    })?
                }
            }
            (None, None) => {
                let step = match last {
                    Some(d) => Some(d.as_nanos()),
                    None => median(),
                };
                let Some(step) = step else {
                    return Err(GridError::TooFewRows {
                        origin: origin.into(),
                        why: "one point record does not say how long its value holds; give \
                              at least two records",
                    });
                };
                at_ns(ns(r.start) + step, || {
                    format!("{origin}: the end of the last record ({})", r.at)
                })?
            }
        };
        if let Some(v) = r.value {
            out.push(Interval::new(r.start, end, GramsPerKwh(v)));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_without_seconds_and_offsets() {
        let t = |s: &str| parse_time(s).expect(s);
        assert_eq!(
            t("2023-01-01T00:30Z"),
            "2023-01-01T00:30:00Z".parse::<Timestamp>().expect("ts")
        );
        assert_eq!(
            t("2023-01-01T01:30+01:00"),
            "2023-01-01T00:30:00Z".parse::<Timestamp>().expect("ts")
        );
        assert_eq!(
            offset_of("2024-03-04T00:00:00.000Z").as_deref(),
            Some("+00:00")
        );
        assert_eq!(
            offset_of("2024-03-04T00:00:00+00:00").as_deref(),
            Some("+00:00")
        );
        assert_eq!(
            offset_of("2024-03-04T00:00:00+01:00").as_deref(),
            Some("+01:00")
        );
        assert_eq!(offset_of("2024-03-04T00:00:00"), None);
        assert!(parse_time("2024-03-04").is_err());
        // A multi-byte character across the minutes is an error, not a panic.
        assert!(parse_time("2023-01-01T02:3\u{fffd}Z").is_err());
    }
}
