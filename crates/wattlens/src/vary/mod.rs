//! What-if variants: a baseline model and variants of it evaluated on the same random draws
//! (common random numbers, [`crate::uncertainty::Sample`]), so that each variant's change
//! against the baseline is a range of per-sample differences, and a verdict that holds only
//! when the whole range says so.
//!
//! Each variant changes inputs of the baseline; inputs it leaves alone take the same draw in
//! every sample (the draws of a stage are aligned by position, a point taking its uniform as a
//! range does), so a variant identical to the baseline differs by exactly 0 and a one-input
//! variant differs only by what that input moves.

pub mod text;

use crate::explain::NoTrace;
use crate::figure::Figure;
use crate::record::Record;
use crate::runner::{evaluate_once, Columns, Evaluate, McOptions};
use crate::uncertainty::{from_key32, order_key32, Draw, Percentiles, Sample};

/// The figures whose change against the baseline is reported, where both put them: energy,
/// carbon, water, cost and time (lower is better for all of them).
pub const CHANGE_FIGURES: [Figure; 9] = [
    Figure::FacilityEnergy,
    Figure::ItEnergy,
    Figure::Carbon,
    Figure::OperationalCarbon,
    Figure::EmbodiedCarbon,
    Figure::Water,
    Figure::Cost,
    Figure::Duration,
    Figure::EnergyPerRequest,
];

/// What the paired difference of a figure says, lower being better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// The whole range of differences is below zero.
    Better,
    /// The whole range is above zero.
    Worse,
    /// Every percentile of the difference is exactly zero.
    Same,
    /// The range of differences (P5..P95) holds zero.
    NotDistinguishable,
}

impl Verdict {
    /// The verdict on a difference `variant - baseline` of a figure where lower is better: the
    /// P95 below zero is better, the P5 above zero worse.
    #[must_use]
    pub fn of(d: &Percentiles) -> Self {
        if d.p5 == 0.0 && d.p50 == 0.0 && d.p95 == 0.0 {
            Verdict::Same
        } else if d.p95 < 0.0 {
            Verdict::Better
        } else if d.p5 > 0.0 {
            Verdict::Worse
        } else {
            Verdict::NotDistinguishable
        }
    }
    /// The word printed and serialised.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Better => "better",
            Verdict::Worse => "worse",
            Verdict::Same => "no change",
            Verdict::NotDistinguishable => "not distinguishable",
        }
    }
}

/// Each variant's change against the baseline: for every figure of [`CHANGE_FIGURES`] that
/// both put, the percentiles of `variant - baseline` over the same samples.
#[derive(Clone, Debug, PartialEq)]
pub struct Changes {
    /// Samples evaluated (1 when every input of every model is a point).
    pub samples: usize,
    /// One list per variant, in the order given.
    pub variants: Vec<Vec<(Figure, Percentiles)>>,
}

/// One evaluation's values of `figures` (NaN where the model puts none), into `out`.
fn values<M: Evaluate>(
    m: &M,
    sample: Option<Sample>,
    figures: &[Figure],
    rec: &mut (Vec<Figure>, Vec<f64>),
    out: &mut [f64],
) {
    let mut r = Record::Central {
        keys: std::mem::take(&mut rec.0),
        values: std::mem::take(&mut rec.1),
    };
    if let Record::Central { keys, values } = &mut r {
        keys.clear();
        values.clear();
    }
    let mut d = Draw::Central { uncertain: 0 };
    let _ = evaluate_once(m, &mut d, sample, &mut NoTrace, &mut r);
    if let Record::Central { keys, values } = r {
        for (o, f) in out.iter_mut().zip(figures) {
            *o = keys
                .iter()
                .position(|k| k == f)
                .map_or(f64::NAN, |p| values[p]);
        }
        *rec = (keys, values);
    }
}

/// Whether any input of `m` is a range.
fn uncertain<M: Evaluate>(m: &M) -> bool {
    let mut d = Draw::Central { uncertain: 0 };
    let _ = evaluate_once(m, &mut d, None, &mut NoTrace, &mut Record::central());
    matches!(d, Draw::Central { uncertain } if uncertain > 0)
}

/// Evaluates `baseline` and each of `variants` on the same draws (sample `i` of each is
/// [`Sample::new`]`(seed, i)`, the samples [`crate::runner::run`] draws) and reduces each
/// variant's per-sample differences from the baseline to P5/P50/P95 (as the runner reduces its
/// figures, so a difference that equals a figure has that figure's percentiles). Variants are
/// split between `opts.threads` (1 or 2) threads; the result does not depend on it.
#[must_use]
pub fn changes<M: Evaluate + Sync>(baseline: &M, variants: &[&M], opts: McOptions) -> Changes {
    let any = uncertain(baseline) || variants.iter().any(|m| uncertain(*m));
    let n = if any && opts.samples > 1 {
        opts.samples
    } else {
        1
    };
    let nf = CHANGE_FIGURES.len();
    let sample = |i: usize| (n > 1).then(|| Sample::new(opts.seed, i as u64));
    // The baseline's values, sample by sample.
    let mut base = vec![0.0; n * nf];
    let mut rec = (Vec::new(), Vec::new());
    for (i, row) in base.chunks_exact_mut(nf).enumerate() {
        values(baseline, sample(i), &CHANGE_FIGURES, &mut rec, row);
    }
    let one = |m: &M| -> Vec<(Figure, Percentiles)> {
        let mut rec = (Vec::new(), Vec::new());
        let mut row = vec![0.0; nf];
        let mut cols: Vec<Vec<u32>> = (0..nf).map(|_| Vec::with_capacity(n)).collect();
        let mut diffs: Vec<Vec<f64>> = (0..nf).map(|_| Vec::new()).collect();
        for (i, b) in base.chunks_exact(nf).enumerate() {
            values(m, sample(i), &CHANGE_FIGURES, &mut rec, &mut row);
            for (c, (v, b)) in row.iter().zip(b).enumerate() {
                let d = v - b;
                if n == 1 {
                    diffs[c].push(d);
                } else {
                    cols[c].push(order_key32(d));
                }
            }
        }
        let shown: Vec<usize> = (0..nf)
            .filter(|c| !row[*c].is_nan() && !base[*c].is_nan())
            .collect();
        if n == 1 {
            return shown
                .into_iter()
                .map(|c| (CHANGE_FIGURES[c], tidy(Percentiles::point(diffs[c][0]))))
                .collect();
        }
        let keys: Vec<Figure> = shown.iter().map(|c| CHANGE_FIGURES[*c]).collect();
        let mut kept: Vec<Vec<u32>> = shown
            .iter()
            .map(|c| std::mem::take(&mut cols[*c]))
            .collect();
        crate::record::summarise(&keys, &mut kept, false)
            .into_iter()
            .map(|(f, p)| (f, tidy(p)))
            .collect()
    };
    let half = if opts.threads > 1 && variants.len() > 1 {
        variants.len() / 2
    } else {
        0
    };
    let (a, b) = variants.split_at(half);
    let out = std::thread::scope(|s| {
        let h = (!a.is_empty()).then(|| s.spawn(|| a.iter().map(|m| one(m)).collect::<Vec<_>>()));
        let rest: Vec<_> = b.iter().map(|m| one(m)).collect();
        let mut first = h
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .unwrap_or_default();
        first.extend(rest);
        first
    });
    Changes {
        samples: n,
        variants: out,
    }
}

/// The changes of runs made on the same seed and samples ([`crate::runner::run_keeping`] with
/// [`CHANGE_FIGURES`]), without evaluating anything again: sample `i` of a variant's column
/// minus sample `i` of the baseline's, reduced to P5/P50/P95. The values are the runner's
/// (`f32`, 7 significant digits), so a variant identical to the baseline still changes by
/// exactly 0; [`changes`] evaluates in `f64`. A run of points (one value) stands for every
/// sample.
#[must_use]
pub fn changes_of(baseline: &Columns, variants: &[&Columns]) -> Changes {
    let len = |c: &Columns| c.cols.iter().map(Vec::len).max().unwrap_or(1);
    let n = std::iter::once(baseline)
        .chain(variants.iter().copied())
        .map(len)
        .max()
        .unwrap_or(1);
    let at = |col: &[u32], i: usize| f64::from(from_key32(col[if col.len() == 1 { 0 } else { i }]));
    let one = |v: &Columns| -> Vec<(Figure, Percentiles)> {
        let mut keys = Vec::new();
        let mut cols: Vec<Vec<u32>> = Vec::new();
        for f in CHANGE_FIGURES {
            let (Some(a), Some(b)) = (
                baseline.figures.iter().position(|k| *k == f),
                v.figures.iter().position(|k| *k == f),
            ) else {
                continue;
            };
            let (a, b) = (&baseline.cols[a], &v.cols[b]);
            keys.push(f);
            cols.push((0..n).map(|i| order_key32(at(b, i) - at(a, i))).collect());
        }
        crate::record::summarise(&keys, &mut cols, false)
            .into_iter()
            .map(|(f, p)| (f, tidy(p)))
            .collect()
    };
    Changes {
        samples: n,
        variants: variants.iter().map(|v| one(v)).collect(),
    }
}

/// `-0` written as `0` (a difference of two equal values times a negative factor).
fn tidy(p: Percentiles) -> Percentiles {
    Percentiles {
        p5: p.p5 + 0.0,
        p50: p.p50 + 0.0,
        p95: p.p95 + 0.0,
    }
}

#[cfg(test)]
mod tests;
