//! Resolving the growth trajectory of `estimate fleet`: the years and yearly rates (demand
//! growth, efficiency gain, elasticity, grid decarbonisation), each checked against its domain,
//! or a named preset that gives the base fleet and the rates with their sources.

use super::fleet::{fleet, FleetInputs};
use super::{conflict, Resolved};
use crate::estimate::fleet::FleetSpec;
use crate::estimate::growth::Rates;
use crate::estimate::site::SiteInputs;
use crate::estimate::EstimateError;
use crate::explain::{Assumption, Origin};
use crate::field::Field;
use crate::result::Published;
use crate::uncertainty::Range;

/// The trajectory inputs of `estimate fleet`.
#[derive(Clone, Debug, Default)]
pub struct GrowthInputs {
    /// `years`: years after the base year (1 to 100).
    pub years: Option<Range>,
    /// `demand_growth`, a fraction a year (above -1).
    pub demand_growth: Option<Range>,
    /// `efficiency_gain`, a fraction a year (below 1; negative: efficiency worsens).
    pub efficiency_gain: Option<Range>,
    /// `elasticity` of demand to the cost of a unit of service (0 to 10).
    pub elasticity: Option<Range>,
    /// `grid_decarbonisation`, a fraction a year (below 1).
    pub grid_decarbonisation: Option<Range>,
    /// `start_year`: the calendar year of the base year.
    pub start_year: Option<Range>,
    /// `preset`: a named scenario ([`PRESETS`]).
    pub preset: Option<String>,
}

impl GrowthInputs {
    /// Whether any trajectory input was given.
    #[must_use]
    pub fn any(&self) -> bool {
        self.preset.is_some() || !self.given().is_empty()
    }

    /// The numeric inputs given, by field.
    fn given(&self) -> Vec<Field> {
        [
            (Field::Years, self.years),
            (Field::DemandGrowth, self.demand_growth),
            (Field::EfficiencyGain, self.efficiency_gain),
            (Field::Elasticity, self.elasticity),
            (Field::GridDecarbonisation, self.grid_decarbonisation),
            (Field::StartYear, self.start_year),
        ]
        .into_iter()
        .filter_map(|(f, r)| r.map(|_| f))
        .collect()
    }
}

/// A resolved trajectory: the rates, how many years after which calendar year.
#[derive(Clone, Debug, PartialEq)]
pub struct Growth {
    /// The rates.
    pub rates: Rates,
    /// Years after the base year.
    pub years: u32,
    /// Calendar year of the base year.
    pub start_year: i32,
    /// The preset used, if any.
    pub preset: Option<&'static Preset>,
}

/// A named trajectory: a published base year and the rates that reproduce a published
/// projection from it.
#[derive(Clone, Debug, PartialEq)]
pub struct Preset {
    /// The name (`iea-2024`).
    pub name: &'static str,
    /// What it reproduces and how.
    pub about: &'static str,
    /// The publication.
    pub source: &'static str,
    /// Facility electricity in the base year, kWh.
    pub base_kwh: f64,
    /// The base year.
    pub start_year: i32,
    /// Years after it.
    pub years: u32,
    /// Demand growth a year.
    pub demand_growth: f64,
    /// Efficiency gain a year.
    pub efficiency_gain: f64,
    /// Published figures of the last year: (name, TWh).
    pub published: &'static [(&'static str, f64)],
}

/// The presets.
pub const PRESETS: &[Preset] = &[Preset {
    name: "iea-2024",
    about: "data centres, cryptocurrencies and AI worldwide: 460 TWh in 2022 growing to about 1,000 TWh in 2026 (IEA's headline 'more than 1,000 TWh'; its cases span 620-1,050 TWh, base case just over 800 TWh). The IEA gives no split into demand and efficiency: wattlens states demand +35% a year with energy per unit of service -10% a year, an effective +21.5% a year ((1.35 x 0.9)^4 x 460 = 1,002 TWh); any pair with (1 + X)(1 - Y) = 1.215 gives the same energy",
    source: "IEA, Electricity 2024 - Analysis and forecast to 2026 (January 2024), p. 31",
    base_kwh: 460e9,
    start_year: 2022,
    years: 4,
    demand_growth: 0.35,
    efficiency_gain: 0.10,
    published: &[
        ("2026 electricity, headline ('more than 1,000 TWh')", 1000.0),
        ("2026 electricity, low case", 620.0),
        ("2026 electricity, base case ('just over 800 TWh')", 800.0),
        ("2026 electricity, high case", 1050.0),
    ],
}];

/// The preset named `name` (case-insensitive).
#[must_use]
pub fn preset(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

/// Resolves `estimate fleet` with a trajectory: the fleet (the preset's base when one is named)
/// and the growth. `this_year` is the base year when neither a start year nor a preset gives
/// one.
///
/// # Errors
/// Rates outside their domain, years outside 1 to 100, rates without years or years without
/// rates, a preset with inputs it sets itself, and every error of [`fleet`].
pub fn fleet_growth(
    cat: &crate::catalog::Catalog,
    f: &FleetInputs,
    g: &GrowthInputs,
    s: &SiteInputs,
    this_year: i32,
) -> Result<(Resolved<FleetSpec>, Growth), EstimateError> {
    check(g)?;
    let p = match &g.preset {
        Some(name) => Some(preset(name).ok_or_else(|| {
            EstimateError::Invalid {
                field: Field::Preset,
                message: format!(
                    "unknown preset {name:?}; the presets are: {}",
                    PRESETS
                        .iter()
                        .map(|p| p.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
                .into(),
            }
        })?),
        None => None,
    };
    let (f, s) = match p {
        Some(p) => with_preset(p, f, s)?,
        None => (f.clone(), s.clone()),
    };
    let mut r = fleet(cat, &f, &s)?;
    let given = |r: Option<Range>, v: f64| r.unwrap_or(Range::point(v));
    let (x0, y0) = p.map_or((0.0, 0.0), |p| (p.demand_growth, p.efficiency_gain));
    let rates = Rates {
        demand_growth: given(g.demand_growth, x0),
        efficiency_gain: given(g.efficiency_gain, y0),
        elasticity: given(g.elasticity, 0.0),
        grid_decarbonisation: given(g.grid_decarbonisation, 0.0),
    };
    let years = g.years.map_or(p.map_or(0, |p| p.years), |y| y.lo as u32);
    let start_year = g
        .start_year
        .map_or(p.map_or(this_year, |p| p.start_year), |y| y.lo as i32);
    assumptions(&mut r.assumptions, g, p, &rates, years);
    if let Some(p) = p {
        r.published = p
            .published
            .iter()
            .map(|(name, twh)| {
                (
                    None,
                    1.0,
                    Published {
                        name: (*name).into(),
                        value: *twh,
                        unit: "TWh".into(),
                        estimate_p50: None,
                        source: p.source.into(),
                    },
                )
            })
            .collect();
        r.notes.push(format!("preset {}: {}", p.name, p.about));
    }
    Ok((
        r,
        Growth {
            rates,
            years,
            start_year,
            preset: p,
        },
    ))
}

/// The preset's base fleet (its energy over a year, PUE 1: the figure is already the
/// facility's; the world grid unless one is given), refusing inputs it sets itself.
fn with_preset(
    p: &Preset,
    f: &FleetInputs,
    s: &SiteInputs,
) -> Result<(FleetInputs, SiteInputs), EstimateError> {
    let why = "the preset gives the base year's electricity; drop one of them";
    conflict(
        (Field::Preset, true),
        (Field::Servers, f.servers.is_some()),
        why,
    )?;
    conflict(
        (Field::Preset, true),
        (Field::ItPower, f.it_power.is_some()),
        why,
    )?;
    conflict(
        (Field::Preset, true),
        (Field::Energy, f.energy.is_some()),
        why,
    )?;
    conflict(
        (Field::Preset, true),
        (Field::Period, f.hours.is_some()),
        why,
    )?;
    conflict(
        (Field::Preset, true),
        (Field::Pue, s.pue.is_some()),
        "the preset's electricity is the facilities' total (PUE included); drop one of them",
    )?;
    let mut f = f.clone();
    f.energy = Some(Range::point(p.base_kwh));
    f.hours = Some(Range::point(crate::estimate::growth::HOURS_PER_YEAR));
    let mut s = s.clone();
    s.pue = Some(Range::point(1.0));
    if s.grid.is_none() && s.intensity.is_none() {
        s.grid = Some("world".into());
    }
    Ok((f, s))
}

/// The trajectory's inputs as assumptions: the user's, or the preset's with its source.
fn assumptions(
    out: &mut Vec<Assumption>,
    g: &GrowthInputs,
    p: Option<&Preset>,
    r: &Rates,
    years: u32,
) {
    let pct = |r: &Range| r.scale(100.0).display("% a year");
    for (name, field, given, value) in [
        (
            "demand_growth",
            Field::DemandGrowth,
            g.demand_growth,
            pct(&r.demand_growth),
        ),
        (
            "efficiency_gain",
            Field::EfficiencyGain,
            g.efficiency_gain,
            pct(&r.efficiency_gain),
        ),
        (
            "elasticity",
            Field::Elasticity,
            g.elasticity,
            r.elasticity.display(""),
        ),
        (
            "grid_decarbonisation",
            Field::GridDecarbonisation,
            g.grid_decarbonisation,
            pct(&r.grid_decarbonisation),
        ),
        ("years", Field::Years, g.years, format!("{years}")),
    ] {
        out.push(match given {
            Some(_) => Assumption::user(name, value, field),
            None => Assumption {
                name: name.into(),
                value,
                origin: Origin::Default,
                source: Some(match p {
                    Some(p) => format!("preset {}: {}", p.name, p.source),
                    None => "none given".into(),
                }),
                field: None,
            },
        });
    }
}

/// Each input against its domain, and the inputs that need each other.
fn check(g: &GrowthInputs) -> Result<(), EstimateError> {
    let bad = |field: Field, message: String| EstimateError::Invalid {
        field,
        message: message.into(),
    };
    let whole = |field: Field, r: Option<Range>, lo: f64, hi: f64, what: &str| match r {
        Some(r) if !r.is_point() || r.lo.fract() != 0.0 || r.lo < lo || r.lo > hi => Err(bad(
            field,
            format!("must be one whole number {what}, got {}", r.display("")),
        )),
        _ => Ok(()),
    };
    whole(Field::Years, g.years, 1.0, 100.0, "from 1 to 100")?;
    whole(
        Field::StartYear,
        g.start_year,
        1900.0,
        2200.0,
        "from 1900 to 2200",
    )?;
    // (field, lowest allowed or above, is the lowest excluded, highest, is it excluded, why)
    let rates = [
        (Field::DemandGrowth, g.demand_growth, -1.0, true, 10.0, false, "above -100% (at -100% the demand vanishes) and at most 1,000% a year"),
        (Field::EfficiencyGain, g.efficiency_gain, -1.0, false, 1.0, true, "below 100% (at 100% a unit of service would take no energy) and at least -100% (a negative gain is efficiency worsening: energy per unit doubles a year at -100%)"),
        (Field::Elasticity, g.elasticity, 0.0, false, 10.0, false, "from 0 (no rebound) to 10; 1 takes back all the savings, above 1 is backfire"),
        (Field::GridDecarbonisation, g.grid_decarbonisation, -1.0, false, 1.0, true, "below 100% and at least -100% (negative: the grid's intensity rises)"),
    ];
    for (field, r, lo, lo_open, hi, hi_open, why) in rates {
        let Some(r) = r else { continue };
        let low = if lo_open { r.lo <= lo } else { r.lo < lo };
        let high = if hi_open { r.hi >= hi } else { r.hi > hi };
        if !r.lo.is_finite() || !r.hi.is_finite() || low || high {
            return Err(bad(
                field,
                format!(
                    "{} is out of range: it must be {why}",
                    if field == Field::Elasticity {
                        r.display("")
                    } else {
                        r.scale(100.0).display("%")
                    }
                ),
            ));
        }
    }
    if g.preset.is_none() && g.years.is_none() {
        if let Some(field) = g.given().first() {
            return Err(EstimateError::Missing(
                format!(
                    "{{years}}: {{{}}} belongs to a trajectory; give the years it runs over (e.g. {{years}} 5)",
                    field.name()
                )
                .into(),
            ));
        }
    }
    let rate = g.demand_growth.is_some()
        || g.efficiency_gain.is_some()
        || g.grid_decarbonisation.is_some();
    if g.years.is_some() && g.preset.is_none() && !rate {
        return Err(EstimateError::Missing(
            "a rate for the {years}: {demand_growth}, {efficiency_gain} or {grid_decarbonisation} (or a {preset})".into(),
        ));
    }
    Ok(())
}
