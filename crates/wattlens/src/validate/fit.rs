//! The calibrated prior of effective training utilisation: the implied utilisation of each
//! published run (`6 x active params x tokens / (accelerator-hours x dense BF16 peak)`), the
//! family split into calibration and held-back rows, and the fit (a log-normal prior with a
//! Student-t prediction interval, each family weighing as one), used by `validate` and by the
//! test that holds the shipped default to it.

use super::table::TrainingRun;
use crate::catalog::Catalog;
use crate::estimate::resolve::Precision;

/// Runs whose published accelerator-hours are an upper bound, not logged time, with the reason
/// (the table README's "What the hours bill"): left out of the fit and the summaries.
pub const HOURS_UPPER_BOUND: &[(&str, &str)] = &[(
    "glm-130b",
    "hours are 768 GPUs x the 60-day access window, an upper bound",
)];

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
    Some(Implied {
        run,
        flops,
        peak,
        hours,
        utilisation: flops / (hours * 3600.0 * peak),
    })
}

/// Whether a run's hours are an upper bound (see [`HOURS_UPPER_BOUND`]).
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

/// The fitted prior of effective utilisation.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Prior {
    /// Median (the geometric mean, families weighing as one).
    pub median: f64,
    /// 5th percentile of the prediction for a new family's run.
    pub p5: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Rows fitted on.
    pub rows: usize,
    /// Families fitted on, sorted.
    pub families: Vec<String>,
}

impl Prior {
    /// The ends of the log-uniform draw whose P5..P95 are `p5..p95` (and whose centre, the
    /// geometric mean of the ends, is the median): `exp(mu -/+ h / 0.9)` with `h` the
    /// interval's half-width in logs.
    #[must_use]
    pub fn draw_range(&self) -> (f64, f64) {
        let (mu, h) = (self.median.ln(), (self.p95 / self.p5).ln() / 2.0);
        ((mu - h / 0.9).exp(), (mu + h / 0.9).exp())
    }
}

/// Fits the prior on runs: `mu` and `s` are the mean and standard deviation of `ln u` with each
/// run weighted `1 / (runs of its family)` (so a family counts once, however many sizes it
/// published), `s` corrected by `F / (F - 1)` for `F` families; the prediction interval for a
/// run of a new family is `mu -/+ t95(F - 1) x s x sqrt(1 + 1/F)`. `None` with fewer than two
/// families.
#[must_use]
pub fn fit(runs: &[&Implied<'_>]) -> Option<Prior> {
    let mut families: Vec<String> = runs.iter().map(|r| r.run.family.clone()).collect();
    families.sort();
    families.dedup();
    let f = families.len();
    if f < 2 {
        return None;
    }
    let count = |fam: &str| runs.iter().filter(|r| r.run.family == fam).count() as f64;
    let weighted: Vec<(f64, f64)> = runs
        .iter()
        .map(|r| (1.0 / count(&r.run.family), r.utilisation.ln()))
        .collect();
    let w: f64 = weighted.iter().map(|(w, _)| w).sum();
    let mu = weighted.iter().map(|(w, x)| w * x).sum::<f64>() / w;
    let var = weighted
        .iter()
        .map(|(w, x)| w * (x - mu).powi(2))
        .sum::<f64>()
        / w;
    let ff = f as f64;
    let s = (var * ff / (ff - 1.0)).sqrt();
    let half = t95(f - 1) * s * (1.0 + 1.0 / ff).sqrt();
    Some(Prior {
        median: mu.exp(),
        p5: (mu - half).exp(),
        p95: (mu + half).exp(),
        rows: runs.len(),
        families,
    })
}

/// The runs the fit and the hours check use (implied utilisation known, hours not a bound).
#[must_use]
pub fn usable<'a>(cat: &Catalog, runs: &'a [TrainingRun]) -> Vec<Implied<'a>> {
    runs.iter()
        .filter(|r| hours_bound(&r.id).is_none())
        .filter_map(|r| implied(cat, r))
        .collect()
}

/// The shipped fit: on the calibration half of the split.
#[must_use]
pub fn calibration_fit(implied: &[Implied<'_>]) -> Option<Prior> {
    let cal: Vec<_> = implied
        .iter()
        .filter(|r| Split::of(&r.run.family) == Split::Calibration)
        .collect();
    fit(&cal)
}

/// Rounds to 3 significant figures (as the shipped default is stored).
#[must_use]
pub fn sig3(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let k = 10f64.powi(2 - x.abs().log10().floor() as i32);
    (x * k).round() / k
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
        let p = fit(&refs).expect("fit");
        // ln u: llama 0.4058, 0.3768 (weight 1/2 each), falcon 0.3858, phi 0.2387 (weight 1).
        let x = rows.iter().map(|r| r.utilisation.ln()).collect::<Vec<_>>();
        let w = [0.5, 0.5, 1.0, 1.0];
        let mu = (0..4).map(|i| w[i] * x[i]).sum::<f64>() / 3.0;
        let var = (0..4).map(|i| w[i] * (x[i] - mu).powi(2)).sum::<f64>() / 3.0 * 3.0 / 2.0;
        // t95(2) = 2.920; sqrt(1 + 1/3).
        let half = 2.920 * var.sqrt() * (4.0f64 / 3.0).sqrt();
        assert!((p.median - mu.exp()).abs() < 1e-12);
        assert!((p.p95 - (mu + half).exp()).abs() < 1e-12);
        assert_eq!(p.families, ["falcon", "llama", "phi"]);
        // The log-uniform ends put P5..P95 back where the fit has them.
        let (lo, hi) = p.draw_range();
        let at = |q: f64| (lo.ln() + q * (hi.ln() - lo.ln())).exp();
        assert!((at(0.05) - p.p5).abs() < 1e-12 && (at(0.95) - p.p95).abs() < 1e-12);
        assert!(((lo * hi).sqrt() - p.median).abs() < 1e-12);
    }

    /// The shipped default equals the fit on the calibration half: the default cannot drift
    /// from the data (refit: `wattlens validate --kind train --json`, field `prior`).
    #[test]
    fn shipped_default_is_the_calibration_fit() {
        let cat = Catalog::embedded();
        let runs = training_runs().expect("t");
        let prior = calibration_fit(&usable(&cat, runs)).expect("fit");
        let (lo, hi) = prior.draw_range();
        let c = cat
            .coefficient("train.effective_utilisation")
            .expect("shipped");
        assert_eq!((c.low, c.high), (sig3(lo), sig3(hi)), "{prior:?}");
        let text = c.source.as_deref().unwrap_or("");
        let fams = prior.families.join(", ");
        assert!(
            text.contains(&format!(
                "fitted on {} runs of {} families ({fams})",
                prior.rows,
                prior.families.len()
            )),
            "{text}"
        );
    }

    #[test]
    fn sig3_rounds() {
        assert_eq!(sig3(0.157_49), 0.157);
        assert_eq!(sig3(0.5976), 0.598);
    }
}
