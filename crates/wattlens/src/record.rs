//! Where a model's figures go during one evaluation: the central evaluation keeps exact `f64`
//! values; Monte Carlo evaluations write `f32` order keys into preallocated columns, one row
//! per sample, so that the hot loop allocates nothing and percentiles are integer selections.
//!
//! `f32` keeps 7 significant digits, far finer than the sampling error of any Monte Carlo
//! percentile; point inputs never go through it.

use crate::figure::Figure;
use crate::uncertainty::{from_key32, order_key32, percentiles_of_keys32, Percentiles};

/// A sink for one evaluation's figures.
#[derive(Debug)]
#[non_exhaustive]
pub enum Record<'a> {
    /// The central evaluation: names and exact values.
    Central {
        /// Figure names in the order put.
        keys: Vec<Figure>,
        /// Their values.
        values: Vec<f64>,
    },
    /// Monte Carlo rows: `cols[figure][row]`.
    Rows {
        /// One mutable column slice per figure.
        cols: Vec<&'a mut [u32]>,
        /// Current row.
        row: usize,
        /// Next figure index in the row.
        cursor: usize,
    },
}

impl Record<'_> {
    /// A sink for the central evaluation.
    #[must_use]
    pub fn central() -> Self {
        Record::Central {
            keys: Vec::new(),
            values: Vec::new(),
        }
    }

    /// Puts figure `key`. Every evaluation puts the same keys in the same order (the models are
    /// straight-line code over a fixed spec, so they do).
    #[inline]
    pub fn put(&mut self, key: Figure, v: f64) {
        match self {
            Record::Central { keys, values } => {
                keys.push(key);
                values.push(v);
            }
            Record::Rows { cols, row, cursor } => {
                if let Some(c) = cols.get_mut(*cursor) {
                    if let Some(cell) = c.get_mut(*row) {
                        *cell = order_key32(v);
                    }
                }
                *cursor += 1;
            }
        }
    }

    /// Moves to the next row (Monte Carlo) after an evaluation.
    #[inline]
    pub fn end_sample(&mut self) {
        if let Record::Rows { row, cursor, .. } = self {
            *row += 1;
            *cursor = 0;
        }
    }

    /// A figure of the central evaluation, by key.
    #[cfg(test)]
    #[must_use]
    pub(crate) fn central_value(&self, key: Figure) -> Option<f64> {
        match self {
            Record::Central { keys, values } => {
                keys.iter().position(|k| *k == key).map(|i| values[i])
            }
            Record::Rows { .. } => None,
        }
    }

    /// The central figures as points.
    #[must_use]
    pub fn into_points(self) -> Vec<(Figure, Percentiles)> {
        match self {
            Record::Central { keys, values } => keys
                .into_iter()
                .zip(values)
                .map(|(k, v)| (k, Percentiles::point(v)))
                .collect(),
            Record::Rows { .. } => Vec::new(),
        }
    }
}

/// Percentiles of every column, on two threads when `parallel`.
#[must_use]
pub fn summarise(
    keys: &[Figure],
    cols: &mut [Vec<u32>],
    parallel: bool,
) -> Vec<(Figure, Percentiles)> {
    let reduce = |c: &mut Vec<u32>| {
        let p = percentiles_of_keys32(c);
        let tidy = |k: u32| tidy(f64::from(from_key32(k)));
        Percentiles {
            p5: tidy(p[0]),
            p50: tidy(p[1]),
            p95: tidy(p[2]),
        }
    };
    let half = if parallel { cols.len() / 2 } else { 0 };
    let (a, b) = cols.split_at_mut(half);
    let (pa, pb) = std::thread::scope(|s| {
        let h = (!a.is_empty()).then(|| s.spawn(|| a.iter_mut().map(reduce).collect::<Vec<_>>()));
        let pb: Vec<_> = b.iter_mut().map(reduce).collect();
        (
            h.map(|h| h.join().unwrap_or_default()).unwrap_or_default(),
            pb,
        )
    });
    keys.iter().copied().zip(pa.into_iter().chain(pb)).collect()
}

/// Rounds an `f32`-derived value to 7 significant digits so `0.1f32` prints as `0.1`.
fn tidy(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    format!("{x:.6e}").parse().unwrap_or(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_fill_columns_and_reduce() {
        let mut data = vec![vec![0u32; 101], vec![0u32; 101]];
        {
            let cols: Vec<&mut [u32]> = data.iter_mut().map(Vec::as_mut_slice).collect();
            let mut r = Record::Rows {
                cols,
                row: 0,
                cursor: 0,
            };
            for i in 0..101 {
                r.put(Figure::ItEnergy, f64::from(i));
                r.put(Figure::Water, 1000.0 - f64::from(i) / 10.0);
                r.end_sample();
            }
        }
        let s = summarise(&[Figure::ItEnergy, Figure::Water], &mut data, true);
        assert_eq!((s[0].1.p5, s[0].1.p50, s[0].1.p95), (5.0, 50.0, 95.0));
        assert_eq!((s[1].1.p5, s[1].1.p50, s[1].1.p95), (990.5, 995.0, 999.5));
    }
}
