//! The `wattlens` binary: parses the command line, resolves settings, runs one command, prints
//! the whole error chain on failure and exits with a stable code (0 ok, 1 a budget or check
//! failed, 2 an error). A closed stdout or stderr pipe is success: it never panics and never
//! stops a result file from being written.

/// `eprintln!` for this whole binary (declared before the modules, so it shadows the standard
/// one in every one of them): writes to stderr and ignores a write error, where the standard
/// macro panics. A closed stderr (`wattlens run ... 2>&1 | head -1`) must not cost a measurement:
/// the `--json`/`--csv` files are still written and the exit code is still the command's.
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let _ = ::std::writeln!(::std::io::stderr().lock(), $($arg)*);
    }};
}

/// `eprint!` that ignores a write error, as [`eprintln!`] above.
macro_rules! eprint {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let _ = ::std::write!(::std::io::stderr().lock(), $($arg)*);
    }};
}

mod bounds;
mod cli;
mod commands;
mod data_units;
mod env;
mod flags;
mod history;
mod output_file;
mod series;

mod settings;

use clap::CommandFactory;
use clap::Parser as _;
use std::io::Write;
use std::process::ExitCode;

/// How the process ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything worked.
    Success,
    /// A budget (`--max-carbon`, `--max-energy`) or check failed.
    Failure,
    /// Bad input or another error.
    Error,
    /// A measured command's own exit code (`wattlens run`).
    Code(u8),
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> Self {
        ExitCode::from(match s {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Error => 2,
            ExitStatus::Code(c) => c,
        })
    }
}

/// Where command output goes; remembers a closed pipe so the process can end quietly.
pub struct Output {
    closed: bool,
}

impl Output {
    /// Writes to stdout; a broken pipe stops further output without an error.
    pub fn stdout(&mut self, text: &str) -> anyhow::Result<()> {
        if self.closed {
            return Ok(());
        }
        let mut lock = std::io::stdout().lock();
        match lock.write_all(text.as_bytes()).and_then(|()| lock.flush()) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            r => {
                use anyhow::Context;
                r.context("cannot write the output to stdout")
            }
        }
    }
}

fn run() -> anyhow::Result<ExitStatus> {
    settings::unset_empty_env();
    let cli = cli::Cli::try_parse().unwrap_or_else(|e| without_trailing_tip(e).exit());
    let mut out = Output { closed: false };
    if let cli::Command::Completions { shell } = &cli.command {
        let mut buf = Vec::new();
        clap_complete::generate(*shell, &mut cli::Cli::command(), "wattlens", &mut buf);
        out.stdout(&String::from_utf8_lossy(&buf))?;
        return Ok(ExitStatus::Success);
    }
    let (cfg, cfg_dir) = settings::load_config(cli.config.as_deref())?;
    let cat = settings::catalog(cli.catalog.as_deref(), &cfg, cfg_dir.as_deref())?;
    if !matches!(cli.command, cli::Command::Catalog(_)) {
        settings::check_config_names(&cfg.site, &cat)?;
    }
    let ledger = history::Place::resolve(cli.history.as_deref(), cli.no_history);
    match &cli.command {
        cli::Command::Estimate(cmd) => commands::estimate::run(cmd, &cat, &cfg, &mut out, &ledger),
        cli::Command::Catalog(cmd) => commands::catalog::run(cmd, &cat, &mut out),
        cli::Command::Run(args) => commands::run::run(args, &cat, &cfg, &ledger),
        cli::Command::Plan(cmd) => commands::plan::run(cmd, &cat, &cfg, &mut out),
        cli::Command::Validate(args) => commands::validate::run(args, &cat, &mut out),
        cli::Command::History(args) => commands::history::run(args, &ledger, &mut out),
        cli::Command::Report(args) => commands::report::run(args, &ledger, &mut out),
        cli::Command::Agent(args) => commands::agent::run(args, &cat, &cfg),
        cli::Command::Config(cli::ConfigCommand::Init) => commands::agent::config::init(&mut out),
        cli::Command::Completions { .. } => Ok(ExitStatus::Success),
    }
}

/// A mistyped flag's error without clap's tip "to pass '--gird' as a value, use '-- --gird'",
/// which would make the typo the command `run` measures; for `run`, a tip that says where its
/// flags and the command go instead.
fn without_trailing_tip(mut e: clap::Error) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::UnknownArgument {
        return e;
    }
    let mut tips = match e.get(ContextKind::Suggested) {
        Some(ContextValue::StyledStrs(v)) => v.clone(),
        _ => Vec::new(),
    };
    tips.retain(|t| !t.to_string().contains("as a value, use"));
    let in_run = matches!(e.get(ContextKind::Usage), Some(ContextValue::StyledStr(u))
        if u.to_string().contains("wattlens run"));
    if in_run {
        tips.push(clap::builder::StyledStr::from(
            "wattlens' flags go before `--`, the command and its arguments after it: \
             `wattlens run [OPTIONS] -- CMD [ARGS]...`",
        ));
    }
    if tips.is_empty() {
        e.remove(ContextKind::Suggested);
    } else {
        e.insert(ContextKind::Suggested, ContextValue::StyledStrs(tips));
    }
    e
}

/// The error and its causes on one line, `error: ` first (clap's style), each cause once: an
/// error whose message already quotes its cause (`FILE: No such file or directory (os error
/// 2)`) does not get it a second time.
fn error_line(e: &anyhow::Error) -> String {
    let mut line = String::from("error: ");
    let mut last = String::new();
    for (i, cause) in e.chain().enumerate() {
        // The library names its inputs by field; the terminal says the flag.
        let text = if let Some(e) = cause.downcast_ref::<wattlens::estimate::EstimateError>() {
            flags::error(e)
        } else if let Some(e) = cause.downcast_ref::<wattlens::plan::PlanError>() {
            flags::plan_error(e)
        } else {
            cause.to_string()
        };
        if i > 0 && last.contains(&text) {
            continue;
        }
        if i > 0 {
            line.push_str(": ");
        }
        line.push_str(&text);
        last = text;
    }
    // A 309-digit number (1e308 as `{}` prints it) is written short.
    wattlens::input::short_numbers(&line)
}

fn main() -> ExitCode {
    match run() {
        Ok(s) => s.into(),
        Err(e) => {
            eprintln!("{}", error_line(&e));
            ExitStatus::Error.into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::error_line;
    use anyhow::Context;

    #[test]
    fn a_cause_already_quoted_by_its_error_is_printed_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file (os error 2)");
        #[derive(Debug)]
        struct Quoting {
            source: std::io::Error,
        }
        impl std::fmt::Display for Quoting {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "x.toml: {}", self.source)
            }
        }
        impl std::error::Error for Quoting {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.source)
            }
        }
        let e: anyhow::Result<()> = Err(Quoting { source: io }).context("--catalog");
        let line = error_line(&e.expect_err("an error"));
        assert_eq!(line, "error: --catalog: x.toml: No such file (os error 2)");
    }
}
