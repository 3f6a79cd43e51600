//! `wattlens agent` with NVIDIA GPUs from a fixture file (`WATTLENS_TEST_NVML`): each GPU's
//! energy split by its processes' utilisation, a MIG GPU across its instances, and the split
//! methods exposed, end to end without a GPU. Issue 11.

use super::agent::{free_port, sample, wait_for, write_atomic, FakeNode};

const A: &str = "a.service";
const B: &str = "b.service";

/// gpu0: 41 (a) at 75 %, 42 (b) at 20 %, 50 (nobody's) at 5 %. gpu1: MIG 4g (gi1, b's 42) +
/// 3g (gi2, no process). Counters in mJ.
fn fixture(gpu0_mj: u64, gpu1_mj: u64) -> String {
    format!(
        "[[gpu]]\nuuid = \"GPU-0\"\nenergy_mj = {gpu0_mj}\npids = [41, 42, 50]\n\
         utilisation = [[41, 75.0], [42, 20.0], [50, 5.0]]\n\
         [[gpu]]\nuuid = \"GPU-1\"\nenergy_mj = {gpu1_mj}\npids = [42]\n\
         [[gpu.mig]]\nid = \"gi1\"\nslices = 4\npids = [42]\n\
         [[gpu.mig]]\nid = \"gi2\"\nslices = 3\npids = []\n"
    )
}

fn gpu_of(m: &str, w: &str) -> f64 {
    sample(
        m,
        "wattlens_workload_energy_joules_total",
        &[&format!("workload=\"{w}\""), "component=\"gpu\""],
    )
    .unwrap_or(0.0)
}

#[test]
fn gpus_are_split_by_utilisation_and_mig_instances_end_to_end() {
    let node = FakeNode::new(&[A, B]);
    std::fs::write(node.cgroups().join(A).join("cgroup.procs"), "41\n").expect("w");
    std::fs::write(node.cgroups().join(B).join("cgroup.procs"), "42\n").expect("w");
    let gpus = node.dir.path().join("gpus.toml");
    write_atomic(&gpus, &fixture(1_000_000, 5_000_000));
    let agent = node.agent_with_env(
        free_port(),
        &["--interval", "200ms"],
        &[("WATTLENS_TEST_NVML", gpus.as_os_str())],
    );
    // The first readings are the baseline; then gpu0 moves 400 J and gpu1 700 J.
    wait_for(10, || {
        (sample(&agent.metrics(), "wattlens_agent_polls_total", &[])? >= 2.0).then_some(())
    });
    write_atomic(&gpus, &fixture(1_400_000, 5_700_000));
    let m = wait_for(10, || {
        let m = agent.metrics();
        let g0 = sample(&m, "wattlens_node_energy_joules_total", &["nvml/gpu0"])?;
        let g1 = sample(&m, "wattlens_node_energy_joules_total", &["nvml/gpu1"])?;
        (g0 == 400.0 && g1 == 700.0).then_some(m)
    });
    // a: 400 x 75/100 = 300 J. b: 400 x 20/100 = 80 J on gpu0, and gi1's 700 x 4/7 = 400 J
    // (alone in it) = 480 J. Idle: 400 x 5/100 = 20 J + gi2's 700 x 3/7 = 300 J = 320 J.
    // 300 + 480 + 320 = 1100 = 400 + 700.
    assert!((gpu_of(&m, A) - 300.0).abs() < 1e-6, "{m}");
    assert!((gpu_of(&m, B) - 480.0).abs() < 1e-6, "{m}");
    let idle = sample(
        &m,
        "wattlens_idle_energy_joules_total",
        &["component=\"gpu\""],
    );
    assert!((idle.expect("idle") - 320.0).abs() < 1e-6, "{m}");
    for (labels, want) in [
        (
            &["device=\"nvml/gpu0\"", "gpu_split=\"utilisation\""][..],
            400.0,
        ),
        (
            &["device=\"nvml/gpu1/gi1\"", "gpu_split=\"resident\""][..],
            400.0,
        ),
        (
            &["device=\"nvml/gpu1/gi2\"", "gpu_split=\"idle\""][..],
            300.0,
        ),
    ] {
        let got = sample(&m, "wattlens_gpu_split_energy_joules_total", labels);
        assert_eq!(got, Some(want), "{labels:?}\n{m}");
    }
    let mig = sample(&m, "wattlens_mig_energy_joules_total", &["gi1\"", "slices"]);
    assert_eq!(mig, Some(400.0));
    let by = |w: &str, s: &str| {
        sample(
            &m,
            "wattlens_workload_gpu_energy_joules_total",
            &[&format!("workload=\"{w}\""), &format!("gpu_split=\"{s}\"")],
        )
    };
    assert_eq!(
        (by(B, "utilisation"), by(B, "resident")),
        (Some(80.0), Some(400.0))
    );
    let err = agent.kill();
    assert!(err.contains("not the driver"), "{err}");
}

#[test]
fn a_gpu_that_falls_off_the_bus_is_dropped_and_said_while_the_other_is_still_split() {
    let node = FakeNode::new(&[A, B]);
    std::fs::write(node.cgroups().join(B).join("cgroup.procs"), "42\n").expect("w");
    let gpus = node.dir.path().join("gpus.toml");
    write_atomic(&gpus, &fixture(1_000_000, 5_000_000));
    let agent = node.agent_with_env(
        free_port(),
        &["--interval", "200ms"],
        &[("WATTLENS_TEST_NVML", gpus.as_os_str())],
    );
    wait_for(10, || {
        (sample(&agent.metrics(), "wattlens_agent_polls_total", &[])? >= 2.0).then_some(())
    });
    // gpu0 moves 100 J, then falls off the bus (every NVML call fails) while gpu1 moves 70 J.
    write_atomic(&gpus, &fixture(1_100_000, 5_000_000));
    wait_for(10, || {
        let m = agent.metrics();
        (sample(&m, "wattlens_node_energy_joules_total", &["nvml/gpu0"])? == 100.0).then_some(())
    });
    let lost = fixture(1_200_000, 5_070_000).replacen(
        "pids = [41, 42, 50]",
        "lost = true\npids = [41, 42, 50]",
        1,
    );
    write_atomic(&gpus, &lost);
    let m = wait_for(15, || {
        let m = agent.metrics();
        let dropped = sample(&m, "wattlens_device_dropped", &["nvml/gpu0"])?;
        let g1 = sample(&m, "wattlens_node_energy_joules_total", &["nvml/gpu1"])?;
        (dropped == 1.0 && g1 == 70.0).then_some(m)
    });
    // What gpu0 counted before it was lost is kept: 100 J, b's 20 % of it = 20 J; gpu1's 70 J
    // still split (gi1: 4/7 = 40 J to b).
    assert_eq!(
        sample(&m, "wattlens_node_energy_joules_total", &["nvml/gpu0"]),
        Some(100.0)
    );
    assert!((gpu_of(&m, B) - 60.0).abs() < 1e-6, "{m}");
    let (_, health) = agent.get("/healthz");
    assert!(health.contains("nvml/gpu0 dropped"), "{health}");
}
