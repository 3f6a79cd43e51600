//! The defaults table of `docs/reference.md` is rendered from the embedded `defaults.csv`, so the
//! reference and the catalog cannot drift. On a difference the test prints the block to paste;
//! `WATTLENS_BLESS=1 cargo test -p wattlens --test docs_defaults` rewrites it in place.

use std::fmt::Write;
use std::path::PathBuf;
use wattlens::catalog::{coefficient_bounds, Catalog};
use wattlens::uncertainty::fmt_num;

const BEGIN: &str = "<!-- defaults-table:begin";
const END: &str = "<!-- defaults-table:end -->";

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The Markdown table of every default coefficient: key, range, unit, what a user catalog may
/// set it to, and its source and year.
fn render() -> String {
    let cat = Catalog::embedded();
    let rows = cat
        .defaults()
        .expect("defaults table")
        .rows()
        .expect("every row parses");
    let mut s = String::from(
        "| key | default | unit | a user catalog may set | source |\n|---|---|---|---|---|\n",
    );
    for c in rows {
        let range = if c.low == c.high {
            fmt_num(c.low)
        } else {
            format!("{}..{}", fmt_num(c.low), fmt_num(c.high))
        };
        let source = match (c.source.as_deref(), c.year.as_deref()) {
            (Some(s), Some(y)) => format!("{s} ({y})"),
            (Some(s), None) => s.to_string(),
            (None, y) => y.unwrap_or("").to_string(),
        };
        let _ = writeln!(
            s,
            "| `{}` | {range} | {} | {} | {} |",
            c.key,
            cell(c.unit.as_deref().unwrap_or("")),
            coefficient_bounds(&c.key).describe(),
            cell(&source)
        );
    }
    s
}

#[test]
fn reference_defaults_table_matches_the_catalog() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/reference.md");
    let doc = std::fs::read_to_string(&path).expect("docs/reference.md");
    let start = doc.find(BEGIN).expect("a defaults-table:begin marker");
    let body = start + doc[start..].find("-->").expect("end of the begin marker") + 3 + 1;
    let end = doc[body..].find(END).expect("a defaults-table:end marker") + body;
    let want = render();
    if doc[body..end] == want {
        return;
    }
    if std::env::var_os("WATTLENS_BLESS").is_some() {
        let new = format!("{}{want}{}", &doc[..body], &doc[end..]);
        std::fs::write(&path, new).expect("rewrite docs/reference.md");
        return;
    }
    panic!(
        "docs/reference.md's defaults table differs from crates/wattlens/data/defaults.csv; \
         run `WATTLENS_BLESS=1 cargo test -p wattlens --test docs_defaults` or paste:\n{want}"
    );
}
