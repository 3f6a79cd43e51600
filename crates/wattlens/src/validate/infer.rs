//! `validate --kind infer`: accelerator energy per output token from `estimate infer` against
//! the published measurements, each usable row run twice, with parameters only and with the
//! model's shape (the row's layers, hidden size, KV heads and head dimension), summarised over
//! all rows, per source (one source, the ML.ENERGY leaderboard v3, has 53 of the rows) and per
//! band of batch size ([`BATCH_BANDS`]: where the misses are). The inference model is not fitted
//! to these rows: this measures it.

use super::summary::{Outcome, Summary};
use super::table::InferenceRow;
use super::train::{Skipped, ValidateError};
use crate::catalog::{Catalog, Model, UserCatalog};
use crate::estimate::resolve::{infer, HardwareInputs, InferInputs, Precision};
use crate::estimate::run_resolved;
use crate::estimate::site::SiteInputs;
use crate::figure::Figure;
use crate::runner::McOptions;
use crate::uncertainty::Range;
use serde::Serialize;

/// Accelerators of the measurements table that are no catalog row, marked as such: the 2023
/// A100/V100 rows whose variant (memory, form factor, so board power and bandwidth) the source
/// does not state, fleets, and undisclosed hardware. Their rows are skipped with the reason.
pub const UNRESOLVED_ACCELERATORS: [&str; 5] = [
    "Google TPU fleet (and GPUs; mix not disclosed)",
    "NVIDIA A100 (variant not stated)",
    "NVIDIA V100 (variant not stated)",
    "NVIDIA V100 and A100 (paper uses both)",
    "not disclosed",
];

/// Bands of the published batch size, by their inclusive upper end, each summarised as a set of
/// its own: the estimator's error is not uniform in batch (decode power at small batch,
/// docs/models.md 7.1), so a summary over all rows hides where the misses are. Rows without a
/// batch are in none.
pub const BATCH_BANDS: [(&str, f64); 3] = [
    ("batch 1-16", 16.0),
    ("batch 17-128", 128.0),
    ("batch 129+", f64::INFINITY),
];

/// The band of [`BATCH_BANDS`] a batch size falls in, if any.
#[must_use]
pub fn batch_band(batch: Option<f64>) -> Option<&'static str> {
    let b = batch?;
    BATCH_BANDS
        .iter()
        .find(|(_, hi)| b <= *hi)
        .map(|(name, _)| *name)
}

/// One estimate of a row against its published figure.
#[derive(Clone, Debug, Serialize)]
pub struct InferEstimate {
    /// Accelerator energy per output token, P5, J.
    pub p5_j: f64,
    /// P50.
    pub p50_j: f64,
    /// P95.
    pub p95_j: f64,
    /// `(P50 - published) / published`.
    pub error: f64,
    /// Published within P5..P95.
    pub inside: bool,
}

/// One measurement and the two estimates of it.
#[derive(Clone, Debug, Serialize)]
pub struct InferCheck {
    /// Row id.
    pub id: String,
    /// Family.
    pub family: String,
    /// Source key (`mlev3`, `mlev3-blog`, `mlev2` ...).
    pub source: String,
    /// Accelerator (catalog key).
    pub accelerator: String,
    /// Batch, if published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<f64>,
    /// Published accelerator energy per output token, J.
    pub published_j_per_token: f64,
    /// With `--params`/`--active-params` only (`Err`: the estimator's refusal).
    pub params: Attempt,
    /// With the model's shape, where the row gives it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shape: Option<Attempt>,
}

/// An estimate, or the estimator's refusal of the row's inputs (a model that does not fit the
/// accelerators at the default prompt length, say): a finding, kept beside the estimates.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Attempt {
    /// The estimate.
    Estimate(InferEstimate),
    /// The estimator's message.
    Refused(String),
}

impl Attempt {
    /// The estimate, if there is one.
    #[must_use]
    pub fn estimate(&self) -> Option<&InferEstimate> {
        match self {
            Self::Estimate(e) => Some(e),
            Self::Refused(_) => None,
        }
    }
}

/// A summary by inputs (`params`, `shape`) and rows (`all` or a source).
#[derive(Clone, Debug, Serialize)]
pub struct InferSummary {
    /// `params` or `shape`.
    pub inputs: &'static str,
    /// Which rows: `all`, a source key or a band of [`BATCH_BANDS`].
    pub set: String,
    /// Rows the estimator refused (not in the figures).
    pub refused: usize,
    /// The figures.
    #[serde(flatten)]
    pub summary: Summary,
}

/// The outcome of `validate --kind infer`.
#[derive(Clone, Debug, Serialize)]
pub struct InferValidation {
    /// Checks, by row.
    pub checks: Vec<InferCheck>,
    /// Summaries.
    pub summaries: Vec<InferSummary>,
    /// Rows with no check, and why.
    pub skipped: Vec<Skipped>,
}

/// Why a row cannot be run, if it cannot.
fn unusable(cat: &Catalog, r: &InferenceRow) -> Option<String> {
    if r.confidence == "estimate" {
        return Some("a modelled estimate, not a measurement".into());
    }
    if r.measured_scope != "gpu" {
        return Some(format!(
            "measured scope {:?}, not the accelerators",
            r.measured_scope
        ));
    }
    if r.energy_j_per_token.is_none() {
        return Some("no energy per output token published".into());
    }
    if r.params_total_b.is_none() {
        return Some("no parameter count".into());
    }
    if UNRESOLVED_ACCELERATORS.contains(&r.accelerator.as_str()) {
        return Some(format!(
            "accelerator {:?} is not a catalog row (marked unresolvable)",
            r.accelerator
        ));
    }
    if cat
        .accelerators()
        .ok()
        .and_then(|t| t.get(&r.accelerator).ok())
        .is_none()
    {
        return Some(format!(
            "accelerator {:?} is not in this catalog",
            r.accelerator
        ));
    }
    None
}

/// The row's shape as a catalog model row, if the row gives layers, hidden size, KV heads and
/// head dimension.
fn shape_model(r: &InferenceRow) -> Option<Model> {
    let b = |x: f64| x * 1e9;
    Some(Model {
        name: format!("validate-{}", r.id),
        aliases: None,
        developer: None,
        year: None,
        total_params: r.params_total_b.map(b),
        active_params: r.params_active_b.map(b),
        layers: Some(r.layers?),
        hidden_size: Some(r.hidden?),
        attention_heads: None,
        kv_heads: Some(r.kv_heads?),
        head_dim: Some(r.head_dim?),
        context_length: None,
        kv_cache_width: None,
        training_tokens: None,
        training_accelerator: None,
        training_accelerators: None,
        training_days: None,
        training_accelerator_hours: None,
        reported_training_energy_mwh: None,
        reported_training_tco2e: None,
        reported_emissions_basis: None,
        architecture_source: Some(r.source.clone()),
        training_source: None,
        notes: None,
    })
}

fn estimate(cat: &Catalog, r: &InferenceRow, model: Option<String>, mc: McOptions) -> Attempt {
    match try_estimate(cat, r, model, mc) {
        Ok(e) => Attempt::Estimate(e),
        Err(ValidateError::Estimate { message, .. }) => Attempt::Refused(message),
        Err(e) => Attempt::Refused(e.to_string()),
    }
}

fn try_estimate(
    cat: &Catalog,
    r: &InferenceRow,
    model: Option<String>,
    mc: McOptions,
) -> Result<InferEstimate, ValidateError> {
    let published = r.energy_j_per_token.unwrap_or(f64::NAN);
    let by_params = model.is_none();
    let b = |x: f64| Some(Range::point(x * 1e9));
    let inputs = InferInputs {
        model,
        params: if by_params {
            r.params_total_b.and_then(b)
        } else {
            None
        },
        active_params: if by_params {
            r.params_active_b.and_then(b)
        } else {
            None
        },
        hw: HardwareInputs {
            gpu: Some(r.accelerator.clone()),
            ..HardwareInputs::default()
        },
        gpus: r.accelerator_count.map(Range::point),
        input_tokens: r.input_tokens.map(Range::point),
        output_tokens: r.output_tokens.map(Range::point),
        batch: r.batch.map(Range::point),
        precision: r
            .precision
            .as_deref()
            .and_then(Precision::parse)
            .unwrap_or_default(),
        ..InferInputs::default()
    };
    let err = |message: String| ValidateError::Estimate {
        id: r.id.clone(),
        message,
    };
    let res = infer(cat, &inputs, &SiteInputs::default())
        .map_err(|e| err(e.render(&|f| f.name().to_string())))?;
    let p = run_resolved(res, mc)
        .get(Figure::AcceleratorEnergyPerToken)
        .ok_or_else(|| err("no accelerator energy per token".into()))?;
    Ok(InferEstimate {
        p5_j: p.p5,
        p50_j: p.p50,
        p95_j: p.p95,
        error: (p.p50 - published) / published,
        inside: p.p5 <= published && published <= p.p95,
    })
}

fn summarise(checks: &[&InferCheck], inputs: &'static str, set: &str) -> InferSummary {
    fn pick<'c>(c: &'c InferCheck, inputs: &str) -> Option<&'c Attempt> {
        if inputs == "params" {
            Some(&c.params)
        } else {
            c.shape.as_ref()
        }
    }
    let mut refused = 0;
    let mut fams: Vec<&str> = Vec::new();
    let mut o = Vec::new();
    for c in checks {
        let Some(a) = pick(c, inputs) else { continue };
        if let Some(e) = a.estimate() {
            fams.push(&c.family);
            o.push(Outcome {
                error: e.error,
                inside: e.inside,
                width: e.p95_j / e.p5_j,
            });
        } else {
            refused += 1;
        }
    }
    fams.sort_unstable();
    fams.dedup();
    InferSummary {
        inputs,
        set: set.into(),
        refused,
        summary: Summary::of(&o, fams.len()),
    }
}

/// Runs `validate --kind infer` on the shipped measurements.
///
/// # Errors
/// [`ValidateError`] when the table does not parse or an estimate fails.
pub fn validate_infer(cat: &Catalog, mc: McOptions) -> Result<InferValidation, ValidateError> {
    let rows = super::table::inference_rows()?;
    let (mut checks, mut skipped) = (Vec::new(), Vec::new());
    for r in rows {
        if let Some(reason) = unusable(cat, r) {
            skipped.push(Skipped {
                id: r.id.clone(),
                reason,
            });
            continue;
        }
        let params = estimate(cat, r, None, mc);
        let shape = match shape_model(r) {
            Some(m) => {
                let name = m.name.clone();
                let with = Catalog::with_user(UserCatalog {
                    model: vec![m],
                    ..UserCatalog::default()
                });
                Some(estimate(&with, r, Some(name), mc))
            }
            None => None,
        };
        checks.push(InferCheck {
            id: r.id.clone(),
            family: r.family.clone(),
            source: r.source_key().to_string(),
            accelerator: r.accelerator.clone(),
            batch: r.batch,
            published_j_per_token: r.energy_j_per_token.unwrap_or(f64::NAN),
            params,
            shape,
        });
    }
    let mut sources: Vec<&str> = checks.iter().map(|c| c.source.as_str()).collect();
    sources.sort_unstable();
    sources.dedup();
    let mut summaries = Vec::new();
    for inputs in ["params", "shape"] {
        let all: Vec<&InferCheck> = checks.iter().collect();
        summaries.push(summarise(&all, inputs, "all"));
        for s in &sources {
            let of: Vec<&InferCheck> = checks.iter().filter(|c| c.source == *s).collect();
            summaries.push(summarise(&of, inputs, s));
        }
        for (band, _) in BATCH_BANDS {
            let of: Vec<&InferCheck> = checks
                .iter()
                .filter(|c| batch_band(c.batch) == Some(band))
                .collect();
            summaries.push(summarise(&of, inputs, band));
        }
    }
    Ok(InferValidation {
        checks,
        summaries,
        skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_bands_partition_the_batch_sizes() {
        // Inclusive upper ends, no gaps: 16.5 is in the middle band.
        assert_eq!(batch_band(Some(1.0)), Some("batch 1-16"));
        assert_eq!(batch_band(Some(8.0)), Some("batch 1-16"));
        assert_eq!(batch_band(Some(16.0)), Some("batch 1-16"));
        assert_eq!(batch_band(Some(16.5)), Some("batch 17-128"));
        assert_eq!(batch_band(Some(17.0)), Some("batch 17-128"));
        assert_eq!(batch_band(Some(128.0)), Some("batch 17-128"));
        assert_eq!(batch_band(Some(129.0)), Some("batch 129+"));
        assert_eq!(batch_band(Some(1024.0)), Some("batch 129+"));
        assert_eq!(batch_band(None), None);
    }
}
