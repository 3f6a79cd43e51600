//! Tests of the metrics: a workload's labels shared by its series, encoded in order.

use super::*;
use wattlens::agent::{Found, Limits, NodeAgent, Seen, Workload};
use wattlens::measure::{ModelInputs, Policy};
use wattlens::source::procfs::MachineStat;

/// A workload's labels are built once per publication and shared by its series (memory at
/// 10,000 workloads), and encode as before: the workload's labels, then the series' own.
#[test]
fn a_workloads_series_share_one_label_set_and_encode_in_order() {
    let inputs = ModelInputs {
        policy: Policy::Processes,
        cpu_tdp: None,
        cpu_w_per_thread: 3.5,
        dram_w_per_gb: 0.375,
    };
    let mut a = NodeAgent::new(inputs, Limits::default(), None);
    let found = |cpu_s| Found {
        seen: vec![Seen {
            workload: Workload::classify("system.slice/a.service"),
            cpu_s,
            rss_gb: 0.0,
            pids: vec![],
        }],
        ..Found::default()
    };
    let m = |busy_s| MachineStat {
        busy_s,
        total_s: 10.0 * busy_s.max(1.0),
        cpus: 1,
        mem_total_gb: 0.0,
    };
    a.tick(0.0, &[], Some(m(0.0)), found(0.0));
    a.tick(1.0, &[], Some(m(1.0)), found(1.0));
    let s = snapshot(&Frozen::of(&a), 0.0, "test");
    let shared: Vec<&Arc<[(&'static str, Value)]>> = s
        .families
        .iter()
        .flat_map(|f| &f.series)
        .filter_map(|(l, _)| l.shared.as_ref())
        .collect();
    // Energy (cpu, and dram: modelled with a modelled CPU) and power: three series, one
    // label set.
    assert_eq!(shared.len(), 3);
    assert!(shared.iter().all(|l| Arc::ptr_eq(l, shared[0])));
    let (text, _) = encode(s, false).expect("encode");
    assert!(
        text.contains(
            "wattlens_workload_energy_joules_total{workload=\"system.slice/a.service\",\
             kind=\"unit\",unit=\"a.service\",component=\"cpu\",method=\"modelled\"}"
        ),
        "{text}"
    );
}
