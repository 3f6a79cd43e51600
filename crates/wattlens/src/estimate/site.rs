//! Resolving where energy is used: PUE, WUE, grid intensity (location and market), water of
//! electricity, price, embodied-carbon factors and equivalents, from flags, catalog and defaults.
//!
//! Precedence for each figure: the flag, then the data-centre profile (`datacenter`), then the
//! cooling preset (`cooling`), then the cloud operator of the grid region, then the default.

use super::EstimateError;
use crate::catalog::{Catalog, Datacenter, Grid};
use crate::explain::{Assumption, Origin};
use crate::field::{Field, Msg};
use crate::footprint::{EmbodiedSpec, Market, Param, Site};
use crate::input::Price;
use crate::uncertainty::{Range, UnitRange};
use crate::units::{GramsPerKwh, HOURS_PER_YEAR};

/// Site inputs as given by the user; `None` means "use the catalog or default".
#[derive(Clone, Debug, Default)]
pub struct SiteInputs {
    /// `pue`.
    pub pue: Option<Range>,
    /// `grid`: a grid key, country code or cloud region.
    pub grid: Option<String>,
    /// `intensity`, overrides the grid's location-based intensity.
    pub intensity: Option<UnitRange<GramsPerKwh>>,
    /// `market_intensity`.
    pub market_intensity: Option<UnitRange<GramsPerKwh>>,
    /// `cfe`: carbon-free share of a contract; market intensity = location x (1 - cfe).
    pub cfe: Option<Range>,
    /// `wue` (L/kWh of IT energy).
    pub wue: Option<Range>,
    /// `ewif` (L/kWh of facility energy).
    pub ewif: Option<Range>,
    /// `price`.
    pub price: Option<Price>,
    /// `datacenter`: an operator or industry profile.
    pub datacenter: Option<String>,
    /// `cooling`: a cooling-type preset.
    pub cooling: Option<String>,
    /// `lifetime` (hours) for embodied carbon.
    pub lifetime_h: Option<Range>,
    /// `equivalent_country`: the country for the "share of annual electricity" equivalent.
    pub country: Option<String>,
    /// A PUE that follows from another input when the PUE itself is not given (the IT share of
    /// a data centre's energy breakdown): recorded as derived, with how.
    pub derived_pue: Option<Derived>,
    /// The inputs above whose values came from a configuration file rather than from the user
    /// directly: their assumptions are recorded with [`Origin::Config`].
    pub from_config: Vec<Field>,
}

/// A value that follows from another input rather than being given.
#[derive(Clone, Debug, PartialEq)]
pub struct Derived {
    /// The value.
    pub range: Range,
    /// How it follows (`1 / IT share of {breakdown}`), a [`crate::field::Msg`] template.
    pub how: Msg,
}

/// The site and the data-centre profile that supplied PUE/WUE, if any.
pub struct ResolvedSite<'a> {
    /// The resolved site.
    pub site: Site,
    /// The grid row, if a grid was named.
    pub grid: Option<&'a Grid>,
}

fn user(name: &str, r: &Range, unit: &str, field: Field) -> (Param, Assumption) {
    (
        Param::new(*r, field.reference()),
        Assumption::user(name, r.display(unit), field),
    )
}

fn profile_range(lo: Option<f64>, hi: Option<f64>) -> Option<Range> {
    match (lo, hi) {
        (Some(a), Some(b)) => Some(Range::new(a.min(b), a.max(b))),
        (Some(a), None) | (None, Some(a)) => Some(Range::point(a)),
        (None, None) => None,
    }
}

/// A default coefficient as a parameter, recording the assumption.
///
/// # Errors
/// If the key is missing from the defaults table.
pub fn coefficient(
    cat: &Catalog,
    key: &str,
    name: &str,
    scale: f64,
    out: &mut Vec<Assumption>,
) -> Result<Param, EstimateError> {
    Ok(crate::footprint::catalog_coefficient(
        cat, key, name, scale, out,
    )?)
}

fn from_profile(
    d: &Datacenter,
    lo: Option<f64>,
    hi: Option<f64>,
    what: &str,
    unit: &str,
    out: &mut Vec<Assumption>,
) -> Option<Param> {
    let r = profile_range(lo, hi)?;
    let src = format!("{}: {}", d.name, crate::catalog::Row::cite(d));
    out.push(Assumption {
        name: what.into(),
        value: r.display(unit),
        origin: Origin::Catalog,
        source: Some(src.clone()),
        field: None,
    });
    Some(Param::new(r, src))
}

/// The operator profile implied by a cloud region key (`gcp:` -> Google ...).
fn operator_of(grid: &Grid) -> Option<&'static str> {
    let k = grid.key.to_ascii_lowercase();
    if k.starts_with("gcp:") {
        Some("google")
    } else if k.starts_with("aws:") {
        Some("aws")
    } else if k.starts_with("azure:") {
        Some("microsoft")
    } else {
        None
    }
}

/// Marks an assumption's source as a fallback the default output must show as a note.
const FALLBACK: &str = "fallback: ";

/// Notes for the default output about site figures that fell back to a wider area or a default
/// (today: the electricity price), read from the assumptions `resolve` recorded.
#[must_use]
pub fn fallback_notes(assumptions: &[Assumption]) -> Vec<String> {
    assumptions
        .iter()
        .filter_map(|a| a.source.as_deref()?.strip_prefix(FALLBACK))
        .map(str::to_string)
        .collect()
}

/// Whether `key` is one of the `|`-separated names.
fn listed_in(names: Option<&str>, key: &str) -> bool {
    names.is_some_and(|n| n.split('|').any(|a| a.trim().eq_ignore_ascii_case(key)))
}

/// Whether the prices table has rows for parts of `country` (`US-CA` for `US`).
fn has_state_rows(cat: &Catalog, country: &str) -> Result<bool, EstimateError> {
    let prefix = format!("{country}-");
    Ok(cat
        .prices()?
        .rows()?
        .iter()
        .any(|r| r.key.to_ascii_uppercase().starts_with(&prefix)))
}

/// The grid `grid` names; a price row's key (`US-CA`) is not a grid, and the error says
/// which grids lie inside that place.
fn grid_named<'a>(cat: &'a Catalog, name: &str) -> Result<&'a Grid, EstimateError> {
    match cat.grids()?.get(name) {
        Ok(g) => Ok(g),
        Err(crate::catalog::CatalogError::Unknown {
            noun,
            kind,
            query,
            hint,
        }) => {
            let Ok(p) = cat.prices()?.get(name) else {
                return Err(crate::catalog::CatalogError::Unknown {
                    noun,
                    kind,
                    query,
                    hint,
                }
                .into());
            };
            let grids = cat.grids()?;
            let inside: Vec<&str> = p
                .aliases
                .as_deref()
                .unwrap_or("")
                .split('|')
                .map(str::trim)
                .filter(|a| a.contains(':') && grids.get(a).is_ok())
                .collect();
            let place = p.name.as_deref().unwrap_or(&p.key);
            let country = p.key.split('-').next().unwrap_or(&p.key);
            let hint = if inside.is_empty() {
                format!(
                    " ({} is the key of an electricity price row ({place}), not a grid: give the grid the site is on, or {{grid}} {country} and {{price}})",
                    p.key
                )
            } else {
                format!(
                    " ({} is the key of an electricity price row ({place}), not a grid: give a grid inside it ({}), whose price is that row's)",
                    p.key,
                    inside.join(", ")
                )
            };
            Err(crate::catalog::CatalogError::Unknown {
                noun,
                kind,
                query,
                hint,
            }
            .into())
        }
        Err(e) => Err(e.into()),
    }
}

/// The price where the grid is, from the prices table; else the US average default, with a
/// note in the output saying so (a cost in the wrong country's price must not pass silently).
fn price_of_place(
    cat: &Catalog,
    grid: Option<&Grid>,
    out: &mut Vec<Assumption>,
) -> Result<(Param, String), EstimateError> {
    if let Some(g) = grid {
        if let Some(p) = cat.price_for(g)? {
            let place = p.name.clone().unwrap_or_else(|| p.key.clone());
            let src = format!(
                "{}: {}, {} ({})",
                p.key,
                place,
                p.tariff.as_deref().unwrap_or("tariff not stated"),
                crate::catalog::Row::cite(p)
            );
            // A row for a wider area than the grid's own place (the EU-27 average for a member
            // state) is a fallback the output must show.
            // The row is the grid's own place when it is the grid's country or a part of it
            // (`US-CA` for a Californian region), not an area around it (`EU` for `FR`).
            // A country's row for a grid inside a country whose states have rows of their own
            // (`US` for `us-egrid:RFCE`, which spans several states) is a wider area too.
            let own = p.key.eq_ignore_ascii_case(&g.key)
                || g.country.as_deref().is_some_and(|c| {
                    let k = p.key.to_ascii_uppercase();
                    let c = c.to_ascii_uppercase();
                    k.starts_with(&format!("{c}-"))
                        || (k == c
                            && (listed_in(p.aliases.as_deref(), &g.key)
                                || !has_state_rows(cat, &c).unwrap_or(false)))
                });
            let source = if own {
                format!("{{grid}} {} -> {src}", g.key)
            } else {
                format!(
                    "{FALLBACK}no electricity price for {{grid}} {} itself: the {place} {} is used ({}, {}); give {{price}} for a local figure",
                    g.key,
                    crate::catalog::price_display(p),
                    p.tariff.as_deref().unwrap_or("tariff not stated"),
                    p.year.as_deref().unwrap_or("year not stated"),
                )
            };
            out.push(Assumption {
                name: "price".into(),
                value: crate::catalog::price_display(p),
                origin: Origin::Catalog,
                source: Some(source),
                field: None,
            });
            return Ok((Param::new(p.range(), src), p.currency.clone()));
        }
    }
    let mut param = coefficient(cat, "site.price_usd_per_kwh", "price", 1.0, out)?;
    let why = match grid {
        Some(g) => format!(
            "no electricity price for {{grid}} {} in the catalog: the US average {} USD/kWh is used; give {{price}}",
            g.key,
            param.range.display("")
        ),
        None => format!(
            "no {{grid}}: the US average electricity price {} USD/kWh is used; give {{price}} or {{grid}}",
            param.range.display("")
        ),
    };
    if let Some(a) = out.last_mut() {
        a.source = Some(format!("{FALLBACK}{why} (EIA, 2023)"));
    }
    param.source = format!("{why} ({})", param.source);
    Ok((param, "USD".into()))
}

/// An unknown `cooling` name, answered with the cooling presets (not every profile).
pub fn unknown_cooling(name: &str, dcs: &crate::catalog::Table<Datacenter>) -> EstimateError {
    let presets: Vec<String> = dcs
        .rows()
        .unwrap_or_default()
        .into_iter()
        .filter(|d| d.kind.as_deref() == Some("cooling"))
        .map(|d| crate::catalog::typeable(&d.name, d.aliases.as_deref()))
        .collect();
    EstimateError::Invalid {
        field: Field::Cooling,
        message: format!(
            "unknown cooling type {name:?}; the cooling presets are {} (`wattlens catalog list datacenters` shows them with their PUE and WUE)",
            presets.join(", ")
        ).into(),
    }
}

/// Resolves the site.
///
/// # Errors
/// Unknown grid, profile or cooling type; a market intensity given two ways.
pub fn resolve<'a>(
    cat: &'a Catalog,
    s: &SiteInputs,
    out: &mut Vec<Assumption>,
) -> Result<ResolvedSite<'a>, EstimateError> {
    crate::limits::check_site(s).map_err(|(field, e)| EstimateError::Invalid {
        field,
        message: e.to_string().into(),
    })?;
    if s.market_intensity.is_some() && s.cfe.is_some() {
        return Err(EstimateError::Conflict {
            a: Field::MarketIntensity,
            b: Field::Cfe,
            why: "give the contractual intensity or the carbon-free share, not both".into(),
        });
    }
    let first = out.len();
    let (grid, chain) = profiles(cat, s)?;
    let pue = pue(cat, s, &chain, out)?;
    let wue = wue(cat, s, &chain, out)?;
    let (intensity, scope) = intensity(cat, s, grid, out)?;
    let market = market(s, &intensity, out)?;
    let ewif = ewif(cat, s, grid, out)?;
    // Price.
    let (price, currency) = if let Some(p) = &s.price {
        let cur = p.currency.clone().unwrap_or_else(|| "USD".into());
        out.push(Assumption {
            name: "price".into(),
            value: p.per_kwh.display(&format!("{cur}/kWh")),
            origin: Origin::User,
            source: None,
            field: Some(Field::Price),
        });
        (Param::new(p.per_kwh, Field::Price.reference()), cur)
    } else {
        price_of_place(cat, grid, out)?
    };

    let embodied = embodied(cat, s, out)?;
    for a in out.iter_mut().skip(first) {
        if a.origin == Origin::User && a.field.is_some_and(|f| s.from_config.contains(&f)) {
            a.origin = Origin::Config;
        }
    }
    let eq = cat.equivalents()?;
    let eqp = |key: &str| -> Result<Param, EstimateError> {
        let e = eq.get(key)?;
        Ok(Param::new(
            Range::point(e.value),
            crate::catalog::Row::cite(e),
        ))
    };
    Ok(ResolvedSite {
        site: Site {
            pue,
            intensity,
            intensity_scope: scope,
            market_intensity: market,
            wue,
            ewif,
            price,
            currency,
            embodied,
            country_annual_kwh: country_annual_kwh(cat, s, grid)?,
            home_kwh_per_year: eqp("us_home_kwh_per_year")?,
            car_g_per_km: eqp("car_gco2_per_km")?,
            phone_charge_g: eqp("smartphone_charge_gco2")?,
            series: None,
        },
        grid,
    })
}

/// The grid row and the profiles that supply PUE and WUE, most specific first: the named data
/// centre, the cooling preset, the grid's cloud operator.
fn profiles<'a>(
    cat: &'a Catalog,
    s: &SiteInputs,
) -> Result<(Option<&'a Grid>, Vec<&'a Datacenter>), EstimateError> {
    let grid = match &s.grid {
        Some(g) => Some(grid_named(cat, g).map_err(|e| match e {
            EstimateError::Catalog(c) => EstimateError::from_field(Field::Grid, c),
            e => e,
        })?),
        None => None,
    };
    let dcs = cat.datacenters()?;
    let profile = match &s.datacenter {
        Some(n) => Some(
            dcs.get(n)
                .map_err(|e| EstimateError::from_field(Field::Datacenter, e))?,
        ),
        None => None,
    };
    let cooling = match &s.cooling {
        Some(n) => {
            let c = dcs.get(n).map_err(|e| match e {
                crate::catalog::CatalogError::Unknown { .. } => unknown_cooling(n, dcs),
                e => e.into(),
            })?;
            if c.kind.as_deref() != Some("cooling") {
                return Err(EstimateError::Invalid {
                    field: Field::Cooling,
                    message: format!(
                        "{:?} is {} profile, not a cooling type; use {{datacenter}} for it",
                        c.name,
                        with_article(c.kind.as_deref().unwrap_or("data-centre"))
                    )
                    .into(),
                });
            }
            Some(c)
        }
        None => None,
    };
    let operator = match grid.and_then(operator_of) {
        Some(o) => Some(dcs.get(o)?),
        None => None,
    };
    let chain: Vec<&Datacenter> = [profile, cooling, operator].into_iter().flatten().collect();
    Ok((grid, chain))
}

/// The PUE: given, derived from another input, a profile's, or the default.
fn pue(
    cat: &Catalog,
    s: &SiteInputs,
    chain: &[&Datacenter],
    out: &mut Vec<Assumption>,
) -> Result<Param, EstimateError> {
    Ok(if let Some(r) = &s.pue {
        let (p, a) = user("pue", r, "", Field::Pue);
        out.push(a);
        p
    } else if let Some(d) = &s.derived_pue {
        out.push(Assumption {
            name: "pue".into(),
            value: d.range.display(""),
            origin: Origin::Derived,
            source: Some(d.how.template().to_string()),
            field: None,
        });
        Param::new(d.range, d.how.template())
    } else if let Some(p) = chain
        .iter()
        .find_map(|d| from_profile(d, d.pue_low, d.pue_high, "pue", "", out))
    {
        p
    } else {
        coefficient(cat, "site.pue", "pue", 1.0, out)?
    })
}

/// The WUE: given, a profile's, or the default.
fn wue(
    cat: &Catalog,
    s: &SiteInputs,
    chain: &[&Datacenter],
    out: &mut Vec<Assumption>,
) -> Result<Param, EstimateError> {
    Ok(if let Some(r) = &s.wue {
        let (p, a) = user("wue", r, "L/kWh", Field::Wue);
        out.push(a);
        p
    } else if let Some(p) = chain
        .iter()
        .find_map(|d| from_profile(d, d.wue_low, d.wue_high, "wue", "L/kWh", out))
    {
        p
    } else {
        coefficient(cat, "site.wue", "wue", 1.0, out)?
    })
}

/// The location-based intensity and its scope: given, or the grid's (the world's without one).
fn intensity(
    cat: &Catalog,
    s: &SiteInputs,
    grid: Option<&Grid>,
    out: &mut Vec<Assumption>,
) -> Result<(Param<UnitRange<GramsPerKwh>>, String), EstimateError> {
    Ok(if let Some(r) = &s.intensity {
        out.push(Assumption::user("intensity", r.display(), Field::Intensity));
        (
            Param::new(*r, Field::Intensity.reference()),
            "as given by {intensity}".to_string(),
        )
    } else {
        let g = match grid {
            Some(g) => g,
            None => cat.grids()?.get("world")?,
        };
        let with = cat.grid_with_intensity(g)?;
        let v = with.intensity_g_per_kwh.ok_or_else(|| {
            EstimateError::Missing(
                format!(
                    "grid {:?} has no published intensity; give {{intensity}}",
                    g.key
                )
                .into(),
            )
        })?;
        let r = match (with.intensity_low, with.intensity_high) {
            (Some(lo), Some(hi)) if lo <= v && v <= hi => Range::new(lo, hi),
            _ => Range::point(v),
        };
        let scope = format!(
            "{} {}, {} {}",
            with.scope.as_deref().unwrap_or("unknown scope"),
            with.gas.as_deref().unwrap_or(""),
            with.key,
            with.year.as_deref().unwrap_or("")
        );
        let via = if with.key == g.key {
            String::new()
        } else {
            format!(" via {}", g.key)
        };
        let src = format!("{}{via}: {}", with.key, crate::catalog::Row::cite(with));
        out.push(Assumption {
            name: "intensity".into(),
            value: r.display("g/kWh"),
            origin: if grid.is_some() {
                Origin::Catalog
            } else {
                Origin::Default
            },
            source: Some(if grid.is_some() {
                src.clone()
            } else {
                format!("no {{grid}} given, world average; {src}")
            }),
            field: None,
        });
        (Param::new(UnitRange::from_range(r), src), scope)
    })
}

/// The market-based intensity, only when the user knows it: given, or the location intensity
/// less a carbon-free share.
fn market(
    s: &SiteInputs,
    intensity: &Param<UnitRange<GramsPerKwh>>,
    out: &mut Vec<Assumption>,
) -> Result<Option<Market>, EstimateError> {
    Ok(if let Some(r) = &s.market_intensity {
        out.push(Assumption::user(
            "market_intensity",
            r.display(),
            Field::MarketIntensity,
        ));
        Some(Market::Intensity(Param::new(
            *r,
            Field::MarketIntensity.reference(),
        )))
    } else if let Some(cfe) = &s.cfe {
        if cfe.hi > 1.0 {
            return Err(EstimateError::Invalid {
                field: Field::Cfe,
                message: "the carbon-free share must be between 0 and 1 (or 0%..100%)".into(),
            });
        }
        let r = UnitRange::new(
            intensity.range.lo() * (1.0 - cfe.hi),
            intensity.range.hi() * (1.0 - cfe.lo),
        );
        out.push(Assumption {
            name: "cfe".into(),
            value: cfe.display(""),
            origin: Origin::User,
            source: None,
            field: Some(Field::Cfe),
        });
        Some(Market::Intensity(Param::new(
            r,
            format!("location intensity x (1 - CFE {})", cfe.display("")),
        )))
    } else {
        None
    })
}

/// The water of electricity: given, the grid's from its generation mix, or the default.
fn ewif(
    cat: &Catalog,
    s: &SiteInputs,
    grid: Option<&Grid>,
    out: &mut Vec<Assumption>,
) -> Result<Param, EstimateError> {
    Ok(if let Some(r) = &s.ewif {
        let (p, a) = user("ewif", r, "L/kWh", Field::Ewif);
        out.push(a);
        p
    } else if let Some((w, from)) = match grid {
        Some(g) => cat.grid_ewif(g)?,
        None => None,
    } {
        let src = format!(
            "{}: derived from its generation mix ({})",
            from.key,
            crate::catalog::Row::cite(from)
        );
        out.push(Assumption {
            name: "ewif".into(),
            value: format!("{w} L/kWh"),
            origin: Origin::Catalog,
            source: Some(src.clone()),
            field: None,
        });
        Param::new(Range::point(w), src)
    } else {
        coefficient(cat, "site.ewif", "ewif", 1.0, out)?
    })
}

/// Embodied carbon of the hardware and its service life.
fn embodied(
    cat: &Catalog,
    s: &SiteInputs,
    out: &mut Vec<Assumption>,
) -> Result<EmbodiedSpec, EstimateError> {
    let life = if let Some(r) = &s.lifetime_h {
        let (p, a) = user("service_life", r, "h", Field::Lifetime);
        out.push(a);
        p
    } else {
        coefficient(
            cat,
            "embodied.service_life_years",
            "service_life",
            HOURS_PER_YEAR,
            out,
        )?
    };
    Ok(EmbodiedSpec {
        per_accelerator_kg: coefficient(
            cat,
            "embodied.accelerator_kg",
            "embodied_per_accelerator",
            1.0,
            out,
        )?,
        per_server_kg: coefficient(cat, "embodied.server_kg", "embodied_per_server", 1.0, out)?,
        service_life_h: life,
    })
}

/// The annual electricity of the country the equivalents use (given, or the grid's country),
/// named as it reads in "share of {name}'s annual electricity".
fn country_annual_kwh(
    cat: &Catalog,
    s: &SiteInputs,
    grid: Option<&Grid>,
) -> Result<Option<(String, f64)>, EstimateError> {
    let country_row = match (&s.country, grid) {
        (Some(c), _) => Some(
            cat.grids()?
                .get(c)
                .map_err(|e| EstimateError::from_field(Field::EquivalentCountry, e))?,
        ),
        (None, Some(g)) => match g.country.as_deref() {
            Some(c) => cat.grids()?.get(c).ok(),
            None => None,
        },
        (None, None) => None,
    };
    // Named as it reads in "share of {name}'s annual electricity": the world row is "the
    // world", not its display name ("World average").
    Ok(country_row.and_then(|c| {
        let name = if c.kind.as_deref() == Some("world") {
            "the world".to_string()
        } else {
            c.name.clone().unwrap_or_else(|| c.key.clone())
        };
        c.generation_twh.map(|twh| (name, twh * 1e9))
    }))
}

/// A noun with its indefinite article: "an operator", "a cooling".
fn with_article(noun: &str) -> String {
    let vowel = noun
        .chars()
        .next()
        .is_some_and(|c| "aeiouAEIOU".contains(c));
    format!("{} {noun}", if vowel { "an" } else { "a" })
}
