//! The Green Software Foundation's Software Carbon Intensity (SCI, ISO/IEC 21031:2024):
//! `SCI = ((E x I) + M) per R`, with E the energy (facility, kWh), I the location-based grid
//! intensity (g/kWh), M the embodied emissions of the hardware's share (g) and R the
//! functional units the footprint covers (`--per "1000 requests"`).

use super::fig;
use crate::figure::Figure;
use crate::input::{parse_range, Dim};
use crate::result::Report;
use crate::uncertainty::fmt_human;
use std::fmt::Write;

/// R: how many functional units the footprint covers, and what one is (`1000 requests`).
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionalUnit {
    /// How many (> 0).
    pub count: f64,
    /// What one is (`requests`, `training run`).
    pub unit: String,
}

/// Why `--per` cannot be read.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PerError {
    /// Not `N UNIT` with N one positive finite number and a unit that is not a lone suffix.
    #[error("not a positive number and a unit")]
    Malformed,
    /// N below [`FunctionalUnit::MIN_COUNT`]: no count of functional units.
    #[error(
        "R = {0:e} functional units is below {min:e}: a footprint covers at least a millionth \
         of the unit it is scored per",
        min = FunctionalUnit::MIN_COUNT
    )]
    TooFew(f64),
    /// N above [`FunctionalUnit::MAX_COUNT`]: more functional units than any footprint covers.
    #[error(
        "R = {0:e} functional units is above {max:e}: no footprint covers that many (the score \
         would be a vanishing number of grams)",
        max = FunctionalUnit::MAX_COUNT
    )]
    TooMany(f64),
}

impl FunctionalUnit {
    /// The least R: a millionth of a unit. `--per "1e-300 requests"` gave an SCI of 1e299
    /// gCO2e per request, exit 0 (hostile test); a fraction of a unit stays meaningful (`0.5
    /// epoch`), a millionth of one is a slip. With every carbon figure at most 1e100 kg (the
    /// footprint check) the score stays finite: 1e100 kg x 1000 / 1e-6 = 1e109 g.
    pub const MIN_COUNT: f64 = 1e-6;

    /// The most R: 1e18 units. `--per "1e300 requests"` scored 2.53e-298 gCO2e per request,
    /// exit 0 (hostile round 4, item 7). The largest functional units in use are tokens: a
    /// whole provider serves of the order of 1e13 tokens a day, 1e16 a year, so a footprint
    /// over 1e18 of anything is a slip of the exponent.
    pub const MAX_COUNT: f64 = 1e18;

    /// Reads `N UNIT` (`1000 requests`, `1 training run`). N is a count as every count flag
    /// reads it: scientific notation and the suffixes `k`, `M`, `B`/`G`, `T` (`1M requests`,
    /// `2.5k requests`, `1e6 requests`), thousands separators `,` and `_`; a suffix may also
    /// stand alone before the unit (`2 M requests` is 2,000,000 requests, never 2 "M requests").
    ///
    /// # Errors
    /// [`PerError::Malformed`] when N is not a single positive finite number or UNIT is
    /// missing or a lone suffix; [`PerError::TooFew`] when N < [`Self::MIN_COUNT`];
    /// [`PerError::TooMany`] when N > [`Self::MAX_COUNT`].
    pub fn parse(s: &str) -> Result<Self, PerError> {
        let (n, unit) = s
            .trim()
            .split_once(char::is_whitespace)
            .ok_or(PerError::Malformed)?;
        let count =
            parse_range(&n.replace(['_', ','], ""), Dim::Count).map_err(|_| PerError::Malformed)?;
        if !count.is_point() {
            return Err(PerError::Malformed);
        }
        let mut count = count.lo;
        let mut unit = unit.trim();
        if let Some((word, rest)) = unit.split_once(char::is_whitespace) {
            if let Ok(k) = parse_range(&format!("1{word}"), Dim::Count) {
                count *= k.lo;
                unit = rest.trim();
            }
        }
        // A unit that is itself a count suffix (`1 M`) names nothing: refused, not guessed.
        let bare_suffix = parse_range(&format!("1{unit}"), Dim::Count).is_ok();
        if !(count.is_finite() && count > 0.0) || unit.is_empty() || bare_suffix {
            return Err(PerError::Malformed);
        }
        if count < Self::MIN_COUNT {
            return Err(PerError::TooFew(count));
        }
        if count > Self::MAX_COUNT {
            return Err(PerError::TooMany(count));
        }
        Ok(Self {
            count,
            unit: unit.to_string(),
        })
    }
}

/// The SCI and its parts, as text. The score's P5/P50/P95 are the total carbon's (operational
/// location-based + embodied, summed in every draw) divided by R; E x I is the operational
/// carbon, and I is shown as E x I over E at the P50s.
#[must_use]
pub fn sci(r: &Report, per: &FunctionalUnit) -> String {
    let e = fig(r, Figure::FacilityEnergy);
    let ei = fig(r, Figure::OperationalCarbon);
    let m = fig(r, Figure::EmbodiedCarbon);
    let total = fig(r, Figure::Carbon);
    let i = if e.p50 > 0.0 {
        ei.p50 * 1000.0 / e.p50
    } else {
        0.0
    };
    let g = |kg: f64| fmt_human(kg * 1000.0 / per.count);
    let one = per.unit.trim_end_matches('s');
    let mut out = String::new();
    let _ = writeln!(
        out,
        "SCI (Green Software Foundation, ISO/IEC 21031:2024) = ((E x I) + M) per R"
    );
    let _ = writeln!(
        out,
        "  E  energy (facility, incl. PUE)   {} kWh",
        fmt_human(e.p50)
    );
    let _ = writeln!(
        out,
        "  I  grid intensity, location-based {} gCO2e/kWh   (E x I = {} gCO2e)",
        fmt_human(i),
        fmt_human(ei.p50 * 1000.0)
    );
    let _ = writeln!(
        out,
        "  M  embodied emissions             {} gCO2e",
        fmt_human(m.p50 * 1000.0)
    );
    let _ = writeln!(
        out,
        "  R  functional units               {} {}",
        fmt_human(per.count),
        per.unit
    );
    let _ = writeln!(
        out,
        "SCI = {} gCO2e per {one} (P5 .. P95: {} .. {})",
        g(total.p50),
        g(total.p5),
        g(total.p95)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::{FunctionalUnit, PerError};

    #[test]
    fn functional_units_parse() {
        let f = FunctionalUnit::parse("1000 requests").expect("parses");
        assert_eq!((f.count, f.unit.as_str()), (1000.0, "requests"));
        let f = FunctionalUnit::parse(" 1 training run ").expect("parses");
        assert_eq!((f.count, f.unit.as_str()), (1.0, "training run"));
        assert!(FunctionalUnit::parse("requests").is_err());
        assert!(FunctionalUnit::parse("0 requests").is_err());
        assert!(FunctionalUnit::parse("-3 requests").is_err());
        assert!(FunctionalUnit::parse("1000").is_err());
    }

    #[test]
    fn functional_unit_counts_take_si_suffixes_and_are_never_misread() {
        // Hostile test: "1M requests" was refused and "2 M requests" read as 2 "M requests"
        // (an SCI per "M request", 10^6 x the per-request score, exit 0).
        let n = |s: &str| FunctionalUnit::parse(s).ok().map(|f| (f.count, f.unit));
        assert_eq!(n("1M requests"), Some((1e6, "requests".into())));
        assert_eq!(n("2 M requests"), Some((2e6, "requests".into())));
        assert_eq!(n("2.5k requests"), Some((2500.0, "requests".into())));
        assert_eq!(n("1e6 requests"), Some((1e6, "requests".into())));
        assert_eq!(n("1,000,000 requests"), Some((1e6, "requests".into())));
        assert_eq!(n("3 B tokens"), Some((3e9, "tokens".into())));
        // A word that is not a suffix stays in the unit.
        assert_eq!(n("1 training run"), Some((1.0, "training run".into())));
        assert_eq!(n("1 Mrequests"), Some((1.0, "Mrequests".into())));
        // A range, a lone suffix, an unknown suffix: refused.
        assert_eq!(n("1..2 requests"), None);
        assert_eq!(n("1 M"), None);
        assert_eq!(n("1X requests"), None);
    }

    #[test]
    fn a_count_below_a_millionth_of_a_unit_is_refused() {
        // Hostile test: R = 1e-300 requests made the SCI 1e299 gCO2e per request, exit 0.
        assert_eq!(
            FunctionalUnit::parse("1e-300 requests"),
            Err(PerError::TooFew(1e-300))
        );
        assert_eq!(
            FunctionalUnit::parse("1e-7 requests"),
            Err(PerError::TooFew(1e-7))
        );
        // A millionth and a fraction of a unit stay: 0.5 epoch is half an epoch.
        assert_eq!(
            FunctionalUnit::parse("1e-6 requests").map(|f| f.count),
            Ok(1e-6)
        );
        assert_eq!(FunctionalUnit::parse("0.5 epoch").map(|f| f.count), Ok(0.5));
        // A unit named x is a unit (the brief leaves `5 x` alone).
        assert_eq!(FunctionalUnit::parse("5 x").map(|f| f.unit), Ok("x".into()));
    }

    #[test]
    fn a_count_above_1e18_units_is_refused() {
        // Hostile round 4, item 7: R = 1e300 requests scored 2.53e-298 gCO2e per request.
        assert_eq!(
            FunctionalUnit::parse("1e300 requests"),
            Err(PerError::TooMany(1e300))
        );
        // 2 x 1e18 through a lone suffix (`2 M` of 1e12) is past it too.
        assert_eq!(
            FunctionalUnit::parse("2e12 M tokens"),
            Err(PerError::TooMany(2e18))
        );
        // A year of a whole provider's tokens (1e16) and the bound itself stay.
        assert_eq!(
            FunctionalUnit::parse("1e16 tokens").map(|f| f.count),
            Ok(1e16)
        );
        assert_eq!(
            FunctionalUnit::parse("1e18 tokens").map(|f| f.count),
            Ok(1e18)
        );
    }
}
