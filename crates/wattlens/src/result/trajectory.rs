//! A fleet's growth trajectory, typed: the rates it was drawn from and, year by year, the
//! demand and energy-per-unit indices with the energy, carbon, water and cost, each as
//! percentiles, and the year demand outruns the efficiency gains. Serialised as the `trajectory`
//! object of an `estimate fleet` result (`wattlens.footprint/v1`).

use crate::uncertainty::{Percentiles, Range};
use serde::{Deserialize, Serialize};

/// The details of an `estimate fleet` result that has a trajectory.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FleetDetails {
    /// The trajectory, when years and rates were given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trajectory: Option<Trajectory>,
}

/// A year-by-year trajectory (see `estimate::growth`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trajectory {
    /// The calendar year of year 0 (the base year: the fleet as given).
    pub start_year: i32,
    /// The rates, as given (fractions a year; a point has `lo == hi`).
    pub rates: GrowthRates,
    /// The effective yearly growth of energy, `(1 + X)(1 - Y)^(1 - E) - 1`, over the samples.
    pub energy_growth_rate: Percentiles,
    /// The first year whose P50 energy is above the base year's P50: demand has outrun the
    /// efficiency gains. `None` when energy never rises above the base year's.
    pub outrun_year: Option<i32>,
    /// The first year whose P5 energy is above the base year's P50: demand outruns the
    /// efficiency gains even at the low end of the ranges.
    pub outrun_year_p5: Option<i32>,
    /// The named scenario the base and rates came from, when one was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// Year 0 (the base year) to the last year.
    pub years: Vec<TrajectoryYear>,
}

/// The rates of a trajectory, fractions a year.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GrowthRates {
    /// `X`: growth of demand for the service.
    pub demand_growth: Range,
    /// `Y`: fall of the energy per unit of service.
    pub efficiency_gain: Range,
    /// `E`: elasticity of demand to the cost of a unit of service (rebound).
    pub elasticity: Range,
    /// `Z`: fall of the grid's carbon intensity.
    pub grid_decarbonisation: Range,
}

/// One year of a trajectory: the fleet's use over that calendar year.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrajectoryYear {
    /// Calendar year.
    pub year: i32,
    /// Demand relative to the base year (rebound included).
    pub demand_index: Percentiles,
    /// Energy per unit of service relative to the base year.
    pub energy_per_unit_index: Percentiles,
    /// Facility energy over the year, kWh.
    pub energy_kwh: Percentiles,
    /// Operational (location-based) carbon over the year on the decarbonising grid, kgCO2e.
    pub carbon_kgco2e: Percentiles,
    /// Water consumed (on- and off-site) over the year, L.
    pub water_l: Percentiles,
    /// Electricity cost over the year, in the result's currency (when the site has a price).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Percentiles>,
    /// Facility energy from the base year to this one, kWh.
    pub cumulative_energy_kwh: Percentiles,
    /// Operational carbon from the base year to this one, kgCO2e.
    pub cumulative_carbon_kgco2e: Percentiles,
    /// Water from the base year to this one, L.
    pub cumulative_water_l: Percentiles,
}

impl Trajectory {
    /// Paths of the trajectory's numbers that are not finite (`trajectory.years.energy_kwh`).
    #[must_use]
    pub fn non_finite(&self) -> Vec<String> {
        let ok = |p: &Percentiles| p.p5.is_finite() && p.p50.is_finite() && p.p95.is_finite();
        let mut bad = Vec::new();
        if !ok(&self.energy_growth_rate) {
            bad.push("trajectory.energy_growth_rate".to_string());
        }
        for y in &self.years {
            for (name, p) in [
                ("demand_index", Some(&y.demand_index)),
                ("energy_per_unit_index", Some(&y.energy_per_unit_index)),
                ("energy_kwh", Some(&y.energy_kwh)),
                ("carbon_kgco2e", Some(&y.carbon_kgco2e)),
                ("water_l", Some(&y.water_l)),
                ("cost", y.cost.as_ref()),
                ("cumulative_energy_kwh", Some(&y.cumulative_energy_kwh)),
                (
                    "cumulative_carbon_kgco2e",
                    Some(&y.cumulative_carbon_kgco2e),
                ),
                ("cumulative_water_l", Some(&y.cumulative_water_l)),
            ] {
                let path = format!("trajectory.years.{name}");
                if p.is_some_and(|p| !ok(p)) && !bad.contains(&path) {
                    bad.push(path);
                }
            }
        }
        bad
    }
}
