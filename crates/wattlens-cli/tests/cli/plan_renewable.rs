//! `wattlens plan renewable`: the interface the project's checks rely on, figures against hand
//! computation, the battery, the shipped DK forecast, and bad input (exit 2 naming the flag,
//! file and line).

use super::*;

const SUPPLY: &str = "timestamp,kw\n\
    2024-01-01T00:00:00Z,0\n\
    2024-01-01T01:00:00Z,0\n\
    2024-01-01T02:00:00Z,10\n\
    2024-01-01T03:00:00Z,10\n\
    2024-01-01T04:00:00Z,0\n\
    2024-01-01T05:00:00Z,0\n";

const JOBS: &str = "name,duration,power,earliest,deadline\n\
    a,2h,8kW,2024-01-01T00:00:00Z,\n";

fn plan(supply: &str, jobs: &str, extra: &[&str]) -> Value {
    let (s, j) = (temp_file("supply.csv", supply), temp_file("jobs.csv", jobs));
    let mut args = vec![
        "plan",
        "renewable",
        "--supply",
        super::s(&s),
        "--jobs",
        super::s(&j),
    ];
    args.extend_from_slice(extra);
    json(&args)
}

#[test]
fn the_interface_keys_and_a_hand_computed_plan() {
    // Supply 0, 0, 10, 10, 0, 0 kW; other load 2 kW: 0, 0, 8, 8, 0, 0 left. Job a: 2 h at 8 kW
    // x PUE 1, released at 00:00: at release [00, 02) it gets 0 of 16 kWh; scheduled at 02:00
    // all 16 kWh. Grid avoided 16 kWh x 100 g/kWh = 1.6 kg. One job, 5 starts: exhaustive.
    let v = plan(
        SUPPLY,
        JOBS,
        &["--other-load", "2kW", "--pue", "1", "--intensity", "100"],
    );
    assert_eq!(v["schema"], "wattlens.plan/v1");
    assert_eq!(v["renewable_share_before"].as_f64(), Some(0.0));
    assert_eq!(v["renewable_share_after"].as_f64(), Some(1.0));
    assert_eq!(v["grid_energy_avoided_kwh"].as_f64(), Some(16.0));
    assert!((p50(&v, "carbon_avoided_kgco2e") - 1.6).abs() < 1e-12);
    assert!((p50(&v, "grid_carbon_kgco2e_before") - 1.6).abs() < 1e-12);
    assert_eq!(p50(&v, "grid_carbon_kgco2e_after"), 0.0);
    assert_eq!(v["grid_energy_kwh_before"].as_f64(), Some(16.0));
    assert_eq!(v["samples"].as_u64(), Some(1));
    assert_eq!(v["schedule"][0]["name"], "a");
    assert_eq!(
        v["schedule"][0]["slots"][0]["start"],
        "2024-01-01T02:00:00Z"
    );
    assert_eq!(v["schedule"][0]["slots"][0]["end"], "2024-01-01T04:00:00Z");
    assert_eq!(v["method"], "exhaustive");
    assert_eq!(v["exact"], true);
    assert_eq!(v["gap_fraction"].as_f64(), Some(0.0));
}

#[test]
fn a_battery_serves_a_job_that_cannot_move() {
    // Job b: 1 h at 5 kW, window [04:00, 05:00): no supply then. The battery (10 kWh, 0.5 round
    // trip, 4 kW) draws 4 kWh in each of 02:00 and 03:00 (its power limit), holds 4 kWh, gives
    // the job 4 of its 5 kWh: share 0.8 before and after.
    let jobs = "name,duration,power,earliest,deadline\n\
        b,1h,5kW,2024-01-01T04:00:00Z,2024-01-01T05:00:00Z\n";
    let v = plan(
        SUPPLY,
        jobs,
        &[
            "--storage",
            "10kWh",
            "--round-trip",
            "0.5",
            "--storage-power",
            "4kW",
            "--pue",
            "1",
            "--intensity",
            "100",
        ],
    );
    assert_eq!(v["renewable_share_before"].as_f64(), Some(0.8));
    assert_eq!(v["renewable_share_after"].as_f64(), Some(0.8));
    assert_eq!(v["storage"]["charged_kwh"].as_f64(), Some(8.0));
    assert_eq!(v["storage"]["discharged_kwh"].as_f64(), Some(4.0));
    assert_eq!(v["grid_energy_avoided_kwh"].as_f64(), Some(0.0));
}

#[test]
fn the_shipped_dk_wind_forecast_as_a_table() {
    let j = temp_file(
        "jobs.csv",
        "name,duration,power,earliest,deadline\n\
         train,6h,1MW,2024-03-04T00:00:00Z,2024-03-08T00:00:00Z\n",
    );
    let o = wattlens(&[
        "plan",
        "renewable",
        "--supply",
        "dk1-wind-2024",
        "--capacity",
        "2MW",
        "--jobs",
        s(&j),
        "--pue",
        "1.2",
        "--grid",
        "DK",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.contains("renewable share"), "{out}");
    assert!(out.contains("Energinet"), "{out}");
    assert!(out.contains("105 hour(s) with no value"), "{out}");
}

#[test]
fn bad_supply_files_name_the_line() {
    let j = temp_file("jobs.csv", JOBS);
    let cases: [(&str, &[&str]); 5] = [
        (
            "timestamp,kw\n2024-01-01T01:00:00Z,1\n2024-01-01T00:00:00Z,1\n",
            &["--supply", "line 3", "sort the file"],
        ),
        (
            "timestamp,kw\n2024-01-01T00:00:00Z,1\n2024-01-01T00:00:00Z,1\n",
            &["--supply", "line 3", "duplicate timestamp"],
        ),
        (
            "timestamp,kw\n2024-01-01T00:00:00Z,1\n2024-01-01T01:00:00Z,-3\n",
            &["--supply", "line 3", "kw -3 must be a finite number >= 0"],
        ),
        (
            "timestamp,kw\n2024-01-01T00:00:00Z,lots\n2024-01-01T01:00:00Z,1\n",
            &["--supply", "line 2", "is not a number"],
        ),
        ("", &["--supply", "the file is empty"]),
    ];
    for (text, needles) in cases {
        let f = temp_file("supply.csv", text);
        let mut want = needles.to_vec();
        want.push("supply.csv");
        assert_usage_error(
            &["plan", "renewable", "--supply", s(&f), "--jobs", s(&j)],
            &want,
        );
    }
}

#[test]
fn bad_jobs_and_flags_are_refused() {
    let f = temp_file("supply.csv", SUPPLY);
    let job = |row: &str| {
        temp_file(
            "jobs.csv",
            &format!("name,duration,power,earliest,deadline\n{row}\n"),
        )
    };
    let run = |j: &TempFile, extra: &[&str], needles: &[&str]| {
        let mut a = vec!["plan", "renewable", "--supply", s(&f), "--jobs", s(j)];
        a.extend_from_slice(extra);
        assert_usage_error(&a, needles);
    };
    let long = job("x,3h,1kW,2024-01-01T00:00:00Z,2024-01-01T02:00:00Z");
    run(
        &long,
        &[],
        &["jobs.csv", "line 2 (job x)", "longer than its window"],
    );
    let huge = job("x,7h,1kW,,");
    run(&huge, &[], &["line 2 (job x)", "longer than the supply"]);
    let back = job("x,1h,1kW,2024-01-01T03:00:00Z,2024-01-01T02:00:00Z");
    run(
        &back,
        &[],
        &["line 2 (job x)", "at or before its earliest start"],
    );
    let ranged = job("x,1h,1kW..2kW,,");
    run(&ranged, &[], &["jobs.csv", "line 2", "a single value"]);
    let early = job("x,1h,1kW,2023-12-31T23:00:00Z,");
    run(&early, &[], &["line 2 (job x)", "before the supply starts"]);
    let ok = job("x,1h,1kW,,");
    run(
        &ok,
        &["--storage", "10kWh", "--round-trip", "1.5"],
        &["--round-trip", "outside (0, 1]"],
    );
    run(
        &ok,
        &["--storage", "10kWh", "--round-trip", "0"],
        &["--round-trip", "outside (0, 1]"],
    );
    run(
        &ok,
        &["--storage=-5kWh", "--round-trip", "0.9"],
        &["--storage", "-5kWh"],
    );
    // Another grid: an other load starting later than the supply is refused (a different
    // step is resampled instead).
    let other = temp_file(
        "other.csv",
        "timestamp,kw\n2024-01-01T02:00:00Z,1\n2024-01-01T03:00:00Z,1\n",
    );
    run(
        &ok,
        &["--other-load", s(&other)],
        &["--other-load", "other.csv", "not the whole supply"],
    );
    let dk = |extra: &[&str], needles: &[&str]| {
        let mut a = vec![
            "plan",
            "renewable",
            "--supply",
            "dk1-wind-2024",
            "--jobs",
            s(&ok),
        ];
        a.extend_from_slice(extra);
        assert_usage_error(&a, needles);
    };
    dk(&["--capacity=-2MW"], &["--capacity", "-2MW"]);
    dk(&[], &["needs --capacity"]);
    assert_usage_error(
        &[
            "plan",
            "renewable",
            "--supply",
            "dk9-wind",
            "--jobs",
            s(&ok),
        ],
        &["neither a file nor a shipped forecast", "dk1-wind-2024"],
    );
}

#[test]
fn the_readme_example_runs() {
    // The README's example: the shipped DK1 wind at a 3 MW peak, 1 MW other load, the four jobs
    // of the fixture, the DK1 2024 intensity series. Scheduling never loses on-site energy, and
    // the result lies between the baseline and the bound.
    let v = json(&[
        "plan",
        "renewable",
        "--supply",
        "dk1-wind-2024",
        "--capacity",
        "3MW",
        "--other-load",
        "1MW",
        "--jobs",
        s(&fixture("renewable_jobs.csv")),
        "--series",
        "dk1-2024",
        "--pue",
        "1.2",
    ]);
    let (before, after, bound) = (
        v["renewable_share_before"].as_f64().expect("before"),
        v["renewable_share_after"].as_f64().expect("after"),
        v["upper_bound_share"].as_f64().expect("bound"),
    );
    assert!(before <= after && after <= bound && bound <= 1.0, "{v}");
    let names: Vec<&str> = v["schedule"]
        .as_array()
        .expect("schedule")
        .iter()
        .map(|j| j["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["train-a", "train-b", "eval", "batch"]);
    assert_eq!(v["signal"], "average");
    assert!(v["carbon_basis"]
        .as_str()
        .expect("basis")
        .starts_with("dk1-2024"));
}

#[test]
fn a_release_between_supply_steps_is_kept() {
    // Supply 50, 100, 0 kW hourly from 00:00; a 1 h job of 100 kW released 01:30: the cell is
    // 30 min and the job starts 01:30, half its hour on the 100 kW step: 50 kWh of 100 on
    // site (50%). A deadline of 02:30 (a window exactly 1 h long) gives the same plan.
    let supply = "timestamp,kw\n2024-03-04T00:00:00Z,50\n2024-03-04T01:00:00Z,100\n\
                  2024-03-04T02:00:00Z,0\n";
    for deadline in ["2024-03-04T03:00:00Z", "2024-03-04T02:30:00Z"] {
        let jobs = format!(
            "name,duration,power,earliest,deadline\na,1h,100kW,2024-03-04T01:30:00Z,{deadline}\n"
        );
        let v = plan(supply, &jobs, &["--pue", "1", "--intensity", "100"]);
        assert_eq!(
            v["schedule"][0]["slots"][0]["start"],
            "2024-03-04T01:30:00Z"
        );
        assert!(
            (v["on_site_kwh_after"].as_f64().expect("kWh") - 50.0).abs() < 1e-9,
            "{v}"
        );
        assert!((v["renewable_share_after"].as_f64().expect("share") - 0.5).abs() < 1e-12);
        assert_eq!(v["exact"], true);
    }
}

#[test]
fn ambiguous_jobs_and_intensities_are_refused() {
    let f = temp_file("supply.csv", SUPPLY);
    let run = |rows: &str, extra: &[&str], needles: &[&str]| {
        let j = temp_file(
            "jobs.csv",
            &format!("name,duration,power,earliest,deadline\n{rows}"),
        );
        let mut a = vec!["plan", "renewable", "--supply", s(&f), "--jobs", s(&j)];
        a.extend_from_slice(extra);
        assert_usage_error(&a, needles);
    };
    // A bare power: W or kW? Refused, as plan window --jobs does.
    run(
        "a,1h,100,,\n",
        &[],
        &["jobs.csv", "line 2", "give a unit: 100kW"],
    );
    run("a,1h,1e30kW,,\n", &[], &["line 2", "power", "100 GW"]);
    run("a,1h,infkW,,\n", &[], &["line 2", "power"]);
    run(
        "a,1h,1kW,,\nb,1h,1kW,,\na,2h,1kW,,\n",
        &[],
        &["line 4", "\"a\"", "also on line 2"],
    );
    // --series gives the intensity: --intensity or --grid beside it would be ignored.
    for flag in ["--intensity", "--grid"] {
        let value = if flag == "--grid" { "FR" } else { "100" };
        run(
            "a,1h,1kW,,\n",
            &[flag, value, "--series", "dk1-2024"],
            &[flag, "--series", "both"],
        );
    }
    let j = temp_file(
        "jobs.csv",
        "name,duration,power,earliest,deadline\na,1h,100,,\n",
    );
    assert_usage_error(
        &["plan", "window", "--series", "dk1-2024", "--jobs", s(&j)],
        &["jobs.csv", "line 2", "give a unit: 100kW"],
    );
}
