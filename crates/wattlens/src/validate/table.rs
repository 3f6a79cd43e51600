//! The disclosure tables (`data/disclosures/*.csv`), embedded and parsed into typed rows: the
//! published training runs and the published inference measurements that `validate` runs the
//! estimators on.

use serde::Deserialize;
use std::sync::OnceLock;

/// The training-runs table as shipped.
const TRAINING_CSV: &str = include_str!("../../data/disclosures/training_runs.csv");
/// The inference-measurements table as shipped.
const INFERENCE_CSV: &str = include_str!("../../data/disclosures/inference_measurements.csv");

/// A disclosure table that does not parse (a bug in the shipped data, caught by the tests).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TableError {
    /// A row or cell that does not parse.
    #[error("data/disclosures/{file}: line {line}: {message}")]
    Malformed {
        /// The table's file name.
        file: &'static str,
        /// The 1-based line of the row.
        line: u64,
        /// What is wrong.
        message: String,
    },
}

/// One published training run (`training_runs.csv`; the columns are described in the
/// table's README).
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct TrainingRun {
    /// Unique key.
    pub id: String,
    /// Model family: the unit of the calibration split.
    pub family: String,
    /// Model as published.
    pub model: String,
    /// Total parameters, billions.
    pub params_total_b: Option<f64>,
    /// Parameters active per token, billions.
    pub params_active_b: Option<f64>,
    /// Pre-training tokens, trillions.
    pub tokens_t: Option<f64>,
    /// Catalog key of the accelerator.
    pub accelerator: String,
    /// Accelerators used.
    pub accelerator_count: Option<f64>,
    /// Accelerator-hours as disclosed (or derived, per the row's notes).
    pub accelerator_hours: Option<f64>,
    /// Wall-clock days.
    pub days: Option<f64>,
    /// Training energy as the source states it, MWh.
    pub energy_mwh: Option<f64>,
    /// Training emissions as stated, t CO2e.
    pub emissions_tco2e: Option<f64>,
    /// PUE the source used.
    pub pue: Option<f64>,
    /// Year of the publication.
    pub year: u32,
    /// `verified` or `secondary`.
    pub confidence: String,
    /// Citation.
    pub source: String,
}

impl TrainingRun {
    /// The published accelerator-hours: as disclosed, else count x days x 24 (what the
    /// table's own derived cells do).
    #[must_use]
    pub fn published_hours(&self) -> Option<f64> {
        self.accelerator_hours
            .or(match (self.accelerator_count, self.days) {
                (Some(n), Some(d)) => Some(n * d * 24.0),
                _ => None,
            })
    }
}

/// One published inference measurement (`inference_measurements.csv`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct InferenceRow {
    /// Unique key; its prefix names the source.
    pub id: String,
    /// Model family.
    pub family: String,
    /// Model as the source names it.
    pub model: String,
    /// Total parameters, billions.
    pub params_total_b: Option<f64>,
    /// Active parameters, billions.
    pub params_active_b: Option<f64>,
    /// Layers.
    pub layers: Option<f64>,
    /// Hidden size.
    pub hidden: Option<f64>,
    /// Key-value heads.
    pub kv_heads: Option<f64>,
    /// Head dimension.
    pub head_dim: Option<f64>,
    /// Catalog key where the hardware is certain, else the name as published.
    pub accelerator: String,
    /// Accelerators serving one instance.
    pub accelerator_count: Option<f64>,
    /// Weight precision.
    pub precision: Option<String>,
    /// Batch (vLLM: `max_num_seqs`).
    pub batch: Option<f64>,
    /// Mean input tokens per request.
    pub input_tokens: Option<f64>,
    /// Mean output tokens per request.
    pub output_tokens: Option<f64>,
    /// Joules per output token.
    pub energy_j_per_token: Option<f64>,
    /// Wh per request.
    pub energy_wh_per_request: Option<f64>,
    /// `gpu`, `node` or `fleet`.
    pub measured_scope: String,
    /// Engine and version.
    pub serving_stack: Option<String>,
    /// Year of the publication.
    pub year: u32,
    /// `verified`, `secondary` or `estimate`.
    pub confidence: String,
    /// Citation.
    pub source: String,
}

impl InferenceRow {
    /// The source, by the id's prefix (`mlev3`, `mlev1` ...; else the first word).
    #[must_use]
    pub fn source_key(&self) -> &str {
        for p in ["mlev3-blog", "mlev3", "mlev2", "mlev1"] {
            if self.id.starts_with(p) {
                return p;
            }
        }
        self.id.split('-').next().unwrap_or(&self.id)
    }
}

fn parse<T: for<'de> Deserialize<'de>>(
    file: &'static str,
    text: &str,
) -> Result<Vec<T>, TableError> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    r.deserialize()
        .map(|row| {
            row.map_err(|e| TableError::Malformed {
                file,
                line: e.position().map_or(0, csv::Position::line),
                message: e.to_string(),
            })
        })
        .collect()
}

/// The published training runs.
///
/// # Errors
/// [`TableError::Malformed`] naming the line (the tests keep it from happening).
pub fn training_runs() -> Result<&'static [TrainingRun], TableError> {
    static ROWS: OnceLock<Vec<TrainingRun>> = OnceLock::new();
    if let Some(r) = ROWS.get() {
        return Ok(r);
    }
    let rows = parse("training_runs.csv", TRAINING_CSV)?;
    Ok(ROWS.get_or_init(|| rows))
}

/// The published inference measurements.
///
/// # Errors
/// [`TableError::Malformed`] naming the line.
pub fn inference_rows() -> Result<&'static [InferenceRow], TableError> {
    static ROWS: OnceLock<Vec<InferenceRow>> = OnceLock::new();
    if let Some(r) = ROWS.get() {
        return Ok(r);
    }
    let rows = parse("inference_measurements.csv", INFERENCE_CSV)?;
    Ok(ROWS.get_or_init(|| rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use std::collections::HashSet;

    #[test]
    fn training_rows_parse_with_unique_ids_and_catalog_accelerators() {
        let rows = training_runs().expect("parses");
        assert_eq!(rows.len(), 77);
        let ids: HashSet<_> = rows.iter().map(|r| &r.id).collect();
        assert_eq!(ids.len(), rows.len(), "ids are unique");
        let cat = Catalog::embedded();
        for r in rows {
            let a = cat.accelerators().expect("catalog").get(&r.accelerator);
            assert!(
                a.is_ok(),
                "{}: accelerator {} resolves",
                r.id,
                r.accelerator
            );
            if let (Some(a), Some(t)) = (r.params_active_b, r.params_total_b) {
                assert!(a <= t, "{}: active <= total", r.id);
            }
        }
        // BLOOM: 1,082,990 GPU-hours as disclosed; Falcon-7B: 384 x 14 d x 24 = 129,024.
        let by = |id: &str| rows.iter().find(|r| r.id == id).expect("row");
        assert_eq!(by("bloom-176b").published_hours(), Some(1_082_990.0));
        assert_eq!(by("falcon-7b").published_hours(), Some(129_024.0));
        assert_eq!(by("gemma-1-2b").published_hours(), None);
    }

    #[test]
    fn inference_rows_parse_with_unique_ids() {
        let rows = inference_rows().expect("parses");
        assert_eq!(rows.len(), 75);
        let ids: HashSet<_> = rows.iter().map(|r| &r.id).collect();
        assert_eq!(ids.len(), rows.len());
        assert_eq!(
            rows.iter().filter(|r| r.source_key() == "mlev3").count(),
            53
        );
    }
}
