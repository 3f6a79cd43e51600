//! A trace's devices: declared once, read once per poll, and a counter never above its maximum.

use super::tests::{error_of, line, read_text, HEAD};
use crate::source::Value;

const HEAD_V2: &str =
    "{\"schema\":\"wattlens.trace/v2\",\"started_unix_s\":1.0,\"interval_s\":1.0}\n";

fn declare(d: u32, device: &str) -> String {
    format!("{{\"declare\":{d},\"source\":\"rapl\",\"device\":\"{device}\"}}\n")
}

fn counter(t: f64, d: u32, uj: u64, max: u64) -> String {
    format!("{{\"t\":{t:?},\"d\":{d},\"kind\":\"counter\",\"part\":\"cpu\",\"energy_uj\":{uj},\"max_uj\":{max}}}\n")
}

fn counter_v1(t: f64, uj: u64, max: u64) -> String {
    format!("{{\"t\":{t:?},\"source\":\"rapl\",\"device\":\"package-0\",\"kind\":\"counter\",\"part\":\"cpu\",\"energy_uj\":{uj},\"max_uj\":{max}}}\n")
}

fn tree(t: f64, consumer: u32) -> String {
    let cpu_s = f64::from(consumer + 1) * (t + 1.0);
    format!("{{\"t\":{t:?},\"source\":\"procfs\",\"device\":\"tree\",\"kind\":\"tree\",\"cpu_s\":{cpu_s:?},\"rss_gb\":0.1,\"pids\":1,\"consumer\":{consumer}}}\n")
}

#[test]
fn a_device_declared_twice_is_refused_naming_both_indexes() {
    let e = error_of(&format!(
        "{HEAD_V2}{}{}{}{}",
        declare(0, "package-0"),
        declare(1, "package-0"),
        counter(0.0, 0, 1, 1000),
        counter(0.0, 1, 5, 1000)
    ));
    assert!(
        e.contains("t.jsonl:3: device rapl/package-0 is declared twice (indexes 0 and 1)"),
        "{e}"
    );
    // Two devices of one source, or one name in two sources, are distinct.
    let t = read_text(&format!(
        "{HEAD_V2}{}{}{{\"declare\":2,\"source\":\"hwmon\",\"device\":\"package-0\"}}\n{}{}",
        declare(0, "package-0"),
        declare(1, "package-0/dram"),
        counter(0.0, 0, 1, 1000),
        counter(0.0, 1, 5, 1000)
    ))
    .expect("reads");
    assert_eq!(t.polls[0].readings.len(), 2);
}

#[test]
fn two_readings_of_one_device_in_one_poll_are_refused_naming_the_line() {
    let e = error_of(&format!(
        "{HEAD_V2}{}{}{}{}",
        declare(0, "package-0"),
        counter(0.0, 0, 1, 1000),
        counter(1.0, 0, 2, 1000),
        counter(1.0, 0, 3, 1000)
    ));
    assert!(
        e.contains("t.jsonl:5: a second reading of rapl/package-0 at t = 1"),
        "{e}"
    );
    let e = error_of(&format!(
        "{HEAD}{}{}{}",
        line(0.0, 10.0),
        line(0.0, 20.0),
        line(1.0, 10.0)
    ));
    assert!(
        e.contains("t.jsonl:3: a second reading of nvml/gpu0 at t = 0"),
        "{e}"
    );
    // The next poll reads it again: fine. Two watched trees are two devices of one name, each
    // with its own CPU time (the second's is below the first's, and its own never decreases).
    let t = read_text(&format!(
        "{HEAD}{}{}{}{}{}{}{}",
        line(0.0, 10.0),
        tree(0.0, 1),
        tree(0.0, 0),
        line(1.0, 10.0),
        tree(1.0, 1),
        tree(1.0, 0),
        line(2.0, 10.0)
    ))
    .expect("reads");
    assert_eq!(t.polls.len(), 3);
    assert_eq!(t.polls[1].readings.len(), 3);
}

#[test]
fn a_counter_above_its_maximum_is_refused_naming_the_line() {
    let e = error_of(&format!(
        "{HEAD}{}{}",
        counter_v1(0.0, 1, 5),
        counter_v1(1.0, 10, 5)
    ));
    assert!(
        e.contains("t.jsonl:3: energy_uj = 10 is above max_uj = 5"),
        "{e}"
    );
    let e = error_of(&format!(
        "{HEAD_V2}{}{}",
        declare(0, "package-0"),
        counter(0.0, 0, 6, 5)
    ));
    assert!(
        e.contains("t.jsonl:3: energy_uj = 6 is above max_uj = 5"),
        "{e}"
    );
    // At the maximum is a value the counter takes before it wraps.
    let t = read_text(&format!(
        "{HEAD}{}{}",
        counter_v1(0.0, 5, 5),
        counter_v1(1.0, 0, 5)
    ))
    .expect("reads");
    assert_eq!(t.polls.len(), 2);
}

#[test]
fn a_gpu_share_outside_0_to_1_is_refused_naming_the_line() {
    let gpu = |share: &str| {
        format!(
            "{HEAD_V2}{{\"declare\":0,\"source\":\"nvml\",\"device\":\"gpu0\"}}\n\
             {{\"t\":0.0,\"d\":0,\"kind\":\"counter\",\"part\":\"gpu\",\"energy_uj\":1,\
             \"max_uj\":18446744073709551615,\"used\":true,\"share\":{share}}}\n"
        )
    };
    for bad in ["1.5", "-0.1", "1.00000001", "-1e-46", "1e39"] {
        let e = error_of(&gpu(bad));
        assert!(
            e.contains("t.jsonl:3: ") && e.contains(&format!("share = {bad} is impossible")),
            "{e}"
        );
    }
    let e = error_of(&gpu("0.25").replace("\"part\":\"gpu\"", "\"part\":\"cpu\""));
    assert!(e.contains("t.jsonl:3: share is a GPU's"), "{e}");
    let t = read_text(&gpu("0.25")).expect("reads");
    assert!(matches!(
        t.polls[0].readings[0].value,
        Value::Counter {
            share: Some(s),
            ..
        } if (s - 0.25).abs() < 1e-12
    ));
}
