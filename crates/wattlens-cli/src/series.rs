//! `--series FILE` on `estimate` and `run`: read the intensity series, lay the work's energy
//! profile on it, and put the energy-weighted mean intensity into the site (or, with
//! `--series-fallback`, keep the annual intensity and say so). The arithmetic is the library's
//! ([`wattlens::grid::SeriesMean`]); here are the flags, the span of an estimate and the
//! messages.

use crate::cli::{SeriesSignal, SiteArgs, WhenArgs};
use anyhow::{bail, Context, Result};
use jiff::{SignedDuration, Timestamp};
use std::path::{Path, PathBuf};
use wattlens::explain::Assumption;
use wattlens::footprint::Site;
use wattlens::grid::{
    read_series, shipped, CarbonBasis, EnergyBin, GridError, ImportOptions, IntensitySeries,
    PlacedSeries, SeriesFormat, SeriesMean, Signal,
};
use wattlens::result::Report;
use wattlens::uncertainty::Range;
use wattlens::units::Hours;

/// A series read from `--series`, with what to do when it does not cover the span.
#[derive(Debug)]
pub struct Loaded {
    /// The file.
    pub path: PathBuf,
    /// The series.
    pub series: IntensitySeries,
    /// `--series-fallback`.
    pub fallback: bool,
    /// How the user gave the site's intensity (`--intensity`, or the config file and key), when
    /// they did: the fallback figure then.
    pub user_intensity: Option<String>,
    /// What `--series-fill` filled and kept, when given.
    pub fill_note: Option<String>,
}

/// What laying a profile on the series gave.
#[derive(Debug)]
pub enum Outcome {
    /// The mean intensity is in the site; with `--series-fill`'s note.
    Series(SeriesMean, Option<String>),
    /// The series did not cover the span: the annual intensity stays; the note says so.
    Fallback(String),
}

/// Reads `--series` (with `--series-column`, `--series-time-column`, `--series-signal`);
/// `None` without it. A bad file is an error naming the file, line and column; a marginal
/// signal, and a user intensity (`intensity_from`: `--intensity` or the config key) without
/// `--series-fallback`, are refused. Values outside the plausible range of `--intensity` warn.
pub fn load(a: &SiteArgs, intensity_from: Option<&str>) -> Result<Option<Loaded>> {
    let Some(path) = &a.series else {
        return Ok(None);
    };
    if a.series_signal == Some(SeriesSignal::Marginal) {
        bail!(
            "--series-signal marginal: a marginal signal says what adding or moving load \
             changes, not what share of the grid's emissions is the work's, so it cannot be its \
             location-based carbon; footprints need an average signal (--series-signal \
             average, the default). Marginal signals are for planning when to run (`wattlens \
             plan window`)"
        );
    }
    if let (Some(from), false) = (intensity_from, a.series_fallback) {
        bail!(
            "{from} and --series both give the location-based intensity; give one, or add \
             --series-fallback to use {from} where the series does not cover the span"
        );
    }
    let series = read(
        path,
        a.series_format.as_deref(),
        a.series_column.as_deref(),
        a.series_time_column.as_deref(),
        None,
    )
    .context("invalid value for --series")?;
    let (series, fill_note) = fill(series, a.series_fill.as_deref())?;
    if series.signal() == Signal::Marginal {
        bail!(
            "--series: {} is a marginal signal: it says what adding or moving load changes, \
             not what share of the grid's emissions is the work's, so it cannot be its \
             location-based carbon; give an average series for a footprint, and this one to \
             `wattlens plan`",
            series.source()
        );
    }
    for w in implausible(&series) {
        eprintln!("wattlens: warning: --series {}: {w}", path.display());
    }
    Ok(Some(Loaded {
        path: path.clone(),
        series,
        fallback: a.series_fallback,
        user_intensity: intensity_from.map(str::to_string),
        fill_note,
    }))
}

/// `--series-fill`: gaps no longer than the limit filled by linear interpolation
/// ([`IntensitySeries::fill_gaps`]), and a note saying how many were filled and kept; the
/// series unchanged without the flag.
///
/// # Errors
/// A limit that is not a positive duration of at most a year.
pub fn fill(
    series: IntensitySeries,
    limit: Option<&str>,
) -> Result<(IntensitySeries, Option<String>)> {
    let Some(text) = limit else {
        return Ok((series, None));
    };
    let flag = "--series-fill";
    let h = crate::settings::range_in(flag, Some(text), wattlens::input::Dim::Time, "h")?
        .ok_or_else(|| anyhow::anyhow!("{flag} needs a duration"))?;
    if !h.is_point() {
        bail!("invalid value for {flag}: give one duration (e.g. 2h), not a range");
    }
    if !(h.lo > 0.0 && h.lo <= 8784.0) {
        bail!("invalid value for {flag}: {text:?}: give a positive duration of at most a year (e.g. 2h, 30min)");
    }
    let max = SignedDuration::try_from_secs_f64(h.lo * 3600.0)
        .map_err(|_| anyhow::anyhow!("invalid value for {flag}: {text:?}"))?;
    let gaps = series.gaps();
    let filled_series = series
        .fill_gaps(max)
        .with_context(|| format!("invalid value for {flag}"))?;
    let hours = |(a, b): &(Timestamp, Timestamp)| b.duration_since(*a).as_secs_f64() / 3600.0;
    let (short, long): (Vec<_>, Vec<_>) = gaps.iter().partition(|g| hours(g) <= h.lo + 1e-9);
    // `+ 0.0`: an empty f64 sum is -0.0, which would print as "-0 h".
    let sum = |v: &[&(Timestamp, Timestamp)]| v.iter().map(|g| hours(g)).sum::<f64>() + 0.0;
    let note = format!(
        "{flag} {text}: {} of {} (the series' source: {}) filled by linear interpolation ({} h in all, flagged as filled){}",
        short.len(),
        plural(gaps.len(), "gap"),
        filled_series.source(),
        wattlens::uncertainty::fmt_num(sum(&short)),
        if long.is_empty() {
            String::new()
        } else {
            format!(
                "; {} longer kept as {} ({} h in all)",
                long.len(),
                if long.len() == 1 { "a gap" } else { "gaps" },
                wattlens::uncertainty::fmt_num(sum(&long))
            )
        }
    );
    Ok((filled_series, Some(note)))
}

/// `1 gap`, `3 gaps`.
fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Reads the series `--series` names: a file, in the format given (`--series-format`) or
/// detected from its content, or else a shipped series (`gb-2023`, `dk1-2024`, ...). `signal`
/// is the user's statement (`--series-signal`); `None` takes the format's own (average for a
/// CSV). A name that is neither a file nor a shipped series is an error listing the shipped
/// names.
pub fn read(
    path: &Path,
    format: Option<&str>,
    column: Option<&str>,
    time_column: Option<&str>,
    signal: Option<Signal>,
) -> Result<IntensitySeries> {
    let format = format
        .map(|f| {
            SeriesFormat::parse(f).ok_or_else(|| {
                let known: Vec<&str> = SeriesFormat::ALL.iter().map(|f| f.name()).collect();
                anyhow::anyhow!(
                    "invalid value for --series-format: `{f}`; give one of {}",
                    known.join(", ")
                )
            })
        })
        .transpose()?;
    let name = path.to_string_lossy();
    if let (Err(e), Some(s)) = (std::fs::metadata(path), shipped::shipped(&name)) {
        if e.kind() == std::io::ErrorKind::NotFound {
            if let Some(f) = format {
                bail!("--series-format {f}: `{name}` is a shipped series (CSV); give no format");
            }
            if time_column.is_some() {
                bail!("--series-time-column: the shipped series `{name}` has its own time column");
            }
            return Ok(s.series(column, signal.unwrap_or(Signal::Average))?);
        }
    }
    let mut options = ImportOptions::new();
    if let Some(f) = format {
        options = options.with_format(f);
    }
    if let Some(s) = signal {
        options = options.with_signal(s);
    }
    if let Some(c) = column {
        options = options.with_column(c);
    }
    if let Some(c) = time_column {
        options = options.with_time_column(c);
    }
    match read_series(path, &options) {
        Err(e @ GridError::Io { .. })
            if std::fs::metadata(path).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) =>
        {
            bail!(
                "{e}; nor is `{name}` a shipped series: {}",
                shipped::names()
            )
        }
        other => Ok(other?),
    }
}

/// Warnings for a series whose time-weighted mean, or lowest or highest value, is outside the
/// plausible bounds of `--intensity` (a file in g/MWh, lb/MWh or kg/kWh).
pub(crate) fn implausible(series: &IntensitySeries) -> Vec<String> {
    let Some(b) = wattlens::plausible::bound(wattlens::field::Field::Intensity) else {
        return Vec::new();
    };
    let ivs = series.intervals();
    let (mut sum, mut secs) = (0.0, 0.0);
    let mut hi = f64::NEG_INFINITY;
    for iv in ivs {
        let d = iv.duration().as_secs_f64();
        let v = iv.intensity.value();
        sum += v * d;
        secs += d;
        hi = hi.max(v);
    }
    let mean = if secs > 0.0 { sum / secs } else { 0.0 };
    let slip = |v: f64| {
        if v > b.high {
            "values are read as g/kWh: is the column in g/MWh or lb/MWh?"
        } else {
            "values are read as g/kWh: is the column in kg/kWh?"
        }
    };
    let fmt = wattlens::uncertainty::fmt_num;
    let mut out = Vec::new();
    if !b.contains(mean) {
        out.push(format!(
            "its time-weighted mean, {} g/kWh, is outside {}..{} g/kWh, where every grid's \
             average lies; {}; it is used as given",
            fmt(mean),
            fmt(b.low),
            fmt(b.high),
            slip(mean)
        ));
    } else if hi > 2.0 * b.high {
        out.push(format!(
            "its highest value, {} g/kWh, is above twice the {} g/kWh of the dirtiest grid: \
             check those rows; they are used as given",
            fmt(hi),
            fmt(b.high)
        ));
    }
    out
}

/// For a live run: the series must hold the present moment (its start), unless
/// `--series-fallback`; checked before the command starts.
pub fn check_now(l: &Loaded) -> Result<()> {
    let now = Timestamp::now();
    if l.fallback || l.series.at(now).is_some() {
        return Ok(());
    }
    bail!(
        "--series {}: the series does not cover now ({now}; it spans {}..{}), when the run \
         starts; give a series that covers the run, or --series-fallback to use the annual \
         intensity with a note",
        l.path.display(),
        l.series.start(),
        l.series.end(),
        now = now.round(jiff::Unit::Second).unwrap_or(now),
    )
}

/// How messages name a user intensity (`--intensity`, or the config file and key it came
/// from); `None` when neither gives one.
pub fn intensity_from(a: &SiteArgs, cfg: &crate::settings::ConfigSite) -> Option<String> {
    (a.intensity.is_some() || cfg.intensity.is_some())
        .then(|| crate::settings::name_of(a, cfg, "--intensity"))
}

/// `--start`, in UTC.
pub fn start(w: &WhenArgs) -> Result<Option<Timestamp>> {
    w.start
        .as_deref()
        .map(|t| {
            t.trim().parse::<Timestamp>().with_context(|| {
                format!(
                    "invalid value for --start: {t:?} is not an RFC 3339 time with an offset \
                     (e.g. 2024-03-04T00:00:00Z or 2024-03-04T01:00:00+01:00)"
                )
            })
        })
        .transpose()
}

/// The series and the estimate's start, or `None` without `--series`; `--series` on an
/// estimate needs `--start`.
pub fn for_estimate(
    a: &SiteArgs,
    w: &WhenArgs,
    cfg: &crate::settings::ConfigSite,
) -> Result<Option<(Loaded, Timestamp)>> {
    let Some(loaded) = load(a, intensity_from(a, cfg).as_deref())? else {
        return Ok(None);
    };
    let Some(at) = start(w)? else {
        bail!(
            "--series needs --start TIME on an estimate: when the work begins (RFC 3339, e.g. \
             2024-03-04T00:00:00Z); it lasts its duration or period"
        );
    };
    Ok(Some((loaded, at)))
}

impl Loaded {
    /// An estimate's work: constant power from `start` for its busy period, `hours` over its
    /// evaluations with `central_h` the central one's, laid on the series; the accounting core
    /// then takes each evaluation's mean over its own span ([`PlacedSeries::flat`]), and the
    /// output shows the range of means over the durations ([`SeriesMean::over_durations`]).
    pub fn estimate(
        &self,
        start: Timestamp,
        hours: Range,
        central_h: f64,
        site: &mut Site,
        cfe: Option<Range>,
        assumptions: &mut Vec<Assumption>,
    ) -> Result<Outcome> {
        if !(hours.lo.is_finite() && hours.hi.is_finite() && hours.lo > 0.0) {
            bail!(
                "--series: the estimate's span is {} h; it needs a positive duration",
                hours.display("")
            );
        }
        if SignedDuration::try_from_secs_f64(hours.hi * 3600.0).is_err() {
            bail!("--series: the estimate's span is too long");
        }
        let placed = SeriesMean::over_durations(&self.series, start, hours.lo, hours.hi, central_h)
            .and_then(|m| PlacedSeries::flat(&self.series, start, Hours(hours.hi)).map(|p| (m, p)));
        self.take(placed, site, cfe, assumptions, false)
    }

    /// Lays `profile` on the series and puts the mean into `site`; an uncovered span is an
    /// error naming it, or with `--series-fallback` the annual intensity with a note.
    pub fn apply(
        &self,
        profile: &[EnergyBin],
        site: &mut Site,
        cfe: Option<Range>,
        assumptions: &mut Vec<Assumption>,
    ) -> Result<Outcome> {
        self.take(self.profile(profile), site, cfe, assumptions, false)
    }

    /// After a live run: as [`Loaded::apply`], but a series that ends (or has a gap) during
    /// the run never loses the measurement: the annual intensity is used with a note naming
    /// the uncovered span, as with `--series-fallback`.
    pub fn apply_after_run(
        &self,
        profile: &[EnergyBin],
        site: &mut Site,
        cfe: Option<Range>,
        assumptions: &mut Vec<Assumption>,
    ) -> Result<Outcome> {
        self.take(self.profile(profile), site, cfe, assumptions, true)
    }

    /// A measured profile on the series: its mean, and the placement the core integrates.
    fn profile(&self, profile: &[EnergyBin]) -> Result<(SeriesMean, PlacedSeries), GridError> {
        let m = SeriesMean::of(&self.series, profile)?;
        let p = PlacedSeries::profile(&self.series, profile)?;
        Ok((m, p))
    }

    fn take(
        &self,
        mean: Result<(SeriesMean, PlacedSeries), GridError>,
        site: &mut Site,
        cfe: Option<Range>,
        assumptions: &mut Vec<Assumption>,
        after_run: bool,
    ) -> Result<Outcome> {
        match mean {
            Ok((m, placed)) => {
                m.apply(placed, site, cfe, assumptions);
                Ok(Outcome::Series(m, self.fill_note.clone()))
            }
            Err(GridError::Uncovered { start, end, .. }) if self.fallback || after_run => {
                let annual = if let Some(from) = &self.user_intensity {
                    format!("{from}, {}", site.intensity.range.display())
                } else {
                    format!(
                        "the annual intensity, {}, {}",
                        site.intensity_scope,
                        site.intensity.range.display()
                    )
                };
                let why = if self.fallback {
                    "--series-fallback".to_string()
                } else {
                    "the run is over: its measurement is kept".to_string()
                };
                Ok(Outcome::Fallback(format!(
                    "--series {} does not cover {start}..{end} of the span: carbon uses \
                     {annual} instead ({why})",
                    self.path.display(),
                )))
            }
            Err(e @ GridError::Uncovered { .. }) => Err(anyhow::anyhow!(
                "--series: {e}; or give --series-fallback to use the annual intensity with a \
                 note"
            )),
            Err(e) => Err(e).with_context(|| format!("--series {}", self.path.display())),
        }
    }
}

/// Says in the result which basis carbon used: `carbon_basis`, the `--explain` step before
/// the operational carbon, or the fallback note.
pub fn finish(e: &mut Report, outcome: Option<Outcome>) {
    match outcome {
        Some(Outcome::Series(m, fill)) => {
            e.carbon_basis = CarbonBasis::Series;
            e.notes.extend(m.durations_note());
            e.notes.extend(fill);
            let at = e
                .steps
                .iter()
                .position(|s| s.name == "operational_carbon")
                .unwrap_or(e.steps.len());
            e.steps.insert(at, m.step());
        }
        Some(Outcome::Fallback(note)) => e.notes.push(note),
        None => {}
    }
}
