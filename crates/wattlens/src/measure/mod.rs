//! Measuring a command: the sampler thread that polls the sources on a monotonic clock, the
//! pipeline that turns readings into energy ([`Pipeline`]), and the step that hands the
//! measured energy to the same accounting core as every estimate ([`account_run`]).

mod account;
mod pipeline;
mod sampler;
mod windows;

pub use account::{account_run, RunSpec};
pub use pipeline::{Measurement, ModelInputs, Pipeline, Window, MAX_MARK_BYTES};
pub use sampler::{Live, LiveHandle, Marker, Sampler, SamplerConfig};

/// Who a run's energy is charged to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// The whole machine, idle power included (what a wall meter would say).
    Machine,
    /// The measured process tree: its share of the active power and of the idle power.
    Processes,
}

impl Policy {
    /// `machine` or `processes`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Machine => "machine",
            Policy::Processes => "processes",
        }
    }
}

/// Runs a recorded trace through the pipeline.
#[must_use]
pub fn replay(trace: &crate::source::replay::Trace, inputs: ModelInputs) -> Measurement {
    let mut p = Pipeline::new(inputs);
    for poll in &trace.polls {
        p.tick(poll);
    }
    p.finish()
}
