//! The library's public API gives what the command line gives: the `estimate` example
//! (`crates/wattlens/examples/estimate.rs`, through the crate-root re-exports alone) against
//! `wattlens estimate train` with the same inputs.

#[allow(dead_code)] // the example's `main`
#[path = "../../../wattlens/examples/estimate.rs"]
mod example;

use super::stdout;
use serde_json::Value;

#[test]
fn the_estimate_example_equals_the_cli() {
    let mut out = Vec::new();
    example::write_report(&mut out).expect("the example runs");
    let mut lib: Value = serde_json::from_slice(&out).expect("the example prints JSON");
    let mut cli: Value = serde_json::from_str(&stdout(&[
        "estimate",
        "train",
        "--model",
        "llama-3.1-405b",
        "--grid",
        "us",
        "--pue",
        "1.1..1.2",
        "--json",
    ]))
    .expect("the CLI prints JSON");
    // Only the words for the inputs differ, in the sources of assumptions and steps: fields
    // (`pue`) in the library, flags (`--pue`) on the command line.
    for v in [&mut lib, &mut cli] {
        for list in ["assumptions", "steps"] {
            for item in v[list].as_array_mut().expect("a list").iter_mut() {
                item.as_object_mut().expect("an object").remove("source");
            }
        }
    }
    // And in the notes (the calibrated-prior note says `mfu` there, `--mfu` here).
    for note in cli["notes"].as_array_mut().expect("notes").iter_mut() {
        *note = Value::from(note.as_str().expect("text").replace("--", ""));
    }
    assert_eq!(lib, cli);
    assert_eq!(lib["kind"], "train");
}
