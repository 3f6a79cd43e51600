//! NVIDIA GPUs through NVML, behind a small device trait ([`GpuDevice`]) so that a fake device
//! drives the tests. The real device ([`NvmlGpu`]) uses the `nvml-wrapper` crate, which loads
//! `libnvidia-ml.so` at run time: without a driver the source is simply absent.
//!
//! Per device: the total-energy counter (`nvmlDeviceGetTotalEnergyConsumption`, mJ since the
//! driver loaded; Volta and later) where supported, power sampling (`nvmlDeviceGetPowerUsage`,
//! mW) otherwise; the PIDs using the GPU, so that a GPU no measured process touches is not
//! charged to it. `CUDA_VISIBLE_DEVICES` (indices, `GPU-` or `MIG-` UUIDs) limits the devices;
//! a MIG instance is charged as its parent GPU, once however many of its instances are listed,
//! because NVML's energy counter belongs to the parent. A MIG UUID of the R470+ form
//! (`MIG-<uuid>`, which does not name its parent) is looked up in `nvidia-smi -L`, run once and
//! only then: the safe NVML binding has no call for MIG handles, and this crate forbids unsafe
//! code.

use super::gpu_use::{GpuUse, MigUse};
use super::{
    DeviceId, Part, PollContext, PollError, ReadBudget, Reading, Source, SourceError, SourceKind,
    Value,
};
use std::collections::BTreeSet;

/// What wattlens needs from one physical GPU.
pub trait GpuDevice: Send {
    /// UUID (`GPU-...`).
    ///
    /// # Errors
    /// When the driver does not answer.
    fn uuid(&self) -> Result<String, SourceError>;
    /// UUIDs of its MIG instances (`MIG-...`), empty without MIG.
    fn mig_uuids(&self) -> Vec<String> {
        Vec::new()
    }
    /// Total energy since the driver loaded, mJ; `None` where the GPU does not support it.
    ///
    /// # Errors
    /// When the device stopped answering.
    fn total_energy_mj(&self) -> Result<Option<u64>, SourceError>;
    /// Current power, mW.
    ///
    /// # Errors
    /// When the device stopped answering.
    fn power_mw(&self) -> Result<u32, SourceError>;
    /// PIDs using the GPU; `None` when the driver does not say (e.g. in a container).
    fn pids(&self) -> Option<Vec<u32>>;
    /// Each process's SM utilisation since the last call, % (averaged by process); `None`
    /// where the device does not sample it.
    fn process_utilisation(&self) -> Option<Vec<(u32, f64)>> {
        None
    }
    /// Its MIG instances as devices of their own (with their processes), empty without MIG
    /// or where they cannot be told apart.
    fn mig_use(&self) -> Vec<MigUse> {
        Vec::new()
    }
}

/// Indices of the devices to charge: all of them, or those `CUDA_VISIBLE_DEVICES` names
/// (indices, UUIDs or UUID prefixes; MIG UUIDs resolve to their parent through
/// [`GpuDevice::mig_uuids`] or the `MIG-GPU-<uuid>/..` form; like CUDA, the list stops at the
/// first entry that matches nothing).
#[must_use]
pub fn visible<D: GpuDevice>(devices: &[D], cuda_visible: Option<&str>) -> BTreeSet<usize> {
    visible_until(devices, cuda_visible).0
}

/// [`visible`], and the first entry that matched nothing (where the list stopped), if any.
#[must_use]
pub fn visible_until<D: GpuDevice>(
    devices: &[D],
    cuda_visible: Option<&str>,
) -> (BTreeSet<usize>, Option<String>) {
    let Some(list) = cuda_visible else {
        return ((0..devices.len()).collect(), None);
    };
    let uuids: Vec<String> = devices
        .iter()
        .map(|d| d.uuid().unwrap_or_default())
        .collect();
    // Asked for only when a MIG UUID does not name its parent.
    let mut migs: Option<Vec<Vec<String>>> = None;
    let (picked, stop) = super::pick_visible(list, devices.len(), |item| {
        if let Some(mig) = item.strip_prefix("MIG-") {
            // `MIG-GPU-<parent uuid>/gi/ci` (drivers before R470) names its parent.
            let parent = mig.split('/').next().filter(|p| p.starts_with("GPU-"));
            parent
                .and_then(|p| uuids.iter().position(|u| u == p))
                .or_else(|| {
                    migs.get_or_insert_with(|| devices.iter().map(GpuDevice::mig_uuids).collect())
                        .iter()
                        .position(|m| m.iter().any(|u| u.starts_with(item)))
                })
        } else {
            uuids
                .iter()
                .position(|u| !u.is_empty() && u.starts_with(item))
        }
    });
    (picked.into_iter().collect(), stop)
}

/// The GPUs and their MIG instances in the output of `nvidia-smi -L`:
/// `(GPU-uuid, [MIG-uuid ...])` in the order listed.
///
/// ```text
/// GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-5c89852c-d268-c3f3-1b07-005d5ae1dc3f)
///   MIG 3g.40gb     Device  0: (UUID: MIG-c6d4f1ef-42e4-5de3-91c7-45d71c87eb3f)
/// ```
#[must_use]
pub fn parse_nvidia_smi_list(text: &str) -> Vec<(String, Vec<String>)> {
    let uuid = |line: &str| {
        let rest = &line[line.find("(UUID: ")? + 7..];
        Some(rest[..rest.find(')')?].trim().to_string())
    };
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        let t = line.trim_start();
        match (t.starts_with("GPU "), t.starts_with("MIG "), uuid(t)) {
            (true, _, Some(u)) => out.push((u, Vec::new())),
            (_, true, Some(u)) => {
                if let Some((_, m)) = out.last_mut() {
                    m.push(u);
                }
            }
            _ => {}
        }
    }
    out
}

struct Gpu<D> {
    index: usize,
    /// Its readings' identity (`nvml/gpu0`).
    id: DeviceId,
    dev: D,
    counter: bool,
    budget: ReadBudget,
    /// The processes on it at the last poll (`None`: the driver did not say).
    pids: Option<Vec<u32>>,
    /// Their utilisation over the last interval, where sampled.
    utilisation: Option<Vec<(u32, f64)>>,
    /// Its MIG instances at the last poll.
    mig: Vec<MigUse>,
}

/// The GPUs charged to a run.
pub struct Nvml<D: GpuDevice> {
    gpus: Vec<Gpu<D>>,
    unmatched: Option<String>,
}

impl<D: GpuDevice> std::fmt::Debug for Nvml<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nvml")
            .field("gpus", &self.gpus.len())
            .finish()
    }
}

impl<D: GpuDevice> Nvml<D> {
    /// The devices `CUDA_VISIBLE_DEVICES` leaves visible, each read by counter where supported.
    ///
    /// # Errors
    /// [`SourceError::Absent`] when no device is left.
    pub fn from_devices(devices: Vec<D>, cuda_visible: Option<&str>) -> Result<Self, SourceError> {
        let (keep, unmatched) = visible_until(&devices, cuda_visible);
        let gpus: Vec<Gpu<D>> = devices
            .into_iter()
            .enumerate()
            .filter(|(i, _)| keep.contains(i))
            .map(|(index, dev)| {
                let counter = matches!(dev.total_energy_mj(), Ok(Some(_)));
                Gpu {
                    index,
                    id: DeviceId::new(SourceKind::Nvml, format!("gpu{index}")),
                    dev,
                    counter,
                    budget: ReadBudget::default(),
                    pids: None,
                    utilisation: None,
                    mig: Vec::new(),
                }
            })
            .collect();
        if gpus.is_empty() {
            let why = unmatched.as_deref().map_or(String::new(), |u| {
                format!(": its entry {u:?} matches no GPU (see `nvidia-smi -L`)")
            });
            return Err(SourceError::Absent(format!(
                "no NVIDIA GPU visible (CUDA_VISIBLE_DEVICES){why}"
            )));
        }
        Ok(Self { gpus, unmatched })
    }

    /// The `CUDA_VISIBLE_DEVICES` entry that matched no GPU, where the list stopped (as CUDA
    /// stops), if any: the entries from it on are not measured.
    #[must_use]
    pub fn unmatched(&self) -> Option<&str> {
        self.unmatched.as_deref()
    }

    /// `(index, read by counter)` of each device charged.
    #[must_use]
    pub fn devices(&self) -> Vec<(usize, bool)> {
        self.gpus.iter().map(|g| (g.index, g.counter)).collect()
    }
}

impl<D: GpuDevice> Source for Nvml<D> {
    fn name(&self) -> &'static str {
        "nvml"
    }

    fn poll(
        &mut self,
        t: f64,
        ctx: &PollContext<'_>,
        out: &mut Vec<Reading>,
    ) -> Result<(), PollError> {
        self.gpus.retain_mut(|g| {
            g.pids = g.dev.pids();
            g.utilisation = g.dev.process_utilisation();
            g.mig = g.dev.mig_use();
            let used = g
                .pids
                .as_ref()
                .map(|p| p.iter().any(|pid| ctx.pids.contains(pid)));
            // Shared with processes outside the tree: the tree's part of the SM utilisation.
            let share = match (used, g.utilisation.as_deref()) {
                // A share to 7 digits is plenty (and keeps each reading small).
                #[allow(clippy::cast_possible_truncation)]
                (Some(true), Some(u)) => super::gpu_use::tree_share(u, ctx.pids).map(|s| s as f32),
                _ => None,
            };
            let value = if g.counter {
                g.dev
                    .total_energy_mj()
                    .and_then(|e| {
                        e.ok_or_else(|| SourceError::Device {
                            device: format!("gpu{}", g.index),
                            message: "energy counter no longer supported".into(),
                        })
                    })
                    .map(|mj| Value::Counter {
                        part: Part::Gpu,
                        energy_uj: mj.saturating_mul(1000),
                        max_uj: u64::MAX,
                        used,
                        share,
                    })
            } else {
                g.dev.power_mw().map(|mw| Value::Power {
                    part: Part::Gpu,
                    power_w: f64::from(mw) / 1000.0,
                    used,
                    share,
                })
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
                "every NVIDIA GPU disappeared".into(),
            )));
        }
        Ok(())
    }

    fn device_pids(&self) -> Vec<(DeviceId, Vec<u32>)> {
        self.gpus
            .iter()
            .filter_map(|g| g.pids.clone().map(|p| (g.id.clone(), p)))
            .collect()
    }

    fn device_use(&self) -> Vec<(DeviceId, GpuUse)> {
        self.gpus
            .iter()
            .filter(|g| g.pids.is_some() || g.utilisation.is_some() || !g.mig.is_empty())
            .map(|g| {
                (
                    g.id.clone(),
                    GpuUse {
                        pids: g.pids.clone(),
                        utilisation: g.utilisation.clone(),
                        mig: g.mig.clone(),
                    },
                )
            })
            .collect()
    }
}

/// `NVML_DEVICE_MIG_ENABLE` of `nvml.h` (the wrapper does not re-export it).
const NVML_DEVICE_MIG_ENABLE: u32 = 1;

/// A real GPU through the NVML library loaded at run time.
pub struct NvmlGpu {
    nvml: std::sync::Arc<nvml_wrapper::Nvml>,
    index: u32,
    /// The newest utilisation sample read (driver time, us): the next read starts after it.
    last_sample_us: std::sync::atomic::AtomicU64,
    /// Whether MIG mode is on (asked once: changing it takes a GPU reset).
    mig_on: std::sync::OnceLock<bool>,
}

impl NvmlGpu {
    /// Every GPU the driver reports; [`SourceError::Absent`] without a driver.
    ///
    /// # Errors
    /// When NVML cannot be loaded or initialised.
    pub fn all() -> Result<Vec<Self>, SourceError> {
        // NVML talks to the kernel driver through /dev/nvidiactl (/dev/dxg under WSL 2): without
        // either there is no GPU to find, and looking for libnvidia-ml.so across the library
        // path would only add to the measured command's wall time.
        if !["/dev/nvidiactl", "/dev/dxg"]
            .iter()
            .any(|p| std::path::Path::new(p).exists())
        {
            return Err(SourceError::Absent(
                "no NVIDIA driver (/dev/nvidiactl is missing)".into(),
            ));
        }
        let nvml = nvml_wrapper::Nvml::init()
            .map_err(|e| SourceError::Absent(format!("NVML not available: {e}")))?;
        let n = nvml
            .device_count()
            .map_err(|e| SourceError::Absent(format!("NVML: {e}")))?;
        let nvml = std::sync::Arc::new(nvml);
        Ok((0..n)
            .map(|index| Self {
                nvml: std::sync::Arc::clone(&nvml),
                index,
                last_sample_us: std::sync::atomic::AtomicU64::new(0),
                mig_on: std::sync::OnceLock::new(),
            })
            .collect())
    }

    fn err(&self, e: &nvml_wrapper::error::NvmlError) -> SourceError {
        SourceError::Device {
            device: format!("gpu{}", self.index),
            message: e.to_string(),
        }
    }

    fn device(&self) -> Result<nvml_wrapper::Device<'_>, SourceError> {
        self.nvml
            .device_by_index(self.index)
            .map_err(|e| self.err(&e))
    }
}

impl GpuDevice for NvmlGpu {
    fn uuid(&self) -> Result<String, SourceError> {
        self.device()?.uuid().map_err(|e| self.err(&e))
    }

    fn mig_uuids(&self) -> Vec<String> {
        static LISTED: std::sync::OnceLock<Vec<(String, Vec<String>)>> = std::sync::OnceLock::new();
        let listed = LISTED.get_or_init(|| {
            std::process::Command::new("nvidia-smi")
                .arg("-L")
                .stdin(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| parse_nvidia_smi_list(&String::from_utf8_lossy(&o.stdout)))
                .unwrap_or_default()
        });
        let Ok(me) = self.uuid() else {
            return Vec::new();
        };
        listed
            .iter()
            .find(|(gpu, _)| *gpu == me)
            .map(|(_, migs)| migs.clone())
            .unwrap_or_default()
    }

    fn total_energy_mj(&self) -> Result<Option<u64>, SourceError> {
        match self.device()?.total_energy_consumption() {
            Ok(v) => Ok(Some(v)),
            Err(nvml_wrapper::error::NvmlError::NotSupported) => Ok(None),
            Err(e) => Err(self.err(&e)),
        }
    }

    fn power_mw(&self) -> Result<u32, SourceError> {
        self.device()?.power_usage().map_err(|e| self.err(&e))
    }

    fn pids(&self) -> Option<Vec<u32>> {
        let d = self.device().ok()?;
        let mut v: Vec<u32> = d
            .running_compute_processes()
            .ok()?
            .iter()
            .map(|p| p.pid)
            .collect();
        if let Ok(g) = d.running_graphics_processes() {
            v.extend(g.iter().map(|p| p.pid));
        }
        Some(v)
    }

    fn process_utilisation(&self) -> Option<Vec<(u32, f64)>> {
        use std::sync::atomic::Ordering;
        let d = self.device().ok()?;
        let since = self.last_sample_us.load(Ordering::Relaxed);
        let samples = match d.process_utilization_stats(since) {
            Ok(s) => s,
            // No process was active since `since`: all idle, not unknown.
            Err(nvml_wrapper::error::NvmlError::NotFound) => Vec::new(),
            Err(_) => return None,
        };
        if let Some(newest) = samples.iter().map(|s| s.timestamp).max() {
            self.last_sample_us.fetch_max(newest, Ordering::Relaxed);
        }
        let pairs: Vec<(u32, f64)> = samples
            .iter()
            .map(|s| (s.pid, f64::from(s.sm_util)))
            .collect();
        Some(super::gpu_use::average_by_pid(&pairs))
    }

    fn mig_use(&self) -> Vec<MigUse> {
        let Ok(d) = self.device() else {
            return Vec::new();
        };
        let on = *self.mig_on.get_or_init(|| {
            d.mig_mode()
                .is_ok_and(|m| m.current == NVML_DEVICE_MIG_ENABLE)
        });
        if !on {
            return Vec::new();
        }
        let Ok(procs) = d.running_compute_processes() else {
            return Vec::new();
        };
        let procs: Vec<(u32, Option<u32>)> =
            procs.iter().map(|p| (p.pid, p.gpu_instance_id)).collect();
        super::nvml_mig::instances_of(self.index, super::nvml_mig::listed_once(), &procs)
    }
}

/// A GPU for the library's tests: counters and power set by the test.
#[cfg(test)]
#[derive(Clone, Debug, Default)]
pub(crate) struct FakeGpu {
    /// UUID.
    pub uuid: String,
    /// MIG instance UUIDs.
    pub migs: Vec<String>,
    /// Energy counter, mJ; `None`: unsupported.
    pub energy_mj: std::sync::Arc<std::sync::Mutex<Option<u64>>>,
    /// Power, mW.
    pub power_mw: u32,
    /// PIDs using it.
    pub pids: Option<Vec<u32>>,
    /// Their utilisation, %.
    pub utilisation: Option<Vec<(u32, f64)>>,
    /// Its MIG instances.
    pub mig: Vec<MigUse>,
    /// When set, every call fails (the device fell off the bus).
    pub gone: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

#[cfg(test)]
impl FakeGpu {
    fn check(&self) -> Result<(), SourceError> {
        if self.gone.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(SourceError::Device {
                device: self.uuid.clone(),
                message: "GPU is lost".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
impl GpuDevice for FakeGpu {
    fn uuid(&self) -> Result<String, SourceError> {
        self.check()?;
        Ok(self.uuid.clone())
    }
    fn mig_uuids(&self) -> Vec<String> {
        self.migs.clone()
    }
    fn total_energy_mj(&self) -> Result<Option<u64>, SourceError> {
        self.check()?;
        Ok(self.energy_mj.lock().map(|g| *g).unwrap_or(None))
    }
    fn power_mw(&self) -> Result<u32, SourceError> {
        self.check()?;
        Ok(self.power_mw)
    }
    fn pids(&self) -> Option<Vec<u32>> {
        self.pids.clone()
    }
    fn process_utilisation(&self) -> Option<Vec<(u32, f64)>> {
        self.utilisation.clone()
    }
    fn mig_use(&self) -> Vec<MigUse> {
        self.mig.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::super::MAX_CONSECUTIVE_FAILURES;
    use super::*;
    use std::sync::atomic::Ordering;
    use std::sync::{Arc, Mutex};

    fn gpu(uuid: &str, energy: Option<u64>, mw: u32) -> FakeGpu {
        FakeGpu {
            uuid: uuid.into(),
            energy_mj: Arc::new(Mutex::new(energy)),
            power_mw: mw,
            ..FakeGpu::default()
        }
    }

    #[test]
    fn cuda_visible_devices_and_mig_never_double_count() {
        let mut a = gpu("GPU-aaaa", Some(0), 0);
        a.migs = vec!["MIG-a1".into(), "MIG-a2".into()];
        let devs = vec![a, gpu("GPU-bbbb", Some(0), 0), gpu("GPU-cccc", None, 0)];
        assert_eq!(visible(&devs, None).len(), 3);
        assert_eq!(
            visible(&devs, Some("2,0")).into_iter().collect::<Vec<_>>(),
            [0, 2]
        );
        assert_eq!(
            visible(&devs, Some("GPU-bb"))
                .into_iter()
                .collect::<Vec<_>>(),
            [1]
        );
        // Old-style MIG names carry their parent.
        assert_eq!(
            visible(&devs, Some("MIG-GPU-bbbb/1/0"))
                .into_iter()
                .collect::<Vec<_>>(),
            [1]
        );
        // Two instances of one GPU: the parent once.
        assert_eq!(
            visible(&devs, Some("MIG-a1,MIG-a2"))
                .into_iter()
                .collect::<Vec<_>>(),
            [0]
        );
        // Like CUDA: the list stops at an entry that matches nothing.
        assert_eq!(
            visible(&devs, Some("1,7,0"))
                .into_iter()
                .collect::<Vec<_>>(),
            [1]
        );
        assert!(visible(&devs, Some("")).is_empty());
        assert_eq!(
            visible_until(&devs, Some("1,GPU-zz,0")).1.as_deref(),
            Some("GPU-zz")
        );
        let err = Nvml::from_devices(devs, Some("MIG-nope")).expect_err("none visible");
        assert!(
            err.to_string().contains("\"MIG-nope\" matches no GPU"),
            "{err}"
        );
    }

    #[test]
    fn mig_instances_come_from_nvidia_smi_list() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/nvidia-smi-L-mig.txt"
        ))
        .expect("fixture");
        let got = parse_nvidia_smi_list(&text);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].0, "GPU-5c89852c-d268-c3f3-1b07-005d5ae1dc3f");
        assert_eq!(
            got[0].1,
            [
                "MIG-c6d4f1ef-42e4-5de3-91c7-45d71c87eb3f",
                "MIG-cba663e8-9bed-5b7a-b950-3a8e2fa3e3c1"
            ]
        );
        assert!(got[1].1.is_empty());
        assert_eq!(got[2].1, ["MIG-f0b1e2d3-0000-5a5a-8c8c-123456789abc"]);
        // Those instances select their parents, each once.
        let devs: Vec<FakeGpu> = got
            .into_iter()
            .map(|(uuid, migs)| FakeGpu {
                uuid,
                migs,
                ..FakeGpu::default()
            })
            .collect();
        let keep = visible(
            &devs,
            Some("MIG-cba663e8-9bed-5b7a-b950-3a8e2fa3e3c1,MIG-f0b1e2d3,MIG-c6d4f1ef"),
        );
        assert_eq!(keep.into_iter().collect::<Vec<_>>(), [0, 2]);
    }

    #[test]
    fn counter_where_supported_power_otherwise_and_per_process_use() {
        let a = gpu("GPU-a", Some(1_000), 0);
        let energy = Arc::clone(&a.energy_mj);
        let mut b = gpu("GPU-b", None, 250_000);
        b.pids = Some(vec![42]);
        let gone = Arc::clone(&b.gone);
        let mut src = Nvml::from_devices(vec![a, b], None).expect("gpus");
        assert_eq!(src.devices(), [(0, true), (1, false)]);
        let mut buf = Vec::new();
        let ctx = PollContext { pids: &[42] };
        src.poll(0.0, &ctx, &mut buf).expect("poll");
        assert_eq!(
            buf[0].value,
            Value::Counter {
                part: Part::Gpu,
                energy_uj: 1_000_000,
                max_uj: u64::MAX,
                used: None,
                share: None,
            }
        );
        assert_eq!(
            buf[1].value,
            Value::Power {
                part: Part::Gpu,
                power_w: 250.0,
                used: Some(true),
                share: None,
            }
        );
        // The processes on each device, for a node agent's split: gpu1's, as the driver said.
        assert_eq!(
            src.device_pids(),
            [(DeviceId::new(SourceKind::Nvml, "gpu1"), vec![42])]
        );
        // gpu1 falls off the bus: its reads are retried (Missed) up to the budget, then it is
        // dropped; gpu0 goes on throughout.
        *energy.lock().expect("lock") = Some(2_000);
        gone.store(true, Ordering::Relaxed);
        for i in 1..MAX_CONSECUTIVE_FAILURES {
            buf.clear();
            src.poll(f64::from(i), &ctx, &mut buf).expect("poll");
            assert!(
                matches!(&buf[1].value, Value::Missed { reason } if reason.contains("lost")),
                "{buf:?}"
            );
            assert_eq!(src.devices(), [(0, true), (1, false)]);
        }
        buf.clear();
        src.poll(9.0, &ctx, &mut buf).expect("poll");
        assert!(
            matches!(&buf[1].value, Value::Dropped { reason } if reason.contains("5 reads failed in a row")),
            "{buf:?}"
        );
        assert_eq!(src.devices(), [(0, true)]);
        buf.clear();
        src.poll(10.0, &ctx, &mut buf).expect("poll");
        assert_eq!(buf.len(), 1, "a dropped GPU is no longer read: {buf:?}");
    }

    #[test]
    fn each_gpus_process_utilisation_and_mig_instances_reach_the_agent() {
        let mut a = gpu("GPU-a", Some(0), 0);
        a.pids = Some(vec![7, 8]);
        a.utilisation = Some(vec![(7, 55.0)]);
        let mut b = gpu("GPU-b", Some(0), 0);
        b.mig = vec![MigUse {
            id: "gi1".into(),
            slices: 3,
            pids: Some(vec![9]),
            ..MigUse::default()
        }];
        // A GPU the driver says nothing about is left out.
        let c = gpu("GPU-c", Some(0), 0);
        let mut src = Nvml::from_devices(vec![a, b, c], None).expect("gpus");
        src.poll(0.0, &PollContext::default(), &mut Vec::new())
            .expect("poll");
        let got = src.device_use();
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].0, DeviceId::new(SourceKind::Nvml, "gpu0"));
        assert_eq!(got[0].1.utilisation, Some(vec![(7, 55.0)]));
        assert_eq!(got[0].1.pids, Some(vec![7, 8]));
        assert_eq!(got[1].1.mig[0].slices, 3);
    }

    #[test]
    fn a_gpu_shared_with_a_process_outside_the_tree_reports_the_trees_share() {
        // The tree's pid 42 at 30% SM, pid 50 outside it at 90%: the tree's share is 0.25.
        let mut a = gpu("GPU-a", Some(1_000), 0);
        a.pids = Some(vec![42, 50]);
        a.utilisation = Some(vec![(42, 30.0), (50, 90.0)]);
        // Alone on it: no share (the whole GPU is the tree's, as before sampling).
        let mut b = gpu("GPU-b", Some(1_000), 0);
        b.pids = Some(vec![42]);
        b.utilisation = Some(vec![(42, 30.0)]);
        // Not the tree's at all: no share.
        let mut c = gpu("GPU-c", Some(1_000), 0);
        c.pids = Some(vec![50]);
        c.utilisation = Some(vec![(50, 90.0)]);
        let mut src = Nvml::from_devices(vec![a, b, c], None).expect("gpus");
        let mut buf = Vec::new();
        src.poll(0.0, &PollContext { pids: &[42] }, &mut buf)
            .expect("poll");
        let got: Vec<(Option<bool>, Option<f32>)> = buf
            .iter()
            .map(|r| match r.value {
                Value::Counter { used, share, .. } => (used, share),
                _ => panic!("{r:?}"),
            })
            .collect();
        assert_eq!(
            got,
            [
                (Some(true), Some(0.25_f32)),
                (Some(true), None),
                (Some(false), None)
            ]
        );
    }

    /// Issue 8: a transient NVML error (a timeout, a busy GPU) in hour 1 of a long run must not
    /// lose every later GPU joule.
    #[test]
    fn a_gpu_that_fails_two_reads_then_recovers_keeps_its_whole_energy() {
        use crate::measure::{ModelInputs, Pipeline, Policy};
        let a = gpu("GPU-a", Some(10_000), 0);
        let (energy, gone) = (Arc::clone(&a.energy_mj), Arc::clone(&a.gone));
        let mut src = Nvml::from_devices(vec![a], None).expect("gpus");
        let mut pipe = Pipeline::new(ModelInputs {
            policy: Policy::Machine,
            cpu_tdp: Some(crate::units::Watts(100.0)),
            cpu_w_per_thread: 3.5,
            dram_w_per_gb: 0.375,
        });
        // Counter (mJ) at t = 0..6; the reads at t = 2 and 3 fail.
        let counter = [10_000, 11_000, 12_500, 14_000, 15_000, 17_000, 20_000];
        for (t, mj) in counter.iter().enumerate() {
            *energy.lock().expect("lock") = Some(*mj);
            gone.store(t == 2 || t == 3, Ordering::Relaxed);
            let mut buf = Vec::new();
            src.poll(t as f64, &PollContext::default(), &mut buf)
                .expect("poll");
            let missed = matches!(buf[0].value, Value::Missed { .. });
            assert_eq!(missed, t == 2 || t == 3, "t = {t}: {buf:?}");
            pipe.tick(&buf);
        }
        assert_eq!(src.devices(), [(0, true)], "still measured");
        // True delta: 20,000 - 10,000 mJ = 10 J, the failed reads' intervals included.
        let m = pipe.finish();
        let gpu = m
            .breakdown
            .components
            .iter()
            .find(|c| c.key == crate::figure::Figure::ComponentGpu)
            .expect("gpu component");
        assert!((gpu.energy.0 - 10.0).abs() < 1e-9, "{gpu:?}");
        assert_eq!(gpu.method, crate::energy::Method::Measured);
        let notes: Vec<&String> = m.warnings.iter().filter(|w| w.contains("gpu0")).collect();
        assert_eq!(notes.len(), 1, "{:?}", m.warnings);
        assert!(
            notes[0].starts_with("nvml/gpu0: 2 reads failed and were retried")
                && notes[0].ends_with("its energy counter covers the gaps"),
            "{notes:?}"
        );
    }
}
