//! The output files of `wattlens run` (`--json`, `--csv`, `--record`): checked before the
//! command starts, so that a typo costs nothing, and written without ever waiting on or
//! reading something that is not a regular file.
//!
//! When the file exists: `--json` replaces it (whole or not at all), `--csv` appends a row (reading only the header
//! line, and only from a regular file), `--record` refuses unless `--force`. A pipe, a device
//! (`/dev/stdout`, `/dev/null`) or a terminal is written, never read: `--csv` then writes the
//! header and the row; a pipe that no process reads is an error, not a wait.

use super::pipe::Pipe;
use crate::cli::RunArgs;
use crate::output_file::{folder, identity, link_target, Identity};
use anyhow::{bail, Context, Result};
use std::fs::{File, Metadata, OpenOptions};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;
use wattlens::report;

/// Where the run's electricity comes from, as CodeCarbon's columns say it.
#[derive(Debug, Default)]
pub(super) struct Place {
    /// `France`.
    pub country_name: String,
    /// ISO 3166-1 alpha-3, `FRA`.
    pub country_iso3: String,
    /// `gcp`, `aws`, `azure` for a cloud grid.
    pub cloud_provider: String,
    /// `europe-west1` for a cloud grid.
    pub cloud_region: String,
}

impl Place {
    /// From the `--grid` value through the catalog: a cloud region gives its provider and
    /// region, and the country of any grid its name and alpha-3 code (the country row's
    /// three-letter alias). Unknown parts stay empty.
    pub fn of_grid(cat: &wattlens::catalog::Catalog, grid: Option<&str>) -> Self {
        let mut p = Self::default();
        let Some(grids) = grid.and_then(|_| cat.grids().ok()) else {
            return p;
        };
        let Some(row) = grid.and_then(|g| grids.get(g).ok()) else {
            return p;
        };
        if row.kind.as_deref() == Some("cloud-region") {
            if let Some((provider, region)) = row.key.split_once(':') {
                p.cloud_provider = provider.to_string();
                p.cloud_region = region.to_string();
            }
        }
        let country = row
            .country
            .as_deref()
            .and_then(|c| grids.get(c).ok())
            .filter(|c| c.kind.as_deref() == Some("country"));
        if let Some(c) = country {
            p.country_name = c.name.clone().unwrap_or_default();
            p.country_iso3 = c
                .aliases
                .as_deref()
                .unwrap_or("")
                .split('|')
                .find(|a| a.len() == 3 && a.bytes().all(|b| b.is_ascii_uppercase()))
                .unwrap_or("")
                .to_string();
        }
        p
    }
}

/// The longest header line `--csv` reads from an existing file (CodeCarbon's is ~500 bytes).
const MAX_HEADER: u64 = 64 * 1024;

/// The outputs that are pipes or devices, opened by [`check`] and held until written: a pipe's
/// reader sees the end of its input when the last writer closes, so the check's own opening
/// must last until the real write (or until `--record`'s writer has opened the pipe too).
#[derive(Debug, Default)]
pub(super) struct Held {
    /// `--json`'s pipe or device.
    pub json: Option<File>,
    /// `--csv`'s pipe or device.
    pub csv: Option<File>,
    /// `--record`'s pipe or device.
    pub record: Option<File>,
}

/// Checks every output path before anything runs: its folder exists and may be written, it is
/// not a folder, a pipe has a reader, no two of `--json`, `--csv`, `--record` and `--replay`
/// name the same file, and `--record` does not replace a trace without `--force`.
///
/// # Errors
/// Naming the flag, the file and what to do.
pub(super) fn check(a: &RunArgs) -> Result<Held> {
    let outputs = [
        ("--json", a.json.as_deref()),
        ("--csv", a.csv.as_deref()),
        ("--record", a.record.as_deref()),
    ];
    let mut held = Held::default();
    for (flag, path) in outputs {
        let Some(path) = path else { continue };
        if path.as_os_str() == "-" {
            // stdout belongs to the command: a file named `-` is never what was meant.
            bail!(
                "{flag} -: the command's output goes to stdout, so wattlens does not write there; \
                 give a file name (`{flag} ./-` if a file named `-` is meant), or `--format \
                 json` for the summary on stdout after the command"
            );
        }
        let (meta, file) = check_one(flag, path)?;
        match flag {
            "--json" => held.json = file,
            "--csv" => held.csv = file,
            _ => held.record = file,
        }
        // An existing CSV's header is read now: a file that is not one stops nothing later.
        if flag == "--csv" && meta.as_ref().is_some_and(Metadata::is_file) {
            read_header(path).with_context(|| format!("--csv {}", path.display()))?;
        }
        if flag == "--record" && !a.force && meta.as_ref().is_some_and(Metadata::is_file) {
            bail!(
                "--record {}: the file exists; give --force to replace it, or another name",
                path.display()
            );
        }
    }
    let named: Vec<(&str, &Path, Identity)> = outputs
        .into_iter()
        .chain([("--replay", a.replay.as_deref())])
        .filter_map(|(flag, p)| {
            let p = p?;
            identity(p).map(|id| (flag, p, id))
        })
        .collect();
    for (i, (f1, p1, id1)) in named.iter().enumerate() {
        for (f2, _, id2) in &named[i + 1..] {
            if id1 == id2 {
                bail!(
                    "{f1} and {f2} name the same file {}: one would overwrite the other; give \
                     each its own file",
                    p1.display()
                );
            }
        }
    }
    Ok(held)
}

/// The checks of one output path; its metadata when it exists, and the pipe or device opened.
fn check_one(flag: &str, path: &Path) -> Result<(Option<Metadata>, Option<File>)> {
    let shown = path.display();
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            bail!("{flag} {shown}: is a folder; give a file name in it")
        }
        Ok(m) if m.is_file() => {
            if rustix::fs::access(path, rustix::fs::Access::WRITE_OK).is_err() {
                bail!("{flag} {shown}: the file may not be written (permissions)");
            }
            Ok((Some(m), None))
        }
        Ok(m) if m.file_type().is_socket() => {
            bail!("{flag} {shown}: is a socket; give a file")
        }
        Ok(m) => {
            // A pipe or a device: opened now, without waiting for a reader, and held.
            let f = open_write(path).with_context(|| format!("{flag} {shown}"))?;
            Ok((Some(m), Some(f)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A dangling symbolic link: the file would be made where it points.
            let dir = folder(&link_target(path));
            match std::fs::metadata(&dir) {
                Ok(d) if d.is_dir() => {
                    let access = rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK;
                    if rustix::fs::access(&dir, access).is_err() {
                        bail!(
                            "{flag} {shown}: the folder {} may not be written (permissions)",
                            dir.display()
                        );
                    }
                    Ok((None, None))
                }
                Ok(_) => bail!("{flag} {shown}: {} is not a folder", dir.display()),
                Err(_) => bail!(
                    "{flag} {shown}: the folder {} does not exist; create it first",
                    dir.display()
                ),
            }
        }
        Err(e) => bail!("{flag} {shown}: {e}"),
    }
}

/// Opens `path` for writing: a regular or new file is created and truncated; anything else is
/// opened without waiting, so that a pipe nobody reads is an error at once.
///
/// # Errors
/// The OS error, or a pipe without a reader.
pub(super) fn open_write(path: &Path) -> Result<File> {
    let regular = std::fs::metadata(path).map_or(true, |m| m.is_file());
    let mut o = OpenOptions::new();
    o.write(true);
    if regular {
        o.create(true).truncate(true);
    } else {
        o.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    let f = match o.open(path) {
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::NXIO.raw_os_error()) => {
            bail!("a pipe that no process reads (wattlens will not wait for one)")
        }
        r => r?,
    };
    if !regular {
        let flags = rustix::fs::fcntl_getfl(&f)?;
        rustix::fs::fcntl_setfl(&f, flags - rustix::fs::OFlags::NONBLOCK)?;
    }
    Ok(f)
}

/// Writes the `--json` object: a regular file whole or not at all (a temporary file renamed
/// over it, [`crate::output_file::replace_with`]: a full disk keeps the previous file). To
/// `held`, the pipe or device [`check`] opened, it is only queued: the returned [`Pipe`] is
/// finished after the regular files are written.
///
/// # Errors
/// When the file cannot be written; the previous file is then left as it was.
pub(super) fn write_json(
    path: &Path,
    held: Option<File>,
    e: &wattlens::result::Report,
    windows: &[wattlens::measure::WindowFigures],
) -> Result<Option<Pipe>> {
    let Some(f) = held else {
        // Streamed: a run with 100k marked windows is never one JSON tree in memory.
        crate::output_file::replace_with(path, |w| {
            wattlens::report::write_run_json(w, e, windows).map_err(Into::into)
        })?;
        return Ok(None);
    };
    let mut bytes = Vec::new();
    wattlens::report::write_run_json(&mut bytes, e, windows)?;
    let pipe = Pipe::new(f)?;
    pipe.queue(&bytes);
    Ok(Some(pipe))
}

/// Appends one CodeCarbon row to `path`. A regular file's own header line (the first line, at
/// most [`MAX_HEADER`] bytes) gives the columns, and a missing last newline is added; a new or
/// empty file, or anything that is not a regular file, gets the header and the row. The row is
/// one write, taken back when it fails part-way ([`crate::output_file::append`]): the file
/// never ends in a partial row.
///
/// # Errors
/// When the file cannot be read or written, or its first line is longer than [`MAX_HEADER`].
pub(super) fn append_csv(
    path: &Path,
    held: Option<File>,
    e: &wattlens::result::Report,
    info: &report::RunInfo,
) -> Result<Option<Pipe>> {
    let regular = held.is_none() && std::fs::metadata(path).is_ok_and(|m| m.is_file());
    let header = if regular { read_header(path)? } else { None };
    let row = report::codecarbon_row(e, info, header.as_deref())?;
    if let Some(f) = held {
        let pipe = Pipe::new(f)?;
        pipe.queue(row.as_bytes());
        return Ok(Some(pipe));
    }
    crate::output_file::append(path, row.as_bytes())?;
    Ok(None)
}

/// The columns of an existing regular file's header line (`None` for an empty file).
fn read_header(path: &Path) -> Result<Option<Vec<String>>> {
    let mut f = File::open(path)?;
    let len = f.metadata()?.len();
    if len == 0 {
        return Ok(None);
    }
    let mut line = String::new();
    BufReader::new((&mut f).take(MAX_HEADER)).read_line(&mut line)?;
    if !line.ends_with('\n') && u64::try_from(line.len()).unwrap_or(u64::MAX) >= MAX_HEADER {
        bail!("the first line is longer than {MAX_HEADER} bytes: not a CodeCarbon CSV header");
    }
    let line = line.trim_end_matches(['\r', '\n']);
    let header = (!line.is_empty()).then(|| {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(line.as_bytes())
            .records()
            .next()
            .and_then(Result::ok)
            .map(|r| r.iter().map(str::to_string).collect())
            .unwrap_or_default()
    });
    Ok(header)
}
