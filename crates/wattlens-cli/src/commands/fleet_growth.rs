//! `estimate fleet --years N --demand-growth X ...` (or `--preset`): the growth flags into the
//! library's inputs, and the fleet run with its year-by-year trajectory.

use crate::cli::{FleetArgs, GrowthArgs};
use crate::settings::{self, Config};
use anyhow::{bail, Result};
use wattlens::catalog::Catalog;
use wattlens::estimate::growth::run_growth;
use wattlens::estimate::resolve::{self, FleetInputs, GrowthInputs};
use wattlens::estimate::site::SiteInputs;
use wattlens::input::Dim;
use wattlens::result::Report;

/// The trajectory flags, parsed (their domains are checked by the library, naming the flag).
pub fn inputs(a: &GrowthArgs) -> Result<GrowthInputs> {
    let rate = |flag: &str, text: Option<&str>| settings::range(flag, text, Dim::Factor);
    Ok(GrowthInputs {
        years: settings::range("--years", a.years.as_deref(), Dim::Factor)?,
        demand_growth: rate("--demand-growth", a.demand_growth.as_deref())?,
        efficiency_gain: rate("--efficiency-gain", a.efficiency_gain.as_deref())?,
        elasticity: rate("--elasticity", a.elasticity.as_deref())?,
        grid_decarbonisation: rate("--grid-decarbonisation", a.grid_decarbonisation.as_deref())?,
        start_year: settings::range("--start-year", a.start_year.as_deref(), Dim::Factor)?,
        preset: a.preset.clone(),
    })
}

/// Resolves and runs a fleet with a trajectory.
pub fn run(
    a: &FleetArgs,
    cat: &Catalog,
    cfg: &Config,
    inputs: &FleetInputs,
    site: &SiteInputs,
    growth: &GrowthInputs,
) -> Result<Report> {
    if a.site.series.is_some() {
        bail!("--series cannot be used with a trajectory (--years, --preset): each year is a year of the fleet's average use on the grid's yearly intensity; drop --series, or use --grid-decarbonisation for a changing grid");
    }
    let this_year = i32::from(
        jiff::tz::Offset::UTC
            .to_datetime(jiff::Timestamp::now())
            .year(),
    );
    let (r, g) = resolve::fleet_growth(cat, inputs, growth, site, this_year)?;
    Ok(run_growth(r, &g, settings::mc(&a.out, cfg)?))
}
