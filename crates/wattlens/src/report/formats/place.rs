//! Where a footprint's electricity was drawn, as the location fields of the formats take it
//! (BoAmps `country` and `location`, the model card's `geographical_location` and "Compute
//! region", the CycloneDX energy provider): the grid the user named, read from the catalog
//! assumptions that grid made. A footprint with no grid named (`--intensity`, the world
//! average, a series on its own) has no place: the intensity's scope ("as given by
//! --intensity", "lifecycle co2e, world 2023") was written there, a hostile test found.

use crate::explain::Origin;
use crate::result::Report;

/// The grid a footprint names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Place {
    /// The grid or cloud region as the user named it (`FR`, `gcp:europe-west9`,
    /// `azure:chinaeast`, `cn:hebei`).
    pub region: String,
    /// Its country (ISO 3166-1 alpha-2) when the catalog row it came through is a country's
    /// (the grid whose generation mix gave the water intensity, or the region itself).
    pub country: Option<String>,
}

/// The catalog grid key an assumption's source starts with: `KEY: cite` or `KEY via NAMED:
/// cite` (a cloud region taking its intensity from a grid). Grid keys hold no space and no
/// `": "` (`azure:chinaeast`); the key and the named region are returned.
fn grid_of(r: &Report, name: &str) -> Option<(String, String)> {
    let a = r
        .assumptions
        .iter()
        .find(|a| a.name == name && a.origin == Origin::Catalog)?;
    let (head, _) = a.source.as_deref()?.split_once(": ")?;
    let (key, named) = head.split_once(" via ").unwrap_or((head, head));
    let ok = |s: &str| !s.is_empty() && !s.contains(char::is_whitespace) && s != "world";
    (ok(key) && ok(named)).then(|| (key.to_string(), named.to_string()))
}

/// A country row's key (`FR`): two capital letters.
fn country(key: &str) -> Option<String> {
    (key.len() == 2 && key.bytes().all(|b| b.is_ascii_uppercase())).then(|| key.to_string())
}

/// The footprint's place: the intensity's catalog grid (the region named), else the water
/// intensity's (a series replaces the intensity assumption; the grid named beside it still
/// gave the water); `None` when no grid was named or it was the world average.
pub(crate) fn place(r: &Report) -> Option<Place> {
    let intensity = grid_of(r, "intensity");
    let ewif = grid_of(r, "ewif");
    let region = intensity
        .as_ref()
        .or(ewif.as_ref())
        .map(|(_, named)| named.clone())?;
    let country = ewif
        .as_ref()
        .and_then(|(k, _)| country(k))
        .or_else(|| intensity.as_ref().and_then(|(k, _)| country(k)))
        .or_else(|| country(&region));
    Some(Place { region, country })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::Assumption;

    fn report(assumptions: &[(&str, Origin, &str)]) -> Report {
        let mut r: Report = serde_json::from_str(
            r#"{"schema":"wattlens.footprint/v1","kind":"fleet","method":"modelled"}"#,
        )
        .expect("a footprint");
        r.intensity_scope = "lifecycle co2e, world 2023".into();
        r.assumptions = assumptions
            .iter()
            .map(|(name, origin, source)| Assumption {
                name: (*name).into(),
                value: "1".into(),
                origin: *origin,
                source: Some((*source).into()),
                field: None,
            })
            .collect();
        r
    }

    fn of(a: &[(&str, Origin, &str)]) -> Option<(String, Option<String>)> {
        place(&report(a)).map(|p| (p.region, p.country))
    }

    fn some(region: &str, country: Option<&str>) -> Option<(String, Option<String>)> {
        Some((region.into(), country.map(Into::into)))
    }

    #[test]
    fn a_named_grid_is_the_place() {
        // The sources as `estimate --grid G` writes them.
        let fr =
            "FR: Ember; Our World in Data (via mlco2/codecarbon global_energy_mix.json) (2023)";
        let fr_water = "FR: derived from its generation mix (Ember (2023))";
        assert_eq!(
            of(&[
                ("intensity", Origin::Catalog, fr),
                ("ewif", Origin::Catalog, fr_water)
            ]),
            some("FR", Some("FR"))
        );
        // A key with a colon is one key (`cn:hebei` was cut to `cn`).
        let hebei = "cn:hebei: China MEE & NBS announcement (2022)";
        let cn_water = "CN: derived from its generation mix (Ember (2023))";
        assert_eq!(
            of(&[
                ("intensity", Origin::Catalog, hebei),
                ("ewif", Origin::Catalog, cn_water)
            ]),
            some("cn:hebei", Some("CN"))
        );
        // A cloud region through a grid is the region named (it gave the intensity scope).
        let azure = "cn-east via azure:chinaeast: China MEE & NBS announcement (2022)";
        assert_eq!(
            of(&[
                ("intensity", Origin::Catalog, azure),
                ("ewif", Origin::Catalog, cn_water)
            ]),
            some("azure:chinaeast", Some("CN"))
        );
        // `--grid FR --series F`: the series replaced the intensity; the water names the grid.
        let series = "--series f.csv (column g): energy-weighted mean of its average intensity";
        assert_eq!(
            of(&[
                ("intensity", Origin::Derived, series),
                ("ewif", Origin::Catalog, fr_water)
            ]),
            some("FR", Some("FR"))
        );
        // `--grid us-egrid:CAMX --ewif 3L/kWh`: no country row.
        let camx = "us-egrid:CAMX: US EPA eGRID2022 subregion output emission rates (2022)";
        assert_eq!(
            of(&[
                ("intensity", Origin::Catalog, camx),
                ("ewif", Origin::User, "--ewif")
            ]),
            some("us-egrid:CAMX", None)
        );
    }

    #[test]
    fn no_grid_named_is_no_place() {
        // `--intensity 300g/kWh`, the world average by default, `--grid world`, a series alone.
        assert_eq!(of(&[("intensity", Origin::User, "--intensity")]), None);
        let world = "no --grid given, world average; world: derived: generation-weighted mean";
        assert_eq!(of(&[("intensity", Origin::Default, world)]), None);
        let world = "world: derived: generation-weighted mean of the country rows (2023)";
        assert_eq!(of(&[("intensity", Origin::Catalog, world)]), None);
        let series = "--series f.csv (column g): energy-weighted mean of its average intensity";
        assert_eq!(of(&[("intensity", Origin::Derived, series)]), None);
        assert_eq!(of(&[]), None);
    }
}
