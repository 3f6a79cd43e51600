//! Writing to a pipe or a device (`--record`, `--json`, `--csv` onto a FIFO, `/dev/stdout`)
//! without ever blocking the measurement: the file is written non-blocking, what the reader has
//! not taken yet waits in memory (at most [`MAX_PENDING`] bytes, then recording stops with a
//! note), and at the end what is still waiting gets [`PIPE_GRACE`] before it is abandoned.

use std::fs::File;
use std::io::{ErrorKind, Write};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long, at the end of a run, a pipe or device whose reader does not read is waited for.
pub(super) const PIPE_GRACE: Duration = Duration::from_secs(1);

/// The most bytes kept for a reader that does not read (a paused pager): 1 MiB is hours of a
/// 1 s trace and seconds of a 10 ms one.
pub(super) const MAX_PENDING: usize = 1 << 20;

/// A pipe or device written without blocking, with what its reader has not taken yet. Cloned
/// handles share the file: the trace writer holds one, the end of the run another.
#[derive(Clone, Debug)]
pub(super) struct Pipe(Arc<Mutex<Inner>>);

#[derive(Debug)]
struct Inner {
    file: File,
    pending: Vec<u8>,
    stalled: bool,
}

impl Inner {
    /// Writes what the reader takes now; stops at a full pipe.
    fn push(&mut self) -> std::io::Result<()> {
        while !self.pending.is_empty() {
            match (&self.file).write(&self.pending) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.pending.drain(..n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl Pipe {
    /// Takes `file` (a pipe or a device opened by this process) into non-blocking mode.
    ///
    /// # Errors
    /// When its flags cannot be changed.
    pub(super) fn new(file: File) -> std::io::Result<Self> {
        let flags = rustix::fs::fcntl_getfl(&file)?;
        rustix::fs::fcntl_setfl(&file, flags | rustix::fs::OFlags::NONBLOCK)?;
        Ok(Self(Arc::new(Mutex::new(Inner {
            file,
            pending: Vec::new(),
            stalled: false,
        }))))
    }

    /// Queues `bytes` and writes what the reader takes now.
    pub(super) fn queue(&self, bytes: &[u8]) {
        let mut g = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        g.pending.extend_from_slice(bytes);
        let _ = g.push();
    }

    /// Writes what is still waiting, for at most `grace`.
    ///
    /// # Errors
    /// [`Unfinished::Stalled`]: the reader did not take it in time (it is abandoned);
    /// [`Unfinished::Failed`]: the write failed (a closed pipe, `/dev/full`).
    pub(super) fn finish(&self, grace: Duration) -> Result<(), Unfinished> {
        let until = Instant::now() + grace;
        loop {
            let mut g = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            if let Err(e) = g.push() {
                g.pending.clear();
                return Err(Unfinished::Failed(e.to_string()));
            }
            if g.pending.is_empty() {
                return Ok(());
            }
            if Instant::now() >= until {
                let n = g.pending.len();
                g.pending.clear();
                return Err(Unfinished::Stalled(format!(
                    "its reader did not read within {} s after the run; the last {n} bytes \
                     were abandoned",
                    PIPE_GRACE.as_secs_f64()
                )));
            }
            drop(g);
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Why a pipe or device was not fully written at the end.
#[derive(Debug)]
pub(super) enum Unfinished {
    /// Its reader did not read within the grace: abandoned (a note; the exit code stays).
    Stalled(String),
    /// The write failed (an error, as for a regular file).
    Failed(String),
}

/// The trace writer's end of a [`Pipe`]: never blocks; once more than [`MAX_PENDING`] bytes
/// wait, every write is an error (the sampler then stops recording, with a note).
#[derive(Debug)]
pub(super) struct Sink(pub Pipe);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut g = self.0 .0.lock().unwrap_or_else(PoisonError::into_inner);
        if g.stalled {
            return Err(std::io::Error::other("the reader stopped reading"));
        }
        g.pending.extend_from_slice(buf);
        g.push()?;
        if g.pending.len() > MAX_PENDING {
            g.stalled = true;
            return Err(std::io::Error::other(format!(
                "the reader has not read the last {} KiB (a paused pager, a FIFO nobody reads); \
                 the measurement goes on",
                g.pending.len() / 1024
            )));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `f` (a write to stderr) on its own thread and waits for it at most `grace`: a stderr
/// that nobody reads must not keep wattlens from exiting with the command's code.
pub(super) fn bounded(grace: Duration, f: impl FnOnce() + Send + 'static) {
    let _ = bounded_result(grace, f);
}

/// Runs `f` (a write to stdout or stderr) on its own thread and waits for it at most `grace`;
/// its result, or `None` when it did not end in time (a reader that does not read).
pub(super) fn bounded_result<T: Send + 'static>(
    grace: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(grace).ok()
}
