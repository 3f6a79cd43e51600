//! What a result says about its own kind, typed: the model and accelerator of a training or
//! inference estimate, a data centre's derived PUE and rack advice, a measured run's duration,
//! exit code, attribution, devices and provenance. Serialised flat into the
//! `wattlens.footprint/v1` object, beside the figures.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The kind-specific part of a result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Details {
    /// `estimate train`.
    Train(HardwareDetails),
    /// `estimate infer`.
    Infer(HardwareDetails),
    /// `estimate datacenter`.
    Datacenter(DatacenterDetails),
    /// `wattlens run`.
    Run(Box<RunDetails>),
    /// `estimate fleet` with a growth trajectory.
    Fleet(Box<super::FleetDetails>),
    /// `estimate fleet` (nothing of its own), or any result with no details.
    None {},
}

impl Default for Details {
    fn default() -> Self {
        Self::None {}
    }
}

impl Details {
    /// Paths of the details' numbers that are not finite (a JSON `null`), as
    /// `rack.power_kw`.
    #[must_use]
    pub fn non_finite(&self) -> Vec<String> {
        let mut bad = Vec::new();
        if let Some(t) = self.trajectory() {
            bad.extend(t.non_finite());
        }
        if let Self::Datacenter(d) = self {
            if d.pue_from_breakdown.is_some_and(|p| !p.is_finite()) {
                bad.push("pue_from_breakdown".to_string());
            }
            if let Some(r) = &d.rack {
                if !r.power_kw.is_finite() {
                    bad.push("rack.power_kw".to_string());
                }
                bad.extend(
                    r.suitable_cooling
                        .iter()
                        .filter(|c| !c.max_rack_kw.is_finite())
                        .map(|_| "rack.suitable_cooling.max_rack_kw".to_string()),
                );
            }
        }
        bad
    }

    /// The measured run's details, when this is one.
    #[must_use]
    pub fn run(&self) -> Option<&RunDetails> {
        match self {
            Self::Run(r) => Some(r),
            _ => None,
        }
    }

    /// The growth trajectory of a fleet estimate, when it has one.
    #[must_use]
    pub fn trajectory(&self) -> Option<&super::Trajectory> {
        match self {
            Self::Fleet(f) => f.trajectory.as_ref(),
            _ => None,
        }
    }

    /// The model and accelerator, for a training or inference estimate.
    #[must_use]
    pub fn hardware(&self) -> Option<&HardwareDetails> {
        match self {
            Self::Train(h) | Self::Infer(h) => Some(h),
            _ => None,
        }
    }
}

/// The AI model and the accelerator an estimate is about.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HardwareDetails {
    /// The model's catalog name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The accelerator's catalog name (or the name given, or a CPU-only server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accelerator: Option<String>,
}

/// A data centre estimate's own output.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DatacenterDetails {
    /// The PUE implied by an energy breakdown, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pue_from_breakdown: Option<f64>,
    /// Rack power density and the cooling types that handle it, when a rack was described.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rack: Option<Rack>,
}

/// Rack power density and the cooling that handles it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rack {
    /// Power per rack, kW.
    pub power_kw: f64,
    /// Cooling types of the catalog that handle it, least capable first.
    pub suitable_cooling: Vec<Cooling>,
}

/// A cooling type and the densest rack it handles.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cooling {
    /// Catalog name.
    pub name: String,
    /// Densest rack it handles, kW.
    pub max_rack_kw: f64,
}

/// A measured run's own output. Read leniently: a field an older file lacks is its default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunDetails {
    /// Wall time of the run, s.
    pub duration_s: f64,
    /// The command's exit code (none when killed by a signal, or attached to a pid).
    pub exit_code: Option<i32>,
    /// How the machine's energy was charged to the run.
    pub attribution: Attribution,
    /// Accelerators measured.
    pub devices: Vec<String>,
    /// `--tag` pairs.
    pub tags: BTreeMap<String, String>,
    /// When, where and by what it was measured (set by the program that measured it).
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
    /// The trace a replayed run was read from, and the settings it overrode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay: Option<Replay>,
    /// The energy charged over time, in bins of at least a minute from the run's start (CPU,
    /// memory and accelerators as measured or modelled; the modelled rest of the server is not
    /// in it): the run's power profile, for charts and for planning the same work
    /// (`plan window --profile`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profile: Vec<ProfilePoint>,
}

/// One bin of a run's power profile.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProfilePoint {
    /// Start, s after the run's start.
    pub start_s: f64,
    /// End, s after the run's start.
    pub end_s: f64,
    /// Energy charged in the bin, kWh.
    pub energy_kwh: f64,
}

/// How a run's energy was attributed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Attribution {
    /// `machine` or `processes`: the policy applied.
    pub policy: String,
    /// The policy asked for.
    pub policy_requested: String,
    /// CPU time of the process tree, s.
    pub cpu_time_s: f64,
    /// Logical CPUs of the machine.
    pub cpus: u32,
    /// The machine's idle CPU energy over the run, kWh.
    pub machine_idle_cpu_kwh: f64,
    /// The CPU rating used, W, when known.
    pub cpu_tdp_w: Option<f64>,
}

/// Where and when a run was measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// Start, RFC 3339 UTC (none for a trace that does not say).
    pub started_at: Option<String>,
    /// Host name.
    pub host: Option<String>,
    /// Version of wattlens that wrote the result.
    pub wattlens_version: String,
    /// The measured command's program.
    pub command: Option<String>,
}

/// The trace a replayed run came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Replay {
    /// Path of the trace.
    pub trace: String,
    /// The settings the trace recorded (none for a trace of an older wattlens).
    pub recorded_settings: Option<crate::source::replay::Settings>,
    /// Settings given now that differ from the recorded ones.
    pub overridden: Vec<Override>,
}

/// A setting given for a replay that differs from the recorded one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Override {
    /// Setting name (flag without `--`).
    pub setting: String,
    /// Recorded value.
    pub recorded: String,
    /// Value used.
    pub used: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_serialise_flat_and_a_fleet_has_none() {
        let t = Details::Train(HardwareDetails {
            model: None,
            accelerator: Some("H100 SXM".into()),
        });
        assert_eq!(
            serde_json::to_string(&t).ok().as_deref(),
            Some(r#"{"accelerator":"H100 SXM"}"#)
        );
        assert_eq!(
            serde_json::to_string(&Details::default()).ok().as_deref(),
            Some("{}")
        );
        let d = Details::Datacenter(DatacenterDetails {
            pue_from_breakdown: Some(f64::NAN),
            rack: Some(Rack {
                power_kw: 40.0,
                suitable_cooling: vec![Cooling {
                    name: "liquid".into(),
                    max_rack_kw: f64::INFINITY,
                }],
            }),
        });
        assert_eq!(
            d.non_finite(),
            ["pue_from_breakdown", "rack.suitable_cooling.max_rack_kw"]
        );
    }
}
