//! The measured command: started with its arguments untouched (or attached to with `--pid`),
//! watched on the sampler thread, waited for without reaping so that the last poll still sees
//! its CPU time; its signals; and the live status line on a terminal.
//!
//! Signals reach the command exactly once. In the foreground of a terminal the command shares
//! wattlens' process group (so that it can read the terminal and gets Ctrl-C, Ctrl-Z and
//! window changes from it directly): what the terminal sends is not forwarded, what a process
//! sends to wattlens is. Anywhere else (a script, `timeout`, a batch system, a background job)
//! the command gets a process group of its own, so a signal sent to wattlens' group does not
//! reach it directly, and wattlens forwards each SIGINT/SIGTERM/SIGHUP it gets to the command's
//! group once; the same signal from the same sender within [`SAME_SIGNAL`] counts once
//! (`timeout` sends it to wattlens and then to its whole group). Once the command has ended (or
//! `--pid` stopped being measured), a signal ends wattlens after at most [`GRACE`] spent
//! writing its results, with 128 + the signal's number if they were not done: the marked
//! windows are then not waited for, and the run's totals are written without them.

use super::marks::MarkPipe;
use super::sources::sources;
use crate::cli::RunArgs;
use crate::ExitStatus;
use anyhow::{bail, Context, Result};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wattlens::measure::{Consumer, Measurement, Meter, MeterNote, MeterReport, ModelInputs};
use wattlens::source::replay::TraceWriter;
use wattlens::uncertainty::fmt_num;
use wattlens::units::KilowattHours;

pub(super) fn measure(
    a: &RunArgs,
    interval: Duration,
    record: Option<TraceWriter>,
    inputs: ModelInputs,
    live: LiveScale,
    started: jiff::Timestamp,
) -> Result<Measured> {
    let page = u64::try_from(rustix::param::page_size()).unwrap_or(4096);
    let proc_self = Path::new("/proc");
    let mut signals = signal_hook::iterator::SignalsInfo::<
        signal_hook::iterator::exfiltrator::WithOrigin,
    >::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ])
    .context("cannot install signal handlers")?;

    if let Some(pid) = a.pid {
        if !alive(proc_self, pid) {
            bail!("--pid {pid}: no such process");
        }
        let mut meter = Meter::builder(inputs)
            .started_at(started)
            .interval(interval)
            .processes(proc_self, page)
            .consumer(Consumer::ProcessTree {
                pid,
                from_start: false,
            });
        meter.open_procfs(&a.procfs_root).context("--procfs-root")?;
        let pipe = a.marks.then(MarkPipe::create).transpose()?;
        let sampler = meter.sources(sources(a)).record(record).start();
        if let Some(p) = &pipe {
            eprintln!(
                "wattlens: --marks: write \"begin NAME\" and \"end NAME\" lines to {}",
                p.path().display()
            );
        }
        let listener = pipe.map(|p| p.listen(sampler.marker())).transpose()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        // The first signal stops the measurement (the process is left alone); one after that,
        // or one after the process ended, ends wattlens once its grace is spent.
        std::thread::spawn(move || {
            let mut it = signals.forever();
            if let Some(o) = it.next() {
                if flag.swap(true, Ordering::Relaxed) {
                    end_after_grace(o.signal);
                }
            }
            for o in it {
                end_after_grace(o.signal);
            }
        });
        let status = status_line(&sampler, live, a.quiet);
        while !stop.load(Ordering::Relaxed) && alive(proc_self, pid) {
            std::thread::sleep(interval.min(Duration::from_millis(100)));
        }
        stop.store(true, Ordering::Relaxed);
        stop_status(status);
        if let Some(l) = listener {
            l.finish();
        }
        let (m, notes) = run_of(sampler.stop(None));
        return Ok(Measured::Done(m, notes, ExitStatus::Success));
    }

    let Some((program, args)) = a.command.split_first() else {
        bail!("give a command to run: wattlens run -- CMD [ARGS]...");
    };
    let pipe = a.marks.then(MarkPipe::create).transpose()?;
    let mut command = std::process::Command::new(program);
    command.args(args);
    let own_group = !terminal_foreground();
    if own_group {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    if let Some(p) = &pipe {
        command.env(crate::env::WATTLENS_MARKS, p.path());
    }
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            };
            eprintln!("error: cannot run {program:?}: {e}");
            return Ok(Measured::NotStarted(code));
        }
    };
    let pid = child.id();
    let mut meter = Meter::builder(inputs)
        .started_at(started)
        .interval(interval)
        .processes(proc_self, page)
        .consumer(Consumer::ProcessTree {
            pid,
            from_start: true,
        });
    if let Err(e) = meter.open_procfs(&a.procfs_root) {
        eprintln!("wattlens: --procfs-root: {e}; CPU time and memory are not measured");
    }
    // The command starts first; probing the sources (loading NVML) overlaps with it. CPU time is
    // counted from the command's start whatever the first poll's time.
    let sampler = meter.sources(sources(a)).record(record).start();
    // The command runs already: a pipe that cannot be read is a warning, not an error.
    let listener = pipe.and_then(|p| {
        p.listen(sampler.marker())
            .map_err(|e| eprintln!("wattlens: {e:#}; marks are ignored"))
            .ok()
    });
    let ended = Arc::new(AtomicBool::new(false));
    let done = Arc::clone(&ended);
    // Lives until wattlens exits: after the command, a signal must still end wattlens.
    std::thread::spawn(move || forward(&mut signals, pid, own_group, &done));
    let status = status_line(&sampler, live, a.quiet);
    // Wait without reaping, so that the last poll still sees the child's CPU time.
    let code = wait_exit(pid);
    ended.store(true, Ordering::Relaxed);
    stop_status(status);
    // The marks the command wrote before it ended reach the sampler before its last poll.
    if let Some(l) = listener {
        l.finish();
    }
    let (m, notes) = run_of(sampler.stop(Some(code)));
    let _ = child.wait();
    Ok(Measured::Done(
        m,
        notes,
        ExitStatus::Code(u8::try_from(code.clamp(0, 255)).unwrap_or(255)),
    ))
}

/// The run's measurement and its notes in this command's words (the trace is `--record`).
fn run_of(r: MeterReport) -> (Measurement, Vec<String>) {
    let notes = r
        .notes
        .iter()
        .map(|n| match n {
            MeterNote::RecordStopped(e) => format!("--record: {e}; recording stopped"),
            n => n.to_string(),
        })
        .collect();
    (r.snapshot.run, notes)
}

// Returned once per run: boxing the measurement would buy nothing.
#[allow(clippy::large_enum_variant)]
pub(super) enum Measured {
    /// The command could not be started: 127 (not found) or 126 (not executable).
    NotStarted(u8),
    Done(Measurement, Vec<String>, ExitStatus),
}

/// Whether `pid` runs (a zombie has ended).
fn alive(proc_root: &Path, pid: u32) -> bool {
    std::fs::read_to_string(proc_root.join(format!("{pid}/stat")))
        .ok()
        .and_then(|s| wattlens::source::procfs::parse_stat(&s))
        .is_some_and(|s| !s.zombie)
}

/// Within this time, the same signal from the same sender is one signal: `timeout` sends it
/// to wattlens and then to wattlens' process group, microseconds apart.
pub(super) const SAME_SIGNAL: Duration = Duration::from_millis(250);

/// What a signal after the command's end leaves wattlens to finish writing its results.
pub(super) const GRACE: Duration = Duration::from_secs(2);

/// Whether wattlens runs in the foreground process group of its controlling terminal (so that
/// the terminal's Ctrl-C reaches it and the command alike): `tpgid == pgrp` in
/// `/proc/self/stat`, with a terminal.
fn terminal_foreground() -> bool {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return false;
    };
    // After "pid (comm) ": state ppid pgrp session tty_nr tpgid.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return false;
    };
    let f: Vec<i64> = rest
        .split_whitespace()
        .skip(1)
        .take(5)
        .filter_map(|v| v.parse().ok())
        .collect();
    matches!(f.as_slice(), [_, pgrp, _, tty, tpgid] if *tty != 0 && tpgid == pgrp)
}

/// Sends each SIGINT/SIGTERM/SIGHUP to the command once (the module's doc says when), until the
/// command has ended (`ended`); then the next signal ends wattlens after [`GRACE`].
fn forward(
    signals: &mut signal_hook::iterator::SignalsInfo<
        signal_hook::iterator::exfiltrator::WithOrigin,
    >,
    pid: u32,
    own_group: bool,
    ended: &AtomicBool,
) {
    use signal_hook::low_level::siginfo::Cause;
    let mut last: Option<(i32, Option<i32>, Instant)> = None;
    for origin in signals.forever() {
        if ended.load(Ordering::Relaxed) {
            end_after_grace(origin.signal);
            continue;
        }
        // On a terminal the command shares wattlens' group: the terminal sent it to both.
        if !own_group && origin.cause == Cause::Kernel {
            continue;
        }
        let sender = origin.process.map(|p| p.pid);
        let now = Instant::now();
        if last.is_some_and(|(s, from, at)| {
            s == origin.signal && from == sender && now.duration_since(at) < SAME_SIGNAL
        }) {
            continue;
        }
        last = Some((origin.signal, sender, now));
        let sig = match origin.signal {
            signal_hook::consts::SIGINT => rustix::process::Signal::INT,
            signal_hook::consts::SIGTERM => rustix::process::Signal::TERM,
            _ => rustix::process::Signal::HUP,
        };
        if let Some(p) = i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        {
            // In its own group, the command's children get it too, as from a terminal (the
            // command itself if it left that group).
            if !own_group || rustix::process::kill_process_group(p, sig).is_err() {
                let _ = rustix::process::kill_process(p, sig);
            }
        }
    }
}

/// The signal that arrived after the command ended (0: none yet).
static SIGNALLED: AtomicI32 = AtomicI32::new(0);

/// The name of the signal that arrived after the command ended, if one did: the marked
/// windows are then not waited for.
pub(super) fn signalled() -> Option<&'static str> {
    match SIGNALLED.load(Ordering::Relaxed) {
        0 => None,
        signal_hook::consts::SIGINT => Some("SIGINT"),
        signal_hook::consts::SIGTERM => Some("SIGTERM"),
        signal_hook::consts::SIGHUP => Some("SIGHUP"),
        _ => Some("a signal"),
    }
}

/// Ends wattlens with 128 + `signal` unless it finishes writing its results within [`GRACE`]
/// (then it exits as it would have).
fn end_after_grace(signal: i32) {
    // The first one sets the exit code and the grace.
    if SIGNALLED
        .compare_exchange(0, signal, Ordering::Relaxed, Ordering::Relaxed)
        .is_err()
    {
        return;
    }
    std::thread::spawn(move || {
        std::thread::sleep(GRACE);
        std::process::exit(128 + signal);
    });
}

/// Waits for the child to exit, leaving it a zombie; its exit code, 128 + N for signal N.
fn wait_exit(pid: u32) -> i32 {
    use rustix::process::{waitid, Pid, WaitId, WaitIdOptions};
    let Some(p) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
        return 2;
    };
    loop {
        match waitid(
            WaitId::Pid(p),
            WaitIdOptions::EXITED | WaitIdOptions::NOWAIT,
        ) {
            Ok(Some(st)) => {
                if let Some(c) = st.exit_status() {
                    return c;
                }
                if let Some(s) = st.terminating_signal() {
                    return 128 + s;
                }
            }
            Err(rustix::io::Errno::INTR) | Ok(None) => {}
            Err(_) => return 2,
        }
    }
}

struct Status {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

/// What the live line shows beside the measured figures, at the midpoints of the ranges.
#[derive(Clone, Copy, Debug)]
pub(super) struct LiveScale {
    /// IT energy over the measured energy (the rest of the server).
    pub it_per_measured: f64,
    /// Facility energy over IT energy.
    pub pue: f64,
    /// Location-based carbon, g per kWh of facility energy.
    pub g_per_kwh: f64,
}

/// On a terminal, unless `--quiet`: a live line on stderr with the same figures as the summary
/// at the ranges' midpoints: elapsed time, IT power and energy (rest of the server included),
/// facility energy (x PUE) and its location-based carbon.
fn status_line(sampler: &Meter, scale: LiveScale, quiet: bool) -> Option<Status> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let live = sampler.live_handle();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let thread = std::thread::spawn(move || {
        while !flag.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(250));
            let l = live.get();
            let it = KilowattHours::from(l.energy).0 * scale.it_per_measured;
            let facility = it * scale.pue;
            let _ = write!(
                std::io::stderr().lock(),
                "\r\x1b[2K  wattlens: {:>6.0} s  IT {:>7} W  IT {} kWh  facility {} kWh  {} gCO2e",
                l.elapsed.0,
                fmt_num(l.power.0 * scale.it_per_measured),
                fmt_num(it),
                fmt_num(facility),
                fmt_num(facility * scale.g_per_kwh)
            );
        }
        let _ = write!(std::io::stderr().lock(), "\r\x1b[2K");
    });
    Some(Status { stop, thread })
}

fn stop_status(s: Option<Status>) {
    if let Some(s) = s {
        s.stop.store(true, Ordering::Relaxed);
        let _ = s.thread.join();
    }
}
