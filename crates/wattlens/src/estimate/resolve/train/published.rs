//! The preset model's published training figures (accelerator-hours, energy, emissions,
//! days), shown beside the estimate only when it is of that very run.

use super::super::Precision;
use super::TrainInputs;
use crate::catalog::{Accelerator, Catalog, Model};
use crate::estimate::EstimateError;
use crate::field::Field;
use crate::figure::Figure;
use crate::result::Published;

/// A published figure to show beside the estimate: (key of the comparable figure, scale of
/// that figure to the published unit, the figure).
type PublishedFigure = (Option<Figure>, f64, Published);

/// The preset's published training figures. They describe its pre-training run, so they are
/// shown only when this estimate is of that run: no duration, compute or size that contradicts
/// it (`given`: each flag and whether it agrees), and the run's own accelerator at a precision
/// with the same peak (BF16, the precision these runs publish). Otherwise a note says which
/// flags differ.
pub(super) fn figures(
    cat: &Catalog,
    m: &Model,
    given: &[(Field, bool)],
    t: &TrainInputs,
    accel: Option<&Accelerator>,
    notes: &mut Vec<String>,
) -> Result<Vec<PublishedFigure>, EstimateError> {
    let mut contradicting: Vec<Field> = given
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(f, _)| *f)
        .collect();
    // A row naming an accelerator the catalog lacks is not comparable on hardware.
    let theirs = match m.training_accelerator.as_deref() {
        Some(name) => cat.accelerators()?.get(name).ok(),
        None => None,
    };
    if let Some(theirs) = theirs {
        let hardware_flag = if t.hw.gpu.is_some() {
            Field::Gpu
        } else {
            Field::Server
        };
        if accel.is_none_or(|a| a.name != theirs.name) {
            contradicting.push(hardware_flag);
        }
    }
    if let Some(a) = accel {
        if t.precision.peak_tflops(a) != Precision::Bf16.peak_tflops(a) {
            contradicting.push(Field::Precision);
        }
    }
    if !contradicting.is_empty() {
        if m.training_accelerator_hours.is_some()
            || m.reported_training_energy_mwh.is_some()
            || m.reported_training_tco2e.is_some()
            || m.training_days.is_some()
        {
            notes.push(format!(
                "{}'s published training figures are not shown: this estimate is not of that training run ({} {})",
                m.name,
                contradicting
                    .iter()
                    .map(|f| f.reference())
                    .collect::<Vec<_>>()
                    .join(", "),
                if contradicting.len() == 1 { "differs" } else { "differ" }
            ));
        }
        return Ok(Vec::new());
    }
    Ok(of_run(m))
}

/// Every training figure the preset publishes.
fn of_run(m: &Model) -> Vec<PublishedFigure> {
    let mut published = Vec::new();
    let src = m.training_source.clone().unwrap_or_default();
    if let Some(h) = m.training_accelerator_hours {
        published.push((
            Some(Figure::AcceleratorHours),
            1.0,
            Published {
                name: "accelerator-hours".into(),
                value: h,
                unit: "h".into(),
                estimate_p50: None,
                source: src.clone(),
            },
        ));
    }
    if let Some(e) = m.reported_training_energy_mwh {
        published.push((
            Some(Figure::FacilityEnergy),
            1e-3,
            Published {
                name: "training energy".into(),
                value: e,
                unit: "MWh".into(),
                estimate_p50: None,
                source: src.clone(),
            },
        ));
    }
    if let Some(c) = m.reported_training_tco2e {
        let basis = m.reported_emissions_basis.clone().unwrap_or_default();
        published.push((
            Some(Figure::OperationalCarbon),
            1e-3,
            Published {
                name: format!("training emissions ({basis})"),
                value: c,
                unit: "tCO2e".into(),
                estimate_p50: None,
                source: src.clone(),
            },
        ));
    }
    if let Some(d) = m.training_days {
        published.push((
            Some(Figure::Duration),
            1.0,
            Published {
                name: "training days".into(),
                value: d,
                unit: "d".into(),
                estimate_p50: None,
                source: src,
            },
        ));
    }
    published
}
