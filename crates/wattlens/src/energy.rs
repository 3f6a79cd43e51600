//! Energy from raw readings: counter deltas with wraparound and reset detection, trapezoid
//! integration of sampled power, and the measured [`EnergyBreakdown`] whose components each say
//! how they were obtained (`measured`, `integrated`, `modelled`) and how uncertain that is.
//!
//! Counters (RAPL `energy_uj`, NVML total energy, hwmon `energy1_input`) count up to a maximum
//! and wrap to 0. A decrease is a wrap when the wrapped delta is plausible (at most `bound`, by
//! default half the range: no device moves half a RAPL range, ~131 kJ, in one interval) and a
//! reset (driver reload, reboot of a BMC) otherwise, in which case the energy since the reset is
//! the new value itself. A reset at the very top of the range is indistinguishable from a wrap.

use crate::units::{Joules, KilowattHours, Seconds, Watts};
use serde::{Deserialize, Serialize};

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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delta {
    /// The counter moved forward (possibly through one wrap) by this much.
    Forward(u64),
    /// The counter went back implausibly far: a reset; this much was counted since the reset.
    Reset(u64),
}

impl Delta {
    /// The energy counted in the interval, whatever happened.
    #[must_use]
    pub fn value(self) -> u64 {
        match self {
            Delta::Forward(v) | Delta::Reset(v) => v,
        }
    }
}

/// Deltas of a wrapping counter whose values run from 0 to `max` inclusive (alumet's
/// `CounterDiff`).
#[derive(Clone, Debug)]
pub struct CounterDiff {
    max: u64,
    bound: u64,
    last: Option<u64>,
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
            last: None,
        }
    }

    /// Takes a new reading; `None` on the first one.
    pub fn update(&mut self, value: u64) -> Option<Delta> {
        let prev = self.last.replace(value)?;
        if value >= prev {
            return Some(Delta::Forward(value - prev));
        }
        // Went back: a wrap (max - prev + value + 1) or a reset.
        let wrapped = (self.max - prev.min(self.max))
            .saturating_add(value)
            .saturating_add(1);
        if self.max != u64::MAX && wrapped <= self.bound {
            Some(Delta::Forward(wrapped))
        } else {
            Some(Delta::Reset(value))
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
