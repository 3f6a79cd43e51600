//! Resolving `estimate train`: compute, duration, power basis and failures from flags and the
//! catalog.
use super::{
    catalog_value, conflict, fallback_notes, fraction, hardware, hardware_embodied, load, positive,
    server_host, shares, user, Basis, HardwareInputs, Precision, Resolved,
};
use crate::catalog::{Catalog, Row};
use crate::estimate::failures::{self, Rate};
use crate::estimate::power::PowerBasis;
use crate::estimate::site::{coefficient, resolve as resolve_site, SiteInputs};
use crate::estimate::train::{Compute, Duration, Failures, RateSpec, TrainSpec};
use crate::estimate::EstimateError;
use crate::explain::{Assumption, Origin};
use crate::result::Published;
use crate::result::{Details, HardwareDetails};
use crate::uncertainty::{fmt_human, fmt_input, Range};

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
    /// `--servers`: servers of a CPU-only run (no accelerator; default 1).
    pub servers: Option<Range>,
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
    let (tokens_given, active_given) = (tokens, active);
    let gpus = positive("--gpus", t.gpus)?;
    let wall = positive("--days", t.wall_h)?;
    let gpu_hours = positive("--gpu-hours", t.gpu_hours)?;
    let mfu = fraction("--mfu", t.mfu, 1.0)?;

    let model = match &t.model {
        Some(m) => Some(
            cat.models()?
                .get(m)
                .map_err(|e| EstimateError::from_flag("--model", e))?,
        ),
        None => None,
    };
    let mut notes = Vec::new();
    // Whether a given value is the preset's own (or not given at all).
    let same = |given: Option<Range>, preset: Option<f64>| match (given, preset) {
        (None, _) => true,
        (Some(g), Some(p)) => g.is_point() && (g.lo - p).abs() <= 1e-6 * p.abs(),
        (Some(_), None) => false,
    };
    // A duration the user gave makes this job something other than the preset's pre-training
    // run (a fine-tune, a shorter run), unless it is that run's published duration: the
    // preset's training tokens are then not its compute.
    let own_duration = model.is_some_and(|m| {
        !same(wall, m.training_days.map(|d| d * 24.0))
            || !same(gpu_hours, m.training_accelerator_hours)
    });
    if let Some(m) = model {
        out.push(Assumption {
            name: "model".into(),
            value: m.name.clone(),
            origin: Origin::User,
            source: Some(m.cite()),
        });
        if own_duration && tokens.is_none() && flops.is_none() {
            if let Some(k) = m.training_tokens {
                notes.push(format!(
                    "{}'s {} pre-training tokens are not used as this job's compute ({} gives its length), so no MFU is implied; give --tokens for the tokens this job trains on",
                    m.name,
                    fmt_human(k),
                    if wall.is_some() {
                        "--days"
                    } else {
                        "--gpu-hours"
                    }
                ));
            }
        }
    }
    // Compute.
    let total = params.or(model.and_then(|m| m.total_params).map(Range::point));
    // A preset's own active count goes with its own total, not with a --params override (as
    // `estimate infer` resolves them).
    let active = active
        .or(model
            .filter(|_| params.is_none())
            .and_then(|m| m.active_params)
            .map(Range::point))
        .or(total);
    if let (Some(a), Some(n)) = (active, total) {
        if a.hi > n.hi {
            return Err(EstimateError::Invalid {
                flag: "--active-params",
                message: format!(
                    "{} active parameters exceed the {} total; give --active-params at most --params",
                    a.display(""),
                    n.display("")
                ),
            });
        }
    }
    if let (Some(m), Some(p), None) = (model, params, t.active_params) {
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
    let tokens = tokens.or(model
        .filter(|_| !own_duration)
        .and_then(|m| m.training_tokens)
        .map(Range::point));
    let compute = if let Some(f) = flops {
        user(&mut out, "compute", &f, "FLOP", "--flops");
        Compute::Flops(f)
    } else {
        match (active, tokens) {
            (Some(p), Some(k)) => {
                // A value from a flag cites the flag; one from the preset, the preset's sources.
                let from = |flag: Option<&str>| match flag {
                    Some(f) => (Origin::User, Some(f.to_string())),
                    None => (Origin::Catalog, model.map(Row::cite)),
                };
                let (origin, source) = from(if t.active_params.is_some() {
                    Some("--active-params")
                } else if t.params.is_some() {
                    Some("--params")
                } else {
                    None
                });
                out.push(Assumption {
                    name: "active_params".into(),
                    value: p.display(""),
                    origin,
                    source,
                });
                let (origin, source) = from(t.tokens.map(|_| "--tokens"));
                out.push(Assumption {
                    name: "tokens".into(),
                    value: k.display(""),
                    origin,
                    source,
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
    let published = match model {
        Some(m) => published_figures(
            cat,
            m,
            &[
                ("--days", same(wall, m.training_days.map(|d| d * 24.0))),
                ("--gpu-hours", same(gpu_hours, m.training_accelerator_hours)),
                ("--tokens", same(tokens_given, m.training_tokens)),
                ("--flops", flops.is_none()),
                ("--params", same(params, m.total_params)),
                (
                    "--active-params",
                    same(active_given, m.active_params.or(m.total_params)),
                ),
            ],
            t,
            hw.accel,
            &mut notes,
        )?,
        None => Vec::new(),
    };
    // No accelerator anywhere, but a server: a CPU-only run.
    if hw.accel.is_none() && (t.hw.server_power.is_some() || hw.server.is_some()) {
        let (spec, extra) = cpu_only(
            cat, t, s, &hw, compute, wall, gpu_hours, &mut out, &mut notes,
        )?;
        feasible_failures(&spec, t)?;
        return Ok(Resolved {
            spec,
            assumptions: out,
            published,
            details: Details::Train(extra),
            notes,
        });
    }
    if t.servers.is_some() {
        return Err(EstimateError::Conflict {
            a: "--servers",
            b: "--gpu",
            why: "--servers counts the servers of a CPU-only run; with accelerators give --gpus",
        });
    }
    let accel = hw.accel.ok_or_else(|| {
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
        EstimateError::Missing(format!("--gpu: which accelerator (e.g. --gpu h100){why}; `wattlens catalog list accelerators` lists them (for a CPU-only run, --server or --server-power with --days)"))
    })?;

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
            let board_w = board().unwrap_or(Range::point(0.0));
            let host = server_host(
                cat,
                hw.server,
                Some(board_w.mid() * hw.per_server.mid()),
                &mut out,
                &mut notes,
            )?
            .unwrap_or(Range::point(0.0));
            PowerBasis::Server {
                server_w,
                per_server: hw.per_server,
                load: l,
                board_w,
                host_w: host,
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

    let failures = failures(t, &mut out)?;

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
    };
    feasible_failures(&spec, t)?;
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

/// A published figure to show beside the estimate: (key of the comparable figure, scale of
/// that figure to the published unit, the figure).
type PublishedFigure = (Option<crate::figure::Figure>, f64, Published);

/// The preset's published training figures. They describe its pre-training run, so they are
/// shown only when this estimate is of that run: no duration, compute or size that contradicts
/// it (`given`: each flag and whether it agrees), and the run's own accelerator at a precision
/// with the same peak (BF16, the precision these runs publish). Otherwise a note says which
/// flags differ.
fn published_figures(
    cat: &Catalog,
    m: &crate::catalog::Model,
    given: &[(&'static str, bool)],
    t: &TrainInputs,
    accel: Option<&crate::catalog::Accelerator>,
    notes: &mut Vec<String>,
) -> Result<Vec<PublishedFigure>, EstimateError> {
    let mut contradicting: Vec<&str> = given
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(f, _)| *f)
        .collect();
    // A row naming an accelerator the catalog lacks is not comparable on hardware.
    let theirs = match m.training_accelerator.as_deref() {
        Some(name) => cat.accelerators()?.get(name).ok(),
        None => None,
    };
    if let Some(theirs) = theirs {
        let hardware_flag = if t.hw.gpu.is_some() {
            "--gpu"
        } else {
            "--server"
        };
        if accel.is_none_or(|a| a.name != theirs.name) {
            contradicting.push(hardware_flag);
        }
    }
    if let Some(a) = accel {
        if t.precision.peak_tflops(a) != Precision::Bf16.peak_tflops(a) {
            contradicting.push("--precision");
        }
    }
    let mut published = Vec::new();
    if !contradicting.is_empty() {
        if m.training_accelerator_hours.is_some()
            || m.reported_training_energy_mwh.is_some()
            || m.reported_training_tco2e.is_some()
            || m.training_days.is_some()
        {
            notes.push(format!(
                "{}'s published training figures are not shown: this estimate is not of that training run ({} {})",
                m.name,
                contradicting.join(", "),
                if contradicting.len() == 1 { "differs" } else { "differ" }
            ));
        }
        return Ok(published);
    }
    let src = m.training_source.clone().unwrap_or_default();
    if let Some(h) = m.training_accelerator_hours {
        published.push((
            Some(crate::figure::Figure::AcceleratorHours),
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
            Some(crate::figure::Figure::FacilityEnergy),
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
            Some(crate::figure::Figure::OperationalCarbon),
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
            Some(crate::figure::Figure::Duration),
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
    Ok(published)
}

/// The failure inputs (`--interruptions`/`--mtbf` with checkpoint and restart times).
fn failures(t: &TrainInputs, out: &mut Vec<Assumption>) -> Result<Option<Failures>, EstimateError> {
    let rate = if let Some(c) = t.interruptions {
        user(out, "interruptions", &c, "", "--interruptions");
        Some(RateSpec::Count(c))
    } else if let Some(m) = positive("--mtbf", t.mtbf_h)? {
        user(out, "mtbf", &m, "h", "--mtbf");
        Some(RateSpec::Mtbf(m))
    } else {
        None
    };
    Ok(if let Some(rate) = rate {
        let write_h = t.checkpoint_h.ok_or_else(|| EstimateError::Missing("--checkpoint-minutes: how long one checkpoint takes to write (needed with --interruptions/--mtbf)".into()))?;
        let restart_h = t.restart_h.ok_or_else(|| EstimateError::Missing("--restart-minutes: how long a restart after an interruption takes (needed with --interruptions/--mtbf)".into()))?;
        user(
            out,
            "checkpoint_write",
            &write_h.scale(60.0),
            "min",
            "--checkpoint-minutes",
        );
        user(
            out,
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
    })
}

/// Refuses failure settings under which the run could never finish, checked at the worst ends
/// of their ranges (every Monte Carlo draw lies between them, and the lost fraction grows with
/// the checkpoint and restart times and falls as the mean time between interruptions grows):
/// interruptions more often than once a minute, or checkpoints, lost work and restarts taking
/// the whole wall time. The error names the flags that disagree and the values used.
fn feasible_failures(spec: &TrainSpec, t: &TrainInputs) -> Result<(), EstimateError> {
    let Some(f) = &spec.failures else {
        return Ok(());
    };
    // The longest write and restart lose the most; with a count over a run whose length comes
    // from compute, the shortest stretch the run least, so interruptions come most often.
    let times = [
        (f.write_h.hi, f.restart_h.hi),
        (f.write_h.lo, f.restart_h.lo),
    ];
    let rate = match &f.rate {
        RateSpec::Count(c) => Rate::Count(c.hi),
        RateSpec::Mtbf(m) => Rate::Mtbf(m.lo),
    };
    // The lost fraction is convex in the interval: its worst is at one end of a given range.
    let intervals: Vec<Option<f64>> = match &f.interval_h {
        Some(i) => vec![Some(i.lo), Some(i.hi)],
        None => vec![None],
    };
    // The shortest run (the fewest hours to spread a count of interruptions over).
    let shortest = |d: &Duration| -> Option<(bool, f64)> {
        Some(match d {
            Duration::Wall(h) => (true, h.lo),
            Duration::AcceleratorHours(h) => (true, h.lo / spec.accelerators.hi),
            Duration::FromCompute { mfu } => {
                let flops = match &spec.compute {
                    Compute::Unknown => return None,
                    Compute::Flops(f) => f.lo,
                    Compute::ParamsTokens {
                        active_params,
                        tokens,
                    } => 6.0 * active_params.lo * tokens.lo,
                };
                let useful_s = flops / (spec.accelerators.hi * spec.peak.hi * mfu.hi);
                (false, useful_s / 3600.0)
            }
        })
    };
    let Some((wall_known, hours)) = shortest(&spec.duration) else {
        return Ok(());
    };
    let corners = intervals
        .iter()
        .flat_map(|i| times.iter().map(move |t| (*i, *t)));
    for (interval, (write, restart)) in corners {
        let o = if wall_known {
            failures::given_wall(hours, rate, write, restart, interval)
        } else {
            failures::given_useful(hours, rate, write, restart, interval)
        };
        let Err(why) = o else { continue };
        let rate_flag = match f.rate {
            RateSpec::Count(_) => "--interruptions",
            RateSpec::Mtbf(_) => "--mtbf",
        };
        let given = |flag: &'static str, v: bool| v.then_some(flag);
        // The flags that set the length a count of interruptions is spread over.
        let length: Vec<&'static str> = if matches!(f.rate, RateSpec::Count(_)) {
            [
                given("--days", t.wall_h.is_some()),
                given("--gpu-hours", t.gpu_hours.is_some()),
                given("--gpus", t.gpu_hours.is_some() && t.gpus.is_some()),
                given("--flops", !wall_known && t.flops.is_some()),
                given("--params", !wall_known && t.params.is_some()),
                given("--active-params", !wall_known && t.active_params.is_some()),
                given("--tokens", !wall_known && t.tokens.is_some()),
                given("--model", !wall_known && t.model.is_some()),
                given("--mfu", !wall_known && t.mfu.is_some()),
            ]
            .into_iter()
            .flatten()
            .collect()
        } else {
            Vec::new()
        };
        let (flags, message) = match why {
            failures::Infeasible::TooFrequent { mtbi_h } => {
                let mut flags = vec![rate_flag];
                flags.extend(&length);
                let message = match rate {
                    Rate::Count(n) => format!(
                        "{} interruptions over a run of {} is one every {}, more often than once a minute (the least --mtbf accepts); --interruptions counts the interruptions over the whole run",
                        fmt_input(n),
                        duration_text(mtbi_h * n),
                        duration_text(mtbi_h)
                    ),
                    Rate::Mtbf(_) => format!(
                        "an interruption every {} is more often than once a minute, the least the failure model accepts",
                        duration_text(mtbi_h)
                    ),
                };
                (flags, message)
            }
            failures::Infeasible::NeverFinishes {
                lost_fraction,
                mtbi_h,
                interval_h,
            } => {
                let mut flags = vec![rate_flag, "--checkpoint-minutes"];
                if mtbi_h.is_finite() {
                    flags.push("--restart-minutes");
                }
                if f.interval_h.is_some() {
                    flags.push("--checkpoint-interval");
                }
                flags.extend(&length);
                let every = if mtbi_h.is_finite() {
                    format!("an interruption every {}", duration_text(mtbi_h))
                } else {
                    "no interruptions".to_string()
                };
                let ranged = !(f.write_h.is_point()
                    && f.restart_h.is_point()
                    && f.interval_h.is_none_or(|i| i.is_point())
                    && match &f.rate {
                        RateSpec::Count(c) => c.is_point(),
                        RateSpec::Mtbf(m) => m.is_point(),
                    });
                (
                    flags,
                    format!(
                        "with {every}, a checkpoint write of {}, a restart of {} and a checkpoint every {}{}, checkpoints, lost work and restarts would take {}% of the wall time, so the run never finishes; shorten the checkpoint write or restart, or check the interruption rate",
                        duration_text(write),
                        duration_text(restart),
                        duration_text(interval_h),
                        if ranged { " (the worst ends of the ranges)" } else { "" },
                        fmt_human(lost_fraction * 100.0)
                    ),
                )
            }
        };
        return Err(EstimateError::Disagree { flags, message });
    }
    Ok(())
}

/// A time in hours in the unit that reads best: `30 min`, `1.9 s`, `2.78 h`, `12 d`.
fn duration_text(h: f64) -> String {
    if h < 1.0 / 60.0 {
        format!("{} s", fmt_human(h * 3600.0))
    } else if h < 1.0 {
        format!("{} min", fmt_human(h * 60.0))
    } else if h < 48.0 {
        format!("{} h", fmt_human(h))
    } else {
        format!("{} d", fmt_human(h / 24.0))
    }
}

/// A CPU-only run: `--servers` (default 1) servers of `--server-power` (or a server row's
/// maximum) at `--load` for `--days`; host CPUs and memory plus the rest of the server, no
/// accelerator component and no MFU (there is no accelerator peak).
#[allow(clippy::too_many_arguments)]
fn cpu_only(
    cat: &Catalog,
    t: &TrainInputs,
    s: &SiteInputs,
    hw: &super::Hardware<'_>,
    compute: Compute,
    wall: Option<Range>,
    gpu_hours: Option<Range>,
    out: &mut Vec<Assumption>,
    notes: &mut Vec<String>,
) -> Result<(TrainSpec, HardwareDetails), EstimateError> {
    for (flag, given) in [
        ("--gpus", t.gpus.is_some()),
        ("--gpus-per-server", t.hw.gpus_per_server.is_some()),
        ("--gpu-power", t.gpu_power.is_some()),
        ("--mfu", t.mfu.is_some()),
        ("--gpu-hours", gpu_hours.is_some()),
    ] {
        if given {
            return Err(EstimateError::Invalid {
                flag,
                message: "a CPU-only run (a server without accelerators) has no accelerators: give --servers and --days".into(),
            });
        }
    }
    if matches!(t.basis, Some(Basis::Tdp | Basis::Measured)) {
        return Err(EstimateError::Invalid {
            flag: "--power-basis",
            message: "a CPU-only run is modelled from the server's power: leave --power-basis out (or give server)".into(),
        });
    }
    let wall = wall.ok_or_else(|| {
        EstimateError::Missing(
            "--days: a CPU-only run has no accelerator peak to derive its length from the compute"
                .into(),
        )
    })?;
    user(out, "wall_time", &wall.scale(1.0 / 24.0), "d", "--days");
    let n = match positive("--servers", t.servers)? {
        Some(n) => {
            user(out, "servers", &n, "", "--servers");
            n
        }
        None => {
            out.push(Assumption {
                name: "servers".into(),
                value: "1".into(),
                origin: Origin::Default,
                source: Some("one server when --servers is not given".into()),
            });
            Range::point(1.0)
        }
    };
    let server_w = match (positive("--server-power", t.hw.server_power)?, hw.server) {
        (Some(p), _) => {
            user(out, "server_power", &p, "W", "--server-power");
            p
        }
        (None, Some(srv)) => match srv.max_power_kw {
            Some(kw) => {
                let r = Range::point(kw * 1000.0);
                catalog_value(
                    out,
                    "server_power",
                    r,
                    "W",
                    format!("{}: {}", srv.name, srv.cite()),
                );
                r
            }
            None => {
                return Err(EstimateError::Missing(format!(
                    "server {:?} publishes no maximum power: give --server-power",
                    srv.name
                )))
            }
        },
        (None, None) => {
            return Err(EstimateError::Missing(
                "--server or --server-power: the power of one server".into(),
            ))
        }
    };
    let l = load(cat, &t.hw, "train.load", out)?;
    // Host at the row's CPU TDP and DRAM where it publishes them, else the rest of the server
    // as the default share of the host (as `wattlens run` models a machine).
    let host = match hw.server {
        Some(srv) => server_host(cat, Some(srv), None, out, notes)?,
        None => None,
    };
    let host = match host {
        Some(h) => h,
        None => {
            let r = coefficient(cat, "rest.share", "rest_share", 1.0, out)?.range;
            Range::new(server_w.lo / (1.0 + r.hi), server_w.hi / (1.0 + r.lo))
        }
    };
    let power = PowerBasis::Server {
        server_w,
        per_server: Range::point(1.0),
        load: l,
        board_w: Range::point(0.0),
        host_w: host,
    };
    let failures = failures(t, out)?;
    let mut site = resolve_site(cat, s, out)?.site;
    fallback_notes(s, out, notes);
    hardware_embodied(&mut site, hw, out);
    site.embodied.per_accelerator_kg =
        crate::footprint::Param::new(Range::point(0.0), "a CPU-only run has no accelerators");
    let extra = HardwareDetails {
        model: None,
        accelerator: Some(hw.server.map_or("a CPU-only server".to_string(), |srv| {
            format!("{} (CPU only)", srv.name)
        })),
    };
    Ok((
        TrainSpec {
            compute,
            peak: Range::point(0.0),
            accelerators: n,
            per_server: Range::point(1.0),
            duration: Duration::Wall(wall),
            power,
            failures,
            site,
            cpu_only: true,
        },
        extra,
    ))
}
