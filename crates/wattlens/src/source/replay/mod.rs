//! Recorded traces: a meter's [`TraceWriter`] writes every raw reading and control event as
//! one JSON line, after a header line; a [`TraceReader`] feeds them back, poll by poll, through
//! the same pipeline. Each poll's lines are written with one `write` call as soon as they are
//! read, so a wattlens killed with SIGKILL leaves every complete poll on disk; a torn last line
//! is skipped on replay. Written as `wattlens.trace/v2`; `v1` traces read as well (the line
//! formats: `lines.rs`).
//!
//! ```text
//! {"schema":"wattlens.trace/v2","started_unix_s":1763776800.0,"interval_s":1.0,"command":["python"],"tags":{}}
//! {"declare":0,"source":"rapl","device":"package-0"}
//! {"t":0.0,"d":0,"kind":"counter","part":"cpu","energy_uj":1000,"max_uj":262143328850}
//! {"declare":1,"source":"procfs","device":"machine"}
//! {"t":0.0,"d":1,"kind":"machine","busy_s":59.2,"total_s":9289.3,"cpus":4,"mem_total_gb":16.4}
//! {"t":2.0,"event":"mark","text":"begin load"}
//! ```

mod lines;
mod reader;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_devices;
mod writer;

use super::Poll;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use reader::TraceReader;
pub use writer::TraceWriter;

/// The schema id of the header line of the traces this wattlens writes.
pub const TRACE_SCHEMA: &str = "wattlens.trace/v2";

/// The schema id of the traces of wattlens before issue 8 (read, never written).
pub const TRACE_SCHEMA_V1: &str = "wattlens.trace/v1";

/// The longest trace line read, in bytes (a reading is a few hundred; a mark line at most
/// [`crate::measure::MAX_MARK_BYTES`]): a longer one is an error, so that an endless line (a
/// device, a file of zeros) cannot exhaust memory.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Largest time in a trace, s (about 32 years).
const MAX_T: f64 = 1e9;
/// Largest cumulative CPU time, s.
const MAX_CPU_S: f64 = 1e13;
/// Largest memory, GB.
const MAX_MEM_GB: f64 = 1e7;
/// Smallest and largest CPU rating of a whole machine, W (`--cpu-tdp` and a trace's header).
pub const MIN_CPU_TDP_W: f64 = 1.0;
/// See [`MIN_CPU_TDP_W`].
pub const MAX_CPU_TDP_W: f64 = 1e5;
/// Shortest sampling interval a trace may have, s.
pub const MIN_INTERVAL_S: f64 = 0.01;
/// Longest sampling interval a trace may have, s.
pub const MAX_INTERVAL_S: f64 = 3600.0;
/// The most devices a trace declares (v2).
const MAX_DEVICES: usize = 1 << 16;
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
    /// The header's sampling interval is outside [`MIN_INTERVAL_S`]..=[`MAX_INTERVAL_S`].
    #[error("{path}:{line}: header: interval_s = {value} is impossible; a trace is sampled at intervals from {min} to {max} s", min = crate::uncertainty::fmt_input(MIN_INTERVAL_S), max = crate::uncertainty::fmt_input(MAX_INTERVAL_S))]
    Interval {
        /// The trace.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The interval, s.
        value: f64,
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

/// A trace read back whole: the header and the readings grouped by poll (equal `t`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Trace {
    /// The header (default when the file has none).
    pub header: Header,
    /// Polls in order.
    pub polls: Vec<Poll>,
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
