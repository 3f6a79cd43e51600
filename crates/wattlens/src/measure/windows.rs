//! Marked windows through the run's accounting in one pass, in time linear in the number of
//! windows.
//!
//! Every figure of a run is linear in its component energies (and embodied carbon in the busy
//! time): `E_it = sum(E_c x m_c) x (1 + share)`, `E_fac = E_it x PUE`, and so on, where each
//! Monte Carlo sample draws the component multipliers `m_c` and the site once. So the draws are
//! made once, in the order the runner makes them for a [`RunSpec`]
//! (the same seed gives the run's own samples: a window spanning the whole run gets the run's
//! figures), and each window is a few multiplications per sample. A window's embodied carbon is
//! that of its own span: `(N_acc x kg_acc + N_srv x kg_srv) x window duration / service life`,
//! with `N_srv` the window's own share of the machine; so windows that do not overlap never add
//! up to more than the run.

use super::{Policy, RunSpec, Window};
use crate::equivalents;
use crate::footprint::SiteValues;
use crate::runner::McOptions;
use crate::uncertainty::{
    from_key32, order_key32, percentiles_of_keys32, Draw, Percentiles, Sample, Stage,
};
use crate::units::{GramsCo2e, Hours, KgCo2e, KilowattHours, Seconds};
use serde::Serialize;

/// One sample's draws, as coefficients per kWh of measured component energy.
#[derive(Clone, Copy, Debug, Default)]
struct Coefficients {
    /// IT energy per measured kWh: `1 + rest share`.
    it: f64,
    /// Facility energy per measured kWh.
    fac: f64,
    /// Operational carbon (location-based), kg per measured kWh.
    op: f64,
    /// Water, L per measured kWh.
    water: f64,
    /// Cost per measured kWh.
    cost: f64,
    /// Embodied carbon per accelerator-hour, kg.
    emb_acc_h: f64,
    /// Embodied carbon per server-hour, kg.
    emb_srv_h: f64,
}

/// Figures of a window (see [`figures`]).
const KEYS: usize = 7;

/// Draws one sample in the order the runner draws a run (`RunSpec::evaluate`, the site, the
/// equivalents; a test
/// checks that a window spanning the run gets the run's figures, so a change there shows).
fn draw(spec: &RunSpec, d: &mut Draw, sample: Option<Sample>, mult: &mut Vec<f64>) -> Coefficients {
    let stage = |d: &mut Draw, s: Stage| {
        if let Some(sample) = sample {
            *d = sample.draw(s);
        }
    };
    mult.clear();
    stage(d, Stage::Model);
    for c in &spec.measurement.breakdown.components {
        let r = c.range_kwh();
        let v = d.value(&r);
        let mid = r.mid();
        mult.push(if mid > 0.0 { v / mid } else { 1.0 });
    }
    let share = d.value(&spec.rest_share.range);
    stage(d, Stage::Site);
    let v = SiteValues::draw(&spec.site, d, Hours(0.0));
    stage(d, Stage::Equivalents);
    let _ = equivalents::Inputs::draw(&spec.site, d);
    let (pue, ci, wue, ewif, price) = (v.pue, v.intensity.0, v.wue.0, v.ewif.0, v.price);
    let (emb_acc, emb_srv) = (v.per_accelerator_kg, v.per_server_kg);
    let life = v.service_life.0;
    let it = 1.0 + share;
    let fac = it * pue;
    let per_h = |kg: f64| if life > 0.0 { kg / life } else { 0.0 };
    Coefficients {
        it,
        fac,
        // kWh x g/kWh = g of CO2e, kept as kg per kWh of measured energy.
        op: KgCo2e::from(GramsCo2e(fac * ci)).0,
        water: it * wue + fac * ewif,
        cost: fac * price,
        emb_acc_h: per_h(emb_acc),
        emb_srv_h: per_h(emb_srv),
    }
}

/// With an intensity series under the run, the series' mean over the window's own span, g/kWh
/// (constant power within the window); `None` without one (the run's intensity then).
fn own_intensity(spec: &RunSpec, w: &Window) -> Option<f64> {
    let placed = &spec.site.series.as_ref()?.placed;
    let zero = spec.measurement.started?;
    let at = |s: f64| {
        jiff::SignedDuration::try_from_secs_f64(s)
            .ok()
            .and_then(|d| zero.checked_add(d).ok())
    };
    placed
        .mean_between(at(w.start.0)?, at(w.end.0.max(w.start.0))?)
        .map(|c| c.value())
}

/// The share of a server a window kept busy: the whole machine, or the window's CPU time over
/// the CPU time available in it.
fn servers(spec: &RunSpec, w: &Window) -> f64 {
    let m = &spec.measurement;
    let secs = w.end.0 - w.start.0;
    match m.policy {
        Policy::Machine => 1.0,
        Policy::Processes if secs > 0.0 => (w.tree_cpu_s / (f64::from(m.cpus) * secs)).min(1.0),
        Policy::Processes => 0.0,
    }
}

/// A window's figures for one sample: IT energy, facility energy, carbon, operational carbon,
/// embodied carbon, water, cost. With an intensity series, `ci` is the series over the window's
/// own span (g/kWh), not the run's mean.
fn figures(
    c: &Coefficients,
    measured: f64,
    acc_h: f64,
    srv_h: f64,
    ci: Option<f64>,
) -> [f64; KEYS] {
    let op = match ci {
        Some(ci) => KgCo2e::from(GramsCo2e(measured * c.fac * ci)).0,
        None => measured * c.op,
    };
    let emb = acc_h * c.emb_acc_h + srv_h * c.emb_srv_h;
    [
        measured * c.it,
        measured * c.fac,
        op + emb,
        op,
        emb,
        measured * c.water,
        measured * c.cost,
    ]
}

/// Rounds an `f32`-derived value to 7 significant digits, as the run's own percentiles are.
fn tidy(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    format!("{x:.6e}").parse().unwrap_or(x)
}

/// A marked window's figures, as the JSON's `windows` array lists them.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct WindowFigures {
    /// Its name.
    pub name: String,
    /// Start, seconds since the first poll.
    pub start_s: f64,
    /// End, seconds since the first poll.
    pub end_s: f64,
    /// `end_s - start_s`.
    pub duration_s: f64,
    /// Whether the run ended before an `end` mark did.
    pub closed_by_run_end: bool,
    /// IT energy, kWh.
    pub it_energy_kwh: Percentiles,
    /// Facility energy, kWh.
    pub facility_energy_kwh: Percentiles,
    /// Operational + embodied carbon, kg.
    pub carbon_kgco2e: Percentiles,
    /// Operational carbon (location-based), kg.
    pub operational_carbon_kgco2e: Percentiles,
    /// Embodied carbon of the window's own span, kg.
    pub embodied_carbon_kgco2e: Percentiles,
    /// Water, L.
    pub water_l: Percentiles,
    /// Electricity cost, in the run's currency.
    pub cost: Percentiles,
}

/// Windows summarised on one thread; more are split between two.
const PARALLEL_FROM: usize = 2_000;

/// The windows of a run with their footprint figures, in the order the measurement lists them.
#[must_use]
pub fn windows(spec: &RunSpec, opts: McOptions) -> Vec<WindowFigures> {
    let m = &spec.measurement;
    if m.windows.is_empty() {
        return Vec::new();
    }
    // The central draw, and whether anything is uncertain (as `runner::run` decides).
    let mut central = Draw::Central { uncertain: 0 };
    let mut mult = Vec::new();
    let c0 = draw(spec, &mut central, None, &mut mult);
    let mult0 = mult.clone();
    let uncertain = matches!(central, Draw::Central { uncertain } if uncertain > 0);
    let samples: Vec<(Coefficients, Vec<f64>)> = if uncertain && opts.samples > 1 {
        let mut d = Draw::Central { uncertain: 0 };
        (0..opts.samples)
            .map(|i| {
                let c = draw(
                    spec,
                    &mut d,
                    Some(Sample::new(opts.seed, i as u64)),
                    &mut mult,
                );
                (c, mult.clone())
            })
            .collect()
    } else {
        Vec::new()
    };
    let acc = m.accelerators;
    let one = |w: &Window, cols: &mut Vec<Vec<u32>>| -> WindowFigures {
        let kwh: Vec<f64> = w
            .breakdown
            .components
            .iter()
            .map(|c| KilowattHours::from(c.energy).0)
            .collect();
        let hours = Hours::from(Seconds((w.end.0 - w.start.0).max(0.0))).0;
        let (acc_h, srv_h) = (acc * hours, servers(spec, w) * hours);
        let ci = own_intensity(spec, w);
        let measured = |mult: &[f64]| -> f64 { kwh.iter().zip(mult).map(|(e, k)| e * k).sum() };
        let ps: [Percentiles; 7] = if samples.is_empty() {
            figures(&c0, measured(&mult0), acc_h, srv_h, ci).map(Percentiles::point)
        } else {
            for col in cols.iter_mut() {
                col.clear();
            }
            for (c, mult) in &samples {
                let f = figures(c, measured(mult), acc_h, srv_h, ci);
                for (col, v) in cols.iter_mut().zip(f) {
                    col.push(order_key32(v));
                }
            }
            std::array::from_fn(|i| {
                let p = percentiles_of_keys32(&mut cols[i]);
                let v = |k: u32| tidy(f64::from(from_key32(k)));
                Percentiles {
                    p5: v(p[0]),
                    p50: v(p[1]),
                    p95: v(p[2]),
                }
            })
        };
        let [it, fac, carbon, op, emb, water, cost] = ps;
        WindowFigures {
            name: w.name.clone(),
            start_s: w.start.0,
            end_s: w.end.0,
            duration_s: w.end.0 - w.start.0,
            closed_by_run_end: w.closed_by_run_end,
            it_energy_kwh: it,
            facility_energy_kwh: fac,
            carbon_kgco2e: carbon,
            operational_carbon_kgco2e: op,
            embodied_carbon_kgco2e: emb,
            water_l: water,
            cost,
        }
    };
    let chunk = |ws: &[Window]| -> Vec<WindowFigures> {
        let mut cols: Vec<Vec<u32>> = (0..KEYS)
            .map(|_| Vec::with_capacity(samples.len()))
            .collect();
        ws.iter().map(|w| one(w, &mut cols)).collect()
    };
    let all = &m.windows;
    if opts.threads > 1 && all.len() >= PARALLEL_FROM {
        let (a, b) = all.split_at(all.len() / 2);
        std::thread::scope(|s| {
            let h = s.spawn(|| chunk(b));
            let mut out = chunk(a);
            match h.join() {
                Ok(rest) => out.extend(rest),
                Err(_) => out.extend(chunk(b)),
            }
            out
        })
    } else {
        chunk(all)
    }
}
