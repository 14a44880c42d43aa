//! `meldpunt keys audit-pub`: the public half of the audit key, for the officer.

use std::process::ExitCode;

use super::ConfigArg;

/// Arguments of `meldpunt keys`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    command: KeysCommand,
}

/// `meldpunt keys …` commands.
#[derive(Debug, clap::Subcommand)]
enum KeysCommand {
    /// Print the public key that verifies audit checkpoints (created with the key if there is
    /// none yet). Keep a copy off this host: `meldpunt audit verify --pubkey FILE` uses it.
    AuditPub(AuditPubArgs),
}

/// Arguments of `meldpunt keys audit-pub`.
#[derive(Debug, clap::Args)]
struct AuditPubArgs {
    #[command(flatten)]
    config: ConfigArg,
}

/// Runs `meldpunt keys`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let KeysCommand::AuditPub(a) = args.command;
    let config = super::load_config(&a.config.config)?;
    let key = super::audit::signing_key(&config)?;
    println!("{}", key.public());
    Ok(ExitCode::SUCCESS)
}
