//! The measured command: started with its arguments untouched (or attached to with `--pid`),
//! watched on the sampler thread, sent each SIGINT/SIGTERM/SIGHUP once (unless the terminal
//! already sent it to the whole process group), waited for without reaping so that the last
//! poll still sees its CPU time; and the live status line on a terminal.

use super::marks::MarkPipe;
use super::sources::sources;
use crate::cli::RunArgs;
use crate::ExitStatus;
use anyhow::{bail, Context, Result};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use wattlens::measure::{Measurement, ModelInputs, Sampler, SamplerConfig};
use wattlens::source::procfs::{ProcTree, Procfs};
use wattlens::source::replay::TraceWriter;
use wattlens::source::StdFs;
use wattlens::uncertainty::fmt_num;
use wattlens::units::KilowattHours;

pub(super) fn measure(
    a: &RunArgs,
    interval: Duration,
    record: Option<TraceWriter>,
    inputs: ModelInputs,
    g_per_kwh: f64,
) -> Result<Measured> {
    let page = u64::try_from(rustix::param::page_size()).unwrap_or(4096);
    let fs = Arc::new(StdFs);
    let proc_self = Path::new("/proc");
    let mut signals = signal_hook::iterator::SignalsInfo::<
        signal_hook::iterator::exfiltrator::WithOrigin,
    >::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ])
    .context("cannot install signal handlers")?;
    let handle = signals.handle();

    if let Some(pid) = a.pid {
        if !alive(proc_self, pid) {
            bail!("--pid {pid}: no such process");
        }
        let tree = ProcTree::new(proc_self, vec![pid], false, page);
        let procfs = Procfs::new(&a.procfs_root, fs, Some(tree)).context("--procfs-root")?;
        let pipe = a.marks.then(MarkPipe::create).transpose()?;
        let sampler = Sampler::start(SamplerConfig {
            interval,
            procfs: Some(procfs),
            sources: sources(a),
            record,
            inputs,
        });
        if let Some(p) = &pipe {
            eprintln!(
                "wattlens: --marks: write \"begin NAME\" and \"end NAME\" lines to {}",
                p.path().display()
            );
        }
        let listener = pipe.map(|p| p.listen(sampler.marker())).transpose()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let sig = std::thread::spawn(move || {
            if signals.forever().next().is_some() {
                flag.store(true, Ordering::Relaxed);
            }
        });
        let status = status_line(&sampler, g_per_kwh, a.quiet);
        while !stop.load(Ordering::Relaxed) && alive(proc_self, pid) {
            std::thread::sleep(interval.min(Duration::from_millis(100)));
        }
        stop_status(status);
        handle.close();
        let _ = sig.join();
        if let Some(l) = listener {
            l.finish();
        }
        let (m, notes) = sampler.stop(None);
        return Ok(Measured::Done(m, notes, ExitStatus::Success));
    }

    let Some((program, args)) = a.command.split_first() else {
        bail!("give a command to run: wattlens run -- CMD [ARGS]...");
    };
    let pipe = a.marks.then(MarkPipe::create).transpose()?;
    let mut command = std::process::Command::new(program);
    command.args(args);
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
            eprintln!("wattlens: cannot run {program:?}: {e}");
            return Ok(Measured::NotStarted(code));
        }
    };
    let pid = child.id();
    let tree = ProcTree::new(proc_self, vec![pid], true, page);
    let procfs = Procfs::new(&a.procfs_root, fs, Some(tree));
    let procfs = match procfs {
        Ok(p) => Some(p),
        Err(e) => {
            eprintln!("wattlens: --procfs-root: {e}; CPU time and memory are not measured");
            None
        }
    };
    // The command starts first; probing the sources (loading NVML) overlaps with it. CPU time is
    // counted from the command's start whatever the first poll's time.
    let sampler = Sampler::start(SamplerConfig {
        interval,
        procfs,
        sources: sources(a),
        record,
        inputs,
    });
    // The command runs already: a pipe that cannot be read is a warning, not an error.
    let listener = pipe.and_then(|p| {
        p.listen(sampler.marker())
            .map_err(|e| eprintln!("wattlens: {e:#}; marks are ignored"))
            .ok()
    });
    let sig = std::thread::spawn(move || forward(&mut signals, pid));
    let status = status_line(&sampler, g_per_kwh, a.quiet);
    // Wait without reaping, so that the last poll still sees the child's CPU time.
    let code = wait_exit(pid);
    stop_status(status);
    // The marks the command wrote before it ended reach the sampler before its last poll.
    if let Some(l) = listener {
        l.finish();
    }
    let (m, notes) = sampler.stop(Some(code));
    let _ = child.wait();
    handle.close();
    let _ = sig.join();
    Ok(Measured::Done(
        m,
        notes,
        ExitStatus::Code(u8::try_from(code.clamp(0, 255)).unwrap_or(255)),
    ))
}

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

/// Forwards each SIGINT/SIGTERM/SIGHUP to the child once, unless the kernel sent it from the
/// terminal: then the whole foreground process group, the child included, already has it.
fn forward(
    signals: &mut signal_hook::iterator::SignalsInfo<
        signal_hook::iterator::exfiltrator::WithOrigin,
    >,
    pid: u32,
) {
    use signal_hook::low_level::siginfo::Cause;
    for origin in signals.forever() {
        if origin.cause == Cause::Kernel {
            continue;
        }
        let sig = match origin.signal {
            signal_hook::consts::SIGINT => rustix::process::Signal::INT,
            signal_hook::consts::SIGTERM => rustix::process::Signal::TERM,
            _ => rustix::process::Signal::HUP,
        };
        if let Some(p) = i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        {
            let _ = rustix::process::kill_process(p, sig);
        }
    }
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

/// On a terminal, unless `--quiet`: a live line on stderr (elapsed, watts, kWh, gCO2e at the
/// site's midpoints).
fn status_line(sampler: &Sampler, g_per_kwh: f64, quiet: bool) -> Option<Status> {
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
            let kwh = KilowattHours::from(l.energy).0;
            let _ = write!(
                std::io::stderr().lock(),
                "\r\x1b[2K  wattlens: {:>6.0} s  {:>7} W  {} kWh  {} gCO2e",
                l.elapsed.0,
                fmt_num(l.power.0),
                fmt_num(kwh),
                fmt_num(kwh * g_per_kwh)
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
