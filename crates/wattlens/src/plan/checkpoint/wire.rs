//! The `wattlens.plan/v1` JSON of a checkpoint plan, declared as serde types (keys sorted, units
//! in their names; never a `Value` built by hand).

use super::{CheckpointReport, Lost, Point, Rate};
use crate::figure::Figure;
use crate::uncertainty::Percentiles;
use serde::{Serialize, Serializer};

/// The schema name of a plan's JSON.
pub const SCHEMA: &str = "wattlens.plan/v1";

#[derive(Serialize)]
struct Wire<'a> {
    checkpoint_fraction: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    checkpoint_size_gb: Option<f64>,
    checkpoint_write_minutes: f64,
    checkpointing: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    currency: Option<&'a str>,
    daly_interval_minutes: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    days: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gpus: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    interruptions: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lost_carbon_kgco2e: Option<Percentiles>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lost_cost: Option<Percentiles>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lost_energy_kwh: Option<Percentiles>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lost_hours: Option<f64>,
    lost_time_fraction: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    lost_water_l: Option<Percentiles>,
    method: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    mtbf_per_device_hours: Option<f64>,
    mtbi_hours: f64,
    notes: &'a [String],
    optimal_interval_minutes: f64,
    plan: &'static str,
    restart_fraction: f64,
    restart_minutes: f64,
    rework_fraction: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    run_carbon_kgco2e: Option<Percentiles>,
    #[serde(skip_serializing_if = "Option::is_none")]
    run_energy_kwh: Option<Percentiles>,
    schema: &'static str,
    stall_minutes: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    storage_bandwidth_gb_per_s: Option<f64>,
    sweep: Vec<Row>,
    young_interval_minutes: f64,
}

#[derive(Serialize)]
struct Row {
    checkpoint_fraction: f64,
    factor: f64,
    interval_minutes: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    lost_energy_kwh: Option<Percentiles>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lost_hours: Option<f64>,
    lost_time_fraction: f64,
    restart_fraction: f64,
    rework_fraction: f64,
}

fn row(p: &Point, wall_h: Option<f64>, lost: Option<&Lost>) -> Row {
    let f = p.lost_fraction();
    Row {
        checkpoint_fraction: p.parts.checkpoint,
        factor: p.factor,
        interval_minutes: p.interval_h * 60.0,
        lost_energy_kwh: lost.and_then(|l| l.share(Figure::FacilityEnergy, f)),
        lost_hours: wall_h.map(|w| w * f),
        lost_time_fraction: f,
        restart_fraction: p.parts.restart,
        rework_fraction: p.parts.rework,
    }
}

impl Serialize for CheckpointReport {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = &self.plan;
        let lost = self.lost.as_ref();
        let o = &p.optimum;
        let (interruptions, mtbf_per_device_hours) = match p.rate {
            Rate::Count { interruptions, .. } => (Some(interruptions), None),
            Rate::PerDevice { mtbf_h, .. } => (None, Some(mtbf_h)),
        };
        let get = |f: Figure| lost.and_then(|l| l.get(f));
        let whole = |f: Figure| lost.and_then(|l| l.run.get(f));
        Wire {
            checkpoint_fraction: o.parts.checkpoint,
            checkpoint_size_gb: p.size.map(|x| x.0),
            checkpoint_write_minutes: p.write_h * 60.0,
            checkpointing: if p.asynchronous {
                "asynchronous"
            } else {
                "synchronous"
            },
            currency: lost.map(|l| l.run.currency.as_str()),
            daly_interval_minutes: p.daly_h * 60.0,
            days: p.wall_h.map(|h| h / 24.0),
            gpus: p.devices,
            interruptions,
            lost_carbon_kgco2e: get(Figure::Carbon),
            lost_cost: get(Figure::Cost),
            lost_energy_kwh: get(Figure::FacilityEnergy),
            lost_hours: p.lost_h(),
            lost_time_fraction: o.lost_fraction(),
            lost_water_l: get(Figure::Water),
            method: p.method.name(),
            mtbf_per_device_hours,
            mtbi_hours: p.mtbi_h,
            notes: &self.notes,
            optimal_interval_minutes: o.interval_h * 60.0,
            plan: "checkpoint",
            restart_fraction: o.parts.restart,
            restart_minutes: p.restart_h * 60.0,
            rework_fraction: o.parts.rework,
            run_carbon_kgco2e: whole(Figure::Carbon),
            run_energy_kwh: whole(Figure::FacilityEnergy),
            schema: SCHEMA,
            stall_minutes: p.stall_h * 60.0,
            storage_bandwidth_gb_per_s: p.size.map(|x| x.1),
            sweep: p.sweep.iter().map(|r| row(r, p.wall_h, lost)).collect(),
            young_interval_minutes: p.young_h * 60.0,
        }
        .serialize(s)
    }
}
