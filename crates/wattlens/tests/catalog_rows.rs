//! Random user catalog rows through the same entry points as the CLI (parse the TOML, resolve
//! the inputs, run the estimate): every row is either refused with an error or gives finite
//! figures; none panics. And every embedded row passes the validation user rows get.

use proptest::prelude::*;
use wattlens::catalog::{Catalog, Row, Table, UserCatalog};
use wattlens::estimate::resolve::{
    self, DatacenterInputs, FleetInputs, HardwareInputs, TrainInputs,
};
use wattlens::estimate::site::SiteInputs;
use wattlens::estimate::{run_resolved, EstimateError};
use wattlens::result::Report;
use wattlens::runner::McOptions;
use wattlens::uncertainty::Range;

/// A TOML number, including the values TOML can spell that no field admits.
fn toml_num(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{v:?}")
    }
}

fn edge() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        3 => Just(None),
        3 => (1e-3..1e3f64).prop_map(Some),
        3 => (0..100u32).prop_map(|n| Some(f64::from(n))),
        1 => prop::sample::select(vec![
            0.0,
            -0.0,
            -1.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e-300,
            5e-324,
            1e300,
            f64::MAX,
            0.5,
            1.0,
            2.0,
            8.0,
            72.0,
            120.0,
            700.0,
            1e4,
            1e5,
        ])
        .prop_map(Some),
    ]
}

/// Counts: mostly whole, sometimes an edge value.
fn whole_edge() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        8 => (0..64u32).prop_map(|n| Some(f64::from(n))),
        2 => edge(),
    ]
}

fn fields(names: &[&str], values: &[Option<f64>]) -> String {
    names
        .iter()
        .zip(values)
        .filter_map(|(n, v)| v.map(|v| format!("{n} = {}\n", toml_num(v))))
        .collect()
}

const SERVER: [&str; 8] = [
    "accelerators",
    "max_power_kw",
    "cpu_sockets",
    "cpu_tdp_w",
    "dram_gb",
    "embodied_kgco2e_low",
    "embodied_kgco2e_high",
    "accelerators",
];
const ACCEL: [&str; 6] = [
    "board_power_w",
    "bf16_tflops",
    "memory_gb",
    "mem_bw_gb_s",
    "embodied_kgco2e_low",
    "embodied_kgco2e_high",
];
const DEFAULTS: [&str; 8] = [
    "train.mfu",
    "train.load",
    "fleet.load",
    "host.share",
    "rest.share",
    "site.pue",
    "embodied.service_life_years",
    "server.accelerators",
];

fn finite(e: &Report) -> Result<(), String> {
    for (k, p) in &e.figures {
        if !(p.p5.is_finite() && p.p50.is_finite() && p.p95.is_finite()) {
            return Err(format!("{k} = {p:?}"));
        }
    }
    Ok(())
}

/// Runs every estimate a server row takes part in; `Err` names a non-finite figure.
fn estimates(cat: &Catalog) -> Result<(), String> {
    let opts = McOptions {
        samples: 32,
        threads: 1,
        ..McOptions::default()
    };
    let hw = HardwareInputs {
        server: Some("fuzz".into()),
        ..HardwareInputs::default()
    };
    let site = SiteInputs {
        grid: Some("FR".into()),
        ..SiteInputs::default()
    };
    let check = |r: Result<Report, EstimateError>| match r {
        Ok(e) => finite(&e),
        Err(_) => Ok(()),
    };
    check(
        resolve::fleet(
            cat,
            &FleetInputs {
                servers: Some(Range::point(10.0)),
                hw: hw.clone(),
                ..FleetInputs::default()
            },
            &site,
        )
        .map(|r| run_resolved(r, opts)),
    )?;
    check(
        resolve::datacenter(
            cat,
            &DatacenterInputs {
                servers: Some(Range::point(10.0)),
                hw: hw.clone(),
                ..DatacenterInputs::default()
            },
            &site,
        )
        .map(|r| run_resolved(r, opts)),
    )?;
    check(
        resolve::train(
            cat,
            &TrainInputs {
                params: Some(Range::point(7e9)),
                tokens: Some(Range::point(1e12)),
                gpus: Some(Range::point(8.0)),
                hw,
                ..TrainInputs::default()
            },
            &site,
        )
        .map(|r| run_resolved(r, opts)),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_server_rows_are_refused_or_give_finite_figures(
        mut server in prop::collection::vec(edge(), SERVER.len()),
        counts in (whole_edge(), whole_edge()),
        accel in prop::collection::vec(edge(), ACCEL.len()),
        own_accel in any::<bool>(),
        default in (prop::sample::select(DEFAULTS.to_vec()), edge(), edge()),
    ) {
        (server[0], server[2]) = counts;
        let mut text = format!(
            "[[server]]\nname = \"fuzz\"\naccelerator = \"{}\"\n{}",
            if own_accel { "fuzz-npu" } else { "h100" },
            fields(&SERVER[..7], &server[..7])
        );
        if own_accel {
            text += &format!("[[accelerator]]\nname = \"fuzz-npu\"\n{}", fields(&ACCEL, &accel));
        }
        if let (key, Some(lo), Some(hi)) = default {
            text += &format!("[[default]]\nkey = \"{key}\"\nlow = {}\nhigh = {}\n", toml_num(lo), toml_num(hi));
        }
        let Ok(user) = UserCatalog::parse(&text, "fuzz.toml") else {
            return Ok(());
        };
        let cat = Catalog::with_user(user);
        if let Err(e) = estimates(&cat) {
            prop_assert!(false, "{e} from\n{text}");
        }
    }
}

fn all_valid<T: Row>(t: Result<&Table<T>, wattlens::catalog::CatalogError>) {
    let rows = t
        .expect("table")
        .rows()
        .expect("every embedded row parses and validates");
    for r in rows {
        if let Err(e) = r.validate() {
            panic!("{} {:?}: {} {}", T::FILE, r.name(), e.field, e.message);
        }
    }
}

#[test]
fn every_embedded_row_passes_the_user_row_validation() {
    let c = Catalog::embedded();
    all_valid(c.accelerators());
    all_valid(c.servers());
    all_valid(c.grids());
    all_valid(c.ewif());
    all_valid(c.datacenters());
    all_valid(c.models());
    all_valid(c.equivalents());
    all_valid(c.defaults());
}

#[test]
fn a_zero_power_server_row_is_refused_naming_line_and_field() {
    let text = "[[server]]\nname = \"zero\"\naccelerators = 0\nmax_power_kw = 0\n";
    let e = UserCatalog::parse(text, "zero.toml")
        .expect_err("refused")
        .to_string();
    assert!(
        e.contains("zero.toml") && e.contains("line 4") && e.contains("max_power_kw"),
        "{e}"
    );
}

#[test]
fn a_server_split_of_zero_or_nan_power_is_none_not_a_panic() {
    use wattlens::estimate::power::Split;
    for (server, accel, host) in [
        (0.0, 0.0, 0.0),
        (0.0, 5600.0, 1000.0),
        (f64::NAN, 1.0, 1.0),
        (f64::INFINITY, f64::INFINITY, 0.0),
        (10_200.0, f64::NAN, 0.0),
        (-1.0, 1.0, 1.0),
    ] {
        assert!(
            Split::of_server(server, accel, host).is_none(),
            "{server} {accel} {host}"
        );
    }
    assert!(Split::of_server(10_200.0, 5600.0, 1468.0).is_some());
}
