//! Data centres: PUE from an energy breakdown (`it`, `cooling`, `power`, `other`; shares sum to
//! 1; `PUE = 1 / it`) and back, facility energy and water from an IT load, cooling presets, and
//! rack power density with the cooling it needs.

use super::power::Split;
use super::EstimateError;
use crate::explain::{Step, StepSink};
use crate::figure::Figure;
use crate::footprint::{Busy, Footprint, ItEnergy, Site};
use crate::record::Record;
use crate::result::ReportKind;
use crate::runner::{Evaluate, Usage};
use crate::uncertainty::{fmt_input, Draw, Range};
use crate::units::{Hours, KilowattHours, Watts};

/// Shares of a data centre's total energy. `it + cooling + power + other = 1`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Breakdown {
    /// IT equipment (servers, storage, network).
    pub it: f64,
    /// Cooling.
    pub cooling: f64,
    /// Power conversion and distribution (UPS, transformers).
    pub power: f64,
    /// Everything else (lighting, offices).
    pub other: f64,
}

impl Breakdown {
    /// Parses `it=0.5,cooling=0.4,power=0.1` (missing parts are 0; shares or percentages).
    ///
    /// # Errors
    /// [`EstimateError::Invalid`] naming the breakdown when a part is unknown, malformed,
    /// negative, or the shares do not sum to 1 (within 0.01), or IT is 0.
    pub fn parse(text: &str) -> Result<Self, EstimateError> {
        let bad = |m: String| EstimateError::Invalid {
            field: crate::field::Field::Breakdown,
            message: m.into(),
        };
        let mut b = Breakdown {
            it: 0.0,
            cooling: 0.0,
            power: 0.0,
            other: 0.0,
        };
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').ok_or_else(|| {
                bad(format!(
                    "{part:?} is not NAME=SHARE (e.g. it=0.5,cooling=0.4,power=0.1)"
                ))
            })?;
            let v = crate::input::parse_range(v, crate::input::Dim::Fraction)
                .map_err(|e| bad(e.to_string()))?;
            if !v.is_point() {
                return Err(bad(format!("{part:?}: shares must be single values")));
            }
            let slot = match k.trim().to_ascii_lowercase().as_str() {
                "it" => &mut b.it,
                "cooling" => &mut b.cooling,
                "power" | "power-conversion" | "ups" => &mut b.power,
                "other" | "lighting" => &mut b.other,
                other => {
                    return Err(bad(format!(
                        "unknown part {other:?}; use it, cooling, power, other"
                    )))
                }
            };
            *slot = v.lo;
        }
        let sum = b.it + b.cooling + b.power + b.other;
        if (sum - 1.0).abs() > 0.01 {
            let advice = if sum < 1.0 {
                format!(
                    "add the missing share (e.g. other={}) or scale the shares so they sum to 1",
                    fmt_input(b.other + 1.0 - sum)
                )
            } else {
                "scale the shares down so they sum to 1 (each share over their sum)".to_string()
            };
            return Err(bad(format!(
                "the shares sum to {}, not 1: {advice}",
                fmt_input(sum)
            )));
        }
        // An IT share under 1% is a PUE above 100: no facility runs so (and a share near 0
        // would make every figure overflow).
        if b.it < 0.01 {
            return Err(bad(format!(
                "the IT share must be at least 0.01 (a PUE of at most 100), got {}",
                fmt_input(b.it)
            )));
        }
        Ok(b)
    }

    /// `PUE = total / IT = 1 / it`.
    #[must_use]
    pub fn pue(&self) -> f64 {
        1.0 / self.it
    }

    /// The breakdown implied by a PUE, splitting the overhead `1 - 1/PUE` in the proportions of
    /// `overhead` (cooling, power, other; normalised).
    #[must_use]
    pub fn from_pue(pue: f64, overhead: (f64, f64, f64)) -> Self {
        let it = 1.0 / pue;
        let (c, p, o) = overhead;
        let s = (c + p + o).max(f64::MIN_POSITIVE);
        let rest = 1.0 - it;
        Breakdown {
            it,
            cooling: rest * c / s,
            power: rest * p / s,
            other: rest * o / s,
        }
    }
}

/// A data centre to estimate.
#[derive(Clone, Debug)]
pub struct DatacenterSpec {
    /// Average IT power, W.
    pub it_power: Range,
    /// The period, hours.
    pub hours: Range,
    /// How IT energy splits into components.
    pub split: Split,
    /// Overhead proportions (cooling, power, other) used to split `E_fac - E_it`.
    pub overhead: (f64, f64, f64),
    /// Servers and accelerators, for embodied carbon (0 when unknown).
    pub servers: Range,
    /// Accelerators.
    pub accelerators: Range,
    /// Where it runs.
    pub site: Site,
}

impl Evaluate for DatacenterSpec {
    /// The IT power (W) and IT energy as drawn.
    type State = (f64, KilowattHours);

    fn kind(&self) -> ReportKind {
        ReportKind::Datacenter
    }
    fn site(&self) -> &Site {
        &self.site
    }
    fn evaluate<T: StepSink>(
        &self,
        d: &mut Draw,
        t: &mut T,
        _rec: &mut Record<'_>,
    ) -> Usage<(f64, KilowattHours)> {
        let w = d.value(&self.it_power);
        let hours = Hours(d.value(&self.hours));
        let (servers, accels) = (d.value(&self.servers), d.value(&self.accelerators));
        let total = Watts(w) * hours;
        t.step(|| {
            Step::new(
                "it_energy",
                format!(
                    "E_it = P_it x hours = {} W x {} h",
                    fmt_input(w),
                    fmt_input(hours.0)
                ),
                total.0,
                "kWh",
            )
        });
        let (fa, fh, fr) = self.split.draw(d);
        let it = ItEnergy {
            accelerators: total * fa,
            host: total * fh,
            rest: total * fr,
        };
        let busy = Busy {
            accelerators: accels,
            servers,
            period: hours,
        };
        Usage {
            it,
            busy,
            state: (w, total),
        }
    }

    fn finish<T: StepSink>(
        &self,
        (w, total): (f64, KilowattHours),
        fp: &Footprint,
        t: &mut T,
        rec: &mut Record<'_>,
    ) {
        let (fac, hours) = (fp.facility, fp.busy.period);
        let pue = fac.0 / total.0;
        let b = Breakdown::from_pue(pue, self.overhead);
        let overhead = fac.0 - total.0;
        rec.put(Figure::Pue, pue);
        rec.put(Figure::ItPower, w / 1000.0);
        rec.put(Figure::FacilityPower, w * pue / 1000.0);
        rec.put(Figure::EnergyPerYear, fac.0 * 8760.0 / hours.0);
        let s = b.cooling + b.power + b.other;
        let k = if s > 0.0 { overhead / s } else { 0.0 };
        rec.put(Figure::CoolingEnergy, b.cooling * k);
        rec.put(Figure::PowerConversionEnergy, b.power * k);
        rec.put(Figure::OtherEnergy, b.other * k);
        t.step(|| {
            Step::new(
                "breakdown",
                format!(
                    "shares of facility energy: IT 1/PUE = {}, cooling {}, power {}, other {}",
                    fmt_input(b.it),
                    fmt_input(b.cooling),
                    fmt_input(b.power),
                    fmt_input(b.other)
                ),
                b.it,
                "",
            )
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iea_breakdown_gives_pue_two() {
        // IT 50%, cooling 40%, power 10%: PUE = 1 / 0.5 = 2
        let b = Breakdown::parse("it=0.5,cooling=0.4,power=0.1").expect("parses");
        assert!((b.pue() - 2.0).abs() < 1e-12);
        // and back: PUE 2 with overhead 4:1 gives the same shares
        let back = Breakdown::from_pue(2.0, (0.4, 0.1, 0.0));
        assert!((back.cooling - 0.4).abs() < 1e-12 && (back.power - 0.1).abs() < 1e-12);
    }

    #[test]
    fn breakdown_rejects_bad_shares() {
        for bad in [
            "it=0.5,cooling=0.4",
            "it=0,cooling=1",
            "it=0.5,fans=0.5",
            "it=half",
            "it=-0.5,cooling=1.5",
            "it=0.2..0.5,cooling=0.5",
        ] {
            assert!(Breakdown::parse(bad).is_err(), "{bad}");
        }
        assert!(Breakdown::parse("it=50%,cooling=40%,power=10%").is_ok());
    }
}
