//! One file per subcommand.

pub mod agent;
pub mod catalog;
pub mod estimate;
pub mod fleet_growth;
pub mod plan;
pub mod plan_checkpoint;
pub mod plan_region;
pub mod run;
