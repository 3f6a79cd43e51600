//! An upper bound on the on-site energy any schedule of an [`Instance`] can reach, reported
//! beside the heuristic's result as the gap to the optimum (`docs/models.md` section 13).
//!
//! Without a battery, the jobs' direct use `D = sum_t min(a_t, L_t) dt` (`a` the renewable power
//! left after the other load, `L` the jobs' load) is at most each of:
//! - `E`, the jobs' energy (`min(a, L) <= L`);
//! - `B1 = sum_t min(a_t, C_t) dt`, where `C_t` is the load of every job whose window holds cell
//!   `t` (`L_t <= C_t` in any schedule);
//! - `B2 = sum_j max_s sum_{t in [s, s + len_j)} min(a_t, p_j) dt`, each job alone at its best
//!   start against the whole supply (`min(a, x + y) <= min(a, x) + min(a, y)`).
//!
//! With a battery of round-trip efficiency `eta` that charges only from the surplus `a - L`:
//! it gives at most `eta (A - D)` where `A = sum_t a_t dt`, and direct use plus discharge is at
//! most `E`; as `eta <= 1`, `D + eta (A - D)` grows with `D`, so the total is at most
//! `min(E, B + eta (A - B))` with `B = min(E, B1, B2)`. And since the battery gives a cell at
//! most `P' = min(power, capacity / dt)`, a cell's on-site energy is at most `min(L_t, a_t + P')`:
//! `B1` and `B2` with `a_t + P'` in place of `a_t` bound it too.

use super::search::Instance;

/// The bound, kWh.
#[must_use]
pub fn upper_bound(inst: &Instance) -> f64 {
    let dt = inst.dt_h;
    let energy: f64 = inst.jobs.iter().map(|j| j.energy_kwh(dt)).sum();
    // A little head room for the rounding of the sums (never below the truth; never above `E`,
    // which holds exactly).
    let slack = |x: f64| x * (1.0 + 1e-9) + 1e-9;
    let (b1, b2) = direct_bounds(inst, 0.0);
    let b = energy.min(slack(b1.min(b2)));
    match inst.storage {
        None => b,
        Some(s) => {
            let all: f64 = inst.avail_kw.iter().sum::<f64>() * dt;
            // A cell's on-site energy is also at most `min(L_t, a_t + P')` with `P'` the most
            // the battery can give in a cell (its power, and its capacity over the cell).
            let p = s.power_kw.unwrap_or(f64::INFINITY).min(s.capacity_kwh / dt);
            let (c1, c2) = direct_bounds(inst, p);
            energy
                .min(b + s.round_trip * (slack(all) - b).max(0.0))
                .min(slack(c1.min(c2)))
        }
    }
}

/// `B1` and `B2` of the module's page (kWh) with `plus` kW added to the supply of every cell.
fn direct_bounds(inst: &Instance, plus: f64) -> (f64, f64) {
    let n = inst.avail_kw.len();
    let dt = inst.dt_h;
    // C_t by a difference array over the windows.
    let mut diff = vec![0.0; n + 1];
    for j in &inst.jobs {
        diff[j.first] += j.load_kw;
        diff[j.last + j.len] -= j.load_kw;
    }
    let mut c = 0.0;
    let mut b1 = 0.0;
    for (t, a) in inst.avail_kw.iter().enumerate() {
        c += diff[t];
        b1 += (a + plus).min(c.max(0.0));
    }
    let mut b2 = 0.0;
    let mut h = Vec::new();
    for j in &inst.jobs {
        h.clear();
        h.extend(
            inst.avail_kw[j.first..j.last + j.len]
                .iter()
                .map(|a| (a + plus).min(j.load_kw)),
        );
        let mut sum: f64 = h[..j.len].iter().sum();
        let mut best = sum;
        for k in 1..=(j.last - j.first) {
            sum += h[k + j.len - 1] - h[k - 1];
            best = best.max(sum);
        }
        b2 += best;
    }
    (b1 * dt, b2 * dt)
}
