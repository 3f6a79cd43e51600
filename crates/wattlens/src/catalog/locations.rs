//! Where a grid key lies on the map (`crates/wattlens/data/locations.csv`): one point per
//! country, cloud region, Chinese regional grid or province and East-Data-West-Computing hub,
//! each with what the point is and its source; `plan region --from` measures latency from it.
//!
//! A key without a row has no location: no latency is given for it (never a made-up point).

use super::check::{between, FieldError, Validate};
use super::rows::{cite, text};
use super::{Catalog, CatalogError, Row, TableKind};
use crate::uncertainty::fmt_input;
use serde::{Deserialize, Serialize};

/// A point on the map for a grid key.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// The grid key (`FR`, `gcp:europe-west1`, `cn-northwest`) or a hub (`edwc:ningxia`).
    pub key: String,
    /// Human name.
    #[serde(default, deserialize_with = "text")]
    pub name: Option<String>,
    /// Latitude, degrees north.
    pub lat: f64,
    /// Longitude, degrees east.
    pub lon: f64,
    /// What the point is: a cloud region's city, a country's geographic centre, a grid's hub.
    pub point: String,
    /// Source.
    #[serde(default, deserialize_with = "text")]
    pub source: Option<String>,
    /// Year of the source.
    #[serde(default, deserialize_with = "text")]
    pub year: Option<String>,
}

impl Row for Location {
    const KIND: TableKind = TableKind::Locations;
    const FILE: &'static str = "locations.csv";
    const CSV: &'static str = include_str!("../../data/locations.csv");
    const NAME_COLUMN: &'static str = "key";
    fn name(&self) -> &str {
        &self.key
    }
    fn aliases(&self) -> Option<&str> {
        None
    }
    fn set_aliases(&mut self, _: Option<String>) {}
    fn summary(&self) -> String {
        format!(
            "{} - {}, {} ({})",
            self.name.as_deref().unwrap_or("-"),
            fmt_input(self.lat),
            fmt_input(self.lon),
            self.point
        )
    }
    fn cite(&self) -> String {
        cite(self.source.as_deref(), self.year.as_deref())
    }
}

impl Validate for Location {
    fn validate(&self) -> Result<(), FieldError> {
        between(-90.0, 90.0).check("lat", self.lat)?;
        between(-180.0, 180.0).check("lon", self.lon)
    }
}

impl Catalog {
    /// The point of `key` (a grid key as the grids table spells it, or a hub such as
    /// `edwc:ningxia`); `None` when the catalog has no location for it.
    ///
    /// # Errors
    /// Only if the embedded table is broken.
    pub fn location(&self, key: &str) -> Result<Option<&Location>, CatalogError> {
        match self.locations()?.get(key) {
            Ok(l) => Ok(Some(l)),
            Err(CatalogError::Unknown { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_location_is_a_grid_or_a_hub_with_a_source_and_year() {
        let c = Catalog::embedded();
        let grids = c.grids().expect("grids");
        let rows = c.locations().expect("t").rows().expect("rows");
        assert!(rows.len() > 300, "{} rows", rows.len());
        for l in rows {
            assert!(
                l.key.starts_with("edwc:") || grids.get(&l.key).is_ok(),
                "{} is no grid key",
                l.key
            );
            assert!(
                l.source.as_deref().is_some_and(|s| s.len() > 10),
                "{}",
                l.key
            );
            assert!(l.year.is_some() && !l.point.is_empty(), "{}", l.key);
        }
    }

    #[test]
    fn known_points_and_a_key_without_one() {
        let c = Catalog::embedded();
        let l = c.location("gcp:europe-west9").expect("t").expect("paris");
        assert!((l.lat - 48.86).abs() < 0.01 && (l.lon - 2.35).abs() < 0.01);
        let l = c.location("azure:eastus2").expect("t").expect("eastus2");
        assert!((l.lat - 36.6681).abs() < 1e-9 && (l.lon + 78.3889).abs() < 1e-9);
        // Google publishes no city for europe-west5: no point, no latency.
        assert!(c.location("gcp:europe-west5").expect("t").is_none());
        assert!(c.location("world").expect("t").is_none());
    }
}
