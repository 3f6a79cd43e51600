//! The one result of an estimate or a measured run, typed ([`Report`]), and what it holds
//! besides its figures ([`Details`] per kind).

mod details;
mod report;
mod trajectory;
mod wire;

pub use details::{
    Attribution, Cooling, DatacenterDetails, Details, HardwareDetails, Override, ProfilePoint,
    Provenance, Rack, Replay, RunDetails,
};
pub use report::{ComponentInfo, Equivalent, Published, Report, ReportKind, SCHEMA};
pub use trajectory::{FleetDetails, GrowthRates, Trajectory, TrajectoryYear};
