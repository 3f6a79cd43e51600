//! One interval's node energy split among the consumers a meter watches, and what is left to
//! nobody (the unattributed share: idle capacity, other processes). Every part is split so that
//! the consumers' charges plus the unattributed share add up to the node's energy, for measured
//! (counter), integrated (power) and modelled power alike:
//!
//! - CPU active energy by each consumer's share of busy CPU time `s_k = d_k / max(d_busy, sum d)`;
//! - CPU idle energy by its share of capacity `c_k = d_k / max(CPUs x dt, sum d)`;
//! - DRAM by `s_k` when measured, by its share of memory `rss_k / max(mem, sum rss)` when
//!   modelled;
//! - each GPU equally among the consumers unless its driver says no measured process uses it
//!   (then it is unattributed).
//!
//! The modelled CPU's active power is the machine's at `max(u, sum c)`: the machine is at least
//! as busy as the consumers together (their CPU time and the machine's are read a moment apart).

use crate::source::procfs::cpu_curve;

/// Energies of one interval by part: CPU active, CPU idle, DRAM, GPUs; J.
pub(crate) type Parts = [f64; 4];

/// Where the interval's CPU energy comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Cpu {
    /// A measured energy (RAPL package or psys), J.
    Measured(f64),
    /// Modelled from utilisation with this rating of the whole machine, W.
    Modelled(f64),
    /// Not charged now: the next counter reading covers this interval.
    Deferred,
}

/// Where the interval's DRAM energy comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Dram {
    /// A measured energy, J.
    Measured(f64),
    /// Modelled: this power of all installed memory, W.
    Modelled(f64),
    /// None now (inside psys, deferred, or no memory known).
    Absent,
}

/// A GPU's energy over the interval and whether a measured process uses it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Gpu {
    /// Energy, J.
    pub j: f64,
    /// `Some(false)`: the driver says no measured process uses it.
    pub used: Option<bool>,
    /// The measured processes' share of its use when it is shared (their SM utilisation over
    /// all processes'); `None`: a used GPU is theirs whole.
    pub share: Option<f64>,
}

impl Gpu {
    /// The part of the GPU the measured processes hold over the interval (`--charge
    /// processes`): 0 when the driver says none uses it, else their share where it is shared,
    /// else 1.
    pub(crate) fn part(&self) -> f64 {
        if self.used == Some(false) {
            0.0
        } else {
            self.share.map_or(1.0, |s| {
                if s.is_finite() {
                    s.clamp(0.0, 1.0)
                } else {
                    1.0
                }
            })
        }
    }

    /// The part of `j` the measured processes are charged (`--charge processes`).
    pub(crate) fn charged(&self) -> f64 {
        self.j * self.part()
    }
}

/// What the node did over one interval.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node<'a> {
    /// Length, s.
    pub dt: f64,
    /// Logical CPUs.
    pub cpus: f64,
    /// Busy CPU time of the machine over the interval, s.
    pub d_busy: f64,
    /// Machine utilisation, 0..1.
    pub u: f64,
    /// Installed memory, GB.
    pub mem_gb: f64,
    /// CPU energy.
    pub cpu: Cpu,
    /// DRAM energy.
    pub dram: Dram,
    /// GPU energies.
    pub gpus: &'a [Gpu],
}

/// What one consumer used over the interval.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Use {
    /// CPU time, s (never negative).
    pub cpu_s: f64,
    /// Resident memory, GB.
    pub rss_gb: f64,
}

/// One interval's node energy, its consumers' charges and the unattributed rest: for every
/// part, `node == sum(consumers) + unattributed` up to rounding.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Split {
    /// The node's energy.
    pub node: Parts,
    /// Each consumer's charge, in the order of the uses given.
    pub consumers: Vec<Parts>,
    /// Charged to no consumer.
    pub unattributed: Parts,
    /// GPU energy charged to the measured processes: the devices not said to be unused, each
    /// at the processes' share of it where it is shared, J.
    pub gpu_used: f64,
}

/// Splits one interval (see the module's doc).
pub(crate) fn split(n: &Node<'_>, uses: &[Use]) -> Split {
    let sum_d: f64 = uses.iter().map(|c| c.cpu_s).sum();
    let sum_rss: f64 = uses.iter().map(|c| c.rss_gb).sum();
    let busy_den = n.d_busy.max(sum_d);
    let cap_den = (n.cpus * n.dt).max(sum_d);
    let share = |d: f64| if busy_den > 0.0 { d / busy_den } else { 0.0 };
    let capacity = |d: f64| if cap_den > 0.0 { d / cap_den } else { 0.0 };
    let sum_s: f64 = uses.iter().map(|c| share(c.cpu_s)).sum::<f64>().min(1.0);
    let sum_c: f64 = uses.iter().map(|c| capacity(c.cpu_s)).sum::<f64>().min(1.0);
    let mut out = Split {
        consumers: vec![[0.0; 4]; uses.len()],
        ..Split::default()
    };
    // CPU: (active, idle) of the node.
    let cpu = match n.cpu {
        Cpu::Measured(e) => {
            // The active share from the curve's rise above idle, so that a machine at rest
            // has exactly no active energy (e - e x c0/c(u) left 3.94e-15 mWh of rounding).
            let active = e * (cpu_curve(n.u) - cpu_curve(0.0)) / cpu_curve(n.u);
            Some((active, e - active))
        }
        Cpu::Modelled(tdp) => {
            let u = if uses.is_empty() { n.u } else { n.u.max(sum_c) };
            Some((
                tdp * (cpu_curve(u) - cpu_curve(0.0)) * n.dt,
                tdp * cpu_curve(0.0) * n.dt,
            ))
        }
        Cpu::Deferred => None,
    };
    if let Some((active, idle)) = cpu {
        out.node[0] = active;
        out.node[1] = idle;
        for (p, c) in out.consumers.iter_mut().zip(uses) {
            p[0] = active * share(c.cpu_s);
            p[1] = idle * capacity(c.cpu_s);
        }
        out.unattributed[0] = active * (1.0 - sum_s);
        out.unattributed[1] = idle * (1.0 - sum_c);
    }
    match n.dram {
        Dram::Measured(e) => {
            out.node[2] = e;
            for (p, c) in out.consumers.iter_mut().zip(uses) {
                p[2] = e * share(c.cpu_s);
            }
            out.unattributed[2] = e * (1.0 - sum_s);
        }
        Dram::Modelled(w) if n.mem_gb > 0.0 => {
            let e = w * n.dt;
            let den = n.mem_gb.max(sum_rss);
            out.node[2] = e;
            for (p, c) in out.consumers.iter_mut().zip(uses) {
                p[2] = e * (c.rss_gb.max(0.0) / den);
            }
            out.unattributed[2] = e * (1.0 - (sum_rss / den).min(1.0));
        }
        Dram::Modelled(_) | Dram::Absent => {}
    }
    for g in n.gpus {
        out.node[3] += g.j;
        let charged = g.charged();
        if uses.is_empty() {
            out.unattributed[3] += g.j;
        } else {
            #[allow(clippy::cast_precision_loss)]
            let each = charged / uses.len() as f64;
            for p in &mut out.consumers {
                p[3] += each;
            }
            out.unattributed[3] += g.j - charged;
        }
        out.gpu_used += charged;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn total(p: &Parts) -> f64 {
        p.iter().sum()
    }

    #[test]
    fn two_one_core_jobs_are_charged_the_machines_own_model() {
        // Issue 8: 4 CPUs, 100 W modelled, 1 s; two jobs of 1 CPU-s each, nothing else busy:
        // u = 2/4 = 0.5 -> curve 0.75; active = 100 x (0.75 - 0.12) = 63 J, each job half: 31.5
        // J; idle = 12 J, each job 1/4 of capacity: 3 J; unattributed idle 6 J.
        let n = Node {
            dt: 1.0,
            cpus: 4.0,
            d_busy: 2.0,
            u: 0.5,
            mem_gb: 0.0,
            cpu: Cpu::Modelled(100.0),
            dram: Dram::Absent,
            gpus: &[],
        };
        let one = Use {
            cpu_s: 1.0,
            rss_gb: 0.0,
        };
        let s = split(&n, &[one, one]);
        for c in &s.consumers {
            assert!((c[0] - 31.5).abs() < 1e-9, "{c:?}");
            assert!((c[1] - 3.0).abs() < 1e-9, "{c:?}");
        }
        assert!((s.unattributed[1] - 6.0).abs() < 1e-9, "{s:?}");
        assert!((total(&s.node) - 75.0).abs() < 1e-9, "{s:?}");
    }

    #[test]
    fn a_measured_cpu_at_rest_has_exactly_no_active_energy() {
        // Hostile round 5: 1,500 J measured over a machine with nothing busy printed "CPU
        // (active) 3.94e-15 mWh" (e - e x c(0)/c(0) in floating point). At u = 0 the active
        // share is 0 exactly and the idle share the whole measurement; at u = 0.5 (curve 0.75
        // against 0.12 idle) the active share is 0.63/0.75 = 84% and the parts sum to it.
        for e in [1_500.0, 1.0e-3, 7.3e12, 0.1 + 0.2] {
            let n = Node {
                dt: 1.0,
                cpus: 4.0,
                d_busy: 0.0,
                u: 0.0,
                mem_gb: 0.0,
                cpu: Cpu::Measured(e),
                dram: Dram::Absent,
                gpus: &[],
            };
            let s = split(&n, &[]);
            assert_eq!(s.node[0], 0.0, "{e}: {s:?}");
            assert_eq!(s.node[1], e, "{e}: {s:?}");
            let busy = split(
                &Node {
                    u: 0.5,
                    d_busy: 2.0,
                    ..n
                },
                &[],
            );
            let want = e * (cpu_curve(0.5) - cpu_curve(0.0)) / cpu_curve(0.5);
            assert!((busy.node[0] - want).abs() <= 1e-12 * e, "{e}: {busy:?}");
            assert!((total(&busy.node) - e).abs() <= 1e-12 * e, "{e}: {busy:?}");
        }
    }

    #[test]
    fn an_unused_gpu_is_nobodys_a_used_one_is_shared_and_a_shared_one_split() {
        // GPU 0 (100 J) used, GPU 1 (40 J) unused; two consumers: 50 J each, 40 unattributed.
        let n = Node {
            dt: 1.0,
            cpus: 1.0,
            d_busy: 0.0,
            u: 0.0,
            mem_gb: 0.0,
            cpu: Cpu::Deferred,
            dram: Dram::Absent,
            gpus: &[
                Gpu {
                    j: 100.0,
                    used: Some(true),
                    share: None,
                },
                Gpu {
                    j: 40.0,
                    used: Some(false),
                    share: None,
                },
                // Shared with a process outside: the measured ones ran 25% of its use.
                Gpu {
                    j: 80.0,
                    used: Some(true),
                    share: Some(0.25),
                },
            ],
        };
        let s = split(&n, &[Use::default(), Use::default()]);
        assert_eq!(s.consumers[0][3], 60.0);
        assert_eq!(s.consumers[1][3], 60.0);
        assert_eq!(s.unattributed[3], 100.0);
        assert_eq!(s.gpu_used, 120.0);
    }

    fn cpu() -> impl Strategy<Value = Cpu> {
        prop_oneof![
            (0.0_f64..1e4).prop_map(Cpu::Measured),
            (1.0_f64..1e3).prop_map(Cpu::Modelled),
            Just(Cpu::Deferred),
        ]
    }

    fn dram() -> impl Strategy<Value = Dram> {
        prop_oneof![
            (0.0_f64..1e3).prop_map(Dram::Measured),
            (0.0_f64..50.0).prop_map(Dram::Modelled),
            Just(Dram::Absent),
        ]
    }

    proptest! {
        /// Random consumers, random measured / integrated / modelled power, random intervals:
        /// the consumers plus the unattributed share are the node's energy, part by part, and
        /// no charge is negative.
        #[test]
        fn every_part_of_every_interval_is_conserved(
            dt in 0.001_f64..100.0,
            cpus in 1_u32..256,
            u in 0.0_f64..=1.0,
            mem_gb in 0.0_f64..1e3,
            cpu in cpu(),
            dram in dram(),
            gpus in proptest::collection::vec(
                (0.0_f64..1e4, proptest::option::of(proptest::bool::ANY),
                 proptest::option::of(-0.5_f64..1.5)), 0..6),
            uses in proptest::collection::vec((0.0_f64..2.0, 0.0_f64..2e3), 0..8),
        ) {
            let cpus = f64::from(cpus);
            let gpus: Vec<Gpu> = gpus.into_iter().map(|(j, used, share)| Gpu { j, used, share }).collect();
            // Consumers' CPU time as a fraction of capacity; the machine at least that busy
            // most of the time (and sometimes less, as when read a moment apart).
            let uses: Vec<Use> = uses
                .into_iter()
                .map(|(f, rss_gb)| Use { cpu_s: f * cpus * dt / 8.0, rss_gb })
                .collect();
            let n = Node { dt, cpus, d_busy: u * cpus * dt, u, mem_gb, cpu, dram, gpus: &gpus };
            let s = split(&n, &uses);
            for part in 0..4 {
                let sum: f64 = s.consumers.iter().map(|c| c[part]).sum::<f64>()
                    + s.unattributed[part];
                let tol = 1e-9 * s.node[part].abs().max(1e-12);
                prop_assert!((sum - s.node[part]).abs() <= tol,
                    "part {part}: {sum} vs {}", s.node[part]);
                prop_assert!(s.unattributed[part] >= -tol, "{s:?}");
                prop_assert!(s.consumers.iter().all(|c| c[part] >= 0.0), "{s:?}");
            }
        }
    }
}
