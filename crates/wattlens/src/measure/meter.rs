//! A meter: the sampler thread and the pipeline, built from what a [`super::Probe`] found
//! (its sources) plus the consumers to watch. `wattlens run` is a meter with one process-tree
//! consumer; a node agent is the same meter with many. A running meter can be snapshotted
//! without stopping it; its control events (marks, the command's exit code) go on their own
//! channel ([`Marker`], [`Meter::stop`]).

use super::pipeline::View;
use super::sampler::{Live, LiveHandle, Marker, Sampler, SamplerConfig};
use super::{Ledger, Measurement, ModelInputs, Policy};
use crate::catalog::{Catalog, CatalogError};
use crate::explain::Assumption;
use crate::source::cgroup::CgroupTree;
use crate::source::procfs::{ProcTree, Procfs, Watched};
use crate::source::replay::TraceWriter;
use crate::source::{ReadFile, Source, SourceError, StdFs};
use crate::units::Watts;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Who a meter charges energy to.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Consumer {
    /// The whole node, idle power included (what a wall meter would say).
    Machine,
    /// A process and its descendants: its share of the node's busy CPU time, memory and the
    /// GPUs it uses.
    ProcessTree {
        /// The root process.
        pid: u32,
        /// Whether CPU time the tree already had at the first poll counts (a command the
        /// caller just started); otherwise the first poll is a baseline (attaching to a
        /// running process).
        from_start: bool,
    },
    /// A cgroup (v2: a container, a systemd service, a batch job): its share, as a process
    /// tree's, from its own CPU time (`cpu.stat`), memory (`memory.current`) and processes.
    Cgroup {
        /// Its folder (`/sys/fs/cgroup/system.slice/job.service`).
        dir: PathBuf,
        /// Whether the CPU time it had at the first poll counts (else a baseline).
        from_start: bool,
    },
}

/// One consumer's measurement.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ConsumerMeasurement {
    /// Who.
    pub consumer: Consumer,
    /// What it was charged so far.
    pub measurement: Measurement,
}

/// A running meter's figures so far.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct MeterSnapshot {
    /// The run's charge by the meter's policy (with its marked windows): the first process
    /// tree's share, or the whole node.
    pub run: Measurement,
    /// Each consumer's, in the order they were added.
    pub consumers: Vec<ConsumerMeasurement>,
    /// The node's energy and who it was charged to.
    pub ledger: Ledger,
}

/// What a stopped meter measured.
#[derive(Debug)]
#[non_exhaustive]
pub struct MeterReport {
    /// The figures at the last poll.
    pub snapshot: MeterSnapshot,
    /// What went wrong on the way (sources retried or dropped, a trace no longer written).
    pub notes: Vec<MeterNote>,
}

/// Something about a run a user should hear about; the measurement went on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MeterNote {
    /// A source's poll failed: retried at the next poll (said once), or dropped.
    #[error("{name}: {message}")]
    Source {
        /// The source (`nvml`).
        name: &'static str,
        /// What failed.
        message: String,
    },
    /// The trace could not be written; recording stopped, the measurement went on.
    #[error("recording stopped: {0}")]
    RecordStopped(crate::source::replay::TraceError),
    /// A note given to the meter ([`Marker::note`]).
    #[error("{0}")]
    Given(String),
    /// Notes given beyond the meter's cap, counted.
    #[error("{0} more notes were given (not shown)")]
    Unsaid(usize),
}

impl ModelInputs {
    /// The model's coefficients from the catalog's defaults (`cpu.w_per_thread`,
    /// `dram.w_per_gb`, at their midpoints), with this CPU rating when one is known; the
    /// assumptions made are pushed to `out`.
    ///
    /// # Errors
    /// If the defaults table lacks a coefficient.
    pub fn from_catalog(
        cat: &Catalog,
        policy: Policy,
        cpu_tdp: Option<Watts>,
        out: &mut Vec<Assumption>,
    ) -> Result<Self, CatalogError> {
        use super::MeterCoefficient;
        Ok(Self {
            policy,
            cpu_tdp,
            cpu_w_per_thread: MeterCoefficient::CpuWPerThread
                .lookup(cat, out)?
                .range
                .mid(),
            dram_w_per_gb: MeterCoefficient::DramWPerGb.lookup(cat, out)?.range.mid(),
        })
    }
}

/// Builds a [`Meter`].
pub struct MeterBuilder {
    inputs: ModelInputs,
    interval: Duration,
    consumers: Vec<Consumer>,
    sources: Vec<Box<dyn Source>>,
    record: Option<TraceWriter>,
    proc_root: PathBuf,
    page_size: u64,
    fs: Arc<dyn ReadFile>,
    procfs: Option<Procfs>,
    started: Option<jiff::Timestamp>,
}

impl std::fmt::Debug for MeterBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeterBuilder")
            .field("interval", &self.interval)
            .field("consumers", &self.consumers)
            .finish_non_exhaustive()
    }
}

impl MeterBuilder {
    /// The wall-clock time of the measurement's zero (UTC), when the caller has one of its own
    /// (a trace header's); the moment [`MeterBuilder::start`] is called unless set.
    #[must_use]
    pub fn started_at(mut self, t: jiff::Timestamp) -> Self {
        self.started = Some(t);
        self
    }

    /// Time between polls (1 s unless set).
    #[must_use]
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Adds a consumer. Process trees and cgroups are watched in the order they are added, and
    /// charged
    /// their share when the policy is [`Policy::Processes`] (with [`Policy::Machine`] their
    /// CPU time is still read); add them before [`MeterBuilder::open_procfs`].
    #[must_use]
    pub fn consumer(mut self, consumer: Consumer) -> Self {
        self.consumers.push(consumer);
        self
    }

    /// The energy sources to poll (a [`super::Probe`]'s).
    #[must_use]
    pub fn sources(mut self, sources: Vec<Box<dyn Source>>) -> Self {
        self.sources = sources;
        self
    }

    /// Records every raw reading to this trace.
    #[must_use]
    pub fn record(mut self, record: Option<TraceWriter>) -> Self {
        self.record = record;
        self
    }

    /// Reads files (a cgroup's) through `fs` ([`StdFs`] unless set).
    #[must_use]
    pub fn files(mut self, fs: Arc<dyn ReadFile>) -> Self {
        self.fs = fs;
        self
    }

    /// Where the processes of the trees are followed (`/proc` unless set) and the size of a
    /// memory page there, bytes (4096 unless set).
    #[must_use]
    pub fn processes(mut self, proc_root: &Path, page_size: u64) -> Self {
        self.proc_root = proc_root.to_path_buf();
        self.page_size = page_size;
        self
    }

    /// Reads the machine's CPU time and memory under `procfs_root` (`/proc`; a fake tree in
    /// tests) and follows the process trees and cgroups added so far. Without it (or when it
    /// fails and the caller goes on), CPU time and memory are not measured.
    ///
    /// # Errors
    /// When the machine's `stat` or `meminfo` cannot be read, or a cgroup's `cpu.stat`.
    pub fn open_procfs(&mut self, procfs_root: &Path) -> Result<(), SourceError> {
        let mut trees = Vec::new();
        for c in &self.consumers {
            match c {
                Consumer::ProcessTree { pid, from_start } => {
                    trees.push(Watched::Process(ProcTree::new(
                        &self.proc_root,
                        vec![*pid],
                        *from_start,
                        self.page_size,
                    )));
                }
                Consumer::Cgroup { dir, from_start } => trees.push(Watched::Cgroup(
                    CgroupTree::new(Arc::clone(&self.fs), dir, *from_start)?,
                )),
                Consumer::Machine => {}
            }
        }
        self.procfs = Some(Procfs::with_trees(
            procfs_root,
            Arc::clone(&self.fs),
            trees,
        )?);
        Ok(())
    }

    /// Starts polling now, then every interval, on a thread of its own.
    #[must_use]
    pub fn start(self) -> Meter {
        let mut tree = 0;
        let views = self
            .consumers
            .iter()
            .map(|c| match c {
                Consumer::Machine => View::Node,
                Consumer::ProcessTree { .. } | Consumer::Cgroup { .. } => {
                    tree += 1;
                    View::Consumer(tree - 1)
                }
            })
            .collect();
        let sampler = Sampler::start(SamplerConfig {
            interval: self.interval,
            procfs: self.procfs,
            sources: self.sources,
            record: self.record,
            inputs: self.inputs,
            started: self.started.unwrap_or_else(jiff::Timestamp::now),
        });
        Meter {
            sampler,
            consumers: self.consumers,
            views,
        }
    }
}

/// A running meter (see the module's doc).
#[derive(Debug)]
pub struct Meter {
    sampler: Sampler,
    consumers: Vec<Consumer>,
    views: Vec<View>,
}

impl Meter {
    /// A meter with these model coefficients, polling every second, with no consumer, source
    /// or procfs yet.
    #[must_use]
    pub fn builder(inputs: ModelInputs) -> MeterBuilder {
        MeterBuilder {
            inputs,
            interval: Duration::from_secs(1),
            consumers: Vec::new(),
            sources: Vec::new(),
            record: None,
            proc_root: PathBuf::from("/proc"),
            page_size: 4096,
            fs: Arc::new(StdFs),
            procfs: None,
            started: None,
        }
    }

    /// The consumers, in the order they were added.
    #[must_use]
    pub fn consumers(&self) -> &[Consumer] {
        &self.consumers
    }

    /// The figures so far, without stopping the meter and without an extra poll; `None` once
    /// the sampler thread has ended (it never does before [`Meter::stop`] unless it panicked).
    #[must_use]
    pub fn snapshot(&self) -> Option<MeterSnapshot> {
        let mut views = vec![View::Run];
        views.extend(&self.views);
        let (ms, ledger) = self.sampler.snapshot(&views)?;
        Some(assemble(&self.consumers, ms, ledger))
    }

    /// The latest live figures of the run's charge (updated at every poll).
    #[must_use]
    pub fn live(&self) -> Live {
        self.sampler.live()
    }

    /// A handle to the live figures for another thread.
    #[must_use]
    pub fn live_handle(&self) -> LiveHandle {
        self.sampler.live_handle()
    }

    /// A handle that sends marks (`begin NAME`, `end NAME`) and notes from another thread.
    #[must_use]
    pub fn marker(&self) -> Marker {
        self.sampler.marker()
    }

    /// Takes a last poll, with the measured command's exit code when there is one, and
    /// returns what was measured.
    #[must_use]
    pub fn stop(self, exit_code: Option<i32>) -> MeterReport {
        let mut views = vec![View::Run];
        views.extend(&self.views);
        let Meter {
            sampler,
            consumers,
            views: _,
        } = self;
        let (ms, ledger, notes) = sampler.stop_views(exit_code, &views);
        MeterReport {
            snapshot: assemble(&consumers, ms, ledger),
            notes,
        }
    }
}

/// The run's measurement first, then one per consumer.
fn assemble(consumers: &[Consumer], mut ms: Vec<Measurement>, ledger: Ledger) -> MeterSnapshot {
    let run = ms.remove(0);
    MeterSnapshot {
        run,
        consumers: consumers
            .iter()
            .cloned()
            .zip(ms)
            .map(|(consumer, measurement)| ConsumerMeasurement {
                consumer,
                measurement,
            })
            .collect(),
        ledger,
    }
}
