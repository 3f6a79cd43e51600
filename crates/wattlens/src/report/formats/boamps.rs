//! Boavizta's BoAmps report (<https://github.com/Boavizta/BoAmps>, `model/report_schema.json`):
//! header, task, measures, infrastructure and environment, as CodeCarbon users export it for AI
//! energy reporting. `system` and `software` are left out: a footprint does not record them
//! (the schema makes both optional).

use super::{fig, hours, how, location, model, Meta};
use crate::energy::ComponentKind;
use crate::figure::Figure;
use crate::result::{Report, ReportKind};
use serde_json::{json, Value};

/// The BoAmps JSON. `measures[0].powerConsumption` is the IT energy's P50 in kWh (BoAmps takes
/// CodeCarbon's `energy_consumed`, which excludes the facility overhead);
/// `environment.powerSourceCarbonIntensity` is the effective location-based intensity, operational
/// carbon over facility energy at the P50s (g/kWh).
#[must_use]
pub fn boamps(r: &Report, meta: &Meta) -> Value {
    let it = fig(r, Figure::ItEnergy).p50;
    let facility = fig(r, Figure::FacilityEnergy).p50;
    let op_g = fig(r, Figure::OperationalCarbon).p50 * 1000.0;
    let run = r.details.run();
    let started = run
        .and_then(|d| d.provenance.as_ref())
        .and_then(|p| p.started_at.clone());
    let mut measure = json!({
        "measurementMethod": format!("wattlens {}", how(r)),
        "manufacturer": "wattlens",
        "version": meta.wattlens_version,
        // BoAmps 1.x takes kWh by default and dropped `unit`; the published pre-1.0
        // measure_schema.json requires it, so it is written for readers of either version.
        "unit": "kWh",
        "powerConsumption": it,
    });
    if let Some(h) = hours(r) {
        measure["measurementDuration"] = json!(h * 3600.0);
    }
    if let Some(s) = &started {
        measure["measurementDateTime"] = json!(boamps_time(s));
    }
    let components: Vec<Value> = r
        .components
        .iter()
        .map(|c| {
            json!({
                "componentName": c.name,
                "componentType": match c.kind {
                    ComponentKind::Accelerator => "gpu",
                    ComponentKind::Host => "cpu",
                    _ => "other",
                },
                // The accelerators an estimate counts (2,048 H100s were one: a hostile test).
                "nbComponent": match c.kind {
                    ComponentKind::Accelerator => super::accelerator_count(r).unwrap_or(1),
                    _ => 1,
                },
            })
        })
        .collect();
    let algorithm = model(r).map_or_else(
        || json!({ "algorithmName": "unspecified" }),
        |m| json!({ "foundationModelName": m }),
    );
    let mut environment = json!({
        "country": location(r).unwrap_or_else(|| "unknown".into()),
    });
    if facility > 0.0 {
        environment["powerSourceCarbonIntensity"] = json!(op_g / facility);
    }
    json!({
        "header": {
            "formatVersion": "1.0",
            "reportDatetime": boamps_time(&meta.generated_at),
            "reportStatus": if r.kind == ReportKind::Run { "final" } else { "draft" },
        },
        "task": {
            "taskStage": meta.activity.as_str().replace('-', ""),
            "taskFamily": "unspecified",
            "algorithms": [algorithm],
            "dataset": [{ "dataUsage": "input", "dataType": "other" }],
        },
        "measures": [measure],
        "infrastructure": {
            "infraType": "other",
            "components": if components.is_empty() {
                vec![json!({ "componentName": "server", "componentType": "other", "nbComponent": 1 })]
            } else {
                components
            },
        },
        "environment": environment,
    })
}

/// RFC 3339 (`2024-03-04T01:30:00Z`) as BoAmps writes times (`2024-03-04 01:30:00`).
fn boamps_time(t: &str) -> String {
    t.trim_end_matches('Z')
        .split('.')
        .next()
        .unwrap_or(t)
        .replacen('T', " ", 1)
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_in_boamps_form() {
        assert_eq!(
            super::boamps_time("2024-03-04T01:30:00Z"),
            "2024-03-04 01:30:00"
        );
        assert_eq!(
            super::boamps_time("2024-03-04T01:30:00.25Z"),
            "2024-03-04 01:30:00"
        );
    }
}
