//! Random and mutated traces through replay and accounting: never a panic, never a
//! non-finite figure; each trace is either refused (an error naming file and line) or a run.

use super::{account_run, replay, ModelInputs, Policy, RunSpec};
use crate::footprint::tests_support::{p, site};
use crate::runner::McOptions;
use crate::source::replay::TraceReader;
use crate::units::Watts;
use proptest::prelude::*;

/// Numbers a mutation writes in place of one in the trace.
const NUMBERS: [&str; 14] = [
    "-1",
    "0",
    "-0",
    "1e308",
    "-1e308",
    "1e-320",
    "18446744073709551615",
    "4294967295",
    "1e9",
    "999999999.9",
    "2.5",
    "NaN",
    "1e400",
    "\"x\"",
];

/// A plausible trace: header, then polls of a RAPL counter, a GPU power, procfs and marks.
fn base(polls: usize, power: f64, step_uj: u64, marks: bool) -> String {
    let mut s = String::from(
        "{\"schema\":\"wattlens.trace/v1\",\"started_unix_s\":1700000000.0,\"interval_s\":0.5,\
         \"cpu_tdp_w\":120.0,\"settings\":{\"charge\":\"processes\",\"cpu_w_per_thread\":3.5,\
         \"dram_w_per_gb\":0.375,\"rest_share\":[0.2,0.56]}}\n",
    );
    for i in 0..polls {
        let t = i as f64 * 0.5;
        let uj = step_uj * i as u64;
        s.push_str(&format!(
            "{{\"t\":{t:?},\"source\":\"rapl\",\"device\":\"package-0\",\"kind\":\"counter\",\"part\":\"cpu\",\"energy_uj\":{uj},\"max_uj\":262143328850}}\n\
             {{\"t\":{t:?},\"source\":\"nvml\",\"device\":\"gpu0\",\"kind\":\"power\",\"part\":\"gpu\",\"power_w\":{power:?},\"used\":true}}\n\
             {{\"t\":{t:?},\"source\":\"procfs\",\"device\":\"machine\",\"kind\":\"machine\",\"busy_s\":{b:?},\"total_s\":{tot:?},\"cpus\":4,\"mem_total_gb\":16.0}}\n\
             {{\"t\":{t:?},\"source\":\"procfs\",\"device\":\"tree\",\"kind\":\"tree\",\"cpu_s\":{c:?},\"rss_gb\":1.0,\"pids\":1}}\n",
            b = t * 2.0,
            tot = t * 4.0,
            c = t,
        ));
        if marks && i % 3 == 1 {
            s.push_str(&format!(
                "{{\"t\":{t:?},\"source\":\"child\",\"device\":\"marks\",\"kind\":\"mark\",\"text\":\"begin w{i}\"}}\n"
            ));
        }
        if marks && i % 3 == 2 {
            s.push_str(&format!(
                "{{\"t\":{t:?},\"source\":\"child\",\"device\":\"marks\",\"kind\":\"mark\",\"text\":\"end w{}\"}}\n",
                i - 1
            ));
        }
    }
    s
}

/// Applies one mutation at byte position `at` (taken modulo the length).
fn mutate(s: &mut String, kind: u8, at: usize, pick: usize) {
    if s.is_empty() {
        return;
    }
    let at = at % s.len();
    let at = (0..=at).rev().find(|i| s.is_char_boundary(*i)).unwrap_or(0);
    match kind % 6 {
        // Cut the file short (a torn write), with or without a closing brace.
        0 => {
            s.truncate(at);
            if pick % 2 == 0 {
                s.push('}');
            }
        }
        // Replace the number that starts after a ':' at or after `at`.
        1 | 2 => {
            if let Some(colon) = s[at..].find(':').map(|i| i + at + 1) {
                let end = s[colon..].find([',', '}']).map_or(s.len(), |i| i + colon);
                s.replace_range(colon..end, NUMBERS[pick % NUMBERS.len()]);
            }
        }
        // Delete a line.
        3 => {
            let start = s[..at].rfind('\n').map_or(0, |i| i + 1);
            let end = s[at..].find('\n').map_or(s.len(), |i| i + at + 1);
            s.replace_range(start..end, "");
        }
        // Duplicate a line elsewhere.
        4 => {
            let start = s[..at].rfind('\n').map_or(0, |i| i + 1);
            let end = s[at..].find('\n').map_or(s.len(), |i| i + at + 1);
            let line = s[start..end].to_string();
            let to = pick % s.len();
            let to = s[..to].rfind('\n').map_or(0, |i| i + 1);
            s.insert_str(to, &line);
        }
        // Garbage bytes.
        _ => s.insert_str(at, ["\n", "{", "\"t\":", "\u{0}", "\r\n", "]]"][pick % 6]),
    }
}

fn finite(v: &serde_json::Value, path: &str) -> Result<(), String> {
    match v {
        serde_json::Value::Number(n) => match n.as_f64() {
            Some(x) if x.is_finite() => Ok(()),
            _ => Err(format!("{path} = {n}")),
        },
        serde_json::Value::Array(a) => a
            .iter()
            .enumerate()
            .try_for_each(|(i, x)| finite(x, &format!("{path}[{i}]"))),
        serde_json::Value::Object(o) => o.iter().try_for_each(|(k, x)| {
            if x.is_null() && !matches!(k.as_str(), "exit_code" | "cpu_tdp_w") {
                return Err(format!("{path}.{k} is null"));
            }
            finite(x, &format!("{path}.{k}"))
        }),
        _ => Ok(()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn mutated_traces_are_refused_or_replay_to_finite_figures(
        polls in 0usize..8,
        power in 0.0f64..2000.0,
        step in 0u64..10_000_000_000,
        marks in any::<bool>(),
        ops in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<usize>()), 0..4),
        policy in any::<bool>(),
    ) {
        let mut text = base(polls, power, step, marks);
        for (kind, at, pick) in ops {
            mutate(&mut text, kind, at, pick);
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.jsonl");
        std::fs::write(&path, &text).expect("write");
        let inputs = ModelInputs {
            policy: if policy { Policy::Machine } else { Policy::Processes },
            cpu_tdp: Some(Watts(120.0)),
            cpu_w_per_thread: 3.5,
            dram_w_per_gb: 0.375,
        };
        let measured = TraceReader::open(&path).and_then(|mut r| replay(&mut r, inputs));
        let Ok(m) = measured else {
            let e = measured.err().map(|e| e.to_string()).unwrap_or_default();
            prop_assert!(e.contains("t.jsonl"), "{e}");
            return Ok(());
        };
        let spec = RunSpec { measurement: m, rest_share: p(0.38), site: site() };
        let opts = McOptions { samples: 50, ..McOptions::default() };
        let e = account_run(&spec, opts, vec![], &Default::default());
        let v = crate::report::run_json(&e, &super::windows(&spec, opts));
        if let Err(e) = finite(&v, "") {
            prop_assert!(false, "{e}\n{text}");
        }
    }
}

/// Makes one value of a plausible trace physically impossible: returns the trace and the
/// 1-based line at fault.
fn impossible(polls: usize, which: u8, poll: usize, factor: f64) -> (String, usize) {
    let text = base(polls, 100.0, 1000, false);
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    // Line 1 is the header; poll i's lines are 2 + 4i (RAPL), then the GPU, the machine and
    // the tree.
    let i = 1 + poll % (polls - 1);
    let (machine, tree) = (4 * i + 4, 4 * i + 5);
    let t = i as f64 * 0.5;
    let cpu_s = |v: f64| (format!("\"cpu_s\":{t:?}"), format!("\"cpu_s\":{v:?}"));
    let fault = match which % 6 {
        0 => {
            lines[machine - 1] = lines[machine - 1].replace("\"cpus\":4", "\"cpus\":0");
            machine
        }
        1 => {
            // Busy more than the total (beyond rounding).
            let busy = (t * 4.0 + 1.0) * (1.0 + factor);
            lines[machine - 1] = lines[machine - 1].replacen(
                &format!("\"busy_s\":{:?}", t * 2.0),
                &format!("\"busy_s\":{busy:?}"),
                1,
            );
            machine
        }
        2 => {
            // The tree's CPU time falls below its previous reading (below 0 on the second
            // poll: refused as a negative time, on the same line).
            let (from, to) = cpu_s((i - 1) as f64 * 0.5 - 0.06 - 0.1 * factor);
            lines[tree - 1] = lines[tree - 1].replacen(&from, &to, 1);
            tree
        }
        3 => {
            // More CPU time in 0.5 s than 4 CPUs have, beyond the slack.
            let (from, to) =
                cpu_s((i - 1) as f64 * 0.5 + 4.0 * (0.5 * 1.25 + 0.5) * (1.0 + factor));
            lines[tree - 1] = lines[tree - 1].replacen(&from, &to, 1);
            tree
        }
        4 => {
            lines[0] = lines[0].replace(
                "\"dram_w_per_gb\":0.375",
                &format!("\"dram_w_per_gb\":{:?}", 100.0 * (1.0 + factor)),
            );
            1
        }
        _ => {
            lines[0] = lines[0].replace(
                "\"interval_s\":0.5",
                &format!("\"interval_s\":{:?}", 0.009 / (1.0 + factor)),
            );
            1
        }
    };
    (lines.join("\n") + "\n", fault)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// A physically impossible value (no CPUs, busy above total CPU time, a tree's CPU time
    /// going back or faster than the machine, an implausible header coefficient or interval)
    /// is refused naming the file and the line, whichever poll it is in.
    #[test]
    fn impossible_values_are_refused_naming_their_line(
        polls in 3usize..8,
        which in any::<u8>(),
        poll in any::<usize>(),
        factor in 0.5f64..1e6,
    ) {
        let (text, line) = impossible(polls, which, poll, factor);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.jsonl");
        std::fs::write(&path, &text).expect("write");
        let inputs = ModelInputs {
            policy: Policy::Processes,
            cpu_tdp: None,
            cpu_w_per_thread: 3.5,
            dram_w_per_gb: 0.375,
        };
        match TraceReader::open(&path).and_then(|mut r| replay(&mut r, inputs)) {
            Ok(_) => prop_assert!(false, "accepted:\n{text}"),
            Err(e) => {
                let e = e.to_string();
                prop_assert!(e.contains(&format!("t.jsonl:{line}:")), "{e}\n{text}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Issue 8: a v1 trace, rewritten as v2 by the writer, reads back to the same polls
    /// (readings with their devices, marks as events) and replays to the same measurement.
    #[test]
    fn a_v1_trace_rewritten_as_v2_replays_to_the_same_measurement(
        polls in 1_usize..12,
        power in 0.0_f64..800.0,
        step_uj in 0_u64..50_000_000,
        marks in proptest::bool::ANY,
    ) {
        use crate::source::replay::{read, Header, TraceWriter, TRACE_SCHEMA};
        let dir = tempfile::tempdir().expect("tempdir");
        let v1 = dir.path().join("v1.jsonl");
        std::fs::write(&v1, base(polls, power, step_uj, marks)).expect("write");
        let old = read(&v1).expect("v1 reads");
        let v2 = dir.path().join("v2.jsonl");
        let mut w = TraceWriter::create(&v2, &Header {
            schema: TRACE_SCHEMA.into(),
            ..old.header.clone()
        }).expect("create");
        for p in &old.polls {
            w.write(p).expect("write");
        }
        drop(w);
        let new = read(&v2).expect("v2 reads");
        prop_assert_eq!(&new.polls, &old.polls);
        let inputs = ModelInputs {
            policy: Policy::Processes,
            cpu_tdp: Some(Watts(120.0)),
            cpu_w_per_thread: 3.5,
            dram_w_per_gb: 0.375,
        };
        let a = replay(&mut TraceReader::open(&v1).expect("v1"), inputs).expect("replay v1");
        let b = replay(&mut TraceReader::open(&v2).expect("v2"), inputs).expect("replay v2");
        prop_assert_eq!(a, b);
    }
}

/// The base trace written as v2 by the writer (through a v1 read).
fn base_v2(polls: usize, power: f64, step: u64, marks: bool) -> String {
    use crate::source::replay::{read, TraceWriter, TRACE_SCHEMA};
    let dir = tempfile::tempdir().expect("tempdir");
    let (v1, v2) = (dir.path().join("v1.jsonl"), dir.path().join("v2.jsonl"));
    std::fs::write(&v1, base(polls.max(1), power, step, marks)).expect("write");
    let t = read(&v1).expect("the base reads");
    let mut header = t.header.clone();
    header.schema = TRACE_SCHEMA.into();
    let mut w = TraceWriter::create(&v2, &header).expect("create");
    for p in &t.polls {
        w.write(p).expect("write");
    }
    drop(w);
    std::fs::read_to_string(&v2).expect("read")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]

    /// The v2 reader under mutation (declarations, device numbers, events): refused naming
    /// the file, or a run with finite figures; never a panic.
    #[test]
    fn mutated_v2_traces_are_refused_or_replay_to_finite_figures(
        polls in 1usize..8,
        power in 0.0f64..2000.0,
        step in 0u64..10_000_000_000,
        marks in any::<bool>(),
        ops in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<usize>()), 0..4),
    ) {
        let mut text = base_v2(polls, power, step, marks);
        prop_assert!(text.contains("\"declare\""));
        for (kind, at, pick) in ops {
            mutate(&mut text, kind, at, pick);
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.jsonl");
        std::fs::write(&path, &text).expect("write");
        let inputs = ModelInputs {
            policy: Policy::Processes,
            cpu_tdp: Some(Watts(120.0)),
            cpu_w_per_thread: 3.5,
            dram_w_per_gb: 0.375,
        };
        let measured = TraceReader::open(&path).and_then(|mut r| replay(&mut r, inputs));
        let Ok(m) = measured else {
            let e = measured.err().map(|e| e.to_string()).unwrap_or_default();
            prop_assert!(e.contains("t.jsonl"), "{e}");
            return Ok(());
        };
        let spec = RunSpec { measurement: m, rest_share: p(0.38), site: site() };
        let opts = McOptions { samples: 50, ..McOptions::default() };
        let e = account_run(&spec, opts, vec![], &Default::default());
        let v = crate::report::run_json(&e, &super::windows(&spec, opts));
        if let Err(e) = finite(&v, "") {
            prop_assert!(false, "{e}\n{text}");
        }
    }
}
