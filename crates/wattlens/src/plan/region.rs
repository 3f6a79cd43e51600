//! Where to run (`wattlens plan region`): the same work at each candidate region's site, plus
//! moving its data there, accounted through the runner and the footprint, and the region with
//! the lowest total carbon with the margin by which it wins.
//!
//! Per region `r` (its site resolved as an estimate's with `grid = r`: the grid's intensity
//! `CI_r`, the PUE/WUE/EWIF the catalog gives that region):
//! - compute: `E_it x PUE_r x CI_r` ([`Part::Compute`], the footprint of `E_it` at the site);
//! - transfer: `D x n x CI_r`, the network energy of moving `D` GB at `n` kWh/GB, charged at the
//!   destination's grid ([`Part::Transfer`], the same site with PUE 1: network energy is not
//!   data-centre energy);
//! - total: compute + transfer carbon of the same Monte Carlo sample (the two runs keep their
//!   samples, [`runner::run_keeping`]; sample `i` of every run draws from the same generators,
//!   so the energy, the network intensity and the grid's intensity agree), so its percentiles
//!   are those of the sum and never below the compute's;
//! - transfer hours: `D x 8 / B` (B in Gbit/s);
//! - latency (with `from`): the round trip over fibre from `from` to the region's catalog point
//!   ([`super::latency`]); a region without a point has none (said in a note).
//!
//! The margin of the best region against the runner-up is `total_2 - total_1` per sample: the
//! energy and the network intensity are drawn first in every model, so both regions see the
//! same values of the inputs they share.

use super::{latency, PlanError, PLAN_SCHEMA};
use crate::catalog::{Catalog, Row};
use crate::estimate::site::{fallback_notes, resolve, SiteInputs};
use crate::explain::StepSink;
use crate::field::Field;
use crate::figure::Figure;
use crate::footprint::{Busy, Footprint, ItEnergy, Site};
use crate::record::Record;
use crate::result::ReportKind;
use crate::runner::{self, Evaluate, McOptions, Usage};
use crate::uncertainty::{from_key32, percentiles, Draw, Percentiles, Range};
use crate::units::{Hours, KilowattHours};
use serde::Serialize;

/// The catalog key of the network's energy intensity, kWh/GB.
pub const NETWORK_KEY: &str = "network.kwh_per_gb";

/// The work to place and the data it needs.
#[derive(Clone, Debug)]
pub struct RegionJob {
    /// Candidate regions (grid keys, country codes or cloud regions), in the output's order.
    pub regions: Vec<String>,
    /// Data to move to the region, GB (decimal).
    pub data_gb: f64,
    /// IT energy of the work, kWh (facility energy is this times the region's PUE).
    pub energy_kwh: Range,
    /// How long the work runs once the data is there, h (optional).
    pub hours: Option<f64>,
    /// Link bandwidth, Gbit/s.
    pub bandwidth_gbps: f64,
    /// Network energy intensity, kWh/GB (`None`: the catalog's [`NETWORK_KEY`]).
    pub network_kwh_per_gb: Option<Range>,
    /// Site inputs every region shares (`pue` ...); `grid` is set per region.
    pub site: SiteInputs,
    /// Where the users or the data are (a location key), for the latency each region adds.
    pub from: Option<String>,
}

/// Which energy a [`RegionModel`] accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Part {
    /// The work's IT energy at the site (PUE, WUE, EWIF of the region).
    Compute,
    /// The network energy of moving the data, at the region's grid.
    Transfer,
}

/// One region's work and data transfer as a model of the runner.
#[derive(Clone, Debug)]
pub struct RegionModel {
    /// IT energy, kWh.
    pub energy_kwh: Range,
    /// Network energy intensity, kWh/GB.
    pub network_kwh_per_gb: Range,
    /// Data moved, GB.
    pub data_gb: f64,
    /// The period the work keeps the site busy, h (0 when not given).
    pub hours: f64,
    /// What it accounts.
    pub part: Part,
    /// The site (for [`Part::Transfer`]: PUE 1, no on-site water).
    pub site: Site,
}

impl RegionModel {
    /// The model of `part` for a region whose resolved site is `site`.
    #[must_use]
    pub fn new(job: &RegionJob, network: Range, site: &Site, part: Part) -> Self {
        let site = match part {
            Part::Compute => site.clone(),
            Part::Transfer => network_site(site),
        };
        Self {
            energy_kwh: job.energy_kwh,
            network_kwh_per_gb: network,
            data_gb: job.data_gb,
            hours: job.hours.unwrap_or(0.0),
            part,
            site,
        }
    }
}

/// `site` for energy that is not the data centre's own: PUE 1 (the model applies the region's
/// PUE to the work's share itself), no on-site water, no market intensity.
fn network_site(site: &Site) -> Site {
    let mut s = site.clone();
    s.pue.range = Range::point(1.0);
    s.wue.range = Range::point(0.0);
    s.market_intensity = None;
    s
}

impl Evaluate for RegionModel {
    type State = ();

    /// Accounted as a fleet: an energy at a site, no hardware counted.
    fn kind(&self) -> ReportKind {
        ReportKind::Fleet
    }
    fn site(&self) -> &Site {
        &self.site
    }
    fn components(&self) -> &'static [Figure] {
        &[]
    }
    fn evaluate<T: StepSink>(&self, d: &mut Draw, _: &mut T, _: &mut Record<'_>) -> Usage<()> {
        // The shared inputs first, in every part and region, so paired runs draw them alike.
        let e = d.value(&self.energy_kwh);
        let n = d.value(&self.network_kwh_per_gb);
        let transfer = self.data_gb * n;
        let it = match self.part {
            Part::Compute => e,
            Part::Transfer => transfer,
        };
        Usage {
            it: ItEnergy {
                host: KilowattHours(it),
                ..ItEnergy::default()
            },
            busy: Busy {
                accelerators: 0.0,
                servers: 0.0,
                period: Hours(self.hours),
            },
            state: (),
        }
    }
    fn finish<T: StepSink>(&self, (): (), _: &Footprint, _: &mut T, _: &mut Record<'_>) {}
}

/// One candidate region's figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RegionResult {
    /// The region as given.
    pub region: String,
    /// The catalog grid it resolved to.
    pub grid: String,
    /// The grid's location-based intensity, g/kWh.
    pub intensity_g_per_kwh: Percentiles,
    /// The site's PUE.
    pub pue: Percentiles,
    /// The site's on-site water, L per kWh of IT energy.
    pub wue_l_per_kwh: Percentiles,
    /// The work's facility energy, kWh.
    pub facility_energy_kwh: Percentiles,
    /// The work's carbon at the site, kgCO2e.
    pub carbon_kgco2e: Percentiles,
    /// The network energy of moving the data, kWh.
    pub transfer_energy_kwh: Percentiles,
    /// Its carbon at the region's grid, kgCO2e.
    pub transfer_carbon_kgco2e: Percentiles,
    /// Hours to move the data at the link's bandwidth.
    pub transfer_hours: Percentiles,
    /// Water of the work (on-site cooling and off-site generation), L.
    pub water_l: Percentiles,
    /// Electricity cost of the work at the region's price.
    pub cost: Percentiles,
    /// The currency of `cost`.
    pub currency: String,
    /// Compute plus transfer carbon, per sample, kgCO2e.
    pub total_carbon_kgco2e: Percentiles,
    /// Round trip from `from` over fibre, ms: `{low, middle, high}` of the route inflation
    /// (absent without `from`, or when the catalog has no location for the region).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<Percentiles>,
}

/// The region to choose and by how much it wins.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Best {
    /// The region with the lowest total carbon (P50).
    pub region: String,
    /// The next lowest (`None` with one candidate).
    pub runner_up: Option<String>,
    /// `runner-up total - best total` on the same draws, kgCO2e.
    pub margin_kgco2e: Option<Percentiles>,
    /// Whether the margin's P5..P95 excludes 0.
    pub distinguishable: bool,
}

/// The plan: every candidate and the best.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RegionPlan {
    /// [`PLAN_SCHEMA`].
    pub schema: &'static str,
    /// Data moved, GB.
    pub data_gb: f64,
    /// IT energy of the work, kWh.
    pub energy_kwh: Percentiles,
    /// How long the work runs, h, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hours: Option<f64>,
    /// Link bandwidth, Gbit/s.
    pub bandwidth_gbps: f64,
    /// Network energy intensity, kWh/GB (its range as P5/P50/P95 of a uniform draw's bounds:
    /// low, middle, high).
    pub network_kwh_per_gb: Percentiles,
    /// Where the network intensity comes from.
    pub network_source: String,
    /// Where the users or the data are (the location key latency is measured from).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The candidates, in the order given.
    pub regions: Vec<RegionResult>,
    /// The best.
    pub best: Best,
    /// Monte Carlo samples.
    pub samples: usize,
    /// What the reader should know: templates whose fields (`{price}`) a front end names in its
    /// own words with [`RegionPlan::name_fields`].
    pub notes: Vec<String>,
}

impl RegionPlan {
    /// Renders the fields the notes mention in a front end's words (`{price}` -> `--price`).
    pub fn name_fields(&mut self, name: &dyn Fn(Field) -> String) {
        for n in &mut self.notes {
            *n = crate::field::render(n, name);
        }
    }
}

/// Checks `job`, resolves each region's site from `cat`, accounts each through the runner and
/// picks the best.
///
/// # Errors
/// [`PlanError::Invalid`] naming the input at fault (no region, a region twice, data, energy,
/// bandwidth, hours or network intensity that is not positive); [`PlanError::Site`] when a
/// region's site cannot be resolved (an unknown region, naming the closest catalog names).
pub fn plan_region(
    cat: &Catalog,
    job: &RegionJob,
    opts: McOptions,
) -> Result<RegionPlan, PlanError> {
    check(job)?;
    let (network, network_source) = match job.network_kwh_per_gb {
        Some(r) => (r, "given".to_string()),
        None => {
            let c = cat
                .coefficient(NETWORK_KEY)
                .map_err(|e| PlanError::Site(e.into()))?;
            (c.range(), format!("{NETWORK_KEY}: {}", Row::cite(c)))
        }
    };
    let origin = job
        .from
        .as_deref()
        .map(|f| latency::origin(cat, f))
        .transpose()?;
    let mut unplaced = Vec::new();
    let mut regions = Vec::with_capacity(job.regions.len());
    let mut totals = Vec::with_capacity(job.regions.len());
    let mut samples = 1;
    let mut fallbacks = Vec::new();
    for name in &job.regions {
        let inputs = SiteInputs {
            grid: Some(name.clone()),
            ..job.site.clone()
        };
        let mut assumed = Vec::new();
        let resolved = resolve(cat, &inputs, &mut assumed).map_err(PlanError::Site)?;
        fallbacks.extend(
            fallback_notes(&assumed)
                .into_iter()
                .map(|n| format!("{name}: {n}")),
        );
        let grid = resolved
            .grid
            .map_or_else(|| name.clone(), |g| g.key.clone());
        let site = resolved.site;
        let run = |part| {
            let m = RegionModel::new(job, network, &site, part);
            runner::run_keeping(&m, opts, Vec::new(), &[Figure::Carbon])
        };
        let (compute, cc) = run(Part::Compute);
        let (transfer, tc) = run(Part::Transfer);
        // Compute + transfer per sample (a run of point inputs keeps one value).
        let (c, t) = (carbon_samples(&cc), carbon_samples(&tc));
        let n = c.len().max(t.len());
        let at = |v: &[f64], i: usize| if v.len() == 1 { v[0] } else { v[i] };
        let total: Vec<f64> = (0..n).map(|i| at(&c, i) + at(&t, i)).collect();
        samples = samples.max(compute.samples);
        let get = |r: &crate::result::Report, f| r.get(f).unwrap_or(Percentiles::point(0.0));
        let hours = job.data_gb * 8.0 / job.bandwidth_gbps / 3600.0;
        let latency_ms = match &origin {
            Some((_, point)) => {
                let l = latency::to_key(cat, *point, &grid)?;
                if l.is_none() {
                    unplaced.push(name.clone());
                }
                l
            }
            None => None,
        };
        regions.push(RegionResult {
            region: name.clone(),
            grid,
            intensity_g_per_kwh: bounds(site.intensity.range.range()),
            pue: bounds(site.pue.range),
            wue_l_per_kwh: bounds(site.wue.range),
            facility_energy_kwh: get(&compute, Figure::FacilityEnergy),
            carbon_kgco2e: get(&compute, Figure::Carbon),
            transfer_energy_kwh: get(&transfer, Figure::FacilityEnergy),
            transfer_carbon_kgco2e: get(&transfer, Figure::Carbon),
            transfer_hours: Percentiles::point(hours),
            water_l: get(&compute, Figure::Water),
            cost: get(&compute, Figure::Cost),
            currency: site.currency.clone(),
            total_carbon_kgco2e: percentiles(&total),
            latency_ms,
        });
        totals.push(total);
    }
    let (best, mut notes) = choose(&regions, &totals);
    notes.extend(fallbacks);
    notes.push(latency_note(
        origin.as_ref().map(|(k, _)| k.as_str()),
        &unplaced,
    ));
    Ok(RegionPlan {
        schema: PLAN_SCHEMA,
        data_gb: job.data_gb,
        energy_kwh: bounds(job.energy_kwh),
        hours: job.hours,
        bandwidth_gbps: job.bandwidth_gbps,
        network_kwh_per_gb: bounds(network),
        network_source,
        from: origin.map(|(k, _)| k),
        regions,
        best,
        samples,
        notes,
    })
}

/// What the latency column is, or how to get it.
fn latency_note(from: Option<&str>, unplaced: &[String]) -> String {
    let Some(from) = from else {
        return "no latency: give {from} (where the users or the data are, e.g. FR or \
                gcp:europe-west1) for the round trip to each region"
            .into();
    };
    let mut n = format!(
        "latency: round trip over fibre from {from}, 2 x great-circle distance x route \
         inflation {}..{}..{} / {:.0} km/ms + {} ms floor (modelled; points: `wattlens catalog \
         list locations`)",
        latency::INFLATION[0],
        latency::INFLATION[1],
        latency::INFLATION[2],
        latency::FIBRE_KM_PER_MS,
        latency::FLOOR_MS
    );
    if !unplaced.is_empty() {
        n.push_str(&format!(
            "; no latency for {}: the catalog has no location for it",
            unplaced.join(", ")
        ));
    }
    n
}

/// The carbon of every sample a run kept, kgCO2e (one value for a run of point inputs).
fn carbon_samples(c: &runner::Columns) -> Vec<f64> {
    c.figures
        .iter()
        .position(|f| *f == Figure::Carbon)
        .map(|i| {
            c.cols[i]
                .iter()
                .map(|k| f64::from(from_key32(*k)))
                .collect()
        })
        .unwrap_or_else(|| vec![0.0])
}

/// A range as `{low, middle, high}` (an input's bounds, not a Monte Carlo's percentiles).
fn bounds(r: Range) -> Percentiles {
    Percentiles {
        p5: r.lo,
        p50: r.mid(),
        p95: r.hi,
    }
}

/// The region with the lowest total P50 (the first on a tie), the runner-up, and the margin
/// per sample (`totals`: each region's total carbon per sample, in the same sample order).
fn choose(regions: &[RegionResult], totals: &[Vec<f64>]) -> (Best, Vec<String>) {
    let mut order: Vec<usize> = (0..regions.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (
            regions[a].total_carbon_kgco2e.p50,
            regions[b].total_carbon_kgco2e.p50,
        );
        x.total_cmp(&y).then(a.cmp(&b))
    });
    let first = order[0];
    let mut notes = Vec::new();
    let Some(&second) = order.get(1) else {
        return (
            Best {
                region: regions[first].region.clone(),
                runner_up: None,
                margin_kgco2e: None,
                distinguishable: true,
            },
            notes,
        );
    };
    let (a, b) = (&totals[first], &totals[second]);
    let n = a.len().max(b.len());
    let at = |v: &[f64], i: usize| if v.len() == 1 { v[0] } else { v[i] };
    let diffs: Vec<f64> = (0..n).map(|i| at(b, i) - at(a, i)).collect();
    let margin = percentiles(&diffs);
    let distinguishable = margin.p5 > 0.0 || margin.p95 < 0.0;
    let (a, b) = (&regions[first].region, &regions[second].region);
    if !distinguishable {
        notes.push(format!(
            "{a} and {b} are not distinguishable: the margin's P5..P95 contains 0 (the inputs' \
             ranges could put either first)"
        ));
    }
    (
        Best {
            region: a.clone(),
            runner_up: Some(b.clone()),
            margin_kgco2e: Some(margin),
            distinguishable,
        },
        notes,
    )
}

/// The inputs' own limits, each error naming its field.
fn check(job: &RegionJob) -> Result<(), PlanError> {
    if job.regions.is_empty() {
        return Err(PlanError::invalid(
            Field::Regions,
            "give at least one region",
        ));
    }
    for (i, r) in job.regions.iter().enumerate() {
        if r.trim().is_empty() {
            return Err(PlanError::invalid(Field::Regions, "a region name is empty"));
        }
        if job.regions[..i].iter().any(|x| x.eq_ignore_ascii_case(r)) {
            return Err(PlanError::invalid(
                Field::Regions,
                format!("{r} is listed twice"),
            ));
        }
    }
    let positive = |x: f64| x.is_finite() && x > 0.0;
    if !positive(job.data_gb) {
        return Err(PlanError::invalid(Field::Data, "the data must be positive"));
    }
    if !(positive(job.energy_kwh.lo) && job.energy_kwh.hi.is_finite()) {
        return Err(PlanError::invalid(
            Field::Energy,
            "the energy must be positive",
        ));
    }
    if !positive(job.bandwidth_gbps) {
        return Err(PlanError::invalid(
            Field::Bandwidth,
            "the bandwidth must be positive",
        ));
    }
    if job.hours.is_some_and(|h| !positive(h)) {
        return Err(PlanError::invalid(
            Field::Hours,
            "the hours must be positive",
        ));
    }
    if let Some(n) = job.network_kwh_per_gb {
        if !(n.lo.is_finite() && n.hi.is_finite() && n.lo >= 0.0) {
            return Err(PlanError::invalid(
                Field::NetworkIntensity,
                "the network's energy intensity must be 0 or more",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "region_tests.rs"]
mod tests;
