//! Recorded traces: `--record FILE` writes every raw reading as one JSON line, after a header
//! line; `--replay FILE` feeds them back through the same pipeline. Each poll's lines are
//! written with one `write` call as soon as they are read, so a wattlens killed with SIGKILL
//! leaves every complete poll on disk; a torn last line is skipped on replay.
//!
//! ```text
//! {"schema":"wattlens.trace/v1","started_unix_s":1763776800.0,"interval_s":1.0,"command":["python","train.py"],"tags":{}}
//! {"t":0.0,"source":"rapl","device":"package-0","kind":"counter","part":"cpu","energy_uj":1000,"max_uj":262143328850}
//! {"t":0.0,"source":"procfs","device":"machine","kind":"machine","busy_s":59.2,"total_s":9289.3,"cpus":4,"mem_total_gb":16.4}
//! ```

use super::{Reading, Value};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};

/// The schema id of a trace's header line.
pub const TRACE_SCHEMA: &str = "wattlens.trace/v1";

/// The longest trace line read, in bytes (a reading is a few hundred; a mark line at most
/// [`crate::measure::MAX_MARK_BYTES`]): a longer one is an error, so that an endless line (a
/// device, a file of zeros) cannot exhaust memory.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Largest time in a trace, s (about 32 years).
const MAX_T: f64 = 1e9;
/// Largest power of one device, W.
const MAX_POWER_W: f64 = 1e6;
/// Largest cumulative CPU time, s.
const MAX_CPU_S: f64 = 1e13;
/// Largest memory, GB.
const MAX_MEM_GB: f64 = 1e7;
/// Smallest and largest CPU rating of a whole machine, W (`--cpu-tdp` and a trace's header).
pub const MIN_CPU_TDP_W: f64 = 1.0;
/// See [`MIN_CPU_TDP_W`].
pub const MAX_CPU_TDP_W: f64 = 1e5;
/// Shortest and longest sampling interval, s (`--interval`).
const MIN_INTERVAL_S: f64 = 0.01;
const MAX_INTERVAL_S: f64 = 3600.0;
/// Relative and absolute slack of CPU-time comparisons (rounding, clock ticks of 10 ms).
const SKEW: f64 = 1e-6;
const SKEW_S: f64 = 0.05;
/// A tree's CPU time is read a moment after its poll's time: slack of its rate check, relative
/// to the interval and absolute (per CPU), s.
const TREE_SKEW: f64 = 0.25;
const TREE_SKEW_S: f64 = 0.5;

/// The first line of a trace.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// [`TRACE_SCHEMA`].
    pub schema: String,
    /// Wall-clock start, seconds since the Unix epoch.
    pub started_unix_s: f64,
    /// Sampling interval, s.
    pub interval_s: f64,
    /// The measured command: its program only, unless `--record-command` asked for the whole
    /// command line (empty for `--pid`).
    #[serde(default)]
    pub command: Vec<String>,
    /// `--tag key=value` labels.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The CPU rating used for the modelled CPU, W, when one was known (so that a replay on
    /// another machine models the same CPU).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_tdp_w: Option<f64>,
    /// The host the trace was recorded on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The wattlens version that recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wattlens_version: Option<String>,
    /// How the recording run accounted: the replay's defaults (absent in traces of wattlens
    /// 0.1 before they were recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<Settings>,
}

/// Every setting of the recording run that changes the footprint, beside the CPU rating.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// `--charge`: `machine` or `processes`.
    pub charge: String,
    /// CPU power per logical CPU when the rating is not known, W.
    pub cpu_w_per_thread: f64,
    /// DRAM power per GB, W.
    pub dram_w_per_gb: f64,
    /// Rest of the server per unit of the measured components, `[low, high]`.
    pub rest_share: [f64; 2],
    /// `--server`, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// The site flags in effect (`grid`, `pue`, ...: flag name without `--`, value as given,
    /// the config file's included).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub site: BTreeMap<String, String>,
}

/// Errors of reading or writing a trace, naming the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TraceError {
    /// The file could not be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        /// The trace.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A line is not a reading, or an impossible one.
    #[error("{path}:{line}: {message}")]
    Line {
        /// The trace.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Not a regular file.
    #[error("{path}: not a regular file (a pipe, a device or a folder); --replay reads a trace file written by --record")]
    NotRegular {
        /// The path.
        path: PathBuf,
    },
    /// No readings at all.
    #[error("{path}: no readings (an empty trace is not a run); --replay reads a trace written by --record")]
    Empty {
        /// The trace.
        path: PathBuf,
    },
}

/// Writes a trace.
pub struct TraceWriter {
    path: PathBuf,
    file: Box<dyn Write + Send>,
    buf: String,
}

impl std::fmt::Debug for TraceWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceWriter")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl TraceWriter {
    /// Creates (truncates) `path`, readable by its owner only (0600: a trace names the command
    /// and the host), and writes the header.
    ///
    /// # Errors
    /// When the file cannot be created or written.
    pub fn create(path: &Path, header: &Header) -> Result<Self, TraceError> {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let io = |source| TraceError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)
            .map_err(io)?;
        // An existing file keeps its mode on open: narrow it too (a regular file only).
        if file.metadata().map_err(io)?.is_file() {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(io)?;
        }
        Self::create_on(path, Box::new(file), header)
    }

    /// Writes the header to `sink`, which stands for `path` (named in errors): a pipe or a
    /// device that the caller writes without blocking (wattlens' `--record` onto a FIFO).
    ///
    /// # Errors
    /// When the header cannot be written.
    pub fn create_on(
        path: &Path,
        sink: Box<dyn Write + Send>,
        header: &Header,
    ) -> Result<Self, TraceError> {
        let mut w = Self {
            path: path.to_path_buf(),
            file: sink,
            buf: String::new(),
        };
        let line = serde_json::to_string(header).unwrap_or_default();
        w.buf.push_str(&line);
        w.buf.push('\n');
        w.flush()?;
        Ok(w)
    }

    /// Writes one poll's readings, at once.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn write(&mut self, readings: &[Reading]) -> Result<(), TraceError> {
        for r in readings {
            if let Ok(line) = serde_json::to_string(r) {
                self.buf.push_str(&line);
                self.buf.push('\n');
            }
        }
        self.flush()
    }

    fn flush(&mut self) -> Result<(), TraceError> {
        let r = self.file.write_all(self.buf.as_bytes());
        self.buf.clear();
        r.map_err(|source| TraceError::Io {
            path: self.path.clone(),
            source,
        })
    }
}

/// A trace read back whole: the header and the readings grouped by poll (equal `t`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Trace {
    /// The header (default when the file has none).
    pub header: Header,
    /// Polls in order.
    pub polls: Vec<Vec<Reading>>,
    /// Whether a torn last line was skipped (the recording wattlens was killed mid-write).
    pub torn: bool,
}

/// Reads a whole trace (see [`TraceReader`] for what is checked).
///
/// # Errors
/// As [`TraceReader::open`] and [`TraceReader::next_poll`].
pub fn read(path: &Path) -> Result<Trace, TraceError> {
    let mut r = TraceReader::open(path)?;
    let mut polls = Vec::new();
    while let Some(p) = r.next_poll()? {
        polls.push(p);
    }
    Ok(Trace {
        header: r.header().clone(),
        polls,
        torn: r.torn(),
    })
}

/// Reads a trace one poll at a time, in memory bounded by the longest line.
///
/// Checked: the file is a regular file; every line is at most [`MAX_LINE_BYTES`]; every line
/// is a reading with finite, non-negative, plausible values (`t`, `power_w`, CPU times,
/// memory, the header's CPU rating and interval); times never go backwards (so marks are in
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
    pending: Option<Reading>,
    last_t: f64,
    /// CPUs of the last machine reading.
    cpus: Option<u32>,
    /// Time and CPU time of the last tree reading.
    last_tree: Option<(f64, f64)>,
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
            pending: None,
            last_t: 0.0,
            cpus: None,
            last_tree: None,
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
                if schema != TRACE_SCHEMA {
                    return Err(r.error(format!(
                        "unsupported trace schema {schema}; this wattlens reads {} \
                         (record the trace again with this wattlens)",
                        TRACE_SCHEMA.trim_start_matches("wattlens.trace/")
                    )));
                }
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
            let reading = r.parse(&text)?;
            r.pending = Some(reading);
            break;
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

    fn check_header(&self, h: &Header) -> Result<(), TraceError> {
        let bad = |what: &str, v: f64, ok: bool, want: &str| {
            (!ok).then(|| self.error(format!("header: {what} = {v} is impossible; {want}")))
        };
        let checks = [
            bad(
                "started_unix_s",
                h.started_unix_s,
                h.started_unix_s.is_finite() && h.started_unix_s.abs() < 1e12,
                "a Unix time in seconds",
            ),
            bad(
                "interval_s",
                h.interval_s,
                h.interval_s.is_finite()
                    && (MIN_INTERVAL_S..=MAX_INTERVAL_S).contains(&h.interval_s),
                &format!(
                    "--interval records from {} to {} s",
                    crate::uncertainty::fmt_input(MIN_INTERVAL_S),
                    crate::uncertainty::fmt_input(MAX_INTERVAL_S)
                ),
            ),
            h.cpu_tdp_w.and_then(|w| {
                bad(
                    "cpu_tdp_w",
                    w,
                    w.is_finite() && (MIN_CPU_TDP_W..=MAX_CPU_TDP_W).contains(&w),
                    &format!(
                        "a CPU rating is from {} to {} W (as --cpu-tdp)",
                        crate::uncertainty::fmt_input(MIN_CPU_TDP_W),
                        crate::uncertainty::fmt_input(MAX_CPU_TDP_W)
                    ),
                )
            }),
        ];
        if let Some(e) = checks.into_iter().flatten().next() {
            return Err(e);
        }
        if let Some(s) = &h.settings {
            use crate::catalog::coefficient_bounds;
            for (field, key, v) in [
                (
                    "settings.cpu_w_per_thread",
                    "cpu.w_per_thread",
                    s.cpu_w_per_thread,
                ),
                ("settings.dram_w_per_gb", "dram.w_per_gb", s.dram_w_per_gb),
                ("settings.rest_share[0]", "rest.share", s.rest_share[0]),
                ("settings.rest_share[1]", "rest.share", s.rest_share[1]),
            ] {
                let b = coefficient_bounds(key);
                if !b.admits(v) {
                    return Err(self.error(format!(
                        "header: {field} = {v} is impossible; the catalog's {key} must be {}",
                        b.describe()
                    )));
                }
            }
            if s.rest_share[0] > s.rest_share[1] {
                return Err(self.error(format!(
                    "header: settings.rest_share = [{}, {}] has its low above its high",
                    s.rest_share[0], s.rest_share[1]
                )));
            }
            if !matches!(s.charge.as_str(), "machine" | "processes") {
                return Err(self.error(format!(
                    "header: settings.charge = {:?} is not \"machine\" or \"processes\"",
                    s.charge
                )));
            }
        }
        Ok(())
    }

    /// A reading, checked.
    fn parse(&mut self, text: &str) -> Result<Reading, TraceError> {
        let r: Reading = serde_json::from_str(text)
            .map_err(|e| self.error(format!("not a wattlens trace line: {e}")))?;
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
        match &r.value {
            Value::Power { power_w, .. } => range("power_w", *power_w, MAX_POWER_W)?,
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
            Value::Tree { cpu_s, rss_gb, .. } => {
                range("cpu_s", *cpu_s, MAX_CPU_S)?;
                range("rss_gb", *rss_gb, MAX_MEM_GB)?;
                self.check_tree(r.t, *cpu_s)?;
            }
            Value::Counter { .. }
            | Value::Missed { .. }
            | Value::Dropped { .. }
            | Value::Exit { .. }
            | Value::Mark { .. } => {}
        }
        if r.t < self.last_t {
            let what = if matches!(r.value, Value::Mark { .. }) {
                "a mark out of order"
            } else {
                "time goes backwards"
            };
            return Err(self.error(format!(
                "{what}: t = {} after t = {} on an earlier line; a trace's times never decrease",
                r.t, self.last_t
            )));
        }
        self.last_t = r.t;
        Ok(r)
    }

    /// A tree's CPU time never decreases (the sampler counts exited children and never goes
    /// back) and rises at most by the machine's CPUs x the time between its readings, within a
    /// tolerance for readings taken a moment after their poll's time and for clock ticks.
    fn check_tree(&mut self, t: f64, cpu_s: f64) -> Result<(), TraceError> {
        if let Some((t0, c0)) = self.last_tree {
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
        self.last_tree = Some((t, cpu_s));
        Ok(())
    }

    /// A torn last line: skipped, and with it the readings of its poll so far when its time
    /// can be read (`{"t":2.5,...`).
    fn torn_line(&mut self, text: &str, poll: &mut Vec<Reading>) {
        self.torn = true;
        let t = text
            .trim_start()
            .strip_prefix("{\"t\":")
            .and_then(|rest| rest.split_once(','))
            .and_then(|(t, _)| t.parse::<f64>().ok());
        if t.is_some() && poll.first().map(|r| r.t) == t {
            poll.clear();
        }
    }

    /// The next poll: the readings with the next time, in file order.
    ///
    /// # Errors
    /// A line that is not a valid reading, with its number; a file without readings.
    pub fn next_poll(&mut self) -> Result<Option<Vec<Reading>>, TraceError> {
        let mut poll: Vec<Reading> = self.pending.take().into_iter().collect();
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
            let r = self.parse(&text)?;
            if poll.first().is_some_and(|p| p.t != r.t) {
                self.pending = Some(r);
                self.polls += 1;
                return Ok(Some(poll));
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
        Ok(Some(poll))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Part, Value};

    #[test]
    fn times_read_back_bit_for_bit() {
        // Values whose shortest decimal form serde_json's fast parser can miss by one ULP
        // without `float_roundtrip` (a live run and its replay once differed so).
        let mut rng = crate::uncertainty::Rng::new(9);
        for _ in 0..10_000 {
            let t = rng.next_f64() * 10.0;
            let back: f64 =
                serde_json::from_str(&serde_json::to_string(&t).expect("json")).expect("parse");
            assert_eq!(back.to_bits(), t.to_bits(), "{t}");
        }
    }

    #[test]
    fn written_trace_reads_back_and_a_torn_line_is_skipped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("run.jsonl");
        let header = Header {
            schema: TRACE_SCHEMA.into(),
            interval_s: 1.0,
            ..Header::default()
        };
        let mut w = TraceWriter::create(&path, &header).expect("create");
        let r = |t: f64, e: u64| Reading {
            t,
            source: "rapl".into(),
            device: "package-0".into(),
            value: Value::Counter {
                part: Part::Cpu,
                energy_uj: e,
                max_uj: 1000,
                used: None,
            },
        };
        w.write(&[r(0.0, 1), r(0.0, 2)]).expect("write");
        w.write(&[r(1.0, 3)]).expect("write");
        drop(w);
        // What a SIGKILL in the middle of a write would leave.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open");
        f.write_all(b"{\"t\":2.0,\"source\":\"ra").expect("append");
        let t = read(&path).expect("read");
        assert_eq!(t.header, header);
        assert_eq!(t.polls.len(), 2);
        assert_eq!(t.polls[0].len(), 2);
        assert_eq!(t.polls[1][0], r(1.0, 3));
        assert!(t.torn);
    }

    /// Issue 8: a read that failed and was retried is its own line (`kind: missed`), so a
    /// replay sees the same gaps as the live run and gives the same figures.
    #[test]
    fn missed_readings_replay_to_the_same_figures() {
        use crate::measure::{ModelInputs, Pipeline, Policy};
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("run.jsonl");
        let header = Header {
            schema: TRACE_SCHEMA.into(),
            interval_s: 1.0,
            ..Header::default()
        };
        let counter = |t: f64, e: u64| Reading {
            t,
            source: "nvml".into(),
            device: "gpu0".into(),
            value: Value::Counter {
                part: Part::Gpu,
                energy_uj: e,
                max_uj: u64::MAX,
                used: None,
            },
        };
        let power = |t: f64, w: f64| Reading {
            t,
            source: "hwmon".into(),
            device: "hwmon3".into(),
            value: Value::Power {
                part: Part::Gpu,
                power_w: w,
                used: None,
            },
        };
        let missed = |t: f64, device: &str| Reading {
            t,
            source: if device == "gpu0" { "nvml" } else { "hwmon" }.into(),
            device: device.into(),
            value: Value::Missed {
                reason: "gpu0: Timeout".into(),
            },
        };
        let polls = vec![
            vec![counter(0.0, 0), power(0.0, 100.0)],
            vec![missed(1.0, "gpu0"), power(1.0, 200.0)],
            vec![missed(2.0, "gpu0"), missed(2.0, "hwmon3")],
            vec![counter(3.0, 900_000_000), power(3.0, 100.0)],
        ];
        let mut w = TraceWriter::create(&path, &header).expect("create");
        for p in &polls {
            w.write(p).expect("write");
        }
        drop(w);
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(
            text.contains(r#""kind":"missed","reason":"gpu0: Timeout""#),
            "{text}"
        );
        let inputs = ModelInputs {
            policy: Policy::Machine,
            cpu_tdp: Some(crate::units::Watts(100.0)),
            cpu_w_per_thread: 3.5,
            dram_w_per_gb: 0.375,
        };
        let mut live = Pipeline::new(inputs);
        for p in &polls {
            live.tick(p);
        }
        let t = read(&path).expect("replay");
        assert_eq!(t.polls, polls);
        let mut replayed = Pipeline::new(inputs);
        for p in &t.polls {
            replayed.tick(p);
        }
        let (live, replayed) = (live.finish(), replayed.finish());
        assert_eq!(live, replayed);
        // GPUs: the counter's 900 J across the gap, and the trapezoids 150 + 300 (1 -> 3 s at
        // 200 -> 100 W, interpolated over the missed read) = 450 J: 1,350 J.
        let gpu = live
            .breakdown
            .components
            .iter()
            .find(|c| c.key == crate::figure::Figure::ComponentGpu)
            .expect("gpu");
        assert!((gpu.energy.0 - 1350.0).abs() < 1e-9, "{gpu:?}");
    }

    const HEAD: &str =
        "{\"schema\":\"wattlens.trace/v1\",\"started_unix_s\":1.0,\"interval_s\":1.0}\n";

    fn line(t: f64, power: f64) -> String {
        format!("{{\"t\":{t:?},\"source\":\"nvml\",\"device\":\"gpu0\",\"kind\":\"power\",\"part\":\"gpu\",\"power_w\":{power:?}}}\n")
    }

    fn mark(t: f64, text: &str) -> String {
        format!("{{\"t\":{t:?},\"source\":\"child\",\"device\":\"marks\",\"kind\":\"mark\",\"text\":{text:?}}}\n")
    }

    fn read_text(text: &str) -> Result<Trace, TraceError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.jsonl");
        std::fs::write(&path, text).expect("write");
        read(&path)
    }

    fn error_of(text: &str) -> String {
        match read_text(text) {
            Ok(t) => panic!("accepted: {t:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn impossible_traces_are_errors_naming_the_line() {
        let back = format!(
            "{HEAD}{}{}{}",
            line(0.0, 10.0),
            line(5.0, 10.0),
            line(2.0, 10.0)
        );
        let e = error_of(&back);
        assert!(e.contains("t.jsonl:4:") && e.contains("backwards"), "{e}");
        let neg = format!("{HEAD}{}{}", line(0.0, 10.0), line(1.0, -3.0));
        let e = error_of(&neg);
        assert!(e.contains(":3:") && e.contains("power_w = -3"), "{e}");
        let tdp = "{\"schema\":\"wattlens.trace/v1\",\"started_unix_s\":1.0,\"interval_s\":1.0,\"cpu_tdp_w\":-5.0}\n";
        let e = error_of(&format!("{tdp}{}", line(0.0, 1.0)));
        assert!(e.contains(":1:") && e.contains("cpu_tdp_w = -5"), "{e}");
        let marks = format!(
            "{HEAD}{}{}{}{}",
            line(0.0, 1.0),
            mark(6.0, "begin a"),
            line(6.0, 1.0),
            mark(2.0, "end a")
        );
        let e = error_of(&marks);
        assert!(e.contains(":5:") && e.contains("mark out of order"), "{e}");
        let e = error_of("");
        assert!(e.contains("no readings"), "{e}");
        let e = error_of(HEAD);
        assert!(e.contains("no readings"), "{e}");
        let e = error_of(&format!("{HEAD}{}", line(-1.0, 1.0)));
        assert!(e.contains("t = -1"), "{e}");
        let e = error_of("{\n  \"schema\": \"wattlens.footprint/v1\"\n}\n");
        assert!(e.contains("footprint"), "{e}");
    }

    fn machine(t: f64, busy: f64, total: f64, cpus: u32) -> String {
        format!("{{\"t\":{t:?},\"source\":\"procfs\",\"device\":\"machine\",\"kind\":\"machine\",\"busy_s\":{busy:?},\"total_s\":{total:?},\"cpus\":{cpus},\"mem_total_gb\":16.0}}\n")
    }

    fn tree(t: f64, cpu: f64) -> String {
        format!("{{\"t\":{t:?},\"source\":\"procfs\",\"device\":\"tree\",\"kind\":\"tree\",\"cpu_s\":{cpu:?},\"rss_gb\":0.1,\"pids\":1}}\n")
    }

    fn header_with(extra: &str) -> String {
        format!("{{\"schema\":\"wattlens.trace/v1\",\"started_unix_s\":1.0,\"interval_s\":1.0{extra}}}\n")
    }

    const SETTINGS: &str =
        "\"charge\":\"processes\",\"cpu_w_per_thread\":3.5,\"dram_w_per_gb\":0.375";

    #[test]
    fn impossible_cpu_times_are_errors_naming_line_and_field() {
        let ok = format!(
            "{HEAD}{}{}{}{}",
            machine(0.0, 10.0, 40.0, 4),
            tree(0.0, 0.0),
            machine(10.0, 40.0, 80.0, 4),
            tree(10.0, 30.0)
        );
        assert!(read_text(&ok).is_ok());
        let e = error_of(&format!("{HEAD}{}", machine(0.0, 1000.0, 400.0, 4)));
        assert!(e.contains(":2:") && e.contains("busy_s = 1000"), "{e}");
        let e = error_of(&format!("{HEAD}{}", machine(0.0, 1.0, 4.0, 0)));
        assert!(e.contains(":2:") && e.contains("cpus = 0"), "{e}");
        let fast = format!(
            "{HEAD}{}{}{}{}",
            machine(0.0, 10.0, 40.0, 4),
            tree(0.0, 0.0),
            machine(10.0, 50.0, 80.0, 4),
            tree(10.0, 400.0)
        );
        let e = error_of(&fast);
        assert!(e.contains(":5:") && e.contains("more CPU time than"), "{e}");
        let back = format!(
            "{HEAD}{}{}{}{}",
            machine(0.0, 10.0, 40.0, 4),
            tree(0.0, 30.0),
            machine(10.0, 50.0, 80.0, 4),
            tree(10.0, 8.0)
        );
        let e = error_of(&back);
        assert!(
            e.contains(":5:") && e.contains("never goes backwards"),
            "{e}"
        );
    }

    #[test]
    fn implausible_headers_are_errors_naming_line_one_and_the_field() {
        let body = line(0.0, 1.0);
        let cases = [
            (",\"cpu_tdp_w\":0.0".to_string(), "cpu_tdp_w = 0"),
            (
                format!(",\"settings\":{{{SETTINGS},\"rest_share\":[5.0,50.0]}}"),
                "settings.rest_share[1] = 50",
            ),
            (
                ",\"settings\":{\"charge\":\"machine\",\"cpu_w_per_thread\":3.5,\"dram_w_per_gb\":1e6,\"rest_share\":[0.1,0.2]}".to_string(),
                "settings.dram_w_per_gb = 1000000",
            ),
        ];
        for (extra, want) in cases {
            let e = error_of(&format!("{}{body}", header_with(&extra)));
            assert!(e.contains("t.jsonl:1:") && e.contains(want), "{e}");
        }
        let tiny =
            "{\"schema\":\"wattlens.trace/v1\",\"started_unix_s\":1.0,\"interval_s\":1e-9}\n";
        let e = error_of(&format!("{tiny}{body}"));
        assert!(e.contains(":1:") && e.contains("interval_s"), "{e}");
        let v9 = "{\"schema\":\"wattlens.trace/v9\",\"started_unix_s\":1.0,\"interval_s\":1.0}\n";
        let e = error_of(&format!("{v9}{body}"));
        assert!(
            e.contains(":1:")
                && e.contains("unsupported trace schema wattlens.trace/v9; this wattlens reads v1"),
            "{e}"
        );
    }

    #[test]
    fn a_torn_last_line_is_skipped_with_the_rest_of_its_poll_even_ending_in_a_brace() {
        // The last poll (t = 2) lost its newline: cut inside a number, the line still ends in
        // '}'. It and the complete line of the same poll before it are left out.
        let full = line(2.0, 123.0);
        let cut = &full[..full.len() - 4];
        let text = format!(
            "{HEAD}{}{}{}{}}}",
            line(0.0, 1.0),
            line(1.0, 1.0),
            mark(2.0, "begin x"),
            cut
        );
        assert!(text.ends_with('}'));
        let t = read_text(&text).expect("replays");
        assert!(t.torn);
        assert_eq!(t.polls.len(), 2, "{:?}", t.polls);
        assert_eq!(t.polls[1][0].t, 1.0);
        // A complete last line that only lacks its newline is skipped too: the writer always
        // ends lines with one.
        let t = read_text(&format!(
            "{HEAD}{}{}",
            line(0.0, 1.0),
            line(1.0, 1.0).trim_end()
        ))
        .expect("replays");
        assert!(t.torn);
        assert_eq!(t.polls.len(), 1);
        // A bad line that is not the last is an error.
        let e = error_of(&format!(
            "{HEAD}{}{{\"t\":1.0,\"so\n{}",
            line(0.0, 1.0),
            line(2.0, 1.0)
        ));
        assert!(e.contains(":3:"), "{e}");
    }

    #[test]
    fn devices_pipes_and_endless_lines_are_refused() {
        for dev in ["/dev/zero", "/dev/null"] {
            match read(Path::new(dev)) {
                Err(TraceError::NotRegular { .. }) => {}
                other => panic!("{dev}: {other:?}"),
            }
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            assert!(matches!(read(&fifo), Err(TraceError::NotRegular { .. })));
        }
        let long = dir.path().join("long.jsonl");
        std::fs::write(&long, vec![b'x'; 3 * MAX_LINE_BYTES]).expect("write");
        let e = read(&long).expect_err("long line");
        assert!(e.to_string().contains("longer than"), "{e}");
    }

    #[test]
    fn traces_are_created_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.jsonl");
        std::fs::write(&path, "old").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        drop(TraceWriter::create(&path, &Header::default()).expect("create"));
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
