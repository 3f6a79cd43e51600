//! The embedded catalog: hardware, servers, grids, data centres, models, equivalents and the
//! models' default coefficients, every row with its source and year.
//!
//! Tables are CSV files compiled into the binary (`crates/wattlens/data/`) and parsed on first
//! use, so a command pays only for the tables it touches. A user TOML file (`--catalog FILE`)
//! adds rows or overrides built-in rows of the same name.

mod check;
mod cross;
mod edge;
mod locations;
mod prices;
mod rows;
mod table;
mod user;

pub use check::{coefficient_bounds, Bounds, FieldError, Validate};
pub use cross::{server_power_covers_accelerators, ORDERED_DEFAULTS};
pub use edge::{Device, PowerCapPoint};
pub use locations::Location;
pub use prices::{display as price_display, ElectricityPrice};
pub use rows::{Accelerator, Coefficient, Datacenter, Equivalent, Ewif, Grid, Model, Server};
pub use table::Table;
pub use user::UserCatalog;

use serde::{de::DeserializeOwned, Serialize};
use std::path::Path;
use std::sync::OnceLock;

/// The kinds of catalog table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TableKind {
    /// GPUs, TPUs and other accelerators.
    Accelerators,
    /// Servers, systems, racks and cloud instances.
    Servers,
    /// Electricity grids: countries, cloud regions, sub-national grids.
    Grids,
    /// Water consumed per kWh generated, by fuel and named grid average.
    Ewif,
    /// Data-centre profiles: operators, industry averages, cooling types.
    Datacenters,
    /// AI models: shape and published training figures.
    Models,
    /// Everyday equivalents (homes, cars, phone charges).
    Equivalents,
    /// Default coefficients of the models (MFU, load, lifetimes ...).
    Defaults,
    /// Electricity prices by country and US state.
    Prices,
    /// Phones, laptops and edge boards that run models on themselves.
    Devices,
    /// Measured points of the power-cap curves (time and energy against the uncapped run).
    PowerCaps,
    /// Points on the map of grid keys (cloud regions' cities, countries' centres, grid hubs).
    Locations,
}

impl TableKind {
    /// Every kind, in listing order.
    pub const ALL: [TableKind; 12] = [
        TableKind::Accelerators,
        TableKind::Servers,
        TableKind::Grids,
        TableKind::Ewif,
        TableKind::Datacenters,
        TableKind::Models,
        TableKind::Equivalents,
        TableKind::Defaults,
        TableKind::Prices,
        TableKind::Devices,
        TableKind::PowerCaps,
        TableKind::Locations,
    ];
    /// The name used on the command line and in user catalog files.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            TableKind::Accelerators => "accelerators",
            TableKind::Servers => "servers",
            TableKind::Grids => "grids",
            TableKind::Ewif => "ewif",
            TableKind::Datacenters => "datacenters",
            TableKind::Models => "models",
            TableKind::Equivalents => "equivalents",
            TableKind::Defaults => "defaults",
            TableKind::Prices => "prices",
            TableKind::Devices => "devices",
            TableKind::PowerCaps => "power-caps",
            TableKind::Locations => "locations",
        }
    }
    /// The singular noun, for messages.
    #[must_use]
    pub fn noun(self) -> &'static str {
        match self {
            TableKind::Accelerators => "accelerator",
            TableKind::Servers => "server",
            TableKind::Grids => "grid region",
            TableKind::Ewif => "water factor",
            TableKind::Datacenters => "data-centre profile",
            TableKind::Models => "model",
            TableKind::Equivalents => "equivalent",
            TableKind::Defaults => "default coefficient",
            TableKind::Prices => "electricity price",
            TableKind::Devices => "device",
            TableKind::PowerCaps => "power-cap point",
            TableKind::Locations => "location",
        }
    }
    /// Parses a kind name (singular or plural, with common synonyms).
    #[must_use]
    pub fn parse(s: &str) -> Option<TableKind> {
        let n = normalize(s);
        Some(match n.trim_end_matches('s') {
            "accelerator" | "gpu" | "hardware" => TableKind::Accelerators,
            "server" | "system" | "instance" => TableKind::Servers,
            "grid" | "region" => TableKind::Grids,
            "ewif" | "water" => TableKind::Ewif,
            "datacenter" | "datacentre" | "dc" | "cooling" => TableKind::Datacenters,
            "model" => TableKind::Models,
            "equivalent" => TableKind::Equivalents,
            "default" | "coefficient" => TableKind::Defaults,
            "price" | "tariff" => TableKind::Prices,
            "device" | "phone" | "laptop" | "edge" => TableKind::Devices,
            "powercap" | "cap" => TableKind::PowerCaps,
            "location" | "place" => TableKind::Locations,
            _ => return None,
        })
    }
}

/// Catalog errors; each names the table or file and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// No row matches the name.
    #[error("unknown {noun} {query:?}{hint}; `wattlens catalog list {kind}` lists them")]
    Unknown {
        /// Singular noun of the table.
        noun: &'static str,
        /// Table name.
        kind: &'static str,
        /// What was asked for.
        query: String,
        /// " (did you mean ...?)" or empty.
        hint: String,
    },
    /// A user catalog file could not be read.
    #[error("cannot read catalog file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A value in a user catalog file is out of its domain (not finite, wrong sign, implausible,
    /// or out of order with its pair).
    #[error("catalog file {path}{at}: {field} {message}; fix the value or remove the row")]
    Invalid {
        /// The file.
        path: String,
        /// Where: `, line N: server "zero"` (the line when it is known, the table and the row).
        at: String,
        /// The field (`max_power_kw`).
        field: &'static str,
        /// What is wrong: the value and the allowed bounds.
        message: String,
    },
    /// A user catalog file is malformed; the message carries the line.
    #[error("catalog file {path} is malformed: {message}")]
    Malformed {
        /// The file.
        path: String,
        /// What is wrong and where.
        message: String,
    },
    /// An embedded table failed to parse (a bug; the test suite parses every table).
    #[error("embedded table {file} is malformed: {message}")]
    Embedded {
        /// The embedded file.
        file: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// Lower-case alphanumerics only: `H100 SXM5 80GB` and `h100-sxm5-80gb` match.
#[must_use]
pub fn normalize(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The name a user types for a row: its first alias without spaces, else its name if that has
/// none, else the name in lower case with runs of other characters turned into `-`
/// (`NVIDIA H100 SXM5 80GB` has the key `h100`; `FR` is its own key).
#[must_use]
pub fn typeable(name: &str, aliases: Option<&str>) -> String {
    let spaceless = |a: &&str| !a.trim().is_empty() && !a.contains(char::is_whitespace);
    if let Some(a) = aliases.and_then(|a| a.split('|').find(spaceless)) {
        return a.trim().to_string();
    }
    if spaceless(&name) {
        return name.to_string();
    }
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Makers' and clouds' names a user may put before an accelerator or server name
/// (`nvidia-h100`, `amd-mi300x`, `intel-gaudi3`, `google-tpu-v5p`), normalised.
pub(crate) const VENDOR_PREFIXES: [&str; 10] = [
    "nvidia",
    "amd",
    "intel",
    "habana",
    "google",
    "huawei",
    "cambricon",
    "aws",
    "gcp",
    "azure",
];

/// A catalog row.
pub trait Row: DeserializeOwned + Serialize + Clone + Validate {
    /// The table this row belongs to.
    const KIND: TableKind;
    /// The embedded CSV file.
    const FILE: &'static str;
    /// The embedded CSV text.
    const CSV: &'static str;
    /// The CSV column that holds the canonical name (`name`, or `key` for grids).
    const NAME_COLUMN: &'static str;
    /// The canonical name.
    fn name(&self) -> &str;
    /// Other names, `|`-separated.
    fn aliases(&self) -> Option<&str>;
    /// Sets the other names (a user row that replaces a built-in row inherits its names).
    fn set_aliases(&mut self, aliases: Option<String>);
    /// A one-line description for `catalog list`.
    fn summary(&self) -> String;
    /// Source and year, for explanations.
    fn cite(&self) -> String;
    /// The name a user types for this row: the key of a keyed table (`FR`, `train.mfu`), else
    /// see [`typeable`].
    fn key(&self) -> String {
        Self::key_for(self.name(), self.aliases())
    }
    /// [`Row::key`] of a row called `name` with `aliases`, before the row is parsed.
    fn key_for(name: &str, aliases: Option<&str>) -> String
    where
        Self: Sized,
    {
        if Self::NAME_COLUMN == "key" {
            name.to_string()
        } else {
            typeable(name, aliases)
        }
    }
}

/// The catalog: embedded tables plus the user's additions, parsed lazily.
#[derive(Debug, Default)]
pub struct Catalog {
    user: UserCatalog,
    accelerators: OnceLock<Table<Accelerator>>,
    servers: OnceLock<Table<Server>>,
    grids: OnceLock<Table<Grid>>,
    ewif: OnceLock<Table<Ewif>>,
    datacenters: OnceLock<Table<Datacenter>>,
    models: OnceLock<Table<Model>>,
    equivalents: OnceLock<Table<Equivalent>>,
    defaults: OnceLock<Table<Coefficient>>,
    prices: OnceLock<Table<ElectricityPrice>>,
    devices: OnceLock<Table<Device>>,
    power_caps: OnceLock<Table<PowerCapPoint>>,
    locations: OnceLock<Table<Location>>,
}

fn table<'a, T: Row>(
    cell: &'a OnceLock<Table<T>>,
    user: &[T],
) -> Result<&'a Table<T>, CatalogError> {
    if let Some(t) = cell.get() {
        return Ok(t);
    }
    let t = Table::build(user)?;
    Ok(cell.get_or_init(|| t))
}

impl Catalog {
    /// The embedded catalog alone.
    #[must_use]
    pub fn embedded() -> Self {
        Self::default()
    }

    /// The embedded catalog with a user file's rows added (and overriding same-named rows).
    ///
    /// # Errors
    /// [`CatalogError::Io`] or [`CatalogError::Malformed`] naming the file and line.
    pub fn with_user_file(path: &Path) -> Result<Self, CatalogError> {
        Ok(Self {
            user: UserCatalog::load(path)?,
            ..Self::default()
        })
    }

    /// The embedded catalog with user rows already parsed.
    #[must_use]
    pub fn with_user(user: UserCatalog) -> Self {
        Self {
            user,
            ..Self::default()
        }
    }

    /// Warnings about the user file's values that a unit slip would give (used as given), each
    /// naming the file, the line and the field.
    #[must_use]
    pub fn warnings(&self) -> &[String] {
        &self.user.warnings
    }

    /// Accelerators.
    ///
    /// # Errors
    /// Only if an embedded table is broken.
    pub fn accelerators(&self) -> Result<&Table<Accelerator>, CatalogError> {
        table(&self.accelerators, &self.user.accelerator)
    }
    /// Servers, systems and instances.
    ///
    /// # Errors
    /// Only if an embedded table is broken.
    pub fn servers(&self) -> Result<&Table<Server>, CatalogError> {
        table(&self.servers, &self.user.server)
    }
    /// Grids.
    ///
    /// # Errors
    /// Only if an embedded table is broken.
    pub fn grids(&self) -> Result<&Table<Grid>, CatalogError> {
        table(&self.grids, &self.user.grid)
    }
    /// Water of electricity factors.
    ///
    /// # Errors
    /// Only if an embedded table is broken.
    pub fn ewif(&self) -> Result<&Table<Ewif>, CatalogError> {
        table(&self.ewif, &self.user.ewif)
    }
    /// Data-centre profiles.
    ///
    /// # Errors
    /// Only if an embedded table is broken.
    pub fn datacenters(&self) -> Result<&Table<Datacenter>, CatalogError> {
        table(&self.datacenters, &self.user.datacenter)
    }
    /// Models.
    ///
    /// # Errors
    /// Only if an embedded table is broken.
    pub fn models(&self) -> Result<&Table<Model>, CatalogError> {
        table(&self.models, &self.user.model)
    }
    /// Equivalents.
    ///
    /// # Errors
    /// Only if an embedded table is broken.
    pub fn equivalents(&self) -> Result<&Table<Equivalent>, CatalogError> {
        table(&self.equivalents, &self.user.equivalent)
    }
    /// Default coefficients.
    ///
    /// # Errors
    /// Only if an embedded table is broken.
    pub fn defaults(&self) -> Result<&Table<Coefficient>, CatalogError> {
        table(&self.defaults, &self.user.default)
    }

    /// Electricity prices (embedded only: `--price` overrides them).
    ///
    /// # Errors
    /// Only if the embedded table is broken.
    pub fn prices(&self) -> Result<&Table<ElectricityPrice>, CatalogError> {
        table(&self.prices, &[])
    }

    /// Phones, laptops and edge boards (embedded only).
    ///
    /// # Errors
    /// Only if the embedded table is broken.
    pub fn devices(&self) -> Result<&Table<Device>, CatalogError> {
        table(&self.devices, &[])
    }

    /// Measured power-cap points (embedded only).
    ///
    /// # Errors
    /// Only if the embedded table is broken.
    pub fn power_caps(&self) -> Result<&Table<PowerCapPoint>, CatalogError> {
        table(&self.power_caps, &[])
    }

    /// Points on the map of grid keys (embedded only).
    ///
    /// # Errors
    /// Only if the embedded table is broken.
    pub fn locations(&self) -> Result<&Table<Location>, CatalogError> {
        table(&self.locations, &[])
    }

    /// A default coefficient by key; a missing key is a bug in the embedded table.
    ///
    /// # Errors
    /// [`CatalogError::Unknown`] if the key is missing.
    pub fn coefficient(&self, key: &str) -> Result<&Coefficient, CatalogError> {
        self.defaults()?.get(key)
    }

    /// Follows `parent` links from a grid to the first row with an intensity (at most 8 hops).
    ///
    /// # Errors
    /// [`CatalogError::Unknown`] for a dangling parent.
    pub fn grid_with_intensity<'a>(&'a self, g: &'a Grid) -> Result<&'a Grid, CatalogError> {
        let mut cur = g;
        for _ in 0..8 {
            if cur.intensity_g_per_kwh.is_some() {
                return Ok(cur);
            }
            match cur.parent.as_deref() {
                Some(p) => cur = self.grids()?.get(p)?,
                None => break,
            }
        }
        Ok(cur)
    }

    /// The water-of-electricity factor of a grid: its own, else its parents', else its
    /// country's. `None` when nothing is known (the caller falls back to a default).
    ///
    /// # Errors
    /// [`CatalogError::Unknown`] for a dangling parent.
    pub fn grid_ewif<'a>(&'a self, g: &'a Grid) -> Result<Option<(f64, &'a Grid)>, CatalogError> {
        let mut cur = g;
        for _ in 0..8 {
            if let Some(w) = cur.ewif_l_per_kwh {
                return Ok(Some((w, cur)));
            }
            let next = cur
                .parent
                .as_deref()
                .or(cur.country.as_deref().filter(|c| *c != cur.key));
            match next {
                Some(p) => cur = self.grids()?.get(p)?,
                None => break,
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_table_parses() {
        let c = Catalog::embedded();
        assert!(!c
            .accelerators()
            .expect("accelerators")
            .rows()
            .expect("every row parses")
            .is_empty());
        assert!(!c
            .servers()
            .expect("servers")
            .rows()
            .expect("every row parses")
            .is_empty());
        assert!(!c
            .grids()
            .expect("grids")
            .rows()
            .expect("every row parses")
            .is_empty());
        assert!(!c
            .ewif()
            .expect("ewif")
            .rows()
            .expect("every row parses")
            .is_empty());
        assert!(!c
            .datacenters()
            .expect("datacenters")
            .rows()
            .expect("every row parses")
            .is_empty());
        assert!(!c
            .models()
            .expect("models")
            .rows()
            .expect("every row parses")
            .is_empty());
        assert!(!c
            .equivalents()
            .expect("equivalents")
            .rows()
            .expect("every row parses")
            .is_empty());
        assert!(!c
            .defaults()
            .expect("defaults")
            .rows()
            .expect("every row parses")
            .is_empty());
    }

    #[test]
    fn every_row_cites_a_source() {
        let c = Catalog::embedded();
        fn check<T: Row>(t: &Table<T>) {
            for r in t.rows().expect("every row parses") {
                assert!(
                    r.cite().len() > 4,
                    "{} {:?} has no source",
                    T::FILE,
                    r.name()
                );
            }
        }
        check(c.accelerators().expect("t"));
        check(c.servers().expect("t"));
        check(c.grids().expect("t"));
        check(c.ewif().expect("t"));
        check(c.datacenters().expect("t"));
        check(c.models().expect("t"));
        check(c.equivalents().expect("t"));
        check(c.defaults().expect("t"));
    }

    #[test]
    fn names_match_loosely_and_suggest() {
        let c = Catalog::embedded();
        let a = c.accelerators().expect("t");
        assert_eq!(
            a.get("h100").expect("h100").name,
            a.get("H100 SXM5 80GB").expect("full").name
        );
        assert!(a.get("a100").expect("a100").name.contains("80GB"));
        let err = a.get("h10O").expect_err("unknown").to_string();
        assert!(err.contains("did you mean"), "{err}");
        let g = c.grids().expect("t");
        assert_eq!(g.get("USA").expect("usa").key, "US");
        assert_eq!(g.get("us").expect("us").key, "US");
        assert!(g.get("gcp:europe-west1").is_ok());
        assert!(g.get("us-egrid:CAMX").is_ok());
        assert!(g.get("cn-north").is_ok());
    }

    #[test]
    fn aws_regions_inherit_an_intensity() {
        let c = Catalog::embedded();
        let g = c.grids().expect("t").get("aws:us-east-1").expect("aws");
        let with = c.grid_with_intensity(g).expect("chain");
        assert!(with.intensity_g_per_kwh.is_some_and(|v| v > 0.0));
    }
}
