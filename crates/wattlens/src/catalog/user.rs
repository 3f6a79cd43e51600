//! User catalog files: TOML with `[[accelerator]]`, `[[server]]`, `[[grid]]`, `[[ewif]]`,
//! `[[datacenter]]`, `[[model]]`, `[[equivalent]]` and `[[default]]` tables whose fields are the
//! columns of the embedded CSV tables. Rows add to the catalog or override same-named rows.

use super::{
    Accelerator, CatalogError, Coefficient, Datacenter, Equivalent, Ewif, Grid, Model, Server,
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
                message: format!("{line}{}", e.message()),
            }
        })?;
        cat.validate(origin)?;
        Ok(cat)
    }

    fn validate(&self, origin: &str) -> Result<(), CatalogError> {
        let bad = |what: &str, name: &str, field: &str| CatalogError::Malformed {
            path: origin.to_string(),
            message: format!("{what} {name:?}: {field} must be a finite, non-negative number"),
        };
        let ok = |v: Option<f64>| v.is_none_or(|x| x.is_finite() && x >= 0.0);
        for a in &self.accelerator {
            for (f, v) in [
                ("board_power_w", a.board_power_w),
                ("bf16_tflops", a.bf16_tflops),
                ("fp16_tflops", a.fp16_tflops),
                ("memory_gb", a.memory_gb),
                ("mem_bw_gb_s", a.mem_bw_gb_s),
            ] {
                if !ok(v) {
                    return Err(bad("accelerator", &a.name, f));
                }
            }
        }
        for s in &self.server {
            if !ok(s.max_power_kw) || !ok(s.accelerators) {
                return Err(bad("server", &s.name, "max_power_kw/accelerators"));
            }
        }
        for g in &self.grid {
            if !ok(g.intensity_g_per_kwh) || !ok(g.ewif_l_per_kwh) {
                return Err(bad("grid", &g.key, "intensity_g_per_kwh/ewif_l_per_kwh"));
            }
        }
        for d in &self.datacenter {
            if !ok(d.pue_low) || !ok(d.pue_high) || d.pue_low.is_some_and(|p| p < 1.0) {
                return Err(bad("datacenter", &d.name, "pue_low/pue_high (at least 1)"));
            }
        }
        Ok(())
    }
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
