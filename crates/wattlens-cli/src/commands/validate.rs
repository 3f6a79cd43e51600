//! `wattlens validate`: the estimators against the published figures of the disclosure tables,
//! as a table per row and a summary per split, or as JSON (`wattlens.validate/v1`).

use crate::cli::ValidateArgs;
use crate::{ExitStatus, Output};
use anyhow::{bail, Result};
use serde::Serialize;
use std::fmt::Write;
use wattlens::catalog::Catalog;
use wattlens::runner::McOptions;
use wattlens::uncertainty::fmt_human;
use wattlens::validate::{
    validate_infer, validate_train, Attempt, HoursCheck, InferValidation, Named, TrainOptions,
    TrainValidation,
};

/// The JSON schema name.
pub const SCHEMA: &str = "wattlens.validate/v1";

#[derive(Serialize)]
struct Json<'a, T: Serialize> {
    schema: &'static str,
    kind: &'static str,
    #[serde(flatten)]
    result: &'a T,
}

/// Runs `wattlens validate`.
pub fn run(args: &ValidateArgs, cat: &Catalog, out: &mut Output) -> Result<ExitStatus> {
    match args.kind.as_str() {
        "train" => {
            let o = TrainOptions {
                cross_validate: args.cross_validate,
                mc: McOptions {
                    threads: 1,
                    ..McOptions::default()
                },
            };
            let v = validate_train(cat, o)?;
            let text = if args.json {
                serde_json::to_string_pretty(&Json {
                    schema: SCHEMA,
                    kind: "train",
                    result: &v,
                })? + "\n"
            } else {
                train_text(&v)
            };
            out.stdout(&text)?;
            Ok(ExitStatus::Success)
        }
        "infer" => {
            if args.cross_validate {
                bail!("--cross-validate refits the training prior; --kind infer fits nothing (drop one)");
            }
            let mc = McOptions {
                threads: 1,
                ..McOptions::default()
            };
            let v = validate_infer(cat, mc)?;
            let text = if args.json {
                serde_json::to_string_pretty(&Json {
                    schema: SCHEMA,
                    kind: "infer",
                    result: &v,
                })? + "\n"
            } else {
                infer_text(&v)
            };
            out.stdout(&text)?;
            Ok(ExitStatus::Success)
        }
        other => {
            bail!("--kind {other:?} is not a kind of validation; use --kind train or --kind infer")
        }
    }
}

fn pct(x: f64) -> String {
    if x.is_nan() {
        "-".into()
    } else {
        format!("{:+.0}%", x * 100.0)
    }
}

fn hours_table(s: &mut String, rows: &[HoursCheck]) {
    let _ = writeln!(
        s,
        "  {:<22} {:<12} {:<11} {:>10} {:>10} {:>10} {:>10} {:>7} {:>6} {:>6}",
        "id", "family", "split", "published", "P5", "P50", "P95", "error", "inside", "u"
    );
    for r in rows {
        let _ = writeln!(
            s,
            "  {:<22} {:<12} {:<11} {:>10} {:>10} {:>10} {:>10} {:>7} {:>6} {:>6}{}",
            r.id,
            r.family,
            if r.bound.is_some() {
                "bound"
            } else {
                r.split.name()
            },
            fmt_human(r.published_h),
            fmt_human(r.p5_h),
            fmt_human(r.p50_h),
            fmt_human(r.p95_h),
            pct(r.error),
            if r.inside { "yes" } else { "no" },
            format!("{:.2}", r.implied_utilisation),
            r.bound.map_or(String::new(), |b| format!("  ({b})")),
        );
    }
}

fn summary_table(s: &mut String, rows: &[Named]) {
    let _ = writeln!(
        s,
        "  {:<22} {:>5} {:>9} {:>15} {:>12} {:>14} {:>7}",
        "", "rows", "families", "median |error|", "P5-P95 holds", "median P95/P5", "bias"
    );
    for n in rows {
        let m = &n.summary;
        let _ = writeln!(
            s,
            "  {:<22} {:>5} {:>9} {:>15} {:>12} {:>14} {:>7}",
            n.name,
            m.rows,
            m.families,
            pct(m.median_abs_error).trim_start_matches('+'),
            format!("{} of {}", m.inside, m.rows),
            if m.median_width.is_nan() {
                "-".into()
            } else {
                format!("{:.2}", m.median_width)
            },
            pct(m.bias),
        );
    }
}

/// A summary on one line: `|error| 14%, 5 of 5 inside, P95/P5 3.77`.
fn brief(s: &wattlens::validate::Summary) -> String {
    format!(
        "|error| {}, {} of {} inside, P95/P5 {:.2}",
        pct(s.median_abs_error).trim_start_matches('+'),
        s.inside,
        s.rows,
        s.median_width
    )
}

fn train_text(v: &TrainValidation) -> String {
    let mut s = String::new();
    let p = &v.prior;
    let _ = writeln!(
        s,
        "wattlens validate --kind train: accelerator-hours from parameters x tokens x accelerator alone, at the effective utilisation {} (log-uniform draw)",
        v.prior_used
    );
    let _ = writeln!(
        s,
        "shipped prior, fitted on the calibration half ({} runs of {} families: {}): form {}, {}, spread t95({}) x s = {:.3}",
        p.rows,
        p.families.len(),
        p.families.join(", "),
        p.form,
        p.equation,
        p.dof,
        p.fitted.spread
    );
    let _ = writeln!(
        s,
        "candidate forms (PRESS = leave-one-family-out mean squared error of ln u among the calibration families; held-back with each form's calibration fit):"
    );
    for c in &v.candidates {
        let _ = writeln!(
            s,
            "  {} PRESS {:<7} held-back {}{}\n     {}",
            c.form,
            c.press_calibration
                .map_or("inf".into(), |p| format!("{p:.4}")),
            c.held_back.as_ref().map_or("-".into(), brief),
            c.cross_validated
                .as_ref()
                .map_or(String::new(), |s| format!("; out-of-family {}", brief(s))),
            c.equation.as_deref().unwrap_or("(cannot be fitted)"),
        );
    }
    let sel = &v.selection;
    let _ = writeln!(
        s,
        "registered rule (lowest PRESS among the calibration families): {}\nsecond-level rule (stated after the registered rule's result was seen): ship the registered form only if its nested leave-one-family-out over all families is at least as good as C0's leave-one-family-out on median |error| and on coverage, else C0\n  {:<44} {}\n  {:<44} {}\nshipped: {} ({})",
        sel.registered,
        format!("{} procedure, nested leave-one-family-out:", sel.registered),
        brief(&sel.nested),
        "C0, leave-one-family-out:",
        brief(&sel.constant),
        sel.shipped,
        sel.reason
    );
    let _ = writeln!(
        s,
        "\naccelerator-hours (u = the published run's implied effective utilisation):"
    );
    hours_table(&mut s, &v.hours);
    let _ = writeln!(s, "\nsummary:");
    summary_table(&mut s, &v.hours_summary);
    if let Some(cv) = &v.cross_validated {
        let _ = writeln!(
            s,
            "\nleave-one-family-out, nested (each family predicted by the form chosen and fitted on the others):"
        );
        hours_table(&mut s, &cv.rows);
        let _ = writeln!(s);
        summary_table(
            &mut s,
            &[Named {
                name: "out-of-family".into(),
                summary: cv.summary.clone(),
            }],
        );
    }
    let _ = writeln!(
        s,
        "\nfacility energy from accelerator x count x days x PUE, MWh (* = published energy is itself hours x a nominal power: checks arithmetic, not truth; [gpu] = published energy is the accelerators' alone, compared with the accelerators' energy):"
    );
    let _ = writeln!(
        s,
        "  {:<34} {:<12} {:>10} {:>10} {:>10} {:>10} {:>7} {:>6}",
        "id", "family", "published", "P5", "P50", "P95", "error", "inside"
    );
    for e in &v.energy {
        let _ = writeln!(
            s,
            "  {:<34} {:<12} {:>10} {:>10} {:>10} {:>10} {:>7} {:>6}{}",
            format!(
                "{}{}",
                e.id,
                if e.from_nominal_power.is_some() {
                    "*"
                } else if e.scope == wattlens::validate::EnergyScope::Gpu {
                    " [gpu]"
                } else {
                    ""
                }
            ),
            e.family,
            fmt_human(e.published_mwh),
            fmt_human(e.p5_mwh),
            fmt_human(e.p50_mwh),
            fmt_human(e.p95_mwh),
            pct(e.error),
            if e.inside { "yes" } else { "no" },
            e.from_nominal_power
                .map_or(String::new(), |w| format!("  ({w})")),
        );
    }
    let _ = writeln!(s);
    summary_table(&mut s, &v.energy_summary);
    let _ = writeln!(s, "\nrows with no check:");
    for k in &v.skipped {
        let _ = writeln!(s, "  {}: {}", k.id, k.reason);
    }
    s
}

fn estimate_cells(e: Option<&Attempt>) -> String {
    match e.map(|a| a.estimate().ok_or(a)) {
        Some(Ok(e)) => format!(
            "{:>8} {:>8} {:>8} {:>6} {:>4}",
            fmt_human(e.p5_j),
            fmt_human(e.p50_j),
            fmt_human(e.p95_j),
            pct(e.error),
            if e.inside { "yes" } else { "no" }
        ),
        Some(Err(_)) => format!("{:^40}", "refused (see --json)"),
        None => format!("{:^40}", "no shape published (see below)"),
    }
}

fn infer_text(v: &InferValidation) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "wattlens validate --kind infer: accelerator energy per output token (J) from `estimate infer`, with --params/--active-params only and with the row's shape (layers, hidden size, KV heads, head dimension); the inference model is not fitted to these rows"
    );
    let _ = writeln!(
        s,
        "\n  {:<46} {:>5} {:>9} | {:>8} {:>8} {:>8} {:>6} {:>4} | {:>8} {:>8} {:>8} {:>6} {:>4}",
        "id",
        "batch",
        "published",
        "P5",
        "P50",
        "P95",
        "error",
        "in",
        "P5",
        "P50",
        "P95",
        "error",
        "in"
    );
    let _ = writeln!(
        s,
        "  {:<46} {:>5} {:>9} | {:^40} | {:^40}",
        "", "", "", "parameters only", "with the shape"
    );
    for c in &v.checks {
        let _ = writeln!(
            s,
            "  {:<46} {:>5} {:>9} | {} | {}",
            c.id,
            c.batch.map_or("-".to_string(), fmt_human),
            fmt_human(c.published_j_per_token),
            estimate_cells(Some(&c.params)),
            estimate_cells(c.shape.as_ref())
        );
    }
    for inputs in ["params", "shape"] {
        let _ = writeln!(
            s,
            "\nsummary, {}:",
            if inputs == "params" {
                "parameters only"
            } else {
                "with the shape"
            }
        );
        let named: Vec<Named> = v
            .summaries
            .iter()
            .filter(|x| x.inputs == inputs)
            .map(|x| Named {
                name: if x.refused > 0 {
                    format!("{} ({} refused)", x.set, x.refused)
                } else {
                    x.set.clone()
                },
                summary: x.summary.clone(),
            })
            .collect();
        summary_table(&mut s, &named);
    }
    let _ = writeln!(s, "\nrows with no check:");
    for k in &v.skipped {
        let _ = writeln!(s, "  {}: {}", k.id, k.reason);
    }
    for c in &v.checks {
        if let Some(why) = &c.no_shape {
            let _ = writeln!(s, "  {} (with the shape only): {why}", c.id);
        }
    }
    s
}
