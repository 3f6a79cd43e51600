//! Checkpoint plans against hand computations.

use super::*;
use crate::estimate::resolve::HardwareInputs;
use crate::estimate::site::SiteInputs;
use crate::figure::Figure;
use crate::runner::McOptions;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

/// 466 interruptions in 54 days, 1 min writes, 3 min restarts (the Llama 3 405B run).
fn llama3() -> CheckpointInputs {
    CheckpointInputs {
        interruptions: Some(Range::point(466.0)),
        wall_h: Some(Range::point(54.0 * 24.0)),
        write_h: Some(Range::point(1.0 / 60.0)),
        restart_h: Some(Range::point(3.0 / 60.0)),
        ..CheckpointInputs::default()
    }
}

fn minutes(h: f64) -> f64 {
    h * 60.0
}

#[test]
fn llama3_failures_reproduced() {
    // MTBI = 54 x 24 / 466 = 2.781 h = 166.87 min.
    // Young: sqrt(2 x 1 min x 166.87 min) = 18.27 min.
    // Daly: 18.27 x (1 + sqrt(1/333.7)/3 + 1/(18 x 166.87)) - 1 = 18.27 x 1.01858 - 1 = 17.61 min.
    // Lost at Daly's: checkpoint 1/17.61 = 0.0568, rework (17.61 + 1)/(2 x 166.87) = 0.0558,
    // restart 3/166.87 = 0.0180; 0.1305 in all, 0.1305 x 1,296 h = 169.2 h over the run.
    let p = plan(&Catalog::embedded(), &llama3()).expect("feasible");
    assert!(close(p.mtbi_h, 2.7811, 1e-4), "{}", p.mtbi_h);
    assert!(close(minutes(p.young_h), 18.268, 1e-3));
    assert!(close(minutes(p.daly_h), 17.608, 1e-3));
    assert_eq!(p.method, Method::Daly);
    assert!(close(minutes(p.optimum.interval_h), 17.608, 1e-3));
    let parts = p.optimum.parts;
    assert!(close(parts.checkpoint, 0.05679, 1e-5));
    assert!(close(parts.rework, 0.05576, 1e-5));
    assert!(close(parts.restart, 0.017978, 1e-6));
    assert!(close(p.optimum.lost_fraction(), 0.13053, 1e-5));
    assert!(close(p.lost_h().expect("wall known"), 169.16, 0.01));
    // The seed scenario's published ranges.
    assert!((2.6..=3.0).contains(&p.mtbi_h));
    assert!((14.0..=21.0).contains(&minutes(p.optimum.interval_h)));
    assert!((0.05..=0.20).contains(&p.optimum.lost_fraction()));
}

#[test]
fn young_is_the_first_order_optimum() {
    // At Young's 18.27 min: 1/18.27 + 19.27/333.7 + 3/166.87 = 0.05474 + 0.05774 + 0.01798
    // = 0.13045, a little less than Daly's 0.13053 (Young minimises this first-order sum).
    let p = plan(
        &Catalog::embedded(),
        &CheckpointInputs {
            method: Method::Young,
            ..llama3()
        },
    )
    .expect("feasible");
    assert!(close(minutes(p.optimum.interval_h), 18.268, 1e-3));
    assert!(close(p.optimum.lost_fraction(), 0.13045, 1e-5));
    // Every interval of the sweep loses more than the optimum.
    for r in p.sweep.iter().filter(|r| r.factor != 1.0) {
        assert!(r.lost_fraction() > p.optimum.lost_fraction(), "{r:?}");
    }
}

#[test]
fn the_training_estimate_and_the_plan_share_one_model() {
    let p = plan(&Catalog::embedded(), &llama3()).expect("feasible");
    let o = failures::given_wall(
        54.0 * 24.0,
        failures::Rate::Count(466.0),
        1.0 / 60.0,
        3.0 / 60.0,
        None,
    )
    .expect("feasible");
    assert_eq!(o.interval_h, p.optimum.interval_h);
    assert_eq!(o.lost_fraction, p.optimum.lost_fraction());
}

#[test]
fn a_longer_checkpoint_lengthens_the_interval() {
    // d = 2 min: Young sqrt(2 x 2 x 166.87) = 25.84 min, Daly 24.52 min (from 18.27 and 17.61).
    let p = plan(
        &Catalog::embedded(),
        &CheckpointInputs {
            write_h: Some(Range::point(2.0 / 60.0)),
            ..llama3()
        },
    )
    .expect("feasible");
    assert!(close(minutes(p.young_h), 25.835, 1e-3));
    assert!(close(minutes(p.daly_h), 24.519, 1e-3));
}

#[test]
fn more_failures_lose_more_time() {
    // 932 interruptions: M = 83.43 min; Young's interval sqrt(2 x 83.43) = 12.92 min; lost
    // 1/12.92 + 13.92/166.87 + 3/83.43 = 0.0774 + 0.0834 + 0.0360 = 0.1968 (from 0.1305).
    let p = plan(
        &Catalog::embedded(),
        &CheckpointInputs {
            interruptions: Some(Range::point(932.0)),
            method: Method::Young,
            ..llama3()
        },
    )
    .expect("feasible");
    assert!(close(minutes(p.mtbi_h), 83.433, 1e-3));
    assert!(close(minutes(p.optimum.interval_h), 12.918, 1e-3));
    assert!(close(p.optimum.lost_fraction(), 0.19678, 1e-5));
}

#[test]
fn per_device_rates_times_devices() {
    // 50,000 h per GPU over 16,000 GPUs: M = 3.125 h.
    let p = plan(
        &Catalog::embedded(),
        &CheckpointInputs {
            interruptions: None,
            mtbf_per_device_h: Some(Range::point(50_000.0)),
            devices: Some(Range::point(16_000.0)),
            ..llama3()
        },
    )
    .expect("feasible");
    assert!(close(p.mtbi_h, 3.125, 1e-12));
}

#[test]
fn write_time_from_size_and_bandwidth() {
    // 1,000 GB at 50 GB/s = 20 s.
    let p = plan(
        &Catalog::embedded(),
        &CheckpointInputs {
            write_h: None,
            size_gb: Some(Range::point(1000.0)),
            bandwidth_gb_s: Some(Range::point(50.0)),
            ..llama3()
        },
    )
    .expect("feasible");
    assert!(close(p.write_h * 3600.0, 20.0, 1e-9));
}

#[test]
fn asynchronous_checkpoints_stall_only_for_the_snapshot() {
    // s = 6 s, d = 1 min: Young sqrt(2 x 0.1 x 166.87) = 5.777 min; lost 0.1/5.777 +
    // (5.777 + 0.1 + 2)/333.7 + 3/166.87 = 0.01731 + 0.02360 + 0.01798 = 0.05889.
    let p = plan(
        &Catalog::embedded(),
        &CheckpointInputs {
            asynchronous: true,
            stall_h: Some(Range::point(0.1 / 60.0)),
            method: Method::Young,
            ..llama3()
        },
    )
    .expect("feasible");
    assert!(close(minutes(p.optimum.interval_h), 5.777, 1e-3));
    assert!(close(p.optimum.parts.rework, 0.023603, 1e-6));
    assert!(close(p.optimum.lost_fraction(), 0.058891, 1e-6));
    // With no stall the interval is one write (1 min): rework (1 + 0 + 2)/333.7 = 0.00899.
    let p = plan(
        &Catalog::embedded(),
        &CheckpointInputs {
            asynchronous: true,
            ..llama3()
        },
    )
    .expect("feasible");
    assert!(close(minutes(p.optimum.interval_h), 1.0, 1e-12));
    assert_eq!(p.optimum.parts.checkpoint, 0.0);
    assert!(close(p.optimum.parts.rework, 0.008989, 1e-6));
    assert_eq!(p.notes.len(), 1);
    // Sweep intervals shorter than a write are left out.
    assert!(p.sweep.iter().all(|r| r.interval_h >= p.write_h));
    assert_eq!(p.sweep.first().map(|r| r.factor), Some(1.0));
}

fn fields(e: &EstimateError) -> Vec<Field> {
    match e {
        EstimateError::Invalid { field, .. } => vec![*field],
        EstimateError::Conflict { a, b, .. } => vec![*a, *b],
        EstimateError::Disagree { fields, .. } => fields.clone(),
        EstimateError::Missing(m) => m.fields(),
        _ => Vec::new(),
    }
}

#[test]
fn bad_inputs_name_their_fields() {
    let bad = |i: CheckpointInputs| fields(&plan(&Catalog::embedded(), &i).expect_err("refused"));
    assert_eq!(
        bad(CheckpointInputs {
            interruptions: Some(Range::point(0.0)),
            ..llama3()
        }),
        [Field::Interruptions]
    );
    assert_eq!(
        bad(CheckpointInputs {
            wall_h: Some(Range::point(0.0)),
            ..llama3()
        }),
        [Field::Days]
    );
    assert_eq!(
        bad(CheckpointInputs {
            restart_h: Some(Range::point(-1.0)),
            ..llama3()
        }),
        [Field::RestartMinutes]
    );
    // A 3 h write against an interruption every 2.78 h.
    assert_eq!(
        bad(CheckpointInputs {
            write_h: Some(Range::point(3.0)),
            ..llama3()
        }),
        [Field::CheckpointMinutes, Field::Interruptions, Field::Days]
    );
    assert_eq!(
        bad(CheckpointInputs {
            interruptions: Some(Range::new(400.0, 500.0)),
            ..llama3()
        }),
        [Field::Interruptions]
    );
    assert_eq!(
        bad(CheckpointInputs {
            stall_h: Some(Range::point(0.001)),
            ..llama3()
        }),
        [Field::StallMinutes]
    );
    assert_eq!(
        bad(CheckpointInputs {
            write_h: None,
            size_gb: Some(Range::point(100.0)),
            ..llama3()
        }),
        [Field::StorageBandwidth, Field::CheckpointSize]
    );
    // Restarts of 2.7 h against an interruption every 2.78 h: never finishes.
    let e = plan(
        &Catalog::embedded(),
        &CheckpointInputs {
            restart_h: Some(Range::point(2.7)),
            ..llama3()
        },
    )
    .expect_err("never finishes");
    assert!(e.to_string().contains("never finishes"), "{e}");
}

fn h100s() -> HardwareInputs {
    HardwareInputs {
        gpu: Some("h100".into()),
        ..HardwareInputs::default()
    }
}

fn at_pue_one() -> SiteInputs {
    SiteInputs {
        pue: Some(Range::point(1.0)),
        ..SiteInputs::default()
    }
}

#[test]
fn the_footprint_lost_is_the_runs_times_the_lost_fraction() {
    let cat = Catalog::embedded();
    let p = plan(
        &Catalog::embedded(),
        &CheckpointInputs {
            devices: Some(Range::point(16_000.0)),
            ..llama3()
        },
    )
    .expect("feasible");
    let l = lost(&cat, &p, &h100s(), &at_pue_one(), McOptions::default()).expect("resolves");
    let run = l.run.get(Figure::FacilityEnergy).expect("energy");
    let gone = l.get(Figure::FacilityEnergy).expect("energy");
    // 0.13053 of the run's energy, at every percentile.
    assert!(close(gone.p50 / run.p50, 0.13053, 1e-5));
    assert!(close(gone.p5 / run.p5, 0.13053, 1e-5));
    assert!(l.get(Figure::Carbon).is_some_and(|c| c.p50 > 0.0));
    // Without the devices, or the run's length, nothing to account.
    let p = plan(&Catalog::embedded(), &llama3()).expect("feasible");
    let e = lost(&cat, &p, &h100s(), &at_pue_one(), McOptions::default()).expect_err("no gpus");
    assert_eq!(fields(&e), [Field::Gpus]);
    assert!(has_hardware(&h100s()));
    assert!(!has_hardware(&HardwareInputs::default()));
}

#[test]
fn the_json_names_its_schema_and_parts() {
    let p = plan(&Catalog::embedded(), &llama3()).expect("feasible");
    let v = serde_json::to_value(CheckpointReport::new(p, None)).expect("serialises");
    assert_eq!(v["schema"], "wattlens.plan/v1");
    let parts = ["checkpoint_fraction", "rework_fraction", "restart_fraction"]
        .map(|k| v[k].as_f64().expect(k));
    let total = v["lost_time_fraction"].as_f64().expect("lost");
    assert!(close(parts.iter().sum::<f64>(), total, 1e-15));
    assert!(close(v["mtbi_hours"].as_f64().expect("mtbi"), 2.7811, 1e-4));
    assert_eq!(v["sweep"].as_array().map(Vec::len), Some(SWEEP.len()));
    assert!(v.get("lost_energy_kwh").is_none());
}

#[test]
fn devices_alone_take_the_catalogs_rate_per_device() {
    // 54 x 24 x 16,384 / 419 = 50,677 GPU-hours; over 16,384 GPUs, 3.093 h.
    let p = plan(
        &Catalog::embedded(),
        &CheckpointInputs {
            interruptions: None,
            devices: Some(Range::point(16_384.0)),
            ..llama3()
        },
    )
    .expect("feasible");
    assert!(close(p.mtbi_h, 50_677.0 / 16_384.0, 1e-12));
    assert!(matches!(p.rate, Rate::PerDevice { mtbf_h, .. } if mtbf_h == 50_677.0));
    assert!(
        p.notes[0].to_string().contains("Dubey et al."),
        "{:?}",
        p.notes
    );
    // Neither a rate nor the devices: missing.
    let e = plan(
        &Catalog::embedded(),
        &CheckpointInputs {
            interruptions: None,
            ..llama3()
        },
    )
    .expect_err("no rate");
    assert!(fields(&e).contains(&Field::Interruptions));
}
