//! A footprint rendered for the places people look: a self-contained HTML page, a Hugging Face
//! model card block, Boavizta's BoAmps report, a CycloneDX 1.6 model card, the SPDX 3.0 AI
//! profile's energy consumption and the Green Software Foundation's SCI score. Each renders the
//! typed [`Report`] (read back through its `Deserialize`) and, for a measured run, its marked
//! windows; none reads raw JSON.

mod boamps;
mod check;
mod cyclonedx;
mod html;
mod model_card;
mod place;
mod sci;
mod spdx;

pub use boamps::boamps;
pub use check::{DocumentError, Problem, REQUIRED};
pub use cyclonedx::cyclonedx;
pub use html::html;
pub use model_card::model_card;
pub use sci::{sci, FunctionalUnit, PerError};
pub use spdx::spdx;

pub(crate) use place::place;

use crate::energy::ComponentKind;
use crate::figure::Figure;
use crate::measure::WindowFigures;
use crate::result::{Report, ReportKind};
use crate::uncertainty::Percentiles;
use serde::Deserialize;

/// A `wattlens.footprint/v1` file: the report and, for a measured run, its marked windows.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    /// The result.
    pub report: Report,
    /// A measured run's marked windows (empty for an estimate or a run without marks).
    pub windows: Vec<WindowFigures>,
}

impl Document {
    /// Reads a footprint JSON text through the `Report`'s `Deserialize`, unchecked: a missing
    /// figure reads as absent, and renderers print absent figures as zero. Front ends read
    /// through [`Document::read`], which refuses such a file.
    ///
    /// # Errors
    /// When the text is not a `wattlens.footprint/v1` object.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        #[derive(Deserialize)]
        struct Windows {
            #[serde(default)]
            windows: Vec<WindowFigures>,
        }
        let v: serde_json::Value = serde_json::from_str(text)?;
        let report = Report::deserialize(&v)?;
        let windows = Windows::deserialize(&v)?.windows;
        Ok(Self { report, windows })
    }
}

/// The lifecycle activity a footprint is of (CycloneDX `activity`, SPDX's three energy lists,
/// the Hugging Face `training_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Activity {
    /// Training from scratch (Hugging Face: `pre-training`).
    Training,
    /// Fine-tuning a trained model.
    FineTuning,
    /// Serving requests.
    Inference,
}

impl Activity {
    /// The default for a report: inference for `estimate infer`, training otherwise.
    #[must_use]
    pub fn of(kind: ReportKind) -> Self {
        match kind {
            ReportKind::Infer => Self::Inference,
            _ => Self::Training,
        }
    }

    /// Its name in CycloneDX and on the command line (`fine-tuning`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Training => "training",
            Self::FineTuning => "fine-tuning",
            Self::Inference => "inference",
        }
    }
}

/// What the caller knows that the report does not: when the rendering was made and by which
/// version, and the activity.
#[derive(Clone, Debug)]
pub struct Meta {
    /// Time of rendering, RFC 3339 UTC.
    pub generated_at: String,
    /// Version of wattlens rendering it.
    pub wattlens_version: String,
    /// The activity the footprint is of.
    pub activity: Activity,
}

/// A figure's percentiles: a required one ([`REQUIRED`]: [`Document::read`] refuses a
/// footprint without one) or one the report lists (a component's, an equivalent's); zeros only
/// for a report that was never checked.
pub(crate) fn fig(r: &Report, f: Figure) -> Percentiles {
    debug_assert!(
        REQUIRED.contains(&f) || r.get(f).is_some(),
        "{} is not a required figure",
        f.key()
    );
    r.get(f).unwrap_or(Percentiles {
        p5: 0.0,
        p50: 0.0,
        p95: 0.0,
    })
}

/// The hardware: a run's measured devices, or an estimate's accelerator.
pub(crate) fn hardware(r: &Report) -> Option<String> {
    if let Some(run) = r.details.run() {
        if !run.devices.is_empty() {
            return Some(run.devices.join(", "));
        }
        return r
            .components
            .iter()
            .any(|c| c.kind == ComponentKind::Host)
            .then(|| "CPU host".to_string());
    }
    let acc = r.details.hardware().and_then(|h| h.accelerator.clone())?;
    Some(accelerator_count(r).map_or_else(|| acc.clone(), |n| format!("{n} x {acc}")))
}

/// The accelerators: a run's measured devices (8 GPUs were written as one component of 1),
/// or those an estimate counts, as its assumption gives them (`64`, `2,048`), when it is one
/// number.
pub(crate) fn accelerator_count(r: &Report) -> Option<u64> {
    if let Some(n) = r.details.run().map(|d| d.devices.len()).filter(|n| *n > 0) {
        return u64::try_from(n).ok();
    }
    r.assumptions
        .iter()
        .find(|a| a.name == "accelerators")
        .map(|a| a.value.replace(',', ""))
        .filter(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit()))
        .and_then(|v| v.parse().ok())
}

/// The model name, for an estimate that names one.
pub(crate) fn model(r: &Report) -> Option<String> {
    r.details.hardware().and_then(|h| h.model.clone())
}

/// Hours of wall time: a measured run's, or an estimate's duration (P50) when it has one.
pub(crate) fn hours(r: &Report) -> Option<f64> {
    r.details.run().map(|d| d.duration_s / 3600.0).or_else(|| {
        r.get(crate::figure::Figure::Duration)
            .map(|p| p.p50 * 24.0)
            .filter(|h| h.is_finite() && *h > 0.0)
    })
}

/// How a run's energy was obtained, in words: `measured` when every component that drew energy
/// was read from a counter, `measured (power integrated)`, `partly measured (GPUs read from
/// energy counters; rest of server modelled)` when some were, or `modelled` (no counter was
/// read: from CPU time and ratings); an estimate is `estimated`. The run's `method` is the
/// weakest part's, so the modelled rest of the server made a run whose GPUs NVML read
/// `modelled`, and the model card said no counter was read (a false claim; hostile test).
pub(crate) fn obtained(r: &Report) -> String {
    use crate::energy::Method;
    if r.kind != ReportKind::Run {
        return "estimated".into();
    }
    match r.method {
        Method::Measured => return "measured".into(),
        Method::Integrated => return "measured (power integrated)".into(),
        _ => {}
    }
    // The components that drew energy, as the run's method counts them.
    let drew: Vec<&crate::result::ComponentInfo> = r
        .components
        .iter()
        .filter(|c| r.get(c.key).is_some_and(|p| p.p95 > 0.0))
        .collect();
    let names = |read: bool| {
        drew.iter()
            .filter(|c| (c.method != Method::Modelled) == read)
            .map(|c| c.name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (read, modelled) = (names(true), names(false));
    if read.is_empty() {
        "modelled from the run's CPU time and ratings (no energy counter was read)".into()
    } else {
        format!("partly measured ({read} read from energy counters; {modelled} modelled)")
    }
}

/// One line on how the footprint was obtained (`measured run (GPUs measured ...)`).
pub(crate) fn how(r: &Report) -> String {
    let parts: Vec<String> = r
        .components
        .iter()
        .map(|c| format!("{} {}", c.name, c.method.as_str()))
        .collect();
    let what = if r.kind == ReportKind::Run {
        match r.method {
            crate::energy::Method::Measured | crate::energy::Method::Integrated => {
                "measured run".to_string()
            }
            _ => "run, modelled".to_string(),
        }
    } else {
        format!("estimate ({})", r.kind)
    };
    if parts.is_empty() {
        what
    } else {
        format!("{what}: {}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::{Assumption, Origin};
    use crate::result::{Details, HardwareDetails};

    fn report(json: &str) -> Report {
        serde_json::from_str(json).expect("a footprint")
    }

    fn assumption(name: &str, value: &str, source: Option<&str>) -> Assumption {
        Assumption {
            name: name.into(),
            value: value.into(),
            origin: Origin::Catalog,
            source: source.map(Into::into),
            field: None,
        }
    }

    #[test]
    fn region_hardware_and_activity_come_from_the_report() {
        let mut r =
            report(r#"{"schema":"wattlens.footprint/v1","kind":"train","method":"modelled"}"#);
        r.intensity_scope = "lifecycle co2e, FR 2023".into();
        assert_eq!(place(&r), None, "the intensity scope is no place");
        r.assumptions = vec![
            assumption("intensity", "56 g/kWh", Some("FR: Ember (2023)")),
            assumption("accelerators", "64", None),
        ];
        assert_eq!(place(&r).map(|p| p.region).as_deref(), Some("FR"));
        r.details = Details::Train(HardwareDetails {
            model: Some("llama".into()),
            accelerator: Some("H100".into()),
        });
        assert_eq!(hardware(&r).as_deref(), Some("64 x H100"));
        assert_eq!(model(&r).as_deref(), Some("llama"));
        assert_eq!(Activity::of(r.kind), Activity::Training);
        assert_eq!(Activity::of(ReportKind::Infer).as_str(), "inference");
    }

    #[test]
    fn a_document_keeps_a_runs_windows() {
        let d = Document::from_json(
            r#"{"schema":"wattlens.footprint/v1","kind":"run","method":"measured","duration_s":10,
            "windows":[{"name":"a","start_s":1,"end_s":3,"duration_s":2,"closed_by_run_end":false,
            "it_energy_kwh":{"p5":1,"p50":1,"p95":1},"facility_energy_kwh":{"p5":1,"p50":1,"p95":1},
            "carbon_kgco2e":{"p5":1,"p50":1,"p95":1},"operational_carbon_kgco2e":{"p5":1,"p50":1,"p95":1},
            "embodied_carbon_kgco2e":{"p5":0,"p50":0,"p95":0},"water_l":{"p5":1,"p50":1,"p95":1},
            "cost":{"p5":1,"p50":1,"p95":1}}]}"#,
        )
        .expect("reads");
        assert_eq!(d.windows.len(), 1);
        assert_eq!(d.report.details.run().map(|r| r.duration_s), Some(10.0));
        // 1 kWh over 2 s = 3.6e6 J / 2 s = 1.8 MW in the power chart.
        let meta = Meta {
            generated_at: "2024-01-01T00:00:00Z".into(),
            wattlens_version: "0".into(),
            activity: Activity::Training,
        };
        let page = html(&d, &meta);
        assert!(page.contains("<title>a: 1.8M W</title>"), "{page}");
        assert!(!page.contains("http"));
    }

    #[test]
    fn the_power_chart_draws_the_profile_bins_or_falls_back_to_the_mean() {
        let json = r#"{"schema":"wattlens.footprint/v1","kind":"run","method":"measured",
            "duration_s":3600,"it_energy_kwh":{"p5":2,"p50":2,"p95":2},
            "profile":[{"start_s":0,"end_s":1800,"energy_kwh":0.5},
                       {"start_s":1800,"end_s":3600,"energy_kwh":1.5}]}"#;
        let meta = Meta {
            generated_at: "2024-01-01T00:00:00Z".into(),
            wattlens_version: "0".into(),
            activity: Activity::Training,
        };
        let d = Document::from_json(json).expect("reads");
        let page = html(&d, &meta);
        // 0.5 kWh over 1800 s = 1.8e6 J / 1800 s = 1000 W; 1.5 kWh over 1800 s = 3000 W.
        assert!(page.contains("data-bins=\"2\""), "{page}");
        assert!(
            page.contains("<title>0 s .. 1,800 s: 1,000 W</title>"),
            "{page}"
        );
        assert!(
            page.contains("<title>1,800 s .. 3,600 s: 3,000 W</title>"),
            "{page}"
        );
        // No profile: one bar, the mean over the run: 2 kWh over 3600 s = 2000 W.
        let mut d = d;
        if let Details::Run(run) = &mut d.report.details {
            run.profile.clear();
        }
        let page = html(&d, &meta);
        assert!(page.contains("data-bins=\"0\""), "{page}");
        assert!(
            page.contains("<title>0 s .. 3,600 s: 2,000 W</title>"),
            "{page}"
        );
        assert!(page.contains("no power profile"), "{page}");
    }

    #[test]
    fn html_escapes_what_it_shows() {
        let mut r =
            report(r#"{"schema":"wattlens.footprint/v1","kind":"fleet","method":"modelled"}"#);
        r.notes = vec!["<script>alert(1)</script> & more".into()];
        let meta = Meta {
            generated_at: "t".into(),
            wattlens_version: "0".into(),
            activity: Activity::Training,
        };
        let page = html(
            &Document {
                report: r,
                windows: vec![],
            },
            &meta,
        );
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"));
        assert!(!page.contains("<script"));
        assert!(!page.contains("IT power over the run"));
    }
}
