//! What this node has for a measurement: its CPU (model and sockets, from `PROCFS/cpuinfo`),
//! the CPU's rated power ([`CpuRating`]), the default coefficients of the power model
//! ([`MeterCoefficient`]) and the energy sources present ([`Probe::detect`]: RAPL, amdgpu hwmon,
//! NVIDIA GPUs through NVML).
//!
//! Nothing here reads the environment or prints: the GPU visibility lists
//! (`CUDA_VISIBLE_DEVICES`, `ROCR_VISIBLE_DEVICES`, `HIP_VISIBLE_DEVICES`) are passed in as
//! values, and what a user should hear about comes back as [`ProbeNote`]s.

use crate::catalog::{Catalog, CatalogError};
use crate::explain::{Assumption, Origin};
use crate::footprint::Param;
use crate::source::hwmon::Hwmon;
use crate::source::nvml::{GpuDevice, Nvml, NvmlGpu};
use crate::source::rapl::Rapl;
use crate::source::{ReadFile, Source, SourceError};
use crate::units::Watts;
use std::collections::BTreeSet;
use std::path::Path;

/// The CPU as `PROCFS/cpuinfo` describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CpuInfo {
    /// The first `model name` (`AMD EPYC 7742 64-Core Processor`), trimmed; `None` when the
    /// file is missing, unreadable or names no model.
    pub model: Option<String>,
    /// Distinct `physical id`s, at least 1.
    pub sockets: usize,
}

impl CpuInfo {
    /// Reads `procfs_root/cpuinfo` through `fs`; a missing or unreadable file gives no model and
    /// one socket (through [`crate::source::StdFs`], a FIFO is refused, not waited on).
    #[must_use]
    pub fn read(fs: &dyn ReadFile, procfs_root: &Path) -> Self {
        Self::parse(&fs.read(&procfs_root.join("cpuinfo")).unwrap_or_default())
    }

    /// Parses the text of a `cpuinfo` file.
    #[must_use]
    pub fn parse(text: &str) -> Self {
        let model = text
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|r| r.split_once(':'))
            .map(|(_, m)| m.trim().to_string());
        let sockets = text
            .lines()
            .filter_map(|l| l.strip_prefix("physical id"))
            .filter_map(|r| r.split_once(':').map(|(_, v)| v.trim().to_string()))
            .collect::<BTreeSet<_>>()
            .len()
            .max(1);
        Self { model, sockets }
    }
}

/// A CPU model name as the catalog is matched on: `(R)` and `(TM)` dropped, lower case, single
/// spaces (`Intel(R) Xeon(R) Platinum 8480+` -> `intel xeon platinum 8480+`).
fn normalize_model(t: &str) -> String {
    t.replace("(R)", " ")
        .replace("(TM)", " ")
        .to_ascii_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where a CPU rating came from.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum RatingSource {
    /// Given by the user for all sockets together (field `cpu_tdp`).
    User,
    /// The catalog row of the server the user named (field `server`).
    Server {
        /// The row's canonical name.
        name: String,
        /// Its CPU sockets.
        sockets: f64,
        /// Its TDP per socket, W.
        tdp_per_socket: Watts,
    },
    /// A catalog server row whose CPU model is the one this node's `cpuinfo` names.
    CpuModel {
        /// The CPU model as the catalog row writes it.
        cpu_model: String,
        /// The row's canonical name.
        row: String,
        /// Sockets counted in `cpuinfo`.
        sockets: usize,
        /// The row's TDP per socket, W.
        tdp_per_socket: Watts,
    },
}

impl std::fmt::Display for RatingSource {
    /// Where the rating came from, in the library's field names: `cpu_tdp`,
    /// `server NAME: 2 x 225 W`, `AMD EPYC 7742 (catalog row NAME): 1 x 225 W`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RatingSource::User => write!(f, "cpu_tdp"),
            RatingSource::Server {
                name,
                sockets,
                tdp_per_socket,
            } => write!(f, "server {name}: {sockets} x {} W", tdp_per_socket.0),
            RatingSource::CpuModel {
                cpu_model,
                row,
                sockets,
                tdp_per_socket,
            } => write!(
                f,
                "{cpu_model} (catalog row {row}): {sockets} x {} W",
                tdp_per_socket.0
            ),
        }
    }
}

/// The rated power of the node's CPUs, all sockets together, and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct CpuRating {
    /// The rating.
    pub watts: Watts,
    /// Where it came from.
    pub from: RatingSource,
}

/// Why a CPU rating could not be resolved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RatingError {
    /// The named server is not in the catalog (field `server`).
    #[error("server {name:?}: {source}")]
    UnknownServer {
        /// The name given.
        name: String,
        /// The catalog's answer, with the closest names.
        source: CatalogError,
    },
    /// The named server's row has no CPU TDP or no socket count (field `server`).
    #[error("server {name}: the catalog row has no CPU rating; give cpu_tdp")]
    NoCpuRating {
        /// The name given.
        name: String,
    },
    /// The catalog itself failed (a broken row).
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

impl CpuRating {
    /// The CPU rating: `user_tdp` when given, else the catalog row of `server`, else a server
    /// row whose CPU model this node's `cpu` names, times the sockets it counts; `None` when
    /// none applies (the power model then falls back to a rating per logical CPU). `cpu` is
    /// only consulted in the last step; `None` there means "not this node" (a replay).
    ///
    /// # Errors
    /// [`RatingError`]: an unknown server, a server row without a CPU rating, a broken catalog.
    pub fn resolve(
        cat: &Catalog,
        user_tdp: Option<Watts>,
        server: Option<&str>,
        cpu: Option<&CpuInfo>,
    ) -> Result<Option<Self>, RatingError> {
        if let Some(w) = user_tdp {
            return Ok(Some(Self {
                watts: w,
                from: RatingSource::User,
            }));
        }
        let servers = cat.servers()?;
        if let Some(name) = server {
            let s = servers
                .get(name)
                .map_err(|source| RatingError::UnknownServer {
                    name: name.to_string(),
                    source,
                })?;
            let (Some(tdp), Some(n)) = (s.cpu_tdp_w, s.cpu_sockets) else {
                return Err(RatingError::NoCpuRating {
                    name: name.to_string(),
                });
            };
            return Ok(Some(Self {
                watts: Watts(tdp * n),
                from: RatingSource::Server {
                    name: s.name.clone(),
                    sockets: n,
                    tdp_per_socket: Watts(tdp),
                },
            }));
        }
        let Some(cpu) = cpu else {
            return Ok(None);
        };
        let model = cpu
            .model
            .as_deref()
            .map(normalize_model)
            .unwrap_or_default();
        let matches = |row_cpu: &str| {
            let row_cpu = normalize_model(row_cpu);
            !model.is_empty() && !row_cpu.is_empty() && model.contains(&row_cpu)
        };
        let candidates = servers.rows_where("cpu_model", matches)?;
        Ok(candidates.into_iter().find_map(|s| {
            let shown = s.cpu_model.as_deref()?;
            let tdp = s.cpu_tdp_w?;
            matches(shown).then(|| Self {
                watts: Watts(tdp * cpu.sockets as f64),
                from: RatingSource::CpuModel {
                    cpu_model: shown.to_string(),
                    row: s.name.clone(),
                    sockets: cpu.sockets,
                    tdp_per_socket: Watts(tdp),
                },
            })
        }))
    }

    /// Who set the rating, for the assumptions: the user (a rating or a server they named) or
    /// the catalog.
    #[must_use]
    pub fn origin(&self) -> Origin {
        match self.from {
            RatingSource::User | RatingSource::Server { .. } => Origin::User,
            RatingSource::CpuModel { .. } => Origin::Catalog,
        }
    }
}

/// A default coefficient of the measured power model, from the catalog's defaults table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MeterCoefficient {
    /// The rest of the server (fans, disks, network, PSU losses) as a share of the measured
    /// power (`rest.share`).
    RestShare,
    /// DRAM power per GB installed, W/GB (`dram.w_per_gb`).
    DramWPerGb,
    /// Modelled CPU power per logical CPU when no rating is known, W (`cpu.w_per_thread`).
    CpuWPerThread,
}

impl MeterCoefficient {
    /// The key of the defaults table (`rest.share`).
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            MeterCoefficient::RestShare => "rest.share",
            MeterCoefficient::DramWPerGb => "dram.w_per_gb",
            MeterCoefficient::CpuWPerThread => "cpu.w_per_thread",
        }
    }

    /// The input's name in assumptions and traces (`rest_share`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            MeterCoefficient::RestShare => "rest_share",
            MeterCoefficient::DramWPerGb => "dram_w_per_gb",
            MeterCoefficient::CpuWPerThread => "cpu_w_per_thread",
        }
    }

    /// The coefficient as a parameter, recording the assumption (origin: default, with the
    /// catalog row's source and year).
    ///
    /// # Errors
    /// If the key is missing from the defaults table.
    pub fn lookup(self, cat: &Catalog, out: &mut Vec<Assumption>) -> Result<Param, CatalogError> {
        crate::footprint::catalog_coefficient(cat, self.key(), self.name(), 1.0, out)
    }
}

/// Where and what to probe for energy sources: plain values, never read from the environment
/// here.
#[derive(Clone, Copy, Debug)]
pub struct ProbeOptions<'a> {
    /// The sysfs root (`/sys`; a fake tree in tests).
    pub sysfs_root: &'a Path,
    /// Whether to read RAPL's platform domain (psys) too.
    pub psys: bool,
    /// The value of `ROCR_VISIBLE_DEVICES`, if set.
    pub rocr_visible: Option<&'a str>,
    /// The value of `HIP_VISIBLE_DEVICES`, if set.
    pub hip_visible: Option<&'a str>,
    /// The value of `CUDA_VISIBLE_DEVICES`, if set.
    pub cuda_visible: Option<&'a str>,
}

/// Something about the sources a user should hear about; the measurement goes on.
#[derive(Debug)]
#[non_exhaustive]
pub enum ProbeNote {
    /// RAPL is present but cannot be read: the CPU power is modelled instead.
    RaplUnreadable(SourceError),
    /// The AMD GPU visibility lists could not be fully matched (the line from
    /// [`Hwmon::restrict`]).
    AmdVisibility(String),
    /// A `CUDA_VISIBLE_DEVICES` entry matched no GPU: it and the entries after it are not
    /// measured.
    CudaUnmatched(String),
    /// `CUDA_VISIBLE_DEVICES` is set and not empty, yet leaves no GPU: none is measured.
    NoVisibleNvidiaGpu(SourceError),
}

impl std::fmt::Display for ProbeNote {
    /// The note, one line per sentence that stands alone.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProbeNote::RaplUnreadable(e) => {
                write!(f, "{e}\nfalling back to the modelled CPU power")
            }
            ProbeNote::AmdVisibility(note) => write!(f, "{note}"),
            ProbeNote::CudaUnmatched(u) => write!(
                f,
                "CUDA_VISIBLE_DEVICES entry {u:?} matches no GPU; like CUDA, it and the entries \
                 after it are not measured (see `nvidia-smi -L`)"
            ),
            ProbeNote::NoVisibleNvidiaGpu(e) => write!(f, "{e}; GPUs are not measured"),
        }
    }
}

/// The energy sources found on this node, ready for the sampler, and what to tell the user.
#[must_use]
pub struct Probe {
    /// The sources present; absent ones are skipped quietly.
    pub sources: Vec<Box<dyn Source>>,
    /// What could not be read or matched.
    pub notes: Vec<ProbeNote>,
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probe")
            .field(
                "sources",
                &self.sources.iter().map(|s| s.name()).collect::<Vec<_>>(),
            )
            .field("notes", &self.notes)
            .finish()
    }
}

impl Probe {
    /// Opens the energy sources this node has: RAPL under `sysfs_root`, amdgpu hwmon limited by
    /// the ROCm visibility lists, and NVIDIA GPUs through NVML limited by `CUDA_VISIBLE_DEVICES`.
    pub fn detect(opts: &ProbeOptions<'_>) -> Self {
        Self::detect_with(opts, NvmlGpu::all)
    }

    /// [`Probe::detect`] with the NVIDIA GPUs listed by `gpus` (a fake in tests).
    pub fn detect_with<D, F>(opts: &ProbeOptions<'_>, gpus: F) -> Self
    where
        D: GpuDevice + 'static,
        F: FnOnce() -> Result<Vec<D>, SourceError>,
    {
        let mut sources: Vec<Box<dyn Source>> = Vec::new();
        let mut notes = Vec::new();
        match Rapl::from_root(opts.sysfs_root, opts.psys) {
            Ok(r) => sources.push(Box::new(r)),
            Err(SourceError::Absent(_)) => {}
            Err(e) => notes.push(ProbeNote::RaplUnreadable(e)),
        }
        if let Ok(mut h) = Hwmon::from_root(opts.sysfs_root) {
            if let Some(note) = h.restrict(opts.sysfs_root, opts.rocr_visible, opts.hip_visible) {
                notes.push(ProbeNote::AmdVisibility(note));
            }
            if !h.gpus().is_empty() {
                sources.push(Box::new(h));
            }
        }
        if let Ok(devices) = gpus() {
            match Nvml::from_devices(devices, opts.cuda_visible) {
                Ok(n) => {
                    if let Some(u) = n.unmatched() {
                        notes.push(ProbeNote::CudaUnmatched(u.to_string()));
                    }
                    sources.push(Box::new(n));
                }
                // An empty list is a deliberate "no GPU"; one that names nothing is worth a note.
                Err(e) if opts.cuda_visible.is_some_and(|v| !v.trim().is_empty()) => {
                    notes.push(ProbeNote::NoVisibleNvidiaGpu(e));
                }
                Err(_) => {}
            }
        }
        Self { sources, notes }
    }

    /// The names of the sources found (`rapl`, `hwmon`, `nvml`), in the order they are polled.
    #[must_use]
    pub fn source_names(&self) -> Vec<&'static str> {
        self.sources.iter().map(|s| s.name()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::nvml::FakeGpu;
    use crate::source::StdFs;
    use std::path::PathBuf;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    fn opts(root: &Path) -> ProbeOptions<'_> {
        ProbeOptions {
            sysfs_root: root,
            psys: false,
            rocr_visible: None,
            hip_visible: None,
            cuda_visible: None,
        }
    }

    fn no_gpus() -> Result<Vec<FakeGpu>, SourceError> {
        Err(SourceError::Absent("no NVIDIA driver".into()))
    }

    fn gpu(uuid: &str) -> FakeGpu {
        FakeGpu {
            uuid: uuid.into(),
            power_mw: 100_000,
            ..FakeGpu::default()
        }
    }

    #[test]
    fn cpuinfo_of_the_fixture_names_the_model_and_one_socket() {
        let cpu = CpuInfo::read(&StdFs, &fixture("procfs-4cpu"));
        assert_eq!(
            cpu.model.as_deref(),
            Some("AMD EPYC 7742 64-Core Processor")
        );
        // Four processors, all `physical id : 0`.
        assert_eq!(cpu.sockets, 1);
        // No cpuinfo at all: no model, one socket.
        assert_eq!(
            CpuInfo::read(&StdFs, &fixture("sysfs-none")),
            CpuInfo {
                model: None,
                sockets: 1
            }
        );
        let two = CpuInfo::parse(
            "model name\t: Intel(R) Xeon(R) Platinum 8480+\nphysical id\t: 0\n\n\
             model name\t: Intel(R) Xeon(R) Platinum 8480+\nphysical id\t: 1\n",
        );
        assert_eq!(two.sockets, 2);
    }

    #[test]
    fn rating_from_the_catalog_row_of_this_cpu_model() {
        let cat = Catalog::embedded();
        let cpu = CpuInfo::read(&StdFs, &fixture("procfs-4cpu"));
        let r = CpuRating::resolve(&cat, None, None, Some(&cpu))
            .expect("catalog")
            .expect("a DGX A100 row names the AMD EPYC 7742");
        // 1 socket x 225 W = 225 W.
        assert_eq!(r.watts, Watts(225.0));
        assert_eq!(r.origin(), Origin::Catalog);
        let shown = r.from.to_string();
        assert!(
            shown.starts_with("AMD EPYC 7742 (catalog row NVIDIA DGX A100")
                && shown.ends_with("): 1 x 225 W"),
            "{shown}"
        );
    }

    #[test]
    fn rating_from_a_named_server_or_the_user_wins_over_the_cpu() {
        let cat = Catalog::embedded();
        let cpu = CpuInfo::read(&StdFs, &fixture("procfs-4cpu"));
        // 2 sockets x 225 W = 450 W.
        let r = CpuRating::resolve(&cat, None, Some("dgx-a100"), Some(&cpu))
            .expect("catalog")
            .expect("rating");
        assert_eq!(r.watts, Watts(450.0));
        assert_eq!(r.origin(), Origin::User);
        assert_eq!(
            r.from.to_string(),
            "server NVIDIA DGX A100 (320GB): 2 x 225 W"
        );
        let r = CpuRating::resolve(&cat, Some(Watts(300.0)), Some("dgx-a100"), Some(&cpu))
            .expect("catalog")
            .expect("rating");
        assert_eq!((r.watts, r.from), (Watts(300.0), RatingSource::User));
        let e = CpuRating::resolve(&cat, None, Some("no-such-box"), None).expect_err("unknown");
        assert!(matches!(e, RatingError::UnknownServer { .. }), "{e}");
        assert!(!e.to_string().contains("--"), "{e}");
    }

    #[test]
    fn no_matching_row_leaves_the_per_thread_fallback() {
        let cat = Catalog::embedded();
        let cpu = CpuInfo::parse("model name\t: Some Unknown CPU 9000\n");
        assert_eq!(
            CpuRating::resolve(&cat, None, None, Some(&cpu)).expect("catalog"),
            None
        );
        // A replay (no cpuinfo of the measured node): nothing to match.
        assert_eq!(
            CpuRating::resolve(&cat, None, None, None).expect("catalog"),
            None
        );
        // The fallback rating: the per-thread default, recorded as a default assumption.
        let mut out = Vec::new();
        let p = MeterCoefficient::CpuWPerThread
            .lookup(&cat, &mut out)
            .expect("cpu.w_per_thread is a default");
        assert!(p.range.mid() > 0.0);
        assert_eq!(out[0].name, "cpu_w_per_thread");
        assert_eq!(out[0].origin, Origin::Default);
        assert!(out[0]
            .source
            .as_deref()
            .is_some_and(|s| s.starts_with("cpu.w_per_thread: ")));
    }

    #[test]
    fn coefficients_of_the_power_model_are_in_the_defaults_table() {
        let cat = Catalog::embedded();
        let mut out = Vec::new();
        for c in [
            MeterCoefficient::RestShare,
            MeterCoefficient::DramWPerGb,
            MeterCoefficient::CpuWPerThread,
        ] {
            assert!(c.lookup(&cat, &mut out).is_ok(), "{}", c.key());
        }
        let names: Vec<_> = out.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["rest_share", "dram_w_per_gb", "cpu_w_per_thread"]);
    }

    #[test]
    fn sources_each_fixture_tree_yields() {
        let found = |name: &str| {
            let root = fixture(name);
            let p = Probe::detect_with(&opts(&root), no_gpus);
            (p.source_names(), p.notes.len())
        };
        assert_eq!(found("sysfs-intel-2s"), (vec!["rapl"], 0));
        assert_eq!(found("sysfs-amd"), (vec!["rapl", "hwmon"], 0));
        assert_eq!(found("sysfs-none"), (vec![], 0));
        // Present but unreadable: no source, and a note that the CPU power is modelled.
        let root = fixture("sysfs-unreadable");
        let p = Probe::detect_with(&opts(&root), no_gpus);
        assert!(p.sources.is_empty());
        let note = p.notes[0].to_string();
        assert!(matches!(p.notes[0], ProbeNote::RaplUnreadable(_)), "{note}");
        // Not a permission error (a folder): no chmod advice (it would not help).
        assert!(
            note.contains("not a regular file")
                && !note.contains("chmod")
                && note.ends_with("\nfalling back to the modelled CPU power"),
            "{note}"
        );
    }

    #[test]
    fn amd_visibility_is_passed_in_not_read_from_the_environment() {
        let root = fixture("sysfs-amd");
        // ROCR_VISIBLE_DEVICES=1,5,0: the list stops at "5", like ROCm, with a note.
        let p = Probe::detect_with(
            &ProbeOptions {
                rocr_visible: Some("1,5,0"),
                ..opts(&root)
            },
            no_gpus,
        );
        assert_eq!(p.source_names(), ["rapl", "hwmon"]);
        assert!(matches!(&p.notes[..], [ProbeNote::AmdVisibility(n)] if n.contains("\"5\"")));
        // ROCR_VISIBLE_DEVICES="": no AMD GPU, so no hwmon source.
        let p = Probe::detect_with(
            &ProbeOptions {
                rocr_visible: Some(""),
                ..opts(&root)
            },
            no_gpus,
        );
        assert_eq!(p.source_names(), ["rapl"]);
    }

    #[test]
    fn nvidia_gpus_follow_the_cuda_list_given() {
        let root = fixture("sysfs-none");
        let two = || Ok(vec![gpu("GPU-a"), gpu("GPU-b")]);
        let p = Probe::detect_with(&opts(&root), two);
        assert_eq!((p.source_names(), p.notes.len()), (vec!["nvml"], 0));
        // The list stops at an entry that matches nothing: measured, with a note.
        let p = Probe::detect_with(
            &ProbeOptions {
                cuda_visible: Some("0,GPU-zzz"),
                ..opts(&root)
            },
            two,
        );
        assert_eq!(p.source_names(), ["nvml"]);
        assert!(matches!(&p.notes[..], [ProbeNote::CudaUnmatched(u)] if u == "GPU-zzz"));
        // A list that names no GPU: nothing measured, with a note ...
        let p = Probe::detect_with(
            &ProbeOptions {
                cuda_visible: Some("GPU-zzz"),
                ..opts(&root)
            },
            two,
        );
        assert!(p.sources.is_empty());
        assert!(matches!(&p.notes[..], [ProbeNote::NoVisibleNvidiaGpu(_)]));
        assert!(p.notes[0].to_string().ends_with("; GPUs are not measured"));
        // ... and an empty list is a deliberate "no GPU": no note.
        let p = Probe::detect_with(
            &ProbeOptions {
                cuda_visible: Some(""),
                ..opts(&root)
            },
            two,
        );
        assert!(p.sources.is_empty() && p.notes.is_empty());
    }
}
