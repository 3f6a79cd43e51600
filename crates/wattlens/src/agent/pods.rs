//! Kubernetes pod namespaces and names, by pod UID: the cgroup path gives a pod's UID and QoS
//! only, so its namespace and name come from what the node holds beside it:
//!
//! - the kubelet's pod log folders, `/var/log/pods/<namespace>_<pod-name>_<pod-uid>/` (the
//!   kubelet names them so; neither a namespace nor a pod name can hold `_`), listed again when
//!   the folder's modification time changes (a pod started or removed);
//! - a label file the operator writes (`--pod-labels`): TOML or JSON, `uid -> {namespace,
//!   name}`, or the output of `kubectl get pods -o json` as it is; read again when its
//!   modification time or size changes, and its new names replace the old ones on the
//!   workloads (a renamed pod's series changes its labels). Its names win over the log
//!   folders'. A file naming one UID twice with different names (its `-` and `_` forms) is
//!   refused.
//!
//! Containers' names (the label `container_name`) come likewise from the kubelet's container
//! log links (`/var/log/containers`, [`super::containers`]) and from the label file: `kubectl
//! get pods -o json`'s container statuses, or a `containers` table (`"<container id>" =
//! "<name>"`) in a pod's entry.
//!
//! A UID matches whether written with `-` (Kubernetes) or `_` (the systemd cgroup driver), in
//! any case. An unknown UID gets no names (empty labels, never wrong ones). A label file that
//! becomes unreadable or corrupt after the start is said once (a note) and its last good
//! content is kept; nothing here is fatal once the agent runs.

use super::containers::{is_container_id, is_container_name, ContainerLogs};
use super::workload::Workload;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The most pods kept from one source (a node runs 110 by default).
pub const MAX_PODS: usize = 10_000;

/// A pod's namespace and name.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PodName {
    /// Its namespace (`ml`).
    pub namespace: String,
    /// Its name (`trainer-0`).
    pub name: String,
}

/// Why the label file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PodNamesError {
    /// It could not be read.
    #[error("cannot read the pod label file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Its content is not a label file.
    #[error(
        "the pod label file {}: {message} (expected TOML or JSON: \"<pod uid>\" -> \
         {{namespace, name}}, or `kubectl get pods -o json`)",
        path.display()
    )]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong, with its line where the parser says.
        message: String,
    },
}

/// A file's identity for "did it change": modification time and size.
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// The UID as a key: lower case, `-` between its groups.
fn key(uid: &str) -> String {
    uid.trim().to_ascii_lowercase().replace('_', "-")
}

fn valid_uid(uid: &str) -> bool {
    uid.len() >= 8 && uid.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

/// A namespace or pod name as Kubernetes allows it (DNS labels and subdomains: lower-case
/// letters, digits, `-` and `.`, at most 253 characters).
fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
}

/// The names of the pods on a node (see the module's doc).
#[derive(Debug, Default)]
pub struct PodNames {
    logs_root: Option<PathBuf>,
    logs_stamp: Option<SystemTime>,
    from_logs: HashMap<String, PodName>,
    file: Option<PathBuf>,
    file_stamp: Stamp,
    from_file: HashMap<String, PodName>,
    /// Container names by id from the label file.
    file_containers: HashMap<String, String>,
    /// Container names by id from the kubelet's container log links.
    container_logs: Option<ContainerLogs>,
    file_error: Option<String>,
    errors: u64,
    missing_said: bool,
}

impl PodNames {
    /// Names from the kubelet's pod log folders under `logs_root` (absent or unreadable: none)
    /// and from the label file `file`, which must exist and parse now.
    ///
    /// # Errors
    /// When `file` cannot be read or is not a label file.
    pub fn new(logs_root: Option<&Path>, file: Option<&Path>) -> Result<Self, PodNamesError> {
        let mut p = Self {
            logs_root: logs_root.map(Path::to_path_buf),
            file: file.map(Path::to_path_buf),
            ..Self::default()
        };
        if let Some(f) = file {
            p.file_stamp = stamp(f);
            (p.from_file, p.file_containers) = read_file(f)?;
        }
        p.refresh();
        Ok(p)
    }

    /// Names containers from the kubelet's container log links under `root`
    /// (`/var/log/containers`; absent or unreadable: none) from now on.
    #[must_use]
    pub fn with_container_logs(mut self, root: &Path) -> Self {
        self.container_logs = Some(ContainerLogs::new(root));
        self
    }

    /// The name of the container with this runtime id (the 64 hex digits of its cgroup), if
    /// known: from the label file, else the container log links.
    #[must_use]
    pub fn container(&self, id: &str) -> Option<&str> {
        let lower;
        let id = if id.bytes().any(|b| b.is_ascii_uppercase()) {
            lower = id.to_ascii_lowercase();
            &lower
        } else {
            id
        };
        self.file_containers
            .get(id)
            .map(String::as_str)
            .or_else(|| self.container_logs.as_ref()?.get(id))
    }

    /// Reads again what changed; a note when the label file became unreadable or corrupt
    /// (once per change of the file: its last good content is kept).
    pub fn refresh(&mut self) -> Option<String> {
        if let Some(root) = &self.logs_root {
            let now = std::fs::metadata(root).and_then(|m| m.modified()).ok();
            if now != self.logs_stamp || now.is_none() && !self.from_logs.is_empty() {
                self.logs_stamp = now;
                self.from_logs = list_logs(root);
            }
        }
        if let Some(c) = &mut self.container_logs {
            c.refresh();
        }
        let f = self.file.clone()?;
        let now = stamp(&f);
        if now == self.file_stamp && (now.is_some() || self.file_error.is_some()) {
            return None;
        }
        self.file_stamp = now;
        match read_file(&f) {
            Ok((m, c)) => {
                self.from_file = m;
                self.file_containers = c;
                self.file_error = None;
                None
            }
            Err(e) => {
                self.errors += 1;
                let e = e.to_string();
                self.file_error = Some(e.clone());
                Some(format!(
                    "{e}; keeping the {} pod names read before",
                    self.from_file.len()
                ))
            }
        }
    }

    /// The names of the pod with this UID, if known.
    #[must_use]
    pub fn get(&self, uid: &str) -> Option<&PodName> {
        let k = key(uid);
        self.from_file.get(&k).or_else(|| self.from_logs.get(&k))
    }

    /// How many pods have names.
    #[must_use]
    pub fn len(&self) -> usize {
        self.from_logs.len()
            + self
                .from_file
                .keys()
                .filter(|k| !self.from_logs.contains_key(*k))
                .count()
    }

    /// Whether none has.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Times the label file could not be used after the start.
    #[must_use]
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// Why the label file is not in use now, if it is not.
    #[must_use]
    pub fn file_error(&self) -> Option<&str> {
        self.file_error.as_deref()
    }

    /// Puts the namespace and name on a pod's workload, and the name on a container's; a note,
    /// once, when a pod has none because there is nowhere to read them from.
    pub(crate) fn label(&mut self, w: &mut Workload) -> Option<String> {
        if w.container_name.is_none() {
            if let Some(n) = w.container.as_deref().and_then(|id| self.container(id)) {
                w.container_name = Some(n.to_string());
            }
        }
        let uid = w.pod_uid.as_deref()?;
        if let Some(n) = self.get(uid) {
            w.namespace = Some(n.namespace.clone());
            w.pod = Some(n.name.clone());
            return None;
        }
        let nowhere = || {
            self.file.is_none()
                && self.from_logs.is_empty()
                && self.logs_root.as_deref().is_none_or(|r| !r.is_dir())
        };
        if !self.missing_said && nowhere() {
            self.missing_said = true;
            let root = self
                .logs_root
                .as_deref()
                .map_or("no pod log folder".to_string(), |r| {
                    format!("the pod log folder {} is not readable", r.display())
                });
            return Some(format!(
                "Kubernetes pods found but {root} and no --pod-labels file is given: their \
                 namespace and pod labels stay empty (mount /var/log/pods read-only and give \
                 --pod-logs-root)"
            ));
        }
        None
    }
}

/// `<namespace>_<pod-name>_<pod-uid>` folders under `root`.
fn list_logs(root: &Path) -> HashMap<String, PodName> {
    let Ok(rd) = std::fs::read_dir(root) else {
        return HashMap::new();
    };
    rd.filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            let mut it = n.splitn(3, '_');
            let (ns, name, uid) = (it.next()?, it.next()?, it.next()?);
            (valid_name(ns) && valid_name(name) && valid_uid(uid)).then(|| {
                (
                    key(uid),
                    PodName {
                        namespace: ns.to_string(),
                        name: name.to_string(),
                    },
                )
            })
        })
        .take(MAX_PODS)
        .collect()
}

/// `kubectl get pods -o json`: only what is needed of it.
#[derive(Deserialize)]
struct PodList {
    items: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    metadata: Meta,
    #[serde(default)]
    status: Status,
}

/// A pod's status: only its containers' names and ids.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    #[serde(default)]
    container_statuses: Vec<ContainerStatus>,
    #[serde(default)]
    init_container_statuses: Vec<ContainerStatus>,
    #[serde(default)]
    ephemeral_container_statuses: Vec<ContainerStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContainerStatus {
    name: String,
    /// `containerd://<id>`, `cri-o://<id>`, `docker://<id>`; absent while it is created.
    #[serde(default, rename = "containerID")]
    container_id: Option<String>,
}

/// A pod's entry in a TOML or JSON label file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    namespace: String,
    name: String,
    /// Its containers' names by runtime id.
    #[serde(default)]
    containers: BTreeMap<String, String>,
}

/// What a label file names: pods by UID, containers by id.
type FileNames = (HashMap<String, PodName>, HashMap<String, String>);

#[derive(Deserialize)]
struct Meta {
    uid: String,
    namespace: String,
    name: String,
}

fn read_file(path: &Path) -> Result<FileNames, PodNamesError> {
    let text = crate::source::StdFs
        .read(path)
        .map_err(|source| PodNamesError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    parse(&text).map_err(|message| PodNamesError::Format {
        path: path.to_path_buf(),
        message,
    })
}

use crate::source::ReadFile as _;

/// A label file's text: JSON when it starts with `{`, TOML otherwise.
fn parse(text: &str) -> Result<FileNames, String> {
    // A byte-order mark (some Windows editors write one) is not part of the text.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut containers: Vec<(String, String)> = Vec::new();
    let entries = |m: BTreeMap<String, Entry>, containers: &mut Vec<(String, String)>| {
        m.into_iter()
            .map(|(uid, e)| {
                containers.extend(e.containers);
                (
                    uid,
                    PodName {
                        namespace: e.namespace,
                        name: e.name,
                    },
                )
            })
            .collect::<Vec<_>>()
    };
    let pairs: Vec<(String, PodName)> = if text.trim_start().starts_with('{') {
        crate::json_keys::check_unique_keys(text).map_err(|e| e.to_string())?;
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if v.get("items").is_some_and(serde_json::Value::is_array) {
            let l: PodList = serde_json::from_value(v).map_err(|e| e.to_string())?;
            l.items
                .into_iter()
                .map(|i| {
                    let m = i.metadata;
                    let s = i.status;
                    for c in s
                        .container_statuses
                        .into_iter()
                        .chain(s.init_container_statuses)
                        .chain(s.ephemeral_container_statuses)
                    {
                        // `containerd://<id>`: the id after the scheme. What is not an id
                        // and a name (another runtime's form) is skipped: the file is
                        // kubectl's, and its pods' names are still good.
                        if let Some(id) = c.container_id.as_deref() {
                            let id = id.rsplit_once("://").map_or(id, |x| x.1);
                            if is_container_id(id) && is_container_name(&c.name) {
                                containers.push((id.to_string(), c.name));
                            }
                        }
                    }
                    (
                        m.uid,
                        PodName {
                            namespace: m.namespace,
                            name: m.name,
                        },
                    )
                })
                .collect()
        } else {
            let m: BTreeMap<String, Entry> =
                serde_json::from_value(v).map_err(|e| e.to_string())?;
            entries(m, &mut containers)
        }
    } else {
        let m: BTreeMap<String, Entry> =
            toml::from_str(text).map_err(|e| e.to_string().trim().replace('\n', " "))?;
        entries(m, &mut containers)
    };
    if pairs.len() > MAX_PODS {
        return Err(format!("{} pods, more than {MAX_PODS}", pairs.len()));
    }
    let mut out: HashMap<String, PodName> = HashMap::with_capacity(pairs.len());
    for (uid, n) in pairs {
        if !valid_uid(&key(&uid)) {
            return Err(format!("{uid:?} is not a pod UID"));
        }
        for (what, v) in [("namespace", &n.namespace), ("name", &n.name)] {
            if !valid_name(v) {
                return Err(format!(
                    "pod {uid}: {what} {v:?} is not a Kubernetes name (lower-case letters, \
                     digits, '-', '.')"
                ));
            }
        }
        // The same pod twice (`-` and `_` forms, or cases) with other names: which is right
        // cannot be told, so the file is refused (hostile test: the last one won silently).
        if let Some(before) = out.get(&key(&uid)).filter(|b| **b != n) {
            return Err(format!(
                "pod {uid} is named twice: {}/{} and {}/{} (the same UID written with '-' and \
                 '_' or in another case); keep one entry",
                before.namespace, before.name, n.namespace, n.name
            ));
        }
        out.insert(key(&uid), n);
    }
    if containers.len() > super::containers::MAX_CONTAINERS {
        return Err(format!(
            "{} containers, more than {}",
            containers.len(),
            super::containers::MAX_CONTAINERS
        ));
    }
    let mut names = HashMap::with_capacity(containers.len());
    for (id, name) in containers {
        if !is_container_id(&id) {
            return Err(format!(
                "{id:?} is not a container id (64 hex digits, as in the container's cgroup)"
            ));
        }
        if !is_container_name(&name) {
            return Err(format!(
                "container {id}: name {name:?} is not a Kubernetes container name (lower-case \
                 letters, digits, '-')"
            ));
        }
        if let Some(before) = names.get(&id.to_ascii_lowercase()).filter(|b| **b != name) {
            return Err(format!(
                "container {id} is named twice: {before:?} and {name:?}; keep one entry"
            ));
        }
        names.insert(id.to_ascii_lowercase(), name);
    }
    Ok((out, names))
}

#[cfg(test)]
#[path = "pods_tests.rs"]
mod tests;
