//! The energy sources of a live run, as the library's probe finds them
//! ([`wattlens::measure::Probe`]), with the GPU visibility lists read from the environment here
//! (`ROCR_VISIBLE_DEVICES`, `HIP_VISIBLE_DEVICES`, `CUDA_VISIBLE_DEVICES`) and its notes written
//! to stderr.

use crate::cli::RunArgs;
use wattlens::measure::{Probe, ProbeOptions};
use wattlens::source::Source;

/// The energy sources present on this machine; absent ones are skipped quietly, unreadable
/// ones with one message.
pub(super) fn sources(a: &RunArgs) -> Vec<Box<dyn Source>> {
    let rocr = std::env::var(crate::env::ROCR_VISIBLE_DEVICES).ok();
    let hip = std::env::var(crate::env::HIP_VISIBLE_DEVICES).ok();
    let cuda = std::env::var(crate::env::CUDA_VISIBLE_DEVICES).ok();
    let probe = Probe::detect(&ProbeOptions {
        sysfs_root: &a.sysfs_root,
        psys: a.psys,
        rocr_visible: rocr.as_deref(),
        hip_visible: hip.as_deref(),
        cuda_visible: cuda.as_deref(),
    });
    for note in &probe.notes {
        // Each line of a note is a line of wattlens's own.
        for line in note.to_string().lines() {
            eprintln!("wattlens: {line}");
        }
    }
    probe.sources
}
