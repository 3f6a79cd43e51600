//! One catalog table: user rows and embedded CSV rows, each embedded row parsed on first use.
//!
//! Building a table walks the embedded text once, noting where each record starts and ends and
//! its name and aliases; nothing is allocated per row but the slot itself, and there is no name
//! index to build. A lookup compares normalised names in place (a few hundred rows at most), so
//! a command that needs one grid among hundreds pays for a scan of the text and one row.

use super::{normalize, CatalogError, Row, TableKind, VENDOR_PREFIXES};
use std::borrow::Cow;
use std::sync::OnceLock;

/// A table of rows of type `T`.
#[derive(Debug)]
pub struct Table<T> {
    slots: Vec<Slot<T>>,
    headers: csv::StringRecord,
}

/// One row: a user row (already parsed) or an embedded record parsed on first use.
#[derive(Debug)]
struct Slot<T> {
    /// The embedded record's text and its line in the file; `None` for a user row.
    raw: Option<(&'static str, usize)>,
    name: Cow<'static, str>,
    aliases: Cow<'static, str>,
    row: OnceLock<T>,
}

impl<T: Row> Table<T> {
    pub(super) fn build(user: &[T]) -> Result<Self, CatalogError> {
        let broken = |message: String| CatalogError::Embedded {
            file: T::FILE,
            message,
        };
        let mut records = records(T::CSV);
        let (head, _) = records
            .next()
            .ok_or_else(|| broken("no header line".into()))?;
        let headers = csv::StringRecord::from(fields(head));
        let name_col = headers
            .iter()
            .position(|h| h == T::NAME_COLUMN)
            .ok_or_else(|| broken(format!("no {:?} column", T::NAME_COLUMN)))?;
        let alias_col = headers.iter().position(|h| h == "aliases");
        let mut slots: Vec<Slot<T>> = user
            .iter()
            .map(|r| Slot {
                raw: None,
                name: Cow::Owned(r.name().to_string()),
                aliases: Cow::Owned(r.aliases().unwrap_or("").to_string()),
                row: OnceLock::from(r.clone()),
            })
            .collect();
        // Which user rows have already replaced a built-in row (each replaces one at most).
        let mut replaced = vec![false; slots.len()];
        for (rec, line) in records {
            let name = field(rec, name_col)
                .ok_or_else(|| broken(format!("row {line}: no {:?} field", T::NAME_COLUMN)))?;
            let aliases = alias_col
                .and_then(|c| field(rec, c))
                .unwrap_or(Cow::Borrowed(""));
            // A user row named like this row (its name, key or one of its other names) replaces
            // it, and answers to its other names unless it gives its own.
            let answers = |u: &str| {
                let u = normalize(u);
                same(&name, &u) || aliases.split('|').any(|a| same(a, &u))
            };
            if let Some(u) = (0..replaced.len()).find(|&u| !replaced[u] && answers(&slots[u].name))
            {
                replaced[u] = true;
                // The built-in row's name still finds it (a server names its accelerator so).
                let mut names: Vec<&str> = if slots[u].aliases.trim().is_empty() {
                    aliases
                        .split('|')
                        .filter(|a| !a.trim().is_empty())
                        .collect()
                } else {
                    slots[u].aliases.split('|').collect()
                };
                let user_name = normalize(&slots[u].name);
                if !same(&name, &user_name) && !names.iter().any(|a| same(a, &normalize(&name))) {
                    names.push(&name);
                }
                let joined = names.join("|");
                if joined != slots[u].aliases {
                    if let Some(mut r) = slots[u].row.take() {
                        r.set_aliases((!joined.is_empty()).then(|| joined.clone()));
                        slots[u].row = OnceLock::from(r);
                    }
                    slots[u].aliases = Cow::Owned(joined);
                }
                continue;
            }
            slots.push(Slot {
                raw: Some((rec, line)),
                name,
                aliases,
                row: OnceLock::new(),
            });
        }
        Ok(Self { slots, headers })
    }

    /// Row `i`, parsed on first use.
    fn row(&self, i: usize) -> Result<&T, CatalogError> {
        let slot = &self.slots[i];
        if let Some(r) = slot.row.get() {
            return Ok(r);
        }
        let broken = |message: String| CatalogError::Embedded {
            file: T::FILE,
            message,
        };
        let (rec, line) = slot
            .raw
            .ok_or_else(|| broken(format!("row {i} holds nothing")))?;
        let cells = fields(rec);
        if cells.len() != self.headers.len() {
            return Err(broken(format!(
                "row {line}: {} fields where the header has {}",
                cells.len(),
                self.headers.len()
            )));
        }
        let r: T = csv::StringRecord::from(cells)
            .deserialize(Some(&self.headers))
            .map_err(|e| broken(format!("row {line}: {e}")))?;
        r.validate().map_err(|e| {
            broken(format!(
                "line {line}, {:?}: {} {}",
                r.name(),
                e.field,
                e.message
            ))
        })?;
        Ok(slot.row.get_or_init(|| r))
    }

    /// Every row (user rows first) with whether it comes from the user file, parsed.
    ///
    /// # Errors
    /// Only if an embedded row is broken.
    pub fn rows_with_origin(&self) -> Result<Vec<(&T, bool)>, CatalogError> {
        (0..self.slots.len())
            .map(|i| Ok((self.row(i)?, self.slots[i].raw.is_none())))
            .collect()
    }

    /// Every row (user rows first), parsed.
    ///
    /// # Errors
    /// Only if an embedded row is broken.
    pub fn rows(&self) -> Result<Vec<&T>, CatalogError> {
        (0..self.slots.len()).map(|i| self.row(i)).collect()
    }

    /// The rows whose `column` passes `keep`, parsed; embedded rows are tested on their raw
    /// field before parsing, so a scan of a whole table parses only what it returns. User rows
    /// (already parsed) are always returned: the caller tests them on the parsed value.
    ///
    /// # Errors
    /// Only if an embedded row is broken.
    pub fn rows_where(
        &self,
        column: &str,
        keep: impl Fn(&str) -> bool,
    ) -> Result<Vec<&T>, CatalogError> {
        let col = self.headers.iter().position(|h| h == column);
        (0..self.slots.len())
            .filter(|&i| match (self.slots[i].raw, col) {
                (Some((rec, _)), Some(c)) => field(rec, c).is_some_and(|v| keep(&v)),
                (Some(_), None) => false,
                (None, _) => true,
            })
            .map(|i| self.row(i))
            .collect()
    }

    /// Finds a row by name or alias, ignoring case, spaces and punctuation. A name wins over an
    /// alias, and a user row over an embedded one.
    ///
    /// # Errors
    /// [`CatalogError::Unknown`] with the closest names suggested.
    pub fn get(&self, query: &str) -> Result<&T, CatalogError> {
        let q = normalize(query);
        // Accelerators and servers also answer to their maker's name in front (`nvidia-h100`).
        let bare = matches!(T::KIND, TableKind::Accelerators | TableKind::Servers)
            .then(|| {
                VENDOR_PREFIXES
                    .iter()
                    .find_map(|v| q.strip_prefix(v))
                    .filter(|r| !r.is_empty())
            })
            .flatten();
        for q in std::iter::once(q.as_str()).chain(bare) {
            if q.is_empty() {
                continue;
            }
            let by_name = self.slots.iter().position(|s| same(&s.name, q));
            let found = by_name.or_else(|| {
                self.slots
                    .iter()
                    .position(|s| s.aliases.split('|').any(|a| same(a, q)))
            });
            if let Some(i) = found {
                return self.row(i);
            }
        }
        let mut scored: Vec<(f64, &Slot<T>)> = self
            .slots
            .iter()
            .flat_map(|s| {
                std::iter::once(s.name.as_ref())
                    .chain(s.aliases.split('|'))
                    .filter(|a| !a.is_empty())
                    .map(move |a| (a, s))
            })
            .map(|(alias, slot)| {
                let n = normalize(alias);
                let score = |q: &str| {
                    let mut s = strsim::jaro_winkler(q, &n);
                    if !q.is_empty() && (n.contains(q) || q.contains(&n)) {
                        s += 0.2;
                    }
                    s
                };
                let s = bare.map_or(score(&q), |b| score(&q).max(score(b)));
                (s, slot)
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut names: Vec<&Slot<T>> = Vec::new();
        for (s, n) in scored {
            if s < 0.75 || names.len() == 3 {
                break;
            }
            if !names.iter().any(|m| std::ptr::eq(*m, n)) {
                names.push(n);
            }
        }
        let hint = if names.is_empty() {
            String::new()
        } else {
            // The name to type, with the display name where it differs.
            let shown: Vec<String> = names
                .iter()
                .map(|s| {
                    let key = T::key_for(&s.name, Some(&s.aliases));
                    if key == s.name {
                        key
                    } else {
                        format!("{key} ({})", s.name)
                    }
                })
                .collect();
            format!(" (did you mean {}?)", shown.join(", "))
        };
        Err(CatalogError::Unknown {
            noun: T::KIND.noun(),
            kind: T::KIND.name(),
            query: query.to_string(),
            hint,
        })
    }
}

/// Whether `s`, normalised (see [`normalize`]), equals `q`, without allocating.
fn same(s: &str, q: &str) -> bool {
    let mut norm = s
        .bytes()
        .filter(u8::is_ascii_alphanumeric)
        .map(|b| b.to_ascii_lowercase());
    let mut q = q.bytes();
    loop {
        match (norm.next(), q.next()) {
            (None, None) => return !s.is_empty(),
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

/// The records of CSV text with their line numbers (1-based): each record's text without its
/// line end. Quoted fields may hold commas, doubled quotes and line breaks; empty lines are
/// skipped, as the `csv` crate skips them.
fn records(text: &'static str) -> impl Iterator<Item = (&'static str, usize)> {
    let bytes = text.as_bytes();
    let mut pos = 0;
    let mut line = 1;
    std::iter::from_fn(move || loop {
        if pos >= bytes.len() {
            return None;
        }
        let start = pos;
        let first_line = line;
        let mut quoted = false;
        while pos < bytes.len() {
            match bytes[pos] {
                b'"' => quoted = !quoted,
                b'\n' if !quoted => break,
                b'\n' => line += 1,
                _ => {}
            }
            pos += 1;
        }
        let mut end = pos;
        pos += 1;
        line += 1;
        if end > start && bytes[end - 1] == b'\r' {
            end -= 1;
        }
        if end > start {
            return Some((&text[start..end], first_line));
        }
    })
}

/// The fields of one record, unquoted.
fn fields(rec: &str) -> Vec<Cow<'_, str>> {
    let mut out = Vec::new();
    let mut rest = rec;
    loop {
        let (f, next) = split_field(rest);
        out.push(f);
        match next {
            Some(n) => rest = n,
            None => return out,
        }
    }
}

/// Field `k` of one record, unquoted.
fn field(rec: &'static str, k: usize) -> Option<Cow<'static, str>> {
    let mut rest = rec;
    for _ in 0..k {
        rest = split_field(rest).1?;
    }
    Some(split_field(rest).0)
}

/// The first field of `s` and what follows its comma (`None` at the end of the record).
fn split_field(s: &str) -> (Cow<'_, str>, Option<&str>) {
    if let Some(body) = s.strip_prefix('"') {
        // A quoted field: up to the quote that is not doubled.
        let b = body.as_bytes();
        let mut i = 0;
        let mut owned: Option<String> = None;
        while i < b.len() {
            if b[i] == b'"' {
                if b.get(i + 1) == Some(&b'"') {
                    owned.get_or_insert_with(|| body[..i].to_string()).push('"');
                    i += 2;
                    continue;
                }
                let value = owned.map_or(Cow::Borrowed(&body[..i]), Cow::Owned);
                // Whatever sits between the closing quote and the comma is kept, as csv does.
                let after = &body[i + 1..];
                return match after.find(',') {
                    Some(c) => (value, Some(&after[c + 1..])),
                    None => (value, None),
                };
            }
            let ch_len = body[i..].chars().next().map_or(1, char::len_utf8);
            if let Some(o) = owned.as_mut() {
                o.push_str(&body[i..i + ch_len]);
            }
            i += ch_len;
        }
        // An unclosed quote runs to the end of the record.
        (owned.map_or(Cow::Borrowed(body), Cow::Owned), None)
    } else {
        match s.find(',') {
            Some(c) => (Cow::Borrowed(&s[..c]), Some(&s[c + 1..])),
            None => (Cow::Borrowed(s), None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The splitter agrees with the `csv` crate on every embedded table.
    #[test]
    fn split_matches_the_csv_crate_on_every_embedded_table() {
        for (file, text) in [
            ("accelerators", super::super::rows::Accelerator::CSV),
            ("servers", super::super::rows::Server::CSV),
            ("grids", super::super::rows::Grid::CSV),
            ("ewif", super::super::rows::Ewif::CSV),
            ("datacenters", super::super::rows::Datacenter::CSV),
            ("models", super::super::rows::Model::CSV),
            ("equivalents", super::super::rows::Equivalent::CSV),
            ("defaults", super::super::rows::Coefficient::CSV),
        ] {
            let ours: Vec<Vec<String>> = records(text)
                .map(|(r, _)| fields(r).into_iter().map(Cow::into_owned).collect())
                .collect();
            let theirs: Vec<Vec<String>> = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(text.as_bytes())
                .records()
                .map(|r| r.expect("csv").iter().map(str::to_string).collect())
                .collect();
            assert_eq!(ours, theirs, "{file}");
        }
    }

    #[test]
    fn quotes_commas_and_line_breaks() {
        let text: &'static str = "a,b,c\r\n\"x, \"\"y\"\"\",2,\"two\nlines\"\n\n3,,\"\"\n";
        let recs: Vec<_> = records(text).collect();
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[1].1, 2);
        assert_eq!(
            recs[2].1, 5,
            "the line of the record after a quoted line break"
        );
        assert_eq!(fields(recs[1].0), ["x, \"y\"", "2", "two\nlines"]);
        assert_eq!(fields(recs[2].0), ["3", "", ""]);
        assert_eq!(field(recs[1].0, 2).as_deref(), Some("two\nlines"));
        assert_eq!(field(recs[2].0, 3), None);
    }

    /// For every embedded accelerator and grid, a user row named like it (by its name or any of
    /// its other names, in any case) replaces it: as many rows as the built-in table, and every
    /// name of the built-in row finds the user row.
    #[test]
    fn a_user_row_named_like_any_built_in_row_replaces_it() {
        use super::super::rows::{Accelerator, Grid};
        fn check<T: Row>(limit: usize, mark: impl Fn(&mut T)) {
            let embedded = Table::<T>::build(&[]).expect("embedded");
            let rows = embedded.rows().expect("rows");
            for r in rows.iter().take(limit) {
                let names: Vec<String> = std::iter::once(r.name().to_string())
                    .chain(r.aliases().unwrap_or("").split('|').map(str::to_string))
                    .filter(|a| !a.trim().is_empty())
                    .collect();
                for n in &names {
                    let mut u = (*r).clone();
                    u.set_aliases(None);
                    // The user names the row by one of its names, upper-cased.
                    let mut v: serde_json::Value = serde_json::to_value(&u).expect("json");
                    v[T::NAME_COLUMN] = n.to_uppercase().into();
                    let mut u: T = serde_json::from_value(v).expect("row");
                    mark(&mut u);
                    let t = Table::build(std::slice::from_ref(&u)).expect("table");
                    assert_eq!(t.rows().expect("rows").len(), rows.len(), "{n}");
                    for q in &names {
                        let got = t.get(q).expect("found");
                        assert_eq!(got.name(), u.name(), "{q} after overriding with {n}");
                    }
                }
            }
        }
        check::<Accelerator>(usize::MAX, |a| a.board_power_w = Some(123.0));
        // Grids: the first rows (countries, US regions), to keep the test short.
        check::<Grid>(60, |_| {});
    }

    #[test]
    fn names_compare_normalised_in_place() {
        assert!(same("H100 SXM", "h100sxm"));
        assert!(same("us-egrid:CAMX", "usegridcamx"));
        assert!(!same("H100", "h100sxm"));
        assert!(!same("", ""));
    }
}
