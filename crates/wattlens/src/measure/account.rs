//! A measured run through the accounting core: [`RunSpec`] is the run as a model (each
//! component drawn within its method's band, the rest of the server as a share of the others),
//! [`account_run`] the footprint object with the run's own fields and its marked windows
//! (`windows.rs`).

use super::{Measurement, Policy};
use crate::energy::{ComponentKind, Method};
use crate::explain::{Assumption, Step, StepSink};
use crate::figure::Figure;
use crate::footprint::{Busy, Footprint, ItEnergy, Param, Site};
use crate::record::Record;
use crate::result::ReportKind;
use crate::result::{self, Attribution, Details};
use crate::result::{ComponentInfo, Report};
use crate::runner::{self, Evaluate, McOptions, Usage};
use crate::uncertainty::{fmt_num, Draw};
use crate::units::{Hours, KilowattHours};

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

impl Evaluate for RunSpec {
    type State = ();

    fn kind(&self) -> ReportKind {
        ReportKind::Run
    }
    /// The run lists its own components (measured, with their methods), and the rest of the
    /// server as the footprint has it.
    fn components(&self) -> &'static [Figure] {
        &[Figure::ComponentRest]
    }
    fn site(&self) -> &Site {
        &self.site
    }

    fn evaluate<T: StepSink>(&self, d: &mut Draw, t: &mut T, rec: &mut Record<'_>) -> Usage<()> {
        let m = &self.measurement;
        let mut it = ItEnergy::default();
        let mut measured = KilowattHours(0.0);
        for c in &m.breakdown.components {
            let v = KilowattHours(d.value(&c.range_kwh()));
            t.step(|| {
                Step::new(
                    c.key.key().trim_start_matches("component."),
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
                ComponentKind::Accelerator => it.accelerators += v,
                ComponentKind::Host => it.host += v,
                ComponentKind::Server => it.rest += v,
            }
        }
        let share = d.value(&self.rest_share.range);
        let rest = measured * share;
        it.rest += rest;
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
            accelerators: m.accelerators,
            servers,
            period,
        };
        Usage {
            it,
            busy,
            state: (),
        }
    }

    fn finish<T: StepSink>(&self, (): (), _: &Footprint, _: &mut T, _: &mut Record<'_>) {}
}

/// Accounts a measured run: the `wattlens.footprint/v1` estimate object with each component's
/// real method, plus `duration_s`, `exit_code` and the attribution. Its marked windows come
/// from [`super::windows`] (kept apart: a run may have very many, and they are written to the
/// JSON without building a JSON tree of them, `report::write_run_json`).
#[must_use]
pub fn account_run(
    spec: &RunSpec,
    opts: McOptions,
    assumptions: Vec<Assumption>,
    tags: &std::collections::BTreeMap<String, String>,
) -> Report {
    // One figure per component: the run's own, with their methods, and the rest of the server
    // (`RunSpec::components`).
    let mut e = runner::run(spec, opts, assumptions);
    let m = &spec.measurement;
    let mut comps: Vec<ComponentInfo> = m
        .breakdown
        .components
        .iter()
        .map(|c| ComponentInfo::new(c.key, c.kind, c.method))
        .collect();
    comps.push(ComponentInfo::new(
        Figure::ComponentRest,
        ComponentKind::Server,
        Method::Modelled,
    ));
    e.method = comps
        .iter()
        .filter(|c| e.get(c.key).is_some_and(|p| p.p95 > 0.0))
        .map(|c| c.method)
        .max()
        .unwrap_or(Method::Modelled);
    e.components = comps;
    e.details = Details::Run(Box::new(result::RunDetails {
        duration_s: m.duration.0,
        exit_code: m.exit_code,
        attribution: Attribution {
            policy: m.policy.as_str().to_string(),
            policy_requested: m.requested_policy.as_str().to_string(),
            cpu_time_s: m.tree_cpu_s,
            cpus: m.cpus,
            machine_idle_cpu_kwh: KilowattHours::from(m.machine_idle).0,
            cpu_tdp_w: m.cpu_tdp.map(|w| w.0),
        },
        devices: m.gpus.clone(),
        tags: tags.clone(),
        provenance: None,
        replay: None,
        profile: m
            .profile
            .iter()
            .map(|b| result::ProfilePoint {
                start_s: b.start,
                end_s: b.end,
                energy_kwh: KilowattHours::from(b.energy).0,
            })
            .collect(),
    }));
    e.notes = m.warnings.clone();
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::energy::{ComponentEnergy, EnergyBreakdown};
    use crate::footprint::tests_support::{p, site};
    use crate::measure::Window;
    use crate::units::{Joules, Seconds};

    fn measurement(cpu_j: f64, gpu_j: f64) -> Measurement {
        Measurement {
            breakdown: EnergyBreakdown {
                components: vec![
                    ComponentEnergy {
                        key: Figure::ComponentCpu,
                        name: "CPU (active)",
                        kind: ComponentKind::Host,
                        method: Method::Measured,
                        energy: Joules(cpu_j),
                    },
                    ComponentEnergy {
                        key: Figure::ComponentGpu,
                        name: "GPUs",
                        kind: ComponentKind::Accelerator,
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
            accelerators: 1.0,
            cpu_tdp: None,
            warnings: vec![],
            policy: Policy::Machine,
            requested_policy: Policy::Machine,
            windows: vec![],
            profile: vec![],
            started: None,
            machine_busy_share: None,
            cpu_counter_read: true,
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
            tree_cpu_s: 600.0,
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
        let v = run_json(&spec, opts);
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
        let v = serde_json::to_value(&e).expect("serialises");
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
        assert_eq!(
            serde_json::to_value(&e).expect("serialises")["method"],
            "integrated"
        );
        // The band: a measured kWh is drawn within +-5%.
        let e = account_run(&spec, McOptions::default(), vec![], &Default::default());
        let cpu = e.get(Figure::ComponentCpu).expect("cpu");
        assert!(
            cpu.p5 >= 0.95 - 1e-6 && cpu.p95 <= 1.05 + 1e-6 && cpu.p5 < cpu.p95,
            "{cpu:?}"
        );
    }

    /// The run's JSON with its windows.
    fn run_json(spec: &RunSpec, opts: McOptions) -> serde_json::Value {
        let e = account_run(spec, opts, vec![], &Default::default());
        crate::report::run_json(&e, &super::super::windows(spec, opts))
    }

    fn window(name: &str, start: f64, end: f64, cpu_j: f64, gpu_j: f64, cpu_s: f64) -> Window {
        let mut b = measurement(cpu_j, gpu_j).breakdown;
        b.components[0].energy = Joules(cpu_j);
        b.components[1].energy = Joules(gpu_j);
        Window {
            name: name.into(),
            start: Seconds(start),
            end: Seconds(end),
            breakdown: b,
            tree_cpu_s: cpu_s,
            closed_by_run_end: false,
        }
    }

    #[test]
    fn a_window_spanning_the_run_gets_the_run_figures() {
        // The windows draw the run's own Monte Carlo samples: the whole run as a window gives
        // the run's percentiles (up to the f32 keys both are summarised through).
        let mut m = measurement(3.6e6, 7.2e6);
        m.policy = Policy::Processes;
        m.tree_cpu_s = 7200.0;
        m.windows = vec![window("all", 0.0, 3600.0, 3.6e6, 7.2e6, 7200.0)];
        let spec = RunSpec {
            measurement: m,
            rest_share: Param::new(crate::uncertainty::Range::new(0.2, 0.5), "test"),
            site: site(),
        };
        let v = run_json(&spec, McOptions::default());
        let w = &v["windows"][0];
        for key in [
            "it_energy_kwh",
            "facility_energy_kwh",
            "carbon_kgco2e",
            "embodied_carbon_kgco2e",
            "water_l",
            "cost",
        ] {
            for q in ["p5", "p50", "p95"] {
                let (a, b) = (
                    v[key][q].as_f64().unwrap_or(f64::NAN),
                    w[key][q].as_f64().unwrap_or(f64::NAN),
                );
                assert!(
                    (a - b).abs() <= 1e-6 * a.abs(),
                    "{key}.{q}: run {a}, window {b}"
                );
            }
        }
    }

    #[test]
    fn windows_get_the_embodied_carbon_of_their_own_span() {
        // 8 s on 4 CPUs charged to the processes: 4 s busy on one CPU, then 4 s asleep. The busy
        // window kept a quarter of the server for 4 s; the idle one nothing; a 2 s window
        // inside the busy one half that. Together they never exceed the run.
        let mut m = measurement(400.0, 0.0);
        m.gpus = vec![];
        m.accelerators = 0.0;
        m.policy = Policy::Processes;
        m.duration = Seconds(8.0);
        m.tree_cpu_s = 4.0;
        m.windows = vec![
            window("busy", 0.0, 4.0, 380.0, 0.0, 4.0),
            window("idle", 4.0, 8.0, 20.0, 0.0, 0.0),
            window("half", 1.0, 3.0, 190.0, 0.0, 2.0),
        ];
        let spec = RunSpec {
            measurement: m,
            rest_share: p(0.5),
            site: site(),
        };
        let opts = McOptions {
            samples: 1,
            ..McOptions::default()
        };
        let v = run_json(&spec, opts);
        let emb =
            |o: &serde_json::Value| o["embodied_carbon_kgco2e"]["p50"].as_f64().unwrap_or(-1.0);
        let run = emb(&v);
        // 1000 kg x 0.25 server x 4 s / 4 years.
        let busy = 1000.0 * 0.25 * 4.0 / 3600.0 / (4.0 * 8760.0);
        assert!((run - busy).abs() < 1e-15, "run {run} vs {busy}");
        let w = &v["windows"];
        assert!((emb(&w[0]) - busy).abs() < 1e-15, "{}", w[0]);
        assert_eq!(emb(&w[1]), 0.0, "{}", w[1]);
        assert!((emb(&w[2]) - busy / 2.0).abs() < 1e-15, "{}", w[2]);
        assert!(emb(&w[0]) + emb(&w[1]) <= run * (1.0 + 1e-12));
        // Carbon = operational + embodied, both listed.
        let c = w[0]["carbon_kgco2e"]["p50"].as_f64().unwrap_or(0.0);
        let op = w[0]["operational_carbon_kgco2e"]["p50"]
            .as_f64()
            .unwrap_or(0.0);
        assert!((c - op - busy).abs() < 1e-15);
    }

    #[test]
    fn a_run_has_one_figure_per_component() {
        let spec = RunSpec {
            measurement: measurement(3.6e6, 7.2e6),
            rest_share: p(0.5),
            site: site(),
        };
        let e = account_run(&spec, McOptions::default(), vec![], &Default::default());
        let keys: Vec<&str> = e
            .figures
            .iter()
            .map(|(k, _)| *k)
            .filter(|k| k.group() == crate::figure::Group::Component)
            .map(Figure::key)
            .collect();
        assert_eq!(keys.len(), 3, "{keys:?}");
        assert_eq!(
            keys.iter().collect::<std::collections::BTreeSet<_>>().len(),
            3,
            "{keys:?}"
        );
        assert!(!keys.contains(&"component.host"), "{keys:?}");
        let names: Vec<String> = e.components.iter().map(|c| c.key.to_string()).collect();
        let mut sorted = keys.iter().map(|k| (*k).to_string()).collect::<Vec<_>>();
        sorted.sort();
        let mut n = names.clone();
        n.sort();
        assert_eq!(sorted, n);
    }
}
