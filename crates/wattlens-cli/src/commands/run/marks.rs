//! The marks file of `wattlens run --marks`: a regular file in a private (0700) temporary
//! folder, named to the measured command in `WATTLENS_MARKS`. The command appends lines
//! (`echo "begin prep" >> "$WATTLENS_MARKS"`); a watcher thread looks at the file's length
//! every [`WATCH`] and hands each new complete line (`begin NAME`, `end NAME`) to the sampler,
//! which polls at once and cuts a window out of the run.
//!
//! Nothing on the command's side waits for wattlens: if wattlens dies, writing a mark still
//! succeeds at once (no `open` blocking on a FIFO without a reader, no broken pipe), so a
//! command never hangs or dies because of its marks. A file truncated and rewritten (`>`
//! instead of `>>`) is read again from its start; a mark overwritten by another within one
//! watch period is lost that way, which is why the documented form is `>>`.

use anyhow::{Context, Result};
use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use wattlens::measure::{Marker, MAX_MARK_BYTES};

/// How often the watcher looks at the file.
const WATCH: Duration = Duration::from_millis(20);

/// Bytes read from the file at a time.
const CHUNK: usize = 64 * 1024;

/// The marks file (the name is historical: it was a FIFO).
pub struct MarkPipe {
    dir: tempfile::TempDir,
    path: PathBuf,
}

impl MarkPipe {
    /// A new, empty marks file (0600) in a private (0700) temporary folder.
    ///
    /// # Errors
    /// When the folder or the file cannot be made.
    pub fn create() -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("wattlens-marks-")
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir()
            .context("--marks: cannot make a temporary folder for the marks file")?;
        let path = dir.path().join("marks");
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("--marks: cannot make the marks file {}", path.display()))?;
        Ok(Self { dir, path })
    }

    /// Where the command writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Starts forwarding lines to `marker`.
    ///
    /// # Errors
    /// When the file cannot be opened for reading.
    pub fn listen(self, marker: Marker) -> Result<Listener> {
        let file = File::open(&self.path)
            .with_context(|| format!("--marks: cannot read {}", self.path.display()))?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let mut w = Watcher {
            path: self.path.clone(),
            ino: file.metadata().map(|m| m.ino()).unwrap_or(0),
            file,
            offset: 0,
            read_pos: 0,
            last: Vec::new(),
            pending: Vec::new(),
            skipping: None,
            marker,
        };
        let thread = std::thread::spawn(move || loop {
            let last = flag.load(Ordering::Acquire);
            if !w.scan(last) || last {
                return;
            }
            std::thread::sleep(WATCH);
        });
        Ok(Listener {
            _dir: self.dir,
            stop,
            thread,
        })
    }
}

/// Reads new lines from the marks file.
struct Watcher {
    path: PathBuf,
    file: File,
    ino: u64,
    /// Bytes of the file consumed (whole lines).
    offset: u64,
    /// The next byte to read.
    read_pos: u64,
    /// The last line consumed, newline included: still there when the file only grew.
    last: Vec<u8>,
    /// Bytes after `offset` read so far without their newline.
    pending: Vec<u8>,
    /// Length of an overlong line being skipped.
    skipping: Option<u64>,
    marker: Marker,
}

impl Watcher {
    /// Forwards the complete lines added since the last scan (and, when `last`, a final line
    /// without its newline); `false` once the sampler has stopped.
    fn scan(&mut self, last: bool) -> bool {
        // A file replaced under the same name (`mv`, an editor): start over on the new one.
        if let Ok(m) = std::fs::metadata(&self.path) {
            if m.ino() != self.ino {
                if let Ok(f) = File::open(&self.path) {
                    self.file = f;
                    self.ino = m.ino();
                    self.restart();
                }
            }
        }
        let Ok(len) = self.file.metadata().map(|m| m.len()) else {
            return true;
        };
        if len < self.read_pos || !self.still_there() {
            // Truncated (and maybe rewritten with `>`): read it again from the start.
            self.restart();
        }
        let mut buf = vec![0u8; CHUNK];
        while self.read_pos < len {
            let want = usize::try_from((len - self.read_pos).min(CHUNK as u64)).unwrap_or(CHUNK);
            let n = match self.file.read_at(&mut buf[..want], self.read_pos) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            self.read_pos += n as u64;
            for &b in &buf[..n] {
                if !self.byte(b) {
                    return false;
                }
            }
        }
        if last && !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            return self.forward(&line);
        }
        true
    }

    /// Whether the last line consumed is still where it was (a file that only grew).
    fn still_there(&self) -> bool {
        if self.last.is_empty() {
            return true;
        }
        let at = self.offset - self.last.len() as u64;
        let mut check = vec![0u8; self.last.len()];
        self.file.read_exact_at(&mut check, at).is_ok() && check == self.last
    }

    fn restart(&mut self) {
        self.offset = 0;
        self.read_pos = 0;
        self.last.clear();
        self.pending.clear();
        self.skipping = None;
    }

    /// Takes one byte; `false` once the sampler has stopped.
    fn byte(&mut self, b: u8) -> bool {
        if let Some(n) = &mut self.skipping {
            *n += 1;
            if b == b'\n' {
                let n = *n;
                self.offset += n;
                self.last.clear();
                self.skipping = None;
                return self.marker.note(&format!(
                    "--marks: a line of {n} bytes is longer than {MAX_MARK_BYTES} bytes; ignored"
                ));
            }
            return true;
        }
        self.pending.push(b);
        if b == b'\n' {
            let line = std::mem::take(&mut self.pending);
            self.offset += line.len() as u64;
            let ok = self.forward(&line);
            self.last = line;
            return ok;
        }
        if self.pending.len() > MAX_MARK_BYTES + 1 {
            self.skipping = Some(self.pending.len() as u64);
            self.pending.clear();
        }
        true
    }

    fn forward(&self, line: &[u8]) -> bool {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches(['\n', '\r']);
        text.trim().is_empty() || self.marker.mark(text)
    }
}

/// The watcher thread, and the folder removed with it.
pub struct Listener {
    _dir: tempfile::TempDir,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Listener {
    /// Forwards what the command wrote before it ended (a last line without its newline too),
    /// then stops the thread and removes the file.
    pub fn finish(self) {
        self.stop.store(true, Ordering::Release);
        let _ = self.thread.join();
    }
}
