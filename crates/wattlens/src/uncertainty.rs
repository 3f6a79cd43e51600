//! Ranges, reproducible sampling and percentiles: every figure wattlens prints is a distribution.
//!
//! Inputs are points or uniform ranges `[lo, hi]`. A model is evaluated once at the central
//! values (for the explanation) and then `samples` times with each range drawn uniformly from a
//! seeded generator, so the same inputs and seed always give the same P5/P50/P95. When no input
//! is a range, one evaluation is enough and the output is a point.

use crate::units::Quantity;
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;

/// The default Monte Carlo seed: output is reproducible unless the user asks otherwise.
pub const DEFAULT_SEED: u64 = 0x5EED_2024;
/// The default number of Monte Carlo samples.
pub const DEFAULT_SAMPLES: usize = 10_000;

/// A point or a uniform range `[lo, hi]`, in the base unit of whatever it measures.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Range {
    /// Lower bound.
    pub lo: f64,
    /// Upper bound (equal to `lo` for a point).
    pub hi: f64,
}

impl Range {
    /// A uniform range; the caller guarantees `lo <= hi`.
    #[must_use]
    pub fn new(lo: f64, hi: f64) -> Self {
        Self { lo, hi }
    }
    /// A single value.
    #[must_use]
    pub fn point(v: f64) -> Self {
        Self { lo: v, hi: v }
    }
    /// The midpoint, used as the central value.
    #[must_use]
    pub fn mid(&self) -> f64 {
        0.5 * (self.lo + self.hi)
    }
    /// Whether the range has no width.
    #[must_use]
    pub fn is_point(&self) -> bool {
        self.lo == self.hi
    }
    /// Scales both ends.
    #[must_use]
    pub fn scale(&self, k: f64) -> Self {
        Self {
            lo: self.lo * k,
            hi: self.hi * k,
        }
    }
    /// `lo..hi` (or just the value, for a point) with a unit, for explanations, in the one human
    /// format ([`fmt_input`]).
    #[must_use]
    pub fn display(&self, unit: &str) -> String {
        let sep = if unit.is_empty() || unit.starts_with('/') || unit == "%" {
            ""
        } else {
            " "
        };
        if self.is_point() || fmt_input(self.lo) == fmt_input(self.hi) {
            format!("{}{sep}{unit}", fmt_input(self.lo))
        } else {
            format!("{}..{}{sep}{unit}", fmt_input(self.lo), fmt_input(self.hi))
        }
    }
}

/// A [`Range`] of one quantity typed by its unit (`UnitRange<GramsPerKwh>`): what it gives is a
/// `U`, never a bare number, so an intensity cannot be drawn, compared or shown as another
/// quantity.
#[derive(Debug, PartialEq)]
pub struct UnitRange<U> {
    range: Range,
    unit: PhantomData<fn() -> U>,
}

impl<U> Clone for UnitRange<U> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<U> Copy for UnitRange<U> {}

impl<U: Quantity> UnitRange<U> {
    /// A uniform range; the caller guarantees `lo <= hi`.
    #[must_use]
    pub fn new(lo: U, hi: U) -> Self {
        Self::from_range(Range::new(lo.raw(), hi.raw()))
    }
    /// A single value.
    #[must_use]
    pub fn point(v: U) -> Self {
        Self::from_range(Range::point(v.raw()))
    }
    /// A range of numbers in `U`'s unit.
    #[must_use]
    pub fn from_range(range: Range) -> Self {
        Self {
            range,
            unit: PhantomData,
        }
    }
    /// The numbers, in `U`'s unit.
    #[must_use]
    pub fn range(&self) -> Range {
        self.range
    }
    /// Lower bound.
    #[must_use]
    pub fn lo(&self) -> U {
        U::of(self.range.lo)
    }
    /// Upper bound.
    #[must_use]
    pub fn hi(&self) -> U {
        U::of(self.range.hi)
    }
    /// The midpoint, the central value.
    #[must_use]
    pub fn mid(&self) -> U {
        U::of(self.range.mid())
    }
    /// One draw ([`Draw::value`]).
    #[inline]
    pub fn draw(&self, d: &mut Draw) -> U {
        U::of(d.value(&self.range))
    }
    /// `lo..hi UNIT` ([`Range::display`] with `U`'s unit).
    #[must_use]
    pub fn display(&self) -> String {
        self.range.display(U::UNIT)
    }
}

/// Formats a number with four significant figures, in plain or scientific notation.
#[must_use]
pub fn fmt_num(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if !(1e-3..1e9).contains(&a) {
        return format!("{v:.3e}");
    }
    let digits = 4 - 1 - a.log10().floor() as i32;
    let s = format!("{:.*}", digits.max(0) as usize, v);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// The one number format of everything printed for people (terminal tables, Markdown, the run
/// summary): three significant figures; thousands separators below a million (`2,020`); the
/// count suffixes the flags accept above it (`2.02M`, `1.21B`, `15T`); scientific notation only
/// beyond 1e15 and below 1e-4 (`7.23e23`, `4.5e-6`); zero, negative zero included, as `0`.
/// JSON and CSV keep full precision and never go through it.
#[must_use]
pub fn fmt_human(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if !v.is_finite() {
        return "-".into();
    }
    let a = v.abs();
    let sign = if v < 0.0 { "-" } else { "" };
    // Rounds to three significant figures first, so that 999,999 becomes 1M, not 1,000k.
    let e = a.log10().floor() as i32;
    let r = {
        let k = 10f64.powi(2 - e);
        let x = (a * k).round() / k;
        if x.is_finite() && x > 0.0 {
            x
        } else {
            a
        }
    };
    if !(1e-4..1e15).contains(&r) {
        let s = format!("{r:.2e}");
        let (m, ex) = s.split_once('e').unwrap_or((&s, "0"));
        let m = if m.contains('.') {
            m.trim_end_matches('0').trim_end_matches('.')
        } else {
            m
        };
        return format!("{sign}{m}e{ex}");
    }
    for (k, suffix) in [(1e12, "T"), (1e9, "B"), (1e6, "M")] {
        if r >= k {
            return format!("{sign}{}{suffix}", sig3(r / k));
        }
    }
    if r >= 1000.0 {
        // A number of four to six digits, rounded to a whole number.
        return format!("{sign}{}", group_thousands(r.round() as u64));
    }
    format!("{sign}{}", sig3(r))
}

/// [`fmt_human`] for the values an estimate is given (flags, catalog rows) and the terms of its
/// formulas, except that a whole number from 1,000 to below a million is written in full with
/// thousands separators (`16,384` accelerators, not `16,400`).
#[must_use]
pub fn fmt_input(v: f64) -> String {
    if v.fract() == 0.0 && (1000.0..1e6).contains(&v.abs()) {
        let sign = if v < 0.0 { "-" } else { "" };
        return format!("{sign}{}", group_thousands(v.abs() as u64));
    }
    fmt_human(v)
}

/// A time in seconds from the start of a run, as every note prints it: to the millisecond,
/// trailing zeros dropped, at least one decimal (`2.0`, `0.02`, `1.235`). A counter reset at
/// t = 0.02 s was noted "at t = 0.0 s" (hostile round 4, item 11), and notes mixed
/// "t = 1.600242 s" with "t = 1.3 s" (round 5).
#[must_use]
pub fn fmt_seconds(t: f64) -> String {
    if !t.is_finite() {
        return format!("{t}");
    }
    // `+ 0.0` makes a rounded -0.0 plain 0.0.
    let s = format!("{:.3}", (t * 1e3).round() / 1e3 + 0.0);
    let s = s.trim_end_matches('0');
    if s.ends_with('.') {
        format!("{s}0")
    } else {
        s.to_string()
    }
}

/// `1234567` as `1,234,567`.
fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A positive number below 1,000 with three significant figures, trailing zeros dropped.
fn sig3(x: f64) -> String {
    let e = x.log10().floor() as i32;
    let digits = (2 - e).max(0) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// SplitMix64: a tiny, well-studied generator. Hand-written (ten lines) so that a seed gives the
/// same numbers whatever version of a random-number crate is in the lock file.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    /// The generator as it will be after `k` more draws (SplitMix64 advances its state by a
    /// fixed increment, so a stream can be split between threads and stay identical).
    #[must_use]
    pub fn jumped(&self, k: u64) -> Self {
        Self(self.0.wrapping_add(k.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
    }

    /// The next uniform value in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// Where input values come from during one evaluation of a model.
#[derive(Debug)]
#[non_exhaustive]
pub enum Draw {
    /// Each range gives its midpoint; counts how many inputs were ranges.
    Central {
        /// Number of non-point ranges met so far.
        uncertain: usize,
    },
    /// Each range gives a uniform random value.
    Random(Rng),
}

impl Draw {
    /// The value of `r` in this evaluation.
    pub fn value(&mut self, r: &Range) -> f64 {
        match self {
            Draw::Central { uncertain } => {
                if !r.is_point() {
                    *uncertain += 1;
                }
                r.mid()
            }
            Draw::Random(rng) => {
                // One uniform per draw site, a point included: the n-th draw of a stage gets the
                // n-th uniform whatever the earlier inputs were, so a variant that turns a range
                // into a point (or back) keeps every other input's draw ([`Sample`]).
                let u = rng.next_f64();
                if r.is_point() {
                    r.lo
                } else {
                    r.lo + u * (r.hi - r.lo)
                }
            }
        }
    }
}

/// The part of an evaluation that draws: each has its own generator in a [`Sample`], so a
/// variant that draws more or fewer inputs in one stage (another accelerator, another
/// precision) leaves the draws of the others where they were.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// The model's own inputs (`Evaluate::evaluate`).
    Model,
    /// The site's (`footprint::SiteValues::draw`).
    Site,
    /// The equivalents' inputs.
    Equivalents,
}

/// One Monte Carlo sample's random numbers: sample `index` of the run seeded `seed`, one
/// generator per [`Stage`], each derived from `(seed, index, stage)` alone. Samples are so
/// independent of one another (a thread can start at any sample without drawing the ones
/// before it), and models evaluated on the same `Sample` get the same k-th uniform at the k-th
/// draw of each stage: common random numbers for paired comparisons.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    seed: u64,
    index: u64,
}

impl Sample {
    /// Sample `index` of the run seeded `seed`.
    #[must_use]
    pub fn new(seed: u64, index: u64) -> Self {
        Self { seed, index }
    }
    /// The draws of `stage` in this sample.
    #[must_use]
    pub fn draw(&self, stage: Stage) -> Draw {
        let s = match stage {
            Stage::Model => 1u64,
            Stage::Site => 2,
            Stage::Equivalents => 3,
        };
        let z = mix64(self.seed ^ mix64(self.index.wrapping_add(s << 56)));
        Draw::Random(Rng::new(z))
    }
}

/// The SplitMix64 finaliser: a bijection of `u64` that spreads every input bit.
fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// P5, P50 and P95 of a figure.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// 5th percentile.
    pub p5: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
}

impl Percentiles {
    /// All three equal.
    #[must_use]
    pub fn point(v: f64) -> Self {
        Self {
            p5: v,
            p50: v,
            p95: v,
        }
    }
    /// Multiplies every percentile (for unit changes).
    #[must_use]
    pub fn scale(&self, k: f64) -> Self {
        Self {
            p5: self.p5 * k,
            p50: self.p50 * k,
            p95: self.p95 * k,
        }
    }
}

/// Percentiles of `xs` by nearest rank (P5 is the value of rank `round(0.05 (n - 1))` in
/// sorted order, and so on).
#[must_use]
pub fn percentiles(xs: &[f64]) -> Percentiles {
    let mut keys: Vec<u64> = xs.iter().map(|x| order_key(*x)).collect();
    percentiles_of_keys(&mut keys)
}

/// Maps an `f64` to a `u64` with the same order (IEEE 754 total order), so that selections
/// compare integers.
#[inline]
#[must_use]
pub fn order_key(v: f64) -> u64 {
    let b = v.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

/// Maps a value, rounded to `f32`, to a `u32` with the same order.
#[inline]
#[must_use]
pub fn order_key32(v: f64) -> u32 {
    let b = (v as f32).to_bits();
    if b >> 31 == 1 {
        !b
    } else {
        b | (1 << 31)
    }
}

/// The inverse of [`order_key32`].
#[inline]
#[must_use]
pub fn from_key32(k: u32) -> f32 {
    f32::from_bits(if k >> 31 == 1 { k & !(1 << 31) } else { !k })
}

/// Nearest-rank P5/P50/P95 of `u32` order keys (reordered in place).
///
/// Large inputs skip the full selections: a strided subsample (the Monte Carlo samples are
/// i.i.d., so a stride is a fair sample) is sorted to bracket each rank; one pass per rank counts
/// the keys below its bracket and collects those inside; a selection inside the bracket gives
/// the exact value. A bracket that misses its rank falls back to a full selection, so the
/// result is always the exact nearest-rank value.
pub fn percentiles_of_keys32(xs: &mut [u32]) -> [u32; 3] {
    let Some(&first) = xs.first() else {
        return [0; 3];
    };
    if xs.iter().all(|x| *x == first) {
        return [first; 3];
    }
    let n = xs.len() - 1;
    let rank = |p: f64| ((p * n as f64).round() as usize).min(n);
    let ranks = [rank(0.05), rank(0.50), rank(0.95)];
    if xs.len() >= 16_384 {
        if let Some(v) = bracketed32(xs, ranks) {
            return v;
        }
    }
    let [i5, i50, i95] = ranks;
    let (lower, m, upper) = xs.select_nth_unstable(i50);
    let p50 = *m;
    let p5 = if i5 < i50 {
        *lower.select_nth_unstable(i5).1
    } else {
        p50
    };
    let p95 = if i95 > i50 {
        *upper.select_nth_unstable(i95 - i50 - 1).1
    } else {
        p50
    };
    [p5, p50, p95]
}

fn bracketed32(xs: &[u32], ranks: [usize; 3]) -> Option<[u32; 3]> {
    const M: usize = 1024;
    let n = xs.len();
    let mut sample: Vec<u32> = xs.iter().step_by(n / M).copied().collect();
    sample.sort_unstable();
    let m = sample.len();
    let mut lo = [0u32; 3];
    let mut width = [0u32; 3];
    for (k, &r) in ranks.iter().enumerate() {
        let q = r as f64 / (n - 1) as f64;
        // Four standard deviations of the subsample rank, and a little more.
        let delta = (4.0 * (m as f64 * q * (1.0 - q)).sqrt()) as usize + 4;
        let centre = (q * (m - 1) as f64).round() as usize;
        lo[k] = sample[centre.saturating_sub(delta)];
        width[k] = sample[(centre + delta).min(m - 1)] - lo[k];
    }
    // One pass for the three brackets, in chunks, without branches: each key is written at the
    // end of each bracket's buffer and the length moves on only when it falls inside, so a
    // stray key is overwritten by the next. A bracket holding over a quarter of the keys is a
    // miss (the full selection is cheaper then).
    const CHUNK: usize = 4096;
    let cap = n / 4;
    let mut below = [0usize; 3];
    let mut len = [0usize; 3];
    let mut bufs: [Vec<u32>; 3] = std::array::from_fn(|_| Vec::with_capacity(cap + CHUNK));
    for chunk in xs.chunks(CHUNK) {
        for (b, l) in bufs.iter_mut().zip(len) {
            b.resize(l + chunk.len(), 0);
        }
        for &x in chunk {
            for k in 0..3 {
                below[k] += usize::from(x < lo[k]);
                bufs[k][len[k]] = x;
                len[k] += usize::from(x.wrapping_sub(lo[k]) <= width[k]);
            }
        }
        if len.iter().any(|l| *l > cap) {
            return None;
        }
    }
    let mut out = [0u32; 3];
    for k in 0..3 {
        let r = ranks[k].checked_sub(below[k])?;
        if r >= len[k] {
            return None;
        }
        out[k] = *bufs[k][..len[k]].select_nth_unstable(r).1;
    }
    Some(out)
}

/// The inverse of [`order_key`].
#[inline]
#[must_use]
pub fn from_key(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

/// Exact nearest-rank P5/P50/P95 of `u64` order keys (reordered in place).
pub fn percentiles_of_keys(xs: &mut [u64]) -> Percentiles {
    let Some(&first) = xs.first() else {
        return Percentiles::point(f64::NAN);
    };
    if xs.iter().all(|x| *x == first) {
        return Percentiles::point(from_key(first));
    }
    let n = xs.len() - 1;
    let rank = |p: f64| ((p * n as f64).round() as usize).min(n);
    let (i5, i50, i95) = (rank(0.05), rank(0.50), rank(0.95));
    let (lower, m, upper) = xs.select_nth_unstable(i50);
    let p50 = *m;
    let p5 = if i5 < i50 {
        *lower.select_nth_unstable(i5).1
    } else {
        p50
    };
    let p95 = if i95 > i50 {
        *upper.select_nth_unstable(i95 - i50 - 1).1
    } else {
        p50
    };
    Percentiles {
        p5: from_key(p5),
        p50: from_key(p50),
        p95: from_key(p95),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn given_values_print_whole_counts_in_full_and_points_once() {
        use super::{fmt_input, Range};
        assert_eq!(fmt_input(16_384.0), "16,384");
        assert_eq!(fmt_input(-2048.0), "-2,048");
        assert_eq!(fmt_input(6_738_417_664.0), "6.74B");
        assert_eq!(fmt_input(1628.04), "1,630");
        assert_eq!(fmt_input(0.375), "0.375");
        assert_eq!(Range::point(2.082).display("L/kWh"), "2.08 L/kWh");
        assert_eq!(Range::new(2.082, 2.082).display(""), "2.08");
        assert_eq!(Range::new(0.1, 0.26).display(""), "0.1..0.26");
        assert_eq!(Range::point(4.059e11).display(""), "406B");
        assert_eq!(
            Range::new(1000.0, 2500.0).display("kgCO2e"),
            "1,000..2,500 kgCO2e"
        );
    }

    proptest::proptest! {
        /// No value, however large or small, prints as a long raw run of digits or in the
        /// four-figure scientific notation (`14937374`, `4.059e11`).
        #[test]
        fn a_displayed_range_is_never_a_raw_number(
            lo in proptest::num::f64::NORMAL | proptest::num::f64::ZERO,
            w in 0.0f64..1e3,
        ) {
            let hi = if lo.is_finite() { lo + lo.abs() * w } else { lo };
            let r = super::Range::new(lo.min(hi), lo.max(hi));
            let s = r.display("kWh");
            // Significant digits in a run (`0.000745` has three, `1,000` at most three a group).
            let longest = s
                .split(|c: char| !c.is_ascii_digit())
                .map(|run| run.trim_start_matches('0').len())
                .max()
                .unwrap_or(0);
            proptest::prop_assert!(longest <= 3, "{s}");
            proptest::prop_assert!(!s.contains(".000e") && !s.contains("inf"), "{s}");
        }
    }

    #[test]
    fn human_numbers_have_three_significant_figures_and_one_style() {
        use super::fmt_human as h;
        let cases = [
            (0.0, "0"),
            (-0.0, "0"),
            (2_017_173.0, "2.02M"),
            (1.207e9, "1.21B"),
            (15e12, "15T"),
            (7.227e23, "7.23e23"),
            (7.453e-4, "0.000745"),
            (4.5e-6, "4.5e-6"),
            (2017.0, "2,020"),
            (999_999.0, "1M"),
            (999.95, "1,000"),
            (96.0, "96"),
            (0.1, "0.1"),
            (0.07048243, "0.0705"),
            (12.345, "12.3"),
            (-1234.0, "-1,230"),
            (123_456.0, "123,000"),
            (f64::NAN, "-"),
        ];
        for (v, want) in cases {
            assert_eq!(h(v), want, "{v}");
        }
    }

    use super::*;

    #[test]
    fn percentiles_of_uniform_ramp() {
        // 0..=100: nearest-rank P5 = 5, P50 = 50, P95 = 95
        let xs: Vec<f64> = (0..=100).rev().map(f64::from).collect();
        let p = percentiles(&xs);
        assert_eq!((p.p5, p.p50, p.p95), (5.0, 50.0, 95.0));
    }

    #[test]
    fn selection_matches_full_sort() {
        let mut rng = Rng::new(3);
        for n in [4096usize, 10_001, 100_000] {
            let mut xs: Vec<f64> = (0..n).map(|_| rng.next_f64().powi(3) * 1e6 - 1e3).collect();
            // A lump of ties around the median must not break the brackets.
            for x in xs.iter_mut().take(n / 10) {
                *x = 42.0;
            }
            let mut sorted = xs.clone();
            sorted.sort_by(f64::total_cmp);
            let r = |p: f64| sorted[((p * (n - 1) as f64).round() as usize).min(n - 1)];
            let got = percentiles(&xs);
            assert_eq!(
                (got.p5, got.p50, got.p95),
                (r(0.05), r(0.5), r(0.95)),
                "n = {n}"
            );
        }
    }

    #[test]
    fn bracketed_u32_selection_is_exact() {
        let mut rng = Rng::new(5);
        // A lump of ties around the median must not break the brackets; one of half the keys
        // overfills a bracket and takes the full selection instead.
        for (n, every) in [(16_384usize, 9), (100_000, 9), (100_003, 9), (100_000, 2)] {
            let mut xs: Vec<u32> = (0..n)
                .map(|_| order_key32(rng.next_f64().powi(4) * 1e5 - 7.0))
                .collect();
            for x in xs.iter_mut().step_by(every) {
                *x = order_key32(42.0);
            }
            let mut sorted = xs.clone();
            sorted.sort_unstable();
            let r = |p: f64| sorted[((p * (n - 1) as f64).round() as usize).min(n - 1)];
            assert_eq!(
                percentiles_of_keys32(&mut xs),
                [r(0.05), r(0.5), r(0.95)],
                "n = {n}"
            );
        }
    }

    #[test]
    fn keys_keep_the_order_of_floats() {
        let xs = [-1e300, -2.5, -0.0, 0.0, 1e-300, 0.5, 3.0, 1e300];
        for w in xs.windows(2) {
            assert!(order_key(w[0]) <= order_key(w[1]), "{w:?}");
            assert_eq!(from_key(order_key(w[0])), w[0]);
        }
    }

    #[test]
    fn rng_is_reproducible_and_uniform() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let xs: Vec<f64> = (0..10_000).map(|_| a.next_f64()).collect();
        assert!(xs
            .iter()
            .zip((0..10_000).map(|_| b.next_f64()))
            .all(|(x, y)| *x == y));
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((mean - 0.5).abs() < 0.01, "mean {mean}");
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
    }

    #[test]
    fn jump_matches_drawing() {
        let mut a = Rng::new(11);
        let b = a.jumped(1000);
        for _ in 0..1000 {
            let _ = a.next_f64();
        }
        assert_eq!(a.clone().next_f64(), b.clone().next_f64());
    }

    #[test]
    fn a_point_takes_its_uniform_so_later_draws_stay_aligned() {
        // The same stage of the same sample: the third draw is the same value whether the
        // second input is a range or a point.
        let s = Sample::new(9, 41);
        let mut a = s.draw(Stage::Site);
        let mut b = s.draw(Stage::Site);
        let r = Range::new(10.0, 20.0);
        assert_eq!(a.value(&r), b.value(&r));
        let _ = a.value(&Range::new(1.1, 1.5));
        assert_eq!(b.value(&Range::point(1.1)), 1.1);
        assert_eq!(a.value(&r), b.value(&r));
    }

    #[test]
    fn stages_and_samples_draw_apart() {
        let first = |d: &mut Draw| d.value(&Range::new(0.0, 1.0));
        let s = Sample::new(3, 0);
        let m = first(&mut s.draw(Stage::Model));
        assert_eq!(m, first(&mut Sample::new(3, 0).draw(Stage::Model)));
        assert_ne!(m, first(&mut s.draw(Stage::Site)));
        assert_ne!(m, first(&mut Sample::new(3, 1).draw(Stage::Model)));
        assert_ne!(m, first(&mut Sample::new(4, 0).draw(Stage::Model)));
        // Uniform over many samples.
        let xs: Vec<f64> = (0..10_000)
            .map(|i| first(&mut Sample::new(3, i).draw(Stage::Site)))
            .collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((mean - 0.5).abs() < 0.01, "mean {mean}");
    }

    #[test]
    fn draw_central_counts_ranges() {
        let mut d = Draw::Central { uncertain: 0 };
        assert_eq!(d.value(&Range::new(1.0, 3.0)), 2.0);
        assert_eq!(d.value(&Range::point(5.0)), 5.0);
        assert!(matches!(d, Draw::Central { uncertain: 1 }));
    }

    #[test]
    fn formats_numbers() {
        assert_eq!(fmt_num(1296.0), "1296");
        assert_eq!(fmt_num(0.4), "0.4");
        assert_eq!(fmt_num(29_082.24), "29082");
        assert_eq!(fmt_num(2.184e25), "2.184e25");
    }

    #[test]
    fn seconds_print_to_the_millisecond_with_one_decimal_at_least() {
        use super::fmt_seconds;
        assert_eq!(fmt_seconds(2.0), "2.0");
        assert_eq!(fmt_seconds(0.5), "0.5");
        assert_eq!(fmt_seconds(0.02), "0.02");
        assert_eq!(fmt_seconds(0.0), "0.0");
        assert_eq!(fmt_seconds(1.234_567), "1.235");
        assert_eq!(fmt_seconds(1.600_242), "1.6");
        assert_eq!(fmt_seconds(-0.0001), "0.0");
        assert_eq!(fmt_seconds(3600.25), "3600.25");
        // 0.1 + 0.2 is 0.30000000000000004: still tenths.
        assert_eq!(fmt_seconds(0.1 + 0.2), "0.3");
    }
}
