//! The agent's figures as Prometheus metrics, encoded by `prometheus-client` (never written by
//! hand) in both the OpenMetrics and the classic text format. Each publication takes a
//! [`Snapshot`] of the node agent and encodes it once; scrapes are served the encoded bytes, so
//! a scrape costs a copy whatever the number of workloads. Names follow Prometheus' rules:
//! `wattlens_` prefix, base units (joules, watts, grams, seconds, bytes), `_total` on counters.
//! Every metric and label: docs/metrics.md.

use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabelSet, EncodeMetric, LabelSetEncoder,
};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use wattlens::agent::{Entry, COMPONENTS};
use wattlens::energy::Method;

/// A label's value: borrowed where it is a constant (component, method, kind), owned otherwise.
type Value = Cow<'static, str>;

/// Labels of one series: its workload's, shared by all that workload's series (one allocation
/// per workload and publication, not one per series: at 10,000 workloads the copies were most
/// of a publication's memory), then its own (`component`, `method`, ...).
#[derive(Clone, Debug, Default)]
struct Labels {
    shared: Option<Arc<[(&'static str, Value)]>>,
    own: Vec<(&'static str, Value)>,
}

impl Labels {
    /// No labels.
    fn none() -> Self {
        Self::default()
    }

    /// These labels, not shared.
    fn of(own: Vec<(&'static str, Value)>) -> Self {
        Self { shared: None, own }
    }

    /// The shared labels, and these of this series' own.
    fn with(&self, own: Vec<(&'static str, Value)>) -> Self {
        Self {
            shared: self.shared.clone(),
            own,
        }
    }
}

impl EncodeLabelSet for Labels {
    fn encode(&self, e: &mut LabelSetEncoder) -> Result<(), std::fmt::Error> {
        if let Some(s) = &self.shared {
            EncodeLabelSet::encode(&&s[..], e)?;
        }
        EncodeLabelSet::encode(&self.own.as_slice(), e)
    }
}

/// One metric: name (without `_total`), help, type, and its series.
#[derive(Debug, Default)]
struct Family {
    name: &'static str,
    help: &'static str,
    counter: bool,
    series: Vec<(Labels, f64)>,
}

/// Everything one publication exposes.
#[derive(Debug, Default)]
pub struct Snapshot {
    families: Vec<Family>,
    /// Per workload: name, command, power W (for the page), sorted by power.
    pub top: Vec<(String, String, f64)>,
    /// The node's power, W.
    pub node_power_w: f64,
    /// The notes on what was lost.
    pub notes: Vec<String>,
}

impl Snapshot {
    fn family(&mut self, name: &'static str, help: &'static str, counter: bool) -> &mut Family {
        self.families.push(Family {
            name,
            help,
            counter,
            series: Vec::new(),
        });
        let n = self.families.len() - 1;
        &mut self.families[n]
    }
}

fn method(m: Option<Method>) -> &'static str {
    m.map_or("none", Method::as_str)
}

#[path = "metrics_frozen.rs"]
mod frozen;
use frozen::own_usage;
pub use frozen::Frozen;

/// The labelled series of a frozen publication.
#[allow(clippy::too_many_lines)]
pub fn snapshot(a: &Frozen, started_unix_s: f64, intensity_source: &str) -> Snapshot {
    let mut s = Snapshot::default();
    s.family(
        "wattlens_build_info",
        "The wattlens build serving these metrics (always 1).",
        false,
    )
    .series
    .push((
        Labels::of(vec![("version", env!("CARGO_PKG_VERSION").into())]),
        1.0,
    ));
    s.family(
        "wattlens_agent_start_time_seconds",
        "When this agent started (Unix time, s); a change means its counters restarted.",
        false,
    )
    .series
    .push((Labels::none(), started_unix_s));
    #[allow(clippy::cast_precision_loss)]
    s.family(
        "wattlens_agent_polls",
        "Polls taken since the agent started.",
        true,
    )
    .series
    .push((Labels::none(), a.polls() as f64));
    if let Some((cpu, rss)) = own_usage() {
        s.family(
            "wattlens_agent_cpu_seconds",
            "CPU time the agent process itself used (s).",
            true,
        )
        .series
        .push((Labels::none(), cpu));
        s.family(
            "wattlens_agent_resident_memory_bytes",
            "Resident memory of the agent process itself (bytes).",
            false,
        )
        .series
        .push((Labels::none(), rss));
    }
    let devices: Vec<(Labels, f64, f64)> = a
        .devices()
        .iter()
        .map(|(k, d)| {
            (
                Labels::of(vec![
                    ("component", d.component.into()),
                    ("device", k.clone().into()),
                    ("method", d.method.as_str().into()),
                ]),
                d.energy.0,
                d.power.0,
            )
        })
        .collect();
    let f = s.family(
        "wattlens_node_energy_joules",
        "Energy of each device of the node (J): measured (a hardware counter), integrated \
         (sampled power) or modelled (method label).",
        true,
    );
    f.series = devices.iter().map(|d| (d.0.clone(), d.1)).collect();
    let f = s.family(
        "wattlens_node_power_watts",
        "Power of each device of the node over the last interval (W).",
        false,
    );
    f.series = devices.iter().map(|d| (d.0.clone(), d.2)).collect();
    s.node_power_w = a.node_power().0;
    let idle = a.idle_energy();
    let f = s.family(
        "wattlens_idle_energy_joules",
        "Energy of the node charged to no workload (J): idle capacity, processes outside any \
         workload. Workloads plus idle equal the node, by component.",
        true,
    );
    for (i, c) in COMPONENTS.iter().enumerate() {
        f.series
            .push((Labels::of(vec![("component", (*c).into())]), idle[i].0));
    }
    if let Some(site) = a.site() {
        let (c, w) = a.node_carbon_water();
        s.family(
            "wattlens_node_carbon_grams",
            "Operational carbon of the node's energy (gCO2e): energy x PUE x grid intensity.",
            true,
        )
        .series
        .push((Labels::none(), c.0));
        s.family(
            "wattlens_node_water_litres",
            "Water of the node's energy (L): on-site (WUE) plus off-site (EWIF x PUE).",
            true,
        )
        .series
        .push((Labels::none(), w.0));
        s.family(
            "wattlens_grid_intensity_grams_per_joule",
            "The grid carbon intensity in use (gCO2e per J of facility energy; x 3.6e6 for \
             g/kWh), with its source.",
            false,
        )
        .series
        .push((
            Labels::of(vec![("source", intensity_source.to_string().into())]),
            site.intensity.0 / 3.6e6,
        ));
        s.family("wattlens_site_pue", "The site's PUE in use.", false)
            .series
            .push((Labels::none(), site.pue));
    }
    let folded = a.folded;
    #[allow(clippy::cast_precision_loss)]
    s.family(
        "wattlens_workloads_folded",
        "Workloads gone and folded into the totals of gone workloads.",
        true,
    )
    .series
    .push((Labels::none(), folded.count as f64));
    let f = s.family(
        "wattlens_folded_energy_joules",
        "Energy of the workloads gone and folded (J), by component.",
        true,
    );
    for (i, c) in COMPONENTS.iter().enumerate() {
        f.series.push((
            Labels::of(vec![("component", (*c).into())]),
            folded.energy[i].0,
        ));
    }
    let mut entries: Vec<&Entry> = a.entries.iter().collect();
    entries.sort_by(|x, y| x.workload.id.cmp(&y.workload.id));
    #[allow(clippy::cast_precision_loss)]
    {
        let live = entries.iter().filter(|e| e.gone_at.is_none()).count() as f64;
        let f = s.family(
            "wattlens_workloads",
            "Workloads exposed one by one, live or gone (kept until they fold).",
            false,
        );
        f.series
            .push((Labels::of(vec![("state", "live".into())]), live));
        f.series.push((
            Labels::of(vec![("state", "gone".into())]),
            entries.len() as f64 - live,
        ));
    }
    let ids: Vec<Labels> = entries
        .iter()
        .map(|e| {
            let w = &e.workload;
            let mut l: Vec<(&'static str, Value)> = vec![
                ("workload", w.id.clone().into()),
                ("kind", w.kind.map_or("", |k| k.as_str()).into()),
            ];
            // Absent when unknown (no process seen yet), never `command=""`.
            let opt = [
                ("command", w.command.clone()),
                ("unit", w.unit.clone()),
                ("container", w.container.clone()),
                ("container_name", w.container_name.clone()),
                ("slurm_job", w.job.clone()),
                ("slurm_step", w.step.clone()),
                ("pod_uid", w.pod_uid.clone()),
                ("qos", w.qos.map(|q| q.as_str().to_string())),
                ("namespace", w.namespace.clone()),
                ("pod", w.pod.clone()),
            ];
            for (k, v) in opt {
                if let Some(v) = v {
                    l.push((k, v.into()));
                }
            }
            Labels {
                shared: Some(l.into()),
                own: Vec::new(),
            }
        })
        .collect();
    let f = s.family(
        "wattlens_workload_energy_joules",
        "Energy charged to each workload (J), by component, with the method behind it.",
        true,
    );
    let methods = a.label_methods();
    for (e, l) in entries.iter().zip(&ids) {
        for (i, c) in COMPONENTS.iter().enumerate() {
            // A component this node does not have is not exposed per workload.
            if methods[i].is_none() {
                continue;
            }
            let l = l.with(vec![
                ("component", (*c).into()),
                ("method", method(methods[i]).into()),
            ]);
            f.series.push((l, e.totals.energy[i].0));
        }
    }
    gpu::families(&mut s, a, &entries, &ids);
    let f = s.family(
        "wattlens_workload_power_watts",
        "Power charged to each workload over the last interval (W).",
        false,
    );
    for (e, l) in entries.iter().zip(&ids) {
        f.series.push((l.clone(), e.totals.power.0));
    }
    if a.site().is_some() {
        let f = s.family(
            "wattlens_workload_carbon_grams",
            "Operational carbon charged to each workload (gCO2e).",
            true,
        );
        for (e, l) in entries.iter().zip(&ids) {
            f.series.push((l.clone(), e.totals.carbon.0));
        }
        let f = s.family(
            "wattlens_workload_water_litres",
            "Water charged to each workload (L).",
            true,
        );
        for (e, l) in entries.iter().zip(&ids) {
            f.series.push((l.clone(), e.totals.water.0));
        }
    }
    let lost = a.lost();
    #[allow(clippy::cast_precision_loss)]
    {
        let f = s.family(
            "wattlens_read_failures",
            "Reads of a device that failed and were retried (its next reading covers the gap).",
            true,
        );
        for (k, n) in &lost.read_failures {
            f.series
                .push((Labels::of(vec![("device", k.clone().into())]), *n as f64));
        }
        let f = s.family(
            "wattlens_counter_resets",
            "Energy counters that reset (a driver reload): up to one interval of energy lost.",
            true,
        );
        for (k, n) in &lost.resets {
            f.series
                .push((Labels::of(vec![("device", k.clone().into())]), *n as f64));
        }
        let f = s.family(
            "wattlens_implausible_readings",
            "Readings implying more power than the device's part can draw (a counter's rise, a \
             power reading; ceilings in docs/models.md): not counted.",
            true,
        );
        for (k, n) in &lost.implausible {
            f.series
                .push((Labels::of(vec![("device", k.clone().into())]), *n as f64));
        }
        let f = s.family(
            "wattlens_device_dropped",
            "Devices dropped after failing reads in a row (1): their energy is no longer counted.",
            false,
        );
        for k in lost.dropped.keys() {
            f.series
                .push((Labels::of(vec![("device", k.clone().into())]), 1.0));
        }
        s.family(
            "wattlens_cgroups_vanished",
            "Cgroups removed between being listed and read (their last interval goes to idle).",
            true,
        )
        .series
        .push((Labels::none(), lost.vanished_cgroups as f64));
        s.family(
            "wattlens_pod_labels_errors",
            "Reads of the --pod-labels file that failed after the start (its last good names \
             are kept).",
            true,
        )
        .series
        .push((Labels::none(), lost.pod_label_errors as f64));
    }
    s.notes.clone_from(&lost.notes);
    let mut top: Vec<(String, String, f64)> = entries
        .iter()
        .filter(|e| e.gone_at.is_none())
        .map(|e| {
            (
                e.workload.id.clone(),
                e.workload.command.clone().unwrap_or_default(),
                e.totals.power.0,
            )
        })
        .collect();
    top.sort_by(|x, y| y.2.total_cmp(&x.2));
    top.truncate(50);
    s.top = top;
    s
}

#[path = "metrics_gpu.rs"]
mod gpu;

/// Encodes a snapshot through `prometheus-client`.
#[derive(Debug)]
struct Collector(Arc<Mutex<Snapshot>>);

impl prometheus_client::collector::Collector for Collector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = self.0.lock().map_err(|_| std::fmt::Error)?;
        for f in &s.families {
            let t = if f.counter {
                MetricType::Counter
            } else {
                MetricType::Gauge
            };
            let mut me = encoder.encode_descriptor(f.name, f.help, None, t)?;
            for (labels, v) in &f.series {
                let fe = me.encode_family(labels)?;
                if f.counter {
                    ConstCounter::new(*v).encode(fe)?;
                } else {
                    ConstGauge::new(*v).encode(fe)?;
                }
            }
        }
        Ok(())
    }
}

/// Encodes `s` in one format: OpenMetrics (`application/openmetrics-text; version=1.0.0`) or
/// the classic text format (`text/plain; version=0.0.4`). One at a time: a Prometheus asks for
/// one, and the other was encoded for nothing.
///
/// # Errors
/// Only if the encoder fails (it writes to a `String`).
#[cfg(test)]
pub fn encode(s: Snapshot, openmetrics: bool) -> Result<(String, Snapshot), std::fmt::Error> {
    encode_sized(s, openmetrics, 0)
}

/// [`encode`] into a buffer of `capacity` bytes to start with (the last body's size, and a
/// margin): at 10,000 workloads a 4.3 MB body grown by doubling peaked at 8.4 MB of heap
/// (heaptrack), most of a scraped agent's peak.
///
/// # Errors
/// Only if the encoder fails (it writes to a `String`).
pub fn encode_sized(
    s: Snapshot,
    openmetrics: bool,
    capacity: usize,
) -> Result<(String, Snapshot), std::fmt::Error> {
    let shared = Arc::new(Mutex::new(s));
    let mut reg = Registry::default();
    reg.register_collector(Box::new(Collector(Arc::clone(&shared))));
    let mut text = String::with_capacity(capacity);
    if openmetrics {
        prometheus_client::encoding::text::encode(&mut text, &reg)?;
    } else {
        prometheus_client::encoding::prometheus_text::encode(&mut text, &reg)?;
    }
    drop(reg);
    let s = Arc::try_unwrap(shared)
        .map_err(|_| std::fmt::Error)?
        .into_inner()
        .map_err(|_| std::fmt::Error)?;
    Ok((text, s))
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
