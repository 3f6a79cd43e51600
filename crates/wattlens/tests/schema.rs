//! `docs/schema/footprint-v1.json` against the code: every figure of the registry has a
//! property in the schema, the JSON of every kind (train, infer, fleet, datacenter, run) is
//! valid against it, and reads back as the same [`Report`] (its `Deserialize`).
//!
//! The validator covers the keywords the schema uses (`type`, `required`, `properties`,
//! `items`, `enum`, `const`, `minimum`, `additionalProperties`); a keyword it does not know
//! fails the test, so the schema cannot grow past what is checked.

use serde_json::Value;
use std::collections::BTreeMap;
use wattlens::catalog::Catalog;
use wattlens::estimate::resolve::{
    self, DatacenterInputs, FleetInputs, HardwareInputs, InferInputs, TrainInputs,
};
use wattlens::estimate::run_resolved;
use wattlens::estimate::site::SiteInputs;
use wattlens::figure::Figure;
use wattlens::footprint::Param;
use wattlens::measure::{account_run, replay, ModelInputs, Policy, RunSpec};
use wattlens::result::{Details, Provenance, Report};
use wattlens::runner::McOptions;
use wattlens::uncertainty::Range;

fn schema() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/schema/footprint-v1.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("schema file")).expect("JSON")
}

/// Errors of `v` against `s`, with their JSON paths.
fn validate(s: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(s) = s.as_object() else {
        errors.push(format!("{path}: schema is not an object"));
        return;
    };
    for (k, rule) in s {
        match k.as_str() {
            "$schema" | "$id" | "title" | "description" | "format" => {}
            "type" => {
                let types: Vec<&str> = match rule {
                    Value::String(t) => vec![t.as_str()],
                    Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                    _ => vec![],
                };
                let ok = types.iter().any(|t| match *t {
                    "object" => v.is_object(),
                    "array" => v.is_array(),
                    "string" => v.is_string(),
                    "number" => v.is_number(),
                    "integer" => v.is_i64() || v.is_u64(),
                    "boolean" => v.is_boolean(),
                    "null" => v.is_null(),
                    _ => false,
                });
                if !ok {
                    errors.push(format!("{path}: {v} is not of type {rule}"));
                }
            }
            "required" => {
                for r in rule
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if v.is_object() && v.get(r).is_none() {
                        errors.push(format!("{path}: missing {r}"));
                    }
                }
            }
            "properties" => {
                for (p, sub) in rule.as_object().into_iter().flatten() {
                    if let Some(x) = v.get(p) {
                        validate(sub, x, &format!("{path}.{p}"), errors);
                    }
                }
            }
            "additionalProperties" => {
                let known = s.get("properties").and_then(Value::as_object);
                for (p, x) in v.as_object().into_iter().flatten() {
                    if known.is_some_and(|k| k.contains_key(p)) {
                        continue;
                    }
                    if rule == &Value::Bool(false) {
                        errors.push(format!("{path}: unexpected {p}"));
                    } else if rule.is_object() {
                        validate(rule, x, &format!("{path}.{p}"), errors);
                    }
                }
            }
            "items" => {
                for (i, x) in v.as_array().into_iter().flatten().enumerate() {
                    validate(rule, x, &format!("{path}[{i}]"), errors);
                }
            }
            "enum" => {
                if !rule.as_array().is_some_and(|a| a.contains(v)) {
                    errors.push(format!("{path}: {v} is not one of {rule}"));
                }
            }
            "const" => {
                if rule != v {
                    errors.push(format!("{path}: {v} is not {rule}"));
                }
            }
            "minimum" => {
                if let (Some(m), Some(x)) = (rule.as_f64(), v.as_f64()) {
                    if x < m {
                        errors.push(format!("{path}: {x} is below {m}"));
                    }
                }
            }
            other => errors.push(format!("{path}: the test does not know keyword {other}")),
        }
    }
}

fn opts() -> McOptions {
    McOptions {
        samples: 500,
        ..McOptions::default()
    }
}

fn site() -> SiteInputs {
    SiteInputs {
        grid: Some("FR".into()),
        ..SiteInputs::default()
    }
}

fn reports() -> Vec<Report> {
    let cat = Catalog::embedded();
    let hw = |gpu: &str| HardwareInputs {
        gpu: Some(gpu.into()),
        ..HardwareInputs::default()
    };
    let train = TrainInputs {
        model: Some("llama-3.1-405b".into()),
        ..TrainInputs::default()
    };
    let infer = InferInputs {
        model: Some("llama-3.1-70b".into()),
        hw: hw("h100"),
        requests_per_day: Some(Range::new(1e6, 2e6)),
        ..InferInputs::default()
    };
    let fleet = FleetInputs {
        energy: Some(Range::new(100.0, 200.0)),
        ..FleetInputs::default()
    };
    let dc = DatacenterInputs {
        it_power: Some(Range::new(1e6, 2e6)),
        hours: Some(Range::point(8760.0)),
        breakdown: Some(
            wattlens::estimate::datacenter::Breakdown::parse("it=0.5,cooling=0.4,power=0.1")
                .expect("breakdown"),
        ),
        rack_power: Some(Range::point(80_000.0)),
        ..DatacenterInputs::default()
    };
    let mut out = vec![
        run_resolved(
            resolve::train(&cat, &train, &site()).expect("train"),
            opts(),
        ),
        run_resolved(
            resolve::infer(&cat, &infer, &site()).expect("infer"),
            opts(),
        ),
        run_resolved(
            resolve::fleet(&cat, &fleet, &site()).expect("fleet"),
            opts(),
        ),
        run_resolved(resolve::datacenter(&cat, &dc, &site()).expect("dc"), opts()),
    ];
    // A measured run, replayed from the fixture trace, with what the CLI adds.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/trace-wrap-reset.jsonl");
    let mut trace = wattlens::source::replay::TraceReader::open(&path).expect("trace");
    let m = replay(
        &mut trace,
        ModelInputs {
            policy: Policy::Machine,
            cpu_tdp: None,
            cpu_w_per_thread: 3.5,
            dram_w_per_gb: 0.375,
        },
    )
    .expect("replays");
    let mut assumptions = Vec::new();
    let s = wattlens::estimate::site::resolve(&cat, &site(), &mut assumptions)
        .expect("site")
        .site;
    let spec = RunSpec {
        measurement: m,
        rest_share: Param::new(Range::new(0.2, 0.56), "test"),
        site: s,
    };
    let tags = BTreeMap::from([("project".to_string(), "schema".to_string())]);
    let mut run = account_run(&spec, opts(), assumptions, &tags);
    if let Details::Run(r) = &mut run.details {
        r.provenance = Some(Provenance {
            started_at: Some("2026-01-01T00:00:00Z".into()),
            host: Some("node".into()),
            wattlens_version: "0.1.0".into(),
            command: Some("python".into()),
        });
    }
    out.push(run);
    out
}

#[test]
fn every_figure_of_the_table_is_in_the_schema() {
    let s = schema();
    let props = s["properties"].as_object().expect("properties");
    let missing: Vec<&str> = Figure::table()
        .map(Figure::key)
        .filter(|k| !props.contains_key(*k))
        .collect();
    assert!(missing.is_empty(), "not in the schema: {missing:?}");
}

#[test]
fn the_json_of_every_kind_follows_the_schema_and_reads_back() {
    let s = schema();
    let reports = reports();
    let kinds: Vec<&str> = reports.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(kinds, ["train", "infer", "fleet", "datacenter", "run"]);
    for r in &reports {
        let v = serde_json::to_value(r).expect("serialises");
        let mut errors = Vec::new();
        validate(&s, &v, r.kind.as_str(), &mut errors);
        assert!(errors.is_empty(), "{errors:#?}");
        let back: Report = serde_json::from_value(v.clone()).expect("reads back");
        assert_eq!(back.kind, r.kind);
        assert_eq!(back.details, r.details);
        assert_eq!(
            serde_json::to_value(&back).expect("serialises"),
            v,
            "{}",
            r.kind
        );
    }
}

#[test]
fn the_validator_finds_what_breaks_the_schema() {
    let s = schema();
    let mut v = serde_json::to_value(&reports()[2]).expect("serialises");
    v["kind"] = "batch".into();
    v["samples"] = "many".into();
    if let Some(o) = v.as_object_mut() {
        o.remove("facility_energy_kwh");
    }
    let mut errors = Vec::new();
    validate(&s, &v, "fleet", &mut errors);
    assert_eq!(errors.len(), 3, "{errors:#?}");
}

#[test]
fn a_fleet_trajectory_follows_the_schema_and_reads_back() {
    let cat = Catalog::embedded();
    let fleet = FleetInputs {
        energy: Some(Range::new(100.0, 200.0)),
        ..FleetInputs::default()
    };
    let g = resolve::GrowthInputs {
        years: Some(Range::point(3.0)),
        demand_growth: Some(Range::new(0.2, 0.3)),
        efficiency_gain: Some(Range::point(0.1)),
        ..resolve::GrowthInputs::default()
    };
    let (r, growth) = resolve::fleet_growth(&cat, &fleet, &g, &site(), 2024).expect("growth");
    let e = wattlens::estimate::growth::run_growth(r, &growth, opts());
    let v = serde_json::to_value(&e).expect("serialises");
    assert_eq!(v["trajectory"]["years"].as_array().map(Vec::len), Some(4));
    let mut errors = Vec::new();
    validate(&schema(), &v, "fleet", &mut errors);
    assert!(errors.is_empty(), "{errors:#?}");
    let back: Report = serde_json::from_value(v.clone()).expect("reads back");
    assert_eq!(back.details, e.details);
    assert_eq!(serde_json::to_value(&back).expect("serialises"), v);
}
