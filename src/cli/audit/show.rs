//! `meldpunt audit show`: events filtered, as a table or JSON Lines, always escaped.

use std::io::Write;
use std::process::ExitCode;

use jiff::Timestamp;

use crate::audit::{Outcome, Record};
use crate::audit::{actions, escape};

/// Arguments of `meldpunt audit show`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    config: super::super::ConfigArg,
    /// Events at or after this time (2026-11-01 or RFC 3339).
    #[arg(long, value_parser = super::parse_time)]
    since: Option<Timestamp>,
    /// Events before this time.
    #[arg(long, value_parser = super::parse_time)]
    until: Option<Timestamp>,
    /// Only this actor: `creditor:<id>`, `gemeente:<code>`, `system`, `operator`, `unknown`.
    #[arg(long)]
    actor: Option<String>,
    /// Only this action, e.g. `login`, `upload`, `batch`, `pickup` (an unknown one is refused).
    #[arg(long)]
    action: Option<String>,
    /// Only this outcome.
    #[arg(long, value_parser = ["ok", "denied", "error"])]
    outcome: Option<String>,
    /// JSON Lines (the export format, without checkpoints) instead of a table.
    #[arg(long)]
    json: bool,
}

/// Prints the matching events.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let (_, audit) = super::open(&a.config.config)?;
    if let Some(action) = &a.action
        && !actions::is_known(action)
        && !audit.has_action(action)?
    {
        anyhow::bail!(
            "no such audit action `{}`; the actions are: {}",
            crate::audit::escape::text(action),
            actions::ACTIONS.join(", ")
        );
    }
    let since = a.since.map(|t| format!("{t:.3}"));
    let until = a.until.map(|t| format!("{t:.3}"));
    let keep = |r: &Record| {
        until.as_ref().is_none_or(|u| r.ts < *u)
            && a.actor.as_ref().is_none_or(|x| &r.actor == x)
            && a.action.as_ref().is_none_or(|x| &r.action == x)
            && a.outcome.as_ref().is_none_or(|x| r.outcome.as_str() == x)
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if !a.json {
        out.write_all(header().as_bytes())?;
    }
    let (mut shown, mut failed) = (0u64, None);
    audit.scan(since.as_deref(), &mut |r| {
        if !keep(&r) {
            return true;
        }
        shown += 1;
        let line = if a.json { escape::json(&r) } else { row(&r) };
        match writeln!(out, "{line}") {
            Ok(()) => true,
            Err(e) => {
                failed = Some(e);
                false
            }
        }
    })?;
    match failed {
        // A closed pipe (`| head`) ends the listing quietly.
        Some(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        Some(e) => return Err(e.into()),
        None => {}
    }
    if !a.json {
        writeln!(out, "{shown} event(s)")?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The table header.
fn header() -> String {
    format!(
        "{:>6}  {:<24}  {:<22}  {:<14}  {:<7}  {:<22}  {}\n",
        "seq", "ts", "actor", "action", "outcome", "origin", "object"
    )
}

/// One event as a table row; every field escaped (no control character reaches the terminal).
pub fn row(r: &Record) -> String {
    let outcome = match r.outcome {
        Outcome::Ok => "ok",
        Outcome::Denied => "DENIED",
        Outcome::Error => "ERROR",
    };
    format!(
        "{:>6}  {:<24}  {:<22}  {:<14}  {:<7}  {:<22}  {}",
        r.seq,
        escape::text(&r.ts),
        escape::text(&r.actor),
        escape::text(&r.action),
        outcome,
        escape::text(r.origin.as_deref().unwrap_or("-")),
        escape::json(&r.object)
    )
}
