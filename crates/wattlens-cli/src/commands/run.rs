//! `wattlens run -- CMD`: start the command (or attach to `--pid`, or replay a trace), measure
//! it on a sampler thread, forward SIGINT/SIGTERM/SIGHUP to it once, and when it ends account
//! the measured energy through the same core as every estimate. The command owns stdout; the
//! summary goes to stderr, the JSON and CSV to files. Exit code: the command's own (128 + N
//! when signal N killed it), 127/126 when it cannot be started, 2 on a wattlens error.

use crate::cli::{Charge, RunArgs};
use crate::marks::MarkPipe;
use crate::settings::{self, Config};
use crate::ExitStatus;
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wattlens::catalog::Catalog;
use wattlens::estimate::site::{coefficient, resolve};
use wattlens::estimate::McOptions;
use wattlens::input::Dim;
use wattlens::measure::{
    account_run, replay, Measurement, ModelInputs, Policy, RunSpec, Sampler, SamplerConfig,
};
use wattlens::report;
use wattlens::source::hwmon::Hwmon;
use wattlens::source::nvml::{Nvml, NvmlGpu};
use wattlens::source::procfs::{ProcTree, Procfs};
use wattlens::source::rapl::Rapl;
use wattlens::source::replay::{Header, TraceWriter, TRACE_SCHEMA};
use wattlens::source::{Source, SourceError, StdFs};
use wattlens::uncertainty::fmt_num;
use wattlens::units::{KilowattHours, Watts};

/// Runs `wattlens run`.
pub fn run(a: &RunArgs, cat: &Catalog, cfg: &Config) -> Result<ExitStatus> {
    let interval = parse_interval(&a.interval)?;
    let mut tags = parse_tags(&a.tags)?;
    let mut assumptions = Vec::new();
    let site_inputs = settings::site(&a.site, &cfg.site)?;
    let site = resolve(cat, &site_inputs, &mut assumptions)?.site;
    // Facility carbon per kWh of IT energy at the midpoints, for the live status line.
    let g_per_kwh = site.intensity.range.mid() * site.pue.range.mid();
    let rest_share = coefficient(cat, "rest.share", "rest_share", 1.0, &mut assumptions)?;
    let dram = coefficient(cat, "dram.w_per_gb", "dram_w_per_gb", 1.0, &mut assumptions)?;
    let per_thread = coefficient(
        cat,
        "cpu.w_per_thread",
        "cpu_w_per_thread",
        1.0,
        &mut assumptions,
    )?;
    let trace = a
        .replay
        .as_deref()
        .map(wattlens::source::replay::read)
        .transpose()
        .context("--replay")?;
    // The CPU rating: --cpu-tdp, --server, the one a replayed trace recorded, the catalog row of
    // this machine's CPU; else the per-CPU default.
    let cpu_tdp = match settings::range("--cpu-tdp", a.cpu_tdp.as_deref(), Dim::Power)? {
        Some(r) => Some(Watts(r.mid())),
        None => match (&trace, &a.server) {
            (Some(t), None) => t.header.cpu_tdp_w.map(Watts),
            _ => cpu_rating(cat, a, &mut assumptions)?,
        },
    };
    let inputs = ModelInputs {
        policy: match a.charge {
            Charge::Machine => Policy::Machine,
            Charge::Processes => Policy::Processes,
        },
        cpu_tdp,
        cpu_w_per_thread: per_thread.range.mid(),
        dram_w_per_gb: dram.range.mid(),
    };
    let opts = mc(a, cfg)?;

    let (measurement, notes, exit) = if let (Some(path), Some(trace)) = (&a.replay, &trace) {
        let mut notes = Vec::new();
        if trace.torn {
            notes.push(format!(
                "{}: the last line was cut short (recording killed?); replayed what is complete",
                path.display()
            ));
        }
        for (k, v) in &trace.header.tags {
            tags.entry(k.clone()).or_insert_with(|| v.clone());
        }
        (replay(trace, inputs), notes, ExitStatus::Success)
    } else {
        let header = Header {
            schema: TRACE_SCHEMA.into(),
            started_unix_s: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
            interval_s: interval.as_secs_f64(),
            cpu_tdp_w: cpu_tdp.map(|w| w.0),
            command: a.command.clone(),
            tags: tags.clone(),
        };
        let record = a
            .record
            .as_deref()
            .map(|p| TraceWriter::create(p, &header))
            .transpose()
            .context("--record")?;
        match measure(a, interval, record, inputs, g_per_kwh)? {
            Measured::NotStarted(code) => return Ok(ExitStatus::Code(code)),
            Measured::Done(m, notes, code) => (m, notes, code),
        }
    };

    let spec = RunSpec {
        measurement,
        rest_share,
        site,
    };
    let mut e = account_run(&spec, opts, assumptions, &tags);
    e.notes.extend(notes);
    let m = &spec.measurement;
    if !a.quiet {
        eprint!("{}", report::run_summary(&e));
    }
    let mut failed = None;
    if let Some(path) = &a.json {
        let mut s = serde_json::to_string_pretty(&e.to_json())?;
        s.push('\n');
        if let Err(err) = std::fs::write(path, s) {
            failed = Some(format!("cannot write --json {}: {err}", path.display()));
        }
    }
    if let Some(path) = &a.csv {
        let info = report::RunInfo {
            timestamp: iso8601_now(),
            project: tags
                .get("project")
                .cloned()
                .unwrap_or_else(|| "wattlens".into()),
            run_id: format!(
                "{:x}-{:x}",
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos()),
                std::process::id()
            ),
            experiment: tags.get("experiment").cloned().unwrap_or_default(),
            country_iso_code: site_inputs.grid.clone().unwrap_or_default(),
            cpu_count: m.cpus,
            gpu_count: m.gpus.len(),
            ram_total_gb: m.mem_total_gb,
            cpu_utilization_percent: if m.duration.0 > 0.0 {
                100.0 * m.tree_cpu_s / (f64::from(m.cpus) * m.duration.0)
            } else {
                0.0
            },
            tracking_mode: match m.policy {
                Policy::Machine => "machine".into(),
                Policy::Processes => "process".into(),
            },
        };
        if let Err(err) = append_csv(path, &e, &info) {
            failed = Some(format!("cannot append --csv {}: {err:#}", path.display()));
        }
    }
    if let Some(msg) = failed {
        eprintln!("error: {msg}");
        return Ok(match exit {
            ExitStatus::Code(c) if c != 0 => exit,
            _ => ExitStatus::Error,
        });
    }
    Ok(exit)
}

/// The rated CPU power of the machine from the catalog: `--server`'s row, else a server row
/// whose CPU model is the one `PROCFS/cpuinfo` names, times the sockets it counts.
fn cpu_rating(
    cat: &Catalog,
    a: &RunArgs,
    out: &mut Vec<wattlens::explain::Assumption>,
) -> Result<Option<Watts>> {
    use wattlens::explain::{Assumption, Origin};
    let servers = cat.servers()?;
    let found = if let Some(name) = &a.server {
        let s = servers.get(name).context("--server")?;
        let (Some(tdp), Some(n)) = (s.cpu_tdp_w, s.cpu_sockets) else {
            bail!("--server {name}: the catalog row has no CPU rating; give --cpu-tdp");
        };
        Some((tdp * n, format!("--server {}: {n} x {tdp} W", s.name)))
    } else {
        let text = std::fs::read_to_string(a.procfs_root.join("cpuinfo")).unwrap_or_default();
        let norm = |t: &str| {
            t.replace("(R)", " ")
                .replace("(TM)", " ")
                .to_ascii_lowercase()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        };
        let model = text
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|r| r.split_once(':'))
            .map(|(_, m)| norm(m))
            .unwrap_or_default();
        let sockets = text
            .lines()
            .filter_map(|l| l.strip_prefix("physical id"))
            .filter_map(|r| r.split_once(':').map(|(_, v)| v.trim().to_string()))
            .collect::<std::collections::BTreeSet<_>>()
            .len()
            .max(1);
        let candidates = servers.rows_where("cpu_model", |cpu| {
            let cpu = norm(cpu);
            !model.is_empty() && !cpu.is_empty() && model.contains(&cpu)
        })?;
        candidates.into_iter().find_map(|s| {
            let cpu = norm(s.cpu_model.as_deref()?);
            let tdp = s.cpu_tdp_w?;
            (!model.is_empty() && !cpu.is_empty() && model.contains(&cpu)).then(|| {
                (
                    tdp * sockets as f64,
                    format!("{cpu} (catalog row {}): {sockets} x {tdp} W", s.name),
                )
            })
        })
    };
    Ok(found.map(|(w, source)| {
        out.push(Assumption {
            name: "cpu_tdp".into(),
            value: format!("{w} W"),
            origin: if a.server.is_some() {
                Origin::User
            } else {
                Origin::Catalog
            },
            source: Some(source),
        });
        Watts(w)
    }))
}

/// Monte Carlo samples of a run unless told: the measured ranges are plain uniform bands, for
/// which 2,000 samples put P5/P95 within about 0.5% of the band's width, and the sampling stays
/// under a millisecond after the command ends (10,000 would add ~3 ms to every run).
const RUN_SAMPLES: usize = 2_000;

fn mc(a: &RunArgs, cfg: &Config) -> Result<McOptions> {
    settings::mc_with(a.samples.as_deref(), a.seed, cfg, RUN_SAMPLES)
}

/// `1`, `1s`, `0.5s`, `100ms`.
fn parse_interval(text: &str) -> Result<Duration> {
    let t = text.trim();
    let (num, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else {
        (t, 1.0)
    };
    let v: f64 = num
        .trim()
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .with_context(|| format!("invalid value for --interval: {text:?} (e.g. 1s, 100ms)"))?;
    let secs = v * scale;
    if !(0.01..=3600.0).contains(&secs) {
        bail!("invalid value for --interval: {text:?} must be between 10ms and 1h");
    }
    Ok(Duration::from_secs_f64(secs))
}

fn parse_tags(tags: &[String]) -> Result<BTreeMap<String, String>> {
    tags.iter()
        .map(|t| match t.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().into(), v.trim().into())),
            _ => bail!("invalid value for --tag: {t:?} is not KEY=VALUE"),
        })
        .collect()
}

/// The energy sources present on this machine; absent ones are skipped quietly, unreadable
/// ones with one message.
fn sources(a: &RunArgs) -> Vec<Box<dyn Source>> {
    let mut out: Vec<Box<dyn Source>> = Vec::new();
    match Rapl::from_root(&a.sysfs_root, a.psys) {
        Ok(r) => out.push(Box::new(r)),
        Err(SourceError::Absent(_)) => {}
        Err(e) => eprintln!("wattlens: {e}\nwattlens: falling back to the modelled CPU power"),
    }
    if let Ok(mut h) = Hwmon::from_root(&a.sysfs_root) {
        let rocr = std::env::var(crate::env::ROCR_VISIBLE_DEVICES).ok();
        let hip = std::env::var(crate::env::HIP_VISIBLE_DEVICES).ok();
        if let Some(note) = h.restrict(&a.sysfs_root, rocr.as_deref(), hip.as_deref()) {
            eprintln!("wattlens: {note}");
        }
        if !h.gpus().is_empty() {
            out.push(Box::new(h));
        }
    }
    let visible = std::env::var(crate::env::CUDA_VISIBLE_DEVICES).ok();
    if let Ok(devices) = NvmlGpu::all() {
        match Nvml::from_devices(devices, visible.as_deref()) {
            Ok(n) => {
                if let Some(u) = n.unmatched() {
                    eprintln!(
                        "wattlens: CUDA_VISIBLE_DEVICES entry {u:?} matches no GPU; like CUDA, \
                         it and the entries after it are not measured (see `nvidia-smi -L`)"
                    );
                }
                out.push(Box::new(n));
            }
            // An empty list is a deliberate "no GPU"; one that names nothing is worth a line.
            Err(e) if visible.as_deref().is_some_and(|v| !v.trim().is_empty()) => {
                eprintln!("wattlens: {e}; GPUs are not measured");
            }
            Err(_) => {}
        }
    }
    out
}

enum Measured {
    /// The command could not be started: 127 (not found) or 126 (not executable).
    NotStarted(u8),
    Done(Measurement, Vec<String>, ExitStatus),
}

fn measure(
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

fn append_csv(path: &Path, e: &wattlens::estimate::Estimate, info: &report::RunInfo) -> Result<()> {
    let existing = std::fs::read_to_string(path).unwrap_or_default();
    let header: Option<Vec<String>> = existing.lines().next().filter(|l| !l.is_empty()).map(|l| {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(l.as_bytes())
            .records()
            .next()
            .and_then(Result::ok)
            .map(|r| r.iter().map(str::to_string).collect())
            .unwrap_or_default()
    });
    let row = report::codecarbon_row(e, info, header.as_deref())?;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    if !existing.is_empty() && !existing.ends_with('\n') {
        f.write_all(b"\n")?;
    }
    f.write_all(row.as_bytes())?;
    Ok(())
}

/// Now as `YYYY-MM-DDTHH:MM:SS` UTC (days to civil date: H. Hinnant's algorithm).
fn iso8601_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
