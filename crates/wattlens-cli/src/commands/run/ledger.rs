//! After the outputs of `wattlens run`: the run recorded in the history ledger (a failure is a
//! warning for the caller), and the exit code once budgets are counted.

use crate::ExitStatus;
use anyhow::Result;

/// The exit code: the command's failure first, then a failed output file (2), then a budget
/// exceeded (1), else the command's own (0).
pub(super) fn status(exit: ExitStatus, written: bool, within_budget: bool) -> ExitStatus {
    match exit {
        ExitStatus::Code(c) if c != 0 => exit,
        _ if !written => ExitStatus::Error,
        _ if !within_budget => ExitStatus::Failure,
        _ => exit,
    }
}

/// The run in the history ledger: the report as `--json` writes it (windows included), the
/// start from the trace header, the program's name only (arguments can hold secrets).
pub(super) fn record(
    ledger: &crate::history::Place,
    header: &wattlens::source::replay::Header,
    command: &str,
    e: &wattlens::result::Report,
    windows: &[wattlens::measure::WindowFigures],
) -> Result<()> {
    if *ledger == crate::history::Place::Off {
        return Ok(());
    }
    let mut json = Vec::new();
    wattlens::report::write_run_json(&mut json, e, windows)?;
    let json = String::from_utf8(json)?;
    #[allow(clippy::cast_possible_truncation)]
    let started = jiff::Timestamp::from_millisecond((header.started_unix_s * 1e3).round() as i64)
        .unwrap_or_else(|_| jiff::Timestamp::now());
    let entry = crate::history::Entry {
        started,
        kind: "run",
        command,
        host: header.host.as_deref(),
        tags: &e.details.run().map(|r| r.tags.clone()).unwrap_or_default(),
        exit_code: e.details.run().and_then(|r| r.exit_code),
        json: &json,
    };
    crate::history::save(ledger, &entry, e).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::status;
    use crate::ExitStatus;

    #[test]
    fn the_commands_failure_comes_first_then_outputs_then_budgets() {
        let (ok, failed) = (ExitStatus::Code(0), ExitStatus::Code(4));
        assert_eq!(status(failed, false, false), failed);
        assert_eq!(status(ok, false, false), ExitStatus::Error);
        assert_eq!(status(ok, true, false), ExitStatus::Failure);
        assert_eq!(
            status(ExitStatus::Success, true, false),
            ExitStatus::Failure
        );
        assert_eq!(status(ok, true, true), ok);
    }
}
