//! Levers of issue 12 through the binary: `--power-cap` on `estimate train` and `estimate
//! infer` (time and energy from the measured curve, each against a hand computation), and
//! `estimate infer --device` (a model on a phone, laptop or edge board), with bad input refused
//! with exit code 2.

use super::{assert_usage_error, json, notes, p50, stdout};
use serde_json::Value;

/// The energy of a named component (`accelerators`, `host CPU and memory`), kWh, P50.
fn component(v: &Value, name: &str) -> f64 {
    v["components"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == name))
        .and_then(|c| c["energy_kwh"]["p50"].as_f64())
        .unwrap_or_else(|| panic!("no component {name} in {v}"))
}

/// 8 B x 1 T tokens on 64 H100s at load 0.6, central values only.
fn train(extra: &[&str]) -> Value {
    train_at("60%", extra)
}

/// [`train`] at another load.
fn train_at(load: &str, extra: &[&str]) -> Value {
    let mut a = vec![
        "estimate",
        "train",
        "--params",
        "8B",
        "--tokens",
        "1T",
        "--gpus",
        "64",
        "--gpu",
        "h100",
        "--load",
        load,
        "--samples",
        "1",
    ];
    a.extend_from_slice(extra);
    json(&a)
}

#[test]
fn a_60_percent_cap_lengthens_training_and_cuts_accelerator_energy() {
    let (free, capped) = (
        train(&["--mfu", "0.4"]),
        train(&["--mfu", "0.4", "--power-cap", "60%"]),
    );
    // The compute-bound curve at 60% of board power (Zeus's V100 sweep): time x 1.15..1.32,
    // central 1.235; energy x 0.74..0.87, central 0.805.
    let t = p50(&capped, "duration_days") / p50(&free, "duration_days");
    assert!((t - 1.235).abs() < 1e-9, "{t}");
    // Accelerator power 700 W x 0.6 = 420 W, x X / T = 0.805 / 1.235 -> 274 W (under the cap's
    // 420 W), for 1.235x as long: accelerator energy x 0.805.
    let x = component(&capped, "accelerators") / component(&free, "accelerators");
    assert!((x - 0.805).abs() < 1e-9, "{x}");
    // Host and rest keep their power and run 1.235x as long.
    let h = component(&capped, "host CPU and memory") / component(&free, "host CPU and memory");
    assert!((h - 1.235).abs() < 1e-9, "{h}");
    // The output names the curve and its source.
    let n = notes(&capped);
    assert!(
        n.contains("compute-bound curve, the measured point compute-60") && n.contains("Zeus"),
        "{n}"
    );
    // The same cap in watts: 420 W of the H100's 700 W.
    let watts = train(&["--mfu", "0.4", "--power-cap", "420W"]);
    assert_eq!(p50(&watts, "it_energy_kwh"), p50(&capped, "it_energy_kwh"));
}

#[test]
fn the_cap_never_lets_power_above_itself() {
    // Load 1.0: 700 W x 0.805 / 1.235 = 456 W is above a 60% cap's 420 W, so 420 W it is:
    // accelerator energy x 420 x 1.235 / 700 = 0.741.
    let free = train_at("1", &["--mfu", "0.4"]);
    let capped = train_at("1", &["--mfu", "0.4", "--power-cap", "60%"]);
    let x = component(&capped, "accelerators") / component(&free, "accelerators");
    assert!((x - 420.0 * 1.235 / 700.0).abs() < 1e-9, "{x}");
}

#[test]
fn with_the_days_fixed_the_cap_lowers_power_and_the_work_that_fits() {
    let (free, capped) = (
        train(&["--days", "10"]),
        train(&["--days", "10", "--power-cap", "60%"]),
    );
    assert_eq!(p50(&capped, "duration_days"), p50(&free, "duration_days"));
    // Same time, power x X / T = 0.805 / 1.235 = 0.6518.
    let x = component(&capped, "accelerators") / component(&free, "accelerators");
    assert!((x - 0.805 / 1.235).abs() < 1e-9, "{x}");
    let n = notes(&capped);
    assert!(n.contains("the work done in that time"), "{n}");
    // 1 / 1.32 = 0.758 .. 1 / 1.15 = 0.870
    assert!(n.contains("x0.758..0.87"), "{n}");
}

#[test]
fn a_cap_at_full_power_changes_nothing_and_a_compute_bound_batch_slows() {
    let base = [
        "estimate",
        "infer",
        "--model",
        "llama-3.1-8b",
        "--gpu",
        "h100",
        "--input-tokens",
        "1000",
        "--output-tokens",
        "200",
        "--samples",
        "1",
    ];
    let run = |extra: &[&str]| {
        let mut a = base.to_vec();
        a.extend_from_slice(extra);
        json(&a)
    };
    let free = run(&["--batch", "256"]);
    let full = run(&["--batch", "256", "--power-cap", "100%"]);
    assert_eq!(
        p50(&full, "energy_wh_per_request"),
        p50(&free, "energy_wh_per_request")
    );
    // At batch 256 decode is mostly compute and per-sequence work: a 60% cap slows each token
    // and lowers the accelerator energy per token (T and X between the memory-bound curve's
    // 1 and the compute-bound curve's 1.235 and 0.805, by the step's activity).
    let capped = run(&["--batch", "256", "--power-cap", "60%"]);
    let tpot = p50(&capped, "time_per_output_token_ms") / p50(&free, "time_per_output_token_ms");
    assert!(tpot > 1.0 && tpot <= 1.235 + 1e-9, "{tpot}");
    let e = p50(&capped, "accelerator_energy_j_per_token")
        / p50(&free, "accelerator_energy_j_per_token");
    assert!((0.6..1.0).contains(&e), "{e}");
}

#[test]
fn caps_outside_the_measured_curve_are_refused() {
    let t = [
        "estimate", "train", "--params", "8B", "--tokens", "1T", "--gpus", "8", "--gpu", "h100",
    ];
    let with = |cap: &str| {
        let mut a = t.to_vec();
        a.extend_from_slice(&["--power-cap", cap]);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let check = |cap: &str, needles: &[&str]| {
        let a = with(cap);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        assert_usage_error(&a, needles);
    };
    check(
        "30%",
        &["--power-cap", "below the lowest measured cap", "40%"],
    );
    check("800W", &["--power-cap", "above the board power"]);
    // Just above: enough digits that the share reads above 100%.
    check(
        "701W",
        &["--power-cap", "100.1% of board power (701 W of 700 W)"],
    );
    check("60%..70%", &["--power-cap", "one setting"]);
    check("fast", &["--power-cap"]);
    assert_usage_error(
        &[
            "estimate",
            "infer",
            "--params",
            "8B",
            "--gpu",
            "h100",
            "--power-cap",
            "40%",
        ],
        &["--power-cap", "below the lowest measured cap"],
    );
}

/// A 3 B model in int4 on a device, one prompt token, 100 output tokens, MBU 0.5.
fn on_device(device: &str, extra: &[&str]) -> Value {
    let mut a = vec![
        "estimate",
        "infer",
        "--device",
        device,
        "--params",
        "3B",
        "--precision",
        "int4",
        "--input-tokens",
        "1",
        "--output-tokens",
        "100",
        "--mbu",
        "0.5",
        "--grid",
        "FR",
        "--samples",
        "1",
    ];
    a.extend_from_slice(extra);
    json(&a)
}

#[test]
fn a_3b_int4_model_on_a_phone() {
    let v = on_device("iphone-15-pro", &[]);
    // 3e9 x 0.5 B = 1.5 GB streamed a token at 51.2 GB/s x 0.5, plus the inferred shape's KV
    // cache of the mean context 51 tokens (25.77 layers x 1,052.9 values x 2 B x 51 = 2.77 MB,
    // docs/models.md 7.1): (1.5e9 + 2.767e6) / 25.6e9 = 58.70 ms.
    let step = (1.5e9 + 51.0 * 25.767_47 * 1_052.943_7 * 2.0) / 25.6e9;
    let ms = p50(&v, "time_per_output_token_ms");
    assert!((ms - step * 1e3).abs() < 1e-5, "{ms}");
    // 1 prompt token (58.59375 ms) + 100 steps = 5.929 s at 6 W (4..8 W) = 35.57 J.
    let t = 0.058_593_75 + 100.0 * step;
    let j = 6.0 * t;
    let rel = |a: f64, b: f64| (a / b - 1.0).abs() < 1e-5;
    assert!(rel(p50(&v, "it_energy_kwh"), j / 3.6e6));
    // Wall: x 1 / wired charger efficiency, central (1/0.80 + 1/0.72) / 2 = 1.3194.
    let wall = j / 3.6e6 * (1.0 / 0.8 + 1.0 / 0.72) / 2.0;
    assert!(rel(p50(&v, "facility_energy_kwh"), wall));
    // Embodied 54 kg x 5.929 s / (3.5 years x 8760 h x 3600 s) = 2.901 mg.
    let emb = 54.0 * t / (3.5 * 8760.0 * 3600.0);
    assert!(rel(p50(&v, "embodied_carbon_kgco2e"), emb));
    assert_eq!(p50(&v, "onsite_water_l"), 0.0);
    assert_eq!(v["accelerator"], "Apple iPhone 15 Pro (on-device)");
    assert!(notes(&v).contains("on-device"));
    // The table says it too.
    let text = stdout(&[
        "estimate",
        "infer",
        "--device",
        "iphone-15-pro",
        "--params",
        "3B",
        "--precision",
        "int4",
    ]);
    assert!(
        text.contains("on Apple iPhone 15 Pro (on-device)"),
        "{text}"
    );
}

#[test]
fn wireless_charging_takes_more_from_the_wall() {
    let wired = on_device("pixel-8", &[]);
    let wireless = on_device("pixel-8", &["--charger", "wireless"]);
    assert_eq!(
        p50(&wired, "it_energy_kwh"),
        p50(&wireless, "it_energy_kwh")
    );
    // (1/0.51 + 1/0.56) / 2 = 1.8733 against (1/0.80 + 1/0.72) / 2 = 1.3194: 1.42x.
    let r = p50(&wireless, "facility_energy_kwh") / p50(&wired, "facility_energy_kwh");
    assert!((r - 1.8733 / 1.3194).abs() < 1e-3, "{r}");
    // The Pixel publishes no NPU peak: the default is used and said.
    assert!(notes(&wired).contains("publishes no INT8 or FP16 peak"));
}

#[test]
fn a_laptop_and_an_edge_board_run_faster_than_a_phone() {
    let phone = on_device("iphone-15-pro", &[]);
    for d in ["macbook-air-m3", "jetson-agx-orin"] {
        let v = on_device(d, &[]);
        assert!(
            p50(&v, "time_per_output_token_ms") < p50(&phone, "time_per_output_token_ms"),
            "{d}"
        );
    }
}

#[test]
fn device_with_data_centre_inputs_is_refused() {
    let base = [
        "estimate",
        "infer",
        "--device",
        "iphone-15-pro",
        "--params",
        "3B",
    ];
    for (flag, value) in [
        ("--gpu", "h100"),
        ("--gpus", "2"),
        ("--server", "dgx-h100"),
        ("--datacenter", "google"),
        ("--pue", "1.2"),
        ("--power-cap", "70%"),
    ] {
        let mut a = base.to_vec();
        a.extend_from_slice(&[flag, value]);
        assert_usage_error(&a, &["--device", flag, "cannot be used together"]);
    }
    assert_usage_error(
        &[
            "estimate",
            "infer",
            "--device",
            "iphone-99",
            "--params",
            "3B",
        ],
        &["--device", "catalog list devices"],
    );
    assert_usage_error(
        &[
            "estimate",
            "infer",
            "--device",
            "iphone-15-pro",
            "--params",
            "70B",
            "--precision",
            "int4",
        ],
        &["--device", "does not fit"],
    );
    assert_usage_error(
        &[
            "estimate",
            "infer",
            "--device",
            "macbook-air-m3",
            "--params",
            "3B",
            "--charger",
            "wireless",
        ],
        &["--charger", "no wireless charging"],
    );
    assert_usage_error(
        &[
            "estimate",
            "infer",
            "--params",
            "3B",
            "--gpu",
            "h100",
            "--charger",
            "wired",
        ],
        &["--charger", "--device"],
    );
}

#[test]
fn the_catalog_lists_devices_and_power_cap_points_with_sources() {
    let list = stdout(&["catalog", "list"]);
    assert!(
        list.contains("devices") && list.contains("power-caps"),
        "{list}"
    );
    let d = stdout(&["catalog", "list", "devices"]);
    for k in [
        "iphone-15-pro",
        "pixel-8",
        "macbook-air-m3",
        "jetson-agx-orin",
    ] {
        assert!(d.contains(k), "{d}");
    }
    let show = stdout(&["catalog", "show", "devices", "iphone-15-pro"]);
    assert!(
        show.contains("embodied_source") && show.contains("source: Apple"),
        "{show}"
    );
    let p = stdout(&["catalog", "show", "power-caps", "compute-60"]);
    assert!(p.contains("McDonald") && p.contains("2022"), "{p}");
}

/// A hostile tester's case: without `--mfu` the length comes from the calibrated effective
/// utilisation, and a cap there lowered the power without stretching the run (facility energy
/// 10% low, exit 0). Now the billed time is x T too: at 60% (central T 1.235, X 0.805) the run
/// is 1.235x as long, the host 1.235x, the accelerators x 0.805 (274 W under the 420 W cap).
#[test]
fn a_cap_stretches_a_run_whose_length_comes_from_the_effective_utilisation() {
    let (free, capped) = (train(&[]), train(&["--power-cap", "60%"]));
    let t = p50(&capped, "duration_days") / p50(&free, "duration_days");
    assert!((t - 1.235).abs() < 1e-9, "{t}");
    let h = component(&capped, "host CPU and memory") / component(&free, "host CPU and memory");
    assert!((h - 1.235).abs() < 1e-9, "{h}");
    let x = component(&capped, "accelerators") / component(&free, "accelerators");
    assert!((x - 0.805).abs() < 1e-9, "{x}");
}
