//! Estimate, second hostile pass: impossible failure settings, the unit of `--lifetime`, the
//! implied-MFU tail note, unknown names with their flag, mixture-of-experts `--params` in
//! `infer`, counts in full, computed durations beyond 1,000 years, and small message fixes.

use super::{assert_usage_error, json, p50, stderr, wattlens};
use serde_json::Value;

fn notes(v: &Value) -> String {
    v["notes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

fn stdout(args: &[&str]) -> String {
    let o = wattlens(args);
    assert!(o.status.success(), "wattlens {args:?}: {}", stderr(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn implied_mfu_tail_note_names_the_p95_value_above_one() {
    let v = json(&[
        "estimate", "train", "--model", "llama-3.1-8b", "--gpu", "h100", "--gpus", "8", "--days",
        "6h..2d", "--tokens", "5B",
    ]);
    let p95 = v["implied_mfu"]["p95"].as_f64().expect("p95");
    assert!(p95 > 1.0 && p50(&v, "implied_mfu") < 1.0, "{v}");
    let n = notes(&v);
    let line = n
        .lines()
        .find(|l| l.contains("implied MFU"))
        .unwrap_or_else(|| panic!("{n}"));
    let shown = ::wattlens::uncertainty::fmt_human(p95);
    assert!(
        line.contains(&format!("implied MFU of {shown} is impossible")),
        "{line}"
    );
}
