//! The footprint a checkpoint plan's interruptions lose: the whole run accounted by the core
//! (as a training estimate of the job's devices for its wall time), times the lost fraction;
//! and the plan's one result, [`CheckpointReport`].

use super::{missing, CheckpointPlan};
use crate::catalog::Catalog;
use crate::estimate::resolve::{self, HardwareInputs, TrainInputs};
use crate::estimate::site::SiteInputs;
use crate::estimate::{run_resolved, EstimateError};
use crate::field::Field;
use crate::figure::Figure;
use crate::result::Report;
use crate::runner::McOptions;
use crate::uncertainty::{Percentiles, Range};

/// The footprint lost to interruptions: the whole run's, from the accounting core, times the
/// lost fraction (the footprint of a run at steady power is proportional to its hours).
#[derive(Clone, Debug)]
pub struct Lost {
    /// The whole run (a training estimate of `devices` for the wall time).
    pub run: Report,
    /// The lost fraction it is scaled by.
    pub fraction: f64,
}

impl Lost {
    /// A figure of the whole run times `fraction` (the lost fraction of some interval).
    #[must_use]
    pub fn share(&self, figure: Figure, fraction: f64) -> Option<Percentiles> {
        self.run.get(figure).map(|p| p.scale(fraction))
    }

    /// A figure lost at the optimum.
    #[must_use]
    pub fn get(&self, figure: Figure) -> Option<Percentiles> {
        self.share(figure, self.fraction)
    }
}

/// Whether hardware is given, so the footprint lost can be estimated.
#[must_use]
pub fn has_hardware(hw: &HardwareInputs) -> bool {
    hw.gpu.is_some() || hw.server.is_some() || hw.server_power.is_some()
}

/// The footprint lost over the run: the run resolved and accounted as a training estimate of
/// the plan's devices for its wall time on `hw` at `site` (site values through
/// [`crate::estimate::site::resolve`]), scaled by the lost fraction at the optimum.
///
/// # Errors
/// The run's length or devices missing; the training resolver's errors (an unknown `gpu`).
pub fn lost(
    cat: &Catalog,
    p: &CheckpointPlan,
    hw: &HardwareInputs,
    site: &SiteInputs,
    mc: McOptions,
) -> Result<Lost, EstimateError> {
    let wall_h = p.wall_h.ok_or_else(|| {
        missing("{days}: the run's length, for the energy lost over it (with {gpu})")
    })?;
    let devices = p.devices.ok_or_else(|| {
        missing("{gpus}: the devices of the job, for the energy lost over the run")
    })?;
    let inputs = TrainInputs {
        gpus: Some(Range::point(devices)),
        wall_h: Some(Range::point(wall_h)),
        hw: hw.clone(),
        ..TrainInputs::default()
    };
    let r = resolve::train(cat, &inputs, site)?;
    Ok(Lost {
        run: run_resolved(r, mc),
        fraction: p.optimum.lost_fraction(),
    })
}

/// A plan with the footprint lost, when hardware was given: the one result of `plan
/// checkpoint`, serialised as [`SCHEMA`](super::SCHEMA).
#[derive(Clone, Debug)]
pub struct CheckpointReport {
    /// The plan.
    pub plan: CheckpointPlan,
    /// The footprint lost.
    pub lost: Option<Lost>,
    /// The plan's notes, then the run's, as text.
    pub notes: Vec<String>,
}

impl CheckpointReport {
    /// The report; its notes name fields by their own names (the run's keep their templates)
    /// until [`Self::name_fields`].
    #[must_use]
    pub fn new(plan: CheckpointPlan, lost: Option<Lost>) -> Self {
        let mut notes: Vec<String> = plan.notes.iter().map(ToString::to_string).collect();
        if let Some(l) = &lost {
            notes.extend(l.run.notes.iter().cloned());
        }
        Self { plan, lost, notes }
    }

    /// Puts a front end's words for fields into the notes and the run's texts (once, as
    /// [`crate::field::name_fields`]).
    pub fn name_fields(&mut self, name: &dyn Fn(Field) -> String) {
        self.notes = self.plan.notes.iter().map(|m| m.render(name)).collect();
        if let Some(l) = &mut self.lost {
            crate::field::name_fields(&mut l.run, name);
            self.notes.extend(l.run.notes.iter().cloned());
        }
    }
}
