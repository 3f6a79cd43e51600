//! The modelled energy of a request: the accelerator's peak, memory, bandwidth and board power
//! at the precision, the replica that holds the model and its KV cache (checked against a given
//! count), and the sourced efficiency and power ranges of serving.

use super::super::{catalog_value, hardware, user, Precision};
use super::arch::{arch, Arch};
use super::{given_or, Given, InferInputs};
use crate::catalog::{Accelerator, Catalog, Model, Row};
use crate::estimate::infer::{
    accelerators_needed, kv_per_token, replica_memory, weight_memory, Batch, Energy, Roofline,
    Shape,
};
use crate::estimate::site::coefficient;
use crate::estimate::EstimateError;
use crate::explain::{Assumption, Origin};
use crate::field::Field;
use crate::uncertainty::{fmt_input, Range};
use crate::units::Bytes;

/// The roofline model of a request, and the accelerator's name.
pub(super) fn modelled(
    cat: &Catalog,
    i: &InferInputs,
    g: &Given,
    model: Option<&Model>,
    output: Range,
    out: &mut Vec<Assumption>,
    notes: &mut Vec<String>,
) -> Result<(Energy, String), EstimateError> {
    let a = arch(model, i, out, notes)?;
    let hw = hardware(cat, &i.hw, None, out)?;
    let accel = hw.accel.ok_or_else(|| EstimateError::Missing("{gpu}: which accelerator serves the model (e.g. {gpu} h100); `wattlens catalog list accelerators` lists them".into()))?;
    let input = given_or(
        cat,
        out,
        g.input,
        ("input_tokens", "", Field::InputTokens),
        "infer.input_tokens",
    )?;
    let batch = given_or(
        cat,
        out,
        g.batch,
        ("batch", "", Field::Batch),
        "infer.batch",
    )?;
    if let Some(ctx) = a.context {
        if input.hi + output.hi > ctx {
            return Err(EstimateError::InvalidPair {
                a: Field::InputTokens,
                b: Field::OutputTokens,
                message: format!(
                    "{} input + {} output tokens exceed the model's context of {} tokens",
                    fmt_input(input.hi),
                    fmt_input(output.hi),
                    fmt_input(ctx)
                )
                .into(),
            });
        }
    }
    let p = i.precision;
    let f = facts(accel, p, out)?;
    // Memory: the largest batch at full context must fit.
    let usable = coefficient(cat, "infer.memory_usable", "memory_usable", 1.0, out)?
        .range
        .lo;
    let fit = Fit {
        accel,
        p,
        per_acc: Bytes(f.mem_gb * 1e9 * usable),
        tokens: (input.hi, output.hi),
    };
    let (n, batch) = replica(&a, &fit, g, batch, out, notes)?;
    let s = serving(cat, g, out)?;
    let power_cap =
        crate::estimate::power_cap::resolve(cat, i.power_cap, Some(f.board), true, out)?;
    if let Some(c) = &power_cap {
        notes.push(c.note());
    }
    let roofline = Roofline {
        total_params: a.total,
        active_params: a.active,
        layers: a.layers,
        kv_width: a.kv_width,
        attn_width: a.attn_width,
        inferred: a.inferred,
        batch,
        input_tokens: input,
        accelerators: n,
        per_server: hw.per_server.mid().max(1.0),
        peak: Range::point(f.peak * 1e12),
        bandwidth: Range::point(f.bw * 1e9),
        mfu: s.mfu,
        mbu: s.mbu,
        step_overhead: s.step_overhead,
        weight_bytes: p.bytes(),
        kv_bytes: p.kv_bytes(),
        board_w: Range::point(f.board),
        power_low: s.power_low,
        power_high: s.power_high,
        power_idle: s.power_idle,
        utilisation: s.utilisation,
        power_cap,
        on_device: false,
    };
    Ok((Energy::Modelled(Box::new(roofline)), accel.name.clone()))
}

/// What the accelerator's row publishes: peak TFLOP/s at the precision, memory GB, bandwidth
/// GB/s, board power W.
struct Facts {
    peak: f64,
    mem_gb: f64,
    bw: f64,
    board: f64,
}

/// The precision and the accelerator's published figures, each recorded; a missing one is
/// refused, naming what the row lacks.
fn facts(
    accel: &Accelerator,
    p: Precision,
    out: &mut Vec<Assumption>,
) -> Result<Facts, EstimateError> {
    out.push(Assumption {
        name: "precision".into(),
        value: format!(
            "{} ({} B per weight, {} B per cached value)",
            p.name(),
            fmt_input(p.bytes()),
            fmt_input(p.kv_bytes())
        ),
        origin: Origin::User,
        source: None,
        field: Some(Field::Precision),
    });
    let peak = p.peak_tflops(accel).ok_or_else(|| EstimateError::Invalid {
        field: Field::Precision,
        message: format!(
            "{} has no published dense {} peak; choose another {{precision}}",
            accel.name,
            p.name()
        )
        .into(),
    })?;
    let peak_unit = format!("TFLOP/s {}", p.name());
    catalog_value(out, "peak", Range::point(peak), &peak_unit, accel.cite());
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
            return Err(EstimateError::Missing(
                format!(
                "{} publishes no {lacks}: choose another {{gpu}} or give {{energy_per_request}}",
                accel.name
            )
                .into(),
            ));
        }
    };
    catalog_value(out, "memory", Range::point(mem_gb), "GB", accel.cite());
    catalog_value(out, "bandwidth", Range::point(bw), "GB/s", accel.cite());
    let board = accel.board_power_w.ok_or_else(|| {
        EstimateError::Missing(format!(
            "{} has no published board power: choose another {{gpu}} or give {{energy_per_request}}",
            accel.name
        ).into())
    })?;
    catalog_value(out, "board_power", Range::point(board), "W", accel.cite());
    Ok(Facts {
        peak,
        mem_gb,
        bw,
        board,
    })
}

/// What a replica must hold: the accelerator, the precision, usable memory per accelerator and
/// the longest request's (input, output) tokens.
struct Fit<'a> {
    accel: &'a Accelerator,
    p: Precision,
    per_acc: Bytes,
    tokens: (f64, f64),
}

/// The accelerators of one replica (given and checked, or the fewest that hold the model and
/// its KV cache), and the batch (a default one narrowed to what a given replica holds).
fn replica(
    a: &Arch,
    fit: &Fit<'_>,
    g: &Given,
    batch: Range,
    out: &mut Vec<Assumption>,
    notes: &mut Vec<String>,
) -> Result<(f64, Range), EstimateError> {
    let shape = Shape {
        total_params: a.total.hi,
        active_params: a.active.hi,
        layers: a.layers,
        kv_width: a.kv_width,
        attn_width: a.attn_width,
    };
    let worst = Batch {
        size: batch.hi,
        input_tokens: fit.tokens.0,
        output_tokens: fit.tokens.1,
    };
    let need = replica_memory(&shape, &worst, fit.p.bytes(), fit.p.kv_bytes());
    let Some(gpus) = g.gpus else {
        let n = accelerators_needed(need, fit.per_acc);
        out.push(Assumption {
            name: "accelerators_per_replica".into(),
            value: fmt_input(n),
            origin: Origin::Derived,
            source: Some(format!(
                "{} GB of weights and KV cache / {} GB usable per accelerator, rounded up to a power of two",
                fmt_input(need.0 / 1e9),
                fmt_input(fit.per_acc.0 / 1e9)
            )),
            field: None,
        });
        return Ok((n, batch));
    };
    if !gpus.is_point() {
        return Err(EstimateError::Invalid {
            field: Field::Gpus,
            message: "the accelerators of one replica are a single number".into(),
        });
    }
    let per_seq = kv_per_token(&shape, fit.p.kv_bytes()).0 * (fit.tokens.0 + fit.tokens.1);
    let weights = weight_memory(a.total.hi, fit.p.bytes()).0;
    let cap = gpus.lo * fit.per_acc.0;
    // A default batch range is narrowed to what fits; a given one is checked.
    let batch = if need.0 > cap && g.batch.is_none() && weights < cap {
        narrowed(batch, (cap - weights, per_seq), gpus.lo, out, notes)
    } else {
        batch
    };
    // An inferred shape is refused only when its smallest plausible KV cache does not fit.
    let per_seq = a.inferred.map_or(per_seq, |s| {
        s.smallest_kv_per_token(a.active.hi) * fit.p.kv_bytes() * (fit.tokens.0 + fit.tokens.1)
    });
    fits(fit, gpus.lo, weights, per_seq, batch)?;
    user(out, "accelerators_per_replica", &gpus, "", Field::Gpus);
    Ok((gpus.lo, batch))
}

/// A default batch range narrowed to the sequences whose KV cache fits beside the weights
/// (`room` bytes, `per_seq` bytes a sequence), said in a note and in the batch's assumption.
fn narrowed(
    batch: Range,
    (room, per_seq): (f64, f64),
    gpus: f64,
    out: &mut [Assumption],
    notes: &mut Vec<String>,
) -> Range {
    let fit = if per_seq > 0.0 {
        (room / per_seq).floor()
    } else {
        batch.hi
    };
    if fit < 1.0 {
        return batch;
    }
    let batch = Range::new(batch.lo.min(fit), fit);
    notes.push(format!(
        "the default batch range is narrowed to {} so that the KV cache fits {{gpus}} {}",
        batch.display(""),
        fmt_input(gpus)
    ));
    // The assumption shows the batch used, not the default it came from.
    if let Some(b) = out.iter_mut().find(|x| x.name == "batch") {
        b.value = batch.display("");
        b.origin = Origin::Derived;
        b.source = Some(format!(
            "the default infer.batch narrowed so that the KV cache fits {{gpus}} {}",
            fmt_input(gpus)
        ));
    }
    batch
}

/// Refuses a given replica that cannot hold the weights, or the weights and the batch's KV
/// cache.
fn fits(
    fit: &Fit<'_>,
    gpus: f64,
    weights: f64,
    per_seq: f64,
    batch: Range,
) -> Result<(), EstimateError> {
    let (accel, p, per_acc) = (fit.accel, fit.p, fit.per_acc);
    let cap = gpus * per_acc.0;
    if weights > cap {
        return Err(EstimateError::Invalid {
            field: Field::Gpus,
            message: format!(
                "the model does not fit: its weights alone are {} GB in {}, more than {} x {} hold ({} GB usable each); give at least {{gpus}} {} or a lower {{precision}}",
                fmt_input(weights / 1e9),
                p.name(),
                fmt_input(gpus),
                accel.name,
                fmt_input(per_acc.0 / 1e9),
                fmt_input(accelerators_needed(Bytes(weights), per_acc))
            ).into(),
        });
    }
    let need = Bytes(weights + per_seq * batch.hi);
    if need.0 > cap {
        return Err(EstimateError::Invalid {
            field: Field::Gpus,
            message: format!(
                "the model does not fit: {} GB of weights and KV cache (batch {}, {} tokens) need {} x {} ({} GB usable each), not {}; give more {{gpus}}, a smaller {{batch}} or a lower {{precision}}",
                fmt_input(need.0 / 1e9),
                fmt_input(batch.hi),
                fmt_input(fit.tokens.0 + fit.tokens.1),
                fmt_input(accelerators_needed(need, per_acc)),
                accel.name,
                fmt_input(per_acc.0 / 1e9),
                fmt_input(gpus)
            ).into(),
        });
    }
    Ok(())
}

/// The efficiency and power ranges of serving, given or the sourced defaults.
struct Serving {
    mfu: Range,
    mbu: Range,
    step_overhead: Range,
    power_low: Range,
    power_high: Range,
    power_idle: Range,
    utilisation: Range,
}

fn serving(cat: &Catalog, g: &Given, out: &mut Vec<Assumption>) -> Result<Serving, EstimateError> {
    let mfu = given_or(cat, out, g.mfu, ("mfu", "", Field::Mfu), "infer.mfu")?;
    let mbu = given_or(cat, out, g.mbu, ("mbu", "", Field::Mbu), "infer.mbu")?;
    let step_overhead = coefficient(cat, "infer.step_overhead", "step_overhead", 1e-6, out)?.range;
    let power_low = coefficient(cat, "infer.power_low", "power_low", 1.0, out)?.range;
    let power_high = coefficient(cat, "infer.power_high", "power_high", 1.0, out)?.range;
    let power_idle = coefficient(cat, "infer.power_idle", "power_idle", 1.0, out)?.range;
    let utilisation = match g.utilisation {
        Some(u) => {
            user(out, "utilization", &u, "", Field::Utilization);
            u
        }
        None => {
            out.push(Assumption {
                name: "utilization".into(),
                value: "1".into(),
                origin: Origin::Default,
                source: Some("no idle time between requests unless {utilization} is given (a lower bound for a real service)".into()),
                field: None,
            });
            Range::point(1.0)
        }
    };
    Ok(Serving {
        mfu,
        mbu,
        step_overhead,
        power_low,
        power_high,
        power_idle,
        utilisation,
    })
}
