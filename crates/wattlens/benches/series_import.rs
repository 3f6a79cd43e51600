//! Benchmark of the series importer (issue 10): one year of 5-minute data (105,120 points)
//! tiled from the shipped Energinet DK1 5-minute weeks (`dk1-2024-03-5min`), read from CSV
//! text (`parse_csv`) and from a file through format detection (`read_series`). Target: under
//! 50 ms. Run with `cargo bench -p wattlens --bench series_import`; results in
//! docs/benchmarks.md.

use jiff::{SignedDuration, Timestamp};
use wattlens::grid::shipped::shipped;
use wattlens::grid::{parse_csv, read_series, CsvOptions, ImportOptions};

fn main() {
    divan::main();
}

/// Points in a (non-leap) year of 5-minute data.
const POINTS: usize = 365 * 24 * 12;

/// `timestamp,g_per_kwh` for [`POINTS`] 5-minute steps from 2023-01-01T00:00Z, the values the
/// shipped DK1 weeks' in turn.
fn year_csv() -> String {
    let text = shipped("dk1-2024-03-5min").map_or("", |s| s.text());
    let values: Vec<&str> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(1))
        .collect();
    assert!(!values.is_empty(), "the shipped 5-minute file is empty");
    let start: Timestamp = "2023-01-01T00:00:00Z".parse().expect("timestamp");
    let mut out = String::with_capacity(POINTS * 28);
    out.push_str("timestamp,g_per_kwh\n");
    for i in 0..POINTS {
        let t = start + SignedDuration::from_mins(5 * i as i64);
        out.push_str(&format!("{t},{}\n", values[i % values.len()]));
    }
    out
}

#[divan::bench(sample_count = 20)]
fn csv_year_of_5_minutes(bencher: divan::Bencher) {
    let csv = year_csv();
    bencher.bench(|| {
        let s = parse_csv(csv.as_bytes(), "year.csv", &CsvOptions::default()).expect("reads");
        assert_eq!(s.intervals().len(), POINTS);
        s
    });
}

#[divan::bench(sample_count = 20)]
fn file_year_of_5_minutes_detected(bencher: divan::Bencher) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("year.csv");
    std::fs::write(&path, year_csv()).expect("write");
    bencher.bench(|| {
        let s = read_series(&path, &ImportOptions::new()).expect("reads");
        assert_eq!(s.intervals().len(), POINTS);
        s
    });
}
