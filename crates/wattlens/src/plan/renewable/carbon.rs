//! The grid carbon of a renewable plan through the accounting core: the grid energy of each
//! schedule (per cell: the jobs' load less what is met on site) is a [`JobModel`] at the site
//! (PUE 1: the grid energy is the facility's already), its intensity the series over that
//! energy profile ([`PlacedSeries::profile`]) or the site's annual intensity, run by
//! [`runner::run`]; the carbon avoided is the baseline less the schedule on the same draws
//! ([`runner::paired`]).

use super::RenewError;
use crate::figure::Figure;
use crate::footprint::{Param, Site};
use crate::grid::{EnergyBin, IntensitySeries, PlacedSeries, SeriesMean};
use crate::plan::JobModel;
use crate::runner::{self, McOptions};
use crate::uncertainty::{Percentiles, Range};
use crate::units::Watts;
use jiff::{SignedDuration, Timestamp};

/// The grid carbon of the baseline and of the schedule, and the carbon avoided (baseline -
/// schedule, per draw), kgCO2e; and the samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GridCarbonOf {
    /// The baseline's grid carbon.
    pub before: Percentiles,
    /// The schedule's grid carbon.
    pub after: Percentiles,
    /// `before - after` on the same draws.
    pub avoided: Percentiles,
    /// Monte Carlo samples (1 when every input is a point).
    pub samples: usize,
}

/// The grid energy of one schedule as energy bins (one per cell with grid energy).
pub(super) fn bins(
    grid_kwh: &[f64],
    t_of: &dyn Fn(usize) -> Timestamp,
    step: SignedDuration,
) -> Vec<EnergyBin> {
    let h = step.as_secs_f64() / 3600.0;
    grid_kwh
        .iter()
        .enumerate()
        .filter(|(_, e)| **e > 0.0)
        .map(|(c, e)| EnergyBin::constant_power(t_of(c), step, Watts(e / h * 1000.0)))
        .collect()
}

/// The schedule's grid energy as a model at `site` (PUE 1), or `None` without grid energy.
fn model(
    site: &Site,
    series: Option<&IntensitySeries>,
    bins: &[EnergyBin],
    kwh: f64,
) -> Result<Option<JobModel>, RenewError> {
    if kwh <= 0.0 || bins.is_empty() {
        return Ok(None);
    }
    let mut s = crate::plan::account::carbon_only(site);
    s.pue = Param::new(Range::point(1.0), "the grid energy is the facility's");
    if let Some(series) = series {
        let err = |e: crate::grid::GridError| {
            RenewError::Series(format!(
                "{e}; the series must cover every cell where the site takes grid energy, in \
                 the baseline or the schedule"
            ))
        };
        let mean = SeriesMean::of(series, bins).map_err(err)?;
        let placed = PlacedSeries::profile(series, bins).map_err(err)?;
        mean.apply(placed, &mut s, None, &mut Vec::new());
    }
    // `kwh` over one hour: the footprint's energy is what counts; the intensity of a placed
    // profile is its energy-weighted mean whatever the period.
    Ok(Some(JobModel {
        power_w: Range::point(kwh * 1000.0),
        hours: 1.0,
        site: s,
    }))
}

/// The grid carbon of the baseline's and the schedule's grid energy at `site`.
///
/// # Errors
/// [`RenewError::Series`] when the series does not cover a cell with grid energy.
pub(super) fn grid_carbon(
    site: &Site,
    series: Option<&IntensitySeries>,
    before: (&[EnergyBin], f64),
    after: (&[EnergyBin], f64),
    opts: McOptions,
) -> Result<GridCarbonOf, RenewError> {
    let b = model(site, series, before.0, before.1)?;
    let a = model(site, series, after.0, after.1)?;
    let carbon = |m: &JobModel| {
        let r = runner::run(m, opts, Vec::new());
        (
            r.get(Figure::OperationalCarbon)
                .unwrap_or(Percentiles::point(0.0)),
            r.samples,
        )
    };
    let zero = Percentiles::point(0.0);
    Ok(match (b, a) {
        (None, None) => GridCarbonOf {
            before: zero,
            after: zero,
            avoided: zero,
            samples: 1,
        },
        (Some(b), None) => {
            let (c, n) = carbon(&b);
            GridCarbonOf {
                before: c,
                after: zero,
                avoided: c,
                samples: n,
            }
        }
        (None, Some(a)) => {
            let (c, n) = carbon(&a);
            GridCarbonOf {
                before: zero,
                after: c,
                avoided: Percentiles {
                    p5: -c.p95,
                    p50: -c.p50,
                    p95: -c.p5,
                },
                samples: n,
            }
        }
        (Some(b), Some(a)) => {
            let (cb, n) = carbon(&b);
            let (ca, _) = carbon(&a);
            // The schedule first: the differences are `before - after`.
            let d = runner::paired(&[&a, &b], opts);
            let avoided = d
                .against_first
                .first()
                .and_then(|v| v.iter().find(|(f, _)| *f == Figure::OperationalCarbon))
                .map_or(zero, |(_, p)| *p);
            GridCarbonOf {
                before: cb,
                after: ca,
                avoided,
                samples: n.max(d.samples),
            }
        }
    })
}
