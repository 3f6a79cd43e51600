//! `wattlens run -- CMD`: start the command (or attach to `--pid`, or replay a trace), measure
//! it with a library meter of one process-tree consumer, forward SIGINT/SIGTERM/SIGHUP to it
//! once, and when it ends account the measured energy through the same core as every estimate.
//! The command owns stdout; the summary goes to stderr (with `--format`, to stdout after the
//! command's own output), the JSON and CSV to files, then the run to the history ledger. Exit
//! code: the command's own (128 + N when signal N killed it), 127/126 when it cannot be
//! started, 2 on a wattlens error, 1 when a budget is exceeded after a command that succeeded.
//!
//! Here: flags, the site, the CPU rating, accounting and the outputs. `child.rs`: the command,
//! its signals and its meter; `sources.rs`: the energy sources; `marks.rs`: the `--marks` file;
//! `outputs.rs`: checking and writing `--json`, `--csv`, `--record`; `ledger.rs`: the run
//! history and the exit code with budgets; `pipe.rs`: writing a pipe or a device without ever
//! blocking the run; `trace.rs`: what a trace records and a replay takes from it.

mod child;
mod ledger;
mod marks;
mod outputs;
mod pipe;
mod sources;
mod trace;

use crate::cli::{Charge, RunArgs};
use crate::settings::{self, Config};
use crate::ExitStatus;
use anyhow::{bail, Context, Result};
use child::{measure, LiveScale, Measured};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use trace::Replayed;
use wattlens::catalog::Catalog;
use wattlens::estimate::site::resolve;
use wattlens::measure::{
    account_run, replay, CpuInfo, CpuRating, MeterCoefficient, ModelInputs, Policy, RatingError,
    RatingSource, RunSpec,
};
use wattlens::report;
use wattlens::runner::McOptions;
use wattlens::source::replay::{Header, Settings, TraceWriter, TRACE_SCHEMA};
use wattlens::uncertainty::{fmt_num, Range};
use wattlens::units::Watts;

/// Runs `wattlens run`.
pub fn run(
    a: &RunArgs,
    cat: &Catalog,
    cfg: &Config,
    ledger: &crate::history::Place,
) -> Result<ExitStatus> {
    if a.command.is_empty() && a.pid.is_none() && a.replay.is_none() {
        bail!(
            "give a command to measure: `wattlens run [OPTIONS] -- CMD [ARGS]...`; or attach to \
             a running process with `--pid PID`, or recompute a recorded trace with `--replay FILE`"
        );
    }
    let interval = parse_interval(&a.interval)?;
    let mut tags = crate::history::tags::parse(&a.tags)?;
    // Budgets are checked before the command starts: a bad one never follows a measurement.
    let limits =
        crate::commands::estimate::budget_limits(a.max_carbon.as_deref(), a.max_energy.as_deref())?;
    let mut held = outputs::check(a)?;
    let mut assumptions = Vec::new();
    // A replayed trace is opened first: what it recorded is the default of every setting below.
    let mut trace = a.replay.as_deref().map(trace::open).transpose()?;
    // The trace's own errors first, then flags that cannot apply to it.
    if trace.is_some() {
        trace::refuse_live_flags(a)?;
    }
    let mut replayed = match (&a.replay, &trace) {
        (Some(p), Some(t)) => Some(Replayed::new(p, t.header())),
        _ => None,
    };
    let header_notes = match &replayed {
        Some(r) => r.check_recorded(cat, &a.site)?,
        None => Vec::new(),
    };
    let site_args = match &mut replayed {
        Some(r) => r.site_args(&a.site),
        None => a.site.clone(),
    };
    let site_inputs = settings::site(&site_args, &cfg.site)?;
    let mut site = resolve(cat, &site_inputs, &mut assumptions)?.site;
    // Read before the command starts: a bad file, or a series that has not begun by now, stops
    // a live run before it costs anything.
    let series = crate::series::load(
        &a.site,
        crate::series::intensity_from(&a.site, &cfg.site).as_deref(),
    )?;
    if let (Some(l), None) = (&series, &trace) {
        crate::series::check_now(l)?;
    }
    let recorded = |name: &str, pick: fn(&Settings) -> Range, unit: &str, out: &mut Vec<_>| {
        replayed
            .as_ref()
            .and_then(|r| r.coefficient(name, pick, unit, out))
    };
    let rest_share = match recorded(
        "rest_share",
        |s| Range::new(s.rest_share[0], s.rest_share[1]),
        "",
        &mut assumptions,
    ) {
        Some(p) => p,
        None => MeterCoefficient::RestShare.lookup(cat, &mut assumptions)?,
    };
    let dram = match recorded(
        "dram_w_per_gb",
        |s| Range::point(s.dram_w_per_gb),
        "W/GB",
        &mut assumptions,
    ) {
        Some(p) => p,
        None => MeterCoefficient::DramWPerGb.lookup(cat, &mut assumptions)?,
    };
    let per_thread = match recorded(
        "cpu_w_per_thread",
        |s| Range::point(s.cpu_w_per_thread),
        "W",
        &mut assumptions,
    ) {
        Some(p) => p,
        None => MeterCoefficient::CpuWPerThread.lookup(cat, &mut assumptions)?,
    };
    // The live line's figures at the midpoints, as the summary counts them.
    let live = LiveScale {
        it_per_measured: 1.0 + rest_share.range.mid(),
        pue: site.pue.range.mid(),
        g_per_kwh: site.intensity.range.mid().value(),
    };
    // The CPU rating: --cpu-tdp, --server, the one a replayed trace recorded, the catalog row of
    // this machine's CPU; else the per-CPU default. With where it came from, for the note.
    // The CPU of this machine; a replay's was another's.
    let cpu = trace
        .is_none()
        .then(|| CpuInfo::read(&wattlens::source::StdFs, &a.procfs_root));
    let user_tdp = settings::power("--cpu-tdp", a.cpu_tdp.as_deref())?.map(|r| Watts(r.mid()));
    let (cpu_tdp, cpu_from) = match (user_tdp, &trace, &a.server) {
        (None, Some(t), None) => (
            t.header().cpu_tdp_w.map(Watts),
            t.header()
                .cpu_tdp_w
                .map(|w| format!("{w} W, as the trace recorded")),
        ),
        _ => match cpu_rating(cat, user_tdp, a.server.as_deref(), cpu.as_ref())? {
            Some(r) => match rating_source(&r.from) {
                // Given: said as given, not an assumption.
                None => (Some(r.watts), Some(format!("--cpu-tdp {} W", r.watts.0))),
                Some(source) => {
                    assumptions.push(wattlens::explain::Assumption {
                        name: "cpu_tdp".into(),
                        value: format!("{} W", r.watts.0),
                        origin: r.origin(),
                        source: Some(source.clone()),
                        field: None,
                    });
                    (Some(r.watts), Some(format!("{} W: {source}", r.watts.0)))
                }
            },
            None => (None, None),
        },
    };
    if let (Some(r), Some(t)) = (&mut replayed, &trace) {
        r.cpu_rating(t.header(), cpu_tdp.map(|w| w.0), a);
    }
    let charge = match &mut replayed {
        Some(r) => r.charge(a.charge),
        None => a.charge.unwrap_or(Charge::Processes),
    };
    let inputs = ModelInputs {
        policy: match charge {
            Charge::Machine => Policy::Machine,
            Charge::Processes => Policy::Processes,
        },
        cpu_tdp,
        cpu_w_per_thread: per_thread.range.mid(),
        dram_w_per_gb: dram.range.mid(),
    };
    let opts = mc(a, cfg)?;

    let mut record_pipe = None;
    let (measurement, notes, exit, header) = if let Some(t) = &mut trace {
        let mut notes = replayed.as_ref().map(Replayed::notes).unwrap_or_default();
        notes.extend(header_notes);
        for (k, v) in &t.header().tags {
            if tags.contains_key(k) {
                continue;
            }
            // The trace's own labels meet the same rules as --tag (a hand-edited or older
            // trace): a --tag of the same key replaces one.
            if let Some(c) =
                crate::history::tags::forbidden(k).or_else(|| crate::history::tags::forbidden(v))
            {
                bail!(
                    "--replay {}: the recorded tag {k:?} = {v:?} holds {c}; give --tag \
                     KEY=VALUE with that key to replace it",
                    a.replay.as_deref().unwrap_or(Path::new("")).display()
                );
            }
            tags.insert(k.clone(), v.clone());
        }
        let m = replay(t, inputs).context("--replay")?;
        if t.torn() {
            notes.push(format!(
                "{}: the last line was cut short (recording killed?); replayed the complete polls",
                a.replay.as_deref().unwrap_or(Path::new("")).display()
            ));
        }
        (m, notes, ExitStatus::Success, t.header().clone())
    } else {
        let started = jiff::Timestamp::now();
        let header = Header {
            schema: TRACE_SCHEMA.into(),
            #[allow(clippy::cast_precision_loss)]
            started_unix_s: started.as_nanosecond() as f64 / 1e9,
            interval_s: interval.as_secs_f64(),
            cpu_tdp_w: cpu_tdp.map(|w| w.0),
            // The program only: arguments can hold secrets.
            command: if a.record_command {
                a.command.clone()
            } else {
                a.command.iter().take(1).cloned().collect()
            },
            tags: tags.clone(),
            host: trace::host_name(),
            wattlens_version: Some(env!("CARGO_PKG_VERSION").into()),
            settings: Some(Settings {
                charge: trace::charge_str(charge).into(),
                cpu_w_per_thread: per_thread.range.mid(),
                dram_w_per_gb: dram.range.mid(),
                rest_share: [rest_share.range.lo, rest_share.range.hi],
                server: a.server.clone(),
                site: trace::site_map(&a.site, &cfg.site),
            }),
        };
        // A pipe or device is written without blocking: a reader that does not read costs
        // the measurement nothing (what it has not taken is abandoned at the end).
        let record = match (a.record.as_deref(), held.record.take()) {
            (Some(p), Some(f)) => {
                let pipe =
                    pipe::Pipe::new(f).with_context(|| format!("--record {}", p.display()))?;
                record_pipe = Some(pipe.clone());
                Some(TraceWriter::create_on(
                    p,
                    Box::new(pipe::Sink(pipe)),
                    &header,
                ))
            }
            (Some(p), None) => Some(TraceWriter::create(p, &header)),
            (None, _) => None,
        }
        .transpose()
        .context("--record")?;
        match measure(a, interval, record, inputs, live, started)? {
            Measured::NotStarted(code) => return Ok(ExitStatus::Code(code)),
            Measured::Done(m, notes, code) => (m, notes, code, header),
        }
    };

    // Carbon against --series: the measured profile from the run's own start.
    let outcome = match &series {
        Some(l) => {
            let bins = measurement.energy_bins().context("--series")?;
            if trace.is_some() {
                // A replay: an uncovered span stops it before anything is computed.
                Some(l.apply(&bins, &mut site, site_inputs.cfe, &mut assumptions)?)
            } else {
                // After a live run: never lose the measurement.
                Some(l.apply_after_run(&bins, &mut site, site_inputs.cfe, &mut assumptions)?)
            }
        }
        None => None,
    };
    // The PUE and WUE used, for the CSV (the P50 of a range is its midpoint).
    let (pue_used, wue_used) = (site.pue.range.mid(), site.wue.range.mid());
    let spec = RunSpec {
        measurement,
        rest_share,
        site,
    };
    let mut e = account_run(&spec, opts, assumptions, &tags);
    crate::series::finish(&mut e, outcome);
    let spec = std::sync::Arc::new(spec);
    let windows = windows_unless_signalled(&spec, opts, &mut e);
    e.notes.extend(notes);
    e.notes
        .extend(wattlens::estimate::site::fallback_notes(&e.assumptions));
    if let wattlens::result::Details::Run(run) = &mut e.details {
        run.provenance = Some(trace::identity(&header));
        run.replay = replayed.as_ref().map(Replayed::to_json);
    }
    let m = &spec.measurement;
    if e.components
        .iter()
        .any(|c| c.key == wattlens::figure::Figure::ComponentCpu && c.method.as_str() == "modelled")
    {
        e.notes.push(cpu_model_note(
            cpu_from.as_deref(),
            per_thread.range.mid(),
            m.cpus,
            // A rating given, or recorded in the replayed trace: no hint to give one.
            a.cpu_tdp.is_some()
                || a.server.is_some()
                || (a.replay.is_some() && header.cpu_tdp_w.is_some()),
            m.cpu_counter_read,
        ));
    }
    crate::flags::name_fields(&mut e, &a.site, &cfg.site);
    // The files first: a closed or stalled stderr must not cost the measurement. Regular files
    // are written at once; pipes and devices are queued, then given a bounded grace together.
    let mut failed = Vec::new();
    let mut pipes = Vec::new();
    if let Some(path) = &a.json {
        match outputs::write_json(path, held.json.take(), &e, &windows) {
            Ok(p) => pipes.extend(p.map(|p| ("--json", path, p))),
            Err(err) => failed.push(format!("cannot write --json {}: {err:#}", path.display())),
        }
    }
    if let Some(path) = &a.csv {
        let place = outputs::Place::of_grid(cat, site_inputs.grid.as_deref());
        let info = report::RunInfo {
            timestamp: csv_timestamp(a.replay.is_some(), m),
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
            country_name: place.country_name,
            country_iso_code: place.country_iso3,
            cloud_provider: place.cloud_provider,
            cloud_region: place.cloud_region,
            cpu_count: m.cpus,
            // The machine replaying a trace is not the one measured.
            cpu_model: cpu
                .as_ref()
                .and_then(|c| c.model.clone())
                .unwrap_or_default(),
            gpu_count: m.gpus.len(),
            ram_total: wattlens::units::Bytes(m.mem_total_gb * 1e9),
            pue: pue_used,
            wue: wattlens::units::LitresPerKwh(wue_used),
            cpu_utilization_percent: cpu_utilization_percent(m),
            tracking_mode: match m.policy {
                Policy::Machine => "machine".into(),
                Policy::Processes => "process".into(),
                other => other.as_str().into(),
            },
        };
        match outputs::append_csv(path, held.csv.take(), &e, &info) {
            Ok(p) => pipes.extend(p.map(|p| ("--csv", path, p))),
            Err(err) => failed.push(format!("cannot append --csv {}: {err:#}", path.display())),
        }
    }
    pipes.extend(
        record_pipe
            .zip(a.record.as_ref())
            .map(|(p, path)| ("--record", path, p)),
    );
    // One grace for all of them: a reader that does not read is abandoned, with a note; the
    // exit code stays the command's.
    let until = std::time::Instant::now() + pipe::PIPE_GRACE;
    let mut text = String::new();
    for (flag, path, p) in pipes {
        let left = until.saturating_duration_since(std::time::Instant::now());
        match p.finish(left) {
            Ok(()) => {}
            Err(pipe::Unfinished::Failed(why)) if flag != "--record" => {
                failed.push(format!("cannot write {flag} {}: {why}", path.display()));
            }
            Err(pipe::Unfinished::Stalled(why) | pipe::Unfinished::Failed(why)) => {
                text.push_str(&format!("wattlens: {flag} {}: {why}\n", path.display()));
            }
        }
    }
    // --format: the summary on stdout, after the command's own output, instead of on stderr.
    let mut on_stdout = None;
    match a.format {
        Some(f) => match crate::commands::history::summary(f, &e, &printable(&windows)) {
            Ok(t) => on_stdout = Some(t),
            Err(err) => failed.push(format!("cannot write the --format summary: {err:#}")),
        },
        None if !a.quiet => text.insert_str(0, &report::run_summary(&e, &printable(&windows))),
        None => {}
    }
    if let Some(out) = on_stdout {
        // Bounded: stdout may be a pipe nobody reads (abandoned, as a stalled --json pipe); a
        // closed one is no error, any other failure (a full disk, /dev/full) is.
        let written = pipe::bounded_result(pipe::PIPE_GRACE, move || {
            use std::io::Write as _;
            let mut lock = std::io::stdout().lock();
            lock.write_all(out.as_bytes()).and_then(|()| lock.flush())
        });
        if let Some(Err(err)) = written {
            if err.kind() != std::io::ErrorKind::BrokenPipe {
                failed.push(format!(
                    "cannot write the --format summary to stdout: {err}"
                ));
            }
        }
    }
    for msg in &failed {
        text.push_str(&format!("error: {msg}\n"));
    }
    let over = crate::commands::estimate::over_budget(&e, &limits);
    for line in &over {
        text.push_str(line);
        text.push('\n');
    }
    // Bounded too: stderr may be the pipe nobody reads.
    if !text.is_empty() {
        pipe::bounded(pipe::PIPE_GRACE, move || {
            eprint!("{text}");
        });
    }
    // The ledger last: everything above is already out, and its failure is only a warning.
    // The program's name (a `--pid` run has none: the PID stands for it).
    let command = header
        .command
        .first()
        .cloned()
        .or_else(|| a.pid.map(|p| format!("pid {p}")))
        .unwrap_or_default();
    if let Err(err) = ledger::record(ledger, &header, &command, &e, &windows) {
        let warning = crate::history::warning(&err);
        pipe::bounded(pipe::PIPE_GRACE, move || {
            eprint!("{warning}");
        });
    }
    Ok(ledger::status(exit, failed.is_empty(), over.is_empty()))
}

/// The windows as the terminal shows them: a name with a control character (an ESC that would
/// drive the terminal) is quoted and escaped, as the notes write it.
fn printable(
    windows: &[wattlens::measure::WindowFigures],
) -> std::borrow::Cow<'_, [wattlens::measure::WindowFigures]> {
    let raw = |w: &wattlens::measure::WindowFigures| w.name.chars().any(char::is_control);
    if !windows.iter().any(raw) {
        return std::borrow::Cow::Borrowed(windows);
    }
    windows
        .iter()
        .map(|w| {
            let mut w = w.clone();
            if raw(&w) {
                w.name = format!("{:?}", w.name);
            }
            w
        })
        .collect()
}

/// The marked windows' figures, computed on a thread of their own; a SIGINT/SIGTERM/SIGHUP
/// after the command ended stops waiting for them: the run's totals are then written without
/// its windows, with a note, within the signal's grace.
fn windows_unless_signalled(
    spec: &std::sync::Arc<RunSpec>,
    opts: McOptions,
    e: &mut wattlens::result::Report,
) -> Vec<wattlens::measure::WindowFigures> {
    if spec.measurement.windows.is_empty() {
        return Vec::new();
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let shared = std::sync::Arc::clone(spec);
    std::thread::spawn(move || {
        let _ = tx.send(wattlens::measure::windows(&shared, opts));
    });
    loop {
        if let Some(sig) = child::signalled() {
            e.notes.push(format!(
                "{sig} arrived while the {} marked windows were being accounted: the run's \
                 totals are written without them",
                spec.measurement.windows.len()
            ));
            return Vec::new();
        }
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(w) => return w,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return Vec::new(),
        }
    }
}

/// The note that says the CPU was modelled, with which rating, and how to give a better one.
fn cpu_model_note(
    from: Option<&str>,
    per_thread: f64,
    cpus: u32,
    user: bool,
    partly: bool,
) -> String {
    let rating = from.map_or_else(
        || {
            format!(
                "{} W per logical CPU x {cpus} = {} W (no catalog row matches this CPU model)",
                fmt_num(per_thread),
                fmt_num(per_thread * f64::from(cpus))
            )
        },
        str::to_string,
    );
    let hint = if user {
        ""
    } else {
        "; give --cpu-tdp POWER (all sockets together) or --server NAME for this machine's rating"
    };
    if partly {
        // Hostile round 6: a counter read for half the run was reported as never read.
        return format!(
            "the CPU energy counter (RAPL) covered only part of the run: the rest is modelled \
             from CPU time with a rating of {rating}{hint}"
        );
    }
    format!(
        "no CPU energy counter (RAPL) was read: CPU power is modelled from CPU time with a rating \
         of {rating}{hint}"
    )
}

/// The rated CPU power of the machine, through the library's resolver
/// ([`CpuRating::resolve`]), its errors said with this command's flags.
fn cpu_rating(
    cat: &Catalog,
    user_tdp: Option<Watts>,
    server: Option<&str>,
    cpu: Option<&CpuInfo>,
) -> Result<Option<CpuRating>> {
    CpuRating::resolve(cat, user_tdp, server, cpu).map_err(|e| match e {
        RatingError::UnknownServer { source, .. } => anyhow::Error::new(source).context("--server"),
        RatingError::NoCpuRating { name } => {
            anyhow::anyhow!("--server {name}: the catalog row has no CPU rating; give --cpu-tdp")
        }
        e => e.into(),
    })
}

/// Where a CPU rating from the catalog came from, in this command's words (`--server NAME: 2 x
/// 225 W`, or the catalog row of this CPU); `None` for a rating given with `--cpu-tdp`.
fn rating_source(from: &RatingSource) -> Option<String> {
    match from {
        RatingSource::User => None,
        // The library names the field (`server NAME: ...`); here it is the flag.
        RatingSource::Server { .. } => Some(format!("--{from}")),
        _ => Some(from.to_string()),
    }
}

/// Monte Carlo samples of a run unless told: the measured ranges are plain uniform bands, for
/// which 2,000 samples put P5/P95 within about 0.5% of the band's width, and the sampling stays
/// under a millisecond after the command ends (10,000 would add ~3 ms to every run).
const RUN_SAMPLES: usize = 2_000;

fn mc(a: &RunArgs, cfg: &Config) -> Result<McOptions> {
    settings::mc_with(a.samples.as_deref(), a.seed, cfg, RUN_SAMPLES)
}

/// `1`, `1s`, `0.5s`, `100ms`, `1h`, `60min`: the project's duration parser, a bare number in
/// seconds; between 10 ms and 1 h.
fn parse_interval(text: &str) -> Result<Duration> {
    let r =
        wattlens::input::parse_range_in(text, wattlens::input::Dim::Time, "s").map_err(|e| {
            anyhow::anyhow!(
                "invalid value for --interval: {}",
                wattlens::input::short_numbers(&e.to_string())
            )
        })?;
    if r.lo != r.hi {
        bail!("invalid value for --interval: {text:?} is a range; give one duration, e.g. 1s");
    }
    let secs = r.mid() * 3600.0;
    // A relative tolerance: 1h is 3600 s after the round trip through hours.
    if !(0.01 * (1.0 - 1e-9)..=3600.0 * (1.0 + 1e-9)).contains(&secs) {
        bail!(
            "invalid value for --interval: {:?} must be between 10ms and 1h",
            wattlens::input::short_numbers(text)
        );
    }
    Ok(Duration::from_secs_f64(secs.clamp(0.01, 3600.0)))
}

/// Now as `YYYY-MM-DDTHH:MM:SS` in UTC, the form of CodeCarbon's `timestamp` column.
/// The CSV row's `timestamp`: the end of the run, as CodeCarbon writes it (the time the row is
/// written, which for a live run is its end). A replay gives the recorded run's end (the trace's
/// start plus its last poll's time, the end of the energy profile), not the time it is replayed
/// (hostile round 4, item 10); a trace without a start time gives the time of the replay.
fn csv_timestamp(replay: bool, m: &wattlens::measure::Measurement) -> String {
    let last = m.profile.last().map_or(m.duration.0, |b| b.end);
    let end = m.started.filter(|_| replay).and_then(|s| {
        let d = jiff::SignedDuration::try_from_secs_f64(last).ok()?;
        s.checked_add(d).ok()
    });
    end.map_or_else(iso8601_now, |t| t.strftime("%Y-%m-%dT%H:%M:%S").to_string())
}

/// The CSV row's `cpu_utilization_percent`: charged as the whole machine (`tracking_mode`
/// `machine`), the machine's busy share of its CPU time over the run (procfs `stat`, as
/// recorded in a trace: a replay of a machine trace wrote 0 while the machine was 25% busy,
/// hostile round 4, item 10); charged as the processes, their CPU time over the CPU time
/// available. The tree's CPU time counts from its start, the duration from the first poll: a
/// first poll delayed on a loaded machine could otherwise exceed 100% (the embodied share in
/// `account_run` is capped the same way).
fn cpu_utilization_percent(m: &wattlens::measure::Measurement) -> f64 {
    if let (Policy::Machine, Some(share)) = (m.policy, m.machine_busy_share) {
        return 100.0 * share;
    }
    if m.duration.0 > 0.0 {
        (100.0 * m.tree_cpu_s / (f64::from(m.cpus) * m.duration.0)).min(100.0)
    } else {
        0.0
    }
}

fn iso8601_now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S")
        .to_string()
}
