//! Storage dispatch for a fixed schedule: charge from the renewable surplus left after the other
//! load and the jobs, discharge into the jobs' deficit, as much as the power, the capacity and
//! the state of charge allow, step by step. This greedy dispatch maximises the energy the
//! battery gives the jobs (proof in `docs/models.md` section 13; tests compare it with every
//! discretised dispatch on small instances).

/// A battery at the site: what it holds, how much of what goes in comes back, how fast.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Storage {
    /// Usable capacity, kWh of stored energy.
    pub capacity_kwh: f64,
    /// Round-trip efficiency in (0, 1]: the losses are taken on charging (stored = eta x drawn).
    pub round_trip: f64,
    /// The most it charges or discharges, kW (`None`: no limit).
    pub power_kw: Option<f64>,
}

/// What the battery did over a schedule.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Dispatched {
    /// Surplus drawn into the battery, kWh.
    pub charged_kwh: f64,
    /// Energy given to the jobs, kWh.
    pub discharged_kwh: f64,
}

/// The greedy dispatch over cells of `dt_h` hours, the battery empty at the start:
/// `surplus[t]` and `deficit[t]` (kW, at most one of them positive in a cell) are the
/// renewable power left over and the jobs' power not met directly. When `per_cell` is given,
/// each cell's discharge (kWh) is written into it.
#[must_use]
pub fn dispatch(
    s: &Storage,
    dt_h: f64,
    surplus: impl Iterator<Item = (f64, f64)>,
    mut per_cell: Option<&mut Vec<f64>>,
) -> Dispatched {
    let limit = s.power_kw.map_or(f64::INFINITY, |p| p * dt_h);
    let eta = s.round_trip;
    let mut soc = 0.0_f64;
    let mut out = Dispatched::default();
    for (sur, def) in surplus {
        let mut u = 0.0;
        if sur > 0.0 {
            let room = (s.capacity_kwh - soc).max(0.0) / eta;
            let c = (sur * dt_h).min(limit).min(room);
            soc += eta * c;
            out.charged_kwh += c;
        } else if def > 0.0 {
            u = (def * dt_h).min(limit).min(soc);
            soc -= u;
            out.discharged_kwh += u;
        }
        if let Some(v) = per_cell.as_deref_mut() {
            v.push(u);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every dispatch on a lattice of charge/discharge amounts (in steps of `q` kWh), the battery
    /// empty at the start: the most energy any of them gives the jobs.
    fn brute(s: &Storage, dt: f64, cells: &[(f64, f64)], q: f64) -> f64 {
        fn go(s: &Storage, dt: f64, cells: &[(f64, f64)], q: f64, soc: f64) -> f64 {
            let Some((&(sur, def), rest)) = cells.split_first() else {
                return 0.0;
            };
            let limit = s.power_kw.map_or(f64::INFINITY, |p| p * dt);
            let mut best = go(s, dt, rest, q, soc);
            // The most this cell may charge or discharge; candidates: the lattice below it and
            // the bound itself.
            let (max_c, max_d) = if sur > 0.0 {
                (
                    (sur * dt)
                        .min(limit)
                        .min((s.capacity_kwh - soc) / s.round_trip),
                    0.0,
                )
            } else {
                (0.0, (def * dt).min(limit).min(soc))
            };
            let mut cand = vec![max_c.max(max_d)];
            let mut a = q;
            while a < max_c.max(max_d) {
                cand.push(a);
                a += q;
            }
            for a in cand {
                if max_c > 0.0 {
                    best = best.max(go(s, dt, rest, q, soc + s.round_trip * a));
                }
                if max_d > 0.0 {
                    best = best.max(a + go(s, dt, rest, q, soc - a));
                }
            }
            best
        }
        go(s, dt, cells, q, 0.0)
    }

    #[test]
    fn hand_computed_cycle() {
        // 10 kW surplus for 1 h into a 6 kWh battery at 0.9: it draws min(10, 6 / 0.9 = 6.667)
        // kWh, holds 6 kWh; then a 4 kW deficit for 2 h takes 4 + 2 = 6 kWh.
        let s = Storage {
            capacity_kwh: 6.0,
            round_trip: 0.9,
            power_kw: None,
        };
        let mut cells = Vec::new();
        let d = dispatch(
            &s,
            1.0,
            [(10.0, 0.0), (0.0, 4.0), (0.0, 4.0)].into_iter(),
            Some(&mut cells),
        );
        assert!((d.charged_kwh - 6.0 / 0.9).abs() < 1e-12);
        assert!((d.discharged_kwh - 6.0).abs() < 1e-12);
        assert_eq!(cells.len(), 3);
        assert!((cells[1] - 4.0).abs() < 1e-12 && (cells[2] - 2.0).abs() < 1e-12);
        // A 3 kW power limit: draws 3 kWh (stores 2.7), gives 2.7.
        let p = Storage {
            power_kw: Some(3.0),
            ..s
        };
        let d = dispatch(
            &p,
            1.0,
            [(10.0, 0.0), (0.0, 4.0), (0.0, 4.0)].into_iter(),
            None,
        );
        assert!((d.discharged_kwh - 2.7).abs() < 1e-12);
    }

    #[test]
    fn greedy_dispatch_is_never_beaten_by_a_lattice_dispatch() {
        // Small instances: every dispatch whose amounts are on a 0.25 kWh lattice or at a cell's
        // bound (power, capacity, state of charge, surplus or deficit); greedy >= all of them,
        // and equal to the best (the greedy amounts are among the candidates).
        let mut rng = crate::uncertainty::Rng::new(7);
        for case in 0..300 {
            let n = 2 + case % 4;
            let cells: Vec<(f64, f64)> = (0..n)
                .map(|_| {
                    let v = (rng.next_f64() * 6.0).floor() * 0.5;
                    if rng.next_f64() < 0.5 {
                        (v, 0.0)
                    } else {
                        (0.0, v)
                    }
                })
                .collect();
            let s = Storage {
                capacity_kwh: (rng.next_f64() * 5.0).floor() * 0.5,
                round_trip: if case % 2 == 0 { 1.0 } else { 0.5 },
                power_kw: (case % 3 == 0).then_some(1.0),
            };
            let g = dispatch(&s, 1.0, cells.iter().copied(), None).discharged_kwh;
            let b = brute(&s, 1.0, &cells, 0.25);
            assert!(g >= b - 1e-9, "greedy {g} < lattice {b} on {cells:?} {s:?}");
            assert!(
                (g - b).abs() < 1e-9,
                "greedy {g} != best lattice {b} on {cells:?} {s:?}"
            );
        }
    }
}
