//! What a GPU source says about who used each of its devices over the last poll, for a node
//! agent that splits a GPU's energy among workloads: the resident processes, their SM
//! utilisation where the driver samples it (NVML `nvmlDeviceGetProcessUtilization`), and the
//! MIG instances with their own processes (a MIG instance has no energy counter of its own:
//! the agent splits its parent's energy across them, see `docs/models.md`).

use serde::Deserialize;

/// One device's use over the last poll.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpuUse {
    /// The processes on it (`None`: the driver does not say, e.g. in a container without the
    /// host's PID namespace).
    #[serde(default)]
    pub pids: Option<Vec<u32>>,
    /// Each process's SM utilisation over the last interval, % of the device (`None`: not
    /// sampled by this driver or device). A process the driver saw no activity of may be
    /// absent.
    #[serde(default)]
    pub utilisation: Option<Vec<(u32, f64)>>,
    /// Its MIG instances (empty without MIG): each its own device for the split.
    #[serde(default)]
    pub mig: Vec<MigUse>,
}

/// One MIG instance's use over the last poll.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigUse {
    /// Its identity (`MIG-<uuid>`, or `gi<N>` by GPU instance id).
    pub id: String,
    /// Its compute slices (`3` for a `3g.40gb` profile; of 7 on an A100 or H100); 0: unknown.
    #[serde(default)]
    pub slices: u32,
    /// Fraction (0..1) of its own SMs busy over the interval, when known (NVML does not sample
    /// utilisation per MIG instance: fixtures and future sources only).
    #[serde(default)]
    pub utilisation: Option<f64>,
    /// Its processes (`None`: unknown).
    #[serde(default)]
    pub pids: Option<Vec<u32>>,
    /// Its processes' SM utilisation, % of the instance, when sampled.
    #[serde(default)]
    pub process_utilisation: Option<Vec<(u32, f64)>>,
}

impl GpuUse {
    /// Only the resident processes, as a driver without utilisation sampling gives them.
    #[must_use]
    pub fn resident(pids: Vec<u32>) -> Self {
        Self {
            pids: Some(pids),
            ..Self::default()
        }
    }
}

/// The average utilisation of each process over the samples given (`(pid, %)` pairs, several
/// per process when the driver sampled it several times), by pid; negative or non-finite
/// values count as 0 and values above 100 as 100.
#[must_use]
pub fn average_by_pid(samples: &[(u32, f64)]) -> Vec<(u32, f64)> {
    let mut acc: std::collections::BTreeMap<u32, (f64, u32)> = std::collections::BTreeMap::new();
    for (pid, u) in samples {
        let u = if u.is_finite() {
            u.clamp(0.0, 100.0)
        } else {
            0.0
        };
        let e = acc.entry(*pid).or_insert((0.0, 0));
        e.0 += u;
        e.1 += 1;
        // `e.1` >= 1 from here on.
    }
    acc.into_iter()
        .map(|(pid, (sum, n))| (pid, sum / f64::from(n)))
        .collect()
}

/// The measured tree's share of a device's use over an interval, from each process's SM
/// utilisation (`(pid, %)` samples, averaged by pid): the tree's processes' sum over all
/// processes'. `None` when nothing was active (all zero or no sample) or when only the tree was
/// (the device is then the tree's whole, as without sampling).
#[must_use]
pub fn tree_share(samples: &[(u32, f64)], tree: &[u32]) -> Option<f64> {
    let by_pid = average_by_pid(samples);
    let all: f64 = by_pid.iter().map(|(_, u)| u).sum();
    let mine: f64 = by_pid
        .iter()
        .filter(|(pid, _)| tree.contains(pid))
        .map(|(_, u)| u)
        .sum();
    // An empty sum is -0.0: written as 0.
    (all > 0.0 && mine < all).then(|| {
        if mine > 0.0 {
            (mine / all).min(1.0)
        } else {
            0.0
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trees_share_is_its_utilisation_over_all_and_none_when_alone_or_idle() {
        // The tree (7, 8) at 30 + 10 against a process outside at 40: half.
        assert_eq!(
            tree_share(&[(7, 30.0), (9, 40.0), (8, 10.0)], &[7, 8]),
            Some(0.5)
        );
        // Only the tree active (a process outside resident but idle, so unsampled): whole.
        assert_eq!(tree_share(&[(7, 30.0)], &[7, 8]), None);
        assert_eq!(tree_share(&[(7, 30.0), (9, 0.0)], &[7]), None);
        // Nothing active: unknown, so whole (as a driver without sampling).
        assert_eq!(tree_share(&[], &[7]), None);
        assert_eq!(tree_share(&[(9, 0.0)], &[7]), None);
        // Only the process outside active: none of it.
        assert_eq!(tree_share(&[(9, 60.0), (7, 0.0)], &[7]), Some(0.0));
        // Not -0.0 (an empty sum): a trace says 0.
        let none_of_it = tree_share(&[(9, 60.0)], &[7]).expect("shared");
        assert!(none_of_it == 0.0 && none_of_it.is_sign_positive());
    }

    #[test]
    fn utilisation_samples_average_by_process_and_bad_values_are_clamped() {
        // pid 7: (40 + 60) / 2 = 50; pid 9: 150 -> 100; pid 3: NaN -> 0, -5 -> 0.
        let got = average_by_pid(&[(7, 40.0), (9, 150.0), (7, 60.0), (3, f64::NAN), (3, -5.0)]);
        assert_eq!(got, [(3, 0.0), (7, 50.0), (9, 100.0)]);
        assert!(average_by_pid(&[]).is_empty());
    }

    #[test]
    fn a_use_reads_from_toml_as_a_fixture_writes_it() {
        let u: GpuUse = toml::from_str(
            "pids = [1, 2]\nutilisation = [[1, 30.0], [2, 10.0]]\n\
             [[mig]]\nid = \"MIG-a\"\nslices = 3\npids = [5]\n",
        )
        .expect("toml");
        assert_eq!(u.pids, Some(vec![1, 2]));
        assert_eq!(u.utilisation, Some(vec![(1, 30.0), (2, 10.0)]));
        assert_eq!(u.mig[0].slices, 3);
        assert!(toml::from_str::<GpuUse>("pid = [1]\n").is_err());
    }
}
