//! Readings no part could produce: a counter that rose, or a power reading above, what the
//! part's power ceiling ([`power_ceiling`]) allows. Such a reading is not energy: its interval
//! counts nothing for the device (lose, never invent), a counter resumes from its new value,
//! and the run's notes (the agent's `wattlens_implausible_readings_total`) say so. The same rule
//! live, on replay and in the agent, so that a trace replays to the figures of its own run.

use crate::source::Part;
use crate::units::Watts;

/// The most power a part can draw, W: a counter delta (a rise, or a wrap) implying more over
/// the time since its last reading (plus [`READ_SLACK_S`]) is not energy, and a power reading
/// above it is refused. Generous ceilings, 4x or more above the largest parts sold in
/// 2024-2025, so that no true reading is ever refused:
///
/// - a CPU package: 2,000 W (the largest server CPUs have a 500 W TDP: AMD EPYC 9965, Intel
///   Xeon 6980P, 2024 datasheets);
/// - DRAM of one package: 1,000 W (12 channels x 2 DIMMs x ~15 W at full bandwidth, ~360 W);
/// - psys (the whole platform as RAPL sees it): 5,000 W;
/// - a GPU: 5,000 W (NVIDIA B200 1,000 W, AMD MI355X 1,400 W board power, 2025 datasheets).
#[must_use]
pub fn power_ceiling(part: Part) -> Watts {
    Watts(match part {
        Part::Cpu => 2_000.0,
        Part::Dram => 1_000.0,
        Part::Psys | Part::Gpu => 5_000.0,
    })
}

/// Time added to the interval between two counter readings before it is held against the
/// ceiling, s: a reading's time is when its poll began, not when the device was read (the
/// process walk comes first and takes a varying time), and a counter may move in steps rather
/// than continuously (a hostile test showed a GPU counter stepping 1,400 J once a second, a
/// plausible 1.4 kW, refused at every step when polled every 10 ms with a 0.25 s slack; how
/// coarsely real NVML counters step was not measured, so the slack covers steps up to about a
/// second). At a 10 ms interval a 700 W GPU stepping once a second shows 700 J, under
/// 5,000 W x 1.01 s = 5,050 J; a glitch of a RAPL counter is gigajoules.
pub const READ_SLACK_S: f64 = 1.0;

/// The most a counter of `part` can count between two readings `dt` seconds apart, uJ:
/// `ceiling x (dt + READ_SLACK_S) x 1e6` (saturating; `u64::MAX` for a `dt` that is not a
/// time, so that an untimed reading is never judged).
#[must_use]
pub fn most_counted_uj(ceiling_w: f64, dt: f64) -> u64 {
    if !(dt.is_finite() && dt >= 0.0) {
        return u64::MAX;
    }
    let uj = ceiling_w * (dt + READ_SLACK_S) * 1e6;
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let most = uj.min(u64::MAX as f64) as u64;
    most
}

/// A reading refused as implausible (more than its part can draw), with what it implied.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Implausible {
    /// An energy counter rose by `joules` in `seconds`.
    Rise {
        /// The counter's part.
        part: Part,
        /// How far it rose, J.
        joules: f64,
        /// Over how long (since its previous reading), s.
        seconds: f64,
    },
    /// A power reading of `watts`.
    Power {
        /// The reading's part.
        part: Part,
        /// The reading, W.
        watts: f64,
    },
}

impl Implausible {
    /// `Some` when a power reading of `watts` is above `part`'s [`power_ceiling`] (or not a
    /// number at all).
    #[must_use]
    pub fn power(part: Part, watts: f64) -> Option<Self> {
        (watts.is_nan() || watts > power_ceiling(part).0)
            .then_some(Implausible::Power { part, watts })
    }

    /// The part it is about.
    #[must_use]
    pub fn part(&self) -> Part {
        match self {
            Implausible::Rise { part, .. } | Implausible::Power { part, .. } => *part,
        }
    }

    /// The power it implies, W (infinite for a rise in no time).
    #[must_use]
    pub fn watts(&self) -> f64 {
        match self {
            Implausible::Rise {
                joules, seconds, ..
            } => {
                if *seconds > 0.0 {
                    joules / seconds
                } else {
                    f64::INFINITY
                }
            }
            Implausible::Power { watts, .. } => *watts,
        }
    }
}

/// The part in words, as a note names it.
fn part_name(part: Part) -> &'static str {
    match part {
        Part::Cpu => "a CPU package",
        Part::Dram => "DRAM",
        Part::Psys => "a platform (psys)",
        Part::Gpu => "a GPU",
    }
}

impl std::fmt::Display for Implausible {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::uncertainty::fmt_num;
        let ceiling = fmt_num(power_ceiling(self.part()).0);
        let name = part_name(self.part());
        match self {
            Implausible::Rise {
                joules, seconds, ..
            } => write!(
                f,
                "its energy counter rose {} J in {} s ({} W), more than {name} can draw \
                 ({ceiling} W)",
                fmt_num(*joules),
                fmt_num(*seconds),
                fmt_num(self.watts()),
            ),
            Implausible::Power { watts, .. } => write!(
                f,
                "a power reading of {} W, more than {name} can draw ({ceiling} W)",
                fmt_num(*watts)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_readings_above_the_ceiling_are_implausible() {
        // hwmon power1_average = 1,000,000,000,000,000 uW = 1e9 W (hostile round 4, #1): 200,000x
        // a GPU's 5,000 W ceiling.
        let i = Implausible::power(Part::Gpu, 1e9).expect("implausible");
        assert_eq!(i.watts(), 1e9);
        assert_eq!(
            i.to_string(),
            "a power reading of 1.000e9 W, more than a GPU can draw (5000 W)"
        );
        // 1,400 W (an MI355X at board power) and exactly 5,000 W are plausible.
        assert_eq!(Implausible::power(Part::Gpu, 1_400.0), None);
        assert_eq!(Implausible::power(Part::Gpu, 5_000.0), None);
        assert!(Implausible::power(Part::Gpu, 5_000.1).is_some());
        // A package's ceiling is 2,000 W, DRAM's 1,000 W.
        assert!(Implausible::power(Part::Cpu, 2_001.0).is_some());
        assert!(Implausible::power(Part::Dram, 1_001.0).is_some());
        assert!(Implausible::power(Part::Gpu, f64::NAN).is_some());
    }

    #[test]
    fn the_most_counted_allows_the_slack() {
        // A package over 0.2 s: 2,000 W x (0.2 + 1.0) s = 2,400 J = 2,400,000,000 uJ.
        assert_eq!(most_counted_uj(2_000.0, 0.2), 2_400_000_000);
        // Untimed or backwards: never judged.
        assert_eq!(most_counted_uj(2_000.0, f64::NAN), u64::MAX);
        assert_eq!(most_counted_uj(2_000.0, -1.0), u64::MAX);
        // Saturates.
        assert_eq!(most_counted_uj(5_000.0, 1e300), u64::MAX);
        // A rise of 199,999 J in 0.2 s implies 999,995 W.
        let r = Implausible::Rise {
            part: Part::Cpu,
            joules: 199_999.0,
            seconds: 0.2,
        };
        assert_eq!(
            r.to_string(),
            "its energy counter rose 199999 J in 0.2 s (999995 W), more than a CPU package can \
             draw (2000 W)"
        );
    }
}
