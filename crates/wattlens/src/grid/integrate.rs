//! Carbon over time: an energy profile (bins of energy at constant power) integrated against an
//! intensity series, with an error naming the first span the series does not cover.

use super::series::{at_ns, ns};
use super::{GridError, IntensitySeries};
use crate::units::{GramsCo2e, GramsPerKwh, Joules, KilowattHours, Seconds, Watts};
use jiff::{SignedDuration, Timestamp};

/// Energy used over `[start, start + duration)`, at constant power within the bin.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EnergyBin {
    /// Start of the bin (UTC).
    pub start: Timestamp,
    /// Length of the bin; zero only with zero energy.
    pub duration: SignedDuration,
    /// Energy used in the bin (facility energy, for carbon).
    pub energy: Joules,
}

impl EnergyBin {
    /// A bin of `energy` over `[start, start + duration)`.
    #[must_use]
    pub fn new(start: Timestamp, duration: SignedDuration, energy: Joules) -> Self {
        Self {
            start,
            duration,
            energy,
        }
    }
    /// Constant `power` over `[start, start + duration)`: one bin of `power x duration`, exact
    /// because power is constant within a bin.
    #[must_use]
    pub fn constant_power(start: Timestamp, duration: SignedDuration, power: Watts) -> Self {
        Self::new(start, duration, power * Seconds(duration.as_secs_f64()))
    }
}

/// The result of integrating a profile against a series.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SeriesCarbon {
    /// `sum over bins b, intervals i of E_b x overlap(b, i) / len(b) x CI_i`.
    pub carbon: GramsCo2e,
    /// The profile's total energy.
    pub energy: KilowattHours,
    /// The part of `energy` that fell on intervals flagged `filled`, so an output can say how
    /// much of the figure rests on filled values.
    pub filled_energy: KilowattHours,
}

impl SeriesCarbon {
    /// The energy-weighted mean intensity, `carbon / energy` (zero without energy).
    #[must_use]
    pub fn mean_intensity(&self) -> GramsPerKwh {
        if self.energy.value() > 0.0 {
            GramsPerKwh(self.carbon.value() / self.energy.value())
        } else {
            GramsPerKwh(0.0)
        }
    }
}

impl IntensitySeries {
    /// Integrates an energy profile against this series:
    /// `carbon = sum over bins b, intervals i of E_b x |b ∩ i| / |b| x CI_i`, assuming constant
    /// power within each bin. Bins may come in any order and may overlap (their energies add).
    ///
    /// # Errors
    /// [`GridError::Bin`] for a bin with negative or non-finite energy, a negative duration, or
    /// energy in a zero-length bin; [`GridError::Uncovered`] naming the first span (in time) of
    /// the profile that no interval covers, a gap or time before or after the series.
    pub fn carbon(&self, profile: &[EnergyBin]) -> Result<SeriesCarbon, GridError> {
        let mut spans = Vec::with_capacity(profile.len());
        for (index, bin) in profile.iter().enumerate() {
            let bad = |why: String| GridError::Bin { index, why };
            let e = bin.energy.value();
            if !e.is_finite() || e < 0.0 {
                return Err(bad(format!(
                    "energy {e} J must be a finite non-negative number"
                )));
            }
            let len = bin.duration.as_nanos();
            if len < 0 {
                return Err(bad(format!("duration {} is negative", bin.duration)));
            }
            if len == 0 && e > 0.0 {
                return Err(bad(format!(
                    "{e} J in a bin of zero duration; give the bin a length"
                )));
            }
            if len > 0 {
                let s = ns(bin.start);
                spans.push((s, s + len, KilowattHours::from(bin.energy)));
            }
        }
        self.check_covers(&spans)?;
        let ivs = self.intervals();
        let mut out = SeriesCarbon::default();
        for &(s, e, energy) in &spans {
            let first = ivs.partition_point(|iv| ns(iv.end) <= s);
            for iv in ivs[first..].iter().take_while(|iv| ns(iv.start) < e) {
                let overlap = e.min(ns(iv.end)) - s.max(ns(iv.start));
                let share = energy * (overlap as f64 / (e - s) as f64);
                out.carbon += share * iv.intensity;
                if iv.filled {
                    out.filled_energy += share;
                }
            }
            out.energy += energy;
        }
        Ok(out)
    }

    /// The first span (in time) of the union of `spans` that no interval covers.
    fn check_covers(&self, spans: &[(i128, i128, KilowattHours)]) -> Result<(), GridError> {
        let mut union: Vec<(i128, i128)> = spans.iter().map(|&(s, e, _)| (s, e)).collect();
        union.sort_unstable();
        let mut merged: Vec<(i128, i128)> = Vec::with_capacity(union.len());
        for (s, e) in union {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        let ivs = self.intervals();
        for (s, e) in merged {
            let mut cursor = s;
            let first = ivs.partition_point(|iv| ns(iv.end) <= s);
            for iv in ivs[first..].iter().take_while(|iv| ns(iv.start) < e) {
                if ns(iv.start) > cursor {
                    return Err(self.uncovered(cursor, ns(iv.start)));
                }
                cursor = ns(iv.end);
            }
            if cursor < e {
                return Err(self.uncovered(cursor, e));
            }
        }
        Ok(())
    }

    /// The first uncovered span, widened to whole seconds (a computed end can carry
    /// nanoseconds; widening never hides a span, as rounding a short one could).
    fn uncovered(&self, start: i128, end: i128) -> GridError {
        let what = || "the uncovered span".to_string();
        match (at_ns(start, what), at_ns(end, what)) {
            (Ok(start), Ok(end)) => GridError::Uncovered {
                source_name: self.source().to_string(),
                start: to_second(start, jiff::RoundMode::Floor),
                end: to_second(end, jiff::RoundMode::Ceil),
                series_start: self.start(),
                series_end: self.end(),
                gapped: if self.gaps().is_empty() {
                    ""
                } else {
                    ", with gaps"
                },
            },
            (Err(e), _) | (_, Err(e)) => e,
        }
    }
}

/// `t` rounded to the second in `mode`.
fn to_second(t: jiff::Timestamp, mode: jiff::RoundMode) -> jiff::Timestamp {
    t.round(
        jiff::TimestampRound::new()
            .smallest(jiff::Unit::Second)
            .mode(mode),
    )
    .unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::series::tests::{series, t};
    use crate::grid::{Interval, Signal};
    use crate::units::KgCo2e;
    use proptest::prelude::*;

    fn hours(h: f64) -> SignedDuration {
        SignedDuration::from_secs_f64(h * 3600.0)
    }
    /// 1 kW over `[h0, h0 + h)`.
    fn kw(h0: f64, h: f64) -> EnergyBin {
        EnergyBin::constant_power(t(h0), hours(h), Watts(1000.0))
    }
    fn grams(s: &IntensitySeries, p: &[EnergyBin]) -> f64 {
        s.carbon(p).expect("covered").carbon.value()
    }

    #[test]
    fn issue_8_done_means_case() {
        // 1 kW for 4 h from 2024-03-04T00:00:00Z; 2 h at 100 g/kWh then 2 h at 300:
        // 2 kWh x 100 + 2 kWh x 300 = 800 g = 0.8 kgCO2e.
        let s = series(&[(0.0, 2.0, 100.0), (2.0, 4.0, 300.0)]);
        let start: Timestamp = "2024-03-04T00:00:00Z".parse().expect("ts");
        let bin = EnergyBin::constant_power(start, SignedDuration::from_hours(4), Watts(1000.0));
        let c = s.carbon(&[bin]).expect("covered");
        assert!((KgCo2e::from(c.carbon).value() - 0.8).abs() < 1e-12);
        assert!((c.energy.value() - 4.0).abs() < 1e-12);
        // 800 g / 4 kWh = 200 g/kWh.
        assert!((c.mean_intensity().value() - 200.0).abs() < 1e-9);
        assert_eq!(c.filled_energy, KilowattHours(0.0));
    }

    #[test]
    fn a_bin_straddling_two_intervals_splits_its_energy_by_time() {
        // 1 kWh over [1.5 h, 2.5 h): 0.5 kWh x 100 + 0.5 kWh x 300 = 200 g.
        let s = series(&[(0.0, 2.0, 100.0), (2.0, 4.0, 300.0)]);
        assert!((grams(&s, &[kw(1.5, 1.0)]) - 200.0).abs() < 1e-9);
        // 1 kWh over [1.75 h, 2.75 h): 0.25 x 100 + 0.75 x 300 = 250 g.
        assert!((grams(&s, &[kw(1.75, 1.0)]) - 250.0).abs() < 1e-9);
        // A bin of 3.6 MJ in 3 min at the end of the first interval: 1 kWh x 100 = 100 g.
        let b = EnergyBin::new(t(1.95), SignedDuration::from_mins(3), Joules(3.6e6));
        assert!((grams(&s, &[b]) - 100.0).abs() < 1e-9);
    }

    #[test]
    fn an_uncovered_span_is_shown_to_the_second() {
        // 4 h and 360 ms on a series that ends at 4 h: 04:00:00Z..04:00:01Z, no nanoseconds.
        let s = series(&[(0.0, 4.0, 100.0)]);
        let bin = EnergyBin::constant_power(
            t(0.0),
            SignedDuration::from_millis(4 * 3_600_000 + 360),
            Watts(1000.0),
        );
        let e = s.carbon(&[bin]).expect_err("past the end").to_string();
        assert!(
            e.contains("does not cover 2024-03-04T04:00:00Z..2024-03-04T04:00:01Z of"),
            "{e}"
        );
    }

    #[test]
    fn the_first_uncovered_span_is_named() {
        // A gap [2 h, 3 h) inside a 4 h profile.
        let s = series(&[(0.0, 2.0, 100.0), (3.0, 4.0, 300.0)]);
        let msg = s.carbon(&[kw(0.0, 4.0)]).expect_err("gap").to_string();
        assert_eq!(
            msg,
            "the intensity series test does not cover 2024-03-04T02:00:00Z..2024-03-04T03:00:00Z \
             of the energy profile (the series spans 2024-03-04T00:00:00Z..2024-03-04T04:00:00Z, \
             with gaps); give a series that covers the whole span, or use the annual intensity"
        );
        // Hourly bins running past the end: the uncovered span joins the bins, 04:00..06:00.
        let s = series(&[(0.0, 4.0, 100.0)]);
        let bins: Vec<_> = (2..6).map(|h| kw(f64::from(h), 1.0)).collect();
        let e = s.carbon(&bins).expect_err("past the end");
        assert!(
            e.to_string()
                .contains("does not cover 2024-03-04T04:00:00Z..2024-03-04T06:00:00Z"),
            "{e}"
        );
        // Before the start, with bins given out of order: the earliest span is named.
        let s = series(&[(1.0, 4.0, 100.0)]);
        let e = s.carbon(&[kw(3.0, 2.0), kw(0.5, 1.0)]).expect_err("before");
        assert!(
            e.to_string()
                .contains("does not cover 2024-03-04T00:30:00Z..2024-03-04T01:00:00Z"),
            "{e}"
        );
        // A profile wholly between two intervals.
        let s = series(&[(0.0, 1.0, 100.0), (5.0, 6.0, 100.0)]);
        let e = s.carbon(&[kw(2.0, 1.0)]).expect_err("inside the gap");
        assert!(
            e.to_string()
                .contains("does not cover 2024-03-04T02:00:00Z..2024-03-04T03:00:00Z"),
            "{e}"
        );
    }

    #[test]
    fn bad_bins_are_named() {
        let s = series(&[(0.0, 4.0, 100.0)]);
        let neg = EnergyBin::new(t(0.0), hours(1.0), Joules(-1.0));
        let msg = s.carbon(&[kw(0.0, 1.0), neg]).expect_err("neg").to_string();
        assert!(
            msg.starts_with("energy profile bin 1 (0-based): energy -1 J"),
            "{msg}"
        );
        let zero = EnergyBin::new(t(0.0), SignedDuration::ZERO, Joules(5.0));
        assert!(s.carbon(&[zero]).is_err());
        let back = EnergyBin::new(t(1.0), SignedDuration::from_secs(-60), Joules(0.0));
        assert!(s.carbon(&[back]).is_err());
        // An empty bin adds nothing, even outside the series.
        let empty = EnergyBin::new(t(9.0), SignedDuration::ZERO, Joules(0.0));
        assert_eq!(grams(&s, &[empty]), 0.0);
    }

    #[test]
    fn filled_energy_is_counted() {
        // [0,1) 100, [2,3) 300, filled [1,2) at 200: 1 kW over [0,3) = 100 + 200 + 300 = 600 g,
        // 1 kWh of it on a filled value.
        let s = series(&[(0.0, 1.0, 100.0), (2.0, 3.0, 300.0)])
            .fill_gaps(SignedDuration::from_hours(1))
            .expect("fill");
        let c = s.carbon(&[kw(0.0, 3.0)]).expect("covered");
        assert!((c.carbon.value() - 600.0).abs() < 1e-9);
        assert!((c.filled_energy.value() - 1.0).abs() < 1e-12);
    }

    /// A contiguous series of `(minutes, g/kWh)` steps from `t(0)`.
    fn steps(rows: &[(u32, f64)]) -> IntensitySeries {
        let mut at = 0.0;
        let ivs = rows
            .iter()
            .map(|&(m, v)| {
                let a = at;
                at += f64::from(m) / 60.0;
                Interval::new(t(a), t(at), GramsPerKwh(v))
            })
            .collect();
        IntensitySeries::new("prop", Signal::Marginal, ivs).expect("valid")
    }

    /// Bins inside `[0, span_h)` from fractions `(a, b)` of the span and an energy.
    fn bins(span_h: f64, raw: &[(f64, f64, f64)]) -> Vec<EnergyBin> {
        raw.iter()
            .map(|&(a, b, j)| {
                let (lo, hi) = (a.min(b) * span_h, a.max(b) * span_h);
                let start = t(lo);
                let dur = t(hi)
                    .duration_since(start)
                    .max(SignedDuration::from_secs(1));
                EnergyBin::new(start, dur, Joules(j))
            })
            .collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
    }

    proptest! {
        #[test]
        fn a_constant_series_gives_energy_times_intensity(
            n in 1usize..12,
            mins in 1u32..300,
            v in 0.0f64..2000.0,
            raw in prop::collection::vec((0.0f64..0.9, 0.0f64..0.9, 0.0f64..1e8), 1..8),
        ) {
            let s = steps(&vec![(mins, v); n]);
            let span_h = f64::from(mins) * n as f64 / 60.0;
            let p = bins(span_h, &raw);
            let energy: f64 = p.iter().map(|b| KilowattHours::from(b.energy).value()).sum();
            let c = s.carbon(&p).expect("covered");
            prop_assert!(close(c.carbon.value(), energy * v), "{} vs {}", c.carbon.value(), energy * v);
        }

        #[test]
        fn splitting_a_bin_never_changes_the_total(
            rows in prop::collection::vec((1u32..240, 0.0f64..1500.0), 1..12),
            (a, b) in (0.0f64..0.9, 0.0f64..0.9),
            cut in 0.0f64..1.0,
            joules in 0.0f64..1e9,
        ) {
            let s = steps(&rows);
            let span_h = rows.iter().map(|r| f64::from(r.0)).sum::<f64>() / 60.0;
            let whole = bins(span_h, &[(a, b, joules)])[0];
            // Cut at a whole nanosecond; each part keeps its share of the energy (constant power).
            let len = whole.duration.as_nanos();
            let k = ((len as f64 * cut) as i128).clamp(0, len);
            let first = EnergyBin::new(
                whole.start,
                SignedDuration::from_nanos_i128(k),
                Joules(joules * k as f64 / len as f64),
            );
            let second = EnergyBin::new(
                whole.start + SignedDuration::from_nanos_i128(k),
                SignedDuration::from_nanos_i128(len - k),
                Joules(joules * (len - k) as f64 / len as f64),
            );
            let one = s.carbon(&[whole]).expect("covered").carbon.value();
            let two = s.carbon(&[first, second]).expect("covered").carbon.value();
            prop_assert!(close(one, two), "{one} vs {two}");
        }

        #[test]
        fn carbon_is_additive_over_disjoint_profiles(
            rows in prop::collection::vec((1u32..240, 0.0f64..1500.0), 1..12),
            raw in prop::collection::vec((0.0f64..0.9, 0.0f64..0.9, 0.0f64..1e8), 2..10),
            split in 1usize..9,
        ) {
            let s = steps(&rows);
            let span_h = rows.iter().map(|r| f64::from(r.0)).sum::<f64>() / 60.0;
            // Bins laid end to end along the series, so the two halves are disjoint in time.
            let mut p = Vec::new();
            let mut at = 0.0;
            let total: f64 = raw.iter().map(|r| r.0 + 0.01).sum();
            for &(w, _, j) in &raw {
                let h = (w + 0.01) / total * span_h * 0.999;
                p.push(EnergyBin::new(t(at), t(at + h).duration_since(t(at)), Joules(j)));
                at += h;
            }
            let k = split.min(p.len() - 1);
            let (a, b) = p.split_at(k);
            let all = s.carbon(&p).expect("covered").carbon.value();
            let parts = s.carbon(a).expect("covered").carbon.value()
                + s.carbon(b).expect("covered").carbon.value();
            prop_assert!(close(all, parts), "{all} vs {parts}");
        }
    }
}
