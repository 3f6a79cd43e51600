//! `wattlens agent`: one node's energy, carbon and water per workload, served as Prometheus
//! metrics. A sampler thread polls the node's sources (RAPL, NVML, hwmon, procfs; a modelled
//! CPU without RAPL) and walks its cgroup tree every interval into a
//! [`wattlens::agent::NodeAgent`] (the library splits each interval with conservation); every
//! publication period (at least 1 s: the PLATYPUS side channel) it takes a snapshot of the
//! figures ([`metrics`]); the HTTP server ([`server`]) encodes it on the first scrape that
//! comes and hands every other scraper those bytes.

pub mod config;
mod conns;
mod metrics;
mod page;
mod series;
mod server;

use crate::cli::AgentArgs;
use crate::settings::{self, Config};
use crate::ExitStatus;
use anyhow::{Context, Result};
use hyper::body::Bytes;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wattlens::agent::{Discovery, Limits, NodeAgent, PodNames};
use wattlens::catalog::Catalog;
use wattlens::footprint::SiteValues;
use wattlens::measure::{CpuInfo, CpuRating, ModelInputs, Policy, Probe, ProbeOptions};
use wattlens::source::{PollContext, PollError, Source, StdFs};
use wattlens::uncertainty::Draw;
use wattlens::units::{Hours, Watts};

/// Which body a request wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    /// OpenMetrics text.
    OpenMetrics,
    /// Classic Prometheus text (0.0.4).
    Text,
    /// OpenMetrics, gzip-compressed.
    OpenMetricsGz,
    /// Classic text, gzip-compressed.
    TextGz,
    /// The `/` page.
    Page,
}

/// What the server hands out. The sampler replaces the snapshot at each publication (cheap:
/// numbers and labels); a body is encoded (through `prometheus-client`) and compressed on the
/// first request that wants it after a publication, then served as is to every other
/// request until the next one: an idle agent encodes nothing, 200 scrapers cost one encoding.
#[derive(Debug, Default)]
pub struct Published {
    /// The figures of the last publication.
    frozen: Option<metrics::Frozen>,
    /// Where the grid intensity came from (a label).
    intensity_source: String,
    /// The labelled series built from `frozen`, once a scrape wanted them.
    snapshot: Option<metrics::Snapshot>,
    /// Encoded bodies of this snapshot.
    bodies: std::collections::HashMap<&'static str, Bytes>,
    /// The `/healthz` body.
    pub health: Bytes,
    refresh_s: u64,
    /// When the last publication came, and the time between two.
    at: Option<(Instant, Duration)>,
}

impl Published {
    /// Whether publications stopped (the sampler is stuck or gone):
    /// [`MISSED_IN_A_ROW`] missed in a row.
    #[must_use]
    pub fn stale(&self) -> bool {
        self.at
            .is_some_and(|(t, every)| missed(t.elapsed(), every) >= MISSED_IN_A_ROW)
    }

    /// The body of the current snapshot, encoded now if not yet.
    pub fn body(&mut self, b: Body) -> Bytes {
        let key = match b {
            Body::OpenMetrics => "om",
            Body::Text => "text",
            Body::OpenMetricsGz => "om.gz",
            Body::TextGz => "text.gz",
            Body::Page => "page",
        };
        if let Some(x) = self.bodies.get(key) {
            return x.clone();
        }
        if self.snapshot.is_none() {
            if let Some(f) = &self.frozen {
                self.snapshot = Some(metrics::snapshot(
                    f,
                    started_unix_s(),
                    &self.intensity_source,
                ));
            }
        }
        // The plain body this one is made from, encoded in its format only.
        let plain = match b {
            Body::OpenMetrics | Body::OpenMetricsGz => Some("om"),
            Body::Text | Body::TextGz => Some("text"),
            Body::Page => None,
        };
        if let Some(k) = plain.filter(|k| !self.bodies.contains_key(k)) {
            if let Some(snap) = self.snapshot.take() {
                if let Ok((enc, snap)) = metrics::encode(snap, k == "om") {
                    self.bodies.insert(k, Bytes::from(enc));
                    self.snapshot = Some(snap);
                }
            }
        }
        let made = match b {
            Body::OpenMetrics | Body::Text => None,
            Body::OpenMetricsGz => self.bodies.get("om").map(|t| Bytes::from(gzip(t))),
            Body::TextGz => self.bodies.get("text").map(|t| Bytes::from(gzip(t))),
            Body::Page => self
                .snapshot
                .as_ref()
                .map(|s| Bytes::from(page::render(s, self.refresh_s))),
        };
        if let Some(m) = made {
            self.bodies.insert(key, m);
        }
        self.bodies.get(key).cloned().unwrap_or_default()
    }
}

/// Publications missed in a row after which `/healthz` answers 503 (the sampler is stuck): 5,
/// as a device is dropped after 5 failed reads in a row (docs/metrics.md).
pub const MISSED_IN_A_ROW: u32 = 5;

/// Publications missed `elapsed` after the last one, one every `every`: one is missed once it is
/// a quarter of a period late (a poll's own time and the scheduler's delays are not misses).
fn missed(elapsed: Duration, every: Duration) -> u32 {
    let every = every.as_secs_f64().max(1e-3);
    let n = ((elapsed.as_secs_f64() - every / 4.0) / every).floor();
    // Bounded: a count, not a cast of any f64.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = n.clamp(0.0, f64::from(u32::MAX)) as u32;
    n
}

/// Runs `wattlens agent` (it serves until stopped).
pub fn run(a: &AgentArgs, cat: &Catalog, cfg: &Config) -> Result<ExitStatus> {
    let s = config::resolve(a, cfg.agent.as_ref(), cfg.site.file.as_deref())?;
    // Market-based carbon is not exposed (docs/metrics.md): a market intensity or CFE share
    // given to the agent would be silently unused.
    for (flag, given) in [
        ("--market-intensity", &a.site.market_intensity),
        ("--cfe", &a.site.cfe),
    ] {
        let conf = match flag {
            "--market-intensity" => &cfg.site.market_intensity,
            _ => &cfg.site.cfe,
        };
        if given.is_some() || conf.is_some() {
            anyhow::bail!(
                "{}: the agent exposes location-based carbon only (market-based carbon is not                  a metric yet, docs/metrics.md); remove it",
                settings::name_of(&a.site, &cfg.site, flag)
            );
        }
    }
    // The site, for carbon and water: the central values (a counter cannot carry a range).
    let mut assumptions = Vec::new();
    let site_inputs = settings::site(&a.site, &cfg.site)?;
    let site = wattlens::estimate::site::resolve(cat, &site_inputs, &mut assumptions)?.site;
    let values = SiteValues::draw(&site, &mut Draw::Central { uncertain: 0 }, Hours(0.0));
    // The source names the flag or the config key that gave the intensity (`{intensity}` in
    // the library's text).
    let intensity_source = wattlens::field::render(&site.intensity.source, &|f| {
        settings::name_of(&a.site, &cfg.site, crate::flags::flag(f))
    });
    // An intensity series: its value at each poll's moment, the annual one outside it.
    let series = crate::series::load(
        &a.site,
        crate::series::intensity_from(&a.site, &cfg.site).as_deref(),
    )?
    .map(|l| {
        series::Live::new(
            l,
            a.site.clone(),
            values.intensity,
            intensity_source.clone(),
        )
    });
    // The modelled CPU's rating (used only without RAPL).
    let user_tdp = settings::power("--cpu-tdp", a.cpu_tdp.as_deref())?.map(|r| Watts(r.mid()));
    let cpu = CpuInfo::read(&StdFs, &s.procfs_root);
    let tdp = CpuRating::resolve(cat, user_tdp, None, Some(&cpu))
        .context("the CPU rating")?
        .map(|r| r.watts);
    let inputs = ModelInputs::from_catalog(cat, Policy::Processes, tdp, &mut assumptions)
        .context("the power model's defaults")?;
    if !s.sysfs_root.is_dir() {
        anyhow::bail!(
            "{} {}: not a folder; give the sys root (/sys, or the host's mounted read-only in a \
             container) holding class/powercap and class/hwmon",
            s.sysfs_from,
            s.sysfs_root.display()
        );
    }
    let opts = ProbeOptions {
        sysfs_root: &s.sysfs_root,
        psys: false,
        rocr_visible: None,
        hip_visible: None,
        cuda_visible: None,
    };
    let probe = match std::env::var_os(crate::env::TEST_NVML) {
        // Test only: GPUs from a fixture file instead of the driver.
        Some(f) => {
            let gpus = wattlens::source::nvml_fixture::FileGpu::all(std::path::Path::new(&f))
                .with_context(|| format!("{} (a GPU fixture file)", crate::env::TEST_NVML))?;
            eprintln!(
                "wattlens agent: NVIDIA GPUs from the fixture {} ({}), not the driver",
                std::path::Path::new(&f).display(),
                crate::env::TEST_NVML
            );
            Probe::detect_with(&opts, || Ok(gpus))
        }
        None => Probe::detect(&opts),
    };
    for n in &probe.notes {
        eprintln!("wattlens agent: {n}");
    }
    let names = probe.source_names();
    if !s.cgroup_root.is_dir() {
        anyhow::bail!(
            "{} {}: not a folder; give the cgroup (v2) root (/sys/fs/cgroup, or the host's \
             mounted read-only in a container)",
            s.cgroup_from,
            s.cgroup_root.display()
        );
    }
    // Machine-wide CPU time and memory split the CPU's energy between workloads and idle (and
    // model it without RAPL): without them every interval would look idle (a hostile test found
    // a missing `meminfo` charged a busy core as the idle point of the curve, exit 0).
    if let Err(e) = wattlens::source::procfs::machine(&StdFs, &s.procfs_root) {
        anyhow::bail!(
            "{} {}: cannot read the machine's CPU time and memory ({e}); give the proc root \
             (/proc, or the host's mounted read-only in a container) holding `stat` and \
             `meminfo`",
            s.procfs_from,
            s.procfs_root.display()
        );
    }
    if !s.listen.ip().is_loopback() && s.token.is_none() {
        eprintln!(
            "wattlens agent: listening on {} without --token-file: whoever reaches the port \
             reads every workload's figures",
            s.listen
        );
    }
    let listener = server::bind(s.listen)?;
    eprintln!(
        "wattlens agent: serving http://{}/metrics every {:?} (sources: {}; workloads under {})",
        s.listen,
        s.resolution,
        if names.is_empty() {
            "none, CPU modelled".to_string()
        } else {
            names.join(", ")
        },
        s.cgroup_root.display()
    );
    let published = Arc::new(Mutex::new(Published::default()));
    // Per-process reads only for the GPU sources; memory only for a modelled DRAM (no RAPL).
    let mut discovery = Discovery::new(&s.cgroup_root, &s.procfs_root);
    discovery.want_pids = names.iter().any(|n| *n != "rapl");
    discovery.want_memory = !names.contains(&"rapl");
    // Pods' namespaces and names: a label file named but unusable is refused now (exit 2);
    // later it is only reported.
    let pods = PodNames::new(Some(&s.pod_logs_root), s.pod_labels.as_deref())
        .map_err(|e| {
            anyhow::anyhow!("--pod-labels: {e}; fix or remove the file, or leave out the flag")
        })?
        .with_container_logs(&s.container_logs_root);
    discovery.keep_open(open_file_budget());
    let node = NodeAgent::new(
        inputs,
        Limits {
            max_workloads: s.max_workloads,
            retain_s: s.retain_s,
        },
        Some(values),
    )
    .with_pod_names(pods);
    let mut sampler = Sampler {
        node,
        sources: probe.sources,
        discovery,
        procfs_root: s.procfs_root.clone(),
        interval: s.interval,
        resolution: s.resolution,
        intensity_source,
        series,
        published: Arc::clone(&published),
    };
    // The first publication before the first scrape can come.
    let start = Instant::now();
    started_unix_s();
    sampler.poll(start);
    sampler.publish();
    std::thread::Builder::new()
        .name("wattlens-sampler".into())
        .spawn(move || sampler.run(start))
        .context("cannot start the sampler thread")?;
    let (max_connections, lowered) = conns::limit(s.max_connections);
    if let Some(n) = lowered {
        eprintln!(
            "wattlens agent: at most {max_connections} HTTP connections at once (half the \
             open-file limit of {n}; raise it with LimitNOFILE or ulimit -n for more)"
        );
    }
    server::serve(listener, published, s.token, max_connections)?;
    Ok(ExitStatus::Success)
}

/// The sampling side.
struct Sampler {
    node: NodeAgent,
    sources: Vec<Box<dyn Source>>,
    discovery: Discovery,
    procfs_root: std::path::PathBuf,
    interval: Duration,
    resolution: Duration,
    intensity_source: String,
    series: Option<series::Live>,
    published: Arc<Mutex<Published>>,
}

impl Sampler {
    fn run(mut self, start: Instant) {
        let mut n: u32 = 0;
        let mut last_publish = Instant::now();
        loop {
            n = n.saturating_add(1);
            // On a monotonic clock, without drift.
            let next = start + self.interval * n;
            if let Some(wait) = next.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            self.poll(start);
            if last_publish.elapsed() + Duration::from_millis(5) >= self.resolution {
                last_publish = Instant::now();
                self.publish();
            }
        }
    }

    fn poll(&mut self, start: Instant) {
        let t = start.elapsed().as_secs_f64();
        if let Some(live) = &mut self.series {
            let (g, source) = live.now();
            self.node.set_intensity(g);
            self.intensity_source = source;
        }
        let found = self.discovery.walk();
        let pids: Vec<u32> = found
            .seen
            .iter()
            .flat_map(|s| s.pids.iter().copied())
            .collect();
        let ctx = PollContext { pids: &pids };
        let mut readings = Vec::new();
        let mut keep = Vec::with_capacity(self.sources.len());
        for mut src in self.sources.drain(..) {
            match src.poll(t, &ctx, &mut readings) {
                Ok(()) | Err(PollError::Retry(_)) => keep.push(src),
                Err(e) => eprintln!("wattlens agent: {}: {e}; no longer polled", src.name()),
            }
        }
        self.sources = keep;
        let on_gpus: std::collections::HashMap<String, wattlens::source::gpu_use::GpuUse> = self
            .sources
            .iter()
            .flat_map(|s| s.device_use())
            .map(|(d, u)| (d.to_string(), u))
            .collect();
        let machine = wattlens::source::procfs::machine(&StdFs, &self.procfs_root).ok();
        let before = self.node.lost().notes.len();
        let lost_before = self.node.lost().notes.last().cloned();
        self.node.tick_use(t, &readings, machine, found, &on_gpus);
        // Say each new note once on stderr.
        let notes = &self.node.lost().notes;
        if notes.last() != lost_before.as_ref() || notes.len() != before {
            if let Some(n) = notes.last() {
                eprintln!("wattlens agent: {n}");
            }
        }
    }

    fn publish(&self) {
        let frozen = metrics::Frozen::of(&self.node);
        let health = health_text(&self.node);
        if let Ok(mut p) = self.published.lock() {
            p.frozen = Some(frozen);
            p.snapshot = None;
            p.intensity_source.clone_from(&self.intensity_source);
            p.bodies.clear();
            p.health = Bytes::from(health);
            p.refresh_s = self.resolution.as_secs().clamp(2, 60);
            p.at = Some((
                Instant::now(),
                publication_period(self.interval, self.resolution),
            ));
        }
    }
}

/// How many workloads' `cpu.stat` the sampler keeps open: the open-file limit raised to its
/// hard maximum (as Go does for node_exporter), less 1,024 for the server's sockets and the
/// sources; 0 (each file opened at each read) when the limit leaves no room.
fn open_file_budget() -> usize {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let l = getrlimit(Resource::Nofile);
    let hard = l.maximum.unwrap_or(1 << 20);
    let mut soft = l.current.unwrap_or(hard);
    if soft < hard
        && setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(hard),
                maximum: l.maximum,
            },
        )
        .is_ok()
    {
        soft = hard;
    }
    usize::try_from(soft)
        .unwrap_or(usize::MAX)
        .saturating_sub(1024)
}

/// The time between two publications: the first poll at least the resolution (less 5 ms) after
/// the last publication publishes (see [`Sampler::run`]): 1 s at a 200 ms interval, 1.2 s at
/// 300 ms, the interval past 1 s.
fn publication_period(interval: Duration, resolution: Duration) -> Duration {
    let (res, every) = (
        resolution.as_secs_f64() - 0.005,
        interval.as_secs_f64().max(1e-3),
    );
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let polls = (res / every).ceil().clamp(1.0, 1e6) as u32;
    interval * polls
}

/// `text` gzip-compressed (fast level: at most once a publication).
fn gzip(text: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = e.write_all(text);
    e.finish().unwrap_or_default()
}

/// The `/healthz` body: ok, and what was lost.
fn health_text(a: &NodeAgent) -> String {
    let l = a.lost();
    let mut s = format!(
        "ok\npolls {}\nworkloads {}\nread_failures {}\ndropped_devices {}\ncounter_resets {}\n\
         vanished_cgroups {}\n",
        a.polls(),
        a.workloads().len(),
        l.read_failures.values().sum::<u64>(),
        l.dropped.len(),
        l.resets.values().sum::<u64>(),
        l.vanished_cgroups
    );
    for n in &l.notes {
        s.push_str("note: ");
        s.push_str(n);
        s.push('\n');
    }
    s
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// When this process started (the first call), Unix s.
fn started_unix_s() -> f64 {
    static START: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *START.get_or_init(unix_now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_encoded_once_per_publication_and_healthz_says_stale() {
        let node = NodeAgent::new(
            ModelInputs {
                policy: Policy::Processes,
                cpu_tdp: None,
                cpu_w_per_thread: 3.5,
                dram_w_per_gb: 0.375,
            },
            Limits::default(),
            None,
        );
        let mut p = Published {
            frozen: Some(metrics::Frozen::of(&node)),
            ..Published::default()
        };
        let text = p.body(Body::Text);
        assert!(std::str::from_utf8(&text)
            .expect("utf8")
            .contains("wattlens_build_info{version="));
        // Only the format asked for is encoded.
        assert!(!p.bodies.contains_key("om"));
        // The same bytes (not re-encoded) until the next publication.
        assert_eq!(p.body(Body::Text).as_ptr(), text.as_ptr());
        assert!(p.body(Body::OpenMetrics).ends_with(b"# EOF\n"));
        assert!(!p.stale());
        p.at = Instant::now()
            .checked_sub(Duration::from_secs(10))
            .map(|t| (t, Duration::from_secs(1)));
        assert!(p.stale());
    }

    #[test]
    fn healthz_is_503_after_5_missed_publications_in_a_row_not_4() {
        let ms = Duration::from_millis;
        let mut p = Published::default();
        // Never published yet (starting): not stale.
        assert!(!p.stale());
        let since = |p: &mut Published, ago: Duration, every: Duration| {
            p.at = Instant::now().checked_sub(ago).map(|t| (t, every));
        };
        let s = Duration::from_secs(1);
        // 4 missed (4.5 periods: the 5th is due in half a period) -> still healthy.
        since(&mut p, ms(4500), s);
        assert!(!p.stale());
        // The 5th due but less than a quarter of a period late -> still healthy.
        since(&mut p, ms(5200), s);
        assert!(!p.stale());
        // 5 missed in a row -> 503.
        since(&mut p, ms(5300), s);
        assert!(p.stale());
        // In periods, not seconds: at a 10 s interval 4 missed is 45 s (the old rule, 3
        // periods + 2 s, said stale after 32 s: 3 missed).
        since(&mut p, ms(45_000), Duration::from_secs(10));
        assert!(!p.stale());
        since(&mut p, ms(55_000), Duration::from_secs(10));
        assert!(p.stale());
        assert_eq!(missed(ms(1300), s), 1);
        assert_eq!(missed(ms(1200), s), 0);
        // The publication period follows the polls: at 200 ms, 1 s; at 300 ms, 4 polls; past
        // 1 s, each poll.
        assert_eq!(publication_period(ms(200), s), s);
        assert_eq!(publication_period(ms(300), s), ms(1200));
        assert_eq!(publication_period(ms(2000), ms(2000)), ms(2000));
        assert_eq!(publication_period(s, s), s);
    }
}
