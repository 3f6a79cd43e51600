//! `wattlens report SOURCE --format FORMAT`: a footprint JSON rendered as HTML, Markdown, a
//! Hugging Face model card, BoAmps, CycloneDX, SPDX or an SCI score. SOURCE resolution is
//! [`read_source`] (a file, `-` for stdin; history IDs are reserved for the history ledger).

use crate::cli::ReportArgs;
use crate::{ExitStatus, Output};
use anyhow::{bail, Context, Result};
use std::io::Read;
use wattlens::report::formats::{self, Activity, Document, FunctionalUnit, Meta};

const FORMATS: &str = "html, markdown, model-card, boamps, cyclonedx, spdx or sci";

/// Reads SOURCE: `-` is stdin, a path is a footprint JSON file; a history ID (`#12`, `h:12` or
/// digits only that name no file) is refused until the history ledger lands.
pub fn read_source(source: &str) -> Result<(String, String)> {
    if source == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("report: could not read the footprint JSON from stdin")?;
        return Ok(("stdin".into(), text));
    }
    let path = std::path::Path::new(source);
    let looks_like_id = source.starts_with('#')
        || source.starts_with("h:")
        || (!source.is_empty() && source.bytes().all(|b| b.is_ascii_digit()));
    if looks_like_id && !path.exists() {
        bail!(
            "report: {source:?} looks like a history ID, and history IDs need the history ledger \
             (not in this build); give a footprint JSON file (`wattlens run --json FILE ...`) or \
             `-` for stdin"
        );
    }
    let text = std::fs::read_to_string(path).with_context(|| {
        format!("report: could not read {source} (give a footprint JSON file or `-` for stdin)")
    })?;
    Ok((source.to_string(), text))
}

/// Runs `wattlens report`.
pub fn run(args: &ReportArgs, out: &mut Output) -> Result<ExitStatus> {
    let format = args.format.as_str();
    if !matches!(
        format,
        "html" | "markdown" | "model-card" | "boamps" | "cyclonedx" | "spdx" | "sci"
    ) {
        bail!("--format: {format:?} is not a report format; use {FORMATS}");
    }
    let per = match (&args.per, format) {
        (None, "sci") => bail!(
            "--per is required for --format sci: name the functional units the footprint covers, \
             as --per \"1000 requests\" or --per \"1 training run\""
        ),
        (Some(p), _) => Some(FunctionalUnit::parse(p).with_context(|| {
            format!("--per {p:?}: give a positive number and a unit, as \"1000 requests\"")
        })?),
        (None, _) => None,
    };
    let (name, text) = read_source(&args.source)?;
    let doc = Document::from_json(&text)
        .with_context(|| format!("report: {name} is not a wattlens.footprint/v1 JSON"))?;
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
    match &args.output {
        Some(path) => std::fs::write(path, rendered)
            .with_context(|| format!("-o: could not write {}", path.display()))?,
        None => out.stdout(&rendered)?,
    }
    Ok(ExitStatus::Success)
}
