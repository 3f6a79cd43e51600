//! Plausible bounds of every numeric `estimate` flag, checked after parsing: a value outside them
//! is a typo or a unit slip (`--days 1e300`, `--active-params 1e-320`) that would otherwise
//! overflow to inf/NaN somewhere in the model, so it is refused with exit 2 and the flag's name.
//!
//! The bounds are wide on purpose: they reject only what no real job, fleet or site can be.

use anyhow::{bail, Result};
use wattlens::estimate::site::SiteInputs;
use wattlens::uncertainty::Range;

/// (flag, the parsed base unit, smallest, largest in that unit, the bounds as the user reads them).
const BOUNDS: &[(&str, &str, f64, f64, &str)] = &[
    ("--params", "", 1.0, 1e15, "from 1 to 1,000T parameters"),
    (
        "--active-params",
        "",
        1.0,
        1e15,
        "from 1 to 1,000T parameters",
    ),
    ("--tokens", "", 1.0, 1e17, "from 1 to 100,000T tokens"),
    ("--flops", "", 1.0, 1e32, "from 1 to 1e32 FLOP"),
    ("--gpus", "", 1.0, 1e8, "from 1 to 100M accelerators"),
    ("--gpus-per-server", "", 1.0, 1e4, "from 1 to 10,000"),
    ("--servers", "", 1.0, 1e9, "from 1 to 1,000M servers"),
    ("--servers-per-rack", "", 1.0, 1e4, "from 1 to 10,000"),
    (
        "--days",
        "h",
        MICROSECOND_H,
        MILLENNIUM_H,
        "from 1 us to 1,000 years",
    ),
    (
        "--hours",
        "h",
        MICROSECOND_H,
        MILLENNIUM_H,
        "from 1 us to 1,000 years",
    ),
    (
        "--gpu-hours",
        "h",
        SECOND_H,
        1e13,
        "from 1 s to 1e13 accelerator-hours",
    ),
    (
        "--mtbf",
        "h",
        MINUTE_H,
        MILLENNIUM_H,
        "from 1 min to 1,000 years",
    ),
    (
        "--checkpoint-minutes",
        "h",
        SECOND_H,
        8760.0,
        "from 1 s to a year",
    ),
    (
        "--restart-minutes",
        "h",
        SECOND_H,
        8760.0,
        "0, or from 1 s to a year",
    ),
    (
        "--checkpoint-interval",
        "h",
        SECOND_H,
        8760.0,
        "from 1 s to a year",
    ),
    ("--interruptions", "", 0.0, 1e9, "from 0 to 1,000M"),
    (
        "--mfu",
        "",
        1e-4,
        1.0,
        "above zero and at most 1 (0.01% to 100%)",
    ),
    (
        "--mbu",
        "",
        1e-4,
        1.0,
        "above zero and at most 1 (0.01% to 100%)",
    ),
    (
        "--utilization",
        "",
        1e-4,
        1.0,
        "above zero and at most 1 (0.01% to 100%)",
    ),
    (
        "--load",
        "",
        1e-4,
        1.0,
        "above zero and at most 1 (0.01% to 100%)",
    ),
    ("--cfe", "", 0.0, 1.0, "from 0 to 100%"),
    ("--gpu-power", "W", 1.0, 1e5, "from 1 W to 100 kW"),
    ("--server-power", "W", 1.0, 1e7, "from 1 W to 10 MW"),
    ("--rack-power", "W", 1.0, 1e7, "from 1 W to 10 MW"),
    ("--it-power", "W", 1e-3, 1e11, "from 1 mW to 100 GW"),
    (
        "--cpu-tdp",
        "W",
        wattlens::source::replay::MIN_CPU_TDP_W,
        wattlens::source::replay::MAX_CPU_TDP_W,
        "from 1 W to 100 kW (all sockets together)",
    ),
    (
        "--energy",
        "kWh",
        1e-9,
        1e12,
        "from 1 uWh to 1,000 TWh (1uWh, 2mWh, 3Wh, 5kWh, 1.2MWh)",
    ),
    (
        "--energy-per-request",
        "kWh",
        1e-12,
        1e3,
        "from 1 nWh to 1 MWh",
    ),
    ("--input-tokens", "", 0.0, 1e9, "from 0 to 1,000M tokens"),
    ("--output-tokens", "", 1.0, 1e9, "from 1 to 1,000M tokens"),
    ("--batch", "", 1.0, 1e6, "from 1 to 1M"),
    ("--requests", "", 1.0, 1e18, "from 1 to 1e18"),
    ("--requests-per-day", "", 1e-6, 1e15, "from 1e-6 to 1e15"),
    ("--pue", "", 1.0, 100.0, "from 1 to 100"),
    ("--intensity", "g/kWh", 0.0, 1e5, "from 0 to 100,000 g/kWh"),
    (
        "--market-intensity",
        "g/kWh",
        0.0,
        1e5,
        "from 0 to 100,000 g/kWh",
    ),
    ("--wue", "L/kWh", 0.0, 1e3, "from 0 to 1,000 L/kWh"),
    ("--ewif", "L/kWh", 0.0, 1e4, "from 0 to 10,000 L/kWh"),
    ("--price", "per kWh", 0.0, 1e4, "from 0 to 10,000 per kWh"),
    (
        "--lifetime",
        "h",
        24.0,
        100.0 * 8760.0,
        "from 1 day to 100 years",
    ),
    ("--max-carbon", "kgCO2e", 0.0, f64::MAX, "0 or more"),
    ("--max-energy", "kWh", 0.0, f64::MAX, "0 or more"),
];

/// Flags whose value may be exactly 0 below their lowest non-zero bound (an instant restart).
const ZERO_ALLOWED: &[&str] = &["--restart-minutes"];

/// Why a flag cannot be 0, said only when the value is 0 or below.
const ZERO_WHY: &[(&str, &str)] = &[(
    "--lifetime",
    " (a service life of 0 would hide the embodied carbon)",
)];

/// Flags whose values messages show in the unit a bare number is in, not the base unit:
/// (flag, base units per shown unit, shown unit).
const SHOWN_IN: &[(&str, f64, &str)] = &[("--lifetime", 8760.0, "y")];

const SECOND_H: f64 = 1.0 / 3600.0;
const MICROSECOND_H: f64 = 1e-6 / 3600.0;
const MINUTE_H: f64 = 1.0 / 60.0;
const MILLENNIUM_H: f64 = 1000.0 * 8760.0;

/// Refuses a parsed value of `flag` outside its plausible bounds (or not finite), naming the
/// flag and the bounds.
pub fn check(flag: &str, r: Option<Range>) -> Result<Option<Range>> {
    check_as(flag, flag, r)
}

/// As [`check`], with the value named `name` in the message: the flag, or the config file and
/// key it came from (`pue in [site] of config file wattlens.toml`).
pub fn check_as(flag: &str, name: &str, r: Option<Range>) -> Result<Option<Range>> {
    let Some(r) = r else { return Ok(None) };
    let bound = BOUNDS.iter().find(|b| b.0 == flag);
    if !r.lo.is_finite() || !r.hi.is_finite() {
        // A finite number can still overflow when its unit is converted (`--days 1.79e308`).
        match bound {
            Some((_, _, _, _, text)) => bail!(
                "invalid value for {name}: it is outside what any real case reaches (too large once converted to its base unit); give a value {text}"
            ),
            None => bail!("invalid value for {name}: not a finite number"),
        }
    }
    if let Some((_, base, min, max, text)) = bound {
        let shown = SHOWN_IN.iter().find(|x| x.0 == flag);
        let display = |r: Range| match shown {
            Some((_, per, unit)) => r.scale(1.0 / per).display(unit),
            None => r.display(base),
        };
        let zero_why = ZERO_WHY.iter().find(|x| x.0 == flag).map_or("", |x| x.1);
        // Bounds are compared with a relative margin so that `1s` or `1000y` round-trip.
        let (lo, hi) = (min * (1.0 - 1e-9), max * (1.0 + 1e-9));
        let zero_ok = ZERO_ALLOWED.contains(&flag);
        let admits = |v: f64| (lo..=hi).contains(&v) || (v == 0.0 && zero_ok);
        if r.lo <= 0.0 && !admits(r.lo) {
            bail!(
                "invalid value for {name}: must be above zero, got {}; give a value {text}{zero_why}",
                display(r)
            );
        }
        if !admits(r.lo) || !admits(r.hi) {
            bail!(
                "invalid value for {name}: {} is outside what any real case reaches; give a value {text} (check the number and its unit)",
                display(r)
            );
        }
    }
    Ok(Some(r))
}

/// Checks every numeric site value (`--pue`, `--intensity`, `--lifetime` ...); `name` says how
/// a message names the value of a flag (the flag, or the config file and key it came from).
pub fn site(s: SiteInputs, name: impl Fn(&'static str) -> String) -> Result<SiteInputs> {
    for (flag, r) in [
        ("--pue", s.pue),
        ("--intensity", s.intensity),
        ("--market-intensity", s.market_intensity),
        ("--cfe", s.cfe),
        ("--wue", s.wue),
        ("--ewif", s.ewif),
        ("--lifetime", s.lifetime_h),
        ("--price", s.price.as_ref().map(|p| p.per_kwh)),
    ] {
        check_as(flag, &name(flag), r)?;
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bound_is_ordered_and_finite_below() {
        for (flag, _, min, max, _) in BOUNDS {
            assert!(min.is_finite() && *min >= 0.0 && min < max, "{flag}");
            assert!(!ZERO_ALLOWED.contains(flag) || *min > 0.0, "{flag}");
        }
    }

    #[test]
    fn values_at_the_bounds_pass_and_beyond_fail() {
        assert!(check("--days", Some(Range::point(MILLENNIUM_H))).is_ok());
        assert!(check("--days", Some(Range::point(1e300))).is_err());
        assert!(check("--active-params", Some(Range::point(1e-320))).is_err());
        assert!(check("--lifetime", Some(Range::point(0.0))).is_err());
        assert!(check("--unknown", Some(Range::point(f64::INFINITY))).is_err());
        assert!(check("--unknown", Some(Range::point(1e300))).is_ok());
        // An instant restart is 0; a restart of 1e-300 minutes is a slip.
        assert!(check("--restart-minutes", Some(Range::point(0.0))).is_ok());
        assert!(check("--restart-minutes", Some(Range::point(1e-300 / 60.0))).is_err());
        assert!(check("--restart-minutes", Some(Range::new(0.0, 1e-300))).is_err());
        assert!(check("--restart-minutes", Some(Range::new(0.0, 0.05))).is_ok());
    }

    #[test]
    fn a_service_life_out_of_bounds_is_shown_in_years_and_zero_explained_only_at_zero() {
        let big = check_as(
            "--lifetime",
            "--lifetime",
            Some(Range::point(43_800.0 * 8760.0)),
        )
        .expect_err("43,800 years")
        .to_string();
        assert!(big.contains("43,800 y is outside"), "{big}");
        assert!(!big.contains("of 0"), "{big}");
        let zero = check("--lifetime", Some(Range::point(0.0)))
            .expect_err("0")
            .to_string();
        assert!(zero.contains("a service life of 0 would hide"), "{zero}");
    }

    proptest::proptest! {
        /// A finite duration that overflows once converted to hours is out of bounds, and the
        /// message gives the bounds rather than calling the input not finite.
        #[test]
        fn huge_finite_durations_are_out_of_bounds(v in 1e306f64..f64::MAX) {
            let text = format!("{v:e}");
            for (flag, unit) in [("--days", "d"), ("--lifetime", "y"), ("--hours", "h")] {
                let r = wattlens::input::parse_range_in(&text, wattlens::input::Dim::Time, unit)
                    .expect("finite input parses");
                let e = check_as(flag, flag, Some(r)).expect_err("out of bounds").to_string();
                proptest::prop_assert!(e.contains("give a value from"), "{}", e);
                proptest::prop_assert!(!e.contains("not a finite"), "{}", e);
            }
        }
    }
}
