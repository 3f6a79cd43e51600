//! Property tests of the planner against brute force: the contiguous search on random series
//! (with gaps) and on the real GB fixture, and the interruptible DP on small instances, whose
//! schedules must also keep every chunk, pause and window limit.

use super::tests_support::{hours, rows, t};
use super::{best_interruptible, ContiguousIndex, Interruptible};
use crate::grid::{read_csv, CsvOptions, IntensitySeries};
use proptest::prelude::*;

/// Random series on a 15-minute lattice: interval lengths of 1..6 quarters, values 0..500,
/// and now and then a gap of 1..3 quarters.
fn lattice_series() -> impl Strategy<Value = IntensitySeries> {
    prop::collection::vec((1u32..=6, 0u32..=500, 0u32..=9), 2..24).prop_map(|rs| {
        let mut at = 0u32;
        let mut out = Vec::new();
        for (len, v, gap) in rs {
            if gap >= 8 {
                at += gap - 7;
            }
            out.push((f64::from(at) / 4.0, f64::from(at + len) / 4.0, f64::from(v)));
            at += len;
        }
        rows(&out)
    })
}

/// The lowest cost over every covered start on the lattice within the window (every
/// candidate start of the exact search lies on it), or `None`.
fn brute_contiguous(idx: &ContiguousIndex, lo_q: u32, hi_q: u32, d_q: u32) -> Option<f64> {
    (lo_q..=hi_q.saturating_sub(d_q))
        .filter_map(|q| idx.cost(t(f64::from(q) / 4.0), hours(f64::from(d_q) / 4.0)))
        .reduce(f64::min)
}

fn check_contiguous(s: &IntensitySeries, lo_q: u32, hi_q: u32, d_q: u32) {
    let idx = ContiguousIndex::new(s);
    let got = idx.best(
        t(f64::from(lo_q) / 4.0),
        t(f64::from(hi_q) / 4.0),
        hours(f64::from(d_q) / 4.0),
    );
    let want = if hi_q >= lo_q + d_q {
        brute_contiguous(&idx, lo_q, hi_q, d_q)
    } else {
        None
    };
    match (got, want) {
        (None, None) => {}
        (Some(g), Some(w)) => {
            assert!(
                (g.cost_g_per_kw - w).abs() <= 1e-9 * w.max(1.0),
                "{} vs brute force {w}",
                g.cost_g_per_kw
            );
            let slot = g.slots[0];
            assert!(slot.start >= t(f64::from(lo_q) / 4.0));
            assert!(slot.end <= t(f64::from(hi_q) / 4.0));
            let again = idx.cost(slot.start, slot.duration()).expect("covered");
            assert!((again - g.cost_g_per_kw).abs() <= 1e-9 * w.max(1.0));
        }
        (g, w) => panic!("search {g:?} vs brute force {w:?}"),
    }
}

/// The first 49 half-hours of the NESO GB series of 2023 (forecast column).
fn gb() -> IntensitySeries {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gb_neso_carbon_intensity_2023_first_50_lines.csv");
    read_csv(&path, &CsvOptions::default().with_column("forecast")).expect("fixture")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn contiguous_equals_brute_force(
        s in lattice_series(),
        lo in 0u32..40,
        len in 0u32..80,
        d in 1u32..16,
    ) {
        check_contiguous(&s, lo, lo + len, d);
    }

    #[test]
    fn contiguous_equals_brute_force_on_the_real_gb_series(
        lo in 0u32..48,
        len in 0u32..48,
        d in 1u32..24,
    ) {
        // Half-hour rows from 2022-12-31T23:30Z: on a 15-minute lattice from that start,
        // with the job in half-hours.
        let s = gb();
        let idx = ContiguousIndex::new(&s);
        let (lo_t, hi_t) = (s.start() + hours(f64::from(lo) / 2.0), s.start() + hours(f64::from(lo + len) / 2.0));
        let dur = hours(f64::from(d) / 2.0);
        let got = idx.best(lo_t, hi_t, dur).map(|g| g.cost_g_per_kw);
        let want = (0..=len)
            .filter(|q| q + d <= len)
            .filter_map(|q| idx.cost(lo_t + hours(f64::from(q) / 2.0), dur))
            .reduce(f64::min);
        match (got, want) {
            (Some(g), Some(w)) => prop_assert!((g - w).abs() <= 1e-9 * w.max(1.0), "{g} vs {w}"),
            (None, None) => {}
            (g, w) => prop_assert!(false, "{g:?} vs {w:?}"),
        }
    }

    #[test]
    fn interruptible_is_optimal_and_keeps_its_limits(
        values in prop::collection::vec(0u32..300, 3..11),
        k in 1usize..8,
        m in 1usize..4,
        pauses in 0usize..4,
        gap_at in 0usize..12,
    ) {
        let n = values.len();
        let k = k.min(n);
        let m = m.min(k);
        // Hourly intervals, with a one-hour gap before interval `gap_at` when it is inside.
        let mut rs = Vec::new();
        let mut at = 0.0;
        for (i, &v) in values.iter().enumerate() {
            if i == gap_at && i > 0 {
                at += 1.0;
            }
            rs.push((at, at + 1.0, f64::from(v)));
            at += 1.0;
        }
        let s = rows(&rs);
        let rule = Interruptible { min_chunk: Some(hours(m as f64)), max_pauses: pauses };
        let got = best_interruptible(&s, t(0.0), t(at), hours(k as f64), rule).ok();
        // Brute force over every set of k intervals.
        let joined = |i: usize| i > 0 && (rs[i].0 - rs[i - 1].1).abs() < 1e-9;
        let mut want: Option<f64> = None;
        for mask in 0u32..(1 << n) {
            if mask.count_ones() as usize != k {
                continue;
            }
            let mut runs: Vec<usize> = Vec::new();
            for i in 0..n {
                if mask & (1 << i) == 0 {
                    continue;
                }
                let cont = i > 0 && mask & (1 << (i - 1)) != 0 && joined(i);
                match runs.last_mut() {
                    Some(r) if cont => *r += 1,
                    _ => runs.push(1),
                }
            }
            if runs.iter().all(|&r| r >= m) && runs.len() <= pauses + 1 {
                let c: f64 = (0..n).filter(|i| mask & (1 << i) != 0).map(|i| rs[i].2).sum();
                want = Some(want.map_or(c, |w: f64| w.min(c)));
            }
        }
        match (got, want) {
            (Some(g), Some(w)) => {
                prop_assert!((g.schedule.cost_g_per_kw - w).abs() < 1e-9, "{} vs {w}", g.schedule.cost_g_per_kw);
                let slots = &g.schedule.slots;
                prop_assert!(slots.len() <= pauses + 1);
                let total: f64 = slots.iter().map(|s| s.duration().as_secs_f64()).sum();
                prop_assert!((total - 3600.0 * k as f64).abs() < 1e-6);
                for (i, sl) in slots.iter().enumerate() {
                    prop_assert!(sl.duration() >= hours(m as f64));
                    prop_assert!(sl.start >= t(0.0) && sl.end <= t(at));
                    prop_assert!(idx_covered(&s, sl.start, sl.duration()));
                    if i > 0 {
                        prop_assert!(slots[i - 1].end < sl.start, "chunks touch: {slots:?}");
                    }
                }
            }
            (None, None) => {}
            (g, w) => prop_assert!(false, "{g:?} vs brute force {w:?}"),
        }
    }
}

fn idx_covered(s: &IntensitySeries, start: jiff::Timestamp, d: jiff::SignedDuration) -> bool {
    ContiguousIndex::new(s).cost(start, d).is_some()
}
