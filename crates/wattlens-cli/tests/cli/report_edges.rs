//! Edge cases of `report`, `run` budgets and `history` that a hostile tester found: units below
//! the gram in `--max-carbon`, SI prefixes in `--per`, absurd `--limit`s, a corrupt ledger
//! cell, and the HTML page's power bars and window lines on one basis.

use super::{fixture, isolated, stderr};
use std::process::Output;

/// The replay fixture on the FR grid with `--max-carbon max`: its P50 is 253 gCO2e.
fn replay_with_budget(max: &str) -> Output {
    isolated()
        .args(["run", "--grid", "FR", "--no-history", "--quiet", "--replay"])
        .arg(fixture("trace-series.jsonl"))
        .args(["--max-carbon", max])
        .output()
        .expect("runs wattlens")
}

#[test]
fn carbon_budgets_below_the_gram_read_and_compare_right() {
    // 300,000 mg = 300 g > the 253 g P50: within; 200,000 mg = 200 g < 253 g: over.
    let o = replay_with_budget("300000mg");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = replay_with_budget("200000mg");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("> --max-carbon 200 gCO2e"),
        "{}",
        stderr(&o)
    );
    // 1 mg is far below: over, and the budget is printed in mg, not rounded to 0 g.
    let o = replay_with_budget("1mg");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("> --max-carbon 1 mgCO2e"), "{}", stderr(&o));
    // An ambiguous prefix is refused, naming the flag, before anything runs.
    let o = replay_with_budget("1Mg");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--max-carbon"), "{}", stderr(&o));
    assert!(stderr(&o).contains("20mg"), "{}", stderr(&o));
}
