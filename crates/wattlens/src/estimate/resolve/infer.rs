//! Resolving `estimate infer`: the model's shape from the catalog or flags, the accelerator's
//! memory, bandwidth and peak at the chosen precision, the replica size (checked against
//! `--gpus`), the context length, the sourced efficiency ranges, and the request volume.

use super::{
    catalog_value, conflict, fallback_notes, fraction, hardware, hardware_embodied, positive,
    shares, user, HardwareInputs, Precision, Resolved,
};
use crate::catalog::{Catalog, Model, Row};
use crate::estimate::infer::{
    accelerators_needed, kv_per_token, replica_memory, weight_memory, Batch, Energy, InferSpec,
    Roofline, Shape, Volume,
};
use crate::estimate::site::{coefficient, resolve as resolve_site, SiteInputs};
use crate::estimate::EstimateError;
use crate::explain::{Assumption, Origin};
use crate::result::{Details, HardwareDetails};
use crate::uncertainty::{fmt_human, fmt_input, Range};
use crate::units::Bytes;

/// `estimate infer` inputs.
#[derive(Clone, Debug, Default)]
pub struct InferInputs {
    /// `--model`.
    pub model: Option<String>,
    /// `--params`.
    pub params: Option<Range>,
    /// `--active-params`.
    pub active_params: Option<Range>,
    /// `--gpu`, `--server`, `--gpus-per-server`.
    pub hw: HardwareInputs,
    /// `--gpus`: accelerators per replica.
    pub gpus: Option<Range>,
    /// `--input-tokens`.
    pub input_tokens: Option<Range>,
    /// `--output-tokens` (reasoning tokens included).
    pub output_tokens: Option<Range>,
    /// `--batch`.
    pub batch: Option<Range>,
    /// `--precision`.
    pub precision: Precision,
    /// `--requests`.
    pub requests: Option<Range>,
    /// `--requests-per-day`.
    pub requests_per_day: Option<Range>,
    /// `--energy-per-request`, kWh of IT energy.
    pub energy_per_request: Option<Range>,
    /// `--utilization`: busy share of the service's time.
    pub utilization: Option<Range>,
    /// `--mfu`: achieved fraction of peak compute.
    pub mfu: Option<Range>,
    /// `--mbu`: achieved fraction of peak memory bandwidth.
    pub mbu: Option<Range>,
}

/// A value from a flag, else a default coefficient.
fn given_or(
    cat: &Catalog,
    out: &mut Vec<Assumption>,
    given: Option<Range>,
    (name, unit, flag): (&str, &str, &str),
    key: &str,
) -> Result<Range, EstimateError> {
    Ok(match given {
        Some(r) => {
            user(out, name, &r, unit, flag);
            r
        }
        None => coefficient(cat, key, name, 1.0, out)?.range,
    })
}

/// The model's architecture: (total, active, layers, KV width, attention width, context).
struct Arch {
    total: Range,
    active: Range,
    layers: f64,
    kv_width: f64,
    attn_width: f64,
    context: Option<f64>,
}

fn arch(
    model: Option<&Model>,
    i: &InferInputs,
    out: &mut Vec<Assumption>,
    notes: &mut Vec<String>,
) -> Result<Arch, EstimateError> {
    let params = positive("--params", i.params)?;
    let active = positive("--active-params", i.active_params)?;
    let total = params
        .or(model.and_then(|m| m.total_params).map(Range::point))
        .ok_or_else(|| {
            EstimateError::Missing(
                "--model or --params: which model serves the requests (e.g. --model llama-3.1-8b or --params 8B)"
                    .into(),
            )
        })?;
    // A model's own active count goes with its own total, not with a --params override.
    let active = active
        .or(model
            .filter(|_| params.is_none())
            .and_then(|m| m.active_params)
            .map(Range::point))
        .unwrap_or(total);
    if active.hi > total.hi {
        return Err(EstimateError::Invalid {
            flag: "--active-params",
            message: format!(
                "{} active parameters exceed the {} total",
                active.display(""),
                total.display("")
            ),
        });
    }
    // A value from a flag cites the flag; one from the preset, the preset's sources.
    let from = |flag: Option<&str>| match flag {
        Some(f) => (Origin::User, Some(f.to_string())),
        None => (Origin::Catalog, model.map(Row::cite)),
    };
    let (origin, source) = from(i.params.map(|_| "--params"));
    out.push(Assumption {
        name: "total_params".into(),
        value: total.display(""),
        origin,
        source,
    });
    let (origin, source) = from(if i.active_params.is_some() {
        Some("--active-params")
    } else {
        i.params.map(|_| "--params")
    });
    out.push(Assumption {
        name: "active_params".into(),
        value: active.display(""),
        origin,
        source,
    });
    if let (Some(m), Some(p), None) = (model, params, i.active_params) {
        if let (Some(a), Some(n)) = (m.active_params, m.total_params) {
            if a < n {
                notes.push(format!(
                    "--params replaces {}'s {} parameters, and its {} active parameters (a mixture of experts) go with them: all {} parameters are taken as active; give --active-params for a mixture-of-experts model",
                    m.name,
                    fmt_human(n),
                    fmt_human(a),
                    p.display("")
                ));
            }
        }
    }
    let m = model.filter(|_| i.params.is_none());
    let layers = m.and_then(|m| m.layers);
    let head_dim = m.and_then(|m| {
        m.head_dim.or(match (m.hidden_size, m.attention_heads) {
            (Some(h), Some(n)) if n > 0.0 => Some(h / n),
            _ => None,
        })
    });
    let kv_width = m.and_then(|m| {
        m.kv_cache_width
            .or(match (m.kv_heads.or(m.attention_heads), head_dim) {
                (Some(k), Some(d)) => Some(2.0 * k * d),
                _ => None,
            })
    });
    let attn_width = m.and_then(|m| match (m.attention_heads, head_dim) {
        (Some(n), Some(d)) => Some(n * d),
        _ => m.hidden_size,
    });
    let (layers, kv_width, attn_width) = match (layers, kv_width) {
        (Some(l), Some(k)) => {
            out.push(Assumption {
                name: "kv_cache".into(),
                value: format!(
                    "{} layers x {} values per token",
                    fmt_input(l),
                    fmt_input(k)
                ),
                origin: Origin::Catalog,
                source: m.map(Row::cite),
            });
            (l, k, attn_width.unwrap_or(0.0))
        }
        _ => {
            let why = match (model, i.params) {
                (Some(m), Some(_)) => format!(
                    "--params replaces {}'s size, so its layers and KV heads no longer apply",
                    m.name
                ),
                (Some(m), None) => format!("{}'s catalog row gives no layers and KV heads", m.name),
                (None, _) => {
                    "the model's layers and KV heads are not known (--params without --model)"
                        .to_string()
                }
            };
            notes.push(format!("{why}: the KV cache and attention FLOPs are left out, so memory and energy are lower bounds"));
            (0.0, 0.0, 0.0)
        }
    };
    Ok(Arch {
        total,
        active,
        layers,
        kv_width,
        attn_width,
        context: m.and_then(|m| m.context_length),
    })
}

/// Resolves `estimate infer`.
///
/// # Errors
/// Unknown names, out-of-domain values (batch 0, more tokens than the context, a model that does
/// not fit `--gpus`, a precision the accelerator has no peak for), contradictions and missing
/// inputs, each naming flags.
#[allow(clippy::too_many_lines)]
pub fn infer(
    cat: &Catalog,
    i: &InferInputs,
    s: &SiteInputs,
) -> Result<Resolved<InferSpec>, EstimateError> {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let mut extra = HardwareDetails::default();
    conflict(
        ("--requests", i.requests.is_some()),
        ("--requests-per-day", i.requests_per_day.is_some()),
        "give a number of requests or a daily rate",
    )?;
    let given = positive("--energy-per-request", i.energy_per_request)?;
    if given.is_some() {
        let unused: Vec<&str> = [
            ("--batch", i.batch.is_some()),
            ("--gpus", i.gpus.is_some()),
            ("--input-tokens", i.input_tokens.is_some()),
            ("--mfu", i.mfu.is_some()),
            ("--mbu", i.mbu.is_some()),
            ("--utilization", i.utilization.is_some()),
        ]
        .into_iter()
        .filter_map(|(f, set)| set.then_some(f))
        .collect();
        if !unused.is_empty() {
            notes.push(format!(
                "--energy-per-request replaces the model of a request, so {} are not used",
                unused.join(", ")
            ));
        }
    }
    let batch = positive("--batch", i.batch)?;
    let input = positive("--input-tokens", i.input_tokens)?;
    let output = positive("--output-tokens", i.output_tokens)?;
    let gpus = positive("--gpus", i.gpus)?;
    let utilisation = fraction("--utilization", i.utilization, 1.0)?;
    let mfu = fraction("--mfu", i.mfu, 1.0)?;
    let mbu = fraction("--mbu", i.mbu, 1.0)?;

    let model = match &i.model {
        Some(m) => Some(
            cat.models()?
                .get(m)
                .map_err(|e| EstimateError::from_flag("--model", e))?,
        ),
        None => None,
    };
    if let Some(m) = model {
        out.push(Assumption {
            name: "model".into(),
            value: m.name.clone(),
            origin: Origin::User,
            source: Some(m.cite()),
        });
        extra.model = Some(m.name.clone());
    }
    let output = given_or(
        cat,
        &mut out,
        output,
        ("output_tokens", "", "--output-tokens"),
        "infer.output_tokens",
    )?;
    let volume = match (
        positive("--requests", i.requests)?,
        positive("--requests-per-day", i.requests_per_day)?,
    ) {
        (Some(n), _) => {
            user(&mut out, "requests", &n, "", "--requests");
            Volume::Requests(n)
        }
        (None, Some(r)) => {
            user(
                &mut out,
                "requests_per_day",
                &r,
                "/day",
                "--requests-per-day",
            );
            Volume::PerDay(r)
        }
        (None, None) => Volume::Requests(Range::point(1.0)),
    };
    let (host_share, rest_share) = shares(cat, &mut out)?;

    let energy = if let Some(e) = given {
        user(
            &mut out,
            "it_energy_per_request",
            &e.scale(1e3),
            "Wh",
            "--energy-per-request",
        );
        notes.push("--energy-per-request bypasses the model: embodied carbon is not counted (no busy time is known)".into());
        if i.output_tokens.is_none() {
            notes.push(format!(
                "the per-token figures divide --energy-per-request by a default of {} output tokens per request; give --output-tokens for your requests' length",
                output.display("")
            ));
        }
        if i.hw.gpu.is_some() {
            extra.accelerator.clone_from(&i.hw.gpu);
        }
        Energy::Given { it_kwh: e }
    } else {
        let a = arch(model, i, &mut out, &mut notes)?;
        let hw = hardware(cat, &i.hw, None, &mut out)?;
        let accel = hw.accel.ok_or_else(|| EstimateError::Missing("--gpu: which accelerator serves the model (e.g. --gpu h100); `wattlens catalog list accelerators` lists them".into()))?;
        extra.accelerator = Some(accel.name.clone());
        let input = given_or(
            cat,
            &mut out,
            input,
            ("input_tokens", "", "--input-tokens"),
            "infer.input_tokens",
        )?;
        let batch_given = batch.is_some();
        let mut batch = given_or(
            cat,
            &mut out,
            batch,
            ("batch", "", "--batch"),
            "infer.batch",
        )?;
        if let Some(ctx) = a.context {
            if input.hi + output.hi > ctx {
                return Err(EstimateError::Invalid {
                    flag: "--input-tokens/--output-tokens",
                    message: format!(
                        "{} input + {} output tokens exceed the model's context of {} tokens",
                        fmt_input(input.hi),
                        fmt_input(output.hi),
                        fmt_input(ctx)
                    ),
                });
            }
        }
        let p = i.precision;
        out.push(Assumption {
            name: "precision".into(),
            value: format!(
                "{} ({} B per weight, {} B per cached value)",
                p.name(),
                fmt_input(p.bytes()),
                fmt_input(p.kv_bytes())
            ),
            origin: Origin::User,
            source: Some("--precision".into()),
        });
        let peak = p.peak_tflops(accel).ok_or_else(|| EstimateError::Invalid {
            flag: "--precision",
            message: format!(
                "{} has no published dense {} peak; choose another --precision",
                accel.name,
                p.name()
            ),
        })?;
        catalog_value(
            &mut out,
            "peak",
            Range::point(peak),
            &format!("TFLOP/s {}", p.name()),
            accel.cite(),
        );
        let (mem_gb, bw) = match (accel.memory_gb, accel.mem_bw_gb_s) {
            (Some(m), Some(b)) => (m, b),
            (m, _) => {
                // Name only what the row lacks.
                let lacks = if m.is_some() {
                    "memory bandwidth"
                } else if accel.mem_bw_gb_s.is_some() {
                    "memory size"
                } else {
                    "memory size or bandwidth"
                };
                return Err(EstimateError::Missing(format!(
                    "{} publishes no {lacks}: choose another --gpu or give --energy-per-request",
                    accel.name
                )));
            }
        };
        catalog_value(&mut out, "memory", Range::point(mem_gb), "GB", accel.cite());
        catalog_value(
            &mut out,
            "bandwidth",
            Range::point(bw),
            "GB/s",
            accel.cite(),
        );
        let board = accel.board_power_w.ok_or_else(|| {
            EstimateError::Missing(format!(
            "{} has no published board power: choose another --gpu or give --energy-per-request",
            accel.name
        ))
        })?;
        catalog_value(
            &mut out,
            "board_power",
            Range::point(board),
            "W",
            accel.cite(),
        );

        // Memory: the largest batch at full context must fit.
        let usable = coefficient(cat, "infer.memory_usable", "memory_usable", 1.0, &mut out)?
            .range
            .lo;
        let shape = Shape {
            total_params: a.total.hi,
            active_params: a.active.hi,
            layers: a.layers,
            kv_width: a.kv_width,
            attn_width: a.attn_width,
        };
        let worst = Batch {
            size: batch.hi,
            input_tokens: input.hi,
            output_tokens: output.hi,
        };
        let need = replica_memory(&shape, &worst, p.bytes(), p.kv_bytes());
        let per_acc = Bytes(mem_gb * 1e9 * usable);
        let n = match gpus {
            Some(g) => {
                if !g.is_point() {
                    return Err(EstimateError::Invalid {
                        flag: "--gpus",
                        message: "the accelerators of one replica are a single number".into(),
                    });
                }
                let cap = g.lo * per_acc.0;
                // A default batch range is narrowed to what fits; a given one is checked.
                let per_seq = kv_per_token(&shape, p.kv_bytes()).0 * (input.hi + output.hi);
                let weights = weight_memory(a.total.hi, p.bytes()).0;
                if need.0 > cap && !batch_given && weights < cap {
                    let fit = if per_seq > 0.0 {
                        ((cap - weights) / per_seq).floor()
                    } else {
                        batch.hi
                    };
                    if fit >= 1.0 {
                        batch = Range::new(batch.lo.min(fit), fit);
                        notes.push(format!(
                            "the default batch range is narrowed to {} so that the KV cache fits --gpus {}",
                            batch.display(""),
                            fmt_input(g.lo)
                        ));
                        // The assumption shows the batch used, not the default it came from.
                        if let Some(b) = out.iter_mut().find(|x| x.name == "batch") {
                            b.value = batch.display("");
                            b.origin = Origin::Derived;
                            b.source = Some(format!(
                                "the default infer.batch narrowed so that the KV cache fits --gpus {}",
                                fmt_input(g.lo)
                            ));
                        }
                    }
                }
                if weights > cap {
                    return Err(EstimateError::Invalid {
                        flag: "--gpus",
                        message: format!(
                            "the model does not fit: its weights alone are {} GB in {}, more than {} x {} hold ({} GB usable each); give at least --gpus {} or a lower --precision",
                            fmt_input(weights / 1e9),
                            p.name(),
                            fmt_input(g.lo),
                            accel.name,
                            fmt_input(per_acc.0 / 1e9),
                            fmt_input(accelerators_needed(Bytes(weights), per_acc))
                        ),
                    });
                }
                let need = Bytes(weights + per_seq * batch.hi);
                if need.0 > cap {
                    return Err(EstimateError::Invalid {
                        flag: "--gpus",
                        message: format!(
                            "the model does not fit: {} GB of weights and KV cache (batch {}, {} tokens) need {} x {} ({} GB usable each), not {}; give more --gpus, a smaller --batch or a lower --precision",
                            fmt_input(need.0 / 1e9),
                            fmt_input(batch.hi),
                            fmt_input(input.hi + output.hi),
                            fmt_input(accelerators_needed(need, per_acc)),
                            accel.name,
                            fmt_input(per_acc.0 / 1e9),
                            fmt_input(g.lo)
                        ),
                    });
                }
                user(&mut out, "accelerators_per_replica", &g, "", "--gpus");
                g.lo
            }
            None => {
                let n = accelerators_needed(need, per_acc);
                out.push(Assumption {
                    name: "accelerators_per_replica".into(),
                    value: fmt_input(n),
                    origin: Origin::Derived,
                    source: Some(format!(
                        "{} GB of weights and KV cache / {} GB usable per accelerator, rounded up to a power of two",
                        fmt_input(need.0 / 1e9),
                        fmt_input(per_acc.0 / 1e9)
                    )),
                });
                n
            }
        };
        let mfu = given_or(cat, &mut out, mfu, ("mfu", "", "--mfu"), "infer.mfu")?;
        let mbu = given_or(cat, &mut out, mbu, ("mbu", "", "--mbu"), "infer.mbu")?;
        let step_overhead =
            coefficient(cat, "infer.step_overhead", "step_overhead", 1e-6, &mut out)?.range;
        let power_low = coefficient(cat, "infer.power_low", "power_low", 1.0, &mut out)?.range;
        let power_high = coefficient(cat, "infer.power_high", "power_high", 1.0, &mut out)?.range;
        let power_idle = coefficient(cat, "infer.power_idle", "power_idle", 1.0, &mut out)?.range;
        let utilisation = match utilisation {
            Some(u) => {
                user(&mut out, "utilization", &u, "", "--utilization");
                u
            }
            None => {
                out.push(Assumption {
                    name: "utilization".into(),
                    value: "1".into(),
                    origin: Origin::Default,
                    source: Some("no idle time between requests unless --utilization is given (a lower bound for a real service)".into()),
                });
                Range::point(1.0)
            }
        };
        Energy::Modelled(Box::new(Roofline {
            total_params: a.total,
            active_params: a.active,
            layers: a.layers,
            kv_width: a.kv_width,
            attn_width: a.attn_width,
            batch,
            input_tokens: input,
            accelerators: n,
            per_server: hw.per_server.mid().max(1.0),
            peak: Range::point(peak * 1e12),
            bandwidth: Range::point(bw * 1e9),
            mfu,
            mbu,
            step_overhead,
            weight_bytes: p.bytes(),
            kv_bytes: p.kv_bytes(),
            board_w: Range::point(board),
            power_low,
            power_high,
            power_idle,
            utilisation,
        }))
    };

    let mut site = resolve_site(cat, s, &mut out)?.site;
    fallback_notes(s, &out, &mut notes);
    if matches!(energy, Energy::Modelled(_)) {
        let hw = hardware(cat, &i.hw, None, &mut Vec::new())?;
        hardware_embodied(&mut site, &hw, &mut out);
    }
    Ok(Resolved {
        spec: InferSpec {
            energy,
            output_tokens: output,
            volume,
            host_share,
            rest_share,
            site,
        },
        assumptions: out,
        published: Vec::new(),
        details: Details::Infer(extra),
        notes,
    })
}
