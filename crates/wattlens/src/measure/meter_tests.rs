//! A meter with several consumers at once (the node agent's shape): two cgroups whose CPU time
//! grows 3:1 and the whole machine, on the fake 4-CPU procfs, snapshotted while it runs.

use super::*;
use crate::source::{ReadFile, StdFs};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Reads the real files, except that each cgroup's `cpu.stat` says `step_us` more at every read.
struct Growing {
    steps: HashMap<PathBuf, u64>,
    reads: Mutex<HashMap<PathBuf, u64>>,
}

impl ReadFile for Growing {
    fn read(&self, path: &Path) -> std::io::Result<String> {
        match self.steps.get(path) {
            Some(step) => {
                let mut reads = self.reads.lock().expect("lock");
                let n = reads.entry(path.to_path_buf()).or_insert(0);
                *n += 1;
                Ok(format!("usage_usec {}\n", *n * step))
            }
            None => StdFs.read(path),
        }
    }
}

#[test]
fn several_consumers_are_charged_by_their_own_use_and_add_up_to_the_node() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/procfs-4cpu");
    let (a, b) = (PathBuf::from("/fake/cg/a"), PathBuf::from("/fake/cg/b"));
    let fs = Growing {
        steps: HashMap::from([(a.join("cpu.stat"), 30_000), (b.join("cpu.stat"), 10_000)]),
        reads: Mutex::new(HashMap::new()),
    };
    let inputs = ModelInputs {
        policy: Policy::Processes,
        cpu_tdp: Some(crate::units::Watts(100.0)),
        cpu_w_per_thread: 3.5,
        dram_w_per_gb: 0.375,
    };
    let mut builder = Meter::builder(inputs)
        .interval(Duration::from_millis(20))
        .files(Arc::new(fs))
        .consumer(Consumer::Cgroup {
            dir: a,
            from_start: false,
        })
        .consumer(Consumer::Machine)
        .consumer(Consumer::Cgroup {
            dir: b,
            from_start: false,
        });
    builder.open_procfs(&root).expect("procfs");
    let meter = builder.start();
    std::thread::sleep(Duration::from_millis(150));
    let mid = meter.snapshot().expect("running");
    std::thread::sleep(Duration::from_millis(100));
    let end = meter.stop(Some(0)).snapshot;
    assert!(mid.run.duration.0 < end.run.duration.0, "{mid:?}");
    let joules =
        |m: &Measurement| -> f64 { m.breakdown.components.iter().map(|c| c.energy.0).sum() };
    let [ca, machine, cb] = &end.consumers[..] else {
        panic!("{:?}", end.consumers);
    };
    assert_eq!(machine.consumer, Consumer::Machine);
    // Each poll: a 30 ms, b 10 ms of CPU: a is charged three times b, part by part.
    let (ea, eb) = (joules(&ca.measurement), joules(&cb.measurement));
    assert!(eb > 0.0, "{end:?}");
    assert!((ea / eb - 3.0).abs() < 1e-9, "{ea} vs {eb}");
    // The run's charge is the first watched consumer's; the machine's is the node's.
    assert_eq!(joules(&end.run), ea);
    assert!((joules(&machine.measurement) - end.ledger.node.0).abs() < 1e-9);
    // The node: a + b + the unattributed rest (the idle capacity of 4 CPUs).
    let l = &end.ledger;
    assert_eq!(l.consumers.len(), 2);
    assert!((l.consumers[0].0 - ea).abs() < 1e-12 && (l.consumers[1].0 - eb).abs() < 1e-12);
    let sum = ea + eb + l.unattributed.0;
    assert!((sum - l.node.0).abs() <= 1e-9 * l.node.0, "{l:?}");
    assert!(l.unattributed.0 > 0.0, "{l:?}");
}
