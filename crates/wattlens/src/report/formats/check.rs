//! The one check every report format reads a footprint through ([`Document::read`]): a figure
//! a renderer prints must be there, finite, in order (P5 <= P50 <= P95) and, for energy, carbon
//! and water, not negative, so that no format renders a missing figure as zero (a hostile test
//! removed `facility_energy_kwh` and the SCI printed `E 0 kWh`, CycloneDX `0.0`, exit 0).
//! `docs/schema/footprint-v1.json` lists the required fields.

use super::Document;
use crate::figure::Figure;
use crate::uncertainty::Percentiles;
use serde_json::Value;
use std::fmt;

/// The figures every `wattlens.footprint/v1` holds (the schema's `required`), which the
/// formats render.
pub const REQUIRED: [Figure; 9] = [
    Figure::ItEnergy,
    Figure::FacilityEnergy,
    Figure::Carbon,
    Figure::OperationalCarbon,
    Figure::EmbodiedCarbon,
    Figure::Water,
    Figure::OnsiteWater,
    Figure::OffsiteWater,
    Figure::Cost,
];

/// Why a footprint cannot be rendered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    /// Not a `wattlens.footprint/v1` JSON object at all.
    #[error("not a wattlens.footprint/v1 JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A footprint whose fields no footprint written by wattlens holds (each named).
    #[error("figures no footprint written by wattlens holds: {}", list(.0))]
    Invalid(Vec<Problem>),
}

/// One field that fails the check, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// The field as the JSON names it (`facility_energy_kwh`, `windows[1].water_l`).
    pub field: String,
    /// What is wrong with it (`missing or null`).
    pub why: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.field, self.why)
    }
}

fn list(p: &[Problem]) -> String {
    p.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Energy, carbon and water: never negative, never past 1e100 (1e308 kg rendered `inf`).
fn physical(key: &str) -> bool {
    key.ends_with("_kwh") || key.ends_with("_kgco2e") || key.ends_with("_l")
}

/// The problems of one figure: not finite, out of order, or (physical) negative or huge.
fn figure(field: &str, p: &Percentiles, physical: bool, out: &mut Vec<Problem>) {
    let mut bad = |why: String| {
        out.push(Problem {
            field: field.to_string(),
            why,
        });
    };
    let v = [p.p5, p.p50, p.p95];
    if v.iter().any(|x| !x.is_finite()) {
        return bad("not a finite number".into());
    }
    if physical && v.iter().any(|x| *x < 0.0 || x.abs() > 1e100) {
        return bad("negative or above 1e100".into());
    }
    // Percentiles of one set of samples are in order; a little slack for printed rounding.
    let slack = |a: f64, b: f64| a > b + 1e-9 * a.abs().max(b.abs());
    if slack(p.p5, p.p50) || slack(p.p50, p.p95) {
        bad(format!(
            "P5 {} > P50 {} or P50 > P95 {}: percentiles out of order",
            p.p5, p.p50, p.p95
        ));
    }
}

impl Document {
    /// Reads a footprint JSON text and checks it ([`Document::check`]): the way every report
    /// format reads its source.
    ///
    /// # Errors
    /// [`DocumentError::Json`] when the text is not a `wattlens.footprint/v1` object,
    /// [`DocumentError::Invalid`] naming each field that fails the check.
    pub fn read(text: &str) -> Result<Self, DocumentError> {
        // A byte-order mark (some Windows editors write one) is not part of the JSON.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        crate::json_keys::check_unique_keys(text)?;
        let doc = Self::from_json(text)?;
        let raw: Value = serde_json::from_str(text)?;
        let problems = doc.check(&raw);
        if problems.is_empty() {
            Ok(doc)
        } else {
            Err(DocumentError::Invalid(problems))
        }
    }

    /// The fields that fail the check: a required figure missing or `null`; any figure,
    /// component, step or published value not finite; energy, carbon or water negative or past
    /// 1e100; P5 > P50 or P50 > P95; a run's `duration_s` missing or negative; a power profile
    /// bin or marked window that ends before it starts, or with a negative or unordered figure.
    /// `raw` is the JSON the document was read from (a run's absent `duration_s` reads as 0).
    #[must_use]
    pub fn check(&self, raw: &Value) -> Vec<Problem> {
        let r = &self.report;
        let mut out = Vec::new();
        let problem = |field: &str, why: &str| Problem {
            field: field.to_string(),
            why: why.to_string(),
        };
        for f in REQUIRED {
            if r.get(f).is_none() {
                out.push(problem(f.key(), "missing or null"));
            }
        }
        for (f, p) in &r.figures {
            figure(
                f.key(),
                p,
                physical(f.key()) || f.key().starts_with("component."),
                &mut out,
            );
        }
        // Steps, published values and details (a trajectory, a rack) print too.
        let named: Vec<String> = out.iter().map(|p| p.field.clone()).collect();
        out.extend(
            r.non_finite()
                .into_iter()
                .filter(|k| !named.contains(k))
                .map(|k| problem(&k, "not a finite number")),
        );
        if let Some(run) = r.details.run() {
            match raw.get("duration_s") {
                None | Some(Value::Null) => out.push(problem("duration_s", "missing or null")),
                _ if !run.duration_s.is_finite() || run.duration_s < 0.0 => out.push(problem(
                    "duration_s",
                    &format!("{}: a run's duration is a number >= 0", run.duration_s),
                )),
                _ => {}
            }
            for (i, b) in run.profile.iter().enumerate() {
                let ok = [b.start_s, b.end_s, b.energy_kwh]
                    .iter()
                    .all(|x| x.is_finite() && *x >= 0.0)
                    && b.start_s <= b.end_s;
                if !ok {
                    out.push(problem(
                        &format!("profile[{i}]"),
                        "a bin ends before it starts, or has a negative or non-finite value",
                    ));
                }
            }
        }
        for (i, w) in self.windows.iter().enumerate() {
            let ok = [w.start_s, w.end_s, w.duration_s]
                .iter()
                .all(|x| x.is_finite() && *x >= 0.0)
                && w.start_s <= w.end_s;
            if !ok {
                out.push(problem(
                    &format!("windows[{i}]"),
                    "a window ends before it starts, or has a negative or non-finite time",
                ));
            }
            for (key, p) in [
                ("it_energy_kwh", &w.it_energy_kwh),
                ("facility_energy_kwh", &w.facility_energy_kwh),
                ("carbon_kgco2e", &w.carbon_kgco2e),
                ("operational_carbon_kgco2e", &w.operational_carbon_kgco2e),
                ("embodied_carbon_kgco2e", &w.embodied_carbon_kgco2e),
                ("water_l", &w.water_l),
            ] {
                figure(&format!("windows[{i}].{key}"), p, true, &mut out);
            }
            figure(&format!("windows[{i}].cost"), &w.cost, false, &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A footprint with every required figure (all 1, in order), with `extra` fields merged in.
    fn doc(kind: &str, extra: &str) -> String {
        let one = r#"{"p5":1,"p50":1,"p95":1}"#;
        let figures: Vec<String> = REQUIRED
            .iter()
            .map(|f| format!("\"{}\":{one}", f.key()))
            .collect();
        format!(
            r#"{{"schema":"wattlens.footprint/v1","kind":"{kind}","method":"modelled",{}{extra}}}"#,
            figures.join(",")
        )
    }

    fn problems(text: &str) -> Vec<String> {
        match Document::read(text) {
            Ok(_) => vec![],
            Err(DocumentError::Invalid(p)) => p.iter().map(ToString::to_string).collect(),
            Err(e) => vec![e.to_string()],
        }
    }

    #[test]
    fn a_whole_footprint_passes() {
        assert_eq!(problems(&doc("fleet", "")), Vec::<String>::new());
        assert_eq!(
            problems(&doc("run", r#","duration_s":0"#)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_missing_or_null_figure_is_named_never_read_as_zero() {
        let text =
            doc("fleet", "").replace(r#""facility_energy_kwh":{"p5":1,"p50":1,"p95":1},"#, "");
        assert_eq!(problems(&text), ["facility_energy_kwh (missing or null)"]);
        let text = doc("fleet", "").replace(
            r#""operational_carbon_kgco2e":{"p5":1,"p50":1,"p95":1}"#,
            r#""operational_carbon_kgco2e":null"#,
        );
        assert_eq!(
            problems(&text),
            ["operational_carbon_kgco2e (missing or null)"]
        );
    }

    #[test]
    fn a_runs_duration_must_be_there_and_not_negative() {
        assert_eq!(problems(&doc("run", "")), ["duration_s (missing or null)"]);
        let p = problems(&doc("run", r#","duration_s":-100"#));
        assert_eq!(p.len(), 1);
        assert!(p[0].starts_with("duration_s (-100: "), "{p:?}");
        // An estimate has no duration_s to check.
        assert_eq!(problems(&doc("train", "")), Vec::<String>::new());
    }

    #[test]
    fn percentiles_out_of_order_are_named() {
        let text = doc("fleet", "").replace(
            r#""water_l":{"p5":1,"p50":1,"p95":1}"#,
            r#""water_l":{"p5":3,"p50":2,"p95":1}"#,
        );
        let p = problems(&text);
        assert_eq!(p.len(), 1);
        assert!(p[0].starts_with("water_l (P5 3 > P50 2"), "{p:?}");
    }

    #[test]
    fn windows_and_profile_bins_are_checked() {
        let w = r#","duration_s":10,"profile":[{"start_s":5,"end_s":1,"energy_kwh":1}],
            "windows":[{"name":"a","start_s":1,"end_s":3,"duration_s":2,"closed_by_run_end":false,
            "it_energy_kwh":{"p5":1,"p50":1,"p95":1},"facility_energy_kwh":{"p5":1,"p50":1,"p95":1},
            "carbon_kgco2e":{"p5":1,"p50":1,"p95":1},"operational_carbon_kgco2e":{"p5":1,"p50":1,"p95":1},
            "embodied_carbon_kgco2e":{"p5":0,"p50":0,"p95":0},"water_l":{"p5":-1,"p50":1,"p95":1},
            "cost":{"p5":1,"p50":1,"p95":1}}]"#;
        let p = problems(&doc("run", w));
        assert_eq!(
            p,
            [
                "profile[0] (a bin ends before it starts, or has a negative or non-finite value)",
                "windows[0].water_l (negative or above 1e100)"
            ]
        );
    }

    #[test]
    fn not_json_is_its_own_error() {
        assert!(matches!(Document::read("{"), Err(DocumentError::Json(_))));
    }

    #[test]
    fn a_figure_named_twice_is_refused() {
        // `serde_json::Value` keeps the last of two equal keys: a footprint naming its facility
        // energy twice would report whichever came last. Refused before anything is read.
        let e = Document::read("{\"facility_energy_kwh\": 1.0,\n\"facility_energy_kwh\": 2.0}")
            .expect_err("dup");
        let s = e.to_string();
        assert!(matches!(e, DocumentError::Json(_)), "{s}");
        assert!(
            s.contains("\"facility_energy_kwh\" twice") && s.contains("line 2"),
            "{s}"
        );
    }
}
