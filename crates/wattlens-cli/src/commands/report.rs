//! `wattlens report SOURCE --format FORMAT`: a footprint JSON rendered as HTML, Markdown, a
//! Hugging Face model card, BoAmps, CycloneDX, SPDX or an SCI score. SOURCE resolution is
//! [`read_source`] (a file, `-` for stdin, or a history ID); without SOURCE, the history
//! ledger's runs over time (`report_history`).

use super::{history, report_history};
use crate::cli::ReportArgs;
use crate::history::Place;
use crate::{ExitStatus, Output};
use anyhow::{bail, Context, Result};
use std::io::Read;
use wattlens::report::formats::{
    self, Activity, Document, DocumentError, FunctionalUnit, Meta, PerError,
};

const FORMATS: &str = "html, markdown, model-card, boamps, cyclonedx, spdx or sci";

/// Reads SOURCE: `-` is stdin, a path is a footprint JSON file, a history ID (`12`, `#12`,
/// `h:12`; digits name a file first when one exists) is the report stored in the ledger at
/// `place` (`--history`, `WATTLENS_HISTORY`, as `history show` reads it).
pub fn read_source(source: &str, place: &Place) -> Result<(String, String)> {
    if source == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("report: could not read the footprint JSON from stdin")?;
        return Ok(("stdin".into(), text));
    }
    let path = std::path::Path::new(source);
    if let Some(id) = history_id(source).filter(|_| !path.exists()) {
        let Ok(id) = id.parse::<i64>() else {
            bail!("report: {source:?} is not a history ID; give the number in the ID column of `wattlens history list`");
        };
        let ledger = history::existing(place.path()?)?;
        let (_, text) = ledger.report(id).context("report")?;
        return Ok((format!("history run {id}"), text));
    }
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "report: could not read {source} (give a footprint JSON file, `-` for stdin or a \
             history ID)"
        )
    })?;
    Ok((source.to_string(), text))
}

/// The digits of a SOURCE written as a history ID (`#12`, `h:12`, `12`), `None` for a path.
fn history_id(source: &str) -> Option<&str> {
    let digits = source
        .strip_prefix('#')
        .or_else(|| source.strip_prefix("h:"))
        .unwrap_or(source);
    let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    (all_digits || digits.len() < source.len()).then_some(digits)
}

/// Runs `wattlens report`.
pub fn run(args: &ReportArgs, place: &Place, out: &mut Output) -> Result<ExitStatus> {
    let format = args.format.as_str();
    if !matches!(
        format,
        "html" | "markdown" | "model-card" | "boamps" | "cyclonedx" | "spdx" | "sci"
    ) {
        bail!("--format: {format:?} is not a report format; use {FORMATS}");
    }
    // --per scores nothing else: `--format html --per "5 x"` was accepted and ignored.
    if args.per.is_some() && format != "sci" {
        bail!(
            "--per applies to --format sci only (the functional units of an SCI score); drop \
             --per, or give --format sci"
        );
    }
    let filtered =
        args.filter.since.is_some() || !args.filter.tags.is_empty() || args.filter.kind.is_some();
    let Some(source) = &args.source else {
        same_file(args, place.path().ok(), "the history ledger")?;
        let rendered = report_history::render(args, place)?;
        return write(args, &rendered, out);
    };
    if filtered {
        bail!(
            "report: --since, --tag and --kind pick runs for the history page; give them without \
             SOURCE (`wattlens report --since 30d --format html`), or drop them to render {source}"
        );
    }
    let per = match (&args.per, format) {
        (None, "sci") => bail!(
            "--per is required for --format sci: name the functional units the footprint covers, \
             as --per \"1000 requests\" or --per \"1 training run\""
        ),
        (Some(p), _) => Some(FunctionalUnit::parse(p).map_err(|e| match e {
            PerError::TooFew(_) | PerError::TooMany(_) => anyhow::anyhow!(
                "--per {p:?}: {e}; give the number of units the footprint covers, as \"1000 \
                 requests\" or \"1 training run\""
            ),
            _ => anyhow::anyhow!(
                "--per {p:?}: give a positive number and a unit, as \"1000 requests\" or \"1M \
                 requests\" (k, M, B, T as for counts)"
            ),
        })?),
        (None, _) => None,
    };
    let (read, what) = match source.as_str() {
        // Standard input redirected from a file is that file (hostile round 5: `report - -o
        // s.json < s.json` replaced its own input); a pipe has no identity and is never it.
        "-" => (
            Some(std::path::Path::new("/dev/stdin")),
            "SOURCE (standard input)",
        ),
        s if history_id(s).is_some() && !std::path::Path::new(s).exists() => {
            (place.path().ok(), "the history ledger")
        }
        s => (Some(std::path::Path::new(s)), "SOURCE"),
    };
    same_file(args, read, what)?;
    let (name, text) = read_source(source, place)?;
    // One check for every format (a missing figure was rendered as 0, exit 0; an infinite one
    // as `emissions: inf`; a negative duration as negative hours): exit 2 naming each field.
    let doc = Document::read(&text).map_err(|e| match e {
        DocumentError::Invalid(_) => {
            anyhow::anyhow!("report: {name}: {e} (was the file edited?)")
        }
        _ => anyhow::anyhow!("report: {name} is {e}"),
    })?;
    // R in requests must be the requests the footprint covers (its `requests` figure): a hostile
    // test read one request's footprint "per 1000 requests" and got an SCI 1,000x too low.
    if let (Some(p), Some(covered)) = (&per, doc.report.get(wattlens::figure::Figure::Requests)) {
        let unit = p.unit.trim_end_matches('s');
        let covered = covered.p50;
        if unit == "request" && (p.count - covered).abs() > 1e-9 * covered.max(1.0) {
            bail!(
                "--per \"{} {}\": {name} covers {} requests (its `requests` figure); give --per \"{} \
                 requests\" (the score is per one request either way), or estimate the number of \
                 requests you mean (estimate infer --requests N)",
                wattlens::uncertainty::fmt_input(p.count),
                p.unit,
                wattlens::uncertainty::fmt_input(covered),
                wattlens::uncertainty::fmt_input(covered)
            );
        }
    }
    let activity = match args.activity.as_deref() {
        None => Activity::of(doc.report.kind),
        Some("training") => Activity::Training,
        Some("fine-tuning") => Activity::FineTuning,
        Some("inference") => Activity::Inference,
        Some(other) => {
            bail!(
                "--activity: {other:?} is not an activity; use training, fine-tuning or inference"
            )
        }
    };
    let meta = Meta {
        generated_at: jiff::Timestamp::now()
            .round(jiff::Unit::Second)?
            .to_string(),
        wattlens_version: env!("CARGO_PKG_VERSION").to_string(),
        activity,
    };
    let r = &doc.report;
    let json =
        |v: serde_json::Value| -> Result<String> { Ok(serde_json::to_string_pretty(&v)? + "\n") };
    let rendered = match format {
        "html" => formats::html(&doc, &meta),
        "markdown" => wattlens::report::markdown(r, true),
        "model-card" => formats::model_card(r, &meta),
        "boamps" => json(formats::boamps(r, &meta))?,
        "cyclonedx" => json(formats::cyclonedx(r, &meta))?,
        "spdx" => json(formats::spdx(r, &meta))?,
        _ => match &per {
            Some(p) => formats::sci(r, p),
            None => bail!("--per is required for --format sci"),
        },
    };
    write(args, &rendered, out)
}

/// Refuses `-o FILE` naming the file the report reads (`what`: SOURCE, or the history ledger
/// a history ID or the history page reads), through a symbolic or hard link too: the page
/// would replace its own input (hostile round 4, item 3: `report self.json -o self.json`
/// turned the footprint into HTML, exit 0). The same check as `run --replay X --json X`.
///
/// # Errors
/// Naming `-o`, the file and what to do.
fn same_file(args: &ReportArgs, read: Option<&std::path::Path>, what: &str) -> Result<()> {
    use crate::output_file::identity;
    let (Some(o), Some(read)) = (&args.output, read) else {
        return Ok(());
    };
    if let (Some(a), Some(b)) = (identity(o), identity(read)) {
        if a == b {
            bail!(
                "-o and {what} name the same file {}: the page would replace what it is made \
                 from; give -o another file",
                o.display()
            );
        }
    }
    Ok(())
}

/// Writes the page to `-o FILE` or stdout.
fn write(args: &ReportArgs, rendered: &str, out: &mut Output) -> Result<ExitStatus> {
    match &args.output {
        // Whole or not at all: a full disk keeps the previous file.
        Some(path) => crate::output_file::replace(path, rendered.as_bytes())
            .with_context(|| format!("-o: could not write {}", path.display()))?,
        None => out.stdout(rendered)?,
    }
    Ok(ExitStatus::Success)
}
