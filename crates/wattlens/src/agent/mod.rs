//! The node agent's library part: workloads discovered from a cgroup (v2) tree ([`Discovery`],
//! labelled by [`Workload::classify`]: systemd units, containers, Slurm jobs and steps,
//! Kubernetes pods, their namespace and name from the node's pod log folders or a label file,
//! containers' names from the kubelet's container log links: [`PodNames`]), each interval's node energy split among them with conservation
//! ([`NodeAgent::tick`]: `sum(workloads) + idle = node`, every interval and component), carbon
//! and water through the accounting core ([`crate::footprint::SiteValues`]), and a bounded set
//! of workloads ([`WorkloadSet`]) so that memory stays flat on a busy node. The binary serves
//! it as Prometheus metrics (`wattlens agent`); nothing here prints or listens.

mod containers;
mod discover;
mod figures;
mod gpu;
mod kept;
mod node;
mod pods;
mod set;
mod workload;

pub use containers::MAX_CONTAINERS;
pub use discover::{Discovery, Found, Seen, DEFAULT_KEPT_OPEN, MAX_DEPTH, MAX_PIDS};
pub use figures::{Device, Interval, Lost};
pub use gpu::{GpuSplit, MigSplit};
pub use node::NodeAgent;
pub use pods::{PodName, PodNames, PodNamesError, MAX_PODS};
pub use set::{Entry, Folded, Limits, Totals, WorkloadSet, COMPONENTS};
pub use workload::{Qos, Workload, WorkloadKind};
