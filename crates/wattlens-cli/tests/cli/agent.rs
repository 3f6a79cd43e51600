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
        self.agent_with_env(port, extra, &[])
    }

    /// [`FakeNode::agent`] with these environment variables set for it.
    pub fn agent_with_env(
        &self,
        port: u16,
        extra: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
    ) -> AgentProcess {
        self.agent_of_with_env(Path::new(env!("CARGO_BIN_EXE_wattlens")), port, extra, env)
    }

    /// The agent of another `wattlens` binary on this node (a benchmark's baseline).
    pub fn agent_of(&self, bin: &Path, port: u16, extra: &[&str]) -> AgentProcess {
        self.agent_of_with_env(bin, port, extra, &[])
    }

    /// The agent of binary `bin`, with these environment variables set for it.
    fn agent_of_with_env(
        &self,
        bin: &Path,
        port: u16,
        extra: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
    ) -> AgentProcess {
        let mut c = Command::new(bin);
        c.envs(env.iter().copied());
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
            .args(["--grid", "FR"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        // On loopback at `port` and this node's cgroups, unless the test says otherwise.
        if !extra.contains(&"--listen") {
            c.args(["--listen", &format!("127.0.0.1:{port}")]);
        }
        if !extra.contains(&"--cgroup-root") {
            c.arg("--cgroup-root").arg(self.cgroups());
        }
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
    pub(crate) fn start(mut c: Command, port: u16) -> Self {
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

pub(crate) const PKG: &str = "wattlens_node_energy_joules_total";
pub(crate) const RAPL: &str = "device=\"rapl/package-0\"";

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
