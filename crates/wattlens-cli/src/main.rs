//! The `wattlens` binary: parses the command line, resolves settings, runs one command, prints
//! the whole error chain on failure and exits with a stable code (0 ok, 1 a budget or check
//! failed, 2 an error). A closed stdout pipe is success.

mod bounds;
mod cli;
mod commands;
mod env;

mod settings;

use clap::{CommandFactory, Parser};
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
            r => Ok(r?),
        }
    }
}

fn run() -> anyhow::Result<ExitStatus> {
    settings::unset_empty_env();
    let cli = cli::Cli::parse();
    let mut out = Output { closed: false };
    if let cli::Command::Completions { shell } = &cli.command {
        let mut buf = Vec::new();
        clap_complete::generate(*shell, &mut cli::Cli::command(), "wattlens", &mut buf);
        out.stdout(&String::from_utf8_lossy(&buf))?;
        return Ok(ExitStatus::Success);
    }
    let (cfg, cfg_dir) = settings::load_config(cli.config.as_deref())?;
    let cat = settings::catalog(cli.catalog.as_deref(), &cfg, cfg_dir.as_deref())?;
    match &cli.command {
        cli::Command::Estimate(cmd) => commands::estimate::run(cmd, &cat, &cfg, &mut out),
        cli::Command::Catalog(cmd) => commands::catalog::run(cmd, &cat, &mut out),
        cli::Command::Run(args) => commands::run::run(args, &cat, &cfg),
        cli::Command::Completions { .. } => Ok(ExitStatus::Success),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(s) => s.into(),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitStatus::Error.into()
        }
    }
}
