//! wattlens: the energy, carbon and water footprint of AI work, measured or estimated, with
//! ranges and an explanation of every step.
//!
//! The library holds all domain logic and never prints, parses arguments or exits; the
//! `wattlens` binary (crate `wattlens-cli`) does that. Data flows from a workload (an estimate's
//! spec, or a measurement through [`measure::account_run`]) through [`footprint::account`], the
//! one accounting core, run by [`runner::run`], into a [`result::Report`] whose figures are
//! P5/P50/P95.
//! `docs/architecture.md` describes the modules and the data flow as they are.

#![deny(missing_docs)]

pub mod catalog;
pub mod energy;
pub mod equivalents;
pub mod estimate;
pub mod explain;
pub mod field;
pub mod figure;
pub mod footprint;
pub mod grid;
pub mod input;
pub mod limits;
pub mod measure;
pub mod plausible;
pub mod record;
pub mod report;
pub mod result;
pub mod runner;
pub mod source;
pub mod uncertainty;
pub mod units;
