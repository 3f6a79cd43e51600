//! `wattlens estimate train|infer|fleet|datacenter ... --vary KEY=V1,V2 [--cross]`: what-if
//! variants of an estimate. Each variant is the command line itself with one flag replaced (or
//! added), parsed and resolved by the command's own path, so every input flag is a key and its
//! values are checked as the flag checks them; the baseline and the variants are then
//! evaluated on the same random draws ([`wattlens::vary::changes`]).

mod args;
mod render;
mod save;

use crate::cli::{EstimateCommand, OutputArgs, SiteArgs};
use crate::commands::estimate::{self, Ready};
use crate::settings::Config;
use crate::{ExitStatus, Output};
use anyhow::{bail, Context, Result};
use args::Variant;
use wattlens::catalog::Catalog;
use wattlens::result::Report;
use wattlens::runner::{Columns, Evaluate};
use wattlens::vary::{Changes, CHANGE_FIGURES};

/// The most variants one command runs (with `--cross`, the product of the value counts).
pub const MAX_VARIANTS: usize = 1_000;

/// The output and sampling flags of an estimate command.
fn output(cmd: &EstimateCommand) -> &OutputArgs {
    match cmd {
        EstimateCommand::Train(a) => &a.out,
        EstimateCommand::Fleet(a) => &a.out,
        EstimateCommand::Infer(a) => &a.out,
        EstimateCommand::Datacenter(a) => &a.out,
    }
}

/// Whether the command asks for variants.
pub fn wanted(cmd: &EstimateCommand) -> bool {
    !output(cmd).vary.is_empty()
}

/// A baseline or variant, run: its result and the samples of the figures it is paired on.
struct Row {
    report: Report,
    kept: Columns,
}

/// The whole what-if result: the baseline, each variant with what it changed, and the paired
/// changes.
pub(crate) struct Outcome {
    /// `estimate train` ...
    pub command: String,
    /// The baseline's result.
    pub baseline: Report,
    /// Each variant's result and its `(key, value)` pairs.
    pub variants: Vec<(Report, Vec<(String, String)>)>,
    /// The paired changes, one list per variant.
    pub changes: Changes,
}

/// Runs the baseline and its variants and prints the table (or JSON, CSV, Markdown).
pub fn run(
    cmd: &EstimateCommand,
    cat: &Catalog,
    cfg: &Config,
    out: &mut Output,
    ledger: &crate::history::Place,
) -> Result<ExitStatus> {
    let started = jiff::Timestamp::now();
    let o = output(cmd);
    refuse_with(o)?;
    let (sub, variants) = args::variants(cmd)?;
    let outcome = match cmd {
        EstimateCommand::Train(a) => {
            let vs = args::each(&variants, |c| match c {
                EstimateCommand::Train(v) => Some(v),
                _ => None,
            })?;
            paired(
                a,
                &vs,
                &variants,
                |a| estimate::train_ready(a, cat, cfg),
                |e, a| estimate::train_checks(e, a),
                |a| &a.site,
                cfg,
            )?
        }
        EstimateCommand::Infer(a) => {
            let vs = args::each(&variants, |c| match c {
                EstimateCommand::Infer(v) => Some(v),
                _ => None,
            })?;
            paired(
                a,
                &vs,
                &variants,
                |a| estimate::infer_ready(a, cat, cfg),
                |_, _| Ok(()),
                |a| &a.site,
                cfg,
            )?
        }
        EstimateCommand::Fleet(a) => {
            let vs = args::each(&variants, |c| match c {
                EstimateCommand::Fleet(v) => Some(v),
                _ => None,
            })?;
            paired(
                a,
                &vs,
                &variants,
                |a| match estimate::fleet_ready(a, cat, cfg)? {
                    estimate::Fleet::Ready(r) => Ok(*r),
                    estimate::Fleet::Growth(_) => bail!(
                        "--vary works on one estimate, not on a --years trajectory; run the \
                         trajectory with each value instead"
                    ),
                },
                |_, _| Ok(()),
                |a| &a.site,
                cfg,
            )?
        }
        EstimateCommand::Datacenter(a) => {
            let vs = args::each(&variants, |c| match c {
                EstimateCommand::Datacenter(v) => Some(v),
                _ => None,
            })?;
            paired(
                a,
                &vs,
                &variants,
                |a| estimate::datacenter_ready(a, cat, cfg),
                |_, _| Ok(()),
                |a| &a.site,
                cfg,
            )?
        }
    };
    let outcome = Outcome {
        command: format!("estimate {sub}"),
        ..outcome
    };
    out.stdout(&render::render(&outcome, o)?)?;
    if o.save {
        save::save(&outcome, started, ledger);
    }
    Ok(ExitStatus::Success)
}

/// Flags that judge or explain one estimate, refused beside `--vary` with what to do.
fn refuse_with(o: &OutputArgs) -> Result<()> {
    if o.compare.is_some() {
        bail!(
            "--vary cannot be combined with --compare: --compare puts one estimate beside \
             another result; run the baseline (or one variant's flags) alone with --compare"
        );
    }
    if o.explain {
        bail!(
            "--vary cannot be combined with --explain: run the baseline or a variant alone \
             with --explain for its steps"
        );
    }
    for (flag, given) in [
        ("--max-carbon", o.max_carbon.is_some()),
        ("--max-energy", o.max_energy.is_some()),
    ] {
        if given {
            bail!(
                "--vary cannot be combined with {flag}: a budget judges one estimate; run the \
                 estimate you mean to hold to it without --vary"
            );
        }
    }
    Ok(())
}

/// Resolves, runs and checks the baseline and every variant (each variant's errors named by
/// its `--vary`), then their paired changes.
fn paired<A: Sync, M: Evaluate + Sync + Send>(
    base: &A,
    vs: &[&A],
    variants: &[Variant],
    ready: impl Fn(&A) -> Result<Ready<M>>,
    checks: impl Fn(&mut Report, &A) -> Result<()> + Sync,
    site: fn(&A) -> &SiteArgs,
    cfg: &Config,
) -> Result<Outcome> {
    // Every run keeps its samples of the figures it is paired on: the baseline and the
    // variants share the seed and the samples, so sample i of each is sample i of the others.
    let finish = |r: Ready<M>, a: &A| -> Result<Row> {
        let (mut e, kept) = r.run_keeping(&CHANGE_FIGURES);
        checks(&mut e, a)?;
        crate::flags::name_fields(&mut e, site(a), &cfg.site);
        estimate::finite(&e, site(a), &cfg.site)?;
        Ok(Row { report: e, kept })
    };
    let b = ready(base)?;
    let baseline = finish(b, base)?;
    // Every variant resolved first (its errors in the order given), then run on two threads.
    let mut ready_ones: Vec<Ready<M>> = Vec::with_capacity(vs.len());
    for (a, v) in vs.iter().zip(variants) {
        ready_ones.push(ready(a).with_context(|| format!("--vary {}", v.label()))?);
    }
    let half = ready_ones.len() / 2;
    let second = ready_ones.split_off(half);
    let run_all = |list: Vec<Ready<M>>, args: &[&A]| -> Vec<Result<Row>> {
        list.into_iter()
            .zip(args)
            .map(|(r, a)| finish(r, a))
            .collect()
    };
    let (a1, a2) = vs.split_at(half);
    let results: Vec<Result<Row>> = std::thread::scope(|s| {
        let h = s.spawn(|| run_all(second, a2));
        let mut first = run_all(ready_ones, a1);
        first.extend(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        first
    });
    let rows = results
        .into_iter()
        .zip(variants)
        .map(|(r, v)| r.with_context(|| format!("--vary {}", v.label())))
        .collect::<Result<Vec<Row>>>()?;
    let kept: Vec<&Columns> = rows.iter().map(|r| &r.kept).collect();
    let mut changes = wattlens::vary::changes_of(&baseline.kept, &kept);
    // A cost in another currency (another grid's) has no difference in money.
    for (c, r) in changes.variants.iter_mut().zip(&rows) {
        if r.report.currency != baseline.report.currency {
            c.retain(|(f, _)| *f != wattlens::figure::Figure::Cost);
        }
    }
    Ok(Outcome {
        command: String::new(),
        baseline: baseline.report,
        variants: rows
            .into_iter()
            .zip(variants)
            .map(|(mut r, v)| {
                if !v.replaced.is_empty() {
                    r.report.notes.insert(
                        0,
                        format!(
                            "--vary {}: a compound variant; it replaces the baseline's {}",
                            v.label(),
                            v.replaced.join(", ")
                        ),
                    );
                }
                (r.report, v.pairs.clone())
            })
            .collect(),
        changes,
    })
}
