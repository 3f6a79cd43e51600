//! Kubernetes container names, by container id: a container's cgroup gives its runtime id only
//! (`cri-containerd-<id>.scope`), while DCGM exporter, cAdvisor and Kepler label a container's
//! series with its *name*. The kubelet leaves the name beside the id in the folder of container
//! log links, `/var/log/containers/<pod>_<namespace>_<container-name>-<container-id>.log`
//! (links into `/var/log/pods`; the 64-hex id ends the name, and none of pod, namespace or
//! container name can hold `_`, so the name splits without doubt). The folder is listed again
//! only when its modification time changes (a container started or its log was removed); a
//! `stat` per poll otherwise. The links are never followed: only their names are read.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The most containers kept from the folder (a node runs 110 pods by default; the kubelet keeps
/// the links of a few dead containers per pod beside the live ones).
pub const MAX_CONTAINERS: usize = 20_000;

/// The container names of one log-link folder (see the module's doc).
#[derive(Debug, Default)]
pub(crate) struct ContainerLogs {
    root: PathBuf,
    stamp: Option<SystemTime>,
    names: HashMap<String, String>,
}

impl ContainerLogs {
    /// The folder `root` (`/var/log/containers`), listed now (absent or unreadable: no names).
    pub(crate) fn new(root: &Path) -> Self {
        let mut c = Self {
            root: root.to_path_buf(),
            ..Self::default()
        };
        c.refresh();
        c
    }

    /// Lists the folder again if its modification time changed (or it went away).
    pub(crate) fn refresh(&mut self) {
        let now = std::fs::metadata(&self.root)
            .and_then(|m| m.modified())
            .ok();
        if now != self.stamp || now.is_none() && !self.names.is_empty() {
            self.stamp = now;
            self.names = list(&self.root);
        }
    }

    /// The name of the container with this id (lower-case hex), if the folder has it.
    pub(crate) fn get(&self, id: &str) -> Option<&str> {
        self.names.get(id).map(String::as_str)
    }
}

/// A container id as the runtimes write it: 64 hex digits.
pub(crate) fn is_container_id(s: &str) -> bool {
    s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit())
}

/// A container name as Kubernetes allows it (a DNS label: lower-case letters, digits and `-`,
/// at most 63 characters).
pub(crate) fn is_container_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The container id (lower case) and name in a log link's file name
/// `<pod>_<namespace>_<container-name>-<container-id>.log`; `None` for any other name.
pub(crate) fn parse(file: &str) -> Option<(String, String)> {
    let stem = file.strip_suffix(".log")?;
    let (rest, id) = stem.rsplit_once('-')?;
    if !is_container_id(id) {
        return None;
    }
    let mut it = rest.split('_');
    let (pod, ns, name) = (it.next()?, it.next()?, it.next()?);
    let dns = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
    };
    (it.next().is_none() && dns(pod) && dns(ns) && is_container_name(name))
        .then(|| (id.to_ascii_lowercase(), name.to_string()))
}

fn list(root: &Path) -> HashMap<String, String> {
    let Ok(rd) = std::fs::read_dir(root) else {
        return HashMap::new();
    };
    rd.filter_map(Result::ok)
        .filter_map(|e| parse(&e.file_name().to_string_lossy()))
        .take(MAX_CONTAINERS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "4f3c2b1a00112233445566778899aabbccddeeff00112233445566778899aabb";

    #[test]
    fn a_log_link_name_splits_into_id_and_container_name() {
        assert_eq!(
            parse(&format!("trainer-0_ml_main-{ID}.log")),
            Some((ID.to_string(), "main".to_string()))
        );
        // A container name with `-` in it: the id is what follows the last `-`.
        assert_eq!(
            parse(&format!(
                "coredns-5d78c9869d-abcde_kube-system_co-re-dns-{ID}.log"
            )),
            Some((ID.to_string(), "co-re-dns".to_string()))
        );
        // Upper-case ids are keyed in lower case.
        assert_eq!(
            parse(&format!("p_n_c-{}.log", ID.to_uppercase())).map(|x| x.0),
            Some(ID.to_string())
        );
        for bad in [
            format!("trainer-0_ml_main-{ID}"),              // not .log
            format!("trainer-0_ml_main-{}.log", &ID[..63]), // short id
            format!("trainer-0_ml-{ID}.log"),               // no container name
            format!("a_b_c_d-{ID}.log"),                    // a fourth part
            format!("trainer-0_ml_Main-{ID}.log"),          // not a DNS label
            format!("trainer-0_ml_-{ID}.log"),              // empty name
            "kube-apiserver.log".to_string(),
        ] {
            assert_eq!(parse(&bad), None, "{bad}");
        }
    }

    #[test]
    fn the_folder_is_listed_again_only_when_it_changes() {
        let dir = tempfile::tempdir().expect("tmp");
        let link = |name: &str| {
            // The kubelet's are symbolic links into /var/log/pods; only the name is read.
            std::os::unix::fs::symlink("/nonexistent/0.log", dir.path().join(name)).expect("ln");
        };
        link(&format!("trainer-0_ml_main-{ID}.log"));
        let mut c = ContainerLogs::new(dir.path());
        assert_eq!(c.get(ID), Some("main"));
        let id2 = ID.replace('4', "5");
        assert_eq!(c.get(&id2), None);
        // Unchanged folder: not listed again (a name put in by hand stays unseen).
        c.names.insert("x".into(), "y".into());
        c.refresh();
        assert_eq!(c.get("x"), Some("y"));
        // A new container: the folder's modification time changes, it is listed again.
        std::thread::sleep(std::time::Duration::from_millis(20));
        link(&format!("trainer-0_ml_sidecar-{id2}.log"));
        c.refresh();
        assert_eq!(c.get(&id2), Some("sidecar"));
        assert_eq!(c.get("x"), None);
        // The folder goes away: no names, not stale ones.
        drop(dir);
        c.refresh();
        assert_eq!(c.get(ID), None);
    }
}
