//! Columns of Monte Carlo output: each evaluation of a model puts its figures in a fixed order,
//! and the columns are reduced to percentiles at the end.

use crate::uncertainty::{percentiles, Percentiles};

/// The figures of all evaluations, one column per named figure.
#[derive(Debug, Default)]
pub struct Record {
    cols: Vec<(&'static str, Vec<f64>)>,
    cursor: usize,
    first: bool,
}

impl Record {
    /// An empty record sized for `samples` evaluations.
    #[must_use]
    pub fn new() -> Self {
        Self { cols: Vec::new(), cursor: 0, first: true }
    }

    /// Starts the next evaluation.
    pub fn next_sample(&mut self) {
        if self.cursor > 0 {
            self.first = false;
        }
        self.cursor = 0;
    }

    /// Puts figure `key` of the current evaluation. Every evaluation must put the same keys in
    /// the same order (the models are straight-line code, so they do).
    pub fn put(&mut self, key: &'static str, v: f64) {
        if self.first {
            self.cols.push((key, vec![v]));
        } else if let Some((k, col)) = self.cols.get_mut(self.cursor) {
            debug_assert_eq!(*k, key, "figures must be put in the same order");
            col.push(v);
        }
        self.cursor += 1;
    }

    /// Reserves room for `n` evaluations in every column.
    pub fn reserve(&mut self, n: usize) {
        for (_, c) in &mut self.cols {
            c.reserve(n);
        }
    }

    /// Reduces each column to its percentiles, in the order the figures were put.
    #[must_use]
    pub fn summarise(mut self) -> Vec<(&'static str, Percentiles)> {
        self.cols.iter_mut().map(|(k, c)| (*k, percentiles(c))).collect()
    }
}
