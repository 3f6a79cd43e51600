//! The lowest-carbon contiguous window, exact, from prefix integrals of the series.
//!
//! For a start `t`, the job's `∫ CI` is `f(t) = I(t + D) - I(t)`, `I` the prefix integral of the
//! series. `I` is piecewise linear with breakpoints at interval boundaries, so `f` is piecewise
//! linear with breakpoints where `t` or `t + D` meets a boundary: its minimum over the feasible
//! starts `[tl, th]` of a gap-free segment lies at `tl`, `th`, a boundary `b` or `b - D`. Those
//! candidates come in time order from two sorted streams (merged, not sorted), and `I` at each
//! is read with two forward-only cursors, so a window of `w` intervals costs `O(w)` after an
//! `O(log n)` search for its first interval; the index itself is built once in `O(n)`.

use super::{at, ns, Schedule, Slot};
use crate::grid::IntensitySeries;
use jiff::{SignedDuration, Timestamp};

/// Prefix integrals of a series, for any number of window searches.
#[derive(Clone, Debug, PartialEq)]
pub struct ContiguousIndex {
    /// Interval starts, ns since the epoch.
    pub(super) starts: Vec<i128>,
    /// Interval ends, ns.
    pub(super) ends: Vec<i128>,
    /// Values, g/kWh.
    pub(super) values: Vec<f64>,
    /// `∫ CI dt` over every interval before `k` (gaps count zero), g/kWh x s.
    cum: Vec<f64>,
}

/// The relative margin within which a later start does not replace an earlier one of the same
/// carbon (float rounding of the prefix sums): among equal windows the earliest wins.
pub(super) const TIE: f64 = 1e-9;

impl ContiguousIndex {
    /// The index of `series`, in `O(n)`.
    #[must_use]
    pub fn new(series: &IntensitySeries) -> Self {
        let ivs = series.intervals();
        let mut out = Self {
            starts: Vec::with_capacity(ivs.len()),
            ends: Vec::with_capacity(ivs.len()),
            values: Vec::with_capacity(ivs.len()),
            cum: Vec::with_capacity(ivs.len()),
        };
        let mut acc = 0.0;
        for iv in ivs {
            let (s, e, v) = (ns(iv.start), ns(iv.end), iv.intensity.value());
            out.starts.push(s);
            out.ends.push(e);
            out.values.push(v);
            out.cum.push(acc);
            #[allow(clippy::cast_precision_loss)]
            let len = (e - s) as f64 / 1e9;
            acc += len * v;
        }
        out
    }

    /// `I(x)` with `x` inside interval `k` (or at its end), g/kWh x s.
    pub(super) fn integral(&self, k: usize, x: i128) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let into = (x - self.starts[k]) as f64 / 1e9;
        self.cum[k] + into * self.values[k]
    }

    /// `∫ CI dt` over `[start, start + duration)`, g/kWh x h; `None` when the series does not
    /// cover all of it (a gap, or time outside it) or the duration is not positive.
    #[must_use]
    pub fn cost(&self, start: Timestamp, duration: SignedDuration) -> Option<f64> {
        let (s, d) = (ns(start), duration.as_nanos());
        if d <= 0 {
            return None;
        }
        let e = s + d;
        let k = self.ends.partition_point(|&x| x <= s);
        if k >= self.starts.len() || self.starts[k] > s {
            return None;
        }
        let mut j = k;
        while self.ends[j] < e {
            if j + 1 >= self.starts.len() || self.starts[j + 1] != self.ends[j] {
                return None;
            }
            j += 1;
        }
        Some((self.integral(j, e) - self.integral(k, s)) / 3600.0)
    }

    /// The start in `[earliest, latest_end - duration]` whose window `[start, start + duration)`
    /// the series covers and whose `∫ CI dt` is lowest (the earliest of equal ones); `None` when
    /// no such window exists.
    #[must_use]
    pub fn best(
        &self,
        earliest: Timestamp,
        latest_end: Timestamp,
        duration: SignedDuration,
    ) -> Option<Schedule> {
        let d = duration.as_nanos();
        let (lo, hi) = (ns(earliest), ns(latest_end) - d);
        if d <= 0 || hi < lo {
            return None;
        }
        let n = self.starts.len();
        let mut k = self.ends.partition_point(|&e| e <= lo);
        let mut best: Option<(f64, i128)> = None;
        while k < n && self.starts[k] <= hi {
            // The gap-free run from k, no further than the last interval a window can reach.
            let a = k;
            let mut b = k + 1;
            while b < n && self.starts[b] == self.ends[b - 1] && self.starts[b] < hi + d {
                b += 1;
            }
            let (tl, th) = (lo.max(self.starts[a]), hi.min(self.ends[b - 1] - d));
            if tl <= th {
                self.scan(a, b, (tl, th), d, &mut best);
            }
            k = b;
        }
        best.map(|(cost, t)| Schedule {
            slots: vec![Slot {
                start: at(t),
                end: at(t + d),
            }],
            cost_g_per_kw: cost / 3600.0,
        })
    }

    /// Every candidate start of the gap-free run `a..b` within `[tl, th]`, in time order.
    fn scan(
        &self,
        a: usize,
        b: usize,
        (tl, th): (i128, i128),
        d: i128,
        best: &mut Option<(f64, i128)>,
    ) {
        // Boundaries of the run: the starts of a..b, then the end of b - 1.
        let bound = |i: usize| {
            if i < b {
                self.starts[i]
            } else {
                self.ends[b - 1]
            }
        };
        let first_after = |x: i128| a + self.starts[a..b].partition_point(|&s| s <= x);
        // Stream A: boundaries in (tl, th); stream B: boundaries - d in (tl, th).
        let (mut ia, mut ib) = (first_after(tl), first_after(tl + d));
        let (mut kt, mut ke) = (
            first_after(tl).saturating_sub(1).max(a),
            first_after(tl + d).saturating_sub(1).max(a),
        );
        let mut eval = |t: i128, best: &mut Option<(f64, i128)>| {
            while kt + 1 < b && self.ends[kt] <= t {
                kt += 1;
            }
            while ke + 1 < b && self.ends[ke] <= t + d {
                ke += 1;
            }
            let cost = self.integral(ke, t + d) - self.integral(kt, t);
            if best.is_none_or(|(c, _)| cost < c - TIE * c.abs().max(1.0)) {
                *best = Some((cost, t));
            }
        };
        eval(tl, best);
        loop {
            let na = (ia <= b).then(|| bound(ia)).filter(|&x| x < th);
            let nb = (ib <= b).then(|| bound(ib) - d).filter(|&x| x < th);
            let next = match (na, nb) {
                (Some(x), Some(y)) => x.min(y),
                (Some(x), None) => x,
                (None, Some(y)) => y,
                (None, None) => break,
            };
            if next > tl {
                eval(next, best);
            }
            if na == Some(next) {
                ia += 1;
            }
            if nb == Some(next) {
                ib += 1;
            }
        }
        if th > tl {
            eval(th, best);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests_support::{hourly, hours, rows, t};

    #[test]
    fn a_two_hour_job_takes_the_last_two_of_100_300_50_50() {
        // 2 h windows: 00-02 400, 01-03 350, 02-04 100 (g/kWh x h): the last two hours.
        let s = hourly(&[100.0, 300.0, 50.0, 50.0]);
        let idx = ContiguousIndex::new(&s);
        let p = idx.best(t(0.0), t(4.0), hours(2.0)).expect("fits");
        assert_eq!(
            p.slots,
            vec![Slot {
                start: t(2.0),
                end: t(4.0)
            }]
        );
        assert!((p.cost_g_per_kw - 100.0).abs() < 1e-9);
        assert!((p.mean_intensity() - 50.0).abs() < 1e-9);
        // The baseline from 00:00: 100 + 300 = 400.
        assert!((idx.cost(t(0.0), hours(2.0)).expect("covered") - 400.0).abs() < 1e-9);
    }

    #[test]
    fn a_start_between_boundaries_can_be_best() {
        // 1.5 h over 100, 10, 10, 500 (hourly): from 00:30, 0.5 x 100 + 1 x 10 = 60; from
        // 01:00, 1.5 x 10 = 15; from 02:00 - 1.5 h ... the lowest is 15 at 01:00.
        let s = hourly(&[100.0, 10.0, 10.0, 500.0]);
        let idx = ContiguousIndex::new(&s);
        let p = idx.best(t(0.0), t(4.0), hours(1.5)).expect("fits");
        assert_eq!(p.slots[0].start, t(1.0));
        assert!((p.cost_g_per_kw - 15.0).abs() < 1e-9);
        // With the earliest start at 00:15 and the deadline at 02:15, the window must end by
        // 02:15: the best start is the latest, 00:45: 0.25 x 100 + 1.25 x 10 = 37.5.
        let p = idx.best(t(0.25), t(2.25), hours(1.5)).expect("fits");
        assert_eq!(p.slots[0].start, t(0.75));
        assert!((p.cost_g_per_kw - 37.5).abs() < 1e-9);
    }

    #[test]
    fn gaps_are_never_crossed_and_no_fit_is_none() {
        // 0-2 at 300, a gap 2-3, 3-5 at 10: a 2 h job fits only in one run or the other.
        let s = rows(&[(0.0, 2.0, 300.0), (3.0, 5.0, 10.0)]);
        let idx = ContiguousIndex::new(&s);
        let p = idx.best(t(0.0), t(5.0), hours(2.0)).expect("fits");
        assert_eq!(p.slots[0].start, t(3.0));
        assert!(idx.cost(t(1.5), hours(1.0)).is_none());
        // 3 h fits in neither run.
        assert!(idx.best(t(0.0), t(5.0), hours(3.0)).is_none());
        // A deadline before the earliest end.
        assert!(idx.best(t(0.0), t(1.0), hours(2.0)).is_none());
    }

    #[test]
    fn equal_windows_give_the_earliest() {
        let s = hourly(&[50.0, 50.0, 50.0, 50.0]);
        let p = ContiguousIndex::new(&s)
            .best(t(0.5), t(4.0), hours(1.0))
            .expect("fits");
        assert_eq!(p.slots[0].start, t(0.5));
    }
}
