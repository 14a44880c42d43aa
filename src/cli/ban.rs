//! `meldpunt ban list|remove`: the origins the daemon's defender banned, and lifting a ban.
//!
//! Bans live in the state database (`bans`), so this command sees what the running daemon
//! decided; the daemon re-reads the table every 2 seconds, so a removed ban stops being
//! enforced within seconds. Lifting a ban is audited (`unban`, actor `operator`).

use std::net::IpAddr;
use std::process::ExitCode;

use serde_json::json;

use super::ConfigArg;
use crate::audit::{Event, Outcome};
use crate::state::bans;

/// Arguments of `meldpunt ban`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    command: BanCommand,
}

/// `meldpunt ban …` commands.
#[derive(Debug, clap::Subcommand)]
enum BanCommand {
    /// List the origins banned now: address, since, until (UTC), ban number, reason.
    List(ListArgs),
    /// Lift the ban of an address (and forget its earlier bans); the daemon lets it in again
    /// within seconds.
    Remove(RemoveArgs),
}

/// Arguments of `meldpunt ban list`.
#[derive(Debug, clap::Args)]
struct ListArgs {
    #[command(flatten)]
    config: ConfigArg,
}

/// Arguments of `meldpunt ban remove`.
#[derive(Debug, clap::Args)]
struct RemoveArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// The banned IP address, as `ban list` shows it.
    address: IpAddr,
}

/// Runs `meldpunt ban`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        BanCommand::List(a) => list(a),
        BanCommand::Remove(a) => remove(a),
    }
}

fn list(a: ListArgs) -> anyhow::Result<ExitCode> {
    let app = super::open_app(&a.config.config)?;
    let active = bans::active(&app.state().lock(), jiff::Timestamp::now().as_second())?;
    if active.is_empty() {
        println!("no origin is banned");
        return Ok(ExitCode::SUCCESS);
    }
    let at = |s: i64| jiff::Timestamp::from_second(s).map_or_else(|_| s.to_string(), |t| format!("{t:.0}"));
    println!("{:<40} {:<20} {:<20} {:>4} reason", "origin", "since", "until", "ban");
    for b in &active {
        println!("{:<40} {:<20} {:<20} {:>4} {}", b.origin, at(b.since), at(b.until), b.strikes, b.reason);
    }
    Ok(ExitCode::SUCCESS)
}

fn remove(a: RemoveArgs) -> anyhow::Result<ExitCode> {
    let app = super::open_app(&a.config.config)?;
    let origin = a.address.to_string();
    let now = jiff::Timestamp::now().as_second();
    let lifted = app.audit().emit_built_blocking(|tx| {
        Ok(bans::remove(tx, &origin, now)?.then(|| {
            Event::new("operator", "unban", Outcome::Ok)
                .object(json!({ "address": origin, "reason": "lifted" }))
        }))
    })?;
    if lifted.is_none() {
        eprintln!("{origin} is not banned; `meldpunt ban list` shows the banned origins");
        return Ok(ExitCode::FAILURE);
    }
    println!("lifted the ban of {origin}; the daemon lets it in again within 2 seconds");
    Ok(ExitCode::SUCCESS)
}
