//! Every numeric flag checked against the library's hard limits of its field
//! ([`wattlens::limits`]) after parsing: a value outside them is a typo or a unit slip
//! (`--days 1e300`, `--active-params 1e-320`), refused with exit 2 and the flag's name (or the
//! config file and key the value came from).

use anyhow::{bail, Result};
use wattlens::estimate::site::SiteInputs;
use wattlens::limits;
use wattlens::uncertainty::Range;

/// Refuses a parsed value of `flag` outside the library's limits of its field (or not finite),
/// naming the flag and the limits.
pub fn check(flag: &str, r: Option<Range>) -> Result<Option<Range>> {
    check_as(flag, flag, r)
}

/// As [`check`], with the value named `name` in the message: the flag, or the config file and
/// key it came from (`pue in [site] of config file wattlens.toml`).
pub fn check_as(flag: &str, name: &str, r: Option<Range>) -> Result<Option<Range>> {
    let Some(r) = r else { return Ok(None) };
    let limit = crate::flags::field(flag).and_then(limits::limit);
    match limits::check_limit(limit, r) {
        Ok(r) => Ok(Some(r)),
        Err(e) => bail!("invalid value for {name}: {e}"),
    }
}

/// Checks every numeric site value (`--pue`, `--intensity`, `--lifetime` ...); `name` says how
/// a message names the value of a flag (the flag, or the config file and key it came from).
pub fn site(s: SiteInputs, name: impl Fn(&'static str) -> String) -> Result<SiteInputs> {
    match limits::check_site(&s) {
        Ok(()) => Ok(s),
        Err((field, e)) => bail!("invalid value for {}: {e}", name(crate::flags::flag(field))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_flag_or_where_the_value_came_from() {
        let e = check("--days", Some(Range::point(1e300)))
            .expect_err("1e300 h")
            .to_string();
        assert!(e.starts_with("invalid value for --days: "), "{e}");
        assert!(check("--unknown", Some(Range::point(f64::INFINITY))).is_err());
        assert!(check("--unknown", Some(Range::point(1e300))).is_ok());
        let s = SiteInputs {
            wue: Some(Range::point(1e6)),
            ..SiteInputs::default()
        };
        let e = site(s, |f| format!("{} in x.toml", &f[2..]))
            .expect_err("1e6 L/kWh")
            .to_string();
        assert!(e.starts_with("invalid value for wue in x.toml: "), "{e}");
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
