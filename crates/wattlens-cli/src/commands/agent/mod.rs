//! `wattlens agent`: one node's energy, carbon and water per workload, served as Prometheus
//! metrics. A sampler thread polls the node's sources (RAPL, NVML, hwmon, procfs; a modelled
//! CPU without RAPL) and walks its cgroup tree every interval into a
//! [`wattlens::agent::NodeAgent`] (the library splits each interval with conservation); every
//! publication period (at least 1 s: the PLATYPUS side channel) it encodes the figures once
//! ([`metrics`]); the HTTP server ([`server`]) hands scrapers those bytes.

pub mod config;
mod metrics;
mod page;
mod server;

use crate::cli::AgentArgs;
use crate::settings::{self, Config};
use crate::ExitStatus;
use anyhow::{Context, Result};
use hyper::body::Bytes;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use wattlens::agent::{Discovery, Limits, NodeAgent};
use wattlens::catalog::Catalog;
use wattlens::footprint::SiteValues;
use wattlens::measure::{CpuInfo, CpuRating, ModelInputs, Policy, Probe, ProbeOptions};
use wattlens::source::{PollContext, PollError, Source, StdFs};
use wattlens::uncertainty::Draw;
use wattlens::units::{Hours, Watts};

/// What the server hands out, replaced at each publication.
#[derive(Debug, Default)]
pub struct Published {
    /// OpenMetrics text.
    pub openmetrics: Bytes,
    /// Classic Prometheus text (0.0.4).
    pub text: Bytes,
    /// The same two, gzip-compressed (`Content-Encoding: gzip`).
    pub openmetrics_gz: Bytes,
    /// See above.
    pub text_gz: Bytes,
    /// The `/` page.
    pub page: Bytes,
    /// The `/healthz` body.
    pub health: Bytes,
}

/// Runs `wattlens agent` (it serves until stopped).
pub fn run(a: &AgentArgs, cat: &Catalog, cfg: &Config) -> Result<ExitStatus> {
    let s = config::resolve(a, cfg.agent.as_ref())?;
    // The site, for carbon and water: the central values (a counter cannot carry a range).
    let mut assumptions = Vec::new();
    let site_inputs = settings::site(&a.site, &cfg.site)?;
    let site = wattlens::estimate::site::resolve(cat, &site_inputs, &mut assumptions)?.site;
    let values = SiteValues::draw(&site, &mut Draw::Central { uncertain: 0 }, Hours(0.0));
    let intensity_source = site.intensity.source.clone();
    // The modelled CPU's rating (used only without RAPL).
    let user_tdp = settings::power("--cpu-tdp", a.cpu_tdp.as_deref())?.map(|r| Watts(r.mid()));
    let cpu = CpuInfo::read(&StdFs, &s.procfs_root);
    let tdp = CpuRating::resolve(cat, user_tdp, None, Some(&cpu))
        .context("the CPU rating")?
        .map(|r| r.watts);
    let inputs = ModelInputs::from_catalog(cat, Policy::Processes, tdp, &mut assumptions)
        .context("the power model's defaults")?;
    let probe = Probe::detect(&ProbeOptions {
        sysfs_root: &s.sysfs_root,
        psys: false,
        rocr_visible: None,
        hip_visible: None,
        cuda_visible: None,
    });
    for n in &probe.notes {
        eprintln!("wattlens agent: {n}");
    }
    let names = probe.source_names();
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
    let published = Arc::new(RwLock::new(Published::default()));
    let node = NodeAgent::new(
        inputs,
        Limits {
            max_workloads: s.max_workloads,
            retain_s: s.retain_s,
        },
        Some(values),
    );
    let mut sampler = Sampler {
        node,
        sources: probe.sources,
        discovery: Discovery::new(&s.cgroup_root, &s.procfs_root),
        procfs_root: s.procfs_root.clone(),
        interval: s.interval,
        resolution: s.resolution,
        intensity_source,
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
    server::serve(listener, published, s.token)?;
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
    published: Arc<RwLock<Published>>,
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
        let machine = wattlens::source::procfs::machine(&StdFs, &self.procfs_root).ok();
        let before = self.node.lost().notes.len();
        let lost_before = self.node.lost().notes.last().cloned();
        self.node.tick(t, &readings, machine, found);
        // Say each new note once on stderr.
        let notes = &self.node.lost().notes;
        if notes.last() != lost_before.as_ref() || notes.len() != before {
            if let Some(n) = notes.last() {
                eprintln!("wattlens agent: {n}");
            }
        }
    }

    fn publish(&self) {
        let snap = metrics::snapshot(&self.node, started_unix_s(), &self.intensity_source);
        let health = health_text(&self.node);
        let Ok((enc, snap)) = metrics::encode(snap) else {
            return;
        };
        let refresh = self.resolution.as_secs().clamp(2, 60);
        let page = page::render(&snap, refresh);
        let (om_gz, text_gz) = (gzip(&enc.openmetrics), gzip(&enc.text));
        if let Ok(mut p) = self.published.write() {
            p.openmetrics = Bytes::from(enc.openmetrics);
            p.text = Bytes::from(enc.text);
            p.openmetrics_gz = Bytes::from(om_gz);
            p.text_gz = Bytes::from(text_gz);
            p.page = Bytes::from(page);
            p.health = Bytes::from(health);
        }
    }
}

/// `text` gzip-compressed (fast level: it is done once a publication).
fn gzip(text: &str) -> Vec<u8> {
    use std::io::Write as _;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = e.write_all(text.as_bytes());
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
