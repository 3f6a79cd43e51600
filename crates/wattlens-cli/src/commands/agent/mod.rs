//! `wattlens agent`: one node's energy, carbon and water per workload, served as Prometheus
//! metrics. This file resolves the settings and starts it all. A sampler thread ([`sampler`])
//! polls the node's sources (RAPL, NVML, hwmon, procfs; a modelled CPU without RAPL) and walks
//! its cgroup tree every interval into a [`wattlens::agent::NodeAgent`] (the library splits
//! each interval with conservation); every publication period (at least 1 s: the PLATYPUS side
//! channel) it takes a snapshot of the figures ([`metrics`]) into [`Published`]; the HTTP
//! server ([`server`]) encodes it on the first scrape that comes and hands every other scraper
//! those bytes.

mod accept;
pub mod config;
mod conns;
mod metrics;
mod page;
mod published;
mod sampler;
mod series;
mod server;

use published::started_unix_s;
pub use published::{Body, Published};
use sampler::{open_file_budget, Sampler};

use crate::cli::AgentArgs;
use crate::settings::{self, Config};
use crate::ExitStatus;
use anyhow::{Context, Result};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use wattlens::agent::{Discovery, Limits, NodeAgent, PodNames};
use wattlens::catalog::Catalog;
use wattlens::footprint::SiteValues;
use wattlens::measure::{CpuInfo, CpuRating, ModelInputs, Policy, Probe, ProbeOptions};
use wattlens::source::StdFs;
use wattlens::uncertainty::Draw;
use wattlens::units::{Hours, Watts};

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
                "{}: the agent exposes location-based carbon only (market-based carbon is not \
                 a metric yet, docs/metrics.md); remove it",
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
    // Pods' namespaces and names: a label file named but unusable is refused now (exit 2),
    // before the port is bound and anything says "serving"; later it is only reported.
    let pods = PodNames::new(Some(&s.pod_logs_root), s.pod_labels.as_deref())
        .map_err(|e| {
            anyhow::anyhow!(
                "{}: {e}; fix or remove the file, or leave out the setting",
                s.pod_labels_from
            )
        })?
        .with_container_logs(&s.container_logs_root);
    if !s.listen.ip().is_loopback() && s.token.is_none() {
        eprintln!(
            "wattlens agent: listening on {} without --token-file: whoever reaches the port \
             reads every workload's figures",
            s.listen
        );
    }
    let listener = server::bind(s.listen)?;
    // The bound address: with port 0 the system picks the port, and the line must say which.
    let bound = listener.local_addr().unwrap_or(s.listen);
    eprintln!(
        "wattlens agent: serving http://{}/metrics, sampling every {:?}, figures published \
         every {:?} (sources: {}; workloads under {})",
        bound,
        s.interval,
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
    let kept = open_file_budget();
    discovery.keep_open(kept);
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
    let (max_connections, lowered) = conns::limit(s.max_connections, kept);
    if let Some(n) = lowered {
        eprintln!(
            "wattlens agent: at most {max_connections} HTTP connection{} at once (half the \
             open-file limit of {n} less {} for the agent's own files and {kept} for the \
             cgroup files it keeps open; raise it with LimitNOFILE or ulimit -n for more)",
            if max_connections == 1 { "" } else { "s" },
            conns::RESERVE
        );
    }
    server::serve(listener, published, s.token, max_connections)?;
    Ok(ExitStatus::Success)
}
