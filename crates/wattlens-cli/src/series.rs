//! `--series FILE` on `estimate` and `run`: read the intensity series, lay the work's energy
//! profile on it, and put the energy-weighted mean intensity into the site (or, with
//! `--series-fallback`, keep the annual intensity and say so). The arithmetic is the library's
//! ([`wattlens::grid::SeriesMean`]); here are the flags, the span of an estimate and the
//! messages.

use crate::cli::{SeriesSignal, SiteArgs, WhenArgs};
use anyhow::{bail, Context, Result};
use jiff::{SignedDuration, Timestamp};
use std::path::PathBuf;
use wattlens::estimate::Estimate;
use wattlens::explain::Assumption;
use wattlens::footprint::Site;
use wattlens::grid::{
    read_csv, CarbonBasis, CsvOptions, EnergyBin, GridError, IntensitySeries, SeriesMean, Signal,
};
use wattlens::uncertainty::Range;
use wattlens::units::Watts;

/// A series read from `--series`, with what to do when it does not cover the span.
#[derive(Debug)]
pub struct Loaded {
    /// The file.
    pub path: PathBuf,
    /// The series.
    pub series: IntensitySeries,
    /// `--series-fallback`.
    pub fallback: bool,
}

/// What laying a profile on the series gave.
#[derive(Debug)]
pub enum Outcome {
    /// The mean intensity is in the site.
    Series(SeriesMean),
    /// The series did not cover the span: the annual intensity stays; the note says so.
    Fallback(String),
}

/// Reads `--series` (with `--series-column`, `--series-signal`); `None` without it. A bad file
/// is an error naming the file, line and column.
pub fn load(a: &SiteArgs) -> Result<Option<Loaded>> {
    let Some(path) = &a.series else {
        return Ok(None);
    };
    let mut options = CsvOptions::default();
    if let Some(c) = &a.series_column {
        options = options.with_column(c.clone());
    }
    if a.series_signal == Some(SeriesSignal::Marginal) {
        options = options.with_signal(Signal::Marginal);
    }
    let series = read_csv(path, &options).context("invalid value for --series")?;
    Ok(Some(Loaded {
        path: path.clone(),
        series,
        fallback: a.series_fallback,
    }))
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
pub fn for_estimate(a: &SiteArgs, w: &WhenArgs) -> Result<Option<(Loaded, Timestamp)>> {
    let Some(loaded) = load(a)? else {
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
    /// An estimate's profile: constant power over `[start, start + hours)` (the mean does not
    /// depend on the power, so 1 kW stands for any), laid on the series.
    pub fn estimate(
        &self,
        start: Timestamp,
        hours: f64,
        site: &mut Site,
        cfe: Option<Range>,
        assumptions: &mut Vec<Assumption>,
    ) -> Result<Outcome> {
        if !(hours.is_finite() && hours > 0.0) {
            bail!("--series: the estimate's span is {hours} h; it needs a positive duration");
        }
        let len = SignedDuration::try_from_secs_f64(hours * 3600.0)
            .context("--series: the estimate's span is too long")?;
        let bin = EnergyBin::constant_power(start, len, Watts(1000.0));
        self.apply(&[bin], site, cfe, assumptions)
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
        match SeriesMean::of(&self.series, profile) {
            Ok(m) => {
                m.apply(site, cfe, assumptions);
                Ok(Outcome::Series(m))
            }
            Err(GridError::Uncovered { start, end, .. }) if self.fallback => {
                Ok(Outcome::Fallback(format!(
                    "--series {} does not cover {start}..{end} of the span: carbon uses the \
                     annual intensity ({}, {} g/kWh) instead (--series-fallback)",
                    self.path.display(),
                    site.intensity_scope,
                    site.intensity.range.display("")
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
pub fn finish(e: &mut Estimate, outcome: Option<Outcome>) {
    match outcome {
        Some(Outcome::Series(m)) => {
            e.carbon_basis = CarbonBasis::Series;
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
