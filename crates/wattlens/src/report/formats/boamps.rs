//! Boavizta's BoAmps report (<https://github.com/Boavizta/BoAmps>, `model/report_schema.json`):
//! header, task, measures, infrastructure and environment, as CodeCarbon users export it for AI
//! energy reporting. `system` and `software` are left out: a footprint does not record them
//! (the schema makes both optional).

use super::{fig, hours, how, model, place, Meta};
use crate::energy::ComponentKind;
use crate::figure::Figure;
use crate::result::{Report, ReportKind};
use serde_json::{json, Value};

/// The BoAmps JSON. `measures[0].powerConsumption` is the IT energy's P50 in kWh: what the
/// task's hardware drew, without the facility overhead (a BoAmps measure is what a meter reads
/// at the server and has no PUE; CodeCarbon's `energy_consumed` at its default `pue` of 1.0;
/// the `run --csv` row's `energy_consumed` is the facility energy, IT x PUE);
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
    // BoAmps components are hardware (`hardware_schema.json`: type, name, how many), not energy
    // components: the CPU's active and idle shares are one CPU (they were listed as two CPUs),
    // memory is `ram`, and the accelerators are counted.
    let mut components: Vec<Value> = Vec::new();
    for c in &r.components {
        let (ty, name, n) = match (c.kind, c.key) {
            (ComponentKind::Accelerator, _) => {
                ("gpu", c.name, super::accelerator_count(r).unwrap_or(1))
            }
            (_, Figure::ComponentCpu | Figure::ComponentCpuIdle) => ("cpu", "CPU", 1),
            (_, Figure::ComponentDram) => ("ram", c.name, 1),
            (ComponentKind::Host, _) => ("cpu", c.name, 1),
            _ => ("other", c.name, 1),
        };
        let seen = components
            .iter()
            .any(|v| v["componentType"] == ty && v["componentName"] == name);
        if !seen {
            components.push(json!({
                "componentName": name,
                "componentType": ty,
                "nbComponent": n,
            }));
        }
    }
    let algorithm = model(r).map_or_else(
        || json!({ "algorithmName": "unspecified" }),
        |m| json!({ "foundationModelName": m }),
    );
    // `country` is required: the grid's country (ISO 3166-1 alpha-2), else "unknown";
    // `location` ("more precise location like city, region or datacenter name") the region
    // named when it is not the country. Never the intensity's scope.
    let place = place(r);
    let mut environment = json!({
        "country": place
            .as_ref()
            .and_then(|p| p.country.clone())
            .unwrap_or_else(|| "unknown".into()),
    });
    if let Some(p) = place.filter(|p| p.country.as_ref() != Some(&p.region)) {
        environment["location"] = json!(p.region);
    }
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
    use crate::report::formats::{Activity, Document, Meta};

    #[test]
    fn components_are_hardware_counted_once() {
        // A run with two GPUs read by NVML, RAPL's CPU (active and idle share), DRAM and the
        // rest of the server: one CPU, one RAM, a GPU component of 2, the rest as `other`.
        let e = |p: f64| format!("{{\"p5\":{p},\"p50\":{p},\"p95\":{p}}}");
        let comp = |name: &str, kind: &str, m: &str| {
            format!(
                "{{\"name\":\"{name}\",\"kind\":\"{kind}\",\"method\":\"{m}\",\"energy_kwh\":{}}}",
                e(1.0)
            )
        };
        let json = format!(
            r#"{{"schema":"wattlens.footprint/v1","kind":"run","method":"modelled",
            "duration_s":60,"devices":["nvml/gpu0","nvml/gpu1"],"it_energy_kwh":{},
            "facility_energy_kwh":{},"operational_carbon_kgco2e":{},"components":[{},{},{},{},{}]}}"#,
            e(5.0),
            e(6.0),
            e(0.3),
            comp("CPU (active)", "host", "measured"),
            comp("CPU (idle share)", "host", "measured"),
            comp("memory (DRAM)", "host", "measured"),
            comp("GPUs", "accelerator", "measured"),
            comp("rest of server", "server", "modelled"),
        );
        let d = Document::from_json(&json).expect("reads");
        let meta = Meta {
            generated_at: "2024-01-01T00:00:00Z".into(),
            wattlens_version: "0".into(),
            activity: Activity::Training,
        };
        let b = super::boamps(&d.report, &meta);
        let got: Vec<(String, String, u64)> = b["infrastructure"]["components"]
            .as_array()
            .expect("components")
            .iter()
            .map(|c| {
                (
                    c["componentType"].as_str().unwrap_or("").to_string(),
                    c["componentName"].as_str().unwrap_or("").to_string(),
                    c["nbComponent"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        let want = [
            ("cpu", "CPU", 1),
            ("ram", "memory (DRAM)", 1),
            ("gpu", "GPUs", 2),
            ("other", "rest of server", 1),
        ]
        .map(|(t, n, k)| (t.to_string(), n.to_string(), k));
        assert_eq!(got, want);
    }

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
