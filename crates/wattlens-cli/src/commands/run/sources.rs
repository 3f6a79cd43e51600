//! The energy sources of a live run: RAPL, amdgpu hwmon (limited by `ROCR_VISIBLE_DEVICES` and
//! `HIP_VISIBLE_DEVICES`) and NVIDIA GPUs through NVML (limited by `CUDA_VISIBLE_DEVICES`).

use crate::cli::RunArgs;
use wattlens::source::hwmon::Hwmon;
use wattlens::source::nvml::{Nvml, NvmlGpu};
use wattlens::source::rapl::Rapl;
use wattlens::source::{Source, SourceError};

/// The energy sources present on this machine; absent ones are skipped quietly, unreadable
/// ones with one message.
pub(super) fn sources(a: &RunArgs) -> Vec<Box<dyn Source>> {
    let mut out: Vec<Box<dyn Source>> = Vec::new();
    match Rapl::from_root(&a.sysfs_root, a.psys) {
        Ok(r) => out.push(Box::new(r)),
        Err(SourceError::Absent(_)) => {}
        Err(e) => eprintln!("wattlens: {e}\nwattlens: falling back to the modelled CPU power"),
    }
    if let Ok(mut h) = Hwmon::from_root(&a.sysfs_root) {
        let rocr = std::env::var(crate::env::ROCR_VISIBLE_DEVICES).ok();
        let hip = std::env::var(crate::env::HIP_VISIBLE_DEVICES).ok();
        if let Some(note) = h.restrict(&a.sysfs_root, rocr.as_deref(), hip.as_deref()) {
            eprintln!("wattlens: {note}");
        }
        if !h.gpus().is_empty() {
            out.push(Box::new(h));
        }
    }
    let visible = std::env::var(crate::env::CUDA_VISIBLE_DEVICES).ok();
    if let Ok(devices) = NvmlGpu::all() {
        match Nvml::from_devices(devices, visible.as_deref()) {
            Ok(n) => {
                if let Some(u) = n.unmatched() {
                    eprintln!(
                        "wattlens: CUDA_VISIBLE_DEVICES entry {u:?} matches no GPU; like CUDA, \
                         it and the entries after it are not measured (see `nvidia-smi -L`)"
                    );
                }
                out.push(Box::new(n));
            }
            // An empty list is a deliberate "no GPU"; one that names nothing is worth a line.
            Err(e) if visible.as_deref().is_some_and(|v| !v.trim().is_empty()) => {
                eprintln!("wattlens: {e}; GPUs are not measured");
            }
            Err(_) => {}
        }
    }
    out
}
