//! Tests of the node agent's GPUs: one that falls off the bus, the split by processes on a GPU
//! and by their utilisation, and host processes outside every workload charged to idle.

use super::*;

#[test]
fn a_gpu_that_falls_off_the_bus_is_dropped_said_and_the_rest_goes_on() {
    // gpu0 at 200 W for 2 s (trapezoid: 400 J), then its reads fail (as NVML's do when the GPU
    // falls off the bus: 4 misses, then dropped); RAPL goes on at 10 J/s throughout.
    let gpu = |t: f64, value: Value| Reading {
        t,
        device: DeviceId::new(crate::source::SourceKind::Nvml, "gpu0"),
        value,
    };
    let power = Value::Power {
        part: Part::Gpu,
        power_w: 200.0,
        used: Some(true),
        share: None,
    };
    let mut a = NodeAgent::new(inputs(), Limits::default(), None);
    let w = [("job.service", 0.0)];
    for step in 0..10_u32 {
        let t = f64::from(step);
        let g = match step {
            0..=2 => Some(power.clone()),
            3..=6 => Some(Value::Missed {
                reason: "GPU is lost".into(),
            }),
            7 => Some(Value::Dropped {
                reason: "GPU is lost (5 reads failed in a row)".into(),
            }),
            // Dropped: no longer read.
            _ => None,
        };
        let mut readings = vec![rapl(t, u64::from(step) * 10_000_000, u64::MAX)];
        readings.extend(g.map(|g| gpu(t, g)));
        let found = found(&[(w[0].0, t * 0.5)]);
        let i = a.tick(t, &readings, machine(t * 0.5, t * 4.0), found);
        for c in 0..3 {
            assert!((i.workloads[c] + i.idle[c] - i.node[c]).abs() < 1e-9);
        }
    }
    // The energy it had counted is kept; RAPL goes on: 9 s x 10 J.
    assert!((a.devices()["nvml/gpu0"].energy.0 - 400.0).abs() < 1e-9);
    assert!((a.node_energy()[2].0 - 400.0).abs() < 1e-9);
    assert!(a.lost().dropped.contains_key("nvml/gpu0"));
    assert_eq!(a.lost().read_failures["nvml/gpu0"], 4);
    assert!(a
        .lost()
        .notes
        .iter()
        .any(|n| n.contains("nvml/gpu0 dropped")));
    assert!((a.devices()["rapl/package-0"].energy.0 - 90.0).abs() < 1e-9);
    // The GPU's energy went to the one workload that used it.
    let job = a.workloads().entries().next().expect("job");
    assert!((job.totals.energy[2].0 - 400.0).abs() < 1e-9);
}

#[test]
fn a_gpu_is_split_by_the_workloads_processes_on_it() {
    // gpu0 runs PIDs 10, 11, 12: a has 10 and 11, b has 12 (and 99, elsewhere): a 2/3, b 1/3
    // of its 300 J. gpu1 runs 50, nobody's: its 90 J are idle. 1 s at 300 W and 90 W.
    let g = |t: f64, name: &str, w: f64| Reading {
        t,
        device: DeviceId::new(crate::source::SourceKind::Nvml, name),
        value: Value::Counter {
            part: Part::Gpu,
            energy_uj: (w * t * 1e6) as u64,
            max_uj: u64::MAX,
            used: Some(true),
            share: None,
        },
    };
    let seen = |cpu: f64| Found {
        seen: vec![
            Seen {
                workload: Workload::classify("a.service"),
                cpu_s: cpu,
                rss_gb: 0.0,
                pids: vec![10, 11],
            },
            Seen {
                workload: Workload::classify("b.service"),
                cpu_s: cpu,
                rss_gb: 0.0,
                pids: vec![12, 99],
            },
        ],
        ..Found::default()
    };
    let on: HashMap<String, Vec<u32>> = [
        ("nvml/gpu0".to_string(), vec![10, 11, 12]),
        ("nvml/gpu1".to_string(), vec![50]),
    ]
    .into_iter()
    .collect();
    let mut a = NodeAgent::new(inputs(), Limits::default(), None);
    a.tick_gpus(
        0.0,
        &[g(0.0, "gpu0", 300.0), g(0.0, "gpu1", 90.0)],
        None,
        seen(0.0),
        &on,
    );
    let i = a.tick_gpus(
        1.0,
        &[g(1.0, "gpu0", 300.0), g(1.0, "gpu1", 90.0)],
        None,
        seen(0.5),
        &on,
    );
    assert!((i.node[2] - 390.0).abs() < 1e-9);
    assert!((i.idle[2] - 90.0).abs() < 1e-9, "{i:?}");
    let by: HashMap<String, f64> = a
        .workloads()
        .entries()
        .map(|e| (e.workload.id.clone(), e.totals.energy[2].0))
        .collect();
    assert!((by["a.service"] - 200.0).abs() < 1e-9, "{by:?}");
    assert!((by["b.service"] - 100.0).abs() < 1e-9, "{by:?}");
}

#[test]
fn a_gpu_is_split_by_its_processes_utilisation_and_the_split_is_said() {
    // gpu0 at 400 W for 1 s = 400 J; a's 10 at 75 %, b's 12 at 20 %, nobody's 50 at 5 %:
    // a = 400 x 75/100 = 300, b = 80, idle = 20 (split `utilisation`). Next second, nobody
    // active (NVML lists no sample): by residents 10, 12, 50 -> a = b = idle = 400/3 (split
    // `resident`).
    let g = |t: f64| Reading {
        t,
        device: DeviceId::new(crate::source::SourceKind::Nvml, "gpu0"),
        value: Value::Counter {
            part: Part::Gpu,
            energy_uj: (400.0 * t * 1e6) as u64,
            max_uj: u64::MAX,
            used: Some(true),
            share: None,
        },
    };
    let seen = || {
        let mut f = found(&[("a.service", 0.0), ("b.service", 0.0)]);
        f.seen[0].pids = vec![10];
        f.seen[1].pids = vec![12];
        f
    };
    let on = |util: Vec<(u32, f64)>| -> HashMap<String, GpuUse> {
        let u = GpuUse {
            pids: Some(vec![10, 12, 50]),
            utilisation: Some(util),
            mig: vec![],
        };
        [("nvml/gpu0".to_string(), u)].into_iter().collect()
    };
    let busy = on(vec![(10, 75.0), (12, 20.0), (50, 5.0)]);
    let mut a = NodeAgent::new(inputs(), Limits::default(), None);
    a.tick_use(0.0, &[g(0.0)], None, seen(), &busy);
    let i = a.tick_use(1.0, &[g(1.0)], None, seen(), &busy);
    assert!((i.workloads[2] - 380.0).abs() < 1e-9 && (i.idle[2] - 20.0).abs() < 1e-9);
    let i = a.tick_use(2.0, &[g(2.0)], None, seen(), &on(vec![]));
    assert!((i.workloads[2] - 800.0 / 3.0).abs() < 1e-9, "{i:?}");
    let e = |id: &str| {
        a.workloads()
            .entries()
            .find(|e| e.workload.id == id)
            .map(|e| e.totals)
            .expect("workload")
    };
    let third = 400.0 / 3.0;
    assert!((e("a.service").energy[2].0 - (300.0 + third)).abs() < 1e-9);
    assert!((e("a.service").gpu_split[0].0 - 300.0).abs() < 1e-9);
    assert!((e("a.service").gpu_split[1].0 - third).abs() < 1e-9);
    assert!((e("b.service").gpu_split[0].0 - 80.0).abs() < 1e-9);
    // The device says how its energy was split: 400 J each way.
    let s = a.gpu_splits();
    assert_eq!(
        s[&("nvml/gpu0".to_string(), GpuSplit::Utilisation)],
        Joules(400.0)
    );
    assert_eq!(
        s[&("nvml/gpu0".to_string(), GpuSplit::Resident)],
        Joules(400.0)
    );
    assert!((a.idle_energy()[2].0 - (20.0 + third)).abs() < 1e-9);
}

#[test]
fn a_host_process_outside_every_workload_cgroup_is_charged_to_idle() {
    // Issue 11, item 4. On cgroup v2 every process is in a cgroup: a host process in a
    // systemd unit (sshd.service, init.scope, a session scope) is that unit's workload, with
    // its command name; one in the root cgroup itself (no systemd, or a kernel thread) is in
    // no workload, and its CPU time goes to `idle`. 4 CPUs, 1 s, machine busy 2 CPU-s
    // (u = 0.5 -> curve 0.75), RAPL 75 J: idle part 75 x 0.12 / 0.75 = 12 J, active 63 J.
    // sshd.service 1.5 CPU-s: 63 x 1.5/2 + 12 x 1.5/4 = 47.25 + 4.5 = 51.75 J. The root's
    // process (the other 0.5 CPU-s) is nobody's: idle = 75 - 51.75 = 23.25 J
    // (= 63 x 0.5/2 + 12 x 2.5/4 = 15.75 + 7.5).
    let cg = tempfile::tempdir().expect("tmp");
    let proc = tempfile::tempdir().expect("tmp");
    std::fs::write(cg.path().join("cgroup.procs"), "5\n").expect("w");
    let sshd = cg.path().join("system.slice/sshd.service");
    std::fs::create_dir_all(&sshd).expect("mkdir");
    std::fs::write(sshd.join("cgroup.procs"), "40\n").expect("w");
    std::fs::create_dir_all(proc.path().join("40")).expect("mkdir");
    std::fs::write(proc.path().join("40/comm"), "sshd\n").expect("w");
    let mut d = crate::agent::Discovery::new(cg.path(), proc.path());
    let mut a = NodeAgent::new(inputs(), Limits::default(), None);
    for (t, usec, uj, busy) in [(0.0, 0, 0, 0.0), (1.0, 1_500_000, 75_000_000, 2.0)] {
        std::fs::write(sshd.join("cpu.stat"), format!("usage_usec {usec}\n")).expect("w");
        let found = d.walk();
        let ids: Vec<&str> = found.seen.iter().map(|s| s.workload.id.as_str()).collect();
        assert_eq!(ids, ["system.slice/sshd.service"]);
        a.tick(
            t,
            &[rapl(t, uj, u64::MAX)],
            machine(busy, 2.0 * busy),
            found,
        );
    }
    let e = a.workloads().entries().next().expect("sshd");
    assert_eq!(e.workload.command.as_deref(), Some("sshd"));
    assert!(
        (e.totals.energy[0].0 - 51.75).abs() < 1e-9,
        "{:?}",
        e.totals
    );
    assert!((a.idle_energy()[0].0 - 23.25).abs() < 1e-9);
}
