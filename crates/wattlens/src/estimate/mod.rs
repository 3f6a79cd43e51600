//! Estimation models (training, inference, fleet, data centre, failures), their resolvers, and
//! [`run_resolved`]: each model implements [`crate::runner::Evaluate`] (IT energy and busy
//! hardware); the runner accounts it.

pub mod datacenter;
pub mod failures;
pub mod fleet;
pub mod infer;
pub mod power;
pub mod resolve;
pub mod site;
pub mod train;

use crate::catalog::CatalogError;
use crate::figure::Figure;
use crate::result::Report;
use crate::runner::{run, Evaluate, McOptions};

/// Errors of resolving and running an estimate; each names the flag or input at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EstimateError {
    /// A catalog lookup failed.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// An input is out of its domain.
    #[error("{flag}: {message}")]
    Invalid {
        /// The flag (`--gpus`).
        flag: &'static str,
        /// What is wrong and what to do.
        message: String,
    },
    /// Two inputs contradict each other.
    #[error("{a} and {b} cannot be used together: {why}")]
    Conflict {
        /// First flag.
        a: &'static str,
        /// Second flag.
        b: &'static str,
        /// Which to keep.
        why: &'static str,
    },
    /// Something the model needs is missing.
    #[error("missing input: {0}")]
    Missing(String),
    /// A name a flag gave is not in the catalog.
    #[error("{flag}: {source}")]
    UnknownName {
        /// The flag that gave the name (`--gpu`).
        flag: &'static str,
        /// The lookup error, with the closest names.
        source: CatalogError,
    },
    /// Inputs that cannot all hold at once (a run that could never finish).
    #[error("{} disagree: {message}", flags.join(", "))]
    Disagree {
        /// The flags whose values disagree.
        flags: Vec<&'static str>,
        /// Why, and what to change.
        message: String,
    },
}

impl EstimateError {
    /// Names `flag` on an unknown-name error of a lookup of the name `flag` gave; other
    /// catalog errors pass through.
    #[must_use]
    pub fn from_flag(flag: &'static str, e: CatalogError) -> Self {
        match e {
            e @ CatalogError::Unknown { .. } => Self::UnknownName { flag, source: e },
            e => Self::Catalog(e),
        }
    }
}

/// Runs a resolved estimate and fills in its published comparisons, notes and extra output.
#[must_use]
pub fn run_resolved<M: Evaluate + Sync>(r: resolve::Resolved<M>, opts: McOptions) -> Report {
    let mut e = run(&r.spec, opts, r.assumptions);
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
    e
}

/// Says in the output when embodied carbon is 0 although energy is used: the estimate knows
/// no hardware (only a power or an energy), so manufacturing emissions are left out.
fn zero_embodied_note(e: &mut Report) {
    let zero = e.get(Figure::EmbodiedCarbon).is_some_and(|p| p.p95 == 0.0);
    let used = e.get(Figure::FacilityEnergy).is_some_and(|p| p.p50 > 0.0);
    if zero && used && !e.notes.iter().any(|n| n.contains("embodied carbon")) {
        e.notes.push("embodied carbon is 0: this estimate knows no servers or accelerators (only a power or an energy), so the hardware's manufacturing emissions are left out; give --servers with --server or --server-power to count them".into());
    }
}
