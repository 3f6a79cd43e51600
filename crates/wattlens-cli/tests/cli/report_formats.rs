//! `wattlens report`: every format from one recorded run (the replay fixture with two marked
//! windows), the JSON formats validated against their published schemas (vendored under
//! `tests/fixtures/schemas/`, see its README), the model card's keys and grams, the SCI by hand,
//! SOURCE resolution, and the HTML page in a real headless browser.

use super::{fixture, isolated, stderr};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A recorded run as `run --json` writes it: the replay fixture (0.5 kWh then 1.5 kWh of GPU
/// energy over two 1800 s polls) with a window `warmup` over the first poll and `train` over
/// the second, on the FR grid.
pub(super) fn recorded_run(dir: &Path) -> PathBuf {
    let marks = [
        (0.0, "begin warmup"),
        (1800.0, "end warmup"),
        (1800.0, "begin train"),
        (3600.0, "end train"),
    ];
    let mark = |(t, m): (f64, &str)| {
        format!("{{\"t\":{t:?},\"source\":\"child\",\"device\":\"marks\",\"kind\":\"mark\",\"text\":{m:?}}}\n")
    };
    let mut trace = String::new();
    let mut pending = marks.iter().copied().peekable();
    for line in std::fs::read_to_string(fixture("trace-series.jsonl"))
        .expect("fixture")
        .lines()
    {
        let t = serde_json::from_str::<Value>(line)
            .ok()
            .and_then(|v| v["t"].as_f64());
        // A mark goes after the polls at its time and before the later ones.
        while let (Some(t), Some(m)) = (t, pending.peek()) {
            if m.0 >= t {
                break;
            }
            trace.push_str(&mark(*m));
            pending.next();
        }
        trace.push_str(line);
        trace.push('\n');
    }
    for m in pending {
        trace.push_str(&mark(m));
    }
    let path = dir.join("trace.jsonl");
    std::fs::write(&path, trace).expect("write trace");
    let json = dir.join("run.json");
    let o = isolated()
        .args(["run", "--grid", "FR", "--replay"])
        .arg(&path)
        .arg("--json")
        .arg(&json)
        .output()
        .expect("runs wattlens");
    assert!(o.status.success(), "replay: {}", stderr(&o));
    json
}

fn report(args: &[&str]) -> Output {
    isolated().arg("report").args(args).output().expect("runs")
}

fn report_ok(args: &[&str]) -> String {
    let o = report(args);
    assert!(o.status.success(), "report {args:?}: {}", stderr(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("JSON")
}

/// Resolves the schemas' `$ref`s to the vendored files, never the network.
struct Vendored(Vec<(String, PathBuf)>);

impl jsonschema::Retrieve for Vendored {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let u = uri.as_str();
        let (_, path) = self
            .0
            .iter()
            .find(|(k, _)| k == u)
            .ok_or_else(|| format!("{u} is not vendored under tests/fixtures/schemas"))?;
        Ok(read_json(path))
    }
}

fn schemas(rel: &str) -> PathBuf {
    fixture("schemas").join(rel)
}

/// The errors of `v` against the schema file `schema`, with the vendored references.
pub(super) fn errors(schema: &str, v: &Value) -> Vec<String> {
    let boamps = "https://raw.githubusercontent.com/Boavizta/BoAmps/main/model/";
    let mut map: Vec<(String, PathBuf)> =
        ["spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json"]
            .iter()
            .map(|f| {
                (
                    format!("http://cyclonedx.org/schema/{f}"),
                    schemas(&format!("cyclonedx/{f}")),
                )
            })
            .collect();
    for f in [
        "algorithm_schema.json",
        "dataset_schema.json",
        "hardware_schema.json",
    ] {
        map.push((format!("{boamps}{f}"), schemas(&format!("boamps/{f}"))));
    }
    map.push((
        format!("{boamps}measure_schema.json"),
        schemas("boamps/measure_schema.boamps-1.wattlens.json"),
    ));
    let s = read_json(&schemas(schema));
    let validator = jsonschema::options()
        .with_retriever(Vendored(map))
        .build(&s)
        .unwrap_or_else(|e| panic!("{schema}: {e}"));
    validator
        .iter_errors(v)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn json_formats_follow_their_published_schemas() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = recorded_run(dir.path());
    let run = run.to_str().expect("utf-8");
    let rv = read_json(Path::new(run));
    let kwh = rv["facility_energy_kwh"]["p50"].as_f64().expect("energy");
    let kg = rv["operational_carbon_kgco2e"]["p50"]
        .as_f64()
        .expect("carbon");

    let cdx: Value =
        serde_json::from_str(&report_ok(&[run, "--format", "cyclonedx"])).expect("JSON");
    assert_eq!(
        errors("cyclonedx/bom-1.6.SNAPSHOT.schema.json", &cdx),
        Vec::<String>::new()
    );
    let e = &cdx["components"][0]["modelCard"]["considerations"]["environmentalConsiderations"]
        ["energyConsumptions"][0];
    assert_eq!(e["activity"], "training");
    assert_eq!(e["activityEnergyCost"]["value"].as_f64(), Some(kwh));
    // kg / 1000 = t
    assert_eq!(e["co2CostEquivalent"]["value"].as_f64(), Some(kg / 1000.0));

    let b: Value = serde_json::from_str(&report_ok(&[run, "--format", "boamps"])).expect("JSON");
    assert_eq!(
        errors("boamps/report_schema.json", &b),
        Vec::<String>::new()
    );
    assert_eq!(
        b["measures"][0]["powerConsumption"],
        rv["it_energy_kwh"]["p50"]
    );
    // Each measure also follows the published measure_schema.json (the pre-1.0 file, which
    // requires `unit`), and names no field that neither version defines (a misspelt one would
    // pass both schemas, which allow unknown fields).
    let known: Vec<String> = [
        "boamps/measure_schema.json",
        "boamps/measure_schema.boamps-1.wattlens.json",
    ]
    .iter()
    .flat_map(|f| {
        read_json(&schemas(f))["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    })
    .collect();
    for m in b["measures"].as_array().expect("measures") {
        assert_eq!(
            errors("boamps/measure_schema.json", m),
            Vec::<String>::new()
        );
        for k in m.as_object().expect("a measure").keys() {
            assert!(
                known.contains(k),
                "measure field {k} is in no BoAmps measure schema"
            );
        }
    }
    assert_eq!(b["measures"][0]["unit"], "kWh");
    assert_eq!(b["environment"]["country"], "FR");
    // The effective intensity: operational g over facility kWh, the FR catalog row's 56 g/kWh.
    let i = b["environment"]["powerSourceCarbonIntensity"]
        .as_f64()
        .expect("intensity");
    // (a ratio of P50s, so within 1% of 56 rather than equal)
    assert!((i - 56.0).abs() < 0.56, "{i}");

    let s: Value = serde_json::from_str(&report_ok(&[
        run,
        "--format",
        "spdx",
        "--activity",
        "fine-tuning",
    ]))
    .expect("JSON");
    let pkg = s["@graph"]
        .as_array()
        .and_then(|g| g.iter().find(|e| e["type"] == "ai_AIPackage"))
        .expect("an ai_AIPackage");
    let energy = &pkg["ai_energyConsumption"];
    assert_eq!(
        errors("spdx/ai-energy-consumption.wattlens.json", energy),
        Vec::<String>::new()
    );
    assert_eq!(
        energy["ai_finetuningEnergyConsumption"][0]["ai_energyQuantity"].as_f64(),
        Some(kwh)
    );
}

#[test]
fn the_validator_catches_a_broken_output() {
    let mut cdx = serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{
        "type": "machine-learning-model", "name": "m", "modelCard": {"considerations": {
        "environmentalConsiderations": {"energyConsumptions": [{"activity": "training",
        "energyProviders": [], "activityEnergyCost": {"value": 1.0, "unit": "kWh"}}]}}}}]});
    assert!(errors("cyclonedx/bom-1.6.SNAPSHOT.schema.json", &cdx).is_empty());
    cdx["components"][0]["modelCard"]["considerations"]["environmentalConsiderations"]
        ["energyConsumptions"][0]["activityEnergyCost"]["unit"] = "Wh".into();
    assert!(!errors("cyclonedx/bom-1.6.SNAPSHOT.schema.json", &cdx).is_empty());
    let b = serde_json::json!({"task": {"taskStage": "training", "taskFamily": "x",
        "algorithms": [{}], "dataset": [{"dataUsage": "input"}]}, "measures": [], "infrastructure": {}});
    assert!(errors("boamps/report_schema.json", &b).len() >= 3);
    // BoAmps 1.x dropped `unit`; the published pre-1.0 measure schema requires it.
    let mut m = serde_json::json!({"measurementMethod": "x", "powerConsumption": 1.0});
    let v1 = "boamps/measure_schema.boamps-1.wattlens.json";
    assert!(errors(v1, &m).is_empty());
    assert!(!errors("boamps/measure_schema.json", &m).is_empty());
    m["unit"] = "kWh".into();
    assert!(errors("boamps/measure_schema.json", &m).is_empty());
    m["measurementDuration"] = (-1.0).into();
    assert!(!errors(v1, &m).is_empty());
}

#[test]
fn the_model_card_block_has_the_hub_keys_and_grams() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = recorded_run(dir.path());
    let run = run.to_str().expect("utf-8");
    let kg = read_json(Path::new(run))["operational_carbon_kgco2e"]["p50"]
        .as_f64()
        .expect("carbon");
    let card = report_ok(&[run, "--format", "model-card"]);
    let yaml = card
        .strip_prefix("---\n")
        .and_then(|r| r.split_once("\n---\n"))
        .map(|(y, _)| y)
        .expect("a metadata block");
    // The Hub's co2_eq_emissions keys (huggingface.co/docs/hub/model-cards-co2), nothing else.
    let keys: Vec<&str> = yaml
        .lines()
        .skip(1)
        .filter_map(|l| l.trim().split_once(':').map(|(k, _)| k))
        .collect();
    assert_eq!(yaml.lines().next(), Some("co2_eq_emissions:"));
    assert_eq!(
        keys,
        [
            "emissions",
            "source",
            "training_type",
            "geographical_location",
            "hardware_used"
        ]
    );
    // Emissions in grams: kg x 1000, to six figures.
    let g: f64 = yaml
        .lines()
        .find_map(|l| l.trim().strip_prefix("emissions: "))
        .and_then(|x| x.parse().ok())
        .expect("a number");
    assert!(
        (g - kg * 1000.0).abs() <= kg * 1000.0 * 1e-5,
        "{g} g vs {kg} kg"
    );
    assert!(yaml.contains("training_type: \"pre-training\""));
    assert!(yaml.contains("geographical_location: \"FR\""));
    assert!(card.contains("## Environmental impact") && card.contains("- **Hours used:** 1\n"));
}

#[test]
fn sci_is_total_carbon_per_functional_unit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = recorded_run(dir.path());
    let run = run.to_str().expect("utf-8");
    let c = read_json(Path::new(run))["carbon_kgco2e"]["p50"]
        .as_f64()
        .expect("carbon");
    let out = report_ok(&[run, "--format", "sci", "--per", "1000 requests"]);
    // (E x I + M) / R = carbon (kg) x 1000 g / 1000 requests
    let line = out.lines().find(|l| l.starts_with("SCI =")).expect("score");
    let score: f64 = line["SCI = ".len()..]
        .split_whitespace()
        .next()
        .and_then(|x| x.parse().ok())
        .expect("number");
    let want = c * 1000.0 / 1000.0;
    assert!((score - want).abs() <= want * 0.005, "{score} vs {want}");
    assert!(line.contains("gCO2e per request"), "{line}");
    let o = report(&[run, "--format", "sci"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--per is required"), "{}", stderr(&o));
    let o = report(&[run, "--format", "sci", "--per", "many requests"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--per \"many requests\""),
        "{}",
        stderr(&o)
    );
    // An inference estimate covers its own requests (here 1): "per 1000 requests" would divide
    // one request's carbon by 1,000 (a hostile test), so it is refused; "per 1 request" is its
    // carbon per request.
    let est = dir.path().join("infer.json");
    let o = super::wattlens(&[
        "estimate",
        "infer",
        "--model",
        "llama-3.1-8b",
        "--gpu",
        "h100",
        "--json",
    ]);
    std::fs::write(&est, &o.stdout).expect("write");
    let est = est.to_str().expect("utf-8");
    let o = report(&[est, "--format", "sci", "--per", "1000 requests"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("covers 1 requests"), "{}", stderr(&o));
    let out = report_ok(&[est, "--format", "sci", "--per", "1 request"]);
    let per_request = read_json(Path::new(est))["carbon_g_per_request"]["p50"]
        .as_f64()
        .expect("g per request");
    let line = out.lines().find(|l| l.starts_with("SCI =")).expect("score");
    let score: f64 = line["SCI = ".len()..]
        .split_whitespace()
        .next()
        .and_then(|x| x.parse().ok())
        .expect("number");
    // The SCI's total includes embodied carbon, like carbon_g_per_request.
    assert!(
        (score - per_request).abs() <= per_request * 0.005,
        "{score} vs {per_request}"
    );
}

#[test]
fn source_is_a_file_stdin_or_a_history_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = recorded_run(dir.path());
    let text = std::fs::read(&run).expect("read");
    let mut child = isolated()
        .args(["report", "-", "--format", "markdown"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), &text).expect("write");
    let o = child.wait_with_output().expect("wait");
    assert!(o.status.success());
    let file = report_ok(&[run.to_str().expect("utf-8"), "--format", "markdown"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), file);
    for (args, says) in [
        (
            vec!["#4x", "--format", "html"],
            "\"#4x\" is not a history ID",
        ),
        (
            vec!["/no/such.json", "--format", "html"],
            "could not read /no/such.json",
        ),
        (
            vec![run.to_str().expect("utf-8"), "--format", "pdf"],
            "--format: \"pdf\"",
        ),
    ] {
        let o = report(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
    }
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"schema\": \"other/v1\"}").expect("write");
    let o = report(&[bad.to_str().expect("utf-8"), "--format", "html"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not a wattlens.footprint/v1 JSON"),
        "{}",
        stderr(&o)
    );
}

/// The HTML page's headline rows: (key, P50) from its `data-key`/`data-p50` attributes.
fn headline_rows(dom: &str) -> Vec<(String, f64)> {
    dom.split("data-key=\"")
        .skip(1)
        .filter_map(|rest| {
            let (key, rest) = rest.split_once('"')?;
            let p50 = rest
                .split("data-p50=\"")
                .nth(1)?
                .split('"')
                .next()?
                .parse()
                .ok()?;
            Some((key.to_string(), p50))
        })
        .collect()
}

/// Runs `cmd` for at most `limit`, killing it past that.
fn bounded(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn chromium");
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("chromium ran past {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.wait_with_output().expect("output")
}

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| ["chromium", "chromium-browser"].map(|n| d.join(n)))
        .find(|p| p.is_file())
}

#[test]
fn the_html_report_renders_offline_in_a_real_browser() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is not on PATH and CI is set: install Debian's `chromium` (.ci/run does)"
        );
        println!("skipped: chromium is not on PATH (apt-get install chromium)");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let run = recorded_run(dir.path());
    let html = dir.path().join("report.html");
    report_ok(&[
        run.to_str().expect("utf-8"),
        "--format",
        "html",
        "-o",
        html.to_str().expect("utf-8"),
    ]);
    let page = std::fs::read_to_string(&html).expect("html");
    // Nothing to load: no URL, link, script, import or font anywhere in the file.
    for bad in [
        "http://", "https://", "src=", "href=", "url(", "@import", "<script", "<link",
    ] {
        assert!(!page.contains(bad), "the page contains {bad:?}");
    }
    let url = format!("file://{}", html.display());
    let base = |profile: &str| {
        let mut c = Command::new(&browser);
        c.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1000,2400",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join(profile).display()
        ));
        c
    };
    let net = dir.path().join("net.json");
    let mut dump = base("p1");
    dump.arg(format!("--log-net-log={}", net.display()))
        .arg("--dump-dom")
        .arg(&url);
    let o = bounded(dump, Duration::from_secs(90));
    assert!(o.status.success(), "chromium: {}", stderr(&o));
    let dom = String::from_utf8_lossy(&o.stdout);
    let log = stderr(&o);
    assert!(
        !log.contains("Uncaught") && !log.contains(":ERROR:CONSOLE"),
        "script errors: {log}"
    );
    // The network log names no http(s) request but the browser's own background services
    // (update, time and account checks on Google hosts, made whatever the page).
    let netlog = std::fs::read_to_string(&net).unwrap_or_default();
    let browser_own = ["google.com/", "googleapis.com/", "gvt1.com/"];
    let requested: Vec<&str> = netlog
        .split("\"url\":\"")
        .skip(1)
        .filter_map(|r| r.split('"').next())
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
        .filter(|u| {
            let host = u.split("://").nth(1).unwrap_or("");
            let host = &host[..host.find('/').map_or(host.len(), |i| i + 1)];
            !browser_own.iter().any(|b| host.ends_with(b))
        })
        .collect();
    assert!(requested.is_empty(), "the page requested {requested:?}");
    // Every headline figure of the JSON is in the DOM, with its P50 as written there.
    let v = read_json(&run);
    let rows = headline_rows(&dom);
    for key in [
        "it_energy_kwh",
        "facility_energy_kwh",
        "carbon_kgco2e",
        "operational_carbon_kgco2e",
        "embodied_carbon_kgco2e",
        "water_l",
        "onsite_water_l",
        "offsite_water_l",
    ] {
        let want = v[key]["p50"]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} in the JSON"));
        assert!(
            rows.iter().any(|(k, p)| k == key && *p == want),
            "{key} = {want} is not in the page's headline rows {rows:?}"
        );
    }
    assert!(
        dom.contains("warmup") && dom.contains("train"),
        "windows in the power chart"
    );
    // The power chart draws the run's profile: two bins of 1800 s (1000 W, then 3000 W).
    let bins = v["profile"].as_array().map_or(0, Vec::len);
    assert_eq!(bins, 2, "the recorded run has a profile");
    assert!(
        dom.contains(&format!("data-bins=\"{bins}\"")),
        "the profile's bars in the DOM"
    );
    // A screenshot whose chart colours cover a real area.
    let shot = dir.path().join("shot.png");
    let mut s = base("p2");
    s.arg(format!("--screenshot={}", shot.display())).arg(&url);
    let o = bounded(s, Duration::from_secs(90));
    assert!(o.status.success(), "chromium: {}", stderr(&o));
    let (bar, window) = chart_pixels(&shot);
    // Bars are 16 px high and up to 300 px wide; a window rectangle is tens of px each way.
    assert!(bar > 2_000, "only {bar} px of bar colour in the screenshot");
    assert!(
        window > 500,
        "only {window} px of window colour in the screenshot"
    );
}

/// Pixels of the bar colour (#2f6f9f, any opacity over white) and of the window colour
/// (#e8a33d) in a PNG.
fn chart_pixels(path: &Path) -> (usize, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(path).expect("screenshot"),
    ));
    let mut reader = decoder.read_info().expect("png");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("frame");
    let step = info.color_type.samples();
    let (mut bar, mut window) = (0, 0);
    for px in buf[..info.buffer_size()].chunks(step) {
        let (r, b) = (i32::from(px[0]), i32::from(px[2]));
        // Blue-ish: blue well above red (the bar colour, solid or at 35% over white).
        if b - r > 40 && b > 120 {
            bar += 1;
        }
        // Orange: red high, blue low.
        if r > 200 && b < 150 && r - b > 80 {
            window += 1;
        }
    }
    (bar, window)
}

#[test]
fn an_estimate_renders_too_and_stays_valid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("train.json");
    let o = isolated()
        .args([
            "estimate",
            "train",
            "--params",
            "7B",
            "--tokens",
            "1T",
            "--gpu",
            "h100",
            "--gpus",
            "64",
            "--grid",
            "FR",
            "--samples",
            "200",
            "--json",
        ])
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::write(&json, &o.stdout).expect("write");
    let p = json.to_str().expect("utf-8");
    let cdx: Value = serde_json::from_str(&report_ok(&[p, "--format", "cyclonedx"])).expect("JSON");
    assert_eq!(
        errors("cyclonedx/bom-1.6.SNAPSHOT.schema.json", &cdx),
        Vec::<String>::new()
    );
    let b: Value = serde_json::from_str(&report_ok(&[p, "--format", "boamps"])).expect("JSON");
    assert_eq!(
        errors("boamps/report_schema.json", &b),
        Vec::<String>::new()
    );
    assert_eq!(b["header"]["reportStatus"], "draft");
    let card = report_ok(&[p, "--format", "model-card"]);
    assert!(card.contains("hardware_used: \"64 x "), "{card}");
    let page = report_ok(&[p, "--format", "html"]);
    assert!(
        !page.contains("IT power over the run")
            && page.contains("data-key=\"facility_energy_kwh\"")
    );
}

/// Hostile-test cases: a run with no counter read was called "measured"; a training estimate's
/// card said "Hours used: not recorded" beside a 118-day duration; BoAmps counted 2,048 GPUs
/// as one.
#[test]
fn cards_say_how_the_figures_were_obtained_and_count_the_hardware() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("r.json");
    let o = super::wattlens(&[
        "run",
        "--no-history",
        "--sysfs-root",
        "/nonexistent",
        "--json",
        run.to_str().expect("utf-8"),
        "--",
        "true",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let card = report_ok(&[run.to_str().expect("utf-8"), "--format", "model-card"]);
    assert!(card.contains("Carbon emissions were modelled"), "{card}");
    let md = report_ok(&[run.to_str().expect("utf-8"), "--format", "markdown"]);
    assert!(md.starts_with("### wattlens run: modelled"), "{md}");
    let est = dir.path().join("e.json");
    let o = super::wattlens(&[
        "estimate", "train", "--params", "70B", "--tokens", "15T", "--gpu", "h100", "--gpus",
        "2048", "--grid", "FR", "--json",
    ]);
    std::fs::write(&est, &o.stdout).expect("write");
    let est = est.to_str().expect("utf-8");
    let card = report_ok(&[est, "--format", "model-card"]);
    let days = read_json(Path::new(est))["duration_days"]["p50"]
        .as_f64()
        .expect("days");
    assert!(
        card.contains(&format!(
            "- **Hours used:** {}",
            wattlens::uncertainty::fmt_human(days * 24.0)
        )),
        "{card}"
    );
    let b: Value = serde_json::from_str(&report_ok(&[est, "--format", "boamps"])).expect("json");
    assert_eq!(b["infrastructure"]["components"][0]["nbComponent"], 2048);
}

/// Hostile-test cases: a hand-edited footprint with 1e308 kg rendered `emissions: inf` (not
/// YAML) and a negative energy rendered without complaint; both are refused naming the figure.
#[test]
fn edited_footprints_with_impossible_figures_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = recorded_run(dir.path());
    let mut v = read_json(&run);
    v["carbon_kgco2e"]["p50"] = serde_json::json!(1e308);
    let big = dir.path().join("big.json");
    std::fs::write(&big, v.to_string()).expect("write");
    let o = report(&[big.to_str().expect("utf-8"), "--format", "model-card"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("carbon_kgco2e (negative or above 1e100)"),
        "{}",
        stderr(&o)
    );
    let mut v = read_json(&run);
    v["facility_energy_kwh"]["p5"] = serde_json::json!(-5.0);
    let neg = dir.path().join("neg.json");
    std::fs::write(&neg, v.to_string()).expect("write");
    let o = report(&[neg.to_str().expect("utf-8"), "--format", "html"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("facility_energy_kwh"), "{}", stderr(&o));
}
