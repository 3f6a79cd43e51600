//! `report` refusals from hostile round 4: `-o` naming its own input (items 3), `--per` outside
//! `--format sci` or past 1e18 units (item 7), and a history ID echoed as typed (item 11).

use super::{isolated, stderr};
use std::path::Path;
use std::process::Output;

/// A fleet estimate's footprint JSON written to `dir/run.json`.
fn footprint(dir: &Path) -> std::path::PathBuf {
    let o = isolated()
        .args(["--no-history", "estimate", "fleet", "--servers", "1"])
        .args(["--server-power", "1kW", "--hours", "1", "--format", "json"])
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", stderr(&o));
    let p = dir.join("run.json");
    std::fs::write(&p, &o.stdout).expect("write");
    p
}

fn report(ledger: &Path, args: &[&str]) -> Output {
    isolated()
        .env("WATTLENS_HISTORY", ledger)
        .arg("report")
        .args(args)
        .output()
        .expect("runs")
}

#[test]
fn output_naming_the_source_is_refused_through_links_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = footprint(dir.path());
    let before = std::fs::read(&src).expect("read");
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&src, &link).expect("symlink");
    let hard = dir.path().join("hard.json");
    std::fs::hard_link(&src, &hard).expect("hard link");
    let ledger = dir.path().join("h.sqlite");
    let s = |p: &Path| p.to_str().expect("utf-8").to_string();
    // The same path, a symbolic link either way, a hard link, and `./` spelled out.
    let dotted = dir.path().join(".").join("run.json");
    for (input, output) in [
        (s(&src), s(&src)),
        (s(&link), s(&src)),
        (s(&src), s(&link)),
        (s(&hard), s(&link)),
        (s(&src), s(&dotted)),
    ] {
        let o = report(&ledger, &[&input, "--format", "html", "-o", &output]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{input} -o {output}: {err}");
        assert!(
            err.contains("-o and SOURCE name the same file"),
            "{input} -o {output}: {err}"
        );
        assert_eq!(
            std::fs::read(&src).expect("read"),
            before,
            "{input} -o {output}"
        );
    }
    // Another file is written.
    let page = dir.path().join("page.html");
    let o = report(&ledger, &[&s(&src), "--format", "html", "-o", &s(&page)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(std::fs::read_to_string(&page)
        .expect("page")
        .starts_with("<!DOCTYPE html>"));
}

#[test]
fn output_naming_the_history_ledger_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("h.sqlite");
    let o = isolated()
        .env("WATTLENS_HISTORY", &ledger)
        .args([
            "estimate",
            "fleet",
            "--servers",
            "1",
            "--server-power",
            "1kW",
        ])
        .args(["--hours", "1", "--save"])
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", stderr(&o));
    let before = std::fs::read(&ledger).expect("ledger");
    let l = ledger.to_str().expect("utf-8");
    // The history page (no SOURCE) and a history ID both read the ledger.
    for args in [
        vec!["--format", "html", "-o", l],
        vec!["1", "--format", "markdown", "-o", l],
    ] {
        let o = report(&ledger, &args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("-o and the history ledger name the same file"),
            "{args:?}: {err}"
        );
        assert_eq!(std::fs::read(&ledger).expect("ledger"), before, "{args:?}");
    }
}

#[test]
fn per_is_refused_outside_sci_and_past_1e18_units() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = footprint(dir.path());
    let src = src.to_str().expect("utf-8");
    let ledger = dir.path().join("h.sqlite");
    for format in [
        "html",
        "markdown",
        "model-card",
        "boamps",
        "cyclonedx",
        "spdx",
    ] {
        let o = report(&ledger, &[src, "--format", format, "--per", "5 x"]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{format}: {err}");
        assert!(
            err.contains("--per applies to --format sci only"),
            "{format}: {err}"
        );
        assert!(o.stdout.is_empty(), "{format}");
    }
    // 1e300 units scored 2.53e-298 g per unit, exit 0.
    let o = report(&ledger, &[src, "--format", "sci", "--per", "1e300 x"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--per \"1e300 x\"") && err.contains("above 1e18"),
        "{err}"
    );
    let o = report(&ledger, &[src, "--format", "sci", "--per", "1e18 x"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_history_id_too_large_is_echoed_as_typed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("h.sqlite");
    let o = report(&ledger, &["h:99999999999999999999", "--format", "html"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    // It came back as "h:1.000e20".
    assert!(
        err.contains("\"h:99999999999999999999\" is not a history ID"),
        "{err}"
    );
}

/// Hostile round 5, #4: `report - -o s.json < s.json` replaced its own input with HTML, exit 0
/// (`/dev/stdin` as SOURCE was already refused). Standard input from a file is that file.
#[test]
fn output_naming_the_file_standard_input_reads_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = footprint(dir.path());
    let before = std::fs::read(&src).expect("read");
    let o = isolated()
        .env("WATTLENS_HISTORY", dir.path().join("l.db"))
        .args(["report", "-", "--format", "html", "-o"])
        .arg(&src)
        .stdin(std::fs::File::open(&src).expect("open"))
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("-o and SOURCE (standard input) name the same file"));
    assert_eq!(std::fs::read(&src).expect("read"), before);
    // From another file through stdin, -o is written.
    let other = dir.path().join("page.html");
    let o = isolated()
        .env("WATTLENS_HISTORY", dir.path().join("l.db"))
        .args(["report", "-", "--format", "html", "-o"])
        .arg(&other)
        .stdin(std::fs::File::open(&src).expect("open"))
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(&other)
        .expect("page")
        .starts_with("<!DOCTYPE html>"));
}
