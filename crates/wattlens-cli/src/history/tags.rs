//! The labels of a run (`run --tag KEY=VALUE`): parsed, and refused where they would make the
//! ledger's exports ambiguous. `history export --format csv` joins a row's tags as `k=v;k=v`
//! and `history list` prints them on one line, so a key or value may hold neither `;` nor a
//! control character (a newline, a tab, an escape) nor a Unicode format character (general
//! category Cf: a bidi override such as U+202E reverses the text `history list` prints after
//! it; a zero-width space hides in it); a key given twice is refused, not silently overwritten.
//! `=` may appear in a value (the first `=` ends the key).

use anyhow::{bail, Result};
use std::collections::BTreeMap;

/// The code points of Unicode general category Cf (format characters), from the Unicode
/// Character Database 15.1 (`DerivedGeneralCategory.txt`, 2023): every range whose category is
/// `Cf`. Kept as a table: the standard library has no category lookup and one is not worth a
/// dependency.
const FORMAT_CHARS: [(u32, u32); 21] = [
    (0x00AD, 0x00AD),   // soft hyphen
    (0x0600, 0x0605),   // Arabic number signs
    (0x061C, 0x061C),   // Arabic letter mark
    (0x06DD, 0x06DD),   // Arabic end of ayah
    (0x070F, 0x070F),   // Syriac abbreviation mark
    (0x0890, 0x0891),   // Arabic pound / piastre mark above
    (0x08E2, 0x08E2),   // Arabic disputed end of ayah
    (0x180E, 0x180E),   // Mongolian vowel separator
    (0x200B, 0x200F),   // zero-width space, non-joiner, joiner; LRM, RLM
    (0x202A, 0x202E),   // bidi embeddings and overrides (LRE, RLE, PDF, LRO, RLO)
    (0x2060, 0x2064),   // word joiner, invisible operators
    (0x2066, 0x206F),   // bidi isolates (LRI, RLI, FSI, PDI), deprecated format characters
    (0xFEFF, 0xFEFF),   // zero-width no-break space (byte order mark)
    (0xFFF9, 0xFFFB),   // interlinear annotation
    (0x110BD, 0x110BD), // Kaithi number sign
    (0x110CD, 0x110CD), // Kaithi number sign above
    (0x13430, 0x1343F), // Egyptian hieroglyph format controls
    (0x1BCA0, 0x1BCA3), // shorthand format controls
    (0x1D173, 0x1D17A), // musical symbol format controls
    (0xE0001, 0xE0001), // language tag
    (0xE0020, 0xE007F), // tag characters
];

/// Whether `c` is a Unicode format character (general category Cf, [`FORMAT_CHARS`]).
fn is_format(c: char) -> bool {
    let c = u32::from(c);
    FORMAT_CHARS.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// The character of `text` that a tag may not hold, said in words; `None` when it has none.
pub fn forbidden(text: &str) -> Option<String> {
    text.chars().find_map(|c| match c {
        ';' => Some("';' (the export joins tags with it)".to_string()),
        '\n' => Some("a newline".to_string()),
        '\r' => Some("a carriage return".to_string()),
        '\t' => Some("a tab".to_string()),
        c if c.is_control() => Some(format!("the control character U+{:04X}", u32::from(c))),
        c if is_format(c) => Some(format!(
            "the invisible format character U+{:04X} (a bidi override or zero-width character \
             changes how the rest of the line reads)",
            u32::from(c)
        )),
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
                 neither ';' nor control or invisible format characters: give each label its \
                 own --tag"
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

    /// Hostile round 4, item 14: `--tag $'k=\u202eabc'` was kept and reversed the text after it
    /// in `history list`.
    #[test]
    fn unicode_format_characters_are_refused_like_control_characters() {
        for (tag, code) in [
            ("k=\u{202e}abc", "U+202E"),
            ("k=\u{202a}x", "U+202A"),
            ("k=a\u{2066}b", "U+2066"),
            ("k=a\u{2069}", "U+2069"),
            ("k=a\u{200b}b", "U+200B"),
            ("k=a\u{200f}", "U+200F"),
            ("\u{feff}k=v", "U+FEFF"),
            ("k=\u{e0041}", "U+E0041"),
        ] {
            let e = err(&[tag]);
            assert!(e.starts_with("invalid value for --tag"), "{e}");
            assert!(
                e.contains(&format!("format character {code}")),
                "{tag:?}: {e}"
            );
        }
        // Letters of right-to-left scripts and other non-ASCII text stay allowed.
        let tags = [
            "team=\u{5e2}\u{5d1}\u{5e8}\u{5d9}\u{5ea}",
            "who=Zo\u{eb}",
            "e=\u{2248}",
        ]
        .map(String::from);
        assert_eq!(parse(&tags).expect("fine").len(), 3);
        // The table's ranges are ordered and disjoint (a typo would show as an overlap).
        for w in super::FORMAT_CHARS.windows(2) {
            assert!(w[0].0 <= w[0].1 && w[0].1 < w[1].0, "{w:?}");
        }
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
