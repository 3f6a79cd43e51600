//! What the pipeline keeps per consumer: an [`Account`] of the energy charged to it (by part,
//! over time, with the GPUs it was charged), one per consumer, one for the whole node, one for
//! the run's own charge; and the [`Ledger`], the totals that show the split conserves energy.

use super::attribution::Parts;
use super::{ProfileBin, PROFILE_BIN_S};
use crate::energy::Method;
use crate::source::DeviceId;
use crate::units::{Joules, Watts};
use std::collections::BTreeSet;

/// The energy charged to one consumer (or the node) so far.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Account {
    /// CPU active, CPU idle, DRAM, GPUs.
    pub e: [Joules; 4],
    /// GPUs charged (`nvml/gpu0`).
    pub gpus: BTreeSet<DeviceId>,
    /// The weakest method of the GPUs charged.
    pub gpu_method: Option<Method>,
    /// Power charged over the last interval.
    pub last_power: Watts,
    /// Energy over time.
    pub profile: Vec<ProfileBin>,
}

impl Account {
    /// Energy charged so far, every part.
    pub fn energy(&self) -> Joules {
        self.e[0] + self.e[1] + self.e[2] + self.e[3]
    }

    /// Adds one interval `[t0, t]` of `dt` s.
    pub fn add(&mut self, p: &Parts, t0: f64, t: f64, dt: f64) {
        let before = self.energy();
        for (e, j) in self.e.iter_mut().zip(p) {
            *e += Joules(*j);
        }
        let charged = self.energy() - before;
        self.last_power = Watts(charged.0 / dt);
        match self.profile.last_mut() {
            Some(b) if b.end == t0 && b.end - b.start < PROFILE_BIN_S => {
                b.end = t;
                b.energy += charged;
            }
            _ => self.profile.push(ProfileBin {
                start: t0,
                end: t,
                energy: charged,
            }),
        }
    }

    /// Adds a span `[t0, t1]` that ended before the last interval: into the profile bins it
    /// overlaps, in proportion to the overlap (what falls outside every bin goes to the last
    /// one), so that the bins stay in order.
    pub fn add_past(&mut self, p: &Parts, t0: f64, t1: f64) {
        let before = self.energy();
        for (e, j) in self.e.iter_mut().zip(p) {
            *e += Joules(*j);
        }
        let charged = self.energy() - before;
        let span = t1 - t0;
        let mut placed = Joules(0.0);
        if span > 0.0 {
            for b in &mut self.profile {
                let overlap = (b.end.min(t1) - b.start.max(t0)).max(0.0);
                if overlap > 0.0 {
                    let share = Joules(charged.0 * overlap / span);
                    b.energy += share;
                    placed += share;
                }
            }
        }
        match self.profile.last_mut() {
            Some(b) => b.energy += charged - placed,
            None => self.profile.push(ProfileBin {
                start: t0,
                end: t1,
                energy: charged,
            }),
        }
    }

    /// Records a GPU charged to this account.
    pub fn gpu(&mut self, key: &DeviceId, method: Method) {
        if !self.gpus.contains(key) {
            self.gpus.insert(key.clone());
        }
        self.gpu_method = Some(self.gpu_method.map_or(method, |a| a.weakest(method)));
    }
}

/// The readings of one watched process tree.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Tree {
    /// Cumulative CPU time at the last reading, s.
    pub cpu_s: Option<f64>,
    /// Resident memory at the last reading, GB.
    pub rss_gb: f64,
    /// CPU time since the last poll, s.
    pub d_cpu_s: f64,
    /// CPU time per second over the last interval read, s/s.
    pub rate: f64,
    /// Time of the last reading, s.
    pub read_t: f64,
    /// The last poll (a count of the pipeline's polls) with this tree's line.
    pub seen: u64,
}

/// The energy a meter has seen so far, and who it was charged to: `node == sum(consumers) +
/// unattributed`, up to rounding, whatever the sources and consumers.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Ledger {
    /// The node's energy (without the rest of the server).
    pub node: Joules,
    /// Each process consumer's charge, in the order of their ids.
    pub consumers: Vec<Joules>,
    /// Charged to no consumer (idle capacity, other processes, unused GPUs).
    pub unattributed: Joules,
}
