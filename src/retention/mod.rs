//! Retention (docs/storage-and-retention.md): periods past their window are crypto-shredded — key first, then sealed
//! intake, receipts, bundles and derived state — by a daily task and by `meldpunt shred`.
//!
//! Which periods are due is a pure function of the date, the retention and the next batch's
//! lookback ([`crate::domain::retention`]): history a batch still needs is never shredded.
//!
//! - `shred`: removing one period, idempotently.
//! - `erase`: removing a debtor's signals everywhere (right to erasure), resumable.
//! - `inzage`: what is held about one address or person (right of access).
//! - `creditor_feedback`: creditors' dated terugmelding files, by the same number of months.
//! - `windows`: the shorter windows (rejected uploads, temporary files, feedback uploads,
//!   batch reports).

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde_json::json;

use crate::app::App;
use crate::audit::{Event, Outcome};
use crate::domain::period::{Period, local_date};
use crate::domain::retention;
use crate::layout::Layout;
use crate::state::State;

pub mod creditor_feedback;
pub mod erase;
pub mod inzage;
pub mod shred;
pub mod windows;

pub use shred::{ShredError, Shredded};

/// Every period something is held for: keys, vault folders, state rows.
pub fn held_periods(layout: &Layout, state: &State) -> Result<Vec<Period>, ShredError> {
    let mut out = BTreeSet::new();
    for dir in [layout.period_keys(), layout.vaults()] {
        if let Ok(rd) = std::fs::read_dir(&dir) {
            for e in rd.flatten() {
                if let Some(p) = e.file_name().to_str().and_then(|n| n.parse::<Period>().ok()) {
                    out.insert(p);
                }
            }
        }
    }
    let conn = state.lock();
    for q in ["SELECT DISTINCT period FROM files", "SELECT DISTINCT period FROM delivered"] {
        let mut stmt = conn.prepare(q).map_err(crate::state::StateError)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(crate::state::StateError)?;
        for p in rows.flatten() {
            if let Ok(p) = p.parse() {
                out.insert(p);
            }
        }
    }
    Ok(out.into_iter().collect())
}

/// What one retention round removed (or, dry, would remove).
#[derive(Debug, Default)]
pub struct Round {
    /// The periods shredded.
    pub periods: Vec<Shredded>,
    /// What the shorter windows removed.
    pub windows: windows::Swept,
}

/// Shreds (or with `dry_run` lists) every period due at `now`, then sweeps the shorter
/// windows; audits each removal as `actor`.
pub fn run(app: &App, now: Timestamp, dry_run: bool, actor: &str) -> Result<Round, ShredError> {
    let (config, layout, state, audit) = (app.config(), app.layout(), app.state(), app.audit());
    let next_batch = crate::batch::scheduler::last_done_in(&state.lock(), &config, now)?.next();
    let held = held_periods(layout, state)?;
    let due = retention::expired(
        &held,
        local_date(now),
        config.retention_months,
        next_batch,
        config.batch.lookback_months,
    );
    let mut out = Vec::new();
    for p in due {
        let done = shred::shred_period(layout, state, p, dry_run)?;
        if !dry_run {
            let ev = Event::new(actor, "shred", Outcome::Ok).object(json!(done));
            if let Err(e) = audit.emit_blocking(ev) {
                tracing::error!(error = %e, "could not write audit event");
            }
            tracing::info!(period = %p, sealed = done.sealed_files, receipts = done.receipts, bundles = done.bundles, "period shredded");
        }
        out.push(done);
    }
    let old = creditor_feedback::expire(layout, local_date(now), config.retention_months, dry_run)
        .map_err(|source| ShredError::Io { path: layout.parties().display().to_string(), source })?;
    if old > 0 && !dry_run {
        let ev = Event::new(actor, "shred", Outcome::Ok).object(json!({ "terugmeldingen": old }));
        if let Err(e) = audit.emit_blocking(ev) {
            tracing::error!(error = %e, "could not write audit event");
        }
        tracing::info!(files = old, "terugmelding files past retention removed");
    }
    let mut windows = windows::sweep(&config, layout, state, now, dry_run)?;
    if !dry_run {
        windows::record(audit, actor, &mut windows);
    }
    Ok(Round { periods: out, windows })
}
