//! Which AMD GPUs a job may use: `ROCR_VISIBLE_DEVICES` and `HIP_VISIBLE_DEVICES` mapped onto
//! the amdgpu hwmon devices, so that `wattlens run` on a shared node charges a job the GPUs its
//! scheduler gave it (Slurm sets `ROCR_VISIBLE_DEVICES`), not all of them.
//!
//! ROCm numbers GPUs in the order of the KFD topology (`SYSFS/class/kfd/kfd/topology/nodes/N`,
//! nodes whose `gpu_id` is not 0). `ROCR_VISIBLE_DEVICES` lists indices into that order or
//! UUIDs (`GPU-` and the node's `unique_id` in hexadecimal, as `rocminfo` prints it);
//! `HIP_VISIBLE_DEVICES` then lists indices into what ROCR left. A node is matched to its hwmon
//! device by PCI address: the node's `domain` and `location_id` (bus << 8 | device << 3 |
//! function) against `PCI_SLOT_NAME` in the hwmon device's `device/uevent`.

use super::{pick_visible, read_trim, ReadFile};
use std::collections::BTreeSet;
use std::path::Path;

/// A PCI address: domain, bus, device, function.
pub type PciSlot = (u32, u8, u8, u8);

/// One GPU of the KFD topology, in ROCm's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KfdGpu {
    /// Where it sits on the PCI bus.
    pub slot: PciSlot,
    /// `GPU-<unique_id in hex>`, where the driver gives one.
    pub uuid: Option<String>,
}

/// The KFD topology's GPUs in ROCm's order; empty when there is no KFD (no ROCm driver).
#[must_use]
pub fn kfd_gpus(fs: &dyn ReadFile, sysfs_root: &Path) -> Vec<KfdGpu> {
    let base = sysfs_root.join("class/kfd/kfd/topology/nodes");
    let mut nodes: Vec<(u32, std::path::PathBuf)> = std::fs::read_dir(&base)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path())))
                .collect()
        })
        .unwrap_or_default();
    nodes.sort();
    nodes
        .into_iter()
        .filter(|(_, dir)| read_trim(fs, &dir.join("gpu_id")).is_ok_and(|g| g != "0"))
        .filter_map(|(_, dir)| {
            let props = read_trim(fs, &dir.join("properties")).ok()?;
            let prop = |key: &str| {
                props.lines().find_map(|l| {
                    let (k, v) = l.split_once(' ')?;
                    (k == key).then(|| v.trim().parse::<u64>().ok()).flatten()
                })
            };
            let loc = prop("location_id")?;
            let domain = u32::try_from(prop("domain").unwrap_or(0)).ok()?;
            let slot = (
                domain,
                u8::try_from(loc >> 8).ok()?,
                ((loc >> 3) & 0x1f) as u8,
                (loc & 0x7) as u8,
            );
            let uuid = prop("unique_id")
                .filter(|u| *u != 0)
                .map(|u| format!("GPU-{u:016x}"));
            Some(KfdGpu { slot, uuid })
        })
        .collect()
}

/// `PCI_SLOT_NAME` of a hwmon device (`DIR/device/uevent`), e.g. `0000:c1:00.0`.
#[must_use]
pub fn hwmon_slot(fs: &dyn ReadFile, hwmon_dir: &Path) -> Option<PciSlot> {
    let uevent = read_trim(fs, &hwmon_dir.join("device/uevent")).ok()?;
    let name = uevent
        .lines()
        .find_map(|l| l.strip_prefix("PCI_SLOT_NAME="))?;
    let (domain, rest) = name.split_once(':')?;
    let (bus, rest) = rest.split_once(':')?;
    let (dev, func) = rest.split_once('.')?;
    Some((
        u32::from_str_radix(domain, 16).ok()?,
        u8::from_str_radix(bus, 16).ok()?,
        u8::from_str_radix(dev, 16).ok()?,
        u8::from_str_radix(func, 16).ok()?,
    ))
}

/// What the variables leave visible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Visible {
    /// Indices (into the hwmon devices given) to charge.
    pub keep: BTreeSet<usize>,
    /// Why some devices may be charged wrongly or not at all (for stderr), if anything.
    pub note: Option<String>,
}

/// The hwmon devices (given by their PCI slots) left visible by `ROCR_VISIBLE_DEVICES` (`rocr`)
/// and then `HIP_VISIBLE_DEVICES` (`hip`). Without either variable, all of them. Like CUDA's, a
/// list stops at its first entry that matches nothing. When a variable is set but the KFD
/// topology cannot be read or matched, every device is charged and the note says so
/// (over-counting is safer than measuring nothing).
#[must_use]
pub fn visible(
    kfd: &[KfdGpu],
    slots: &[Option<PciSlot>],
    rocr: Option<&str>,
    hip: Option<&str>,
) -> Visible {
    let all = (0..slots.len()).collect();
    if rocr.is_none() && hip.is_none() {
        return Visible {
            keep: all,
            note: None,
        };
    }
    if kfd.is_empty() {
        return Visible {
            keep: all,
            note: Some(
                "ROCR_VISIBLE_DEVICES/HIP_VISIBLE_DEVICES set, but no KFD topology \
                 (/sys/class/kfd) to map them: every AMD GPU is measured"
                    .into(),
            ),
        };
    }
    let mut note = None;
    // ROCR: indices or UUIDs into the KFD order.
    let mut order: Vec<usize> = (0..kfd.len()).collect();
    if let Some(list) = rocr {
        let (picked, stop) = pick_visible(list, kfd.len(), |item| {
            kfd.iter().position(|g| {
                g.uuid
                    .as_deref()
                    .is_some_and(|u| u.eq_ignore_ascii_case(item))
            })
        });
        order = picked;
        note = stop.map(|s| unmatched("ROCR_VISIBLE_DEVICES", &s));
    }
    // HIP: indices into what ROCR left.
    if let Some(list) = hip {
        let (picked, stop) = pick_visible(list, order.len(), |_| None);
        order = picked.into_iter().map(|i| order[i]).collect();
        note = note.or(stop.map(|s| unmatched("HIP_VISIBLE_DEVICES", &s)));
    }
    let mut keep = BTreeSet::new();
    for k in order {
        match slots.iter().position(|s| *s == Some(kfd[k].slot)) {
            Some(i) => {
                keep.insert(i);
            }
            None => {
                return Visible {
                    keep: all,
                    note: Some(format!(
                        "ROCm GPU {k} (PCI {:04x}:{:02x}:{:02x}.{}) has no amdgpu hwmon device: \
                         every AMD GPU is measured",
                        kfd[k].slot.0, kfd[k].slot.1, kfd[k].slot.2, kfd[k].slot.3
                    )),
                };
            }
        }
    }
    Visible { keep, note }
}

fn unmatched(var: &str, item: &str) -> String {
    format!(
        "{var} entry {item:?} matches no AMD GPU; like ROCm, it and the entries after it are \
         not measured (see `rocminfo`)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::StdFs;

    fn fixture() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sysfs-amd")
    }

    #[test]
    fn kfd_order_and_pci_slots_from_the_fixture() {
        let kfd = kfd_gpus(&StdFs, &fixture());
        // Node 0 is the CPU; nodes 1 and 2 are the GPUs at c1:00.0 and 03:00.0 (in that order:
        // ROCm's order need not be the PCI order).
        assert_eq!(
            kfd,
            [
                KfdGpu {
                    slot: (0, 0xc1, 0, 0),
                    // unique_id 6588470425113049420 = 0x5b6ef2f1c607b94c
                    uuid: Some("GPU-5b6ef2f1c607b94c".into()),
                },
                KfdGpu {
                    slot: (0, 0x03, 0, 0),
                    uuid: None,
                },
            ]
        );
        let hw = fixture().join("class/hwmon");
        assert_eq!(
            hwmon_slot(&StdFs, &hw.join("hwmon3")),
            Some((0, 0x03, 0, 0))
        );
        assert_eq!(
            hwmon_slot(&StdFs, &hw.join("hwmon4")),
            Some((0, 0xc1, 0, 0))
        );
        assert_eq!(hwmon_slot(&StdFs, &hw.join("hwmon2")), None);
    }

    #[test]
    fn rocr_then_hip_pick_the_hwmon_devices() {
        let kfd = kfd_gpus(&StdFs, &fixture());
        // hwmon3 at 03:00.0 (ROCm GPU 1), hwmon4 at c1:00.0 (ROCm GPU 0).
        let slots = [Some((0, 0x03, 0, 0)), Some((0, 0xc1, 0, 0))];
        let keep = |rocr, hip| {
            visible(&kfd, &slots, rocr, hip)
                .keep
                .into_iter()
                .collect::<Vec<_>>()
        };
        assert_eq!(keep(None, None), [0, 1]);
        assert_eq!(keep(Some("0"), None), [1]);
        assert_eq!(keep(Some("1"), None), [0]);
        assert_eq!(keep(Some("gpu-5B6EF2F1C607B94C"), None), [1]);
        assert_eq!(keep(Some("1,0"), Some("1")), [1]);
        assert_eq!(keep(None, Some("1")), [0]);
        assert_eq!(keep(Some(""), None), Vec::<usize>::new());
        // Like CUDA: the list stops at an entry that matches nothing, and says so.
        let v = visible(&kfd, &slots, Some("1,5,0"), None);
        assert_eq!(v.keep.into_iter().collect::<Vec<_>>(), [0]);
        assert!(v.note.expect("note").contains("\"5\""));
        // No KFD topology: every device, with a note.
        let v = visible(&[], &slots, Some("0"), None);
        assert_eq!(v.keep.len(), 2);
        assert!(v.note.expect("note").contains("/sys/class/kfd"));
        // A ROCm GPU without a hwmon device: every device, with a note.
        let v = visible(&kfd, &[Some((0, 0x03, 0, 0)), None], Some("0"), None);
        assert_eq!(v.keep.len(), 2);
        assert!(v.note.expect("note").contains("c1:00.0"));
    }
}
