//! Energy from raw readings: counter deltas with wraparound and reset detection, trapezoid
//! integration of sampled power, and the measured [`EnergyBreakdown`] whose components each say
//! how they were obtained (`measured`, `integrated`, `modelled`) and how uncertain that is.
//!
//! Counters (RAPL `energy_uj`, NVML total energy, hwmon `energy1_input`) count up to a maximum
//! and wrap to 0. A decrease is a wrap when the wrapped delta is plausible (at most `bound`, by
//! default half the range: no device moves half a RAPL range, ~131 kJ, in one interval) and a
//! reset (driver reload, reboot of a BMC) otherwise, in which case the energy since the reset is
//! the new value itself. A reset at the very top of the range is indistinguishable from a wrap.
//! When the counter's part is known ([`CounterDiff::for_part`]) and the readings are timed
//! ([`CounterDiff::update_at`]), a wrap must also imply a power the part could draw over the
//! time since the last reading ([`power_ceiling`]): a counter reset from the upper part of a
//! 262 kJ RAPL range to near 0 would otherwise read as a wrap of up to 131 kJ, 65 kW over 2 s.
//! The same ceiling bounds a rise: a counter that jumps forward by more than its part could
//! count ([`most_counted_uj`]) is [`Delta::Implausible`], counted as nothing, and a power
//! reading above it is [`Implausible::power`] (module `implausible`).

use crate::units::{Joules, KilowattHours, Seconds, Watts};
use serde::{Deserialize, Serialize};

mod implausible;
pub use implausible::{most_counted_uj, power_ceiling, Implausible, READ_SLACK_S};

/// How a component's energy was obtained, from the most to the least direct.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Method {
    /// From a hardware energy counter (RAPL, NVML total energy, hwmon energy).
    Measured,
    /// Sampled power integrated over time (trapezoid rule).
    Integrated,
    /// From a model (utilisation curve, W per GB, a share of other components).
    Modelled,
}

impl Method {
    /// The lower-case name used in JSON and tables.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Measured => "measured",
            Method::Integrated => "integrated",
            Method::Modelled => "modelled",
        }
    }

    /// Relative half-width of the method's uncertainty band (docs/models.md, section 8):
    /// counters +-5% (NVML documents +-5% power accuracy; RAPL package and DRAM track wall-plug
    /// meters within a few per cent, Khan et al. 2018), sampled power +-10% (NVML's power reading
    /// covers part of each interval, Yang et al. 2024), modelled CPU power +-40% (the spread of
    /// SPECpower servers around the generic curve).
    #[must_use]
    pub fn band(self) -> f64 {
        match self {
            Method::Measured => 0.05,
            Method::Integrated => 0.10,
            Method::Modelled => 0.40,
        }
    }

    /// The least direct of two methods (a sum is only as direct as its weakest part).
    #[must_use]
    pub fn weakest(self, other: Method) -> Method {
        self.max(other)
    }
}

/// What a counter delta turned out to be.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Delta {
    /// The counter moved forward (possibly through one wrap) by this much.
    Forward(u64),
    /// The counter went back implausibly far: a reset; this much was counted since the reset.
    Reset(u64),
    /// The counter rose by more than its part could count since its last reading: not energy.
    /// Nothing is counted for the interval; the new value is the base from now on.
    Implausible(Implausible),
}

impl Delta {
    /// The energy counted in the interval, uJ, whatever happened (0 for an implausible rise).
    #[must_use]
    pub fn value(self) -> u64 {
        match self {
            Delta::Forward(v) | Delta::Reset(v) => v,
            Delta::Implausible(_) => 0,
        }
    }
}

/// Deltas of a wrapping counter whose values run from 0 to `max` inclusive (alumet's
/// `CounterDiff`).
#[derive(Clone, Debug)]
pub struct CounterDiff {
    max: u64,
    bound: u64,
    /// The counter's part, whose [`power_ceiling`] bounds a timed delta.
    part: Option<crate::source::Part>,
    last: Option<u64>,
    /// When the last reading was taken, s (only through [`CounterDiff::update_at`]).
    last_t: Option<f64>,
    /// Right after an implausible reading: the last plausible value and when it was read. The
    /// next reading is judged against it first, so that one glitched reading between two
    /// true ones costs nothing and invents nothing (a hostile test saw a glitch high, then the
    /// true value read as a reset that counted the counter's whole value).
    before_glitch: Option<(u64, Option<f64>)>,
}

impl CounterDiff {
    /// A counter that wraps after `max`; a wrapped delta above `max / 2` is taken as a reset.
    #[must_use]
    pub fn new(max: u64) -> Self {
        Self::with_bound(max, max / 2)
    }

    /// A counter with an explicit largest plausible delta per interval (e.g. maximum power x
    /// interval).
    #[must_use]
    pub fn with_bound(max: u64, bound: u64) -> Self {
        Self {
            max,
            bound,
            part: None,
            last: None,
            last_t: None,
            before_glitch: None,
        }
    }

    /// A counter of `part` that wraps after `max`: a wrapped delta is a reset when it is above
    /// `max / 2` or, with timed readings ([`CounterDiff::update_at`]), when it implies more
    /// than the part's [`power_ceiling`] since the last reading ([`most_counted_uj`]); with
    /// timed readings, a rise implying more is [`Delta::Implausible`].
    #[must_use]
    pub fn for_part(max: u64, part: crate::source::Part) -> Self {
        Self {
            part: Some(part),
            ..Self::new(max)
        }
    }

    /// Takes a new reading; `None` on the first one.
    pub fn update(&mut self, value: u64) -> Option<Delta> {
        self.last_t = None;
        self.delta(value, None)
    }

    /// Takes a new reading taken at `t` seconds (on the clock of the previous ones); `None`
    /// on the first one.
    pub fn update_at(&mut self, value: u64, t: f64) -> Option<Delta> {
        let prev_t = self.last_t.replace(t);
        let dt = prev_t.map(|l| t - l);
        // After an implausible reading, once: a plausible rise from the value before it means
        // that reading was a glitch; count from the value before it, over the time since then.
        if let Some((good, good_t)) = self.before_glitch.take() {
            if let (Some(part), Some(good_t)) = (self.part, good_t) {
                let most = most_counted_uj(power_ceiling(part).0, t - good_t);
                if value >= good && value - good <= most {
                    self.last = Some(value);
                    return Some(Delta::Forward(value - good));
                }
            }
        }
        let before = (self.last, prev_t);
        let d = self.delta(value, dt);
        if let (Some(Delta::Implausible(_)), (Some(good), good_t)) = (&d, before) {
            self.before_glitch = Some((good, good_t));
        }
        d
    }

    fn delta(&mut self, value: u64, dt: Option<f64>) -> Option<Delta> {
        let prev = self.last.replace(value)?;
        // The most the part could have counted since the last reading, uJ (timed readings of a
        // known part only).
        let most = match (self.part, dt) {
            (Some(part), Some(dt)) => Some((part, dt, most_counted_uj(power_ceiling(part).0, dt))),
            _ => None,
        };
        if value >= prev {
            let rise = value - prev;
            return Some(match most {
                // More than the part can draw: not energy (lose, never invent); the new value
                // is the base from now on.
                #[allow(clippy::cast_precision_loss)]
                Some((part, seconds, most)) if rise > most => {
                    Delta::Implausible(Implausible::Rise {
                        part,
                        joules: rise as f64 / 1e6,
                        seconds,
                    })
                }
                _ => Delta::Forward(rise),
            });
        }
        // Went back: a wrap (max - prev + value + 1) or a reset.
        let wrapped = (self.max - prev.min(self.max))
            .saturating_add(value)
            .saturating_add(1);
        let bound = most.map_or(self.bound, |(_, _, most)| self.bound.min(most));
        if self.max != u64::MAX && wrapped <= bound {
            Some(Delta::Forward(wrapped))
        } else {
            match most {
                // What a reset counted since it happened is bounded like any rise: more than
                // the part could draw in the interval is not energy (a glitch low, or a
                // counter's whole lifetime value after one), never counted.
                #[allow(clippy::cast_precision_loss)]
                Some((part, seconds, most)) if value > most => {
                    Some(Delta::Implausible(Implausible::Rise {
                        part,
                        joules: value as f64 / 1e6,
                        seconds,
                    }))
                }
                _ => Some(Delta::Reset(value)),
            }
        }
    }
}

/// Trapezoid integration of sampled power.
#[derive(Clone, Copy, Debug, Default)]
pub struct PowerIntegrator {
    last: Option<(Seconds, Watts)>,
}

impl PowerIntegrator {
    /// Adds a sample at time `t`; returns the energy since the previous sample (0 for the first,
    /// or when time did not move forward).
    pub fn update(&mut self, t: Seconds, p: Watts) -> Joules {
        let e = match self.last {
            Some((t0, p0)) if t.0 > t0.0 => Joules((p0.0 + p.0) / 2.0 * (t.0 - t0.0)),
            _ => Joules(0.0),
        };
        self.last = Some((t, p));
        e
    }
}

/// Which part of the accounting core's IT energy a component belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ComponentKind {
    /// Accelerators (GPUs).
    Accelerator,
    /// Host CPUs and memory.
    Host,
    /// Rest of the server.
    Server,
}

impl ComponentKind {
    /// The JSON name (`accelerator`, `host`, `server`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ComponentKind::Accelerator => "accelerator",
            ComponentKind::Host => "host",
            ComponentKind::Server => "server",
        }
    }
}

/// One component of a measured run.
#[derive(Clone, Debug, PartialEq)]
pub struct ComponentEnergy {
    /// Its figure (`component.cpu`).
    pub key: crate::figure::Figure,
    /// Display name (`CPU (active)`).
    pub name: &'static str,
    /// Which IT-energy part it belongs to.
    pub kind: ComponentKind,
    /// How it was obtained.
    pub method: Method,
    /// The central value.
    pub energy: Joules,
}

impl ComponentEnergy {
    /// The component as a kWh range of `energy x (1 +- band)`.
    #[must_use]
    pub fn range_kwh(&self) -> crate::uncertainty::Range {
        let e = KilowattHours::from(self.energy).0;
        let b = self.method.band();
        crate::uncertainty::Range::new(e * (1.0 - b), e * (1.0 + b))
    }
}

/// IT energy of a measured run by component, before the rest of the server is added.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EnergyBreakdown {
    /// Components in output order.
    pub components: Vec<ComponentEnergy>,
}

impl EnergyBreakdown {
    /// Sum of the components' central values.
    #[must_use]
    pub fn total(&self) -> Joules {
        self.components.iter().map(|c| c.energy).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wrap_at_max_energy_range() {
        // max 999: 990 -> 5 is 9 + 1 + 5 = 15 (values 991..999, 0, 1..5)
        let mut c = CounterDiff::new(999);
        assert_eq!(c.update(990), None);
        assert_eq!(c.update(5), Some(Delta::Forward(15)));
        assert_eq!(c.update(20), Some(Delta::Forward(15)));
    }

    #[test]
    fn implausible_decrease_is_a_reset() {
        // 800 -> 100 would be a wrap of 300 > 999/2? no: 199 + 100 + 1 = 300 <= 499 is a wrap;
        // 400 -> 10 would be 599 + 10 + 1 = 610 > 499: a reset, 10 counted since.
        let mut c = CounterDiff::new(999);
        c.update(800);
        assert_eq!(c.update(100), Some(Delta::Forward(300)));
        c.update(400);
        assert_eq!(c.update(10), Some(Delta::Reset(10)));
        // A 64-bit counter never wraps: any decrease is a reset.
        let mut n = CounterDiff::new(u64::MAX);
        n.update(5_000);
        assert_eq!(n.update(7), Some(Delta::Reset(7)));
    }

    /// Hostile test (issue 11, round 3): a RAPL package counter (range 262,143,328,850 uJ)
    /// going from 200,000,000,000 to 5,000,000 uJ in 0.2 s was counted as a wrap of
    /// 262,143,328,850 - 200,000,000,000 + 5,000,000 + 1 = 62,148,328,851 uJ, 62 kJ: 310 kW.
    /// With the package's 2,000 W ceiling, at most 2,000 W x 0.2 s = 400 J could have been
    /// counted: a reset, 5 J counted since.
    #[test]
    fn a_wrap_implying_an_impossible_power_is_a_reset() {
        use crate::source::Part;
        let max = 262_143_328_850;
        let mut c = CounterDiff::for_part(max, Part::Cpu);
        assert_eq!(c.update_at(200_000_000_000, 1.0), None);
        assert_eq!(c.update_at(5_000_000, 1.2), Some(Delta::Reset(5_000_000)));
        // A true wrap at 500 W over 1 s: 262,143,000,000 -> 171,149 uJ is
        // 328,850 + 171,149 + 1 = 500,000 uJ (500 J <= 2,000 J): forward.
        c.update_at(262_143_000_000, 2.0);
        assert_eq!(c.update_at(171_149, 3.0), Some(Delta::Forward(500_000)));
        // Across 100 s of missed reads, 150 kJ would still be under 2,000 W x 101 s but above
        // half the range (131 kJ): a reset, as before; the 87.9 kJ counted since it is under
        // 2,000 W x 101 s, so it counts.
        let mut c2 = CounterDiff::for_part(max, Part::Cpu);
        c2.update_at(200_000_000_000, 4.0);
        assert_eq!(
            c2.update_at(87_856_671_149, 104.0),
            Some(Delta::Reset(87_856_671_149))
        );
        // DRAM's ceiling is 1,000 W, at most 1,000 W x (1 + 1) s = 2,000 J in 1 s: from the top
        // of a 65,712,999,613 uJ range, 1,900 J is a wrap; from 30,000 J down to 5 J (a wrap
        // of 35,718 J) a reset with 5 J counted since it; 2,100 J after the top is neither a
        // wrap nor a plausible count since a reset: not energy.
        let top = 65_712_999_613;
        let mut d = CounterDiff::for_part(top, Part::Dram);
        d.update_at(top, 0.0);
        assert_eq!(
            d.update_at(1_899_999_999, 1.0),
            Some(Delta::Forward(1_900_000_000))
        );
        d.update_at(30_000_000_000, 100.0);
        assert_eq!(d.update_at(5_000_000, 101.0), Some(Delta::Reset(5_000_000)));
        let mut e = CounterDiff::for_part(top, Part::Dram);
        e.update_at(top, 0.0);
        assert!(matches!(
            e.update_at(2_099_999_999, 1.0),
            Some(Delta::Implausible(_))
        ));
        // Untimed updates keep the half-range rule.
        let mut u = CounterDiff::for_part(max, Part::Cpu);
        u.update(200_000_000_000);
        assert_eq!(u.update(5_000_000), Some(Delta::Forward(62_148_328_851)));
    }

    /// Hostile test (round 5, #1): one glitched reading between two true ones. A package at
    /// 150,000,000,000 uJ, +0.1 J a second; a read of 200,000,000,000 at t = 2, then the true
    /// 150,000,300,000 at t = 3. The glitch is not energy; the true value after it was judged
    /// against the glitch, read as a reset and counted whole (150 kJ). Now it is judged
    /// against the value before the glitch: +0.2 J over 2 s. Total 0.1 + 0 + 0.2 + 0.1 = 0.4 J,
    /// the true energy.
    #[test]
    fn one_glitched_reading_costs_nothing_and_invents_nothing() {
        use crate::source::Part;
        let max = 262_143_328_850;
        let mut c = CounterDiff::for_part(max, Part::Cpu);
        c.update_at(150_000_000_000, 0.0);
        let got: Vec<u64> = [
            (150_000_100_000, 1.0),
            (200_000_000_000, 2.0),
            (150_000_300_000, 3.0),
            (150_000_400_000, 4.0),
        ]
        .into_iter()
        .map(|(v, t)| c.update_at(v, t).expect("a delta").value())
        .collect();
        assert_eq!(got, [100_000, 0, 200_000, 100_000]);
        let mut g = CounterDiff::for_part(max, Part::Cpu);
        g.update_at(150_000_000_000, 0.0);
        let got: Vec<u64> = [
            (150_000_100_000, 1.0),
            (5_000_000, 2.0),
            (150_000_200_000, 3.0),
            (150_000_300_000, 4.0),
        ]
        .into_iter()
        .map(|(v, t)| g.update_at(v, t).expect("a delta").value())
        .collect();
        // A glitch low to a small value cannot be told from a reset when it is read: it counts
        // its 5 J as a reset would (5 J in 1 s is plausible); the way back up from 5 J is no
        // plausible rise (150 kJ in 1 s) and counts nothing; then +0.1 J. Over-counted: 4.9 J,
        // at most the part's ceiling x the interval (not the counter's value).
        assert_eq!(got, [100_000, 5_000_000, 0, 100_000]);
    }

    /// Hostile test (round 4, #2): forward jumps were counted whatever power they implied.
    #[test]
    fn a_rise_implying_an_impossible_power_is_not_energy() {
        use crate::source::Part;
        // RAPL package (range 262,143,328,850 uJ): 1,000,000 -> 200,000,000,000 uJ in 0.2 s is
        // a rise of 199,999 J, 999,995 W; a package may count at most 2,000 W x (0.2 + 1.0) s
        // = 2,400 J. Nothing counted; the next reading counts from the new value: +100,000 uJ.
        let mut c = CounterDiff::for_part(262_143_328_850, Part::Cpu);
        assert_eq!(c.update_at(1_000_000, 1.0), None);
        let d = c.update_at(200_000_000_000, 1.2).expect("a delta");
        assert_eq!(d.value(), 0);
        let Delta::Implausible(i) = d else {
            panic!("{d:?}")
        };
        assert!((i.watts() - 999_995.0).abs() < 1e-3, "{}", i.watts());
        assert_eq!(
            c.update_at(200_000_100_000, 1.4),
            Some(Delta::Forward(100_000))
        );
        // At the ceiling exactly: 2,400,000,000 uJ in 0.2 s counts; one more uJ does not.
        c.update_at(0, 2.0);
        assert_eq!(
            c.update_at(2_400_000_000, 2.2),
            Some(Delta::Forward(2_400_000_000))
        );
        assert!(matches!(
            c.update_at(4_800_000_001, 2.4),
            Some(Delta::Implausible(_))
        ));
        // DRAM (1,000 W): +65,712 J in 0.2 s (a whole DRAM range) is not energy.
        let mut m = CounterDiff::for_part(65_712_999_613, Part::Dram);
        m.update_at(500_000, 0.0);
        assert!(matches!(
            m.update_at(65_712_500_000, 0.2),
            Some(Delta::Implausible(_))
        ));
        // NVML (mJ x 1,000, never wraps): 1,400,000 -> 1,000,000,100 mJ in 0.2 s is
        // 998,600.1 J, ~5 MW over a 5,000 W GPU ceiling; hwmon energy1_input 5 ->
        // 1,000,000,000,005 uJ is 1 MJ in 0.2 s.
        let mut g = CounterDiff::for_part(u64::MAX, Part::Gpu);
        g.update_at(1_400_000_000, 0.0);
        assert!(matches!(
            g.update_at(1_000_000_100_000, 0.2),
            Some(Delta::Implausible(_))
        ));
        let mut h = CounterDiff::for_part(u64::MAX, Part::Gpu);
        h.update_at(5, 0.0);
        assert!(matches!(
            h.update_at(1_000_000_000_005, 0.2),
            Some(Delta::Implausible(_))
        ));
        // 1 -> u64::MAX -> 5 (hostile trace hg.jsonl): the rise is not energy, and 5 is a
        // plausible rise from the 1 before the glitch: 4 uJ, the glitch cost nothing.
        let mut x = CounterDiff::for_part(u64::MAX, Part::Cpu);
        x.update_at(1, 0.0);
        assert!(matches!(
            x.update_at(u64::MAX, 1.0),
            Some(Delta::Implausible(_))
        ));
        assert_eq!(x.update_at(5, 2.0), Some(Delta::Forward(4)));
        // Plausible fast rises count exactly: a 700 W GPU over 0.2 s is 140 J; a package at
        // 400 W over 1 s is 400 J.
        let mut p = CounterDiff::for_part(u64::MAX, Part::Gpu);
        p.update_at(1_000, 0.0);
        assert_eq!(
            p.update_at(140_001_000, 0.2),
            Some(Delta::Forward(140_000_000))
        );
        let mut q = CounterDiff::for_part(262_143_328_850, Part::Cpu);
        q.update_at(7, 0.0);
        assert_eq!(
            q.update_at(400_000_007, 1.0),
            Some(Delta::Forward(400_000_000))
        );
        // Untimed updates judge no rise.
        let mut u = CounterDiff::for_part(262_143_328_850, Part::Cpu);
        u.update(0);
        assert_eq!(
            u.update(200_000_000_000),
            Some(Delta::Forward(200_000_000_000))
        );
    }

    #[test]
    fn trapezoid() {
        // (100 + 200) / 2 W x 2 s = 300 J
        let mut p = PowerIntegrator::default();
        assert_eq!(p.update(Seconds(0.0), Watts(100.0)).0, 0.0);
        assert_eq!(p.update(Seconds(2.0), Watts(200.0)).0, 300.0);
        assert_eq!(p.update(Seconds(2.0), Watts(50.0)).0, 0.0);
    }

    #[derive(Clone, Debug)]
    enum Step {
        Add(u64),
        Reset(u64),
    }

    fn steps(max: u64) -> impl Strategy<Value = Vec<Step>> {
        prop::collection::vec(
            prop_oneof![
                8 => (0..=max / 2).prop_map(Step::Add),
                1 => (0..=max / 2).prop_map(Step::Reset),
            ],
            1..60,
        )
    }

    proptest! {
        /// For any readings with wraps and (distinguishable) resets, the deltas sum to the
        /// true energy.
        #[test]
        fn summed_deltas_equal_true_energy(max in 10u64..=u64::from(u32::MAX), start_frac in 0.0f64..1.0, seq in steps(u64::from(u32::MAX))) {
            let range = u128::from(max) + 1;
            let start = ((max as f64) * start_frac) as u64;
            let mut c = CounterDiff::new(max);
            c.update(start);
            let (mut value, mut truth, mut sum) = (start, 0u128, 0u128);
            for s in seq {
                match s {
                    Step::Add(d) => {
                        let d = d % (max / 2 + 1);
                        value = ((u128::from(value) + u128::from(d)) % range) as u64;
                        truth += u128::from(d);
                    }
                    Step::Reset(d) => {
                        let d = d % (max / 2 + 1);
                        // Skip a reset that looks like a wrap (documented as indistinguishable).
                        let as_wrap = u128::from(max - value) + u128::from(d) + 1;
                        if d >= value || as_wrap <= u128::from(max / 2) {
                            continue;
                        }
                        value = d;
                        truth += u128::from(d);
                    }
                }
                if let Some(delta) = c.update(value) {
                    sum += u128::from(delta.value());
                }
            }
            prop_assert_eq!(sum, truth);
        }
    }
}
