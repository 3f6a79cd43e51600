//! The served model's architecture: its total and active parameters (given or from its row)
//! and its attention shape (layers, KV and attention widths, context).

use super::super::positive;
use super::InferInputs;
use crate::catalog::{Model, Row};
use crate::estimate::infer::shape::{ShapeFit, ERA_FROM};
use crate::estimate::EstimateError;
use crate::explain::{Assumption, Origin};
use crate::field::Field;
use crate::uncertainty::{fmt_human, fmt_input, Range};

/// The model's architecture: (total, active, layers, KV width, attention width, context).
pub(super) struct Arch {
    pub(super) total: Range,
    pub(super) active: Range,
    pub(super) layers: f64,
    pub(super) kv_width: f64,
    pub(super) attn_width: f64,
    pub(super) context: Option<f64>,
    /// The shape inferred from the size when none is known (layers etc. are its centre).
    pub(super) inferred: Option<&'static ShapeFit>,
}

pub(super) fn arch(
    model: Option<&Model>,
    i: &InferInputs,
    out: &mut Vec<Assumption>,
    notes: &mut Vec<String>,
) -> Result<Arch, EstimateError> {
    let params = positive(Field::Params, i.params)?;
    let active = positive(Field::ActiveParams, i.active_params)?;
    let total = params
        .or(model.and_then(|m| m.total_params).map(Range::point))
        .ok_or_else(|| {
            EstimateError::Missing(
                "{model} or {params}: which model serves the requests (e.g. {model} llama-3.1-8b or {params} 8B)"
                    .into(),
            )
        })?;
    // A model's own active count goes with its own total, not with a params override.
    let active = active
        .or(model
            .filter(|_| params.is_none())
            .and_then(|m| m.active_params)
            .map(Range::point))
        .unwrap_or(total);
    if active.hi > total.hi {
        return Err(EstimateError::Invalid {
            field: Field::ActiveParams,
            message: format!(
                "{} active parameters exceed the {} total",
                active.display(""),
                total.display("")
            )
            .into(),
        });
    }
    // A value from a flag cites the flag; one from the preset, the preset's sources.
    let from = |field: Option<Field>| match field {
        Some(f) => (Origin::User, None, Some(f)),
        None => (Origin::Catalog, model.map(Row::cite), None),
    };
    let (origin, source, field) = from(i.params.map(|_| Field::Params));
    out.push(Assumption {
        name: "total_params".into(),
        value: total.display(""),
        origin,
        source,
        field,
    });
    let (origin, source, field) = from(if i.active_params.is_some() {
        Some(Field::ActiveParams)
    } else {
        i.params.map(|_| Field::Params)
    });
    out.push(Assumption {
        name: "active_params".into(),
        value: active.display(""),
        origin,
        source,
        field,
    });
    if let (Some(m), Some(p), None) = (model, params, i.active_params) {
        if let (Some(a), Some(n)) = (m.active_params, m.total_params) {
            if a < n {
                notes.push(format!(
                    "{{params}} replaces {}'s {} parameters, and its {} active parameters (a mixture of experts) go with them: all {} parameters are taken as active; give {{active_params}} for a mixture-of-experts model",
                    m.name,
                    fmt_human(n),
                    fmt_human(a),
                    p.display("")
                ));
            }
        }
    }
    let (layers, kv_width, attn_width, context) = shape(model, i, out, notes);
    let mut a = Arch {
        total,
        active,
        layers,
        kv_width,
        attn_width,
        context,
        inferred: None,
    };
    if layers == 0.0 {
        infer_shape(&mut a, out, notes)?;
    }
    Ok(a)
}

/// The model's attention shape, from its row when its size is the row's own: (layers, KV
/// width, attention width, context); unknown layers and KV heads leave the KV cache out, with
/// a note.
fn shape(
    model: Option<&Model>,
    i: &InferInputs,
    out: &mut Vec<Assumption>,
    notes: &mut Vec<String>,
) -> (f64, f64, f64, Option<f64>) {
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
                field: None,
            });
            (l, k, attn_width.unwrap_or(0.0))
        }
        _ => {
            let why = match (model, i.params) {
                (Some(m), Some(_)) => format!(
                    "{{params}} replaces {}'s size, so its layers and KV heads no longer apply",
                    m.name
                ),
                (Some(m), None) => format!("{}'s catalog row gives no layers and KV heads", m.name),
                (None, _) => {
                    "the model's layers and KV heads are not known ({params} without {model})"
                        .to_string()
                }
            };
            // infer_shape says what stands in for it, or why nothing does.
            notes.push(why);
            (0.0, 0.0, 0.0)
        }
    };
    (
        layers,
        kv_width,
        attn_width,
        m.and_then(|m| m.context_length),
    )
}

/// A shape fitted on published open models stands in for an unknown one ([`ShapeFit`]): its
/// centre sizes the replica, each evaluation draws its own; the note and an assumption say so
/// and name the models. `notes` ends with why the shape is unknown, which this completes.
fn infer_shape(
    a: &mut Arch,
    out: &mut Vec<Assumption>,
    notes: &mut Vec<String>,
) -> Result<(), EstimateError> {
    let why = notes.pop().unwrap_or_default();
    let fit = ShapeFit::shipped().map_err(|e| EstimateError::from_field(Field::Model, e))?;
    let Some(fit) = fit else {
        notes.push(format!("{why}: the KV cache and attention FLOPs are left out, so memory and energy are lower bounds"));
        return Ok(());
    };
    let n = a.active.hi;
    let c = fit.at(n, (0.0, 0.0, 0.0));
    let (l, h, k) = fit.ranges(n);
    let r = fit.ratio_range();
    a.layers = c.layers;
    a.kv_width = c.kv_width;
    a.attn_width = c.hidden;
    notes.push(format!(
        "{why}: the shape is inferred from the active parameters, fitted on {} published open models of {ERA_FROM} or later ({}); layers {} ({}), hidden size {} ({}), KV heads / attention heads {} ({}), head dimension {} in that population (it cancels: KV width = 2 x hidden x KV heads / heads) -> KV width {} ({}) values per token and layer (P50 (P5-P95) at {} active parameters); give {{model}} with a known shape for a real one",
        fit.members.len(),
        fit.names(),
        fmt_input(c.layers.round()),
        map(l, f64::round).display(""),
        fmt_input(c.hidden.round()),
        map(h, f64::round).display(""),
        fmt_input(round2(fit.ratio_mu.exp())),
        map(r, round2).display(""),
        fit.head_dims().display(""),
        fmt_input(c.kv_width.round()),
        map(k, f64::round).display(""),
        fmt_human(n),
    ));
    // Outside the population's sizes the fit is extrapolated: said (a hostile test got
    // "0.0122 layers" for one parameter, silently).
    let (lo, hi) = fit
        .members
        .iter()
        .fold((f64::INFINITY, 0.0_f64), |(a, b), m| {
            (a.min(m.active), b.max(m.active))
        });
    if n < lo || n > hi {
        notes.push(format!(
            "{} active parameters are outside the sizes the shape was fitted on ({}..{}): the inferred shape is extrapolated{}; give {{model}} with a known shape",
            fmt_human(n),
            fmt_human(lo),
            fmt_human(hi),
            if c.layers < 1.0 || c.hidden < 64.0 {
                " to a model smaller than any transformer (under one layer or a hidden size under 64)"
            } else {
                ""
            }
        ));
    }
    out.push(Assumption {
        name: "shape".into(),
        value: format!(
            "inferred: {} layers ({}), hidden {} ({}), KV width {} ({})",
            fmt_input(c.layers.round()),
            map(l, f64::round).display(""),
            fmt_input(c.hidden.round()),
            map(h, f64::round).display(""),
            fmt_input(c.kv_width.round()),
            map(k, f64::round).display(""),
        ),
        origin: Origin::Derived,
        source: Some(format!(
            "least squares in log space on the shapes of {} published open models of {ERA_FROM}+ in the catalog's models table (docs/models.md 7.1)",
            fit.members.len()
        )),
        field: None,
    });
    a.inferred = Some(fit);
    Ok(())
}

/// Two significant decimals.
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A range with `f` applied to both ends.
fn map(r: Range, f: impl Fn(f64) -> f64) -> Range {
    Range::new(f(r.lo), f(r.hi))
}
