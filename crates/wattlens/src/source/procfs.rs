//! The machine and the measured process tree from procfs, and the modelled CPU power.
//!
//! - Machine-wide: `PROCFS/stat` (CPU time, busy and idle, of all CPUs; the number of CPUs) and
//!   `PROCFS/meminfo` (installed memory), from `--procfs-root`.
//! - The process tree: every descendant of the measured command, read from the `/proc` of
//!   wattlens' own PID namespace (where the child's PID means something). CPU time of a process
//!   is its own `utime + stime` plus `cutime + cstime`, the time of children it has waited for,
//!   so a child that starts and exits between two polls is still counted (through its parent's
//!   `cutime`); a child that was seen and then reaped is not counted twice (its last seen time
//!   is taken back out of the parent's increase).
//! - The CPU utilisation curve: a CPU's power as a fraction of its rated power (TDP) at a given
//!   utilisation, piecewise linear through SPECpower-derived points (see [`CPU_CURVE`]).

use super::{
    read_trim, DeviceId, PollContext, PollError, ReadFile, Reading, Source, SourceError,
    SourceKind, Value,
};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Clock ticks per second of the times in `/proc/*/stat` (`USER_HZ`, 100 on Linux for every
/// mainstream architecture; the kernel converts to it whatever its internal `HZ`).
pub const USER_HZ: f64 = 100.0;

/// CPU power as a fraction of TDP at utilisation 0, 10%, 50% and 100%: 12%, 32%, 75%, 102%,
/// interpolated linearly in between. Source: B. Davy (Teads), "Building an AWS EC2 Carbon
/// Emissions Dataset", 2021, fitted to SPECpower_ssj2008 results; the same curve is used by
/// Boavizta's API and Cloud Carbon Footprint's successors.
pub const CPU_CURVE: [(f64, f64); 4] = [(0.0, 0.12), (0.1, 0.32), (0.5, 0.75), (1.0, 1.02)];

/// [`CPU_CURVE`] at utilisation `u` (clamped to 0..1).
#[must_use]
pub fn cpu_curve(u: f64) -> f64 {
    let u = if u.is_nan() { 0.0 } else { u.clamp(0.0, 1.0) };
    for w in CPU_CURVE.windows(2) {
        let ((u0, f0), (u1, f1)) = (w[0], w[1]);
        if u <= u1 {
            return f0 + (f1 - f0) * (u - u0) / (u1 - u0);
        }
    }
    CPU_CURVE[CPU_CURVE.len() - 1].1
}

/// Machine-wide CPU time and memory.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MachineStat {
    /// Busy CPU time since boot, s.
    pub busy_s: f64,
    /// All CPU time since boot, s.
    pub total_s: f64,
    /// Logical CPUs.
    pub cpus: u32,
    /// Installed memory, GB.
    pub mem_total_gb: f64,
}

/// Reads `stat` and `meminfo` under `procfs_root`.
///
/// # Errors
/// When a file is missing or malformed (the error names it).
pub fn machine(fs: &dyn ReadFile, procfs_root: &Path) -> Result<MachineStat, SourceError> {
    let mpath = procfs_root.join("meminfo");
    let mem = read_trim(fs, &mpath)?;
    let kb = mem
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .ok_or_else(|| SourceError::Parse {
            path: mpath.clone(),
            text: mem.lines().next().unwrap_or("").to_string(),
        })?;
    cpu_times(fs, procfs_root, kb * 1024.0 / 1e9)
}

/// Reads `stat` under `procfs_root`, with the installed memory already known.
fn cpu_times(
    fs: &dyn ReadFile,
    procfs_root: &Path,
    mem_total_gb: f64,
) -> Result<MachineStat, SourceError> {
    let path = procfs_root.join("stat");
    let text = read_trim(fs, &path)?;
    let bad = || SourceError::Parse {
        path: path.clone(),
        text: text.lines().next().unwrap_or("").to_string(),
    };
    let first = text.lines().next().ok_or_else(bad)?;
    let v: Vec<f64> = first
        .split_whitespace()
        .skip(1)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    if v.len() < 4 {
        return Err(bad());
    }
    let at = |i: usize| v.get(i).copied().unwrap_or(0.0);
    // user nice system idle iowait irq softirq steal (guest is inside user)
    let idle = at(3) + at(4);
    let busy = at(0) + at(1) + at(2) + at(5) + at(6) + at(7);
    let cpus = text
        .lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count();
    Ok(MachineStat {
        busy_s: busy / USER_HZ,
        total_s: (busy + idle) / USER_HZ,
        cpus: u32::try_from(cpus.max(1)).unwrap_or(1),
        mem_total_gb,
    })
}

/// One `/proc/PID/stat` line, the fields wattlens uses.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProcStat {
    /// Parent PID.
    pub ppid: u32,
    /// `utime + stime`, ticks.
    pub own: u64,
    /// `cutime + cstime` (waited-for children), ticks.
    pub reaped: u64,
    /// Start time after boot, ticks (tells a reused PID apart).
    pub start: u64,
    /// Resident pages.
    pub rss_pages: u64,
    /// Threads.
    pub threads: u64,
    /// A zombie (exited, not yet waited for).
    pub zombie: bool,
}

/// Parses a `/proc/PID/stat` line (the command name may hold spaces and parentheses).
#[must_use]
pub fn parse_stat(line: &str) -> Option<ProcStat> {
    let rest = &line[line.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // f[0] is field 3 (state); field n is f[n - 3].
    let num = |n: usize| f.get(n - 3).and_then(|s| s.parse::<u64>().ok());
    let signed = |n: usize| {
        f.get(n - 3)
            .and_then(|s| s.parse::<i64>().ok())
            .map(|v| u64::try_from(v.max(0)).unwrap_or(0))
    };
    Some(ProcStat {
        ppid: u32::try_from(num(4)?).ok()?,
        own: num(14)? + num(15)?,
        reaped: signed(16)? + signed(17)?,
        start: num(22)?,
        rss_pages: signed(24)?,
        threads: num(20).unwrap_or(0),
        zombie: f.first() == Some(&"Z"),
    })
}

#[derive(Clone, Copy, Debug)]
struct Seen {
    stat: ProcStat,
}

/// The measured process tree and its cumulative CPU time.
#[derive(Debug)]
pub struct ProcTree {
    proc_root: PathBuf,
    roots: Vec<u32>,
    seen: HashMap<u32, Seen>,
    ticks: u64,
    count_existing: bool,
    first: bool,
    page_size: u64,
    children_files: bool,
}

impl ProcTree {
    /// Follows `roots` and their descendants under `proc_root`. With `count_existing`, CPU time
    /// the processes already had at the first poll counts (a command wattlens just started);
    /// without, the first poll is a baseline (`--pid`, attaching to a running process).
    #[must_use]
    pub fn new(proc_root: &Path, roots: Vec<u32>, count_existing: bool, page_size: u64) -> Self {
        let me = std::process::id();
        let children_files = proc_root.join(format!("{me}/task/{me}/children")).exists();
        Self {
            proc_root: proc_root.to_path_buf(),
            roots,
            seen: HashMap::new(),
            ticks: 0,
            count_existing,
            first: true,
            page_size,
            children_files,
        }
    }

    /// PIDs of the tree at the last poll.
    #[must_use]
    pub fn pids(&self) -> Vec<u32> {
        self.seen.keys().copied().collect()
    }

    fn stat(&self, pid: u32) -> Option<ProcStat> {
        let text = std::fs::read_to_string(self.proc_root.join(format!("{pid}/stat"))).ok()?;
        parse_stat(&text)
    }

    fn children_of(&self, pid: u32, threads: u64) -> Vec<u32> {
        let mut out = Vec::new();
        if threads == 1 {
            // One thread: its `children` file is the process's (no folder listing).
            if let Ok(s) =
                std::fs::read_to_string(self.proc_root.join(format!("{pid}/task/{pid}/children")))
            {
                out.extend(s.split_whitespace().filter_map(|x| x.parse::<u32>().ok()));
            }
            return out;
        }
        let task = self.proc_root.join(format!("{pid}/task"));
        for t in super::entries(&task, "") {
            if let Ok(s) = std::fs::read_to_string(t.join("children")) {
                out.extend(s.split_whitespace().filter_map(|x| x.parse::<u32>().ok()));
            }
        }
        out
    }

    /// The tree now: roots, every process seen before that is still alive, and descendants.
    fn members(&self) -> HashMap<u32, ProcStat> {
        let mut found: HashMap<u32, ProcStat> = HashMap::new();
        let mut queue: Vec<u32> = self.roots.clone();
        queue.extend(self.seen.keys());
        if self.children_files {
            while let Some(pid) = queue.pop() {
                if found.contains_key(&pid) {
                    continue;
                }
                if let Some(s) = self.stat(pid) {
                    found.insert(pid, s);
                    queue.extend(self.children_of(pid, s.threads));
                }
            }
        } else {
            // No `children` files: one pass over every process, then a walk down the ppids.
            let all: HashMap<u32, ProcStat> = super::entries(&self.proc_root, "")
                .iter()
                .filter_map(|p| p.file_name()?.to_str()?.parse::<u32>().ok())
                .filter_map(|pid| Some((pid, self.stat(pid)?)))
                .collect();
            let mut kids: HashMap<u32, Vec<u32>> = HashMap::new();
            for (pid, s) in &all {
                kids.entry(s.ppid).or_default().push(*pid);
            }
            while let Some(pid) = queue.pop() {
                if found.contains_key(&pid) {
                    continue;
                }
                if let Some(s) = all.get(&pid) {
                    found.insert(pid, *s);
                    queue.extend(kids.get(&pid).into_iter().flatten());
                }
            }
        }
        found
    }

    /// Polls the tree: `(cumulative CPU seconds since the start, resident GB, live processes)`.
    pub fn poll(&mut self) -> (f64, f64, u32) {
        let now = self.members();
        let baseline = self.first && !self.count_existing;
        self.first = false;
        let mut add: i128 = 0;
        for (pid, s) in &now {
            match self.seen.get(pid) {
                Some(p) if p.stat.start == s.start => {
                    add += i128::from(s.own) - i128::from(p.stat.own);
                    add += i128::from(s.reaped) - i128::from(p.stat.reaped);
                }
                _ if baseline => {}
                _ => add += i128::from(s.own) + i128::from(s.reaped),
            }
        }
        // Processes gone since the last poll: if an ancestor of theirs is still in the tree,
        // their final time arrived in its `cutime`, and what was already counted comes off.
        for (pid, p) in &self.seen {
            let gone = now.get(pid).is_none_or(|s| s.start != p.stat.start);
            if gone && self.ancestor_present(p.stat.ppid, &now) {
                add -= i128::from(p.stat.own) + i128::from(p.stat.reaped);
            }
        }
        // Never go backwards (a PID that vanished without being waited for by the tree).
        if add > 0 {
            self.ticks += u64::try_from(add).unwrap_or(0);
        }
        self.seen = now.iter().map(|(k, s)| (*k, Seen { stat: *s })).collect();
        let rss: u64 = now
            .values()
            .filter(|s| !s.zombie)
            .map(|s| s.rss_pages)
            .sum();
        (
            self.ticks as f64 / USER_HZ,
            (rss * self.page_size) as f64 / 1e9,
            u32::try_from(now.len()).unwrap_or(u32::MAX),
        )
    }

    fn ancestor_present(&self, mut ppid: u32, now: &HashMap<u32, ProcStat>) -> bool {
        let mut hops = HashSet::new();
        loop {
            if now.contains_key(&ppid) {
                return true;
            }
            if !hops.insert(ppid) {
                return false;
            }
            match self.seen.get(&ppid) {
                Some(p) => ppid = p.stat.ppid,
                None => return false,
            }
        }
    }
}

/// What a [`Procfs`] follows besides the machine: a process tree or a cgroup; either gives
/// `tree` readings (CPU time since the start, memory, processes).
#[derive(Debug)]
#[non_exhaustive]
pub enum Watched {
    /// A process and its descendants.
    Process(ProcTree),
    /// A cgroup (v2).
    Cgroup(super::cgroup::CgroupTree),
}

/// The device name of the machine's readings (`procfs/machine`).
pub const MACHINE: &str = "machine";
/// The device name of a process tree's readings (`procfs/tree`; which tree is the reading's
/// `consumer`).
pub const TREE: &str = "tree";

/// Machine-wide and process-tree readings.
pub struct Procfs {
    fs: Arc<dyn ReadFile>,
    root: PathBuf,
    /// The watched trees; the index of each is the `consumer` of its readings.
    trees: Vec<Watched>,
    mem_total_gb: f64,
    /// `procfs/machine` and `procfs/tree`, built once.
    ids: [DeviceId; 2],
}

impl std::fmt::Debug for Procfs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Procfs")
            .field("root", &self.root)
            .field("trees", &self.trees)
            .finish_non_exhaustive()
    }
}

impl Procfs {
    /// Reads machine files under `procfs_root` through `fs`, and follows `tree` if given.
    ///
    /// # Errors
    /// When `stat` or `meminfo` cannot be read.
    pub fn new(
        procfs_root: &Path,
        fs: Arc<dyn ReadFile>,
        tree: Option<ProcTree>,
    ) -> Result<Self, SourceError> {
        Self::with_trees(
            procfs_root,
            fs,
            tree.map(Watched::Process).into_iter().collect(),
        )
    }

    /// Reads machine files under `procfs_root` through `fs`, and follows each of `trees` (the
    /// consumers of a meter, in order: process trees and cgroups alike).
    ///
    /// # Errors
    /// When `stat` or `meminfo` cannot be read.
    pub fn with_trees(
        procfs_root: &Path,
        fs: Arc<dyn ReadFile>,
        trees: Vec<Watched>,
    ) -> Result<Self, SourceError> {
        let m = machine(fs.as_ref(), procfs_root)?;
        Ok(Self {
            fs,
            root: procfs_root.to_path_buf(),
            trees,
            mem_total_gb: m.mem_total_gb,
            ids: [
                DeviceId::new(SourceKind::Procfs, MACHINE),
                DeviceId::new(SourceKind::Procfs, TREE),
            ],
        })
    }

    /// PIDs of the trees at the last poll.
    #[must_use]
    pub fn pids(&self) -> Vec<u32> {
        self.trees
            .iter()
            .flat_map(|t| match t {
                Watched::Process(p) => p.pids(),
                Watched::Cgroup(c) => c.pids().to_vec(),
            })
            .collect()
    }
}

impl Source for Procfs {
    fn name(&self) -> &'static str {
        "procfs"
    }

    fn poll(
        &mut self,
        t: f64,
        _ctx: &PollContext<'_>,
        out: &mut Vec<Reading>,
    ) -> Result<(), PollError> {
        for (consumer, tree) in (0_u32..).zip(&mut self.trees) {
            let (cpu_s, rss_gb, pids) = match tree {
                Watched::Process(p) => p.poll(),
                Watched::Cgroup(c) => c.poll(),
            };
            out.push(Reading {
                t,
                device: self.ids[1].clone(),
                value: Value::Tree {
                    cpu_s,
                    rss_gb,
                    pids,
                    consumer,
                },
            });
        }
        // Installed memory does not change: `meminfo` was read once, at the start.
        let m =
            cpu_times(self.fs.as_ref(), &self.root, self.mem_total_gb).map_err(PollError::Retry)?;
        out.push(Reading {
            t,
            device: self.ids[0].clone(),
            value: Value::Machine {
                busy_s: m.busy_s,
                total_s: m.total_s,
                cpus: m.cpus,
                mem_total_gb: m.mem_total_gb,
            },
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::StdFs;

    #[test]
    fn curve_points_and_interpolation() {
        assert_eq!(cpu_curve(0.0), 0.12);
        assert_eq!(cpu_curve(1.0), 1.02);
        // halfway from 10% (0.32) to 50% (0.75): 30% -> 0.535
        assert!((cpu_curve(0.3) - 0.535).abs() < 1e-12);
        assert_eq!(cpu_curve(2.0), 1.02);
    }

    #[test]
    fn machine_from_fixture() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/procfs-4cpu");
        let m = machine(&StdFs, &root).expect("machine");
        assert_eq!(m.cpus, 4);
        // busy = 4705 + 356 + 584 + 0 + 277 + 0 = 5922 ticks = 59.22 s
        assert!((m.busy_s - 59.22).abs() < 1e-9);
        // 16,000,000 kB x 1024 = 16.384 GB
        assert!((m.mem_total_gb - 16.384).abs() < 1e-9);
    }

    #[test]
    fn stat_line_with_odd_command_name() {
        let line = "42 (a) b (c)) S 7 42 42 0 -1 4194560 100 0 0 0 250 50 30 20 20 0 1 0 12345 1000 300 18446744073709551615";
        let s = parse_stat(line).expect("parsed");
        assert_eq!(s.ppid, 7);
        assert_eq!(s.own, 300);
        assert_eq!(s.reaped, 50);
        assert_eq!(s.start, 12345);
        assert_eq!(s.rss_pages, 300);
    }

    #[test]
    fn own_tree_counts_the_time_of_a_child_that_exited_between_polls() {
        // A shell that runs a short busy child and then sleeps: the child is born and reaped
        // between two polls, and its time must show up through the shell's cutime.
        let mut child = std::process::Command::new("sh")
            .args([
                "-c",
                "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done & wait; sleep 2",
            ])
            .spawn()
            .expect("sh");
        let mut tree = ProcTree::new(Path::new("/proc"), vec![child.id()], true, 4096);
        tree.poll();
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let (cpu_s, _, _) = tree.poll();
        let _ = child.kill();
        let _ = child.wait();
        assert!(cpu_s > 0.05, "child CPU time lost: {cpu_s}");
    }
}
