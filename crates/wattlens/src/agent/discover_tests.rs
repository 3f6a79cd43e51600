//! Tests of the cgroup walk: the deepest workloads and their labels, children found at a full
//! walk, `cpu.stat` kept open, a bounded walk, vanished cgroups and folders that are none.

use super::*;
use crate::agent::WorkloadKind;

pub(crate) fn cgroup(root: &Path, rel: &str, usage_usec: u64, mem: u64, procs: &str) {
    let d = root.join(rel);
    std::fs::create_dir_all(&d).expect("mkdir");
    std::fs::write(d.join("cpu.stat"), format!("usage_usec {usage_usec}\n")).expect("w");
    std::fs::write(d.join("memory.current"), format!("{mem}\n")).expect("w");
    std::fs::write(d.join("cgroup.procs"), procs).expect("w");
}

#[test]
fn the_deepest_workloads_with_their_labels_and_command_names() {
    let cg = tempfile::tempdir().expect("tmp");
    let proc = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(proc.path().join("41")).expect("mkdir");
    std::fs::write(proc.path().join("41/comm"), "python3\n").expect("w");
    // A parent with children: only the children are workloads.
    cgroup(cg.path(), "system.slice", 9_000_000, 0, "");
    cgroup(
        cg.path(),
        "system.slice/nginx.service",
        2_000_000,
        5_000_000,
        "41\n",
    );
    cgroup(cg.path(), "system.slice/idle.service", 0, 0, "");
    cgroup(cg.path(), "misc/empty", 0, 0, "");
    cgroup(
        cg.path(),
        "system.slice/slurmstepd.scope/job_9/step_0",
        1_500_000,
        0,
        "77\n",
    );
    let mut d = Discovery::new(cg.path(), proc.path());
    let f = d.walk();
    let ids: Vec<&str> = f.seen.iter().map(|s| s.workload.id.as_str()).collect();
    // misc/empty: not named and no process, so not a workload.
    assert_eq!(
        ids,
        [
            "system.slice/idle.service",
            "system.slice/nginx.service",
            "system.slice/slurmstepd.scope/job_9/step_0"
        ]
    );
    let nginx = &f.seen[1];
    assert_eq!(nginx.cpu_s, 2.0);
    assert_eq!(nginx.rss_gb, 0.005);
    assert_eq!(nginx.pids, [41]);
    assert_eq!(nginx.workload.command.as_deref(), Some("python3"));
    assert_eq!(f.seen[2].workload.kind, Some(WorkloadKind::SlurmStep));
    // Without the per-process and memory reads: a known workload keeps its command name.
    d.want_pids = false;
    d.want_memory = false;
    let f = d.walk();
    assert_eq!(f.seen[1].workload.command.as_deref(), Some("python3"));
    assert!(f.seen[1].pids.is_empty());
    assert_eq!(f.seen[1].rss_gb, 0.0);
    assert_eq!(f.seen[1].cpu_s, 2.0);
    assert_eq!(f.seen[2].workload.job.as_deref(), Some("9"));
    assert!(!f.truncated);
}

#[test]
fn a_workload_that_gains_children_is_split_at_the_next_full_walk() {
    let cg = tempfile::tempdir().expect("tmp");
    cgroup(
        cg.path(),
        "system.slice/slurmstepd.scope/job_7",
        5_000_000,
        0,
        "1\n",
    );
    let mut d = Discovery::new(cg.path(), cg.path());
    d.relist_every = 3;
    let ids = |d: &mut Discovery| -> Vec<String> {
        d.walk().seen.into_iter().map(|s| s.workload.id).collect()
    };
    assert_eq!(ids(&mut d), ["system.slice/slurmstepd.scope/job_7"]);
    cgroup(
        cg.path(),
        "system.slice/slurmstepd.scope/job_7/step_0",
        1_000_000,
        0,
        "2\n",
    );
    // A new workload beside it is found at once; the job's own folder waits for the full
    // walk (walk 3), and is charged whole meanwhile.
    cgroup(cg.path(), "system.slice/other.service", 0, 0, "3\n");
    assert_eq!(ids(&mut d).len(), 2);
    assert_eq!(ids(&mut d).len(), 2);
    let now = ids(&mut d);
    assert!(
        now.contains(&"system.slice/slurmstepd.scope/job_7/step_0".to_string()),
        "{now:?}"
    );
    assert!(!now.contains(&"system.slice/slurmstepd.scope/job_7".to_string()));
}

#[test]
fn cpu_stat_stays_open_across_walks_and_a_unit_gets_its_command_at_a_full_walk() {
    let cg = tempfile::tempdir().expect("tmp");
    let proc = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(proc.path().join("5")).expect("mkdir");
    std::fs::write(proc.path().join("5/comm"), "nginx\n").expect("w");
    cgroup(cg.path(), "a.service", 1_000_000, 0, "");
    cgroup(cg.path(), "b.service", 2_000_000, 0, "");
    let mut d = Discovery::new(cg.path(), proc.path());
    d.want_pids = false;
    d.relist_every = 3;
    let cpu = |f: &Found, id: &str| {
        f.seen
            .iter()
            .find(|s| s.workload.id == id)
            .map(|s| (s.cpu_s, s.workload.command.clone()))
    };
    let f = d.walk();
    assert_eq!(cpu(&f, "a.service"), Some((1.0, None)));
    assert_eq!(d.open_files(), 2);
    // Rewritten in place and replaced through a rename: both read at the next walk.
    std::fs::write(cg.path().join("a.service/cpu.stat"), "usage_usec 1500000\n").expect("w");
    let tmp = cg.path().join("b.service/new");
    std::fs::write(&tmp, "usage_usec 2500000\n").expect("w");
    std::fs::rename(&tmp, cg.path().join("b.service/cpu.stat")).expect("mv");
    // A process appears in the unit: its name comes at the next full walk (walk 3).
    std::fs::write(cg.path().join("a.service/cgroup.procs"), "5\n").expect("w");
    let f = d.walk();
    assert_eq!(cpu(&f, "a.service"), Some((1.5, None)));
    assert_eq!(cpu(&f, "b.service"), Some((2.5, None)));
    assert_eq!(cpu(&d.walk(), "a.service"), Some((1.5, None)));
    let f = d.walk();
    assert_eq!(cpu(&f, "a.service"), Some((1.5, Some("nginx".into()))));
    // A removed cgroup: gone at once, and its file closed.
    std::fs::remove_dir_all(cg.path().join("b.service")).expect("rm");
    let f = d.walk();
    assert_eq!(f.seen.len(), 1);
    assert_eq!(d.open_files(), 1);
    // With no file kept open, the same figures.
    d.keep_open(0);
    assert_eq!(d.open_files(), 0);
    assert_eq!(
        cpu(&d.walk(), "a.service"),
        Some((1.5, Some("nginx".into())))
    );
    assert_eq!(d.open_files(), 0);
}

#[test]
fn a_bounded_walk_says_it_stopped_and_a_vanished_cgroup_is_counted() {
    let cg = tempfile::tempdir().expect("tmp");
    for i in 0..10 {
        cgroup(cg.path(), &format!("u{i}.service"), 1, 0, "1\n");
    }
    // u3 is removed between being listed and its `cpu.stat` read (the reader removes it).
    struct Race;
    impl ReadFile for Race {
        fn read(&self, p: &Path) -> std::io::Result<String> {
            if p.ends_with("u3.service/cpu.stat") {
                if let Some(dir) = p.parent() {
                    let _ = std::fs::remove_dir_all(dir);
                }
            }
            std::fs::read_to_string(p)
        }
    }
    let mut d = Discovery::with_reader(cg.path(), cg.path(), Arc::new(Race));
    d.max_dirs = 4;
    let f = d.walk();
    assert!(f.truncated);
    // u0..u3 walked; u3 has vanished.
    assert_eq!((f.seen.len(), f.vanished), (3, 1));
    // It is gone: u0, u1, u2, u4 walked, none vanished.
    let f = d.walk();
    assert_eq!((f.seen.len(), f.vanished), (4, 0));
}

/// Hostile test (issue 11, round 3): a folder without `cpu.stat` (`mkdir
/// $N/cgroup/empty.service` in a fake tree) added 1 to `wattlens_cgroups_vanished_total`
/// at every poll (91 after 91 polls). It is not a cgroup: neither a workload nor vanished.
#[test]
fn a_folder_without_cpu_stat_is_not_vanished() {
    let cg = tempfile::tempdir().expect("tmp");
    cgroup(cg.path(), "nginx.service", 1_000_000, 0, "1\n");
    std::fs::create_dir_all(cg.path().join("empty.service")).expect("mkdir");
    let mut d = Discovery::new(cg.path(), cg.path());
    for _ in 0..3 {
        let f = d.walk();
        assert_eq!(f.seen.len(), 1);
        assert_eq!(f.vanished, 0);
    }
}
