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

/// `report SRC --format F`.
fn report(src: &std::path::Path, format: &str) -> Output {
    isolated()
        .arg("report")
        .arg(src)
        .args(["--format", format])
        .output()
        .expect("runs")
}

/// A footprint of `estimate fleet` (1 server of 1 kW for 1 h) with `site` flags, at `dir/name`.
fn fleet(dir: &std::path::Path, name: &str, site: &[&str]) -> std::path::PathBuf {
    let o = isolated()
        .args([
            "estimate",
            "fleet",
            "--servers",
            "1",
            "--server-power",
            "1kW",
        ])
        .args(["--load", "1", "--hours", "1", "--samples", "200", "--json"])
        .args(site)
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", stderr(&o));
    let p = dir.join(name);
    std::fs::write(&p, &o.stdout).expect("write");
    p
}

fn json_of(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", stderr(o));
    serde_json::from_slice(&o.stdout).expect("JSON")
}

/// Hostile test (#4): BoAmps `country` was "as given by --intensity", the model card's
/// `geographical_location` "lifecycle co2e, world 2023" (the intensity's scope), and a grid
/// key with a colon was cut (`cn:hebei` -> "cn"). The location fields carry the grid named,
/// or are left out ("unknown" where BoAmps requires a country), and stay schema-valid.
#[test]
fn location_fields_carry_the_grid_named_never_the_intensity_scope() {
    use super::report_formats::errors;
    let dir = tempfile::tempdir().expect("tempdir");
    let provider = |v: &serde_json::Value| {
        v["components"][0]["modelCard"]["considerations"]["environmentalConsiderations"]
            ["energyConsumptions"][0]["energyProviders"][0]
            .clone()
    };
    // No grid named: an intensity given, or the world average.
    for (name, site) in [
        ("int.json", &["--intensity", "300g/kWh"][..]),
        ("world.json", &[][..]),
    ] {
        let p = fleet(dir.path(), name, site);
        let b = json_of(&report(&p, "boamps"));
        assert_eq!(
            errors("boamps/report_schema.json", &b),
            Vec::<String>::new()
        );
        assert_eq!(b["environment"]["country"], "unknown", "{name}");
        assert!(b["environment"].get("location").is_none(), "{name}");
        let card = String::from_utf8_lossy(&report(&p, "model-card").stdout).into_owned();
        assert!(!card.contains("geographical_location"), "{card}");
        assert!(
            card.contains("- **Compute region:** not recorded"),
            "{card}"
        );
        let c = json_of(&report(&p, "cyclonedx"));
        assert_eq!(
            errors("cyclonedx/bom-1.6.SNAPSHOT.schema.json", &c),
            Vec::<String>::new()
        );
        assert!(provider(&c)["organization"].get("name").is_none(), "{c}");
        for text in [b.to_string(), card, c.to_string()] {
            assert!(!text.contains("\"as given by"), "{text}");
            assert!(!text.contains("location: \"lifecycle"), "{text}");
            assert!(!text.contains("grid lifecycle"), "{text}");
        }
    }
    // A province grid: the whole key, its country from the water intensity's row (CN).
    let p = fleet(dir.path(), "hebei.json", &["--grid", "cn:hebei"]);
    let b = json_of(&report(&p, "boamps"));
    assert_eq!(
        errors("boamps/report_schema.json", &b),
        Vec::<String>::new()
    );
    assert_eq!(b["environment"]["country"], "CN");
    assert_eq!(b["environment"]["location"], "cn:hebei");
    let card = String::from_utf8_lossy(&report(&p, "model-card").stdout).into_owned();
    assert!(
        card.contains("geographical_location: \"cn:hebei\""),
        "{card}"
    );
    assert!(card.contains("- **Compute region:** cn:hebei"), "{card}");
    let c = json_of(&report(&p, "cyclonedx"));
    assert_eq!(
        provider(&c)["organization"]["name"],
        "electricity grid cn:hebei"
    );
    // A country grid is the country, with no separate location.
    let p = fleet(dir.path(), "fr.json", &["--grid", "FR"]);
    let b = json_of(&report(&p, "boamps"));
    assert_eq!(b["environment"]["country"], "FR");
    assert!(b["environment"].get("location").is_none());
}

/// An edit of a footprint's JSON.
type Edit = fn(&mut serde_json::Value);

/// Hostile test (#6): a footprint missing a required figure rendered it as zero (SCI `E 0
/// kWh`, CycloneDX `0.0`, model card `emissions: 0`), a negative duration as negative hours,
/// unordered percentiles as given, all exit 0. Every format refuses them, exit 2, naming the
/// file and the field, and prints nothing on stdout.
#[test]
fn a_footprint_missing_or_contradicting_a_figure_is_refused_by_every_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = super::report_formats::recorded_run(dir.path());
    let base: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&run).expect("read")).expect("JSON");
    let edits: [(&str, Edit, &str); 5] = [
        (
            "nofac.json",
            |v| {
                v.as_object_mut()
                    .expect("object")
                    .remove("facility_energy_kwh");
            },
            "facility_energy_kwh (missing or null)",
        ),
        (
            "nullop.json",
            |v| v["operational_carbon_kgco2e"] = serde_json::Value::Null,
            "operational_carbon_kgco2e (missing or null)",
        ),
        (
            "negdur.json",
            |v| v["duration_s"] = serde_json::json!(-100.0),
            "duration_s (-100: a run's duration is a number >= 0)",
        ),
        (
            "nodur.json",
            |v| {
                v.as_object_mut().expect("object").remove("duration_s");
            },
            "duration_s (missing or null)",
        ),
        (
            "order.json",
            |v| v["carbon_kgco2e"] = serde_json::json!({"p5": 3.0, "p50": 2.0, "p95": 1.0}),
            "carbon_kgco2e (P5 3 > P50 2 or P50 > P95 1: percentiles out of order)",
        ),
    ];
    for (name, edit, want) in edits {
        let mut v = base.clone();
        edit(&mut v);
        let p = dir.path().join(name);
        std::fs::write(&p, v.to_string()).expect("write");
        for format in [
            "html",
            "markdown",
            "model-card",
            "boamps",
            "cyclonedx",
            "spdx",
            "sci",
        ] {
            let o = isolated()
                .arg("report")
                .arg(&p)
                .args(["--format", format])
                // --per only with sci: other formats refuse it since hostile round 4, item 7.
                .args(
                    (format == "sci")
                        .then_some(["--per", "1 training run"])
                        .into_iter()
                        .flatten(),
                )
                .output()
                .expect("runs");
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{name} {format}: {err}");
            assert!(
                err.contains(name) && err.contains(want),
                "{name} {format}: {err}"
            );
            assert!(o.stdout.is_empty(), "{name} {format}");
        }
    }
    // The file as written renders.
    let o = report(&run, "sci");
    assert_eq!(o.status.code(), Some(2), "sci needs --per");
    assert!(report(&run, "boamps").status.success());
}

/// Hostile test (#16): `--per "1e-300 requests"` scored 1.15e299 gCO2e per request, exit 0.
/// R below a millionth of a unit is refused naming --per; a unit named `x` is a unit.
#[test]
fn sci_refuses_a_functional_unit_count_below_a_millionth() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = super::report_formats::recorded_run(dir.path());
    let run = run.to_str().expect("utf-8");
    for per in ["1e-300 requests", "1e-7 training runs"] {
        let o = isolated()
            .args(["report", run, "--format", "sci", "--per", per])
            .output()
            .expect("runs");
        assert_eq!(o.status.code(), Some(2), "{per}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("--per {per:?}")),
            "{}",
            stderr(&o)
        );
        assert!(stderr(&o).contains("below 1e-6"), "{}", stderr(&o));
    }
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run).expect("read")).expect("JSON");
    let kg = v["carbon_kgco2e"]["p50"].as_f64().expect("carbon");
    // R = 1e-6 units: kg x 1000 g / 1e-6 = kg x 1e9 g per unit (printed with a suffix:
    // 3.1M); R = 5 x: kg x 1000 / 5.
    let o = isolated()
        .args(["report", run, "--format", "sci", "--per", "1e-6 epochs"])
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let want = format!(
        "SCI = {} gCO2e per epoch",
        wattlens::uncertainty::fmt_human(kg * 1e9)
    );
    assert!(out.contains(&want), "{want} in {out}");
    let (score, line) = sci_score(run, "5 x");
    assert!((score - kg * 200.0).abs() <= kg * 200.0 * 0.005, "{line}");
}

/// Hostile test (#9): on a trace at three power levels the caption's "mean over the run" was
/// the IT power (with the rest of the server) while the bars were measured power only (bars
/// 106/206/306 W, caption 284 W). The bars' time-weighted mean is the caption's mean, which is
/// the IT energy P50 over the run's duration.
#[test]
fn the_html_caption_mean_is_the_mean_of_the_bars_on_a_three_level_trace() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 180 s in 10 s polls: RAPL at 100 W, then 200 W, then 300 W for 60 s each (1e9 uJ per
    // 10 s = 100 W); /proc/stat 4 CPUs, one busy tenth of the time.
    let mut trace = String::from(
        "{\"schema\":\"wattlens.trace/v1\",\"started_unix_s\":1763776800.0,\"interval_s\":10.0,\
         \"command\":[\"python\"],\"tags\":{}}\n",
    );
    let mut uj: u64 = 0;
    for i in 0..=18_u64 {
        let t = i * 10;
        trace.push_str(&format!(
            "{{\"t\":{t}.0,\"source\":\"procfs\",\"device\":\"machine\",\"kind\":\"machine\",\
             \"busy_s\":{}.0,\"total_s\":{}.0,\"cpus\":4,\"mem_total_gb\":16.0}}\n\
             {{\"t\":{t}.0,\"source\":\"rapl\",\"device\":\"package-0\",\"kind\":\"counter\",\
             \"part\":\"cpu\",\"energy_uj\":{uj},\"max_uj\":262143328850}}\n",
            100 + i * 10,
            400 + i * 40
        ));
        uj += 1_000_000_000 * (1 + i / 6).min(3);
    }
    let tp = dir.path().join("t180.jsonl");
    std::fs::write(&tp, trace).expect("write");
    let json = dir.path().join("t180.json");
    let o = isolated()
        .args([
            "run",
            "-q",
            "--no-history",
            "--charge",
            "machine",
            "--replay",
        ])
        .arg(&tp)
        .arg("--json")
        .arg(&json)
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", stderr(&o));
    let page = String::from_utf8_lossy(&report(&json, "html").stdout).into_owned();
    let num = |s: &str| s.replace(',', "").parse::<f64>().expect("a number");
    // The three bars: "<title>A s .. B s: P W</title>".
    let profile = page
        .split("<g class=\"profile\"")
        .nth(1)
        .and_then(|s| s.split("</g>").next())
        .expect("the profile group");
    let bars: Vec<(f64, f64, f64)> = profile
        .split("<rect class=\"bar\"")
        .skip(1)
        .map(|b| {
            let t = &b[b.find("<title>").expect("title") + 7..b.find(" W</title>").expect("W")];
            let (span, p) = t.split_once(": ").expect("span: power");
            let (a, z) = span.split_once(" s .. ").expect("a .. b");
            (num(a), num(z.trim_end_matches(" s")), num(p))
        })
        .collect();
    assert_eq!(bars.len(), 3, "{page}");
    assert!(bars[0].2 < bars[1].2 && bars[1].2 < bars[2].2, "{bars:?}");
    let span: f64 = bars.iter().map(|b| b.1 - b.0).sum();
    let bars_mean = bars.iter().map(|b| (b.1 - b.0) * b.2).sum::<f64>() / span;
    let caption = page
        .split("mean over the run ")
        .nth(1)
        .and_then(|s| s.split(" W").next())
        .map(num)
        .expect("the caption's mean");
    // Printed to 3 significant figures: within 0.5% of each other.
    assert!(
        (bars_mean - caption).abs() <= caption * 0.005,
        "{bars:?} vs {caption}"
    );
    // And the caption is the IT energy P50 over the duration: kWh x 3.6e6 J / 180 s.
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("read")).expect("JSON");
    let it_w = v["it_energy_kwh"]["p50"].as_f64().expect("IT energy") * 3.6e6 / 180.0;
    assert!(
        (it_w - caption).abs() <= it_w * 0.005,
        "{it_w} vs {caption}"
    );
}
