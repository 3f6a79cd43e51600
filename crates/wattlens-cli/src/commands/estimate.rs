//! `wattlens estimate train|infer|fleet|datacenter`: resolve flags, run the model, print, check budgets.

use crate::bounds;
use crate::cli::{
    DatacenterArgs, EstimateCommand, FleetArgs, Format, InferArgs, OutputArgs, TrainArgs,
};
use crate::series;
use crate::settings::{self, Config};
use crate::{ExitStatus, Output};
use anyhow::{bail, Context, Result};
use wattlens::catalog::Catalog;
use wattlens::estimate::datacenter::Breakdown;
use wattlens::estimate::infer::Volume;
use wattlens::estimate::resolve::{
    self, Basis, DatacenterInputs, FleetInputs, HardwareInputs, InferInputs, Precision, TrainInputs,
};
use wattlens::figure::Figure;
use wattlens::input::Dim;
use wattlens::report::{self, compare};
use wattlens::result::Report;
use wattlens::uncertainty::{fmt_human, Range};

/// Parses a flag's value with units and checks it against the flag's plausible bounds.
fn range(flag: &str, text: Option<&str>, dim: Dim) -> Result<Option<Range>> {
    bounds::check(flag, settings::range(flag, text, dim)?)
}

/// [`settings::range_in`], bounded.
fn range_in(flag: &str, text: Option<&str>, dim: Dim, unit: &str) -> Result<Option<Range>> {
    bounds::check(flag, settings::range_in(flag, text, dim, unit)?)
}

/// [`settings::count`], bounded.
fn count(flag: &str, text: Option<&str>) -> Result<Option<Range>> {
    bounds::check(flag, settings::count(flag, text)?)
}

/// [`settings::period`], bounded under the flag that was given.
fn period(hours: Option<&str>, days: Option<&str>) -> Result<Option<Range>> {
    let flag = if hours.is_some() { "--hours" } else { "--days" };
    bounds::check(flag, settings::period(hours, days)?)
}

/// [`settings::hardware`], bounded.
fn hardware(a: &crate::cli::HardwareArgs) -> Result<HardwareInputs> {
    let hw = settings::hardware(a)?;
    bounds::check("--server-power", hw.server_power)?;
    bounds::check("--gpus-per-server", hw.gpus_per_server)?;
    bounds::check("--load", hw.load)?;
    Ok(hw)
}

/// `--power-cap`: a share of board power (`70%`) or watts (`450W`).
fn power_cap(text: Option<&str>) -> Result<Option<wattlens::estimate::power_cap::CapInput>> {
    text.map(|t| {
        wattlens::estimate::power_cap::CapInput::parse(t).with_context(|| {
            "invalid value for --power-cap (a share of board power such as 70%, or watts such as 450W)"
        })
    })
    .transpose()
}

/// Runs an estimate subcommand.
pub fn run(
    cmd: &EstimateCommand,
    cat: &Catalog,
    cfg: &Config,
    out: &mut Output,
    ledger: &crate::history::Place,
) -> Result<ExitStatus> {
    if crate::commands::vary::wanted(cmd) {
        return crate::commands::vary::run(cmd, cat, cfg, out, ledger);
    }
    let started = jiff::Timestamp::now();
    let (mut estimate, o, site) = match cmd {
        EstimateCommand::Train(a) => (train(a, cat, cfg)?, &a.out, &a.site),
        EstimateCommand::Fleet(a) => (fleet(a, cat, cfg)?, &a.out, &a.site),
        EstimateCommand::Infer(a) => (infer(a, cat, cfg)?, &a.out, &a.site),
        EstimateCommand::Datacenter(a) => (datacenter(a, cat, cfg)?, &a.out, &a.site),
    };
    crate::flags::name_fields(&mut estimate, site, &cfg.site);
    let limits = budget_limits(o.max_carbon.as_deref(), o.max_energy.as_deref())?;
    finite(&estimate, site, &cfg.site)?;
    print(&estimate, o, out)?;
    let status = budgets(&estimate, &limits);
    if o.save {
        save(&estimate, started, ledger);
    }
    Ok(status)
}

/// `--save`: the estimate in the run history, after its output; a failure is a warning and
/// leaves the exit code as it is.
fn save(e: &Report, started: jiff::Timestamp, ledger: &crate::history::Place) {
    // The bytes `--json` prints (without a `--compare` section).
    let json = match serde_json::to_value(e).and_then(|v| serde_json::to_string_pretty(&v)) {
        Ok(j) => j + "\n",
        Err(err) => return eprint!("{}", crate::history::warning(&err.into())),
    };
    let command = format!("estimate {}", e.kind);
    let host = crate::history::host_name();
    let entry = crate::history::Entry {
        started,
        kind: "estimate",
        command: &command,
        host: host.as_deref(),
        tags: &std::collections::BTreeMap::new(),
        exit_code: None,
        json: &json,
    };
    if let Err(err) = crate::history::save(ledger, &entry, e) {
        eprint!("{}", crate::history::warning(&err));
    }
}

fn train(a: &TrainArgs, cat: &Catalog, cfg: &Config) -> Result<Report> {
    let mut e = train_ready(a, cat, cfg)?.run();
    train_checks(&mut e, a)?;
    Ok(e)
}

/// The checks of a training estimate's result: an implied MFU above 1, a duration beyond
/// 1,000 years.
pub(crate) fn train_checks(e: &mut Report, a: &TrainArgs) -> Result<()> {
    implied_mfu(e, a)?;
    computed_duration(e, a)
}

/// A training estimate resolved and placed on its series, ready to run.
pub(crate) fn train_ready(
    a: &TrainArgs,
    cat: &Catalog,
    cfg: &Config,
) -> Result<Ready<wattlens::estimate::train::TrainSpec>> {
    let precision = Precision::parse(&a.precision).with_context(|| {
        format!(
            "invalid value for --precision: {:?}; use fp32, bf16, fp16, fp8 or int8",
            a.precision
        )
    })?;
    if precision == Precision::Int4 {
        bail!("invalid value for --precision: int4 is an inference weight format; use fp32, bf16, fp16, fp8 or int8");
    }
    let inputs = TrainInputs {
        model: a.model.clone(),
        params: range("--params", a.params.as_deref(), Dim::Count)?,
        active_params: range("--active-params", a.active_params.as_deref(), Dim::Count)?,
        tokens: range("--tokens", a.tokens.as_deref(), Dim::Count)?,
        flops: range("--flops", a.flops.as_deref(), Dim::Count)?,
        gpus: count("--gpus", a.gpus.as_deref())?,
        servers: count("--servers", a.servers.as_deref())?,
        wall_h: range_in("--days", a.days.as_deref(), Dim::Time, "d")?,
        gpu_hours: range("--gpu-hours", a.gpu_hours.as_deref(), Dim::Count)?,
        mfu: range("--mfu", a.mfu.as_deref(), Dim::Fraction)?,
        precision,
        basis: a.power_basis.as_deref().map(|b| match b {
            "server" => Basis::Server,
            "measured" => Basis::Measured,
            _ => Basis::Tdp,
        }),
        gpu_power: settings::power("--gpu-power", a.gpu_power.as_deref())?,
        interruptions: count("--interruptions", a.interruptions.as_deref())?,
        mtbf_h: range_in("--mtbf", a.mtbf.as_deref(), Dim::Time, "h")?,
        checkpoint_h: range_in(
            "--checkpoint-minutes",
            a.checkpoint_minutes.as_deref(),
            Dim::Time,
            "min",
        )?,
        restart_h: range_in(
            "--restart-minutes",
            a.restart_minutes.as_deref(),
            Dim::Time,
            "min",
        )?,
        interval_h: range_in(
            "--checkpoint-interval",
            a.checkpoint_interval.as_deref(),
            Dim::Time,
            "min",
        )?,
        hw: hardware(&a.hw)?,
        power_cap: power_cap(a.power_cap.as_deref())?,
    };
    let site = settings::site(&a.site, &cfg.site)?;
    let placed = series::for_estimate(&a.site, &a.when, &cfg.site)?;
    let r = resolve::train(cat, &inputs, &site)?;
    let mc = settings::mc(&a.out, cfg)?;
    // The span is the duration (failure losses included), as the model has it: the shortest
    // and longest over the estimate's own samples (a pre-pass with the draws the estimate on
    // the series makes), so the series must cover the longest.
    let (hours, central) = match &placed {
        Some(_) => {
            let mut probe = r.spec.clone();
            probe.site = wattlens::grid::with_series_draws(&r.spec.site, site.cfe);
            let p = wattlens::runner::periods(&probe, mc);
            (Range::new(p.shortest.0, p.longest.0), p.central.0)
        }
        None => (Range::point(0.0), 0.0),
    };
    place(
        r,
        |s| &mut s.site,
        placed.as_ref(),
        (hours, central),
        site.cfe,
        mc,
    )
}

/// The longest duration a run may take, days: the 1,000 years `--days` accepts.
const MAX_DURATION_D: f64 = 1000.0 * 365.0;

/// A duration wattlens computed (from compute and MFU, from accelerator-hours, stretched by
/// failures) beyond the 1,000 years `--days` accepts can only be a slip in the inputs: at the
/// P50 an error naming them; only in the upper tail of ranges, a note that comes first.
fn computed_duration(e: &mut Report, a: &TrainArgs) -> Result<()> {
    let Some(d) = e.get(Figure::Duration) else {
        return Ok(());
    };
    // A figure that is not finite is refused by the finiteness check that follows.
    if !d.p95.is_finite() || d.p95 <= MAX_DURATION_D {
        return Ok(());
    }
    let inputs = given(
        a,
        &[
            "--flops",
            "--params",
            "--active-params",
            "--tokens",
            "--model",
            "--gpu-hours",
            "--gpus",
            "--mfu",
            "--interruptions",
            "--mtbf",
        ],
    );
    let what = |days: f64| {
        format!(
            "the run would take {} years, beyond the 1,000 years any run can last: check the value and unit of {} (a count in the wrong unit, too few accelerators, or too low an MFU)",
            fmt_human(days / 365.0),
            if inputs.is_empty() {
                "the inputs".to_string()
            } else {
                inputs.join(", ")
            }
        )
    };
    if d.p50 > MAX_DURATION_D {
        bail!("{}", what(d.p50));
    }
    e.notes.insert(
        0,
        format!("in the upper tail of the ranges (P95): {}", what(d.p95)),
    );
    Ok(())
}

/// Which of `flags` the user gave to `estimate train`, in the order asked, for messages that
/// name the inputs that disagree.
fn given(a: &TrainArgs, flags: &[&'static str]) -> Vec<&'static str> {
    let set = |flag: &str| match flag {
        "--flops" => a.flops.is_some(),
        "--params" => a.params.is_some(),
        "--active-params" => a.active_params.is_some(),
        "--tokens" => a.tokens.is_some(),
        "--model" => a.model.is_some(),
        "--gpu-hours" => a.gpu_hours.is_some(),
        "--gpus" => a.gpus.is_some(),
        "--mfu" => a.mfu.is_some(),
        "--interruptions" => a.interruptions.is_some(),
        "--mtbf" => a.mtbf.is_some(),
        _ => false,
    };
    flags.iter().copied().filter(|f| set(f)).collect()
}

/// An implied MFU above 1 is impossible: the compute cannot be done in the time given on the
/// accelerators given. At the P50 it is an error naming the inputs that disagree; only in the
/// upper tail of ranges, a note that comes first.
fn implied_mfu(e: &mut Report, a: &TrainArgs) -> Result<()> {
    let Some(m) = e.get(Figure::ImpliedMfu) else {
        return Ok(());
    };
    if m.p95 <= 1.0 {
        return Ok(());
    }
    let compute = given(
        a,
        &[
            "--flops",
            "--params",
            "--active-params",
            "--tokens",
            "--model",
        ],
    );
    let time = if a.days.is_some() {
        "--days"
    } else {
        "--gpu-hours"
    };
    let hw = if a.gpus.is_some() {
        "--gpus and the accelerator's --precision peak"
    } else {
        "the accelerators and their --precision peak"
    };
    // The message names the value that is above 1: the P50, or (a note) the P95.
    let what = |v: f64| {
        format!(
            "an implied MFU of {} is impossible (above 1): the compute ({}) cannot run in the time given ({time}) on {hw}; one of them is wrong (a lower-precision peak needs --precision, e.g. fp8)",
            fmt_human(v),
            compute.join(", ")
        )
    };
    if m.p50 > 1.0 {
        bail!("{}", what(m.p50));
    }
    e.notes.insert(
        0,
        format!("in the upper tail of the ranges (P95): {}", what(m.p95)),
    );
    Ok(())
}

fn fleet(a: &FleetArgs, cat: &Catalog, cfg: &Config) -> Result<Report> {
    Ok(match fleet_ready(a, cat, cfg)? {
        Fleet::Growth(e) => *e,
        Fleet::Ready(r) => r.run(),
    })
}

/// A fleet estimate: a growth trajectory (`--years` ..., run already), or one estimate ready
/// to run.
pub(crate) enum Fleet {
    /// The trajectory's result.
    Growth(Box<Report>),
    /// One estimate, resolved and placed.
    Ready(Box<Ready<wattlens::estimate::fleet::FleetSpec>>),
}

/// A fleet estimate resolved and placed, ready to run (a trajectory is run at once).
pub(crate) fn fleet_ready(a: &FleetArgs, cat: &Catalog, cfg: &Config) -> Result<Fleet> {
    let inputs = FleetInputs {
        servers: count("--servers", a.servers.as_deref())?,
        hours: period(a.hours.as_deref(), a.days.as_deref())?,
        it_power: settings::power("--it-power", a.it_power.as_deref())?,
        energy: range("--energy", a.energy.as_deref(), Dim::Energy)?,
        hw: hardware(&a.hw)?,
    };
    let site = settings::site(&a.site, &cfg.site)?;
    let growth = super::fleet_growth::inputs(&a.growth)?;
    if growth.any() {
        return super::fleet_growth::run(a, cat, cfg, &inputs, &site, &growth)
            .map(|e| Fleet::Growth(Box::new(e)));
    }
    let placed = series::for_estimate(&a.site, &a.when, &cfg.site)?;
    let r = resolve::fleet(cat, &inputs, &site)?;
    let hours = r.spec.hours;
    place(
        r,
        |s| &mut s.site,
        placed.as_ref(),
        (hours, hours.mid()),
        site.cfe,
        settings::mc(&a.out, cfg)?,
    )
    .map(|r| Fleet::Ready(Box::new(r)))
}

fn infer(a: &InferArgs, cat: &Catalog, cfg: &Config) -> Result<Report> {
    Ok(infer_ready(a, cat, cfg)?.run())
}

/// An inference estimate resolved and placed, ready to run.
pub(crate) fn infer_ready(
    a: &InferArgs,
    cat: &Catalog,
    cfg: &Config,
) -> Result<Ready<wattlens::estimate::infer::InferSpec>> {
    let precision = Precision::parse(&a.precision).with_context(|| {
        format!(
            "invalid value for --precision: {:?}; use fp32, bf16, fp16, fp8, int8 or int4",
            a.precision
        )
    })?;
    let inputs = InferInputs {
        model: a.model.clone(),
        params: range("--params", a.params.as_deref(), Dim::Count)?,
        active_params: range("--active-params", a.active_params.as_deref(), Dim::Count)?,
        hw: HardwareInputs {
            gpu: a.gpu.clone(),
            server: a.server.clone(),
            ..HardwareInputs::default()
        },
        gpus: count("--gpus", a.gpus.as_deref())?,
        input_tokens: count("--input-tokens", a.input_tokens.as_deref())?,
        output_tokens: count("--output-tokens", a.output_tokens.as_deref())?,
        batch: count("--batch", a.batch.as_deref())?,
        precision,
        requests: count("--requests", a.requests.as_deref())?,
        requests_per_day: range(
            "--requests-per-day",
            a.requests_per_day.as_deref(),
            Dim::Count,
        )?,
        energy_per_request: range(
            "--energy-per-request",
            a.energy_per_request.as_deref(),
            Dim::Energy,
        )?,
        utilization: range("--utilization", a.utilization.as_deref(), Dim::Fraction)?,
        mfu: range("--mfu", a.mfu.as_deref(), Dim::Fraction)?,
        mbu: range("--mbu", a.mbu.as_deref(), Dim::Fraction)?,
        power_cap: power_cap(a.power_cap.as_deref())?,
        device: a.device.clone(),
        charger: a.charger.clone(),
    };
    let site = settings::site(&a.site, &cfg.site)?;
    let placed = series::for_estimate(&a.site, &a.when, &cfg.site)?;
    let r = resolve::infer(cat, &inputs, &site)?;
    // A day of requests spans the day; a count of requests has no time of its own in the
    // model: it is placed at --start (one second).
    let hours = Range::point(match r.spec.volume {
        Volume::PerDay(_) => 24.0,
        Volume::Requests(_) => 1.0 / 3600.0,
        _ if placed.is_some() => {
            bail!("--series: this kind of request volume has no span to place")
        }
        _ => 0.0,
    });
    place(
        r,
        |s| &mut s.site,
        placed.as_ref(),
        (hours, hours.mid()),
        site.cfe,
        settings::mc(&a.out, cfg)?,
    )
}

fn datacenter(a: &DatacenterArgs, cat: &Catalog, cfg: &Config) -> Result<Report> {
    Ok(datacenter_ready(a, cat, cfg)?.run())
}

/// A data-centre estimate resolved and placed, ready to run.
pub(crate) fn datacenter_ready(
    a: &DatacenterArgs,
    cat: &Catalog,
    cfg: &Config,
) -> Result<Ready<wattlens::estimate::datacenter::DatacenterSpec>> {
    let inputs = DatacenterInputs {
        it_power: settings::power("--it-power", a.it_power.as_deref())?,
        servers: count("--servers", a.servers.as_deref())?,
        hours: period(a.hours.as_deref(), a.days.as_deref())?,
        breakdown: a
            .breakdown
            .as_deref()
            .map(Breakdown::parse)
            .transpose()
            .map_err(|e| anyhow::anyhow!(crate::flags::error(&e)))?,
        rack_power: settings::power("--rack-power", a.rack_power.as_deref())?,
        servers_per_rack: count("--servers-per-rack", a.servers_per_rack.as_deref())?,
        hw: hardware(&a.hw)?,
    };
    let site = settings::site(&a.site, &cfg.site)?;
    let placed = series::for_estimate(&a.site, &a.when, &cfg.site)?;
    let r = resolve::datacenter(cat, &inputs, &site)?;
    settings::warn_breakdown_pue(inputs.breakdown.as_ref());
    let hours = r.spec.hours;
    place(
        r,
        |s| &mut s.site,
        placed.as_ref(),
        (hours, hours.mid()),
        site.cfe,
        settings::mc(&a.out, cfg)?,
    )
}

/// A resolved estimate placed on its series (when it has one), with its sampling options:
/// what [`Ready::run`] runs, and what `--vary` runs beside its variants.
pub(crate) struct Ready<M> {
    /// The resolved estimate.
    pub r: wattlens::Resolved<M>,
    /// What placing it on `--series` gave.
    pub outcome: Option<series::Outcome>,
    /// Samples and seed.
    pub mc: wattlens::runner::McOptions,
}

impl<M: wattlens::runner::Evaluate + Sync> Ready<M> {
    /// Runs it and labels the result with its basis (`series::finish`).
    pub(crate) fn run(self) -> Report {
        self.run_keeping(&[]).0
    }

    /// [`Ready::run`], also keeping the samples of the figures `keep` (what `--vary` pairs).
    pub(crate) fn run_keeping(self, keep: &[Figure]) -> (Report, wattlens::runner::Columns) {
        let (mut e, kept) = wattlens::estimate::run_resolved_keeping(self.r, self.mc, keep);
        series::finish(&mut e, self.outcome);
        (e, kept)
    }
}

/// Places a resolved estimate: with `--series`, at `--start` over its span (`hours` over its
/// evaluations, the central one's second).
fn place<M: wattlens::runner::Evaluate + Sync>(
    mut r: wattlens::Resolved<M>,
    site_of: fn(&mut M) -> &mut wattlens::footprint::Site,
    placed: Option<&(series::Loaded, jiff::Timestamp)>,
    (hours, central): (Range, f64),
    cfe: Option<Range>,
    mc: wattlens::runner::McOptions,
) -> Result<Ready<M>> {
    let outcome = placed
        .map(|(l, start)| {
            l.estimate(
                *start,
                hours,
                central,
                site_of(&mut r.spec),
                cfe,
                &mut r.assumptions,
            )
        })
        .transpose()?;
    Ok(Ready { r, outcome, mc })
}

pub(crate) fn print(e: &Report, o: &OutputArgs, out: &mut Output) -> Result<()> {
    let format = if o.json { Format::Json } else { o.format };
    let cmp = o.compare.as_deref().map(|p| comparison(e, p)).transpose()?;
    let text = match format {
        Format::Json => {
            let mut v = serde_json::to_value(e)?;
            if let Some(c) = &cmp {
                v["comparison"] = c.to_json();
            }
            let mut s = serde_json::to_string_pretty(&v)?;
            s.push('\n');
            s
        }
        Format::Csv if cmp.is_some() => {
            bail!("--compare works with --format table, markdown or json, not csv")
        }
        Format::Csv => report::csv(e)?,
        Format::Markdown => {
            report::markdown(e, o.explain) + &cmp.map_or(String::new(), |c| c.render(true))
        }
        Format::Table => {
            report::table(e, o.explain) + &cmp.map_or(String::new(), |c| c.render(false))
        }
    };
    out.stdout(&text)
}

/// The `--compare FILE` section: the file read, parsed and matched figure by figure. A file
/// that is not a regular file (a pipe, a device: opening a FIFO would wait for a writer, and
/// `/dev/zero` never ends) or is larger than [`compare::MAX_FILE_BYTES`] is refused before it
/// is read whole.
fn comparison(e: &Report, path: &std::path::Path) -> Result<compare::Comparison> {
    use std::io::Read;
    let shown = path.display().to_string();
    let cannot = || format!("--compare {shown}: cannot read the file");
    if !std::fs::metadata(path).with_context(cannot)?.is_file() {
        bail!(
            "--compare {shown}: not a regular file (a pipe, a device or a folder); give the \
             file that `--json` wrote"
        );
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(compare::MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .with_context(cannot)?;
    if bytes.len() as u64 > compare::MAX_FILE_BYTES {
        bail!(
            "--compare {shown}: larger than {} MiB, more than any footprint JSON: is it the \
             right file? Give the file that `--json` wrote",
            compare::MAX_FILE_BYTES / (1024 * 1024)
        );
    }
    // Worded as `read_to_string` words it.
    let text = String::from_utf8(bytes)
        .map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            )
        })
        .with_context(cannot)?;
    // A byte-order mark (some Windows editors write one) is not part of the JSON.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    wattlens::json_keys::check_unique_keys(text).with_context(|| {
        format!("--compare {shown}: not JSON with each key once; give the file that `--json` wrote")
    })?;
    let v: serde_json::Value = serde_json::from_str(text).with_context(|| {
        format!("--compare {shown}: not JSON; give the file that `--json` wrote")
    })?;
    // The library's errors name the file already.
    compare::read(&v, &shown)
        .and_then(|other| compare::compare(e, &other, &shown))
        .map_err(|e| anyhow::anyhow!("--compare {e}"))
}

/// The last line of defence: a figure that overflowed (inf/NaN) is never printed; the error
/// names the flags the user gave, one of which is out of scale.
pub(crate) fn finite(
    e: &Report,
    site: &crate::cli::SiteArgs,
    cfg: &crate::settings::ConfigSite,
) -> Result<()> {
    let bad = e.non_finite();
    if bad.is_empty() {
        return Ok(());
    }
    // A value from the config file is named by its file and key.
    let flags: Vec<String> = e
        .user_fields()
        .into_iter()
        .map(|f| settings::name_of(site, cfg, crate::flags::flag(f)))
        .collect();
    bail!(
        "the inputs are too extreme to compute ({} would not be a finite number); check the value and unit of {}",
        bad.iter().take(3).cloned().collect::<Vec<_>>().join(", "),
        if flags.is_empty() {
            "the numeric flags".to_string()
        } else {
            flags.join(", ")
        }
    )
}

/// Whether a P50 keeps within a budget: a figure that is not finite never does (fail closed).
fn within(p50: f64, max: f64) -> bool {
    p50.is_finite() && p50 <= max
}

/// The budgets, parsed before anything is printed (a bad budget never follows a result).
pub(crate) struct Budgets {
    carbon_kg: Option<f64>,
    energy_kwh: Option<f64>,
}

/// `--max-carbon` and `--max-energy`, each a single value with its unit.
pub(crate) fn budget_limits(max_carbon: Option<&str>, max_energy: Option<&str>) -> Result<Budgets> {
    let one = |flag: &str, text: Option<&str>, dim: Dim| -> Result<Option<f64>> {
        match range(flag, text, dim)? {
            Some(max) if !max.is_point() => {
                bail!("invalid value for {flag}: a budget is a single value")
            }
            Some(max) => Ok(Some(max.lo)),
            None => Ok(None),
        }
    };
    Ok(Budgets {
        carbon_kg: one("--max-carbon", max_carbon, Dim::Mass)?,
        energy_kwh: one("--max-energy", max_energy, Dim::Energy)?,
    })
}

fn budgets(e: &Report, b: &Budgets) -> ExitStatus {
    let over = over_budget(e, b);
    for line in &over {
        eprintln!("{line}");
    }
    if over.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    }
}

/// A line for each budget the P50 exceeds (none: within every budget).
pub(crate) fn over_budget(e: &Report, b: &Budgets) -> Vec<String> {
    let mut over = Vec::new();
    if let Some(max) = b.carbon_kg {
        let p50 = e.get(Figure::Carbon).map_or(f64::NAN, |p| p.p50);
        if !within(p50, max) {
            over.push(format!(
                "wattlens: carbon budget exceeded: P50 {} > --max-carbon {}",
                report::fmt_mass_kg(p50),
                report::fmt_mass_kg(max)
            ));
        }
    }
    if let Some(max) = b.energy_kwh {
        let p50 = e.get(Figure::FacilityEnergy).map_or(f64::NAN, |p| p.p50);
        if !within(p50, max) {
            over.push(format!(
                "wattlens: energy budget exceeded: P50 {} > --max-energy {}",
                report::fmt_energy_kwh(p50),
                report::fmt_energy_kwh(max)
            ));
        }
    }
    over
}

#[cfg(test)]
mod tests {
    use super::within;

    #[test]
    fn a_budget_fails_closed_on_a_figure_that_is_not_finite() {
        assert!(within(1.0, 1.0));
        assert!(!within(1.1, 1.0));
        assert!(!within(f64::NAN, 0.0));
        assert!(!within(f64::INFINITY, f64::MAX));
    }
}
