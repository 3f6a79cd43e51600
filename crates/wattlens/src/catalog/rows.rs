//! The row types of each catalog table, as stored in `crates/wattlens/data/*.csv` and in user
//! TOML files. Column names carry their units.

use super::{Row, TableKind};
use crate::uncertainty::{fmt_input, Range};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// Reads text that a CSV or TOML file may have written as a number (`year = 2024`).
pub(super) fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    // A visitor rather than an untagged enum: CSV hands every cell over as text at once, without
    // serde buffering it and trying each variant (catalog parsing is on every command's path).
    struct Text;
    impl<'de> Visitor<'de> for Text {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("text or a number")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_string(self)
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
            Ok((!s.trim().is_empty()).then(|| s.to_string()))
        }
        fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
            Ok((!s.trim().is_empty()).then_some(s))
        }
        fn visit_i64<E: de::Error>(self, i: i64) -> Result<Self::Value, E> {
            Ok(Some(i.to_string()))
        }
        fn visit_u64<E: de::Error>(self, i: u64) -> Result<Self::Value, E> {
            Ok(Some(i.to_string()))
        }
        fn visit_f64<E: de::Error>(self, f: f64) -> Result<Self::Value, E> {
            // `1e300` stays short in messages (its plain form has 301 digits).
            Ok(Some(if (1e-4..1e15).contains(&f.abs()) || f == 0.0 {
                f.to_string()
            } else {
                format!("{f:e}")
            }))
        }
    }
    d.deserialize_option(Text)
}

pub(super) fn cite(source: Option<&str>, year: Option<&str>) -> String {
    match (source, year) {
        (Some(s), Some(y)) => format!("{s} ({y})"),
        (Some(s), None) => s.to_string(),
        (None, Some(y)) => format!("({y})"),
        (None, None) => String::new(),
    }
}

/// `lo..hi`, or one number where the ends are equal or only one is given, or `-`.
fn span(lo: Option<f64>, hi: Option<f64>) -> String {
    match (lo, hi) {
        (Some(a), Some(b)) => Range::new(a.min(b), a.max(b)).display(""),
        (Some(a), None) | (None, Some(a)) => fmt_input(a),
        (None, None) => "-".into(),
    }
}

fn opt(v: Option<f64>, unit: &str) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{} {unit}", fmt_input(x)))
}

macro_rules! row_impl {
    ($t:ty, $kind:expr, $file:expr, $name:ident) => {
        impl Row for $t {
            const KIND: TableKind = $kind;
            const FILE: &'static str = $file;
            const CSV: &'static str = include_str!(concat!("../../data/", $file));
            const NAME_COLUMN: &'static str = stringify!($name);
            fn name(&self) -> &str {
                &self.$name
            }
            fn aliases(&self) -> Option<&str> {
                self.aliases.as_deref()
            }
            fn set_aliases(&mut self, aliases: Option<String>) {
                self.aliases = aliases;
            }
            fn summary(&self) -> String {
                Self::line(self)
            }
            fn cite(&self) -> String {
                cite(self.source.as_deref(), self.year.as_deref())
            }
        }
    };
}
pub(super) use row_impl;

/// An accelerator (GPU, TPU, NPU). Peaks are dense (no sparsity).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accelerator {
    /// Canonical name.
    pub name: String,
    /// Other names, `|`-separated.
    #[serde(default, deserialize_with = "text")]
    pub aliases: Option<String>,
    /// Maker.
    #[serde(default, deserialize_with = "text")]
    pub vendor: Option<String>,
    /// SXM, PCIe, OAM, chip ...
    #[serde(default, deserialize_with = "text")]
    pub form_factor: Option<String>,
    /// Board power (TDP) in watts.
    #[serde(default)]
    pub board_power_w: Option<f64>,
    /// FP32 (non-tensor) peak, TFLOP/s.
    #[serde(default)]
    pub fp32_tflops: Option<f64>,
    /// Dense BF16 peak, TFLOP/s.
    #[serde(default)]
    pub bf16_tflops: Option<f64>,
    /// Dense FP16 peak, TFLOP/s.
    #[serde(default)]
    pub fp16_tflops: Option<f64>,
    /// Dense FP8 peak, TFLOP/s.
    #[serde(default)]
    pub fp8_tflops: Option<f64>,
    /// Dense INT8 peak, TOP/s.
    #[serde(default)]
    pub int8_tops: Option<f64>,
    /// Memory, GB.
    #[serde(default)]
    pub memory_gb: Option<f64>,
    /// Memory bandwidth, GB/s.
    #[serde(default)]
    pub mem_bw_gb_s: Option<f64>,
    /// Embodied carbon, low end, kgCO2e per card.
    #[serde(default)]
    pub embodied_kgco2e_low: Option<f64>,
    /// Embodied carbon, high end, kgCO2e per card.
    #[serde(default)]
    pub embodied_kgco2e_high: Option<f64>,
    /// Where the embodied-carbon range comes from (LCA, paper or derivation).
    #[serde(default, deserialize_with = "text")]
    pub embodied_source: Option<String>,
    /// datasheet, secondary, unverified ...
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
row_impl!(
    Accelerator,
    TableKind::Accelerators,
    "accelerators.csv",
    name
);
impl Accelerator {
    fn line(&self) -> String {
        format!(
            "{}, {} BF16/FP16 TFLOP/s, {} GB, {}",
            opt(self.board_power_w, "W"),
            self.training_peak_tflops().map_or("-".into(), fmt_input),
            self.memory_gb.map_or("-".into(), fmt_input),
            self.confidence.as_deref().unwrap_or("-")
        )
    }
    /// The dense 16-bit peak used for training (BF16, else FP16), TFLOP/s.
    #[must_use]
    pub fn training_peak_tflops(&self) -> Option<f64> {
        self.bf16_tflops.or(self.fp16_tflops)
    }
}

/// A server, system, rack or cloud instance.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    /// Canonical name.
    pub name: String,
    /// Other names, `|`-separated.
    #[serde(default, deserialize_with = "text")]
    pub aliases: Option<String>,
    /// system, cloud-instance or rack.
    #[serde(default, deserialize_with = "text")]
    pub kind: Option<String>,
    /// Accelerator name (a row of the accelerators table).
    #[serde(default, deserialize_with = "text")]
    pub accelerator: Option<String>,
    /// Accelerators per server.
    #[serde(default)]
    pub accelerators: Option<f64>,
    /// Maximum system power, kW.
    #[serde(default)]
    pub max_power_kw: Option<f64>,
    /// CPU model.
    #[serde(default, deserialize_with = "text")]
    pub cpu_model: Option<String>,
    /// CPU sockets.
    #[serde(default)]
    pub cpu_sockets: Option<f64>,
    /// TDP per CPU socket, W.
    #[serde(default)]
    pub cpu_tdp_w: Option<f64>,
    /// System memory, GB.
    #[serde(default)]
    pub dram_gb: Option<f64>,
    /// Embodied carbon of the whole server, low end, kgCO2e.
    #[serde(default)]
    pub embodied_kgco2e_low: Option<f64>,
    /// Embodied carbon of the whole server, high end, kgCO2e.
    #[serde(default)]
    pub embodied_kgco2e_high: Option<f64>,
    /// Where the embodied-carbon range comes from (LCA, paper or derivation).
    #[serde(default, deserialize_with = "text")]
    pub embodied_source: Option<String>,
    /// datasheet, secondary ...
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
row_impl!(Server, TableKind::Servers, "servers.csv", name);
impl Server {
    fn line(&self) -> String {
        format!(
            "{} x {}, {}",
            self.accelerators.map_or("-".into(), fmt_input),
            self.accelerator.as_deref().unwrap_or("-"),
            opt(self.max_power_kw, "kW max")
        )
    }
}

/// An electricity grid: a country, a cloud region, a sub-national grid or the world.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grid {
    /// Canonical key (`FR`, `gcp:europe-west1`, `us-egrid:CAMX`).
    pub key: String,
    /// Other names, `|`-separated.
    #[serde(default, deserialize_with = "text")]
    pub aliases: Option<String>,
    /// country, world, egrid, cn-grid, nordic-zone, cloud-region.
    #[serde(default, deserialize_with = "text")]
    pub kind: Option<String>,
    /// Human name.
    #[serde(default, deserialize_with = "text")]
    pub name: Option<String>,
    /// ISO 3166-1 alpha-2 country.
    #[serde(default, deserialize_with = "text")]
    pub country: Option<String>,
    /// The grid whose intensity this row uses when it has none of its own.
    #[serde(default, deserialize_with = "text")]
    pub parent: Option<String>,
    /// Annual average carbon intensity, g/kWh.
    #[serde(default)]
    pub intensity_g_per_kwh: Option<f64>,
    /// Low end over the years or sources available, g/kWh.
    #[serde(default)]
    pub intensity_low: Option<f64>,
    /// High end, g/kWh.
    #[serde(default)]
    pub intensity_high: Option<f64>,
    /// Data year.
    #[serde(default, deserialize_with = "text")]
    pub year: Option<String>,
    /// direct (combustion) or lifecycle.
    #[serde(default, deserialize_with = "text")]
    pub scope: Option<String>,
    /// co2 or co2e.
    #[serde(default, deserialize_with = "text")]
    pub gas: Option<String>,
    /// Carbon-free energy share (0-1), where the operator publishes one.
    #[serde(default)]
    pub cfe_share: Option<f64>,
    /// Water consumed per kWh generated, L/kWh.
    #[serde(default)]
    pub ewif_l_per_kwh: Option<f64>,
    /// Annual electricity generation, TWh (countries and the world).
    #[serde(default)]
    pub generation_twh: Option<f64>,
    /// Source.
    #[serde(default, deserialize_with = "text")]
    pub source: Option<String>,
    /// Licence of the data.
    #[serde(default, deserialize_with = "text")]
    pub licence: Option<String>,
}
row_impl!(Grid, TableKind::Grids, "grids.csv", key);
impl Grid {
    fn line(&self) -> String {
        format!(
            "{} - {}, {} {}",
            self.name.as_deref().unwrap_or("-"),
            self.parent.as_deref().map_or_else(
                || opt(self.intensity_g_per_kwh, "g/kWh"),
                |p| format!("uses {p}")
            ),
            self.scope.as_deref().unwrap_or(""),
            self.year.as_deref().unwrap_or("")
        )
    }
}

/// Water consumed per kWh generated (EWIF), by fuel or named grid average.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ewif {
    /// Fuel or grid key.
    pub key: String,
    /// Not used for this table; present so the lookup code is shared.
    #[serde(default, skip_serializing, deserialize_with = "text")]
    pub aliases: Option<String>,
    /// Low end, L/kWh.
    #[serde(default)]
    pub l_per_kwh_low: Option<f64>,
    /// High end, L/kWh.
    #[serde(default)]
    pub l_per_kwh_high: Option<f64>,
    /// Data year.
    #[serde(default, deserialize_with = "text")]
    pub year: Option<String>,
    /// Source.
    #[serde(default, deserialize_with = "text")]
    pub source: Option<String>,
    /// Notes.
    #[serde(default, deserialize_with = "text")]
    pub notes: Option<String>,
}
row_impl!(Ewif, TableKind::Ewif, "ewif.csv", key);
impl Ewif {
    fn line(&self) -> String {
        format!("{} L/kWh", span(self.l_per_kwh_low, self.l_per_kwh_high))
    }
}

/// A data-centre profile: an operator, an industry average or a cooling type.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Datacenter {
    /// Canonical name.
    pub name: String,
    /// Other names, `|`-separated.
    #[serde(default, deserialize_with = "text")]
    pub aliases: Option<String>,
    /// operator, industry or cooling.
    #[serde(default, deserialize_with = "text")]
    pub kind: Option<String>,
    /// PUE, low end.
    #[serde(default)]
    pub pue_low: Option<f64>,
    /// PUE, high end.
    #[serde(default)]
    pub pue_high: Option<f64>,
    /// On-site WUE, low end, L per kWh of IT energy.
    #[serde(default)]
    pub wue_low: Option<f64>,
    /// On-site WUE, high end, L/kWh.
    #[serde(default)]
    pub wue_high: Option<f64>,
    /// Rack power density the cooling type handles, kW per rack.
    #[serde(default)]
    pub max_rack_kw: Option<f64>,
    /// Year or period.
    #[serde(default, deserialize_with = "text")]
    pub year: Option<String>,
    /// What the figure covers.
    #[serde(default, deserialize_with = "text")]
    pub scope: Option<String>,
    /// Source.
    #[serde(default, deserialize_with = "text")]
    pub source: Option<String>,
    /// Notes.
    #[serde(default, deserialize_with = "text")]
    pub notes: Option<String>,
}
row_impl!(Datacenter, TableKind::Datacenters, "datacenters.csv", name);
impl Datacenter {
    fn line(&self) -> String {
        let r = span;
        format!(
            "{}: PUE {}, WUE {} L/kWh{}",
            self.kind.as_deref().unwrap_or("-"),
            r(self.pue_low, self.pue_high),
            r(self.wue_low, self.wue_high),
            self.max_rack_kw.map_or(String::new(), |k| format!(
                ", up to {} kW/rack",
                fmt_input(k)
            ))
        )
    }
}

/// An AI model: shape and published training figures.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    /// Canonical name.
    pub name: String,
    /// Other names, `|`-separated.
    #[serde(default, deserialize_with = "text")]
    pub aliases: Option<String>,
    /// Developer.
    #[serde(default, deserialize_with = "text")]
    pub developer: Option<String>,
    /// Release year.
    #[serde(default, deserialize_with = "text")]
    pub year: Option<String>,
    /// Total parameters.
    #[serde(default)]
    pub total_params: Option<f64>,
    /// Parameters active per token (MoE); equal to total for dense models.
    #[serde(default)]
    pub active_params: Option<f64>,
    /// Transformer layers.
    #[serde(default)]
    pub layers: Option<f64>,
    /// Hidden size.
    #[serde(default)]
    pub hidden_size: Option<f64>,
    /// Attention heads.
    #[serde(default)]
    pub attention_heads: Option<f64>,
    /// Key/value heads (GQA).
    #[serde(default)]
    pub kv_heads: Option<f64>,
    /// Head dimension.
    #[serde(default)]
    pub head_dim: Option<f64>,
    /// Context length, tokens.
    #[serde(default)]
    pub context_length: Option<f64>,
    /// Values cached per token per layer (keys and values together) where they are not
    /// `2 x kv_heads x head_dim`, as in multi-head latent attention.
    #[serde(default)]
    pub kv_cache_width: Option<f64>,
    /// Training tokens.
    #[serde(default)]
    pub training_tokens: Option<f64>,
    /// Accelerator used for training (a row of the accelerators table).
    #[serde(default, deserialize_with = "text")]
    pub training_accelerator: Option<String>,
    /// Number of accelerators used for training.
    #[serde(default)]
    pub training_accelerators: Option<f64>,
    /// Training wall-clock days.
    #[serde(default)]
    pub training_days: Option<f64>,
    /// Reported accelerator-hours.
    #[serde(default)]
    pub training_accelerator_hours: Option<f64>,
    /// Reported training energy, MWh.
    #[serde(default)]
    pub reported_training_energy_mwh: Option<f64>,
    /// Reported training emissions, tCO2e.
    #[serde(default)]
    pub reported_training_tco2e: Option<f64>,
    /// What the reported emissions cover.
    #[serde(default, deserialize_with = "text")]
    pub reported_emissions_basis: Option<String>,
    /// Source of the architecture.
    #[serde(default, deserialize_with = "text")]
    pub architecture_source: Option<String>,
    /// Source of the training figures.
    #[serde(default, deserialize_with = "text")]
    pub training_source: Option<String>,
    /// Notes.
    #[serde(default, deserialize_with = "text")]
    pub notes: Option<String>,
}
impl Row for Model {
    const KIND: TableKind = TableKind::Models;
    const FILE: &'static str = "models.csv";
    const CSV: &'static str = include_str!("../../data/models.csv");
    const NAME_COLUMN: &'static str = "name";
    fn name(&self) -> &str {
        &self.name
    }
    fn aliases(&self) -> Option<&str> {
        self.aliases.as_deref()
    }
    fn set_aliases(&mut self, aliases: Option<String>) {
        self.aliases = aliases;
    }
    fn summary(&self) -> String {
        format!(
            "{} params ({} active), {} tokens",
            self.total_params.map_or("-".into(), fmt_input),
            self.active_params
                .or(self.total_params)
                .map_or("-".into(), fmt_input),
            self.training_tokens.map_or("-".into(), fmt_input)
        )
    }
    fn cite(&self) -> String {
        let s = [
            self.architecture_source.as_deref(),
            self.training_source.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("; ");
        cite((!s.is_empty()).then_some(s.as_str()), self.year.as_deref())
    }
}

/// An everyday equivalent with its source.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Equivalent {
    /// Key (`us_home_kwh_per_year`).
    pub key: String,
    /// Not used for this table.
    #[serde(default, skip_serializing, deserialize_with = "text")]
    pub aliases: Option<String>,
    /// Value.
    pub value: f64,
    /// Unit of the value.
    #[serde(default, deserialize_with = "text")]
    pub unit: Option<String>,
    /// What it is.
    #[serde(default, deserialize_with = "text")]
    pub description: Option<String>,
    /// Source.
    #[serde(default, deserialize_with = "text")]
    pub source: Option<String>,
    /// Year.
    #[serde(default, deserialize_with = "text")]
    pub year: Option<String>,
}
row_impl!(Equivalent, TableKind::Equivalents, "equivalents.csv", key);
impl Equivalent {
    fn line(&self) -> String {
        format!(
            "{} {}",
            fmt_input(self.value),
            self.unit.as_deref().unwrap_or("")
        )
    }
}

/// A default coefficient of the models, as a range with its source.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Coefficient {
    /// Key (`train.mfu`).
    pub key: String,
    /// Not used for this table.
    #[serde(default, skip_serializing, deserialize_with = "text")]
    pub aliases: Option<String>,
    /// Low end.
    pub low: f64,
    /// High end.
    pub high: f64,
    /// Unit.
    #[serde(default, deserialize_with = "text")]
    pub unit: Option<String>,
    /// What it is and how the range was chosen.
    #[serde(default, deserialize_with = "text")]
    pub description: Option<String>,
    /// Source.
    #[serde(default, deserialize_with = "text")]
    pub source: Option<String>,
    /// Year.
    #[serde(default, deserialize_with = "text")]
    pub year: Option<String>,
}
row_impl!(Coefficient, TableKind::Defaults, "defaults.csv", key);
impl Coefficient {
    fn line(&self) -> String {
        format!(
            "{} - {}",
            Range::new(self.low.min(self.high), self.low.max(self.high))
                .display(self.unit.as_deref().unwrap_or("")),
            self.description.as_deref().unwrap_or("")
        )
    }
    /// The coefficient as a range.
    #[must_use]
    pub fn range(&self) -> crate::uncertainty::Range {
        crate::uncertainty::Range::new(self.low, self.high)
    }
}
