//! `validate --kind train`: accelerator-hours from parameters x tokens x hardware alone (the
//! analyst's case) against the published hours, per row and summarised by split; the same with
//! the prior chosen and refitted leaving each family out (and each candidate form's figures);
//! and energy from hardware x count x days x PUE
//! against the published energy, keeping apart the rows whose energy is itself hours x a
//! nominal power.

use super::choice::{self, Selection};
use super::fit::{self, Implied, Prior, Split};
use super::summary::{Outcome, Summary};
use super::table::{TableError, TrainingRun};
use crate::catalog::Catalog;
use crate::estimate::resolve::{train, HardwareInputs, TrainInputs};
use crate::estimate::run_resolved;
use crate::estimate::site::SiteInputs;
use crate::estimate::utilisation::ConditionalPrior;
use crate::figure::Figure;
use crate::runner::McOptions;
use crate::uncertainty::{Percentiles, Range};
use serde::Serialize;

/// Runs whose published energy is itself hours x a nominal power (the table README's
/// "Circular energy and emissions"): the energy check on them tests arithmetic, not truth.
pub const ENERGY_FROM_NOMINAL_POWER: &[(&str, &str)] = &[
    ("llama-1-65b", "LLaMA Table 15: GPU-hours x 400 W x PUE 1.1"),
    (
        "bloom-176b",
        "433,196 kWh = 1,082,990 GPU-hours x 0.4 kW (GPU TDP only)",
    ),
    (
        "gopher-280b",
        "as tabulated by Luccioni et al.: hours x 283 W average",
    ),
];

/// Runs whose published energy was measured on the accelerators alone (no host, no PUE): the
/// energy check compares them with the model's accelerator energy for the same count and days,
/// not its facility energy (the table README, "Measured energy of GPU-only scope").
pub const ENERGY_GPU_ONLY: &[(&str, &str)] = &[
    (
        "dodge-6b-transformer-partial",
        "Dodge et al. 2022: metered GPU energy only",
    ),
    (
        "dodge-bert-small-pretrain",
        "Dodge et al. 2022: metered GPU energy only",
    ),
];

/// The accelerator count given to the hours check. Accelerator-hours from compute,
/// `C / (peak x u)`, do not depend on it (no failure model is given), so an outsider who does
/// not know the count loses nothing; it is fixed rather than read from the row.
pub const NOMINAL_ACCELERATORS: f64 = 1000.0;

/// Options of a training validation.
#[derive(Clone, Copy, Debug)]
pub struct TrainOptions {
    /// Also refit leaving each family out.
    pub cross_validate: bool,
    /// Monte Carlo options of each estimate.
    pub mc: McOptions,
}

/// A validation that could not run.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ValidateError {
    /// A disclosure table does not parse.
    #[error(transparent)]
    Table(#[from] TableError),
    /// An estimate on a row failed.
    #[error("row {id}: {message}")]
    Estimate {
        /// The row.
        id: String,
        /// The estimator's message.
        message: String,
    },
    /// Too few families to fit the prior.
    #[error("fewer than two families to fit the prior on ({what})")]
    TooFew {
        /// Which fit.
        what: String,
    },
}

/// One accelerator-hours check.
#[derive(Clone, Debug, Serialize)]
pub struct HoursCheck {
    /// Row id.
    pub id: String,
    /// Family.
    pub family: String,
    /// Accelerator (catalog key).
    pub accelerator: String,
    /// Half of the split.
    pub split: Split,
    /// Published accelerator-hours.
    pub published_h: f64,
    /// Estimate P5, P50, P95, hours.
    pub p5_h: f64,
    /// P50.
    pub p50_h: f64,
    /// P95.
    pub p95_h: f64,
    /// `(P50 - published) / published`.
    pub error: f64,
    /// Published within P5..P95.
    pub inside: bool,
    /// Implied effective utilisation of the published run.
    pub implied_utilisation: f64,
    /// Why the row stays out of the summaries (its hours are a bound), if it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bound: Option<&'static str>,
}

impl HoursCheck {
    fn outcome(&self) -> Outcome {
        Outcome {
            error: self.error,
            inside: self.inside,
            width: self.p95_h / self.p5_h,
        }
    }
}

/// What a published training energy covers, and so which modelled figure it is set beside.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EnergyScope {
    /// Facility energy: IT energy x PUE.
    Facility,
    /// The accelerators alone ([`ENERGY_GPU_ONLY`]): no host, no PUE.
    Gpu,
}

/// One energy check.
#[derive(Clone, Debug, Serialize)]
pub struct EnergyCheck {
    /// Row id.
    pub id: String,
    /// Family.
    pub family: String,
    /// Published energy, MWh.
    pub published_mwh: f64,
    /// What the published energy covers and the estimate compared with it: `facility` (IT x
    /// PUE) or `gpu` (the accelerators alone, [`ENERGY_GPU_ONLY`]).
    pub scope: EnergyScope,
    /// Estimated energy of that scope, P5, MWh.
    pub p5_mwh: f64,
    /// P50.
    pub p50_mwh: f64,
    /// P95.
    pub p95_mwh: f64,
    /// `(P50 - published) / published`.
    pub error: f64,
    /// Published within P5..P95.
    pub inside: bool,
    /// Why the published energy is itself hours x a nominal power, if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_nominal_power: Option<&'static str>,
}

/// A summary with its name (`calibration`, `held-back`, `all` ...).
#[derive(Clone, Debug, Serialize)]
pub struct Named {
    /// What it covers.
    pub name: String,
    /// The figures.
    #[serde(flatten)]
    pub summary: Summary,
}

/// The leave-one-family-out cross-validation.
#[derive(Clone, Debug, Serialize)]
pub struct CrossValidation {
    /// Each row predicted by the prior fitted without its family.
    pub rows: Vec<HoursCheck>,
    /// Over all rows.
    pub summary: Summary,
    /// Each fold's prior.
    pub folds: Vec<Fold>,
}

/// One fold of the cross-validation.
#[derive(Clone, Debug, Serialize)]
pub struct Fold {
    /// The family left out (and predicted).
    pub left_out: String,
    /// The prior chosen (by the rule, on the other families) and fitted on the others.
    pub prior: Prior,
}

/// One candidate form's figures, beside the chosen one.
#[derive(Clone, Debug, Serialize)]
pub struct Candidate {
    /// `C0` .. `C4`.
    pub form: &'static str,
    /// Leave-one-family-out mean squared error of `ln u` among the calibration families (what
    /// the rule compares); `None` (JSON null) when a fold cannot be fitted (a covariate
    /// constant once a family is left out), which the rule counts as infinite.
    pub press_calibration: Option<f64>,
    /// The form fitted on the calibration half, if it can be.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub equation: Option<String>,
    /// Its held-back figures, with that fit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_back: Option<Summary>,
    /// Leave-one-family-out over every family with this form fixed (with `--cross-validate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cross_validated: Option<Summary>,
}

/// A row with no check.
#[derive(Clone, Debug, Serialize)]
pub struct Skipped {
    /// Row id.
    pub id: String,
    /// Why.
    pub reason: String,
}

/// The outcome of `validate --kind train`.
#[derive(Clone, Debug, Serialize)]
pub struct TrainValidation {
    /// The shipped prior: the form the second-level rule ships (see [`Selection`]), fitted on
    /// the calibration half (what the shipped default must equal).
    pub prior: Prior,
    /// The registered rule's choice, the nested leave-one-family-out against C0's, and which
    /// form ships and why.
    pub selection: Selection,
    /// Every candidate form's figures.
    pub candidates: Vec<Candidate>,
    /// The prior the estimates used: the catalog's conditional prior (its equation).
    pub prior_used: String,
    /// Accelerator-hours checks, by row.
    pub hours: Vec<HoursCheck>,
    /// Summaries of the hours checks: calibration, held-back, all.
    pub hours_summary: Vec<Named>,
    /// Leave-one-family-out, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cross_validated: Option<CrossValidation>,
    /// Energy checks, by row.
    pub energy: Vec<EnergyCheck>,
    /// Summaries of the energy checks: independent, from nominal power.
    pub energy_summary: Vec<Named>,
    /// Rows with no check, and why.
    pub skipped: Vec<Skipped>,
}

fn estimate(
    cat: &Catalog,
    id: &str,
    t: &TrainInputs,
    s: &SiteInputs,
    mc: McOptions,
    figure: Figure,
) -> Result<Percentiles, ValidateError> {
    let err = |message: String| ValidateError::Estimate {
        id: id.to_string(),
        message,
    };
    let r = train(cat, t, s).map_err(|e| err(e.render(&|f| f.name().to_string())))?;
    run_resolved(r, mc)
        .get(figure)
        .ok_or_else(|| err(format!("no {} figure", figure.key())))
}

/// Accelerator-hours from what an outsider knows: parameters (total and active), tokens and the
/// accelerator, at the catalog's prior.
pub(super) fn hours_check(
    cat: &Catalog,
    i: &Implied<'_>,
    mc: McOptions,
) -> Result<HoursCheck, ValidateError> {
    let r = i.run;
    let b = |x: f64| Some(Range::point(x * 1e9));
    let inputs = TrainInputs {
        params: r.params_total_b.and_then(b),
        active_params: r.params_active_b.and_then(b),
        tokens: r.tokens_t.map(|t| Range::point(t * 1e12)),
        gpus: Some(Range::point(NOMINAL_ACCELERATORS)),
        hw: HardwareInputs {
            gpu: Some(r.accelerator.clone()),
            ..HardwareInputs::default()
        },
        ..TrainInputs::default()
    };
    let p = estimate(
        cat,
        &r.id,
        &inputs,
        &SiteInputs::default(),
        mc,
        Figure::AcceleratorHours,
    )?;
    Ok(HoursCheck {
        id: r.id.clone(),
        family: r.family.clone(),
        accelerator: r.accelerator.clone(),
        split: Split::of(&r.family),
        published_h: i.hours,
        p5_h: p.p5,
        p50_h: p.p50,
        p95_h: p.p95,
        error: (p.p50 - i.hours) / i.hours,
        inside: p.p5 <= i.hours && i.hours <= p.p95,
        implied_utilisation: i.utilisation,
        bound: fit::hours_bound(&r.id),
    })
}

/// Facility energy from the accelerator, its count, the days and the row's PUE (the
/// accelerators' energy alone for a run whose published energy is theirs alone).
fn energy_check(
    cat: &Catalog,
    r: &TrainingRun,
    mc: McOptions,
) -> Option<Result<EnergyCheck, ValidateError>> {
    let (mwh, n, days) = (r.energy_mwh?, r.accelerator_count?, r.days?);
    let inputs = TrainInputs {
        gpus: Some(Range::point(n)),
        wall_h: Some(Range::point(days * 24.0)),
        hw: HardwareInputs {
            gpu: Some(r.accelerator.clone()),
            ..HardwareInputs::default()
        },
        ..TrainInputs::default()
    };
    let site = SiteInputs {
        pue: r.pue.map(Range::point),
        ..SiteInputs::default()
    };
    let gpu_only = ENERGY_GPU_ONLY.iter().any(|(k, _)| *k == r.id);
    let (scope, figure) = if gpu_only {
        (EnergyScope::Gpu, Figure::ComponentAccelerators)
    } else {
        (EnergyScope::Facility, Figure::FacilityEnergy)
    };
    Some(estimate(cat, &r.id, &inputs, &site, mc, figure).map(|p| {
        let (p5, p50, p95) = (p.p5 / 1e3, p.p50 / 1e3, p.p95 / 1e3);
        EnergyCheck {
            id: r.id.clone(),
            family: r.family.clone(),
            published_mwh: mwh,
            scope,
            p5_mwh: p5,
            p50_mwh: p50,
            p95_mwh: p95,
            error: (p50 - mwh) / mwh,
            inside: p5 <= mwh && mwh <= p95,
            from_nominal_power: ENERGY_FROM_NOMINAL_POWER
                .iter()
                .find(|(k, _)| *k == r.id)
                .map(|(_, why)| *why),
        }
    }))
}

fn families<'a>(it: impl Iterator<Item = &'a str>) -> usize {
    let mut v: Vec<_> = it.collect();
    v.sort_unstable();
    v.dedup();
    v.len()
}

pub(super) fn summarise(name: &str, rows: &[&HoursCheck]) -> Named {
    let o: Vec<_> = rows.iter().map(|r| r.outcome()).collect();
    Named {
        name: name.into(),
        summary: Summary::of(&o, families(rows.iter().map(|r| r.family.as_str()))),
    }
}

/// Runs `validate --kind train` on the shipped table with the catalog's prior.
///
/// # Errors
/// [`ValidateError`] when the table does not parse, an estimate fails, or too few families.
pub fn validate_train(cat: &Catalog, o: TrainOptions) -> Result<TrainValidation, ValidateError> {
    let runs = super::table::training_runs()?;
    let embedded = Catalog::embedded();
    let implied = fit::usable(&embedded, runs);
    let shipped = choice::shipped(&implied, o.mc)?;
    let prior_used = prior_used(cat)?;
    let mut hours = Vec::new();
    for i in &implied {
        hours.push(hours_check(cat, i, o.mc)?);
    }
    // Bound rows: estimated and shown, outside the fit and the summaries.
    for r in runs.iter().filter(|r| fit::hours_bound(&r.id).is_some()) {
        if let Some(i) = fit::implied(&embedded, r) {
            hours.push(hours_check(cat, &i, o.mc)?);
        }
    }
    let counted: Vec<&HoursCheck> = hours.iter().filter(|h| h.bound.is_none()).collect();
    let of = |s: Split| -> Vec<&HoursCheck> {
        counted.iter().copied().filter(|h| h.split == s).collect()
    };
    let hours_summary = vec![
        summarise("calibration", &of(Split::Calibration)),
        summarise("held-back", &of(Split::HeldBack)),
        summarise("all", &counted),
    ];
    let cross_validated = o.cross_validate.then(|| shipped.nested.clone());
    let mut energy = Vec::new();
    let mut skipped = Vec::new();
    for r in runs {
        if let Some(e) = energy_check(cat, r, o.mc) {
            energy.push(e?);
        }
        if hours.iter().all(|h| h.id != r.id) && energy.iter().all(|e| e.id != r.id) {
            skipped.push(Skipped {
                id: r.id.clone(),
                reason: why_skipped(r),
            });
        }
    }
    // Independent: every row whose energy is not hours x a nominal power, each at its own scope
    // (the goal's figure); then by scope; then the nominal rows.
    type Keep = fn(&EnergyCheck) -> bool;
    let sets: [(&str, Keep); 4] = [
        ("independent", |e| e.from_nominal_power.is_none()),
        ("independent, facility", |e| {
            e.from_nominal_power.is_none() && e.scope == EnergyScope::Facility
        }),
        ("independent, GPU only", |e| {
            e.from_nominal_power.is_none() && e.scope == EnergyScope::Gpu
        }),
        ("from nominal power", |e| e.from_nominal_power.is_some()),
    ];
    let energy_summary = sets
        .iter()
        .map(|(name, keep)| {
            let e: Vec<_> = energy.iter().filter(|e| keep(e)).collect();
            let o: Vec<_> = e
                .iter()
                .map(|e| Outcome {
                    error: e.error,
                    inside: e.inside,
                    width: e.p95_mwh / e.p5_mwh,
                })
                .collect();
            Named {
                name: (*name).into(),
                summary: Summary::of(&o, families(e.iter().map(|e| e.family.as_str()))),
            }
        })
        .collect();
    let candidates = choice::candidates(&implied, &shipped.scores, &shipped.constant.summary, o)?;
    Ok(TrainValidation {
        prior: shipped.prior,
        selection: shipped.selection,
        candidates,
        prior_used,
        hours,
        hours_summary,
        cross_validated,
        energy,
        energy_summary,
        skipped,
    })
}

/// The conditional prior the catalog gives the estimates, as its equation.
fn prior_used(cat: &Catalog) -> Result<String, ValidateError> {
    let err = |message: String| ValidateError::Estimate {
        id: "train.utilisation".into(),
        message,
    };
    match ConditionalPrior::from_catalog(cat).map_err(|e| err(e.to_string()))? {
        Some(p) => Ok(p.equation()),
        None => Err(err("the catalog has no train.utilisation.* rows".into())),
    }
}

/// Why a row has neither check.
fn why_skipped(r: &TrainingRun) -> String {
    let mut missing = Vec::new();
    if r.tokens_t.is_none() {
        missing.push("tokens");
    }
    if r.published_hours().is_none() {
        missing.push("accelerator-hours (or count and days)");
    }
    if r.energy_mwh.is_some() && (r.accelerator_count.is_none() || r.days.is_none()) {
        missing.push("the count and days the energy check needs");
    }
    format!("not published: {}", missing.join("; "))
}
