//! Resolving `estimate train`: compute, duration, power basis and failures from the inputs and
//! the catalog, one step per concern: the inputs' own checks, the preset model, the compute,
//! the accelerators and their peak, the duration ([`power`] the power basis, [`failures`] the
//! interruptions, [`published`] the preset's published figures, [`cpu_only`] a run without
//! accelerators).

mod cpu_only;
mod failures;
mod power;
mod published;

use super::{
    catalog_value, conflict, fallback_notes, fraction, hardware, hardware_embodied, positive, user,
    Basis, HardwareInputs, Precision, Resolved,
};
use crate::catalog::{Accelerator, Catalog, Model, Row};
use crate::estimate::site::{resolve as resolve_site, SiteInputs};
use crate::estimate::train::{Compute, Duration, TrainSpec};
use crate::estimate::utilisation::{self, ConditionalPrior};
use crate::estimate::EstimateError;
use crate::explain::{Assumption, Origin};
use crate::field::Field;
use crate::result::{Details, HardwareDetails};
use crate::uncertainty::{fmt_human, Range};

/// `estimate train` inputs.
#[derive(Clone, Debug, Default)]
pub struct TrainInputs {
    /// `model`.
    pub model: Option<String>,
    /// `params`.
    pub params: Option<Range>,
    /// `active_params`.
    pub active_params: Option<Range>,
    /// `tokens`.
    pub tokens: Option<Range>,
    /// `flops`.
    pub flops: Option<Range>,
    /// `gpus`.
    pub gpus: Option<Range>,
    /// `servers`: servers of a CPU-only run (no accelerator; default 1).
    pub servers: Option<Range>,
    /// `days`, in hours.
    pub wall_h: Option<Range>,
    /// `gpu_hours`.
    pub gpu_hours: Option<Range>,
    /// `mfu`.
    pub mfu: Option<Range>,
    /// `precision`.
    pub precision: Precision,
    /// `power_basis`.
    pub basis: Option<Basis>,
    /// `gpu_power`, W.
    pub gpu_power: Option<Range>,
    /// `interruptions`.
    pub interruptions: Option<Range>,
    /// `mtbf`, hours.
    pub mtbf_h: Option<Range>,
    /// `checkpoint_minutes`, in hours.
    pub checkpoint_h: Option<Range>,
    /// `restart_minutes`, in hours.
    pub restart_h: Option<Range>,
    /// `checkpoint_interval`, hours.
    pub interval_h: Option<Range>,
    /// Hardware.
    pub hw: HardwareInputs,
    /// `power_cap`: a cap on accelerator power.
    pub power_cap: Option<crate::estimate::power_cap::CapInput>,
}

/// Resolves `estimate train`.
///
/// # Errors
/// Unknown names, out-of-domain values, contradictions and missing inputs, each naming fields.
pub fn train(
    cat: &Catalog,
    t: &TrainInputs,
    s: &SiteInputs,
) -> Result<Resolved<TrainSpec>, EstimateError> {
    check(t)?;
    let g = Given::of(t)?;
    let model = model_row(cat, t)?;
    let (mut out, mut notes) = (Vec::new(), Vec::new());
    // A duration the user gave makes this job something other than the preset's pre-training
    // run (a fine-tune, a shorter run), unless it is that run's published duration: the
    // preset's training tokens are then not its compute.
    let own_duration = model.is_some_and(|m| !g.same_duration(m));
    if let Some(m) = model {
        preset(m, &g, own_duration, &mut out, &mut notes);
    }
    let compute = compute(t, &g, model, own_duration, &mut out, &mut notes)?;
    let hw = hardware(
        cat,
        &t.hw,
        model.and_then(|m| m.training_accelerator.as_deref()),
        &mut out,
    )?;
    let published = match model {
        Some(m) => published::figures(cat, m, &g.agreement(m), t, hw.accel, &mut notes)?,
        None => Vec::new(),
    };
    // No accelerator anywhere, but a server: a CPU-only run.
    if hw.accel.is_none() && (t.hw.server_power.is_some() || hw.server.is_some()) {
        if t.power_cap.is_some() {
            return Err(EstimateError::Invalid {
                field: Field::PowerCap,
                message: "a CPU-only run has no accelerator to cap: name one with {gpu}, or drop {power_cap}".into(),
            });
        }
        let (spec, extra) = cpu_only::cpu_only(
            cat,
            t,
            s,
            &hw,
            compute,
            g.wall,
            g.gpu_hours,
            &mut out,
            &mut notes,
        )?;
        failures::feasible(&spec, t)?;
        return Ok(Resolved {
            spec,
            assumptions: out,
            published,
            details: Details::Train(extra),
            notes,
        });
    }
    let accel = accelerator(t, hw.accel, model)?;
    let n = accelerators(g.gpus, model, &mut out)?;
    let peak = peak(t.precision, accel, &mut out)?;
    let total = g
        .params
        .or(model.and_then(|m| m.total_params).map(Range::point));
    let duration = duration(cat, &g, &compute, (accel, total), &mut out)?;
    effective_note(t, &duration, &mut notes);
    let power = power::power(cat, t, &hw, accel, &mut out, &mut notes)?;
    let failures = failures::failures(t, &mut out)?;
    let power_cap = crate::estimate::power_cap::resolve(
        cat,
        t.power_cap,
        accel.board_power_w,
        false,
        &mut out,
    )?;
    if let Some(c) = &power_cap {
        notes.push(c.note());
    }
    if let (Some(c), Duration::Wall(_) | Duration::AcceleratorHours(_)) = (&power_cap, &duration) {
        notes.push(cap_with_fixed_duration(&c.compute));
    }
    let mut site = resolve_site(cat, s, &mut out)?.site;
    fallback_notes(s, &out, &mut notes);
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
        cpu_only: false,
        power_cap,
    };
    failures::feasible(&spec, t)?;
    let extra = HardwareDetails {
        model: model.map(|m| m.name.clone()),
        accelerator: Some(accel.name.clone()),
    };
    Ok(Resolved {
        spec,
        assumptions: out,
        published,
        details: Details::Train(extra),
        notes,
    })
}

/// What a cap changes when the duration is fixed: the accelerators' power, and the work that
/// fits in the time (`1 / T` of the uncapped run's).
fn cap_with_fixed_duration(f: &crate::estimate::power_cap::Factors) -> String {
    let power = Range::new(f.energy.lo / f.time.hi, f.energy.hi / f.time.lo);
    let work = Range::new(1.0 / f.time.hi, 1.0 / f.time.lo);
    format!(
        "with the duration fixed ({{days}} or {{gpu_hours}}, or the preset's), {{power_cap}} lowers the accelerators' power to x{} of uncapped and the work done in that time to x{} of the uncapped run's; give the work ({{params}} and {{tokens}}, or {{flops}}) without a duration to see the longer run instead",
        power.display(""),
        work.display("")
    )
}

/// The preset model's row, if one is named.
fn model_row<'a>(cat: &'a Catalog, t: &TrainInputs) -> Result<Option<&'a Model>, EstimateError> {
    match &t.model {
        Some(m) => Ok(Some(
            cat.models()?
                .get(m)
                .map_err(|e| EstimateError::from_field(Field::Model, e))?,
        )),
        None => Ok(None),
    }
}

/// The inputs against their limits, and the pairs that contradict each other.
fn check(t: &TrainInputs) -> Result<(), EstimateError> {
    crate::limits::check_all(&[
        (Field::Params, t.params),
        (Field::ActiveParams, t.active_params),
        (Field::Tokens, t.tokens),
        (Field::Flops, t.flops),
        (Field::Gpus, t.gpus),
        (Field::Servers, t.servers),
        (Field::Days, t.wall_h),
        (Field::GpuHours, t.gpu_hours),
        (Field::Mfu, t.mfu),
        (Field::GpuPower, t.gpu_power),
        (Field::Interruptions, t.interruptions),
        (Field::Mtbf, t.mtbf_h),
        (Field::CheckpointMinutes, t.checkpoint_h),
        (Field::RestartMinutes, t.restart_h),
        (Field::CheckpointInterval, t.interval_h),
    ])?;
    super::check_hardware(&t.hw)?;
    let (wall, hours) = (t.wall_h.is_some(), t.gpu_hours.is_some());
    let (flops, mfu) = (t.flops.is_some(), t.mfu.is_some());
    conflict(
        (Field::Days, wall),
        (Field::GpuHours, hours),
        "give the wall-clock days or the accelerator-hours, not both",
    )?;
    let compute_why = "give the total FLOPs or parameters and tokens, not both";
    conflict(
        (Field::Flops, flops),
        (Field::Params, t.params.is_some()),
        compute_why,
    )?;
    conflict(
        (Field::Flops, flops),
        (Field::Tokens, t.tokens.is_some()),
        compute_why,
    )?;
    conflict(
        (Field::Mfu, mfu),
        (Field::Days, wall),
        "with {days} the MFU is implied (and reported); drop one",
    )?;
    conflict(
        (Field::Mfu, mfu),
        (Field::GpuHours, hours),
        "with {gpu_hours} the MFU is implied (and reported); drop one",
    )?;
    conflict(
        (Field::Interruptions, t.interruptions.is_some()),
        (Field::Mtbf, t.mtbf_h.is_some()),
        "give a count of interruptions or a mean time between them, not both",
    )?;
    if t.gpu_power.is_some() && matches!(t.basis, Some(Basis::Tdp | Basis::Server)) {
        return Err(EstimateError::Conflict {
            a: Field::GpuPower,
            b: Field::PowerBasis,
            why: "{gpu_power} is a measured average: use {power_basis} measured (or leave it out)"
                .into(),
        });
    }
    Ok(())
}

/// The values the user gave, each checked to be above zero (a fraction at most 1).
struct Given {
    params: Option<Range>,
    active: Option<Range>,
    tokens: Option<Range>,
    flops: Option<Range>,
    gpus: Option<Range>,
    wall: Option<Range>,
    gpu_hours: Option<Range>,
    mfu: Option<Range>,
}

impl Given {
    fn of(t: &TrainInputs) -> Result<Self, EstimateError> {
        Ok(Self {
            params: positive(Field::Params, t.params)?,
            active: positive(Field::ActiveParams, t.active_params)?,
            tokens: positive(Field::Tokens, t.tokens)?,
            flops: positive(Field::Flops, t.flops)?,
            gpus: positive(Field::Gpus, t.gpus)?,
            wall: positive(Field::Days, t.wall_h)?,
            gpu_hours: positive(Field::GpuHours, t.gpu_hours)?,
            mfu: fraction(Field::Mfu, t.mfu, 1.0)?,
        })
    }

    /// Whether the duration given (if any) is the preset's own published one.
    fn same_duration(&self, m: &Model) -> bool {
        same(self.wall, m.training_days.map(|d| d * 24.0))
            && same(self.gpu_hours, m.training_accelerator_hours)
    }

    /// Each input that can contradict the preset's published run, and whether it agrees.
    fn agreement(&self, m: &Model) -> [(Field, bool); 6] {
        [
            (
                Field::Days,
                same(self.wall, m.training_days.map(|d| d * 24.0)),
            ),
            (
                Field::GpuHours,
                same(self.gpu_hours, m.training_accelerator_hours),
            ),
            (Field::Tokens, same(self.tokens, m.training_tokens)),
            (Field::Flops, self.flops.is_none()),
            (Field::Params, same(self.params, m.total_params)),
            (
                Field::ActiveParams,
                same(self.active, m.active_params.or(m.total_params)),
            ),
        ]
    }
}

/// Whether a given value is the preset's own (or not given at all).
fn same(given: Option<Range>, preset: Option<f64>) -> bool {
    match (given, preset) {
        (None, _) => true,
        (Some(g), Some(p)) => g.is_point() && (g.lo - p).abs() <= 1e-6 * p.abs(),
        (Some(_), None) => false,
    }
}

/// Records the preset model, and says when its pre-training tokens are not this job's compute.
fn preset(
    m: &Model,
    g: &Given,
    own_duration: bool,
    out: &mut Vec<Assumption>,
    notes: &mut Vec<String>,
) {
    out.push(Assumption {
        name: "model".into(),
        value: m.name.clone(),
        origin: Origin::User,
        source: Some(m.cite()),
        field: None,
    });
    if own_duration && g.tokens.is_none() && g.flops.is_none() {
        if let Some(k) = m.training_tokens {
            notes.push(format!(
                "{}'s {} pre-training tokens are not used as this job's compute ({} gives its length), so no MFU is implied; give {{tokens}} for the tokens this job trains on",
                m.name,
                fmt_human(k),
                if g.wall.is_some() {
                    Field::Days
                } else {
                    Field::GpuHours
                }
                .reference()
            ));
        }
    }
}

/// The active parameters and training tokens, from the inputs or the preset: (active, tokens).
fn sizes(
    t: &TrainInputs,
    g: &Given,
    model: Option<&Model>,
    own_duration: bool,
    notes: &mut Vec<String>,
) -> Result<(Option<Range>, Option<Range>), EstimateError> {
    let total = g
        .params
        .or(model.and_then(|m| m.total_params).map(Range::point));
    // A preset's own active count goes with its own total, not with a params override (as
    // `estimate infer` resolves them).
    let active = g
        .active
        .or(model
            .filter(|_| g.params.is_none())
            .and_then(|m| m.active_params)
            .map(Range::point))
        .or(total);
    if let (Some(a), Some(n)) = (active, total) {
        if a.hi > n.hi {
            return Err(EstimateError::Invalid {
                field: Field::ActiveParams,
                message: format!(
                    "{} active parameters exceed the {} total; give {{active_params}} at most {{params}}",
                    a.display(""),
                    n.display("")
                ).into(),
            });
        }
    }
    if let (Some(m), Some(p), None) = (model, g.params, t.active_params) {
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
    let tokens = g.tokens.or(model
        .filter(|_| !own_duration)
        .and_then(|m| m.training_tokens)
        .map(Range::point));
    Ok((active, tokens))
}

/// The compute: FLOPs, or active parameters x tokens, each recorded with where it came from.
fn compute(
    t: &TrainInputs,
    g: &Given,
    model: Option<&Model>,
    own_duration: bool,
    out: &mut Vec<Assumption>,
    notes: &mut Vec<String>,
) -> Result<Compute, EstimateError> {
    let (active, tokens) = sizes(t, g, model, own_duration, notes)?;
    if let Some(f) = g.flops {
        user(out, "compute", &f, "FLOP", Field::Flops);
        return Ok(Compute::Flops(f));
    }
    let no_length = g.wall.is_none() && g.gpu_hours.is_none();
    Ok(match (active, tokens) {
        (Some(p), Some(k)) => {
            // A value from an input names the input; one from the preset, the preset's sources.
            let given = if t.active_params.is_some() {
                Some(Field::ActiveParams)
            } else {
                t.params.map(|_| Field::Params)
            };
            out.push(from_input_or_preset("active_params", p, given, model));
            let given = t.tokens.map(|_| Field::Tokens);
            out.push(from_input_or_preset("tokens", k, given, model));
            Compute::ParamsTokens {
                active_params: p,
                tokens: k,
            }
        }
        (Some(_), None) if no_length => {
            return Err(EstimateError::Missing("{tokens}: how many tokens the model is trained on (e.g. {tokens} 15.6T), or give {days} / {gpu_hours}".into()));
        }
        (None, Some(_)) if no_length => {
            return Err(EstimateError::Missing("{params}: the model's (active) parameters (e.g. {params} 405B), or give {days} / {gpu_hours}".into()));
        }
        _ => Compute::Unknown,
    })
}

/// An assumption the user gave through `field`, or else the preset's.
fn from_input_or_preset(
    name: &str,
    r: Range,
    field: Option<Field>,
    model: Option<&Model>,
) -> Assumption {
    let (origin, source) = match field {
        Some(_) => (Origin::User, None),
        None => (Origin::Catalog, model.map(Row::cite)),
    };
    Assumption {
        name: name.into(),
        value: r.display(""),
        origin,
        source,
        field,
    }
}

/// The accelerator: refuses `servers` (a CPU-only count) with one, and says what to give
/// when none is known.
fn accelerator<'a>(
    t: &TrainInputs,
    accel: Option<&'a Accelerator>,
    model: Option<&Model>,
) -> Result<&'a Accelerator, EstimateError> {
    if t.servers.is_some() {
        return Err(EstimateError::Conflict {
            a: Field::Servers,
            b: Field::Gpu,
            why: "{servers} counts the servers of a CPU-only run; with accelerators give {gpus}"
                .into(),
        });
    }
    accel.ok_or_else(|| {
        // A catalog model whose publication counts its accelerators but does not say which.
        let why = model
            .and_then(|m| m.training_accelerators.map(|n| (m, n)))
            .map_or(String::new(), |(m, n)| {
                format!(
                    " (the figures for {} give {} accelerators but not which; `wattlens catalog show models {:?}` has the notes)",
                    m.name,
                    crate::uncertainty::fmt_input(n),
                    m.name
                )
            });
        EstimateError::Missing(format!("{{gpu}}: which accelerator (e.g. {{gpu}} h100){why}; `wattlens catalog list accelerators` lists them (for a CPU-only run, {{server}} or {{server_power}} with {{days}})").into())
    })
}

/// How many accelerators: given, or the preset's published count.
fn accelerators(
    gpus: Option<Range>,
    model: Option<&Model>,
    out: &mut Vec<Assumption>,
) -> Result<Range, EstimateError> {
    if let Some(g) = gpus {
        user(out, "accelerators", &g, "", Field::Gpus);
        return Ok(g);
    }
    match model.and_then(|m| m.training_accelerators) {
        Some(n) => {
            let r = Range::point(n);
            catalog_value(
                out,
                "accelerators",
                r,
                "",
                model.map(Row::cite).unwrap_or_default(),
            );
            Ok(r)
        }
        None => Err(EstimateError::Missing(
            "{gpus}: how many accelerators the run uses (e.g. {gpus} 16k)".into(),
        )),
    }
}

/// The accelerator's dense peak at the precision, FLOP/s.
fn peak(
    precision: Precision,
    accel: &Accelerator,
    out: &mut Vec<Assumption>,
) -> Result<Range, EstimateError> {
    let peak_t = precision.peak_tflops(accel).ok_or_else(|| EstimateError::Invalid {
        field: Field::Precision,
        message: format!("{} has no published dense {} peak; choose another {{precision}} or give {{days}}/{{gpu_hours}}", accel.name, precision.name()).into(),
    })?;
    catalog_value(
        out,
        "peak",
        Range::point(peak_t),
        &format!("TFLOP/s {}", precision.name()),
        accel.cite(),
    );
    Ok(Range::point(peak_t * 1e12))
}

/// The run's length: wall time, accelerator-hours, or the compute at an MFU or at the
/// effective-utilisation prior (`known`: the accelerator and the total parameters, which the
/// conditional prior reads).
fn duration(
    cat: &Catalog,
    g: &Given,
    compute: &Compute,
    known: (&Accelerator, Option<Range>),
    out: &mut Vec<Assumption>,
) -> Result<Duration, EstimateError> {
    if let Some(w) = g.wall {
        user(out, "wall_time", &w.scale(1.0 / 24.0), "d", Field::Days);
        return Ok(Duration::Wall(w));
    }
    if let Some(h) = g.gpu_hours {
        user(out, "accelerator_hours", &h, "h", Field::GpuHours);
        return Ok(Duration::AcceleratorHours(h));
    }
    if matches!(compute, Compute::Unknown) {
        return Err(EstimateError::Missing("the run's length: give {days} or {gpu_hours}, or the compute ({params} and {tokens}, or {flops})".into()));
    }
    if let Some(m) = g.mfu {
        user(out, "mfu", &m, "", Field::Mfu);
        return Ok(Duration::FromCompute { mfu: m });
    }
    // No headline MFU: the conditional prior of effective utilisation.
    let prior = ConditionalPrior::from_catalog(cat)?.ok_or_else(|| {
        EstimateError::Missing("the catalog has no train.utilisation.* rows (the prior of effective utilisation): give {mfu}".into())
    })?;
    let u = utilisation::envelope(&prior, compute, known.0, known.1);
    // Utilisation is a share of peak. A prior (a user catalog's rows) whose median is past 1 at
    // this run's covariates would make the accelerators faster than their peak, and one whose
    // draw reaches below 0.001 of peak is no run's (the lowest published, CodeGeeX on Ascend
    // 910, is 0.03): refused. Its matrix must be a covariance's inverse (no negative
    // variance). Draws past 1 in the tail of a wide interval count as 1 (`estimate::train`).
    let wrong = if let Some(why) = prior.not_a_covariance() {
        Some(why)
    } else if u.median > 1.0 || u.median.is_nan() {
        Some(format!(
            "give a median effective utilisation of {} for this run, beyond 1 (more than the \
             accelerators' peak)",
            fmt_human(u.median)
        ))
    } else if u.draw.lo < 1e-3 || u.draw.lo.is_nan() {
        Some(format!(
            "give an effective utilisation down to {} of peak for this run, below 0.001 (the \
             lowest published run is 0.03)",
            fmt_human(u.draw.lo)
        ))
    } else {
        None
    };
    if let Some(why) = wrong {
        return Err(EstimateError::Invalid {
            field: Field::Mfu,
            message: format!(
                "not given, and the catalog's train.utilisation.* rows ({}, drawn on {}) {why}; \
                 fix those rows (`wattlens catalog show defaults train.utilisation.intercept` \
                 shows the shipped ones) or give {{mfu}}",
                prior.equation(),
                u.draw.display("")
            )
            .into(),
        });
    }
    let src = cat
        .coefficient("train.utilisation.intercept")
        .map(Row::cite)
        .unwrap_or_default();
    // Shown as drawn, with draws past 1 counted as 1.
    let shown = Range::new(u.draw.lo, u.draw.hi.min(1.0)).display("");
    out.push(Assumption {
        name: "effective_utilisation".into(),
        value: shown,
        origin: Origin::Default,
        source: Some(format!(
            "train.utilisation.*: {} with {}, median {}, P5..P95 {}..{} (drawn log-uniformly between the ends); {src}",
            prior.equation(),
            u.covariates,
            fmt_human(u.median),
            fmt_human(u.p5),
            fmt_human(u.p95)
        )),
        field: None,
    });
    Ok(Duration::Effective {
        ln_utilisation: Range::new(u.draw.lo.ln(), u.draw.hi.ln()),
    })
}

/// Says that the length comes from the calibrated prior (not a headline MFU), and that a
/// failure model then splits the billed time instead of adding to it.
fn effective_note(t: &TrainInputs, duration: &Duration, notes: &mut Vec<String>) {
    let Duration::Effective { ln_utilisation: u } = duration else {
        return;
    };
    let failures = if t.interruptions.is_some() || t.mtbf_h.is_some() {
        "; it already bills failures and restarts, so the lost time of the failure model is within the billed hours, not added to them"
    } else {
        ""
    };
    notes.push(format!(
        "no {{mfu}}: the length is from the effective utilisation {} (calibrated prior over billed accelerator-hours, `wattlens validate`; the assumptions show what it is conditioned on){failures}; give {{mfu}} for a headline MFU",
        Range::new(u.lo.exp(), u.hi.exp().min(1.0)).display("")
    ));
}
