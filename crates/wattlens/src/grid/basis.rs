//! The series basis of a result: what the output says of a series laid under the work (its
//! mean, scope, step and note), and [`SeriesMean::apply`], which gives the site the
//! [`PlacedSeries`] the accounting core integrates over each evaluation's own span.
//!
//! Why a measured profile's mean is exact: `carbon = sum_i E_i x CI_i = E_total x sum_i (E_i /
//! E_total) x CI_i`, so `E_total x mean` is the integrated carbon for any total energy with the
//! same shape (the same shares `E_i / E_total`). Every Monte Carlo draw scales the whole profile
//! (PUE, load, power bands), so each draw's `E_fac x mean` is that draw's integrated carbon. An
//! estimate's flat work of a drawn duration takes the mean over that draw's own span instead.

use super::{EnergyBin, GridError, IntensitySeries, PlacedSeries, SeriesCarbon, Signal};
use crate::explain::{Assumption, Origin, Step};
use crate::footprint::{Market, Param, SeriesBasis, Site};
use crate::uncertainty::{fmt_num, Range, UnitRange};
use crate::units::{GramsPerKwh, Hours, Joules, Watts};
use jiff::{SignedDuration, Timestamp};

/// A series applied to one energy profile: the energy-weighted mean intensity and the span it
/// covers.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesMean {
    /// The series' source (its file).
    pub source: String,
    /// Average or marginal.
    pub signal: Signal,
    /// Start of the profile (UTC).
    pub start: Timestamp,
    /// End of the profile (UTC).
    pub end: Timestamp,
    /// The integral: carbon, energy, energy on filled values.
    pub carbon: SeriesCarbon,
    /// `carbon / energy`; the time-weighted mean over the span when the profile has no energy.
    pub mean: GramsPerKwh,
    /// The intensity the site takes, g/kWh: the point `mean` for one profile; for a range of
    /// durations ([`SeriesMean::over_durations`]), the lowest..highest mean over them.
    pub across: Range,
    /// For a range of durations: its ends, hours.
    pub durations_h: Option<(f64, f64)>,
}

impl SeriesMean {
    /// Integrates `profile` against `series`. A profile with no energy (a run too short to
    /// measure any) takes the time-weighted mean over its span (at least one second).
    ///
    /// # Errors
    /// Those of [`IntensitySeries::carbon`]: a bad bin, or [`GridError::Uncovered`] naming the
    /// first span the series does not cover; [`GridError::Empty`] for an empty profile.
    pub fn of(series: &IntensitySeries, profile: &[EnergyBin]) -> Result<Self, GridError> {
        let start = profile
            .iter()
            .map(|b| b.start)
            .min()
            .ok_or_else(|| GridError::Empty {
                source_name: "energy profile".into(),
            })?;
        let end = profile
            .iter()
            .map(|b| b.start + b.duration)
            .max()
            .unwrap_or(start);
        let carbon = series.carbon(profile)?;
        let mean = if carbon.energy.value() > 0.0 {
            carbon.mean_intensity()
        } else {
            let len = end.duration_since(start).max(SignedDuration::from_secs(1));
            series
                .carbon(&[EnergyBin::constant_power(start, len, Watts(1000.0))])?
                .mean_intensity()
        };
        Ok(Self {
            source: series.source().to_string(),
            signal: series.signal(),
            start,
            end,
            carbon,
            mean,
            across: Range::point(mean.value()),
            durations_h: None,
        })
    }

    /// Constant power from `start` for a duration anywhere in `[lo_h, hi_h]` hours: the mean
    /// for the central duration `central_h`, with [`SeriesMean::across`] the lowest..highest
    /// mean over every duration in the range, for the output. A point duration gives a point.
    ///
    /// The extremes are exact: within one interval of constant intensity `c` the mean
    /// `(F0 + c (T - t0)) / T` is monotone in `T`, so the lowest and highest means lie at the
    /// ends of the range or at interval boundaries inside it, and each is evaluated. (The accounting core takes each evaluation's own mean
    /// from the [`PlacedSeries`], so intensity and duration stay correlated.)
    ///
    /// # Errors
    /// Those of [`SeriesMean::of`]; [`GridError::Duration`] for a duration that is not
    /// positive or too long; an uncovered span is that of the longest duration.
    pub fn over_durations(
        series: &IntensitySeries,
        start: Timestamp,
        lo_h: f64,
        hi_h: f64,
        central_h: f64,
    ) -> Result<Self, GridError> {
        let of = |h: f64| {
            let len = match SignedDuration::try_from_secs_f64(h * 3600.0) {
                Ok(d) if d.is_positive() => d,
                Ok(d) => {
                    return Err(GridError::Duration {
                        what: "the span of the work",
                        got: d,
                    })
                }
                Err(_) => {
                    return Err(GridError::OutOfRange {
                        what: format!("a span of {h} h from {start}"),
                    })
                }
            };
            Self::of(
                series,
                &[EnergyBin::constant_power(start, len, Watts(1000.0))],
            )
        };
        // The longest first: its uncovered span is the one to name.
        let longest = of(hi_h)?;
        if lo_h >= hi_h {
            return Ok(longest);
        }
        let mut central = of(central_h.clamp(lo_h, hi_h))?;
        let placed = PlacedSeries::flat(series, start, Hours(hi_h))?;
        let at = |h: f64| placed.intensity(Hours(h)).value();
        let (mut lo, mut hi) = (at(lo_h).min(at(hi_h)), at(lo_h).max(at(hi_h)));
        #[allow(clippy::cast_precision_loss)]
        let hours = |t: Timestamp| t.duration_since(start).as_secs_f64() / 3600.0;
        for iv in series.intervals() {
            for h in [hours(iv.start), hours(iv.end)] {
                if h > lo_h && h < hi_h {
                    lo = lo.min(at(h));
                    hi = hi.max(at(h));
                }
            }
        }
        central.across = Range::new(lo, hi);
        central.durations_h = Some((lo_h, hi_h));
        Ok(central)
    }

    /// What the output says of the intensity: `series FILE (average signal), mean X g/kWh over
    /// START..END`.
    #[must_use]
    pub fn scope(&self) -> String {
        match self.durations_h {
            Some((lo, hi)) => format!(
                "series {} ({} signal), mean {} g/kWh over spans of {}..{} h from {}",
                self.source,
                self.signal,
                self.across.display(""),
                fmt_num(lo),
                fmt_num(hi),
                shown(self.start),
            ),
            None => format!(
                "series {} ({} signal), mean {} g/kWh over {}..{}",
                self.source,
                self.signal,
                fmt_num(self.mean.value()),
                shown(self.start),
                shown(self.end)
            ),
        }
    }

    /// For a range of durations, the note saying how the intensity range was made.
    #[must_use]
    pub fn durations_note(&self) -> Option<String> {
        let (lo, hi) = self.durations_h?;
        Some(format!(
            "the work lasts {}..{} h: each sample's intensity is the series' mean over its own \
             span from {}, so a longer sample meets the hours it really covers (over that range \
             of durations the mean spans {} g/kWh)",
            fmt_num(lo),
            fmt_num(hi),
            shown(self.start),
            self.across.display("")
        ))
    }

    /// The source string of the intensity parameter.
    fn param_source(&self) -> String {
        let what = match self.signal {
            Signal::Average => "average intensity",
            Signal::Marginal => "marginal intensity (the change a load makes, not an average)",
        };
        match self.durations_h {
            Some((lo, hi)) => format!(
                "{{series}} {}: mean of its {what} over each sample's own span of \
                 {}..{} h from {}",
                self.source,
                fmt_num(lo),
                fmt_num(hi),
                shown(self.start)
            ),
            None => format!(
                "{{series}} {}: energy-weighted mean of its {what} over {}..{}",
                self.source,
                shown(self.start),
                shown(self.end)
            ),
        }
    }

    /// Lays the series under the site: the accounting core then takes each evaluation's
    /// location-based intensity from `placed` (its own span, or a measured profile's mean); the
    /// site's `intensity` holds the central evaluation's mean for display, and a carbon-free
    /// share `cfe` makes the market intensity that share of each evaluation's series intensity.
    /// Replaces the `intensity` assumption.
    ///
    /// The draw count is that of a point intensity and, with `cfe`, one market draw, whatever
    /// the durations ([`crate::runner::periods`] relies on it).
    pub fn apply(
        &self,
        placed: PlacedSeries,
        site: &mut Site,
        cfe: Option<Range>,
        assumptions: &mut Vec<Assumption>,
    ) {
        site.intensity = Param::new(UnitRange::point(self.mean), self.param_source());
        site.intensity_scope = self.scope();
        if let Some(cfe) = cfe {
            site.market_intensity = Some(Market::ShareOfLocation(Param::new(
                Range::new(1.0 - cfe.hi, 1.0 - cfe.lo),
                format!("series mean intensity x (1 - CFE {})", cfe.display("")),
            )));
        }
        site.series = Some(SeriesBasis { placed });
        let a = Assumption {
            name: "intensity".into(),
            value: format!("{} g/kWh", self.across.display("")),
            origin: Origin::Derived,
            source: Some(self.param_source()),
            field: None,
        };
        match assumptions.iter_mut().find(|a| a.name == "intensity") {
            Some(old) => *old = a,
            None => assumptions.push(a),
        }
    }

    /// The `--explain` step: `CI = sum E_i CI_i / sum E_i`.
    #[must_use]
    pub fn step(&self) -> Step {
        let filled = if self.carbon.filled_energy.value() > 0.0 {
            format!(
                "; {} kWh of it on filled values",
                fmt_num(self.carbon.filled_energy.value())
            )
        } else {
            String::new()
        };
        Step::new(
            "series_intensity",
            format!(
                "CI_location = sum E_i x CI_i / sum E_i over {}..{} = {} g / {} kWh of the \
                 energy profile ({} signal{filled})",
                shown(self.start),
                shown(self.end),
                fmt_num(self.carbon.carbon.value()),
                fmt_num(self.carbon.energy.value()),
                self.signal
            ),
            self.mean.value(),
            "g/kWh",
        )
        .source(self.param_source())
    }
}

/// `site` with its intensity and market parameters in the shape [`SeriesMean::apply`] gives
/// them (a point location-based intensity; with `cfe`, a carbon-free share for the market), so
/// that a pre-pass over the model ([`crate::runner::periods`], to learn the span a series must
/// cover) makes the very draws the estimate on the series will.
#[must_use]
pub fn with_series_draws(site: &Site, cfe: Option<Range>) -> Site {
    let mut s = site.clone();
    s.intensity.range = UnitRange::point(s.intensity.range.mid());
    if let Some(cfe) = cfe {
        s.market_intensity = Some(Market::ShareOfLocation(Param::new(
            Range::new(1.0 - cfe.hi, 1.0 - cfe.lo),
            "",
        )));
    }
    s
}

/// A time as the output shows it: to the second (a computed end can carry nanoseconds).
pub(crate) fn shown(t: Timestamp) -> Timestamp {
    t.round(jiff::Unit::Second).unwrap_or(t)
}

/// A measured profile: bins of `(start_s, end_s, energy)` on a clock whose zero is the Unix
/// time `started_unix_s`, as [`EnergyBin`]s in UTC. No bins (a run of one poll) give one empty
/// bin at the start, so that the mean is the intensity at that moment.
///
/// # Errors
/// [`GridError::OutOfRange`] for a time a timestamp cannot hold.
pub fn measured_profile(
    started_unix_s: f64,
    bins: impl IntoIterator<Item = (f64, f64, Joules)>,
) -> Result<Vec<EnergyBin>, GridError> {
    let at = |s: f64| {
        let n = (s * 1e9).round();
        if n.is_finite() && n.abs() < 1e30 {
            #[allow(clippy::cast_possible_truncation)]
            Timestamp::from_nanosecond(n as i128).map_err(|_| GridError::OutOfRange {
                what: format!("the run's time {s} s after the Unix epoch"),
            })
        } else {
            Err(GridError::OutOfRange {
                what: format!("the run's time {s} s after the Unix epoch"),
            })
        }
    };
    let mut out = bins
        .into_iter()
        .map(|(a, b, e)| {
            let start = at(started_unix_s + a)?;
            let end = at(started_unix_s + b)?;
            Ok(EnergyBin::new(start, end.duration_since(start), e))
        })
        .collect::<Result<Vec<_>, GridError>>()?;
    if out.is_empty() {
        out.push(EnergyBin::new(
            at(started_unix_s)?,
            SignedDuration::ZERO,
            Joules(0.0),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::footprint::tests_support::site;
    use crate::footprint::SiteValues;
    use crate::grid::series::tests::{series, t};
    use crate::units::Hours;

    #[test]
    fn constant_power_gives_the_time_weighted_mean_and_the_site_takes_it() {
        // 1 kW over 4 h: 2 kWh x 100 + 2 kWh x 300 = 800 g / 4 kWh = 200 g/kWh.
        let s = series(&[(0.0, 2.0, 100.0), (2.0, 4.0, 300.0)]);
        let bin = EnergyBin::constant_power(t(0.0), SignedDuration::from_hours(4), Watts(1000.0));
        let m = SeriesMean::of(&s, &[bin]).expect("covered");
        assert!((m.mean.value() - 200.0).abs() < 1e-9);
        let mut site = site();
        let mut out = Vec::new();
        let placed = PlacedSeries::flat(&s, t(0.0), Hours(4.0)).expect("covered");
        m.apply(placed, &mut site, Some(Range::point(0.25)), &mut out);
        assert_eq!(site.intensity.range, UnitRange::point(GramsPerKwh(200.0)));
        // Market from a carbon-free share: 200 x (1 - 0.25) = 150 g/kWh, and over 2 h (100
        // g/kWh) 75: the share follows each evaluation's own series intensity.
        let mut d = crate::uncertainty::Draw::Central { uncertain: 0 };
        let v = SiteValues::draw(&site, &mut d, Hours(4.0));
        assert_eq!(v.market_intensity, Some(GramsPerKwh(150.0)));
        assert!((v.intensity.value() - 200.0).abs() < 1e-9);
        let v = SiteValues::draw(&site, &mut d, Hours(2.0));
        assert_eq!(v.market_intensity, Some(GramsPerKwh(75.0)));
        // No draw is uncertain: a point intensity and a point share.
        assert!(matches!(
            d,
            crate::uncertainty::Draw::Central { uncertain: 0 }
        ));
        assert!(site
            .intensity_scope
            .starts_with("series test (average signal), mean 200"));
        assert_eq!(out[0].name, "intensity");
    }

    #[test]
    fn a_range_of_durations_gives_the_range_of_means() {
        // 100 g/kWh for 2 h, then 300: 2 h -> 100, 3 h -> 166.7, 4 h -> 200.
        let s = series(&[(0.0, 2.0, 100.0), (2.0, 4.0, 300.0)]);
        let m = SeriesMean::over_durations(&s, t(0.0), 2.0, 4.0, 3.0).expect("covered");
        assert!((m.across.lo - 100.0).abs() < 1e-9, "{:?}", m.across);
        assert!((m.across.hi - 200.0).abs() < 1e-9, "{:?}", m.across);
        assert!((m.mean.value() - 500.0 / 3.0).abs() < 1e-9);
        // At 4 h x 1 kW the top of the range gives the 800 g the run emits.
        assert!((m.across.hi * 4.0 - 800.0).abs() < 1e-9);
        let mut site = site();
        let placed = PlacedSeries::flat(&s, t(0.0), Hours(4.0)).expect("covered");
        m.apply(placed, &mut site, None, &mut Vec::new());
        // The site shows the central (3 h) mean; each evaluation takes its own span's.
        assert!((site.intensity.range.mid().value() - 500.0 / 3.0).abs() < 1e-9);
        let mut d = crate::uncertainty::Draw::Central { uncertain: 0 };
        for (h, want) in [(2.0, 100.0), (3.0, 500.0 / 3.0), (4.0, 200.0)] {
            let v = SiteValues::draw(&site, &mut d, Hours(h));
            assert!((v.intensity.value() - want).abs() < 1e-9, "{h} h");
        }
        assert!(m.durations_note().expect("note").contains("2..4 h"));
        assert!(
            site.intensity_scope.contains("over spans of 2..4 h"),
            "{}",
            site.intensity_scope
        );
        // A point duration gives a point; beyond the series, the longest's span is named.
        let p = SeriesMean::over_durations(&s, t(0.0), 4.0, 4.0, 4.0).expect("covered");
        assert!(p.across.is_point() && p.durations_h.is_none());
        let e = SeriesMean::over_durations(&s, t(0.0), 2.0, 5.0, 3.0).expect_err("uncovered");
        assert!(matches!(e, GridError::Uncovered { .. }), "{e}");
    }

    #[test]
    fn the_range_of_means_is_exact_at_an_interior_boundary() {
        // 100 for 2 h, 300 for 1 h, then 0: the mean peaks at 3 h, (200 + 300) / 3 = 166.7,
        // between evenly spaced durations of 1..4 h; 1 h and 2 h give the lowest, 100.
        let s = series(&[(0.0, 2.0, 100.0), (2.0, 3.0, 300.0), (3.0, 5.0, 0.0)]);
        let m = SeriesMean::over_durations(&s, t(0.0), 1.0, 4.0, 2.5).expect("covered");
        assert!((m.across.hi - 500.0 / 3.0).abs() < 1e-9, "{:?}", m.across);
        assert!((m.across.lo - 100.0).abs() < 1e-9, "{:?}", m.across);
    }

    #[test]
    fn a_measured_profile_is_energy_weighted() {
        // 0.5 kWh in [0.5 h, 1 h) at 100, 1.5 kWh in [1 h, 1.5 h) at 300 (series from t(0)):
        // (50 + 450) g / 2 kWh = 250 g/kWh, not the time-weighted 200.
        let s = series(&[(0.0, 1.0, 100.0), (1.0, 2.0, 300.0)]);
        let start = t(0.0).as_nanosecond() as f64 / 1e9;
        let bins = measured_profile(
            start,
            [
                (1800.0, 3600.0, Joules(1.8e6)),
                (3600.0, 5400.0, Joules(5.4e6)),
            ],
        )
        .expect("in range");
        let m = SeriesMean::of(&s, &bins).expect("covered");
        assert!((m.mean.value() - 250.0).abs() < 1e-9, "{}", m.mean.value());
        assert_eq!(m.start, t(0.5));
        assert_eq!(m.end, t(1.5));
        // No energy at all: the time-weighted mean over the span, 200.
        let none = measured_profile(start, [(1800.0, 5400.0, Joules(0.0))]).expect("in range");
        let z = SeriesMean::of(&s, &none).expect("covered");
        assert!((z.mean.value() - 200.0).abs() < 1e-9);
        // No bins at all (one poll): the intensity at the start, 100.
        let one = measured_profile(start + 1800.0, []).expect("in range");
        let o = SeriesMean::of(&s, &one).expect("covered");
        assert!((o.mean.value() - 100.0).abs() < 1e-9);
    }
}
