//! An estimate through the public API alone: the embedded catalog, the inputs of a training run
//! (Llama 3.1 405B from its catalog preset, on H100s in a US data centre), resolve,
//! run, and the report printed as `wattlens.footprint/v1` JSON on stdout.
//!
//! Run it with `cargo run -p wattlens --example estimate`. The test suite runs the same code
//! (`tests/example_estimate.rs` includes this file and calls [`write_report`]).

use std::io::Write;

use wattlens::{
    name_fields, resolve, run_resolved, Catalog, Field, McOptions, Range, Report, SiteInputs,
    TrainInputs,
};

/// The estimate: Llama 3.1 405B trained on H100s in a US data centre of PUE 1.1 to 1.2, with
/// the default samples and seed (as the CLI has them): what `wattlens estimate train --model
/// llama-3.1-405b --grid us --pue 1.1..1.2 --json` prints, with inputs named by field, not flag.
///
/// # Errors
/// Those of resolving the inputs against the catalog (an unknown name, a contradiction).
pub fn estimate() -> wattlens::Result<Report> {
    let catalog = Catalog::embedded();
    let train = TrainInputs {
        // The preset gives the parameters, the 15.6T tokens and the accelerator (H100 SXM5).
        model: Some("llama-3.1-405b".into()),
        ..TrainInputs::default()
    };
    let site = SiteInputs {
        grid: Some("us".into()),
        pue: Some(Range::new(1.1, 1.2)),
        ..SiteInputs::default()
    };
    let resolved = resolve::train(&catalog, &train, &site)?;
    let mut report = run_resolved(resolved, McOptions::default());
    // Texts refer to inputs as `{field}`; a library caller names them in its own words.
    name_fields(&mut report, &|f: Field| f.name().to_string());
    Ok(report)
}

/// Writes the estimate as pretty `wattlens.footprint/v1` JSON, one line feed at the end.
///
/// # Errors
/// Those of [`estimate`], and of serialising or writing.
pub fn write_report(out: &mut impl Write) -> wattlens::Result<()> {
    let report = estimate()?;
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)?;
    Ok(())
}

fn main() -> wattlens::Result<()> {
    write_report(&mut std::io::stdout().lock())
}
