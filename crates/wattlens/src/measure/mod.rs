//! Measuring a command: the sampler thread that polls the sources on a monotonic clock, the
//! pipeline that turns readings into energy ([`Pipeline`]), and the step that hands the
//! measured energy to the same accounting core as every estimate ([`account_run`]).

mod pipeline;

pub use pipeline::{Measurement, ModelInputs, Pipeline, Window};

use crate::energy::{Kind, Method};
use crate::estimate::{self, ComponentInfo, Estimate, McOptions, Model};
use crate::explain::{Assumption, Step, Trace};
use crate::footprint::{account, Busy, ItEnergy, Param, Site};
use crate::record::Record;
use crate::source::procfs::Procfs;
use crate::source::replay::TraceWriter;
use crate::source::{PollContext, PollError, Reading, Source, Value};
use crate::uncertainty::{fmt_num, Draw};
use crate::units::{Hours, Joules, KilowattHours, Seconds, Watts};
use serde_json::{json, Map};
use std::sync::mpsc::{channel, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Who a run's energy is charged to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// The whole machine, idle power included (what a wall meter would say).
    Machine,
    /// The measured process tree: its share of the active power and of the idle power.
    Processes,
}

impl Policy {
    /// `machine` or `processes`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Machine => "machine",
            Policy::Processes => "processes",
        }
    }
}

/// What the live status line shows.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Live {
    /// Since the first poll.
    pub elapsed: Seconds,
    /// Charged power over the last interval.
    pub power: Watts,
    /// Charged energy so far (without the rest of the server).
    pub energy: Joules,
}

/// The live figures, shared with the sampler thread.
#[derive(Clone, Debug)]
pub struct LiveHandle(Arc<Mutex<Live>>);

impl LiveHandle {
    /// The latest figures.
    #[must_use]
    pub fn get(&self) -> Live {
        self.0.lock().map(|l| *l).unwrap_or_default()
    }
}

/// Everything the sampler thread needs.
pub struct SamplerConfig {
    /// Time between polls.
    pub interval: Duration,
    /// Machine and process tree (polled first; its PIDs go to the other sources).
    pub procfs: Option<Procfs>,
    /// Energy sources.
    pub sources: Vec<Box<dyn Source>>,
    /// Where raw readings are recorded.
    pub record: Option<TraceWriter>,
    /// Model coefficients.
    pub inputs: ModelInputs,
}

/// What the sampler thread is told.
#[derive(Debug)]
enum Msg {
    /// Poll now and take this mark line with the poll.
    Mark(String),
    /// Take a last poll (with the command's exit code) and end.
    Stop(Option<i32>),
}

/// A sampler running on its own thread.
pub struct Sampler {
    handle: JoinHandle<(Measurement, Vec<String>)>,
    stop: Sender<Msg>,
    live: Arc<Mutex<Live>>,
}

/// Sends mark lines (`begin NAME`, `end NAME`) to a running sampler from another thread.
#[derive(Clone, Debug)]
pub struct Marker(Sender<Msg>);

impl Marker {
    /// Polls now and takes `line` with that poll; `false` once the sampler has stopped.
    pub fn mark(&self, line: &str) -> bool {
        self.0.send(Msg::Mark(line.to_string())).is_ok()
    }
}

impl std::fmt::Debug for Sampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sampler").finish_non_exhaustive()
    }
}

impl Sampler {
    /// Starts polling now, then every `interval` (on a monotonic clock, without drift).
    #[must_use]
    pub fn start(cfg: SamplerConfig) -> Self {
        let (stop, rx) = channel::<Msg>();
        let live = Arc::new(Mutex::new(Live::default()));
        let shared = Arc::clone(&live);
        let handle = std::thread::spawn(move || {
            let SamplerConfig {
                interval,
                mut procfs,
                mut sources,
                mut record,
                inputs,
            } = cfg;
            let mut pipeline = Pipeline::new(inputs);
            let mut notes: Vec<String> = Vec::new();
            let start = Instant::now();
            let mut buf: Vec<Reading> = Vec::new();
            let mut next = start;
            let mut exit: Option<Option<i32>> = None;
            let mut retry_warned: Vec<&'static str> = Vec::new();
            let mut marks: Vec<String> = Vec::new();
            // Whether the last wait reached its tick (a mark polls early and keeps the tick).
            let mut on_tick = true;
            loop {
                let t = start.elapsed().as_secs_f64();
                buf.clear();
                let mut pids = Vec::new();
                if let Some(p) = &mut procfs {
                    if let Err(e) = p.poll(t, &PollContext::default(), &mut buf) {
                        if !retry_warned.contains(&"procfs") {
                            notes.push(format!("procfs: {e}"));
                            retry_warned.push("procfs");
                        }
                    }
                    pids = p.pids();
                }
                let ctx = PollContext { pids: &pids };
                sources.retain_mut(|s| match s.poll(t, &ctx, &mut buf) {
                    Ok(()) => true,
                    Err(PollError::Retry(e)) => {
                        if !retry_warned.contains(&s.name()) {
                            notes.push(format!("{}: {e}", s.name()));
                            retry_warned.push(s.name());
                        }
                        true
                    }
                    Err(e) => {
                        notes.push(format!("{}: {e}", s.name()));
                        false
                    }
                });
                for text in marks.drain(..) {
                    buf.push(Reading {
                        t,
                        source: "child".into(),
                        device: "marks".into(),
                        value: Value::Mark { text },
                    });
                }
                if let Some(Some(code)) = exit {
                    buf.push(Reading {
                        t,
                        source: "child".into(),
                        device: "command".into(),
                        value: Value::Exit { code },
                    });
                }
                if let Some(w) = &mut record {
                    if let Err(e) = w.write(&buf) {
                        notes.push(format!("--record: {e}; recording stopped"));
                        record = None;
                    }
                }
                pipeline.tick(&buf);
                if let Ok(mut l) = shared.lock() {
                    *l = Live {
                        elapsed: pipeline.elapsed(),
                        power: pipeline.power(),
                        energy: pipeline.energy(),
                    };
                }
                if exit.is_some() {
                    break;
                }
                if on_tick {
                    next += interval;
                }
                let wait = next.saturating_duration_since(Instant::now());
                let mut msg = rx.recv_timeout(wait).map_err(|e| match e {
                    RecvTimeoutError::Timeout => None,
                    RecvTimeoutError::Disconnected => Some(()),
                });
                on_tick = false;
                loop {
                    match msg {
                        Ok(Msg::Stop(code)) => exit = Some(code),
                        Ok(Msg::Mark(text)) => {
                            marks.push(text);
                            // Marks that arrive together share one poll.
                            msg = rx.try_recv().map_err(|e| match e {
                                TryRecvError::Empty => None,
                                TryRecvError::Disconnected => Some(()),
                            });
                            if !matches!(msg, Err(None)) {
                                continue;
                            }
                        }
                        Err(None) if marks.is_empty() => {
                            on_tick = true;
                            // Late (a slow poll): skip missed ticks rather than bursting.
                            let now = Instant::now();
                            while next + interval < now {
                                next += interval;
                            }
                        }
                        Err(None) => {}
                        Err(Some(())) => exit = Some(None),
                    }
                    break;
                }
            }
            (pipeline.finish(), notes)
        });
        Self { handle, stop, live }
    }

    /// The latest live figures.
    #[must_use]
    pub fn live(&self) -> Live {
        self.live.lock().map(|l| *l).unwrap_or_default()
    }

    /// A handle that sends mark lines to this sampler.
    #[must_use]
    pub fn marker(&self) -> Marker {
        Marker(self.stop.clone())
    }

    /// A handle to the live figures for another thread.
    #[must_use]
    pub fn live_handle(&self) -> LiveHandle {
        LiveHandle(Arc::clone(&self.live))
    }

    /// Takes a last poll (with the command's exit code) and returns the measurement and the
    /// sources' warnings.
    #[must_use]
    pub fn stop(self, exit_code: Option<i32>) -> (Measurement, Vec<String>) {
        let _ = self.stop.send(Msg::Stop(exit_code));
        match self.handle.join() {
            Ok(r) => r,
            Err(_) => (
                Pipeline::new(ModelInputs {
                    policy: Policy::Machine,
                    cpu_tdp: None,
                    cpu_w_per_thread: 0.0,
                    dram_w_per_gb: 0.0,
                })
                .finish(),
                vec!["the sampler thread panicked; no measurement".into()],
            ),
        }
    }
}

/// Runs a recorded trace through the pipeline.
#[must_use]
pub fn replay(trace: &crate::source::replay::Trace, inputs: ModelInputs) -> Measurement {
    let mut p = Pipeline::new(inputs);
    for poll in &trace.polls {
        p.tick(poll);
    }
    p.finish()
}

/// A measured run as a model for the accounting core: each component drawn within its
/// method's band, the rest of the server as a share of the others.
#[derive(Clone, Debug)]
pub struct RunSpec {
    /// What was measured.
    pub measurement: Measurement,
    /// Rest of the server per unit of the other components.
    pub rest_share: Param,
    /// Where it ran.
    pub site: Site,
}

/// Figure key of the rest of the server.
const REST: &str = "component.rest";

impl Model for RunSpec {
    fn kind(&self) -> &'static str {
        "run"
    }
    fn site(&self) -> &Site {
        &self.site
    }

    fn evaluate<T: Trace>(&self, d: &mut Draw, t: &mut T, rec: &mut Record<'_>) {
        let m = &self.measurement;
        let mut it = ItEnergy::default();
        let mut measured = KilowattHours(0.0);
        for c in &m.breakdown.components {
            let v = KilowattHours(d.value(&c.range_kwh()));
            t.step(|| {
                Step::new(
                    c.key.trim_start_matches("component."),
                    format!(
                        "{} = {} kWh, {} (band +-{}%)",
                        c.name,
                        fmt_num(v.0),
                        c.method.as_str(),
                        fmt_num(c.method.band() * 100.0)
                    ),
                    v.0,
                    "kWh",
                )
            });
            rec.put(c.key, v.0);
            measured += v;
            match c.kind {
                Kind::Accelerator => it.accelerators += v,
                Kind::Host => it.host += v,
                Kind::Server => it.rest += v,
            }
        }
        let share = d.value(&self.rest_share.range);
        let rest = measured * share;
        it.rest += rest;
        rec.put(REST, rest.0);
        t.step(|| {
            Step::new(
                "rest_of_server",
                format!(
                    "E_rest = (CPU + DRAM + GPUs) x share = {} kWh x {}",
                    fmt_num(measured.0),
                    fmt_num(share)
                ),
                rest.0,
                "kWh",
            )
            .source(self.rest_share.source.clone())
        });
        let period = Hours::from(m.duration);
        let servers = match m.policy {
            Policy::Machine => 1.0,
            Policy::Processes if m.duration.0 > 0.0 => {
                (m.tree_cpu_s / (f64::from(m.cpus) * m.duration.0)).min(1.0)
            }
            Policy::Processes => 0.0,
        };
        let busy = Busy {
            accelerators: m.gpus.len() as f64,
            servers,
            period,
        };
        let _ = account(&self.site, d, t, &it, &busy, rec);
    }
}

/// Accounts a measured run: the `wattlens.footprint/v1` estimate object with each component's
/// real method, plus `duration_s`, `exit_code` and the attribution.
#[must_use]
pub fn account_run(
    spec: &RunSpec,
    opts: McOptions,
    assumptions: Vec<Assumption>,
    tags: &std::collections::BTreeMap<String, String>,
) -> Estimate {
    let mut e = estimate::run(spec, opts, assumptions);
    let m = &spec.measurement;
    let mut comps: Vec<ComponentInfo> = m
        .breakdown
        .components
        .iter()
        .map(|c| ComponentInfo {
            key: c.key,
            name: c.name,
            kind: c.kind.as_str(),
            method: c.method,
        })
        .collect();
    comps.push(ComponentInfo {
        key: REST,
        name: "rest of server",
        kind: Kind::Server.as_str(),
        method: Method::Modelled,
    });
    e.method = comps
        .iter()
        .filter(|c| e.get(c.key).is_some_and(|p| p.p95 > 0.0))
        .map(|c| c.method)
        .max()
        .unwrap_or(Method::Modelled);
    e.components = comps;
    let mut extra = Map::new();
    extra.insert("duration_s".into(), json!(m.duration.0));
    extra.insert("exit_code".into(), json!(m.exit_code));
    extra.insert(
        "attribution".into(),
        json!({
            "policy": m.policy.as_str(),
            "cpu_time_s": m.tree_cpu_s,
            "cpus": m.cpus,
            "machine_idle_cpu_kwh": KilowattHours::from(m.machine_idle).0,
            "cpu_tdp_w": m.cpu_tdp.map(|w| w.0),
        }),
    );
    extra.insert("devices".into(), json!(m.gpus));
    extra.insert("tags".into(), json!(tags));
    if !m.windows.is_empty() {
        extra.insert(
            "windows".into(),
            m.windows
                .iter()
                .map(|w| window_json(spec, w, opts))
                .collect(),
        );
    }
    e.extra = extra;
    e.notes = m.warnings.clone();
    e
}

/// One marked window through the same accounting as the whole run: its components' energy
/// over its own duration (embodied carbon for that duration), at the run's site.
fn window_json(spec: &RunSpec, w: &Window, opts: McOptions) -> serde_json::Value {
    let measurement = Measurement {
        breakdown: w.breakdown.clone(),
        duration: Seconds(w.end.0 - w.start.0),
        windows: Vec::new(),
        ..spec.measurement.clone()
    };
    let e = estimate::run(
        &RunSpec {
            measurement,
            rest_share: spec.rest_share.clone(),
            site: spec.site.clone(),
        },
        opts,
        Vec::new(),
    );
    let mut o = json!({
        "name": w.name,
        "start_s": w.start.0,
        "end_s": w.end.0,
        "duration_s": w.end.0 - w.start.0,
        "closed_by_run_end": w.closed_by_run_end,
    });
    for key in [
        "it_energy_kwh",
        "facility_energy_kwh",
        "carbon_kgco2e",
        "water_l",
        "cost",
    ] {
        if let Some(p) = e.get(key) {
            o[key] = json!({"p5": p.p5, "p50": p.p50, "p95": p.p95});
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::energy::{ComponentEnergy, EnergyBreakdown};
    use crate::footprint::tests_support::{p, site};

    fn measurement(cpu_j: f64, gpu_j: f64) -> Measurement {
        Measurement {
            breakdown: EnergyBreakdown {
                components: vec![
                    ComponentEnergy {
                        key: "component.cpu",
                        name: "CPU (active)",
                        kind: Kind::Host,
                        method: Method::Measured,
                        energy: Joules(cpu_j),
                    },
                    ComponentEnergy {
                        key: "component.gpu",
                        name: "GPUs",
                        kind: Kind::Accelerator,
                        method: Method::Integrated,
                        energy: Joules(gpu_j),
                    },
                ],
            },
            duration: Seconds(3600.0),
            exit_code: Some(0),
            tree_cpu_s: 3600.0,
            cpus: 4,
            mem_total_gb: 16.0,
            machine_idle: Joules(0.0),
            gpus: vec!["nvml/gpu0".into()],
            cpu_tdp: None,
            warnings: vec![],
            policy: Policy::Machine,
            windows: vec![],
        }
    }

    #[test]
    fn a_marked_window_goes_through_the_same_accounting() {
        // The run: CPU 1 kWh + GPU 2 kWh over an hour. A window of 10 minutes with a third of
        // it (CPU 0.5 kWh, GPU 0.5 kWh): E_it = 1 x 1.5 (rest 0.5) = 1.5 kWh, E_fac = 2.25 kWh,
        // carbon 2.25 x 400 g = 0.9 kg + embodied for 10 minutes.
        let mut m = measurement(3.6e6, 7.2e6);
        let mut w = m.breakdown.clone();
        w.components[0].energy = Joules(1.8e6);
        w.components[1].energy = Joules(1.8e6);
        m.windows = vec![Window {
            name: "epoch 1".into(),
            start: Seconds(600.0),
            end: Seconds(1200.0),
            breakdown: w,
            closed_by_run_end: false,
        }];
        let spec = RunSpec {
            measurement: m,
            rest_share: p(0.5),
            site: site(),
        };
        let opts = McOptions {
            samples: 1,
            ..McOptions::default()
        };
        let v = account_run(&spec, opts, vec![], &Default::default()).to_json();
        let w = &v["windows"][0];
        assert_eq!(w["name"], "epoch 1");
        assert_eq!(w["duration_s"], 600.0);
        assert!((w["it_energy_kwh"]["p50"].as_f64().unwrap_or(0.0) - 1.5).abs() < 1e-12);
        assert!((w["facility_energy_kwh"]["p50"].as_f64().unwrap_or(0.0) - 2.25).abs() < 1e-12);
        // Embodied: (N_acc x 150 + N_srv x 1000) kg x 10 min / 4 y, the same N as the run's.
        let run_emb = v["embodied_carbon_kgco2e"]["p50"].as_f64().unwrap_or(0.0);
        let carbon = w["carbon_kgco2e"]["p50"].as_f64().unwrap_or(0.0);
        assert!((carbon - (0.9 + run_emb / 6.0)).abs() < 1e-9, "{carbon}");
    }

    #[test]
    fn measured_energy_goes_through_the_accounting_core() {
        // CPU 1 kWh + GPU 2 kWh = 3 kWh; rest 3 x 0.5 = 1.5 kWh; E_it = 4.5 kWh;
        // E_fac = 4.5 x PUE 1.5 = 6.75 kWh; carbon 6.75 x 400 g = 2.7 kg
        let spec = RunSpec {
            measurement: measurement(3.6e6, 7.2e6),
            rest_share: p(0.5),
            site: site(),
        };
        let opts = McOptions {
            samples: 1,
            ..McOptions::default()
        };
        let e = account_run(&spec, opts, vec![], &std::collections::BTreeMap::new());
        let v = e.to_json();
        assert_eq!(v["kind"], "run");
        assert!((v["it_energy_kwh"]["p50"].as_f64().unwrap_or(0.0) - 4.5).abs() < 1e-12);
        assert!((v["facility_energy_kwh"]["p50"].as_f64().unwrap_or(0.0) - 6.75).abs() < 1e-12);
        assert!(
            (v["operational_carbon_kgco2e"]["p50"]
                .as_f64()
                .unwrap_or(0.0)
                - 2.7)
                .abs()
                < 1e-12
        );
        let methods: Vec<&str> = v["components"]
            .as_array()
            .map(|a| a.iter().filter_map(|c| c["method"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(methods, ["measured", "integrated", "modelled"]);
        // The rest of the server is modelled, so the whole is.
        assert_eq!(v["method"], "modelled");
        assert_eq!(v["duration_s"], 3600.0);
        // Without a rest share, the weakest part is the integrated GPU.
        let spec = RunSpec {
            rest_share: p(0.0),
            ..spec
        };
        let e = account_run(&spec, opts, vec![], &std::collections::BTreeMap::new());
        assert_eq!(e.to_json()["method"], "integrated");
        // The band: a measured kWh is drawn within +-5%.
        let e = account_run(&spec, McOptions::default(), vec![], &Default::default());
        let cpu = e.get("component.cpu").expect("cpu");
        assert!(
            cpu.p5 >= 0.95 - 1e-6 && cpu.p95 <= 1.05 + 1e-6 && cpu.p5 < cpu.p95,
            "{cpu:?}"
        );
    }
}
