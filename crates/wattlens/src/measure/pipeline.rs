//! Raw readings to energy by component, one poll at a time; the same code runs live and on a
//! replayed trace.
//!
//! Per interval `dt` between two polls:
//! - counters give their delta ([`CounterDiff`], wraps and resets handled), sampled power its
//!   trapezoid ([`PowerIntegrator`]);
//! - machine utilisation `u = d(busy CPU time) / d(all CPU time)` (procfs `stat`), the tree's
//!   share of busy time `s = d(tree CPU time) / d(busy CPU time)` and of capacity
//!   `c = d(tree CPU time) / (CPUs x dt)`;
//! - CPU energy is RAPL's package energy (measured) or `TDP x curve(u) x dt` (modelled), split
//!   into an idle part (what the curve gives at zero load) and an active part;
//! - policy [`Policy::Machine`] charges everything; [`Policy::Processes`] charges the active
//!   part by `s`, measured or modelled alike (so the parts add up: consumers that share the
//!   machine's busy time share its active energy, never more), the idle part by `c`, DRAM by `s`
//!   (measured) or by the tree's share of memory (modelled), and only the GPUs the tree uses
//!   (where the driver says).
//!
//! A read that failed and will be retried ([`Value::Missed`]) loses nothing: a counter's next
//! delta spans the gap and a sampled power's next trapezoid spans the longer interval. So that
//! nothing is counted twice, an interval in which every CPU (or DRAM, or psys) counter missed is
//! charged nothing for it rather than modelled: the counter's next reading covers it. Each
//! device with misses gets one note at the end, never one per miss.
//!
//! A reading implying more power than its part can draw ([`Implausible`]: a counter rise, or a
//! power reading, above [`crate::energy::power_ceiling`]) is not energy: a counter's interval
//! counts nothing and the counter goes on from its new value; a power reading is a missed read.
//! Each device with such readings gets one note at the end, naming the first and what it
//! implied.

use super::attribution::{self, Cpu, Dram, Gpu, Node, Use};
use super::ledger::{Account, Ledger, Tree};
use super::Policy;
use crate::energy::{CounterDiff, Delta, EnergyBreakdown, Implausible, Method, PowerIntegrator};
use crate::source::{DeviceId, Event, Part, Poll, Reading, Value};
use crate::units::{Joules, Seconds, Watts};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The most process consumers one pipeline watches (a reading of another is ignored).
pub const MAX_CONSUMERS: usize = 4096;

/// Whose measurement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum View {
    /// The run's charge, by its policy, with its marked windows.
    Run,
    /// The whole node.
    Node,
    /// The process consumer of this index.
    Consumer(usize),
}

/// Coefficients of the modelled components.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModelInputs {
    /// Who is charged.
    pub policy: Policy,
    /// Rated CPU power of the whole machine (all sockets); `None`: `cpu_w_per_thread x CPUs`.
    pub cpu_tdp: Option<Watts>,
    /// Rated CPU power per logical CPU when the TDP is not known, W.
    pub cpu_w_per_thread: f64,
    /// DRAM power per GB, W.
    pub dram_w_per_gb: f64,
}

/// What a measurement found, before accounting.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    /// Energy by component (without the rest of the server).
    pub breakdown: EnergyBreakdown,
    /// From the first to the last poll.
    pub duration: Seconds,
    /// The measured command's exit code, when it ran under wattlens.
    pub exit_code: Option<i32>,
    /// CPU time of the tree, s.
    pub tree_cpu_s: f64,
    /// Logical CPUs of the machine.
    pub cpus: u32,
    /// Installed memory, GB.
    pub mem_total_gb: f64,
    /// Idle CPU energy of the whole machine over the run (charged or not).
    pub machine_idle: Joules,
    /// GPUs charged (`nvml/gpu0`).
    pub gpus: Vec<String>,
    /// The GPUs charged, each counted at the part of its energy charged while the measured
    /// processes used it (1 a GPU, less for one shared with processes outside them): the
    /// accelerators whose embodied carbon the run carries.
    pub accelerators: f64,
    /// CPU rating used by the model, when the CPU was modelled.
    pub cpu_tdp: Option<Watts>,
    /// Warnings (devices dropped, counters reset).
    pub warnings: Vec<String>,
    /// The policy applied: the one asked for, or [`Policy::Machine`] when no reading of the
    /// measured processes came (a trace without tree readings, an unreadable procfs).
    pub policy: Policy,
    /// The policy asked for (`--charge`, or the trace's recorded one).
    pub requested_policy: Policy,
    /// Windows the command marked (`WATTLENS_MARKS`), in the order they ended.
    pub windows: Vec<Window>,
    /// The energy charged over time, in bins of at least [`PROFILE_BIN_S`] (for carbon
    /// against an intensity series).
    pub profile: Vec<ProfileBin>,
    /// Wall-clock time of the measurement's zero (UTC): the start of a live run, or a trace
    /// header's `started_unix_s`; `None` for a pipeline fed without one.
    pub started: Option<jiff::Timestamp>,
    /// The machine's busy share of its CPU time over the run (0..1: busy over all CPU time,
    /// from procfs `stat`, summed over the intervals); `None` without two machine readings.
    pub machine_busy_share: Option<f64>,
    /// Whether a CPU energy counter (or power reading) was counted for part of the run, so
    /// that a CPU labelled modelled was modelled only where no reading covered it.
    pub cpu_counter_read: bool,
}

impl Measurement {
    /// The energy profile in wall-clock time (UTC), for carbon against an intensity series:
    /// each [`ProfileBin`] from [`Measurement::started`]; no bins give one empty bin at the
    /// start ([`crate::grid::measured_profile`]).
    ///
    /// # Errors
    /// [`crate::grid::GridError::OutOfRange`] for a measurement without a start time, or a time
    /// a timestamp cannot hold.
    pub fn energy_bins(&self) -> Result<Vec<crate::grid::EnergyBin>, crate::grid::GridError> {
        let started = self
            .started
            .ok_or_else(|| crate::grid::GridError::OutOfRange {
                what: "a measurement with no start time".into(),
            })?;
        #[allow(clippy::cast_precision_loss)]
        let zero = started.as_nanosecond() as f64 / 1e9;
        crate::grid::measured_profile(
            zero,
            self.profile.iter().map(|b| (b.start, b.end, b.energy)),
        )
    }
}

/// The shortest bin of a run's energy profile: polls are merged until a bin lasts this long,
/// so a 12 h run at 1 s keeps 720 bins, not 43,200 (within a bin, power counts as constant).
pub const PROFILE_BIN_S: f64 = 60.0;

/// Energy charged over `[start, end)`, seconds on the measurement's clock (a trace's `t`;
/// the trace header's `started_unix_s` is its zero).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProfileBin {
    /// Start, s.
    pub start: f64,
    /// End, s.
    pub end: f64,
    /// Energy charged (without the rest of the server).
    pub energy: Joules,
}

/// A stretch of a run between a `begin NAME` and an `end NAME` mark: the energy charged
/// between the two polls the marks triggered.
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    /// Its name.
    pub name: String,
    /// Start, seconds since the measurement started.
    pub start: Seconds,
    /// End, seconds since the measurement started.
    pub end: Seconds,
    /// Energy by component over the window (the run's components and methods).
    pub breakdown: EnergyBreakdown,
    /// CPU time of the measured processes within the window, s.
    pub tree_cpu_s: f64,
    /// Whether the run ended before an `end` mark did (the window is closed at the last poll).
    pub closed_by_run_end: bool,
}

/// The longest mark line taken, in bytes; a longer one is refused with a note (and never
/// copied into the JSON or the trace).
pub const MAX_MARK_BYTES: usize = 4096;

/// Mark warnings written out one by one; past this many they are counted.
const MARK_WARNINGS: usize = 20;

/// Device warnings (counter resets, devices dropped) written out one by one; past this many
/// they are counted.
const DEVICE_WARNINGS: usize = 20;

/// Windows left open at the end that are named one by one in the notes.
const UNCLOSED_NAMED: usize = 5;

/// Devices whose retried reads are noted one by one; the rest share one line.
const MISSES_NAMED: usize = 5;

/// The most characters of a failed read's reason copied into a note.
const MAX_REASON_CHARS: usize = 200;

/// The readings of one device refused as implausible ([`Implausible`]).
#[derive(Clone, Copy, Debug)]
struct Refused {
    /// How many.
    count: u64,
    /// Time of the first.
    first_t: f64,
    /// What the first implied.
    first: Implausible,
}

/// The failed-and-retried reads of one device.
#[derive(Clone, Debug)]
struct Misses {
    /// How many.
    count: u64,
    /// Time of the first.
    first_t: f64,
    /// Time of the last.
    last_t: f64,
    /// Why the first failed (at most [`MAX_REASON_CHARS`]).
    reason: String,
    /// Whether reads failed before the device's first reading (its energy before then is not
    /// counted: a counter's first reading is its baseline).
    before_first: bool,
}

/// Cumulative figures at one poll: a window is the difference of two, so opening or closing
/// one costs the same whatever the number of windows or polls.
#[derive(Clone, Copy, Debug)]
struct Snapshot {
    /// Time of the poll.
    t: f64,
    /// CPU active, CPU idle, DRAM, GPUs.
    e: [Joules; 4],
    /// The tree's CPU time.
    cpu_s: f64,
}

/// The running state of a measurement.
#[derive(Debug)]
pub struct Pipeline {
    inputs: ModelInputs,
    started: Option<jiff::Timestamp>,
    counters: HashMap<DeviceId, CounterDiff>,
    powers: HashMap<DeviceId, PowerIntegrator>,
    /// The part each counter or power device measures (for a miss, which has none), the
    /// last poll (a count of `tick_energy` calls) that had a line of it, and the time of its
    /// last reading (not a miss).
    parts: HashMap<DeviceId, (Part, u64, f64)>,
    /// Polls seen by `tick_energy`, for the stamps of `parts`.
    polls: u64,
    /// CPU and DRAM intervals waiting for their counter's next reading.
    pending_cpu: Option<Pending>,
    pending_dram: Option<Pending>,
    /// Whether a CPU reading was counted.
    cpu_counter_read: bool,
    /// Whether a DRAM reading was counted.
    dram_counter_read: bool,
    /// Polls without a CPU-time line, for the note.
    lacking: Option<Lacking>,
    /// The machine's busy and all CPU time per second over the last span read (`None` before
    /// two readings).
    machine_rate: Option<(f64, f64)>,
    /// CPU and DRAM energy waiting for a complete poll.
    carry: Option<Carry>,
    /// Polls before the machine's first CPU-time line.
    before_machine: u64,
    /// Devices whose reads failed and were retried, by key.
    misses: BTreeMap<DeviceId, Misses>,
    /// Devices dropped, by key.
    dropped: BTreeSet<DeviceId>,
    /// Devices with readings refused as implausible, by key.
    refused: BTreeMap<DeviceId, Refused>,
    /// GPUs shared with processes outside the tree (`--charge processes`), by key: the energy
    /// they drew while shared and the part of it charged, J.
    gpu_shared: BTreeMap<DeviceId, (f64, f64)>,
    /// Each GPU's time covered by its readings and the part of it each consumer held (its
    /// share where shared, 0 where unused), s: the accelerators whose embodied carbon a
    /// consumer carries.
    /// (Kept in a list in the order the GPUs are read, so that a poll finds each in one
    /// comparison.)
    gpu_tally: Vec<(DeviceId, f64, Vec<f64>)>,
    first_t: Option<f64>,
    last_t: Option<f64>,
    machine: Option<(f64, f64)>,
    /// Time of the machine's last CPU-time line.
    machine_t: Option<f64>,
    /// The machine's busy and all CPU time summed over the intervals, s.
    machine_cpu_s: (f64, f64),
    /// The watched process trees, by the consumer index of their readings.
    trees: Vec<Tree>,
    /// Whether a tree reading came.
    saw_tree: bool,
    cpus: u32,
    mem_gb: f64,
    /// The run's own charge: the policy's (the first tree's share, or the whole machine).
    run: Account,
    /// The whole node.
    node: Account,
    /// Each process consumer (a watched tree, charged when the policy is
    /// [`Policy::Processes`]).
    consumers: Vec<Account>,
    /// Charged to no consumer.
    unattributed: [Joules; 4],
    machine_idle: Joules,
    cpu_method: Option<Method>,
    dram_method: Option<Method>,
    warnings: Vec<String>,
    exit_code: Option<i32>,
    tdp_used: Option<Watts>,
    /// Open windows by name: (order opened, start).
    open: HashMap<String, (u64, Snapshot)>,
    opened: u64,
    windows: Vec<(String, Snapshot, Snapshot)>,
    mark_warnings: usize,
    /// Device warnings (resets, drops) so far, said or counted.
    device_warnings: usize,
}

fn weakest(a: Option<Method>, b: Method) -> Option<Method> {
    Some(a.map_or(b, |a| a.weakest(b)))
}

impl Pipeline {
    /// The wall-clock time of the measurement's zero (UTC), carried into its result.
    #[must_use]
    pub fn starting_at(mut self, t: jiff::Timestamp) -> Self {
        self.started = Some(t);
        self
    }

    /// A new measurement.
    #[must_use]
    pub fn new(inputs: ModelInputs) -> Self {
        Self {
            started: None,
            inputs,
            counters: HashMap::new(),
            powers: HashMap::new(),
            parts: HashMap::new(),
            polls: 0,
            pending_cpu: None,
            pending_dram: None,
            cpu_counter_read: false,
            dram_counter_read: false,
            lacking: None,
            machine_rate: None,
            carry: None,
            before_machine: 0,
            misses: BTreeMap::new(),
            dropped: BTreeSet::new(),
            refused: BTreeMap::new(),
            gpu_shared: BTreeMap::new(),
            gpu_tally: Vec::new(),
            first_t: None,
            last_t: None,
            machine: None,
            machine_t: None,
            machine_cpu_s: (0.0, 0.0),
            trees: Vec::new(),
            saw_tree: false,
            cpus: 1,
            mem_gb: 0.0,
            run: Account::default(),
            node: Account::default(),
            consumers: Vec::new(),
            unattributed: [Joules(0.0); 4],
            machine_idle: Joules(0.0),
            cpu_method: None,
            dram_method: None,
            warnings: Vec::new(),
            exit_code: None,
            tdp_used: None,
            open: HashMap::new(),
            opened: 0,
            windows: Vec::new(),
            mark_warnings: 0,
            device_warnings: 0,
        }
    }

    /// Power charged over the last interval.
    #[must_use]
    pub fn power(&self) -> Watts {
        self.run.last_power
    }

    /// Energy charged so far (without the rest of the server).
    #[must_use]
    pub fn energy(&self) -> Joules {
        self.run.energy()
    }

    /// Seconds from the first to the last poll.
    #[must_use]
    pub fn elapsed(&self) -> Seconds {
        Seconds(match (self.first_t, self.last_t) {
            (Some(a), Some(b)) => b - a,
            _ => 0.0,
        })
    }

    /// Warnings so far.
    #[must_use]
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Takes one poll's readings (all with the same `t`), without events.
    pub fn tick(&mut self, batch: &[Reading]) {
        if let Some(t) = batch.first().map(|r| r.t) {
            self.tick_energy(t, batch);
        }
    }

    /// Takes one poll: its readings, then its events (a mark opens or closes a window with the
    /// energy up to this poll counted; an exit code is the run's).
    pub fn poll(&mut self, poll: &Poll) {
        if poll.readings.is_empty() && poll.events.is_empty() {
            return;
        }
        self.tick_energy(poll.t, &poll.readings);
        for e in &poll.events {
            match e {
                Event::Mark { text } => self.mark(poll.t, text),
                Event::Exit { code } => self.exit_code = Some(*code),
            }
        }
    }

    fn snapshot(&self, t: f64) -> Snapshot {
        Snapshot {
            t,
            e: self.run.e,
            cpu_s: self.tree_cpu(),
        }
    }

    /// A warning about a device (a counter reset, a device dropped), counted once past
    /// [`DEVICE_WARNINGS`].
    fn device_warning(&mut self, msg: impl FnOnce() -> String) {
        if self.device_warnings < DEVICE_WARNINGS {
            self.warnings.push(msg());
        }
        self.device_warnings += 1;
    }

    /// A reading of `key` at `t` refused as implausible: counted, noted once per device at the
    /// end.
    fn refuse(&mut self, key: &DeviceId, t: f64, first: Implausible) {
        self.refused
            .entry(key.clone())
            .or_insert(Refused {
                count: 0,
                first_t: t,
                first,
            })
            .count += 1;
    }

    /// A warning about a mark line, counted once past [`MARK_WARNINGS`].
    fn mark_warning(&mut self, msg: impl FnOnce() -> String) {
        if self.mark_warnings < MARK_WARNINGS {
            self.warnings.push(msg());
        }
        self.mark_warnings += 1;
    }

    /// Opens or closes a window at time `t` (the energy charged up to the poll at `t` is
    /// already counted). Constant time: windows are differences of two snapshots.
    fn mark(&mut self, t: f64, text: &str) {
        if text.len() > MAX_MARK_BYTES {
            let n = text.len();
            self.mark_warning(|| {
                format!(
                    "mark at t = {ts} s: a line of {n} bytes is longer than {MAX_MARK_BYTES} bytes; ignored", ts = crate::uncertainty::fmt_seconds(t)
                )
            });
            return;
        }
        let (verb, name) = text
            .trim()
            .split_once(char::is_whitespace)
            .unwrap_or((text.trim(), ""));
        let name = name.trim();
        match (verb, name.is_empty()) {
            ("begin", false) => {
                if self.open.contains_key(name) {
                    self.mark_warning(|| format!(
                        "mark at t = {ts} s: window {name:?} is already open; the second begin is ignored", ts = crate::uncertainty::fmt_seconds(t)
                    ));
                } else {
                    let snap = self.snapshot(t);
                    self.open.insert(name.to_string(), (self.opened, snap));
                    self.opened += 1;
                }
            }
            ("end", false) => match self.open.remove_entry(name) {
                Some((n, (_, start))) => {
                    let stop = self.snapshot(t);
                    self.windows.push((n, start, stop));
                }
                None => self.mark_warning(|| {
                    format!(
                        "mark at t = {ts} s: \"end {name}\" without a begin; ignored",
                        ts = crate::uncertainty::fmt_seconds(t)
                    )
                }),
            },
            _ => self.mark_warning(|| {
                format!(
                    "mark at t = {ts} s: {text:?} is not \"begin NAME\" or \"end NAME\"; ignored",
                    ts = crate::uncertainty::fmt_seconds(t)
                )
            }),
        }
    }

    /// Records that this poll, at `t`, has a reading of `key` (measuring `part`); returns the
    /// time of its previous reading (`None` for a new device).
    fn stamp(&mut self, key: &DeviceId, part: Part, t: f64) -> Option<f64> {
        if matches!(part, Part::Cpu | Part::Psys) {
            self.cpu_counter_read = true;
        }
        if part == Part::Dram {
            self.dram_counter_read = true;
        }
        if let Some(p) = self.parts.get_mut(key) {
            p.1 = self.polls;
            Some(std::mem::replace(&mut p.2, t))
        } else {
            self.parts.insert(key.clone(), (part, self.polls, t));
            None
        }
    }

    /// The model's CPU rating (recorded as used).
    fn cpu_model(&mut self) -> Cpu {
        let tdp = self
            .inputs
            .cpu_tdp
            .unwrap_or(Watts(self.inputs.cpu_w_per_thread * f64::from(self.cpus)));
        self.tdp_used = Some(tdp);
        self.cpu_method = weakest(self.cpu_method, Method::Modelled);
        Cpu::Modelled(tdp.0)
    }

    /// Books one split over `t0..t1`: the node, the consumers, the unattributed share and the
    /// run's charge (GPUs' names apart).
    fn book(
        &mut self,
        split: &attribution::Split,
        n_uses: usize,
        (t0, t1, dt): (f64, f64, f64),
        past: bool,
    ) {
        // A `past` span (a pending span charged late: its intervals are in the profile
        // already) is spread over the profile bins and the window marks it overlaps,
        // uniformly in time, so that the profile stays in order and the windows hold their
        // share (hostile round 7).
        let add = |acc: &mut Account, p: &attribution::Parts| {
            if past {
                acc.add_past(p, t0, t1);
            } else {
                acc.add(p, t0, t1, dt);
            }
        };
        let charge_all = self.inputs.policy == Policy::Machine;
        self.machine_idle += Joules(split.node[1]);
        if self.consumers.len() < n_uses {
            self.consumers.resize(n_uses, Account::default());
        }
        for (acc, p) in self.consumers.iter_mut().zip(&split.consumers) {
            add(acc, p);
        }
        add(&mut self.node, &split.node);
        for (e, j) in self.unattributed.iter_mut().zip(&split.unattributed) {
            *e += Joules(*j);
        }
        // The run's charge: the first tree's share once it has been read; the whole machine
        // before that or when asked (only the GPUs a measured process may use, then).
        let mine = !charge_all && self.saw_tree;
        let run = if mine {
            split.consumers.first().copied().unwrap_or_default()
        } else {
            let mut p = split.node;
            if !charge_all {
                p[3] = split.gpu_used;
            }
            p
        };
        add(&mut self.run, &run);
        if past {
            // Each mark taken after `t0` gets the share of the span before it.
            let share = |t: f64| ((t - t0) / (t1 - t0)).clamp(0.0, 1.0);
            let marks = self
                .windows
                .iter_mut()
                .flat_map(|(_, a, b)| [a, b])
                .chain(self.open.values_mut().map(|(_, a)| a));
            for snap in marks {
                let f = share(snap.t);
                for (e, j) in snap.e.iter_mut().zip(&run) {
                    *e += Joules(j * f);
                }
            }
        }
    }

    #[allow(clippy::too_many_lines)]
    fn tick_energy(&mut self, t: f64, batch: &[Reading]) {
        self.polls += 1;
        let dt = self.last_t.map(|l| t - l).filter(|d| *d > 0.0);
        let t0 = self.last_t.unwrap_or(t);
        let charge_all = self.inputs.policy == Policy::Machine;
        let (mut pkg, mut dram, mut psys) = (None::<f64>, None::<f64>, None::<f64>);
        // The GPUs read this interval: device, method, energy and use, and the time the energy
        // spans from (the device's previous reading: earlier than this interval's start after
        // failed reads).
        let mut gpus: Vec<(&DeviceId, Method, Gpu, f64)> = Vec::new();
        let (mut d_busy, mut d_total) = (0.0, 0.0);
        for tree in &mut self.trees {
            tree.d_cpu_s = 0.0;
        }
        // Parts one of whose devices missed this read: their energy comes with the next one.
        let mut missed: Vec<Part> = Vec::new();
        let mut saw_machine = false;
        let had_machine = self.machine.is_some();
        for r in batch {
            let key = &r.device;
            match &r.value {
                Value::Counter {
                    part,
                    energy_uj,
                    max_uj,
                    used,
                    share,
                } => {
                    let from = self.stamp(key, *part, t).map_or(t0, |p| p.min(t0));
                    if !self.counters.contains_key(key) {
                        self.counters
                            .insert(key.clone(), CounterDiff::for_part(*max_uj, *part));
                    }
                    let Some(diff) = self.counters.get_mut(key) else {
                        continue;
                    };
                    let Some(delta) = diff.update_at(*energy_uj, t) else {
                        continue;
                    };
                    match delta {
                        Delta::Reset(_) => self.device_warning(|| {
                            format!(
                                "{key}: energy counter reset at t = {} s (driver reload?); \
                                 counting from the reset",
                                crate::uncertainty::fmt_seconds(t)
                            )
                        }),
                        // Counted as nothing (`delta.value()` is 0): lose, never invent.
                        Delta::Implausible(i) => self.refuse(key, t, i),
                        _ => {}
                    }
                    let j = delta.value() as f64 / 1e6;
                    match part {
                        Part::Cpu => *pkg.get_or_insert(0.0) += j,
                        Part::Dram => *dram.get_or_insert(0.0) += j,
                        Part::Psys => *psys.get_or_insert(0.0) += j,
                        Part::Gpu => {
                            gpus.push((
                                key,
                                Method::Measured,
                                Gpu {
                                    j,
                                    used: *used,
                                    share: share.map(f64::from),
                                },
                                from,
                            ));
                        }
                    }
                }
                Value::Power {
                    part,
                    power_w,
                    used,
                    share,
                } => {
                    let from = self.stamp(key, *part, t).map_or(t0, |p| p.min(t0));
                    if let Some(i) = Implausible::power(*part, *power_w) {
                        // A missed read: the trapezoid around it spans the gap.
                        missed.push(*part);
                        self.refuse(key, t, i);
                        continue;
                    }
                    if !self.powers.contains_key(key) {
                        self.powers.insert(key.clone(), PowerIntegrator::default());
                    }
                    let Some(integrator) = self.powers.get_mut(key) else {
                        continue;
                    };
                    let j = integrator.update(Seconds(t), Watts(*power_w)).0;
                    if dt.is_none() {
                        continue;
                    }
                    match part {
                        Part::Gpu => {
                            gpus.push((
                                key,
                                Method::Integrated,
                                Gpu {
                                    j,
                                    used: *used,
                                    share: share.map(f64::from),
                                },
                                from,
                            ));
                        }
                        Part::Cpu => *pkg.get_or_insert(0.0) += j,
                        Part::Dram => *dram.get_or_insert(0.0) += j,
                        Part::Psys => *psys.get_or_insert(0.0) += j,
                    }
                }
                Value::Machine {
                    busy_s,
                    total_s,
                    cpus,
                    mem_total_gb,
                } => {
                    saw_machine = true;
                    if let Some((b, tot)) = self.machine {
                        d_busy = (busy_s - b).max(0.0);
                        d_total = (total_s - tot).max(0.0);
                        self.machine_cpu_s.0 += d_busy;
                        self.machine_cpu_s.1 += d_total;
                        // The rate over the time this difference spans.
                        let span = self.machine_t.map_or(0.0, |m| t - m);
                        if span > 0.0 {
                            self.machine_rate = Some((d_busy / span, d_total / span));
                        }
                    }
                    self.machine_t = Some(t);
                    self.machine = Some((*busy_s, *total_s));
                    self.cpus = (*cpus).max(1);
                    self.mem_gb = *mem_total_gb;
                }
                Value::Tree {
                    cpu_s,
                    rss_gb,
                    consumer,
                    ..
                } => {
                    self.saw_tree = true;
                    let i = usize::try_from(*consumer).unwrap_or(usize::MAX);
                    if i >= MAX_CONSUMERS {
                        continue;
                    }
                    if self.trees.len() <= i {
                        self.trees.resize(i + 1, Tree::default());
                    }
                    let tree = &mut self.trees[i];
                    tree.d_cpu_s = (cpu_s - tree.cpu_s.unwrap_or(0.0)).max(0.0);
                    let span = t - tree.read_t;
                    if tree.cpu_s.is_some() && span > 0.0 {
                        tree.rate = tree.d_cpu_s / span;
                    }
                    tree.read_t = t;
                    tree.cpu_s = Some(*cpu_s);
                    tree.rss_gb = *rss_gb;
                    tree.seen = self.polls;
                }
                Value::Missed { reason } => {
                    let known = if let Some((part, seen, _)) = self.parts.get_mut(key) {
                        missed.push(*part);
                        *seen = self.polls;
                        true
                    } else {
                        false
                    };
                    count_miss(&mut self.misses, key, t, || {
                        reason.chars().take(MAX_REASON_CHARS).collect()
                    });
                    if !known {
                        if let Some(m) = self.misses.get_mut(key) {
                            m.before_first = true;
                        }
                    }
                }
                Value::Dropped { reason } => {
                    // What becomes of its energy since its last reading (hostile round 7: the
                    // note said neither).
                    let tail = match self.parts.get(key) {
                        Some((Part::Gpu, _, read)) => format!(
                            "; its energy after its last reading (t = {} s) is not counted",
                            crate::uncertainty::fmt_seconds(*read)
                        ),
                        Some((_, _, read)) => format!(
                            "; from its last reading (t = {} s) on, the model stands for it",
                            crate::uncertainty::fmt_seconds(*read)
                        ),
                        // Never read (round 11: a GPU dropped after failing from the start
                        // lost all its energy and the note did not say).
                        None if key.source == crate::source::SourceKind::Rapl => {
                            "; it was never read, so the model stands for it".to_string()
                        }
                        None => "; it was never read, so its energy is not counted".to_string(),
                    };
                    self.device_warning(|| {
                        format!(
                            "{key} dropped at t = {ts} s: {reason}{tail}",
                            ts = crate::uncertainty::fmt_seconds(t)
                        )
                    });
                    self.dropped.insert(key.clone());
                }
            }
        }
        // A poll without the machine's or a watched tree's cumulative CPU time (a cut or
        // hand-made trace, a failed read of /proc): its CPU and DRAM energy waits in `carry`,
        // and is split with the next complete poll's, whose cumulative differences span the
        // gap (below). Its other readings count as usual. Charging it with no CPU time moved
        // energy from active to idle (round 6); skipping it lost its readings (round 7);
        // estimating its CPU time at the rate before misplaced it when the load changed in the
        // gap (round 8).
        let mut lacked = None;
        if dt.is_some() {
            if !saw_machine && self.machine.is_some() {
                lacked = Some("the machine's CPU time (procfs stat)");
            }
            if self.inputs.policy == Policy::Processes
                && self
                    .trees
                    .iter()
                    .any(|tr| tr.cpu_s.is_some() && tr.seen != self.polls)
            {
                lacked = lacked.or(Some("the measured processes' CPU time"));
            }
            // No machine difference for this interval: before the machine's first line, or at
            // it (round 11: the poll with the first line was not counted).
            if !had_machine {
                self.before_machine += 1;
            }
            if let Some(what) = lacked {
                let e = self.lacking.get_or_insert(Lacking {
                    count: 0,
                    first_t: t,
                    what,
                    merged: 0,
                    at_end: None,
                });
                e.count += 1;
            }
        }
        // A device read before that has no line in this poll (a hand-made or cut trace: the
        // sampler reads every device at every poll) is a missed read, so that its counter's next
        // reading covers the gap. It was charged by the model instead, and labelled the whole
        // run's CPU `modelled` (hostile round 5).
        // (Stamped as the lines were read: no set is built per poll.)
        if self.parts.values().any(|(_, seen, _)| *seen != self.polls) {
            for (key, (part, seen, _)) in &self.parts {
                if *seen == self.polls || self.dropped.contains(key) {
                    continue;
                }
                missed.push(*part);
                count_miss(&mut self.misses, key, t, || {
                    "no reading in this poll".to_string()
                });
            }
        }
        if self.first_t.is_none() {
            self.first_t = Some(t);
        }
        self.last_t = Some(t);
        let Some(dt) = dt else {
            return;
        };
        let cpus = f64::from(self.cpus);
        let u = if d_total > 0.0 { d_busy / d_total } else { 0.0 };

        // CPU (psys, when asked for, stands for package and DRAM together). Where psys missed,
        // or every CPU counter did, the next reading covers this interval: charging the
        // package or the model now would count it twice.
        let measured_cpu = psys.or(pkg);
        let psys_missed = missed.contains(&Part::Psys);
        let cpu = if psys_missed || (measured_cpu.is_none() && missed.contains(&Part::Cpu)) {
            Cpu::Deferred
        } else if let Some(e) = measured_cpu {
            self.cpu_method = weakest(self.cpu_method, Method::Measured);
            self.cpu_counter_read = true;
            Cpu::Measured(e)
        } else {
            self.cpu_model()
        };
        let dram_deferred =
            psys.is_none() && !psys_missed && dram.is_none() && missed.contains(&Part::Dram);
        let dram = if psys.is_some() || psys_missed || dram_deferred {
            // Inside psys, or charged with the next reading.
            Dram::Absent
        } else if let Some(e) = dram {
            self.dram_method = weakest(self.dram_method, Method::Measured);
            Dram::Measured(e)
        } else if self.mem_gb > 0.0 {
            self.dram_method = weakest(self.dram_method, Method::Modelled);
            Dram::Modelled(self.inputs.dram_w_per_gb * self.mem_gb)
        } else {
            Dram::Absent
        };
        // The process consumers: every watched tree when the processes are charged.
        let uses: Vec<Use> = if charge_all {
            Vec::new()
        } else {
            self.trees
                .iter()
                .map(|t| Use {
                    cpu_s: t.d_cpu_s,
                    rss_gb: t.rss_gb,
                })
                .collect()
        };
        // Intervals left to a counter's next reading wait in `pending`; a reading covers them
        // (its difference spans them), the model charges them once the counter is gone.
        // A reading that covers waiting intervals is split over them and this one together, and
        // spread over their profile bins and window marks (hostile round 9: a window whose marks
        // fell in failed reads got 8 J of 353). Inside a CPU-time gap `carry` does that instead.
        let spread = lacked.is_none() && self.carry.is_none();
        let mut covered_cpu = None;
        let mut covered_dram = None;
        match cpu {
            // Inside a CPU-time gap the wait is kept in `carry`, whose busy share is known only
            // once the gap closes (round 9: modelled with this poll's, none, it lost 1 s of
            // active CPU a miss).
            Cpu::Deferred if !spread => {}
            Cpu::Deferred => self
                .pending_cpu
                .get_or_insert_with(Pending::default)
                .add(t0, dt, d_busy, d_total, &uses),
            Cpu::Measured(e) => {
                if let Some(mut p) = self.pending_cpu.take() {
                    if spread {
                        p.add(t0, dt, d_busy, d_total, &uses);
                        covered_cpu = Some((p, e));
                    }
                }
            }
            Cpu::Modelled(_) => {
                if let Some(p) = self.pending_cpu.take() {
                    self.charge_pending(&p, cpu, Dram::Absent);
                }
            }
        }
        match dram {
            _ if dram_deferred => self
                .pending_dram
                .get_or_insert_with(Pending::default)
                .add(t0, dt, d_busy, d_total, &uses),
            Dram::Measured(e) => {
                if let Some(mut p) = self.pending_dram.take() {
                    if spread {
                        p.add(t0, dt, d_busy, d_total, &uses);
                        covered_dram = Some((p, e));
                    }
                }
            }
            Dram::Modelled(_) => {
                if let Some(p) = self.pending_dram.take() {
                    self.charge_pending(&p, Cpu::Deferred, dram);
                }
            }
            Dram::Absent => {}
        }
        // A poll without a CPU-time line, or any poll while energy waits: the CPU and DRAM
        // energy goes to `carry` (the GPUs are split now: their shares do not depend on CPU
        // time).
        let (mut cpu, mut dram) = (cpu, dram);
        if covered_cpu.is_some() {
            cpu = Cpu::Deferred;
        }
        if covered_dram.is_some() {
            dram = Dram::Absent;
        }
        if lacked.is_some() || self.carry.is_some() {
            let lacks_machine = !saw_machine && self.machine.is_some();
            self.hold(
                (t0, dt, d_busy, d_total),
                &uses,
                cpu,
                dram,
                lacks_machine,
                lacked.is_some(),
            );
            cpu = Cpu::Deferred;
            dram = Dram::Absent;
        }
        // A GPU whose reading covers failed reads before it is split over the span it covers
        // (below), the others with this interval.
        let spans_back = |from: f64| from < t0 - 1e-9;
        let gpu_parts: Vec<Gpu> = gpus
            .iter()
            .filter(|g| !spans_back(g.3))
            .map(|g| g.2)
            .collect();
        let split = attribution::split(
            &Node {
                dt,
                cpus,
                d_busy,
                u,
                mem_gb: self.mem_gb,
                cpu,
                dram,
                gpus: &gpu_parts,
            },
            &uses,
        );
        self.book(&split, uses.len(), (t0, t, dt), false);
        for (n, (key, method, g, from)) in gpus.iter().enumerate() {
            let used = g.used != Some(false);
            if charge_all || used {
                self.run.gpu(key, *method);
            }
            self.node.gpu(key, *method);
            let at = match self.gpu_tally.get(n) {
                Some(t) if t.0 == **key => n,
                _ => self
                    .gpu_tally
                    .iter()
                    .position(|t| t.0 == **key)
                    .unwrap_or_else(|| {
                        self.gpu_tally.push(((*key).clone(), 0.0, Vec::new()));
                        self.gpu_tally.len() - 1
                    }),
            };
            let tally = &mut self.gpu_tally[at];
            let span = (t - from).max(0.0);
            tally.1 += span;
            if used && !uses.is_empty() {
                if tally.2.len() < uses.len() {
                    tally.2.resize(uses.len(), 0.0);
                }
                #[allow(clippy::cast_precision_loss)]
                let each = span * g.part() / uses.len() as f64;
                for c in tally.2.iter_mut().take(uses.len()) {
                    *c += each;
                }
            }
            if used {
                for acc in self.consumers.iter_mut().take(uses.len()) {
                    acc.gpu(key, *method);
                }
                // A share of 1 is the tree's whole (a hand-made trace may write one).
                if !charge_all && g.share.is_some_and(|s| s < 1.0) && g.j > 0.0 {
                    let e = self.gpu_shared.entry((*key).clone()).or_insert((0.0, 0.0));
                    e.0 += g.j;
                    e.1 += g.charged();
                }
            }
        }
        // A complete poll after a gap: its differences span the gap, so the waiting energy is
        // split with them, over the whole span.
        if lacked.is_none() {
            self.end_gap(t);
        }
        if let Some((p, e)) = covered_cpu {
            self.charge_pending(&p, Cpu::Measured(e), Dram::Absent);
        }
        for (_, _, g, from) in gpus.iter().filter(|g| spans_back(g.3)) {
            let span = t - from;
            let split = attribution::split(
                &Node {
                    dt: span,
                    cpus,
                    d_busy: 0.0,
                    u: 0.0,
                    mem_gb: self.mem_gb,
                    cpu: Cpu::Deferred,
                    dram: Dram::Absent,
                    gpus: &[*g],
                },
                &uses,
            );
            self.book(&split, uses.len(), (*from, t, span), true);
        }
        if let Some((p, e)) = covered_dram {
            self.charge_pending(&p, Cpu::Deferred, Dram::Measured(e));
        }
    }
}

#[path = "pipeline_result.rs"]
mod result;

#[path = "pipeline_gaps.rs"]
mod gaps;
use gaps::{count_miss, Carry, Lacking, Pending};

#[cfg(test)]
#[path = "pipeline_test_readings.rs"]
mod test_readings;

#[cfg(test)]
#[path = "pipeline_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "pipeline_implausible_tests.rs"]
mod implausible_tests;

#[cfg(test)]
#[path = "pipeline_gaps_tests.rs"]
mod gaps_tests;
