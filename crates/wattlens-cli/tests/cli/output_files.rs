//! Output files and stdout on a full disk (hostile test round 3, defects 7 and 8): `run
//! --format` to a stdout that cannot be written is exit 2 naming stdout (a closed pipe stays
//! quiet); `--json`, `--csv` and `report -o` never cost the previous file. A full disk is
//! simulated without root by a file-size limit (`ulimit -f`, with SIGXFSZ ignored, so a write
//! past it fails with EFBIG as one past a full disk fails with ENOSPC).

use super::{run_cmd, stderr};
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// `wattlens ARGS` under a file-size limit of `blocks` x 512 bytes (dash's and bash's unit),
/// with no ledger (SQLite would hit the limit too).
fn limited(blocks: u64, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f {blocks} && exec \"$0\" --no-history \"$@\""
        ))
        .arg(env!("CARGO_BIN_EXE_wattlens"))
        .args(args)
        .env_remove("WATTLENS_CATALOG")
        .env_remove("WATTLENS_CONFIG")
        .env("CUDA_VISIBLE_DEVICES", "")
        .output()
        .expect("runs sh")
}

/// The arguments of a `run` on the fixture machine without RAPL or GPUs.
fn fixture_run(more: &[&str]) -> Vec<String> {
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wattlens/tests/fixtures");
    let mut a: Vec<String> = vec![
        "run".into(),
        "--sysfs-root".into(),
        lib.join("sysfs-none").display().to_string(),
        "--procfs-root".into(),
        lib.join("procfs-4cpu").display().to_string(),
    ];
    a.extend(more.iter().map(|s| (*s).to_string()));
    a
}

#[test]
fn run_format_to_a_full_stdout_is_exit_2_naming_stdout_and_a_closed_pipe_is_quiet() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let o = run_cmd()
        .args(["--no-history", "--format", "json", "--", "true"])
        .stdout(full)
        .output()
        .expect("run");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot write the --format summary to stdout")
            && err.contains("No space left on device"),
        "{err}"
    );
    // A reader that has gone (`| head -0`): no message, the command's exit code.
    let mut child = run_cmd()
        .args(["--no-history", "--format", "json", "--", "true"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let o = child.wait_with_output().expect("wait");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
}

#[test]
fn a_json_file_that_cannot_be_written_keeps_the_previous_one_byte_for_byte() {
    let dir = tempfile::tempdir().expect("tempdir");
    let keep = dir.path().join("keep.json");
    let old = b"{\"previous\":\"run, keep me\"}\n";
    std::fs::write(&keep, old).expect("write");
    // 4 x 512 bytes: a run's JSON (about 10 KB) does not fit; the old file (28 bytes) does.
    let o = limited(
        4,
        &fixture_run(&["-q", "--json", keep.to_str().expect("utf-8"), "--", "true"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("cannot write --json {}", keep.display()))
            && err.contains("the previous file is left as it was")
            && err.contains("File too large"),
        "{err}"
    );
    assert_eq!(std::fs::read(&keep).expect("read"), old);
    // No temporary file stays beside it.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, ["keep.json"]);
}

#[test]
fn a_csv_row_that_fails_part_way_is_taken_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("e.csv");
    let path = csv.to_str().expect("utf-8");
    let args = |more: &[&str]| fixture_run(&[&["-q", "--csv", path][..], more].concat());
    let first = args(&["--", "true"]);
    let o = limited(
        1 << 20,
        &first.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // Padded to 10 bytes under a 512-byte boundary (a filler line after the row; only the
    // header is read back): the next row's first 10 bytes fit, the rest fails.
    let mut text = std::fs::read(&csv).expect("read");
    let blocks = text.len() / 512 + 2;
    let pad = blocks * 512 - 10 - text.len() - 1;
    text.extend(std::iter::repeat_n(b'x', pad));
    text.push(b'\n');
    std::fs::write(&csv, &text).expect("pad");
    let second = args(&["--", "true"]);
    let o = limited(
        u64::try_from(blocks).expect("blocks"),
        &second.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("cannot append --csv {path}"))
            && err.contains("the partial row was taken back"),
        "{err}"
    );
    assert_eq!(std::fs::read(&csv).expect("read"), text);
    // A new file that cannot take its header and row is not left behind, empty or torn.
    let fresh = dir.path().join("fresh.csv");
    let third = fixture_run(&["-q", "--csv", fresh.to_str().expect("utf-8"), "--", "true"]);
    let o = limited(0, &third.iter().map(String::as_str).collect::<Vec<_>>());
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("no file was made"), "{err}");
    assert!(!fresh.exists());
}

#[test]
fn report_output_that_cannot_be_written_keeps_the_previous_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("r.json");
    let o = limited(
        1 << 20,
        &fixture_run(&["-q", "--json", json.to_str().expect("utf-8"), "--", "true"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let page = dir.path().join("page.html");
    std::fs::write(&page, "<p>last week's page</p>\n").expect("write");
    // 2 x 512 bytes: the HTML page (tens of KB) does not fit.
    let o = limited(
        2,
        &[
            "report",
            json.to_str().expect("utf-8"),
            "--format",
            "html",
            "-o",
            page.to_str().expect("utf-8"),
        ],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("could not write") && err.contains("left as it was"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&page).expect("read"),
        "<p>last week's page</p>\n"
    );
}

/// `run --json -` wrote a file named `-` in the working folder (found while fixing hostile
/// round 4): stdout belongs to the command, so `-` is refused for every output file, naming
/// the flag, before the command starts; the folder gets no file.
#[test]
fn a_dash_for_an_output_file_is_refused_naming_the_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    for flag in ["--json", "--csv", "--record"] {
        let out = run_cmd()
            .current_dir(dir.path())
            .args([flag, "-", "--", "true"])
            .output()
            .expect("runs wattlens");
        assert_eq!(out.status.code(), Some(2), "{flag}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(&format!("{flag} -:")) && err.contains("./-"),
            "{err}"
        );
        assert!(!dir.path().join("-").exists(), "{flag} made a file named -");
    }
}
