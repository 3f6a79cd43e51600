//! An estimate beside another footprint — a measured `wattlens run --json` or another estimate
//! — figure by figure: both ranges, the ratio of the P50s, and whether the other P50 falls
//! inside this estimate's P5–P95. Both went through the same accounting core, so the same key
//! means the same quantity in the same unit.

use super::{unit_for, Scale};
use crate::figure::Figure;
use crate::result::Report;
// Printed in the one human number format of every renderer.
use crate::uncertainty::{fmt_human as fmt_num, Percentiles};
use serde_json::{json, Value};

mod read;
pub use read::read;
use std::fmt::Write;

/// One figure both footprints carry.
#[derive(Clone, Debug, PartialEq)]
pub struct FigureRow {
    /// The figure (its JSON key carries its unit, e.g. `facility_energy_kwh`).
    pub key: Figure,
    /// Label for people.
    pub label: String,
    /// This estimate's percentiles.
    pub this: Percentiles,
    /// The other footprint's percentiles.
    pub other: Percentiles,
}

impl FigureRow {
    /// This P50 over the other P50 (`None` when the other is 0, or so small that the ratio is
    /// not a finite number).
    #[must_use]
    pub fn ratio(&self) -> Option<f64> {
        ratio(self.this.p50, self.other.p50)
    }
    /// Whether the other P50 lies inside this P5–P95.
    #[must_use]
    pub fn inside(&self) -> bool {
        self.this.p5 <= self.other.p50 && self.other.p50 <= self.this.p95
    }
}

/// `this / other`, when the other is not 0 and the quotient is a finite number (a subnormal
/// other, such as 5e-324, would give infinity).
fn ratio(this: f64, other: f64) -> Option<f64> {
    let r = this / other;
    (other != 0.0 && r.is_finite()).then_some(r)
}

/// IT energy of one component kind (`accelerator`, `host`, `server`) on both sides, as sums of
/// the components' P50s (a sum of medians, not the median of a sum, so no range is claimed).
#[derive(Clone, Debug, PartialEq)]
pub struct KindRow {
    /// The kind.
    pub kind: String,
    /// This estimate's P50, kWh.
    pub this_kwh: f64,
    /// The other footprint's P50, kWh, and how it was obtained (`measured`, `modelled` ...).
    pub other_kwh: f64,
    /// The other side's methods for this kind, joined with `+`.
    pub other_method: String,
}

/// The comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// Where the other footprint came from (a file name).
    pub source: String,
    /// Its `kind` (`run`, `train` ...).
    pub kind: String,
    /// Its `method` (`measured`, `modelled` ...).
    pub method: String,
    /// Figures both carry, in display order.
    pub rows: Vec<FigureRow>,
    /// IT energy by component kind.
    pub kinds: Vec<KindRow>,
    /// This estimate's currency, for the cost line.
    pub currency: String,
    /// Why figures this estimate has are not compared (another currency, not in the file).
    pub notes: Vec<String>,
}

/// The largest footprint file read to compare with, bytes: a footprint JSON is a few KiB (a
/// few MiB with every detail), so a larger file is the wrong one, and reading it whole could
/// exhaust memory.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Why a file cannot be compared.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompareError {
    /// Not a footprint object.
    #[error("{0} is not a wattlens.footprint/v1 object (its \"schema\" is {1}); give the file that `--json` wrote")]
    Schema(String, String),
    /// No figure in common.
    #[error("{0} has no figure in common with this estimate")]
    Nothing(String),
    /// A footprint whose figures are sound but whose other parts cannot be read (no `kind`,
    /// an unknown component).
    #[error("{0} cannot be read as a footprint: {1}; give the file that `--json` wrote, unedited")]
    Unreadable(String, String),
    /// A figure of the file is not a P5/P50/P95 of finite, non-negative, ordered numbers.
    #[error("{file}: {key} {message}; give the file that `--json` wrote, unedited")]
    Invalid {
        /// The file.
        file: String,
        /// The JSON key (`it_energy_kwh`, `components[2].energy_kwh`).
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// Compares `e` with the footprint `other` (read with [`read`]) from `source`.
///
/// # Errors
/// [`CompareError::Nothing`] when `other` shares no figure with `e`.
pub fn compare(e: &Report, other: &Report, source: &str) -> Result<Comparison, CompareError> {
    let mut notes = Vec::new();
    let mut rows: Vec<FigureRow> = Vec::new();
    let mut absent: Vec<&str> = Vec::new();
    for f in Figure::table() {
        let label = f.label();
        let Some(this) = e.get(f) else { continue };
        let Some(other_p) = other.get(f) else {
            absent.push(label.trim());
            continue;
        };
        if f == Figure::Cost && other.currency != e.currency {
            notes.push(format!(
                "electricity cost left out: this estimate is in {}, {source} in {} (no exchange rate is applied)",
                e.currency, other.currency
            ));
            continue;
        }
        rows.push(FigureRow {
            key: f,
            label: label.trim().to_string(),
            this,
            other: other_p,
        });
    }
    if rows.is_empty() {
        return Err(CompareError::Nothing(source.into()));
    }
    if !absent.is_empty() {
        notes.push(format!(
            "not in {source}, so not compared: {}",
            absent.join(", ")
        ));
    }
    let mut kinds: Vec<KindRow> = Vec::new();
    for c in &e.components {
        let Some(p) = e.get(c.key) else { continue };
        match kinds.iter_mut().find(|k| k.kind == c.kind.as_str()) {
            Some(k) => k.this_kwh += p.p50,
            None => kinds.push(KindRow {
                kind: c.kind.as_str().to_string(),
                this_kwh: p.p50,
                other_kwh: 0.0,
                other_method: String::new(),
            }),
        }
    }
    for c in &other.components {
        let Some(p) = other.get(c.key) else { continue };
        let (kind, m) = (c.kind.as_str(), c.method.as_str());
        // A kind only the other side has (a run's GPUs beside a CPU-only estimate) is listed
        // with 0 on this side.
        let k = match kinds.iter().position(|k| k.kind == kind) {
            Some(i) => &mut kinds[i],
            None => {
                kinds.push(KindRow {
                    kind: kind.to_string(),
                    this_kwh: 0.0,
                    other_kwh: 0.0,
                    other_method: String::new(),
                });
                let last = kinds.len() - 1;
                &mut kinds[last]
            }
        };
        {
            k.other_kwh += p.p50;
            if !k.other_method.split('+').any(|x| x == m) {
                if !k.other_method.is_empty() {
                    k.other_method.push('+');
                }
                k.other_method.push_str(m);
            }
        }
    }
    // A kind only this side has stays, with 0 and no method on the other, so the rows still add
    // up to this side's IT energy; with no components at all on the other side, no section.
    if kinds.iter().all(|k| k.other_method.is_empty()) {
        kinds.clear();
    }
    for k in &mut kinds {
        if k.other_method.is_empty() {
            k.other_method = "none there".into();
        }
    }
    Ok(Comparison {
        source: source.into(),
        kind: other.kind.as_str().to_string(),
        method: other.method.as_str().to_string(),
        rows,
        kinds,
        currency: e.currency.clone(),
        notes,
    })
}

impl Comparison {
    /// The `comparison` object added to the estimate's JSON.
    #[must_use]
    pub fn to_json(&self) -> Value {
        json!({
            "source": self.source,
            "kind": self.kind,
            "method": self.method,
            "figures": self.rows.iter().map(|r| json!({
                "name": r.key,
                "this": r.this,
                "other": r.other,
                "ratio_p50": r.ratio(),
                "other_p50_inside_p5_p95": r.inside(),
            })).collect::<Vec<_>>(),
            "it_energy_by_kind": self.kinds.iter().map(|k| json!({
                "kind": k.kind,
                "this_p50_kwh": k.this_kwh,
                "other_p50_kwh": k.other_kwh,
                "other_method": k.other_method,
            })).collect::<Vec<_>>(),
            "notes": self.notes,
        })
    }

    /// A section for the terminal table (`markdown`: a Markdown table instead).
    #[must_use]
    pub fn render(&self, markdown: bool) -> String {
        let mut out = String::new();
        let title = format!(
            "compared with {} ({} {}): P50 [P5 .. P95]; ratio = this / other",
            self.source, self.method, self.kind
        );
        let lines: Vec<[String; 5]> = self
            .rows
            .iter()
            .map(|r| {
                let scale = r.key.scale();
                let (k, unit) = unit_for(
                    scale,
                    r.this.p50.abs().max(r.other.p50.abs()),
                    if r.key == Figure::Cost {
                        &self.currency
                    } else {
                        ""
                    },
                );
                let show = |p: &Percentiles| {
                    let p = p.scale(k);
                    if p.p5 == p.p95 {
                        format!("{} {unit}", fmt_num(p.p50))
                    } else {
                        format!(
                            "{} [{} .. {}] {unit}",
                            fmt_num(p.p50),
                            fmt_num(p.p5),
                            fmt_num(p.p95)
                        )
                    }
                };
                [
                    r.label.clone(),
                    show(&r.this),
                    show(&r.other),
                    r.ratio().map_or("-".into(), |x| format!("{}x", fmt_num(x))),
                    if r.inside() { "yes" } else { "no" }.into(),
                ]
            })
            .collect();
        let head = [
            "figure",
            "this estimate",
            "other",
            "ratio",
            "other P50 inside",
        ];
        if markdown {
            let _ = writeln!(out, "\n### {title}\n");
            let _ = writeln!(out, "| {} |", head.join(" | "));
            let _ = writeln!(out, "|---|---|---|---:|---|");
            for l in &lines {
                let _ = writeln!(out, "| {} |", l.join(" | "));
            }
        } else {
            let w: Vec<usize> = (0..5)
                .map(|i| {
                    lines
                        .iter()
                        .map(|l| l[i].len())
                        .chain([head[i].len()])
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            let _ = writeln!(out, "\n  {title}");
            for l in std::iter::once(head.map(String::from)).chain(lines) {
                let _ = writeln!(
                    out,
                    "  {:<a$}  {:>b$}  {:>c$}  {:>d$}  {}",
                    l[0],
                    l[1],
                    l[2],
                    l[3],
                    l[4],
                    a = w[0],
                    b = w[1],
                    c = w[2],
                    d = w[3]
                );
            }
        }
        if !self.kinds.is_empty() {
            let _ = writeln!(
                out,
                "{}IT energy by kind of component (sums of P50s):",
                if markdown { "\n" } else { "\n  " }
            );
            for k in &self.kinds {
                let ratio = ratio(k.this_kwh, k.other_kwh)
                    .map_or_else(|| "-".to_string(), |x| format!("{}x", fmt_num(x)));
                // One unit for both sides, from the larger, so they read alike (`90.7 / 106
                // Wh`, not `9.07e-5 / 0.000106 kWh`).
                let (scale, unit) =
                    unit_for(Scale::Energy, k.this_kwh.abs().max(k.other_kwh.abs()), "");
                let _ = writeln!(
                    out,
                    "{}{}: this {} / other {} {unit} ({}): {ratio}",
                    if markdown { "- " } else { "    " },
                    k.kind,
                    fmt_num(k.this_kwh * scale),
                    fmt_num(k.other_kwh * scale),
                    k.other_method
                );
            }
        }
        if !self.notes.is_empty() {
            out.push('\n');
        }
        for n in &self.notes {
            let _ = writeln!(out, "{}note: {n}", if markdown { "- " } else { "  " });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::{compare, ratio, read, CompareError, Comparison};
    use crate::figure::Figure;
    use crate::result::{Report, SCHEMA};
    use crate::uncertainty::Percentiles;
    use proptest::prelude::*;
    use serde_json::json;

    fn cmp(other: &serde_json::Value) -> Result<Comparison, CompareError> {
        read(other, "o.json").and_then(|o| compare(&estimate(), &o, "o.json"))
    }

    fn estimate() -> Report {
        Report {
            kind: crate::result::ReportKind::Fleet,
            figures: vec![
                (
                    Figure::ItEnergy,
                    Percentiles {
                        p5: 1.0,
                        p50: 2.0,
                        p95: 3.0,
                    },
                ),
                (Figure::Water, Percentiles::point(5.0)),
            ],
            steps: Vec::new(),
            assumptions: Vec::new(),
            published: Vec::new(),
            notes: Vec::new(),
            samples: 1,
            seed: 0,
            currency: "USD".into(),
            intensity_scope: String::new(),
            carbon_basis: crate::grid::CarbonBasis::Annual,
            equivalents: Vec::new(),
            details: crate::result::Details::default(),
            method: crate::energy::Method::Modelled,
            components: Vec::new(),
        }
    }

    proptest! {
        /// Any three numbers in the other file: compared as given when they are an ordered,
        /// non-negative P5/P50/P95, otherwise refused naming the file and the key; never a row
        /// with a negative or reversed range.
        #[test]
        fn the_other_files_figures_are_compared_only_when_valid(
            p5 in -10.0f64..10.0, p50 in -10.0f64..10.0, p95 in -10.0f64..10.0
        ) {
            let other = json!({
                "schema": SCHEMA, "kind": "run", "method": "measured",
                "it_energy_kwh": {"p5": p5, "p50": p50, "p95": p95},
                "water_l": {"p5": 5.0, "p50": 5.0, "p95": 5.0},
            });
            let valid = p5 >= 0.0 && p5 <= p50 && p50 <= p95;
            match cmp(&other) {
                Ok(c) => {
                    prop_assert!(valid);
                    prop_assert_eq!(&c.rows[0].other, &Percentiles { p5, p50, p95 });
                }
                Err(e @ CompareError::Invalid { .. }) => {
                    prop_assert!(!valid);
                    let m = e.to_string();
                    prop_assert!(m.contains("o.json") && m.contains("it_energy_kwh"), "{}", m);
                }
                Err(e) => prop_assert!(false, "{}", e),
            }
        }
    }

    #[test]
    fn a_figure_the_file_lacks_is_named_in_a_note() {
        let other = json!({"schema": SCHEMA, "kind": "train", "method": "modelled",
                           "it_energy_kwh": {"p5": 1.0, "p50": 2.0, "p95": 3.0}});
        let c = cmp(&other).expect("compares");
        assert_eq!((c.kind.as_str(), c.method.as_str()), ("train", "modelled"));
        assert_eq!(c.rows.len(), 1);
        assert!(
            c.notes.iter().any(|n| n.contains("water consumed")),
            "{:?}",
            c.notes
        );
    }

    #[test]
    fn a_file_with_figures_but_no_kind_is_refused_naming_it() {
        let other = json!({"schema": SCHEMA, "it_energy_kwh": {"p5": 1.0, "p50": 2.0, "p95": 3.0}});
        let e = cmp(&other).expect_err("no kind");
        assert!(matches!(e, CompareError::Unreadable(..)), "{e}");
        assert!(
            e.to_string().contains("o.json") && e.to_string().contains("kind"),
            "{e}"
        );
        // Nothing at all to compare is said as such.
        let empty = json!({"schema": SCHEMA});
        assert!(matches!(cmp(&empty), Err(CompareError::Nothing(_))));
    }

    #[test]
    fn a_ratio_to_a_zero_or_subnormal_figure_is_left_out_not_infinite() {
        assert_eq!(ratio(2.0, 4.0), Some(0.5));
        assert_eq!(ratio(2.0, 0.0), None);
        assert_eq!(ratio(2.0, 5e-324), None);
        assert_eq!(ratio(0.0, 0.0), None);
    }
}
