//! Benchmarks of the estimate core: a training estimate with its default ranges at 10,000 and
//! 100,000 Monte Carlo samples (catalog already parsed), catalog parsing itself, and the lookup
//! of one row (records split, one row parsed), and the core of `--vary` (20 variants).
//! Run with `cargo bench -p wattlens`; results go in docs/benchmarks.md.

use wattlens::catalog::Catalog;
use wattlens::estimate::resolve::{self, HardwareInputs, TrainInputs};
use wattlens::estimate::run_resolved;
use wattlens::estimate::site::SiteInputs;
use wattlens::runner::McOptions;
use wattlens::uncertainty::Range;

fn main() {
    divan::main();
}

fn inputs() -> TrainInputs {
    TrainInputs {
        params: Some(Range::point(405e9)),
        tokens: Some(Range::point(15.6e12)),
        gpus: Some(Range::point(16_384.0)),
        hw: HardwareInputs {
            gpu: Some("h100".into()),
            ..HardwareInputs::default()
        },
        ..TrainInputs::default()
    }
}

#[divan::bench(args = [10_000, 100_000])]
fn train_estimate(bencher: divan::Bencher, samples: usize) {
    train(bencher, samples, 2);
}

#[divan::bench(args = [100_000])]
fn train_estimate_one_thread(bencher: divan::Bencher, samples: usize) {
    train(bencher, samples, 1);
}

fn train(bencher: divan::Bencher, samples: usize, threads: usize) {
    let cat = Catalog::embedded();
    let site = SiteInputs {
        grid: Some("US".into()),
        ..SiteInputs::default()
    };
    let opts = McOptions {
        samples,
        threads,
        ..McOptions::default()
    };
    // Parse the tables once, outside the timed loop.
    let _ = resolve::train(&cat, &inputs(), &site)
        .map(|r| run_resolved(r, McOptions { samples: 1, ..opts }));
    bencher.bench_local(|| {
        let r = resolve::train(&cat, &inputs(), &site).expect("resolves");
        divan::black_box(run_resolved(r, opts))
    });
}

#[divan::bench]
fn parse_train_tables() {
    let cat = Catalog::embedded();
    let _ = divan::black_box(cat.accelerators().map(|t| t.rows().map(|r| r.len())));
    let _ = divan::black_box(cat.grids().map(|t| t.rows().map(|r| r.len())));
    let _ = divan::black_box(cat.models().map(|t| t.rows().map(|r| r.len())));
}

/// What a command that names one grid pays: the table split into records, one row parsed.
#[divan::bench]
fn lookup_one_grid() {
    let cat = Catalog::embedded();
    let _ = divan::black_box(cat.grids().and_then(|t| t.get("FR").map(|g| g.key.len())));
}

/// P5/P50/P95 of one figure of 100,000 samples (the core reduces about 20 of them).
#[divan::bench]
fn percentiles_of_one_figure(bencher: divan::Bencher) {
    let mut rng = wattlens::uncertainty::Rng::new(1);
    let keys: Vec<u32> = (0..100_000)
        .map(|_| wattlens::uncertainty::order_key32(1e6 * (1.0 + rng.next_f64())))
        .collect();
    bencher
        .with_inputs(|| keys.clone())
        .bench_local_refs(|k| wattlens::uncertainty::percentiles_of_keys32(k));
}

/// The core of `--vary`: a training baseline and 20 variants (accelerator counts), each run at
/// 10,000 samples keeping the samples it is paired on, and the 20 paired changes.
#[divan::bench]
fn vary_20_train_variants(bencher: divan::Bencher) {
    let cat = Catalog::embedded();
    let site = SiteInputs {
        grid: Some("US".into()),
        ..SiteInputs::default()
    };
    let opts = McOptions::default();
    let keep = &wattlens::vary::CHANGE_FIGURES;
    let spec = |gpus: f64| {
        let mut i = inputs();
        i.gpus = Some(Range::point(gpus));
        resolve::train(&cat, &i, &site).expect("resolves")
    };
    let _ = spec(16_384.0);
    bencher.bench_local(|| {
        let (base, kb) = wattlens::estimate::run_resolved_keeping(spec(16_384.0), opts, keep);
        let runs: Vec<_> = (1..=20)
            .map(|k| {
                wattlens::estimate::run_resolved_keeping(spec(1024.0 * f64::from(k)), opts, keep)
            })
            .collect();
        let kept: Vec<_> = runs.iter().map(|(_, k)| k).collect();
        let changes = wattlens::vary::changes_of(&kb, &kept);
        divan::black_box((base, runs.len(), changes))
    });
}
