//! Tests of the pod names: the kubelet's log folders, label files in every form, and files that
//! break while the agent runs.

use super::*;

const UID: &str = "1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901";
const UID2: &str = "0a0b0c0d-0000-1111-2222-333344445555";

fn pod_workload(uid_as_in_cgroup: &str) -> Workload {
    Workload::classify(&format!(
        "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{uid_as_in_cgroup}.slice/\
         cri-containerd-0123456789abcdef.scope"
    ))
}

#[test]
fn names_from_the_kubelets_pod_log_folders_for_both_cgroup_drivers() {
    let logs = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(logs.path().join(format!("ml_trainer-0_{UID}/main"))).expect("mkdir");
    // Not a pod folder: skipped, never half-read.
    std::fs::create_dir_all(logs.path().join("lost+found")).expect("mkdir");
    std::fs::write(logs.path().join(format!("x_y_{UID2}")), "a file").expect("w");
    let mut p = PodNames::new(Some(logs.path()), None).expect("names");
    assert_eq!(p.len(), 1);
    // systemd writes the UID with `_`; cgroupfs with `-`: both match.
    let mut w = pod_workload(&UID.replace('-', "_"));
    assert_eq!(p.label(&mut w), None);
    assert_eq!(
        (w.namespace.as_deref(), w.pod.as_deref()),
        (Some("ml"), Some("trainer-0"))
    );
    assert_eq!(
        p.get(&UID.to_uppercase()).map(|n| n.name.as_str()),
        Some("trainer-0")
    );
    // Unknown UID: no names, not wrong ones.
    let mut w = pod_workload(UID2);
    assert_eq!(p.label(&mut w), None);
    assert_eq!((w.namespace, w.pod), (None, None));
    // A new pod: the folder's modification time changes, it is listed again.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::create_dir_all(
        logs.path()
            .join(format!("kube-system_coredns-5d78c9869d-abcde_{UID2}")),
    )
    .expect("mkdir");
    assert_eq!(p.refresh(), None);
    assert_eq!(
        p.get(UID2),
        Some(&PodName {
            namespace: "kube-system".into(),
            name: "coredns-5d78c9869d-abcde".into()
        })
    );
    // Workloads that are no pods are left alone.
    let mut w = Workload::classify("system.slice/nginx.service");
    assert_eq!(p.label(&mut w), None);
    assert_eq!(w.namespace, None);
}

#[test]
fn a_label_file_in_toml_json_or_kubectl_form_wins_and_is_read_again_when_it_changes() {
    let dir = tempfile::tempdir().expect("tmp");
    let logs = dir.path().join("pods");
    std::fs::create_dir_all(logs.join(format!("old_name_{UID}"))).expect("mkdir");
    let f = dir.path().join("pods.toml");
    std::fs::write(
        &f,
        format!("[\"{UID}\"]\nnamespace = \"ml\"\nname = \"trainer-0\"\n"),
    )
    .expect("w");
    let mut p = PodNames::new(Some(&logs), Some(&f)).expect("names");
    assert_eq!(p.get(UID).map(|n| n.namespace.as_str()), Some("ml"));
    // JSON, the same map.
    std::fs::write(
        &f,
        format!(
            "{{\"{}\": {{\"namespace\": \"web\", \"name\": \"api-7\"}}}}",
            UID.replace('-', "_")
        ),
    )
    .expect("w");
    assert_eq!(p.refresh(), None);
    assert_eq!(p.get(UID).map(|n| n.name.as_str()), Some("api-7"));
    // `kubectl get pods -A -o json` as it is (extra fields ignored).
    std::fs::write(
        &f,
        format!(
            "{{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [{{\"metadata\": \
             {{\"uid\": \"{UID2}\", \"namespace\": \"batch\", \"name\": \"job-x\", \
             \"labels\": {{\"app\": \"x\"}}}}, \"spec\": {{}}}}]}}"
        ),
    )
    .expect("w");
    assert_eq!(p.refresh(), None);
    assert_eq!(p.get(UID2).map(|n| n.name.as_str()), Some("job-x"));
    // UID is no longer in the file: the log folder's names.
    assert_eq!(p.get(UID).map(|n| n.name.as_str()), Some("name"));
    assert_eq!(p.errors(), 0);
}

#[test]
fn a_label_file_corrupted_later_is_said_once_and_its_last_names_are_kept() {
    let dir = tempfile::tempdir().expect("tmp");
    let f = dir.path().join("pods.toml");
    std::fs::write(
        &f,
        format!("[\"{UID}\"]\nnamespace = \"ml\"\nname = \"trainer-0\"\n"),
    )
    .expect("w");
    let mut p = PodNames::new(None, Some(&f)).expect("names");
    std::fs::write(&f, "[\"not closed\nnamespace = 1\n").expect("w");
    let note = p.refresh().expect("a note");
    assert!(
        note.contains("pods.toml") && note.contains("keeping the 1 pod names read before"),
        "{note}"
    );
    // Once: the same broken file says nothing more.
    assert_eq!(p.refresh(), None);
    assert_eq!(p.errors(), 1);
    assert!(p.file_error().is_some());
    assert_eq!(p.get(UID).map(|n| n.name.as_str()), Some("trainer-0"));
    // Removed: said once more, names kept.
    std::fs::remove_file(&f).expect("rm");
    assert!(p.refresh().expect("note").contains("cannot read"));
    assert_eq!(p.refresh(), None);
    // Back and valid: in use again.
    std::fs::write(
        &f,
        format!("[\"{UID}\"]\nnamespace = \"ml\"\nname = \"trainer-1\"\n"),
    )
    .expect("w");
    assert_eq!(p.refresh(), None);
    assert_eq!(p.file_error(), None);
    assert_eq!(p.get(UID).map(|n| n.name.as_str()), Some("trainer-1"));
}

#[test]
fn a_bad_label_file_at_the_start_is_an_error_naming_it_and_the_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let missing = dir.path().join("nope.toml");
    let e = PodNames::new(None, Some(&missing)).expect_err("missing");
    assert!(e.to_string().contains("nope.toml"), "{e}");
    let f = dir.path().join("pods.toml");
    for (text, needle) in [
        (
            "[\"x\"]\nnamespace = \"a\"\nname = \"b\"\n",
            "\"x\" is not a pod UID",
        ),
        (
            &format!("[\"{UID}\"]\nnamespace = \"A_B\"\nname = \"b\"\n")[..],
            "namespace \"A_B\"",
        ),
        (&format!("[\"{UID}\"]\nnamespace = \"a\"\n")[..], "name"),
        (
            &format!("[\"{UID}\"]\nnamespace = \"a\"\nname = \"b\"\napp = \"c\"\n")[..],
            "unknown field",
        ),
        ("{\"a\": ", "EOF"),
    ] {
        std::fs::write(&f, text).expect("w");
        let e = PodNames::new(None, Some(&f)).expect_err(text).to_string();
        assert!(e.contains("pods.toml") && e.contains(needle), "{text}: {e}");
    }
}

#[test]
fn pods_with_nowhere_to_read_names_from_are_said_once() {
    let mut p = PodNames::new(Some(Path::new("/nonexistent/pods")), None).expect("names");
    let mut w = pod_workload(UID);
    let note = p.label(&mut w).expect("note");
    assert!(
        note.contains("/nonexistent/pods") && note.contains("--pod-logs-root"),
        "{note}"
    );
    assert_eq!(p.label(&mut w), None);
    assert_eq!(w.namespace, None);
}

const CID: &str = "4f3c2b1a00112233445566778899aabbccddeeff00112233445566778899aabb";
const CID2: &str = "5f3c2b1a00112233445566778899aabbccddeeff00112233445566778899aabb";

fn container_workload(id: &str) -> Workload {
    Workload::classify(&format!(
        "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{}.slice/\
         cri-containerd-{id}.scope",
        UID.replace('-', "_")
    ))
}

#[test]
fn container_names_from_the_kubelets_log_links_beside_the_id() {
    let dir = tempfile::tempdir().expect("tmp");
    let links = dir.path().join("containers");
    std::fs::create_dir_all(&links).expect("mkdir");
    std::os::unix::fs::symlink(
        "/var/log/pods/x/main/0.log",
        links.join(format!("trainer-0_ml_main-{CID}.log")),
    )
    .expect("ln");
    let mut p = PodNames::new(None, None)
        .expect("names")
        .with_container_logs(&links);
    let mut w = container_workload(CID);
    p.label(&mut w);
    // The id stays where it was; the name is beside it.
    assert_eq!(w.container.as_deref(), Some(CID));
    assert_eq!(w.container_name.as_deref(), Some("main"));
    // An id the folder does not have: no name, not a wrong one.
    let mut w = container_workload(CID2);
    p.label(&mut w);
    assert_eq!(w.container_name, None);
    // A container outside Kubernetes (docker) is named too when the folder has its id.
    let mut w = Workload::classify(&format!("system.slice/docker-{CID}.scope"));
    p.label(&mut w);
    assert_eq!(w.container_name.as_deref(), Some("main"));
    // A new container: listed when the folder changes.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::os::unix::fs::symlink(
        "/var/log/pods/x/sidecar/0.log",
        links.join(format!("trainer-0_ml_sidecar-{CID2}.log")),
    )
    .expect("ln");
    assert_eq!(p.refresh(), None);
    assert_eq!(p.container(CID2), Some("sidecar"));
    assert_eq!(p.container(&CID2.to_uppercase()), Some("sidecar"));
}

#[test]
fn container_names_from_the_label_file_win_over_the_log_links() {
    let dir = tempfile::tempdir().expect("tmp");
    let links = dir.path().join("containers");
    std::fs::create_dir_all(&links).expect("mkdir");
    std::fs::write(links.join(format!("trainer-0_ml_old-{CID}.log")), "").expect("w");
    let f = dir.path().join("pods.json");
    // `kubectl get pods -o json`: container statuses (init containers too), the id after the
    // runtime's scheme; one still being created has no id yet; one of another form is skipped
    // (the file is kubectl's: its pods' names stay in use).
    std::fs::write(
        &f,
        format!(
            "{{\"items\": [{{\"metadata\": {{\"uid\": \"{UID}\", \"namespace\": \"ml\", \
             \"name\": \"trainer-0\"}}, \"status\": {{\"containerStatuses\": [{{\"name\": \
             \"main\", \"containerID\": \"containerd://{CID}\", \"ready\": true}}, \
             {{\"name\": \"waiting\"}}, {{\"name\": \"odd\", \"containerID\": \"x://1\"}}], \
             \"initContainerStatuses\": [{{\"name\": \"init\", \
             \"containerID\": \"cri-o://{CID2}\"}}]}}}}]}}"
        ),
    )
    .expect("w");
    let mut p = PodNames::new(None, Some(&f))
        .expect("names")
        .with_container_logs(&links);
    assert_eq!(p.container(CID), Some("main"));
    assert_eq!(p.container(CID2), Some("init"));
    let mut w = container_workload(CID);
    p.label(&mut w);
    assert_eq!(
        (w.pod.as_deref(), w.container_name.as_deref()),
        (Some("trainer-0"), Some("main"))
    );
    // TOML: a `containers` table in the pod's entry.
    std::fs::write(
        &f,
        format!(
            "[\"{UID}\"]\nnamespace = \"ml\"\nname = \"trainer-0\"\n\
             containers = {{ \"{}\" = \"worker\" }}\n",
            CID2.to_uppercase()
        ),
    )
    .expect("w");
    assert_eq!(p.refresh(), None);
    assert_eq!(p.container(CID2), Some("worker"));
    // No longer in the file: the log link's name.
    assert_eq!(p.container(CID), Some("old"));
}

#[test]
fn a_bad_container_in_the_label_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let f = dir.path().join("pods.toml");
    for (containers, needle) in [
        ("{ \"abc\" = \"main\" }", "\"abc\" is not a container id"),
        (
            &format!("{{ \"{CID}\" = \"Main_1\" }}")[..],
            "name \"Main_1\" is not a Kubernetes container name",
        ),
    ] {
        std::fs::write(
            &f,
            format!(
                "[\"{UID}\"]\nnamespace = \"ml\"\nname = \"trainer-0\"\ncontainers = {containers}\n"
            ),
        )
        .expect("w");
        let e = PodNames::new(None, Some(&f))
            .expect_err(containers)
            .to_string();
        assert!(e.contains("pods.toml") && e.contains(needle), "{e}");
    }
}

/// Hostile test: one UID in its `-` and `_` forms with other names was accepted, the last one
/// winning silently. Now refused; the same names twice are harmless and kept.
#[test]
fn a_label_file_naming_one_uid_twice_differently_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let f = dir.path().join("pl7.json");
    let underscored = UID.replace('-', "_");
    std::fs::write(
        &f,
        format!(
            "{{\"{UID}\": {{\"namespace\": \"ml\", \"name\": \"a\"}}, \
             \"{underscored}\": {{\"namespace\": \"x\", \"name\": \"b\"}}}}"
        ),
    )
    .expect("w");
    let e = PodNames::new(None, Some(&f))
        .expect_err("conflict")
        .to_string();
    assert!(
        e.contains("pl7.json") && e.contains("named twice") && e.contains("ml/a"),
        "{e}"
    );
    std::fs::write(
        &f,
        format!(
            "{{\"{UID}\": {{\"namespace\": \"ml\", \"name\": \"a\"}}, \
             \"{}\": {{\"namespace\": \"ml\", \"name\": \"a\"}}}}",
            UID.to_ascii_uppercase()
        ),
    )
    .expect("w");
    let p = PodNames::new(None, Some(&f)).expect("same names");
    assert_eq!(p.get(&underscored).map(|n| n.name.as_str()), Some("a"));
}

/// Hostile round 5: one UID as the same JSON key twice, with other names, was read with the
/// last one winning (`serde_json::Value` keeps the last). Now refused, naming the file, the key
/// and its line; the TOML form already refused a key twice.
#[test]
fn a_json_label_file_with_one_key_twice_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let f = dir.path().join("pl8.json");
    std::fs::write(
        &f,
        format!(
            "{{\"{UID}\": {{\"namespace\": \"ml\", \"name\": \"a\"}},\n\
             \"{UID}\": {{\"namespace\": \"x\", \"name\": \"b\"}}}}"
        ),
    )
    .expect("w");
    let e = PodNames::new(None, Some(&f)).expect_err("dup").to_string();
    assert!(
        e.contains("pl8.json") && e.contains("twice in one object") && e.contains("line 2"),
        "{e}"
    );
    let t = dir.path().join("pl8.toml");
    std::fs::write(
        &t,
        format!("[\"{UID}\"]\nnamespace = \"ml\"\nname = \"a\"\nname = \"b\"\n"),
    )
    .expect("w");
    assert!(PodNames::new(None, Some(&t)).is_err());
}
