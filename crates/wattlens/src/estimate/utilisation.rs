//! The conditional prior of effective training utilisation over billed accelerator-hours:
//! `ln u = x'beta` on what an outsider knows (active parameters, the accelerator's generation,
//! dense or mixture of experts), with a Student-t prediction interval for a new family's run.
//! The coefficients are catalog rows (`train.utilisation.*`, fitted by `validate`, see
//! `validate/fit.rs`); `estimate train` draws `u` from it when no `--mfu` is given.

use crate::catalog::{Accelerator, Catalog, CatalogError, Coefficient};
use crate::estimate::resolve::Precision;
use crate::estimate::train::Compute;
use crate::uncertainty::Range;

/// Dense BF16 (FP16 where no BF16 is published) peak, TFLOP/s, from which an accelerator counts
/// as "Hopper or later": about 2x the A100's 312 and below the H100's 989 (H100, H800, H200,
/// B200, MI300X, TPU v6e are above; A100, TPU v3/v4/v5p, V100 below).
pub const HOPPER_PEAK_TFLOPS: f64 = 600.0;

/// Catalog key prefix of the prior's rows.
pub const KEY_PREFIX: &str = "train.utilisation.";

/// One term of the regression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Term {
    /// The constant.
    Intercept,
    /// `ln` of the active parameters in billions.
    LnActiveParams,
    /// 1 for an accelerator whose dense peak is at least [`HOPPER_PEAK_TFLOPS`].
    Hopper,
    /// 1 for a mixture of experts (active parameters below the total).
    Moe,
}

impl Term {
    /// Every term, in the order the catalog rows and the matrix use.
    pub const ALL: [Self; 4] = [
        Self::Intercept,
        Self::LnActiveParams,
        Self::Hopper,
        Self::Moe,
    ];

    /// The key suffix (`train.utilisation.<key>`).
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::Intercept => "intercept",
            Self::LnActiveParams => "ln_active_params",
            Self::Hopper => "hopper",
            Self::Moe => "moe",
        }
    }

    /// How the term reads in an equation.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Intercept => "",
            Self::LnActiveParams => " ln(active params / 1B)",
            Self::Hopper => " [Hopper or later]",
            Self::Moe => " [MoE]",
        }
    }

    /// The term's value for a run.
    #[must_use]
    pub fn value(self, c: &Covariates) -> f64 {
        match self {
            Self::Intercept => 1.0,
            Self::LnActiveParams => (c.active_params / 1e9).ln(),
            Self::Hopper => f64::from(u8::from(c.hopper)),
            Self::Moe => f64::from(u8::from(c.moe)),
        }
    }
}

/// What the prior is conditioned on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Covariates {
    /// Active parameters (a count, not billions).
    pub active_params: f64,
    /// Hopper or later (see [`HOPPER_PEAK_TFLOPS`]).
    pub hopper: bool,
    /// A mixture of experts.
    pub moe: bool,
}

/// Whether an accelerator counts as Hopper or later (its dense BF16/FP16 peak).
#[must_use]
pub fn hopper_or_later(a: &Accelerator) -> bool {
    Precision::Bf16
        .peak_tflops(a)
        .is_some_and(|p| p >= HOPPER_PEAK_TFLOPS)
}

/// The fitted prior: coefficients, the inverse of the weighted normal matrix (for the leverage
/// of a new run) and the spread `t95(F - p) x s`, all in `ln u`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ConditionalPrior {
    /// The terms, in [`Term::ALL`] order.
    pub terms: Vec<Term>,
    /// One coefficient per term.
    pub beta: Vec<f64>,
    /// `(X'WX)^-1`, terms x terms.
    pub xtwx_inv: Vec<Vec<f64>>,
    /// `t95(F - p) x s`: the half-width of the 90% prediction interval before the leverage.
    pub spread: f64,
}

impl ConditionalPrior {
    fn x(&self, c: &Covariates) -> Vec<f64> {
        self.terms.iter().map(|t| t.value(c)).collect()
    }

    /// `(mu, h)`: the median of `ln u` and the half-width of its P5..P95,
    /// `h = spread x sqrt(1 + x'(X'WX)^-1 x)`.
    #[must_use]
    pub fn predict(&self, c: &Covariates) -> (f64, f64) {
        let x = self.x(c);
        let mu = x.iter().zip(&self.beta).map(|(a, b)| a * b).sum();
        let lev: f64 = (0..x.len())
            .map(|i| {
                (0..x.len())
                    .map(|j| x[i] * self.xtwx_inv[i][j] * x[j])
                    .sum::<f64>()
            })
            .sum();
        (mu, self.spread * (1.0 + lev.max(0.0)).sqrt())
    }

    /// Why the matrix cannot be the inverse of a covariance (a user catalog's rows): a
    /// principal minor below 0 gives some run a negative variance, which `predict` would clamp
    /// to 0 without a word. Every principal minor is checked (at most 4 terms: 15 of them).
    /// `None` when the matrix is positive semi-definite.
    #[must_use]
    pub fn not_a_covariance(&self) -> Option<String> {
        let n = self.terms.len();
        for mask in 1_u32..(1 << n) {
            let idx: Vec<usize> = (0..n).filter(|i| mask & (1 << i) != 0).collect();
            let sub: Vec<Vec<f64>> = idx
                .iter()
                .map(|&i| idx.iter().map(|&j| self.xtwx_inv[i][j]).collect())
                .collect();
            let scale: f64 = idx
                .iter()
                .map(|&i| self.xtwx_inv[i][i].abs())
                .product::<f64>();
            if determinant(sub) < -1e-9 * scale.max(1e-12) {
                let names: Vec<&str> = idx.iter().map(|&i| self.terms[i].key()).collect();
                return Some(format!(
                    "have an xtwx_inv matrix no covariance has (over {}: a negative variance for \
                     some runs)",
                    names.join(", ")
                ));
            }
        }
        None
    }

    /// The ends of the log-uniform draw whose P5..P95 is the prediction interval and whose
    /// centre is the median: `exp(mu -/+ h / 0.9)`.
    #[must_use]
    pub fn draw_range(&self, c: &Covariates) -> (f64, f64) {
        let (mu, h) = self.predict(c);
        ((mu - h / 0.9).exp(), (mu + h / 0.9).exp())
    }

    /// The equation, coefficients to 3 significant figures: `ln u = -1.09 - 0.425 [Hopper or
    /// later]`.
    #[must_use]
    pub fn equation(&self) -> String {
        let mut s = String::from("ln u =");
        for (i, (t, b)) in self.terms.iter().zip(&self.beta).enumerate() {
            let sign = if *b < 0.0 { "-" } else { "+" };
            if i == 0 {
                s.push_str(&format!(
                    " {}{}{}",
                    if *b < 0.0 { "-" } else { "" },
                    sig3(b.abs()),
                    t.label()
                ));
            } else {
                s.push_str(&format!(" {sign} {}{}", sig3(b.abs()), t.label()));
            }
        }
        s
    }

    /// The prior from the catalog's `train.utilisation.*` rows: `None` when it has no
    /// intercept row (no conditional prior). Every term has a row; a term outside the form has
    /// coefficient 0 and a zero row in the matrix, and is left out.
    ///
    /// # Errors
    /// A term, matrix or spread row that is missing.
    pub fn from_catalog(cat: &Catalog) -> Result<Option<Self>, CatalogError> {
        let get = |k: &str| cat.coefficient(&format!("{KEY_PREFIX}{k}")).map(|c| c.low);
        if get(Term::Intercept.key()).is_err() {
            return Ok(None);
        }
        let mut all = Vec::new();
        for t in Term::ALL {
            let b = get(t.key())?;
            let diag = get(&matrix_key(t, t))?;
            if t == Term::Intercept || b != 0.0 || diag != 0.0 {
                all.push((t, b));
            }
        }
        let terms: Vec<Term> = all.iter().map(|(t, _)| *t).collect();
        let beta = all.iter().map(|(_, b)| *b).collect();
        let mut xtwx_inv = vec![vec![0.0; terms.len()]; terms.len()];
        for i in 0..terms.len() {
            for j in i..terms.len() {
                let v = get(&matrix_key(terms[i], terms[j]))?;
                xtwx_inv[i][j] = v;
                xtwx_inv[j][i] = v;
            }
        }
        Ok(Some(Self {
            terms,
            beta,
            xtwx_inv,
            spread: get("spread")?,
        }))
    }

    /// The catalog rows that hold this prior (what `defaults.csv` ships and a fold of the
    /// cross-validation installs): a coefficient for every term (0 outside the form), the
    /// spread, and the upper triangle of the matrix over every term (0 outside the form), so
    /// that a set of rows always replaces a whole prior.
    #[must_use]
    pub fn coefficients(&self, source: &str, year: Option<&str>) -> Vec<Coefficient> {
        let row = |key: String, v: f64, description: String| Coefficient {
            key: format!("{KEY_PREFIX}{key}"),
            aliases: None,
            low: v,
            high: v,
            unit: None,
            description: Some(description),
            source: Some(source.to_string()),
            year: year.map(str::to_string),
        };
        let at = |t: Term| self.terms.iter().position(|x| *x == t);
        let eq = self.equation();
        let mut out: Vec<Coefficient> = Term::ALL
            .iter()
            .map(|t| {
                let what = match t {
                    Term::Intercept => " the constant",
                    _ => t.label(),
                };
                let (b, inside) = match at(*t) {
                    Some(i) => (self.beta[i], ""),
                    None => (0.0, " (not in the fitted form: 0)"),
                };
                row(
                    t.key().into(),
                    b,
                    format!("coefficient of{what} in the effective-utilisation prior {eq}{inside}"),
                )
            })
            .collect();
        out.push(row(
            "spread".into(),
            self.spread,
            "t95(F - p) x s: the half-width of ln u's P5..P95 for a new family's run before the leverage term".into(),
        ));
        for (i, a) in Term::ALL.iter().enumerate() {
            for b in &Term::ALL[i..] {
                let v = match (at(*a), at(*b)) {
                    (Some(x), Some(y)) => self.xtwx_inv[x][y],
                    _ => 0.0,
                };
                out.push(row(
                    matrix_key(*a, *b),
                    v,
                    "entry of (X'WX)^-1 of the fit, for the leverage x'(X'WX)^-1 x of a new run (0 outside the form)".into(),
                ));
            }
        }
        out
    }

    /// The prior with every number rounded to 4 significant figures (as shipped).
    #[must_use]
    pub fn rounded(&self) -> Self {
        Self {
            terms: self.terms.clone(),
            beta: self.beta.iter().map(|b| sig(*b, 4)).collect(),
            xtwx_inv: self
                .xtwx_inv
                .iter()
                .map(|r| r.iter().map(|v| sig(*v, 4)).collect())
                .collect(),
            spread: sig(self.spread, 4),
        }
    }
}

/// Active parameters assumed for the size term when only the FLOPs are given: the sizes of the
/// published runs the prior is fitted on (about 1B to 1T).
pub const UNKNOWN_SIZE: (f64, f64) = (1e9, 1e12);

/// The prior for one estimate, over the corners of what is known (a ranged size, an unknown
/// size or MoE-ness): the envelope of the draws.
#[derive(Clone, Debug, PartialEq)]
pub struct Envelope {
    /// The ends of the log-uniform draw of `u`.
    pub draw: Range,
    /// The median of `u` (at the centre of the draw).
    pub median: f64,
    /// The lowest P5 over the corners.
    pub p5: f64,
    /// The highest P95 over the corners.
    pub p95: f64,
    /// The covariates the form uses, as read (`Hopper or later: yes (H100 SXM5 80GB, 989
    /// TFLOP/s)`).
    pub covariates: String,
}

/// The prior's draw for an estimate: its compute (active parameters), the accelerator and the
/// total parameters (a mixture of experts when the total exceeds the active).
#[must_use]
pub fn envelope(
    prior: &ConditionalPrior,
    compute: &Compute,
    accel: &Accelerator,
    total: Option<Range>,
) -> Envelope {
    let active = match compute {
        Compute::ParamsTokens { active_params, .. } => Some(*active_params),
        _ => None,
    };
    let sizes = active.map_or(UNKNOWN_SIZE, |a| (a.lo, a.hi));
    let moes: Vec<bool> = match (active, total) {
        (Some(a), Some(t)) => vec![t.lo > a.hi * 1.0001],
        (Some(_), None) => vec![false],
        _ => vec![false, true],
    };
    let hopper = hopper_or_later(accel);
    let (mut lo, mut hi, mut p5, mut p95) = (f64::INFINITY, 0.0f64, f64::INFINITY, 0.0f64);
    for n in [sizes.0, sizes.1] {
        for moe in &moes {
            let c = Covariates {
                active_params: n,
                hopper,
                moe: *moe,
            };
            let (mu, h) = prior.predict(&c);
            let (a, b) = prior.draw_range(&c);
            lo = lo.min(a);
            hi = hi.max(b);
            p5 = p5.min((mu - h).exp());
            p95 = p95.max((mu + h).exp());
        }
    }
    let mut said = Vec::new();
    for t in &prior.terms {
        match t {
            Term::LnActiveParams => said.push(match active {
                Some(a) => format!("active params {}", a.display("")),
                None => format!(
                    "active params unknown (only FLOPs): {}..{} assumed",
                    crate::uncertainty::fmt_human(UNKNOWN_SIZE.0),
                    crate::uncertainty::fmt_human(UNKNOWN_SIZE.1)
                ),
            }),
            Term::Hopper => said.push(format!(
                "Hopper or later: {} ({}, {} TFLOP/s dense BF16/FP16; the line is {HOPPER_PEAK_TFLOPS})",
                if hopper { "yes" } else { "no" },
                accel.name,
                Precision::Bf16
                    .peak_tflops(accel)
                    .map_or("no".into(), |p| p.to_string())
            )),
            Term::Moe => said.push(match moes.as_slice() {
                [true] => "MoE: yes (active below total)".to_string(),
                [false] => "MoE: no".to_string(),
                _ => "MoE: unknown (only FLOPs), both assumed".to_string(),
            }),
            Term::Intercept => {}
        }
    }
    Envelope {
        draw: Range::new(lo, hi),
        median: (lo * hi).sqrt(),
        p5,
        p95,
        covariates: if said.is_empty() {
            "no covariate".into()
        } else {
            said.join(", ")
        },
    }
}

/// The key suffix of a matrix entry: `xtwx_inv.<a>.<b>`.
/// The determinant of a small square matrix, by Gaussian elimination with partial pivoting.
fn determinant(mut m: Vec<Vec<f64>>) -> f64 {
    let n = m.len();
    let mut det = 1.0;
    for c in 0..n {
        let Some(p) = (c..n).max_by(|&a, &b| m[a][c].abs().total_cmp(&m[b][c].abs())) else {
            return 0.0;
        };
        if m[p][c] == 0.0 {
            return 0.0;
        }
        if p != c {
            m.swap(p, c);
            det = -det;
        }
        det *= m[c][c];
        let pivot = m[c].clone();
        for row in m.iter_mut().skip(c + 1) {
            let f = row[c] / pivot[c];
            for (x, p) in row.iter_mut().zip(&pivot).skip(c) {
                *x -= f * p;
            }
        }
    }
    det
}

fn matrix_key(a: Term, b: Term) -> String {
    format!("xtwx_inv.{}.{}", a.key(), b.key())
}

/// Rounds to `n` significant figures.
#[must_use]
pub fn sig(x: f64, n: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let k = 10f64.powi(n - 1 - x.abs().log10().floor() as i32);
    (x * k).round() / k
}

fn sig3(x: f64) -> String {
    format!("{}", sig(x, 3))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c2() -> ConditionalPrior {
        ConditionalPrior {
            terms: vec![Term::Intercept, Term::Hopper],
            beta: vec![-1.0, -0.5],
            xtwx_inv: vec![vec![0.2, -0.2], vec![-0.2, 0.5]],
            spread: 0.6,
        }
    }

    #[test]
    fn prediction_by_hand() {
        let p = c2();
        let a100 = Covariates {
            active_params: 7e9,
            hopper: false,
            moe: false,
        };
        // x = (1, 0): mu = -1; leverage 0.2; h = 0.6 x sqrt(1.2) = 0.65727.
        let (mu, h) = p.predict(&a100);
        assert!(
            (mu + 1.0).abs() < 1e-12 && (h - 0.657_27).abs() < 1e-5,
            "{mu} {h}"
        );
        // x = (1, 1): mu = -1.5; leverage 0.2 - 0.4 + 0.5 = 0.3; h = 0.6 x sqrt(1.3) = 0.68411.
        let (mu, h) = p.predict(&Covariates {
            hopper: true,
            ..a100
        });
        assert!(
            (mu + 1.5).abs() < 1e-12 && (h - 0.684_11).abs() < 1e-5,
            "{mu} {h}"
        );
        // Draw ends exp(-1.5 -/+ 0.68411 / 0.9) = exp(-2.2601), exp(-0.7399) = 0.1043, 0.4772.
        let (lo, hi) = p.draw_range(&Covariates {
            hopper: true,
            ..a100
        });
        assert!(
            (lo - 0.1043).abs() < 1e-4 && (hi - 0.4772).abs() < 1e-4,
            "{lo} {hi}"
        );
        assert_eq!(p.equation(), "ln u = -1 - 0.5 [Hopper or later]");
    }

    #[test]
    fn catalog_rows_round_trip() {
        let p = c2();
        let rows = p.coefficients("test", None);
        assert_eq!(rows.len(), 4 + 1 + 10);
        let cat = Catalog::with_user(crate::catalog::UserCatalog {
            default: rows,
            ..crate::catalog::UserCatalog::default()
        });
        assert_eq!(ConditionalPrior::from_catalog(&cat).expect("rows"), Some(p));
    }

    #[test]
    fn generation_from_the_catalog_peak() {
        let cat = Catalog::embedded();
        let acc = cat.accelerators().expect("t");
        let h = |k: &str| hopper_or_later(acc.get(k).expect(k));
        assert!(h("h100") && h("h800") && h("b200"));
        assert!(!h("a100") && !h("tpu-v4") && !h("tpu-v3") && !h("v100"));
    }

    #[test]
    fn envelope_over_a_ranged_or_unknown_size() {
        // C1-like: ln u = -1.5 + 0.1 ln N, (X'WX)^-1 = diag(0.1, 0.05), spread 0.5.
        let p = ConditionalPrior {
            terms: vec![Term::Intercept, Term::LnActiveParams],
            beta: vec![-1.5, 0.1],
            xtwx_inv: vec![vec![0.1, 0.0], vec![0.0, 0.05]],
            spread: 0.5,
        };
        let cat = Catalog::embedded();
        let a100 = cat.accelerators().expect("t").get("a100").expect("a100");
        let pt = |lo: f64, hi: f64| Compute::ParamsTokens {
            active_params: Range::new(lo, hi),
            tokens: Range::point(1e12),
        };
        // One size, 1B: x = (1, 0), mu = -1.5, h = 0.5 x sqrt(1.1) = 0.52440; ends
        // exp(-1.5 -/+ 0.58267) = 0.1246, 0.3996.
        let e = envelope(&p, &pt(1e9, 1e9), a100, None);
        assert!(
            (e.draw.lo - 0.1246).abs() < 1e-4 && (e.draw.hi - 0.3996).abs() < 1e-4,
            "{e:?}"
        );
        assert!(
            e.covariates.starts_with("active params 1B"),
            "{}",
            e.covariates
        );
        // 1B..100B: at 100B, x = (1, 4.6052), mu = -1.03948, lev = 0.1 + 0.05 x 21.208 = 1.1604,
        // h = 0.5 x sqrt(2.1604) = 0.73491, hi = exp(-1.03948 + 0.81657) = 0.8002; lo from 1B.
        let e = envelope(&p, &pt(1e9, 100e9), a100, None);
        assert!(
            (e.draw.lo - 0.1246).abs() < 1e-4 && (e.draw.hi - 0.8002).abs() < 1e-4,
            "{e:?}"
        );
        // FLOPs only: the size is unknown, 1B..1T assumed and said.
        let e = envelope(&p, &Compute::Flops(Range::point(1e24)), a100, None);
        assert!(e.covariates.contains("unknown"), "{}", e.covariates);
        assert!(e.draw.hi > 0.8002, "{e:?}");
    }
}
