//! Turning what the user gave (inputs named by [`crate::field::Field`]) plus the catalog into
//! model specs, recording every assumption and refusing contradictions with an error that names
//! both fields.
//!
//! One file per command (`train`, `fleet`, `datacenter`, `infer`); the helpers they share
//! (input checks, hardware lookup, embodied carbon of the hardware) live here.

mod datacenter;
mod fleet;
mod growth;
mod infer;
mod train;

pub use datacenter::{datacenter, DatacenterInputs};
pub use fleet::{fleet, FleetInputs};
pub use growth::{fleet_growth, preset, Growth, GrowthInputs, Preset, PRESETS};
pub use infer::{infer, InferInputs};
pub use train::{train, TrainInputs};

use super::site::{coefficient, SiteInputs};
use super::EstimateError;
use crate::catalog::{Accelerator, Catalog, Row, Server};
use crate::explain::{Assumption, Origin};
use crate::field::Field;
use crate::footprint::Param;
use crate::result::Published;
use crate::uncertainty::{fmt_human, Range};

/// Numeric precision of the peak used for compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Precision {
    /// FP32 (non-tensor).
    Fp32,
    /// BF16 (FP16 where BF16 is not published).
    #[default]
    Bf16,
    /// FP16.
    Fp16,
    /// FP8.
    Fp8,
    /// INT8.
    Int8,
    /// INT4 weights with 16-bit activations (W4A16, as AWQ/GPTQ serve them): compute at the
    /// BF16/FP16 peak. An inference format only.
    Int4,
}

impl Precision {
    /// Parses `fp32`, `bf16`, `fp16`, `fp8`, `int8`, `int4`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "fp32" | "f32" | "float32" => Self::Fp32,
            "bf16" | "bfloat16" => Self::Bf16,
            "fp16" | "f16" | "float16" | "half" => Self::Fp16,
            "fp8" | "f8" => Self::Fp8,
            "int8" | "i8" => Self::Int8,
            "int4" | "i4" | "w4a16" => Self::Int4,
            _ => return None,
        })
    }
    /// The accelerator's dense peak at this precision, TFLOP/s (or TOP/s).
    #[must_use]
    pub fn peak_tflops(self, a: &Accelerator) -> Option<f64> {
        match self {
            Self::Fp32 => a.fp32_tflops,
            Self::Bf16 => a.bf16_tflops.or(a.fp16_tflops),
            Self::Fp16 => a.fp16_tflops.or(a.bf16_tflops),
            Self::Fp8 => a.fp8_tflops,
            Self::Int8 => a.int8_tops,
            Self::Int4 => a.bf16_tflops.or(a.fp16_tflops),
        }
    }
    /// Bytes per weight.
    #[must_use]
    pub fn bytes(self) -> f64 {
        match self {
            Self::Fp32 => 4.0,
            Self::Bf16 | Self::Fp16 => 2.0,
            Self::Fp8 | Self::Int8 => 1.0,
            Self::Int4 => 0.5,
        }
    }
    /// Bytes per cached key or value: FP8 caches in FP8, FP32 in FP32, the rest (weight-only
    /// INT8/INT4 included) in 16 bits.
    #[must_use]
    pub fn kv_bytes(self) -> f64 {
        match self {
            Self::Fp32 => 4.0,
            Self::Fp8 => 1.0,
            _ => 2.0,
        }
    }
    /// Lower-case name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Fp32 => "fp32",
            Self::Bf16 => "bf16",
            Self::Fp16 => "fp16",
            Self::Fp8 => "fp8",
            Self::Int8 => "int8",
            Self::Int4 => "int4",
        }
    }
}

/// The stated basis of power per accelerator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Basis {
    /// Board power x load.
    Tdp,
    /// Server maximum power x load / accelerators per server.
    Server,
    /// A measured average accelerator power (`gpu_power`).
    Measured,
}

/// Hardware inputs shared by `train` and `fleet`.
#[derive(Clone, Debug, Default)]
pub struct HardwareInputs {
    /// `gpu`.
    pub gpu: Option<String>,
    /// `server`.
    pub server: Option<String>,
    /// `server_power`, W.
    pub server_power: Option<Range>,
    /// `gpus_per_server`.
    pub gpus_per_server: Option<Range>,
    /// `load`.
    pub load: Option<Range>,
}

/// A resolved estimate, ready to run.
pub struct Resolved<S> {
    /// The model spec.
    pub spec: S,
    /// Every input and its origin.
    pub assumptions: Vec<Assumption>,
    /// Published figures to show beside the estimate (key of the comparable figure, figure).
    pub published: Vec<(Option<crate::figure::Figure>, f64, Published)>,
    /// What the result says about its kind (model, accelerator, rack ...).
    pub details: crate::result::Details,
    /// Warnings.
    pub notes: Vec<String>,
}

/// Notes for the site values that fell back to a generic default although the user named a
/// data centre: shown in the default output, not only under `--explain`.
fn fallback_notes(s: &SiteInputs, out: &[Assumption], notes: &mut Vec<String>) {
    let Some(dc) = &s.datacenter else { return };
    for (name, flag, what) in [
        ("wue", Field::Wue, "on-site water (WUE)"),
        ("pue", Field::Pue, "PUE"),
    ] {
        if let Some(a) = out
            .iter()
            .find(|a| a.name == name && a.origin == Origin::Default)
        {
            notes.push(format!(
                "{{datacenter}} {dc} publishes no {what}: the generic range {} is used instead; give {} if you know it",
                a.value,
                flag.reference()
            ));
        }
    }
}

fn user(out: &mut Vec<Assumption>, name: &str, r: &Range, unit: &str, field: Field) {
    out.push(Assumption::user(name, r.display(unit), field));
}

fn catalog_value(out: &mut Vec<Assumption>, name: &str, v: Range, unit: &str, src: String) {
    out.push(Assumption {
        name: name.into(),
        value: v.display(unit),
        origin: Origin::Catalog,
        source: Some(src),
        field: None,
    });
}

fn positive(field: Field, r: Option<Range>) -> Result<Option<Range>, EstimateError> {
    if let Some(r) = r {
        if r.lo <= 0.0 || !r.hi.is_finite() {
            return Err(EstimateError::Invalid {
                field,
                message: format!("must be above zero, got {}", r.display("")).into(),
            });
        }
    }
    Ok(r)
}

fn fraction(field: Field, r: Option<Range>, max: f64) -> Result<Option<Range>, EstimateError> {
    let r = positive(field, r)?;
    if let Some(r) = r {
        if r.hi > max {
            return Err(EstimateError::Invalid {
                field,
                message: format!("must be at most {max}, got {}", r.display("")).into(),
            });
        }
    }
    Ok(r)
}

fn conflict(a: (Field, bool), b: (Field, bool), why: &'static str) -> Result<(), EstimateError> {
    if a.1 && b.1 {
        return Err(EstimateError::Conflict {
            a: a.0,
            b: b.0,
            why: why.into(),
        });
    }
    Ok(())
}

/// Host power (CPUs and memory) of one server at full CPU power, W: sockets x CPU TDP + DRAM x
/// W/GB where the row publishes them. A row without a CPU TDP never gets a silent 0 host: with
/// accelerators (`accel_w`, their board power per server) the host is the default host share of
/// that power; without, `None` (the caller takes the host as the server less the default rest
/// share). Either way a note names the basis.
fn server_host(
    cat: &Catalog,
    s: Option<&Server>,
    accel_w: Option<f64>,
    out: &mut Vec<Assumption>,
    notes: &mut Vec<String>,
) -> Result<Option<Range>, EstimateError> {
    let w_per_gb = cat.coefficient("dram.w_per_gb")?.range().mid();
    if let Some((s, n, t)) = s.and_then(|s| Some((s, s.cpu_sockets?, s.cpu_tdp_w?))) {
        let dram = s.dram_gb.unwrap_or(0.0);
        let r = Range::point(n * t + dram * w_per_gb);
        catalog_value(
            out,
            "host_power",
            r,
            "W",
            format!(
                "{}: {} x {} W CPU TDP + {} GB DRAM x {} W/GB; {}",
                s.name,
                fmt_human(n),
                fmt_human(t),
                fmt_human(dram),
                fmt_human(w_per_gb),
                s.cite()
            ),
        );
        return Ok(Some(r));
    }
    let what = s.map_or(
        "{server_power} names no server, so no CPU TDP is known".into(),
        |s| {
            format!(
                "server {:?} publishes no CPU TDP{}",
                s.name,
                s.cpu_model
                    .as_deref()
                    .map_or(String::new(), |c| format!(" for its {c}"))
            )
        },
    );
    match accel_w.filter(|w| *w > 0.0) {
        Some(w) => {
            let share = coefficient(cat, "host.share", "host_share", 1.0, out)?.range;
            notes.push(format!(
                "{what}: the host CPUs and memory are taken as the default host share {} of the accelerators' board power ({} W a server), not from the CPUs",
                share.display(""),
                fmt_human(w)
            ));
            Ok(Some(share.scale(w)))
        }
        None => {
            notes.push(format!(
                "{what}: the host CPUs and memory are taken as the server's power less the default rest-of-server share"
            ));
            Ok(None)
        }
    }
}

/// The hardware inputs against their limits.
fn check_hardware(hw: &HardwareInputs) -> Result<(), EstimateError> {
    crate::limits::check_all(&[
        (Field::ServerPower, hw.server_power),
        (Field::GpusPerServer, hw.gpus_per_server),
        (Field::Load, hw.load),
    ])
}

struct Hardware<'a> {
    accel: Option<&'a Accelerator>,
    server: Option<&'a Server>,
    per_server: Range,
}

fn hardware<'a>(
    cat: &'a Catalog,
    hw: &HardwareInputs,
    fallback_gpu: Option<&str>,
    out: &mut Vec<Assumption>,
) -> Result<Hardware<'a>, EstimateError> {
    let server = match &hw.server {
        Some(s) => Some(
            cat.servers()?
                .get(s)
                .map_err(|e| EstimateError::from_field(Field::Server, e))?,
        ),
        None => None,
    };
    if let (Some(s), Some(_)) = (server, &hw.gpu) {
        if s.accelerators == Some(0.0) {
            return Err(EstimateError::Conflict {
                a: Field::Server,
                b: Field::Gpu,
                why: "the server is CPU-only (no accelerators in its catalog row): drop {gpu} for a CPU-only estimate, or choose a server with accelerators (or {server_power} with {gpu})".into(),
            });
        }
    }
    let gpu_name = hw
        .gpu
        .as_deref()
        .or(server.and_then(|s| s.accelerator.as_deref()))
        .or(fallback_gpu);
    // Only a name gpu gave is reported as that flag's (a server or model row's accelerator
    // is the catalog's own reference).
    let accel = match gpu_name {
        Some(g) => Some(cat.accelerators()?.get(g).map_err(|e| match &hw.gpu {
            Some(_) => EstimateError::from_field(Field::Gpu, e),
            None => e.into(),
        })?),
        None => None,
    };
    if let Some(a) = accel {
        out.push(Assumption {
            name: "accelerator".into(),
            value: a.name.clone(),
            origin: if hw.gpu.is_some() {
                Origin::User
            } else {
                Origin::Catalog
            },
            source: Some(a.cite()),
            field: None,
        });
    }
    if let Some(s) = server {
        out.push(Assumption {
            name: "server".into(),
            value: s.name.clone(),
            origin: Origin::User,
            source: Some(s.cite()),
            field: None,
        });
    }
    let per_server = if let Some(r) = positive(Field::GpusPerServer, hw.gpus_per_server)? {
        user(out, "accelerators_per_server", &r, "", Field::GpusPerServer);
        r
    } else if let Some(n) = server.and_then(|s| s.accelerators) {
        Range::point(n)
    } else if accel.is_some() {
        coefficient(
            cat,
            "server.accelerators",
            "accelerators_per_server",
            1.0,
            out,
        )?
        .range
    } else {
        Range::point(0.0)
    };
    Ok(Hardware {
        accel,
        server,
        per_server,
    })
}

fn load(
    cat: &Catalog,
    hw: &HardwareInputs,
    key: &str,
    out: &mut Vec<Assumption>,
) -> Result<Range, EstimateError> {
    Ok(match fraction(Field::Load, hw.load, 1.0)? {
        Some(r) => {
            user(out, "load", &r, "", Field::Load);
            r
        }
        None => coefficient(cat, key, "load", 1.0, out)?.range,
    })
}

fn shares(cat: &Catalog, out: &mut Vec<Assumption>) -> Result<(Range, Range), EstimateError> {
    Ok((
        coefficient(cat, "host.share", "host_share", 1.0, out)?.range,
        coefficient(cat, "rest.share", "rest_share", 1.0, out)?.range,
    ))
}

/// Embodied carbon from the hardware rows, where they publish it: a server's range covers the
/// whole server including its accelerators; a card's range covers the card.
fn hardware_embodied(
    site: &mut crate::footprint::Site,
    hw: &Hardware<'_>,
    out: &mut Vec<Assumption>,
) {
    let range = |lo: Option<f64>, hi: Option<f64>| match (lo, hi) {
        (Some(a), Some(b)) => Some(Range::new(a.min(b), a.max(b))),
        (Some(a), None) | (None, Some(a)) => Some(Range::point(a)),
        _ => None,
    };
    if let Some(s) = hw.server {
        if let Some(r) = range(s.embodied_kgco2e_low, s.embodied_kgco2e_high) {
            // The catalog's figure replaces the defaults listed by the site resolution.
            out.retain(|x| x.name != "embodied_per_server" && x.name != "embodied_per_accelerator");
            let src = embodied_cite(s.embodied_source.as_deref(), &s.name);
            catalog_value(
                out,
                "embodied_per_server (incl. accelerators)",
                r,
                "kgCO2e",
                src.clone(),
            );
            site.embodied.per_server_kg = Param::new(r, src);
            site.embodied.per_accelerator_kg = Param::new(
                Range::point(0.0),
                "included in the server's embodied carbon",
            );
            return;
        }
    }
    if let Some(a) = hw.accel {
        if let Some(r) = range(a.embodied_kgco2e_low, a.embodied_kgco2e_high) {
            out.retain(|x| x.name != "embodied_per_accelerator");
            let src = embodied_cite(a.embodied_source.as_deref(), &a.name);
            catalog_value(out, "embodied_per_accelerator", r, "kgCO2e", src.clone());
            site.embodied.per_accelerator_kg = Param::new(r, src);
        }
    }
}

/// The source of a catalog row's embodied-carbon range, named with its row.
fn embodied_cite(source: Option<&str>, name: &str) -> String {
    format!(
        "{name} embodied carbon: {}",
        source.unwrap_or("catalog row (no embodied source given)")
    )
}
