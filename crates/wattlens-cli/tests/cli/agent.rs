//! `wattlens agent` on fake nodes: a fake sysfs (RAPL), procfs and cgroup tree in a temporary
//! folder that the test moves, an agent on a loopback port (killed when the test ends), and its
//! `/metrics`, `/healthz` and `/` read over plain HTTP. Issue 11.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A fake node: one RAPL package counter, one CPU, and cgroups whose CPU time the test moves.
pub(crate) struct FakeNode {
    pub dir: tempfile::TempDir,
    /// RAPL counter, uJ.
    pub uj: u64,
    /// Machine busy time, ticks (USER_HZ = 100).
    pub busy_ticks: u64,
}

impl FakeNode {
    pub fn new(workloads: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let zone = dir.path().join("sys/class/powercap/intel-rapl:0");
        std::fs::create_dir_all(&zone).expect("mkdir");
        std::fs::write(zone.join("name"), "package-0\n").expect("w");
        std::fs::write(zone.join("max_energy_range_uj"), "262143328850\n").expect("w");
        std::fs::create_dir_all(dir.path().join("proc")).expect("mkdir");
        std::fs::write(dir.path().join("proc/meminfo"), "MemTotal: 8000000 kB\n").expect("w");
        std::fs::write(dir.path().join("proc/cpuinfo"), "processor : 0\n").expect("w");
        let n = Self {
            dir,
            uj: 1_000_000,
            busy_ticks: 0,
        };
        std::fs::create_dir_all(n.cgroups()).expect("mkdir");
        for w in workloads {
            std::fs::create_dir_all(n.cgroups().join(w)).expect("mkdir");
            n.set_cpu(w, 0);
        }
        n.write_rapl();
        n.write_stat();
        n
    }

    pub fn sys(&self) -> PathBuf {
        self.dir.path().join("sys")
    }
    pub fn proc(&self) -> PathBuf {
        self.dir.path().join("proc")
    }
    pub fn cgroups(&self) -> PathBuf {
        self.dir.path().join("cgroup")
    }
    pub fn energy_file(&self) -> PathBuf {
        self.sys().join("class/powercap/intel-rapl:0/energy_uj")
    }

    pub fn write_rapl(&self) {
        write_atomic(&self.energy_file(), &format!("{}\n", self.uj));
    }

    /// One CPU, busy all the time the test says (`busy = total`: utilisation 1).
    pub fn write_stat(&self) {
        let b = self.busy_ticks;
        write_atomic(
            &self.proc().join("stat"),
            &format!("cpu  {b} 0 0 0 0 0 0 0 0 0\ncpu0 {b} 0 0 0 0 0 0 0 0 0\n"),
        );
    }

    pub fn set_cpu(&self, workload: &str, usage_usec: u64) {
        write_atomic(
            &self.cgroups().join(workload).join("cpu.stat"),
            &format!("usage_usec {usage_usec}\nuser_usec 0\nsystem_usec 0\n"),
        );
    }

    /// The agent's command on this node.
    pub fn agent(&self, port: u16, extra: &[&str]) -> AgentProcess {
        let mut c = Command::new(env!("CARGO_BIN_EXE_wattlens"));
        c.env_remove("WATTLENS_CATALOG")
            .env_remove("WATTLENS_CONFIG")
            .env_remove("WATTLENS_SYSFS_ROOT")
            .env_remove("WATTLENS_PROCFS_ROOT")
            .env("CUDA_VISIBLE_DEVICES", "")
            .arg("agent")
            .arg("--sysfs-root")
            .arg(self.sys())
            .arg("--procfs-root")
            .arg(self.proc())
            .arg("--cgroup-root")
            .arg(self.cgroups())
            .args(["--listen", &format!("127.0.0.1:{port}"), "--grid", "FR"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        AgentProcess::start(c, port)
    }
}

/// Writes a file through a rename, so that a reader never sees it half written.
pub(crate) fn write_atomic(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp-write");
    std::fs::write(&tmp, text).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
}

/// A free loopback port (bound, then released for the agent).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A running agent, killed when dropped.
pub(crate) struct AgentProcess {
    pub child: Child,
    pub port: u16,
}

impl AgentProcess {
    fn start(mut c: Command, port: u16) -> Self {
        let child = c.spawn().expect("starts wattlens agent");
        let mut a = Self { child, port };
        let t0 = Instant::now();
        while http(port, "/healthz", &[]).is_none() {
            if let Ok(Some(status)) = a.child.try_wait() {
                let mut err = String::new();
                if let Some(e) = a.child.stderr.as_mut() {
                    let _ = e.read_to_string(&mut err);
                }
                panic!("the agent exited ({status}): {err}");
            }
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "the agent did not answer"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        a
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        http(self.port, path, &[]).expect("the agent answers")
    }

    pub fn metrics(&self) -> String {
        let (status, body) = self.get("/metrics");
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Kills the agent and returns what it wrote to stderr.
    pub fn kill(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut err = String::new();
        if let Some(e) = self.child.stderr.as_mut() {
            let _ = e.read_to_string(&mut err);
        }
        err
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET path` on a loopback port: status and body; `None` when nothing answers.
pub(crate) fn http(port: u16, path: &str, headers: &[(&str, &str)]) -> Option<(u16, String)> {
    let (status, _, body) = http_bytes(port, path, headers)?;
    Some((status, String::from_utf8_lossy(&body).into_owned()))
}

/// `GET path`: status, head (lower case) and body bytes.
pub(crate) fn http_bytes(
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
) -> Option<(u16, String, Vec<u8>)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let at = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..at]).to_ascii_lowercase();
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, head, buf[at + 4..].to_vec()))
}

/// The value of the first sample of `name` whose labels contain every one of `labels`.
pub(crate) fn sample(metrics: &str, name: &str, labels: &[&str]) -> Option<f64> {
    metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| l.split(['{', ' ']).next() == Some(name) && labels.iter().all(|x| l.contains(x)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// Polls `f` until it gives `Some`, for at most `secs`.
pub(crate) fn wait_for<T>(secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let t0 = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(t0.elapsed() < Duration::from_secs(secs), "timed out");
        std::thread::sleep(Duration::from_millis(100));
    }
}

const PKG: &str = "wattlens_node_energy_joules_total";
const RAPL: &str = "device=\"rapl/package-0\"";

#[test]
fn issue_11_a_rapl_zone_counter_rises_by_exactly_what_the_fake_counter_moves() {
    let mut node = FakeNode::new(&[]);
    let port = free_port();
    let agent = node.agent(port, &["--interval", "200ms"]);
    let (status, body) = agent.get("/healthz");
    assert_eq!(status, 200);
    assert!(body.starts_with("ok"), "{body}");
    // The counter's first publication (0 J: nothing moved yet).
    let v0 = wait_for(10, || {
        sample(&agent.metrics(), PKG, &[RAPL, "method=\"measured\""])
    });
    // Move the fake counter by 2.5 J (2,500,000 uJ) and wait for the agent to count it.
    node.uj += 2_500_000;
    node.write_rapl();
    let v1 = wait_for(10, || {
        sample(&agent.metrics(), PKG, &[RAPL]).filter(|v| *v > v0)
    });
    assert!((v1 - v0 - 2.5).abs() < 1e-9, "{v0} -> {v1}");
    // And it stays there: no energy is invented while the counter does not move.
    std::thread::sleep(Duration::from_millis(1300));
    let v2 = sample(&agent.metrics(), PKG, &[RAPL]).expect("sample");
    assert_eq!(v2, v1);
    // OpenMetrics when asked, with its end marker; the classic format otherwise.
    let (_, om) = http(
        port,
        "/metrics",
        &[("Accept", "application/openmetrics-text; version=1.0.0")],
    )
    .expect("answers");
    assert!(om.trim_end().ends_with("# EOF"), "{om}");
    assert!(!agent.metrics().contains("# EOF"));
    // gzip when asked (as Prometheus asks): the same text, compressed.
    let (status, head, gz) =
        http_bytes(port, "/metrics", &[("Accept-Encoding", "gzip")]).expect("answers");
    assert_eq!(status, 200);
    assert!(head.contains("content-encoding: gzip"), "{head}");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut text)
        .expect("gzip");
    assert!(
        text.contains("wattlens_node_energy_joules_total{"),
        "{text}"
    );
    assert!(agent.metrics().contains("wattlens_build_info{version="));
    let (status, page) = agent.get("/");
    assert_eq!(status, 200);
    assert!(page.contains("http-equiv=\"refresh\"") && !page.contains("<script"));
}

/// Moves a node's counters `steps` times, one step each 20 ms: 40 ms of busy CPU (4 ticks),
/// split 30 ms to `a` and 10 ms to `b`, and `uj_per_step` of RAPL energy. The one fake CPU is
/// kept busier than it could be (2 CPU-s per s), so that the workloads' CPU time fills its
/// capacity in every interval however the agent's polls fall: `a` is charged exactly 3/4 of
/// the node's energy, `b` 1/4, idle nothing.
pub(crate) fn drive(node: &mut FakeNode, cpu: &mut [u64; 2], steps: u32, uj_per_step: u64) {
    for _ in 0..steps {
        cpu[0] += 30_000;
        cpu[1] += 10_000;
        node.set_cpu("a.service", cpu[0]);
        node.set_cpu("b.service", cpu[1]);
        node.busy_ticks += 4;
        node.write_stat();
        node.uj += uj_per_step;
        node.write_rapl();
        std::thread::sleep(Duration::from_millis(20));
    }
}

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
        (&["--interval", "0s"][..], "--interval"),
        (&["--token-file", "/nonexistent/token"][..], "--token-file"),
        (
            &["--cgroup-root", "/nonexistent/cgroup"][..],
            "--cgroup-root",
        ),
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
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
