//! Writing a trace (`wattlens.trace/v2`): the header, then each poll's lines at once, each
//! device declared before its first reading.

use super::lines;
use super::{Header, TraceError};
use crate::source::{DeviceId, Poll};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes a trace.
pub struct TraceWriter {
    path: PathBuf,
    file: Box<dyn Write + Send>,
    buf: String,
    /// The devices declared so far, with their numbers.
    devices: HashMap<DeviceId, u32>,
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
            devices: HashMap::new(),
        };
        let line = serde_json::to_string(header).unwrap_or_default();
        w.buf.push_str(&line);
        w.buf.push('\n');
        w.flush()?;
        Ok(w)
    }

    /// Writes one poll's readings (a device's declaration before its first), then its events,
    /// at once.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn write(&mut self, poll: &Poll) -> Result<(), TraceError> {
        for r in &poll.readings {
            let next = u32::try_from(self.devices.len()).unwrap_or(u32::MAX);
            let d = match self.devices.get(&r.device) {
                Some(d) => *d,
                None => {
                    self.buf.push_str(&lines::declare(next, &r.device));
                    self.buf.push('\n');
                    self.devices.insert(r.device.clone(), next);
                    next
                }
            };
            self.buf.push_str(&lines::reading(r.t, d, &r.value));
            self.buf.push('\n');
        }
        for e in &poll.events {
            self.buf.push_str(&lines::event(poll.t, e));
            self.buf.push('\n');
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
