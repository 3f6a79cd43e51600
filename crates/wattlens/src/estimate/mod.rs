//! Estimation models (training, inference, fleet, data centre, failures) and the Monte Carlo runner that
//! evaluates them; each model calls the accounting core ([`crate::footprint::account`]) itself
//! with its IT energy (moving that call into the runner is issue 8's work).
//!
//! A model is straight-line code over [`Draw`]n inputs: it is evaluated once at the central
//! values to record the explanation, then `samples` times to get P5/P50/P95. Point inputs need
//! one evaluation and give point outputs.

pub mod datacenter;
pub mod failures;
pub mod fleet;
pub mod infer;
pub mod power;
pub mod resolve;
pub mod site;
pub mod train;

use crate::catalog::CatalogError;
use crate::energy::Method;
use crate::explain::{Assumption, NoTrace, Step, StepSink, Steps};
use crate::figure::{Figure, Group};
use crate::footprint::{Site, COMPONENTS};
use crate::record::Record;
use crate::uncertainty::{Draw, Percentiles, Rng, DEFAULT_SAMPLES, DEFAULT_SEED};
use crate::units::HOURS_PER_YEAR;
use serde_json::{json, Map, Value};

/// The JSON schema id of an estimate or a measured run.
pub const SCHEMA: &str = "wattlens.footprint/v1";

/// Errors of resolving and running an estimate; each names the flag or input at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EstimateError {
    /// A catalog lookup failed.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// An input is out of its domain.
    #[error("{flag}: {message}")]
    Invalid {
        /// The flag (`--gpus`).
        flag: &'static str,
        /// What is wrong and what to do.
        message: String,
    },
    /// Two inputs contradict each other.
    #[error("{a} and {b} cannot be used together: {why}")]
    Conflict {
        /// First flag.
        a: &'static str,
        /// Second flag.
        b: &'static str,
        /// Which to keep.
        why: &'static str,
    },
    /// Something the model needs is missing.
    #[error("missing input: {0}")]
    Missing(String),
    /// A name a flag gave is not in the catalog.
    #[error("{flag}: {source}")]
    UnknownName {
        /// The flag that gave the name (`--gpu`).
        flag: &'static str,
        /// The lookup error, with the closest names.
        source: CatalogError,
    },
    /// Inputs that cannot all hold at once (a run that could never finish).
    #[error("{} disagree: {message}", flags.join(", "))]
    Disagree {
        /// The flags whose values disagree.
        flags: Vec<&'static str>,
        /// Why, and what to change.
        message: String,
    },
}

impl EstimateError {
    /// Names `flag` on an unknown-name error of a lookup of the name `flag` gave; other
    /// catalog errors pass through.
    #[must_use]
    pub fn from_flag(flag: &'static str, e: CatalogError) -> Self {
        match e {
            e @ CatalogError::Unknown { .. } => Self::UnknownName { flag, source: e },
            e => Self::Catalog(e),
        }
    }
}

/// How many samples and which seed.
#[derive(Clone, Copy, Debug)]
pub struct McOptions {
    /// Monte Carlo samples (when any input is a range).
    pub samples: usize,
    /// Seed of the generator.
    pub seed: u64,
    /// Threads for runs of 20,000 samples or more (1 or 2); the output does not depend on it.
    pub threads: usize,
}

impl Default for McOptions {
    fn default() -> Self {
        Self {
            samples: DEFAULT_SAMPLES,
            seed: DEFAULT_SEED,
            threads: 2,
        }
    }
}

/// A model the runner can evaluate.
pub trait Evaluate {
    /// `train`, `fleet`, `datacenter` ...
    fn kind(&self) -> &'static str;
    /// The site the energy is accounted at.
    fn site(&self) -> &Site;
    /// One evaluation: draws inputs, puts figures (including the footprint) into `rec`.
    fn evaluate<T: StepSink>(&self, d: &mut Draw, t: &mut T, rec: &mut Record<'_>);
}

/// A published figure shown beside the estimate.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Published {
    /// Which figure (`training energy`).
    pub name: String,
    /// Its value.
    pub value: f64,
    /// Unit.
    pub unit: String,
    /// The estimate's P50 in the same unit, when comparable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimate_p50: Option<f64>,
    /// What the figure covers and where it comes from.
    pub source: String,
}

/// One component of IT energy as the JSON lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct ComponentInfo {
    /// Its figure (`component.host`).
    pub key: Figure,
    /// Display name.
    pub name: &'static str,
    /// `accelerator`, `host` or `server`.
    pub kind: &'static str,
    /// How its energy was obtained.
    pub method: Method,
}

/// The result of an estimate: figures as percentiles, the explanation and the assumptions.
#[derive(Clone, Debug)]
pub struct Estimate {
    /// `train`, `fleet`, `datacenter`.
    pub kind: &'static str,
    /// Figures by key (`facility_energy_kwh`), in model order.
    pub figures: Vec<(Figure, Percentiles)>,
    /// Steps at the central inputs.
    pub steps: Vec<Step>,
    /// Inputs and their origins.
    pub assumptions: Vec<Assumption>,
    /// Published figures for comparison.
    pub published: Vec<Published>,
    /// Warnings worth printing (e.g. a rack too dense for the chosen cooling).
    pub notes: Vec<String>,
    /// Evaluations made (1 when every input is a point).
    pub samples: usize,
    /// Seed used.
    pub seed: u64,
    /// Currency of `cost`.
    pub currency: String,
    /// Scope of the location-based intensity.
    pub intensity_scope: String,
    /// Whether carbon used an annual intensity or a series (`carbon_basis`).
    pub carbon_basis: crate::grid::CarbonBasis,
    /// Descriptions of the equivalents: (key, label, unit, source).
    pub equivalents: Vec<(Figure, String, &'static str, String)>,
    /// What the result says about its kind (model, accelerator, rack advice, a run's exit code ...).
    pub details: crate::result::Details,
    /// How the IT energy was obtained as a whole: the least direct method of its components
    /// (`modelled` for every estimate).
    pub method: Method,
    /// The components of IT energy, with their methods.
    pub components: Vec<ComponentInfo>,
}

impl Estimate {
    /// A figure's percentiles by key.
    #[must_use]
    pub fn get(&self, key: Figure) -> Option<Percentiles> {
        self.figures
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, p)| *p)
    }

    /// Names of the figures, steps and published comparisons that are not finite numbers (an
    /// input so extreme that the model overflowed): a result with any is not to be printed.
    #[must_use]
    pub fn non_finite(&self) -> Vec<String> {
        let finite = |p: &Percentiles| p.p5.is_finite() && p.p50.is_finite() && p.p95.is_finite();
        let mut bad: Vec<String> = self
            .figures
            .iter()
            .filter(|(_, p)| !finite(p))
            .map(|(k, _)| k.key().to_string())
            .collect();
        bad.extend(
            self.steps
                .iter()
                .filter(|s| !s.value.is_finite())
                .map(|s| format!("step {}", s.name)),
        );
        bad.extend(
            self.published
                .iter()
                .filter(|p| !p.value.is_finite() || p.estimate_p50.is_some_and(|x| !x.is_finite()))
                .map(|p| format!("published {}", p.name)),
        );
        bad.extend(self.details.non_finite());
        bad
    }

    /// The flags the user gave, as the assumptions record them (`--days`, `--gpus` ...): the
    /// likely culprits when a figure is not finite.
    #[must_use]
    pub fn user_flags(&self) -> Vec<String> {
        let mut flags: Vec<String> = self
            .assumptions
            .iter()
            .filter(|a| a.origin == crate::explain::Origin::User)
            .filter_map(|a| a.source.clone())
            .filter(|s| s.starts_with("--"))
            .collect();
        flags.dedup();
        flags
    }

    /// The `wattlens.footprint/v1` JSON object.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut o = Map::new();
        o.insert("schema".into(), json!(SCHEMA));
        o.insert("kind".into(), json!(self.kind));
        o.insert("method".into(), json!(self.method.as_str()));
        for (k, p) in &self.figures {
            if k.group() != Group::Table {
                continue;
            }
            let mut v = json!(p);
            if *k == Figure::Cost {
                v["currency"] = json!(self.currency);
            }
            o.insert(k.key().to_string(), v);
        }
        o.insert("intensity_scope".into(), json!(self.intensity_scope));
        o.insert("carbon_basis".into(), json!(self.carbon_basis));
        let comps: Vec<Value> = self
            .components
            .iter()
            .filter_map(|c| {
                self.get(c.key).map(|p| {
                    json!({"name": c.name, "kind": c.kind, "method": c.method.as_str(),
                           "energy_kwh": p})
                })
            })
            .collect();
        o.insert("components".into(), Value::Array(comps));
        let eqs: Vec<Value> = self
            .equivalents
            .iter()
            .filter_map(|(key, label, unit, source)| {
                self.get(*key).map(|p| {
                    json!({"name": key.key().trim_start_matches("eq."), "description": label, "unit": unit,
                           "value": p, "source": source})
                })
            })
            .collect();
        o.insert("equivalents".into(), Value::Array(eqs));
        if !self.published.is_empty() {
            o.insert("published".into(), json!(self.published));
        }
        if let Ok(Value::Object(details)) = serde_json::to_value(&self.details) {
            o.extend(details);
        }
        o.insert("assumptions".into(), json!(self.assumptions));
        o.insert("steps".into(), json!(self.steps));
        o.insert("notes".into(), json!(self.notes));
        o.insert("samples".into(), json!(self.samples));
        o.insert("seed".into(), json!(self.seed));
        Value::Object(o)
    }
}

/// Below this many samples one thread samples and summarises: a second thread costs more to
/// start than it saves.
const PARALLEL_FROM: usize = 20_000;

/// Runs a resolved estimate and fills in its published comparisons, notes and extra output.
#[must_use]
pub fn run_resolved<M: Evaluate + Sync>(r: resolve::Resolved<M>, opts: McOptions) -> Estimate {
    let mut e = run(&r.spec, opts, r.assumptions);
    e.published = r
        .published
        .into_iter()
        .map(|(key, scale, mut p)| {
            p.estimate_p50 = key.and_then(|k| e.get(k)).map(|x| x.p50 * scale);
            p
        })
        .collect();
    e.notes = r.notes;
    e.notes.extend(site::fallback_notes(&e.assumptions));
    e.details = r.details;
    zero_embodied_note(&mut e);
    // A CPU-only estimate has no accelerator component (rather than one of 0 kWh).
    let no_accel = e
        .get(Figure::ComponentAccelerators)
        .is_some_and(|p| p.p5 == 0.0 && p.p95 == 0.0);
    if no_accel {
        e.components.retain(|c| c.kind != "accelerator");
        e.figures
            .retain(|(k, _)| *k != Figure::ComponentAccelerators);
    }
    e
}

/// Says in the output when embodied carbon is 0 although energy is used: the estimate knows
/// no hardware (only a power or an energy), so manufacturing emissions are left out.
fn zero_embodied_note(e: &mut Estimate) {
    let zero = e.get(Figure::EmbodiedCarbon).is_some_and(|p| p.p95 == 0.0);
    let used = e.get(Figure::FacilityEnergy).is_some_and(|p| p.p50 > 0.0);
    if zero && used && !e.notes.iter().any(|n| n.contains("embodied carbon")) {
        e.notes.push("embodied carbon is 0: this estimate knows no servers or accelerators (only a power or an energy), so the hardware's manufacturing emissions are left out; give --servers with --server or --server-power to count them".into());
    }
}

/// Evaluates `model`: once at the central values with the explanation, then `opts.samples`
/// times unless every input is a point. Large runs are split between two threads; the second
/// starts from the generator jumped ahead by the draws of the first, so the samples (and so the
/// output) are the same as from one thread.
#[must_use]
pub fn run<M: Evaluate + Sync>(
    model: &M,
    opts: McOptions,
    assumptions: Vec<Assumption>,
) -> Estimate {
    let mut steps = Steps::default();
    let mut central = Record::central();
    let mut d = Draw::Central { uncertain: 0 };
    model.evaluate(&mut d, &mut steps, &mut central);
    let draws = match d {
        Draw::Central { uncertain } => uncertain,
        Draw::Random(_) => 0,
    };
    // Homes "powered for the same period" means little for a period under an hour (a single
    // request, a short command): that equivalent is left out then. The period comes back from
    // the central figures (homes = E_fac / (kWh per home-year x years)).
    let short_period = match (
        central.central_value(Figure::EqUsHomes),
        central.central_value(Figure::FacilityEnergy),
    ) {
        (Some(homes), Some(e_fac)) if homes > 0.0 => {
            e_fac / (homes * model.site().home_kwh_per_year.range.mid()) * HOURS_PER_YEAR < 1.0
        }
        _ => false,
    };
    let (figures, samples) = if draws > 0 && opts.samples > 1 {
        let keys = match &central {
            Record::Central { keys, .. } => keys.clone(),
            Record::Rows { .. } => Vec::new(),
        };
        let n = opts.samples;
        // One zeroed allocation per column (lazily mapped), filled by the threads that write it.
        let mut data: Vec<Vec<u32>> = (0..keys.len()).map(|_| vec![0u32; n]).collect();
        let split = if n >= PARALLEL_FROM && opts.threads > 1 {
            n / 2
        } else {
            n
        };
        let rng = Rng::new(opts.seed);
        let (first, second): (Vec<&mut [u32]>, Vec<&mut [u32]>) =
            data.iter_mut().map(|c| c.split_at_mut(split)).unzip();
        let fill = |cols: Vec<&mut [u32]>, rng: Rng, count: usize| {
            let mut d = Draw::Random(rng);
            let mut rec = Record::Rows {
                cols,
                row: 0,
                cursor: 0,
            };
            for _ in 0..count {
                model.evaluate(&mut d, &mut NoTrace, &mut rec);
                rec.end_sample();
            }
        };
        std::thread::scope(|s| {
            let jumped = rng.jumped((split * draws) as u64);
            if n > split {
                s.spawn(move || fill(second, jumped, n - split));
            }
            fill(first, rng, split);
        });
        (
            crate::record::summarise(&keys, &mut data, opts.threads > 1 && n >= PARALLEL_FROM),
            n,
        )
    } else {
        (central.into_points(), 1)
    };
    let site = model.site();
    let figures = figures
        .into_iter()
        .map(|(k, p)| (k, unsigned_zero(p)))
        .collect();
    Estimate {
        kind: model.kind(),
        figures,
        steps: steps.0,
        assumptions,
        published: Vec::new(),
        notes: Vec::new(),
        samples,
        seed: opts.seed,
        currency: site.currency.clone(),
        intensity_scope: site.intensity_scope.clone(),
        carbon_basis: crate::grid::CarbonBasis::Annual,
        equivalents: equivalents(site)
            .into_iter()
            .filter(|(key, ..)| !(short_period && *key == Figure::EqUsHomes))
            .collect(),
        details: crate::result::Details::default(),
        method: Method::Modelled,
        components: COMPONENTS
            .iter()
            .map(|(key, kind)| ComponentInfo {
                key: *key,
                name: key.label(),
                kind: kind.as_str(),
                method: Method::Modelled,
            })
            .collect(),
    }
}

/// A figure of exactly zero is written `0`, never `-0` (a product with a negative zero): adding
/// `+0.0` turns `-0.0` into `0.0` and leaves every other value as it is.
fn unsigned_zero(p: Percentiles) -> Percentiles {
    Percentiles {
        p5: p.p5 + 0.0,
        p50: p.p50 + 0.0,
        p95: p.p95 + 0.0,
    }
}

fn equivalents(site: &Site) -> Vec<(Figure, String, &'static str, String)> {
    let mut v = vec![
        (
            Figure::EqUsHomes,
            Figure::EqUsHomes.label().to_string(),
            Figure::EqUsHomes.unit(),
            site.home_kwh_per_year.source.clone(),
        ),
        (
            Figure::EqCarKm,
            Figure::EqCarKm.label().to_string(),
            Figure::EqCarKm.unit(),
            site.car_g_per_km.source.clone(),
        ),
        (
            Figure::EqPhoneCharges,
            Figure::EqPhoneCharges.label().to_string(),
            Figure::EqPhoneCharges.unit(),
            site.phone_charge_g.source.clone(),
        ),
    ];
    if let Some((country, _)) = &site.country_annual_kwh {
        v.push((
            Figure::EqCountryShare,
            format!(
                "share of {country}'s annual electricity generation (annualised facility energy)"
            ),
            Figure::EqCountryShare.unit(),
            "Ember; Our World in Data (via mlco2/codecarbon global_energy_mix.json)".to_string(),
        ));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_negative_zero_figure_is_written_as_zero() {
        let p = unsigned_zero(Percentiles {
            p5: -0.0,
            p50: -0.0,
            p95: 2.5,
        });
        assert!(p.p5.is_sign_positive() && p.p50.is_sign_positive());
        assert_eq!(p.p95, 2.5);
        assert_eq!(
            serde_json::to_string(&p).ok().as_deref(),
            Some(r#"{"p5":0.0,"p50":0.0,"p95":2.5}"#)
        );
    }
}
