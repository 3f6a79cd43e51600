//! `wattlens catalog`, user catalog files, the config file and shell completions.

use super::*;

#[test]
fn catalog_list_and_show_with_sources() {
    let o = wattlens(&["catalog", "list", "accelerators"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("NVIDIA H100 SXM5 80GB")
            && out.contains("Google TPU v4")
            && out.contains("Ascend"),
        "{out}"
    );
    let o = wattlens(&["catalog", "show", "grids", "us-egrid:CAMX"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("source:") && out.contains("eGRID2022") && out.contains("scope"),
        "{out}"
    );
    let o = wattlens(&["catalog", "show", "defaults", "train.mfu"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("Llama 3"));
    assert_usage_error(
        &["catalog", "show", "accelerators", "h1000"],
        &["unknown accelerator", "did you mean"],
    );
    assert_usage_error(&["catalog", "list", "planets"], &["unknown catalog table"]);
}

#[test]
fn user_catalog_adds_and_overrides_rows() {
    let cat = fixture("user-catalog.toml");
    let cat = cat.to_str().expect("path");
    let v = json(&[
        "--catalog",
        cat,
        "estimate",
        "train",
        "--gpu",
        "npu1",
        "--gpus",
        "8",
        "--days",
        "1",
        "--grid",
        "FR",
        "--pue",
        "1",
    ]);
    assert_eq!(v["accelerator"], "Example NPU 1");
    // The override's 50 g/kWh is used: carbon / facility energy = 0.05 kg/kWh.
    assert!(
        (p50(&v, "operational_carbon_kgco2e") / p50(&v, "facility_energy_kwh") - 0.05).abs() < 1e-6
    );
    let broken = fixture("broken-catalog.toml");
    assert_usage_error(
        &[
            "--catalog",
            broken.to_str().expect("p"),
            "estimate",
            "fleet",
            "--energy",
            "1",
        ],
        &["broken-catalog.toml", "line 4"],
    );
}

#[test]
fn config_file_sets_site_defaults() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let cfg = dir.join("wattlens.toml");
    std::fs::write(
        &cfg,
        "seed = 3\n[site]\npue = \"1.5\"\nintensity = \"100g/kWh\"\n",
    )
    .expect("write");
    let v = json(&[
        "--config",
        cfg.to_str().expect("p"),
        "estimate",
        "fleet",
        "--energy",
        "10kWh",
    ]);
    assert_eq!(p50(&v, "facility_energy_kwh"), 15.0);
    assert_eq!(v["seed"], 3);
    std::fs::write(&cfg, "[site]\npeu = \"1.5\"\n").expect("write");
    assert_usage_error(
        &[
            "--config",
            cfg.to_str().expect("p"),
            "estimate",
            "fleet",
            "--energy",
            "1",
        ],
        &["wattlens.toml", "line 2"],
    );
}

#[test]
fn completions_are_generated() {
    let o = wattlens(&["completions", "bash"]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("wattlens"));
}
