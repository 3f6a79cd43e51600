//! One file per subcommand.

pub mod agent;
pub mod catalog;
pub mod estimate;
pub mod fleet_growth;
pub mod history;
pub mod plan;
pub mod plan_checkpoint;
pub mod plan_region;
pub mod plan_renewable;
pub mod report;
pub mod report_history;
pub mod run;
pub mod validate;
pub mod vary;
