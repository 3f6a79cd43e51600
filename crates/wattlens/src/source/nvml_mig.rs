//! MIG instances of a real NVIDIA GPU, for the node agent's split, through what the safe NVML
//! binding offers: it has no call for MIG device handles (this crate forbids unsafe code), so
//! the GPU instances and their profiles come from `nvidia-smi mig -lgi` (run once, root only),
//! and each process's GPU instance from the parent's process list (`nvmlProcessInfo_t`'s
//! `gpuInstanceId`, set in MIG mode). Without either, a MIG GPU is split as one device.
//! Not checked on MIG hardware in this repository's tests: the parsing is, from a fixture.

use super::gpu_use::MigUse;

/// One GPU instance listed by `nvidia-smi mig -lgi`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GpuInstance {
    /// The GPU's index (NVML's, which `nvidia-smi` uses).
    pub gpu: u32,
    /// The GPU instance id.
    pub id: u32,
    /// Its profile (`3g.40gb`).
    pub profile: String,
    /// Its compute slices (the number before `g`: 3).
    pub slices: u32,
}

/// The GPU instances in the output of `nvidia-smi mig -lgi`:
///
/// ```text
/// | GPU   Name             Profile  Instance   Placement  |
/// |                          ID       ID       Start:Size |
/// |=======================================================|
/// |   0  MIG 3g.40gb          9        2          4:4     |
/// ```
#[must_use]
pub fn parse_mig_lgi(text: &str) -> Vec<GpuInstance> {
    text.lines()
        .filter_map(|line| {
            let t: Vec<&str> = line
                .split(|c: char| c == '|' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .collect();
            // GPU, "MIG", profile, profile id, instance id, placement.
            if t.len() < 6 || t[1] != "MIG" {
                return None;
            }
            let slices = t[2].split_once('g')?.0.parse().ok()?;
            Some(GpuInstance {
                gpu: t[0].parse().ok()?,
                id: t[4].parse().ok()?,
                profile: t[2].to_string(),
                slices,
            })
        })
        .collect()
}

/// The MIG instances of GPU `gpu` as split devices (`gi<id>`), each with the processes the
/// parent lists in it (`(pid, GPU instance id)`); empty when none is listed for that GPU.
#[must_use]
pub fn instances_of(gpu: u32, listed: &[GpuInstance], procs: &[(u32, Option<u32>)]) -> Vec<MigUse> {
    listed
        .iter()
        .filter(|g| g.gpu == gpu)
        .map(|g| MigUse {
            id: format!("gi{}", g.id),
            slices: g.slices,
            utilisation: None,
            pids: Some(
                procs
                    .iter()
                    .filter(|(_, gi)| *gi == Some(g.id))
                    .map(|(p, _)| *p)
                    .collect(),
            ),
            process_utilisation: None,
        })
        .collect()
}

/// `nvidia-smi mig -lgi`, run once for the process (empty where it fails: no driver tools, no
/// root, no MIG).
pub(crate) fn listed_once() -> &'static [GpuInstance] {
    static LISTED: std::sync::OnceLock<Vec<GpuInstance>> = std::sync::OnceLock::new();
    LISTED.get_or_init(|| {
        std::process::Command::new("nvidia-smi")
            .args(["mig", "-lgi"])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| parse_mig_lgi(&String::from_utf8_lossy(&o.stdout)))
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpu_instances_and_their_processes_from_nvidia_smi_and_the_parents_list() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/nvidia-smi-mig-lgi.txt"
        ))
        .expect("fixture");
        let listed = parse_mig_lgi(&text);
        assert_eq!(
            listed
                .iter()
                .map(|g| (g.gpu, g.id, g.slices))
                .collect::<Vec<_>>(),
            [(0, 1, 4), (0, 5, 2), (0, 13, 1), (1, 2, 3)]
        );
        assert_eq!(listed[0].profile, "4g.40gb");
        // PIDs 10 and 11 in GI 5, 12 in GI 1, 13 outside MIG (no id): GI 13 holds none.
        let got = instances_of(
            0,
            &listed,
            &[(10, Some(5)), (12, Some(1)), (11, Some(5)), (13, None)],
        );
        assert_eq!(
            got.iter()
                .map(|m| (m.id.as_str(), m.slices, m.pids.clone().unwrap_or_default()))
                .collect::<Vec<_>>(),
            [
                ("gi1", 4, vec![12]),
                ("gi5", 2, vec![10, 11]),
                ("gi13", 1, vec![])
            ]
        );
        assert!(instances_of(7, &listed, &[]).is_empty());
    }
}
