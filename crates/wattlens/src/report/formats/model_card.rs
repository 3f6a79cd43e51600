//! The Hugging Face model card: the `co2_eq_emissions` metadata block (emissions in grams of
//! CO2e, `source`, `training_type`, `geographical_location`, `hardware_used`; see
//! <https://huggingface.co/docs/hub/model-cards-co2>) and the "Environmental impact" Markdown
//! section pasted under it.

use super::{fig, hardware, hours, how, model, place, Activity, Meta};
use crate::figure::Figure;
use crate::report::{fmt_energy_kwh, fmt_mass_kg};
use crate::result::Report;
use crate::uncertainty::fmt_human;
use std::fmt::Write;

/// A YAML scalar: JSON's double-quoted string, which YAML reads as the same text.
fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// The metadata block (between `---` lines) and the Markdown section. Emissions are the
/// location-based operational carbon's P50 in grams (kg x 1000), as CodeCarbon reports them.
#[must_use]
pub fn model_card(r: &Report, meta: &Meta) -> String {
    let op = fig(r, Figure::OperationalCarbon);
    let emb = fig(r, Figure::EmbodiedCarbon);
    let grams = op.p50 * 1000.0;
    let mut out = String::from("---\nco2_eq_emissions:\n");
    let _ = writeln!(out, "  emissions: {}", tidy(grams));
    let source = format!(
        "wattlens {} ({}); location-based operational carbon, P50 of {} samples (P5-P95 {}-{} g)",
        meta.wattlens_version,
        how(r),
        r.samples,
        fmt_human(op.p5 * 1000.0),
        fmt_human(op.p95 * 1000.0)
    );
    let _ = writeln!(out, "  source: {}", q(&source));
    match meta.activity {
        Activity::Training => out.push_str("  training_type: \"pre-training\"\n"),
        Activity::FineTuning => out.push_str("  training_type: \"fine-tuning\"\n"),
        Activity::Inference => {}
    }
    // The grid region named, never the intensity's scope; left out when none was named.
    let region = place(r).map(|p| p.region);
    if let Some(l) = &region {
        let _ = writeln!(out, "  geographical_location: {}", q(l));
    }
    if let Some(h) = hardware(r) {
        let _ = writeln!(out, "  hardware_used: {}", q(&h));
    }
    out.push_str("---\n\n## Environmental impact\n\n");
    let _ = writeln!(
        out,
        "Carbon emissions were {} with wattlens {}.\n",
        super::obtained(r),
        meta.wattlens_version
    );
    let na = "not recorded";
    let _ = writeln!(
        out,
        "- **Hardware type:** {}",
        hardware(r).unwrap_or_else(|| na.into())
    );
    let _ = writeln!(
        out,
        "- **Hours used:** {}",
        hours(r).map_or_else(|| na.into(), fmt_human)
    );
    let _ = writeln!(out, "- **Cloud provider:** {na}");
    let _ = writeln!(
        out,
        "- **Compute region:** {}",
        region.unwrap_or_else(|| na.into())
    );
    if let Some(m) = model(r) {
        let _ = writeln!(out, "- **Model:** {m}");
    }
    let _ = writeln!(
        out,
        "- **Energy (facility, incl. PUE):** {}",
        fmt_energy_kwh(fig(r, Figure::FacilityEnergy).p50)
    );
    let _ = writeln!(
        out,
        "- **Carbon emitted (location-based, operational):** {} (P5-P95 {} .. {})",
        fmt_mass_kg(op.p50),
        fmt_mass_kg(op.p5),
        fmt_mass_kg(op.p95)
    );
    let _ = writeln!(
        out,
        "- **Embodied carbon of the hardware (share of its life):** {}",
        fmt_mass_kg(emb.p50)
    );
    out
}

/// A number for YAML: up to 6 significant figures, no exponent for usual sizes.
fn tidy(x: f64) -> String {
    let s = format!("{x:.5e}");
    s.parse::<f64>()
        .map_or_else(|_| "0".into(), |v| format!("{v}"))
}

#[cfg(test)]
mod tests {
    use super::tidy;

    #[test]
    fn grams_keep_six_figures() {
        // 0.2061349 kg x 1000 = 206.1349 g
        assert_eq!(tidy(0.206_134_9 * 1000.0), "206.135");
        assert_eq!(tidy(0.0), "0");
    }
}
