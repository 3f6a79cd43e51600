//! A small fuzzer on stable Rust: random and mutated inputs through the library entry points
//! the CLI uses for files — a user catalog (`--catalog`), a recorded trace (`--replay`), a
//! footprint to compare with (`--compare`) and an intensity series (`--series`: the CSV and
//! each provider's JSON, format detected or given). The property: no panic, no hang (each case runs on a
//! thread with a time limit), and when an input is accepted every figure is finite.
//!
//! Bounded: 256 cases per target by default, each well under a second. More cases:
//! `PROPTEST_CASES=20000 cargo test --release -p wattlens --test fuzz`. The config file is fuzzed
//! through the binary in `crates/wattlens-cli/tests/cli/catalog_input.rs`.

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use std::collections::BTreeMap;
use std::sync::mpsc;
use std::time::Duration;
use wattlens::catalog::{Catalog, Row, Table, UserCatalog};
use wattlens::estimate::resolve::{
    self, DatacenterInputs, FleetInputs, HardwareInputs, InferInputs, TrainInputs,
};
use wattlens::estimate::site::SiteInputs;
use wattlens::estimate::{run_resolved, EstimateError};
use wattlens::footprint::Param;
use wattlens::grid::{parse_series, ImportOptions, SeriesFormat, MAX_G_PER_KWH};
use wattlens::measure::{account_run, replay, ModelInputs, Policy, RunSpec};
use wattlens::result::Report;
use wattlens::runner::McOptions;
use wattlens::uncertainty::Range;

/// Longest a single case may take before it counts as a hang.
const CASE_LIMIT: Duration = Duration::from_secs(20);

/// Runs `f` on its own thread: a panic or a run past [`CASE_LIMIT`] fails the case.
fn guarded(
    what: &str,
    input: &str,
    f: impl FnOnce() -> Result<(), String> + Send + 'static,
) -> Result<(), TestCaseError> {
    let (tx, rx) = mpsc::channel();
    let h = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(CASE_LIMIT) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(TestCaseError::fail(format!("{what}: {e}\ninput:\n{input}"))),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(TestCaseError::fail(format!(
            "{what}: no answer after {CASE_LIMIT:?} (a hang)\ninput:\n{input}"
        ))),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let why = h.join().err().map_or_else(String::new, |p| {
                p.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_string()))
                    .unwrap_or_default()
            });
            Err(TestCaseError::fail(format!(
                "{what}: panicked: {why}\ninput:\n{input}"
            )))
        }
    }
}

/// One edit of a seed text.
#[derive(Clone, Debug)]
enum Op {
    /// Overwrite a byte.
    Byte(Index, u8),
    /// Insert a token from the dictionary.
    Insert(Index, &'static str),
    /// Remove up to `n` bytes.
    Delete(Index, usize),
    /// Replace the k-th number with an interesting one.
    Number(Index, &'static str),
    /// Repeat a line.
    Duplicate(Index),
    /// Cut the text.
    Truncate(Index),
}

const TOKENS: [&str; 24] = [
    "nan",
    "inf",
    "-inf",
    "-",
    "0",
    "1e308",
    "-1e308",
    "1e-320",
    "\"",
    "'",
    "[",
    "]",
    "{",
    "}",
    ",",
    "\n",
    "=",
    ":",
    "[[server]]\n",
    "[[default]]\n",
    "null",
    "true",
    "\u{feff}",
    "\\",
];
const NUMBERS: [&str; 18] = [
    "0",
    "-0",
    "-1",
    "1",
    "0.5",
    "2",
    "1e308",
    "-1e308",
    "1.7976931348623157e308",
    "5e-324",
    "1e-320",
    "1e300",
    "18446744073709551615",
    "9223372036854775808",
    "-9223372036854775809",
    "nan",
    "inf",
    "1e99999",
];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Op::Byte(i, b)),
        (any::<Index>(), prop::sample::select(TOKENS.to_vec())).prop_map(|(i, t)| Op::Insert(i, t)),
        (any::<Index>(), 1..16usize).prop_map(|(i, n)| Op::Delete(i, n)),
        (any::<Index>(), prop::sample::select(NUMBERS.to_vec()))
            .prop_map(|(i, n)| Op::Number(i, n)),
        (any::<Index>(), prop::sample::select(NUMBERS.to_vec()))
            .prop_map(|(i, n)| Op::Number(i, n)),
        any::<Index>().prop_map(Op::Duplicate),
        any::<Index>().prop_map(Op::Truncate),
    ]
}

/// The byte ranges of the numbers in `s` (digits with sign, point and exponent).
fn numbers(s: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if s[i].is_ascii_digit() {
            let mut start = i;
            if start > 0 && s[start - 1] == b'-' {
                start -= 1;
            }
            while i < s.len()
                && (s[i].is_ascii_digit() || matches!(s[i], b'.' | b'e' | b'E' | b'+' | b'_'))
            {
                i += 1;
            }
            out.push((start, i));
        } else {
            i += 1;
        }
    }
    out
}

fn mutate(seed: &str, ops: &[Op]) -> String {
    let mut b = seed.as_bytes().to_vec();
    for op in ops {
        let at = |i: &Index, len: usize| if len == 0 { 0 } else { i.index(len + 1) };
        match op {
            Op::Byte(i, v) if !b.is_empty() => {
                let k = i.index(b.len());
                b[k] = *v;
            }
            Op::Insert(i, t) => {
                let k = at(i, b.len());
                b.splice(k..k, t.bytes());
            }
            Op::Delete(i, n) if !b.is_empty() => {
                let k = i.index(b.len());
                let end = (k + n).min(b.len());
                b.drain(k..end);
            }
            Op::Number(i, n) => {
                let spans = numbers(&b);
                if !spans.is_empty() {
                    let (s, e) = spans[i.index(spans.len())];
                    b.splice(s..e, n.bytes());
                }
            }
            Op::Duplicate(i) => {
                let text = String::from_utf8_lossy(&b).into_owned();
                let lines: Vec<&str> = text.split_inclusive('\n').collect();
                if !lines.is_empty() {
                    let k = i.index(lines.len());
                    let mut out: Vec<&str> = lines.clone();
                    out.insert(k, lines[k]);
                    b = out.concat().into_bytes();
                }
            }
            Op::Truncate(i) => {
                let k = at(i, b.len());
                b.truncate(k);
            }
            _ => {}
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

fn finite(e: &Report) -> Result<(), String> {
    for (k, p) in &e.figures {
        if !(p.p5.is_finite() && p.p50.is_finite() && p.p95.is_finite()) {
            return Err(format!("figure {k} is not finite: {p:?}"));
        }
    }
    Ok(())
}

fn opts() -> McOptions {
    McOptions {
        samples: 32,
        threads: 1,
        ..McOptions::default()
    }
}

fn check(r: Result<Report, EstimateError>) -> Result<(), String> {
    match r {
        Ok(e) => {
            finite(&e)?;
            // The renderings the CLI prints must not panic either.
            let _ = wattlens::report::table(&e, true);
            let _ = wattlens::report::markdown(&e, false);
            let _ = serde_json::to_value(&e);
            Ok(())
        }
        Err(_) => Ok(()),
    }
}

// ---- user catalog --------------------------------------------------------------------------

const CATALOG_SEEDS: [&str; 2] = [
    include_str!("../../wattlens-cli/tests/fixtures/user-catalog.toml"),
    r#"[[server]]
name = "fuzz"
accelerator = "npu1"
accelerators = 8
max_power_kw = 10.2
cpu_sockets = 2
cpu_tdp_w = 350
dram_gb = 2048
embodied_kgco2e_low = 3000
embodied_kgco2e_high = 8000

[[accelerator]]
name = "Example NPU 1"
aliases = "npu1"
board_power_w = 700
bf16_tflops = 989
memory_gb = 80
mem_bw_gb_s = 3350
embodied_kgco2e_low = 150
embodied_kgco2e_high = 318

[[datacenter]]
name = "mine"
pue_low = 1.1
pue_high = 1.3
wue_low = 0.1
wue_high = 0.5

[[model]]
name = "fuzz-model"
total_params = 8e9
active_params = 8e9
layers = 32
hidden_size = 4096
attention_heads = 32
kv_heads = 8
head_dim = 128
context_length = 8192
training_tokens = 15e12

[[default]]
key = "train.mfu"
low = 0.3
high = 0.5

[[default]]
key = "fleet.load"
low = 0.6
high = 1.0

[[equivalent]]
key = "us_home_kwh_per_year"
value = 10715
"#,
];

/// Every command a catalog feeds, on rows the seeds name.
fn run_catalog(text: &str) -> Result<(), String> {
    let Ok(user) = UserCatalog::parse(text, "fuzz.toml") else {
        return Ok(());
    };
    let cat = Catalog::with_user(user);
    // `catalog list` of every table.
    fn list<T: Row>(t: Result<&Table<T>, wattlens::catalog::CatalogError>) {
        if let Ok(rows) = t.and_then(Table::rows) {
            for r in rows {
                let _ = (r.key(), r.summary(), r.cite());
            }
        }
    }
    list(cat.accelerators());
    list(cat.servers());
    list(cat.grids());
    list(cat.datacenters());
    list(cat.models());
    list(cat.equivalents());
    list(cat.defaults());
    let site = SiteInputs {
        grid: Some("FR".into()),
        datacenter: Some("mine".into()),
        ..SiteInputs::default()
    };
    let hw = HardwareInputs {
        server: Some("fuzz".into()),
        ..HardwareInputs::default()
    };
    check(
        resolve::train(
            &cat,
            &TrainInputs {
                model: Some("fuzz-model".into()),
                gpus: Some(Range::point(64.0)),
                hw: HardwareInputs {
                    gpu: Some("npu1".into()),
                    ..hw.clone()
                },
                ..TrainInputs::default()
            },
            &site,
        )
        .map(|r| run_resolved(r, opts())),
    )?;
    check(
        resolve::fleet(
            &cat,
            &FleetInputs {
                servers: Some(Range::point(10.0)),
                hw: hw.clone(),
                ..FleetInputs::default()
            },
            &site,
        )
        .map(|r| run_resolved(r, opts())),
    )?;
    check(
        resolve::datacenter(
            &cat,
            &DatacenterInputs {
                servers: Some(Range::point(10.0)),
                hw: hw.clone(),
                ..DatacenterInputs::default()
            },
            &site,
        )
        .map(|r| run_resolved(r, opts())),
    )?;
    check(
        resolve::infer(
            &cat,
            &InferInputs {
                model: Some("fuzz-model".into()),
                hw: HardwareInputs {
                    gpu: Some("npu1".into()),
                    ..HardwareInputs::default()
                },
                ..InferInputs::default()
            },
            &site,
        )
        .map(|r| run_resolved(r, opts())),
    )
}

// ---- traces --------------------------------------------------------------------------------

const TRACE_SEED: &str = include_str!("fixtures/trace-wrap-reset.jsonl");

/// Reads and replays a trace; with `finite`, an accepted trace must give finite figures.
fn run_trace(text: &str, finite_figures: bool) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("t.jsonl");
    std::fs::write(&path, text).map_err(|e| e.to_string())?;
    let cat = Catalog::embedded();
    for policy in [Policy::Machine, Policy::Processes] {
        // A refused trace (an error naming its line) is a correct answer.
        let Ok(mut trace) = wattlens::source::replay::TraceReader::open(&path) else {
            return Ok(());
        };
        let Ok(m) = replay(
            &mut trace,
            ModelInputs {
                policy,
                cpu_tdp: None,
                cpu_w_per_thread: 3.5,
                dram_w_per_gb: 0.375,
            },
        ) else {
            return Ok(());
        };
        if finite_figures && (!m.breakdown.total().0.is_finite() || !m.duration.0.is_finite()) {
            return Err(format!(
                "replay gave {} J over {} s",
                m.breakdown.total().0,
                m.duration.0
            ));
        }
        let mut out = Vec::new();
        let site = wattlens::estimate::site::resolve(
            &cat,
            &SiteInputs {
                grid: Some("FR".into()),
                ..SiteInputs::default()
            },
            &mut out,
        )
        .map_err(|e| e.to_string())?
        .site;
        let spec = RunSpec {
            measurement: m,
            rest_share: Param {
                range: Range::new(0.2, 0.56),
                source: "fuzz".into(),
            },
            site,
        };
        let e = account_run(&spec, opts(), out, &BTreeMap::new());
        if finite_figures {
            finite(&e)?;
        }
        let windows = wattlens::measure::windows(&spec, opts());
        let _ = wattlens::report::run_summary(&e, &windows);
        let mut json = Vec::new();
        wattlens::report::write_run_json(&mut json, &e, &windows).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// A random reading line of each kind, with random and extreme values.
fn reading() -> impl Strategy<Value = String> {
    let num = || {
        prop_oneof![
            4 => (-10.0..1e4f64).prop_map(|v| format!("{v}")),
            1 => prop::sample::select(NUMBERS.to_vec()).prop_map(str::to_string),
        ]
    };
    let int = || {
        prop_oneof![
            2 => (0..1_000_000_000_000u64).prop_map(|v| v.to_string()),
            1 => prop::sample::select(vec![0, 1, 4, u64::MAX, 262_143_328_850]).prop_map(|v| v.to_string()),
            1 => prop::sample::select(NUMBERS.to_vec()).prop_map(str::to_string),
        ]
    };
    let part = prop::sample::select(vec!["cpu", "gpu", "dram", "x"]);
    let t = prop_oneof![
        4 => (0..20u32).prop_map(|v| format!("{v}.0")),
        1 => num(),
    ];
    let value = prop_oneof![
        (part.clone(), int(), int()).prop_map(|(p, e, m)| format!(
            "\"kind\":\"counter\",\"part\":\"{p}\",\"energy_uj\":{e},\"max_uj\":{m}"
        )),
        (part, num())
            .prop_map(|(p, w)| format!("\"kind\":\"power\",\"part\":\"{p}\",\"power_w\":{w}")),
        (num(), num(), int(), num()).prop_map(|(b, t, c, m)| format!(
            "\"kind\":\"machine\",\"busy_s\":{b},\"total_s\":{t},\"cpus\":{c},\"mem_total_gb\":{m}"
        )),
        (num(), num(), int()).prop_map(|(c, r, p)| format!(
            "\"kind\":\"tree\",\"cpu_s\":{c},\"rss_gb\":{r},\"pids\":{p}"
        )),
        Just("\"kind\":\"dropped\",\"reason\":\"gone\"".to_string()),
        int().prop_map(|c| format!("\"kind\":\"exit\",\"code\":{c}")),
    ];
    (
        t,
        prop::sample::select(vec!["rapl", "nvml", "hwmon", "procfs", "child"]),
        prop::sample::select(vec!["package-0", "gpu0", "machine", "tree", "command"]),
        value,
    )
        .prop_map(|(t, src, dev, v)| {
            format!("{{\"t\":{t},\"source\":\"{src}\",\"device\":\"{dev}\",{v}}}\n")
        })
}

// ---- compare -------------------------------------------------------------------------------

fn base_estimate() -> Report {
    let cat = Catalog::embedded();
    let r = resolve::fleet(
        &cat,
        &FleetInputs {
            energy: Some(Range::new(100.0, 200.0)),
            ..FleetInputs::default()
        },
        &SiteInputs {
            grid: Some("FR".into()),
            ..SiteInputs::default()
        },
    )
    .expect("a fleet estimate resolves");
    run_resolved(r, opts())
}

/// Compares a footprint; with `finite`, an accepted one must give finite figures and ratios.
fn run_compare(text: &str, finite_figures: bool) -> Result<(), String> {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
        return Ok(());
    };
    let e = base_estimate();
    let Ok(c) = wattlens::report::compare::read(&v, "other.json")
        .and_then(|other| wattlens::report::compare::compare(&e, &other, "other.json"))
    else {
        return Ok(());
    };
    for r in c.rows.iter().filter(|_| finite_figures) {
        let (o, t) = (r.other, r.this);
        if ![o.p5, o.p50, o.p95, t.p50].iter().all(|x| x.is_finite()) {
            return Err(format!("figure {} is not finite: {o:?}", r.key));
        }
        if r.ratio().is_some_and(|x| !x.is_finite()) {
            return Err(format!("ratio of {} is not finite", r.key));
        }
    }
    for k in c.kinds.iter().filter(|_| finite_figures) {
        if !k.other_kwh.is_finite() {
            return Err(format!("{} energy is not finite", k.kind));
        }
    }
    let _ = c.render(false);
    let _ = c.render(true);
    let _ = c.to_json();
    Ok(())
}

fn trace_text(lines: &[String], header: bool) -> String {
    let mut text = String::new();
    if header {
        text += "{\"schema\":\"wattlens.trace/v1\",\"started_unix_s\":0.0,\"interval_s\":1.0}\n";
    }
    text + &lines.concat()
}

fn compare_seed() -> String {
    serde_json::to_string_pretty(&base_estimate()).expect("json")
}

/// A fixture of the series importers, as text.
fn series_seed(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A mutated series document through the importer, format detected or given, with a column
/// or not: an error is short and names the input; a series has valid, bounded intervals.
fn run_series(
    text: &str,
    format: Option<SeriesFormat>,
    column: Option<&str>,
) -> Result<(), String> {
    let mut o = ImportOptions::new();
    if let Some(f) = format {
        o = o.with_format(f);
    }
    if let Some(c) = column {
        o = o.with_column(c);
    }
    match parse_series(text.as_bytes(), "doc", &o) {
        Ok(s) => {
            let ivs = s.intervals();
            for w in ivs.windows(2) {
                if w[1].start < w[0].end {
                    return Err(format!("overlapping intervals {:?}", w));
                }
            }
            match ivs.iter().find(|iv| {
                iv.end <= iv.start || !(0.0..=MAX_G_PER_KWH).contains(&iv.intensity.value())
            }) {
                Some(iv) => Err(format!("an invalid interval {iv:?}")),
                None => Ok(()),
            }
        }
        Err(e) => {
            let msg = e.to_string();
            if !msg.contains("doc") {
                return Err(format!("the error does not name the input: {msg}"));
            }
            if msg.chars().count() > 1200 {
                return Err(format!("an error of {} characters", msg.chars().count()));
            }
            Ok(())
        }
    }
}

/// The series targets' seeds: (fixture, format, column).
const SERIES_SEEDS: [(&str, SeriesFormat, Option<&str>); 7] = [
    (
        "gb_neso_carbon_intensity_2023_first_50_lines.csv",
        SeriesFormat::Csv,
        Some("actual"),
    ),
    (
        "electricitymaps_history_dk-dk1.json",
        SeriesFormat::ElectricityMaps,
        None,
    ),
    (
        "gb_carbon_intensity_national_2023-01-01.json",
        SeriesFormat::Gb,
        None,
    ),
    (
        "gb_carbon_intensity_regional_by_time.json",
        SeriesFormat::Gb,
        Some("13"),
    ),
    (
        "watttime_historical_caiso_north.json",
        SeriesFormat::WattTime,
        None,
    ),
    (
        "energinet_co2emisprog_dk_5min.json",
        SeriesFormat::Energinet,
        Some("DK1"),
    ),
    (
        "energinet_co2emisprog_dk_5min.csv",
        SeriesFormat::Energinet,
        Some("DK2"),
    ),
];

/// Mutates seed `k` of [`SERIES_SEEDS`] and reads it detected and given.
fn fuzz_series(k: usize, ops: &[Op]) -> Result<(), TestCaseError> {
    let (file, format, column) = SERIES_SEEDS[k];
    let text = mutate(&series_seed(file), ops);
    for given in [None, Some(format)] {
        let t = text.clone();
        guarded(format.name(), &text, move || run_series(&t, given, column))?;
    }
    Ok(())
}

fn config() -> ProptestConfig {
    // PROPTEST_CASES overrides the 256 cases of the default.
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mutated_user_catalogs_are_refused_or_give_finite_figures(
        seed in prop::sample::select(CATALOG_SEEDS.to_vec()),
        ops in prop::collection::vec(op(), 1..6),
    ) {
        let text = mutate(seed, &ops);
        let t = text.clone();
        guarded("catalog", &text, move || run_catalog(&t))?;
    }

    #[test]
    fn random_text_as_a_user_catalog_never_panics(text in "\\PC{0,200}") {
        let t = text.clone();
        guarded("catalog", &text, move || run_catalog(&t))?;
    }

    #[test]
    fn mutated_traces_never_panic_or_hang(ops in prop::collection::vec(op(), 1..6)) {
        let text = mutate(TRACE_SEED, &ops);
        let t = text.clone();
        guarded("trace", &text, move || run_trace(&t, false))?;
    }

    #[test]
    fn random_trace_lines_never_panic_or_hang(
        lines in prop::collection::vec(reading(), 0..12),
        header in any::<bool>(),
    ) {
        let text = trace_text(&lines, header);
        let t = text.clone();
        guarded("trace", &text, move || run_trace(&t, false))?;
    }

    #[test]
    fn accepted_traces_give_finite_figures(
        ops in prop::collection::vec(op(), 1..6),
        lines in prop::collection::vec(reading(), 0..12),
        header in any::<bool>(),
    ) {
        let text = mutate(TRACE_SEED, &ops);
        let t = text.clone();
        guarded("trace", &text, move || run_trace(&t, true))?;
        let text = trace_text(&lines, header);
        let t = text.clone();
        guarded("trace", &text, move || run_trace(&t, true))?;
    }

    #[test]
    fn mutated_footprints_to_compare_never_panic_or_hang(ops in prop::collection::vec(op(), 1..6)) {
        let text = mutate(&compare_seed(), &ops);
        let t = text.clone();
        guarded("compare", &text, move || run_compare(&t, false))?;
    }

    #[test]
    fn accepted_footprints_compare_to_finite_figures(ops in prop::collection::vec(op(), 1..6)) {
        let text = mutate(&compare_seed(), &ops);
        let t = text.clone();
        guarded("compare", &text, move || run_compare(&t, true))?;
    }

    #[test]
    fn mutated_csv_series_never_panic(ops in prop::collection::vec(op(), 1..6)) {
        fuzz_series(0, &ops)?;
    }

    #[test]
    fn mutated_electricity_maps_documents_never_panic(ops in prop::collection::vec(op(), 1..6)) {
        fuzz_series(1, &ops)?;
    }

    #[test]
    fn mutated_gb_documents_never_panic(
        ops in prop::collection::vec(op(), 1..6),
        regional in any::<bool>(),
    ) {
        fuzz_series(if regional { 3 } else { 2 }, &ops)?;
    }

    #[test]
    fn mutated_watttime_documents_never_panic(ops in prop::collection::vec(op(), 1..6)) {
        fuzz_series(4, &ops)?;
    }

    #[test]
    fn mutated_energinet_documents_never_panic(
        ops in prop::collection::vec(op(), 1..6),
        csv in any::<bool>(),
    ) {
        fuzz_series(if csv { 6 } else { 5 }, &ops)?;
    }

    #[test]
    fn random_text_as_a_series_never_panics(text in "\\PC{0,300}") {
        let t = text.clone();
        guarded("series", &text, move || run_series(&t, None, None))?;
    }
}
