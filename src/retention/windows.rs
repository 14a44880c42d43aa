//! The shorter windows of `[retention]` (docs/storage-and-retention.md): what is held outside a period's own
//! lifetime, or needs it for less long, goes before its period is shredded.
//!
//! - rejected uploads (`rejected_days`): the state row and receipt files of a structurally
//!   rejected file (nothing of it is sealed);
//! - temporary files (`temp_hours`): `vault/tmp`, batch staging and the hidden `.…tmp` files of
//!   atomic writes, by their last change, so a file being written is never touched;
//! - municipalities' feedback uploads (`feedback_months`): their receipt files, and their
//!   upload record in `feedback_files` — removed when none of its lines is left, else reduced
//!   to what routing and inzage still order by (its id and date) until the lines' period goes;
//! - creditors' batch reports (`batch_report_months`), counted from when their batch ran.
//!
//! This file holds the pure part (what is due, given the time); the I/O is in `windows/`.

use jiff::Timestamp;
use serde::Serialize;
use serde_json::json;

use super::ShredError;
use super::shred::{io_at, remove};
use crate::audit::{Audit, Event, Outcome};
use crate::config::Config;
use crate::domain::retention::{days_passed, hours_passed, months_passed};
use crate::layout::Layout;
use crate::state::State;
use crate::state::swept::{self, SweptRows};

mod feedback;
mod temp;
mod uploads;

/// What one sweep of the windows removed (or would remove): counts only.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Swept {
    /// State rows removed (rejected uploads, feedback upload records) or reduced.
    #[serde(flatten)]
    pub rows: SweptRows,
    /// Receipt files (JSON and text) of rejected uploads.
    pub rejected_receipts: usize,
    /// Temporary files.
    pub temp_files: usize,
    /// Receipt files (JSON and text) of feedback uploads.
    pub feedback_receipts: usize,
    /// Creditors' batch reports.
    pub batch_reports: usize,
}

impl Swept {
    /// Whether nothing was (or would be) removed.
    pub fn is_empty(&self) -> bool {
        *self == Swept::default()
    }
}

/// Whether `name` is the hidden temporary file of an atomic write (`.<name>.<ulid>.tmp`).
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".tmp")
}

/// Sweeps (or with `dry_run` counts) everything past its window at `now`.
pub fn sweep(
    config: &Config,
    layout: &Layout,
    state: &State,
    now: Timestamp,
    dry_run: bool,
) -> Result<Swept, ShredError> {
    let w = config.windows;
    let mut out = Swept::default();
    uploads::rejected(layout, state, now, w.rejected_days, dry_run, &mut out)?;
    out.batch_reports = uploads::batch_reports(layout, state, now, w.batch_report_months, dry_run)?;
    feedback::expire(layout, state, now, w.feedback_months, dry_run, &mut out)?;
    out.temp_files = temp::expire(layout, now, w.temp_hours, dry_run)?;
    if !dry_run && out.rows != SweptRows::default() {
        // Deleted rows must not linger in the write-ahead log.
        let conn = state.lock();
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").map_err(crate::state::StateError)?;
    }
    Ok(out)
}

/// Audits a sweep that removed something as `actor` (action `shred`, counts only) and logs it.
/// The row counts in `out` become those the event takes from the state (this round's, and any
/// left by a round stopped before its event).
pub fn record(audit: &Audit, actor: &str, out: &mut Swept) {
    let built = audit.emit_built_blocking(|conn| {
        out.rows = swept::take_unaudited(conn)?;
        Ok((!out.is_empty())
            .then(|| Event::new(actor, "shred", Outcome::Ok).object(json!({ "windows": out }))))
    });
    match built {
        Ok(None) => return,
        Ok(Some(_)) => {}
        Err(e) => tracing::error!(error = %e, "could not write audit event"),
    }
    tracing::info!(
        rejected_rows = out.rows.rejected_rows,
        rejected_receipts = out.rejected_receipts,
        temp_files = out.temp_files,
        feedback_rows = out.rows.feedback_rows,
        feedback_reduced = out.rows.feedback_reduced,
        feedback_receipts = out.feedback_receipts,
        batch_reports = out.batch_reports,
        "files and records past their retention window removed"
    );
}

/// The names of the entries of `dir`, sorted (none if it does not exist).
fn names(dir: &std::path::Path) -> Result<Vec<String>, ShredError> {
    super::shred::names_in(dir, |_| true)
}

/// The last change of a file, if it can be read.
fn mtime(path: &std::path::Path) -> Option<Timestamp> {
    let m = std::fs::symlink_metadata(path).ok()?.modified().ok()?;
    Timestamp::try_from(m).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::report::parse_name as batch_report_of;
    use crate::domain::period::Period;

    #[test]
    fn batch_report_names() {
        let p: Period = "2026-05".parse().unwrap();
        assert_eq!(batch_report_of("batch_2026-05.json"), Some((p, 1)));
        assert_eq!(batch_report_of("batch_2026-05_v3.json"), Some((p, 3)));
        for n in ["batch_2026-05_v1.json", "batch_2026-13.json", "batch_2026-05.csv", "x.receipt.json"] {
            assert_eq!(batch_report_of(n), None, "{n}");
        }
        assert!(is_temp_name(".batch_2026-05.json.01JABC.tmp") && !is_temp_name("batch.tmp.json"));
    }
}
