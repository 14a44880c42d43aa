//! `meldpunt status`: where the installation stands, for the operator — which period files
//! go to now, the batch schedule, each period held (files, batch, shred date) and the bundles
//! municipalities have not picked up. Read-only; ids, codes, dates and counts only.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::process::ExitCode;

use jiff::Timestamp;

use super::ConfigArg;
use crate::batch::schedule;
use crate::config::Config;
use crate::domain::period::{Period, zone};
use crate::layout::Layout;
use crate::state::State;
use crate::state::batches::{self, BatchStatus};

/// Arguments of `meldpunt status`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    config: ConfigArg,
    /// Describe the installation as at this moment (RFC 3339) instead of now.
    #[arg(long, hide = true)]
    at: Option<Timestamp>,
}

/// Runs `meldpunt status`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = super::load_config(&args.config.config)?;
    let layout = Layout::new(&config.data_dir);
    let db = layout.state_db();
    if !db.exists() {
        println!(
            "no installation at {} yet: `meldpunt serve --config {}` makes it",
            config.data_dir.display(),
            args.config.config.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let state = State::open(&db)?;
    let now = args.at.unwrap_or_else(Timestamp::now);
    print!("{}", report(&config, &layout, &state, now)?);
    Ok(ExitCode::SUCCESS)
}

/// How many municipalities with bundles waiting are named.
const PICKUP_SHOWN: usize = 12;

/// A local (Amsterdam) moment as `YYYY-MM-DD HH:MM`.
fn local(t: Timestamp) -> String {
    t.to_zoned(zone()).strftime("%Y-%m-%d %H:%M").to_string()
}

/// The status text of the installation at `now`.
pub fn report(config: &Config, layout: &Layout, state: &State, now: Timestamp) -> anyhow::Result<String> {
    let mut out = String::new();
    writeln!(out, "meldpunt status of {} at {} (Amsterdam)", config.data_dir.display(), local(now))?;
    let natural = config.cutoff.period_of(now);
    let open = batches::first_not_begun(&state.lock(), natural)?;
    if open == natural {
        writeln!(
            out,
            "intake   files received now belong to {open}; deliveries for it close on day {} at {}",
            config.cutoff.day,
            config.cutoff.time.strftime("%H:%M:%S")
        )?;
    } else {
        writeln!(
            out,
            "intake   files received now belong to {open}: {natural} was closed early (its batch has run)"
        )?;
    }

    // Oldest first.
    let periods = crate::retention::held_periods(layout, state)?;
    let conn = state.lock();
    let last_done = batches::last_delivered_period(&conn)?.and_then(|p| p.parse::<Period>().ok());
    let due = schedule::due_periods(now, last_done, &config.batch);
    match last_done {
        Some(p) => writeln!(out, "batch    last delivered period: {p}")?,
        None => writeln!(out, "batch    no period delivered yet")?,
    }
    if due.is_empty() {
        let next = schedule::next_due(now, last_done, &config.batch);
        let period = last_done.map_or(open.prev(), Period::next);
        writeln!(out, "         next: {period} at {}", local(next))?;
    } else {
        let due: Vec<String> = due.iter().map(Period::to_string).collect();
        writeln!(
            out,
            "         due now (the daemon runs them at start-up or on its next wake): {}",
            due.join(", ")
        )?;
    }
    // Whether a batch holds the lock now, to tell a running batch from an interrupted one
    // (without the lock file no batch has started, and status makes none).
    let busy = layout.batch_lock().exists()
        && crate::batch::run::lock_file(layout).is_ok_and(|f| f.try_lock().is_err());

    writeln!(out)?;
    writeln!(out, "{:<8} {:>6} {:>10}  {:<22} shred from", "period", "files", "creditors", "batch")?;
    for p in periods.iter().rev() {
        let files = batches::kept_files(&conn, &p.to_string())?;
        let creditors: BTreeSet<&str> = files.iter().map(|(_, c)| c.as_str()).collect();
        let batch = match batches::latest(&conn, &p.to_string())? {
            None => "-".to_owned(),
            Some((v, BatchStatus::Delivered)) => format!("v{v} delivered"),
            Some((v, BatchStatus::Running)) if busy => format!("v{v} running now"),
            Some((v, BatchStatus::Running)) => format!("v{v} interrupted (redo)"),
        };
        let shred = crate::domain::retention::shred_from(*p, config.retention_months);
        writeln!(
            out,
            "{:<8} {:>6} {:>10}  {:<22} {shred}",
            p.to_string(),
            files.len(),
            creditors.len(),
            batch
        )?;
    }
    if periods.is_empty() {
        writeln!(out, "(no period held yet)")?;
    }
    let problems = stranded(config, &conn, &periods, last_done, now)?;
    drop(conn);
    for p in &problems {
        writeln!(out, "PROBLEM  {p}")?;
    }

    writeln!(out)?;
    let (mut waiting, mut files_waiting) = (Vec::new(), 0);
    for m in &config.municipalities {
        let files = crate::pickup::folder::files(layout, state, m.code.as_str())?;
        let unpicked = files.iter().filter(|f| f.picked_up_at.is_none() && f.name.ends_with(".age")).count();
        if unpicked > 0 {
            waiting.push(m.code.as_str());
            files_waiting += unpicked;
        }
    }
    if waiting.is_empty() {
        writeln!(out, "pickup   every bundle file in the pickup folders has been picked up")?;
    } else {
        let shown = waiting.iter().take(PICKUP_SHOWN).copied().collect::<Vec<_>>().join(", ");
        let more = if waiting.len() > PICKUP_SHOWN { ", …" } else { "" };
        writeln!(
            out,
            "pickup   {} of {} municipalities have bundle files not picked up ({files_waiting} files): {shown}{more}",
            waiting.len(),
            config.municipalities.len()
        )?;
    }
    Ok(out)
}

/// Accepted signals of closed periods that no batch will deliver (docs/periods.md): files that
/// arrived after their period's batch began, and closed periods after the first scheduled one
/// that were never batched although later ones were (the scheduler only runs later periods).
fn stranded(
    config: &Config,
    conn: &rusqlite::Connection,
    periods: &[Period],
    last_done: Option<Period>,
    now: Timestamp,
) -> anyhow::Result<Vec<String>> {
    let epoch = batches::epoch_if_set(conn)?.and_then(|p| p.parse::<Period>().ok());
    let mut problems = Vec::new();
    for p in periods.iter().filter(|p| !config.cutoff.is_open(**p, now)) {
        let period = p.to_string();
        let late = batches::kept_after_batch(conn, &period)?;
        if late > 0 {
            problems.push(format!(
                "{late} accepted file(s) of {p} arrived after its batch began and are in no bundle: \
                 deliver them with `meldpunt batch run --period {p} --force`"
            ));
        }
        let files = batches::kept_files(conn, &period)?.len();
        let skipped = epoch.is_some_and(|e| *p > e) && last_done.is_some_and(|d| *p < d);
        if files > 0 && skipped && batches::latest(conn, &period)?.is_none() {
            problems.push(format!(
                "{p} is closed and holds {files} accepted file(s), but it was never batched and later periods were: \
                 deliver it with `meldpunt batch run --period {p}`"
            ));
        }
    }
    Ok(problems)
}
