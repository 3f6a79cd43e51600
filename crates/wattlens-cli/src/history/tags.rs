//! The labels of a run (`run --tag KEY=VALUE`): parsed, and refused where they would make the
//! ledger's exports ambiguous. `history export --format csv` joins a row's tags as `k=v;k=v`
//! and `history list` prints them on one line, so a key or value may hold neither `;` nor a
//! control character (a newline, a tab, an escape); a key given twice is refused, not silently
//! overwritten. `=` may appear in a value (the first `=` ends the key).

use anyhow::{bail, Result};
use std::collections::BTreeMap;

/// The character of `text` that a tag may not hold, said in words; `None` when it has none.
pub fn forbidden(text: &str) -> Option<String> {
    text.chars().find_map(|c| match c {
        ';' => Some("';' (the export joins tags with it)".to_string()),
        '\n' => Some("a newline".to_string()),
        '\r' => Some("a carriage return".to_string()),
        '\t' => Some("a tab".to_string()),
        c if c.is_control() => Some(format!("the control character U+{:04X}", u32::from(c))),
        _ => None,
    })
}

/// The `--tag KEY=VALUE` values as a map; key and value trimmed.
///
/// # Errors
/// Naming `--tag` and the value: no `=` or an empty key, a key or value holding a character
/// [`forbidden`] names, a key given twice.
pub fn parse(tags: &[String]) -> Result<BTreeMap<String, String>> {
    let mut map = BTreeMap::new();
    for t in tags {
        let Some((k, v)) = t.split_once('=').filter(|(k, _)| !k.trim().is_empty()) else {
            bail!("invalid value for --tag: {t:?} is not KEY=VALUE");
        };
        // Looked for before trimming: a trailing newline is refused, not dropped unseen.
        if let Some(c) = forbidden(k).or_else(|| forbidden(v)) {
            bail!(
                "invalid value for --tag: {t:?} holds {c}; a tag's key and value may hold \
                 neither ';' nor control characters: give each label its own --tag"
            );
        }
        let (k, v) = (k.trim(), v.trim());
        if let Some(first) = map.insert(k.to_string(), v.to_string()) {
            bail!(
                "invalid value for --tag: tag {k} given twice ({k}={first}, {k}={v}); give each \
                 key once"
            );
        }
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::parse;

    fn err(tags: &[&str]) -> String {
        let tags: Vec<String> = tags.iter().map(|t| (*t).to_string()).collect();
        format!("{:#}", parse(&tags).expect_err("refused"))
    }

    #[test]
    fn separators_and_control_characters_are_refused_naming_the_character() {
        assert!(
            err(&["k=v;x=y"]).contains("holds ';'"),
            "{}",
            err(&["k=v;x=y"])
        );
        assert!(err(&["k;x=v"]).contains("holds ';'"));
        assert!(err(&["n=line\nbreak"]).contains("holds a newline"));
        assert!(err(&["t=a\tb"]).contains("holds a tab"));
        assert!(err(&["e=\u{1b}[31m"]).contains("U+001B"));
        assert!(err(&["c=a\u{85}b"]).contains("U+0085"));
        assert!(err(&["k=v\n"]).contains("holds a newline"));
        assert!(err(&["k=v;x"]).starts_with("invalid value for --tag: \"k=v;x\""));
    }

    #[test]
    fn a_key_given_twice_is_refused_and_commas_and_equals_are_kept() {
        let e = err(&["a=1", " a =2"]);
        assert!(e.contains("tag a given twice (a=1, a=2)"), "{e}");
        let tags = ["c=a,b", "url=x?y=1", " p = llm "].map(String::from);
        let m = parse(&tags).expect("fine");
        assert_eq!(m["c"], "a,b");
        assert_eq!(m["url"], "x?y=1");
        assert_eq!(m["p"], "llm");
        assert!(err(&["=v"]).contains("is not KEY=VALUE"));
    }
}
