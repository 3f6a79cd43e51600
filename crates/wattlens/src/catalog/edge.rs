//! Two tables for the levers of issue 12: personal and edge devices that run inference on
//! themselves (`devices.csv`: phones, laptops, edge boards, with their ML-load power, memory
//! bandwidth, peaks, embodied carbon, service life and charger efficiencies), and the measured
//! points of the power-cap curves (`power_caps.csv`: for a cap as a fraction of board power, the
//! time and energy factors against the uncapped run). Both are embedded only, like the prices.

use super::check::{between, opt, ordered, FieldError, Validate};
use super::rows::{cite, row_impl, text};
use super::{Row, TableKind};
use crate::uncertainty::{fmt_input, Range};
use serde::{Deserialize, Serialize};

/// A phone, laptop or edge board that runs a model on itself.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// Canonical name.
    pub name: String,
    /// Other names, `|`-separated.
    #[serde(default, deserialize_with = "text")]
    pub aliases: Option<String>,
    /// `phone`, `laptop` or `edge-board`.
    #[serde(default, deserialize_with = "text")]
    pub kind: Option<String>,
    /// The system on chip.
    #[serde(default, deserialize_with = "text")]
    pub soc: Option<String>,
    /// Power of the SoC (and its memory) under sustained ML load, low end, W.
    pub ml_power_w_low: f64,
    /// Power under sustained ML load, high end, W.
    pub ml_power_w_high: f64,
    /// Where the ML-load power comes from.
    #[serde(default, deserialize_with = "text")]
    pub ml_power_source: Option<String>,
    /// Memory, GB.
    pub memory_gb: f64,
    /// Share of the memory one app (a model's weights and KV cache) may hold.
    pub memory_usable: f64,
    /// Where that share comes from.
    #[serde(default, deserialize_with = "text")]
    pub memory_usable_source: Option<String>,
    /// Peak memory bandwidth, GB/s.
    pub mem_bw_gb_s: f64,
    /// Dense INT8 peak of the NPU (or GPU), TOP/s, where published.
    #[serde(default)]
    pub int8_tops: Option<f64>,
    /// Dense FP16 peak, TFLOP/s, where published.
    #[serde(default)]
    pub fp16_tflops: Option<f64>,
    /// Embodied carbon of the device, low end, kgCO2e.
    pub embodied_kgco2e_low: f64,
    /// Embodied carbon, high end, kgCO2e.
    pub embodied_kgco2e_high: f64,
    /// Where the embodied range comes from.
    #[serde(default, deserialize_with = "text")]
    pub embodied_source: Option<String>,
    /// Service life, low end, years.
    pub lifetime_years_low: f64,
    /// Service life, high end, years.
    pub lifetime_years_high: f64,
    /// Where the service life comes from.
    #[serde(default, deserialize_with = "text")]
    pub lifetime_source: Option<String>,
    /// Wall-to-device efficiency of wired charging (or of the power supply), low end.
    pub charger_eff_low: f64,
    /// Wired charging efficiency, high end.
    pub charger_eff_high: f64,
    /// Wall-to-battery efficiency of wireless charging, low end, where the device charges so.
    #[serde(default)]
    pub wireless_eff_low: Option<f64>,
    /// Wireless charging efficiency, high end.
    #[serde(default)]
    pub wireless_eff_high: Option<f64>,
    /// Where the charger efficiencies come from.
    #[serde(default, deserialize_with = "text")]
    pub charger_source: Option<String>,
    /// datasheet, report, secondary, judgement.
    #[serde(default, deserialize_with = "text")]
    pub confidence: Option<String>,
    /// Source.
    #[serde(default, deserialize_with = "text")]
    pub source: Option<String>,
    /// Year of the source.
    #[serde(default, deserialize_with = "text")]
    pub year: Option<String>,
    /// Notes.
    #[serde(default, deserialize_with = "text")]
    pub notes: Option<String>,
}

/// `lo..hi` of two ordered ends.
fn range(lo: f64, hi: f64) -> Range {
    Range::new(lo.min(hi), lo.max(hi))
}

impl Device {
    /// Power under ML load, W.
    #[must_use]
    pub fn ml_power(&self) -> Range {
        range(self.ml_power_w_low, self.ml_power_w_high)
    }
    /// Embodied carbon, kgCO2e.
    #[must_use]
    pub fn embodied(&self) -> Range {
        range(self.embodied_kgco2e_low, self.embodied_kgco2e_high)
    }
    /// Service life, years.
    #[must_use]
    pub fn lifetime_years(&self) -> Range {
        range(self.lifetime_years_low, self.lifetime_years_high)
    }
    /// Wired charging (or power supply) efficiency.
    #[must_use]
    pub fn charger(&self) -> Range {
        range(self.charger_eff_low, self.charger_eff_high)
    }
    /// Wireless charging efficiency, where the device charges wirelessly.
    #[must_use]
    pub fn wireless(&self) -> Option<Range> {
        Some(range(self.wireless_eff_low?, self.wireless_eff_high?))
    }

    /// One line for `catalog list`.
    fn line(&self) -> String {
        format!(
            "{}, {} W under ML load, {} GB at {} GB/s, {} kgCO2e over {} years, {}",
            self.kind.as_deref().unwrap_or("-"),
            self.ml_power().display(""),
            fmt_input(self.memory_gb),
            fmt_input(self.mem_bw_gb_s),
            self.embodied().display(""),
            self.lifetime_years().display(""),
            self.confidence.as_deref().unwrap_or("-")
        )
    }
}

row_impl!(Device, TableKind::Devices, "devices.csv", name);

impl Validate for Device {
    fn validate(&self) -> Result<(), FieldError> {
        let watts = between(0.01, 1e4);
        let eff = between(0.01, 1.0);
        watts.check("ml_power_w_low", self.ml_power_w_low)?;
        watts.check("ml_power_w_high", self.ml_power_w_high)?;
        between(0.01, 1e5).check("memory_gb", self.memory_gb)?;
        between(0.01, 1e5).check("mem_bw_gb_s", self.mem_bw_gb_s)?;
        between(0.01, 1.0).check("memory_usable", self.memory_usable)?;
        opt("int8_tops", self.int8_tops, between(1e-3, 1e6))?;
        opt("fp16_tflops", self.fp16_tflops, between(1e-3, 1e6))?;
        between(0.0, 1e5).check("embodied_kgco2e_low", self.embodied_kgco2e_low)?;
        between(0.0, 1e5).check("embodied_kgco2e_high", self.embodied_kgco2e_high)?;
        between(0.05, 50.0).check("lifetime_years_low", self.lifetime_years_low)?;
        between(0.05, 50.0).check("lifetime_years_high", self.lifetime_years_high)?;
        eff.check("charger_eff_low", self.charger_eff_low)?;
        eff.check("charger_eff_high", self.charger_eff_high)?;
        opt("wireless_eff_low", self.wireless_eff_low, eff)?;
        opt("wireless_eff_high", self.wireless_eff_high, eff)?;
        for pair in [
            (
                ("ml_power_w_low", self.ml_power_w_low),
                ("ml_power_w_high", self.ml_power_w_high),
            ),
            (
                ("embodied_kgco2e_low", self.embodied_kgco2e_low),
                ("embodied_kgco2e_high", self.embodied_kgco2e_high),
            ),
            (
                ("lifetime_years_low", self.lifetime_years_low),
                ("lifetime_years_high", self.lifetime_years_high),
            ),
            (
                ("charger_eff_low", self.charger_eff_low),
                ("charger_eff_high", self.charger_eff_high),
            ),
        ] {
            ordered((pair.0 .0, Some(pair.0 .1)), (pair.1 .0, Some(pair.1 .1)))?;
        }
        ordered(
            ("wireless_eff_low", self.wireless_eff_low),
            ("wireless_eff_high", self.wireless_eff_high),
        )
    }
}

/// One measured point of a power-cap curve.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PowerCapPoint {
    /// Name (`compute-60`).
    pub name: String,
    /// Other names, `|`-separated.
    #[serde(default, deserialize_with = "text")]
    pub aliases: Option<String>,
    /// `compute` (training, prefill) or `memory` (memory-bound decode).
    pub class: String,
    /// The cap as a fraction of board power (TDP).
    pub cap_fraction: f64,
    /// Run time under the cap over the uncapped run time, low end (>= 1).
    pub time_factor_low: f64,
    /// Time factor, high end.
    pub time_factor_high: f64,
    /// Accelerator energy under the cap over the uncapped energy, low end.
    pub energy_factor_low: f64,
    /// Energy factor, high end.
    pub energy_factor_high: f64,
    /// The accelerator and work measured.
    #[serde(default, deserialize_with = "text")]
    pub measured_on: Option<String>,
    /// definition, paper, secondary.
    #[serde(default, deserialize_with = "text")]
    pub confidence: Option<String>,
    /// Source.
    #[serde(default, deserialize_with = "text")]
    pub source: Option<String>,
    /// Year of the source.
    #[serde(default, deserialize_with = "text")]
    pub year: Option<String>,
    /// Notes: the figures quoted.
    #[serde(default, deserialize_with = "text")]
    pub notes: Option<String>,
}

impl PowerCapPoint {
    /// Time factor.
    #[must_use]
    pub fn time(&self) -> Range {
        range(self.time_factor_low, self.time_factor_high)
    }
    /// Energy factor.
    #[must_use]
    pub fn energy(&self) -> Range {
        range(self.energy_factor_low, self.energy_factor_high)
    }

    /// One line for `catalog list`.
    fn line(&self) -> String {
        format!(
            "{}-bound, cap {}% of board power: time x{}, energy x{}, {}",
            self.class,
            fmt_input(self.cap_fraction * 100.0),
            self.time().display(""),
            self.energy().display(""),
            self.measured_on.as_deref().unwrap_or("-")
        )
    }
}

row_impl!(PowerCapPoint, TableKind::PowerCaps, "power_caps.csv", name);

impl Validate for PowerCapPoint {
    fn validate(&self) -> Result<(), FieldError> {
        if self.class != "compute" && self.class != "memory" {
            return Err(FieldError {
                field: "class",
                message: format!("must be compute or memory, got {:?}", self.class),
            });
        }
        between(0.05, 1.0).check("cap_fraction", self.cap_fraction)?;
        between(1.0, 10.0).check("time_factor_low", self.time_factor_low)?;
        between(1.0, 10.0).check("time_factor_high", self.time_factor_high)?;
        between(0.05, 10.0).check("energy_factor_low", self.energy_factor_low)?;
        between(0.05, 10.0).check("energy_factor_high", self.energy_factor_high)?;
        ordered(
            ("time_factor_low", Some(self.time_factor_low)),
            ("time_factor_high", Some(self.time_factor_high)),
        )?;
        ordered(
            ("energy_factor_low", Some(self.energy_factor_low)),
            ("energy_factor_high", Some(self.energy_factor_high)),
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::catalog::{Catalog, Row};

    #[test]
    fn devices_parse_with_sources_and_cover_the_kinds() {
        let c = Catalog::embedded();
        let rows = c.devices().expect("t").rows().expect("rows");
        for kind in ["phone", "laptop", "edge-board"] {
            let n = rows
                .iter()
                .filter(|d| d.kind.as_deref() == Some(kind))
                .count();
            assert!(n >= if kind == "phone" { 3 } else { 2 }, "{kind}: {n}");
        }
        for d in &rows {
            assert!(d.cite().len() > 10, "{} has no source", d.name);
            for s in [
                &d.embodied_source,
                &d.ml_power_source,
                &d.lifetime_source,
                &d.charger_source,
                &d.memory_usable_source,
            ] {
                assert!(s.as_deref().is_some_and(|s| s.len() > 10), "{}", d.name);
            }
        }
        let p = c.devices().expect("t").get("iphone-15-pro").expect("row");
        // A17 Pro: LPDDR5-6400 x 64 bit / 8 = 51.2 GB/s
        assert!((p.mem_bw_gb_s - 6400.0 * 64.0 / 8.0 / 1000.0).abs() < 1e-9);
        assert!(p.wireless().expect("wireless").hi < p.charger().lo);
    }

    #[test]
    fn power_cap_points_parse_and_each_class_is_uncapped_at_one() {
        let c = Catalog::embedded();
        let rows = c.power_caps().expect("t").rows().expect("rows");
        for class in ["compute", "memory"] {
            let top = rows
                .iter()
                .find(|p| p.class == class && (p.cap_fraction - 1.0).abs() < 1e-12)
                .expect("an uncapped point");
            assert_eq!((top.time().lo, top.energy().hi), (1.0, 1.0));
        }
        assert!(rows.iter().all(|p| p.cite().len() > 10));
    }
}
