//! A served model's shape from its parameter count alone: layers, hidden size and KV-cache width
//! fitted on the shapes of published open models (the catalog's shipped models table), drawn as
//! ranges from the fit's residual spread.
//!
//! The population is every shipped model row of [`ERA_FROM`] or later with layers, hidden size,
//! attention and KV heads, head dimension and active parameters, one per distinct shape (a
//! checkpoint re-released under a new name counts once). With `x = ln(active parameters)`:
//!
//! - `ln layers = a_L + b_L x + e_L`, least squares; `s_L` the residual standard deviation;
//! - `ln hidden = a_h + b_h x + beta e_L + e_h`: the hidden size's own fit on `x`, then its
//!   residual regressed on the layers' residual (a deeper model of a size is narrower), `s_h`
//!   what is left;
//! - `ln r = mu_r + e_r`, `r = KV width / (2 x hidden)` = KV heads / attention heads where
//!   `heads x head dim = hidden` (grouped-query attention; the row's own cache width for latent
//!   attention), `s_r` its standard deviation;
//! - attention width = hidden (heads x head dim).
//!
//! Each residual is drawn uniform on `+/- 1.645 s sqrt(1 + 1/n) / 0.9`, so that its P5..P95 is
//! the normal prediction interval `+/- 1.645 s sqrt(1 + 1/n)` (the convention of the training
//! prior); the central evaluation uses the fit. Nothing here is typed by hand: the coefficients
//! are computed from the table once a process (`shipped_fit_comes_from_the_table` pins them).

use crate::catalog::{Catalog, CatalogError};
use crate::uncertainty::{Draw, Range};
use std::sync::OnceLock;

/// The first release year of the population: grouped-query attention (Ainslie et al. 2023)
/// became the norm of open models from 2024; older rows (multi-head GPT-3, BLOOM, LLaMA 1,
/// Llama 2 7B/13B) stay in the catalog for training but would describe KV caches that current
/// servers no longer hold.
pub const ERA_FROM: u32 = 2024;

/// The normal's 95th percentile.
const Z95: f64 = 1.644_853_626_951_472_6;

/// One published shape of the population.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    /// The first catalog row with this shape.
    pub name: String,
    /// Active parameters (total for a dense model).
    pub active: f64,
    /// Layers.
    pub layers: f64,
    /// Hidden size.
    pub hidden: f64,
    /// Values cached per token per layer.
    pub kv_width: f64,
    /// Head dimension.
    pub head_dim: f64,
}

/// A least-squares line `y = a + b x` and its residual standard deviation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Line {
    /// Intercept.
    pub a: f64,
    /// Slope.
    pub b: f64,
    /// Residual standard deviation (`n - 2` degrees of freedom).
    pub s: f64,
}

/// The fitted shape of a model of a given size.
#[derive(Clone, Debug, PartialEq)]
pub struct ShapeFit {
    /// The population, in catalog order.
    pub members: Vec<Member>,
    /// `ln layers` on `ln active`.
    pub layers: Line,
    /// `ln hidden` on `ln active` (its `s` is what is left after `beta`).
    pub hidden: Line,
    /// Slope of the hidden size's residual on the layers' residual.
    pub beta: f64,
    /// Mean of `ln r`, `r` = KV width / (2 x hidden).
    pub ratio_mu: f64,
    /// Standard deviation of `ln r`.
    pub ratio_s: f64,
    /// Half-widths of the three residuals' draws (layers, hidden, ratio), computed once.
    halves: (f64, f64, f64),
}

/// A shape of one evaluation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Drawn {
    /// Layers.
    pub layers: f64,
    /// Hidden size = attention width.
    pub hidden: f64,
    /// KV width per layer, keys and values.
    pub kv_width: f64,
}

/// The least-squares line through `(x, y)` and its residuals.
fn line(x: &[f64], y: &[f64]) -> (Line, Vec<f64>) {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let b = sxy / sxx;
    let a = my - b * mx;
    let e: Vec<f64> = x.iter().zip(y).map(|(p, q)| q - a - b * p).collect();
    let s = (e.iter().map(|v| v * v).sum::<f64>() / (n - 2.0)).sqrt();
    (Line { a, b, s }, e)
}

impl ShapeFit {
    /// The fit on a population (at least 4 shapes).
    #[must_use]
    pub fn of(members: Vec<Member>) -> Option<Self> {
        if members.len() < 4 {
            return None;
        }
        let x: Vec<f64> = members.iter().map(|m| m.active.ln()).collect();
        let ll: Vec<f64> = members.iter().map(|m| m.layers.ln()).collect();
        let lh: Vec<f64> = members.iter().map(|m| m.hidden.ln()).collect();
        let (layers, el) = line(&x, &ll);
        let (mut hidden, eh) = line(&x, &lh);
        let beta = eh.iter().zip(&el).map(|(h, l)| h * l).sum::<f64>()
            / el.iter().map(|l| l * l).sum::<f64>();
        let n = members.len() as f64;
        // Two coefficients of the line and beta: n - 3 degrees of freedom.
        hidden.s = (eh
            .iter()
            .zip(&el)
            .map(|(h, l)| (h - beta * l).powi(2))
            .sum::<f64>()
            / (n - 3.0))
            .sqrt();
        let lr: Vec<f64> = members
            .iter()
            .map(|m| (m.kv_width / (2.0 * m.hidden)).ln())
            .collect();
        let ratio_mu = lr.iter().sum::<f64>() / n;
        let ratio_s = (lr.iter().map(|v| (v - ratio_mu).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let half = |s: f64| Z95 * s * (1.0 + 1.0 / n).sqrt() / 0.9;
        let halves = (half(layers.s), half(hidden.s), half(ratio_s));
        Some(Self {
            members,
            layers,
            hidden,
            beta,
            ratio_mu,
            ratio_s,
            halves,
        })
    }

    /// The fit on the shipped models table, computed once a process (user rows are not part of
    /// it, so it is the same whatever catalog is in use).
    ///
    /// # Errors
    /// Only if an embedded row is broken.
    pub fn shipped() -> Result<Option<&'static Self>, CatalogError> {
        static FIT: OnceLock<Option<ShapeFit>> = OnceLock::new();
        if let Some(f) = FIT.get() {
            return Ok(f.as_ref());
        }
        let fit = Self::of(population()?);
        Ok(FIT.get_or_init(|| fit).as_ref())
    }

    /// The shape at `active` parameters with the residuals at `(z_l, z_h, z_r)`, each in -1..1
    /// of its draw's half-width (0: the fit).
    #[must_use]
    pub fn at(&self, active: f64, (z_l, z_h, z_r): (f64, f64, f64)) -> Drawn {
        let x = active.ln();
        let (hl, hh, hr) = self.halves;
        let e_l = z_l * hl;
        let layers = (self.layers.a + self.layers.b * x + e_l).exp();
        let ln_h = self.hidden.a + self.hidden.b * x + self.beta * e_l + z_h * hh;
        Drawn {
            layers,
            hidden: ln_h.exp(),
            kv_width: 2.0 * (ln_h + self.ratio_mu + z_r * hr).exp(),
        }
    }

    /// One draw at `active` parameters: three uniforms, in this order (layers, hidden, ratio).
    pub fn draw(&self, d: &mut Draw, active: f64) -> Drawn {
        let unit = Range::new(-1.0, 1.0);
        let z = (d.value(&unit), d.value(&unit), d.value(&unit));
        self.at(active, z)
    }

    /// The P5..P95 of layers, hidden size and KV width at `active` (each residual at its own
    /// 5th and 95th percentile, the others at the fit).
    #[must_use]
    pub fn ranges(&self, active: f64) -> (Range, Range, Range) {
        let (lo, hi) = (-0.9, 0.9);
        let (a, b) = (
            self.at(active, (lo, 0.0, 0.0)),
            self.at(active, (hi, 0.0, 0.0)),
        );
        let (c, e) = (
            self.at(active, (0.0, lo, 0.0)),
            self.at(active, (0.0, hi, 0.0)),
        );
        let (f, g) = (
            self.at(active, (0.0, 0.0, lo)),
            self.at(active, (0.0, 0.0, hi)),
        );
        (
            Range::new(a.layers, b.layers),
            Range::new(c.hidden, e.hidden),
            Range::new(f.kv_width, g.kv_width),
        )
    }

    /// The smallest KV cache per token (`layers x KV width` values) over the corners of the
    /// residuals' P5..P95 box at `active`: what a given replica must hold at the least.
    #[must_use]
    pub fn smallest_kv_per_token(&self, active: f64) -> f64 {
        let mut min = f64::INFINITY;
        for z_l in [-0.9, 0.9] {
            for z_h in [-0.9, 0.9] {
                for z_r in [-0.9, 0.9] {
                    let s = self.at(active, (z_l, z_h, z_r));
                    min = min.min(s.layers * s.kv_width);
                }
            }
        }
        min
    }

    /// The KV heads / attention heads ratio at its P5 and P95.
    #[must_use]
    pub fn ratio_range(&self) -> Range {
        let h = self.halves.2 * 0.9;
        Range::new((self.ratio_mu - h).exp(), (self.ratio_mu + h).exp())
    }

    /// The smallest and largest head dimension of the population.
    #[must_use]
    pub fn head_dims(&self) -> Range {
        let it = self.members.iter().map(|m| m.head_dim);
        Range::new(
            it.clone().fold(f64::INFINITY, f64::min),
            it.fold(0.0, f64::max),
        )
    }

    /// The population's names, joined.
    #[must_use]
    pub fn names(&self) -> String {
        self.members
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The population: shipped rows (the embedded catalog, no user rows) of [`ERA_FROM`] or later
/// with a complete shape, one per distinct (layers, hidden, heads, KV width); rows of other
/// years are not parsed.
///
/// # Errors
/// Only if an embedded row is broken.
pub fn population() -> Result<Vec<Member>, CatalogError> {
    let of_era = |y: &str| y.trim().parse::<u32>().is_ok_and(|y| y >= ERA_FROM);
    let cat = Catalog::embedded();
    let mut out: Vec<(Member, f64)> = Vec::new();
    for m in cat.models()?.rows_where("year", of_era)? {
        let (Some(active), Some(layers), Some(hidden), Some(heads), Some(kv), Some(d)) = (
            m.active_params.or(m.total_params),
            m.layers,
            m.hidden_size,
            m.attention_heads,
            m.kv_heads,
            m.head_dim,
        ) else {
            continue;
        };
        let kv_width = m.kv_cache_width.unwrap_or(2.0 * kv * d);
        let member = Member {
            name: m.name.clone(),
            active,
            layers,
            hidden,
            kv_width,
            head_dim: d,
        };
        let same = |(o, h): &(Member, f64)| {
            o.layers == layers && o.hidden == hidden && *h == heads && o.kv_width == kv_width
        };
        if !out.iter().any(same) {
            out.push((member, heads));
        }
    }
    Ok(out.into_iter().map(|(m, _)| m).collect())
}

#[cfg(test)]
mod tests;
