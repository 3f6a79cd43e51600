//! User catalog files: TOML with `[[accelerator]]`, `[[server]]`, `[[grid]]`, `[[ewif]]`,
//! `[[datacenter]]`, `[[model]]`, `[[equivalent]]` and `[[default]]` tables whose fields are the
//! columns of the embedded CSV tables. Rows add to the catalog or override same-named rows.

use super::{
    Accelerator, CatalogError, Coefficient, Datacenter, Equivalent, Ewif, Grid, Model, Row, Server,
    Table,
};
use serde::Deserialize;
use std::path::Path;

/// The rows of a user catalog file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserCatalog {
    /// Accelerators.
    #[serde(default)]
    pub accelerator: Vec<Accelerator>,
    /// Servers.
    #[serde(default)]
    pub server: Vec<Server>,
    /// Grids.
    #[serde(default)]
    pub grid: Vec<Grid>,
    /// Water-of-electricity factors.
    #[serde(default)]
    pub ewif: Vec<Ewif>,
    /// Data-centre profiles.
    #[serde(default)]
    pub datacenter: Vec<Datacenter>,
    /// Models.
    #[serde(default)]
    pub model: Vec<Model>,
    /// Equivalents.
    #[serde(default)]
    pub equivalent: Vec<Equivalent>,
    /// Default coefficients.
    #[serde(default)]
    pub default: Vec<Coefficient>,
    /// Warnings about values a unit slip would give (used as given), each naming the file,
    /// the line and the field; filled when the file is parsed.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

impl UserCatalog {
    /// Reads and parses a user catalog file.
    ///
    /// # Errors
    /// [`CatalogError::Io`], or [`CatalogError::Malformed`] with the line and column.
    pub fn load(path: &Path) -> Result<Self, CatalogError> {
        let text = std::fs::read_to_string(path).map_err(|source| CatalogError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses user catalog TOML; `origin` names the file in errors.
    ///
    /// # Errors
    /// [`CatalogError::Malformed`] with the line and column.
    pub fn parse(text: &str, origin: &str) -> Result<Self, CatalogError> {
        let cat: Self = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                .map_or(String::new(), |l| format!("line {l}: "));
            CatalogError::Malformed {
                path: origin.to_string(),
                message: format!("{line}{}", crate::input::short_numbers(e.message())),
            }
        })?;
        let mut cat = cat;
        cat.validate(origin, text)?;
        let place = super::cross::Place { origin, text };
        cat.cross_check(&place)?;
        cat.warnings = cat.implausible(&place);
        Ok(cat)
    }

    fn validate(&self, origin: &str, text: &str) -> Result<(), CatalogError> {
        check_rows(&self.accelerator, "accelerator", origin, text)?;
        check_rows(&self.server, "server", origin, text)?;
        check_rows(&self.grid, "grid", origin, text)?;
        check_rows(&self.ewif, "ewif", origin, text)?;
        check_rows(&self.datacenter, "datacenter", origin, text)?;
        check_rows(&self.model, "model", origin, text)?;
        check_rows(&self.equivalent, "equivalent", origin, text)?;
        check_rows(&self.default, "default", origin, text)?;
        // A default the models never read (a typo) would be ignored without a word.
        let embedded = Table::<Coefficient>::build(&[])?;
        for (i, c) in self.default.iter().enumerate() {
            if let Err(CatalogError::Unknown { hint, .. }) = embedded.get(&c.key) {
                return Err(CatalogError::Malformed {
                    path: origin.to_string(),
                    message: format!(
                        "{}default key {:?} is not one the models read{hint}; `wattlens catalog list defaults` lists them",
                        line_of(text, "default", i, "key").map_or(String::new(), |l| format!("line {l}: ")),
                        c.key
                    ),
                });
            }
        }
        Ok(())
    }
}

/// Checks every row of one table, naming the file, the line and the field of the first bad value.
fn check_rows<T: Row>(
    rows: &[T],
    table: &str,
    origin: &str,
    text: &str,
) -> Result<(), CatalogError> {
    for (i, r) in rows.iter().enumerate() {
        if let Err(e) = r.validate() {
            let line =
                line_of(text, table, i, e.field).map_or(String::new(), |l| format!(", line {l}"));
            return Err(CatalogError::Invalid {
                path: origin.to_string(),
                at: format!("{line}: {} {:?}", T::KIND.noun(), r.name()),
                field: e.field,
                message: e.message,
            });
        }
    }
    Ok(())
}

/// The line (1-based) of `field` in the `index`-th `[[table]]` of a TOML text, else of that
/// table's header; `None` when the rows are not written as `[[table]]` headers.
pub(super) fn line_of(text: &str, table: &str, index: usize, field: &str) -> Option<usize> {
    let header = |l: &str| {
        let l = l.trim_start();
        l.strip_prefix("[[")
            .and_then(|r| r.split_once("]]"))
            .map(|(name, _)| name.trim().trim_matches('"').to_string())
    };
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| header(l).is_some_and(|h| h == table))
        .nth(index)?
        .0;
    for (k, l) in lines.iter().enumerate().skip(start + 1) {
        let t = l.trim_start();
        if t.starts_with('[') {
            break;
        }
        let key = t.split('=').next().unwrap_or("").trim().trim_matches('"');
        if t.contains('=') && key == field {
            return Some(k + 1);
        }
    }
    Some(start + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rows_and_reports_line_of_error() {
        let ok = "[[accelerator]]\nname = \"My NPU\"\nboard_power_w = 300\nbf16_tflops = 200\nyear = 2025\nsource = \"vendor sheet\"\n";
        let c = UserCatalog::parse(ok, "my.toml").expect("parses");
        assert_eq!(c.accelerator[0].board_power_w, Some(300.0));
        assert_eq!(c.accelerator[0].year.as_deref(), Some("2025"));
        let bad = "[[accelerator]]\nname = \"x\"\nboard_power_w = \"lots\"\n";
        let e = UserCatalog::parse(bad, "my.toml")
            .expect_err("malformed")
            .to_string();
        assert!(e.contains("my.toml") && e.contains("line 3"), "{e}");
        let neg = "[[grid]]\nkey = \"mine\"\nintensity_g_per_kwh = -5\n";
        assert!(UserCatalog::parse(neg, "n.toml").is_err());
    }
}
