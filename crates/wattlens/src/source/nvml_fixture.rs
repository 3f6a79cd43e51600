//! NVIDIA GPUs read from a TOML file instead of the driver ([`FileGpu`]), so that a test or a
//! demo drives the NVML source, per-process utilisation and MIG instances included, on a
//! machine without a GPU. The file is read again at every call, so a test moves a GPU's
//! counter or its processes by rewriting it (atomically: write, then rename).
//!
//! ```toml
//! [[gpu]]
//! uuid = "GPU-0000"
//! energy_mj = 1000           # total-energy counter, mJ (or power_mw = 250000)
//! pids = [41, 42]            # processes on it (leave out: the driver does not say)
//! utilisation = [[41, 60.0]] # SM utilisation by process, % (leave out: not sampled)
//! # lost = true              # every call fails, as a GPU fallen off the bus
//! [[gpu.mig]]                # MIG instances (fields of `MigUse`)
//! id = "gi1"
//! slices = 3
//! utilisation = 0.5          # fraction 0..1 of its SMs busy (out of it: the file is refused)
//! pids = [41]
//! ```

use super::gpu_use::MigUse;
use super::nvml::GpuDevice;
use super::{ReadFile as _, SourceError, StdFs};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    gpu: Vec<Spec>,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    uuid: String,
    #[serde(default)]
    energy_mj: Option<u64>,
    #[serde(default)]
    power_mw: Option<u32>,
    #[serde(default)]
    pids: Option<Vec<u32>>,
    #[serde(default)]
    utilisation: Option<Vec<(u32, f64)>>,
    #[serde(default)]
    mig: Vec<MigUse>,
    #[serde(default)]
    lost: bool,
}

fn read(path: &Path) -> Result<File, SourceError> {
    let text = StdFs.read(path).map_err(|source| SourceError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let f: File = toml::from_str(&text).map_err(|e| SourceError::Parse {
        path: path.to_path_buf(),
        text: e.to_string().trim().replace('\n', " "),
    })?;
    // A MIG instance's utilisation is a fraction (a hostile test's 5.0 and -1.0 were clamped
    // silently): out of 0..1 the fixture is wrong, and says where.
    for (i, g) in f.gpu.iter().enumerate() {
        for m in &g.mig {
            if let Some(u) = m.utilisation.filter(|u| !(0.0..=1.0).contains(u)) {
                return Err(SourceError::Parse {
                    path: path.to_path_buf(),
                    text: format!(
                        "gpu {i} ({}), MIG instance {}: utilisation = {u} must be a fraction \
                         between 0 and 1",
                        g.uuid, m.id
                    ),
                });
            }
        }
    }
    Ok(f)
}

/// One GPU of a fixture file (see the module's doc).
#[derive(Debug)]
pub struct FileGpu {
    path: PathBuf,
    index: usize,
}

impl FileGpu {
    /// Every GPU the file lists now.
    ///
    /// # Errors
    /// When the file cannot be read or is not a fixture.
    pub fn all(path: &Path) -> Result<Vec<Self>, SourceError> {
        Ok((0..read(path)?.gpu.len())
            .map(|index| Self {
                path: path.to_path_buf(),
                index,
            })
            .collect())
    }

    /// This GPU's entry now; an error when it is `lost`, gone or the file unreadable.
    fn spec(&self) -> Result<Spec, SourceError> {
        let f = read(&self.path)?;
        let s = f.gpu.get(self.index).cloned().ok_or(SourceError::Device {
            device: format!("gpu{}", self.index),
            message: "no longer in the fixture".into(),
        })?;
        if s.lost {
            return Err(SourceError::Device {
                device: s.uuid,
                message: "GPU is lost".into(),
            });
        }
        Ok(s)
    }
}

impl GpuDevice for FileGpu {
    fn uuid(&self) -> Result<String, SourceError> {
        self.spec().map(|s| s.uuid)
    }
    fn mig_uuids(&self) -> Vec<String> {
        Vec::new()
    }
    fn total_energy_mj(&self) -> Result<Option<u64>, SourceError> {
        self.spec().map(|s| s.energy_mj)
    }
    fn power_mw(&self) -> Result<u32, SourceError> {
        self.spec().map(|s| s.power_mw.unwrap_or(0))
    }
    fn pids(&self) -> Option<Vec<u32>> {
        self.spec().ok()?.pids
    }
    fn process_utilisation(&self) -> Option<Vec<(u32, f64)>> {
        self.spec()
            .ok()?
            .utilisation
            .map(|u| super::gpu_use::average_by_pid(&u))
    }
    fn mig_use(&self) -> Vec<MigUse> {
        self.spec().map(|s| s.mig).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::super::nvml::Nvml;
    use super::super::{PollContext, Source, Value};
    use super::*;

    #[test]
    fn a_fixture_file_drives_the_nvml_source_and_can_lose_a_gpu() {
        let dir = tempfile::tempdir().expect("tmp");
        let f = dir.path().join("gpus.toml");
        let write = |mj: u64, lost: bool| {
            std::fs::write(
                &f,
                format!(
                    "[[gpu]]\nuuid = \"GPU-a\"\nenergy_mj = {mj}\npids = [41]\n\
                     utilisation = [[41, 50.0], [41, 70.0]]\nlost = {lost}\n\
                     [[gpu.mig]]\nid = \"gi1\"\nslices = 3\n"
                ),
            )
            .expect("w");
        };
        write(1_000, false);
        let mut src = Nvml::from_devices(FileGpu::all(&f).expect("gpus"), None).expect("nvml");
        let mut buf = Vec::new();
        src.poll(0.0, &PollContext::default(), &mut buf)
            .expect("poll");
        assert!(
            matches!(
                buf[0].value,
                Value::Counter {
                    energy_uj: 1_000_000,
                    ..
                }
            ),
            "{buf:?}"
        );
        let u = &src.device_use()[0].1;
        assert_eq!(u.utilisation, Some(vec![(41, 60.0)]));
        assert_eq!((u.pids.clone(), u.mig[0].slices), (Some(vec![41]), 3));
        write(2_000, true);
        buf.clear();
        src.poll(1.0, &PollContext::default(), &mut buf)
            .expect("poll");
        assert!(
            matches!(&buf[0].value, Value::Missed { reason } if reason.contains("lost")),
            "{buf:?}"
        );
        std::fs::write(&f, "[[gpu]]\nuid = 1\n").expect("w");
        let e = FileGpu::all(&f).expect_err("bad").to_string();
        assert!(e.contains("gpus.toml") && e.contains("uid"), "{e}");
    }

    #[test]
    fn a_mig_utilisation_outside_0_to_1_is_refused_naming_the_file_and_field() {
        let dir = tempfile::tempdir().expect("tmp");
        let f = dir.path().join("gpus.toml");
        for (u, ok) in [
            ("0.5", true),
            ("1.0", true),
            ("5.0", false),
            ("-1.0", false),
        ] {
            std::fs::write(
                &f,
                format!(
                    "[[gpu]]\nuuid = \"GPU-1\"\nenergy_mj = 1\n[[gpu.mig]]\nid = \"gi1\"\n\
                     slices = 4\nutilisation = {u}\n"
                ),
            )
            .expect("w");
            match FileGpu::all(&f) {
                Ok(_) => assert!(ok, "{u} accepted"),
                Err(e) => {
                    let e = e.to_string();
                    assert!(!ok, "{u}: {e}");
                    assert!(
                        e.contains("gpus.toml")
                            && e.contains("MIG instance gi1: utilisation")
                            && e.contains("between 0 and 1"),
                        "{e}"
                    );
                }
            }
        }
    }
}
