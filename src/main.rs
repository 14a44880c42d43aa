//! The meldpunt command line.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// mimalloc: the validator allocates and frees small strings per record. Built without its
/// transparent-huge-page advice (`no_thp`): the batch frees and re-allocates much memory, and
/// each 2 MiB huge page it faults in again is zeroed whole (measured: ~14 % of a batch's CPU).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = meldpunt::cli::Cli::parse();
    // The demo talks to a person: its own output says what happens, so only warnings are logged.
    let default = match cli.command {
        meldpunt::cli::Command::Demo(_) => "warn",
        _ => "info,russh=warn,russh_sftp=warn",
    };
    let filter = EnvFilter::try_from_env("MELDPUNT_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    // Colour only for a person at a terminal: a file, pipe or journald gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    if cli.log_json {
        builder.json().init();
    } else {
        builder.init();
    }
    match meldpunt::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
