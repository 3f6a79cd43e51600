//! The schedule search of `plan renewable` on a grid of equal cells: the on-site energy of a
//! schedule ([`Instance::on_site`]), exhaustive search where the instance is small
//! ([`Instance::exhaustive`], exact), and otherwise greedy placement against the residual
//! supply followed by local improvement ([`Instance::greedy_local`]).

use super::dispatch::{dispatch, Dispatched, Storage};

/// A job on the cell grid.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CellJob {
    /// Cells it runs for.
    pub len: usize,
    /// Its load at the site (IT power x PUE), kW.
    pub load_kw: f64,
    /// The first cell it may start in.
    pub first: usize,
    /// The last cell it may start in (inclusive; `first <= last`).
    pub last: usize,
}

impl CellJob {
    /// Its energy, kWh, on cells of `dt_h` hours.
    #[must_use]
    pub fn energy_kwh(&self, dt_h: f64) -> f64 {
        self.load_kw * self.len as f64 * dt_h
    }
}

/// The problem on the cell grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    /// Hours per cell.
    pub dt_h: f64,
    /// Renewable power left for the jobs after the other load, kW per cell (>= 0).
    pub avail_kw: Vec<f64>,
    /// The jobs.
    pub jobs: Vec<CellJob>,
    /// The battery, when there is one.
    pub storage: Option<Storage>,
}

/// On-site energy of a schedule, kWh.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct OnSite {
    /// Renewable energy the jobs use as it is generated.
    pub direct_kwh: f64,
    /// What the battery did.
    pub storage: Dispatched,
}

impl OnSite {
    /// Direct use plus the battery's discharge.
    #[must_use]
    pub fn total_kwh(&self) -> f64 {
        self.direct_kwh + self.storage.discharged_kwh
    }
}

/// The starting points of the heuristic: the order in which the greedy placement takes the
/// jobs (ties: the tighter window, then the queue's order), or their releases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Order {
    /// Decreasing energy.
    Energy,
    /// Increasing slack (window less duration).
    Slack,
    /// Decreasing power.
    Load,
    /// Increasing release.
    Release,
    /// Every job at its release, then the local improvement.
    Baseline,
}

impl Order {
    /// Every order, in the order the heuristic runs them.
    pub const ALL: [Order; 5] = [
        Order::Energy,
        Order::Slack,
        Order::Load,
        Order::Release,
        Order::Baseline,
    ];
}

/// Most starts per job the battery's polish tries in a pass.
pub const POLISH_CANDIDATES: usize = 48;

/// Most schedule evaluations x cells the exhaustive search may spend.
pub const EXHAUSTIVE_WORK: u128 = 20_000_000;

impl Instance {
    /// The jobs' load per cell for `starts` (one start cell per job).
    #[must_use]
    pub fn load(&self, starts: &[usize]) -> Vec<f64> {
        let mut l = vec![0.0; self.avail_kw.len()];
        for (j, &s) in self.jobs.iter().zip(starts) {
            for x in &mut l[s..s + j.len] {
                *x += j.load_kw;
            }
        }
        l
    }

    /// The on-site energy of `starts`, with the battery's discharge per cell written into
    /// `per_cell` when given.
    #[must_use]
    pub fn on_site(&self, starts: &[usize], per_cell: Option<&mut Vec<f64>>) -> OnSite {
        let l = self.load(starts);
        self.on_site_of_load(&l, per_cell)
    }

    fn on_site_of_load(&self, l: &[f64], per_cell: Option<&mut Vec<f64>>) -> OnSite {
        let direct: f64 = self
            .avail_kw
            .iter()
            .zip(l)
            .map(|(a, x)| a.min(*x))
            .sum::<f64>()
            * self.dt_h;
        let storage = self.storage.map_or_else(Dispatched::default, |s| {
            let cells = self
                .avail_kw
                .iter()
                .zip(l)
                .map(|(a, x)| ((a - x).max(0.0), (x - a).max(0.0)));
            dispatch(&s, self.dt_h, cells, per_cell)
        });
        OnSite {
            direct_kwh: direct,
            storage,
        }
    }

    /// The number of schedules (the product of each job's start choices), saturating.
    #[must_use]
    pub fn schedules(&self) -> u128 {
        self.jobs
            .iter()
            .map(|j| (j.last - j.first + 1) as u128)
            .fold(1u128, u128::saturating_mul)
    }

    /// The best schedule over every combination of starts (the first found on ties), when
    /// that takes at most [`EXHAUSTIVE_WORK`] cell evaluations; `None` otherwise.
    #[must_use]
    pub fn exhaustive(&self) -> Option<Vec<usize>> {
        let work = self
            .schedules()
            .saturating_mul(self.avail_kw.len() as u128 + 1);
        if work > EXHAUSTIVE_WORK {
            return None;
        }
        let mut starts: Vec<usize> = self.jobs.iter().map(|j| j.first).collect();
        let mut best = (f64::NEG_INFINITY, starts.clone());
        loop {
            let v = self.on_site(&starts, None).total_kwh();
            if v > best.0 + 1e-9 * v.abs().max(1.0) {
                best = (v, starts.clone());
            }
            // The next combination (an odometer over the jobs' start ranges).
            let mut k = 0;
            loop {
                if k == starts.len() {
                    return Some(best.1);
                }
                if starts[k] < self.jobs[k].last {
                    starts[k] += 1;
                    break;
                }
                starts[k] = self.jobs[k].first;
                k += 1;
            }
        }
    }

    /// Greedy placement, then local improvement, from several starting points; the best by
    /// the whole objective (direct use plus the battery's discharge) wins. Each run: jobs in one
    /// of [`Order`]'s orders each take the start with the most renewable power left over its
    /// cells (`sum_t min(residual_t, load)`, the exact gain of placing it; ties: the earliest),
    /// or, for [`Order::Baseline`], their release; then, pass after pass, each job is lifted out
    /// and put back at its best start, until a pass moves nothing (at most `passes`; every move
    /// strictly raises the direct use, so it ends). Runs go in [`Order::ALL`]'s order while the
    /// cells looked at stay within `budget` (the first always runs).
    #[must_use]
    pub fn greedy_local(&self, passes: usize, budget: u64) -> Vec<usize> {
        let mut best: Option<(f64, Vec<usize>)> = None;
        let mut work = 0u64;
        for order in Order::ALL {
            if best.is_some() && work > budget {
                break;
            }
            let starts = self.descend(order, passes, &mut work);
            let v = self.on_site(&starts, None).total_kwh();
            if best
                .as_ref()
                .is_none_or(|(b, _)| v > b + 1e-9 * v.abs().max(1.0))
            {
                best = Some((v, starts));
            }
        }
        best.map(|(_, s)| s).unwrap_or_default()
    }

    /// With a battery, local improvement on the whole objective (direct use plus discharge,
    /// the battery dispatched for every candidate): job by job, up to [`POLISH_CANDIDATES`]
    /// starts of its window (all of them in a short window, else evenly spaced) are tried and
    /// the best taken when it strictly improves; passes until none moves (at most `passes`) or
    /// the cells looked at would pass `budget`. Without a battery it does nothing (the direct
    /// search is already that).
    pub fn polish(&self, starts: &mut [usize], passes: usize, budget: u64) {
        if self.storage.is_none() {
            return;
        }
        let per_eval = self.avail_kw.len() as u64 + 1;
        let mut work = 0u64;
        let mut best = self.on_site(starts, None).total_kwh();
        for _ in 0..passes {
            let mut moved = false;
            for j in 0..self.jobs.len() {
                let job = self.jobs[j];
                let span = job.last - job.first + 1;
                let n = span.min(POLISH_CANDIDATES);
                work += n as u64 * per_eval;
                if work > budget {
                    return;
                }
                let old = starts[j];
                let mut pick = old;
                for k in 0..n {
                    let s = job.first + k * (span - 1) / (n - 1).max(1);
                    if s == old {
                        continue;
                    }
                    starts[j] = s;
                    let v = self.on_site(starts, None).total_kwh();
                    if v > best + 1e-9 * v.abs().max(1.0) {
                        best = v;
                        pick = s;
                    }
                }
                starts[j] = pick;
                moved |= pick != old;
            }
            if !moved {
                return;
            }
        }
    }

    /// One greedy placement in `order` and its local improvement; `work` counts the cells
    /// looked at.
    fn descend(&self, order: Order, passes: usize, work: &mut u64) -> Vec<usize> {
        let mut ids: Vec<usize> = (0..self.jobs.len()).collect();
        let key = |j: &CellJob| match order {
            Order::Energy | Order::Baseline => -j.energy_kwh(1.0),
            Order::Slack => (j.last - j.first) as f64,
            Order::Load => -j.load_kw,
            Order::Release => j.first as f64,
        };
        ids.sort_by(|&a, &b| {
            let (ja, jb) = (&self.jobs[a], &self.jobs[b]);
            key(ja)
                .total_cmp(&key(jb))
                .then((ja.last - ja.first).cmp(&(jb.last - jb.first)))
                .then(a.cmp(&b))
        });
        let mut load = vec![0.0; self.avail_kw.len()];
        let mut starts = vec![0; self.jobs.len()];
        let mut h = Vec::new();
        for &j in &ids {
            let s = if order == Order::Baseline {
                self.jobs[j].first
            } else {
                *work += (self.jobs[j].last - self.jobs[j].first + self.jobs[j].len) as u64;
                self.best_start(j, &load, &mut h).0
            };
            starts[j] = s;
            self.put(j, s, &mut load, 1.0);
        }
        for _ in 0..passes {
            let mut moved = false;
            for &j in &ids {
                let old = starts[j];
                self.put(j, old, &mut load, -1.0);
                *work += (self.jobs[j].last - self.jobs[j].first + self.jobs[j].len) as u64;
                let (s, gain) = self.best_start(j, &load, &mut h);
                let job = &self.jobs[j];
                let off = old - job.first;
                let old_gain: f64 = h[off..off + job.len].iter().sum();
                if gain > old_gain + 1e-9 * gain.abs().max(1.0) {
                    starts[j] = s;
                    moved = true;
                }
                self.put(j, starts[j], &mut load, 1.0);
            }
            if !moved {
                break;
            }
        }
        starts
    }

    /// Adds (`sign` 1) or removes (-1) job `j` started at `s` to the load.
    fn put(&self, j: usize, s: usize, load: &mut [f64], sign: f64) {
        let job = &self.jobs[j];
        for x in &mut load[s..s + job.len] {
            *x = (*x + sign * job.load_kw).max(0.0);
        }
    }

    /// The start of job `j` with the most direct use against `load` and that use (kW x cells);
    /// `h` is left holding `min(residual, load_kw)` over the job's window.
    fn best_start(&self, j: usize, load: &[f64], h: &mut Vec<f64>) -> (usize, f64) {
        let job = &self.jobs[j];
        let end = job.last + job.len;
        h.clear();
        h.extend(
            self.avail_kw[job.first..end]
                .iter()
                .zip(&load[job.first..end])
                .map(|(a, l)| (a - l).max(0.0).min(job.load_kw)),
        );
        let mut sum: f64 = h[..job.len].iter().sum();
        let mut best = (job.first, sum);
        for k in 1..=(job.last - job.first) {
            sum += h[k + job.len - 1] - h[k - 1];
            if sum > best.1 + 1e-9 * sum.abs().max(1.0) {
                best = (job.first + k, sum);
            }
        }
        // The running sum drifts by rounding; the chosen start's gain summed afresh.
        let off = best.0 - job.first;
        (best.0, h[off..off + job.len].iter().sum())
    }
}
