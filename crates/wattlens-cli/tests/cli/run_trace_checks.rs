//! `wattlens run`'s traces under a hostile hand: impossible values in a trace or its header are
//! errors naming file, line and field; a zero CPU rating is refused; a fallback of the charge
//! policy is said; flags of a live run are refused at replay; override notes name servers.

use super::{lib_fixture, replay_trace as replay, run_fixture as live, s, stderr};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The wrap/reset fixture with `edit` applied to its text, written to `dir/name`.
fn edited(dir: &Path, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let text = std::fs::read_to_string(lib_fixture("trace-wrap-reset.jsonl")).expect("fixture");
    let out = edited_text(&text, &edit);
    let path = dir.join(name);
    std::fs::write(&path, out).expect("write");
    path
}

fn edited_text(text: &str, edit: &dyn Fn(String) -> String) -> String {
    let e = edit(text.to_string());
    assert_ne!(e, text, "the edit changed nothing");
    e
}

/// The fixture's header with `extra` fields added.
fn with_header(text: String, extra: &str) -> String {
    text.replacen(
        "\"tags\":{\"project\":\"fixture\"}",
        &format!("\"tags\":{{\"project\":\"fixture\"}},{extra}"),
        1,
    )
}

const SETTINGS: &str =
    "\"charge\":\"machine\",\"cpu_w_per_thread\":3.5,\"dram_w_per_gb\":0.375,\"rest_share\":[0.1,0.2]";

#[test]
fn a_zero_cpu_rating_is_refused_naming_the_flag_or_the_trace_line() {
    for v in ["0", "0W", "0.0 W"] {
        let o = live(&["-q", "--cpu-tdp", v, "--", "true"]);
        assert_eq!(o.status.code(), Some(2), "{v}: {}", stderr(&o));
        assert!(stderr(&o).contains("--cpu-tdp"), "{}", stderr(&o));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let t = edited(dir.path(), "tdp0.jsonl", |t| {
        with_header(t, "\"cpu_tdp_w\":0.0")
    });
    let o = replay(&t, &["-q"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("tdp0.jsonl:1:") && stderr(&o).contains("cpu_tdp_w = 0"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn impossible_trace_values_are_errors_naming_file_line_and_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let machine1 = "\"busy_s\":101.0,\"total_s\":404.0,\"cpus\":4";
    let cases: Vec<(PathBuf, &str, &str)> = vec![
        (
            edited(d, "busy.jsonl", |t| {
                t.replacen(
                    machine1,
                    "\"busy_s\":1000.0,\"total_s\":404.0,\"cpus\":4",
                    1,
                )
            }),
            "busy.jsonl:6:",
            "busy_s = 1000",
        ),
        (
            edited(d, "cpus.jsonl", |t| {
                t.replacen(machine1, "\"busy_s\":101.0,\"total_s\":404.0,\"cpus\":0", 1)
            }),
            "cpus.jsonl:6:",
            "cpus = 0",
        ),
        (
            edited(d, "v9.jsonl", |t| t.replacen("trace/v1", "trace/v9", 1)),
            "v9.jsonl:1:",
            "unsupported trace schema wattlens.trace/v9; this wattlens reads v1",
        ),
        (
            edited(d, "interval.jsonl", |t| {
                t.replacen("\"interval_s\":1.0", "\"interval_s\":1e-9", 1)
            }),
            "interval.jsonl:1:",
            "interval_s",
        ),
        (
            edited(d, "dram.jsonl", |t| {
                with_header(
                    t,
                    "\"settings\":{\"charge\":\"machine\",\"cpu_w_per_thread\":3.5,\"dram_w_per_gb\":1e6,\"rest_share\":[0.1,0.2]}",
                )
            }),
            "dram.jsonl:1:",
            "settings.dram_w_per_gb",
        ),
        (
            edited(d, "rest.jsonl", |t| {
                with_header(
                    t,
                    "\"settings\":{\"charge\":\"machine\",\"cpu_w_per_thread\":3.5,\"dram_w_per_gb\":0.375,\"rest_share\":[5.0,50.0]}",
                )
            }),
            "rest.jsonl:1:",
            "settings.rest_share",
        ),
        (
            edited(d, "key.jsonl", |t| {
                with_header(
                    t,
                    &format!("\"settings\":{{{SETTINGS},\"site\":{{\"gird\":\"FR\"}}}}"),
                )
            }),
            "key.jsonl:1:",
            "settings.site has an unknown key \"gird\"",
        ),
        (
            edited(d, "pue.jsonl", |t| {
                with_header(
                    t,
                    &format!("\"settings\":{{{SETTINGS},\"site\":{{\"pue\":\"0.5\"}}}}"),
                )
            }),
            "pue.jsonl:1:",
            "settings.site.pue",
        ),
        (
            edited(d, "grid.jsonl", |t| {
                with_header(
                    t,
                    &format!("\"settings\":{{{SETTINGS},\"site\":{{\"grid\":\"XX-nowhere\"}}}}"),
                )
            }),
            "grid.jsonl:1:",
            "settings.site.grid",
        ),
    ];
    for (path, at, what) in cases {
        let o = replay(&path, &["-q"]);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{at}: {e}");
        assert!(e.contains(at) && e.contains(what), "{at} {what}: {e}");
        assert!(!e.contains("for --pue") && !e.contains("for --grid"), "{e}");
    }
    // A flag given at replay overrides the bad recorded value, which is then not used.
    let pue = d.join("pue.jsonl");
    let o = replay(&pue, &["-q", "--pue", "1.2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_trace_of_an_unknown_server_replays_with_a_note_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t = edited(dir.path(), "srv.jsonl", |t| {
        with_header(
            t,
            &format!("\"cpu_tdp_w\":300.0,\"settings\":{{{SETTINGS},\"server\":\"my-box\"}}"),
        )
    });
    let o = replay(&t, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--server my-box, which this catalog does not know"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_fallback_from_processes_to_machine_is_said_and_in_the_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("f.json");
    // The fixture has no process-tree readings.
    let o = replay(
        &lib_fixture("trace-wrap-reset.jsonl"),
        &["--charge", "processes", "--json", s(&out)],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("charged to: machine"), "{e}");
    assert!(
        e.contains("charged to the whole machine, not the processes"),
        "{e}"
    );
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("json")).expect("json");
    assert_eq!(v["attribution"]["policy"], "machine");
    assert_eq!(v["attribution"]["policy_requested"], "processes");
    assert!(v["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .any(|n| n.as_str().unwrap_or_default().contains("not the processes")));
    // Asked for machine: no fallback to speak of.
    let o = replay(
        &lib_fixture("trace-wrap-reset.jsonl"),
        &["--charge", "machine"],
    );
    assert!(!stderr(&o).contains("not the processes"), "{}", stderr(&o));
}

#[test]
fn flags_of_a_live_run_are_refused_at_replay() {
    let t = lib_fixture("trace-wrap-reset.jsonl");
    let sys = lib_fixture("sysfs-none");
    for args in [
        vec!["--interval", "5s"],
        vec!["--psys"],
        vec!["--sysfs-root", s(&sys)],
        vec!["--procfs-root", "/tmp"],
    ] {
        let o = replay(&t, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("{} ", args[0]))
                && stderr(&o).contains("does not apply to a replay"),
            "{}",
            stderr(&o)
        );
    }
    // The default interval, given or not, is no conflict.
    let o = replay(&t, &["-q", "--interval", "1s"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_replay_note_names_the_servers_and_a_recorded_rating_is_not_asked_for_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t = dir.path().join("a.jsonl");
    let o = live(&[
        "-q",
        "--server",
        "dgx-a100",
        "--record",
        s(&t),
        "--",
        "true",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = replay(&t, &["--server", "dgx-h100"]);
    let e = stderr(&o);
    assert!(
        e.contains("--server dgx-h100 (700 W) overrides the trace's recorded CPU rating (450 W, --server dgx-a100)"),
        "{e}"
    );
    let o = replay(&t, &[]);
    let e = stderr(&o);
    assert!(e.contains("as the trace recorded"), "{e}");
    assert!(!e.contains("give --cpu-tdp"), "{e}");
    let r = dir.path().join("r.jsonl");
    let o = live(&["-q", "--cpu-tdp", "50", "--record", s(&r), "--", "true"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let e = stderr(&replay(&r, &[]));
    assert!(
        e.contains("50 W, as the trace recorded") && !e.contains("give --cpu-tdp"),
        "{e}"
    );
}

#[test]
fn a_recorded_site_the_catalog_refuses_names_its_key_and_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    let site = |name: &str, kv: &str| {
        edited(dir.path(), name, |t| {
            with_header(t, &format!("\"settings\":{{{SETTINGS},\"site\":{{{kv}}}}}"))
        })
    };
    let refused = |path: &Path| {
        let o = replay(path, &["-q"]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let dir = format!("{}/", dir.path().display());
        stderr(&o).replace(&dir, "")
    };
    // (file, recorded site, start of the message, end of the message)
    let dc_end = " (a flag --datacenter given at replay overrides it)\n";
    let cases = [
        (
            "dc.jsonl",
            "\"datacenter\":\"nope\"",
            "error: dc.jsonl:1: header: settings.site.datacenter = \"nope\" cannot be used: \
             settings.site.datacenter: unknown data-centre profile \"nope\"",
            dc_end,
        ),
        (
            "dcgrid.jsonl",
            "\"grid\":\"FR\",\"datacenter\":\"nope\"",
            "error: dcgrid.jsonl:1: header: settings.site.datacenter = \"nope\" cannot be used: \
             settings.site.datacenter: unknown data-centre profile \"nope\"",
            dc_end,
        ),
        (
            "cool.jsonl",
            "\"cooling\":\"nope\"",
            "error: cool.jsonl:1: header: settings.site.cooling = \"nope\" cannot be used: \
             settings.site.cooling: unknown cooling type \"nope\"; the cooling presets are air, \
             evaporative, closed-loop-liquid, immersion (`wattlens catalog list datacenters` \
             shows them with their PUE and WUE) (a flag --cooling given at replay overrides it)\n",
            "",
        ),
        (
            "mc.jsonl",
            "\"market-intensity\":\"100\",\"cfe\":\"0.5\"",
            "error: mc.jsonl:1: header: settings.site.market-intensity = \"100\" cannot be used: \
             settings.site.market-intensity and --cfe cannot be used together: give the \
             contractual intensity or the carbon-free share, not both (a flag \
             --market-intensity given at replay overrides it)\n",
            "",
        ),
        (
            "grid.jsonl",
            "\"grid\":\"XX-nowhere\"",
            "error: grid.jsonl:1: header: settings.site.grid = \"XX-nowhere\" cannot be used: \
             settings.site.grid: unknown grid region \"XX-nowhere\"",
            " (a flag --grid given at replay overrides it)\n",
        ),
        (
            "eq.jsonl",
            "\"equivalent-country\":\"XX\"",
            "error: eq.jsonl:1: header: settings.site.equivalent-country = \"XX\" cannot be \
             used: settings.site.equivalent-country: unknown grid region \"XX\"",
            " (a flag --equivalent-country given at replay overrides it)\n",
        ),
    ];
    for (name, kv, start, end) in cases {
        let e = refused(&site(name, kv));
        assert!(e.starts_with(start) && e.ends_with(end), "{name}: {e}");
        assert!(!e.contains("settings.site.grid = \"\""), "{e}");
    }
}

/// A GPU shared with a process outside the measured tree (the driver's per-process SM
/// utilisation, recorded as `share`): `--charge processes` charges the tree its share, says so
/// in a note, and `--charge machine` the whole GPU. 300 W for 4 s; the tree's share 0.5.
#[test]
fn a_replayed_shared_gpu_is_charged_at_the_trees_share() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut lines = vec![
        r#"{"schema":"wattlens.trace/v2","started_unix_s":1763776800.0,"interval_s":1.0,"command":["x"],"cpu_tdp_w":100.0}"#.to_string(),
        r#"{"declare":0,"source":"procfs","device":"machine"}"#.to_string(),
        r#"{"declare":1,"source":"procfs","device":"tree"}"#.to_string(),
        r#"{"declare":2,"source":"nvml","device":"gpu0"}"#.to_string(),
    ];
    for i in 0..=4_u32 {
        let t = f64::from(i);
        lines.push(format!(
            r#"{{"t":{t:?},"d":0,"kind":"machine","busy_s":{:?},"total_s":{:?},"cpus":4,"mem_total_gb":16.0}}"#,
            100.0 + t,
            400.0 + 4.0 * t
        ));
        lines.push(format!(
            r#"{{"t":{t:?},"d":1,"kind":"tree","cpu_s":{:?},"rss_gb":1.0,"pids":1}}"#,
            0.5 * t
        ));
        lines.push(format!(
            r#"{{"t":{t:?},"d":2,"kind":"counter","part":"gpu","energy_uj":{},"max_uj":18446744073709551615,"used":true,"share":0.5}}"#,
            u64::from(i) * 300_000_000
        ));
    }
    lines.push(r#"{"t":4.0,"event":"exit","code":0}"#.to_string());
    let trace = dir.path().join("t.jsonl");
    std::fs::write(&trace, lines.join("\n") + "\n").expect("write");
    let gpu_j = |charge: &str| {
        let o = replay(&trace, &["--charge", charge, "--format", "json"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: Value = serde_json::from_slice(&o.stdout).expect("JSON");
        let j: f64 = v["components"]
            .as_array()
            .expect("components")
            .iter()
            .filter(|c| c["kind"] == "accelerator")
            .map(|c| c["energy_kwh"]["p50"].as_f64().expect("kWh") * 3.6e6)
            .sum();
        (j, v["notes"].to_string())
    };
    // 4 s x 300 W = 1,200 J, half of it the tree's.
    let (j, notes) = gpu_j("processes");
    assert!((j - 600.0).abs() < 1e-6, "{j}");
    assert!(
        notes.contains("nvml/gpu0 was shared with processes outside the measured tree"),
        "{notes}"
    );
    let (j, notes) = gpu_j("machine");
    assert!((j - 1_200.0).abs() < 1e-6, "{j}");
    assert!(!notes.contains("was shared"), "{notes}");
    // Embodied carbon: half a GPU, not a whole one (hostile round 12: a share of 0 still
    // carried the whole GPU's). Against the same trace without the share, the difference is
    // half the GPU's part.
    let emb = |trace: &Path| {
        let o = replay(trace, &["--format", "json"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: Value = serde_json::from_slice(&o.stdout).expect("JSON");
        v["embodied_carbon_kgco2e"]["p50"].as_f64().expect("kg")
    };
    let whole = dir.path().join("whole.jsonl");
    std::fs::write(
        &whole,
        std::fs::read_to_string(&trace)
            .expect("read")
            .replace(",\"share\":0.5", ""),
    )
    .expect("write");
    let (half, one) = (emb(&trace), emb(&whole));
    let unused = dir.path().join("unused.jsonl");
    std::fs::write(
        &unused,
        std::fs::read_to_string(&whole)
            .expect("read")
            .replace("\"used\":true", "\"used\":false"),
    )
    .expect("write");
    let none = emb(&unused);
    assert!(
        ((half - none) / (one - none) - 0.5).abs() < 1e-6,
        "no GPU {none}, half {half}, whole {one}"
    );
}
