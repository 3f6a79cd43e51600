//! The agent's load benchmark (issue 11), run by hand, not in the suite:
//! `cargo test --release -p wattlens-cli --test cli agent_load -- --ignored --nocapture`.
//! A fake node with 1,000 workloads; the agent at the 1 s interval; its CPU and memory over
//! 30 s without scrapes, then 30 s scraped once a second; then 200 concurrent scrapers on
//! loopback, 20 scrapes each, and the latency percentiles. Where `prometheus-node-exporter` is on PATH, its own CPU and memory are
//! measured beside the agent's over the same 30 s, as the reference.

use super::agent::{free_port, http_bytes, FakeNode};
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

#[test]
#[ignore = "a benchmark: run by hand (see the module doc)"]
fn agent_load_1000_workloads_200_scrapers() {
    let names: Vec<String> = (0..1000).map(|i| format!("w{i:04}.service")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let node = FakeNode::new(&refs);
    let port = free_port();
    let agent = node.agent(port, &["--interval", "1s"]);
    let pid = agent.child.id();
    // node_exporter beside it, as the reference.
    let ne_port = free_port();
    let mut ne = Command::new("prometheus-node-exporter")
        .arg(format!("--web.listen-address=127.0.0.1:{ne_port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok();
    std::thread::sleep(Duration::from_secs(3));
    // Sampling alone: 30 s without a scrape.
    let (a0, _) = usage(pid);
    std::thread::sleep(Duration::from_secs(30));
    let (a1, rss) = usage(pid);
    println!(
        "agent, 1,000 workloads, 1 s interval, not scraped, 30 s: CPU {:.3}% of one core, RSS {:.1} MB",
        100.0 * (a1 - a0) / 30.0,
        rss / 1e6
    );
    let (c0, _) = usage(pid);
    let ne0 = ne.as_ref().map(|c| usage(c.id()).0);
    let t0 = Instant::now();
    // Both scraped once a second, as a Prometheus at a 1 s scrape interval would (gzip).
    let gz = [("Accept-Encoding", "gzip")];
    for i in 1..=30_u32 {
        let _ = http_bytes(port, "/metrics", &gz);
        let _ = http_bytes(ne_port, "/metrics", &gz);
        if let Some(wait) =
            (t0 + Duration::from_secs(u64::from(i))).checked_duration_since(Instant::now())
        {
            std::thread::sleep(wait);
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    let (c1, rss) = usage(pid);
    println!(
        "agent, 1,000 workloads, 1 s interval, scraped every 1 s, {wall:.1} s: CPU {:.3}% of one core, RSS {:.1} MB",
        100.0 * (c1 - c0) / wall,
        rss / 1e6
    );
    if let (Some(c), Some(n0)) = (&ne, ne0) {
        let (n1, nrss) = usage(c.id());
        println!(
            "node_exporter (reference, scraped every 1 s, same {wall:.1} s): CPU {:.3}% of one core, RSS {:.1} MB",
            100.0 * (n1 - n0) / wall,
            nrss / 1e6
        );
    } else {
        println!("node_exporter: not on PATH (apt-get install prometheus-node-exporter)");
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
