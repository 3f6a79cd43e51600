//! Where measurements come from: one small trait, [`Source`], polled by the sampler with a
//! timestamp and a buffer to push raw [`Reading`]s into (alumet's `poll` shape), and the sources
//! themselves: RAPL powercap ([`rapl`]), NVIDIA GPUs through NVML ([`nvml`]), AMD GPUs through
//! hwmon ([`hwmon`]), the machine and the process trees from procfs ([`procfs`]) and cgroups
//! ([`cgroup`]), and recorded traces ([`replay`]).
//!
//! Every source takes its root (`/sys`, `/proc`) or its device handle as an argument, so tests
//! run on checked-in fake trees and a fake GPU. Raw readings, not energies, cross this boundary:
//! the same readings are written to a `--record` trace and turned into energy by
//! [`crate::measure::Pipeline`], live or replayed. Each reading names its device by a typed
//! [`DeviceId`] that its source builds once; what happens to the measured command (its exit,
//! its marks) is an [`Event`] of the [`Poll`], not a reading.

pub mod cgroup;
pub mod gpu_use;
pub mod hwmon;
pub mod nvml;
pub mod nvml_fixture;
pub mod nvml_mig;
pub mod procfs;
pub mod rapl;
pub mod replay;
pub mod rocm;

use serde::{Deserialize, Serialize};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The hardware part a reading is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Part {
    /// A CPU package.
    Cpu,
    /// DRAM.
    Dram,
    /// The whole platform (RAPL psys), only when asked for.
    Psys,
    /// A GPU.
    Gpu,
}

/// A GPU reading's `share`, read as written and refused outside 0..1 (before it is narrowed to
/// 32 bits, so that 1.00000001 or -1e-46 is not taken for 1 or 0).
fn share_0_to_1<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f32>, D::Error> {
    let v: Option<f64> = Option::deserialize(d)?;
    match v {
        None => Ok(None),
        // -0 is 0.
        #[allow(clippy::cast_possible_truncation)]
        Some(x) if x.is_finite() && (0.0..=1.0).contains(&x) => Ok(Some((x + 0.0) as f32)),
        Some(x) => Err(serde::de::Error::custom(format!(
            "share = {x:?} is impossible (it must be between 0 and 1)"
        ))),
    }
}

/// The value of one raw reading.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Value {
    /// An energy counter in microjoules that wraps after `max_uj`.
    Counter {
        /// What it measures.
        part: Part,
        /// Counter value, uJ.
        energy_uj: u64,
        /// Largest value before the counter wraps to 0, uJ.
        max_uj: u64,
        /// Whether a process of the measured tree uses the device (`None`: not reported).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        used: Option<bool>,
        /// The measured tree's share (0..1) of the device's use since the last poll: its
        /// processes' SM utilisation over all processes', where the driver samples it per
        /// process and the device is shared (`None`: not sampled, not shared, or nothing
        /// active; a used device is then the tree's whole).
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "share_0_to_1"
        )]
        share: Option<f32>,
    },
    /// An instantaneous or averaged power reading.
    Power {
        /// What it measures.
        part: Part,
        /// Power, W.
        power_w: f64,
        /// Whether a process of the measured tree uses the device (`None`: not reported).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        used: Option<bool>,
        /// The measured tree's share of the device's use, as for [`Value::Counter`].
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "share_0_to_1"
        )]
        share: Option<f32>,
    },
    /// Machine-wide CPU time and memory (procfs `stat`, `meminfo`).
    Machine {
        /// CPU time spent busy by all CPUs since boot, s.
        busy_s: f64,
        /// CPU time of all CPUs since boot, busy or idle, s.
        total_s: f64,
        /// Logical CPUs.
        cpus: u32,
        /// Installed memory, GB (10^9 bytes).
        mem_total_gb: f64,
    },
    /// The measured process tree: cumulative CPU time since the run started, resident memory.
    Tree {
        /// CPU time of the tree, children that exited included, s.
        cpu_s: f64,
        /// Resident memory of the live processes, GB.
        rss_gb: f64,
        /// Live processes in the tree.
        pids: u32,
        /// Which watched tree (the meter's process consumers in order; 0, the only one of
        /// `wattlens run`, is not written).
        #[serde(default, skip_serializing_if = "is_zero")]
        consumer: u32,
    },
    /// A read of a device failed and will be retried at the next poll (within
    /// [`MAX_CONSECUTIVE_FAILURES`]): nothing is lost for a counter, whose next delta spans the
    /// gap, and sampled power is interpolated between the reads around it.
    Missed {
        /// Why.
        reason: String,
    },
    /// A device stopped answering ([`MAX_CONSECUTIVE_FAILURES`] reads failed in a row) and was
    /// dropped; the others go on.
    Dropped {
        /// Why.
        reason: String,
    },
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if takes a reference
fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The program that read a device.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SourceKind {
    /// RAPL powercap ([`rapl`]).
    Rapl,
    /// NVIDIA GPUs through NVML ([`nvml`]).
    Nvml,
    /// hwmon (AMD GPUs, [`hwmon`]).
    Hwmon,
    /// procfs: the machine and the process trees ([`procfs`]).
    Procfs,
    /// Another name, as a trace wrote it.
    Other(Arc<str>),
}

impl SourceKind {
    /// `rapl`, `nvml`, `hwmon`, `procfs`, or the other name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            SourceKind::Rapl => "rapl",
            SourceKind::Nvml => "nvml",
            SourceKind::Hwmon => "hwmon",
            SourceKind::Procfs => "procfs",
            SourceKind::Other(s) => s,
        }
    }

    /// The source of a name, as [`SourceKind::as_str`] writes it.
    #[must_use]
    pub fn parse(name: &str) -> Self {
        match name {
            "rapl" => SourceKind::Rapl,
            "nvml" => SourceKind::Nvml,
            "hwmon" => SourceKind::Hwmon,
            "procfs" => SourceKind::Procfs,
            other => SourceKind::Other(other.into()),
        }
    }
}

impl std::fmt::Display for SourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a reading is about: a device of a source (`rapl/package-0`, `nvml/gpu0`,
/// `procfs/machine`, `procfs/tree`). Built once per device by its source and cloned for each
/// reading (the name is shared, not copied). Ordered as its text (`hwmon/card1` before
/// `nvml/gpu0`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DeviceId {
    /// The source.
    pub source: SourceKind,
    /// The device within it (`package-0`, `package-0/dram`, `gpu0`, `card1`, `machine`,
    /// `tree`).
    pub name: Arc<str>,
}

impl DeviceId {
    /// A device of `source` named `name`.
    #[must_use]
    pub fn new(source: SourceKind, name: impl Into<Arc<str>>) -> Self {
        Self {
            source,
            name: name.into(),
        }
    }
}

impl std::fmt::Display for DeviceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.source, self.name)
    }
}

impl Ord for DeviceId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.source.as_str(), &*self.name).cmp(&(other.source.as_str(), &*other.name))
    }
}

impl PartialOrd for DeviceId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// One raw reading of one device (a trace's line format: docs/reference.md).
#[derive(Clone, Debug, PartialEq)]
pub struct Reading {
    /// Seconds since the measurement started, on a monotonic clock.
    pub t: f64,
    /// The device read.
    pub device: DeviceId,
    /// What was read.
    pub value: Value,
}

/// A control event of a measurement: not a reading of a device, but something that happened
/// to the measured command, taken at a poll.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// The measured command ended.
    Exit {
        /// Its exit code (128 + N for signal N).
        code: i32,
    },
    /// A line the command wrote to its marks file (`begin NAME`, `end NAME`), taken at the
    /// poll it triggered.
    Mark {
        /// The line.
        text: String,
    },
}

/// One poll: its readings and the control events taken with it, all at time `t`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Poll {
    /// Seconds since the measurement started.
    pub t: f64,
    /// The devices' readings.
    pub readings: Vec<Reading>,
    /// The events taken with this poll, in order.
    pub events: Vec<Event>,
}

/// What a source may need to know at each poll.
#[derive(Clone, Copy, Debug, Default)]
pub struct PollContext<'a> {
    /// Process ids of the measured tree (for per-process GPU use).
    pub pids: &'a [u32],
}

/// Errors of a source, each naming its path or device.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}{hint}", hint = hint(path, source))]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A file did not hold what was expected.
    #[error("{path}: unexpected content {text:?}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What it held.
        text: String,
    },
    /// No device of this kind.
    #[error("{0}")]
    Absent(String),
    /// A GPU or driver call failed.
    #[error("{device}: {message}")]
    Device {
        /// The device.
        device: String,
        /// The driver's message.
        message: String,
    },
}

/// Linux's `EMFILE` (this process has too many files open) and `ENFILE` (the system has).
const EMFILE: i32 = 24;
const ENFILE: i32 = 23;

fn out_of_descriptors(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(EMFILE | ENFILE))
}

impl SourceError {
    /// Whether the read failed for want of a file descriptor (`EMFILE`, `ENFILE`): a transient
    /// state of this process or system, not of the device.
    #[must_use]
    pub fn out_of_descriptors(&self) -> bool {
        matches!(self, SourceError::Read { source, .. } if out_of_descriptors(source))
    }
}

/// What the user can do: access advice for a permission error (`EACCES`, `EPERM`) on a RAPL
/// counter only, and the file limit for `EMFILE`/`ENFILE` (a hostile test saw the chmod advice
/// for "Too many open files").
fn hint(path: &Path, e: &io::Error) -> String {
    if out_of_descriptors(e) {
        "; too many files are open: raise the open-file limit (LimitNOFILE in the systemd unit, \
         ulimit -n) or close connections; retried at the next poll"
            .into()
    } else if path.ends_with("energy_uj") && e.kind() == io::ErrorKind::PermissionDenied {
        "; energy_uj is readable only by root on this system (since the PLATYPUS fix, \
         CVE-2020-8694). To grant access: `sudo chmod a+r /sys/class/powercap/intel-rapl:*/energy_uj \
         /sys/class/powercap/intel-rapl:*/*/energy_uj` (until reboot), or a udev rule, or run \
         as root"
            .into()
    } else {
        String::new()
    }
}

/// How a poll failed (alumet's split).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PollError {
    /// Nothing will work: stop measuring (the measured command is never touched).
    #[error("fatal: {0}")]
    Fatal(SourceError),
    /// This poll failed; try again at the next one.
    #[error("{0} (will retry)")]
    Retry(SourceError),
    /// The source is gone for good: drop it and go on with the others.
    #[error("{0} (dropped)")]
    Stop(SourceError),
}

/// Reads of one device that may fail in a row before it is dropped: a transient error (an NVML
/// timeout, a busy GPU, a sysfs read that races a driver) costs a [`Value::Missed`] reading, not
/// the rest of the run. At a 1 s interval a device is dropped after 5 s of silence.
pub const MAX_CONSECUTIVE_FAILURES: u32 = 5;

/// The failures in a row of one device's reads, against [`MAX_CONSECUTIVE_FAILURES`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ReadBudget {
    consecutive: u32,
}

impl ReadBudget {
    /// The reading a read gives, and whether the device is kept: a success resets the count; a
    /// failure is a [`Value::Missed`] until the last one of the budget, which is
    /// [`Value::Dropped`].
    pub(crate) fn judge(&mut self, read: Result<Value, SourceError>) -> (Value, bool) {
        match read {
            Ok(v) => {
                self.consecutive = 0;
                (v, true)
            }
            // Out of file descriptors: this process's trouble (too many connections, a low
            // `ulimit -n`), not the device's; retried at every poll for as long as it lasts,
            // never dropped for it.
            Err(e) if e.out_of_descriptors() => (
                Value::Missed {
                    reason: e.to_string(),
                },
                true,
            ),
            Err(e) => {
                self.consecutive += 1;
                if self.consecutive >= MAX_CONSECUTIVE_FAILURES {
                    let reason = format!("{e} ({} reads failed in a row)", self.consecutive);
                    (Value::Dropped { reason }, false)
                } else {
                    (
                        Value::Missed {
                            reason: e.to_string(),
                        },
                        true,
                    )
                }
            }
        }
    }
}

/// A source of raw readings.
pub trait Source: Send {
    /// Short name (`rapl`).
    fn name(&self) -> &'static str;
    /// Reads every device once at time `t` (seconds since start) and pushes the readings.
    ///
    /// # Errors
    /// See [`PollError`]: a failed read of a device is a [`Value::Missed`] reading and the
    /// device is read again at the next poll; after [`MAX_CONSECUTIVE_FAILURES`] in a row it is
    /// reported as a [`Value::Dropped`] reading and no longer read, while the source's other
    /// devices go on; `Stop` when none is left.
    fn poll(
        &mut self,
        t: f64,
        ctx: &PollContext<'_>,
        out: &mut Vec<Reading>,
    ) -> Result<(), PollError>;

    /// The processes on each of its devices at the last poll, where the driver says (NVML's
    /// running compute and graphics processes): what a node agent splits a GPU's energy by.
    /// None by default.
    fn device_pids(&self) -> Vec<(DeviceId, Vec<u32>)> {
        Vec::new()
    }

    /// What each of its devices was used by at the last poll: the processes, their
    /// utilisation and the MIG instances, where the driver says (NVML); by default the
    /// processes of [`Source::device_pids`] only.
    fn device_use(&self) -> Vec<(DeviceId, gpu_use::GpuUse)> {
        self.device_pids()
            .into_iter()
            .map(|(d, p)| (d, gpu_use::GpuUse::resident(p)))
            .collect()
    }
}

/// Reads files; injected so that tests can make a file unreadable even when they run as root.
pub trait ReadFile: Send + Sync {
    /// The file's content.
    ///
    /// # Errors
    /// Whatever reading the file gives.
    fn read(&self, path: &Path) -> io::Result<String>;
}

/// The real file system. Only regular files are read (sysfs attributes and procfs files are
/// regular files): a FIFO or a device put in a `--sysfs-root` or `--procfs-root` folder is an
/// error, never a wait on `open` or `read` nor an endless read; at most [`MAX_READ`] bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct StdFs;

/// The most [`StdFs`] reads of one file (`/proc/stat` of a 1,000-CPU machine is ~200 kB).
pub const MAX_READ: u64 = 16 << 20;

impl ReadFile for StdFs {
    fn read(&self, path: &Path) -> io::Result<String> {
        use std::io::Read;
        if !std::fs::metadata(path)?.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file (a pipe or a device is never read)",
            ));
        }
        let mut text = String::new();
        std::fs::File::open(path)?
            .take(MAX_READ)
            .read_to_string(&mut text)?;
        Ok(text)
    }
}

/// Reads `path` through `fs` and trims it; the error names the path.
pub(crate) fn read_trim(fs: &dyn ReadFile, path: &Path) -> Result<String, SourceError> {
    fs.read(path)
        .map(|s| s.trim().to_string())
        .map_err(|source| SourceError::Read {
            path: path.to_path_buf(),
            source,
        })
}

/// Reads an unsigned integer file.
pub(crate) fn read_u64(fs: &dyn ReadFile, path: &Path) -> Result<u64, SourceError> {
    let text = read_trim(fs, path)?;
    text.parse().map_err(|_| SourceError::Parse {
        path: path.to_path_buf(),
        text,
    })
}

/// The devices a comma-separated `*_VISIBLE_DEVICES` list names, each once, in the list's
/// order: an index below `n`, or whatever `by_name` finds for another entry. Like CUDA and
/// ROCm, the list stops at its first entry that matches nothing; that entry is returned.
pub(crate) fn pick_visible(
    list: &str,
    n: usize,
    mut by_name: impl FnMut(&str) -> Option<usize>,
) -> (Vec<usize>, Option<String>) {
    let mut out = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let found = match item.parse::<usize>() {
            Ok(i) => (i < n).then_some(i),
            Err(_) => by_name(item),
        };
        match found {
            Some(i) if !out.contains(&i) => out.push(i),
            Some(_) => {}
            None => return (out, Some(item.to_string())),
        }
    }
    (out, None)
}

/// Directory entries whose names start with `prefix`, sorted by name.
pub(crate) fn entries(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}
