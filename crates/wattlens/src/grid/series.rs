//! The intensity series type: validated UTC intervals in g/kWh, its gaps, gap filling by linear
//! interpolation and resampling to fixed bins.

use super::{GridError, Signal};
use crate::units::GramsPerKwh;
use jiff::{SignedDuration, Timestamp};
use std::fmt;

/// One interval `[start, end)` of constant intensity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    /// Start, inclusive (UTC).
    pub start: Timestamp,
    /// End, exclusive (UTC).
    pub end: Timestamp,
    /// Carbon intensity over the interval.
    pub intensity: GramsPerKwh,
    /// Whether the value was made up rather than read: interpolated across a gap
    /// ([`IntensitySeries::fill_gaps`]), or a resampled bin that reaches into a gap
    /// ([`IntensitySeries::resample`]).
    pub filled: bool,
}

impl Interval {
    /// An interval with a value that was read (not filled).
    #[must_use]
    pub fn new(start: Timestamp, end: Timestamp, intensity: GramsPerKwh) -> Self {
        Self {
            start,
            end,
            intensity,
            filled: false,
        }
    }
    /// `end - start`.
    #[must_use]
    pub fn duration(&self) -> SignedDuration {
        self.end.duration_since(self.start)
    }
}

/// Carbon intensity over time: strictly increasing, non-overlapping intervals, contiguous or
/// with gaps (time between two intervals that no interval covers).
///
/// Built only through [`IntensitySeries::new`] (or the importer), so the order and values are
/// always valid.
#[derive(Clone, Debug, PartialEq)]
pub struct IntensitySeries {
    source: String,
    signal: Signal,
    intervals: Vec<Interval>,
}

/// Nanoseconds since the Unix epoch: exact integer arithmetic for time.
pub(super) fn ns(t: Timestamp) -> i128 {
    t.as_nanosecond()
}

/// The timestamp `n` nanoseconds after the Unix epoch.
pub(super) fn at_ns(n: i128, what: impl FnOnce() -> String) -> Result<Timestamp, GridError> {
    Timestamp::from_nanosecond(n).map_err(|_| GridError::OutOfRange { what: what() })
}

impl IntensitySeries {
    /// Checks and builds a series.
    ///
    /// # Errors
    /// [`GridError::Empty`] without intervals; [`GridError::Interval`] naming the first row
    /// (1-based) whose intensity is not a finite non-negative number, whose end is not after its
    /// start, or which starts before the previous one ends.
    pub fn new(
        source: impl Into<String>,
        signal: Signal,
        intervals: Vec<Interval>,
    ) -> Result<Self, GridError> {
        let source = source.into();
        if intervals.is_empty() {
            return Err(GridError::Empty {
                source_name: source,
            });
        }
        let bad = |row: usize, why: String| GridError::Interval {
            source_name: source.clone(),
            row,
            why,
        };
        for (i, iv) in intervals.iter().enumerate() {
            let v = iv.intensity.value();
            if !v.is_finite() {
                return Err(bad(
                    i + 1,
                    format!("intensity {v} g/kWh is not finite; give a number"),
                ));
            }
            if v < 0.0 {
                return Err(bad(i + 1, format!("intensity {v} g/kWh is negative")));
            }
            if iv.end <= iv.start {
                return Err(bad(
                    i + 1,
                    format!(
                        "ends ({}) at or before it starts ({}); the end must be later",
                        iv.end, iv.start
                    ),
                ));
            }
            if let Some(prev) = i.checked_sub(1).map(|p| &intervals[p]) {
                if iv.start < prev.end {
                    return Err(bad(
                        i + 1,
                        format!(
                            "starts at {}, before row {i} ends ({}); intervals must be in time \
                             order and must not overlap",
                            iv.start, prev.end
                        ),
                    ));
                }
            }
        }
        Ok(Self {
            source,
            signal,
            intervals,
        })
    }

    /// Where the values come from (a file and column, or a provider's name).
    #[must_use]
    pub fn source(&self) -> &str {
        &self.source
    }
    /// Average or marginal.
    #[must_use]
    pub fn signal(&self) -> Signal {
        self.signal
    }
    /// The intervals, in time order.
    #[must_use]
    pub fn intervals(&self) -> &[Interval] {
        &self.intervals
    }
    /// Start of the first interval.
    #[must_use]
    pub fn start(&self) -> Timestamp {
        self.intervals[0].start
    }
    /// End of the last interval.
    #[must_use]
    pub fn end(&self) -> Timestamp {
        self.intervals[self.intervals.len() - 1].end
    }
    /// The gaps `(start, end)` between intervals, in time order.
    #[must_use]
    pub fn gaps(&self) -> Vec<(Timestamp, Timestamp)> {
        self.intervals
            .windows(2)
            .filter(|w| w[1].start > w[0].end)
            .map(|w| (w[0].end, w[1].start))
            .collect()
    }
    /// How many intervals carry a filled (not read) value.
    #[must_use]
    pub fn filled_count(&self) -> usize {
        self.intervals.iter().filter(|iv| iv.filled).count()
    }
    /// The interval holding instant `t`, if any.
    #[must_use]
    pub fn at(&self, t: Timestamp) -> Option<&Interval> {
        let i = self.intervals.partition_point(|iv| iv.end <= t);
        self.intervals.get(i).filter(|iv| iv.start <= t)
    }

    /// Fills every gap no longer than `max_gap` by linear interpolation; longer gaps stay gaps.
    ///
    /// The line runs from the midpoint of the interval before the gap (at its value) to the
    /// midpoint of the interval after it. The gap is cut into `ceil(gap / step)` equal pieces,
    /// `step` being the shorter of the two neighbours, and each piece gets the line's value at
    /// its own midpoint (the line's mean over the piece). Every piece is flagged `filled`.
    /// Nothing is added before the first interval or after the last.
    ///
    /// # Errors
    /// [`GridError::Duration`] when `max_gap` is not positive.
    pub fn fill_gaps(&self, max_gap: SignedDuration) -> Result<Self, GridError> {
        if !max_gap.is_positive() {
            return Err(GridError::Duration {
                what: "the maximum gap to fill",
                got: max_gap,
            });
        }
        let max = max_gap.as_nanos();
        let mut out = Vec::with_capacity(self.intervals.len());
        for (i, a) in self.intervals.iter().enumerate() {
            out.push(*a);
            let Some(b) = self.intervals.get(i + 1) else {
                break;
            };
            let (g0, g1) = (ns(a.end), ns(b.start));
            let gap = g1 - g0;
            if gap == 0 || gap > max {
                continue;
            }
            let step = (ns(a.end) - ns(a.start)).min(ns(b.end) - ns(b.start));
            let pieces = (gap + step - 1) / step;
            let (ma, mb) = ((ns(a.start) + g0) / 2, (g1 + ns(b.end)) / 2);
            let (va, vb) = (a.intensity.value(), b.intensity.value());
            for k in 0..pieces {
                let p0 = g0 + gap * k / pieces;
                let p1 = g0 + gap * (k + 1) / pieces;
                let m = (p0 + p1) / 2;
                let v = va + (vb - va) * ((m - ma) as f64 / (mb - ma) as f64);
                out.push(Interval {
                    start: at_ns(p0, || "a filled interval".into())?,
                    end: at_ns(p1, || "a filled interval".into())?,
                    intensity: GramsPerKwh(v),
                    filled: true,
                });
            }
        }
        Self::new(self.source.clone(), self.signal, out)
    }

    /// The time-weighted mean intensity over bins of `width`, aligned to the Unix epoch in UTC
    /// (hourly bins start on the hour, daily bins at 00:00 UTC).
    ///
    /// A bin wholly inside a gap is left out (it stays a gap). A bin partly in a gap, or partly
    /// outside the series at either end, gets the mean over its covered part and is flagged
    /// `filled`, because its uncovered time now carries that value. A bin holding any filled
    /// interval is flagged too. Fill or keep gaps first ([`fill_gaps`](Self::fill_gaps)) to
    /// choose what a gap means.
    ///
    /// # Errors
    /// [`GridError::Duration`] when `width` is not positive.
    pub fn resample(&self, width: SignedDuration) -> Result<Self, GridError> {
        if !width.is_positive() {
            return Err(GridError::Duration {
                what: "the resampling width",
                got: width,
            });
        }
        let w = width.as_nanos();
        let ivs = &self.intervals;
        let end = ns(self.end());
        let mut b0 = ns(self.start()).div_euclid(w) * w;
        let mut j = 0;
        let mut out = Vec::new();
        while b0 < end {
            let b1 = b0 + w;
            while j < ivs.len() && ns(ivs[j].end) <= b0 {
                j += 1;
            }
            let (mut weighted, mut covered, mut filled) = (0.0, 0i128, false);
            for iv in ivs[j..].iter().take_while(|iv| ns(iv.start) < b1) {
                let overlap = b1.min(ns(iv.end)) - b0.max(ns(iv.start));
                weighted += overlap as f64 * iv.intensity.value();
                covered += overlap;
                filled |= iv.filled;
            }
            if covered > 0 {
                out.push(Interval {
                    start: at_ns(b0, || format!("a bin of {width}"))?,
                    end: at_ns(b1, || format!("a bin of {width}"))?,
                    intensity: GramsPerKwh(weighted / covered as f64),
                    filled: filled || covered < w,
                });
                b0 = b1;
            } else if let Some(next) = ivs.get(j) {
                // A gap: jump to the bin that holds the next interval's start.
                b0 = b1.max(ns(next.start).div_euclid(w) * w);
            } else {
                break;
            }
        }
        Self::new(self.source.clone(), self.signal, out)
    }
}

impl fmt::Display for IntensitySeries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} signal, {} intervals, {}..{}",
            self.source,
            self.signal,
            self.intervals.len(),
            self.start(),
            self.end()
        )?;
        let gaps = self.gaps().len();
        if gaps > 0 {
            write!(f, ", {gaps} gaps")?;
        }
        let filled = self.filled_count();
        if filled > 0 {
            write!(f, ", {filled} filled")?;
        }
        f.write_str(")")
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// `2024-03-04T00:00:00Z` plus `h` hours (fractions allowed).
    pub(in crate::grid) fn t(h: f64) -> Timestamp {
        let base: Timestamp = "2024-03-04T00:00:00Z".parse().expect("timestamp");
        base + SignedDuration::from_secs_f64(h * 3600.0)
    }

    /// Intervals `[h0, h1)` with values, as a series.
    pub(in crate::grid) fn series(rows: &[(f64, f64, f64)]) -> IntensitySeries {
        let ivs = rows
            .iter()
            .map(|&(a, b, v)| Interval::new(t(a), t(b), GramsPerKwh(v)))
            .collect();
        IntensitySeries::new("test", Signal::Average, ivs).expect("valid series")
    }

    fn values(s: &IntensitySeries) -> Vec<(f64, bool)> {
        s.intervals()
            .iter()
            .map(|iv| ((iv.intensity.value() * 1e6).round() / 1e6, iv.filled))
            .collect()
    }

    #[test]
    fn constructor_names_the_row() {
        let e = |ivs: Vec<Interval>| {
            IntensitySeries::new("x.csv", Signal::Average, ivs)
                .expect_err("invalid")
                .to_string()
        };
        let ok = Interval::new(t(0.0), t(1.0), GramsPerKwh(100.0));
        let msg = e(vec![
            ok,
            Interval::new(t(1.0), t(2.0), GramsPerKwh(f64::NAN)),
        ]);
        assert!(
            msg.contains("x.csv: row 2: intensity NaN g/kWh is not finite"),
            "{msg}"
        );
        let msg = e(vec![ok, Interval::new(t(1.0), t(2.0), GramsPerKwh(-1.0))]);
        assert!(
            msg.contains("row 2: intensity -1 g/kWh is negative"),
            "{msg}"
        );
        let msg = e(vec![Interval::new(t(1.0), t(1.0), GramsPerKwh(1.0))]);
        assert!(
            msg.contains("row 1: ends (2024-03-04T01:00:00Z) at or before"),
            "{msg}"
        );
        let msg = e(vec![ok, Interval::new(t(0.5), t(2.0), GramsPerKwh(1.0))]);
        assert!(
            msg.contains("row 2: starts at 2024-03-04T00:30:00Z, before row 1 ends"),
            "{msg}"
        );
        assert!(e(vec![]).contains("has no intervals"));
    }

    #[test]
    fn gaps_lookup_and_display() {
        let s = series(&[(0.0, 1.0, 100.0), (1.0, 2.0, 200.0), (3.0, 4.0, 300.0)]);
        assert_eq!(s.gaps(), vec![(t(2.0), t(3.0))]);
        assert_eq!(
            s.at(t(1.0)).map(|iv| iv.intensity),
            Some(GramsPerKwh(200.0))
        );
        assert_eq!(
            s.at(t(0.999)).map(|iv| iv.intensity),
            Some(GramsPerKwh(100.0))
        );
        assert!(s.at(t(2.5)).is_none());
        assert!(s.at(t(4.0)).is_none());
        assert_eq!(
            s.to_string(),
            "test (average signal, 3 intervals, 2024-03-04T00:00:00Z..2024-03-04T04:00:00Z, 1 gaps)"
        );
    }

    #[test]
    fn fill_gaps_interpolates_up_to_the_limit() {
        // [0,1) 100, gap [1,3), [3,4) 300. Line from (0.5 h, 100) to (3.5 h, 300): slope 200/3
        // per hour. Pieces of 1 h: [1,2) at 1.5 h = 100 + 200/3 = 166.667; [2,3) at 2.5 h =
        // 100 + 400/3 = 233.333.
        let s = series(&[(0.0, 1.0, 100.0), (3.0, 4.0, 300.0)]);
        let f = s.fill_gaps(SignedDuration::from_hours(2)).expect("fill");
        assert_eq!(
            values(&f),
            vec![
                (100.0, false),
                (166.666667, true),
                (233.333333, true),
                (300.0, false)
            ]
        );
        assert!(f.gaps().is_empty());
        assert_eq!(f.filled_count(), 2);
        assert_eq!(f.intervals()[1].start, t(1.0));
        assert_eq!(f.intervals()[2].end, t(3.0));
        // A 2 h gap is longer than a 119-minute limit: it stays.
        let kept = s.fill_gaps(SignedDuration::from_mins(119)).expect("fill");
        assert_eq!(kept, s);
        assert!(s.fill_gaps(SignedDuration::ZERO).is_err());
    }

    #[test]
    fn fill_gaps_cuts_by_the_shorter_neighbour() {
        // [0,0.5) 100, gap [0.5,1.25) = 45 min, [1.25,2.25) 200. Step = 30 min, so
        // ceil(45/30) = 2 pieces of 22.5 min: [0.5,0.875) mid 0.6875 h, [0.875,1.25) mid
        // 1.0625 h. Line from (0.25, 100) to (1.75, 200): 100 + 100 x (0.6875-0.25)/1.5 =
        // 129.1667 and 100 + 100 x (1.0625-0.25)/1.5 = 154.1667.
        let s = series(&[(0.0, 0.5, 100.0), (1.25, 2.25, 200.0)]);
        let f = s.fill_gaps(SignedDuration::from_hours(1)).expect("fill");
        assert_eq!(
            values(&f),
            vec![
                (100.0, false),
                (129.166667, true),
                (154.166667, true),
                (200.0, false)
            ]
        );
        assert_eq!(f.intervals()[1].end, t(0.875));
    }

    #[test]
    fn resample_is_time_weighted() {
        // Half-hours 100, 200, 300, 400 from 00:00 → hourly 150, 350.
        let s = series(&[
            (0.0, 0.5, 100.0),
            (0.5, 1.0, 200.0),
            (1.0, 1.5, 300.0),
            (1.5, 2.0, 400.0),
        ]);
        let r = s.resample(SignedDuration::from_hours(1)).expect("resample");
        assert_eq!(values(&r), vec![(150.0, false), (350.0, false)]);
        assert_eq!(r.intervals()[1].start, t(1.0));
        // Uneven: [0,0.25) 100, [0.25,1) 200 → (0.25 x 100 + 0.75 x 200) / 1 = 175.
        let s = series(&[(0.0, 0.25, 100.0), (0.25, 1.0, 200.0)]);
        let r = s.resample(SignedDuration::from_hours(1)).expect("resample");
        assert_eq!(values(&r), vec![(175.0, false)]);
        assert!(s.resample(SignedDuration::from_secs(-1)).is_err());
    }

    #[test]
    fn resample_flags_partial_bins_and_keeps_whole_gaps() {
        // [0,1.5) 100, gap [1.5,4), [4,4.5) 300 → bins [0,1) 100; [1,2) 100 over its covered
        // half, flagged; [2,3) and [3,4) wholly in the gap, left out; [4,5) 300 over its
        // covered half (the series ends at 4.5), flagged.
        let s = series(&[(0.0, 1.5, 100.0), (4.0, 4.5, 300.0)]);
        let r = s.resample(SignedDuration::from_hours(1)).expect("resample");
        assert_eq!(
            values(&r),
            vec![(100.0, false), (100.0, true), (300.0, true)]
        );
        assert_eq!(r.gaps(), vec![(t(2.0), t(4.0))]);
        // A bin that holds a filled interval is flagged filled.
        let f = series(&[(0.0, 1.0, 100.0), (2.0, 3.0, 300.0)])
            .fill_gaps(SignedDuration::from_hours(1))
            .expect("fill");
        let r = f.resample(SignedDuration::from_hours(3)).expect("resample");
        // (100 + 200 + 300) / 3 = 200, flagged.
        assert_eq!(values(&r), vec![(200.0, true)]);
    }
}
