//! A cgroup (v2) as a consumer: its CPU time (`cpu.stat` `usage_usec`), its memory
//! (`memory.current`) and its processes (`cgroup.procs`), read from its folder under
//! `/sys/fs/cgroup` (a fake folder in tests). A container, a systemd service or a batch job's
//! cgroup is measured the way a process tree is, so its readings are the same `tree` readings.

use super::{read_trim, ReadFile, SourceError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One watched cgroup.
pub struct CgroupTree {
    fs: Arc<dyn ReadFile>,
    dir: PathBuf,
    /// CPU time at the first poll, s (subtracted unless counted from its creation).
    baseline: Option<f64>,
    from_start: bool,
    pids: Vec<u32>,
    /// CPU time of the last poll that read it, s since the start.
    last: f64,
}

impl std::fmt::Debug for CgroupTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CgroupTree")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl CgroupTree {
    /// Watches the cgroup whose folder is `dir`, read through `fs`. With `from_start`, the CPU
    /// time the cgroup had at the first poll counts; otherwise the first poll is a baseline.
    ///
    /// # Errors
    /// When `cpu.stat` cannot be read or holds no `usage_usec` (not a cgroup v2 folder).
    pub fn new(fs: Arc<dyn ReadFile>, dir: &Path, from_start: bool) -> Result<Self, SourceError> {
        let c = Self {
            fs,
            dir: dir.to_path_buf(),
            baseline: None,
            from_start,
            pids: Vec::new(),
            last: 0.0,
        };
        c.cpu_s()?;
        Ok(c)
    }

    /// The cgroup's folder.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Its processes at the last poll.
    #[must_use]
    pub fn pids(&self) -> &[u32] {
        &self.pids
    }

    fn cpu_s(&self) -> Result<f64, SourceError> {
        let path = self.dir.join("cpu.stat");
        let text = read_trim(self.fs.as_ref(), &path)?;
        text.lines()
            .find_map(|l| l.strip_prefix("usage_usec "))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|us| us as f64 / 1e6)
            .ok_or(SourceError::Parse { path, text })
    }

    /// Polls the cgroup: `(CPU seconds since the start, resident GB, live processes)`; a read
    /// that fails keeps the last figures' CPU time (it never goes backwards) and counts no
    /// memory.
    pub fn poll(&mut self) -> (f64, f64, u32) {
        let cpu = self.cpu_s().ok();
        let base = *self.baseline.get_or_insert(if self.from_start {
            0.0
        } else {
            cpu.unwrap_or(0.0)
        });
        let mem = read_trim(self.fs.as_ref(), &self.dir.join("memory.current"))
            .ok()
            .and_then(|t| t.parse::<u64>().ok())
            .map_or(0.0, |b| b as f64 / 1e9);
        self.pids = read_trim(self.fs.as_ref(), &self.dir.join("cgroup.procs"))
            .map(|t| t.lines().filter_map(|l| l.trim().parse().ok()).collect())
            .unwrap_or_default();
        let n = u32::try_from(self.pids.len()).unwrap_or(u32::MAX);
        if let Some(c) = cpu {
            self.last = self.last.max(c - base);
        }
        (self.last, mem, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::StdFs;

    fn write(dir: &Path, usage_usec: u64, mem: u64, procs: &str) {
        std::fs::write(
            dir.join("cpu.stat"),
            format!("usage_usec {usage_usec}\nuser_usec 1\nsystem_usec 2\n"),
        )
        .expect("cpu.stat");
        std::fs::write(dir.join("memory.current"), format!("{mem}\n")).expect("memory");
        std::fs::write(dir.join("cgroup.procs"), procs).expect("procs");
    }

    #[test]
    fn a_cgroup_reads_as_a_tree_of_cpu_time_and_memory() {
        let d = tempfile::tempdir().expect("tempdir");
        // 12 s of CPU already, 2 GB, two processes; then 15.5 s.
        write(d.path(), 12_000_000, 2_000_000_000, "41\n42\n");
        let mut attached = CgroupTree::new(Arc::new(StdFs), d.path(), false).expect("cgroup");
        let mut started = CgroupTree::new(Arc::new(StdFs), d.path(), true).expect("cgroup");
        assert_eq!(attached.poll(), (0.0, 2.0, 2));
        assert_eq!(started.poll(), (12.0, 2.0, 2));
        assert_eq!(attached.pids(), [41, 42]);
        write(d.path(), 15_500_000, 1_000_000_000, "42\n");
        assert_eq!(attached.poll(), (3.5, 1.0, 1));
        assert_eq!(started.poll(), (15.5, 1.0, 1));
        // Gone (the cgroup was removed): the CPU time stays where it was.
        std::fs::remove_file(d.path().join("cpu.stat")).expect("rm");
        assert_eq!(attached.poll().0, 3.5);
    }

    #[test]
    fn a_folder_that_is_not_a_cgroup_is_an_error_naming_the_file() {
        let d = tempfile::tempdir().expect("tempdir");
        let e = CgroupTree::new(Arc::new(StdFs), d.path(), false).expect_err("not a cgroup");
        assert!(e.to_string().contains("cpu.stat"), "{e}");
        std::fs::write(d.path().join("cpu.stat"), "nr_periods 0\n").expect("write");
        let e = CgroupTree::new(Arc::new(StdFs), d.path(), false).expect_err("v1?");
        assert!(e.to_string().contains("unexpected content"), "{e}");
    }
}
