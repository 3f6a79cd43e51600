//! `wattlens report` and the history ledger: a history ID as SOURCE renders the stored report
//! exactly as its footprint JSON does, and `report` without SOURCE renders the ledger's runs
//! over time (`--since`, `--tag`, `--kind`), in HTML with a carbon chart and in Markdown.

use super::report_formats::recorded_run;
use super::{isolated, stderr};
use serde_json::Value;
use std::path::Path;
use std::process::Output;

/// `wattlens --history LEDGER ARGS`, in `dir`.
fn at(ledger: &Path, dir: &Path, args: &[&str]) -> Output {
    isolated()
        .current_dir(dir)
        .arg("--history")
        .arg(ledger)
        .args(args)
        .output()
        .expect("runs wattlens")
}

fn ok(ledger: &Path, dir: &Path, args: &[&str]) -> String {
    let o = at(ledger, dir, args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Replays the trace `recorded_run` wrote into `ledger` (with `extra` flags), writing its JSON
/// to `json`; the row's ID.
fn record(ledger: &Path, dir: &Path, json: &str, extra: &[&str]) -> i64 {
    let mut args = vec![
        "run",
        "--grid",
        "FR",
        "--replay",
        "trace.jsonl",
        "--json",
        json,
    ];
    args.extend_from_slice(extra);
    ok(ledger, dir, &args);
    let list: Value =
        serde_json::from_str(&ok(ledger, dir, &["history", "list", "--json"])).expect("JSON");
    list[0]["id"].as_i64().expect("the newest row's ID")
}

#[test]
fn a_history_id_renders_the_stored_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    recorded_run(d);
    let ledger = d.join("h.sqlite");
    let id = record(&ledger, d, "run.json", &[]).to_string();
    let from_file = ok(
        &ledger,
        d,
        &["report", "run.json", "--format", "model-card"],
    );
    assert!(from_file.contains("co2_eq_emissions"), "{from_file}");
    for source in [id.clone(), format!("#{id}"), format!("h:{id}")] {
        assert_eq!(
            ok(&ledger, d, &["report", &source, "--format", "model-card"]),
            from_file,
            "report {source}"
        );
    }
    // The windows come back too: the stored report is the run's JSON, windows and all.
    let page = ok(&ledger, d, &["report", &id, "--format", "html"]);
    assert!(page.contains("warmup") && page.contains("data-bins=\"2\""));
    // A file named like an ID is the file.
    std::fs::copy(d.join("run.json"), d.join("777")).expect("copy");
    assert_eq!(
        ok(&ledger, d, &["report", "777", "--format", "model-card"]),
        from_file
    );
    // A missing ID, and no ledger at all: exit 2, naming what is missing.
    let o = at(&ledger, d, &["report", "99", "--format", "html"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no run 99 in the history ledger"),
        "{}",
        stderr(&o)
    );
    let o = at(
        &d.join("none.sqlite"),
        d,
        &["report", "#1", "--format", "html"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no history ledger at"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn without_source_report_shows_the_runs_over_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    recorded_run(d);
    let ledger = d.join("h.sqlite");
    let a = record(&ledger, d, "a.json", &["--tag", "team=a"]);
    let b = record(&ledger, d, "b.json", &[]);
    ok(
        &ledger,
        d,
        &[
            "estimate",
            "train",
            "--params",
            "7B",
            "--tokens",
            "1T",
            "--gpu",
            "h100",
            "--gpus",
            "8",
            "--grid",
            "FR",
            "--samples",
            "200",
            "--save",
        ],
    );
    let runs = |page: &str| -> usize {
        page.split("data-runs=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .and_then(|n| n.parse().ok())
            .expect("a data-runs count")
    };
    let page = ok(&ledger, d, &["report", "--format", "html"]);
    assert_eq!(runs(&page), 3, "{page}");
    assert_eq!(page.matches("<circle class=\"dot\"").count(), 3);
    for bad in ["http://", "https://", "src=", "href=", "<script", "url("] {
        assert!(!page.contains(bad), "the page contains {bad:?}");
    }
    assert_eq!(
        runs(&ok(
            &ledger,
            d,
            &["report", "--format", "html", "--kind", "run"]
        )),
        2
    );
    // Only the tagged run: its dot, on a one-run chart, sits mid-axis at x = 70 + 550 / 2 =
    // 345; its carbon axis runs to 1.1 x P95, so the P50 dot is at
    // y = 10 + 170 x (1 - P50 / (1.1 x P95)) and the P95 end of its line at
    // 10 + 170 x (1 - 1 / 1.1) = 25.5.
    let page = ok(
        &ledger,
        d,
        &["report", "--format", "html", "--tag", "team=a"],
    );
    assert_eq!(runs(&page), 1, "{page}");
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("a.json")).expect("a.json"))
            .expect("JSON");
    let (p50, p95) = (
        v["carbon_kgco2e"]["p50"].as_f64().expect("p50"),
        v["carbon_kgco2e"]["p95"].as_f64().expect("p95"),
    );
    let cy = 10.0 + 170.0 * (1.0 - p50 / (1.1 * p95));
    assert!(
        page.contains(&format!(
            "<circle class=\"dot\" cx=\"345.0\" cy=\"{cy:.1}\""
        )),
        "cy {cy:.1}: {page}"
    );
    assert!(page.contains("y2=\"25.5\""), "{page}");
    assert!(page.contains(&format!("<td class=\"n\">{a}</td>")));
    assert!(!page.contains(&format!("<td class=\"n\">{b}</td>")));
    // Markdown: one table row per run, oldest first; the replayed runs started in 2024, so
    // --since 30d keeps only the estimate.
    let md = ok(&ledger, d, &["report", "--format", "markdown"]);
    let rows: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| ID"))
        .collect();
    assert_eq!(rows.len(), 3, "{md}");
    assert!(rows[0].starts_with(&format!("| {a} |")), "{md}");
    let md = ok(
        &ledger,
        d,
        &["report", "--format", "markdown", "--since", "30d"],
    );
    assert!(
        md.contains("| estimate train |") && !md.contains("| run |"),
        "{md}"
    );
    // What it refuses, exit 2 with the way out.
    for (args, says) in [
        (vec!["report", "--format", "sci"], "give its SOURCE"),
        (
            vec!["report", "1", "--since", "30d", "--format", "html"],
            "give them without SOURCE",
        ),
        (
            vec!["report", "--format", "html", "--since", "soon"],
            "--since",
        ),
    ] {
        let o = at(&ledger, d, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
    }
}
