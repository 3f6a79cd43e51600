//! The one result of an estimate or a measured run, typed: what it holds besides its figures
//! ([`Details`] per kind).

mod details;

pub use details::{
    Attribution, Cooling, Datacenter, Details, Hardware, Override, Provenance, Rack, Replay, Run,
};
