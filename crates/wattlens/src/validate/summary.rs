//! The summary of a set of checks against published figures: median absolute error of the
//! P50, coverage of P5..P95, median width (P95/P5) beside it, and bias (median signed error).

use serde::Serialize;

/// One check's outcome, as the summary needs it.
#[derive(Clone, Copy, Debug)]
pub struct Outcome {
    /// `(P50 - published) / published`.
    pub error: f64,
    /// Whether the published figure lies within P5..P95.
    pub inside: bool,
    /// P95 / P5.
    pub width: f64,
}

/// Figures over a set of checks.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Checks.
    pub rows: usize,
    /// Distinct families among them.
    pub families: usize,
    /// Median of `|P50 error|`.
    pub median_abs_error: f64,
    /// Share of published figures inside P5..P95.
    pub coverage: f64,
    /// Checks inside P5..P95.
    pub inside: usize,
    /// Median of P95/P5 (the width beside the coverage).
    pub median_width: f64,
    /// Median signed error (negative: the estimate is low).
    pub bias: f64,
}

/// The median (mean of the middle two for an even count); NaN for none.
#[must_use]
pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

impl Summary {
    /// Summarises outcomes; `families` is the number of distinct families among them.
    #[must_use]
    pub fn of(outcomes: &[Outcome], families: usize) -> Self {
        let inside = outcomes.iter().filter(|o| o.inside).count();
        Self {
            rows: outcomes.len(),
            families,
            median_abs_error: median(outcomes.iter().map(|o| o.error.abs()).collect()),
            coverage: if outcomes.is_empty() {
                f64::NAN
            } else {
                inside as f64 / outcomes.len() as f64
            },
            inside,
            median_width: median(outcomes.iter().map(|o| o.width).collect()),
            bias: median(outcomes.iter().map(|o| o.error).collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_by_hand() {
        let o = |error, inside, width| Outcome {
            error,
            inside,
            width,
        };
        // |errors| 0.1, 0.3, 0.2 -> median 0.2; signed -0.1, 0.3, -0.2 -> bias -0.1;
        // 2 of 3 inside; widths 2, 3, 4 -> 3.
        let s = Summary::of(
            &[o(-0.1, true, 2.0), o(0.3, false, 3.0), o(-0.2, true, 4.0)],
            2,
        );
        assert_eq!(s.rows, 3);
        assert!((s.median_abs_error - 0.2).abs() < 1e-12);
        assert!((s.bias + 0.1).abs() < 1e-12);
        assert!((s.coverage - 2.0 / 3.0).abs() < 1e-12);
        assert!((s.median_width - 3.0).abs() < 1e-12);
        assert_eq!(median(vec![1.0, 4.0, 2.0, 3.0]), 2.5);
        assert!(median(vec![]).is_nan());
    }
}
