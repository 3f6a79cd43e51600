//! wattlens: the energy, carbon and water footprint of AI work, measured or estimated, with
//! ranges and an explanation of every step.
//!
//! The library holds all domain logic and never prints, parses arguments or exits; the
//! `wattlens` binary (crate `wattlens-cli`) does that. Data flows from a workload (an estimate's
//! spec, or a measurement through [`account_run`]) through [`footprint::account`], the one
//! accounting core, run by [`run`], into a [`Report`] whose figures are P5/P50/P95.
//! `docs/architecture.md` describes the modules and the data flow as they are.
//!
//! # The workflow from the crate root
//!
//! The types of a workflow are re-exported here, so a caller needs no module paths: a
//! [`Catalog`]; inputs ([`TrainInputs`], [`InferInputs`], [`FleetInputs`],
//! [`DatacenterInputs`], the site's [`SiteInputs`], [`HardwareInputs`], values as [`Range`]s,
//! named by [`Field`]); [`resolve`] (one function per kind of estimate, giving a
//! [`Resolved`] spec with its assumptions); [`run_resolved`] (or [`run`] for any
//! [`Evaluate`]) with [`McOptions`]; the [`Report`] (figures by [`Figure`] as [`Percentiles`],
//! [`Details`] per kind), which serialises as `wattlens.footprint/v1`; the meter's parts
//! ([`Probe`], [`Pipeline`], [`Measurement`], [`account_run`]); and one [`Error`] with its
//! [`Result`]. The modules stay public for everything else.
//!
//! ```
//! use wattlens::{
//!     resolve, run_resolved, Catalog, Figure, FleetInputs, HardwareInputs, McOptions, Range,
//!     ReportKind, SiteInputs,
//! };
//!
//! # fn main() -> wattlens::Result<()> {
//! let catalog = Catalog::embedded();
//! // One 1 kW server at full load for 4 hours, in a facility of PUE 1.
//! let fleet = FleetInputs {
//!     servers: Some(Range::point(1.0)),
//!     hours: Some(Range::point(4.0)),
//!     hw: HardwareInputs {
//!         server_power: Some(Range::point(1000.0)),
//!         load: Some(Range::point(1.0)),
//!         ..HardwareInputs::default()
//!     },
//!     ..FleetInputs::default()
//! };
//! let site = SiteInputs {
//!     pue: Some(Range::point(1.0)),
//!     ..SiteInputs::default()
//! };
//! let spec = resolve::fleet(&catalog, &fleet, &site)?;
//! let report = run_resolved(spec, McOptions::default());
//! assert_eq!(report.kind, ReportKind::Fleet);
//! // 1 kW x 1 x 4 h x PUE 1 = 4 kWh.
//! let energy = report.get(Figure::FacilityEnergy).expect("a fleet has facility energy");
//! assert!((energy.p50 - 4.0).abs() < 1e-9);
//! let json = serde_json::to_string(&report)?;
//! assert!(json.contains("\"schema\":\"wattlens.footprint/v1\""));
//! # Ok(())
//! # }
//! ```
//!
//! `examples/estimate.rs` is a whole estimate of a training run the same way.

#![deny(missing_docs)]

pub mod agent;
pub mod catalog;
pub mod energy;
pub mod equivalents;
mod error;
pub mod estimate;
pub mod explain;
pub mod field;
pub mod figure;
pub mod footprint;
pub mod grid;
pub mod input;
pub mod json_keys;
pub mod limits;
pub mod measure;
pub mod plan;
pub mod plausible;
pub mod record;
pub mod report;
pub mod result;
pub mod runner;
pub mod source;
pub mod uncertainty;
pub mod units;
pub mod validate;
pub mod vary;

// The crate error.
pub use error::{Error, Result};

// The catalog.
pub use catalog::{Catalog, TableKind, UserCatalog};

// Inputs: what a caller gives, by field, with its units and ranges.
pub use estimate::datacenter::Breakdown;
pub use estimate::resolve::{
    Basis, DatacenterInputs, FleetInputs, HardwareInputs, InferInputs, Precision, TrainInputs,
};
pub use estimate::site::{Derived, SiteInputs};
pub use explain::{Assumption, Origin};
pub use field::{name_fields, Field, Msg};
pub use input::{parse_price, parse_range, parse_range_in, Dim, Price};
pub use uncertainty::{Percentiles, Range};

// Resolve: inputs plus the catalog into a spec ready to run (`resolve::train`, ...).
pub use estimate::resolve::{self, Resolved};

// Run: the Monte Carlo runner over the one accounting core.
pub use estimate::run_resolved;
pub use runner::{paired, run, Differences, Evaluate, McOptions};
// What-if: variants against a baseline on the same draws (`vary::changes`).
pub use vary::{Changes, Verdict};

// Report: the one typed result and what it holds.
pub use figure::Figure;
pub use grid::{CarbonBasis, IntensitySeries, Signal};
pub use result::{ComponentInfo, Details, Published, Report, ReportKind};

// Validate: the estimators against the published figures of the disclosure tables.
pub use validate::{validate_infer, validate_train, TrainOptions, ValidateError};

// Meter: what the node has to measure with, and the pipeline from readings to a report.
pub use measure::{
    account_run, Consumer, ConsumerMeasurement, Ledger, Measurement, Meter, MeterBuilder,
    MeterReport, MeterSnapshot, ModelInputs, Pipeline, Policy, Probe, ProbeOptions, RunSpec,
};

// Agent: a node's energy split among its workloads, interval by interval.
pub use agent::{Discovery, NodeAgent, Workload, WorkloadKind};
