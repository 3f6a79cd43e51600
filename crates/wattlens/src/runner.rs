//! The Monte Carlo runner and the model trait: a model ([`Evaluate`]) draws its inputs and
//! returns its IT energy and busy hardware; the runner accounts it ([`footprint::account`],
//! once per evaluation), adds the equivalents, and hands the footprint back to the model for
//! the figures derived from it. Estimates and measured runs both go through here.
//!
//! A model is straight-line code over [`Draw`]n inputs: it is evaluated once at the central
//! values to record the explanation, then `samples` times to get P5/P50/P95. Point inputs need
//! one evaluation and give point outputs. [`paired`] evaluates several models on the same
//! draws and reduces their per-sample differences.

use crate::energy::Method;
use crate::equivalents;
use crate::explain::{Assumption, NoTrace, StepSink, Steps};
use crate::figure::Figure;
use crate::footprint::{self, Busy, Footprint, ItEnergy, Site, COMPONENTS};
use crate::record::Record;
use crate::result::{ComponentInfo, Details, Report, ReportKind};
use crate::uncertainty::{
    order_key32, Draw, Percentiles, Sample, Stage, DEFAULT_SAMPLES, DEFAULT_SEED,
};
use crate::units::Hours;

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

/// What one evaluation of a model uses: its IT energy, the hardware it keeps busy, and the
/// model's own state for [`Evaluate::finish`].
#[derive(Clone, Debug)]
pub struct Usage<S> {
    /// IT energy by component.
    pub it: ItEnergy,
    /// The hardware kept busy and for how long.
    pub busy: Busy,
    /// What the model needs again once the footprint is known.
    pub state: S,
}

/// A model the runner can evaluate.
pub trait Evaluate {
    /// What an evaluation carries from [`Evaluate::evaluate`] to [`Evaluate::finish`].
    type State;
    /// What it is of (`train`, `run` ...).
    fn kind(&self) -> ReportKind;
    /// The site the energy is accounted at.
    fn site(&self) -> &Site;
    /// The footprint's components of IT energy that are figures of the result (all of
    /// [`COMPONENTS`] unless the model lists its own).
    fn components(&self) -> &'static [Figure] {
        &[
            Figure::ComponentAccelerators,
            Figure::ComponentHost,
            Figure::ComponentRest,
        ]
    }
    /// Draws the model's inputs, writes its steps, may put figures of its own (before the
    /// footprint's), and returns its IT energy and busy hardware. The draws and figures must be
    /// the same in number and order for every evaluation.
    fn evaluate<T: StepSink>(
        &self,
        d: &mut Draw,
        t: &mut T,
        rec: &mut Record<'_>,
    ) -> Usage<Self::State>;
    /// Puts the figures derived from the footprint (facility power, per-request figures ...),
    /// after the footprint's and the equivalents'. Draws nothing.
    fn finish<T: StepSink>(
        &self,
        state: Self::State,
        fp: &Footprint,
        t: &mut T,
        rec: &mut Record<'_>,
    );
}

/// One evaluation: the model, the accounting (once), the equivalents, the model's derived
/// figures. Returns the footprint. A Monte Carlo evaluation is given its [`Sample`]: each stage
/// draws from that sample's own generator of the stage (the central one counts in `d`).
#[inline]
pub(crate) fn evaluate_once<M: Evaluate, T: StepSink>(
    model: &M,
    d: &mut Draw,
    sample: Option<Sample>,
    t: &mut T,
    rec: &mut Record<'_>,
) -> Footprint {
    let stage = |d: &mut Draw, s: Stage| {
        if let Some(sample) = sample {
            *d = sample.draw(s);
        }
    };
    stage(d, Stage::Model);
    let u = model.evaluate(d, t, rec);
    stage(d, Stage::Site);
    let fp = footprint::account(model.site(), d, t, &u.it, &u.busy);
    fp.put(model.components(), rec);
    stage(d, Stage::Equivalents);
    equivalents::put(model.site(), d, &fp, rec);
    model.finish(u.state, &fp, t, rec);
    fp
}

/// Below this many samples one thread samples and summarises: a second thread costs more to
/// start than it saves.
const PARALLEL_FROM: usize = 20_000;

/// Evaluates `model`: once at the central values with the explanation, then `opts.samples`
/// times unless every input is a point. Large runs are split between two threads; each sample
/// draws from its own generators ([`Sample`]), so the samples (and so the output) are the same
/// as from one thread.
#[must_use]
pub fn run<M: Evaluate + Sync>(model: &M, opts: McOptions, assumptions: Vec<Assumption>) -> Report {
    run_keeping(model, opts, assumptions, &[]).0
}

/// The samples of some figures of a [`run`], as the runner keeps them (`f32` order keys,
/// [`crate::uncertainty::order_key32`]): sample `i` of every column is sample `i` of the run,
/// drawn from [`Sample`]`(seed, i)`. A run of point inputs has one value per column (every
/// sample would give it).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Columns {
    /// The figures kept, in the order asked (those the model puts).
    pub figures: Vec<Figure>,
    /// One column per figure.
    pub cols: Vec<Vec<u32>>,
}

/// [`run`], also keeping the samples of the figures `keep` (those the model puts) before they
/// are reduced: what paired comparisons of runs on the same seed need ([`crate::vary`]).
#[must_use]
pub fn run_keeping<M: Evaluate + Sync>(
    model: &M,
    opts: McOptions,
    assumptions: Vec<Assumption>,
    keep: &[Figure],
) -> (Report, Columns) {
    let mut kept = Columns::default();
    let mut steps = Steps::default();
    let mut central = Record::central();
    let mut d = Draw::Central { uncertain: 0 };
    let fp = evaluate_once(model, &mut d, None, &mut steps, &mut central);
    let draws = match d {
        Draw::Central { uncertain } => uncertain,
        Draw::Random(_) => 0,
    };
    // Homes "powered for the same period" means little for a period under an hour (a single
    // request, a short command): that equivalent is left out then (it is only put for a
    // positive period and facility energy).
    let short_period = fp.busy.period.0 > 0.0 && fp.busy.period.0 < 1.0 && fp.facility.0 > 0.0;
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
        let (first, second): (Vec<&mut [u32]>, Vec<&mut [u32]>) =
            data.iter_mut().map(|c| c.split_at_mut(split)).unzip();
        let fill = |cols: Vec<&mut [u32]>, samples: std::ops::Range<usize>| {
            let mut d = Draw::Central { uncertain: 0 };
            let mut rec = Record::Rows {
                cols,
                row: 0,
                cursor: 0,
            };
            for i in samples {
                let sample = Sample::new(opts.seed, i as u64);
                let _ = evaluate_once(model, &mut d, Some(sample), &mut NoTrace, &mut rec);
                rec.end_sample();
            }
        };
        std::thread::scope(|s| {
            if n > split {
                s.spawn(move || fill(second, split..n));
            }
            fill(first, 0..split);
        });
        for f in keep {
            if let Some(i) = keys.iter().position(|k| k == f) {
                kept.figures.push(*f);
                kept.cols.push(data[i].clone());
            }
        }
        (
            crate::record::summarise(&keys, &mut data, opts.threads > 1 && n >= PARALLEL_FROM),
            n,
        )
    } else {
        if let Record::Central { keys, values } = &central {
            for f in keep {
                if let Some(i) = keys.iter().position(|k| k == f) {
                    kept.figures.push(*f);
                    kept.cols.push(vec![order_key32(values[i])]);
                }
            }
        }
        (central.into_points(), 1)
    };
    let site = model.site();
    let figures = figures
        .into_iter()
        .map(|(k, p)| (k, unsigned_zero(p)))
        .collect();
    let report = Report {
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
        carbon_basis: if site.series.is_some() {
            crate::grid::CarbonBasis::Series
        } else {
            crate::grid::CarbonBasis::Annual
        },
        equivalents: equivalents::describe(site, short_period),
        details: Details::default(),
        method: Method::Modelled,
        components: COMPONENTS
            .iter()
            .map(|(key, kind)| ComponentInfo::new(*key, *kind, Method::Modelled))
            .collect(),
    };
    (report, kept)
}

/// The busy periods of the evaluations [`run`] makes with the same options: the central one,
/// and the shortest and longest over the samples (the central one alone when every input is a
/// point). A series laid under the work must cover the longest; the draws are those of `run`
/// only when the site draws alike in both (a series changes no draw count, see
/// [`crate::grid::SeriesMean::apply`]).
#[must_use]
pub fn periods<M: Evaluate>(model: &M, opts: McOptions) -> Periods {
    let mut none = Record::Rows {
        cols: Vec::new(),
        row: 0,
        cursor: 0,
    };
    let mut d = Draw::Central { uncertain: 0 };
    let central = evaluate_once(model, &mut d, None, &mut NoTrace, &mut none)
        .busy
        .period;
    let draws = match d {
        Draw::Central { uncertain } => uncertain,
        Draw::Random(_) => 0,
    };
    let mut out = Periods {
        central,
        shortest: central,
        longest: central,
    };
    if draws > 0 && opts.samples > 1 {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for i in 0..opts.samples {
            let sample = Some(Sample::new(opts.seed, i as u64));
            let p = evaluate_once(model, &mut d, sample, &mut NoTrace, &mut none)
                .busy
                .period
                .0;
            lo = lo.min(p);
            hi = hi.max(p);
            none.end_sample();
        }
        out.shortest = Hours(lo);
        out.longest = Hours(hi);
    }
    out
}

/// Busy periods of a model's evaluations ([`periods`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Periods {
    /// The central evaluation's.
    pub central: Hours,
    /// The shortest over the samples.
    pub shortest: Hours,
    /// The longest over the samples.
    pub longest: Hours,
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

/// Per-sample differences of models evaluated on the same draws, as percentiles.
#[derive(Clone, Debug, PartialEq)]
pub struct Differences {
    /// Samples evaluated (1 when every input of every model is a point).
    pub samples: usize,
    /// For each model after the first: `(figure, percentiles of model - first)` for every
    /// figure both put, in the first model's order.
    pub against_first: Vec<Vec<(Figure, Percentiles)>>,
}

/// Evaluates `models` on the same random draws: sample `i` of every model draws from the same
/// [`Sample`] (so the first model's samples are those [`run`] draws), and the per-sample
/// differences of each model from the first are reduced to P5/P50/P95. A model against itself
/// differs by exactly 0 in every sample; what-if comparisons (another PUE, another grid) get
/// their differences as ranges.
#[must_use]
pub fn paired<M: Evaluate>(models: &[&M], opts: McOptions) -> Differences {
    let Some((first, others)) = models.split_first() else {
        return Differences {
            samples: 0,
            against_first: Vec::new(),
        };
    };
    // Whether anything is uncertain, in any model.
    let uncertain = models.iter().any(|m| {
        let mut d = Draw::Central { uncertain: 0 };
        let _ = evaluate_once(*m, &mut d, None, &mut NoTrace, &mut Record::central());
        matches!(d, Draw::Central { uncertain } if uncertain > 0)
    });
    let n = if uncertain && opts.samples > 1 {
        opts.samples
    } else {
        1
    };
    let mut keys: Vec<Vec<Figure>> = Vec::new();
    let mut cols: Vec<Vec<Vec<f64>>> = Vec::new();
    let sample = |m: &M, i: usize| {
        let mut rec = Record::central();
        let mut d = Draw::Central { uncertain: 0 };
        let s = (n > 1).then(|| Sample::new(opts.seed, i as u64));
        let _ = evaluate_once(m, &mut d, s, &mut NoTrace, &mut rec);
        match rec {
            Record::Central { keys, values } => (keys, values),
            Record::Rows { .. } => (Vec::new(), Vec::new()),
        }
    };
    for i in 0..n {
        let (base_keys, base) = sample(first, i);
        for (j, other) in others.iter().enumerate() {
            let (k, v) = sample(other, i);
            if i == 0 {
                let shared: Vec<Figure> = base_keys
                    .iter()
                    .copied()
                    .filter(|f| k.contains(f))
                    .collect();
                cols.push(shared.iter().map(|_| vec![0.0; n]).collect());
                keys.push(shared);
            }
            for (c, f) in keys[j].iter().enumerate() {
                let a = base_keys.iter().position(|x| x == f).map(|p| base[p]);
                let b = k.iter().position(|x| x == f).map(|p| v[p]);
                if let (Some(a), Some(b)) = (a, b) {
                    cols[j][c][i] = b - a;
                }
            }
        }
    }
    let against_first = keys
        .into_iter()
        .zip(cols)
        .map(|(keys, cols)| {
            if n == 1 {
                return keys
                    .into_iter()
                    .zip(cols)
                    .map(|(f, c)| (f, unsigned_zero(Percentiles::point(c[0]))))
                    .collect();
            }
            // Reduced as the runner reduces its columns (f32 order keys), so a difference
            // that equals a figure has that figure's percentiles.
            let mut cols: Vec<Vec<u32>> = cols
                .into_iter()
                .map(|c| c.into_iter().map(order_key32).collect())
                .collect();
            crate::record::summarise(&keys, &mut cols, false)
                .into_iter()
                .map(|(f, p)| (f, unsigned_zero(p)))
                .collect()
        })
        .collect();
    Differences {
        samples: n,
        against_first,
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::uncertainty::Range;

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

    fn fleet(pue: Range) -> crate::estimate::fleet::FleetSpec {
        use crate::estimate::fleet::{FleetSpec, Load};
        use crate::estimate::power::Split;
        let mut site = crate::footprint::tests_support::site();
        site.pue = crate::footprint::Param::new(pue, "test");
        FleetSpec {
            load: Load::Servers {
                servers: Range::new(100.0, 200.0),
                server_w: Range::point(6500.0),
                load: Range::new(0.5, 1.0),
                accelerators_per_server: Range::point(8.0),
            },
            hours: Range::point(24.0),
            split: Split::Fractions {
                accel: 0.5,
                host: Range::point(0.1),
            },
            site,
        }
    }

    const OPTS: McOptions = McOptions {
        samples: 2_000,
        seed: 7,
        threads: 1,
    };

    #[test]
    fn a_model_against_itself_differs_by_zero() {
        let m = fleet(Range::new(1.1, 1.6));
        let d = paired(&[&m, &m], OPTS);
        assert_eq!(d.samples, 2_000);
        assert_eq!(d.against_first.len(), 1);
        assert!(d.against_first[0].len() > 10);
        for (f, p) in &d.against_first[0] {
            assert_eq!((p.p5, p.p50, p.p95), (0.0, 0.0, 0.0), "{f}");
        }
    }

    #[test]
    fn doubling_the_pue_adds_the_baseline_facility_energy() {
        // E_fac' - E_fac = E_it x 2 PUE - E_it x PUE = E_fac, sample by sample.
        let base = fleet(Range::new(1.1, 1.6));
        let twice = fleet(Range::new(2.2, 3.2));
        let d = paired(&[&base, &twice], OPTS);
        let diff = d.against_first[0]
            .iter()
            .find(|(f, _)| *f == Figure::FacilityEnergy)
            .map(|(_, p)| *p);
        let alone = run(&base, OPTS, vec![]).get(Figure::FacilityEnergy);
        assert!(alone.is_some_and(|p| p.p5 < p.p95));
        assert_eq!(diff, alone);
        // IT energy does not depend on the PUE.
        let it = d.against_first[0]
            .iter()
            .find(|(f, _)| *f == Figure::ItEnergy)
            .map(|(_, p)| *p);
        assert_eq!(it, Some(Percentiles::point(0.0)));
    }

    #[test]
    fn a_range_made_a_point_keeps_the_other_draws() {
        // Hours 20..28 against exactly 24, drawn first; servers (100..200) and load (0.5..1)
        // drawn alike in both: dE_it = (24 h - h) x s x 6.5 kW x load, so
        // |dE_it| <= 4 h x 200 x 6.5 kW x 1 = 5,200 kWh; with the PUE (<= 1.6) drawn alike,
        // |dE_fac| <= 5,200 x 1.6 = 8,320 kWh. Were the later draws shifted by the point, the
        // variant's servers and load would be redrawn: up to
        // (24 x 200 x 1 - 20 x 100 x 0.5) h x 6.5 kW = 24,700 kWh.
        let mut base = fleet(Range::new(1.1, 1.6));
        base.hours = Range::new(20.0, 28.0);
        let mut point = base.clone();
        point.hours = Range::point(24.0);
        let d = paired(&[&base, &point], OPTS);
        let get = |f: Figure| {
            d.against_first[0]
                .iter()
                .find(|(k, _)| *k == f)
                .map(|(_, p)| *p)
                .expect("figure")
        };
        let it = get(Figure::ItEnergy);
        assert!(it.p5 >= -5_200.0 && it.p95 <= 5_200.0, "{it:?}");
        assert!(it.p5 < -500.0 && it.p95 > 500.0, "{it:?}");
        let fac = get(Figure::FacilityEnergy);
        assert!(fac.p5 >= -8_320.0 && fac.p95 <= 8_320.0, "{fac:?}");
    }

    #[test]
    fn point_models_differ_by_one_exact_evaluation() {
        use crate::estimate::fleet::Load;
        let mut a = fleet(Range::point(1.5));
        a.load = Load::ItPower(Range::point(500.0));
        let mut b = a.clone();
        b.load = Load::ItPower(Range::point(1000.0));
        let d = paired(&[&a, &b], OPTS);
        assert_eq!(d.samples, 1);
        // (1000 W - 500 W) x 24 h = 12 kWh of IT energy
        let it = d.against_first[0]
            .iter()
            .find(|(f, _)| *f == Figure::ItEnergy)
            .map(|(_, p)| p.p50);
        assert_eq!(it, Some(12.0));
    }
}
