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
    assert!(
        stderr(&o).contains("> --max-carbon 1 mgCO2e"),
        "{}",
        stderr(&o)
    );
    // An ambiguous prefix is refused, naming the flag, before anything runs.
    let o = replay_with_budget("1Mg");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--max-carbon"), "{}", stderr(&o));
    assert!(stderr(&o).contains("20mg"), "{}", stderr(&o));
}

/// The SCI score's P50 (g per unit) and its line.
fn sci_score(run: &str, per: &str) -> (f64, String) {
    let o = isolated()
        .args(["report", run, "--format", "sci", "--per", per])
        .output()
        .expect("runs");
    assert!(o.status.success(), "--per {per:?}: {}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let line = out.lines().find(|l| l.starts_with("SCI =")).expect("score");
    let score = line["SCI = ".len()..]
        .split_whitespace()
        .next()
        .and_then(|x| x.parse().ok())
        .expect("a number");
    (score, line.to_string())
}

#[test]
fn sci_functional_units_take_si_prefixes_and_are_never_misread() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = super::report_formats::recorded_run(dir.path());
    let run = run.to_str().expect("utf-8");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run).expect("read")).expect("JSON");
    let kg = v["carbon_kgco2e"]["p50"].as_f64().expect("carbon");
    // (E x I + M) / R = kg x 1000 g / R; R = 1M = 2 x 500k = 1e6 requests.
    let want = kg * 1000.0 / 1e6;
    for per in [
        "1M requests",
        "1e6 requests",
        "1,000,000 requests",
        "1000k requests",
    ] {
        let (score, line) = sci_score(run, per);
        assert!(
            (score - want).abs() <= want * 0.005,
            "{per}: {score} vs {want}"
        );
        assert!(line.contains("gCO2e per request"), "{per}: {line}");
    }
    // "2 M requests" is 2,000,000 requests (it was read as 2 units of "M requests").
    let (score, line) = sci_score(run, "2 M requests");
    assert!(
        (score - want / 2.0).abs() <= want * 0.005,
        "{score} vs {}",
        want / 2.0
    );
    assert!(line.contains("per request"), "{line}");
    for bad in ["1 M", "1X requests", "1..2 requests"] {
        let o = isolated()
            .args(["report", run, "--format", "sci", "--per", bad])
            .output()
            .expect("runs");
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(
            stderr(&o).contains(&format!("--per {bad:?}")),
            "{}",
            stderr(&o)
        );
        assert!(stderr(&o).contains("1M requests"), "{}", stderr(&o));
    }
}

#[test]
fn history_limits_past_any_ledger_are_refused_naming_the_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("h.sqlite");
    let list = |limit: &str| {
        isolated()
            .env("WATTLENS_HISTORY", &ledger)
            .args(["history", "list", "--limit", limit])
            .output()
            .expect("runs")
    };
    for huge in ["1e20", "99999999999999999999"] {
        let o = list(huge);
        assert_eq!(o.status.code(), Some(2), "{huge}");
        let e = stderr(&o);
        assert!(
            e.contains("--limit") && e.contains("more rows than a ledger can hold"),
            "{e}"
        );
        // The value is not echoed rewritten (it came back as "1.000e20").
        assert!(!e.contains("1.000e20"), "{e}");
    }
    let o = list("1k");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_corrupt_ledger_cell_names_its_run_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("h.sqlite");
    let cmd = |args: &[&str]| {
        isolated()
            .env("WATTLENS_HISTORY", &ledger)
            .args(args)
            .output()
            .expect("runs")
    };
    for _ in 0..3 {
        let o = cmd(&["run", "--quiet", "--", "true"]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let conn = rusqlite::Connection::open(&ledger).expect("open");
    conn.execute("UPDATE runs SET carbon_kg_p50 = 'abc' WHERE id = 2", [])
        .expect("edit");
    drop(conn);
    for args in [
        &["history", "list"][..],
        &["history", "export", "--format", "csv"],
        &["report", "--since", "30d", "--format", "html"],
    ] {
        let o = cmd(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let e = stderr(&o);
        assert!(
            e.contains("run 2, column carbon_kg_p50 holds text where a number belongs"),
            "{args:?}: {e}"
        );
        assert!(e.contains("wattlens history rm 2"), "{e}");
    }
    // What it says to do works: the other runs list again.
    assert!(cmd(&["history", "rm", "2"]).status.success());
    let o = cmd(&["history", "list"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_card_says_which_parts_were_read_from_counters() {
    // The recorded run's GPUs were read from NVML (2 kWh) and the rest of the server modelled
    // (a share of it), so its `method` is `modelled`, the weakest part's; the card said
    // "modelled from the run's CPU time and ratings (no energy counter was read)": false.
    let dir = tempfile::tempdir().expect("tempdir");
    let run = super::report_formats::recorded_run(dir.path());
    let o = isolated()
        .arg("report")
        .arg(&run)
        .args(["--format", "model-card"])
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", stderr(&o));
    let card = String::from_utf8_lossy(&o.stdout);
    assert!(
        card.contains(
            "Carbon emissions were partly measured (GPUs read from energy counters; rest of \
             server modelled)"
        ),
        "{card}"
    );
    assert!(!card.contains("no energy counter was read"), "{card}");
}

#[test]
fn the_html_power_bars_and_window_lines_agree_on_a_recorded_run() {
    // The recorded run's `train` window spans the profile's second bin (1.5 kWh measured over
    // 1800 s = 3,000 W): the bar and the line both show its IT power, measured x the rest of the
    // server's 1.38 = 4,140 W (the bar showed 3,000 W under a 4,140 W line).
    let dir = tempfile::tempdir().expect("tempdir");
    let run = super::report_formats::recorded_run(dir.path());
    let o = isolated()
        .arg("report")
        .arg(&run)
        .args(["--format", "html"])
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", stderr(&o));
    let page = String::from_utf8_lossy(&o.stdout);
    let watts = |prefix: &str| {
        let at = page
            .find(prefix)
            .unwrap_or_else(|| panic!("{prefix} in {page}"));
        page[at + prefix.len()..]
            .split(" W</title>")
            .next()
            .expect("a power")
            .to_string()
    };
    assert_eq!(
        watts("<title>1,800 s .. 3,600 s: "),
        watts("<title>train: ")
    );
    assert_eq!(watts("<title>0 s .. 1,800 s: "), watts("<title>warmup: "));
    assert_eq!(watts("<title>train: "), "4,140");
}
