//! `meldpunt keys`: the public half of the audit key, for the officer; the receipt keys'
//! allowed-signers lines, for creditors; rotating the receipt key.

use std::process::ExitCode;

use super::ConfigArg;
use crate::audit::{Event, Outcome};
use crate::signature::{allowed_signers_line, sshsig};

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
    AuditPub(ConfigOnly),
    /// Print the allowed-signers lines that verify signed receipts and batch reports with
    /// `ssh-keygen -Y verify`: one per key, the retired ones first. Publish them all.
    ReceiptPub(ConfigOnly),
    /// Replace the receipt signing key with a new one. The old public key stays in
    /// `receipt-pub`, so what it signed keeps verifying; publish the new lines.
    RotateReceipt(ConfigOnly),
}

/// Arguments of a `meldpunt keys` command: the configuration only.
#[derive(Debug, clap::Args)]
struct ConfigOnly {
    #[command(flatten)]
    config: ConfigArg,
}

/// Runs `meldpunt keys`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        KeysCommand::AuditPub(a) => {
            let config = super::load_config(&a.config.config)?;
            let key = super::audit::signing_key(&config)?;
            println!("{}", key.public());
        }
        KeysCommand::ReceiptPub(a) => {
            let app = super::open_app(&a.config.config)?;
            for (key, current) in app.signer().public_keys()? {
                let which = if current { "current" } else { "retired" };
                println!("# {which} receipt key {}", sshsig::fingerprint(&key));
                println!("{}", allowed_signers_line(&key));
            }
        }
        KeysCommand::RotateReceipt(a) => {
            let app = super::open_app(&a.config.config)?;
            let (old, new) = app.signer().rotate()?;
            let ev = Event::new("operator", "receipt_key_rotated", Outcome::Ok)
                .object(serde_json::json!({ "fingerprint": new, "previous": old }));
            app.audit().emit_blocking(ev)?;
            println!("receipt key rotated: {old} retired, {new} signs from now on");
            println!("publish the lines of `meldpunt keys receipt-pub` (the retired key's line stays)");
        }
    }
    Ok(ExitCode::SUCCESS)
}
