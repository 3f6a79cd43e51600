//! The calibrated prior of effective training utilisation: the implied utilisation of each
//! published run (`6 x active params x tokens / (accelerator-hours x dense BF16 peak)`), the
//! family split into calibration and held-back rows, the candidate forms of the conditional
//! prior (registered in docs/validation.md section 5 before any was fitted), their fit
//! (weighted least squares on `ln u`, each family weighing as one, with a Student-t prediction
//! interval for a new family's run) and the leave-one-family-out rule that chooses among them
//! (the registered, first-level rule; which form ships is decided in `choice.rs`).

use super::table::TrainingRun;
use crate::catalog::Catalog;
use crate::estimate::resolve::Precision;
use crate::estimate::utilisation::{hopper_or_later, ConditionalPrior, Covariates, Term};

/// Runs whose published accelerator-hours are a bound, not the run's logged time, with the
/// reason (the table README's "What the hours bill"): left out of the fit and the summaries.
/// OPT-175B was added with the second pass of the table (2026-11-26), before its implied
/// utilisation was computed: its ~33 days are the model card's conversion of the run's FLOPs
/// into "continuous training" at an assumed rate, not time the run took.
pub const HOURS_UPPER_BOUND: &[(&str, &str)] = &[
    (
        "glm-130b",
        "hours are 768 GPUs x the 60-day access window, an upper bound",
    ),
    (
        "opt-175b",
        "hours are the card's ~33 days of continuous training computed from the run's FLOPs \
         ('assuming no hardware issues'), a lower bound, not the run's time",
    ),
];

/// Which half of the family split a row is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Split {
    /// Fitted on.
    Calibration,
    /// Never seen by the shipped fit.
    HeldBack,
}

impl Split {
    /// The half of a family, by a fixed rule: the lowest bit of the 64-bit FNV-1a hash of the
    /// family name, 0 = calibration. Whole families go to one side; no row is placed by hand.
    #[must_use]
    pub fn of(family: &str) -> Self {
        if fnv1a(family) & 1 == 0 {
            Self::Calibration
        } else {
            Self::HeldBack
        }
    }
    /// `calibration` or `held-back`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Calibration => "calibration",
            Self::HeldBack => "held-back",
        }
    }
}

/// 64-bit FNV-1a (Fowler, Noll, Vo), over the name's bytes.
#[must_use]
pub fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A run the hours check can use: its implied effective utilisation.
#[derive(Clone, Debug)]
pub struct Implied<'a> {
    /// The run.
    pub run: &'a TrainingRun,
    /// Training FLOPs, `6 x active params x tokens`.
    pub flops: f64,
    /// Dense BF16 peak of one accelerator (FP16 where BF16 is not published), FLOP/s.
    pub peak: f64,
    /// Published accelerator-hours.
    pub hours: f64,
    /// `flops / (hours x 3600 x peak)`.
    pub utilisation: f64,
    /// What the conditional prior knows of the run.
    pub covariates: Covariates,
}

/// The implied utilisation of a run, if it has active parameters, tokens, published hours and
/// a catalog accelerator with a dense BF16/FP16 peak. FP8 runs (DeepSeek-V3) are measured
/// against the BF16 peak too, so that one prior serves every run.
#[must_use]
pub fn implied<'a>(cat: &Catalog, run: &'a TrainingRun) -> Option<Implied<'a>> {
    let flops = 6.0 * run.params_active_b? * 1e9 * run.tokens_t? * 1e12;
    let hours = run.published_hours()?;
    let accel = cat.accelerators().ok()?.get(&run.accelerator).ok()?;
    let peak = Precision::Bf16.peak_tflops(accel)? * 1e12;
    let active = run.params_active_b? * 1e9;
    Some(Implied {
        run,
        flops,
        peak,
        hours,
        utilisation: flops / (hours * 3600.0 * peak),
        covariates: Covariates {
            active_params: active,
            hopper: hopper_or_later(accel),
            moe: run
                .params_total_b
                .is_some_and(|t| t * 1e9 > active * 1.0001),
        },
    })
}

/// Whether a run's hours are a bound (see [`HOURS_UPPER_BOUND`]).
#[must_use]
pub fn hours_bound(id: &str) -> Option<&'static str> {
    HOURS_UPPER_BOUND
        .iter()
        .find(|(k, _)| *k == id)
        .map(|(_, why)| *why)
}

/// One-sided 95% quantiles of Student's t for 1 to 30 degrees of freedom (any statistics
/// table, e.g. NIST/SEMATECH e-Handbook of Statistical Methods, 1.3.6.7.2); above 30, the
/// normal's 1.645.
const T95: [f64; 30] = [
    6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895, 1.860, 1.833, 1.812, 1.796, 1.782, 1.771,
    1.761, 1.753, 1.746, 1.740, 1.734, 1.729, 1.725, 1.721, 1.717, 1.714, 1.711, 1.708, 1.706,
    1.703, 1.701, 1.699, 1.697,
];

/// The one-sided 95% t quantile for `df` degrees of freedom.
#[must_use]
pub fn t95(df: usize) -> f64 {
    match df {
        0 => f64::INFINITY,
        1..=30 => T95[df - 1],
        _ => 1.645,
    }
}

/// A candidate form of the conditional prior (docs/validation.md section 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Form {
    /// `C0` .. `C4`.
    pub name: &'static str,
    /// Its terms, in [`Term::ALL`] order.
    pub terms: &'static [Term],
}

/// The candidate forms, as registered before any was fitted, smallest first (ties go to the
/// smaller).
pub const FORMS: [Form; 5] = [
    Form {
        name: "C0",
        terms: &[Term::Intercept],
    },
    Form {
        name: "C1",
        terms: &[Term::Intercept, Term::LnActiveParams],
    },
    Form {
        name: "C2",
        terms: &[Term::Intercept, Term::Hopper],
    },
    Form {
        name: "C3",
        terms: &[Term::Intercept, Term::LnActiveParams, Term::Hopper],
    },
    Form {
        name: "C4",
        terms: &[
            Term::Intercept,
            Term::LnActiveParams,
            Term::Hopper,
            Term::Moe,
        ],
    },
];

/// A fitted prior of effective utilisation.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Prior {
    /// The form fitted.
    pub form: &'static str,
    /// Its equation with the fitted coefficients.
    pub equation: String,
    /// The coefficients, matrix and spread.
    pub fitted: ConditionalPrior,
    /// Residual standard deviation of `ln u` (family-weighted, `F - p` degrees of freedom).
    pub s: f64,
    /// Degrees of freedom, `F - p`.
    pub dof: usize,
    /// Rows fitted on.
    pub rows: usize,
    /// Families fitted on, sorted.
    pub families: Vec<String>,
}

/// Inverts a small symmetric positive-definite matrix (Gauss-Jordan with partial pivoting);
/// `None` when it is singular (a covariate constant over the runs).
fn invert(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = a.len();
    let mut m: Vec<Vec<f64>> = a
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut r = r.clone();
            r.extend((0..n).map(|j| f64::from(u8::from(i == j))));
            r
        })
        .collect();
    let scale = a
        .iter()
        .map(|r| r.iter().fold(0.0f64, |x, v| x.max(v.abs())))
        .fold(0.0, f64::max);
    for c in 0..n {
        let p = (c..n).max_by(|&i, &j| m[i][c].abs().total_cmp(&m[j][c].abs()))?;
        if m[p][c].abs() <= 1e-10 * scale {
            return None;
        }
        m.swap(c, p);
        let pv = m[c][c];
        m[c].iter_mut().for_each(|v| *v /= pv);
        for i in 0..n {
            if i != c {
                let f = m[i][c];
                let row_c = m[c].clone();
                m[i].iter_mut().zip(row_c).for_each(|(v, w)| *v -= f * w);
            }
        }
    }
    Some(m.into_iter().map(|r| r[n..].to_vec()).collect())
}

/// Fits a form by weighted least squares on `ln u`, each run weighted `1 / (runs of its
/// family)` (a family counts once, however many sizes it published): `beta = (X'WX)^-1 X'W y`,
/// `s^2 = sum w r^2 / (F - p)` for `F` families and `p` terms, and the P5..P95 of a new
/// family's run at `x0` is `x0'beta -/+ t95(F - p) x s x sqrt(1 + x0'(X'WX)^-1 x0)` (for C0,
/// `sqrt(1 + 1/F)`). `None` with no degree of freedom left or a covariate that does not vary.
#[must_use]
pub fn fit(runs: &[&Implied<'_>], form: &Form) -> Option<Prior> {
    let mut families: Vec<String> = runs.iter().map(|r| r.run.family.clone()).collect();
    families.sort();
    families.dedup();
    let (f, p) = (families.len(), form.terms.len());
    if f <= p {
        return None;
    }
    let count = |fam: &str| runs.iter().filter(|r| r.run.family == fam).count() as f64;
    let rows: Vec<(f64, Vec<f64>, f64)> = runs
        .iter()
        .map(|r| {
            let x = form.terms.iter().map(|t| t.value(&r.covariates)).collect();
            (1.0 / count(&r.run.family), x, r.utilisation.ln())
        })
        .collect();
    let mut xtwx = vec![vec![0.0; p]; p];
    let mut xtwy = vec![0.0; p];
    for (w, x, y) in &rows {
        for i in 0..p {
            xtwy[i] += w * x[i] * y;
            for j in 0..p {
                xtwx[i][j] += w * x[i] * x[j];
            }
        }
    }
    let inv = invert(&xtwx)?;
    let beta: Vec<f64> = (0..p)
        .map(|i| (0..p).map(|j| inv[i][j] * xtwy[j]).sum())
        .collect();
    let ss: f64 = rows
        .iter()
        .map(|(w, x, y)| w * (y - x.iter().zip(&beta).map(|(a, b)| a * b).sum::<f64>()).powi(2))
        .sum();
    let dof = f - p;
    let s = (ss / dof as f64).sqrt();
    let fitted = ConditionalPrior {
        terms: form.terms.to_vec(),
        beta,
        xtwx_inv: inv,
        spread: t95(dof) * s,
    };
    Some(Prior {
        form: form.name,
        equation: fitted.equation(),
        fitted,
        s,
        dof,
        rows: runs.len(),
        families,
    })
}

/// Leave-one-family-out mean squared error of `ln u` (PRESS by family): each family's rows
/// predicted by the form fitted on the others, their squared errors averaged within the family
/// and the families averaged, each weighing as one. Infinite when a fold cannot be fitted.
#[must_use]
pub fn press(runs: &[&Implied<'_>], form: &Form) -> f64 {
    let mut fams: Vec<&str> = runs.iter().map(|r| r.run.family.as_str()).collect();
    fams.sort_unstable();
    fams.dedup();
    let mut total = 0.0;
    for fam in &fams {
        let rest: Vec<_> = runs
            .iter()
            .copied()
            .filter(|r| r.run.family != *fam)
            .collect();
        let Some(p) = fit(&rest, form) else {
            return f64::INFINITY;
        };
        let out: Vec<_> = runs.iter().filter(|r| r.run.family == *fam).collect();
        total += out
            .iter()
            .map(|r| (r.utilisation.ln() - p.fitted.predict(&r.covariates).0).powi(2))
            .sum::<f64>()
            / out.len() as f64;
    }
    total / fams.len() as f64
}

/// The registered choice rule: the form with the lowest [`press`] (ties within 1e-9 to the
/// smaller form), with every candidate's PRESS.
#[must_use]
pub fn choose(runs: &[&Implied<'_>]) -> (&'static Form, Vec<(&'static str, f64)>) {
    let scores: Vec<(&'static Form, f64)> = FORMS.iter().map(|f| (f, press(runs, f))).collect();
    let mut best = &scores[0];
    for s in &scores[1..] {
        if s.1 < best.1 - 1e-9 {
            best = s;
        }
    }
    (best.0, scores.iter().map(|(f, p)| (f.name, *p)).collect())
}

/// The runs the fit and the hours check use (implied utilisation known, hours not a bound).
#[must_use]
pub fn usable<'a>(cat: &Catalog, runs: &'a [TrainingRun]) -> Vec<Implied<'a>> {
    runs.iter()
        .filter(|r| hours_bound(&r.id).is_none())
        .filter_map(|r| implied(cat, r))
        .collect()
}

/// The calibration half of the split.
#[must_use]
pub fn calibration<'a, 'b>(implied: &'b [Implied<'a>]) -> Vec<&'b Implied<'a>> {
    implied
        .iter()
        .filter(|r| Split::of(&r.run.family) == Split::Calibration)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::table::training_runs;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        // FNV test vectors (Noll's fnv_test.c): "" and "a".
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn implied_utilisation_by_hand() {
        let cat = Catalog::embedded();
        let runs = training_runs().expect("t");
        let r = runs.iter().find(|r| r.id == "llama-2-70b").expect("row");
        // 6 x 70e9 x 2e12 = 8.4e23 FLOP; 1,720,320 h x 3600 s x 312e12 = 1.9322e24 -> 0.4347.
        let i = implied(&cat, r).expect("implied");
        assert!((i.utilisation - 0.4347).abs() < 1e-4, "{}", i.utilisation);
        // DeepSeek-V3 (FP8) against the H800's BF16 peak 989 TFLOP/s:
        // 6 x 37e9 x 14.8e12 = 3.2856e24; 2,788,000 h x 3600 x 989e12 = 9.9265e24 -> 0.331.
        let r = runs.iter().find(|r| r.id == "deepseek-v3").expect("row");
        let i = implied(&cat, r).expect("implied");
        assert!((i.utilisation - 0.331).abs() < 1e-3, "{}", i.utilisation);
        // No tokens: no implied utilisation.
        let r = runs.iter().find(|r| r.id == "gpt-3-175b").expect("row");
        assert!(implied(&cat, r).is_none());
    }

    #[test]
    fn fit_by_hand_on_three_families() {
        let cat = Catalog::embedded();
        let runs = training_runs().expect("t");
        let pick = |id: &str| implied(&cat, runs.iter().find(|r| r.id == id).expect("r"));
        let rows: Vec<_> = ["llama-2-7b", "llama-2-13b", "falcon-40b", "phi-4-14b"]
            .iter()
            .map(|id| pick(id).expect("usable"))
            .collect();
        let refs: Vec<_> = rows.iter().collect();
        let p = fit(&refs, &FORMS[0]).expect("fit");
        // ln u: llama 0.4058, 0.3768 (weight 1/2 each), falcon 0.3858, phi 0.2387 (weight 1).
        let x = rows.iter().map(|r| r.utilisation.ln()).collect::<Vec<_>>();
        let w = [0.5, 0.5, 1.0, 1.0];
        let mu = (0..4).map(|i| w[i] * x[i]).sum::<f64>() / 3.0;
        let var = (0..4).map(|i| w[i] * (x[i] - mu).powi(2)).sum::<f64>() / 2.0;
        // t95(2) = 2.920; leverage of the constant 1/F = 1/3: sqrt(1 + 1/3).
        let half = 2.920 * var.sqrt() * (4.0f64 / 3.0).sqrt();
        let c = rows[0].covariates;
        let (m, h) = p.fitted.predict(&c);
        assert!(
            (m - mu).abs() < 1e-12 && (h - half).abs() < 1e-12,
            "{m} {h}"
        );
        assert_eq!(p.families, ["falcon", "llama", "phi"]);
        assert_eq!(p.dof, 2);
        // C2 (constant + Hopper): phi is the only H100 family, so its coefficient is phi's
        // ln u minus the A100 families' weighted mean, and phi's residual is 0.
        let q = fit(&refs, &FORMS[2]).expect("fit C2");
        let a100 = (0.5 * x[0] + 0.5 * x[1] + x[2]) / 2.0;
        assert!((q.fitted.beta[0] - a100).abs() < 1e-12, "{q:?}");
        assert!((q.fitted.beta[1] - (x[3] - a100)).abs() < 1e-12, "{q:?}");
        // Three families, two terms: one degree of freedom; C3/C4 cannot be fitted.
        assert_eq!(q.dof, 1);
        assert!(fit(&refs, &FORMS[3]).is_none());
    }

    #[test]
    fn press_by_hand_and_the_choice() {
        let cat = Catalog::embedded();
        let runs = training_runs().expect("t");
        let pick = |id: &str| implied(&cat, runs.iter().find(|r| r.id == id).expect("r"));
        let rows: Vec<_> = ["falcon-40b", "mpt-7b", "phi-4-14b"]
            .iter()
            .map(|id| pick(id).expect("usable"))
            .collect();
        let refs: Vec<_> = rows.iter().collect();
        // C0 leaving each out: each predicted by the mean of the other two's ln u.
        let x: Vec<f64> = rows.iter().map(|r| r.utilisation.ln()).collect();
        let want = ((x[0] - (x[1] + x[2]) / 2.0).powi(2)
            + (x[1] - (x[0] + x[2]) / 2.0).powi(2)
            + (x[2] - (x[0] + x[1]) / 2.0).powi(2))
            / 3.0;
        assert!((press(&refs, &FORMS[0]) - want).abs() < 1e-12);
        // C2 leaving phi out has no H100 run to fit the Hopper term on: infinite.
        assert!(press(&refs, &FORMS[2]).is_infinite());
        assert_eq!(choose(&refs).0.name, "C0");
    }
}
