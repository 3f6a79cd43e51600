//! Hard limits of every numeric input, keyed by [`Field`]: a value outside them is a typo or a
//! unit slip (`days = 1e300`, `active_params = 1e-320`) that would otherwise overflow to
//! inf/NaN somewhere in a model, so it is refused. Also the domain rules that are not ranges: a
//! PUE is at least 1, a count is whole.
//!
//! The limits are wide on purpose: they reject only what no real job, fleet or site can be
//! (the narrower bounds of [`crate::plausible`] only warn). Errors name no input: a front end
//! says which one, in its own words.

use crate::estimate::site::SiteInputs;
use crate::field::Field;
use crate::uncertainty::Range;

/// The hard limits of one input, in its base unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limit {
    /// The input.
    pub field: Field,
    /// The unit the limits are in (the input's base unit).
    pub unit: &'static str,
    /// Smallest non-zero value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// The limits as a reader reads them (`from 1 us to 1,000 years`).
    pub text: &'static str,
}

const SECOND_H: f64 = 1.0 / 3600.0;
const MICROSECOND_H: f64 = 1e-6 / 3600.0;
const MINUTE_H: f64 = 1.0 / 60.0;
const MILLISECOND_H: f64 = 1e-3 / 3600.0;
const MILLENNIUM_H: f64 = 1000.0 * 8760.0;

/// The limits, one row per input.
pub const LIMITS: &[Limit] = &[
    Limit {
        field: Field::Params,
        unit: "",
        min: 1.0,
        max: 1e15,
        text: "from 1 to 1,000T parameters",
    },
    Limit {
        field: Field::ActiveParams,
        unit: "",
        min: 1.0,
        max: 1e15,
        text: "from 1 to 1,000T parameters",
    },
    Limit {
        field: Field::Tokens,
        unit: "",
        min: 1.0,
        max: 1e17,
        text: "from 1 to 100,000T tokens",
    },
    Limit {
        field: Field::Flops,
        unit: "",
        min: 1.0,
        max: 1e32,
        text: "from 1 to 1e32 FLOP",
    },
    Limit {
        field: Field::Gpus,
        unit: "",
        min: 1.0,
        max: 1e8,
        text: "from 1 to 100M accelerators",
    },
    Limit {
        field: Field::GpusPerServer,
        unit: "",
        min: 1.0,
        max: 1e4,
        text: "from 1 to 10,000",
    },
    Limit {
        field: Field::Servers,
        unit: "",
        min: 1.0,
        max: 1e9,
        text: "from 1 to 1,000M servers",
    },
    Limit {
        field: Field::ServersPerRack,
        unit: "",
        min: 1.0,
        max: 1e4,
        text: "from 1 to 10,000",
    },
    Limit {
        field: Field::Days,
        unit: "h",
        min: MICROSECOND_H,
        max: MILLENNIUM_H,
        text: "from 1 us to 1,000 years",
    },
    Limit {
        field: Field::Hours,
        unit: "h",
        min: MICROSECOND_H,
        max: MILLENNIUM_H,
        text: "from 1 us to 1,000 years",
    },
    Limit {
        field: Field::Period,
        unit: "h",
        min: MICROSECOND_H,
        max: MILLENNIUM_H,
        text: "from 1 us to 1,000 years",
    },
    Limit {
        field: Field::GpuHours,
        unit: "h",
        min: SECOND_H,
        max: 1e13,
        text: "from 1 s to 1e13 accelerator-hours",
    },
    Limit {
        field: Field::Mtbf,
        unit: "h",
        min: MINUTE_H,
        max: MILLENNIUM_H,
        text: "from 1 min to 1,000 years",
    },
    Limit {
        field: Field::CheckpointMinutes,
        unit: "h",
        min: SECOND_H,
        max: 8760.0,
        text: "from 1 s to a year",
    },
    Limit {
        field: Field::RestartMinutes,
        unit: "h",
        min: SECOND_H,
        max: 8760.0,
        text: "0, or from 1 s to a year",
    },
    Limit {
        field: Field::CheckpointInterval,
        unit: "h",
        min: SECOND_H,
        max: 8760.0,
        text: "from 1 s to a year",
    },
    Limit {
        field: Field::MtbfPerDevice,
        unit: "h",
        min: MINUTE_H,
        max: 1e9,
        text: "from 1 min to 1e9 hours",
    },
    Limit {
        field: Field::StallMinutes,
        unit: "h",
        min: MILLISECOND_H,
        max: 8760.0,
        text: "0, or from 1 ms to a year",
    },
    Limit {
        field: Field::CheckpointSize,
        unit: "GB",
        min: 1e-6,
        max: 1e9,
        text: "from 1 kB to 1 EB (in GB)",
    },
    Limit {
        field: Field::StorageBandwidth,
        unit: "GB/s",
        min: 1e-6,
        max: 1e9,
        text: "from 1 kB/s to 1 EB/s (in GB/s)",
    },
    Limit {
        field: Field::Interruptions,
        unit: "",
        min: 0.0,
        max: 1e9,
        text: "from 0 to 1,000M",
    },
    Limit {
        field: Field::Mfu,
        unit: "",
        min: 1e-4,
        max: 1.0,
        text: "above zero and at most 1 (0.01% to 100%)",
    },
    Limit {
        field: Field::Mbu,
        unit: "",
        min: 1e-4,
        max: 1.0,
        text: "above zero and at most 1 (0.01% to 100%)",
    },
    Limit {
        field: Field::Utilization,
        unit: "",
        min: 1e-4,
        max: 1.0,
        text: "above zero and at most 1 (0.01% to 100%)",
    },
    Limit {
        field: Field::Load,
        unit: "",
        min: 1e-4,
        max: 1.0,
        text: "above zero and at most 1 (0.01% to 100%)",
    },
    Limit {
        field: Field::Cfe,
        unit: "",
        min: 0.0,
        max: 1.0,
        text: "from 0 to 100%",
    },
    Limit {
        field: Field::GpuPower,
        unit: "W",
        min: 1.0,
        max: 1e5,
        text: "from 1 W to 100 kW",
    },
    Limit {
        field: Field::Power,
        unit: "W",
        min: 1e-3,
        max: 1e11,
        text: "from 1 mW to 100 GW",
    },
    Limit {
        field: Field::ServerPower,
        unit: "W",
        min: 1.0,
        max: 1e7,
        text: "from 1 W to 10 MW",
    },
    Limit {
        field: Field::RackPower,
        unit: "W",
        min: 1.0,
        max: 1e7,
        text: "from 1 W to 10 MW",
    },
    Limit {
        field: Field::ItPower,
        unit: "W",
        min: 1e-3,
        max: 1e11,
        text: "from 1 mW to 100 GW",
    },
    Limit {
        field: Field::CpuTdp,
        unit: "W",
        min: crate::source::replay::MIN_CPU_TDP_W,
        max: crate::source::replay::MAX_CPU_TDP_W,
        text: "from 1 W to 100 kW (all sockets together)",
    },
    Limit {
        field: Field::Energy,
        unit: "kWh",
        min: 1e-9,
        max: 1e12,
        text: "from 1 uWh to 1,000 TWh (1uWh, 2mWh, 3Wh, 5kWh, 1.2MWh)",
    },
    Limit {
        field: Field::EnergyPerRequest,
        unit: "kWh",
        min: 1e-12,
        max: 1e3,
        text: "from 1 nWh to 1 MWh",
    },
    Limit {
        field: Field::InputTokens,
        unit: "",
        min: 0.0,
        max: 1e9,
        text: "from 0 to 1,000M tokens",
    },
    Limit {
        field: Field::OutputTokens,
        unit: "",
        min: 1.0,
        max: 1e9,
        text: "from 1 to 1,000M tokens",
    },
    Limit {
        field: Field::Batch,
        unit: "",
        min: 1.0,
        max: 1e6,
        text: "from 1 to 1M",
    },
    Limit {
        field: Field::Requests,
        unit: "",
        min: 1.0,
        max: 1e18,
        text: "from 1 to 1e18",
    },
    Limit {
        field: Field::RequestsPerDay,
        unit: "",
        min: 1e-6,
        max: 1e15,
        text: "from 1e-6 to 1e15",
    },
    Limit {
        field: Field::Pue,
        unit: "",
        min: 1.0,
        max: 100.0,
        text: "from 1 to 100",
    },
    Limit {
        field: Field::Intensity,
        unit: "g/kWh",
        min: 0.0,
        max: 1e5,
        text: "from 0 to 100,000 g/kWh",
    },
    Limit {
        field: Field::MarketIntensity,
        unit: "g/kWh",
        min: 0.0,
        max: 1e5,
        text: "from 0 to 100,000 g/kWh",
    },
    Limit {
        field: Field::Wue,
        unit: "L/kWh",
        min: 0.0,
        max: 1e3,
        text: "from 0 to 1,000 L/kWh",
    },
    Limit {
        field: Field::Ewif,
        unit: "L/kWh",
        min: 0.0,
        max: 1e4,
        text: "from 0 to 10,000 L/kWh",
    },
    Limit {
        field: Field::Price,
        unit: "per kWh",
        min: 0.0,
        max: 1e4,
        text: "from 0 to 10,000 per kWh",
    },
    Limit {
        field: Field::Lifetime,
        unit: "h",
        min: 24.0,
        max: 100.0 * 8760.0,
        text: "from 1 day to 100 years",
    },
    Limit {
        field: Field::MaxCarbon,
        unit: "kgCO2e",
        min: 0.0,
        max: f64::MAX,
        text: "0 or more",
    },
    Limit {
        field: Field::MaxEnergy,
        unit: "kWh",
        min: 0.0,
        max: f64::MAX,
        text: "0 or more",
    },
];

/// Inputs whose value may be exactly 0 below their lowest non-zero limit (an instant restart).
const ZERO_ALLOWED: &[Field] = &[Field::RestartMinutes, Field::StallMinutes];

/// Why an input cannot be 0, said only when the value is 0 or below.
const ZERO_WHY: &[(Field, &str)] = &[(
    Field::Lifetime,
    " (a service life of 0 would hide the embodied carbon)",
)];

/// Inputs whose values messages show in the unit a bare number is in, not the base unit:
/// (input, base units per shown unit, shown unit).
const SHOWN_IN: &[(Field, f64, &str)] = &[(Field::Lifetime, 8760.0, "y")];

/// Inputs that count things, so take whole numbers only.
pub const COUNTS: &[Field] = &[
    Field::Batch,
    Field::Gpus,
    Field::GpusPerServer,
    Field::InputTokens,
    Field::Interruptions,
    Field::OutputTokens,
    Field::Requests,
    Field::Servers,
    Field::ServersPerRack,
];

/// Why a value is refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitError {
    /// Not a finite number, for an input without limits.
    #[error("not a finite number")]
    NotFinite,
    /// A finite number that overflowed once converted to its base unit.
    #[error(
        "it is outside what any real case reaches (too large once converted to its base unit); give a value {text}"
    )]
    Overflow {
        /// The limits as text.
        text: &'static str,
    },
    /// Zero or below where that is meaningless.
    #[error("must be above zero, got {shown}; give a value {text}{why}")]
    NotPositive {
        /// The value as given.
        shown: String,
        /// The limits as text.
        text: &'static str,
        /// Why 0 is refused, where that is not obvious.
        why: &'static str,
    },
    /// Outside the limits.
    #[error(
        "{shown} is outside what any real case reaches; give a value {text} (check the number and its unit)"
    )]
    OutOfRange {
        /// The value as given.
        shown: String,
        /// The limits as text.
        text: &'static str,
    },
    /// A PUE below 1.
    #[error("{0} is below 1 (PUE is facility energy / IT energy)")]
    PueBelowOne(String),
    /// A count that is not a whole number.
    #[error("{0} is not a whole number")]
    NotWhole(String),
}

/// The limits of `field`, if it has any.
#[must_use]
pub fn limit(field: Field) -> Option<&'static Limit> {
    LIMITS.iter().find(|l| l.field == field)
}

/// Refuses a value of `field` (in its base unit) outside its limits, or not finite.
///
/// # Errors
/// [`LimitError`] saying why and giving the limits.
pub fn check(field: Field, r: Range) -> Result<Range, LimitError> {
    check_limit(limit(field), r)
}

/// As [`check`], for an input that may have no limits (`None`: only finiteness is checked).
///
/// # Errors
/// [`LimitError`] saying why and giving the limits.
pub fn check_limit(limit: Option<&Limit>, r: Range) -> Result<Range, LimitError> {
    if !r.lo.is_finite() || !r.hi.is_finite() {
        // A finite number can still overflow when its unit is converted (`days 1.79e308`).
        return Err(match limit {
            Some(l) => LimitError::Overflow { text: l.text },
            None => LimitError::NotFinite,
        });
    }
    let Some(l) = limit else { return Ok(r) };
    let shown = SHOWN_IN.iter().find(|x| x.0 == l.field);
    let display = |r: Range| match shown {
        Some((_, per, unit)) => r.scale(1.0 / per).display(unit),
        None => r.display(l.unit),
    };
    let why = ZERO_WHY.iter().find(|x| x.0 == l.field).map_or("", |x| x.1);
    // Limits are compared with a relative margin so that `1s` or `1000y` round-trip.
    let (lo, hi) = (l.min * (1.0 - 1e-9), l.max * (1.0 + 1e-9));
    let zero_ok = ZERO_ALLOWED.contains(&l.field);
    let admits = |v: f64| (lo..=hi).contains(&v) || (v == 0.0 && zero_ok);
    if r.lo <= 0.0 && !admits(r.lo) {
        return Err(LimitError::NotPositive {
            shown: display(r),
            text: l.text,
            why,
        });
    }
    if !admits(r.lo) || !admits(r.hi) {
        return Err(LimitError::OutOfRange {
            shown: display(r),
            text: l.text,
        });
    }
    Ok(r)
}

/// Refuses a PUE below 1.
///
/// # Errors
/// [`LimitError::PueBelowOne`].
pub fn pue(r: Range) -> Result<Range, LimitError> {
    if r.lo < 1.0 {
        return Err(LimitError::PueBelowOne(r.display("")));
    }
    Ok(r)
}

/// Refuses a count that is not a whole number.
///
/// # Errors
/// [`LimitError::NotWhole`].
pub fn whole(r: Range) -> Result<Range, LimitError> {
    if r.lo.fract() != 0.0 || r.hi.fract() != 0.0 {
        // Every digit, as given: a rounded `1,810` would contradict the message.
        let shown = if r.is_point() {
            format!("{}", r.lo)
        } else {
            format!("{}..{}", r.lo, r.hi)
        };
        return Err(LimitError::NotWhole(shown));
    }
    Ok(r)
}

/// Checks every numeric site value against its limits (and a PUE against 1), in a fixed order;
/// the error says which input.
///
/// # Errors
/// The first input refused, with why.
pub fn check_site(s: &SiteInputs) -> Result<(), (Field, LimitError)> {
    if let Some(r) = s.pue {
        pue(r).map_err(|e| (Field::Pue, e))?;
    }
    for (field, r) in [
        (Field::Pue, s.pue),
        (Field::Intensity, s.intensity.map(|r| r.range())),
        (
            Field::MarketIntensity,
            s.market_intensity.map(|r| r.range()),
        ),
        (Field::Cfe, s.cfe),
        (Field::Wue, s.wue),
        (Field::Ewif, s.ewif),
        (Field::Lifetime, s.lifetime_h),
        (Field::Price, s.price.as_ref().map(|p| p.per_kwh)),
    ] {
        if let Some(r) = r {
            check(field, r).map_err(|e| (field, e))?;
        }
    }
    Ok(())
}

/// Checks the given values, in order (a count first for being whole, then each against its
/// limits), the first refused one as an
/// [`EstimateError::Invalid`](crate::estimate::EstimateError::Invalid) naming its input: what
/// each resolver runs first, so that a caller that did not check gets the same refusal.
///
/// # Errors
/// The first value refused.
pub fn check_all(values: &[(Field, Option<Range>)]) -> Result<(), crate::estimate::EstimateError> {
    for (field, r) in values {
        let Some(r) = r else { continue };
        let whole_if_count = |r: Range| {
            if COUNTS.contains(field) {
                whole(r)
            } else {
                Ok(r)
            }
        };
        whole_if_count(*r)
            .and_then(|r| check(*field, r))
            .map_err(|e| crate::estimate::EstimateError::Invalid {
                field: *field,
                message: e.to_string().into(),
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_limit_is_ordered_finite_below_and_listed_once() {
        for l in LIMITS {
            assert!(
                l.min.is_finite() && l.min >= 0.0 && l.min < l.max,
                "{}",
                l.field
            );
            assert!(
                !ZERO_ALLOWED.contains(&l.field) || l.min > 0.0,
                "{}",
                l.field
            );
            assert_eq!(LIMITS.iter().filter(|x| x.field == l.field).count(), 1);
        }
    }

    /// Each input with limits: its bounds pass, a value 10% beyond either fails, and a value
    /// of 0 fails unless 0 is allowed (or the lower limit is 0).
    #[test]
    fn each_limit_admits_its_ends_and_refuses_beyond() {
        for l in LIMITS {
            let f = l.field;
            assert!(check(f, Range::point(l.min)).is_ok(), "{f} min");
            assert!(check(f, Range::point(l.max)).is_ok(), "{f} max");
            // (A budget has no upper limit: f64::MAX.)
            if l.max < f64::MAX {
                assert!(
                    matches!(
                        check(f, Range::point(l.max * 1.1)),
                        Err(LimitError::OutOfRange { .. })
                    ),
                    "{f} above"
                );
            }
            if l.min > 0.0 {
                assert!(check(f, Range::point(l.min * 0.9)).is_err(), "{f} below");
                let zero = check(f, Range::point(0.0));
                assert_eq!(zero.is_ok(), ZERO_ALLOWED.contains(&f), "{f} zero");
            }
            assert_eq!(
                check(f, Range::point(f64::INFINITY)),
                Err(LimitError::Overflow { text: l.text })
            );
        }
    }

    #[test]
    fn values_at_the_bounds_pass_and_beyond_fail() {
        assert!(check(Field::Days, Range::point(MILLENNIUM_H)).is_ok());
        assert!(check(Field::Days, Range::point(1e300)).is_err());
        assert!(check(Field::ActiveParams, Range::point(1e-320)).is_err());
        assert!(check(Field::Lifetime, Range::point(0.0)).is_err());
        assert_eq!(
            check_limit(None, Range::point(f64::INFINITY)),
            Err(LimitError::NotFinite)
        );
        assert!(check_limit(None, Range::point(1e300)).is_ok());
        // An instant restart is 0; a restart of 1e-300 minutes is a slip.
        assert!(check(Field::RestartMinutes, Range::point(0.0)).is_ok());
        assert!(check(Field::RestartMinutes, Range::point(1e-300 / 60.0)).is_err());
        assert!(check(Field::RestartMinutes, Range::new(0.0, 1e-300)).is_err());
        assert!(check(Field::RestartMinutes, Range::new(0.0, 0.05)).is_ok());
    }

    #[test]
    fn a_service_life_out_of_bounds_is_shown_in_years_and_zero_explained_only_at_zero() {
        let big = check(Field::Lifetime, Range::point(43_800.0 * 8760.0))
            .expect_err("43,800 years")
            .to_string();
        assert!(big.contains("43,800 y is outside"), "{big}");
        assert!(!big.contains("of 0"), "{big}");
        let zero = check(Field::Lifetime, Range::point(0.0))
            .expect_err("0")
            .to_string();
        assert!(zero.contains("a service life of 0 would hide"), "{zero}");
    }

    #[test]
    fn a_pue_is_at_least_one_and_a_count_whole() {
        // PUE = facility / IT energy >= 1.
        assert_eq!(
            pue(Range::point(0.9)),
            Err(LimitError::PueBelowOne("0.9".into()))
        );
        assert!(pue(Range::new(1.0, 1.5)).is_ok());
        assert!(whole(Range::point(2.5)).is_err());
        assert!(whole(Range::new(2.0, 8.0)).is_ok());
        let s = SiteInputs {
            pue: Some(Range::point(0.5)),
            ..SiteInputs::default()
        };
        assert_eq!(check_site(&s).map_err(|e| e.0), Err(Field::Pue));
        let s = SiteInputs {
            intensity: Some(crate::uncertainty::UnitRange::point(
                crate::units::GramsPerKwh(1e9),
            )),
            ..SiteInputs::default()
        };
        assert_eq!(check_site(&s).map_err(|e| e.0), Err(Field::Intensity));
    }

    #[test]
    fn a_resolver_refuses_by_field_what_a_caller_did_not_check() {
        let e = check_all(&[
            (Field::Gpus, Some(Range::point(8.0))),
            (Field::Servers, Some(Range::point(2.5))),
        ])
        .expect_err("2.5 servers");
        assert_eq!(e.to_string(), "servers: 2.5 is not a whole number");
        // Not rounded to a whole number in the message that says it is not one.
        let e = whole(Range::point(1808.5)).expect_err("not whole");
        assert_eq!(e.to_string(), "1808.5 is not a whole number");
        let e = whole(Range::new(16000.0, 16000.5)).expect_err("not whole");
        assert_eq!(e.to_string(), "16000..16000.5 is not a whole number");
        let e = check_all(&[(Field::Mfu, Some(Range::point(40.0)))]).expect_err("MFU 40");
        assert!(matches!(
            e,
            crate::estimate::EstimateError::Invalid {
                field: Field::Mfu,
                ..
            }
        ));
        assert!(check_all(&[
            (Field::Days, None),
            (Field::Flops, Some(Range::point(1e25)))
        ])
        .is_ok());
    }
}
