//! Interruptible jobs: the lowest-carbon set of whole intervals of the series' grid that adds up
//! to the job's duration, in chunks of at least the minimum chunk, with at most the allowed
//! pauses, inside `[earliest, deadline]`. Exact, by dynamic programming.
//!
//! The grid is the series' own intervals when they are all of one length (resampled to the
//! shortest length with [`IntensitySeries::resample`] otherwise); only intervals wholly inside
//! the window count. With `K = duration / step` intervals to place, `m = min_chunk / step` and
//! `R = max_pauses + 1` chunks at most, the state after interval `i` is `(k placed, r chunks
//! begun, l)`, `l = 0` when interval `i` is not run, else the current chunk's length capped at
//! `m` (a chunk shorter than `m` must go on; a gap in the series ends a chunk). Each interval is
//! run or skipped; every state keeps its cheapest `∑ CI x step`, so the optimum over all
//! schedules is exact in `O(n K R m)` time and `O(n K R m)` back-pointers (refused above
//! [`MAX_CELLS`]: narrow the window). A pause limit that cannot bind (`R >= K / m`, as without
//! one) is not counted, and `R` drops out.

use super::{at, ns, shown_duration, Interruptible, PlanError, Schedule, Slot};
use crate::field::{Field, Msg};
use crate::grid::IntensitySeries;
use jiff::{SignedDuration, Timestamp};

/// The most DP cells (`n x (K + 1) x (R + 1) x (m + 1)`, two bytes each) one plan may use.
pub const MAX_CELLS: usize = 32_000_000;

/// An interruptible schedule and the grid it was found on.
#[derive(Clone, Debug, PartialEq)]
pub struct Gridded {
    /// The schedule.
    pub schedule: Schedule,
    /// The grid's step.
    pub step: SignedDuration,
    /// Whether the series was resampled to make the grid.
    pub resampled: bool,
}

/// The lowest-carbon interruptible schedule of `duration` within `[earliest, latest_end]`.
///
/// # Errors
/// [`PlanError::Invalid`] when the duration or minimum chunk is not a whole number of the
/// grid's step, or the minimum chunk is not positive or longer than the duration;
/// [`PlanError::Infeasible`] when no schedule fits or the problem exceeds [`MAX_CELLS`].
pub fn best_interruptible(
    series: &IntensitySeries,
    earliest: Timestamp,
    latest_end: Timestamp,
    duration: SignedDuration,
    rule: Interruptible,
) -> Result<Gridded, PlanError> {
    if let Some(c) = rule.min_chunk {
        if !c.is_positive() || c > duration {
            return Err(PlanError::invalid(
                Field::MinChunk,
                format!(
                    "{} must be positive and no longer than the job's {} ({})",
                    shown_duration(c),
                    Field::Duration.reference(),
                    shown_duration(duration)
                ),
            ));
        }
    }
    let (lo, hi) = (ns(earliest), ns(latest_end));
    let inside = |s: &IntensitySeries| -> Vec<(i128, i128, f64)> {
        s.intervals()
            .iter()
            .filter(|iv| ns(iv.start) >= lo && ns(iv.end) <= hi)
            .map(|iv| (ns(iv.start), ns(iv.end), iv.intensity.value()))
            .collect()
    };
    let mut grid = inside(series);
    let uniform =
        |g: &[(i128, i128, f64)]| g.windows(2).all(|w| w[0].1 - w[0].0 == w[1].1 - w[1].0);
    let mut resampled = false;
    if !uniform(&grid) {
        let min = grid.iter().map(|&(s, e, _)| e - s).min().unwrap_or(1);
        let step = SignedDuration::from_nanos(i64::try_from(min).unwrap_or(i64::MAX));
        let r = series.resample(step)?;
        grid = inside(&r);
        resampled = true;
    }
    let Some(&(s0, e0, _)) = grid.first() else {
        return Err(PlanError::Infeasible(Msg::new(format!(
            "no whole interval of the series lies between {} and {}",
            super::shown(earliest),
            super::shown(latest_end)
        ))));
    };
    let step = e0 - s0;
    let whole = |d: SignedDuration, field: Field| {
        let n = d.as_nanos();
        if n % step == 0 {
            usize::try_from(n / step).map_err(|_| PlanError::invalid(field, "too long"))
        } else {
            Err(PlanError::invalid(
                field,
                format!(
                    "{} is not a whole number of the series' {} intervals: an interruptible \
                     job runs in whole intervals",
                    shown_duration(d),
                    shown_duration(SignedDuration::from_nanos(
                        i64::try_from(step).unwrap_or(i64::MAX)
                    ))
                ),
            ))
        }
    };
    let k_need = whole(duration, Field::Duration)?;
    let m = match rule.min_chunk {
        Some(c) => whole(c, Field::MinChunk)?,
        None => 1,
    };
    if k_need > grid.len() {
        return Err(PlanError::Infeasible(Msg::new(format!(
            "the job needs {k_need} intervals of the series between {} and {}, which hold only \
             {}; give a later {} or a shorter {}",
            super::shown(earliest),
            super::shown(latest_end),
            grid.len(),
            Field::Deadline.reference(),
            Field::Duration.reference()
        ))));
    }
    // At most K / m runs fit: a pause limit at or above that cannot bind, and is not tracked.
    let chunks = rule.max_pauses.saturating_add(1);
    let limit = (chunks < k_need / m).then_some(chunks);
    let states = (k_need + 1) * (limit.unwrap_or(0) + 1) * (m + 1);
    if m >= 1 << 15 || grid.len().saturating_mul(states) > MAX_CELLS {
        return Err(PlanError::Infeasible(Msg::new(format!(
            "an interruptible plan of {} intervals over {} is too large to solve exactly here \
             ({} states); narrow the window with {} and {}",
            k_need,
            grid.len(),
            grid.len().saturating_mul(states),
            Field::Start.reference(),
            Field::Deadline.reference()
        ))));
    }
    #[allow(clippy::cast_precision_loss)]
    let step_h = step as f64 / 3.6e12;
    let picked = solve(&grid, k_need, m, limit).ok_or_else(|| {
        PlanError::Infeasible(Msg::new(format!(
            "no schedule of {} in chunks of at least {} with {} fits the series' gap-free \
             spans between {} and {}",
            shown_duration(duration),
            rule.min_chunk
                .map_or_else(|| "one interval".into(), shown_duration),
            if rule.max_pauses == usize::MAX {
                "any number of pauses".to_string()
            } else {
                format!("at most {} pauses", rule.max_pauses)
            },
            super::shown(earliest),
            super::shown(latest_end)
        )))
    })?;
    let mut slots: Vec<Slot> = Vec::new();
    let mut cost = 0.0;
    for i in picked {
        let (s, e, v) = grid[i];
        cost += v * step_h;
        match slots.last_mut() {
            Some(last) if ns(last.end) == s => last.end = at(e),
            _ => slots.push(Slot {
                start: at(s),
                end: at(e),
            }),
        }
    }
    Ok(Gridded {
        schedule: Schedule {
            slots,
            cost_g_per_kw: cost,
        },
        step: SignedDuration::from_nanos(i64::try_from(step).unwrap_or(i64::MAX)),
        resampled,
    })
}

/// The DP: the indices of the intervals run, in order, or `None` when nothing fits. With
/// `limit`, at most that many runs (counted in the state); without, any number.
fn solve(
    grid: &[(i128, i128, f64)],
    k_need: usize,
    m: usize,
    limit: Option<usize>,
) -> Option<Vec<usize>> {
    let (rn, ln) = (limit.unwrap_or(0) + 1, m + 1);
    let new_run = |r: usize| match limit {
        Some(c) => (r < c).then_some(r + 1),
        None => Some(r),
    };
    let states = (k_need + 1) * rn * ln;
    let idx = |k: usize, r: usize, l: usize| (k * rn + r) * ln + l;
    let mut prev = vec![f64::INFINITY; states];
    let mut next = vec![f64::INFINITY; states];
    // Back-pointer per (interval, state): the previous `l`, and bit 15 when the interval ran.
    let mut back = vec![0u16; grid.len() * states];
    prev[idx(0, 0, 0)] = 0.0;
    for (i, &(s, _, v)) in grid.iter().enumerate() {
        let joined = i > 0 && grid[i - 1].1 == s;
        next.fill(f64::INFINITY);
        let row = &mut back[i * states..(i + 1) * states];
        let mut relax = |to: usize, c: f64, from_l: usize, ran: bool, next: &mut Vec<f64>| {
            if c < next[to] {
                next[to] = c;
                #[allow(clippy::cast_possible_truncation)]
                let code = from_l as u16 | if ran { 1 << 15 } else { 0 };
                row[to] = code;
            }
        };
        for k in 0..=k_need {
            for r in 0..rn {
                for l in 0..ln {
                    let c = prev[idx(k, r, l)];
                    if !c.is_finite() {
                        continue;
                    }
                    // Skip this interval: only outside a chunk or after a long enough one.
                    if l == 0 || l == m {
                        relax(idx(k, r, 0), c, l, false, &mut next);
                    }
                    if k == k_need {
                        continue;
                    }
                    if l >= 1 && joined {
                        relax(idx(k + 1, r, (l + 1).min(m)), c + v, l, true, &mut next);
                    } else if l == 0 || l == m {
                        if let Some(nr) = new_run(r) {
                            relax(idx(k + 1, nr, 1), c + v, l, true, &mut next);
                        }
                    }
                }
            }
        }
        std::mem::swap(&mut prev, &mut next);
    }
    // The cheapest end state: everything placed, not inside a short chunk.
    let mut end: Option<(f64, usize, usize)> = None;
    for r in 0..rn {
        for l in [0, m] {
            let c = prev[idx(k_need, r, l)];
            if c.is_finite() && end.is_none_or(|(b, _, _)| c < b) {
                end = Some((c, r, l));
            }
        }
    }
    let (_, mut r, mut l) = end?;
    let mut k = k_need;
    let mut picked = Vec::with_capacity(k_need);
    for i in (0..grid.len()).rev() {
        let code = back[i * states + idx(k, r, l)];
        let from_l = usize::from(code & 0x7fff);
        if code & (1 << 15) != 0 {
            picked.push(i);
            let joined = i > 0 && grid[i - 1].1 == grid[i].0;
            if !(from_l >= 1 && joined) && limit.is_some() {
                r -= 1;
            }
            k -= 1;
        }
        l = from_l;
    }
    picked.reverse();
    Some(picked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests_support::{hourly, hours, rows, t};

    fn rule(min_h: f64, pauses: usize) -> Interruptible {
        Interruptible {
            min_chunk: Some(hours(min_h)),
            max_pauses: pauses,
        }
    }

    #[test]
    fn it_takes_the_cheapest_chunks_within_the_limits() {
        // 10 300 20 300 30 40: 3 h in 1 h chunks, one pause allowed: {0} + {4,5}? No: runs of
        // at most 2 chunks: {0} + {4, 5} = 80, or {2} + {4, 5} = 90, {0, 1, 2} = 330: 80.
        let s = hourly(&[10.0, 300.0, 20.0, 300.0, 30.0, 40.0]);
        let g = best_interruptible(&s, t(0.0), t(6.0), hours(3.0), rule(1.0, 1)).expect("fits");
        let starts: Vec<_> = g.schedule.slots.iter().map(|s| (s.start, s.end)).collect();
        assert_eq!(starts, vec![(t(0.0), t(1.0)), (t(4.0), t(6.0))]);
        assert!((g.schedule.cost_g_per_kw - 80.0).abs() < 1e-9);
        // Two pauses: {0}, {2}, {4} = 60.
        let g = best_interruptible(&s, t(0.0), t(6.0), hours(3.0), rule(1.0, 2)).expect("fits");
        assert!((g.schedule.cost_g_per_kw - 60.0).abs() < 1e-9);
        assert_eq!(g.schedule.slots.len(), 3);
        // Chunks of at least 2 h: {4, 5} + one more joined: {3, 4, 5} = 370 or {0, 1, 2} = 330;
        // with one pause, 2 h + 1 h is not allowed (1 h < 2 h): 330.
        let g = best_interruptible(&s, t(0.0), t(6.0), hours(3.0), rule(2.0, 1)).expect("fits");
        assert!((g.schedule.cost_g_per_kw - 330.0).abs() < 1e-9);
        assert!(!g.resampled);
    }

    #[test]
    fn limits_and_grid_errors() {
        let s = hourly(&[10.0, 20.0, 30.0]);
        let e = best_interruptible(&s, t(0.0), t(3.0), hours(1.5), rule(1.0, 1))
            .expect_err("not whole");
        assert!(
            matches!(
                e,
                PlanError::Invalid {
                    field: Field::Duration,
                    ..
                }
            ),
            "{e}"
        );
        let e = best_interruptible(&s, t(0.0), t(3.0), hours(2.0), rule(3.0, 1))
            .expect_err("chunk too long");
        assert!(
            matches!(
                e,
                PlanError::Invalid {
                    field: Field::MinChunk,
                    ..
                }
            ),
            "{e}"
        );
        let e = best_interruptible(&s, t(0.0), t(2.0), hours(3.0), rule(1.0, 1))
            .expect_err("too short a window");
        assert!(matches!(e, PlanError::Infeasible(_)), "{e}");
        // A gap splits the 2 h runs: 0-1 and 2-3 cannot make one 2 h chunk.
        let g = rows(&[(0.0, 1.0, 5.0), (2.0, 3.0, 5.0), (3.0, 4.0, 50.0)]);
        let ok = best_interruptible(&g, t(0.0), t(4.0), hours(2.0), rule(2.0, 3)).expect("fits");
        assert_eq!(ok.schedule.slots.len(), 1);
        assert!((ok.schedule.cost_g_per_kw - 55.0).abs() < 1e-9);
    }

    #[test]
    fn a_mixed_grid_is_resampled_to_its_shortest_step() {
        // 0-2 at 100 (one 2 h row), 2-3 at 10: 1 h step; 1 h job: 10.
        let s = rows(&[(0.0, 2.0, 100.0), (2.0, 3.0, 10.0)]);
        let g = best_interruptible(&s, t(0.0), t(3.0), hours(1.0), rule(1.0, 0)).expect("fits");
        assert!(g.resampled);
        assert_eq!(g.schedule.slots[0].start, t(2.0));
    }
}
