//! The importers against the fixtures in `tests/fixtures/` (README: their sources), by hand.

use super::*;
use crate::grid::EnergyBin;
use jiff::{SignedDuration, Timestamp};

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}
fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}
fn rows(s: &IntensitySeries) -> Vec<(Timestamp, Timestamp, f64)> {
    s.intervals()
        .iter()
        .map(|iv| (iv.start, iv.end, iv.intensity.value()))
        .collect()
}
fn parse(text: &str, o: &ImportOptions) -> Result<IntensitySeries, GridError> {
    parse_series(text.as_bytes(), "d.json", o)
}
fn err(text: &str, o: &ImportOptions) -> String {
    parse(text, o).expect_err("should fail").to_string()
}

#[test]
fn gb_national_reads_forecast_by_default_or_actual() {
    let path = fixture("gb_carbon_intensity_national_2023-01-01.json");
    let f = read_series(&path, &ImportOptions::new()).expect("gb");
    // The NESO file's rows for 2023-01-01 00:00..03:00Z: forecast 73, 63, 71, 76, 72, 66.
    assert_eq!(f.intervals().len(), 6);
    assert_eq!(f.start(), ts("2023-01-01T00:00:00Z"));
    assert_eq!(f.end(), ts("2023-01-01T03:00:00Z"));
    assert_eq!(f.signal(), Signal::Average);
    assert!(f
        .source()
        .ends_with("(GB Carbon Intensity API, national, forecast)"));
    // 1 kW over 00:00..01:00Z: 0.5 x 73 + 0.5 x 63 = 68 g, as from the CSV of the same rows.
    let bin = EnergyBin::constant_power(
        ts("2023-01-01T00:00:00Z"),
        SignedDuration::from_hours(1),
        crate::units::Watts(1000.0),
    );
    assert!((f.carbon(&[bin]).expect("covered").carbon.value() - 68.0).abs() < 1e-9);
    let a = read_series(&path, &ImportOptions::new().with_column("actual")).expect("gb");
    // actual 72, 80: 0.5 x 72 + 0.5 x 80 = 76 g.
    assert!((a.carbon(&[bin]).expect("covered").carbon.value() - 76.0).abs() < 1e-9);
    let given = ImportOptions::new().with_format(SeriesFormat::Gb);
    assert_eq!(read_series(&path, &given).expect("gb"), f);
    let e = read_series(&path, &ImportOptions::new().with_column("index"))
        .expect_err("index is not a series")
        .to_string();
    assert!(
        e.ends_with("no GB national series `index`; choose one of: forecast, actual"),
        "{e}"
    );
}

#[test]
fn gb_regional_by_region_and_by_time_read_the_region_chosen() {
    for file in [
        "gb_carbon_intensity_regional_by_region.json",
        "gb_carbon_intensity_regional_by_time.json",
    ] {
        let path = fixture(file);
        for name in ["13", "London", "ukpn london"] {
            let s = read_series(&path, &ImportOptions::new().with_column(name)).expect(file);
            assert_eq!(
                rows(&s),
                vec![
                    (
                        ts("2023-01-01T00:00:00Z"),
                        ts("2023-01-01T00:30:00Z"),
                        120.0
                    ),
                    (
                        ts("2023-01-01T00:30:00Z"),
                        ts("2023-01-01T01:00:00Z"),
                        100.0
                    )
                ],
                "{file} {name}"
            );
            assert!(s.source().contains("region 13 (London)"), "{}", s.source());
        }
        let e = read_series(&path, &ImportOptions::new())
            .expect_err("two regions")
            .to_string();
        assert!(
            e.contains("2 regions; name one") && e.contains("1 (North Scotland)"),
            "{e}"
        );
        let e = read_series(&path, &ImportOptions::new().with_column("Wales"))
            .expect_err("no Wales")
            .to_string();
        assert!(e.contains("no GB region `Wales`"), "{e}");
    }
}

#[test]
fn watttime_moer_is_marginal_in_g_per_kwh() {
    let path = fixture("watttime_historical_caiso_north.json");
    let s = read_series(&path, &ImportOptions::new()).expect("watttime");
    assert_eq!(s.signal(), Signal::Marginal);
    // 1000 lb/MWh x 0.45359237 = 453.59237 g/kWh; the null at 00:10 is a gap; the last point
    // holds for meta.data_point_period_seconds, 300 s.
    let r = rows(&s);
    assert_eq!(r.len(), 3);
    assert!((r[0].2 - 453.592_37).abs() < 1e-9);
    assert!((r[1].2 - 408.233_133).abs() < 1e-9);
    assert_eq!(r[2].1, ts("2024-03-04T00:20:00Z"));
    assert_eq!(
        s.gaps(),
        vec![(ts("2024-03-04T00:10:00Z"), ts("2024-03-04T00:15:00Z"))]
    );
    let e = read_series(&path, &ImportOptions::new().with_signal(Signal::Average))
        .expect_err("not average")
        .to_string();
    assert!(e.contains("is a marginal signal, not average"), "{e}");
    let pct = r#"{"data":[{"point_time":"2024-03-04T00:00:00+00:00","value":50}],"meta":{"units":"percentile"}}"#;
    assert!(err(pct, &ImportOptions::new()).contains("`meta.units` is `percentile`"));
}

#[test]
fn electricity_maps_history_points_hold_for_the_median_step() {
    let path = fixture("electricitymaps_history_dk-dk1.json");
    let s = read_series(&path, &ImportOptions::new()).expect("em");
    assert_eq!(s.signal(), Signal::Average);
    let r = rows(&s);
    assert_eq!(
        r.iter().map(|x| x.2).collect::<Vec<_>>(),
        [172.0, 176.0, 178.0, 193.0]
    );
    assert_eq!(s.end(), ts("2024-01-01T04:00:00Z"));
    assert!(
        s.source().contains("Electricity Maps DK-DK1 history"),
        "{}",
        s.source()
    );
    let forecast = r#"{"zone":"DE","forecast":[{"carbonIntensity":300,"datetime":"2024-03-04T00:00:00.000Z"},{"carbonIntensity":null,"datetime":"2024-03-04T01:00:00.000Z"},{"carbonIntensity":200,"datetime":"2024-03-04T02:00:00.000Z"}],"updatedAt":"2024-03-03T23:00:00.000Z"}"#;
    let f = parse(forecast, &ImportOptions::new()).expect("forecast");
    assert_eq!(
        f.gaps(),
        vec![(ts("2024-03-04T01:00:00Z"), ts("2024-03-04T02:00:00Z"))]
    );
}

#[test]
fn energinet_records_of_an_area_newest_first_are_read_in_time_order() {
    let path = fixture("energinet_co2emisprog_dk_5min.json");
    let dk1 = read_series(&path, &ImportOptions::new().with_column("dk1")).expect("dk1");
    // The 5-minute file's DK1 values 03:50..04:15Z: 78, 77, 78, 77, 79, 81; the last holds 5 min.
    assert_eq!(
        dk1.intervals()
            .iter()
            .map(|i| i.intensity.value())
            .collect::<Vec<_>>(),
        [78.0, 77.0, 78.0, 77.0, 79.0, 81.0]
    );
    assert_eq!(dk1.start(), ts("2024-03-04T03:50:00Z"));
    assert_eq!(dk1.end(), ts("2024-03-04T04:20:00Z"));
    let e = read_series(&path, &ImportOptions::new())
        .expect_err("two areas")
        .to_string();
    assert!(
        e.ends_with("the records hold 2 price areas; name one; choose one of: DK1, DK2"),
        "{e}"
    );
}

#[test]
fn bad_json_names_the_file_and_record() {
    let o = ImportOptions::new();
    let gb = |a: &str, b: &str| {
        format!(
            r#"{{"data":[{{"from":"2023-01-01T00:00Z","to":"2023-01-01T00:30Z","intensity":{{"forecast":{a}}}}},{{"from":"2023-01-01T00:30Z","to":"2023-01-01T01:00Z","intensity":{{"forecast":{b}}}}}]}}"#
        )
    };
    assert!(parse(&gb("1", "2"), &o).is_ok());
    assert_eq!(
        err(&gb("1", "\"n/a\""), &o),
        "d.json: record data[1].intensity: `forecast` is \"n/a\", not a number; a missing value is `null`"
    );
    assert!(err(&gb("-3", "2"), &o).contains("record data[0].intensity: `forecast` -3 is negative"));
    let em = |t0: &str, t1: &str| {
        format!(
            r#"{{"history":[{{"datetime":"{t0}","carbonIntensity":1}},{{"datetime":"{t1}","carbonIntensity":2}}]}}"#
        )
    };
    let e = err(&em("2024-03-04T01:00:00Z", "2024-03-04T00:00:00Z"), &o);
    assert!(
        e.contains(
            "record history[1]: the time 2024-03-04T00:00:00Z is earlier than record history[0]'s"
        ),
        "{e}"
    );
    let e = err(&em("2024-03-04T01:00:00Z", "2024-03-04T01:00:00Z"), &o);
    assert!(
        e.contains("record history[1]: the time 2024-03-04T01:00:00Z repeats record history[0]"),
        "{e}"
    );
    let e = err(&em("2024-03-04T01:00:00Z", "2024-03-04T03:00:00+01:00"), &o);
    assert!(e.contains("history[1]: `datetime` `2024-03-04T03:00:00+01:00` has the offset +01:00, but record history[0] has +00:00"), "{e}");
    let e = err(&em("2024-03-04T01:00:00Z", "tomorrow"), &o);
    assert!(
        e.starts_with("d.json: record history[1]: cannot read `datetime` `tomorrow` as a time"),
        "{e}"
    );
    let e = err(r#"{"hello":[1]}"#, &o);
    assert!(e.starts_with("d.json: a JSON document of no known shape (an object with keys hello); the formats read are csv, electricitymaps"), "{e}");
    assert!(err("[1,2]", &o).contains("no known shape (an array at the top)"));
    let e = err("{\"history\": [", &o);
    assert!(
        e.starts_with("d.json: line 1, column 13: EOF while parsing"),
        "{e}"
    );
    assert!(err(r#"{"history":[]}"#, &o).contains("holds no records"));
    let e = err("", &ImportOptions::new().with_format(SeriesFormat::Gb));
    assert!(
        e.starts_with("d.json: the file is empty (or only blank)"),
        "{e}"
    );
    assert_eq!(err(" \n\n", &ImportOptions::new()), e);
    let e = err(
        r#"{"data":[{"from":"x"}]}"#,
        &ImportOptions::new().with_format(SeriesFormat::ElectricityMaps),
    );
    assert!(
        e.contains("the electricitymaps format needs a `forecast` array"),
        "{e}"
    );
}

#[test]
fn detection_leaves_csv_to_the_csv_importer() {
    let csv = "timestamp,g_per_kwh\n2024-03-04T00:00:00Z,100\n2024-03-04T01:00:00Z,200\n";
    let a = parse(csv, &ImportOptions::new()).expect("csv");
    let b = parse_csv(csv.as_bytes(), "d.json", &CsvOptions::default()).expect("csv");
    assert_eq!(a, b);
    // Leading blank lines and a byte-order mark before JSON.
    let em = "\u{feff}\n  {\"history\":[{\"datetime\":\"2024-03-04T00:00:00Z\",\"carbonIntensity\":1},{\"datetime\":\"2024-03-04T01:00:00Z\",\"carbonIntensity\":2}]}";
    assert_eq!(
        parse(em, &ImportOptions::new())
            .expect("em")
            .intervals()
            .len(),
        2
    );
    assert_eq!(
        SeriesFormat::parse("WattTime"),
        Some(SeriesFormat::WattTime)
    );
    assert_eq!(SeriesFormat::parse("json"), None);
}

#[test]
fn energinet_csv_downloads_read_with_a_semicolon_and_decimal_commas() {
    // The service's CSV download: `;`, decimal commas, newest first, both price areas.
    let text = "Minutes5UTC;Minutes5DK;PriceArea;CO2Emission\n\
                2024-03-04 04:00;2024-03-04 05:00;DK1;78,5\n\
                2024-03-04 04:00;2024-03-04 05:00;DK2;59,000000\n\
                2024-03-04 03:55;2024-03-04 04:55;DK1;77\n\
                2024-03-04 03:55;2024-03-04 04:55;DK2;59\n";
    let o = ImportOptions::new()
        .with_format(SeriesFormat::Energinet)
        .with_column("DK1");
    let s = parse_series(text.as_bytes(), "eds.csv", &o).expect("reads");
    assert_eq!(
        rows(&s),
        vec![
            (ts("2024-03-04T03:55:00Z"), ts("2024-03-04T04:00:00Z"), 77.0),
            (ts("2024-03-04T04:00:00Z"), ts("2024-03-04T04:05:00Z"), 78.5)
        ]
    );
    // Without the format, the generic CSV importer cannot read it (no `timestamp` column).
    assert!(parse_series(text.as_bytes(), "eds.csv", &ImportOptions::new()).is_err());
    let bad = text.replace("77\n", "n/a\n");
    let e = parse_series(bad.as_bytes(), "eds.csv", &o)
        .expect_err("not a number")
        .to_string();
    assert_eq!(
        e,
        "eds.csv: record line 4: `CO2Emission` is \"n/a\", not a number; a missing value is `null`"
    );
    // The comma-separated form, HourUTC, one area.
    let hourly = "HourUTC,HourDK,PriceArea,CO2Emission\n\
                  2024-01-01T00:00:00,2024-01-01T01:00:00,DK1,172.0\n\
                  2024-01-01T01:00:00,2024-01-01T02:00:00,DK1,175.8\n";
    let s = parse_series(
        hourly.as_bytes(),
        "h.csv",
        &ImportOptions::new().with_format(SeriesFormat::Energinet),
    )
    .expect("reads");
    assert_eq!(s.end(), ts("2024-01-01T02:00:00Z"));
}
