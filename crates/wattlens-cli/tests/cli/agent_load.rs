//! The agent's load benchmark (issue 11), run by hand, not in the suite:
//! `cargo test --release -p wattlens-cli --test cli agent_load -- --ignored --nocapture`.
//! A fake node with 1,000 workloads; the agent at the 1 s interval; its CPU and memory over
//! 30 s without scrapes, then 30 s scraped once a second; then 200 concurrent scrapers on
//! loopback, 20 scrapes each, and the latency percentiles. Beside it over the same windows, as
//! references: Debian's `prometheus-node-exporter` where it is on PATH (scraped the same way),
//! and with `WATTLENS_BASELINE=/path/to/an/older/wattlens` that binary's agent on the same node
//! (a before/after in the same run). `WATTLENS_CGROUP_ROOT=DIR` reads the workloads from that
//! folder instead of the fake one (a real cgroup v2 tree of 1,000 cgroups made for the run);
//! `WATTLENS_LOAD_WORKLOADS=N` makes N workloads instead of 1,000 (memory at 10,000).

use super::agent::{free_port, http_bytes, AgentProcess, FakeNode};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// CPU seconds (utime + stime) and resident bytes of a process.
fn usage(pid: u32) -> (f64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let f: Vec<&str> = stat
        .rsplit_once(')')
        .expect("comm")
        .1
        .split_whitespace()
        .collect();
    let ticks: f64 = f[11].parse::<f64>().expect("utime") + f[12].parse::<f64>().expect("stime");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .expect("rss")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .expect("kB");
    (ticks / 100.0, kb * 1024.0)
}

/// One measured process: its name, pid and port.
struct Measured {
    name: &'static str,
    pid: u32,
    port: u16,
}

/// Each process's CPU (% of one core) and RSS (MB) over `secs`, scraped once a second (gzip,
/// as Prometheus asks) or not at all.
fn window(ps: &[Measured], secs: u32, scraped: bool) -> Vec<(f64, f64)> {
    let c0: Vec<f64> = ps.iter().map(|p| usage(p.pid).0).collect();
    let t0 = Instant::now();
    let gz = [("Accept-Encoding", "gzip")];
    for i in 1..=secs {
        if scraped {
            for p in ps {
                let _ = http_bytes(p.port, "/metrics", &gz);
            }
        }
        if let Some(wait) =
            (t0 + Duration::from_secs(u64::from(i))).checked_duration_since(Instant::now())
        {
            std::thread::sleep(wait);
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    ps.iter()
        .zip(c0)
        .map(|(p, c0)| {
            let (c1, rss) = usage(p.pid);
            (100.0 * (c1 - c0) / wall, rss / 1e6)
        })
        .collect()
}

#[test]
#[ignore = "a benchmark: run by hand (see the module doc)"]
fn agent_load_1000_workloads_200_scrapers() {
    let n: usize = std::env::var("WATTLENS_LOAD_WORKLOADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let names: Vec<String> = (0..n).map(|i| format!("w{i:04}.service")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let node = FakeNode::new(&refs);
    let cgroups = std::env::var("WATTLENS_CGROUP_ROOT").ok();
    let root: Vec<&str> = cgroups
        .as_deref()
        .map(|r| vec!["--cgroup-root", r])
        .unwrap_or_default();
    let args = [&["--interval", "1s"][..], &root].concat();
    let port = free_port();
    let agent = node.agent(port, &args);
    let mut ps = vec![Measured {
        name: "agent",
        pid: agent.child.id(),
        port,
    }];
    // The baseline binary beside it, on the same node.
    let base: Option<AgentProcess> = std::env::var("WATTLENS_BASELINE").ok().map(|b| {
        let p = free_port();
        node.agent_of(std::path::Path::new(&b), p, &args)
    });
    if let Some(b) = &base {
        ps.push(Measured {
            name: "baseline agent",
            pid: b.child.id(),
            port: b.port,
        });
    }
    // node_exporter beside it, as the reference.
    let ne_port = free_port();
    let mut ne = Command::new("prometheus-node-exporter")
        .arg(format!("--web.listen-address=127.0.0.1:{ne_port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok();
    match &ne {
        Some(c) => ps.push(Measured {
            name: "node_exporter",
            pid: c.id(),
            port: ne_port,
        }),
        None => println!("node_exporter: not on PATH (apt-get install prometheus-node-exporter)"),
    }
    std::thread::sleep(Duration::from_secs(3));
    let quiet = window(&ps, 30, false);
    let scraped = window(&ps, 30, true);
    for ((p, q), s) in ps.iter().zip(&quiet).zip(&scraped) {
        println!(
            "{}, {n} workloads, 1 s interval: not scraped CPU {:.3}% of one core, RSS {:.1} MB; \
             scraped every 1 s CPU {:.3}%, RSS {:.1} MB",
            p.name, q.0, q.1, s.0, s.1
        );
    }
    let body = agent.metrics();
    let gz = http_bytes(port, "/metrics", &[("Accept-Encoding", "gzip")])
        .expect("answers")
        .2;
    println!(
        "/metrics: {} bytes ({} gzip), {} lines",
        body.len(),
        gz.len(),
        body.lines().count()
    );
    // 200 scrapers, 20 scrapes each, all at once.
    let start = std::sync::Arc::new(std::sync::Barrier::new(200));
    let handles: Vec<_> = (0..200)
        .map(|_| {
            let start = std::sync::Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                (0..20)
                    .map(|_| {
                        let t = Instant::now();
                        // As Prometheus asks: OpenMetrics, gzip.
                        let (status, _, _) = http_bytes(
                            port,
                            "/metrics",
                            &[
                                ("Accept", "application/openmetrics-text; version=1.0.0"),
                                ("Accept-Encoding", "gzip"),
                            ],
                        )
                        .expect("answers");
                        assert_eq!(status, 200);
                        t.elapsed().as_secs_f64() * 1000.0
                    })
                    .collect::<Vec<f64>>()
            })
        })
        .collect();
    let mut ms: Vec<f64> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("scraper"))
        .collect();
    ms.sort_by(f64::total_cmp);
    let q = |p: f64| ms[((ms.len() - 1) as f64 * p).round() as usize];
    println!(
        "200 scrapers x 20: {} scrapes, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms.len(),
        q(0.5),
        q(0.99),
        q(1.0)
    );
    if let Some(c) = ne.as_mut() {
        let _ = c.kill();
        let _ = c.wait();
    }
}
