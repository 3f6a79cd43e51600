//! An SPDX 3.0.1 JSON-LD document with one `ai_AIPackage` whose `ai_energyConsumption` lists the
//! footprint's energy under training, fine-tuning or inference (`ai_EnergyConsumption` and
//! `ai_EnergyConsumptionDescription` of the AI profile, energy in `kilowattHour`).

use super::{fig, model, Activity, Meta};
use crate::figure::Figure;
use crate::result::Report;
use serde_json::{json, Value};

/// The SPDX JSON-LD. The quantity is the facility energy's P50 in kWh.
#[must_use]
pub fn spdx(r: &Report, meta: &Meta) -> Value {
    let kwh = fig(r, Figure::FacilityEnergy).p50;
    let slot = match meta.activity {
        Activity::Training => "ai_trainingEnergyConsumption",
        Activity::FineTuning => "ai_finetuningEnergyConsumption",
        Activity::Inference => "ai_inferenceEnergyConsumption",
    };
    let mut energy = json!({ "type": "ai_EnergyConsumption" });
    energy[slot] = json!([{
        "type": "ai_EnergyConsumptionDescription",
        "ai_energyQuantity": kwh,
        "ai_energyUnit": "kilowattHour",
    }]);
    json!({
        "@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld",
        "@graph": [
            {
                "type": "CreationInfo",
                "@id": "_:creationinfo",
                "specVersion": "3.0.1",
                "created": meta.generated_at,
                "createdBy": ["urn:wattlens:agent"],
                "createdUsing": ["urn:wattlens:tool"],
            },
            {
                "type": "SoftwareAgent",
                "spdxId": "urn:wattlens:agent",
                "creationInfo": "_:creationinfo",
                "name": "wattlens",
            },
            {
                "type": "Tool",
                "spdxId": "urn:wattlens:tool",
                "creationInfo": "_:creationinfo",
                "name": format!("wattlens {}", meta.wattlens_version),
            },
            {
                "type": "ai_AIPackage",
                "spdxId": "urn:wattlens:model",
                "creationInfo": "_:creationinfo",
                "name": model(r).unwrap_or_else(|| "model".into()),
                "ai_energyConsumption": energy,
            },
        ],
    })
}
