//! Plausible bounds of the site and power flags: a value outside them is almost always a unit
//! slip (kg/kWh typed as g/kWh, kW typed as W, a price per MWh typed per kWh), so the CLI warns,
//! naming the flag and the likely unit, and uses the value as given.
//!
//! The bounds are data, in [`BOUNDS`], each with the reason for it. They are drawn from the
//! embedded catalog: every catalog value lies inside them (no warning for a real figure), and for
//! the carbon intensities, powers and prices every catalog value multiplied or divided by 1000
//! lies outside them (a factor-of-1000 slip of any real figure warns). The unit tests check both
//! against the tables, so a new catalog row that breaks a bound fails the build.

use crate::field::{Field, Msg};
use crate::uncertainty::Range;

/// A value as a user would type it: four significant figures, plain down to a millionth
/// (`0.0001`, not `1.000e-4`), with no thousands separators, so that a suggested value can be
/// typed back.
fn fmt_num(v: f64) -> String {
    let a = v.abs();
    if !(1e-6..1e-3).contains(&a) {
        return crate::uncertainty::fmt_num(v);
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let digits = (3 - a.log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.digits$}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The plausible range of one flag's non-zero values, in the flag's base unit.
#[derive(Clone, Copy, Debug)]
pub struct Bound {
    /// The input (`intensity`).
    pub field: Field,
    /// The unit the bounds are in (the flag's bare-number unit), with a leading space or empty.
    pub unit: &'static str,
    /// The lowest plausible non-zero value.
    pub low: f64,
    /// The highest plausible value.
    pub high: f64,
    /// Why the low bound is where it is.
    pub why_low: &'static str,
    /// Why the high bound is where it is.
    pub why_high: &'static str,
    /// The likely slip when the value is too low, and how to write it (`{v}`: the value given,
    /// `{cur}`: the currency).
    pub slip_low: &'static str,
    /// The likely slip when the value is too high, and how to write it.
    pub slip_high: &'static str,
}

const INTENSITY_LOW: &str = "the cleanest grid in the catalog is 2.7 g/kWh (gcp:europe-north2, \
     Google 2024, direct) and national lifecycle figures start at 20 g/kWh (Lesotho, Ember/OWID \
     2022)";
const INTENSITY_HIGH: &str = "the most carbon-intensive grid in the catalog averages 1,306 g/kWh \
     (Turkmenistan, lifecycle, Ember/OWID 2022)";

/// The bounds, one row per flag.
pub const BOUNDS: &[Bound] = &[
    Bound {
        field: Field::Intensity,
        unit: " g/kWh",
        low: 2.0,
        high: 1_500.0,
        why_low: INTENSITY_LOW,
        why_high: INTENSITY_HIGH,
        slip_low: "if it is in kg/kWh, write {v}kg/kWh",
        slip_high: "a bare number is in g/kWh: check the unit written with it",
    },
    Bound {
        field: Field::MarketIntensity,
        unit: " g/kWh",
        low: 2.0,
        high: 1_500.0,
        why_low: INTENSITY_LOW,
        why_high: INTENSITY_HIGH,
        slip_low: "if it is in kg/kWh, write {v}kg/kWh",
        slip_high: "a bare number is in g/kWh: check the unit written with it",
    },
    Bound {
        field: Field::Pue,
        unit: "",
        low: 1.0,
        high: 3.0,
        why_low: "PUE is facility energy over IT energy, never below 1",
        why_high: "the industry average is about 1.56 (Uptime Institute 2024) and the \
                   least efficient profile in the catalog is 1.67 (air-cooled, Lei et al. 2025)",
        slip_low: "PUE is facility energy / IT energy",
        slip_high: "check that it is facility / IT energy, not a percentage overhead",
    },
    Bound {
        field: Field::Wue,
        unit: " L/kWh",
        low: 0.005,
        high: 8.0,
        why_low: "the lowest non-zero WUE in the catalog is 0.01 L/kWh (air-cooled, Lei et al. \
                  2025) and the highest written in m3/kWh would be 0.0034",
        why_high: "the highest WUE in the catalog is 3.4 L/kWh (evaporative cooling, Lei et al. \
                   2025)",
        slip_low: "a bare number is in L/kWh; if it is in m3/kWh, multiply by 1000",
        slip_high: "if it is in mL/kWh, write {v}mL/kWh; in gal/MWh, {v}gal/MWh",
    },
    Bound {
        field: Field::Ewif,
        unit: " L/kWh",
        low: 0.01,
        high: 100.0,
        why_low: "the lowest grid average in the catalog is 0.042 L/kWh (Falkland Islands) and \
                  no grid runs on wind alone",
        why_high: "grid averages in the catalog stay below 38 L/kWh (hydro-only grids, Argonne) \
                   and the global weighted average is 15 L/kWh (Mekonnen et al. 2015)",
        slip_low: "a bare number is in L/kWh; if it is in m3/kWh, multiply by 1000",
        slip_high: "if it is in gal/MWh, write {v}gal/MWh; in L/MWh, divide by 1000",
    },
    Bound {
        field: Field::Price,
        unit: " /kWh",
        low: 0.01,
        high: 2.0,
        why_low: "the lowest price in the catalog is 0.0575 USD/kWh (New Mexico industrial, EIA \
                  2023) and the highest written per Wh would be 0.0004",
        why_high: "the highest price in the catalog is 0.39 USD/kWh (Hawaii commercial, EIA \
                   2023)",
        slip_low: "a bare price is per kWh; if it is per Wh, multiply by 1000",
        slip_high: "if it is per MWh, write {v}{cur}/MWh (and 12 cents is 0.12)",
    },
    Bound {
        field: Field::GpuPower,
        unit: " W",
        low: 10.0,
        high: 5_000.0,
        why_low: "accelerators in the catalog draw 70-1,200 W (NVIDIA T4 to B200)",
        why_high: "accelerators in the catalog draw 70-1,200 W (NVIDIA T4 to B200)",
        slip_low: "a bare number is in W; if it is in kW, write {v}kW",
        slip_high: "a bare number is in W: check the unit written with it",
    },
    Bound {
        field: Field::ServerPower,
        unit: " W",
        low: 50.0,
        high: 250_000.0,
        why_low: "systems in the catalog draw 3.5-120 kW (DGX-1 to a GB200 NVL72 rack), and a \
                  CPU-only server draws at least about 100 W",
        why_high: "the largest system in the catalog is a GB200 NVL72 rack at 120 kW",
        slip_low: "a bare number is in W; if it is in kW, write {v}kW",
        slip_high: "a bare number is in W: check the unit written with it",
    },
    Bound {
        field: Field::RackPower,
        unit: " W",
        low: 500.0,
        high: 1_000_000.0,
        why_low: "rack densities in the catalog are 20-252 kW (air-cooled to immersion)",
        why_high: "rack densities in the catalog are 20-252 kW (air-cooled to immersion)",
        slip_low: "a bare number is in W; if it is in kW, write {v}kW",
        slip_high: "a bare number is in W: check the unit written with it",
    },
    Bound {
        field: Field::ItPower,
        unit: " W",
        low: 100.0,
        high: 10e9,
        why_low: "a fleet draws at least what one server does (about 100 W for the smallest)",
        why_high: "the largest data-centre campuses announced are a few GW",
        slip_low: "a bare number is in W; if it is in MW, write {v}MW (or {v}kW)",
        slip_high: "a bare number is in W: check the unit written with it",
    },
    Bound {
        field: Field::CpuTdp,
        unit: " W",
        low: 3.0,
        high: 5_000.0,
        why_low: "CPUs in the catalog are rated 135-350 W a socket, and the smallest laptop and \
                  single-board CPUs about 5-15 W",
        why_high: "an eight-socket server of the largest CPUs is rated about 4 kW",
        slip_low: "a bare number is in W; if it is in kW, write {v}kW",
        slip_high: "a bare number is in W (the rating of all the machine's CPUs together)",
    },
];

/// Currencies the `price` bounds apply to: those worth roughly half to one and a half US
/// dollars, where a price per kWh lies in the same range. Others (JPY, INR, KRW ...) are not
/// checked.
pub const PRICE_CURRENCIES: &[&str] = &["USD", "EUR", "GBP", "CHF", "CAD", "AUD", "NZD", "SGD"];

/// The bound of a flag.
#[must_use]
pub fn bound(field: Field) -> Option<&'static Bound> {
    BOUNDS.iter().find(|b| b.field == field)
}

impl Bound {
    /// Whether one value is plausible. Exactly 0 always is: zero is zero in every unit, so it
    /// cannot be a unit slip (a 100% carbon-free contract, water-free cooling); where 0 is
    /// impossible (a power) the estimate refuses it with an error.
    #[must_use]
    pub fn contains(&self, v: f64) -> bool {
        v == 0.0 || (self.low..=self.high).contains(&v)
    }

    /// The warning for a value or range outside the bounds, naming the flag and the likely unit;
    /// `None` when both ends are plausible (or not finite: those are rejected elsewhere).
    #[must_use]
    pub fn check(&self, r: &Range) -> Option<Msg> {
        let given = if r.is_point() {
            format!("{}{}", fmt_num(r.lo), self.unit)
        } else {
            r.display(self.unit.trim_start())
        };
        // A unit slip shifts both ends of a range: it is suggested (for the whole range) only
        // when both ends are out on the same side; otherwise only the odd end is pointed at.
        let whole = |v: f64| {
            if r.is_point() {
                fmt_num(v)
            } else {
                format!("{}..{}", fmt_num(r.lo), fmt_num(r.hi))
            }
        };
        let slip = |text: &str, v: f64| text.replace("{v}", &whole(v));
        let low_out = |v: f64| v.is_finite() && !self.contains(v) && v < self.low;
        let high_out = |v: f64| v.is_finite() && !self.contains(v) && v > self.high;
        if low_out(r.lo) {
            let (what, advice) = if r.is_point() || low_out(r.hi) {
                (given.clone(), slip(self.slip_low, r.lo))
            } else {
                (
                    format!("{given} has its low end, which"),
                    "check that end of the range".to_string(),
                )
            };
            return Some(
                format!(
                    "{} {what} is below {}{} ({}): {advice}; it is used as given",
                    self.field.reference(),
                    fmt_num(self.low),
                    self.unit,
                    self.why_low,
                )
                .into(),
            );
        }
        if high_out(r.hi) {
            let (what, advice) = if r.is_point() || high_out(r.lo) {
                (given.clone(), slip(self.slip_high, r.hi))
            } else {
                (
                    format!("{given} has its high end, which"),
                    "check that end of the range".to_string(),
                )
            };
            return Some(
                format!(
                    "{} {what} is above {}{} ({}): {advice}; it is used as given",
                    self.field.reference(),
                    fmt_num(self.high),
                    self.unit,
                    self.why_high,
                )
                .into(),
            );
        }
        None
    }
}

/// The warning for a flag's value, if the flag has bounds and the value is outside them.
#[must_use]
pub fn check(field: Field, r: &Range) -> Option<Msg> {
    bound(field)?.check(r)
}

/// The warning for a `price` in `currency` (`None`: a bare number, read as USD).
#[must_use]
pub fn check_price(r: &Range, currency: Option<&str>) -> Option<Msg> {
    let cur = currency.unwrap_or("USD");
    if !PRICE_CURRENCIES.contains(&cur) {
        return None;
    }
    check(Field::Price, r).map(|w| {
        w.template()
            .replace(" /kWh", &format!(" {cur}/kWh"))
            .replace("{cur}", if currency.is_some() { cur } else { "" })
            .into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Catalog, Row};
    use proptest::prelude::*;

    #[test]
    fn small_values_print_plainly_and_large_ones_without_separators() {
        assert_eq!(fmt_num(0.0001), "0.0001");
        assert_eq!(fmt_num(0.000_123_4), "0.0001234");
        assert_eq!(fmt_num(2e-6), "0.000002");
        assert_eq!(fmt_num(5000.0), "5000");
        assert_eq!(fmt_num(1e-9), "1.000e-9");
    }

    fn b(field: Field) -> &'static Bound {
        bound(field).expect("bound")
    }

    /// Every catalog value lies inside its flag's bounds: no warning for a real figure.
    #[test]
    fn catalog_values_lie_inside_the_bounds() {
        let c = Catalog::embedded();
        let intensities: Vec<f64> = c
            .grids()
            .expect("t")
            .rows()
            .expect("rows")
            .iter()
            .filter_map(|g| g.intensity_g_per_kwh)
            // The Central African Republic's 0 (OWID, 0.15 TWh of hydro) is a data artefact.
            .filter(|v| *v > 0.0)
            .collect();
        assert!(intensities.len() > 300);
        for v in &intensities {
            assert!(b(Field::Intensity).contains(*v), "intensity {v}");
            // A factor-of-1000 slip either way of any real grid warns.
            assert!(
                !b(Field::Intensity).contains(v / 1000.0),
                "intensity {v}/1000"
            );
            assert!(
                !b(Field::Intensity).contains(v * 1000.0),
                "intensity {v}x1000"
            );
        }
        let ewifs = c.grids().expect("t").rows().expect("rows");
        for g in ewifs {
            if let Some(w) = g.ewif_l_per_kwh {
                assert!(b(Field::Ewif).contains(w), "ewif {} {w}", g.key);
            }
        }
        for d in c.datacenters().expect("t").rows().expect("rows") {
            for v in [d.wue_low, d.wue_high].into_iter().flatten() {
                assert!(b(Field::Wue).contains(v), "wue {} {v}", d.name);
                if v > 0.0 {
                    assert!(!b(Field::Wue).contains(v / 1000.0), "wue {v}/1000");
                    assert!(!b(Field::Wue).contains(v * 1000.0), "wue {v}x1000");
                }
            }
            for v in [d.pue_low, d.pue_high].into_iter().flatten() {
                assert!(b(Field::Pue).contains(v), "pue {} {v}", d.name);
            }
            if let Some(kw) = d.max_rack_kw {
                let w = kw * 1000.0;
                assert!(b(Field::RackPower).contains(w), "rack {w}");
                assert!(!b(Field::RackPower).contains(w / 1000.0), "rack {w}/1000");
                assert!(!b(Field::RackPower).contains(w * 1000.0), "rack {w}x1000");
            }
        }
        for a in c.accelerators().expect("t").rows().expect("rows") {
            if let Some(w) = a.board_power_w {
                assert!(b(Field::GpuPower).contains(w), "{} {w}", a.name());
                assert!(!b(Field::GpuPower).contains(w / 1000.0));
                assert!(!b(Field::GpuPower).contains(w * 1000.0));
            }
        }
        for s in c.servers().expect("t").rows().expect("rows") {
            if let Some(kw) = s.max_power_kw {
                let w = kw * 1000.0;
                assert!(b(Field::ServerPower).contains(w), "{} {w}", s.name);
                assert!(b(Field::ItPower).contains(w), "{} {w}", s.name);
                assert!(!b(Field::ServerPower).contains(w * 1000.0));
                // The GB200 NVL72 rack (120 kW) divided by 1000 is a plausible CPU server.
                if kw < 50.0 {
                    assert!(!b(Field::ServerPower).contains(w / 1000.0), "{}", s.name);
                }
            }
        }
        for s in c.servers().expect("t").rows().expect("rows") {
            if let Some(w) = s.cpu_tdp_w {
                let all = w * s.cpu_sockets.unwrap_or(1.0);
                assert!(b(Field::CpuTdp).contains(all), "{} {all}", s.name);
                assert!(!b(Field::CpuTdp).contains(all / 1000.0));
                assert!(!b(Field::CpuTdp).contains(all * 1000.0));
            }
        }
        for p in c.prices().expect("t").rows().expect("rows") {
            for v in [p.price_low, p.price_high] {
                assert!(
                    check_price(&Range::point(v), Some(&p.currency)).is_none(),
                    "{} {v}",
                    p.key
                );
                assert!(check_price(&Range::point(v / 1000.0), Some(&p.currency)).is_some());
                assert!(check_price(&Range::point(v * 1000.0), Some(&p.currency)).is_some());
            }
        }
    }

    #[test]
    fn a_range_gets_a_unit_suggestion_only_when_both_ends_are_out() {
        let half = check(Field::Intensity, &Range::new(0.1, 500.0))
            .expect("warns")
            .to_string();
        assert!(!half.contains("kg/kWh"), "{half}");
        assert!(half.contains("low end"), "{half}");
        let both = check(Field::Intensity, &Range::new(0.1, 0.5))
            .expect("warns")
            .to_string();
        assert!(both.contains("write 0.1..0.5kg/kWh"), "{both}");
        let high = check(Field::Intensity, &Range::new(500.0, 5000.0))
            .expect("warns")
            .to_string();
        assert!(high.contains("high end"), "{high}");
        assert!(check(Field::Intensity, &Range::new(100.0, 500.0)).is_none());
    }

    #[test]
    fn the_warning_names_the_flag_and_the_likely_unit() {
        let w = check(Field::Intensity, &Range::point(0.4)).expect("warns");
        assert_eq!(w.fields(), vec![Field::Intensity]);
        let w = w.to_string();
        assert!(
            w.starts_with("intensity 0.4 g/kWh") && w.contains("0.4kg/kWh"),
            "{w}"
        );
        let w = check(Field::ServerPower, &Range::point(10.2))
            .expect("warns")
            .to_string();
        assert!(w.contains("10.2kW"), "{w}");
        let w = check_price(&Range::point(95.0), Some("EUR"))
            .expect("warns")
            .to_string();
        assert!(w.contains("EUR/kWh") && w.contains("95EUR/MWh"), "{w}");
        assert!(check_price(&Range::point(30.0), Some("JPY")).is_none());
        assert!(check(Field::MarketIntensity, &Range::point(0.0)).is_none());
        assert!(check(Field::Intensity, &Range::point(0.0)).is_none());
        assert!(check(Field::Intensity, &Range::new(300.0, 500.0)).is_none());
        assert!(check(Field::Intensity, &Range::new(0.3, 500.0)).is_some());
    }

    fn any_bound() -> impl Strategy<Value = &'static Bound> {
        (0..BOUNDS.len()).prop_map(|i| &BOUNDS[i])
    }

    proptest! {
        /// Any value outside a flag's bounds warns (naming the flag); any value inside does not.
        #[test]
        fn outside_warns_inside_does_not(b in any_bound(), t in 0.0f64..1.0, e in -6.0f64..12.0) {
            let inside = b.low + t * (b.high - b.low);
            prop_assert!(b.check(&Range::point(inside)).is_none(), "{} {inside}", b.field);
            let v = 10f64.powf(e);
            let w = b.check(&Range::point(v));
            if b.contains(v) {
                prop_assert!(w.is_none(), "{} {v}", b.field);
            } else {
                let w = w.expect("a warning");
                let first = w.fields().first().copied();
                prop_assert_eq!(first, Some(b.field), "{}", w);
            }
            prop_assert!(b.check(&Range::point(0.0)).is_none(), "{} 0", b.field);
        }
    }
}
