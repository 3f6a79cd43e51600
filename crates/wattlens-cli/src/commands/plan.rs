//! `wattlens plan window`: read the series and the job (or a queue of jobs, `--jobs`), resolve
//! the site as estimates do, plan through the library (`wattlens::plan`), optionally score on a
//! realised series (`--evaluate-on`), and print a table (a single job's with a chart of the
//! intensity over its window, `wattlens::plan::chart`) or the `wattlens.plan/v1` JSON object.

use crate::cli::{PlanCommand, PlanWindowArgs, SeriesSignal};
use crate::settings::{self, Config};
use crate::{ExitStatus, Output};
use anyhow::{anyhow, bail, Context, Result};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use std::path::Path;
use wattlens::catalog::Catalog;
use wattlens::field::Field;
use wattlens::footprint::Site;
use wattlens::grid::{IntensitySeries, Signal};
use wattlens::input::Dim;
use wattlens::plan::{Interruptible, Job, PlanError, Planner, ProfileJob, WindowPlan, PLAN_SCHEMA};
use wattlens::report::fmt_mass_kg;
use wattlens::result::Report;
use wattlens::runner::McOptions;
use wattlens::uncertainty::{fmt_num, Percentiles, Range, DEFAULT_SAMPLES};

/// Runs a plan subcommand.
pub fn run(cmd: &PlanCommand, cat: &Catalog, cfg: &Config, out: &mut Output) -> Result<ExitStatus> {
    match cmd {
        PlanCommand::Window(a) => window(a, cat, cfg, out),
        PlanCommand::Checkpoint(a) => super::plan_checkpoint::run(a, cat, cfg, out),
        PlanCommand::Region(a) => super::plan_region::run(a, cat, cfg, out),
        PlanCommand::Renewable(a) => super::plan_renewable::run(a, cat, cfg, out),
    }
}

/// A queue's JSON: one single-job object per row of `--jobs`, in file order.
#[derive(Serialize)]
struct Queue<'a> {
    schema: &'static str,
    jobs: &'a [WindowPlan],
}

fn window(a: &PlanWindowArgs, cat: &Catalog, cfg: &Config, out: &mut Output) -> Result<ExitStatus> {
    if a.site.intensity.is_some() {
        bail!(
            "--intensity and --series both give the location-based intensity; a plan takes it \
             from --series"
        );
    }
    if a.site.series_fallback {
        bail!(
            "--series-fallback has no meaning for a plan: the series must cover the whole \
             window the job may run in"
        );
    }
    let Some(path) = &a.site.series else {
        bail!("plan window needs --series FILE: the carbon intensity over time to plan on");
    };
    let signal = a.site.series_signal.map(|s| match s {
        SeriesSignal::Marginal => Signal::Marginal,
        SeriesSignal::Average => Signal::Average,
    });
    let series = crate::series::read(
        path,
        a.site.series_format.as_deref(),
        a.site.series_column.as_deref(),
        a.site.series_time_column.as_deref(),
        signal,
    )
    .context("invalid value for --series")?;
    let (series, fill_note) = crate::series::fill(series, a.site.series_fill.as_deref())?;
    // A file in kg/kWh or g/MWh warns as it does for `--series` on an estimate.
    for w in crate::series::implausible(&series) {
        eprintln!("wattlens: warning: --series {}: {w}", path.display());
    }
    let actual = a
        .evaluate_on
        .as_deref()
        .map(|p| {
            let signal = Some(series.signal());
            let s = crate::series::read(p, None, a.evaluate_column.as_deref(), None, signal)
                .with_context(|| format!("invalid value for --evaluate-on {}", p.display()))?;
            // The realised series is filled as the forecast is, so both are scored alike.
            Ok::<_, anyhow::Error>(crate::series::fill(s, a.site.series_fill.as_deref())?.0)
        })
        .transpose()?;
    let inputs = settings::site(&a.site, &cfg.site)?;
    let site = wattlens::estimate::site::resolve(cat, &inputs, &mut Vec::new())?.site;
    let mc = settings::mc_with(a.samples.as_deref(), a.seed, cfg, DEFAULT_SAMPLES)?;
    if a.profile.is_some() && a.interruptible {
        bail!(
            "--interruptible cannot be used with --profile: a recorded run's profile is the \
             shape of work that ran without a pause, not a job that may be cut into chunks; plan \
             it with --duration and --power to let it pause"
        );
    }
    let rule = interruption(a)?;
    let ctx = Ctx {
        planner: Planner::new(&series),
        actual: actual.as_ref(),
        evaluate_on: a.evaluate_on.as_deref(),
        site: &site,
        mc,
    };
    let text = if let Some(file) = &a.profile {
        let job = read_profile(a, file)?;
        let mut p = ctx
            .planner
            .plan_profile(&job, &site, mc)
            .map_err(|e| anyhow!(e.render(&|f| crate::flags::flag(f).to_string())))?;
        if let (Some(actual), Some(path)) = (ctx.actual, ctx.evaluate_on) {
            p.evaluate_profile_on(actual, &job, &site, mc)
                .map_err(|e| anyhow!("--evaluate-on {}: {}", path.display(), e))?;
        }
        p.notes.extend(fill_note);
        if a.json {
            json(&p)?
        } else if a.no_chart {
            table(&p, &[])
        } else {
            // The chart shows the window the profile may run in (its span at its mean power).
            let window = Job {
                duration: job.span(),
                power_w: Range::point(p.power_kw.p50 * 1000.0),
                earliest: job.earliest,
                deadline: job.deadline,
                interruptible: None,
            };
            table(&p, &wattlens::plan::chart::plan_chart(&series, &window, &p))
        }
    } else if let Some(file) = &a.jobs {
        let jobs = read_jobs(file, rule)?;
        let mut plans = Vec::with_capacity(jobs.len());
        for (line, name, job) in jobs {
            let shown = file.display();
            let mut p = ctx
                .plan(&job, &|f| column(f))
                .map_err(|e| anyhow!("--jobs {shown}: line {line} (job {name}): {e}"))?;
            p.name = Some(name);
            p.notes.extend(fill_note.clone());
            plans.push(p);
        }
        if a.json {
            json(&Queue {
                schema: PLAN_SCHEMA,
                jobs: &plans,
            })?
        } else {
            plans
                .iter()
                .map(|p| table(p, &[]))
                .collect::<Vec<_>>()
                .join("\n")
        }
    } else {
        let job = single(a, rule)?;
        let mut p = ctx.plan(&job, &|f| crate::flags::flag(f).to_string())?;
        p.notes.extend(fill_note);
        if a.json {
            json(&p)?
        } else if a.no_chart {
            table(&p, &[])
        } else {
            table(&p, &wattlens::plan::chart::plan_chart(&series, &job, &p))
        }
    };
    out.stdout(&text)?;
    Ok(ExitStatus::Success)
}

/// What every job of a command is planned with.
struct Ctx<'a> {
    planner: Planner<'a>,
    actual: Option<&'a IntensitySeries>,
    evaluate_on: Option<&'a Path>,
    site: &'a Site,
    mc: McOptions,
}

impl Ctx<'_> {
    /// One job planned (and scored on the realised series); errors in `name`'s words.
    fn plan(&self, job: &Job, name: &dyn Fn(Field) -> String) -> Result<WindowPlan> {
        let words = |e: PlanError| anyhow!(e.render(name));
        let mut p = self.planner.plan(job, self.site, self.mc).map_err(words)?;
        if let (Some(actual), Some(path)) = (self.actual, self.evaluate_on) {
            p.evaluate_on(actual, job.power_w, self.site, self.mc)
                .map_err(|e| anyhow!("--evaluate-on {}: {}", path.display(), e.render(name)))?;
        }
        Ok(p)
    }
}

/// A job file's column for a field.
fn column(f: Field) -> String {
    match f {
        Field::Start => "earliest".into(),
        other => other.name().into(),
    }
}

/// `--interruptible`, `--min-chunk` (default one interval of the series), `--max-pauses`
/// (default no limit).
fn interruption(a: &PlanWindowArgs) -> Result<Option<Interruptible>> {
    if !a.interruptible {
        return Ok(None);
    }
    let min_chunk = match &a.min_chunk {
        Some(t) => Some(duration("--min-chunk", t)?),
        None => None,
    };
    let max_pauses = match &a.max_pauses {
        Some(t) => {
            let n = settings::count("--max-pauses", Some(t))?.unwrap_or(Range::point(0.0));
            if !n.is_point() || n.lo < 0.0 || n.lo > 1e6 {
                bail!("invalid value for --max-pauses: give a whole number from 0 to 1M");
            }
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let n = n.lo as usize;
            n
        }
        None => usize::MAX,
    };
    Ok(Some(Interruptible {
        min_chunk,
        max_pauses,
    }))
}

/// A positive duration (bare numbers in hours), to the nearest second when it is within a
/// microsecond of one (`1/60 h` is exactly a minute).
fn duration(what: &str, text: &str) -> Result<SignedDuration> {
    let r = settings::range_in(what, Some(text), Dim::Time, "h")?.unwrap_or(Range::point(0.0));
    if !r.is_point() {
        bail!("invalid value for {what}: a duration here is a single value, not a range");
    }
    let secs = r.lo * 3600.0;
    if !(secs.is_finite() && secs > 0.0 && secs < 1e12) {
        bail!("invalid value for {what}: {text:?} must be a positive duration");
    }
    let whole = secs.round();
    Ok(if (secs - whole).abs() < 1e-6 {
        #[allow(clippy::cast_possible_truncation)]
        SignedDuration::from_secs(whole as i64)
    } else {
        SignedDuration::from_secs_f64(secs)
    })
}

/// A positive power range, W.
fn power(what: &str, text: &str) -> Result<Range> {
    let r = settings::power(what, Some(text))?.unwrap_or(Range::point(0.0));
    if !(r.lo > 0.0 && r.hi.is_finite()) {
        bail!("invalid value for {what}: {text:?} must be a positive power");
    }
    Ok(r)
}

/// The power cell of a jobs file: a unit is required (a bare `100` could be W or kW, and the
/// supply of `plan renewable` is in kW), held to `--power`'s bounds.
fn job_power(text: &str) -> Result<Range> {
    let t = text.trim();
    if t.ends_with(|c: char| c.is_ascii_digit() || c == '.') {
        bail!("invalid value for power: {t:?} has no unit; give a unit: {t}kW (or W, MW)");
    }
    let r = power("power", t)?;
    Ok(crate::bounds::check_as("--power", "power", Some(r))?.unwrap_or(r))
}

/// An RFC 3339 time with an offset.
fn time(what: &str, text: &str) -> Result<Timestamp> {
    text.trim().parse::<Timestamp>().with_context(|| {
        format!(
            "invalid value for {what}: {text:?} is not an RFC 3339 time with an offset (e.g. \
             2024-03-04T00:00:00Z or 2024-03-04T01:00:00+01:00)"
        )
    })
}

/// The one job of `--duration`, `--power`, `--start`, `--deadline`.
fn single(a: &PlanWindowArgs, rule: Option<Interruptible>) -> Result<Job> {
    let (Some(d), Some(p)) = (&a.duration, &a.power) else {
        bail!("plan window needs --duration and --power, or --jobs FILE");
    };
    Ok(Job {
        duration: duration("--duration", d)?,
        power_w: power("--power", p)?,
        earliest: a.start.as_deref().map(|t| time("--start", t)).transpose()?,
        deadline: a
            .deadline
            .as_deref()
            .map(|t| time("--deadline", t))
            .transpose()?,
        interruptible: rule,
    })
}

/// The job of `--profile FILE` (a `wattlens run --json` report), with `--start` and
/// `--deadline`.
fn read_profile(a: &PlanWindowArgs, file: &Path) -> Result<ProfileJob> {
    let shown = file.display();
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("invalid value for --profile: cannot read {shown}"))?;
    // A byte-order mark (some Windows editors write one) is not part of the JSON.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let report: Report = wattlens::json_keys::check_unique_keys(text)
        .and_then(|()| serde_json::from_str(text))
        .map_err(|e| {
            anyhow!(
            "invalid value for --profile: {shown} is not the JSON of `wattlens run --json FILE` \
             ({e})"
        )
        })?;
    let mut job = ProfileJob::from_report(&report, &shown.to_string()).map_err(|e| {
        anyhow!(
            "invalid value for --profile: {}",
            e.render(&|f| crate::flags::flag(f).to_string())
        )
    })?;
    job.earliest = a.start.as_deref().map(|t| time("--start", t)).transpose()?;
    job.deadline = a
        .deadline
        .as_deref()
        .map(|t| time("--deadline", t))
        .transpose()?;
    Ok(job)
}

/// The rows of a job file: `(line, name, job)`; a bad header or row is an error naming the
/// file and line.
pub(super) fn read_jobs(
    path: &Path,
    rule: Option<Interruptible>,
) -> Result<Vec<(u64, String, Job)>> {
    const HEADER: [&str; 5] = ["name", "duration", "power", "earliest", "deadline"];
    let shown = path.display();
    let mut r = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("--jobs {shown}: cannot read the file"))?;
    let header = r
        .headers()
        .with_context(|| format!("--jobs {shown}: line 1: cannot read the header"))?
        .clone();
    let at = |name: &str| header.iter().position(|h| h == name);
    let cols: Vec<usize> = HEADER.iter().filter_map(|h| at(h)).collect();
    if cols.len() != HEADER.len() {
        bail!(
            "--jobs {shown}: line 1: the header must name the columns {} (it has {})",
            HEADER.join(","),
            header.iter().collect::<Vec<_>>().join(",")
        );
    }
    let mut jobs = Vec::new();
    for row in r.records() {
        let row = row.with_context(|| format!("--jobs {shown}: not valid CSV"))?;
        let line = row.position().map_or(0, csv::Position::line);
        let cell = |i: usize| row.get(cols[i]).unwrap_or("");
        let bad = |e: anyhow::Error| anyhow!("--jobs {shown}: line {line}: {e:#}");
        let name = cell(0).to_string();
        if name.is_empty() {
            return Err(bad(anyhow!("a job needs a name")));
        }
        let opt = |i: usize, what: &str| {
            let c = cell(i);
            (!c.is_empty()).then(|| time(what, c)).transpose()
        };
        let job = Job {
            duration: duration("duration", cell(1)).map_err(bad)?,
            power_w: job_power(cell(2)).map_err(bad)?,
            earliest: opt(3, "earliest").map_err(bad)?,
            deadline: opt(4, "deadline").map_err(bad)?,
            interruptible: rule,
        };
        jobs.push((line, name, job));
    }
    if jobs.is_empty() {
        bail!("--jobs {shown}: no jobs (a header and at least one row)");
    }
    Ok(jobs)
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    let mut s = serde_json::to_string_pretty(v)?;
    s.push('\n');
    Ok(s)
}

/// `P50 (P5..P95)` of a mass, or the P50 alone for a point.
fn mass(p: &Percentiles) -> String {
    if p.p5 == p.p95 {
        fmt_mass_kg(p.p50)
    } else {
        format!(
            "{} ({}..{})",
            fmt_mass_kg(p.p50),
            fmt_mass_kg(p.p5),
            fmt_mass_kg(p.p95)
        )
    }
}

fn percent(f: f64) -> String {
    format!("{}%", fmt_num(f * 100.0))
}

/// The terminal table of one plan, with the lines of its chart (none for a queue's jobs).
fn table(p: &WindowPlan, chart: &[String]) -> String {
    let slots = |s: &[wattlens::plan::Slot]| {
        s.iter()
            .map(|s| format!("{}..{}", s.start, s.end))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut rows: Vec<(String, String)> = Vec::new();
    if let Some(n) = &p.name {
        rows.push(("name".into(), n.clone()));
    }
    rows.push((
        "series".into(),
        format!("{} ({} signal)", p.series, p.signal),
    ));
    rows.push((
        "job".into(),
        format!(
            "{} h at {} kW{}",
            fmt_num(p.duration_h),
            fmt_num(p.power_kw.p50),
            p.interruptible.map_or(String::new(), |r| format!(
                ", interruptible (chunks of at least {} h, {} pauses taken)",
                fmt_num(r.min_chunk_h),
                r.pauses
            ))
        ),
    ));
    if let Some(r) = &p.profile {
        rows.push((
            "profile".into(),
            format!(
                "{}: {} bins, {} kWh IT (the mean power above)",
                r.source,
                r.bins,
                fmt_num(r.it_energy_kwh.p50)
            ),
        ));
    }
    rows.push(("run in".into(), slots(&p.slots)));
    rows.push((
        "carbon".into(),
        format!(
            "{} at {} g/kWh",
            mass(&p.carbon_kgco2e),
            fmt_num(p.intensity_g_per_kwh)
        ),
    ));
    rows.push(("at once".into(), slots(&p.baseline_slots)));
    rows.push((
        "carbon at once".into(),
        format!(
            "{} at {} g/kWh",
            mass(&p.baseline_carbon_kgco2e),
            fmt_num(p.baseline_intensity_g_per_kwh)
        ),
    ));
    rows.push((
        "saving".into(),
        format!(
            "{}, {}",
            mass(&p.savings_kgco2e),
            percent(p.savings_fraction)
        ),
    ));
    if let Some(r) = &p.realised {
        rows.push((
            "realised".into(),
            format!(
                "on {}: {} against {} at once: saving {}, {}",
                r.series,
                mass(&r.carbon_kgco2e),
                mass(&r.baseline_carbon_kgco2e),
                mass(&r.savings_kgco2e),
                percent(r.savings_fraction)
            ),
        ));
    }
    for (i, line) in chart.iter().enumerate() {
        let key = if i == 0 { "chart" } else { "" };
        rows.push((key.into(), line.clone()));
    }
    let w = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut s: String = rows
        .iter()
        .map(|(k, v)| format!("{k:<w$}  {v}\n"))
        .collect();
    for n in &p.notes {
        s.push_str(&format!("note: {n}\n"));
    }
    s
}
