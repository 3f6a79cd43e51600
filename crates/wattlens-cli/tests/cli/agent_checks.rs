//! `wattlens agent` on fake nodes, beyond issue 11's first check: conservation over
//! `/metrics`, faults (a vanishing sysfs file, a counter reset, a removed cgroup, a kill and
//! restart), the bearer token, bad input, `config init`, and the labels of Slurm and Kubernetes
//! workloads. Helpers: `agent.rs`.

use super::agent::{drive, free_port, http, sample, wait_for, FakeNode, PKG, RAPL};
use std::process::Command;
use std::time::Duration;

fn workload_cpu(m: &str, w: &str) -> f64 {
    sample(
        m,
        "wattlens_workload_energy_joules_total",
        &[&format!("workload=\"{w}\""), "component=\"cpu\""],
    )
    .unwrap_or(0.0)
}

#[test]
fn workloads_plus_idle_equal_the_node_and_faults_are_survived_and_said() {
    let mut node = FakeNode::new(&["a.service", "b.service"]);
    let port = free_port();
    let agent = node.agent(port, &["--interval", "200ms"]);
    let mut cpu = [0_u64; 2];
    drive(&mut node, &mut cpu, 40, 100_000);
    std::thread::sleep(Duration::from_millis(1500));
    let m = agent.metrics();
    let total = sample(&m, PKG, &[RAPL]).expect("node");
    // 40 steps x 0.1 J.
    assert!((total - 4.0).abs() < 1e-9, "{total}");
    let (a, b) = (workload_cpu(&m, "a.service"), workload_cpu(&m, "b.service"));
    let idle = sample(
        &m,
        "wattlens_idle_energy_joules_total",
        &["component=\"cpu\""],
    )
    .expect("idle");
    // Conservation: a + b + idle = node, to rounding.
    assert!(
        (a + b + idle - total).abs() < 1e-9,
        "{a} + {b} + {idle} vs {total}"
    );
    // a used three times b's CPU time.
    assert!(a > 2.5 * b && a < 3.5 * b, "{a} vs {b}");
    assert!(m.contains("method=\"measured\""));
    assert!(sample(
        &m,
        "wattlens_workload_carbon_grams_total",
        &["workload=\"a.service\""]
    )
    .is_some_and(|g| g > 0.0));

    // A sysfs file that vanishes for two polls: the agent keeps serving, says so, and counts
    // the energy that moved meanwhile at the next reading (nothing lost).
    let before = sample(&agent.metrics(), PKG, &[RAPL]).expect("node");
    std::fs::remove_file(node.energy_file()).expect("rm");
    std::thread::sleep(Duration::from_millis(450));
    assert_eq!(agent.get("/healthz").0, 200);
    node.uj += 700_000;
    node.write_rapl();
    let after = wait_for(10, || {
        sample(&agent.metrics(), PKG, &[RAPL]).filter(|v| *v > before)
    });
    assert!((after - before - 0.7).abs() < 1e-9, "{before} -> {after}");
    let m = agent.metrics();
    assert!(
        sample(&m, "wattlens_read_failures_total", &[RAPL]).is_some_and(|n| n >= 1.0),
        "{m}"
    );
    assert!(agent.get("/healthz").1.contains("a read failed"));

    // A counter that resets (a driver reload): counted from the reset, and said.
    node.uj = 300;
    node.write_rapl();
    let reset = wait_for(10, || {
        sample(&agent.metrics(), "wattlens_counter_resets_total", &[RAPL])
    });
    assert_eq!(reset, 1.0);

    // A cgroup removed between two reads: the workload is gone, the agent goes on.
    std::fs::remove_dir_all(node.cgroups().join("b.service")).expect("rm");
    wait_for(10, || {
        let m = agent.metrics();
        (sample(&m, "wattlens_workloads", &["state=\"gone\""]) == Some(1.0)).then_some(())
    });
    assert_eq!(agent.get("/healthz").0, 200);

    // Killed and restarted on the same port: counters restart from zero (Prometheus handles
    // the reset) and the start time changes.
    let start = sample(&agent.metrics(), "wattlens_agent_start_time_seconds", &[]).expect("t");
    let err = agent.kill();
    assert!(err.contains("serving http://127.0.0.1"), "{err}");
    std::thread::sleep(Duration::from_millis(1100));
    let again = node.agent(port, &["--interval", "200ms"]);
    let m = again.metrics();
    assert_eq!(sample(&m, PKG, &[RAPL]), Some(0.0));
    assert!(sample(&m, "wattlens_agent_start_time_seconds", &[]).expect("t") > start);
}

#[test]
fn a_token_guards_metrics_and_the_page_but_not_healthz() {
    let node = FakeNode::new(&[]);
    let dir = tempfile::tempdir().expect("tmp");
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret\n").expect("w");
    let port = free_port();
    let agent = node.agent(port, &["--token-file", token.to_str().expect("utf8")]);
    assert_eq!(agent.get("/metrics").0, 401);
    assert_eq!(agent.get("/").0, 401);
    assert_eq!(agent.get("/healthz").0, 200);
    let (status, body) = http(port, "/metrics", &[("Authorization", "Bearer s3cret")]).expect("a");
    assert_eq!(status, 200);
    assert!(body.contains("wattlens_node_energy_joules_total"));
    // The scheme is case-insensitive (RFC 9110); a hostile test got 401 for `bearer`.
    assert_eq!(
        http(port, "/metrics", &[("Authorization", "bearer s3cret")])
            .expect("a")
            .0,
        200
    );
    assert_eq!(
        http(port, "/metrics", &[("Authorization", "Basic s3cret")])
            .expect("a")
            .0,
        401
    );
    assert_eq!(
        http(port, "/metrics", &[("Authorization", "Bearer wrong")])
            .expect("a")
            .0,
        401
    );
}

#[test]
fn bad_agent_input_is_refused_with_the_flag_named_and_exit_2() {
    let node = FakeNode::new(&[]);
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_wattlens"))
            .env_remove("WATTLENS_CONFIG")
            .arg("agent")
            .arg("--sysfs-root")
            .arg(node.sys())
            .args(args)
            .output()
            .expect("runs")
    };
    for (args, needle) in [
        (&["--listen", "localhost"][..], "--listen"),
        (
            &["--listen", "no-such-host.invalid:9877"][..],
            "does not resolve",
        ),
        (&["--interval", "0s"][..], "--interval"),
        (&["--token-file", "/nonexistent/token"][..], "--token-file"),
        (
            &["--cgroup-root", "/nonexistent/cgroup"][..],
            "--cgroup-root",
        ),
        (&["--series", "/nonexistent.csv"][..], "--series"),
        (&["--grid", "NOWHERE"][..], "NOWHERE"),
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    // A proc root without `stat`/`meminfo` (a hostile test: it ran on, charging a busy core as
    // idle, exit 0).
    let empty = tempfile::tempdir().expect("tempdir");
    let cg = node.cgroups();
    let o = run(&[
        "--procfs-root",
        empty.path().to_str().expect("utf8"),
        "--cgroup-root",
        cg.to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--procfs-root") && err.contains("meminfo"),
        "{err}"
    );
    // A port in use.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = busy.local_addr().expect("addr").to_string();
    let cg = node.cgroups();
    let o = run(&[
        "--listen",
        &addr,
        "--cgroup-root",
        cg.to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot listen"));
}

#[test]
fn config_init_prints_a_default_that_the_agent_accepts() {
    let o = Command::new(env!("CARGO_BIN_EXE_wattlens"))
        .args(["config", "init"])
        .output()
        .expect("runs");
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(text.contains("[agent]") && text.contains("[site]"));
    assert!(text.contains("PLATYPUS"));
    // The file as printed is a valid config (every line a comment or a table).
    let dir = tempfile::tempdir().expect("tmp");
    let f = dir.path().join("wattlens.toml");
    std::fs::write(
        &f,
        text.replace("# resolution = \"1s\"", "resolution = \"0.5s\""),
    )
    .expect("w");
    let o = Command::new(env!("CARGO_BIN_EXE_wattlens"))
        .arg("--config")
        .arg(&f)
        .args(["agent", "--sysfs-root", "/nonexistent"])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("[agent] resolution") && err.contains("PLATYPUS"),
        "{err}"
    );
}

#[test]
fn slurm_and_kubernetes_labels_come_from_the_cgroup_path() {
    let step = "system.slice/slurmstepd.scope/job_4242/step_0/user/task_0";
    let pod = "kubepods.slice/kubepods-burstable.slice/\
               kubepods-burstable-pod1b2c3d4e_5f60_7182_93a4_b5c6d7e8f901.slice/\
               cri-containerd-0123456789abcdef.scope";
    let node = FakeNode::new(&[step, pod]);
    std::fs::create_dir_all(node.proc().join("77")).expect("mkdir");
    // A command line with a secret in it: only `comm` (the name) may reach a label.
    std::fs::write(node.proc().join("77/comm"), "python3\n").expect("w");
    std::fs::write(
        node.proc().join("77/cmdline"),
        "python3\0train.py\0--token=s3cret\0",
    )
    .expect("w");
    std::fs::write(node.cgroups().join(step).join("cgroup.procs"), "77\n").expect("w");
    let agent = node.agent(free_port(), &["--interval", "200ms"]);
    let m = agent.metrics();
    let line = |needle: &str| {
        m.lines()
            .find(|l| l.starts_with("wattlens_workload_power_watts{") && l.contains(needle))
            .unwrap_or_else(|| panic!("no workload with {needle}: {m}"))
            .to_string()
    };
    let s = line("slurm_job=\"4242\"");
    assert!(
        s.contains("slurm_step=\"0\"") && s.contains("kind=\"slurm_step\""),
        "{s}"
    );
    assert!(s.contains("command=\"python3\""), "{s}");
    let p = line("pod_uid=\"1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901\"");
    assert!(p.contains("qos=\"Burstable\"") && p.contains("container=\"0123456789abcdef\""));
    assert!(!m.contains("s3cret") && !m.contains("train.py"));
}

#[test]
fn an_intensity_series_gives_the_intensity_of_the_moment_and_the_annual_one_outside_it() {
    // 500 g/kWh from two hours ago to two hours ahead: carbon = energy x PUE x 500 g/kWh.
    let dir = tempfile::tempdir().expect("tmp");
    let now = jiff::Timestamp::now();
    let at = |h: i64| {
        now.checked_add(jiff::SignedDuration::from_hours(h))
            .expect("time")
            .round(jiff::Unit::Hour)
            .expect("round")
    };
    let f = dir.path().join("now.csv");
    let rows: String = (-2..=2).map(|h| format!("{},500\n", at(h))).collect();
    std::fs::write(&f, format!("timestamp,g_per_kwh\n{rows}")).expect("w");
    let mut node = FakeNode::new(&[]);
    let agent = node.agent(
        free_port(),
        &["--interval", "200ms", "--series", f.to_str().expect("utf8")],
    );
    // 360 J = 0.1 Wh in one 200 ms poll: 1,800 W, under a package's 2,000 W x (0.2 + 0.25) s
    // = 900 J (3,600 J, 18 kW, would be an implausible reading, not counted).
    node.uj += 360_000_000;
    node.write_rapl();
    let m = wait_for(10, || {
        let m = agent.metrics();
        sample(&m, "wattlens_node_carbon_grams_total", &[])
            .filter(|g| *g > 0.0)
            .map(|_| m)
    });
    let g = sample(&m, "wattlens_grid_intensity_grams_per_joule", &["now.csv"]).expect("gauge");
    assert!((g * 3.6e6 - 500.0).abs() < 1e-9, "{g}");
    let pue = sample(&m, "wattlens_site_pue", &[]).expect("pue");
    let e = sample(&m, PKG, &[RAPL]).expect("energy");
    let c = sample(&m, "wattlens_node_carbon_grams_total", &[]).expect("carbon");
    // 0.1 Wh x PUE x 0.5 g/Wh.
    assert!((e - 360.0).abs() < 1e-9);
    assert!((c - 0.05 * pue).abs() < 1e-9, "{c} vs {pue}");
    drop(agent);
    // A series of the past: the annual intensity of --grid FR is used, and said.
    let old = dir.path().join("old.csv");
    std::fs::write(
        &old,
        "timestamp,g_per_kwh\n2024-03-04T00:00:00Z,100\n2024-03-04T01:00:00Z,100\n",
    )
    .expect("w");
    let agent = node.agent(free_port(), &["--series", old.to_str().expect("utf8")]);
    let m = agent.metrics();
    let g = sample(&m, "wattlens_grid_intensity_grams_per_joule", &[]).expect("gauge");
    assert!(!m.contains("old.csv"), "{m}");
    assert!(g > 0.0 && (g * 3.6e6 - 100.0).abs() > 1.0, "{g}");
    let err = agent.kill();
    assert!(err.contains("has no value at"), "{err}");
}

#[test]
fn localhost_is_a_listen_address_and_own_cpu_and_unknown_commands_are_exposed_right() {
    let mut node = FakeNode::new(&["a.service", "b.service"]);
    std::fs::create_dir_all(node.proc().join("41")).expect("mkdir");
    std::fs::write(node.proc().join("41/comm"), "nginx\n").expect("w");
    std::fs::write(node.cgroups().join("a.service/cgroup.procs"), "41\n").expect("w");
    let port = free_port();
    // Refused before (`localhost:PORT` is not an IP address); a host name resolving to
    // loopback is what an operator writes.
    let agent = node.agent(
        port,
        &[
            "--interval",
            "200ms",
            "--listen",
            &format!("localhost:{port}"),
        ],
    );
    let mut cpu = [0_u64; 2];
    drive(&mut node, &mut cpu, 5, 100_000);
    let m = wait_for(10, || {
        let m = agent.metrics();
        // The agent's own CPU time, from the real process under a fake --procfs-root (it read
        // 0 s for a small node's first seconds: 10 ms ticks).
        sample(&m, "wattlens_agent_cpu_seconds_total", &[])
            .filter(|s| *s > 0.0)
            .map(|_| m)
    });
    assert!(sample(&m, "wattlens_agent_resident_memory_bytes", &[]).is_some_and(|b| b > 1e6));
    // A workload without a process has no `command` label (absent, as docs/metrics.md says of
    // labels that do not apply), never `command=""`; one with a process has its name.
    assert!(!m.contains("command=\"\""), "{m}");
    let line = |w: &str| {
        m.lines()
            .find(|l| {
                l.starts_with("wattlens_workload_power_watts{")
                    && l.contains(&format!("workload=\"{w}\""))
            })
            .unwrap_or_else(|| panic!("no {w}: {m}"))
            .to_string()
    };
    assert!(line("a.service").contains("command=\"nginx\""));
    assert!(!line("b.service").contains("command="));
}
