//! `wattlens agent`'s settings: flags, then the config file's `[agent]` table, then defaults
//! (flags describe how this run goes; the file, what a node runs); and `wattlens config init`,
//! which prints a commented default file.

use crate::cli::AgentArgs;
use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The default address: loopback only (a node's metrics are not for the whole network unless
/// the operator says so).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9877";

/// The finest time resolution of the exposed figures, s: the PLATYPUS attack (CVE-2020-8694)
/// recovers data from RAPL readings taken every few milliseconds, so no figure is published
/// more often than once a second, whatever the poll interval.
pub const MIN_RESOLUTION_S: f64 = 1.0;

/// `[agent]` in the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// `--listen`.
    pub listen: Option<String>,
    /// `--interval`.
    pub interval: Option<String>,
    /// Seconds between publications of the figures (at least 1 s and the interval).
    pub resolution: Option<String>,
    /// `--sysfs-root`.
    pub sysfs_root: Option<PathBuf>,
    /// `--procfs-root`.
    pub procfs_root: Option<PathBuf>,
    /// `--cgroup-root`.
    pub cgroup_root: Option<PathBuf>,
    /// `--token-file`.
    pub token_file: Option<PathBuf>,
    /// `--pod-logs-root`.
    pub pod_logs_root: Option<PathBuf>,
    /// `--container-logs-root`.
    pub container_logs_root: Option<PathBuf>,
    /// `--pod-labels`.
    pub pod_labels: Option<PathBuf>,
    /// The most workloads exposed one by one.
    pub max_workloads: Option<usize>,
    /// How long a gone workload stays exposed before it folds.
    pub retain: Option<String>,
    /// The most HTTP connections open at once.
    pub max_connections: Option<usize>,
}

/// The resolved settings.
#[derive(Debug)]
pub struct Settings {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Time between polls.
    pub interval: Duration,
    /// Time between publications.
    pub resolution: Duration,
    /// /sys.
    pub sysfs_root: PathBuf,
    /// /proc.
    pub procfs_root: PathBuf,
    /// The cgroup root.
    pub cgroup_root: PathBuf,
    /// The bearer token, when one is required.
    pub token: Option<String>,
    /// The kubelet's pod log folder.
    pub pod_logs_root: PathBuf,
    /// The kubelet's container log links.
    pub container_logs_root: PathBuf,
    /// The pod label file, if any.
    pub pod_labels: Option<PathBuf>,
    /// Workloads exposed one by one.
    pub max_workloads: usize,
    /// Seconds a gone workload stays exposed.
    pub retain_s: f64,
    /// The most HTTP connections open at once (before the file-descriptor limit lowers it).
    pub max_connections: usize,
    /// What gave the sys root: `--sysfs-root`, or the config file and key.
    pub sysfs_from: String,
    /// What gave the proc root.
    pub procfs_from: String,
    /// What gave the cgroup root.
    pub cgroup_from: String,
    /// What gave the pod label file.
    pub pod_labels_from: String,
}

/// A duration as text (`200ms`, `1s`, `5min`) in seconds; the error names `what`.
pub fn seconds(text: &str, what: &str) -> Result<f64> {
    let r =
        wattlens::input::parse_range_in(text, wattlens::input::Dim::Time, "s").map_err(|e| {
            anyhow::anyhow!(
                "invalid value for {what}: {}",
                wattlens::input::short_numbers(&e.to_string())
            )
        })?;
    if r.lo != r.hi {
        bail!("invalid value for {what}: {text:?} is a range; give one duration, e.g. 1s");
    }
    let s = r.mid() * 3600.0;
    if !(0.01 * (1.0 - 1e-9)..=86_400.0).contains(&s) {
        bail!("invalid value for {what}: {text:?} must be between 10ms and 1 day");
    }
    Ok(s.max(0.01))
}

/// The default cap on HTTP connections open at once (`[agent] max_connections`).
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;

/// The address `--listen` gives: an address and port (`127.0.0.1:9877`, `[::1]:9877`), or a
/// host name and port (`localhost:9877`), resolved now to its first IPv4 address (else its
/// first), as Go's `net.Listen` (node_exporter's) does; the error names `what`.
pub fn listen_address(text: &str, what: &str) -> Result<SocketAddr> {
    if let Ok(a) = text.parse::<SocketAddr>() {
        return Ok(a);
    }
    let hint = "e.g. 127.0.0.1:9877 or localhost:9877 (loopback), 0.0.0.0:9877 (every interface)";
    let Some((host, port)) = text.rsplit_once(':') else {
        bail!("invalid value for {what}: {text:?} is not an address and port, {hint}");
    };
    if host.is_empty() || port.parse::<u16>().is_err() {
        bail!("invalid value for {what}: {text:?} is not an address and port, {hint}");
    }
    let found: Vec<SocketAddr> = std::net::ToSocketAddrs::to_socket_addrs(text)
        .map_err(|e| {
            anyhow::anyhow!(
                "invalid value for {what}: the host name {host:?} does not resolve ({e}); give \
                 an address, {hint}"
            )
        })?
        .collect();
    found
        .iter()
        .find(|a| a.is_ipv4())
        .or(found.first())
        .copied()
        .ok_or_else(|| {
            anyhow::anyhow!(
                "invalid value for {what}: the host name {host:?} resolves to no address; give \
                 an address, {hint}"
            )
        })
}

/// Merges the flags, the `[agent]` table (of config file `file`) and the defaults.
pub fn resolve(
    a: &AgentArgs,
    table: Option<&toml::Table>,
    file: Option<&std::path::Path>,
) -> Result<Settings> {
    let file_name = file.map_or_else(
        || "the config file".into(),
        |f| format!("config file {}", f.display()),
    );
    let cfg: AgentConfig = match table {
        Some(t) => toml::Value::Table(t.clone())
            .try_into()
            .map_err(|e: toml::de::Error| {
                // Name the key: the first that is wrong on its own.
                let key = t.iter().find(|(k, v)| {
                    let mut one = toml::Table::new();
                    one.insert((*k).clone(), (*v).clone());
                    toml::Value::Table(one).try_into::<AgentConfig>().is_err()
                });
                match key {
                    Some((k, _)) if e.message().starts_with("unknown field") => {
                        anyhow::anyhow!("{file_name}: [agent] has no key {k} ({})", e.message())
                    }
                    Some((k, _)) => anyhow::anyhow!(
                        "invalid value for [agent] {k} in {file_name}: {}",
                        e.message()
                    ),
                    None => anyhow::anyhow!("{file_name}: [agent] is malformed: {}", e.message()),
                }
            })?,
        None => AgentConfig::default(),
    };
    let from = |flag: bool, key: &str, name: &str| {
        if flag {
            format!("--{name}")
        } else {
            format!("[agent] {key} in {file_name}")
        }
    };
    let listen_text = a
        .listen
        .clone()
        .or(cfg.listen.clone())
        .unwrap_or_else(|| DEFAULT_LISTEN.into());
    let listen = listen_address(&listen_text, &from(a.listen.is_some(), "listen", "listen"))?;
    let interval = match (&a.interval, &cfg.interval) {
        (Some(t), _) => seconds(t, "--interval")?,
        (None, Some(t)) => seconds(t, &from(false, "interval", "interval"))?,
        (None, None) => 1.0,
    };
    let resolution = match &cfg.resolution {
        Some(t) => {
            let what = from(false, "resolution", "");
            let r = seconds(t, &what)?;
            if r < MIN_RESOLUTION_S {
                bail!(
                    "invalid value for {what}: {t:?} is finer \
                     than {MIN_RESOLUTION_S} s, which would expose RAPL readings to the \
                     PLATYPUS side channel (CVE-2020-8694); give 1s or more"
                );
            }
            r
        }
        None => MIN_RESOLUTION_S,
    }
    .max(interval);
    let retain_s = match &cfg.retain {
        Some(t) => seconds(t, &from(false, "retain", ""))?,
        None => 300.0,
    };
    let max_workloads = cfg.max_workloads.unwrap_or(10_000);
    if max_workloads == 0 || max_workloads > 1_000_000 {
        bail!(
            "invalid value for {}: {max_workloads} must be between 1 and 1000000",
            from(false, "max_workloads", "")
        );
    }
    let max_connections = cfg.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS);
    if !(1..=1_000_000).contains(&max_connections) {
        bail!(
            "invalid value for {}: {max_connections} must be between 1 and 1000000",
            from(false, "max_connections", "")
        );
    }
    let token_from = from(a.token_file.is_some(), "token_file", "token-file");
    let token_file = a.token_file.clone().or(cfg.token_file.clone());
    let token = match token_file {
        Some(p) => {
            let t = std::fs::read_to_string(&p)
                .with_context(|| format!("cannot read {} (given by {token_from})", p.display()))?;
            let t = t.trim().to_string();
            // Visible ASCII only: a client sends the token in an HTTP header, where anything
            // else (a non-ASCII letter) cannot match byte for byte (hostile test: `tökén`
            // was accepted and nothing could authenticate).
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_graphic()) {
                bail!(
                    "{} (given by {token_from}): the token must be one word of visible ASCII \
                     characters on one line (no spaces, no accented letters)",
                    p.display()
                );
            }
            Some(t)
        }
        None => None,
    };
    Ok(Settings {
        listen,
        interval: Duration::from_secs_f64(interval),
        resolution: Duration::from_secs_f64(resolution),
        sysfs_from: from(a.sysfs_root.is_some(), "sysfs_root", "sysfs-root"),
        procfs_from: from(a.procfs_root.is_some(), "procfs_root", "procfs-root"),
        cgroup_from: from(a.cgroup_root.is_some(), "cgroup_root", "cgroup-root"),
        pod_labels_from: from(a.pod_labels.is_some(), "pod_labels", "pod-labels"),
        max_connections,
        sysfs_root: a
            .sysfs_root
            .clone()
            .or(cfg.sysfs_root)
            .unwrap_or_else(|| "/sys".into()),
        procfs_root: a
            .procfs_root
            .clone()
            .or(cfg.procfs_root)
            .unwrap_or_else(|| "/proc".into()),
        cgroup_root: a
            .cgroup_root
            .clone()
            .or(cfg.cgroup_root)
            .unwrap_or_else(|| "/sys/fs/cgroup".into()),
        token,
        pod_logs_root: a
            .pod_logs_root
            .clone()
            .or(cfg.pod_logs_root)
            .unwrap_or_else(|| "/var/log/pods".into()),
        container_logs_root: a
            .container_logs_root
            .clone()
            .or(cfg.container_logs_root)
            .unwrap_or_else(|| "/var/log/containers".into()),
        pod_labels: a.pod_labels.clone().or(cfg.pod_labels),
        max_workloads,
        retain_s,
    })
}

/// The commented default config file.
pub const DEFAULT_CONFIG: &str = r#"# wattlens config file: defaults for flags (flags win). Pass it with --config FILE or
# WATTLENS_CONFIG. Every key is optional; the values shown are the defaults or examples.

[site]
# Where the energy is used: grid (country code, cloud region or named grid), or an intensity.
# grid = "FR"
# intensity = "56g/kWh"
# pue = "1.2"
# wue = "0.5"        # L/kWh on site
# ewif = "1.8"       # L/kWh off site (electricity generation)

[agent]
# Where /metrics, /healthz and / are served. Loopback only unless you say otherwise.
# listen = "127.0.0.1:9877"
# Time between polls of RAPL, NVML, hwmon, procfs and the cgroups.
# interval = "1s"
# Time between publications of the figures: at least 1 s and the interval (finer figures
# would expose RAPL to the PLATYPUS side channel, CVE-2020-8694).
# resolution = "1s"
# Roots, for containers (host folders mounted read-only) and tests.
# sysfs_root = "/sys"
# procfs_root = "/proc"
# cgroup_root = "/sys/fs/cgroup"
# A file holding a bearer token that /metrics and / then require (/healthz stays open).
# token_file = "/etc/wattlens/token"
# Kubernetes pods' namespace and name: the kubelet's pod log folder (mounted read-only in a
# container), and a file naming pods by UID that wins over it (TOML or JSON, "<uid>" ->
# {namespace, name}, or `kubectl get pods -o json`), read again when it changes.
# pod_logs_root = "/var/log/pods"
# pod_labels = "/etc/wattlens/pods.toml"
# Containers' names (label container_name): the kubelet's container log links
# (<pod>_<namespace>_<name>-<id>.log), mounted read-only in a container; the label file's
# `kubectl get pods -o json` container statuses win over them.
# container_logs_root = "/var/log/containers"
# The most workloads exposed one by one; the newest past it share one `_overflow` workload.
# max_workloads = 10000
# How long a workload that is gone stays exposed before it folds into the totals of gone ones.
# retain = "5min"
# The most HTTP connections open at once (a new one past it closes the oldest; idle ones are
# closed after 10 s without a whole request); lowered to half the open-file limit (ulimit -n)
# so the sampler keeps its files.
# max_connections = 256
"#;

/// `wattlens config init`.
pub fn init(out: &mut crate::Output) -> Result<crate::ExitStatus> {
    out.stdout(DEFAULT_CONFIG)?;
    Ok(crate::ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_file_parses_and_every_agent_key_is_known() {
        let t: toml::Table = toml::from_str(DEFAULT_CONFIG).expect("toml");
        assert!(t.contains_key("agent"));
        // Uncommented, every example key is accepted by [agent].
        let agent: String = DEFAULT_CONFIG
            .split("[agent]")
            .nth(1)
            .expect("agent")
            .lines()
            .filter_map(|l| l.strip_prefix("# "))
            .filter(|l| l.contains(" = "))
            .map(|l| format!("{l}\n"))
            .collect();
        let c: AgentConfig = toml::from_str(&agent).expect("keys");
        assert_eq!(c.max_workloads, Some(10_000));
        assert_eq!(c.listen.as_deref(), Some(DEFAULT_LISTEN));
        assert_eq!(
            c.container_logs_root.as_deref(),
            Some(std::path::Path::new("/var/log/containers"))
        );
    }

    #[test]
    fn listen_takes_addresses_and_host_names_and_names_the_flag_otherwise() {
        let ok = |t: &str| listen_address(t, "--listen").expect(t);
        assert_eq!(ok("127.0.0.1:9877").to_string(), "127.0.0.1:9877");
        assert_eq!(ok("[::1]:9877").to_string(), "[::1]:9877");
        assert_eq!(ok("0.0.0.0:9877").to_string(), "0.0.0.0:9877");
        // A host name: resolved, loopback for localhost (IPv4 first, as Go does).
        let l = ok("localhost:9877");
        assert!(l.ip().is_loopback() && l.port() == 9877, "{l}");
        for (bad, needle) in [
            ("localhost", "not an address and port"),
            ("localhost:99999", "not an address and port"),
            (":9877", "not an address and port"),
            ("no-such-host.invalid:9877", "does not resolve"),
        ] {
            let e = listen_address(bad, "--listen").expect_err(bad).to_string();
            assert!(e.contains("--listen") && e.contains(needle), "{bad}: {e}");
        }
    }
}
