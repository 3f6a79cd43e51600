//! Finding the workloads under a cgroup (v2) root, and what each used so far: its CPU time
//! (`cpu.stat` `usage_usec`), its memory (`memory.current`) and its processes (`cgroup.procs`).
//!
//! A workload is the deepest cgroup that is named (a unit, container, pod, Slurm job or step,
//! see [`Workload::classify`]) or holds processes, and has no workload below it: a pod's
//! containers are the workloads, each labelled with the pod's UID, so that per-pod figures are
//! a sum and nothing is counted twice. The walk is bounded ([`Discovery::max_dirs`] folders,
//! [`MAX_DEPTH`] levels) so a runaway tree costs a note, not the node.

use super::kept::Kept;
use super::workload::Workload;
use crate::source::{ReadFile, StdFs};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The deepest level walked below the root.
pub const MAX_DEPTH: usize = 16;

/// The most process ids kept per workload (for the GPU sources' per-process use).
pub const MAX_PIDS: usize = 64;

/// Workloads' `cpu.stat` kept open by default (well under the usual limit of 1,024 open
/// files); `wattlens agent` sets it from its own limit ([`Discovery::keep_open`]).
pub const DEFAULT_KEPT_OPEN: usize = 256;

/// One workload as read at one poll.
#[derive(Clone, Debug, PartialEq)]
pub struct Seen {
    /// Who.
    pub workload: Workload,
    /// Its CPU time since its cgroup was made, s.
    pub cpu_s: f64,
    /// Its memory, GB (10^9 bytes).
    pub rss_gb: f64,
    /// Its processes (at most [`MAX_PIDS`]).
    pub pids: Vec<u32>,
}

/// What one walk found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Found {
    /// The workloads, in path order.
    pub seen: Vec<Seen>,
    /// Cgroups listed but gone (or unreadable) before their `cpu.stat` was read.
    pub vanished: u64,
    /// Whether the walk stopped at its limit.
    pub truncated: bool,
}

/// Walks a cgroup root.
pub struct Discovery {
    root: PathBuf,
    procfs_root: PathBuf,
    fs: Arc<dyn ReadFile>,
    /// The most folders one walk visits.
    pub max_dirs: usize,
    /// Whether every workload's processes are read at every walk (for the GPU sources'
    /// per-process use); otherwise only where needed (a plain cgroup, or a workload whose
    /// command name is not known yet), which saves a file read per workload per poll.
    pub want_pids: bool,
    /// Whether memory (`memory.current`) is read (only a modelled DRAM is split by it).
    pub want_memory: bool,
    /// Every how many walks a workload's own folder is listed again for sub-cgroups (the
    /// folders above workloads, where new ones appear, are listed at every walk): a workload
    /// that gains children is split into them within this many polls, and meanwhile charged
    /// whole (its `cpu.stat` holds theirs). A named workload without a command name (no
    /// process when it was first seen) has its processes read again at these walks too.
    pub relist_every: u64,
    walks: u64,
    /// The workloads' ids at the last walk.
    leaves: std::collections::HashSet<String>,
    /// Command names by workload id (read once per workload; a named workload without one is
    /// looked up again at each full walk, see [`Discovery::relist_every`]).
    comm: HashMap<String, Option<String>>,
    /// The workloads' `cpu.stat` kept open between walks (only through the real file system).
    kept: Option<Kept>,
}

impl std::fmt::Debug for Discovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Discovery")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl Discovery {
    /// Walks `cgroup_root` (`/sys/fs/cgroup`; a fake tree in tests), reading command names
    /// under `procfs_root` (`/proc`).
    #[must_use]
    pub fn new(cgroup_root: &Path, procfs_root: &Path) -> Self {
        let mut d = Self::with_reader(cgroup_root, procfs_root, Arc::new(StdFs));
        d.kept = Some(Kept::new(DEFAULT_KEPT_OPEN));
        d
    }

    /// Keeps at most `n` workloads' `cpu.stat` open between walks (0: opened and closed at each
    /// read); the binary sets it from its open-file limit. Nothing with a reader of its own
    /// ([`Discovery::with_reader`]), which reads every file through it.
    pub fn keep_open(&mut self, n: usize) {
        if let Some(k) = &mut self.kept {
            k.max_open = n;
            let live = &self.leaves;
            if k.open_files() > n {
                k.retain(|_| false);
            } else {
                k.retain(|id| live.contains(id));
            }
        }
    }

    /// How many workloads' `cpu.stat` are open now.
    #[must_use]
    pub fn open_files(&self) -> usize {
        self.kept.as_ref().map_or(0, Kept::open_files)
    }

    /// The same, reading files through `fs`.
    #[must_use]
    pub fn with_reader(cgroup_root: &Path, procfs_root: &Path, fs: Arc<dyn ReadFile>) -> Self {
        Self {
            root: cgroup_root.to_path_buf(),
            procfs_root: procfs_root.to_path_buf(),
            fs,
            max_dirs: 100_000,
            want_pids: true,
            want_memory: true,
            relist_every: 10,
            walks: 0,
            leaves: std::collections::HashSet::new(),
            comm: HashMap::new(),
            kept: None,
        }
    }

    /// The root walked.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Walks the tree once.
    pub fn walk(&mut self) -> Found {
        let mut found = Found::default();
        // About as many as last time: at 10,000 workloads a `Vec` grown by doubling held 4.7 MB
        // at its peak for 2.9 MB of workloads (heaptrack).
        found
            .seen
            .reserve(self.leaves.len() + self.leaves.len() / 16);
        let mut budget = self.max_dirs;
        let root = self.root.clone();
        let full = self.walks % self.relist_every.max(1) == 0;
        self.walks += 1;
        self.walk_dir(&root, "", 0, full, &mut budget, &mut found);
        self.leaves = found.seen.iter().map(|s| s.workload.id.clone()).collect();
        // Forget the command names of workloads that are gone (memory stays flat).
        if self.comm.len() > 2 * found.seen.len() + 64 {
            let live: std::collections::HashSet<&str> =
                found.seen.iter().map(|s| s.workload.id.as_str()).collect();
            self.comm.retain(|k, _| live.contains(k.as_str()));
        }
        // Close the files of workloads that are gone.
        if let Some(k) = &mut self.kept {
            if k.open_files() > self.leaves.len() {
                let live = &self.leaves;
                k.retain(|id| live.contains(id));
            }
        }
        found
    }

    /// Adds the workloads at and below `dir`; whether it found any.
    fn walk_dir(
        &mut self,
        dir: &Path,
        rel: &str,
        depth: usize,
        full: bool,
        budget: &mut usize,
        found: &mut Found,
    ) -> bool {
        let mut any = false;
        if depth < MAX_DEPTH && (full || !self.leaves.contains(rel)) {
            for child in subdirs(dir) {
                if *budget == 0 {
                    found.truncated = true;
                    break;
                }
                *budget -= 1;
                let name = child
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let id = if rel.is_empty() {
                    name
                } else {
                    format!("{rel}/{name}")
                };
                any |= self.walk_dir(&child, &id, depth + 1, full, budget, found);
            }
        }
        if any || rel.is_empty() {
            return any;
        }
        let workload = Workload::classify(rel);
        // A named workload's processes are read for its command name once, and again at each
        // full walk while it has none (a unit with no process left: most of a node's units).
        let looked_up = match self.comm.get(rel) {
            Some(Some(_)) => true,
            Some(None) => !full,
            None => false,
        };
        let pids: Vec<u32> = if self.want_pids || !workload.is_named() || !looked_up {
            self.fs
                .read(&dir.join("cgroup.procs"))
                .map(|t| {
                    t.lines()
                        .filter_map(|l| l.trim().parse().ok())
                        .take(MAX_PIDS)
                        .collect()
                })
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        if !workload.is_named() && pids.is_empty() {
            return false;
        }
        let Some(cpu_s) = self.cpu_s(rel, dir) else {
            // A folder that is still there without `cpu.stat` (which every cgroup v2 has) is not
            // a cgroup: not a workload, and not vanished (a hostile test saw it counted as
            // vanished at every poll).
            let not_a_cgroup = dir.is_dir() && !dir.join("cpu.stat").exists();
            if !not_a_cgroup {
                found.vanished += 1;
            }
            return false;
        };
        let rss_gb = if self.want_memory {
            self.fs
                .read(&dir.join("memory.current"))
                .ok()
                .and_then(|t| t.trim().parse::<u64>().ok())
                .map_or(0.0, |b| b as f64 / 1e9)
        } else {
            0.0
        };
        let command = match self.comm.get(rel) {
            Some(c) if c.is_some() || pids.is_empty() => c.clone(),
            _ => {
                let c = pids.first().and_then(|p| self.command(*p));
                self.comm.insert(rel.to_string(), c.clone());
                c
            }
        };
        found.seen.push(Seen {
            workload: Workload {
                command,
                ..workload
            },
            cpu_s,
            rss_gb,
            pids,
        });
        true
    }

    /// Its CPU time (`cpu.stat` `usage_usec`), s; `None` when the file cannot be read.
    fn cpu_s(&mut self, id: &str, dir: &Path) -> Option<f64> {
        let path = dir.join("cpu.stat");
        let usage = |text: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix("usage_usec "))
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|us| us as f64 / 1e6)
        };
        match &mut self.kept {
            Some(k) => usage(k.read(id, &path).ok()?),
            None => usage(&self.fs.read(&path).ok()?),
        }
    }

    /// The process's command name (`comm`: at most 15 bytes, never its arguments), cleaned to
    /// printable characters.
    fn command(&self, pid: u32) -> Option<String> {
        let text = self
            .fs
            .read(&self.procfs_root.join(pid.to_string()).join("comm"))
            .ok()?;
        let c: String = text
            .trim()
            .chars()
            .filter(|c| !c.is_control())
            .take(15)
            .collect();
        (!c.is_empty()).then_some(c)
    }
}

/// Sub-folders of `dir`, sorted by name (symbolic links are not followed). Sorted by the
/// names' bytes: comparing whole paths component by component cost more than the listing.
fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<(std::ffi::OsString, PathBuf)> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| (e.file_name(), e.path()))
                .collect()
        })
        .unwrap_or_default();
    v.sort_unstable_by(|a, b| a.0.as_encoded_bytes().cmp(b.0.as_encoded_bytes()));
    v.into_iter().map(|(_, p)| p).collect()
}

#[cfg(test)]
#[path = "discover_tests.rs"]
mod tests;
