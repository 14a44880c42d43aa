//! The text of `meldpunt status`, from its [facts](super::facts).

use std::fmt::Write as _;

use jiff::Timestamp;

use super::facts::Status;
use crate::domain::period::{Period, zone};

/// How many municipalities with bundles waiting are named.
const PICKUP_SHOWN: usize = 12;

/// A local (Amsterdam) moment as `YYYY-MM-DD HH:MM`.
fn local(t: Timestamp) -> String {
    t.to_zoned(zone()).strftime("%Y-%m-%d %H:%M").to_string()
}

/// The status text.
pub fn render(s: &Status) -> anyhow::Result<String> {
    let mut out = String::new();
    writeln!(out, "meldpunt status of {} at {} (Amsterdam)", s.data_dir, local(s.at))?;
    let (open, natural) = (s.intake.period, s.intake.natural_period);
    if open == natural {
        writeln!(
            out,
            "intake   files received now belong to {open}; deliveries for it close on day {} at {}",
            s.intake.cutoff_day, s.intake.cutoff_time
        )?;
    } else {
        writeln!(
            out,
            "intake   files received now belong to {open}: {natural} was closed early (its batch has run)"
        )?;
    }
    match s.batch.last_delivered {
        Some(p) => writeln!(out, "batch    last delivered period: {p}")?,
        None => writeln!(out, "batch    no period delivered yet")?,
    }
    if let Some(next) = &s.batch.next {
        writeln!(out, "         next: {} at {}", next.period, local(next.at))?;
    } else {
        let due: Vec<String> = s.batch.due.iter().map(Period::to_string).collect();
        writeln!(
            out,
            "         due now (the daemon runs them at start-up or on its next wake): {}",
            due.join(", ")
        )?;
    }

    writeln!(out)?;
    writeln!(out, "{:<8} {:>6} {:>10}  {:<22} shred from", "period", "files", "creditors", "batch")?;
    for p in &s.periods {
        let batch = match &p.batch {
            None => "-".to_owned(),
            Some(b) if b.status == "running" => format!("v{} running now", b.version),
            Some(b) if b.status == "interrupted" => format!("v{} interrupted (redo)", b.version),
            Some(b) => format!("v{} {}", b.version, b.status),
        };
        writeln!(
            out,
            "{:<8} {:>6} {:>10}  {:<22} {}",
            p.period.to_string(),
            p.files,
            p.creditors,
            batch,
            p.shred_from
        )?;
    }
    if s.periods.is_empty() {
        writeln!(out, "(no period held yet)")?;
    }
    for p in &s.problems {
        writeln!(out, "PROBLEM  {p}")?;
    }

    writeln!(out)?;
    let waiting = &s.pickup.waiting;
    if waiting.is_empty() {
        writeln!(out, "pickup   every bundle file in the pickup folders has been picked up")?;
    } else {
        let shown = waiting.iter().take(PICKUP_SHOWN).cloned().collect::<Vec<_>>().join(", ");
        let more = if waiting.len() > PICKUP_SHOWN { ", …" } else { "" };
        writeln!(
            out,
            "pickup   {} of {} municipalities have bundle files not picked up ({} files): {shown}{more}",
            waiting.len(),
            s.pickup.municipalities,
            s.pickup.files_waiting
        )?;
    }
    Ok(out)
}
