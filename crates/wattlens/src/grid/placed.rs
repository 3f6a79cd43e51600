//! A series placed under work that starts at a known instant: the intensity the accounting core
//! uses for each evaluation, integrated over that evaluation's own span.
//!
//! Two shapes of work:
//! - **Flat** (an estimate): constant power from `start` for the evaluation's busy period, which
//!   a Monte Carlo draw may vary. The intensity of a draw is the time-weighted mean of the series
//!   over `[start, start + period)`, found in `O(log n)` from prefix integrals, so the carbon of
//!   a long draw falls on the hours it really covers (a duration range and the intensity it
//!   meets are correlated, not drawn apart).
//! - **Profile** (a measured run): the energy of each bin of the measured profile; a draw only
//!   scales the whole profile (PUE, power bands), so the energy-weighted mean is the same for
//!   every draw and `E_fac x mean` is the integral `sum_i E_i x CI_i` exactly.

use super::series::ns;
use super::{EnergyBin, GridError, IntensitySeries, SeriesMean, Signal};
use crate::units::{GramsPerKwh, Hours, Watts};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;

/// The shape of the work laid on the series.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Shape {
    /// Constant power from the start for each evaluation's busy period, up to `longest`.
    Flat {
        /// The longest period any evaluation may have (its span was checked to be covered).
        longest: Hours,
    },
    /// A measured energy profile: the energy-weighted mean over it.
    Profile(SeriesMean),
}

/// Prefix integrals of a series from `start`: `cum[k]` is `∫ CI dt` in g/kWh x s from `start`
/// to the start of interval `k`, over contiguous intervals only (coverage is checked first).
#[derive(Debug, PartialEq)]
struct Prefix {
    /// Interval starts, seconds after `start` (the first may be negative).
    starts: Vec<f64>,
    /// Interval values, g/kWh.
    values: Vec<f64>,
    /// `∫ CI dt` from `start` to each interval start, g/kWh x s.
    cum: Vec<f64>,
    /// Length of the checked span, s.
    span_s: f64,
}

impl Prefix {
    /// `∫ CI dt` over `[0, t]` seconds after the start (`t` within the checked span).
    fn integral(&self, t: f64) -> f64 {
        let k = self.starts.partition_point(|&s| s <= t).saturating_sub(1);
        match (self.cum.get(k), self.starts.get(k), self.values.get(k)) {
            (Some(c), Some(s), Some(v)) => c + (t - s) * v,
            _ => 0.0,
        }
    }

    /// The value at `t` seconds after the start.
    fn at(&self, t: f64) -> f64 {
        let k = self.starts.partition_point(|&s| s <= t).saturating_sub(1);
        self.values.get(k).copied().unwrap_or(0.0)
    }
}

/// A series placed at the start of the work, as the site holds it for the accounting core.
#[derive(Clone, Debug, PartialEq)]
pub struct PlacedSeries {
    source: String,
    signal: Signal,
    start: Timestamp,
    shape: Shape,
    prefix: Arc<Prefix>,
}

impl PlacedSeries {
    /// Work of constant power from `start` lasting up to `longest` (every evaluation's period is
    /// at most that).
    ///
    /// # Errors
    /// [`GridError::Duration`] for a longest period that is not positive, or
    /// [`GridError::OutOfRange`] for one a timestamp cannot hold; [`GridError::Uncovered`]
    /// naming the first span of `[start, start + longest)` the series does not cover.
    pub fn flat(
        series: &IntensitySeries,
        start: Timestamp,
        longest: Hours,
    ) -> Result<Self, GridError> {
        let len = span(start, longest)?;
        // Coverage of the longest span covers every shorter one from the same start.
        series.carbon(&[EnergyBin::constant_power(start, len, Watts(1000.0))])?;
        Ok(Self {
            source: series.source().to_string(),
            signal: series.signal(),
            start,
            shape: Shape::Flat { longest },
            prefix: Arc::new(prefix(series, start, start + len)),
        })
    }

    /// A measured profile laid on the series (the energy-weighted mean over it).
    ///
    /// # Errors
    /// Those of [`SeriesMean::of`].
    pub fn profile(series: &IntensitySeries, bins: &[EnergyBin]) -> Result<Self, GridError> {
        let mean = SeriesMean::of(series, bins)?;
        // Prefix integrals over the profile's span, for parts of it (marked windows), when the
        // series covers all of it (a profile may pause across a gap: its parts then have none).
        let whole = EnergyBin::constant_power(
            mean.start,
            mean.end.duration_since(mean.start),
            Watts(1000.0),
        );
        let prefix = if mean.end > mean.start && series.carbon(&[whole]).is_ok() {
            prefix(series, mean.start, mean.end)
        } else {
            Prefix {
                starts: Vec::new(),
                values: Vec::new(),
                cum: Vec::new(),
                span_s: 0.0,
            }
        };
        Ok(Self {
            source: series.source().to_string(),
            signal: series.signal(),
            start: mean.start,
            shape: Shape::Profile(mean),
            prefix: Arc::new(prefix),
        })
    }

    /// The time-weighted mean intensity over `[from, to]` (the value at `from` when they are
    /// equal), for a part of the work such as a marked window (constant power within it);
    /// `None` outside the span the series was checked to cover.
    #[must_use]
    pub fn mean_between(&self, from: Timestamp, to: Timestamp) -> Option<GramsPerKwh> {
        let secs = |t: Timestamp| {
            #[allow(clippy::cast_precision_loss)]
            let s = (ns(t) - ns(self.start)) as f64 / 1e9;
            s
        };
        let (a, b) = (secs(from), secs(to));
        let p = &self.prefix;
        if p.starts.is_empty() || a < 0.0 || b < a || b > p.span_s * (1.0 + 1e-12) + 1e-9 {
            return None;
        }
        Some(GramsPerKwh(if b > a {
            (p.integral(b) - p.integral(a)) / (b - a)
        } else {
            p.at(a)
        }))
    }

    /// The intensity of one evaluation whose busy period is `period`: for flat work the
    /// time-weighted mean over `[start, start + period)` (the value at the start for a period of
    /// zero; a period beyond the checked longest is cut to it); for a profile its mean.
    #[must_use]
    pub fn intensity(&self, period: Hours) -> GramsPerKwh {
        match &self.shape {
            Shape::Profile(m) => m.mean,
            Shape::Flat { longest } => {
                let t = period.0.min(longest.0) * 3600.0;
                if t > 0.0 && t.is_finite() {
                    GramsPerKwh(self.prefix.integral(t) / t)
                } else {
                    GramsPerKwh(self.prefix.at(0.0))
                }
            }
        }
    }

    /// When the work starts (UTC).
    #[must_use]
    pub fn start(&self) -> Timestamp {
        self.start
    }

    /// The series' source (its file).
    #[must_use]
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Average or marginal.
    #[must_use]
    pub fn signal(&self) -> Signal {
        self.signal
    }

    /// The shape of the work.
    #[must_use]
    pub fn shape(&self) -> &Shape {
        &self.shape
    }
}

/// `longest` as a duration from `start`.
fn span(start: Timestamp, longest: Hours) -> Result<SignedDuration, GridError> {
    let h = longest.0;
    match SignedDuration::try_from_secs_f64(h * 3600.0) {
        Ok(d) if d.is_positive() => {
            start
                .checked_add(d)
                .map(|_| d)
                .map_err(|_| GridError::OutOfRange {
                    what: format!("a span of {h} h from {start}"),
                })
        }
        Ok(d) => Err(GridError::Duration {
            what: "the span of the work",
            got: d,
        }),
        Err(_) => Err(GridError::OutOfRange {
            what: format!("a span of {h} h from {start}"),
        }),
    }
}

/// Prefix integrals of the intervals that overlap `[start, end)` (checked to be covered, so
/// they are contiguous there).
fn prefix(series: &IntensitySeries, start: Timestamp, end: Timestamp) -> Prefix {
    let (s0, e0) = (ns(start), ns(end));
    let ivs = series.intervals();
    let first = ivs.partition_point(|iv| ns(iv.end) <= s0);
    #[allow(clippy::cast_precision_loss)]
    let mut out = Prefix {
        starts: Vec::new(),
        values: Vec::new(),
        cum: Vec::new(),
        span_s: (e0 - s0) as f64 / 1e9,
    };
    let mut acc = 0.0;
    for iv in ivs[first..].iter().take_while(|iv| ns(iv.start) < e0) {
        #[allow(clippy::cast_precision_loss)]
        let (a, b) = (
            (ns(iv.start) - s0) as f64 / 1e9,
            (ns(iv.end) - s0) as f64 / 1e9,
        );
        let v = iv.intensity.value();
        // The integral starts at 0 (the work's start), inside the first interval.
        let from = a.max(0.0);
        out.starts.push(from);
        out.values.push(v);
        out.cum.push(acc);
        acc += (b - from) * v;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::series::tests::{series, t};

    #[test]
    fn flat_work_takes_the_mean_over_its_own_period() {
        // 100 g/kWh for 2 h, then 300: 2 h -> 100, 3 h -> 166.67, 4 h -> 200.
        let s = series(&[(0.0, 2.0, 100.0), (2.0, 4.0, 300.0)]);
        let p = PlacedSeries::flat(&s, t(0.0), Hours(4.0)).expect("covered");
        let at = |h: f64| p.intensity(Hours(h)).value();
        assert!((at(2.0) - 100.0).abs() < 1e-9);
        assert!((at(3.0) - 500.0 / 3.0).abs() < 1e-9);
        assert!((at(4.0) - 200.0).abs() < 1e-9);
        // 1 kW x 4 h x 200 g/kWh = 800 g, the hand computation.
        assert!((at(4.0) * 4.0 - 800.0).abs() < 1e-9);
        // Zero period: the value at the start; beyond the longest: cut to it.
        assert_eq!(at(0.0), 100.0);
        assert!((at(9.0) - 200.0).abs() < 1e-9);
        assert_eq!(p.signal(), Signal::Average);
        assert_eq!(p.start(), t(0.0));
    }

    #[test]
    fn a_start_inside_an_interval_and_a_longer_series() {
        // Start at 1.5 h inside [1, 2) at 50: 0.5 h x 50 + 1 h x 250 = 275 over 1.5 h.
        let s = series(&[
            (0.0, 1.0, 10.0),
            (1.0, 2.0, 50.0),
            (2.0, 3.0, 250.0),
            (3.0, 9.0, 1.0),
        ]);
        let p = PlacedSeries::flat(&s, t(1.5), Hours(1.5)).expect("covered");
        assert!((p.intensity(Hours(1.5)).value() - 275.0 / 1.5).abs() < 1e-9);
        assert!((p.intensity(Hours(0.25)).value() - 50.0).abs() < 1e-9);
    }

    #[test]
    fn matches_the_integral_of_the_series_for_many_periods() {
        let s = series(&[
            (0.0, 0.5, 120.0),
            (0.5, 1.0, 80.0),
            (1.0, 3.0, 410.0),
            (3.0, 3.25, 5.0),
            (3.25, 6.0, 230.0),
        ]);
        let start = t(0.2);
        let p = PlacedSeries::flat(&s, start, Hours(5.5)).expect("covered");
        for i in 1..=55 {
            let h = f64::from(i) * 0.1;
            let bin = EnergyBin::constant_power(
                start,
                SignedDuration::from_secs_f64(h * 3600.0),
                Watts(1000.0),
            );
            let want = s.carbon(&[bin]).expect("covered").mean_intensity().value();
            let got = p.intensity(Hours(h)).value();
            assert!(
                (got - want).abs() < 1e-9 * want.max(1.0),
                "{h} h: {got} vs {want}"
            );
        }
    }

    #[test]
    fn a_part_of_the_work_takes_the_mean_over_its_own_span() {
        let s = series(&[(0.0, 1.0, 100.0), (1.0, 2.0, 300.0)]);
        let bins = [EnergyBin::new(
            t(0.5),
            SignedDuration::from_mins(60),
            crate::units::Joules(3.6e6),
        )];
        let p = PlacedSeries::profile(&s, &bins).expect("covered");
        // 0.5..1 h at 100, 1..1.5 h at 300; 0.75..1.25 h: half each, 200.
        let m = |a: f64, b: f64| p.mean_between(t(a), t(b)).map(GramsPerKwh::value);
        assert_eq!(m(0.5, 1.0), Some(100.0));
        assert_eq!(m(1.0, 1.5), Some(300.0));
        assert!((m(0.75, 1.25).expect("inside") - 200.0).abs() < 1e-9);
        assert_eq!(m(1.2, 1.2), Some(300.0));
        // Outside the checked span, or backwards: none.
        assert_eq!(m(0.25, 1.0), None);
        assert_eq!(m(1.0, 1.75), None);
        assert_eq!(m(1.2, 1.0), None);
        let f = PlacedSeries::flat(&s, t(0.0), Hours(2.0)).expect("covered");
        assert_eq!(
            f.mean_between(t(0.0), t(1.0)).map(GramsPerKwh::value),
            Some(100.0)
        );
    }

    #[test]
    fn an_uncovered_longest_span_is_named() {
        let s = series(&[(0.0, 2.0, 100.0), (3.0, 4.0, 300.0)]);
        let e = PlacedSeries::flat(&s, t(0.0), Hours(4.0)).expect_err("gap");
        assert!(matches!(e, GridError::Uncovered { .. }), "{e}");
        assert!(PlacedSeries::flat(&s, t(0.0), Hours(2.0)).is_ok());
        let e = PlacedSeries::flat(&s, t(0.0), Hours(0.0)).expect_err("empty");
        assert!(matches!(e, GridError::Duration { .. }), "{e}");
        let e = PlacedSeries::flat(&s, t(0.0), Hours(f64::MAX)).expect_err("too long");
        assert!(matches!(e, GridError::OutOfRange { .. }), "{e}");
    }

    #[test]
    fn a_profile_takes_its_energy_weighted_mean() {
        let s = series(&[(0.0, 1.0, 100.0), (1.0, 2.0, 300.0)]);
        let bins = [
            EnergyBin::new(
                t(0.5),
                SignedDuration::from_mins(30),
                crate::units::Joules(1.8e6),
            ),
            EnergyBin::new(
                t(1.0),
                SignedDuration::from_mins(30),
                crate::units::Joules(5.4e6),
            ),
        ];
        let p = PlacedSeries::profile(&s, &bins).expect("covered");
        // (0.5 x 100 + 1.5 x 300) / 2 = 250, whatever the period.
        assert!((p.intensity(Hours(7.0)).value() - 250.0).abs() < 1e-9);
        assert!(matches!(p.shape(), Shape::Profile(_)));
    }
}
