//! Explanations: every step of an estimate with its formula, values, unit and source, plus the
//! list of assumptions (every input, where it came from).
//!
//! Models write steps through [`StepSink`]; the Monte Carlo loop passes [`NoTrace`] so that the
//! explanation costs nothing on the hot path, and the central evaluation passes a [`Steps`].

use crate::field::Field;
use serde::{Deserialize, Serialize};

/// One step of a computation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Short name of the figure computed (`it_energy`).
    pub name: String,
    /// The formula with the values put in (`N x P x t = 16000 x 700 W x 1296 h`).
    pub formula: String,
    /// The value at the central inputs.
    pub value: f64,
    /// The value's unit.
    pub unit: String,
    /// Where the coefficient or the method comes from, when it is not plain arithmetic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl Step {
    /// A step with no source of its own.
    #[must_use]
    pub fn new(name: &str, formula: String, value: f64, unit: &str) -> Self {
        Self {
            name: name.into(),
            formula,
            value,
            unit: unit.into(),
            source: None,
        }
    }
    /// Adds the source.
    #[must_use]
    pub fn source(mut self, s: impl Into<String>) -> Self {
        self.source = Some(s.into());
        self
    }
}

/// Where an input's value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Origin {
    /// Given by the user directly (the command line, a Python call).
    User,
    /// Given by the user in a configuration file ([`crate::SiteInputs::from_config`]).
    Config,
    /// A catalog row.
    Catalog,
    /// A documented default of the models.
    Default,
    /// Derived from other inputs.
    Derived,
}

/// One input of an estimate and where it came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assumption {
    /// What the input is (`mfu`, `pue`).
    pub name: String,
    /// Its value or range as text, with unit.
    pub value: String,
    /// Who set it.
    pub origin: Origin,
    /// Source and year for catalog rows and defaults; its text may mention fields as
    /// [`crate::field::Msg`] templates do (`{pue}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The input the user gave it through, when the user did: a front end names it in its own
    /// words (the CLI's `pue`) as this assumption's source.
    #[serde(skip)]
    pub field: Option<Field>,
}

impl Assumption {
    /// An input the user gave through `field`.
    #[must_use]
    pub fn user(name: &str, value: String, field: Field) -> Self {
        Self {
            name: name.into(),
            value,
            origin: Origin::User,
            source: None,
            field: Some(field),
        }
    }
}

/// A sink for steps.
pub trait StepSink {
    /// Records the step built by `f`, or skips building it.
    fn step<F: FnOnce() -> Step>(&mut self, f: F);
}

/// Discards steps without building them.
#[derive(Debug, Default)]
pub struct NoTrace;

impl StepSink for NoTrace {
    #[inline]
    fn step<F: FnOnce() -> Step>(&mut self, _f: F) {}
}

/// Collects steps.
#[derive(Debug, Default)]
pub struct Steps(pub Vec<Step>);

impl StepSink for Steps {
    fn step<F: FnOnce() -> Step>(&mut self, f: F) {
        self.0.push(f());
    }
}
