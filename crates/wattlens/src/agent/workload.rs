//! Who a node's energy is charged to: a workload is a cgroup (v2) that holds work, named by its
//! path under the cgroup root and labelled from that path alone: the systemd unit, the
//! container, the Slurm job and step (`job_<id>`, `step_<id>`), the Kubernetes pod (its UID and
//! QoS class). The labels never hold a command line (it can hold secrets): only the command
//! *name* of the workload's first process, as the kernel's `comm` gives it (15 bytes at most).

/// What kind of workload a cgroup is, from its own folder name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum WorkloadKind {
    /// A container (`docker-<id>.scope`, `cri-containerd-<id>.scope`, `crio-<id>.scope`,
    /// `libpod-<id>.scope`, or a 64-hex folder under a pod).
    Container,
    /// A Kubernetes pod (`pod<uid>`, `kubepods-<qos>-pod<uid>.slice`).
    Pod,
    /// A Slurm job step (`step_<id>`) or what runs under one (`task_<n>`).
    SlurmStep,
    /// A Slurm job without steps (`job_<id>`).
    SlurmJob,
    /// A systemd service or scope (`*.service`, `*.scope`).
    Unit,
    /// Any other cgroup with processes.
    Cgroup,
    /// The workloads past the agent's limit, together.
    Overflow,
}

impl WorkloadKind {
    /// `container`, `pod`, `slurm_step`, `slurm_job`, `unit`, `cgroup`, `overflow`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Container => "container",
            WorkloadKind::Pod => "pod",
            WorkloadKind::SlurmStep => "slurm_step",
            WorkloadKind::SlurmJob => "slurm_job",
            WorkloadKind::Unit => "unit",
            WorkloadKind::Cgroup => "cgroup",
            WorkloadKind::Overflow => "overflow",
        }
    }
}

/// A Kubernetes pod's quality-of-service class, from its cgroup path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Qos {
    /// `Guaranteed` (directly under `kubepods`).
    Guaranteed,
    /// `Burstable`.
    Burstable,
    /// `BestEffort`.
    BestEffort,
}

impl Qos {
    /// `Guaranteed`, `Burstable`, `BestEffort` (as Kubernetes writes them).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Qos::Guaranteed => "Guaranteed",
            Qos::Burstable => "Burstable",
            Qos::BestEffort => "BestEffort",
        }
    }
}

/// A workload's identity and labels.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Workload {
    /// Its cgroup path under the root, `/`-separated (`system.slice/nginx.service`); the key.
    pub id: String,
    /// Its kind (`None` only for [`Workload::default`]).
    pub kind: Option<WorkloadKind>,
    /// The systemd unit it is or is inside (`nginx.service`).
    pub unit: Option<String>,
    /// The container id, when it is a container.
    pub container: Option<String>,
    /// The container's name (`main`), where the node says it ([`super::PodNames::container`]).
    pub container_name: Option<String>,
    /// The Slurm job id (`4242`).
    pub job: Option<String>,
    /// The Slurm step (`0`, `batch`, `extern`).
    pub step: Option<String>,
    /// The Kubernetes pod UID.
    pub pod_uid: Option<String>,
    /// The pod's QoS class.
    pub qos: Option<Qos>,
    /// The pod's namespace, where the node says it ([`super::PodNames`]).
    pub namespace: Option<String>,
    /// The pod's name, where the node says it ([`super::PodNames`]).
    pub pod: Option<String>,
    /// The command name of its first process (`comm`), never its arguments.
    pub command: Option<String>,
}

impl Workload {
    /// The workload that stands for all those past the agent's limit.
    #[must_use]
    pub fn overflow() -> Self {
        Self {
            id: "_overflow".into(),
            kind: Some(WorkloadKind::Overflow),
            ..Self::default()
        }
    }

    /// Classifies the cgroup at `id` (a `/`-separated path under the root): its kind from its
    /// own folder name, its labels from every folder on the path.
    #[must_use]
    pub fn classify(id: &str) -> Self {
        let mut w = Self {
            id: id.to_string(),
            kind: Some(WorkloadKind::Cgroup),
            ..Self::default()
        };
        let parts: Vec<&str> = id.split('/').filter(|p| !p.is_empty()).collect();
        let mut under_kubepods = false;
        for (i, name) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            let base = name
                .strip_suffix(".slice")
                .or_else(|| name.strip_suffix(".scope"))
                .unwrap_or(name);
            if base.starts_with("kubepods") {
                under_kubepods = true;
                if base.contains("besteffort") {
                    w.qos = Some(Qos::BestEffort);
                } else if base.contains("burstable") {
                    w.qos = Some(Qos::Burstable);
                }
            }
            if under_kubepods && *name == "besteffort" {
                w.qos = Some(Qos::BestEffort);
            } else if under_kubepods && *name == "burstable" {
                w.qos = Some(Qos::Burstable);
            }
            let mut kind = None;
            if let Some(uid) = pod_uid(base).filter(|_| under_kubepods) {
                w.pod_uid = Some(uid);
                w.qos.get_or_insert(Qos::Guaranteed);
                kind = Some(WorkloadKind::Pod);
            } else if let Some(id) = container_id(name, w.pod_uid.is_some()) {
                w.container = Some(id);
                kind = Some(WorkloadKind::Container);
            } else if let Some(job) = name.strip_prefix("job_").filter(|j| is_word(j)) {
                w.job = Some(job.to_string());
                kind = Some(WorkloadKind::SlurmJob);
            } else if let Some(step) = name.strip_prefix("step_").filter(|s| is_word(s)) {
                w.step = Some(step.to_string());
                kind = Some(WorkloadKind::SlurmStep);
            } else if name.ends_with(".service") || name.ends_with(".scope") {
                w.unit = Some((*name).to_string());
                kind = Some(WorkloadKind::Unit);
            } else if name.starts_with("task_") && w.step.is_some() {
                kind = Some(WorkloadKind::SlurmStep);
            }
            if last {
                if let Some(k) = kind {
                    w.kind = Some(k);
                } else if w.step.is_some() {
                    w.kind = Some(WorkloadKind::SlurmStep);
                } else if w.job.is_some() {
                    w.kind = Some(WorkloadKind::SlurmJob);
                } else if w.pod_uid.is_some() {
                    w.kind = Some(WorkloadKind::Pod);
                }
            }
        }
        w
    }

    /// Whether its own folder name marks a workload (a unit, container, pod, Slurm job or
    /// step), as opposed to a plain cgroup that is one only while it holds processes.
    #[must_use]
    pub fn is_named(&self) -> bool {
        !matches!(self.kind, Some(WorkloadKind::Cgroup) | None)
    }
}

fn is_word(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The pod UID in `pod<uid>` or `kubepods-<qos>-pod<uid>` (systemd writes `_` for `-`).
fn pod_uid(base: &str) -> Option<String> {
    let at = base.rfind("pod")?;
    let uid = &base[at + 3..];
    let before = &base[..at];
    if !(before.is_empty() || before.ends_with('-')) || uid.len() < 8 {
        return None;
    }
    let uid = uid.replace('_', "-");
    uid.chars()
        .all(|c| c.is_ascii_hexdigit() || c == '-')
        .then_some(uid)
}

/// The container id of a runtime's scope (`docker-<id>.scope`), or of a bare 64-hex folder
/// inside a pod (the cgroupfs driver).
fn container_id(name: &str, in_pod: bool) -> Option<String> {
    let hex = |s: &str| s.len() >= 12 && s.chars().all(|c| c.is_ascii_hexdigit());
    if let Some(scope) = name.strip_suffix(".scope") {
        for prefix in ["docker-", "cri-containerd-", "crio-", "libpod-"] {
            if let Some(id) = scope.strip_prefix(prefix).filter(|i| hex(i)) {
                return Some(id.to_string());
            }
        }
        return None;
    }
    (in_pod && name.len() == 64 && hex(name)).then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systemd_units_and_containers() {
        let w = Workload::classify("system.slice/nginx.service");
        assert_eq!(w.kind, Some(WorkloadKind::Unit));
        assert_eq!(w.unit.as_deref(), Some("nginx.service"));
        let w = Workload::classify("system.slice/docker-0123456789abcdef.scope");
        assert_eq!(w.kind, Some(WorkloadKind::Container));
        assert_eq!(w.container.as_deref(), Some("0123456789abcdef"));
        assert!(w.unit.is_none());
        let w = Workload::classify("user.slice/user-1000.slice/session-3.scope");
        assert_eq!(w.kind, Some(WorkloadKind::Unit));
        assert_eq!(
            Workload::classify("misc/thing").kind,
            Some(WorkloadKind::Cgroup)
        );
        assert!(!Workload::classify("misc/thing").is_named());
    }

    #[test]
    fn slurm_jobs_and_steps_from_the_path() {
        let w = Workload::classify("system.slice/slurmstepd.scope/job_4242/step_0/user/task_0");
        assert_eq!(w.kind, Some(WorkloadKind::SlurmStep));
        assert_eq!(w.job.as_deref(), Some("4242"));
        assert_eq!(w.step.as_deref(), Some("0"));
        let w = Workload::classify("system.slice/slurmstepd.scope/job_7/step_batch");
        assert_eq!(w.step.as_deref(), Some("batch"));
        let w = Workload::classify("system.slice/slurmstepd.scope/job_7");
        assert_eq!(w.kind, Some(WorkloadKind::SlurmJob));
        assert!(w.step.is_none());
    }

    #[test]
    fn kubernetes_pods_uid_and_qos_for_both_drivers() {
        let w = Workload::classify(
            "kubepods.slice/kubepods-burstable.slice/\
             kubepods-burstable-pod1b2c3d4e_5f60_7182_93a4_b5c6d7e8f901.slice",
        );
        assert_eq!(w.kind, Some(WorkloadKind::Pod));
        assert_eq!(w.qos, Some(Qos::Burstable));
        assert_eq!(
            w.pod_uid.as_deref(),
            Some("1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901")
        );
        let c = format!(
            "kubepods/besteffort/pod1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901/{}",
            "a".repeat(64)
        );
        let w = Workload::classify(&c);
        assert_eq!(w.kind, Some(WorkloadKind::Container));
        assert_eq!(w.qos, Some(Qos::BestEffort));
        assert!(w.pod_uid.is_some());
        let w = Workload::classify("kubepods.slice/kubepods-pod0a0b0c0d_0000_1111_2222_333344445555.slice/cri-containerd-abcdefabcdef12.scope");
        assert_eq!(w.kind, Some(WorkloadKind::Container));
        assert_eq!(w.qos, Some(Qos::Guaranteed));
        // "pod" outside kubepods is no pod.
        assert_eq!(
            Workload::classify("podman").kind,
            Some(WorkloadKind::Cgroup)
        );
    }
}
