//! `meldpunt audit verify|show|export|report|purge`: the security officer's tools (docs/audit.md).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use jiff::Timestamp;

use crate::audit::{Audit, AuditKey};
use crate::config::Config;
use crate::layout::Layout;
use crate::state::State;

mod export;
mod report;
mod show;
mod verify;

/// Arguments of `meldpunt audit`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    command: AuditCommand,
}

/// `meldpunt audit …` commands.
#[derive(Debug, clap::Subcommand)]
enum AuditCommand {
    /// Check the hash chain, the signed checkpoints and the purge anchors (of this host's log,
    /// or of an export with --from); name the first bad event; exit 1 if anything is wrong.
    Verify(verify::Args),
    /// Show events, filtered by time, actor, action and outcome, as a table or JSON Lines.
    Show(show::Args),
    /// Write events (JSON Lines) and their signed checkpoints, verifiable on another machine
    /// with only the public key.
    Export(export::Args),
    /// The monthly review: per party and per day, with anomalies; text or JSON.
    Report(report::Args),
    /// Purge whole months of events older than [audit] retention_months, leaving a signed
    /// anchor (the daemon does this daily by itself).
    Purge(PurgeArgs),
}

/// Arguments of `meldpunt audit purge`.
#[derive(Debug, clap::Args)]
struct PurgeArgs {
    #[command(flatten)]
    config: super::ConfigArg,
}

/// Runs `meldpunt audit`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        AuditCommand::Verify(a) => verify::run(a),
        AuditCommand::Show(a) => show::run(a),
        AuditCommand::Export(a) => export::run(a),
        AuditCommand::Report(a) => report::run(a),
        AuditCommand::Purge(a) => purge(a),
    }
}

fn purge(a: PurgeArgs) -> anyhow::Result<ExitCode> {
    let (config, audit) = open(&a.config.config)?;
    let key = signing_key(&config)?;
    let before = crate::audit::retention::purge_boundary(Timestamp::now(), config.audit.retention_months);
    match audit.purge_blocking(&key, before)? {
        Some(a) => println!(
            "purged events 1..={} ({} by this purge, all before {}); signed anchor written",
            a.through, a.purged, a.before
        ),
        None => println!("nothing to purge: no event before {before:.3}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Loads the configuration and opens the audit log of its data directory (which must exist).
pub(crate) fn open(config: &Path) -> anyhow::Result<(Config, Audit)> {
    let config = super::load_config(config)?;
    let db = Layout::new(&config.data_dir).state_db();
    if !db.exists() {
        anyhow::bail!(
            "{}: no audit log here (data_dir of {}); check data_dir, or start the daemon once",
            db.display(),
            config.source.display()
        );
    }
    let state = State::open(&db).with_context(|| format!("opening {}", db.display()))?;
    Ok((config, Audit::open(state)?))
}

/// The daemon's audit key (created if there is none yet).
pub(crate) fn signing_key(config: &Config) -> anyhow::Result<AuditKey> {
    let path = Layout::new(&config.data_dir).audit_key();
    AuditKey::load_or_create(&path)
        .with_context(|| format!("the audit key {}: restore it from backup, or remove it to start a new one (the officer must then get the new public key)", path.display()))
}

/// A time given on the command line: RFC 3339, or a date `YYYY-MM-DD` (midnight,
/// Europe/Amsterdam).
pub(crate) fn parse_time(s: &str) -> Result<Timestamp, String> {
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    s.parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| d.to_zoned(crate::domain::period::zone()).ok())
        .map(|z| z.timestamp())
        .ok_or_else(|| format!("'{s}' is not a time: write 2026-11-01 or 2026-11-01T09:00:00Z"))
}

/// Reads a file given on the command line, naming it in the error.
pub(crate) fn read_file(path: &PathBuf, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("{}: cannot read {what}", path.display()))
}
