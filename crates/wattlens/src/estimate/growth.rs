//! Growth and rebound: a fleet's energy, carbon and water year by year when the demand for its
//! service grows, its energy per unit of service falls and, optionally, cheaper service raises
//! demand further (rebound), on a grid that may decarbonise.
//!
//! Year `t` (0 = the base year) of one draw of the rates `X` (demand growth), `Y` (efficiency
//! gain), `E` (elasticity of demand to the cost of a unit of service) and `Z` (grid
//! decarbonisation):
//!
//! ```text
//! energy per unit  u_t = (1 - Y)^t
//! demand           D_t = (1 + X)^t x (u_t)^(-E)       cost per unit of service ~ u_t
//! energy           F_t = D_t x u_t = [(1 + X)(1 - Y)^(1 - E)]^t
//! carbon           C_t = operational carbon of F_t x (1 - Z)^t
//! ```
//!
//! Each year is one [`runner::run`](crate::runner::run) of [`GrowthYear`] with the same options,
//! so sample `i` of every year has the same draws: the years are paired, and a cumulative total
//! is summed per sample, not from percentiles.

use super::fleet::FleetSpec;
use super::resolve::{Growth, Resolved};
use super::run_resolved;
use crate::explain::{Step, StepSink};
use crate::figure::Figure;
use crate::footprint::{Busy, Footprint, ItEnergy, Site};
use crate::record::Record;
use crate::result::{
    Details, FleetDetails, GrowthRates, Report, ReportKind, Trajectory, TrajectoryYear,
};
use crate::runner::{run, Evaluate, McOptions, Usage};
use crate::uncertainty::{fmt_input, Draw, Percentiles, Range};
use crate::units::{Hours, KilowattHours};

/// Hours in a trajectory year: each year's figures are the fleet's average use over a year.
pub const HOURS_PER_YEAR: f64 = 8760.0;

/// The yearly rates of a trajectory, each a point or a range, as fractions (0.2 = 20% a year).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rates {
    /// `X`: yearly growth of the demand for the service (exogenous, before rebound).
    pub demand_growth: Range,
    /// `Y`: yearly fall of the energy per unit of service (negative: efficiency worsens).
    pub efficiency_gain: Range,
    /// `E`: elasticity of demand to the cost of a unit of service (0: no rebound).
    pub elasticity: Range,
    /// `Z`: yearly fall of the grid's carbon intensity (negative: the grid gets dirtier).
    pub grid_decarbonisation: Range,
}

impl Default for Rates {
    /// No growth, no efficiency gain, no rebound, no decarbonisation.
    fn default() -> Self {
        let zero = Range::point(0.0);
        Self {
            demand_growth: zero,
            efficiency_gain: zero,
            elasticity: zero,
            grid_decarbonisation: zero,
        }
    }
}

/// One draw of the [`Rates`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Factors {
    /// `X`, demand growth a year.
    pub x: f64,
    /// `Y`, efficiency gain a year.
    pub y: f64,
    /// `E`, elasticity of demand to the cost of a unit of service.
    pub e: f64,
    /// `Z`, grid decarbonisation a year.
    pub z: f64,
}

impl Factors {
    /// Draws the rates, in a fixed order (`X`, `Y`, `E`, `Z`).
    pub fn draw(r: &Rates, d: &mut Draw) -> Self {
        Self {
            x: d.value(&r.demand_growth),
            y: d.value(&r.efficiency_gain),
            e: d.value(&r.elasticity),
            z: d.value(&r.grid_decarbonisation),
        }
    }

    /// Energy per unit of service in year `t` relative to year 0: `(1 - Y)^t`.
    #[must_use]
    pub fn energy_per_unit(&self, t: u32) -> f64 {
        (1.0 - self.y).powi(t as i32)
    }

    /// Demand in year `t` relative to year 0: `(1 + X)^t x ((1 - Y)^t)^(-E)`. With `E = 0` the
    /// second factor is exactly 1.
    #[must_use]
    pub fn demand(&self, t: u32) -> f64 {
        (1.0 + self.x).powi(t as i32) * (1.0 - self.y).powf(-self.e * f64::from(t))
    }

    /// Energy in year `t` relative to year 0: demand x energy per unit.
    #[must_use]
    pub fn energy(&self, t: u32) -> f64 {
        self.demand(t) * self.energy_per_unit(t)
    }

    /// Grid carbon intensity in year `t` relative to year 0: `(1 - Z)^t`.
    #[must_use]
    pub fn intensity(&self, t: u32) -> f64 {
        (1.0 - self.z).powi(t as i32)
    }

    /// The effective yearly growth of energy, `(1 + X)(1 - Y)^(1 - E) - 1`: positive when
    /// demand (with its rebound) outruns the efficiency gains.
    #[must_use]
    pub fn growth(&self) -> f64 {
        (1.0 + self.x) * (1.0 - self.y).powf(1.0 - self.e) - 1.0
    }
}

/// Year `year` of a fleet's trajectory: the fleet's IT energy over its period, as an average
/// over a year ([`HOURS_PER_YEAR`]), times the energy index of the year; then the shared
/// accounting, and the trajectory's own figures.
#[derive(Clone, Copy, Debug)]
pub struct GrowthYear<'a> {
    /// The base year's fleet.
    pub fleet: &'a FleetSpec,
    /// The rates.
    pub rates: &'a Rates,
    /// Years since the base year.
    pub year: u32,
}

impl Evaluate for GrowthYear<'_> {
    /// The year's IT energy and the rates drawn.
    type State = (KilowattHours, Factors);

    fn kind(&self) -> ReportKind {
        ReportKind::Fleet
    }
    fn site(&self) -> &Site {
        &self.fleet.site
    }

    fn evaluate<T: StepSink>(
        &self,
        d: &mut Draw,
        t: &mut T,
        rec: &mut Record<'_>,
    ) -> Usage<Self::State> {
        let u = self.fleet.evaluate(d, t, rec);
        let f = Factors::draw(self.rates, d);
        let index = f.energy(self.year);
        let scale = index * HOURS_PER_YEAR / u.busy.period.0;
        t.step(|| {
            Step::new(
                "energy_index",
                format!(
                    "F_t = [(1 + X)(1 - Y)^(1 - E)]^t = [(1 + {})(1 - {})^(1 - {})]^{}",
                    fmt_input(f.x),
                    fmt_input(f.y),
                    fmt_input(f.e),
                    self.year
                ),
                index,
                "",
            )
        });
        let it = ItEnergy {
            accelerators: u.it.accelerators * scale,
            host: u.it.host * scale,
            rest: u.it.rest * scale,
        };
        let busy = Busy {
            period: Hours(HOURS_PER_YEAR),
            ..u.busy
        };
        Usage {
            it,
            busy,
            state: (u.state * scale, f),
        }
    }

    fn finish<T: StepSink>(
        &self,
        (total, f): Self::State,
        fp: &Footprint,
        t: &mut T,
        rec: &mut Record<'_>,
    ) {
        self.fleet.finish(total, fp, t, rec);
        let year = self.year;
        let index = f.energy(year);
        rec.put(Figure::DemandIndex, f.demand(year));
        rec.put(Figure::EnergyPerUnitIndex, f.energy_per_unit(year));
        rec.put(Figure::EnergyGrowthRate, f.growth());
        rec.put(
            Figure::TrajectoryCarbon,
            fp.operational_carbon.0 * f.intensity(year),
        );
        // The base year's figures are this year's over its energy index (the accounting is
        // linear in energy for one draw of the site); the cumulative figures sum years 0..=t.
        // Running products (one multiplication a year, not a power): F_k = m^k, (1 - Z)^k.
        let m = f.energy(1);
        let (mut energy, mut carbon, mut fk, mut zk) = (0.0, 0.0, 1.0, 1.0);
        for _ in 0..=year {
            energy += fk;
            carbon += fk * zk;
            fk *= m;
            zk *= 1.0 - f.z;
        }
        rec.put(Figure::CumulativeEnergy, fp.facility.0 * energy / index);
        rec.put(
            Figure::CumulativeCarbon,
            fp.operational_carbon.0 * carbon / index,
        );
        rec.put(Figure::CumulativeWater, fp.water().0 * energy / index);
    }
}

/// The trajectory of `fleet` over `years` years after `start_year` (rows `0..=years`), each
/// year a run of the runner with `opts`.
#[must_use]
pub fn trajectory(
    fleet: &FleetSpec,
    rates: &Rates,
    years: u32,
    start_year: i32,
    opts: McOptions,
) -> Trajectory {
    let mut rows = Vec::with_capacity(years as usize + 1);
    let mut growth = Percentiles::point(0.0);
    for year in 0..=years {
        let r = run(&GrowthYear { fleet, rates, year }, opts, Vec::new());
        let get = |f: Figure| r.get(f).unwrap_or(Percentiles::point(0.0));
        if year == 0 {
            growth = get(Figure::EnergyGrowthRate);
        }
        rows.push(TrajectoryYear {
            year: start_year + year as i32,
            demand_index: get(Figure::DemandIndex),
            energy_per_unit_index: get(Figure::EnergyPerUnitIndex),
            energy_kwh: get(Figure::FacilityEnergy),
            carbon_kgco2e: get(Figure::TrajectoryCarbon),
            water_l: get(Figure::Water),
            cost: r.get(Figure::Cost).filter(|c| c.p95 > 0.0),
            cumulative_energy_kwh: get(Figure::CumulativeEnergy),
            cumulative_carbon_kgco2e: get(Figure::CumulativeCarbon),
            cumulative_water_l: get(Figure::CumulativeWater),
        });
    }
    Trajectory {
        start_year,
        rates: GrowthRates {
            demand_growth: rates.demand_growth,
            efficiency_gain: rates.efficiency_gain,
            elasticity: rates.elasticity,
            grid_decarbonisation: rates.grid_decarbonisation,
        },
        energy_growth_rate: growth,
        outrun_year: outrun(&rows, |p| p.p50),
        outrun_year_p5: outrun(&rows, |p| p.p5),
        preset: None,
        years: rows,
    }
}

/// Runs a fleet with a trajectory: the fleet as given (its own period, [`run_resolved`]) with
/// the trajectory in its details, and a preset's published figures beside the last year's P50
/// energy.
#[must_use]
pub fn run_growth(r: Resolved<FleetSpec>, g: &Growth, opts: McOptions) -> Report {
    let spec = r.spec.clone();
    let mut e = run_resolved(r, opts);
    // The trajectory's step at the central rates, for `--explain`.
    let mid = |r: &Range| r.mid();
    let f = Factors {
        x: mid(&g.rates.demand_growth),
        y: mid(&g.rates.efficiency_gain),
        e: mid(&g.rates.elasticity),
        z: mid(&g.rates.grid_decarbonisation),
    };
    e.steps.push(Step::new(
        "trajectory_energy_index",
        format!(
            "F_N = [(1 + X)(1 - Y)^(1 - E)]^N = [(1 + {})(1 - {})^(1 - {})]^{}, energy of year N = a year of the fleet x F_N; carbon x (1 - {})^N",
            fmt_input(f.x),
            fmt_input(f.y),
            fmt_input(f.e),
            g.years,
            fmt_input(f.z)
        ),
        f.energy(g.years),
        "",
    ));
    let mut t = trajectory(&spec, &g.rates, g.years, g.start_year, opts);
    t.preset = g.preset.map(|p| p.name.to_string());
    // A preset's published figures are of the last year's electricity, in TWh.
    let last = t.years.last().map(|y| y.energy_kwh.p50 / 1e9);
    if g.preset.is_some() {
        for p in &mut e.published {
            p.estimate_p50 = last;
        }
    }
    e.details = Details::Fleet(Box::new(FleetDetails {
        trajectory: Some(t),
    }));
    e
}

/// The first year after the base year whose energy (its P50, or with `pick` another
/// percentile) is above the base year's P50: the year demand has outrun the efficiency gains.
fn outrun(rows: &[TrajectoryYear], pick: fn(&Percentiles) -> f64) -> Option<i32> {
    let base = rows.first()?.energy_kwh.p50;
    rows.iter()
        .skip(1)
        .find(|r| pick(&r.energy_kwh) > base)
        .map(|r| r.year)
}

#[cfg(test)]
#[path = "growth_tests.rs"]
mod tests;
