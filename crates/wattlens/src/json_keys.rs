//! A JSON text whose objects each name a key once: the check run before an input is read as a
//! `serde_json::Value` (which keeps the last of two equal keys and says nothing).

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use std::collections::HashSet;
use std::fmt;

/// Checks that no object in `text` names one key twice. A duplicate is a `serde_json::Error`
/// carrying its line and column (`key "energy" twice in one object at line 3 column 12`);
/// text that is not JSON fails as `serde_json::from_str` would.
///
/// # Errors
/// The first duplicate key, or the text's JSON syntax error.
pub fn check_unique_keys(text: &str) -> Result<(), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    Walk { depth: 0 }.deserialize(&mut de)?;
    de.end()
}

/// Nesting this deep is refused as serde_json refuses it (its own limit is 128).
const MAX_DEPTH: usize = 128;

/// One value of the document, `depth` objects and arrays inside it.
#[derive(Clone, Copy)]
struct Walk {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Walk {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        let inner = self.inner::<A::Error>()?;
        while a.next_element_seed(inner)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        let inner = self.inner::<A::Error>()?;
        let mut seen = HashSet::new();
        while let Some(k) = a.next_key::<String>()? {
            if !seen.insert(k.clone()) {
                return Err(de::Error::custom(format_args!(
                    "key {k:?} twice in one object (each key once: which value is meant?)"
                )));
            }
            a.next_value_seed(inner)?;
        }
        Ok(())
    }
}

impl Walk {
    fn inner<E: de::Error>(self) -> Result<Self, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom("nested more than 128 deep"));
        }
        Ok(Self {
            depth: self.depth + 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::check_unique_keys;

    #[test]
    fn a_key_twice_in_any_object_is_refused_with_its_place() {
        assert!(check_unique_keys(r#"{"a": 1, "b": {"a": 2}, "c": [{"a": 1}, {"a": 2}]}"#).is_ok());
        let e = check_unique_keys("{\"a\": 1,\n \"energy\": 2, \"energy\": 2}").expect_err("dup");
        let s = e.to_string();
        assert!(
            s.contains("\"energy\" twice") && s.contains("line 2"),
            "{s}"
        );
        let e = check_unique_keys(r#"[{"x": {"y": 1, "y": 1}}]"#).expect_err("nested dup");
        assert!(e.to_string().contains("\"y\" twice"), "{e}");
        // Escapes name the same key: "\u0061" is "a".
        assert!(check_unique_keys(r#"{"a": 1, "\u0061": 2}"#).is_err());
    }

    #[test]
    fn what_is_not_json_fails_as_serde_json_would() {
        for bad in ["{", "", "{\"a\": 1} trailing", "[1,]"] {
            assert!(check_unique_keys(bad).is_err(), "{bad}");
            assert!(
                serde_json::from_str::<serde_json::Value>(bad).is_err(),
                "{bad}"
            );
        }
        assert!(check_unique_keys("  {\"a\": [1, 2.5, -3, true, null, \"s\"]}\n").is_ok());
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(check_unique_keys(&deep).is_err());
    }
}
