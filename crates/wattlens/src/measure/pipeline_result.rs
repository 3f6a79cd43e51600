//! The pipeline's results: the measurement of a view (the run, the node, one consumer), the
//! ledger, and the notes and components every measurement carries.

use super::{
    Account, EnergyBreakdown, Ledger, Measurement, Misses, Pipeline, Policy, Refused, Seconds,
    Snapshot, View, Window, DEVICE_WARNINGS, MARK_WARNINGS, MISSES_NAMED, UNCLOSED_NAMED,
};
use crate::energy::{ComponentEnergy, ComponentKind, Implausible, Method};
use crate::source::DeviceId;
use crate::source::Part;
use crate::units::Joules;

impl Pipeline {
    /// The measurement so far: the run's charge, by its policy.
    #[must_use]
    pub fn finish(&self) -> Measurement {
        self.measurement(View::Run)
    }

    /// CPU time of the first watched tree, s.
    pub(super) fn tree_cpu(&self) -> f64 {
        self.trees.first().and_then(|t| t.cpu_s).unwrap_or(0.0)
    }

    /// The machine's busy share of its CPU time over the run: busy over all CPU time, summed
    /// over the intervals (`None` when no interval had CPU time).
    fn machine_busy_share(&self) -> Option<f64> {
        let (busy, all) = self.machine_cpu_s;
        (all > 0.0).then(|| (busy / all).clamp(0.0, 1.0))
    }

    /// The energy seen so far and who it was charged to.
    #[must_use]
    pub fn ledger(&self) -> Ledger {
        Ledger {
            node: self.node.energy(),
            consumers: self.consumers.iter().map(Account::energy).collect(),
            unattributed: self.unattributed.iter().copied().sum(),
        }
    }

    /// The measurement so far of one view: the run's charge (with its windows), the whole
    /// node, or one process consumer (the watched tree of that index).
    #[must_use]
    pub(crate) fn measurement(&self, view: View) -> Measurement {
        let empty = Account::default();
        let (acc, policy, cpu_s) = match view {
            View::Run => (
                &self.run,
                if self.saw_tree {
                    self.inputs.policy
                } else {
                    Policy::Machine
                },
                self.tree_cpu(),
            ),
            View::Node => (
                &self.node,
                Policy::Machine,
                self.trees.iter().filter_map(|t| t.cpu_s).sum(),
            ),
            View::Consumer(i) => (
                self.consumers.get(i).unwrap_or(&empty),
                Policy::Processes,
                self.trees.get(i).and_then(|t| t.cpu_s).unwrap_or(0.0),
            ),
        };
        let mut m = self.run_measurement();
        if view != View::Run {
            m.breakdown = EnergyBreakdown {
                components: self.components(acc.e, acc),
            };
            m.windows.clear();
            m.tree_cpu_s = cpu_s;
            m.gpus = acc.gpus.iter().map(ToString::to_string).collect();
            m.accelerators = match view {
                View::Consumer(i) => self.accelerators(&acc.gpus, Some(i)),
                // The node carries its GPUs whole.
                #[allow(clippy::cast_precision_loss)]
                View::Node | View::Run => acc.gpus.len() as f64,
            };
            m.policy = policy;
            m.requested_policy = policy;
            m.profile.clone_from(&acc.profile);
        }
        m
    }

    fn run_measurement(&self) -> Measurement {
        let end = self.snapshot(self.last_t.unwrap_or(0.0));
        let first = self.first_t.unwrap_or(0.0);
        let window = |name: &str, start: &Snapshot, stop: &Snapshot, by_run_end: bool| Window {
            name: name.to_string(),
            start: Seconds(start.t - first),
            end: Seconds(stop.t - first),
            breakdown: EnergyBreakdown {
                components: self
                    .components(std::array::from_fn(|i| stop.e[i] - start.e[i]), &self.run),
            },
            tree_cpu_s: (stop.cpu_s - start.cpu_s).max(0.0),
            closed_by_run_end: by_run_end,
        };
        let mut windows: Vec<Window> = self
            .windows
            .iter()
            .map(|(n, a, b)| window(n, a, b, false))
            .collect();
        let mut warnings = self.warnings.clone();
        if self.device_warnings > DEVICE_WARNINGS {
            warnings.push(format!(
                "{} more counter resets or dropped devices (not shown)",
                self.device_warnings - DEVICE_WARNINGS
            ));
        }
        if self.mark_warnings > MARK_WARNINGS {
            warnings.push(format!(
                "{} more mark lines were ignored (not shown)",
                self.mark_warnings - MARK_WARNINGS
            ));
        }
        if let Some(e) = &self.lacking {
            let mut how = Vec::new();
            if e.merged > 0 {
                how.push(format!(
                    "the CPU and DRAM energy of {} was split with the next complete poll's, over \
                     the time between the readings around {}",
                    if e.merged == e.count {
                        if e.count == 1 {
                            "it".to_string()
                        } else {
                            "them".to_string()
                        }
                    } else {
                        format!("{} of them", e.merged)
                    },
                    if e.merged == 1 { "it" } else { "them" },
                ));
            }
            if let Some(s) = e.at_end {
                how.push(format!(
                    "the run ended in such a gap, so its last {} s were split at the rates read \
                     before it",
                    crate::uncertainty::fmt_seconds(s)
                ));
            }
            warnings.push(format!(
                "{} {} without {} (the first at t = {} s): {}",
                e.count,
                if e.count == 1 { "poll" } else { "polls" },
                e.what,
                crate::uncertainty::fmt_seconds(e.first_t),
                how.join("; "),
            ));
        }
        if self.dram_counter_read && self.dram_method == Some(Method::Modelled) {
            // Round 11: DRAM measured for part of the run was labelled modelled with no word.
            warnings.push(format!(
                "the DRAM energy counter covered only part of the run: the rest is modelled at \
                 {} W per GB of installed memory",
                crate::uncertainty::fmt_num(self.inputs.dram_w_per_gb)
            ));
        }
        if self.before_machine > 0 && self.machine.is_some() {
            warnings.push(format!(
                "{} {} before the machine's first CPU-time line (procfs stat): {} CPU energy is \
                 split as if the machine were idle",
                self.before_machine,
                if self.before_machine == 1 {
                    "poll came"
                } else {
                    "polls came"
                },
                if self.before_machine == 1 {
                    "its"
                } else {
                    "their"
                },
            ));
        }
        warnings.extend(self.miss_notes());
        warnings.extend(self.refused_notes());
        if self.inputs.policy == Policy::Processes && !self.saw_tree {
            warnings.push(
                "charged to the whole machine, not the processes (--charge processes): no \
                 reading of the measured process tree came (no tree readings in the trace, or \
                 the process files under --procfs-root could not be read)"
                    .into(),
            );
        }
        warnings.extend(self.uncharged_gpu_note());
        warnings.extend(self.shared_gpu_notes());
        let mut open: Vec<(&String, &(u64, Snapshot))> = self.open.iter().collect();
        open.sort_unstable_by_key(|(_, (order, _))| *order);
        for (n, (_, a)) in &open {
            windows.push(window(n, a, &end, true));
        }
        if open.len() <= UNCLOSED_NAMED {
            for (n, _) in &open {
                warnings.push(format!(
                    "window {n:?} had no end mark; it is closed at the end of the run"
                ));
            }
        } else {
            let names: Vec<String> = open
                .iter()
                .take(UNCLOSED_NAMED)
                .map(|(n, _)| format!("{n:?}"))
                .collect();
            warnings.push(format!(
                "{} windows had no end mark ({}, ...); they are closed at the end of the run",
                open.len(),
                names.join(", ")
            ));
        }
        Measurement {
            breakdown: EnergyBreakdown {
                components: self.components(end.e, &self.run),
            },
            duration: self.elapsed(),
            exit_code: self.exit_code,
            tree_cpu_s: self.tree_cpu(),
            cpus: self.cpus,
            mem_total_gb: self.mem_gb,
            machine_idle: self.machine_idle,
            gpus: self.run.gpus.iter().map(ToString::to_string).collect(),
            accelerators: self.accelerators(&self.run.gpus, None),
            cpu_tdp: self.tdp_used,
            warnings,
            policy: if self.saw_tree {
                self.inputs.policy
            } else {
                Policy::Machine
            },
            requested_policy: self.inputs.policy,
            windows,
            profile: self.run.profile.clone(),
            started: self.started,
            machine_busy_share: self.machine_busy_share(),
            cpu_counter_read: self.cpu_counter_read,
        }
    }

    /// A note when GPUs drew energy during the run but none of the measured processes used them
    /// (`--charge processes`): a workload in another container or PID namespace is not in the
    /// driver's process list, so a run that reports no GPU energy must say why.
    fn uncharged_gpu_note(&self) -> Option<String> {
        if self.inputs.policy != Policy::Processes || !self.saw_tree {
            return None;
        }
        let uncharged: Vec<String> = self
            .node
            .gpus
            .difference(&self.run.gpus)
            .map(ToString::to_string)
            .collect();
        if uncharged.is_empty() {
            return None;
        }
        let (drew, charged) = (self.node.e[3].0 / 3600.0, self.run.e[3].0 / 3600.0);
        Some(format!(
            "{} drew energy during the run but no measured process used {} (--charge processes), \
             so {} not charged: the machine's GPUs drew {} Wh in all, {} Wh of it charged here. A \
             GPU workload in another container or PID namespace is not in the driver's process \
             list; give --charge machine to charge whole GPUs",
            uncharged.join(", "),
            if uncharged.len() == 1 { "it" } else { "them" },
            if uncharged.len() == 1 {
                "it is"
            } else {
                "they are"
            },
            crate::uncertainty::fmt_num(drew),
            crate::uncertainty::fmt_num(charged),
        ))
    }

    /// The GPUs `gpus` as accelerators carried (their embodied carbon): whole under `--charge
    /// machine`; under `processes`, each at the part of the time its readings cover that the
    /// measured processes (`consumer`: that one) held it (their share where shared, 0 where
    /// unused), so that consumers sharing a GPU, at once or in turn, never carry more than it
    /// over the same time. A GPU with no covered time counts whole.
    fn accelerators(
        &self,
        gpus: &std::collections::BTreeSet<DeviceId>,
        consumer: Option<usize>,
    ) -> f64 {
        if self.inputs.policy == Policy::Machine || !self.saw_tree {
            #[allow(clippy::cast_precision_loss)]
            return gpus.len() as f64;
        }
        gpus.iter()
            .map(|k| match self.gpu_tally.iter().find(|t| t.0 == *k) {
                Some((_, covered, held)) if *covered > 0.0 => {
                    let h: f64 = match consumer {
                        Some(i) => held.get(i).copied().unwrap_or(0.0),
                        None => held.iter().sum(),
                    };
                    (h / covered).clamp(0.0, 1.0)
                }
                _ => 1.0,
            })
            .sum()
    }

    /// A note per GPU shared with processes outside the measured tree (`--charge processes`):
    /// the tree was charged its share of the processes' SM utilisation while it was shared.
    fn shared_gpu_notes(&self) -> Vec<String> {
        self.gpu_shared
            .iter()
            .map(|(key, (drew, charged))| {
                format!(
                    "{key} was shared with processes outside the measured tree: while it was, \
                     it drew {} Wh and {} Wh ({:.0}%) is charged here, the tree's share of the \
                     processes' SM utilisation the driver sampled (--charge processes); give \
                     --charge machine to charge whole GPUs",
                    crate::uncertainty::fmt_num(drew / 3600.0),
                    crate::uncertainty::fmt_num(charged / 3600.0),
                    if *drew > 0.0 {
                        charged / drew * 100.0
                    } else {
                        0.0
                    },
                )
            })
            .collect()
    }

    /// One note per device whose reads failed and were retried (a dropped device has its own),
    /// the first [`MISSES_NAMED`] by name, the others in one line.
    fn miss_notes(&self) -> Vec<String> {
        let kept: Vec<(&DeviceId, &Misses)> = self
            .misses
            .iter()
            .filter(|(k, _)| !self.dropped.contains(*k))
            .collect();
        let mut notes: Vec<String> = kept
            .iter()
            .take(MISSES_NAMED)
            .map(|(key, m)| {
                let n = m.count;
                let (reads, were) = if n == 1 {
                    ("read", "was")
                } else {
                    ("reads", "were")
                };
                // Covered only when a reading came after the last miss; otherwise the time
                // after the device's last reading was modelled (CPU, DRAM) or is not counted.
                let last_read = self.parts.get(*key).map(|p| (p.0, p.2));
                let uncovered = last_read.map(|(part, read_t)| (part, read_t < m.last_t));
                let tail;
                let how = match uncovered {
                    Some((part, true)) => {
                        let after = crate::uncertainty::fmt_seconds(last_read.map_or(0.0, |x| x.1));
                        tail = match part {
                            Part::Gpu => format!(
                                "; no reading came after t = {after} s, so its energy from then \
                                 to the end is not counted"
                            ),
                            Part::Cpu | Part::Psys | Part::Dram => format!(
                                "; no reading came after t = {after} s, so from then to the end \
                                 it is modelled"
                            ),
                        };
                        tail.as_str()
                    }
                    _ if m.before_first => "",
                    _ if self.counters.contains_key(*key) => "; its energy counter covers the gaps",
                    _ if self.powers.contains_key(*key) => {
                        "; the power between the reads around them is interpolated"
                    }
                    _ => "",
                };
                // Reads that failed before the first reading (hostile round 10: the note said
                // the counter covered them; a counter's first reading is only its baseline).
                // A device never read has no part known: RAPL, psys and DRAM are CPU-side and
                // modelled (round 11: they got the GPU's "not counted").
                let cpu_side = key.source == crate::source::SourceKind::Rapl;
                let first = match (m.before_first, last_read.map(|x| x.0)) {
                    (false, _) => "",
                    (true, None) if cpu_side => "; it was never read, so it is modelled",
                    (true, None) => "; it was never read, so its energy is not counted",
                    (true, Some(Part::Gpu)) => {
                        "; its energy before its first reading is not counted"
                    }
                    (true, Some(_)) => "; before its first reading it is modelled",
                };
                format!(
                    "{key}: {n} {reads} failed and {were} retried (the first at t = {} s: \
                     {}){how}{first}",
                    crate::uncertainty::fmt_seconds(m.first_t),
                    m.reason
                )
            })
            .collect();
        if kept.len() > MISSES_NAMED {
            let rest = &kept[MISSES_NAMED..];
            let n: u64 = rest.iter().map(|(_, m)| m.count).sum();
            notes.push(format!(
                "{} more devices had reads that failed and were retried ({n} reads; not shown)",
                rest.len()
            ));
        }
        notes
    }

    /// One note per device with readings refused as implausible (more power than its part can
    /// draw), the first [`MISSES_NAMED`] by name, the others in one line.
    fn refused_notes(&self) -> Vec<String> {
        let all: Vec<(&DeviceId, &Refused)> = self.refused.iter().collect();
        let mut notes: Vec<String> = all
            .iter()
            .take(MISSES_NAMED)
            .map(|(key, r)| {
                let n = r.count;
                let (readings, were) = if n == 1 {
                    ("reading", "was")
                } else {
                    ("readings", "were")
                };
                let how = match (r.first, n == 1) {
                    (Implausible::Rise { .. }, true) => {
                        "nothing is counted for the interval it ends, and the counter counts on \
                         from its new value"
                    }
                    (Implausible::Rise { .. }, false) => {
                        "nothing is counted for the intervals they end, and the counter counts on \
                         from its new value"
                    }
                    (_, true) => "it is taken as a missed read",
                    (_, false) => "they are taken as missed reads",
                };
                format!(
                    "{key}: {n} implausible {readings} {were} not counted (the first at t = {} \
                     s: {}); {how}",
                    // To the millisecond: 0.02 s, 1.2 s, never 1.115e-6 s.
                    crate::uncertainty::fmt_seconds(r.first_t),
                    r.first
                )
            })
            .collect();
        if all.len() > MISSES_NAMED {
            let rest = &all[MISSES_NAMED..];
            let n: u64 = rest.iter().map(|(_, r)| r.count).sum();
            notes.push(format!(
                "{} more devices had implausible readings that were not counted ({n} readings; \
                 not shown)",
                rest.len()
            ));
        }
        notes
    }

    /// The components with the given energies (CPU active, CPU idle, DRAM, GPUs) and the
    /// methods of the run so far.
    fn components(&self, e: [Joules; 4], acc: &Account) -> Vec<ComponentEnergy> {
        let mut c = vec![
            ComponentEnergy {
                key: crate::figure::Figure::ComponentCpu,
                name: "CPU (active)",
                kind: ComponentKind::Host,
                method: self.cpu_method.unwrap_or(Method::Modelled),
                energy: e[0],
            },
            ComponentEnergy {
                key: crate::figure::Figure::ComponentCpuIdle,
                name: "CPU (idle share)",
                kind: ComponentKind::Host,
                method: self.cpu_method.unwrap_or(Method::Modelled),
                energy: e[1],
            },
        ];
        if let Some(m) = self.dram_method {
            c.push(ComponentEnergy {
                key: crate::figure::Figure::ComponentDram,
                name: "memory (DRAM)",
                kind: ComponentKind::Host,
                method: m,
                energy: e[2],
            });
        }
        if let Some(m) = acc.gpu_method {
            c.push(ComponentEnergy {
                key: crate::figure::Figure::ComponentGpu,
                name: "GPUs",
                kind: ComponentKind::Accelerator,
                method: m,
                energy: e[3],
            });
        }
        c
    }
}
