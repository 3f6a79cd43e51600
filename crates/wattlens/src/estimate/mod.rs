//! Estimation models (training, inference, fleet, data centre, failures), their resolvers, and
//! [`run_resolved`]: each model implements [`crate::runner::Evaluate`] (IT energy and busy
//! hardware); the runner accounts it.

pub mod datacenter;
pub mod failures;
pub mod fleet;
pub mod growth;
pub mod infer;
pub mod power;
pub mod power_cap;
pub mod resolve;
pub mod site;
pub mod train;
pub mod utilisation;

use crate::catalog::CatalogError;
use crate::field::{Field, Msg};
use crate::figure::Figure;
use crate::result::Report;
use crate::runner::{Evaluate, McOptions};

/// Errors of resolving and running an estimate; each names the flag or input at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EstimateError {
    /// A catalog lookup failed.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// An input is out of its domain.
    #[error("{field}: {message}")]
    Invalid {
        /// The input (`gpus`).
        field: Field,
        /// What is wrong and what to do.
        message: Msg,
    },
    /// Two inputs that are out of their domain together (input and output tokens that exceed a
    /// context).
    #[error("{a}/{b}: {message}")]
    InvalidPair {
        /// First input.
        a: Field,
        /// Second input.
        b: Field,
        /// What is wrong and what to do.
        message: Msg,
    },
    /// Two inputs contradict each other.
    #[error("{a} and {b} cannot be used together: {why}")]
    Conflict {
        /// First input.
        a: Field,
        /// Second input.
        b: Field,
        /// Which to keep.
        why: Msg,
    },
    /// Something the model needs is missing.
    #[error("missing input: {0}")]
    Missing(Msg),
    /// A name an input gave is not in the catalog.
    #[error("{field}: {source}")]
    UnknownName {
        /// The input that gave the name (`gpu`).
        field: Field,
        /// The lookup error, with the closest names.
        source: CatalogError,
    },
    /// Inputs that cannot all hold at once (a run that could never finish).
    #[error("{} disagree: {message}", fields.iter().map(|f| f.name()).collect::<Vec<_>>().join(", "))]
    Disagree {
        /// The inputs whose values disagree.
        fields: Vec<Field>,
        /// Why, and what to change.
        message: Msg,
    },
}

impl EstimateError {
    /// Names `field` on an unknown-name error of a lookup of the name `field` gave; other
    /// catalog errors pass through.
    #[must_use]
    pub fn from_field(field: Field, e: CatalogError) -> Self {
        match e {
            e @ CatalogError::Unknown { .. } => Self::UnknownName { field, source: e },
            e => Self::Catalog(e),
        }
    }

    /// The message with every input in the reader's words (`name(Field::Pue)`: `--pue` on the
    /// command line); `Display` is this with the fields' own names.
    #[must_use]
    pub fn render(&self, name: &dyn Fn(Field) -> String) -> String {
        match self {
            Self::Catalog(e) => e.to_string(),
            Self::Invalid { field, message } => {
                format!("{}: {}", name(*field), message.render(name))
            }
            Self::InvalidPair { a, b, message } => {
                format!("{}/{}: {}", name(*a), name(*b), message.render(name))
            }
            Self::Conflict { a, b, why } => format!(
                "{} and {} cannot be used together: {}",
                name(*a),
                name(*b),
                why.render(name)
            ),
            Self::Missing(m) => format!("missing input: {}", m.render(name)),
            Self::UnknownName { field, source } => format!("{}: {source}", name(*field)),
            Self::Disagree { fields, message } => format!(
                "{} disagree: {}",
                fields
                    .iter()
                    .map(|f| name(*f))
                    .collect::<Vec<_>>()
                    .join(", "),
                message.render(name)
            ),
        }
    }
}

/// Runs a resolved estimate and fills in its published comparisons, notes and extra output.
#[must_use]
pub fn run_resolved<M: Evaluate + Sync>(r: resolve::Resolved<M>, opts: McOptions) -> Report {
    run_resolved_keeping(r, opts, &[]).0
}

/// [`run_resolved`], also keeping the samples of the figures `keep`
/// ([`crate::runner::run_keeping`]): what `--vary` pairs.
#[must_use]
pub fn run_resolved_keeping<M: Evaluate + Sync>(
    r: resolve::Resolved<M>,
    opts: McOptions,
    keep: &[Figure],
) -> (Report, crate::runner::Columns) {
    let (mut e, kept) = crate::runner::run_keeping(&r.spec, opts, r.assumptions, keep);
    e.published = r
        .published
        .into_iter()
        .map(|(key, scale, mut p)| {
            p.estimate_p50 = key.and_then(|k| e.get(k)).map(|x| x.p50 * scale);
            p
        })
        .collect();
    e.notes = r.notes;
    e.notes.extend(site::fallback_notes(&e.assumptions));
    e.details = r.details;
    zero_embodied_note(&mut e);
    // A CPU-only estimate has no accelerator component (rather than one of 0 kWh).
    let no_accel = e
        .get(Figure::ComponentAccelerators)
        .is_some_and(|p| p.p5 == 0.0 && p.p95 == 0.0);
    if no_accel {
        e.components
            .retain(|c| c.kind != crate::energy::ComponentKind::Accelerator);
        e.figures
            .retain(|(k, _)| *k != Figure::ComponentAccelerators);
    }
    (e, kept)
}

/// Says in the output when embodied carbon is 0 although energy is used: the estimate knows
/// no hardware (only a power or an energy), so manufacturing emissions are left out.
fn zero_embodied_note(e: &mut Report) {
    let zero = e.get(Figure::EmbodiedCarbon).is_some_and(|p| p.p95 == 0.0);
    let used = e.get(Figure::FacilityEnergy).is_some_and(|p| p.p50 > 0.0);
    if zero && used && !e.notes.iter().any(|n| n.contains("embodied carbon")) {
        e.notes.push("embodied carbon is 0: this estimate knows no servers or accelerators (only a power or an energy), so the hardware's manufacturing emissions are left out; give {servers} with {server} or {server_power} to count them".into());
    }
}
