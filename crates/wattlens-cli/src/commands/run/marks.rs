//! The pipe of `wattlens run --marks`: a FIFO in a private temporary folder, named to the
//! measured command in `WATTLENS_MARKS`. Each line the command writes (`begin NAME`,
//! `end NAME`) goes to the sampler, which polls at once and cuts a window out of the run.

use anyhow::{Context, Result};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use wattlens::measure::Marker;

/// Written by wattlens itself after the command has ended: every line the command wrote is
/// ahead of it in the pipe.
const STOP: &str = "\u{1}wattlens-stop";

/// The pipe, created and held open (read and write, so that a writer never blocks on `open`).
pub struct MarkPipe {
    dir: tempfile::TempDir,
    path: PathBuf,
    file: std::fs::File,
}

impl MarkPipe {
    /// A new pipe in a private (0700) temporary folder.
    ///
    /// # Errors
    /// When the folder or the FIFO cannot be made.
    pub fn create() -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("wattlens-marks-")
            .tempdir()
            .context("--marks: cannot make a temporary folder for the pipe")?;
        let path = dir.path().join("marks");
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            &path,
            rustix::fs::Mode::from_raw_mode(0o600),
        )
        .with_context(|| format!("--marks: cannot make the pipe {}", path.display()))?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .with_context(|| format!("--marks: cannot open the pipe {}", path.display()))?;
        Ok(Self { dir, path, file })
    }

    /// Where the command writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Starts forwarding lines to `marker`.
    ///
    /// # Errors
    /// When the pipe cannot be duplicated for the reading thread.
    pub fn listen(self, marker: Marker) -> Result<Listener> {
        let reader = self.file.try_clone().context("--marks: the pipe")?;
        let thread = std::thread::spawn(move || {
            let mut r = BufReader::new(reader);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match r.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                let text = String::from_utf8_lossy(&buf);
                let text = text.trim_end_matches(['\n', '\r']);
                // A last line the command left without its newline runs into the stop line.
                let (line, stop) = match text.strip_suffix(STOP) {
                    Some(rest) => (rest, true),
                    None => (text, false),
                };
                if !line.trim().is_empty() && !marker.mark(line) {
                    return;
                }
                if stop {
                    return;
                }
            }
        });
        Ok(Listener {
            _dir: self.dir,
            file: self.file,
            thread,
        })
    }
}

/// The forwarding thread and the pipe, removed with its folder when finished.
pub struct Listener {
    _dir: tempfile::TempDir,
    file: std::fs::File,
    thread: std::thread::JoinHandle<()>,
}

impl Listener {
    /// Forwards what the command wrote before it ended, then stops the thread and removes the
    /// pipe.
    pub fn finish(mut self) {
        if writeln!(self.file, "{STOP}").is_ok() {
            let _ = self.thread.join();
        }
    }
}
