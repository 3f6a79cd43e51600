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
use wattlens::uncertainty::Range;

/// A rate that may be negative (`-5%`, `-10..5%`, `0.2`): the units parser takes no sign, so
/// each bound's sign is read here and the rest parsed as usual (its errors name the flag).
fn signed(flag: &str, text: Option<&str>) -> Result<Option<Range>> {
    let Some(t) = text.map(str::trim) else {
        return Ok(None);
    };
    if !t.contains('-') || t.contains("e-") || t.contains("E-") {
        return settings::range(flag, Some(t), Dim::Factor);
    }
    // A unit after the last bound applies to both (`-10..5%`).
    let (body, unit) = t.strip_suffix('%').map_or((t, ""), |b| (b, "%"));
    let bound = |b: &str| -> Result<f64> {
        let (neg, abs) = b
            .trim()
            .strip_prefix('-')
            .map_or((false, b.trim()), |a| (true, a));
        let r = settings::range(flag, Some(&format!("{abs}{unit}")), Dim::Factor)?
            .map_or(0.0, |r| r.lo);
        Ok(if neg { -r } else { r })
    };
    let (lo, hi) = match body.split_once("..") {
        Some((a, b)) => (bound(a)?, bound(b)?),
        None => {
            let v = bound(body)?;
            (v, v)
        }
    };
    if lo > hi {
        bail!("invalid value for {flag}: {t:?} runs from a higher to a lower bound; write the lower first");
    }
    Ok(Some(Range::new(lo, hi)))
}

/// The trajectory flags, parsed (their domains are checked by the library, naming the flag).
pub fn inputs(a: &GrowthArgs) -> Result<GrowthInputs> {
    let rate = signed;
    Ok(GrowthInputs {
        years: signed("--years", a.years.as_deref())?,
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
