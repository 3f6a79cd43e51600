//! The line formats of a trace after its header, v2 (written) and v1 (read): what a line is
//! ([`Line`]) and how each version spells it.
//!
//! v2 declares each device once, before its first reading, and refers to it by number; control
//! events are records of their own:
//!
//! ```text
//! {"declare":0,"source":"rapl","device":"package-0"}
//! {"t":0.0,"d":0,"kind":"counter","part":"cpu","energy_uj":1000,"max_uj":262143328850}
//! {"t":3.0,"event":"mark","text":"begin epoch-1"}
//! {"t":9.0,"event":"exit","code":0}
//! ```
//!
//! v1 spelled the device on every line (`"source":"rapl","device":"package-0"`) and wrote the
//! events as readings of `child` (`"kind":"mark"`, `"kind":"exit"`).

use crate::source::{DeviceId, Event, SourceKind, Value};
use serde::{Deserialize, Serialize};

/// One line of a trace after its header.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Line {
    /// A device named for the readings that follow (v2).
    Declare(u32, DeviceId),
    /// A reading of a device: its time, the device (a v2 number or a v1 identity) and value.
    Reading(f64, Device, Value),
    /// A control event at a time.
    Event(f64, Event),
}

/// The device of a reading line.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Device {
    /// Declared earlier under this number (v2).
    Declared(u32),
    /// Spelled out on the line (v1).
    Named(DeviceId),
}

/// A v2 device declaration.
#[derive(Serialize, Deserialize)]
struct Declare<'a> {
    declare: u32,
    source: &'a str,
    device: &'a str,
}

/// A v2 reading.
#[derive(Serialize, Deserialize)]
struct ReadingV2<V> {
    t: f64,
    d: u32,
    #[serde(flatten)]
    value: V,
}

/// A v2 event.
#[derive(Serialize, Deserialize)]
struct EventV2<E> {
    t: f64,
    #[serde(flatten)]
    event: E,
}

/// A v1 reading.
#[derive(Deserialize)]
struct ReadingV1 {
    t: f64,
    source: String,
    device: String,
    #[serde(flatten)]
    value: Value,
}

/// A v1 event, written as a reading of `child`.
#[derive(Deserialize)]
struct EventV1 {
    t: f64,
    #[serde(flatten)]
    event: KindV1,
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum KindV1 {
    Exit { code: i32 },
    Mark { text: String },
}

/// The v2 declaration line of device `id` (without its newline).
pub(crate) fn declare(id: u32, device: &DeviceId) -> String {
    serde_json::to_string(&Declare {
        declare: id,
        source: device.source.as_str(),
        device: &device.name,
    })
    .unwrap_or_default()
}

/// The v2 line of a reading of device number `d`.
pub(crate) fn reading(t: f64, d: u32, value: &Value) -> String {
    serde_json::to_string(&ReadingV2 { t, d, value }).unwrap_or_default()
}

/// The v2 line of an event.
pub(crate) fn event(t: f64, event: &Event) -> String {
    serde_json::to_string(&EventV2 { t, event }).unwrap_or_default()
}

/// Parses a v2 line. A JSON string never holds an unescaped quote, so a line with the key
/// `"declare"` or `"event"` is that record; any other is a reading.
pub(crate) fn parse_v2(text: &str) -> Result<Line, serde_json::Error> {
    if text.contains("\"declare\"") {
        let d: Declare<'_> = serde_json::from_str(text)?;
        Ok(Line::Declare(
            d.declare,
            DeviceId::new(SourceKind::parse(d.source), d.device),
        ))
    } else if text.contains("\"event\"") {
        let e: EventV2<Event> = serde_json::from_str(text)?;
        Ok(Line::Event(e.t, e.event))
    } else {
        let r: ReadingV2<Value> = serde_json::from_str(text)?;
        Ok(Line::Reading(r.t, Device::Declared(r.d), r.value))
    }
}

/// Parses a v1 line: a reading, or an event written as one (its error is the reading's when
/// it is neither).
pub(crate) fn parse_v1(text: &str) -> Result<Line, serde_json::Error> {
    match serde_json::from_str::<ReadingV1>(text) {
        Ok(r) => Ok(Line::Reading(
            r.t,
            Device::Named(DeviceId::new(SourceKind::parse(&r.source), r.device)),
            r.value,
        )),
        Err(e) => match serde_json::from_str::<EventV1>(text) {
            Ok(ev) => Ok(Line::Event(
                ev.t,
                match ev.event {
                    KindV1::Exit { code } => Event::Exit { code },
                    KindV1::Mark { text } => Event::Mark { text },
                },
            )),
            Err(_) => Err(e),
        },
    }
}
