//! The one result of an estimate or a measured run, typed ([`Estimate`]), and what it holds
//! besides its figures ([`Details`] per kind).

mod details;
mod report;

pub use details::{
    Attribution, Cooling, Datacenter, Details, Hardware, Override, Provenance, Rack, Replay, Run,
};
pub use report::{ComponentInfo, Estimate, Published, SCHEMA};
