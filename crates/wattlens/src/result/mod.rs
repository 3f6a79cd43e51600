//! The one result of an estimate or a measured run, typed ([`Report`]), and what it holds
//! besides its figures ([`Details`] per kind).

mod details;
mod report;
mod wire;

pub use details::{
    Attribution, Cooling, Datacenter, Details, Hardware, Override, Provenance, Rack, Replay, Run,
};
pub use report::{ComponentInfo, Equivalent, Kind, Published, Report, SCHEMA};
