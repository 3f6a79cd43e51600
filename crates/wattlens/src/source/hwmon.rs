//! AMD GPUs through the amdgpu hwmon interface: `SYSFS/class/hwmon/hwmon*/` whose `name` is
//! `amdgpu`. `energy1_input` (uJ, a counter; newer kernels and APUs) is preferred; otherwise
//! `power1_average` (uW, averaged by the firmware), else `power1_input` (uW, instantaneous).

use super::{entries, read_trim, read_u64, Part, PollContext, PollError, Reading, Source};
use super::{DeviceId, ReadBudget, ReadFile, SourceError, SourceKind, StdFs, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Reads {
    Energy,
    Power(&'static str),
}

/// One amdgpu hwmon device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AmdGpu {
    /// `hwmon3`.
    pub label: String,
    dir: PathBuf,
    reads: Reads,
    /// Its failed reads in a row.
    budget: ReadBudget,
    /// Its readings' identity (`hwmon/hwmon4`).
    id: DeviceId,
}

impl AmdGpu {
    /// Whether it has an energy counter (else power is sampled).
    #[cfg(test)]
    #[must_use]
    pub(crate) fn has_energy(&self) -> bool {
        self.reads == Reads::Energy
    }
}

/// The amdgpu devices of a machine.
pub struct Hwmon {
    fs: Arc<dyn ReadFile>,
    gpus: Vec<AmdGpu>,
}

impl std::fmt::Debug for Hwmon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hwmon")
            .field("gpus", &self.gpus)
            .finish_non_exhaustive()
    }
}

impl Hwmon {
    /// Finds amdgpu hwmon devices under `sysfs_root` (which stands for `/sys`) on the real file
    /// system.
    ///
    /// # Errors
    /// [`SourceError::Absent`] when there is none.
    pub fn from_root(sysfs_root: &Path) -> Result<Self, SourceError> {
        Self::with_reader(sysfs_root, Arc::new(StdFs))
    }

    /// The same, reading files through `fs`.
    ///
    /// # Errors
    /// As [`Hwmon::from_root`].
    pub fn with_reader(sysfs_root: &Path, fs: Arc<dyn ReadFile>) -> Result<Self, SourceError> {
        let base = sysfs_root.join("class/hwmon");
        let gpus: Vec<AmdGpu> = entries(&base, "hwmon")
            .into_iter()
            .filter(|d| read_trim(fs.as_ref(), &d.join("name")).is_ok_and(|n| n == "amdgpu"))
            .filter_map(|dir| {
                let reads = if dir.join("energy1_input").exists() {
                    Reads::Energy
                } else if dir.join("power1_average").exists() {
                    Reads::Power("power1_average")
                } else if dir.join("power1_input").exists() {
                    Reads::Power("power1_input")
                } else {
                    return None;
                };
                let label = dir.file_name()?.to_string_lossy().into_owned();
                let id = DeviceId::new(SourceKind::Hwmon, label.as_str());
                Some(AmdGpu {
                    label,
                    dir,
                    reads,
                    budget: ReadBudget::default(),
                    id,
                })
            })
            .collect();
        if gpus.is_empty() {
            return Err(SourceError::Absent(format!(
                "no amdgpu hwmon device under {}",
                base.display()
            )));
        }
        Ok(Self { fs, gpus })
    }

    /// The devices found.
    #[must_use]
    pub fn gpus(&self) -> &[AmdGpu] {
        &self.gpus
    }

    /// Keeps the devices that `ROCR_VISIBLE_DEVICES` (`rocr`) and then `HIP_VISIBLE_DEVICES`
    /// (`hip`) leave visible, matched through the KFD topology under `sysfs_root` (see
    /// [`super::rocm`]); returns a line for stderr when something could not be matched.
    pub fn restrict(
        &mut self,
        sysfs_root: &Path,
        rocr: Option<&str>,
        hip: Option<&str>,
    ) -> Option<String> {
        if rocr.is_none() && hip.is_none() {
            return None;
        }
        let fs = self.fs.as_ref();
        let kfd = super::rocm::kfd_gpus(fs, sysfs_root);
        let slots: Vec<_> = self
            .gpus
            .iter()
            .map(|g| super::rocm::hwmon_slot(fs, &g.dir))
            .collect();
        let v = super::rocm::visible(&kfd, &slots, rocr, hip);
        let mut i = 0;
        self.gpus.retain(|_| {
            i += 1;
            v.keep.contains(&(i - 1))
        });
        v.note
    }
}

impl Source for Hwmon {
    fn name(&self) -> &'static str {
        "hwmon"
    }

    fn poll(
        &mut self,
        t: f64,
        _ctx: &PollContext<'_>,
        out: &mut Vec<Reading>,
    ) -> Result<(), PollError> {
        let fs = self.fs.as_ref();
        self.gpus.retain_mut(|g| {
            let value = match g.reads {
                Reads::Energy => {
                    read_u64(fs, &g.dir.join("energy1_input")).map(|v| Value::Counter {
                        part: Part::Gpu,
                        energy_uj: v,
                        max_uj: u64::MAX,
                        used: None,
                        share: None,
                    })
                }
                Reads::Power(file) => read_u64(fs, &g.dir.join(file)).map(|uw| Value::Power {
                    part: Part::Gpu,
                    power_w: uw as f64 / 1e6,
                    used: None,
                    share: None,
                }),
            };
            let (value, keep) = g.budget.judge(value);
            out.push(Reading {
                t,
                device: g.id.clone(),
                value,
            });
            keep
        });
        if self.gpus.is_empty() {
            return Err(PollError::Stop(SourceError::Absent(
                "every amdgpu device disappeared".into(),
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amd_fixture_energy_and_average_power() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sysfs-amd");
        let mut h = Hwmon::from_root(&root).expect("hwmon");
        assert_eq!(h.gpus().len(), 2, "k10temp is not a GPU");
        assert!(!h.gpus()[0].has_energy());
        assert!(h.gpus()[1].has_energy());
        let mut buf = Vec::new();
        h.poll(0.0, &PollContext::default(), &mut buf)
            .expect("poll");
        // power1_average 45,000,000 uW = 45 W
        assert!(matches!(buf[0].value, Value::Power { power_w, .. } if power_w == 45.0));
        assert!(matches!(
            buf[1].value,
            Value::Counter {
                energy_uj: 123_456_789,
                ..
            }
        ));
        let none = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sysfs-intel-2s");
        assert!(Hwmon::from_root(&none).is_err());
        // ROCm GPU 0 is hwmon4 (PCI c1:00.0): the job that was given it is charged it alone.
        assert_eq!(h.restrict(&root, Some("0"), None), None);
        assert_eq!(h.gpus().len(), 1);
        assert_eq!(h.gpus()[0].label, "hwmon4");
    }

    #[test]
    fn a_device_that_stops_answering_is_dropped_and_the_other_goes_on() {
        // A reader that denies hwmon3's power file from the second poll on, as a GPU that
        // falls off the bus (or a permission change) would.
        struct Flaky(std::sync::atomic::AtomicUsize);
        impl ReadFile for Flaky {
            fn read(&self, path: &Path) -> std::io::Result<String> {
                use std::sync::atomic::Ordering;
                if path.ends_with("hwmon3/power1_average")
                    && self.0.fetch_add(1, Ordering::SeqCst) > 0
                {
                    return Err(std::io::Error::from(std::io::ErrorKind::PermissionDenied));
                }
                std::fs::read_to_string(path)
            }
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sysfs-amd");
        let mut h = Hwmon::with_reader(&root, Arc::new(Flaky(0.into()))).expect("hwmon");
        let mut buf = Vec::new();
        h.poll(0.0, &PollContext::default(), &mut buf)
            .expect("first poll");
        assert!(buf
            .iter()
            .all(|r| !matches!(r.value, Value::Dropped { .. })));
        // Retried within the budget (Missed), then dropped.
        for i in 1..=super::super::MAX_CONSECUTIVE_FAILURES {
            buf.clear();
            h.poll(f64::from(i), &PollContext::default(), &mut buf)
                .expect("poll");
            assert!(matches!(buf[1].value, Value::Counter { .. }));
            if i < super::super::MAX_CONSECUTIVE_FAILURES {
                assert!(
                    matches!(&buf[0].value, Value::Missed { reason } if reason.contains("permission")),
                    "{buf:?}"
                );
                assert_eq!(h.gpus().len(), 2);
            }
        }
        assert!(
            matches!(&buf[0].value, Value::Dropped { reason } if reason.contains("permission")),
            "{buf:?}"
        );
        assert_eq!(h.gpus().len(), 1);
        assert_eq!(h.gpus()[0].label, "hwmon4");
    }

    #[test]
    fn sampled_power_that_misses_reads_is_interpolated_and_the_device_kept() {
        // hwmon3's power1_average (45 W in the fixture) fails its 2nd and 3rd polls.
        struct Flaky(std::sync::atomic::AtomicUsize);
        impl ReadFile for Flaky {
            fn read(&self, path: &Path) -> std::io::Result<String> {
                use std::sync::atomic::Ordering;
                if path.ends_with("hwmon3/power1_average") {
                    let n = self.0.fetch_add(1, Ordering::SeqCst);
                    if n == 1 || n == 2 {
                        return Err(std::io::Error::from(std::io::ErrorKind::TimedOut));
                    }
                }
                std::fs::read_to_string(path)
            }
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sysfs-amd");
        let mut h = Hwmon::with_reader(&root, Arc::new(Flaky(0.into()))).expect("hwmon");
        let mut power = crate::energy::PowerIntegrator::default();
        let mut joules = 0.0;
        let mut kinds = Vec::new();
        for t in 0..5 {
            let mut buf = Vec::new();
            h.poll(f64::from(t), &PollContext::default(), &mut buf)
                .expect("poll");
            match buf[0].value {
                Value::Power { power_w, .. } => {
                    kinds.push("power");
                    joules += power
                        .update(
                            crate::units::Seconds(f64::from(t)),
                            crate::units::Watts(power_w),
                        )
                        .0;
                }
                Value::Missed { .. } => kinds.push("missed"),
                _ => kinds.push("other"),
            }
        }
        assert_eq!(kinds, ["power", "missed", "missed", "power", "power"]);
        // 45 W from t = 0 to 4 s, the trapezoid spanning the gap: 180 J.
        assert!((joules - 180.0).abs() < 1e-9, "{joules}");
        assert_eq!(h.gpus().len(), 2);
    }
}
