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
