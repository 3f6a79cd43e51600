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

use super::Reading;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// The schema id of a trace's header line.
pub const TRACE_SCHEMA: &str = "wattlens.trace/v1";

/// The first line of a trace.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// [`TRACE_SCHEMA`].
    pub schema: String,
    /// Wall-clock start, seconds since the Unix epoch.
    pub started_unix_s: f64,
    /// Sampling interval, s.
    pub interval_s: f64,
    /// The measured command (empty for `--pid`).
    #[serde(default)]
    pub command: Vec<String>,
    /// `--tag key=value` labels.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The CPU rating used for the modelled CPU, W, when one was known (so that a replay on
    /// another machine models the same CPU).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_tdp_w: Option<f64>,
}

/// Errors of reading or writing a trace, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The file could not be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        /// The trace.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A line is not a reading.
    #[error("{path}:{line}: not a wattlens trace line: {message}")]
    Line {
        /// The trace.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// Writes a trace.
#[derive(Debug)]
pub struct TraceWriter {
    path: PathBuf,
    file: std::fs::File,
    buf: String,
}

impl TraceWriter {
    /// Creates (truncates) `path` and writes the header.
    ///
    /// # Errors
    /// When the file cannot be created or written.
    pub fn create(path: &Path, header: &Header) -> Result<Self, TraceError> {
        let io = |source| TraceError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::create(path).map_err(io)?;
        let mut w = Self {
            path: path.to_path_buf(),
            file,
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

/// A trace read back: the header and the readings grouped by poll (equal `t`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Trace {
    /// The header (default when the file has none).
    pub header: Header,
    /// Polls in order.
    pub polls: Vec<Vec<Reading>>,
    /// Whether a torn last line was skipped (the recording wattlens was killed mid-write).
    pub torn: bool,
}

/// Reads a trace.
///
/// # Errors
/// When the file cannot be read or a line other than the last is not a reading.
pub fn read(path: &Path) -> Result<Trace, TraceError> {
    let file = std::fs::File::open(path).map_err(|source| TraceError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let lines: Vec<String> = std::io::BufReader::new(file)
        .lines()
        .collect::<Result<_, _>>()
        .map_err(|source| TraceError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    let mut trace = Trace::default();
    let n = lines.len();
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if i == 0 {
            if let Ok(h) = serde_json::from_str::<Header>(line) {
                if h.schema == TRACE_SCHEMA {
                    trace.header = h;
                    continue;
                }
            }
        }
        match serde_json::from_str::<Reading>(line) {
            Ok(r) => match trace.polls.last_mut() {
                Some(p) if p.first().is_some_and(|x| x.t == r.t) => p.push(r),
                _ => trace.polls.push(vec![r]),
            },
            Err(_) if i + 1 == n && !line.ends_with('}') => trace.torn = true,
            Err(e) => {
                return Err(TraceError::Line {
                    path: path.to_path_buf(),
                    line: i + 1,
                    message: e.to_string(),
                })
            }
        }
    }
    Ok(trace)
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
}
