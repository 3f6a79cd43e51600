//! User catalog rows that replace built-in rows, config names, the checks on a `--compare` file,
//! and the notes, components and equivalents of the Markdown and CSV renderers.

use super::*;

const H100_350W: &str = "[[accelerator]]\nname = \"NVIDIA H100 SXM5 80GB\"\nboard_power_w = 350\nbf16_tflops = 989\nyear = 2023\nsource = \"my measurement\"\n";

#[test]
fn a_user_row_named_like_a_built_in_row_replaces_it_under_its_aliases_too() {
    let p = temp_file("h100-350.toml", H100_350W);
    let c = p.to_str().expect("path");
    let train = [
        "estimate", "train", "--params", "8B", "--tokens", "1T", "--gpus", "64",
    ];
    let with = |extra: &[&str], cat: bool| {
        let mut a: Vec<&str> = if cat { vec!["--catalog", c] } else { vec![] };
        a.extend_from_slice(&train);
        a.extend_from_slice(extra);
        p50(&json(&a), "it_energy_kwh")
    };
    // `h100` is an alias of the built-in row; the user row answers to it.
    let built_in = with(&["--gpu", "h100"], false);
    let mine = with(&["--gpu", "h100"], true);
    assert!(
        mine < 0.6 * built_in,
        "350 W instead of 700 W must lower the energy: {mine} vs {built_in}"
    );
    assert_eq!(mine, with(&["--gpu", "NVIDIA H100 SXM5 80GB"], true));
    assert_eq!(mine, with(&["--gpu", "h100-sxm"], true));
    // A server built on that accelerator sees the same row whichever name is typed.
    let server = with(&["--server", "dgx-h100"], true);
    assert_eq!(
        server,
        with(&["--server", "dgx-h100", "--gpu", "h100"], true)
    );

    let o = wattlens(&["--catalog", c, "catalog", "list", "accelerators"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let list = String::from_utf8_lossy(&o.stdout);
    let rows: Vec<&str> = list
        .lines()
        .filter(|l| l.contains("NVIDIA H100 SXM5 80GB"))
        .collect();
    assert_eq!(rows.len(), 1, "one row for the overridden name: {list}");
    assert!(
        rows[0].contains("350 W") && rows[0].contains("user file"),
        "{}",
        rows[0]
    );
    assert!(
        rows[0].starts_with("h100 "),
        "the key stays h100: {}",
        rows[0]
    );

    let o = wattlens(&[
        "--catalog",
        c,
        "catalog",
        "show",
        "accelerators",
        "h100",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["board_power_w"], 350.0, "{v}");
    assert_eq!(v["source"], "my measurement", "{v}");
}

#[test]
fn a_user_row_with_its_own_aliases_keeps_them() {
    let p = temp_file(
        "h100-own.toml",
        &format!("{H100_350W}aliases = \"my-h100\"\n"),
    );
    let c = p.to_str().expect("path");
    let o = wattlens(&[
        "--catalog",
        c,
        "catalog",
        "show",
        "accelerators",
        "my-h100",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["board_power_w"], 350.0, "{v}");
    // The built-in row is replaced: its aliases no longer reach it.
    assert_usage_error(
        &[
            "--catalog",
            c,
            "catalog",
            "show",
            "accelerators",
            "h100-sxm5",
        ],
        &["h100-sxm5"],
    );
}

#[test]
fn config_cooling_name_is_answered_with_the_cooling_presets() {
    let p = temp_file("cool.toml", "[site]\ncooling = \"nope\"\n");
    let c = p.to_str().expect("path");
    assert_usage_error(
        &[
            "--config",
            c,
            "estimate",
            "fleet",
            "--servers",
            "1",
            "--server",
            "dgx-h100",
        ],
        &[
            "cool.toml",
            "cooling",
            "\"nope\"",
            "cooling presets",
            "air",
            "immersion",
        ],
    );
    let o = wattlens(&[
        "--config",
        c,
        "estimate",
        "fleet",
        "--servers",
        "1",
        "--server",
        "dgx-h100",
    ]);
    assert!(
        !stderr(&o).contains("data-centre profile"),
        "{}",
        stderr(&o)
    );
    let p = temp_file("cool2.toml", "[site]\ncooling = \"hyperscale\"\n");
    assert_usage_error(
        &[
            "--config",
            p.to_str().expect("p"),
            "estimate",
            "fleet",
            "--servers",
            "1",
            "--server",
            "dgx-h100",
        ],
        &["cool2.toml", "cooling", "not a cooling type"],
    );
}

/// The footprint of `estimate fleet --servers 10 --server hgx-a100` with `edit` applied.
fn edited_footprint(name: &str, edit: impl Fn(&mut Value)) -> TempFile {
    let mut v = json(&[
        "estimate",
        "fleet",
        "--servers",
        "10",
        "--server",
        "hgx-a100",
    ]);
    edit(&mut v);
    temp_file(name, &serde_json::to_string(&v).expect("json"))
}

fn compare_args(p: &std::path::Path) -> Vec<String> {
    [
        "estimate",
        "fleet",
        "--servers",
        "10",
        "--server",
        "hgx-a100",
        "--compare",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .chain([p.display().to_string()])
    .collect()
}

#[test]
fn compare_refuses_figures_that_are_not_ordered_non_negative_numbers() {
    type Case = (&'static str, fn(&mut Value), &'static [&'static str]);
    let cases: [Case; 5] = [
        (
            "neg.json",
            |v| v["it_energy_kwh"]["p50"] = (-1.0).into(),
            &["neg.json", "it_energy_kwh", "p50", "below 0"],
        ),
        (
            "reversed.json",
            |v| {
                v["it_energy_kwh"] = serde_json::json!({"p5": 5.0, "p50": 1.0, "p95": 0.1});
            },
            &["reversed.json", "it_energy_kwh", "not ordered"],
        ),
        (
            "text.json",
            |v| v["carbon_kgco2e"]["p50"] = "abc".into(),
            &["text.json", "carbon_kgco2e", "p50", "not a number"],
        ),
        (
            "scalar.json",
            |v| v["water_l"] = 12.into(),
            &["scalar.json", "water_l", "not an object"],
        ),
        (
            "component.json",
            |v| v["components"][0]["energy_kwh"]["p95"] = (-3.0).into(),
            &["component.json", "components[0].energy_kwh", "p95"],
        ),
    ];
    for (name, edit, needles) in cases {
        let p = edited_footprint(name, edit);
        let args = compare_args(&p);
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_usage_error(&a, needles);
    }
}

#[test]
fn compare_says_which_rows_it_leaves_out() {
    let p = edited_footprint("eur.json", |v| {
        v["cost"]["currency"] = "EUR".into();
        v.as_object_mut().expect("object").remove("water_l");
    });
    let args = compare_args(&p);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let v = json(&a);
    let notes = v["comparison"]["notes"].as_array().expect("notes").clone();
    let all = serde_json::to_string(&notes).expect("notes");
    assert!(
        all.contains("electricity cost left out") && all.contains("EUR"),
        "{all}"
    );
    assert!(all.contains("water consumed"), "{all}");
    let o = wattlens(&a);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("note: electricity cost left out"), "{text}");
}

fn stdout_of(args: &[&str]) -> String {
    let o = wattlens(args);
    assert!(o.status.success(), "wattlens {args:?}: {}", stderr(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn markdown_carries_the_notes_components_and_equivalents_of_the_table() {
    let args = [
        "estimate",
        "fleet",
        "--servers",
        "1",
        "--server",
        "dgx-h100",
    ];
    let md = stdout_of(&[&args[..], &["--format", "markdown"]].concat());
    let table = stdout_of(&args);
    let v = json(&args);
    let notes = v["notes"].as_array().expect("notes");
    assert!(
        notes.len() >= 2,
        "the default period and the US price: {notes:?}"
    );
    for n in notes {
        let n = n.as_str().expect("note");
        assert!(
            md.contains(&format!("- {n}")),
            "markdown lacks note {n:?}:\n{md}"
        );
        assert!(table.contains(n), "{table}");
    }
    assert!(md.contains("| IT energy by component (modelled) |"), "{md}");
    assert!(md.contains("| accelerators |"), "{md}");
    assert!(
        md.contains("Equivalents (P50):") && md.contains("US homes"),
        "{md}"
    );
}

#[test]
fn csv_carries_notes_as_rows_and_the_same_equivalents_as_json() {
    let args = [
        "estimate",
        "fleet",
        "--servers",
        "1",
        "--server",
        "dgx-h100",
        "--hours",
        "60s",
    ];
    let text = stdout_of(&[&args[..], &["--format", "csv"]].concat());
    let v = json(&args);
    let mut r = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        r.headers().expect("header"),
        vec!["kind", "figure", "p5", "p50", "p95", "method"]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.expect("row")).collect();
    assert!(rows.iter().all(|x| x.len() == 6));
    let figures: Vec<&str> = rows
        .iter()
        .filter(|x| &x[0] != "note")
        .map(|x| &x[1])
        .collect();
    // Under an hour: no homes-powered equivalent, in JSON as in CSV.
    assert!(!figures.contains(&"eq.us_homes"), "{text}");
    let json_eqs: Vec<String> = v["equivalents"]
        .as_array()
        .expect("equivalents")
        .iter()
        .map(|q| format!("eq.{}", q["name"].as_str().expect("name")))
        .collect();
    let csv_eqs: Vec<String> = figures
        .iter()
        .filter(|f| f.starts_with("eq."))
        .map(|f| (*f).to_string())
        .collect();
    assert_eq!(csv_eqs, json_eqs);
    let notes: Vec<&str> = rows
        .iter()
        .filter(|x| &x[0] == "note")
        .map(|x| &x[1])
        .collect();
    let json_notes: Vec<&str> = v["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .map(|n| n.as_str().expect("note"))
        .collect();
    assert!(!json_notes.is_empty());
    assert_eq!(notes, json_notes);
}

#[test]
fn config_samples_say_what_is_wrong_with_them() {
    let fleet = [
        "estimate",
        "fleet",
        "--servers",
        "1",
        "--server",
        "dgx-h100",
    ];
    for (name, text, needles) in [
        (
            "s-frac.toml",
            "samples = 1.5\n",
            &["s-frac.toml", "1.5", "not a whole number"][..],
        ),
        (
            "s-text.toml",
            "samples = \"100\"\n",
            &["s-text.toml", "\"100\"", "without quotes"][..],
        ),
        (
            "s-zero.toml",
            "samples = 0\n",
            &["s-zero.toml", "out of range", "from 1"][..],
        ),
    ] {
        let p = temp_file(name, text);
        let mut a = vec!["--config", p.to_str().expect("p")];
        a.extend_from_slice(&fleet);
        assert_usage_error(&a, needles);
        let err = stderr(&wattlens(&a));
        assert!(!err.contains("f64"), "{err}");
    }
    let p = temp_file("s-ok.toml", "samples = 100\n");
    let mut a = vec!["--config", p.to_str().expect("p")];
    a.extend_from_slice(&fleet);
    assert_eq!(json(&a)["samples"], 100);
}

#[test]
fn a_tiny_config_price_is_written_plainly_in_its_warning() {
    let p = temp_file("price.toml", "[site]\nprice = 0.0001\n");
    let o = wattlens(&[
        "--config",
        p.to_str().expect("p"),
        "estimate",
        "fleet",
        "--servers",
        "1",
        "--server",
        "dgx-h100",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("0.0001 USD/kWh is below"), "{err}");
    assert!(!err.contains("e-4"), "{err}");
}

#[test]
fn a_failed_write_to_stdout_names_stdout() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return; // no /dev/full on this system
    };
    let o = Command::new(env!("CARGO_BIN_EXE_wattlens"))
        .env("WATTLENS_HISTORY", super::test_ledger())
        .args([
            "estimate",
            "fleet",
            "--servers",
            "1",
            "--server",
            "dgx-h100",
            "--json",
        ])
        .env_remove("WATTLENS_CATALOG")
        .env_remove("WATTLENS_CONFIG")
        .stdout(full)
        .output()
        .expect("runs wattlens");
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("stdout") && err.contains("No space left"),
        "{err}"
    );
}
