//! A CycloneDX 1.6 BOM holding one `machine-learning-model` component whose model card's
//! `considerations.environmentalConsiderations.energyConsumptions` carries the footprint:
//! activity, the energy provided (facility energy, kWh), the activity's energy cost and its CO2
//! cost (location-based operational carbon, tCO2eq).

use super::{fig, model, place, Meta};
use crate::figure::Figure;
use crate::result::Report;
use serde_json::{json, Value};

/// The BOM JSON. Energy is the facility energy's P50 (kWh); `co2CostEquivalent` the
/// location-based operational carbon's P50 in tonnes (kg / 1000); the ranges, the market-based
/// and embodied carbon and the water go into `properties` (`wattlens:*`).
#[must_use]
pub fn cyclonedx(r: &Report, meta: &Meta) -> Value {
    let facility = fig(r, Figure::FacilityEnergy);
    let op = fig(r, Figure::OperationalCarbon);
    let region = place(r).map(|p| p.region);
    let mut props = vec![
        prop("wattlens:kind", r.kind.as_str()),
        prop("wattlens:method", r.method.as_str()),
        prop("wattlens:facility_energy_kwh:p5", &facility.p5.to_string()),
        prop(
            "wattlens:facility_energy_kwh:p95",
            &facility.p95.to_string(),
        ),
        prop("wattlens:operational_carbon_kgco2e:p5", &op.p5.to_string()),
        prop(
            "wattlens:operational_carbon_kgco2e:p95",
            &op.p95.to_string(),
        ),
    ];
    for f in [
        Figure::MarketCarbon,
        Figure::EmbodiedCarbon,
        Figure::Water,
        Figure::ItEnergy,
    ] {
        if let Some(p) = r.get(f) {
            props.push(prop(
                &format!("wattlens:{}:p50", f.key()),
                &p.p50.to_string(),
            ));
        }
    }
    let name = model(r).unwrap_or_else(|| "model".into());
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {
            "timestamp": meta.generated_at,
            "tools": { "components": [{
                "type": "application",
                "name": "wattlens",
                "version": meta.wattlens_version,
            }]},
        },
        "components": [{
            "type": "machine-learning-model",
            "bom-ref": "model",
            "name": name,
            "modelCard": { "considerations": { "environmentalConsiderations": {
                "energyConsumptions": [{
                    "activity": meta.activity.as_str(),
                    "energyProviders": [{
                        "description": format!(
                            "electricity grid{} (location-based intensity: {})",
                            region.as_ref().map_or_else(
                                || ", region not recorded".to_string(),
                                |g| format!(" {g}")
                            ),
                            r.intensity_scope
                        ),
                        // The provider is the grid named; with none, its name is left out
                        // (`organization` is required, its `name` is not).
                        "organization": region.as_ref().map_or_else(
                            || json!({}),
                            |g| json!({ "name": format!("electricity grid {g}") })
                        ),
                        "energySource": "unknown",
                        "energyProvided": { "value": facility.p50, "unit": "kWh" },
                    }],
                    "activityEnergyCost": { "value": facility.p50, "unit": "kWh" },
                    "co2CostEquivalent": { "value": op.p50 / 1000.0, "unit": "tCO2eq" },
                    "properties": props,
                }],
            }}},
        }],
    })
}

fn prop(name: &str, value: &str) -> Value {
    json!({ "name": name, "value": value })
}
