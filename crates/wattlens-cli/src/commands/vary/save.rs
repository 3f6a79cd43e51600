//! `--save` with `--vary`/`--cross`: the baseline and every variant recorded in the run history,
//! one row each, tagged `vary=baseline` or `vary=KEY=VALUE` (`vary=pue=1.1 grid=FR` for a
//! `--cross` variant), so that `history list --tag vary=baseline` finds the baseline and `history
//! diff` compares any two. It was silently ignored (hostile round 4, item 4). As a plain
//! estimate's `--save`: after the output, and a failure is a warning that leaves the exit code.

use super::Outcome;
use crate::history::{self, tags, Entry, Ledger, Place};
use anyhow::Result;
use std::collections::BTreeMap;
use wattlens::result::Report;

/// Records the baseline and each variant of `outcome`; a failure is a warning on stderr.
pub(super) fn save(outcome: &Outcome, started: jiff::Timestamp, place: &Place) {
    if let Err(err) = save_all(outcome, started, place) {
        eprint!("{}", history::warning(&err));
    }
}

/// The `vary` tag of a variant: its `KEY=VALUE` pairs (`variant N` where a value holds a
/// character a tag may not hold, such as `;`).
fn label(pairs: &[(String, String)], n: usize) -> String {
    let l: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let l = l.join(" ");
    if tags::forbidden(&l).is_some() {
        format!("variant {n}")
    } else {
        l
    }
}

fn save_all(outcome: &Outcome, started: jiff::Timestamp, place: &Place) -> Result<()> {
    let path = match place {
        Place::Off => return Ok(()),
        p => p.path()?,
    };
    let mut ledger = Ledger::open(path)?;
    let host = history::host_name();
    let rows = std::iter::once(("baseline".to_string(), &outcome.baseline)).chain(
        outcome
            .variants
            .iter()
            .enumerate()
            .map(|(i, (r, pairs))| (label(pairs, i + 1), r)),
    );
    for (vary, report) in rows {
        record(
            &mut ledger,
            &outcome.command,
            started,
            host.as_deref(),
            &vary,
            report,
        )?;
    }
    Ok(())
}

fn record(
    ledger: &mut Ledger,
    command: &str,
    started: jiff::Timestamp,
    host: Option<&str>,
    vary: &str,
    e: &Report,
) -> Result<()> {
    // The bytes `--json` prints for this estimate alone.
    let json = serde_json::to_string_pretty(&serde_json::to_value(e)?)? + "\n";
    let tags = BTreeMap::from([("vary".to_string(), vary.to_string())]);
    let entry = Entry {
        started,
        kind: "estimate",
        command,
        host,
        tags: &tags,
        exit_code: None,
        json: &json,
    };
    ledger.record(&entry, e)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::label;

    #[test]
    fn a_variant_is_tagged_by_its_pairs_or_its_number() {
        let p = |kv: &[(&str, &str)]| -> Vec<(String, String)> {
            kv.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect()
        };
        assert_eq!(label(&p(&[("pue", "1.1")]), 1), "pue=1.1");
        assert_eq!(
            label(&p(&[("pue", "1.1"), ("grid", "FR")]), 2),
            "pue=1.1 grid=FR"
        );
        assert_eq!(label(&p(&[("x", "a;b")]), 3), "variant 3");
    }
}
