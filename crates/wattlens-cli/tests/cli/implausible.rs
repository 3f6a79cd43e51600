//! Readings no part could produce (hostile round 4, #1 and #2): a counter that jumps forward,
//! or a power reading, past its part's ceiling (2,000 W a CPU package, 1,000 W DRAM, 5,000 W
//! a GPU) counts nothing, live, on replay and in the agent, and is said; a live run's own trace
//! replays to its figures.

use super::agent::{free_port, sample, wait_for, write_atomic, FakeNode, PKG, RAPL};
use super::{isolated, lib_fixture, notes, s};
use serde_json::Value;
use std::path::Path;

/// Copies the folder `from` into `to`, recursively.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let dest = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).expect("copy");
        }
    }
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("JSON")
}

/// The central energy of the component named `name`, kWh (0 when it is absent).
fn component_kwh(v: &Value, name: &str) -> f64 {
    v["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter(|c| c["name"] == name)
        .map(|c| c["energy_kwh"]["p50"].as_f64().expect("kWh"))
        .sum()
}

/// Hostile round 4, #1: the AMD fixture's hwmon3 with `power1_average` = 1e15 uW = 1e9 W
/// (200,000x a GPU's 5,000 W ceiling). `run` charged 417 kWh of GPUs for a 1.5 s sleep and its
/// replay refused the trace (exit 2, power_w above 1 MW). Now every such reading is a missed
/// read, noted; the GPUs are hwmon4's energy counter alone, which does not move (0 Wh); and the
/// replay of the run's own trace gives the same components and notes.
#[test]
fn an_impossible_gpu_power_counts_nothing_live_and_replayed_alike() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sys = dir.path().join("sys");
    copy_dir(&lib_fixture("sysfs-amd"), &sys);
    std::fs::write(
        sys.join("class/hwmon/hwmon3/power1_average"),
        "1000000000000000\n",
    )
    .expect("w");
    let (trace, live, again) = (
        dir.path().join("t.jsonl"),
        dir.path().join("live.json"),
        dir.path().join("again.json"),
    );
    let o = isolated()
        .args(["run", "--quiet", "--charge", "machine", "--samples", "1"])
        .args([
            "--interval",
            "200ms",
            "--sysfs-root",
            s(&sys),
            "--procfs-root",
        ])
        .arg(lib_fixture("procfs-4cpu"))
        .args([
            "--record",
            s(&trace),
            "--json",
            s(&live),
            "--",
            "sleep",
            "1",
        ])
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let a = read_json(&live);
    // 1e9 W over 1 s would be 278 kWh.
    assert!(component_kwh(&a, "GPUs") < 1e-9, "{}", a["components"]);
    let n = notes(&a);
    assert!(
        n.contains("hwmon/hwmon3: ")
            && n.contains("implausible readings were not counted")
            && n.contains("a power reading of 1.000e9 W, more than a GPU can draw (5000 W)"),
        "{n}"
    );
    let o = isolated()
        .args(["run", "--samples", "1", "--quiet", "--replay", s(&trace)])
        .args(["--json", s(&again)])
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let b = read_json(&again);
    assert_eq!(a["components"], b["components"]);
    assert!(notes(&b).contains("hwmon/hwmon3: "), "{}", notes(&b));
}

/// A v2 trace of a package counter read once a second (the hostile tester's mk.py).
fn counter_trace(values: &[u64], max: u64) -> String {
    let mut t = String::from(
        "{\"schema\":\"wattlens.trace/v2\",\"started_unix_s\":1763776800.0,\"interval_s\":1.0,\
         \"command\":[\"x\"],\"cpu_tdp_w\":100.0}\n\
         {\"declare\":0,\"source\":\"procfs\",\"device\":\"machine\"}\n\
         {\"declare\":1,\"source\":\"rapl\",\"device\":\"package-0\"}\n",
    );
    for (i, v) in values.iter().enumerate() {
        let i = i as f64;
        t.push_str(&format!(
            "{{\"t\":{i:?},\"d\":0,\"kind\":\"machine\",\"busy_s\":{:?},\"total_s\":{:?},\
             \"cpus\":4,\"mem_total_gb\":16.0}}\n\
             {{\"t\":{i:?},\"d\":1,\"kind\":\"counter\",\"part\":\"cpu\",\"energy_uj\":{v},\
             \"max_uj\":{max}}}\n",
            100.0 + 2.0 * i,
            400.0 + 4.0 * i
        ));
    }
    t
}

/// Hostile round 4, #2, on replay. fj.jsonl: 1 J, 200,000 J, 200,001 J a second apart: the
/// jump of 199,999 J in 1 s (200 kW) is over 2,000 W x (1 + 0.25) s = 2,500 J, so nothing is
/// counted for it and the package counts 1 J in all (it was 46.6 Wh of CPU active). hg.jsonl
/// (a counter of range 2^64 - 1): 1 uJ, 2^64 - 1 uJ, 5 uJ: the rise is not energy, the fall a
/// reset with 5 uJ counted (it was 4,295,190 kWh).
#[test]
fn a_replayed_counter_jump_counts_nothing_and_is_said() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fj = dir.path().join("fj.jsonl");
    std::fs::write(
        &fj,
        counter_trace(
            &[1_000_000, 200_000_000_000, 200_001_000_000],
            262_143_328_850,
        ),
    )
    .expect("w");
    let out = dir.path().join("fj.json");
    let o = isolated()
        .args(["run", "--samples", "1", "--quiet", "--charge", "machine"])
        .args(["--replay", s(&fj), "--json", s(&out)])
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = read_json(&out);
    let cpu_j = (component_kwh(&v, "CPU (active)") + component_kwh(&v, "CPU (idle share)")) * 3.6e6;
    assert!((cpu_j - 1.0).abs() < 1e-6, "{cpu_j} J");
    let n = notes(&v);
    assert!(
        n.contains(
            "rapl/package-0: 1 implausible reading was not counted (the first at t = 1.0 s: its \
             energy counter rose 199999 J in 1 s (199999 W), more than a CPU package can draw \
             (2000 W))"
        ),
        "{n}"
    );
    let hg = dir.path().join("hg.jsonl");
    std::fs::write(&hg, counter_trace(&[1, u64::MAX, 5], u64::MAX)).expect("w");
    let out = dir.path().join("hg.json");
    let o = isolated()
        .args(["run", "--samples", "1", "--quiet", "--charge", "machine"])
        .args(["--replay", s(&hg), "--json", s(&out)])
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = read_json(&out);
    let cpu_j = (component_kwh(&v, "CPU (active)") + component_kwh(&v, "CPU (idle share)")) * 3.6e6;
    // 1 -> u64::MAX is not energy; 5 is then a plausible rise from the 1 before the glitch
    // (hostile round 5: judged against the glitch it was a reset): 4 uJ, no reset.
    assert!((cpu_j - 4e-6).abs() < 1e-9, "{cpu_j} J");
    let n = notes(&v);
    assert!(n.contains("1 implausible reading was not counted"), "{n}");
    assert!(!n.contains("energy counter reset"), "{n}");
}

/// gpu0 and gpu1 of a fixture (WATTLENS_TEST_NVML), counters in mJ.
fn gpus(gpu0_mj: u64) -> String {
    format!("[[gpu]]\nuuid = \"GPU-0\"\nenergy_mj = {gpu0_mj}\npids = []\n")
}

/// Hostile round 4, #1 and #2, in the agent: a RAPL package jumping 199,999 J in one 200 ms
/// poll, an NVML counter jumping 1,400,000 -> 1,000,000,100 mJ (998,600 J) and an AMD GPU's
/// 1e9 W power reading each count nothing and are counted in
/// `wattlens_implausible_readings_total{device}`; the counters go on from their new values: a
/// further +0.1 J (package) and +400 J (gpu0, 2,000 W over a 0.2 s poll: plausible) count
/// exactly.
#[test]
fn the_agent_counts_implausible_readings_and_no_energy_for_them() {
    let mut node = FakeNode::new(&["a.service"]);
    let class = lib_fixture("sysfs-amd").join("class");
    copy_dir(&class.join("hwmon"), &node.sys().join("class/hwmon"));
    copy_dir(&class.join("kfd"), &node.sys().join("class/kfd"));
    std::fs::write(
        node.sys().join("class/hwmon/hwmon3/power1_average"),
        "1000000000000000\n",
    )
    .expect("w");
    let fixture = node.dir.path().join("gpus.toml");
    write_atomic(&fixture, &gpus(1_400_000));
    let agent = node.agent_with_env(
        free_port(),
        &["--interval", "200ms"],
        &[("WATTLENS_TEST_NVML", fixture.as_os_str())],
    );
    let implausible = |m: &str, device: &str| {
        sample(
            m,
            "wattlens_implausible_readings_total",
            &[&format!("device=\"{device}\"")],
        )
    };
    // The 1e9 W readings: counted, never energy.
    let m = wait_for(10, || {
        let m = agent.metrics();
        (implausible(&m, "hwmon/hwmon3")? >= 2.0).then_some(m)
    });
    assert!(
        sample(&m, "wattlens_node_energy_joules_total", &["hwmon/hwmon3"]).unwrap_or(0.0) == 0.0,
        "{m}"
    );
    assert_eq!(sample(&m, PKG, &[RAPL]), Some(0.0), "{m}");
    // The jumps.
    node.uj = 200_000_000_000;
    node.write_rapl();
    write_atomic(&fixture, &gpus(1_000_000_100));
    let m = wait_for(10, || {
        let m = agent.metrics();
        (implausible(&m, "rapl/package-0")? == 1.0 && implausible(&m, "nvml/gpu0")? == 1.0)
            .then_some(m)
    });
    assert_eq!(sample(&m, PKG, &[RAPL]), Some(0.0), "{m}");
    assert_eq!(
        sample(&m, "wattlens_node_energy_joules_total", &["nvml/gpu0"]),
        Some(0.0),
        "{m}"
    );
    // From the new values on, plausible moves count exactly.
    node.uj += 100_000;
    node.write_rapl();
    write_atomic(&fixture, &gpus(1_000_400_100));
    wait_for(10, || {
        let m = agent.metrics();
        (sample(&m, PKG, &[RAPL])? == 0.1
            && sample(&m, "wattlens_node_energy_joules_total", &["nvml/gpu0"])? == 400.0)
            .then_some(())
    });
    let health = agent.get("/healthz").1;
    assert!(
        health.contains("rapl/package-0: an implausible reading at t = ")
            && health.contains("more than a CPU package can draw (2000 W)"),
        "{health}"
    );
}

/// Hostile round 5, #1: one glitched high reading between true ones (gl.jsonl) was dropped,
/// but the true value after it was read as a reset and the counter's whole value counted:
/// `CPU (active)` 34.9 Wh for 0.4 J. Judged against the value before the glitch, the run
/// counts 0.1 + 0 + 0.2 + 0.1 = 0.4 J.
#[test]
fn a_glitched_reading_between_true_ones_costs_nothing_and_invents_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gl = dir.path().join("gl.jsonl");
    std::fs::write(
        &gl,
        counter_trace(
            &[
                150_000_000_000,
                150_000_100_000,
                200_000_000_000,
                150_000_300_000,
                150_000_400_000,
            ],
            262_143_328_850,
        ),
    )
    .expect("w");
    let out = dir.path().join("gl.json");
    let o = isolated()
        .args(["run", "--samples", "1", "--quiet", "--charge", "machine"])
        .args(["--replay", s(&gl), "--json", s(&out)])
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = read_json(&out);
    let cpu_j = (component_kwh(&v, "CPU (active)") + component_kwh(&v, "CPU (idle share)")) * 3.6e6;
    assert!((cpu_j - 0.4).abs() < 1e-6, "{cpu_j} J");
    let n = notes(&v);
    assert!(n.contains("1 implausible reading was not counted"), "{n}");
    assert!(!n.contains("energy counter reset"), "{n}");
}
