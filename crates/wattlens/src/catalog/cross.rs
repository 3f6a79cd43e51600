//! Checks of user catalog rows beyond each field's own bounds: names that must be rows of
//! another table, a server's power against its accelerators', the ordering of paired default
//! coefficients, equivalents the output knows, and warnings for values a unit slip would give.

use super::{Accelerator, CatalogError, Coefficient, Equivalent, Row, Server, Table, UserCatalog};
use crate::field::Field;
use crate::plausible::{self, Bound};
use crate::uncertainty::fmt_num;

/// Default coefficients the models need in order, smaller first: the power fraction of an idle
/// accelerator is at most that of a memory-bound one, which is at most that of a compute-bound one.
pub const ORDERED_DEFAULTS: &[(&str, &str)] = &[
    ("infer.power_idle", "infer.power_low"),
    ("infer.power_low", "infer.power_high"),
];

/// Where a row is, for messages: the file, and the line of `field` (else of the row's header).
pub(super) struct Place<'a> {
    pub origin: &'a str,
    pub text: &'a str,
}

impl Place<'_> {
    fn at(&self, table: &str, index: usize, field: &str, noun: &str, name: &str) -> String {
        let line = super::user::line_of(self.text, table, index, field)
            .map_or(String::new(), |l| format!(", line {l}"));
        format!("{line}: {noun} {name:?}")
    }

    fn invalid(
        &self,
        table: &str,
        index: usize,
        noun: &str,
        name: &str,
        field: &'static str,
        message: String,
    ) -> CatalogError {
        CatalogError::Invalid {
            path: self.origin.to_string(),
            at: self.at(table, index, field, noun, name),
            field,
            message,
        }
    }
}

/// A server cannot draw less than its accelerators at their board power together.
///
/// # Errors
/// The field `max_power_kw` and the combined board power, as a message.
pub fn server_power_covers_accelerators(s: &Server, acc: &Accelerator) -> Result<(), String> {
    let (Some(kw), Some(w)) = (s.max_power_kw, acc.board_power_w) else {
        return Ok(());
    };
    let n = s.accelerators.unwrap_or(1.0);
    let need_kw = n * w / 1000.0;
    if kw < need_kw * (1.0 - 1e-9) {
        return Err(format!(
            "must be at least the board power of its accelerators together ({} x {} at {} W = {} kW), got {}: a server draws at least what its accelerators do (max_power_kw is in kW)",
            fmt_num(n),
            acc.name,
            fmt_num(w),
            fmt_num(need_kw),
            fmt_num(kw)
        ));
    }
    Ok(())
}

impl UserCatalog {
    /// Cross-table checks of the rows: accelerators named by servers and models exist, a
    /// server's power covers its accelerators, paired defaults are ordered, equivalents are
    /// ones the output shows.
    pub(super) fn cross_check(&self, p: &Place) -> Result<(), CatalogError> {
        let names_accelerator = self.server.iter().any(|s| s.accelerator.is_some())
            || self.model.iter().any(|m| m.training_accelerator.is_some());
        if names_accelerator {
            let accs = Table::<Accelerator>::build(&self.accelerator)?;
            let find = |name: &str| match accs.get(name) {
                Ok(a) => Ok(Ok(a)),
                Err(e @ CatalogError::Unknown { .. }) => {
                    Ok(Err(format!("must name an accelerator of the catalog: {e}")))
                }
                Err(e) => Err(e),
            };
            for (i, s) in self.server.iter().enumerate() {
                let Some(name) = s.accelerator.as_deref() else {
                    continue;
                };
                let noun = Server::KIND.noun();
                match find(name)? {
                    Err(m) => {
                        return Err(p.invalid("server", i, noun, &s.name, "accelerator", m));
                    }
                    Ok(acc) => {
                        if let Err(m) = server_power_covers_accelerators(s, acc) {
                            return Err(p.invalid("server", i, noun, &s.name, "max_power_kw", m));
                        }
                    }
                }
            }
            for (i, m) in self.model.iter().enumerate() {
                let Some(name) = m.training_accelerator.as_deref() else {
                    continue;
                };
                if let Err(msg) = find(name)? {
                    return Err(p.invalid(
                        "model",
                        i,
                        "model",
                        &m.name,
                        "training_accelerator",
                        msg,
                    ));
                }
            }
        }
        self.defaults_ordered(p)?;
        self.equivalents_known(p)
    }

    fn defaults_ordered(&self, p: &Place) -> Result<(), CatalogError> {
        if self.default.is_empty() {
            return Ok(());
        }
        let table = Table::<Coefficient>::build(&self.default)?;
        for (small, large) in ORDERED_DEFAULTS {
            let (Ok(a), Ok(b)) = (table.get(small), table.get(large)) else {
                continue;
            };
            if a.low <= b.low && a.high <= b.high {
                continue;
            }
            // Name the user's row: the one of the pair the file sets (the larger if both).
            let (index, key) = match self.default.iter().rposition(|c| c.key == *large) {
                Some(i) => (i, *large),
                None => match self.default.iter().rposition(|c| c.key == *small) {
                    Some(i) => (i, *small),
                    None => continue,
                },
            };
            let field = if a.low > b.low { "low" } else { "high" };
            return Err(p.invalid(
                "default",
                index,
                Coefficient::KIND.noun(),
                key,
                field,
                format!(
                    "puts {small} ({}..{}) above {large} ({}..{}): the models need each end of {small} at most the same end of {large}",
                    fmt_num(a.low),
                    fmt_num(a.high),
                    fmt_num(b.low),
                    fmt_num(b.high)
                ),
            ));
        }
        Ok(())
    }

    fn equivalents_known(&self, p: &Place) -> Result<(), CatalogError> {
        if self.equivalent.is_empty() {
            return Ok(());
        }
        let embedded = Table::<Equivalent>::build(&[])?;
        for (i, e) in self.equivalent.iter().enumerate() {
            if embedded.get(&e.key).is_err() {
                let known: Vec<String> = embedded.rows()?.iter().map(|r| r.key.clone()).collect();
                return Err(p.invalid(
                    "equivalent",
                    i,
                    Equivalent::KIND.noun(),
                    &e.key,
                    "key",
                    format!(
                        "is not an equivalent the output shows (an equivalent can only override one of: {})",
                        known.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Warnings for values outside the plausible bounds the flags are held to (a grid of
    /// 0.05 g/kWh is a kg/kWh slip): each names the file, the line, the row and the field.
    /// The values are used as given.
    pub(super) fn implausible(&self, p: &Place) -> Vec<String> {
        let mut out = Vec::new();
        let mut warn = |table: &str,
                        i: usize,
                        noun: &str,
                        name: &str,
                        field: &str,
                        v: Option<f64>,
                        input: Field,
                        scale: f64,
                        unit: &str| {
            let (Some(v), Some(b)) = (v, plausible::bound(input)) else {
                return;
            };
            if let Some(w) = outside(b, v, scale, field, unit) {
                out.push(format!(
                    "catalog file {}{}: {w}; it is used as given",
                    p.origin,
                    p.at(table, i, field, noun, name)
                ));
            }
        };
        for (i, g) in self.grid.iter().enumerate() {
            let n = super::Grid::KIND.noun();
            for (field, v) in [
                ("intensity_g_per_kwh", g.intensity_g_per_kwh),
                ("intensity_low", g.intensity_low),
                ("intensity_high", g.intensity_high),
            ] {
                warn(
                    "grid",
                    i,
                    n,
                    &g.key,
                    field,
                    v,
                    Field::Intensity,
                    1.0,
                    "g/kWh",
                );
            }
            let v = g.ewif_l_per_kwh;
            warn(
                "grid",
                i,
                n,
                &g.key,
                "ewif_l_per_kwh",
                v,
                Field::Ewif,
                1.0,
                "L/kWh",
            );
        }
        for (i, e) in self.ewif.iter().enumerate() {
            let n = super::Ewif::KIND.noun();
            for (field, v) in [
                ("l_per_kwh_low", e.l_per_kwh_low),
                ("l_per_kwh_high", e.l_per_kwh_high),
            ] {
                warn("ewif", i, n, e.name(), field, v, Field::Ewif, 1.0, "L/kWh");
            }
        }
        for (i, d) in self.datacenter.iter().enumerate() {
            let n = super::Datacenter::KIND.noun();
            for (field, v, input, unit) in [
                ("pue_low", d.pue_low, Field::Pue, ""),
                ("pue_high", d.pue_high, Field::Pue, ""),
                ("wue_low", d.wue_low, Field::Wue, "L/kWh"),
                ("wue_high", d.wue_high, Field::Wue, "L/kWh"),
            ] {
                warn("datacenter", i, n, &d.name, field, v, input, 1.0, unit);
            }
        }
        for (i, s) in self.server.iter().enumerate() {
            let n = Server::KIND.noun();
            let v = s.max_power_kw;
            warn(
                "server",
                i,
                n,
                &s.name,
                "max_power_kw",
                v,
                Field::ServerPower,
                1000.0,
                "kW",
            );
        }
        for (i, a) in self.accelerator.iter().enumerate() {
            let n = Accelerator::KIND.noun();
            let v = a.board_power_w;
            warn(
                "accelerator",
                i,
                n,
                &a.name,
                "board_power_w",
                v,
                Field::GpuPower,
                1.0,
                "W",
            );
        }
        out
    }
}

/// The warning for one field's value `v` (in `unit`, which is `scale` times the bound's unit)
/// outside `b`; `None` when plausible.
fn outside(b: &Bound, v: f64, scale: f64, field: &str, unit: &str) -> Option<String> {
    let base = v * scale;
    if b.contains(base) {
        return None;
    }
    let sp = if unit.is_empty() { "" } else { " " };
    let (side, edge, why) = if base < b.low {
        ("below", b.low, b.why_low)
    } else {
        ("above", b.high, b.why_high)
    };
    Some(format!(
        "{field} {}{sp}{unit} is {side} {}{sp}{unit} ({why}): check the number and its unit ({field} is in {})",
        fmt_num(v),
        fmt_num(edge / scale),
        if unit.is_empty() { "plain numbers" } else { unit }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    #[test]
    fn embedded_servers_draw_at_least_their_accelerators() {
        let c = Catalog::embedded();
        let accs = c.accelerators().expect("t");
        for s in c.servers().expect("t").rows().expect("rows") {
            if let Some(a) = s.accelerator.as_deref() {
                let acc = accs.get(a).expect("server names a catalog accelerator");
                assert!(
                    server_power_covers_accelerators(s, acc).is_ok(),
                    "{}: {:?}",
                    s.name,
                    server_power_covers_accelerators(s, acc)
                );
            }
        }
    }

    #[test]
    fn embedded_paired_defaults_are_ordered() {
        let c = Catalog::embedded();
        let t = c.defaults().expect("t");
        for (small, large) in ORDERED_DEFAULTS {
            let (a, b) = (t.get(small).expect("small"), t.get(large).expect("large"));
            assert!(a.low <= b.low && a.high <= b.high, "{small} {large}");
        }
    }

    #[test]
    fn user_rows_that_would_give_wrong_numbers_are_refused_or_warned() {
        let err = |t: &str| {
            UserCatalog::parse(t, "u.toml")
                .expect_err("refused")
                .to_string()
        };
        let e = err("[[server]]\nname = \"tiny\"\naccelerator = \"H100 SXM5 80GB\"\naccelerators = 8\nmax_power_kw = 0.001\n");
        assert!(
            e.contains("u.toml, line 5") && e.contains("max_power_kw") && e.contains("5.6 kW"),
            "{e}"
        );
        let e = err("[[default]]\nkey = \"infer.power_low\"\nlow = 1\nhigh = 1\n[[default]]\nkey = \"infer.power_high\"\nlow = 0.001\nhigh = 0.001\n");
        assert!(e.contains("line 7") && e.contains("infer.power_low"), "{e}");
        let e = err("[[model]]\nname = \"m\"\ntraining_accelerator = \"Nope GPU\"\n");
        assert!(
            e.contains("line 3") && e.contains("training_accelerator"),
            "{e}"
        );
        let e = err("[[equivalent]]\nkey = \"bananas\"\nvalue = 3\n");
        assert!(
            e.contains("line 2") && e.contains("us_home_kwh_per_year"),
            "{e}"
        );
        let e = err("[[grid]]\nkey = \"g\"\nscope = \"weird\"\n");
        assert!(e.contains("line 3") && e.contains("lifecycle"), "{e}");
        let ok = UserCatalog::parse(
            "[[grid]]\nkey = \"g\"\nintensity_g_per_kwh = 0.05\n",
            "u.toml",
        )
        .expect("accepted");
        assert_eq!(ok.warnings.len(), 1, "{:?}", ok.warnings);
        assert!(
            ok.warnings[0].contains("u.toml, line 3"),
            "{:?}",
            ok.warnings
        );
        let fine = UserCatalog::parse(
            "[[grid]]\nkey = \"g\"\nintensity_g_per_kwh = 50\nscope = \"lifecycle\"\n",
            "u.toml",
        )
        .expect("accepted");
        assert!(fine.warnings.is_empty(), "{:?}", fine.warnings);
    }

    proptest::proptest! {
        /// A user grid's intensity warns exactly where `intensity` would.
        #[test]
        fn user_grid_intensity_warns_where_the_flag_would(v in 1e-6f64..1e4) {
            let t = format!("[[grid]]\nkey = \"g\"\nintensity_g_per_kwh = {v:e}\n");
            let Ok(c) = UserCatalog::parse(&t, "u.toml") else {
                // Above the table's own bound (5,000 g/kWh): refused, not warned.
                proptest::prop_assert!(v > 5000.0);
                return Ok(());
            };
            let flag = plausible::check(Field::Intensity, &crate::uncertainty::Range::point(v));
            proptest::prop_assert_eq!(c.warnings.len(), usize::from(flag.is_some()));
        }
    }
}
