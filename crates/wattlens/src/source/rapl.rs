//! RAPL through the powercap sysfs: `SYSFS/class/powercap/intel-rapl:*` (Intel, and AMD since
//! Linux 5.8). Package and DRAM domains are read (psys only when asked: it overlaps both);
//! `core` and `uncore` are skipped because the package already contains them; `intel-rapl-mmio`
//! zones that repeat an MSR zone of the same name are removed so nothing is counted twice.
//!
//! Each domain's `energy_uj` counter wraps at its `max_energy_range_uj`; the deltas, wraps and
//! resets are handled by [`crate::energy::CounterDiff`] downstream.

use super::{
    entries, read_trim, read_u64, DeviceId, Part, PollContext, PollError, ReadBudget, ReadFile,
    Reading, Source, SourceError, SourceKind, StdFs, Value,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One RAPL domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Domain {
    /// `package-0`, `package-0/dram`, `psys`.
    pub label: String,
    /// Package or DRAM (or psys).
    pub part: Part,
    /// The zone folder.
    pub dir: PathBuf,
    /// `max_energy_range_uj`.
    pub max_uj: u64,
}

/// The RAPL domains of one machine.
pub struct Rapl {
    fs: Arc<dyn ReadFile>,
    /// Each domain with its failed reads in a row.
    /// Each domain with its reading's identity and its read budget.
    domains: Vec<(Domain, DeviceId, ReadBudget)>,
}

impl std::fmt::Debug for Rapl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rapl")
            .field("domains", &self.domains)
            .finish_non_exhaustive()
    }
}

impl Rapl {
    /// Finds the domains under `sysfs_root` (which stands for `/sys`) on the real file system.
    ///
    /// # Errors
    /// [`SourceError::Absent`] without RAPL; [`SourceError::Read`] when a counter exists but
    /// cannot be read (the message says how to grant access).
    pub fn from_root(sysfs_root: &Path, psys: bool) -> Result<Self, SourceError> {
        Self::with_reader(sysfs_root, psys, Arc::new(StdFs))
    }

    /// The same, reading files through `fs`.
    ///
    /// # Errors
    /// As [`Rapl::from_root`].
    pub fn with_reader(
        sysfs_root: &Path,
        psys: bool,
        fs: Arc<dyn ReadFile>,
    ) -> Result<Self, SourceError> {
        let base = sysfs_root.join("class/powercap");
        let mut msr = Vec::new();
        let mut mmio = Vec::new();
        for dir in entries(&base, "intel-rapl") {
            let file = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let (is_mmio, id) = if let Some(id) = file.strip_prefix("intel-rapl-mmio:") {
                (true, id.to_string())
            } else if let Some(id) = file.strip_prefix("intel-rapl:") {
                (false, id.to_string())
            } else {
                continue; // the `intel-rapl` control type itself
            };
            let Ok(name) = read_trim(fs.as_ref(), &dir.join("name")) else {
                continue;
            };
            let part = if name.starts_with("package") {
                Part::Cpu
            } else if name == "dram" {
                Part::Dram
            } else if name == "psys" && psys {
                Part::Psys
            } else {
                continue;
            };
            let label = match (part, id.split_once(':')) {
                (Part::Dram, Some((pkg, _))) => {
                    let parent = base.join(format!("intel-rapl:{pkg}/name"));
                    let pname = read_trim(fs.as_ref(), &parent)
                        .unwrap_or_else(|_| format!("package-{pkg}"));
                    format!("{pname}/dram")
                }
                _ => name,
            };
            let max_uj = read_u64(fs.as_ref(), &dir.join("max_energy_range_uj"))?;
            let d = Domain {
                label,
                part,
                dir,
                max_uj,
            };
            if is_mmio {
                mmio.push(d);
            } else {
                msr.push(d);
            }
        }
        for d in mmio {
            if !msr.iter().any(|m| m.label == d.label) {
                msr.push(d);
            }
        }
        msr.dedup_by(|a, b| a.label == b.label);
        if msr.is_empty() {
            return Err(SourceError::Absent(format!(
                "no RAPL domains under {}",
                base.display()
            )));
        }
        for d in &msr {
            read_u64(fs.as_ref(), &d.dir.join("energy_uj"))?;
        }
        Ok(Self {
            fs,
            domains: msr
                .into_iter()
                .map(|d| {
                    let id = DeviceId::new(SourceKind::Rapl, d.label.as_str());
                    (d, id, ReadBudget::default())
                })
                .collect(),
        })
    }

    /// The domains found.
    #[must_use]
    pub fn domains(&self) -> Vec<&Domain> {
        self.domains.iter().map(|(d, _, _)| d).collect()
    }
}

impl Source for Rapl {
    fn name(&self) -> &'static str {
        "rapl"
    }

    fn poll(
        &mut self,
        t: f64,
        _ctx: &PollContext<'_>,
        out: &mut Vec<Reading>,
    ) -> Result<(), PollError> {
        let fs = Arc::clone(&self.fs);
        self.domains.retain_mut(|(d, id, budget)| {
            let read = read_u64(fs.as_ref(), &d.dir.join("energy_uj"))
                .and_then(|v| within_range(d, v))
                .map(|v| Value::Counter {
                    part: d.part,
                    energy_uj: v,
                    max_uj: d.max_uj,
                    used: None,
                    share: None,
                });
            let (value, keep) = budget.judge(read);
            out.push(Reading {
                t,
                device: id.clone(),
                value,
            });
            keep
        });
        if self.domains.is_empty() {
            return Err(PollError::Stop(SourceError::Absent(
                "every RAPL domain disappeared".into(),
            )));
        }
        Ok(())
    }
}

/// A counter value no domain can hold (above its `max_energy_range_uj`, after which it wraps)
/// is a failed read: its delta would be nonsense.
fn within_range(d: &Domain, v: u64) -> Result<u64, SourceError> {
    if v > d.max_uj {
        return Err(SourceError::Device {
            device: format!("rapl/{}", d.label),
            message: format!(
                "energy_uj = {v} is above max_energy_range_uj = {}, which a counter never \
                 exceeds",
                d.max_uj
            ),
        });
    }
    Ok(v)
}

/// Builds powercap trees in a folder, for the library's tests: zones whose counters can be
/// moved between polls.
#[cfg(test)]
#[derive(Debug)]
pub(crate) struct FakePowercap {
    root: PathBuf,
}

#[cfg(test)]
impl FakePowercap {
    /// Starts a tree under `root` (which stands for `/sys`).
    #[must_use]
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
        }
    }

    fn zone(&self, id: &str) -> PathBuf {
        self.root.join("class/powercap").join(id)
    }

    /// Adds zone `id` (`intel-rapl:0`, `intel-rapl:0:0`, `intel-rapl-mmio:0`).
    ///
    /// # Errors
    /// When the files cannot be written.
    pub fn add(&self, id: &str, name: &str, max_uj: u64, energy_uj: u64) -> std::io::Result<()> {
        let z = self.zone(id);
        std::fs::create_dir_all(&z)?;
        std::fs::write(z.join("name"), format!("{name}\n"))?;
        std::fs::write(z.join("max_energy_range_uj"), format!("{max_uj}\n"))?;
        std::fs::write(z.join("energy_uj"), format!("{energy_uj}\n"))
    }

    /// Sets a zone's counter.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn set(&self, id: &str, energy_uj: u64) -> std::io::Result<()> {
        std::fs::write(self.zone(id).join("energy_uj"), format!("{energy_uj}\n"))
    }

    /// Removes a zone (a device that disappears).
    ///
    /// # Errors
    /// When the folder cannot be removed.
    pub fn remove(&self, id: &str) -> std::io::Result<()> {
        std::fs::remove_dir_all(self.zone(id))
    }
}

#[cfg(test)]
mod tests {
    use super::super::MAX_CONSECUTIVE_FAILURES;
    use super::*;
    use crate::energy::CounterDiff;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    #[test]
    fn intel_two_sockets_package_and_dram_without_mmio_duplicate() {
        let r = Rapl::from_root(&fixture("sysfs-intel-2s"), false).expect("rapl");
        let labels: Vec<&str> = r.domains().iter().map(|d| d.label.as_str()).collect();
        assert_eq!(
            labels,
            ["package-0", "package-0/dram", "package-1", "package-1/dram"]
        );
        let with_psys = Rapl::from_root(&fixture("sysfs-intel-2s"), true).expect("rapl");
        assert!(with_psys.domains().iter().any(|d| d.part == Part::Psys));
    }

    #[test]
    fn amd_package_only() {
        let r = Rapl::from_root(&fixture("sysfs-amd"), false).expect("rapl");
        let labels: Vec<&str> = r.domains().iter().map(|d| d.label.as_str()).collect();
        assert_eq!(labels, ["package-0"]);
    }

    #[test]
    fn unreadable_counter_says_how_to_grant_access() {
        // Unreadable for another reason than permission (a folder): no access advice, which
        // would not help (hostile test: chmod advice for "Too many open files").
        let e = Rapl::from_root(&fixture("sysfs-unreadable"), false).expect_err("unreadable");
        let msg = e.to_string();
        assert!(
            msg.contains("energy_uj")
                && msg.contains("not a regular file")
                && !msg.contains("chmod"),
            "{msg}"
        );

        // Permission denied, through an injected reader (works when tests run as root).
        struct Deny;
        impl ReadFile for Deny {
            fn read(&self, p: &Path) -> std::io::Result<String> {
                if p.ends_with("energy_uj") {
                    Err(std::io::Error::from(std::io::ErrorKind::PermissionDenied))
                } else {
                    std::fs::read_to_string(p)
                }
            }
        }
        let e = Rapl::with_reader(&fixture("sysfs-intel-2s"), false, Arc::new(Deny))
            .expect_err("denied");
        assert!(
            e.to_string().contains("PLATYPUS") && e.to_string().contains("chmod"),
            "{e}"
        );
    }

    /// Hostile test (issue 11, round 3): 1,030 idle HTTP connections took the agent's file
    /// descriptors; RAPL reads failed with EMFILE ("Too many open files"), the package was
    /// dropped after 5 of them and never counted again, with chmod advice. Out of descriptors
    /// is not the device's fault: retried at every poll (10 here, twice the drop budget), no
    /// access advice, and the counter's next reading covers the gap exactly:
    /// 1,000,000 -> 13,000,000 uJ = 12 J.
    #[test]
    fn running_out_of_file_descriptors_never_drops_a_domain() {
        struct Emfile(std::sync::atomic::AtomicBool);
        impl ReadFile for Emfile {
            fn read(&self, p: &Path) -> std::io::Result<String> {
                if self.0.load(std::sync::atomic::Ordering::SeqCst) {
                    return Err(std::io::Error::from_raw_os_error(24));
                }
                std::fs::read_to_string(p)
            }
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let fake = FakePowercap::new(dir.path());
        fake.add("intel-rapl:0", "package-0", 262_143_328_850, 1_000_000)
            .expect("zone");
        let fs = Arc::new(Emfile(false.into()));
        let mut r = Rapl::with_reader(dir.path(), false, Arc::clone(&fs) as Arc<dyn ReadFile>)
            .expect("rapl");
        let mut diff = CounterDiff::new(262_143_328_850);
        let mut buf = Vec::new();
        r.poll(0.0, &PollContext::default(), &mut buf)
            .expect("poll");
        let Value::Counter { energy_uj, .. } = buf[0].value else {
            panic!("{buf:?}")
        };
        assert_eq!(diff.update(energy_uj), None);
        fs.0.store(true, std::sync::atomic::Ordering::SeqCst);
        for i in 1..=2 * MAX_CONSECUTIVE_FAILURES {
            buf.clear();
            r.poll(f64::from(i), &PollContext::default(), &mut buf)
                .expect("poll");
            match &buf[0].value {
                Value::Missed { reason } => assert!(
                    reason.contains("Too many open files")
                        && reason.contains("LimitNOFILE")
                        && !reason.contains("chmod"),
                    "{reason}"
                ),
                v => panic!("poll {i}: {v:?}"),
            }
        }
        assert_eq!(r.domains().len(), 1);
        fs.0.store(false, std::sync::atomic::Ordering::SeqCst);
        fake.set("intel-rapl:0", 13_000_000).expect("set");
        buf.clear();
        r.poll(11.0, &PollContext::default(), &mut buf)
            .expect("poll");
        let Value::Counter { energy_uj, .. } = buf[0].value else {
            panic!("{buf:?}")
        };
        assert_eq!(
            diff.update(energy_uj),
            Some(crate::energy::Delta::Forward(12_000_000))
        );
    }

    #[test]
    fn counters_that_move_and_wrap_between_polls() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fake = FakePowercap::new(dir.path());
        fake.add("intel-rapl:0", "package-0", 1_000_000, 900_000)
            .expect("zone");
        fake.add("intel-rapl:0:0", "dram", 1_000_000, 10)
            .expect("zone");
        let mut r = Rapl::from_root(dir.path(), false).expect("rapl");
        let mut diffs = [CounterDiff::new(1_000_000), CounterDiff::new(1_000_000)];
        let mut total = [0u64; 2];
        let mut poll = |r: &mut Rapl, t: f64, total: &mut [u64; 2]| {
            let mut buf = Vec::new();
            r.poll(t, &PollContext::default(), &mut buf).expect("poll");
            for (i, reading) in buf.iter().enumerate() {
                if let Value::Counter { energy_uj, .. } = reading.value {
                    if let Some(d) = diffs[i].update(energy_uj) {
                        total[i] += d.value();
                    }
                }
            }
            buf
        };
        poll(&mut r, 0.0, &mut total);
        // package: 900,000 -> 50,000 wraps: 100,000 + 50,000 + 1 = 150,001 uJ
        fake.set("intel-rapl:0", 50_000).expect("set");
        fake.set("intel-rapl:0:0", 20_010).expect("set");
        poll(&mut r, 1.0, &mut total);
        assert_eq!(total, [150_001, 20_000]);
        // DRAM disappears: retried (Missed) within the budget, then dropped with a reading
        // saying so; the package goes on.
        fake.remove("intel-rapl:0:0").expect("rm");
        fake.set("intel-rapl:0", 60_000).expect("set");
        for i in 1..MAX_CONSECUTIVE_FAILURES {
            let buf = poll(&mut r, 1.0 + f64::from(i), &mut total);
            assert!(
                matches!(buf[1].value, Value::Missed { .. })
                    && buf[1].device.to_string() == "rapl/package-0/dram",
                "{buf:?}"
            );
            assert_eq!(r.domains().len(), 2);
        }
        let buf = poll(&mut r, 9.0, &mut total);
        assert!(buf.iter().any(|x| matches!(x.value, Value::Dropped { .. })
            && x.device.to_string() == "rapl/package-0/dram"));
        assert_eq!(total[0], 160_001);
        assert_eq!(r.domains().len(), 1);
    }

    /// A counter above its range is a failed read (retried, then dropped), never a delta.
    #[test]
    fn a_counter_above_its_range_is_a_missed_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fake = FakePowercap::new(dir.path());
        fake.add("intel-rapl:0", "package-0", 5, 1).expect("zone");
        let mut r = Rapl::from_root(dir.path(), false).expect("rapl");
        let mut buf = Vec::new();
        fake.set("intel-rapl:0", 10).expect("set");
        r.poll(0.0, &PollContext::default(), &mut buf)
            .expect("poll");
        match &buf[0].value {
            Value::Missed { reason } => assert!(
                reason.contains("rapl/package-0: energy_uj = 10 is above max_energy_range_uj = 5"),
                "{reason}"
            ),
            v => panic!("{v:?}"),
        }
        fake.set("intel-rapl:0", 5).expect("set");
        buf.clear();
        r.poll(1.0, &PollContext::default(), &mut buf)
            .expect("poll");
        assert!(
            matches!(buf[0].value, Value::Counter { energy_uj: 5, .. }),
            "{buf:?}"
        );
    }

    /// A counter read that fails and then succeeds loses nothing, even when the counter wrapped
    /// in the gap: the next delta spans it.
    #[test]
    fn a_counter_that_fails_reads_across_a_wrap_loses_nothing() {
        // Fails the package's 2nd and 3rd reads, as a racing driver would.
        struct Flaky(std::sync::atomic::AtomicUsize);
        impl ReadFile for Flaky {
            fn read(&self, p: &Path) -> std::io::Result<String> {
                use std::sync::atomic::Ordering;
                if p.ends_with("intel-rapl:0/energy_uj") {
                    // Read 0 is the constructor's check, 1 the first poll.
                    let n = self.0.fetch_add(1, Ordering::SeqCst);
                    if n == 3 || n == 4 {
                        return Err(std::io::Error::other("EAGAIN"));
                    }
                }
                std::fs::read_to_string(p)
            }
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let fake = FakePowercap::new(dir.path());
        fake.add("intel-rapl:0", "package-0", 1_000_000, 700_000)
            .expect("zone");
        let mut r = Rapl::with_reader(dir.path(), false, Arc::new(Flaky(0.into()))).expect("rapl");
        let mut diff = CounterDiff::new(1_000_000);
        let mut total = 0;
        let mut kinds = Vec::new();
        // 700,000 -> 800,000 -> (900,000 missed) -> (100,000 missed, wrapped) -> 200,000:
        // 100,000 uJ, then across the gap 1,000,000 - 800,000 + 200,000 + 1 = 400,001 uJ (a
        // wrap: under half the range), 500,001 uJ in all.
        for (t, v) in [700_000, 800_000, 900_000, 100_000, 200_000]
            .iter()
            .enumerate()
        {
            fake.set("intel-rapl:0", *v).expect("set");
            let mut buf = Vec::new();
            r.poll(t as f64, &PollContext::default(), &mut buf)
                .expect("poll");
            match buf[0].value {
                Value::Counter { energy_uj, .. } => {
                    kinds.push("counter");
                    if let Some(d) = diff.update(energy_uj) {
                        total += d.value();
                    }
                }
                Value::Missed { .. } => kinds.push("missed"),
                _ => kinds.push("other"),
            }
        }
        assert_eq!(kinds, ["counter", "counter", "missed", "missed", "counter"]);
        assert_eq!(total, 500_001);
        assert_eq!(r.domains().len(), 1);
    }
}
