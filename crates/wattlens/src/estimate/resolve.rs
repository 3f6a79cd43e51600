//! Turning what the user gave (flags, config) plus the catalog into model specs, recording every
//! assumption and refusing contradictions with an error that names both flags.

use super::datacenter::{Breakdown, DatacenterSpec};
use super::fleet::{FleetSpec, Load};
use super::power::{PowerBasis, Split};
use super::site::{coefficient, resolve as resolve_site, SiteInputs};
use super::train::{Compute, Duration, Failures, RateSpec, TrainSpec};
use super::{EstimateError, Published};
use crate::catalog::{Accelerator, Catalog, Row, Server};
use crate::explain::{Assumption, Origin};
use crate::footprint::Param;
use crate::uncertainty::{fmt_num, Range};
use serde_json::{json, Map, Value};

/// Numeric precision of the peak used for compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
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
}

impl Precision {
    /// Parses `fp32`, `bf16`, `fp16`, `fp8`, `int8`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "fp32" | "f32" | "float32" => Self::Fp32,
            "bf16" | "bfloat16" => Self::Bf16,
            "fp16" | "f16" | "float16" | "half" => Self::Fp16,
            "fp8" | "f8" => Self::Fp8,
            "int8" | "i8" => Self::Int8,
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
        }
    }
}

/// The stated basis of power per accelerator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    /// Board power x load.
    Tdp,
    /// Server maximum power x load / accelerators per server.
    Server,
    /// A measured average accelerator power (`--gpu-power`).
    Measured,
}

/// Hardware inputs shared by `train` and `fleet`.
#[derive(Clone, Debug, Default)]
pub struct HardwareInputs {
    /// `--gpu`.
    pub gpu: Option<String>,
    /// `--server`.
    pub server: Option<String>,
    /// `--server-power`, W.
    pub server_power: Option<Range>,
    /// `--gpus-per-server`.
    pub gpus_per_server: Option<Range>,
    /// `--load`.
    pub load: Option<Range>,
}

/// `estimate train` inputs.
#[derive(Clone, Debug, Default)]
pub struct TrainInputs {
    /// `--model`.
    pub model: Option<String>,
    /// `--params`.
    pub params: Option<Range>,
    /// `--active-params`.
    pub active_params: Option<Range>,
    /// `--tokens`.
    pub tokens: Option<Range>,
    /// `--flops`.
    pub flops: Option<Range>,
    /// `--gpus`.
    pub gpus: Option<Range>,
    /// `--days`, in hours.
    pub wall_h: Option<Range>,
    /// `--gpu-hours`.
    pub gpu_hours: Option<Range>,
    /// `--mfu`.
    pub mfu: Option<Range>,
    /// `--precision`.
    pub precision: Precision,
    /// `--power-basis`.
    pub basis: Option<Basis>,
    /// `--gpu-power`, W.
    pub gpu_power: Option<Range>,
    /// `--interruptions`.
    pub interruptions: Option<Range>,
    /// `--mtbf`, hours.
    pub mtbf_h: Option<Range>,
    /// `--checkpoint-minutes`, in hours.
    pub checkpoint_h: Option<Range>,
    /// `--restart-minutes`, in hours.
    pub restart_h: Option<Range>,
    /// `--checkpoint-interval`, hours.
    pub interval_h: Option<Range>,
    /// Hardware.
    pub hw: HardwareInputs,
}

/// A resolved estimate, ready to run.
pub struct Resolved<S> {
    /// The model spec.
    pub spec: S,
    /// Every input and its origin.
    pub assumptions: Vec<Assumption>,
    /// Published figures to show beside the estimate (key of the comparable figure, figure).
    pub published: Vec<(Option<&'static str>, f64, Published)>,
    /// Extra structured output.
    pub extra: Map<String, Value>,
    /// Warnings.
    pub notes: Vec<String>,
}

fn user(out: &mut Vec<Assumption>, name: &str, r: &Range, unit: &str, flag: &str) {
    out.push(Assumption {
        name: name.into(),
        value: r.display(unit),
        origin: Origin::User,
        source: Some(flag.into()),
    });
}

fn catalog_value(out: &mut Vec<Assumption>, name: &str, v: Range, unit: &str, src: String) {
    out.push(Assumption {
        name: name.into(),
        value: v.display(unit),
        origin: Origin::Catalog,
        source: Some(src),
    });
}

fn positive(flag: &'static str, r: Option<Range>) -> Result<Option<Range>, EstimateError> {
    if let Some(r) = r {
        if r.lo <= 0.0 || !r.hi.is_finite() {
            return Err(EstimateError::Invalid {
                flag,
                message: format!("must be above zero, got {}", r.display("")),
            });
        }
    }
    Ok(r)
}

fn fraction(
    flag: &'static str,
    r: Option<Range>,
    max: f64,
) -> Result<Option<Range>, EstimateError> {
    let r = positive(flag, r)?;
    if let Some(r) = r {
        if r.hi > max {
            return Err(EstimateError::Invalid {
                flag,
                message: format!("must be at most {max}, got {}", r.display("")),
            });
        }
    }
    Ok(r)
}

fn conflict(
    a: (&'static str, bool),
    b: (&'static str, bool),
    why: &'static str,
) -> Result<(), EstimateError> {
    if a.1 && b.1 {
        return Err(EstimateError::Conflict {
            a: a.0,
            b: b.0,
            why,
        });
    }
    Ok(())
}

/// Host power of a server at full CPU power: sockets x TDP + DRAM x W/GB.
fn host_w(cat: &Catalog, s: &Server) -> Result<Option<f64>, EstimateError> {
    let w_per_gb = cat.coefficient("dram.w_per_gb")?.range().mid();
    Ok(match (s.cpu_sockets, s.cpu_tdp_w) {
        (Some(n), Some(t)) => Some(n * t + s.dram_gb.unwrap_or(0.0) * w_per_gb),
        _ => None,
    })
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
        Some(s) => Some(cat.servers()?.get(s)?),
        None => None,
    };
    let gpu_name = hw
        .gpu
        .as_deref()
        .or(server.and_then(|s| s.accelerator.as_deref()))
        .or(fallback_gpu);
    let accel = match gpu_name {
        Some(g) => Some(cat.accelerators()?.get(g)?),
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
        });
    }
    if let Some(s) = server {
        out.push(Assumption {
            name: "server".into(),
            value: s.name.clone(),
            origin: Origin::User,
            source: Some(s.cite()),
        });
    }
    let per_server = if let Some(r) = positive("--gpus-per-server", hw.gpus_per_server)? {
        user(out, "accelerators_per_server", &r, "", "--gpus-per-server");
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
    Ok(match fraction("--load", hw.load, 1.0)? {
        Some(r) => {
            user(out, "load", &r, "", "--load");
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
            catalog_value(
                out,
                "embodied_per_server (incl. accelerators)",
                r,
                "kgCO2e",
                s.cite(),
            );
            site.embodied.per_server_kg = Param::new(r, format!("{}: {}", s.name, s.cite()));
            site.embodied.per_accelerator_kg = Param::new(
                Range::point(0.0),
                "included in the server's embodied carbon",
            );
            return;
        }
    }
    if let Some(a) = hw.accel {
        if let Some(r) = range(a.embodied_kgco2e_low, a.embodied_kgco2e_high) {
            catalog_value(out, "embodied_per_accelerator", r, "kgCO2e", a.cite());
            site.embodied.per_accelerator_kg = Param::new(r, format!("{}: {}", a.name, a.cite()));
        }
    }
}

/// Resolves `estimate train`.
///
/// # Errors
/// Unknown names, out-of-domain values, contradictions and missing inputs, each naming flags.
#[allow(clippy::too_many_lines)]
pub fn train(
    cat: &Catalog,
    t: &TrainInputs,
    s: &SiteInputs,
) -> Result<Resolved<TrainSpec>, EstimateError> {
    let mut out = Vec::new();
    conflict(
        ("--days", t.wall_h.is_some()),
        ("--gpu-hours", t.gpu_hours.is_some()),
        "give the wall-clock days or the accelerator-hours, not both",
    )?;
    conflict(
        ("--flops", t.flops.is_some()),
        ("--params", t.params.is_some()),
        "give the total FLOPs or parameters and tokens, not both",
    )?;
    conflict(
        ("--flops", t.flops.is_some()),
        ("--tokens", t.tokens.is_some()),
        "give the total FLOPs or parameters and tokens, not both",
    )?;
    conflict(
        ("--mfu", t.mfu.is_some()),
        ("--days", t.wall_h.is_some()),
        "with --days the MFU is implied (and reported); drop one",
    )?;
    conflict(
        ("--mfu", t.mfu.is_some()),
        ("--gpu-hours", t.gpu_hours.is_some()),
        "with --gpu-hours the MFU is implied (and reported); drop one",
    )?;
    conflict(
        ("--interruptions", t.interruptions.is_some()),
        ("--mtbf", t.mtbf_h.is_some()),
        "give a count of interruptions or a mean time between them, not both",
    )?;
    if t.gpu_power.is_some() && matches!(t.basis, Some(Basis::Tdp | Basis::Server)) {
        return Err(EstimateError::Conflict {
            a: "--gpu-power",
            b: "--power-basis",
            why: "--gpu-power is a measured average: use --power-basis measured (or leave it out)",
        });
    }
    let (params, active, tokens, flops) = (
        positive("--params", t.params)?,
        positive("--active-params", t.active_params)?,
        positive("--tokens", t.tokens)?,
        positive("--flops", t.flops)?,
    );
    let gpus = positive("--gpus", t.gpus)?;
    let wall = positive("--days", t.wall_h)?;
    let gpu_hours = positive("--gpu-hours", t.gpu_hours)?;
    let mfu = fraction("--mfu", t.mfu, 1.0)?;

    let model = match &t.model {
        Some(m) => Some(cat.models()?.get(m)?),
        None => None,
    };
    let mut published = Vec::new();
    if let Some(m) = model {
        out.push(Assumption {
            name: "model".into(),
            value: m.name.clone(),
            origin: Origin::User,
            source: Some(m.cite()),
        });
        let src = m.training_source.clone().unwrap_or_default();
        if let Some(h) = m.training_accelerator_hours {
            published.push((
                Some("accelerator_hours"),
                1.0,
                Published {
                    name: "accelerator-hours".into(),
                    value: h,
                    unit: "h".into(),
                    estimate_p50: None,
                    source: src.clone(),
                },
            ));
        }
        if let Some(e) = m.reported_training_energy_mwh {
            published.push((
                Some("facility_energy_kwh"),
                1e-3,
                Published {
                    name: "training energy".into(),
                    value: e,
                    unit: "MWh".into(),
                    estimate_p50: None,
                    source: src.clone(),
                },
            ));
        }
        if let Some(c) = m.reported_training_tco2e {
            let basis = m.reported_emissions_basis.clone().unwrap_or_default();
            published.push((
                Some("operational_carbon_kgco2e"),
                1e-3,
                Published {
                    name: format!("training emissions ({basis})"),
                    value: c,
                    unit: "tCO2e".into(),
                    estimate_p50: None,
                    source: src.clone(),
                },
            ));
        }
        if let Some(d) = m.training_days {
            published.push((
                Some("duration_days"),
                1.0,
                Published {
                    name: "training days".into(),
                    value: d,
                    unit: "d".into(),
                    estimate_p50: None,
                    source: src,
                },
            ));
        }
    }

    // Compute.
    let total = params.or(model.and_then(|m| m.total_params).map(Range::point));
    let active = active
        .or(model.and_then(|m| m.active_params).map(Range::point))
        .or(total);
    let tokens = tokens.or(model.and_then(|m| m.training_tokens).map(Range::point));
    let compute = if let Some(f) = flops {
        user(&mut out, "compute", &f, "FLOP", "--flops");
        Compute::Flops(f)
    } else {
        match (active, tokens) {
            (Some(p), Some(k)) => {
                let from = |given: bool| if given { Origin::User } else { Origin::Catalog };
                out.push(Assumption {
                    name: "active_params".into(),
                    value: p.display(""),
                    origin: from(t.active_params.is_some() || t.params.is_some()),
                    source: model.map(Row::cite),
                });
                out.push(Assumption {
                    name: "tokens".into(),
                    value: k.display(""),
                    origin: from(t.tokens.is_some()),
                    source: model.map(Row::cite),
                });
                Compute::ParamsTokens {
                    active_params: p,
                    tokens: k,
                }
            }
            (Some(_), None) if wall.is_none() && gpu_hours.is_none() => {
                return Err(EstimateError::Missing("--tokens: how many tokens the model is trained on (e.g. --tokens 15.6T), or give --days / --gpu-hours".into()));
            }
            (None, Some(_)) if wall.is_none() && gpu_hours.is_none() => {
                return Err(EstimateError::Missing("--params: the model's (active) parameters (e.g. --params 405B), or give --days / --gpu-hours".into()));
            }
            _ => Compute::Unknown,
        }
    };

    let hw = hardware(
        cat,
        &t.hw,
        model.and_then(|m| m.training_accelerator.as_deref()),
        &mut out,
    )?;
    let accel = hw.accel.ok_or_else(|| EstimateError::Missing("--gpu: which accelerator (e.g. --gpu h100); `wattlens catalog list accelerators` lists them".into()))?;

    let n = match gpus {
        Some(g) => {
            user(&mut out, "accelerators", &g, "", "--gpus");
            g
        }
        None => match model.and_then(|m| m.training_accelerators) {
            Some(n) => {
                let r = Range::point(n);
                catalog_value(
                    &mut out,
                    "accelerators",
                    r,
                    "",
                    model.map(Row::cite).unwrap_or_default(),
                );
                r
            }
            None => {
                return Err(EstimateError::Missing(
                    "--gpus: how many accelerators the run uses (e.g. --gpus 16k)".into(),
                ))
            }
        },
    };

    let peak_t = t.precision.peak_tflops(accel).ok_or_else(|| EstimateError::Invalid {
        flag: "--precision",
        message: format!("{} has no published dense {} peak; choose another --precision or give --days/--gpu-hours", accel.name, t.precision.name()),
    })?;
    let peak = Range::point(peak_t * 1e12);
    catalog_value(
        &mut out,
        "peak",
        Range::point(peak_t),
        &format!("TFLOP/s {}", t.precision.name()),
        accel.cite(),
    );

    let duration = if let Some(w) = wall {
        user(&mut out, "wall_time", &w.scale(1.0 / 24.0), "d", "--days");
        Duration::Wall(w)
    } else if let Some(h) = gpu_hours {
        user(&mut out, "accelerator_hours", &h, "h", "--gpu-hours");
        Duration::AcceleratorHours(h)
    } else {
        if matches!(compute, Compute::Unknown) {
            return Err(EstimateError::Missing("the run's length: give --days or --gpu-hours, or the compute (--params and --tokens, or --flops)".into()));
        }
        let m = match mfu {
            Some(m) => {
                user(&mut out, "mfu", &m, "", "--mfu");
                m
            }
            None => coefficient(cat, "train.mfu", "mfu", 1.0, &mut out)?.range,
        };
        Duration::FromCompute { mfu: m }
    };

    // Power.
    let basis = t.basis.unwrap_or(if t.gpu_power.is_some() {
        Basis::Measured
    } else if hw.server.is_some() || t.hw.server_power.is_some() {
        Basis::Server
    } else {
        Basis::Tdp
    });
    out.push(Assumption {
        name: "power_basis".into(),
        value: format!("{basis:?}").to_ascii_lowercase(),
        origin: if t.basis.is_some() {
            Origin::User
        } else {
            Origin::Derived
        },
        source: None,
    });
    let board = || -> Result<Range, EstimateError> {
        accel.board_power_w.map(Range::point).ok_or_else(|| EstimateError::Missing(format!(
            "{} has no published board power: give --gpu-power (measured average W) or --server-power",
            accel.name
        )))
    };
    let power = match basis {
        Basis::Tdp => {
            let b = board()?;
            catalog_value(&mut out, "board_power", b, "W", accel.cite());
            let l = load(cat, &t.hw, "train.load", &mut out)?;
            let (h, r) = shares(cat, &mut out)?;
            PowerBasis::Tdp {
                board_w: b,
                load: l,
                host_share: h,
                rest_share: r,
            }
        }
        Basis::Server => {
            let server_w = match (positive("--server-power", t.hw.server_power)?, hw.server) {
                (Some(p), _) => {
                    user(&mut out, "server_power", &p, "W", "--server-power");
                    p
                }
                (None, Some(s)) => match s.max_power_kw {
                    Some(kw) => {
                        let r = Range::point(kw * 1000.0);
                        catalog_value(&mut out, "server_power", r, "W", format!("{}: {}", s.name, s.cite()));
                        r
                    }
                    None => return Err(EstimateError::Missing(format!("server {:?} publishes no maximum power: give --server-power or use --power-basis tdp", s.name))),
                },
                (None, None) => return Err(EstimateError::Missing("--power-basis server needs --server or --server-power".into())),
            };
            let l = load(cat, &t.hw, "train.load", &mut out)?;
            let host = match hw.server {
                Some(s) => host_w(cat, s)?.unwrap_or(0.0),
                None => 0.0,
            };
            PowerBasis::Server {
                server_w,
                per_server: hw.per_server,
                load: l,
                board_w: board().unwrap_or(Range::point(0.0)),
                host_w: Range::point(host),
            }
        }
        Basis::Measured => {
            let g = positive("--gpu-power", t.gpu_power)?.ok_or_else(|| {
                EstimateError::Missing(
                    "--power-basis measured needs --gpu-power (average W per accelerator)".into(),
                )
            })?;
            user(&mut out, "accelerator_power", &g, "W", "--gpu-power");
            let (h, r) = shares(cat, &mut out)?;
            PowerBasis::Measured {
                accel_w: g,
                host_share: h,
                rest_share: r,
            }
        }
    };

    // Failures.
    let rate = if let Some(c) = t.interruptions {
        user(&mut out, "interruptions", &c, "", "--interruptions");
        Some(RateSpec::Count(c))
    } else if let Some(m) = positive("--mtbf", t.mtbf_h)? {
        user(&mut out, "mtbf", &m, "h", "--mtbf");
        Some(RateSpec::Mtbf(m))
    } else {
        None
    };
    let failures = if let Some(rate) = rate {
        let write_h = t.checkpoint_h.ok_or_else(|| EstimateError::Missing("--checkpoint-minutes: how long one checkpoint takes to write (needed with --interruptions/--mtbf)".into()))?;
        let restart_h = t.restart_h.ok_or_else(|| EstimateError::Missing("--restart-minutes: how long a restart after an interruption takes (needed with --interruptions/--mtbf)".into()))?;
        user(
            &mut out,
            "checkpoint_write",
            &write_h.scale(60.0),
            "min",
            "--checkpoint-minutes",
        );
        user(
            &mut out,
            "restart",
            &restart_h.scale(60.0),
            "min",
            "--restart-minutes",
        );
        let interval_h = positive("--checkpoint-interval", t.interval_h)?;
        Some(Failures {
            rate,
            write_h,
            restart_h,
            interval_h,
        })
    } else {
        if t.checkpoint_h.is_some() || t.restart_h.is_some() || t.interval_h.is_some() {
            return Err(EstimateError::Missing("--interruptions or --mtbf: checkpoint and restart times only matter with an interruption rate".into()));
        }
        None
    };

    let mut site = resolve_site(cat, s, &mut out)?.site;
    hardware_embodied(&mut site, &hw, &mut out);
    let spec = TrainSpec {
        compute,
        peak,
        accelerators: n,
        per_server: hw.per_server,
        duration,
        power,
        failures,
        site,
    };
    let mut extra = Map::new();
    if let Some(m) = model {
        extra.insert("model".into(), json!(m.name));
    }
    extra.insert("accelerator".into(), json!(accel.name));
    Ok(Resolved {
        spec,
        assumptions: out,
        published,
        extra,
        notes: Vec::new(),
    })
}

/// `estimate fleet` inputs.
#[derive(Clone, Debug, Default)]
pub struct FleetInputs {
    /// `--servers`.
    pub servers: Option<Range>,
    /// `--hours` or `--days` (in hours).
    pub hours: Option<Range>,
    /// `--it-power`, W.
    pub it_power: Option<Range>,
    /// `--energy`, kWh over the period.
    pub energy: Option<Range>,
    /// Hardware.
    pub hw: HardwareInputs,
}

fn split_for(
    cat: &Catalog,
    hw: &Hardware<'_>,
    server_w: Option<f64>,
    out: &mut Vec<Assumption>,
) -> Result<Split, EstimateError> {
    if let (Some(s), Some(a)) = (hw.server, hw.accel) {
        if let (Some(w), Some(b)) = (
            server_w.or(s.max_power_kw.map(|k| k * 1000.0)),
            a.board_power_w,
        ) {
            let h = host_w(cat, s)?.unwrap_or(0.0);
            let n = hw.per_server.mid();
            return Ok(Split::of_server(w, n * b, h));
        }
    }
    let (h, r) = shares(cat, out)?;
    Ok(Split::Shares {
        host_share: h,
        rest_share: r,
    })
}

/// Resolves `estimate fleet`.
///
/// # Errors
/// Unknown names, out-of-domain values, contradictions and missing inputs, each naming flags.
pub fn fleet(
    cat: &Catalog,
    f: &FleetInputs,
    s: &SiteInputs,
) -> Result<Resolved<FleetSpec>, EstimateError> {
    let mut out = Vec::new();
    conflict(
        ("--servers", f.servers.is_some()),
        ("--it-power", f.it_power.is_some()),
        "give a server count or a total IT power",
    )?;
    conflict(
        ("--servers", f.servers.is_some()),
        ("--energy", f.energy.is_some()),
        "give a server count or a total energy",
    )?;
    conflict(
        ("--it-power", f.it_power.is_some()),
        ("--energy", f.energy.is_some()),
        "give a total IT power or a total energy",
    )?;
    let hours = match positive("--hours/--days", f.hours)? {
        Some(h) => {
            user(&mut out, "period", &h, "h", "--hours/--days");
            h
        }
        None => {
            out.push(Assumption {
                name: "period".into(),
                value: "24 h".into(),
                origin: Origin::Default,
                source: Some("one day when neither --hours nor --days is given".into()),
            });
            Range::point(24.0)
        }
    };
    let hw = hardware(cat, &f.hw, None, &mut out)?;
    let server_power = positive("--server-power", f.hw.server_power)?;
    let load_spec = if let Some(n) = positive("--servers", f.servers)? {
        user(&mut out, "servers", &n, "", "--servers");
        let w = match (server_power, hw.server) {
            (Some(p), _) => {
                user(&mut out, "server_power", &p, "W", "--server-power");
                p
            }
            (None, Some(srv)) => match srv.max_power_kw {
                Some(kw) => {
                    let r = Range::point(kw * 1000.0);
                    catalog_value(&mut out, "server_power", r, "W", format!("{}: {}", srv.name, srv.cite()));
                    r
                }
                None => return Err(EstimateError::Missing(format!("server {:?} publishes no maximum power: give --server-power", srv.name))),
            },
            (None, None) => return Err(EstimateError::Missing("--server or --server-power: the power of one server (e.g. --server hgx-a100 or --server-power 6.5kW)".into())),
        };
        let l = load(cat, &f.hw, "fleet.load", &mut out)?;
        let per = if hw.accel.is_some() || f.hw.gpus_per_server.is_some() {
            hw.per_server
        } else {
            Range::point(0.0)
        };
        Load::Servers {
            servers: n,
            server_w: w,
            load: l,
            accelerators_per_server: per,
        }
    } else if let Some(p) = positive("--it-power", f.it_power)? {
        user(&mut out, "it_power", &p, "W", "--it-power");
        Load::ItPower(p)
    } else if let Some(e) = positive("--energy", f.energy)? {
        user(&mut out, "it_energy", &e, "kWh", "--energy");
        Load::Energy(e)
    } else {
        return Err(EstimateError::Missing(
            "the fleet's size: --servers (with --server or --server-power), --it-power or --energy"
                .into(),
        ));
    };
    if server_power.is_some() && !matches!(load_spec, Load::Servers { .. }) {
        return Err(EstimateError::Missing("--servers: --server-power is the power of one server, so give the number of servers too".into()));
    }
    let split = split_for(cat, &hw, server_power.map(|r| r.mid()), &mut out)?;
    let mut site = resolve_site(cat, s, &mut out)?.site;
    hardware_embodied(&mut site, &hw, &mut out);
    Ok(Resolved {
        spec: FleetSpec {
            load: load_spec,
            hours,
            split,
            site,
        },
        assumptions: out,
        published: Vec::new(),
        extra: Map::new(),
        notes: Vec::new(),
    })
}

/// `estimate datacenter` inputs.
#[derive(Clone, Debug, Default)]
pub struct DatacenterInputs {
    /// `--it-power`, W.
    pub it_power: Option<Range>,
    /// `--servers` (with `--server`/`--server-power`) as an alternative to `--it-power`.
    pub servers: Option<Range>,
    /// `--hours` / `--days` (default a year).
    pub hours: Option<Range>,
    /// `--breakdown`.
    pub breakdown: Option<String>,
    /// `--rack-power`, W.
    pub rack_power: Option<Range>,
    /// `--servers-per-rack`.
    pub servers_per_rack: Option<Range>,
    /// Hardware.
    pub hw: HardwareInputs,
}

/// Resolves `estimate datacenter`.
///
/// # Errors
/// Unknown names, out-of-domain values, contradictions and missing inputs, each naming flags.
#[allow(clippy::too_many_lines)]
pub fn datacenter(
    cat: &Catalog,
    dc: &DatacenterInputs,
    s: &SiteInputs,
) -> Result<Resolved<DatacenterSpec>, EstimateError> {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let mut extra = Map::new();
    conflict(
        ("--breakdown", dc.breakdown.is_some()),
        ("--pue", s.pue.is_some()),
        "the breakdown defines the PUE (1 / IT share); give one",
    )?;
    conflict(
        ("--it-power", dc.it_power.is_some()),
        ("--servers", dc.servers.is_some()),
        "give the IT power or the servers that make it up",
    )?;
    conflict(
        ("--rack-power", dc.rack_power.is_some()),
        ("--servers-per-rack", dc.servers_per_rack.is_some()),
        "give the rack power or the servers per rack",
    )?;
    let hw = hardware(cat, &dc.hw, None, &mut out)?;
    let server_power = positive("--server-power", dc.hw.server_power)?;
    let server_w = server_power.or(hw
        .server
        .and_then(|s| s.max_power_kw)
        .map(|k| Range::point(k * 1000.0)));

    let hours = match positive("--hours/--days", dc.hours)? {
        Some(h) => {
            user(&mut out, "period", &h, "h", "--hours/--days");
            h
        }
        None => {
            out.push(Assumption {
                name: "period".into(),
                value: "8760 h".into(),
                origin: Origin::Default,
                source: Some("one year when neither --hours nor --days is given".into()),
            });
            Range::point(8760.0)
        }
    };
    let (it_power, servers) = if let Some(p) = positive("--it-power", dc.it_power)? {
        user(&mut out, "it_power", &p, "W", "--it-power");
        (
            p,
            server_w.map_or(Range::point(0.0), |w| Range::new(p.lo / w.hi, p.hi / w.lo)),
        )
    } else if let Some(n) = positive("--servers", dc.servers)? {
        let w = server_w.ok_or_else(|| {
            EstimateError::Missing("--server or --server-power: the power of one server".into())
        })?;
        let l = load(cat, &dc.hw, "fleet.load", &mut out)?;
        user(&mut out, "servers", &n, "", "--servers");
        (Range::new(n.lo * w.lo * l.lo, n.hi * w.hi * l.hi), n)
    } else {
        return Err(EstimateError::Missing(
            "--it-power: the average IT load (e.g. --it-power 20MW), or --servers with --server"
                .into(),
        ));
    };
    let accelerators = if hw.accel.is_some() {
        Range::new(servers.lo * hw.per_server.lo, servers.hi * hw.per_server.hi)
    } else {
        Range::point(0.0)
    };

    let mut site_in = s.clone();
    let overhead = if let Some(b) = &dc.breakdown {
        let b = Breakdown::parse(b)?;
        let pue = b.pue();
        site_in.pue = Some(Range::point(pue));
        out.push(Assumption {
            name: "breakdown".into(),
            value: format!(
                "it={} cooling={} power={} other={}",
                fmt_num(b.it),
                fmt_num(b.cooling),
                fmt_num(b.power),
                fmt_num(b.other)
            ),
            origin: Origin::User,
            source: Some("--breakdown".into()),
        });
        extra.insert("pue_from_breakdown".into(), json!(pue));
        (b.cooling, b.power, b.other)
    } else {
        let c = cat
            .coefficient("datacenter.overhead_cooling")?
            .range()
            .mid();
        let p = cat.coefficient("datacenter.overhead_power")?.range().mid();
        (c, p, (1.0 - c - p).max(0.0))
    };
    let resolved = resolve_site(cat, &site_in, &mut out)?;
    let mut site = resolved.site;
    if dc.breakdown.is_some() {
        site.pue = Param::new(site.pue.range, "1 / IT share of --breakdown");
    }
    hardware_embodied(&mut site, &hw, &mut out);
    let split = split_for(cat, &hw, server_power.map(|r| r.mid()), &mut out)?;

    // Rack density and the cooling it needs.
    let rack_w = if let Some(r) = positive("--rack-power", dc.rack_power)? {
        Some(r.mid())
    } else if let Some(n) = positive("--servers-per-rack", dc.servers_per_rack)? {
        let w = server_w.ok_or_else(|| {
            EstimateError::Missing(
                "--server or --server-power: needed with --servers-per-rack".into(),
            )
        })?;
        Some(n.mid() * w.mid())
    } else {
        None
    };
    if let Some(w) = rack_w {
        let kw = w / 1000.0;
        let dcs = cat.datacenters()?;
        let mut suitable: Vec<(String, f64)> = dcs
            .rows()
            .iter()
            .filter(|d| d.kind.as_deref() == Some("cooling"))
            .filter_map(|d| {
                d.max_rack_kw
                    .filter(|m| *m >= kw)
                    .map(|m| (d.name.clone(), m))
            })
            .collect();
        suitable.sort_by(|a, b| a.1.total_cmp(&b.1));
        if let Some(c) = &s.cooling {
            let row = dcs.get(c)?;
            if let Some(m) = row.max_rack_kw {
                if m < kw {
                    notes.push(format!(
                        "{} kW per rack exceeds what {} handles (up to {} kW, {}); consider {}",
                        fmt_num(kw),
                        row.name,
                        fmt_num(m),
                        row.cite(),
                        suitable
                            .first()
                            .map_or("a denser cooling type".to_string(), |s| s.0.clone())
                    ));
                }
            }
        }
        extra.insert("rack".into(), json!({
            "power_kw": kw,
            "suitable_cooling": suitable.iter().map(|(n, m)| json!({"name": n, "max_rack_kw": m})).collect::<Vec<_>>(),
        }));
    }
    let spec = DatacenterSpec {
        it_power,
        hours,
        split,
        overhead,
        servers,
        accelerators,
        site,
    };
    Ok(Resolved {
        spec,
        assumptions: out,
        published: Vec::new(),
        extra,
        notes,
    })
}
