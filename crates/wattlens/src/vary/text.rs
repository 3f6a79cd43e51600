//! Cells of the what-if table: a figure as `P50 (P5..P95) unit` and a change as a signed
//! `P50 (P5..P95) unit`, each in the unit its size calls for (the terminal's number format,
//! [`crate::uncertainty::fmt_human`]).

use crate::figure::Figure;
use crate::report::{cell, unit_for};
use crate::uncertainty::Percentiles;

/// `P50 (P5..P95) unit`, or `P50 unit` for a point; the unit from the P50.
#[must_use]
pub fn range_cell(f: Figure, p: &Percentiles, currency: &str) -> String {
    let scale = f.scale();
    let (k, unit) = unit_for(scale, p.p50, currency);
    let c = |v: f64| cell(scale, v * k);
    with_unit(
        if p.p5 == p.p95 {
            c(p.p50)
        } else {
            format!("{} ({}..{})", c(p.p50), c(p.p5), c(p.p95))
        },
        &unit,
    )
}

/// A change `variant - baseline`: signed, `+P50 (P5..P95) unit`; the unit from the largest of
/// the three (a P50 of 0 in a wide range still gets the range's unit); `0` for no change.
#[must_use]
pub fn change_cell(f: Figure, p: &Percentiles, currency: &str) -> String {
    if p.p5 == 0.0 && p.p50 == 0.0 && p.p95 == 0.0 {
        return "0".into();
    }
    let scale = f.scale();
    let big = p.p5.abs().max(p.p50.abs()).max(p.p95.abs());
    let (k, unit) = unit_for(scale, big, currency);
    let c = |v: f64| {
        let s = cell(scale, v * k);
        if v > 0.0 {
            format!("+{s}")
        } else {
            s
        }
    };
    with_unit(
        if p.p5 == p.p95 {
            c(p.p50)
        } else {
            format!("{} ({}..{})", c(p.p50), c(p.p5), c(p.p95))
        },
        &unit,
    )
}

/// The unit after the number, with a space unless it is a percent sign.
fn with_unit(text: String, unit: &str) -> String {
    match unit {
        "" => text,
        "%" => format!("{text}%"),
        u => format!("{text} {u}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_pick_units_and_signs() {
        let p = Percentiles {
            p5: 0.337,
            p50: 0.402,
            p95: 0.467,
        };
        // 0.402 kWh is shown in Wh.
        assert_eq!(
            range_cell(Figure::FacilityEnergy, &p, ""),
            "402 (337..467) Wh"
        );
        assert_eq!(
            range_cell(Figure::Cost, &Percentiles::point(0.04), "USD"),
            "0.04 USD"
        );
        let d = Percentiles {
            p5: -1500.0,
            p50: -20.0,
            p95: 300.0,
        };
        // The unit from the largest magnitude, 1,500 kg: t.
        assert_eq!(
            change_cell(Figure::Carbon, &d, ""),
            "-0.02 (-1.5..+0.3) tCO2e"
        );
        assert_eq!(
            change_cell(Figure::Carbon, &Percentiles::point(0.0), ""),
            "0"
        );
    }
}
