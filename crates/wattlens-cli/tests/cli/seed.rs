//! The published figures of `shared/validation/seed-scenarios.toml` for training, fleets and
//! data centres, reproduced through the CLI; each test names its case.

use super::*;

#[test]
fn seed_llama3_405b_pretraining() {
    let v = json(&[
        "estimate",
        "train",
        "--gpu",
        "h100",
        "--gpus",
        "16000",
        "--days",
        "54",
        "--server",
        "dgx-h100",
        "--power-basis",
        "server",
        "--load",
        "1",
        "--pue",
        "1.1",
    ]);
    assert_in(
        "llama3_405b_pretraining",
        "facility_power_mw",
        p50(&v, "facility_power_kw") / 1e3,
    );
    assert_in(
        "llama3_405b_pretraining",
        "facility_energy_mwh",
        p50(&v, "facility_energy_kwh") / 1e3,
    );
}

#[test]
fn seed_llama3_405b_failures() {
    let v = json(&[
        "estimate",
        "train",
        "--gpu",
        "h100",
        "--gpus",
        "16000",
        "--days",
        "54",
        "--interruptions",
        "466",
        "--checkpoint-minutes",
        "1",
        "--restart-minutes",
        "3",
    ]);
    let c = "llama3_405b_failures";
    assert_in(
        c,
        "mean_time_between_interruptions_hours",
        p50(&v, "mean_time_between_interruptions_hours"),
    );
    assert_in(
        c,
        "optimal_checkpoint_interval_minutes",
        p50(&v, "checkpoint_interval_minutes"),
    );
    assert_in(c, "lost_time_fraction", p50(&v, "lost_time_fraction"));
}

#[test]
fn seed_gpt4_training() {
    let v = json(&[
        "estimate",
        "train",
        "--gpu",
        "a100",
        "--gpus",
        "25000",
        "--days",
        "100",
        "--server-power",
        "6.5kW",
        "--gpus-per-server",
        "8",
        "--load",
        "1",
        "--pue",
        "1",
    ]);
    assert_in(
        "gpt4_training",
        "it_energy_mwh",
        p50(&v, "it_energy_kwh") / 1e3,
    );
}

#[test]
fn seed_gpt4_from_first_principles() {
    let v = json(&[
        "estimate",
        "train",
        "--params",
        "1.7e12",
        "--active-params",
        "2.8e11",
        "--tokens",
        "13e12",
        "--gpu",
        "a100",
        "--gpus",
        "25000",
    ]);
    assert_in(
        "gpt4_from_first_principles",
        "duration_days",
        p50(&v, "duration_days"),
    );
}

#[test]
fn seed_chatgpt_daily_servers() {
    let v = json(&[
        "estimate",
        "fleet",
        "--servers",
        "3617",
        "--server-power",
        "6.5kW",
        "--hours",
        "24",
        "--load",
        "1",
        "--pue",
        "1",
    ]);
    assert_in(
        "chatgpt_daily_servers",
        "it_energy_mwh",
        p50(&v, "it_energy_kwh") / 1e3,
    );
}

#[test]
fn seed_chatgpt_daily_households() {
    let v = json(&[
        "estimate",
        "fleet",
        "--energy",
        "500000kWh",
        "--hours",
        "24",
        "--pue",
        "1",
    ]);
    let homes = v["equivalents"]
        .as_array()
        .expect("equivalents")
        .iter()
        .find(|e| e["name"] == "us_homes")
        .expect("us_homes");
    assert!(
        homes["source"].as_str().is_some_and(|s| s.contains("EIA")),
        "{homes}"
    );
    assert_in(
        "chatgpt_daily_households",
        "us_households_equivalent",
        homes["value"]["p50"].as_f64().expect("p50"),
    );
}

#[test]
fn seed_ai_in_every_google_search() {
    let v = json(&[
        "estimate",
        "fleet",
        "--servers",
        "512821",
        "--server-power",
        "6.5kW",
        "--load",
        "1",
        "--pue",
        "1",
    ]);
    let c = "ai_in_every_google_search";
    assert_in(c, "energy_mwh_per_day", p50(&v, "energy_kwh_per_day") / 1e3);
    assert_in(
        c,
        "energy_twh_per_year",
        p50(&v, "energy_kwh_per_year") / 1e9,
    );
}

#[test]
fn seed_datacenter_breakdown() {
    let v = json(&[
        "estimate",
        "datacenter",
        "--breakdown",
        "it=0.50,cooling=0.40,power=0.10",
        "--it-power",
        "1MW",
    ]);
    assert_in("datacenter_breakdown", "pue", p50(&v, "pue"));
}
