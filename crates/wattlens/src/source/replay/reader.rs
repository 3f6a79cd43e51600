//! Reading a trace back, one poll at a time, v1 or v2, every value checked.

mod header;

use super::lines::{self, Device, Line};
use super::{
    Header, TraceError, MAX_CPU_S, MAX_DEVICES, MAX_LINE_BYTES, MAX_MEM_GB, MAX_T, SKEW, SKEW_S,
    TRACE_SCHEMA, TRACE_SCHEMA_V1, TREE_SKEW, TREE_SKEW_S,
};
use crate::source::{DeviceId, Event, Part, Poll, Reading, Value};
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

/// One timed item of a trace: a reading or an event.
#[derive(Debug)]
enum Item {
    Reading(Reading),
    Event(f64, Event),
}

impl Item {
    fn t(&self) -> f64 {
        match self {
            Item::Reading(r) => r.t,
            Item::Event(t, _) => *t,
        }
    }
}

/// Reads a trace one poll at a time, in memory bounded by the longest line.
///
/// Checked: the file is a regular file; every line is at most [`MAX_LINE_BYTES`]; every line
/// is a reading with finite, non-negative, plausible values (`t`, CPU times, memory, the
/// header's CPU rating and interval; `power_w` finite and non-negative, a reading above its
/// part's ceiling being the pipeline's to refuse, as live); times never go backwards (so marks are in
/// order); and there is at least one reading. A last line without its newline is torn (the
/// writer ends every line with one, in the same `write` as the line): it is skipped, and with
/// it the rest of its poll when that poll's time can be read from it.
#[derive(Debug)]
pub struct TraceReader {
    path: PathBuf,
    reader: std::io::BufReader<std::fs::File>,
    header: Header,
    line: usize,
    buf: Vec<u8>,
    /// Whether the lines are v1's (a v1 header, or none).
    v1: bool,
    /// The devices a v2 trace declared, by number.
    devices: Vec<DeviceId>,
    pending: Option<Item>,
    last_t: f64,
    /// CPUs of the last machine reading.
    cpus: Option<u32>,
    /// Time and CPU time of the last reading of each watched tree (its `consumer`).
    last_tree: std::collections::BTreeMap<u32, (f64, f64)>,
    polls: usize,
    torn: bool,
    done: bool,
}

impl TraceReader {
    /// Opens a trace and reads its header.
    ///
    /// # Errors
    /// When the file is not a regular file, cannot be read, or its first line is neither a
    /// valid header nor a reading.
    pub fn open(path: &Path) -> Result<Self, TraceError> {
        let io = |source| TraceError::Io {
            path: path.to_path_buf(),
            source,
        };
        // Checked before opening: opening a FIFO would wait for a writer.
        if !std::fs::metadata(path).map_err(io)?.is_file() {
            return Err(TraceError::NotRegular {
                path: path.to_path_buf(),
            });
        }
        let file = std::fs::File::open(path).map_err(io)?;
        if !file.metadata().map_err(io)?.is_file() {
            return Err(TraceError::NotRegular {
                path: path.to_path_buf(),
            });
        }
        let mut r = Self {
            path: path.to_path_buf(),
            reader: std::io::BufReader::new(file),
            header: Header::default(),
            line: 0,
            buf: Vec::new(),
            v1: true,
            devices: Vec::new(),
            pending: None,
            last_t: 0.0,
            cpus: None,
            last_tree: std::collections::BTreeMap::new(),
            polls: 0,
            torn: false,
            done: false,
        };
        // The header, or (a trace without one) the first reading.
        while let Some(terminated) = r.next_line()? {
            let text = String::from_utf8_lossy(&r.buf).into_owned();
            if text.trim().is_empty() {
                continue;
            }
            if !terminated {
                r.torn_line(&text, &mut Vec::new());
                break;
            }
            let schema = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.get("schema")?.as_str().map(str::to_string));
            if let Some(schema) = schema.filter(|s| s.starts_with("wattlens.trace")) {
                if schema != TRACE_SCHEMA && schema != TRACE_SCHEMA_V1 {
                    return Err(r.error(format!(
                        "unsupported trace schema {schema}; this wattlens reads {} and {} \
                         (record the trace again with this wattlens)",
                        TRACE_SCHEMA_V1.trim_start_matches("wattlens.trace/"),
                        TRACE_SCHEMA.trim_start_matches("wattlens.trace/")
                    )));
                }
                r.v1 = schema == TRACE_SCHEMA_V1;
                // A key twice (`"tags": {"project": "a", "project": "b"}`) is refused, as
                // `--tag` refuses it (hostile round 6).
                crate::json_keys::check_unique_keys(&text)
                    .map_err(|e| r.error(format!("header: {e}")))?;
                let h = serde_json::from_str::<Header>(&text)
                    .map_err(|e| r.error(format!("header: {e}")))?;
                r.check_header(&h)?;
                r.header = h;
                break;
            }
            if text
                .trim_start()
                .starts_with("{\"schema\":\"wattlens.footprint")
                || text.trim() == "{"
            {
                return Err(r.error(
                    "this looks like a footprint JSON (the output of --json), not a trace; \
                     --replay reads a trace written by --record"
                        .into(),
                ));
            }
            if let Some(item) = r.parse(&text)? {
                r.pending = Some(item);
                break;
            }
        }
        Ok(r)
    }

    /// The header (default when the file has none).
    #[must_use]
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Whether a torn last line was skipped (so far).
    #[must_use]
    pub fn torn(&self) -> bool {
        self.torn
    }

    fn error(&self, message: String) -> TraceError {
        TraceError::Line {
            path: self.path.clone(),
            line: self.line,
            message,
        }
    }

    /// Reads the next line into `buf` (without its newline): `Some(true)` for a complete line,
    /// `Some(false)` for a last line without a newline, `None` at the end.
    fn next_line(&mut self) -> Result<Option<bool>, TraceError> {
        self.buf.clear();
        let limit = (MAX_LINE_BYTES + 1) as u64;
        let n = (&mut self.reader)
            .take(limit)
            .read_until(b'\n', &mut self.buf)
            .map_err(|source| TraceError::Io {
                path: self.path.clone(),
                source,
            })?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
            return Ok(Some(true));
        }
        if self.buf.len() > MAX_LINE_BYTES {
            return Err(self.error(format!(
                "a line longer than {MAX_LINE_BYTES} bytes; not a wattlens trace"
            )));
        }
        Ok(Some(false))
    }

    /// A line: a reading or an event, checked; `None` for a v2 device declaration.
    fn parse(&mut self, text: &str) -> Result<Option<Item>, TraceError> {
        let line = if self.v1 {
            lines::parse_v1(text)
        } else {
            lines::parse_v2(text)
        }
        .map_err(|e| self.error(format!("not a wattlens trace line: {e}")))?;
        let r = match line {
            Line::Declare(id, device) => {
                if usize::try_from(id).ok() != Some(self.devices.len()) {
                    return Err(self.error(format!(
                        "device {id} declared where device {} was expected (devices are \
                         numbered from 0 in order)",
                        self.devices.len()
                    )));
                }
                if let Some(first) = self.devices.iter().position(|d| *d == device) {
                    return Err(self.error(format!(
                        "device {device} is declared twice (indexes {first} and {id}); a trace \
                         declares each device once"
                    )));
                }
                if self.devices.len() >= MAX_DEVICES {
                    return Err(self.error(format!("more than {MAX_DEVICES} devices")));
                }
                self.devices.push(device);
                return Ok(None);
            }
            Line::Event(t, event) => {
                if !(t.is_finite() && (0.0..=MAX_T).contains(&t)) {
                    return Err(self.error(format!(
                        "t = {t} is impossible (it must be between 0 and {MAX_T})"
                    )));
                }
                self.check_t(t, matches!(event, Event::Mark { .. }))?;
                return Ok(Some(Item::Event(t, event)));
            }
            Line::Reading(t, device, value) => {
                let device = match device {
                    Device::Named(d) => d,
                    Device::Declared(d) => match self.devices.get(d as usize) {
                        Some(d) => d.clone(),
                        None => {
                            return Err(
                                self.error(format!("device {d} is read before it is declared"))
                            )
                        }
                    },
                };
                Reading { t, device, value }
            }
        };
        let range = |what: &str, v: f64, max: f64| -> Result<(), TraceError> {
            if v.is_finite() && (0.0..=max).contains(&v) {
                Ok(())
            } else {
                Err(self.error(format!(
                    "{what} = {v} is impossible (it must be between 0 and {max})"
                )))
            }
        };
        range("t", r.t, MAX_T)?;
        // A share outside 0..1 is refused as the line is parsed (`Value`'s `share_0_to_1`).
        if let Value::Counter {
            part,
            share: Some(_),
            ..
        }
        | Value::Power {
            part,
            share: Some(_),
            ..
        } = &r.value
        {
            if *part != Part::Gpu {
                return Err(self.error(
                    "share is a GPU's (the measured processes' part of its use): a CPU, DRAM or \
                     psys reading has none; remove it from this line"
                        .into(),
                ));
            }
        }
        match &r.value {
            // Above the part's ceiling is not refused here: the pipeline takes it as a missed
            // read with a note, as live, so that a run's own trace replays to its figures.
            Value::Power { power_w, .. } if !(power_w.is_finite() && *power_w >= 0.0) => {
                return Err(self.error(format!(
                    "power_w = {power_w} is impossible (a power reading is at least 0 W)"
                )));
            }
            Value::Counter {
                energy_uj, max_uj, ..
            } if energy_uj > max_uj => {
                return Err(self.error(format!(
                    "energy_uj = {energy_uj} is above max_uj = {max_uj}: a counter never \
                     exceeds its maximum (it wraps after it)"
                )));
            }
            Value::Machine {
                busy_s,
                total_s,
                cpus,
                mem_total_gb,
            } => {
                range("busy_s", *busy_s, MAX_CPU_S)?;
                range("total_s", *total_s, MAX_CPU_S)?;
                range("mem_total_gb", *mem_total_gb, MAX_MEM_GB)?;
                if *cpus == 0 {
                    return Err(self.error(
                        "cpus = 0 is impossible: a machine has at least one logical CPU".into(),
                    ));
                }
                // Both come from the same line of /proc/stat: busy time is part of the total.
                if *busy_s > *total_s * (1.0 + SKEW) + SKEW_S {
                    return Err(self.error(format!(
                        "busy_s = {busy_s} is more than total_s = {total_s}: busy CPU time is \
                         part of all CPU time"
                    )));
                }
                self.cpus = Some(*cpus);
            }
            Value::Tree {
                cpu_s,
                rss_gb,
                consumer,
                ..
            } => {
                range("cpu_s", *cpu_s, MAX_CPU_S)?;
                range("rss_gb", *rss_gb, MAX_MEM_GB)?;
                self.check_tree(r.t, *cpu_s, *consumer)?;
            }
            _ => {}
        }
        self.check_t(r.t, false)?;
        Ok(Some(Item::Reading(r)))
    }

    /// Times never go backwards (so marks are in order).
    fn check_t(&mut self, t: f64, mark: bool) -> Result<(), TraceError> {
        if t < self.last_t {
            let what = if mark {
                "a mark out of order"
            } else {
                "time goes backwards"
            };
            return Err(self.error(format!(
                "{what}: t = {t} after t = {} on an earlier line; a trace's times never decrease",
                self.last_t
            )));
        }
        self.last_t = t;
        Ok(())
    }

    /// A tree's CPU time never decreases (the sampler counts exited children and never goes
    /// back) and rises at most by the machine's CPUs x the time between its readings, within a
    /// tolerance for readings taken a moment after their poll's time and for clock ticks.
    fn check_tree(&mut self, t: f64, cpu_s: f64, consumer: u32) -> Result<(), TraceError> {
        if let Some(&(t0, c0)) = self.last_tree.get(&consumer) {
            if cpu_s < c0 - SKEW_S {
                return Err(self.error(format!(
                    "cpu_s = {cpu_s} after cpu_s = {c0} at t = {t0}: a process tree's CPU time \
                     never goes backwards (exited children's time stays counted)"
                )));
            }
            if let Some(cpus) = self.cpus {
                let max = f64::from(cpus) * ((t - t0) * (1.0 + TREE_SKEW) + TREE_SKEW_S);
                if cpu_s - c0 > max {
                    return Err(self.error(format!(
                        "cpu_s rises by {} s in {} s on {cpus} CPUs: more CPU time than the \
                         machine has (at most {cpus} x {} s)",
                        cpu_s - c0,
                        t - t0,
                        t - t0
                    )));
                }
            }
        }
        self.last_tree.insert(consumer, (t, cpu_s));
        Ok(())
    }

    /// A torn last line: skipped, and with it the readings of its poll so far when its time
    /// can be read (`{"t":2.5,...`).
    fn torn_line(&mut self, text: &str, poll: &mut Vec<Item>) {
        self.torn = true;
        let t = text
            .trim_start()
            .strip_prefix("{\"t\":")
            .and_then(|rest| rest.split_once(','))
            .and_then(|(t, _)| t.parse::<f64>().ok());
        if t.is_some() && poll.first().map(Item::t) == t {
            poll.clear();
        }
    }

    /// The next poll: the readings and events with the next time, in file order.
    ///
    /// # Errors
    /// A line that is not a valid reading, with its number; a file without readings.
    pub fn next_poll(&mut self) -> Result<Option<Poll>, TraceError> {
        let mut poll: Vec<Item> = self.pending.take().into_iter().collect();
        while !self.done {
            let Some(terminated) = self.next_line()? else {
                self.done = true;
                break;
            };
            let text = String::from_utf8_lossy(&self.buf).into_owned();
            if text.trim().is_empty() {
                continue;
            }
            if !terminated {
                self.torn_line(&text, &mut poll);
                self.done = true;
                break;
            }
            let Some(r) = self.parse(&text)? else {
                continue;
            };
            if poll.first().is_some_and(|p| p.t() != r.t()) {
                self.pending = Some(r);
                self.polls += 1;
                return Ok(Some(gather(poll)));
            }
            if let Some(d) = read_twice(&poll, &r) {
                return Err(self.error(format!(
                    "a second reading of {d} at t = {}: a poll reads each device once",
                    r.t()
                )));
            }
            poll.push(r);
        }
        if poll.is_empty() {
            if self.polls == 0 {
                return Err(TraceError::Empty {
                    path: self.path.clone(),
                });
            }
            return Ok(None);
        }
        self.polls += 1;
        Ok(Some(gather(poll)))
    }
}

/// The device of `r` when the poll so far already has a reading of it (a process tree is one
/// device per watched tree, its `consumer`).
fn read_twice(poll: &[Item], r: &Item) -> Option<DeviceId> {
    let key = |r: &Reading| {
        let consumer = match r.value {
            Value::Tree { consumer, .. } => Some(consumer),
            _ => None,
        };
        (r.device.clone(), consumer)
    };
    let Item::Reading(r) = r else { return None };
    let k = key(r);
    poll.iter()
        .any(|p| matches!(p, Item::Reading(p) if key(p) == k))
        .then(|| r.device.clone())
}

/// The items of one poll as a [`Poll`] (they share one time).
fn gather(items: Vec<Item>) -> Poll {
    let mut p = Poll {
        t: items.first().map_or(0.0, Item::t),
        ..Poll::default()
    };
    for i in items {
        match i {
            Item::Reading(r) => p.readings.push(r),
            Item::Event(_, e) => p.events.push(e),
        }
    }
    p
}
