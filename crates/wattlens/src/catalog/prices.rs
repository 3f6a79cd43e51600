//! Electricity prices by country and US state (`crates/wattlens/data/prices.csv`), each row with
//! its currency, tariff class, period and source, and the lookup from a grid to its price.
//!
//! A grid finds its price through, in order: its own key among the rows' names and aliases
//! (US states list the eGRID subregions and cloud regions that lie inside them), then its
//! country's code. Member states of the EU without a row of their own match the EU-27 average
//! row through its aliases, and the row's name says so.

use super::rows::cite;
use super::{Catalog, CatalogError, Grid, Row, TableKind};
use crate::uncertainty::Range;
use serde::{Deserialize, Serialize};

/// An average electricity price for a place, per kWh in the row's currency.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElectricityPrice {
    /// `US`, `US-CA`, `EU`, `IE` (ISO 3166 codes; US states as `US-` and their postal code).
    pub key: String,
    /// Other names and the grid keys that lie inside this place, `|`-separated.
    #[serde(default, deserialize_with = "super::rows::text")]
    pub aliases: Option<String>,
    /// Human name.
    #[serde(default, deserialize_with = "super::rows::text")]
    pub name: Option<String>,
    /// ISO 4217 currency of the price.
    pub currency: String,
    /// Low end, per kWh (the industrial price where the row is a range).
    pub price_low: f64,
    /// High end, per kWh (the commercial price where the row is a range).
    pub price_high: f64,
    /// Tariff class: who pays this price, taxes included or not.
    #[serde(default, deserialize_with = "super::rows::text")]
    pub tariff: Option<String>,
    /// Year or half-year of the data.
    #[serde(default, deserialize_with = "super::rows::text")]
    pub year: Option<String>,
    /// Source.
    #[serde(default, deserialize_with = "super::rows::text")]
    pub source: Option<String>,
    /// Notes.
    #[serde(default, deserialize_with = "super::rows::text")]
    pub notes: Option<String>,
}

impl Row for ElectricityPrice {
    const KIND: TableKind = TableKind::Prices;
    const FILE: &'static str = "prices.csv";
    const CSV: &'static str = include_str!("../../data/prices.csv");
    const NAME_COLUMN: &'static str = "key";
    fn name(&self) -> &str {
        &self.key
    }
    fn aliases(&self) -> Option<&str> {
        self.aliases.as_deref()
    }
    fn set_aliases(&mut self, aliases: Option<String>) {
        self.aliases = aliases;
    }
    fn summary(&self) -> String {
        format!(
            "{} - {} {}/kWh, {}, {}",
            self.name.as_deref().unwrap_or("-"),
            self.range().display(""),
            self.currency,
            self.tariff.as_deref().unwrap_or("-"),
            self.year.as_deref().unwrap_or("-")
        )
    }
    fn cite(&self) -> String {
        cite(self.source.as_deref(), self.year.as_deref())
    }
}

impl ElectricityPrice {
    /// The price per kWh as a range (a point where low equals high).
    #[must_use]
    pub fn range(&self) -> Range {
        let (lo, hi) = (
            self.price_low.min(self.price_high),
            self.price_low.max(self.price_high),
        );
        Range::new(lo, hi)
    }
}

impl Catalog {
    /// The price of electricity where `grid` is: the grid's own row (a US state lists the
    /// regions inside it), else its country's (or the EU-27 average for a member state).
    /// `None` when the catalog has no price for the place.
    ///
    /// # Errors
    /// Only if the embedded table is broken.
    pub fn price_for(&self, grid: &Grid) -> Result<Option<&ElectricityPrice>, CatalogError> {
        let t = self.prices()?;
        let mut keys = vec![grid.key.as_str()];
        if let Some(c) = grid.country.as_deref() {
            keys.push(c);
        }
        for k in keys {
            match t.get(k) {
                Ok(p) => return Ok(Some(p)),
                Err(CatalogError::Unknown { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }
}

/// A price in a message: `0.0806..0.128 USD/kWh`.
#[must_use]
pub fn display(p: &ElectricityPrice) -> String {
    p.range().display(&format!("{}/kWh", p.currency))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(grid: &str) -> Option<String> {
        let c = Catalog::embedded();
        let g = c.grids().expect("grids").get(grid).expect("grid");
        c.price_for(g).expect("prices").map(|p| p.key.clone())
    }

    #[test]
    fn grids_find_their_price() {
        assert_eq!(price("US").as_deref(), Some("US"));
        assert_eq!(price("us-egrid:CAMX").as_deref(), Some("US-CA"));
        assert_eq!(price("aws:us-east-1").as_deref(), Some("US-VA"));
        assert_eq!(price("us-egrid:RFCW").as_deref(), Some("US"));
        assert_eq!(price("IE").as_deref(), Some("IE"));
        assert_eq!(price("FR").as_deref(), Some("FR"));
        assert_eq!(price("gcp:europe-west1").as_deref(), Some("BE"));
        assert_eq!(price("LT").as_deref(), Some("EU"));
        assert_eq!(price("LU").as_deref(), Some("EU"));
        assert_eq!(price("JP"), None);
    }

    #[test]
    fn every_price_row_has_a_currency_source_year_and_tariff() {
        let c = Catalog::embedded();
        for p in c.prices().expect("t").rows().expect("rows") {
            assert!(
                p.currency.len() == 3 && p.currency.chars().all(|c| c.is_ascii_uppercase()),
                "{}: currency {:?}",
                p.key,
                p.currency
            );
            assert!(
                p.source.as_deref().is_some_and(|s| s.len() > 10),
                "{}",
                p.key
            );
            assert!(p.year.is_some() && p.tariff.is_some(), "{}", p.key);
            let r = p.range();
            assert!(r.lo > 0.0 && r.hi < 1.0, "{}: {r:?} per kWh", p.key);
        }
    }
}
