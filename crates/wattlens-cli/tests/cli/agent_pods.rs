//! `wattlens agent`: Kubernetes pods' namespace and name labels, from the kubelet's pod log
//! folders and from a `--pod-labels` file that may break while the agent runs. Issue 11.

use super::agent::{free_port, wait_for, write_atomic, FakeNode};
use std::process::Command;

const UID_A: &str = "1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901";
const UID_B: &str = "0a0b0c0d-0000-1111-2222-333344445555";

fn pod(uid: &str, container: &str) -> String {
    // The systemd cgroup driver writes the UID with `_`.
    format!(
        "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{}.slice/\
         cri-containerd-{container}.scope",
        uid.replace('-', "_")
    )
}

fn power_line(m: &str, needle: &str) -> Option<String> {
    m.lines()
        .find(|l| l.starts_with("wattlens_workload_power_watts{") && l.contains(needle))
        .map(str::to_string)
}

#[test]
fn pods_get_namespace_and_name_from_the_log_folders_and_a_label_file_that_may_break() {
    let (a, b) = (pod(UID_A, "0123456789abcd"), pod(UID_B, "abcdef01234567"));
    let node = FakeNode::new(&[&a, &b]);
    let logs = node.dir.path().join("var/log/pods");
    std::fs::create_dir_all(logs.join(format!("ml_trainer-0_{UID_A}/main"))).expect("mkdir");
    let labels = node.dir.path().join("pods.toml");
    std::fs::write(
        &labels,
        format!("[\"{UID_B}\"]\nnamespace = \"web\"\nname = \"api-7\"\n"),
    )
    .expect("w");
    let agent = node.agent(
        free_port(),
        &[
            "--interval",
            "200ms",
            "--pod-logs-root",
            logs.to_str().expect("utf8"),
            "--pod-labels",
            labels.to_str().expect("utf8"),
        ],
    );
    let m = agent.metrics();
    let la = power_line(&m, &format!("pod_uid=\"{UID_A}\"")).expect("pod a");
    assert!(
        la.contains("namespace=\"ml\"") && la.contains("pod=\"trainer-0\""),
        "{la}"
    );
    let lb = power_line(&m, &format!("pod_uid=\"{UID_B}\"")).expect("pod b");
    assert!(
        lb.contains("namespace=\"web\"") && lb.contains("pod=\"api-7\""),
        "{lb}"
    );
    assert_eq!(
        super::agent::sample(&m, "wattlens_pod_labels_errors_total", &[]),
        Some(0.0)
    );
    // The file breaks: the agent keeps serving the names it had, and says so (healthz, metric).
    write_atomic(&labels, "[\"unclosed\n");
    let m = wait_for(10, || {
        let m = agent.metrics();
        (super::agent::sample(&m, "wattlens_pod_labels_errors_total", &[]) == Some(1.0))
            .then_some(m)
    });
    assert!(power_line(&m, "pod=\"api-7\"").is_some(), "{m}");
    let (status, health) = agent.get("/healthz");
    assert_eq!(status, 200);
    assert!(
        health.contains("pods.toml") && health.contains("keeping the 1 pod names"),
        "{health}"
    );
    let err = agent.kill();
    assert_eq!(err.matches("keeping the 1 pod names").count(), 1, "{err}");
}

#[test]
fn a_pod_label_file_that_is_missing_or_malformed_at_the_start_is_exit_2() {
    let node = FakeNode::new(&[]);
    let bad = node.dir.path().join("bad.json");
    std::fs::write(&bad, "{\"x\": {\"namespace\": \"a\", \"name\": \"b\"}}").expect("w");
    for (file, needle) in [
        (node.dir.path().join("missing.toml"), "missing.toml"),
        (bad, "\"x\" is not a pod UID"),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_wattlens"))
            .env_remove("WATTLENS_CONFIG")
            .arg("agent")
            .arg("--sysfs-root")
            .arg(node.sys())
            .arg("--procfs-root")
            .arg(node.proc())
            .arg("--cgroup-root")
            .arg(node.cgroups())
            .arg("--pod-labels")
            .arg(&file)
            .args(["--listen", "127.0.0.1:0"])
            .output()
            .expect("runs");
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("--pod-labels") && err.contains(needle),
            "{err}"
        );
    }
}

/// Containers' names beside their ids (DCGM exporter, cAdvisor and Kepler label containers by
/// name): from the kubelet's container log links under `--container-logs-root`, which are
/// symbolic links into /var/log/pods (never followed: only their names are read).
#[test]
fn containers_get_their_name_beside_the_id_from_the_container_log_links() {
    let id = "4f3c2b1a00112233445566778899aabbccddeeff00112233445566778899aabb";
    let other = "5f3c2b1a00112233445566778899aabbccddeeff00112233445566778899aabb";
    let (a, b) = (pod(UID_A, id), pod(UID_A, other));
    let node = FakeNode::new(&[&a, &b]);
    let links = node.dir.path().join("var/log/containers");
    std::fs::create_dir_all(&links).expect("mkdir");
    std::os::unix::fs::symlink(
        format!("/var/log/pods/ml_trainer-0_{UID_A}/main/0.log"),
        links.join(format!("trainer-0_ml_main-{id}.log")),
    )
    .expect("ln");
    let agent = node.agent(
        free_port(),
        &[
            "--interval",
            "200ms",
            "--container-logs-root",
            links.to_str().expect("utf8"),
        ],
    );
    let m = agent.metrics();
    let la = power_line(&m, &format!("container=\"{id}\"")).expect("container a");
    assert!(la.contains("container_name=\"main\""), "{la}");
    // Not in the folder: the id only, no name (never a wrong one).
    let lb = power_line(&m, &format!("container=\"{other}\"")).expect("container b");
    assert!(!lb.contains("container_name="), "{lb}");
    // Its link appears (the container started after the agent): named from then on.
    std::os::unix::fs::symlink(
        format!("/var/log/pods/ml_trainer-0_{UID_A}/sidecar/0.log"),
        links.join(format!("trainer-0_ml_sidecar-{other}.log")),
    )
    .expect("ln");
    let m = wait_for(10, || {
        let m = agent.metrics();
        power_line(&m, "container_name=\"sidecar\"").map(|_| m)
    });
    assert!(power_line(&m, "container_name=\"main\"").is_some(), "{m}");
    agent.kill();
}
