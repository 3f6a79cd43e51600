//! Physical quantities as types, so that a unit never lives only in a comment.
//!
//! Every type is a thin `f64` newtype in one fixed unit (the unit is in the name). Conversions
//! between types are explicit functions or typed operators (`Watts * Hours = WattHours`).

use serde::{Deserialize, Serialize};
use std::ops::{Add, AddAssign, Div, Mul, Sub};

/// A quantity in one fixed unit: what [`crate::uncertainty::UnitRange`] ranges over.
pub trait Quantity: Copy {
    /// The unit symbol (`g/kWh`).
    const UNIT: &'static str;
    /// The quantity of `v` in this unit.
    fn of(v: f64) -> Self;
    /// The raw value in this unit.
    fn raw(self) -> f64;
}

macro_rules! unit {
    ($(#[$doc:meta])* $name:ident, $symbol:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub f64);

        impl $name {
            /// The unit symbol this type is expressed in.
            pub const SYMBOL: &'static str = $symbol;
            /// The raw value in this type's unit.
            #[must_use]
            pub fn value(self) -> f64 {
                self.0
            }
        }
        impl Quantity for $name {
            const UNIT: &'static str = $symbol;
            fn of(v: f64) -> Self {
                Self(v)
            }
            fn raw(self) -> f64 {
                self.0
            }
        }
        impl Add for $name {
            type Output = Self;
            fn add(self, o: Self) -> Self {
                Self(self.0 + o.0)
            }
        }
        impl AddAssign for $name {
            fn add_assign(&mut self, o: Self) {
                self.0 += o.0;
            }
        }
        impl Sub for $name {
            type Output = Self;
            fn sub(self, o: Self) -> Self {
                Self(self.0 - o.0)
            }
        }
        impl Mul<f64> for $name {
            type Output = Self;
            fn mul(self, k: f64) -> Self {
                Self(self.0 * k)
            }
        }
        impl Div<f64> for $name {
            type Output = Self;
            fn div(self, k: f64) -> Self {
                Self(self.0 / k)
            }
        }
        impl std::iter::Sum for $name {
            fn sum<I: Iterator<Item = Self>>(it: I) -> Self {
                Self(it.map(|x| x.0).sum())
            }
        }
    };
}

unit!(/// Energy in joules.
    Joules, "J");
unit!(/// Energy in kilowatt-hours.
    KilowattHours, "kWh");
unit!(/// Power in watts.
    Watts, "W");
unit!(/// Time in seconds.
    Seconds, "s");
unit!(/// Time in hours.
    Hours, "h");
unit!(/// Mass of CO2-equivalent in grams.
    GramsCo2e, "gCO2e");
unit!(/// Mass of CO2-equivalent in kilograms.
    KgCo2e, "kgCO2e");
unit!(/// Carbon intensity of electricity, grams CO2e per kWh.
    GramsPerKwh, "g/kWh");
unit!(/// Volume of water in litres.
    Litres, "L");
unit!(/// Water per unit of energy, litres per kWh.
    LitresPerKwh, "L/kWh");
unit!(/// Floating-point operations (a count).
    Flops, "FLOP");
unit!(/// Compute throughput, floating-point operations per second.
    FlopsPerSecond, "FLOP/s");
unit!(/// Memory in bytes.
    Bytes, "B");
unit!(/// Memory bandwidth, bytes per second.
    BytesPerSecond, "B/s");
unit!(/// Price of electricity per kWh, in the currency named alongside it.
    PricePerKwh, "/kWh");

/// Seconds in an hour.
pub const SECONDS_PER_HOUR: f64 = 3600.0;
/// Hours in a (non-leap) year, the period used for annual figures.
pub const HOURS_PER_YEAR: f64 = 8760.0;
/// Joules in a kilowatt-hour.
pub const JOULES_PER_KWH: f64 = 3.6e6;

impl From<Joules> for KilowattHours {
    fn from(j: Joules) -> Self {
        Self(j.0 / JOULES_PER_KWH)
    }
}
impl From<KilowattHours> for Joules {
    fn from(e: KilowattHours) -> Self {
        Self(e.0 * JOULES_PER_KWH)
    }
}
impl From<Seconds> for Hours {
    fn from(s: Seconds) -> Self {
        Self(s.0 / SECONDS_PER_HOUR)
    }
}
impl From<Hours> for Seconds {
    fn from(h: Hours) -> Self {
        Self(h.0 * SECONDS_PER_HOUR)
    }
}
impl From<GramsCo2e> for KgCo2e {
    fn from(g: GramsCo2e) -> Self {
        Self(g.0 / 1000.0)
    }
}

/// `W x h = Wh`, returned in kWh.
impl Mul<Hours> for Watts {
    type Output = KilowattHours;
    fn mul(self, h: Hours) -> KilowattHours {
        KilowattHours(self.0 * h.0 / 1000.0)
    }
}
/// `kWh x g/kWh = g`.
impl Mul<GramsPerKwh> for KilowattHours {
    type Output = GramsCo2e;
    fn mul(self, i: GramsPerKwh) -> GramsCo2e {
        GramsCo2e(self.0 * i.0)
    }
}
/// `kWh x L/kWh = L`.
impl Mul<LitresPerKwh> for KilowattHours {
    type Output = Litres;
    fn mul(self, w: LitresPerKwh) -> Litres {
        Litres(self.0 * w.0)
    }
}
/// `FLOP / (FLOP/s) = s`.
impl Div<FlopsPerSecond> for Flops {
    type Output = Seconds;
    fn div(self, r: FlopsPerSecond) -> Seconds {
        Seconds(self.0 / r.0)
    }
}
/// `B / (B/s) = s`.
impl Div<BytesPerSecond> for Bytes {
    type Output = Seconds;
    fn div(self, r: BytesPerSecond) -> Seconds {
        Seconds(self.0 / r.0)
    }
}
/// `W x s = J`.
impl Mul<Seconds> for Watts {
    type Output = Joules;
    fn mul(self, s: Seconds) -> Joules {
        Joules(self.0 * s.0)
    }
}
/// `kWh / h = kW`, returned in W.
impl Div<Hours> for KilowattHours {
    type Output = Watts;
    fn div(self, h: Hours) -> Watts {
        Watts(self.0 * 1000.0 / h.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_products() {
        // 700 W x 24 h = 16.8 kWh
        assert!(((Watts(700.0) * Hours(24.0)).0 - 16.8).abs() < 1e-12);
        // 2 kWh x 400 g/kWh = 800 g
        assert_eq!((KilowattHours(2.0) * GramsPerKwh(400.0)).0, 800.0);
        // 3.6 MJ = 1 kWh
        assert_eq!(KilowattHours::from(Joules(3.6e6)).0, 1.0);
        // 1e18 FLOP at 1e15 FLOP/s = 1000 s
        assert_eq!((Flops(1e18) / FlopsPerSecond(1e15)).0, 1000.0);
    }
}
