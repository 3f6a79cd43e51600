//! Measuring: what the node has to measure with (its CPU, its rating, its sources) is probed
//! first ([`Probe`], [`CpuRating`]); a [`Meter`] built from the probe's sources and the
//! consumers to watch ([`Consumer`]: the machine, process trees, cgroups) runs the sampler
//! thread that polls on a monotonic clock, and the pipeline ([`Pipeline`]) that turns readings
//! into energy and splits each interval's node energy among the consumers and an unattributed
//! share, conserving it ([`Ledger`]); [`account_run`] hands a measurement to the same
//! accounting core as every estimate.

mod account;
pub(crate) mod attribution;
#[cfg(test)]
mod conservation_tests;
mod ledger;
mod meter;
#[cfg(test)]
mod meter_tests;
mod pipeline;
mod probe;
#[cfg(test)]
mod profile_tests;
#[cfg(test)]
mod proptests;
mod sampler;
mod windows;

pub use account::{account_run, RunSpec};
pub use ledger::Ledger;
pub use meter::{
    Consumer, ConsumerMeasurement, Meter, MeterBuilder, MeterNote, MeterReport, MeterSnapshot,
};
pub use pipeline::{
    Measurement, ModelInputs, Pipeline, ProfileBin, Window, MAX_CONSUMERS, MAX_MARK_BYTES,
    PROFILE_BIN_S,
};
pub use probe::{
    CpuInfo, CpuRating, MeterCoefficient, Probe, ProbeNote, ProbeOptions, RatingError, RatingSource,
};
pub use sampler::{Live, LiveHandle, Marker};
pub use windows::{windows, WindowFigures};

/// Who a run's energy is charged to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
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

/// Runs a recorded trace through the pipeline, one poll at a time.
///
/// # Errors
/// The trace's own errors (a bad or impossible line, no readings), naming file and line.
pub fn replay(
    trace: &mut crate::source::replay::TraceReader,
    inputs: ModelInputs,
) -> Result<Measurement, crate::source::replay::TraceError> {
    let mut p = Pipeline::new(inputs);
    let zero = (trace.header().started_unix_s * 1e9).round();
    if zero.is_finite() && zero.abs() < 1e30 {
        #[allow(clippy::cast_possible_truncation)]
        if let Ok(t) = jiff::Timestamp::from_nanosecond(zero as i128) {
            p = p.starting_at(t);
        }
    }
    while let Some(poll) = trace.next_poll()? {
        p.poll(&poll);
    }
    p.close();
    Ok(p.finish())
}

/// A Unix time as an RFC 3339 UTC timestamp to the millisecond (`2026-11-25T17:52:21.5Z`);
/// `None` when out of range.
#[must_use]
pub fn rfc3339(unix_s: f64) -> Option<String> {
    if !unix_s.is_finite() {
        return None;
    }
    let ms = (unix_s * 1000.0).round();
    if ms.abs() > 1e17 {
        return None;
    }
    #[allow(clippy::cast_possible_truncation)]
    let ts = jiff::Timestamp::from_millisecond(ms as i64).ok()?;
    Some(ts.to_string())
}
