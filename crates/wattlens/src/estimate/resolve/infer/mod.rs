//! Resolving `estimate infer`: the model's shape from the catalog or flags, the accelerator's
//! memory, bandwidth and peak at the chosen precision, the replica size (checked against
//! `gpus`), the context length, the sourced efficiency ranges, and the request volume.
//!
//! One step per concern: the inputs' own checks, the given values, the preset model, the
//! request volume, and the energy of a request (given, or modelled by [`roofline`] from the
//! model's [`arch`]).

mod arch;
mod device;
mod roofline;

use super::{
    conflict, fallback_notes, fraction, hardware, hardware_embodied, positive, shares, user,
    HardwareInputs, Precision, Resolved,
};
use crate::catalog::{Catalog, Row};
use crate::estimate::infer::{Energy, InferSpec, Volume};
use crate::estimate::site::{coefficient, resolve as resolve_site, SiteInputs};
use crate::estimate::EstimateError;
use crate::explain::{Assumption, Origin};
use crate::field::Field;
use crate::result::{Details, HardwareDetails};
use crate::uncertainty::Range;

/// `estimate infer` inputs.
#[derive(Clone, Debug, Default)]
pub struct InferInputs {
    /// `model`.
    pub model: Option<String>,
    /// `params`.
    pub params: Option<Range>,
    /// `active_params`.
    pub active_params: Option<Range>,
    /// `gpu`, `server`, `gpus_per_server`.
    pub hw: HardwareInputs,
    /// `gpus`: accelerators per replica.
    pub gpus: Option<Range>,
    /// `input_tokens`.
    pub input_tokens: Option<Range>,
    /// `output_tokens` (reasoning tokens included).
    pub output_tokens: Option<Range>,
    /// `batch`.
    pub batch: Option<Range>,
    /// `precision`.
    pub precision: Precision,
    /// `requests`.
    pub requests: Option<Range>,
    /// `requests_per_day`.
    pub requests_per_day: Option<Range>,
    /// `energy_per_request`, kWh of IT energy.
    pub energy_per_request: Option<Range>,
    /// `utilization`: busy share of the service's time.
    pub utilization: Option<Range>,
    /// `mfu`: achieved fraction of peak compute.
    pub mfu: Option<Range>,
    /// `mbu`: achieved fraction of peak memory bandwidth.
    pub mbu: Option<Range>,
    /// `power_cap`: a cap on accelerator power.
    pub power_cap: Option<crate::estimate::power_cap::CapInput>,
    /// `device`: a phone, laptop or edge board that runs the model on itself.
    pub device: Option<String>,
    /// `charger`: how the device is charged (`wired`, `wireless`).
    pub charger: Option<String>,
}

/// A value from a flag, else a default coefficient.
fn given_or(
    cat: &Catalog,
    out: &mut Vec<Assumption>,
    given: Option<Range>,
    (name, unit, field): (&str, &str, Field),
    key: &str,
) -> Result<Range, EstimateError> {
    Ok(match given {
        Some(r) => {
            user(out, name, &r, unit, field);
            r
        }
        None => coefficient(cat, key, name, 1.0, out)?.range,
    })
}

/// Resolves `estimate infer`.
///
/// # Errors
/// Unknown names, out-of-domain values (batch 0, more tokens than the context, a model that does
/// not fit `gpus`, a precision the accelerator has no peak for), contradictions and missing
/// inputs, each naming fields.
pub fn infer(
    cat: &Catalog,
    i: &InferInputs,
    s: &SiteInputs,
) -> Result<Resolved<InferSpec>, EstimateError> {
    check(i)?;
    device::check(i, s)?;
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let mut extra = HardwareDetails::default();
    let given = positive(Field::EnergyPerRequest, i.energy_per_request)?;
    if given.is_some() {
        unused_with_given_energy(i, &mut notes);
    }
    let g = Given::of(i)?;
    let model = match &i.model {
        Some(m) => Some(
            cat.models()?
                .get(m)
                .map_err(|e| EstimateError::from_field(Field::Model, e))?,
        ),
        None => None,
    };
    if let Some(m) = model {
        out.push(Assumption {
            name: "model".into(),
            value: m.name.clone(),
            origin: Origin::User,
            source: Some(m.cite()),
            field: None,
        });
        extra.model = Some(m.name.clone());
    }
    let output = given_or(
        cat,
        &mut out,
        g.output,
        ("output_tokens", "", Field::OutputTokens),
        "infer.output_tokens",
    )?;
    let volume = volume(i, &mut out)?;
    if i.device.is_some() {
        return device::on_device(cat, i, s, &g, model, output, volume, out, notes, extra);
    }
    let (host_share, rest_share) = shares(cat, &mut out)?;
    let energy = if let Some(e) = given {
        given_energy(i, e, output, &mut out, &mut notes, &mut extra)
    } else {
        let r = roofline::modelled(cat, i, &g, model, output, &mut out, &mut notes)?;
        extra.accelerator = Some(r.1);
        r.0
    };
    let mut site = resolve_site(cat, s, &mut out)?.site;
    fallback_notes(s, &out, &mut notes);
    if matches!(energy, Energy::Modelled(_)) {
        let hw = hardware(cat, &i.hw, None, &mut Vec::new())?;
        hardware_embodied(&mut site, &hw, &mut out);
    }
    Ok(Resolved {
        spec: InferSpec {
            energy,
            output_tokens: output,
            volume,
            host_share,
            rest_share,
            site,
        },
        assumptions: out,
        published: Vec::new(),
        details: Details::Infer(extra),
        notes,
    })
}

/// The inputs against their limits, and the pair that contradicts each other.
fn check(i: &InferInputs) -> Result<(), EstimateError> {
    crate::limits::check_all(&[
        (Field::Params, i.params),
        (Field::ActiveParams, i.active_params),
        (Field::Gpus, i.gpus),
        (Field::InputTokens, i.input_tokens),
        (Field::OutputTokens, i.output_tokens),
        (Field::Batch, i.batch),
        (Field::Requests, i.requests),
        (Field::RequestsPerDay, i.requests_per_day),
        (Field::EnergyPerRequest, i.energy_per_request),
        (Field::Utilization, i.utilization),
        (Field::Mfu, i.mfu),
        (Field::Mbu, i.mbu),
    ])?;
    super::check_hardware(&i.hw)?;
    conflict(
        (Field::Requests, i.requests.is_some()),
        (Field::RequestsPerDay, i.requests_per_day.is_some()),
        "give a number of requests or a daily rate",
    )
}

/// Says which given inputs a given energy per request makes unused.
fn unused_with_given_energy(i: &InferInputs, notes: &mut Vec<String>) {
    let unused: Vec<String> = [
        (Field::Batch, i.batch.is_some()),
        (Field::Gpus, i.gpus.is_some()),
        (Field::InputTokens, i.input_tokens.is_some()),
        (Field::Mfu, i.mfu.is_some()),
        (Field::Mbu, i.mbu.is_some()),
        (Field::Utilization, i.utilization.is_some()),
        (Field::PowerCap, i.power_cap.is_some()),
    ]
    .into_iter()
    .filter(|(_, set)| *set)
    .map(|(f, _)| f.reference())
    .collect();
    if !unused.is_empty() {
        notes.push(format!(
            "{{energy_per_request}} replaces the model of a request, so {} are not used",
            unused.join(", ")
        ));
    }
}

/// The values the user gave, each checked to be above zero (a fraction at most 1).
struct Given {
    batch: Option<Range>,
    input: Option<Range>,
    output: Option<Range>,
    gpus: Option<Range>,
    utilisation: Option<Range>,
    mfu: Option<Range>,
    mbu: Option<Range>,
}

impl Given {
    fn of(i: &InferInputs) -> Result<Self, EstimateError> {
        Ok(Self {
            batch: positive(Field::Batch, i.batch)?,
            input: positive(Field::InputTokens, i.input_tokens)?,
            output: positive(Field::OutputTokens, i.output_tokens)?,
            gpus: positive(Field::Gpus, i.gpus)?,
            utilisation: fraction(Field::Utilization, i.utilization, 1.0)?,
            mfu: fraction(Field::Mfu, i.mfu, 1.0)?,
            mbu: fraction(Field::Mbu, i.mbu, 1.0)?,
        })
    }
}

/// How many requests: a count, a daily rate, or one request.
fn volume(i: &InferInputs, out: &mut Vec<Assumption>) -> Result<Volume, EstimateError> {
    Ok(
        match (
            positive(Field::Requests, i.requests)?,
            positive(Field::RequestsPerDay, i.requests_per_day)?,
        ) {
            (Some(n), _) => {
                user(out, "requests", &n, "", Field::Requests);
                Volume::Requests(n)
            }
            (None, Some(r)) => {
                user(out, "requests_per_day", &r, "/day", Field::RequestsPerDay);
                Volume::PerDay(r)
            }
            (None, None) => Volume::Requests(Range::point(1.0)),
        },
    )
}

/// A given energy per request, which bypasses the model.
fn given_energy(
    i: &InferInputs,
    e: Range,
    output: Range,
    out: &mut Vec<Assumption>,
    notes: &mut Vec<String>,
    extra: &mut HardwareDetails,
) -> Energy {
    user(
        out,
        "it_energy_per_request",
        &e.scale(1e3),
        "Wh",
        Field::EnergyPerRequest,
    );
    notes.push("{energy_per_request} bypasses the model: embodied carbon is not counted (no busy time is known)".into());
    if i.output_tokens.is_none() {
        notes.push(format!(
            "the per-token figures divide {{energy_per_request}} by a default of {} output tokens per request; give {{output_tokens}} for your requests' length",
            output.display("")
        ));
    }
    if i.hw.gpu.is_some() {
        extra.accelerator.clone_from(&i.hw.gpu);
    }
    Energy::Given { it_kwh: e }
}
