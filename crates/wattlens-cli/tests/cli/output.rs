//! The output contract of `wattlens estimate`: JSON keys, point inputs, seeds, `--explain`, CSV
//! and Markdown, budgets, grid names, data-centre racks.

use super::*;

#[test]
fn json_follows_the_schema_required_keys() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/schema/footprint-v1.json"),
        )
        .expect("schema file"),
    )
    .expect("schema JSON");
    let v = json(&[
        "estimate",
        "train",
        "--model",
        "llama-3.1-405b",
        "--grid",
        "FR",
    ]);
    assert_eq!(v["schema"], "wattlens.footprint/v1");
    for key in schema["required"].as_array().expect("required") {
        let k = key.as_str().expect("key");
        assert!(!v[k].is_null(), "missing {k}");
    }
    for k in [
        "facility_energy_kwh",
        "it_energy_kwh",
        "carbon_kgco2e",
        "water_l",
        "accelerator_hours",
        "duration_days",
        "facility_power_kw",
        "lost_time_fraction",
        "cost",
    ] {
        let f = &v[k];
        assert!(
            f["p5"].as_f64().expect("p5") <= f["p50"].as_f64().expect("p50"),
            "{k}"
        );
        assert!(
            f["p50"].as_f64().expect("p50") <= f["p95"].as_f64().expect("p95"),
            "{k}"
        );
    }
    // --grid FR: priced at the EU-27 average, in euros (crates/wattlens/data/prices.csv).
    assert_eq!(v["cost"]["currency"], "EUR");
    let comps: Vec<&str> = v["components"]
        .as_array()
        .expect("components")
        .iter()
        .map(|c| c["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(comps, ["accelerator", "host", "server"]);
    // The components add up to the IT energy (P50s of sums differ slightly; compare at P50 within 5%).
    let sum: f64 = v["components"]
        .as_array()
        .expect("c")
        .iter()
        .map(|c| c["energy_kwh"]["p50"].as_f64().expect("e"))
        .sum();
    assert!((sum / p50(&v, "it_energy_kwh") - 1.0).abs() < 0.05, "{sum}");
    // A catalog model with published figures shows them beside the estimate.
    assert!(v["published"].as_array().is_some_and(|p| !p.is_empty()));
    assert!(v["steps"].as_array().is_some_and(|s| s
        .iter()
        .any(|s| s["source"].as_str().is_some_and(|x| x.contains("Kaplan")))));
}

#[test]
fn point_inputs_give_point_outputs_and_seeds_reproduce() {
    let cat = fixture("point-defaults.toml");
    let args = [
        "--catalog",
        cat.to_str().expect("p"),
        "estimate",
        "fleet",
        "--servers",
        "10",
        "--server-power",
        "1kW",
        "--load",
        "1",
        "--pue",
        "1.2",
        "--intensity",
        "400",
        "--wue",
        "0.5",
        "--ewif",
        "2",
        "--price",
        "0.1",
        "--lifetime",
        "4",
    ];
    let v = json(&args);
    let e = &v["facility_energy_kwh"];
    // 10 x 1 kW x 24 h x 1.2 = 288 kWh; x 400 g/kWh = 115.2 kg
    assert_eq!(
        (e["p5"].as_f64(), e["p95"].as_f64()),
        (Some(288.0), Some(288.0))
    );
    assert!((p50(&v, "operational_carbon_kgco2e") - 115.2).abs() < 1e-9);
    assert_eq!(v["samples"], 1);
    let ranged = [
        "estimate",
        "train",
        "--model",
        "llama-3-70b",
        "--gpus",
        "2048",
        "--seed",
        "7",
    ];
    assert_eq!(json(&ranged), json(&ranged));
    let other = json(&[
        "estimate",
        "train",
        "--model",
        "llama-3-70b",
        "--gpus",
        "2048",
        "--seed",
        "8",
    ]);
    assert_ne!(
        json(&ranged)["facility_energy_kwh"],
        other["facility_energy_kwh"]
    );
}

#[test]
fn explain_prints_steps_with_sources_and_assumptions() {
    let o = wattlens(&["estimate", "train", "--model", "gpt-3", "--explain"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", stderr(&o));
    for needle in [
        "steps",
        "C = 6 x N_active x D",
        "E_fac = E_it x PUE",
        "source:",
        "assumptions:",
        // The calibrated prior replaced the headline-MFU default (issue 9).
        "effective_utilisation = 0.139..0.615 [default]",
        "u_eff = effective utilisation (calibrated prior",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
}

#[test]
fn csv_and_markdown_formats() {
    let o = wattlens(&[
        "estimate",
        "fleet",
        "--servers",
        "2",
        "--server",
        "dgx-h100",
        "--format",
        "csv",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.starts_with("kind,figure,p5,p50,p95,method\n"), "{out}");
    assert!(out.contains("fleet,facility_energy_kwh,"));
    let o = wattlens(&[
        "estimate",
        "fleet",
        "--servers",
        "2",
        "--server",
        "dgx-h100",
        "--format",
        "markdown",
    ]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("| facility energy |"));
}

#[test]
fn budgets_exit_one_when_exceeded() {
    let args = [
        "estimate",
        "fleet",
        "--servers",
        "10",
        "--server-power",
        "1kW",
        "--pue",
        "1",
        "--load",
        "1",
        "--intensity",
        "400",
    ];
    let mut over = args.to_vec();
    over.extend(["--max-carbon", "50kg"]);
    let o = wattlens(&over);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("carbon budget exceeded"));
    let mut under = args.to_vec();
    under.extend(["--max-energy", "1MWh"]);
    assert_eq!(wattlens(&under).status.code(), Some(0));
}

#[test]
fn grids_resolve_by_country_region_and_named_grid() {
    for g in [
        "FR",
        "FRA",
        "USA",
        "us",
        "gcp:europe-west1",
        "aws:us-east-1",
        "us-egrid:CAMX",
        "cn-north",
        "azure:westeurope",
    ] {
        let v = json(&[
            "estimate",
            "fleet",
            "--servers",
            "1",
            "--server-power",
            "1kW",
            "--grid",
            g,
        ]);
        assert!(p50(&v, "operational_carbon_kgco2e") > 0.0, "{g}");
    }
    // Market-based is reported only when known, beside location-based.
    let v = json(&[
        "estimate",
        "fleet",
        "--servers",
        "1",
        "--server-power",
        "1kW",
        "--grid",
        "US",
        "--cfe",
        "100%",
    ]);
    assert_eq!(p50(&v, "market_carbon_kgco2e"), 0.0);
    let v = json(&[
        "estimate",
        "fleet",
        "--servers",
        "1",
        "--server-power",
        "1kW",
        "--grid",
        "US",
    ]);
    assert!(v["market_carbon_kgco2e"].is_null());
}

#[test]
fn datacenter_racks_and_cooling() {
    let v = json(&[
        "estimate",
        "datacenter",
        "--it-power",
        "20MW",
        "--rack-power",
        "100kW",
        "--cooling",
        "air",
    ]);
    let names: Vec<&str> = v["rack"]["suitable_cooling"]
        .as_array()
        .expect("suitable")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert!(!names.iter().any(|n| n.contains("Air")), "{names:?}");
    assert!(v["notes"].as_array().is_some_and(|n| n
        .iter()
        .any(|n| n.as_str().is_some_and(|s| s.contains("exceeds")))));
}
