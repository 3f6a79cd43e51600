//! The result of an estimate or a measured run: figures as percentiles keyed by
//! [`Figure`], components with their methods, the explanation, assumptions, published
//! comparisons, notes, sampling facts and typed [`Details`]; and its `wattlens.footprint/v1`
//! JSON.

use super::Details;
use crate::energy::Method;
use crate::explain::{Assumption, Step};
use crate::figure::{Figure, Group};
use crate::uncertainty::Percentiles;
use serde_json::{json, Map, Value};

/// The JSON schema id of an estimate or a measured run.
pub const SCHEMA: &str = "wattlens.footprint/v1";

/// A published figure shown beside the estimate.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Published {
    /// Which figure (`training energy`).
    pub name: String,
    /// Its value.
    pub value: f64,
    /// Unit.
    pub unit: String,
    /// The estimate's P50 in the same unit, when comparable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimate_p50: Option<f64>,
    /// What the figure covers and where it comes from.
    pub source: String,
}

/// One component of IT energy as the JSON lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct ComponentInfo {
    /// Its figure (`component.host`).
    pub key: Figure,
    /// Display name.
    pub name: &'static str,
    /// `accelerator`, `host` or `server`.
    pub kind: &'static str,
    /// How its energy was obtained.
    pub method: Method,
}

/// The result of an estimate: figures as percentiles, the explanation and the assumptions.
#[derive(Clone, Debug)]
pub struct Estimate {
    /// `train`, `fleet`, `datacenter`.
    pub kind: &'static str,
    /// Figures by key (`facility_energy_kwh`), in model order.
    pub figures: Vec<(Figure, Percentiles)>,
    /// Steps at the central inputs.
    pub steps: Vec<Step>,
    /// Inputs and their origins.
    pub assumptions: Vec<Assumption>,
    /// Published figures for comparison.
    pub published: Vec<Published>,
    /// Warnings worth printing (e.g. a rack too dense for the chosen cooling).
    pub notes: Vec<String>,
    /// Evaluations made (1 when every input is a point).
    pub samples: usize,
    /// Seed used.
    pub seed: u64,
    /// Currency of `cost`.
    pub currency: String,
    /// Scope of the location-based intensity.
    pub intensity_scope: String,
    /// Whether carbon used an annual intensity or a series (`carbon_basis`).
    pub carbon_basis: crate::grid::CarbonBasis,
    /// Descriptions of the equivalents: (key, label, unit, source).
    pub equivalents: Vec<(Figure, String, &'static str, String)>,
    /// What the result says about its kind (model, accelerator, rack advice, a run's exit code ...).
    pub details: Details,
    /// How the IT energy was obtained as a whole: the least direct method of its components
    /// (`modelled` for every estimate).
    pub method: Method,
    /// The components of IT energy, with their methods.
    pub components: Vec<ComponentInfo>,
}

impl Estimate {
    /// A figure's percentiles by key.
    #[must_use]
    pub fn get(&self, key: Figure) -> Option<Percentiles> {
        self.figures
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, p)| *p)
    }

    /// Names of the figures, steps and published comparisons that are not finite numbers (an
    /// input so extreme that the model overflowed): a result with any is not to be printed.
    #[must_use]
    pub fn non_finite(&self) -> Vec<String> {
        let finite = |p: &Percentiles| p.p5.is_finite() && p.p50.is_finite() && p.p95.is_finite();
        let mut bad: Vec<String> = self
            .figures
            .iter()
            .filter(|(_, p)| !finite(p))
            .map(|(k, _)| k.key().to_string())
            .collect();
        bad.extend(
            self.steps
                .iter()
                .filter(|s| !s.value.is_finite())
                .map(|s| format!("step {}", s.name)),
        );
        bad.extend(
            self.published
                .iter()
                .filter(|p| !p.value.is_finite() || p.estimate_p50.is_some_and(|x| !x.is_finite()))
                .map(|p| format!("published {}", p.name)),
        );
        bad.extend(self.details.non_finite());
        bad
    }

    /// The flags the user gave, as the assumptions record them (`--days`, `--gpus` ...): the
    /// likely culprits when a figure is not finite.
    #[must_use]
    pub fn user_flags(&self) -> Vec<String> {
        let mut flags: Vec<String> = self
            .assumptions
            .iter()
            .filter(|a| a.origin == crate::explain::Origin::User)
            .filter_map(|a| a.source.clone())
            .filter(|s| s.starts_with("--"))
            .collect();
        flags.dedup();
        flags
    }

    /// The `wattlens.footprint/v1` JSON object.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut o = Map::new();
        o.insert("schema".into(), json!(SCHEMA));
        o.insert("kind".into(), json!(self.kind));
        o.insert("method".into(), json!(self.method.as_str()));
        for (k, p) in &self.figures {
            if k.group() != Group::Table {
                continue;
            }
            let mut v = json!(p);
            if *k == Figure::Cost {
                v["currency"] = json!(self.currency);
            }
            o.insert(k.key().to_string(), v);
        }
        o.insert("intensity_scope".into(), json!(self.intensity_scope));
        o.insert("carbon_basis".into(), json!(self.carbon_basis));
        let comps: Vec<Value> = self
            .components
            .iter()
            .filter_map(|c| {
                self.get(c.key).map(|p| {
                    json!({"name": c.name, "kind": c.kind, "method": c.method.as_str(),
                           "energy_kwh": p})
                })
            })
            .collect();
        o.insert("components".into(), Value::Array(comps));
        let eqs: Vec<Value> = self
            .equivalents
            .iter()
            .filter_map(|(key, label, unit, source)| {
                self.get(*key).map(|p| {
                    json!({"name": key.key().trim_start_matches("eq."), "description": label, "unit": unit,
                           "value": p, "source": source})
                })
            })
            .collect();
        o.insert("equivalents".into(), Value::Array(eqs));
        if !self.published.is_empty() {
            o.insert("published".into(), json!(self.published));
        }
        if let Ok(Value::Object(details)) = serde_json::to_value(&self.details) {
            o.extend(details);
        }
        o.insert("assumptions".into(), json!(self.assumptions));
        o.insert("steps".into(), json!(self.steps));
        o.insert("notes".into(), json!(self.notes));
        o.insert("samples".into(), json!(self.samples));
        o.insert("seed".into(), json!(self.seed));
        Value::Object(o)
    }
}
