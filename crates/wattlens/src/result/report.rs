//! The result of an estimate or a measured run ([`Report`]): figures as percentiles keyed by
//! [`Figure`], components with their methods, the explanation, assumptions, published
//! comparisons, notes, sampling facts and typed [`Details`]. Its `wattlens.footprint/v1` JSON is
//! its `Serialize`/`Deserialize` (`result/wire.rs`).

use super::Details;
use crate::energy::{ComponentKind, Method};
use crate::explain::{Assumption, Step};
use crate::figure::Figure;
use crate::grid::CarbonBasis;
use crate::uncertainty::Percentiles;
use serde::{Deserialize, Serialize};

/// The JSON schema id of an estimate or a measured run.
pub const SCHEMA: &str = "wattlens.footprint/v1";

/// What a result is of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ReportKind {
    /// `estimate train`.
    Train,
    /// `estimate infer`.
    Infer,
    /// `estimate fleet`.
    Fleet,
    /// `estimate datacenter`.
    Datacenter,
    /// A measured run (`wattlens run`).
    Run,
}

impl ReportKind {
    /// Its name in the output (`train`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Train => "train",
            ReportKind::Infer => "infer",
            ReportKind::Fleet => "fleet",
            ReportKind::Datacenter => "datacenter",
            ReportKind::Run => "run",
        }
    }
}

impl std::fmt::Display for ReportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A published figure shown beside the estimate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Published {
    /// Which figure (`training energy`).
    pub name: String,
    /// Its value.
    pub value: f64,
    /// Unit.
    pub unit: String,
    /// The estimate's P50 in the same unit, when comparable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate_p50: Option<f64>,
    /// What the figure covers and where it comes from.
    pub source: String,
}

/// One component of IT energy; its energy is the figure `key`.
#[derive(Clone, Debug, PartialEq)]
pub struct ComponentInfo {
    /// Its figure (`component.host`).
    pub key: Figure,
    /// Display name (the figure's label).
    pub name: &'static str,
    /// Accelerator, host or the rest of the server.
    pub kind: ComponentKind,
    /// How its energy was obtained.
    pub method: Method,
}

impl ComponentInfo {
    /// The component of figure `key`, named by its label.
    #[must_use]
    pub fn new(key: Figure, kind: ComponentKind, method: Method) -> Self {
        Self {
            key,
            name: key.label(),
            kind,
            method,
        }
    }
}

/// An everyday equivalent as the output describes it; its value is the figure `figure`.
#[derive(Clone, Debug, PartialEq)]
pub struct Equivalent {
    /// Its figure (`eq.car_km`).
    pub figure: Figure,
    /// What it means (`kilometres driven by an average passenger car (total carbon)`).
    pub description: String,
    /// Unit of its value (`km`, `fraction`).
    pub unit: &'static str,
    /// Where its coefficient comes from.
    pub source: String,
}

/// The result of an estimate or a measured run.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// What it is of.
    pub kind: ReportKind,
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
    pub carbon_basis: CarbonBasis,
    /// The equivalents shown (their values are figures).
    pub equivalents: Vec<Equivalent>,
    /// What the result says about its kind (model, accelerator, rack advice, a run's exit code ...).
    pub details: Details,
    /// How the IT energy was obtained as a whole: the least direct method of its components
    /// (`modelled` for every estimate).
    pub method: Method,
    /// The components of IT energy, with their methods.
    pub components: Vec<ComponentInfo>,
}

impl Report {
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

    /// The inputs the user gave, as the assumptions record them (`days`, `gpus` ...): the
    /// likely culprits when a figure is not finite.
    #[must_use]
    pub fn user_fields(&self) -> Vec<crate::field::Field> {
        let mut fields: Vec<crate::field::Field> = self
            .assumptions
            .iter()
            .filter(|a| {
                matches!(
                    a.origin,
                    crate::explain::Origin::User | crate::explain::Origin::Config
                )
            })
            .filter_map(|a| a.field)
            .collect();
        // Each field once, in the order first given.
        let mut seen = Vec::new();
        fields.retain(|f| {
            let new = !seen.contains(f);
            seen.push(*f);
            new
        });
        fields
    }
}
