//! `wattlens agent` against the defects of the fourth hostile test: the pod label file checked
//! before anything is served (its error naming the config key), the port the system picked for
//! `--listen HOST:0`, refusal messages without runs of spaces, `Accept` weights of 0, a changed
//! pod label file replacing names, and GPUs split to idle. Helpers: `agent.rs`,
//! `agent_faults.rs`.

use super::agent::{free_port, http, http_bytes, wait_for, write_atomic, AgentProcess, FakeNode};
use super::agent_faults::{agent_cmd, refused};
use std::io::{BufRead, BufReader};
use std::process::Stdio;

/// Hostile #5: a missing pod label file named by `[agent] pod_labels` was reported as
/// `--pod-labels`, after a "serving" line. Now it is refused before the port is bound (the
/// `refused` helper's port is taken: an agent past the check would fail there instead).
#[test]
fn a_bad_pod_label_file_is_refused_before_serving_and_names_its_config_key() {
    let node = FakeNode::new(&[]);
    let cfg = node.dir.path().join("k12.toml");
    std::fs::write(&cfg, "[agent]\npod_labels = \"/nonexistent/pods.toml\"\n").expect("w");
    let (o, err) = refused(&node, &["--config", cfg.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "[agent] pod_labels in config file {}",
            cfg.display()
        )) && err.contains("/nonexistent/pods.toml"),
        "{err}"
    );
    assert!(
        !err.contains("serving") && !err.contains("cannot listen"),
        "{err}"
    );
    // The flag: named as the flag, also before binding.
    let (o, err) = refused(&node, &["--pod-labels", "/nonexistent/pods.toml"]);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("--pod-labels: "), "{err}");
    assert!(
        !err.contains("serving") && !err.contains("cannot listen"),
        "{err}"
    );
}

/// Hostile #6: `--listen 127.0.0.1:0` said `serving http://127.0.0.1:0/metrics` while bound
/// to a port the system picked. The line now carries that port, and it answers; on it, the
/// `Accept` weights of hostile #9.
#[test]
fn listen_on_port_0_prints_the_port_it_got() {
    let node = FakeNode::new(&["a.service"]);
    let mut child = agent_cmd(
        &node,
        &[
            "--listen",
            "127.0.0.1:0",
            "--grid",
            "FR",
            "--interval",
            "200ms",
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .expect("starts");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let serving = loop {
        match lines.next() {
            Some(Ok(l)) if l.contains("serving http://") => break l,
            Some(Ok(_)) => {}
            other => {
                let _ = child.kill();
                panic!("no serving line: {other:?}");
            }
        }
    };
    // Hostile round 5 #5: the line said "every 1s" for a 200 ms interval (the publication
    // period alone); it names both.
    assert!(
        serving.contains("sampling every 200ms, figures published every 1s"),
        "{serving}"
    );
    let port: u16 = serving
        .split("http://127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{serving}"));
    // The port listens once the first poll is published, just after the line.
    let t0 = std::time::Instant::now();
    let health = loop {
        match http(port, "/healthz", &[]) {
            Some(h) => break Some(h),
            None if t0.elapsed().as_secs() < 20 => {
                std::thread::sleep(std::time::Duration::from_millis(50))
            }
            None => break None,
        }
    };
    // Hostile #9: OpenMetrics was served to a scraper that refused it with q=0.
    let ctype = |accept: &str| {
        http_bytes(port, "/metrics", &[("Accept", accept)]).map(|(status, head, _)| {
            let ctype = head
                .lines()
                .find_map(|l| l.strip_prefix("content-type: "))
                .unwrap_or("")
                .to_string();
            (status, ctype)
        })
    };
    let refused = ctype("text/plain;q=1, application/openmetrics-text;q=0");
    let asked = ctype("application/openmetrics-text;q=0.9, text/plain;q=0.1");
    // Hostile round 6: two Accept headers are one list; only the first was read.
    let two = http_bytes(
        port,
        "/metrics",
        &[
            ("Accept", "text/plain;q=0.1"),
            ("Accept", "application/openmetrics-text"),
        ],
    )
    .map(|(status, head, _)| (status, head.contains("application/openmetrics-text")));
    let _ = child.kill();
    let _ = child.wait();
    assert_ne!(port, 0, "{serving}");
    assert_eq!(health.map(|(s, _)| s), Some(200), "{serving}");
    let (status, refused) = refused.expect("answers");
    assert!(
        status == 200 && refused.starts_with("text/plain"),
        "{refused}"
    );
    let (status, asked) = asked.expect("answers");
    assert!(
        status == 200 && asked.starts_with("application/openmetrics-text"),
        "{asked}"
    );
    assert_eq!(two, Some((200, true)), "two Accept headers");
}

/// Hostile #11: the `--market-intensity` refusal read "is not                  a metric" (a
/// line break inside the literal without `\`).
#[test]
fn the_market_intensity_refusal_has_no_run_of_spaces() {
    let node = FakeNode::new(&[]);
    let (o, err) = refused(&node, &["--market-intensity", "100g/kWh"]);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("market-based carbon is not a metric yet"),
        "{err}"
    );
    assert!(!err.contains("  "), "{err:?}");
}

/// Hostile #8: rewriting the `--pod-labels` file from web/api-7 to web2/api-8 left the first
/// names on the series for good (the docs say the file is read again). The new names now
/// replace them; a file naming one UID twice differently is refused later too (its last good
/// names kept, the error counted).
#[test]
fn a_changed_pod_label_file_renames_the_pods_series() {
    const UID: &str = "0a0b0c0d-0000-1111-2222-333344445555";
    let cg = format!(
        "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{}.slice/\
         cri-containerd-abcdef01234567.scope",
        UID.replace('-', "_")
    );
    let node = FakeNode::new(&[&cg]);
    let labels = node.dir.path().join("pods.toml");
    let names =
        |ns: &str, name: &str| format!("[\"{UID}\"]\nnamespace = \"{ns}\"\nname = \"{name}\"\n");
    std::fs::write(&labels, names("web", "api-7")).expect("w");
    let agent = node.agent(
        free_port(),
        &[
            "--interval",
            "200ms",
            "--pod-labels",
            labels.to_str().expect("utf8"),
        ],
    );
    let line = |m: &str, needle: &str| {
        m.lines()
            .find(|l| l.starts_with("wattlens_workload_power_watts{") && l.contains(needle))
            .map(str::to_string)
    };
    let m = agent.metrics();
    let l = line(&m, UID).expect("the pod");
    assert!(
        l.contains("namespace=\"web\"") && l.contains("pod=\"api-7\""),
        "{l}"
    );
    write_atomic(&labels, &names("web2", "api-8"));
    let l = wait_for(10, || line(&agent.metrics(), "pod=\"api-8\""));
    assert!(l.contains("namespace=\"web2\"") && l.contains(UID), "{l}");
    // One UID twice (`-` and `_` forms), other names: refused, the last good names kept.
    write_atomic(
        &labels,
        &format!(
            "{}{}",
            names("web3", "api-9"),
            names("x", "b").replace(UID, &UID.replace('-', "_"))
        ),
    );
    let m = wait_for(10, || {
        let m = agent.metrics();
        (super::agent::sample(&m, "wattlens_pod_labels_errors_total", &[]) == Some(1.0))
            .then_some(m)
    });
    assert!(line(&m, "pod=\"api-8\"").is_some(), "{m}");
    let err = agent.kill();
    assert!(err.contains("named twice"), "{err}");
}

/// Hostile #13: under `ulimit -n 12` the agent allowed 6 connections (half the limit), which
/// left the sampler no descriptor: under a flood of 100 idle connections 105 reads failed
/// with EMFILE and /healthz timed out 3 times. Now the cap is (12 - 32 reserved) / 2 -> 1, and
/// /healthz answers with no read failure.
#[test]
fn a_tiny_open_file_limit_keeps_descriptors_for_the_sampler_and_healthz() {
    let node = FakeNode::new(&["nginx.service"]);
    let port = free_port();
    let mut c = std::process::Command::new("sh");
    c.arg("-c")
        .arg("ulimit -n 12 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_wattlens"))
        .env_remove("WATTLENS_CATALOG")
        .env_remove("WATTLENS_CONFIG")
        .env("CUDA_VISIBLE_DEVICES", "")
        .arg("agent")
        .arg("--sysfs-root")
        .arg(node.sys())
        .arg("--procfs-root")
        .arg(node.proc())
        .arg("--cgroup-root")
        .arg(node.cgroups())
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--interval",
            "200ms",
        ])
        .args(["--grid", "FR"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let agent = AgentProcess::start(c, port);
    let flood: Vec<std::net::TcpStream> = (0..100)
        .filter_map(|_| {
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
            std::io::Write::write_all(&mut s, b"GET / HTTP/1.1\r\nHost: x\r\n").ok()?;
            Some(s)
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(1000));
    for _ in 0..3 {
        let (status, health) = http(port, "/healthz", &[]).expect("/healthz answers");
        assert_eq!(status, 200, "{health}");
        assert!(health.contains("read_failures 0\n"), "{health}");
    }
    drop(flood);
    let err = agent.kill();
    assert!(err.contains("at most 1 HTTP connection at once"), "{err}");
}
