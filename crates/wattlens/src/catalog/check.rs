//! Validation of catalog rows: every numeric field is finite, has the right sign and lies within
//! plausible bounds, and paired low/high fields are ordered. Embedded rows are checked when they
//! are parsed, user rows when their file is loaded; both with the same rules.

use super::rows::{Accelerator, Coefficient, Datacenter, Equivalent, Ewif, Grid, Model, Server};
use crate::uncertainty::fmt_num;

/// What is wrong with one field of a row.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    /// The field (a CSV column or TOML key).
    pub field: &'static str,
    /// What is wrong, with the value and the allowed bounds.
    pub message: String,
}

/// A row that can check its own values.
pub trait Validate {
    /// The first field that is not finite, has the wrong sign, lies outside plausible bounds or
    /// is out of order with its pair.
    ///
    /// # Errors
    /// The offending field and why.
    fn validate(&self) -> Result<(), FieldError>;
}

/// Allowed values of a field: `min <= v <= max`, finite; optionally whole.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    min: f64,
    max: f64,
    whole: bool,
}

/// Zero or more, at most `max`.
const fn non_negative(max: f64) -> Bounds {
    between(0.0, max)
}
/// `min..=max`.
pub(super) const fn between(min: f64, max: f64) -> Bounds {
    Bounds {
        min,
        max,
        whole: false,
    }
}
/// A whole number in `min..=max`.
const fn whole(min: f64, max: f64) -> Bounds {
    Bounds {
        min,
        max,
        whole: true,
    }
}

impl Bounds {
    /// The bounds in words: "a number from 0.001 to 1", "a whole number from 0 to 64".
    #[must_use]
    pub fn describe(&self) -> String {
        let kind = if self.whole {
            "a whole number"
        } else {
            "a number"
        };
        format!("{kind} from {} to {}", fmt_num(self.min), fmt_num(self.max))
    }
    /// Whether `v` is within the bounds.
    #[must_use]
    pub fn admits(&self, v: f64) -> bool {
        v.is_finite() && v >= self.min && v <= self.max && (!self.whole || v.fract() == 0.0)
    }
    /// Checks one value.
    ///
    /// # Errors
    /// The field, the value and the bounds.
    pub fn check(&self, field: &'static str, v: f64) -> Result<(), FieldError> {
        if self.admits(v) {
            Ok(())
        } else {
            Err(FieldError {
                field,
                message: format!("must be {}, got {}", self.describe(), fmt_num(v)),
            })
        }
    }
}

pub(super) fn opt(field: &'static str, v: Option<f64>, b: Bounds) -> Result<(), FieldError> {
    v.map_or(Ok(()), |x| b.check(field, x))
}

/// `low <= high` where both are given.
pub(super) fn ordered(
    low: (&'static str, Option<f64>),
    high: (&'static str, Option<f64>),
) -> Result<(), FieldError> {
    match (low.1, high.1) {
        (Some(l), Some(h)) if l > h => Err(FieldError {
            field: high.0,
            message: format!(
                "must be at least {} ({}), got {}",
                low.0,
                fmt_num(l),
                fmt_num(h)
            ),
        }),
        _ => Ok(()),
    }
}

/// Power of one accelerator card or package, W (a wafer-scale engine draws about 23 kW).
/// Lower bounds keep divisors away from zero and subnormals, which would print infinities.
const BOARD_POWER_W: Bounds = between(1.0, 1e5);
/// Peak throughput, TFLOP/s or TOP/s (a wafer-scale engine peaks at about 125,000 TFLOP/s).
const PEAK: Bounds = between(1e-3, 1e7);
/// Embodied carbon of one card or server, kgCO2e.
const EMBODIED_KG: Bounds = non_negative(1e7);

impl Validate for Accelerator {
    fn validate(&self) -> Result<(), FieldError> {
        opt("board_power_w", self.board_power_w, BOARD_POWER_W)?;
        opt("fp32_tflops", self.fp32_tflops, PEAK)?;
        opt("bf16_tflops", self.bf16_tflops, PEAK)?;
        opt("fp16_tflops", self.fp16_tflops, PEAK)?;
        opt("fp8_tflops", self.fp8_tflops, PEAK)?;
        opt("int8_tops", self.int8_tops, PEAK)?;
        opt("memory_gb", self.memory_gb, between(1e-3, 1e6))?;
        opt("mem_bw_gb_s", self.mem_bw_gb_s, between(1e-3, 1e8))?;
        opt("embodied_kgco2e_low", self.embodied_kgco2e_low, EMBODIED_KG)?;
        opt(
            "embodied_kgco2e_high",
            self.embodied_kgco2e_high,
            EMBODIED_KG,
        )?;
        ordered(
            ("embodied_kgco2e_low", self.embodied_kgco2e_low),
            ("embodied_kgco2e_high", self.embodied_kgco2e_high),
        )
    }
}

impl Validate for Server {
    fn validate(&self) -> Result<(), FieldError> {
        // Zero accelerators is a CPU-only server; its maximum power must still be above zero.
        opt("accelerators", self.accelerators, whole(0.0, 1e5))?;
        if self.accelerator.is_some() && self.accelerators == Some(0.0) {
            return Err(FieldError {
                field: "accelerators",
                message: "must be at least 1 when `accelerator` names one (a CPU-only server \
                          names no accelerator), got 0"
                    .into(),
            });
        }
        opt("max_power_kw", self.max_power_kw, between(1e-3, 1e4))?;
        opt("cpu_sockets", self.cpu_sockets, whole(0.0, 64.0))?;
        opt("cpu_tdp_w", self.cpu_tdp_w, between(0.1, 1e4))?;
        opt("dram_gb", self.dram_gb, non_negative(1e7))?;
        opt("embodied_kgco2e_low", self.embodied_kgco2e_low, EMBODIED_KG)?;
        opt(
            "embodied_kgco2e_high",
            self.embodied_kgco2e_high,
            EMBODIED_KG,
        )?;
        ordered(
            ("embodied_kgco2e_low", self.embodied_kgco2e_low),
            ("embodied_kgco2e_high", self.embodied_kgco2e_high),
        )
    }
}

/// Carbon intensity, g/kWh (the dirtiest grids are about 1,100 g/kWh lifecycle).
const INTENSITY: Bounds = non_negative(5000.0);
/// Water consumed per kWh generated, L/kWh (irrigated biofuel reaches 1,800).
const EWIF: Bounds = non_negative(1e4);

/// The scopes a grid's intensity may have: generation only, or the whole life cycle.
pub const GRID_SCOPES: &[&str] = &["lifecycle", "direct", "unspecified"];
/// The gases a grid's intensity may count.
pub const GRID_GASES: &[&str] = &["co2e", "co2"];

/// A text field that must be one of `allowed` (where given).
fn one_of(field: &'static str, v: Option<&str>, allowed: &[&str]) -> Result<(), FieldError> {
    match v {
        Some(t) if !allowed.contains(&t) => {
            let close = allowed.iter().find(|a| {
                a.eq_ignore_ascii_case(t.trim()) || a.starts_with(&t.to_ascii_lowercase())
            });
            let hint = close.map_or(String::new(), |c| format!(" (did you mean {c:?}?)"));
            Err(FieldError {
                field,
                message: format!("must be one of {}, got {t:?}{hint}", allowed.join(", ")),
            })
        }
        _ => Ok(()),
    }
}

impl Validate for Grid {
    fn validate(&self) -> Result<(), FieldError> {
        one_of("scope", self.scope.as_deref(), GRID_SCOPES)?;
        one_of("gas", self.gas.as_deref(), GRID_GASES)?;
        opt("intensity_g_per_kwh", self.intensity_g_per_kwh, INTENSITY)?;
        opt("intensity_low", self.intensity_low, INTENSITY)?;
        opt("intensity_high", self.intensity_high, INTENSITY)?;
        ordered(
            ("intensity_low", self.intensity_low),
            ("intensity_high", self.intensity_high),
        )?;
        opt("cfe_share", self.cfe_share, between(0.0, 1.0))?;
        opt("ewif_l_per_kwh", self.ewif_l_per_kwh, EWIF)?;
        // Divides figures for the "share of annual electricity" equivalent.
        opt("generation_twh", self.generation_twh, between(1e-3, 1e6))
    }
}

impl Validate for Ewif {
    fn validate(&self) -> Result<(), FieldError> {
        opt("l_per_kwh_low", self.l_per_kwh_low, EWIF)?;
        opt("l_per_kwh_high", self.l_per_kwh_high, EWIF)?;
        ordered(
            ("l_per_kwh_low", self.l_per_kwh_low),
            ("l_per_kwh_high", self.l_per_kwh_high),
        )
    }
}

/// PUE: at least 1 (all energy reaches IT) and at most 10.
const PUE: Bounds = between(1.0, 10.0);
/// On-site water usage effectiveness, L per kWh of IT energy.
const WUE: Bounds = non_negative(100.0);

impl Validate for Datacenter {
    fn validate(&self) -> Result<(), FieldError> {
        opt("pue_low", self.pue_low, PUE)?;
        opt("pue_high", self.pue_high, PUE)?;
        ordered(("pue_low", self.pue_low), ("pue_high", self.pue_high))?;
        opt("wue_low", self.wue_low, WUE)?;
        opt("wue_high", self.wue_high, WUE)?;
        ordered(("wue_low", self.wue_low), ("wue_high", self.wue_high))?;
        opt("max_rack_kw", self.max_rack_kw, between(0.1, 1e4))
    }
}

impl Validate for Model {
    fn validate(&self) -> Result<(), FieldError> {
        let shape = whole(1.0, 1e9);
        opt("total_params", self.total_params, between(1.0, 1e16))?;
        opt("active_params", self.active_params, between(1.0, 1e16))?;
        ordered(
            ("active_params", self.active_params),
            ("total_params", self.total_params),
        )?;
        opt("layers", self.layers, shape)?;
        opt("hidden_size", self.hidden_size, shape)?;
        opt("attention_heads", self.attention_heads, shape)?;
        opt("kv_heads", self.kv_heads, shape)?;
        ordered(
            ("kv_heads", self.kv_heads),
            ("attention_heads", self.attention_heads),
        )?;
        opt("head_dim", self.head_dim, shape)?;
        opt("context_length", self.context_length, shape)?;
        opt("kv_cache_width", self.kv_cache_width, shape)?;
        opt("training_tokens", self.training_tokens, between(1.0, 1e17))?;
        opt(
            "training_accelerators",
            self.training_accelerators,
            whole(1.0, 1e8),
        )?;
        opt("training_days", self.training_days, between(1e-3, 1e5))?;
        opt(
            "training_accelerator_hours",
            self.training_accelerator_hours,
            between(1e-3, 1e13),
        )?;
        opt(
            "reported_training_energy_mwh",
            self.reported_training_energy_mwh,
            non_negative(1e9),
        )?;
        opt(
            "reported_training_tco2e",
            self.reported_training_tco2e,
            non_negative(1e9),
        )
    }
}

impl Validate for Equivalent {
    fn validate(&self) -> Result<(), FieldError> {
        // Figures are divided by equivalents: zero would print infinities.
        between(1e-6, 1e15).check("value", self.value)
    }
}

/// The bounds of a default coefficient, by key. Keys the table does not name (added later, or
/// only in a user file) must be finite and non-negative.
#[must_use]
pub fn coefficient_bounds(key: &str) -> Bounds {
    let fraction = between(1e-3, 1.0);
    match key {
        "train.mfu"
        | "train.load"
        | "fleet.load"
        | "infer.mfu"
        | "infer.mbu"
        | "infer.power_high"
        | "infer.memory_usable"
        | "device.mbu"
        | "device.mfu" => fraction,
        "infer.power_low"
        | "infer.power_idle"
        | "datacenter.overhead_cooling"
        | "datacenter.overhead_power" => between(0.0, 1.0),
        "host.share" | "rest.share" => non_negative(10.0),
        "dram.w_per_gb" => non_negative(100.0),
        "server.accelerators" => whole(1.0, 1e5),
        "site.pue" => PUE,
        "site.wue" => WUE,
        "site.ewif" => EWIF,
        "site.price_usd_per_kwh" => non_negative(100.0),
        "embodied.accelerator_kg" | "embodied.server_kg" => EMBODIED_KG,
        "embodied.service_life_years" => between(0.01, 100.0),
        "infer.step_overhead" => non_negative(1e6),
        "infer.batch" => whole(1.0, 1e6),
        "infer.output_tokens" => whole(1.0, 1e9),
        "infer.input_tokens" => whole(0.0, 1e9),
        "cpu.w_per_thread" => between(0.01, 1000.0),
        // The conditional utilisation prior (hostile round 6: an intercept of 5 gave u = 148 x
        // peak, a negative spread a reversed range): the intercept is ln u with no covariate,
        // so at most 0 (u at most 1); the spread is a half-width and the matrix's diagonal a
        // variance, never negative; the other coefficients multiply a ln or a 0/1 term.
        "train.utilisation.intercept" => between(-20.0, 0.0),
        "train.utilisation.spread" => between(0.0, 10.0),
        k if k.starts_with("train.utilisation.xtwx_inv.") && is_diagonal(k) => between(0.0, 1e3),
        k if k.starts_with("train.utilisation.") => between(-1e3, 1e3),
        _ => non_negative(1e15),
    }
}

/// Whether `train.utilisation.xtwx_inv.A.B` is a diagonal entry (`A` = `B`).
fn is_diagonal(key: &str) -> bool {
    key.trim_start_matches("train.utilisation.xtwx_inv.")
        .split_once('.')
        .is_some_and(|(a, b)| a == b)
}

impl Validate for Coefficient {
    fn validate(&self) -> Result<(), FieldError> {
        let b = coefficient_bounds(&self.key);
        b.check("low", self.low)?;
        b.check("high", self.high)?;
        ordered(("low", Some(self.low)), ("high", Some(self.high)))
    }
}

/// An electricity price per kWh in the row's currency; 10,000 leaves room for currencies whose
/// unit is worth little (yen, won), as `price` allows.
const PRICE_PER_KWH: Bounds = non_negative(1e4);

impl Validate for super::ElectricityPrice {
    fn validate(&self) -> Result<(), FieldError> {
        PRICE_PER_KWH.check("price_low", self.price_low)?;
        PRICE_PER_KWH.check("price_high", self.price_high)?;
        ordered(
            ("price_low", Some(self.price_low)),
            ("price_high", Some(self.price_high)),
        )
    }
}
