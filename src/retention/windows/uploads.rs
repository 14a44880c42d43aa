//! Creditors' folders: receipts and state rows of rejected and duplicate uploads (nothing of
//! either is sealed), and batch reports.
//!
//! A rejected upload's row goes before its receipt files: start-up recovery rewrites missing
//! receipt files from rows, so files removed first could come back after a crash. Files left by
//! an interrupted round (no row any more) are found again by their own content (status
//! `rejected` or `duplicate`, `received_at`) and removed by the next round, the text twin before the JSON;
//! the rows it removed are audited by that round too (`state::swept`).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};
use serde::Deserialize;

use super::{Swept, days_passed, io_at, months_passed, mtime, names, remove};
use crate::batch::report::parse_name as batch_report_of;
use crate::domain::party::CreditorId;
use crate::layout::Layout;
use crate::retention::ShredError;
use crate::state::swept::{self, SweptRows};
use crate::state::{State, StateError};

/// The part of a receipt the sweep reads.
#[derive(Deserialize)]
struct ReceiptStub {
    status: String,
    received_at: String,
}

/// Folders under `parties/` that belong to creditors (lowercase slugs: not municipality codes,
/// nor executor ids, which are upper case).
pub(super) fn creditor_folders(layout: &Layout) -> Result<Vec<String>, ShredError> {
    Ok(names(&layout.parties())?.into_iter().filter(|n| CreditorId::parse(n).is_ok()).collect())
}

/// The receipt files of each upload id in `dir`, named `<upload-name>.<id>.receipt.*` or
/// `<id>.receipt.*` ([`crate::intake::receipt_files`]).
pub(super) fn receipts_by_id(dir: &Path) -> Result<Found, ShredError> {
    crate::intake::receipt_files::by_id(dir).map_err(io_at(dir))
}

/// Receipt file names by upload id, as [`receipts_by_id`] found them.
pub(super) type Found = HashMap<String, Vec<String>>;

/// The receipt files of `id` among `found` in `dir`, text twin first.
pub(super) fn receipt_pair(dir: &Path, found: &Found, id: &str) -> Vec<PathBuf> {
    let mut names: Vec<&String> = found.get(id).into_iter().flatten().collect();
    names.sort_by_key(|n| !n.ends_with(".txt"));
    names.into_iter().map(|n| dir.join(n)).collect()
}

/// Rejected and duplicate uploads received `days` days before `now` or earlier.
pub(super) fn rejected(
    layout: &Layout,
    state: &State,
    now: Timestamp,
    days: u32,
    dry_run: bool,
    out: &mut Swept,
) -> Result<(), ShredError> {
    let due: Vec<(String, String)> = {
        let conn = state.lock();
        let mut stmt = conn
            .prepare(
                "SELECT file_id, creditor, received_at FROM files WHERE status IN ('rejected', 'duplicate')",
            )
            .map_err(StateError)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
            .map_err(StateError)?;
        let mut due = Vec::new();
        for row in rows {
            let (id, creditor, at) = row.map_err(StateError)?;
            if at.parse::<Timestamp>().is_ok_and(|at| days_passed(at, now, days)) {
                due.push((id, creditor));
            }
        }
        due
    };
    let due_ids: BTreeSet<&str> = due.iter().map(|(id, _)| id.as_str()).collect();
    let mut doomed: Vec<PathBuf> = Vec::new();
    let mut found: HashMap<String, Found> = HashMap::new();
    for (id, creditor) in &due {
        let dir = layout.receipts(creditor);
        if !found.contains_key(creditor) {
            found.insert(creditor.clone(), receipts_by_id(&dir)?);
        }
        doomed.extend(receipt_pair(&dir, &found[creditor], id));
    }
    // Left by an interrupted round: receipt files of rejected uploads whose row is gone.
    for creditor in creditor_folders(layout)? {
        let dir = layout.receipts(&creditor);
        let here = receipts_by_id(&dir)?;
        for (id, files) in &here {
            let Some(json) = files.iter().find(|n| n.ends_with(".json")) else { continue };
            if due_ids.contains(id.as_str()) || has_row(state, id)? {
                continue;
            }
            let Ok(stub) = std::fs::read(dir.join(json)).map(|b| serde_json::from_slice::<ReceiptStub>(&b))
            else {
                continue;
            };
            if stub.is_ok_and(|s| {
                matches!(s.status.as_str(), "rejected" | "duplicate")
                    && s.received_at.parse().is_ok_and(|at| days_passed(at, now, days))
            }) {
                doomed.extend(receipt_pair(&dir, &here, id));
            }
        }
    }
    out.rows.rejected_rows = due.len();
    out.rejected_receipts = doomed.len();
    if dry_run {
        return Ok(());
    }
    {
        let mut conn = state.lock();
        let tx = conn.transaction().map_err(StateError)?;
        let mut removed = 0;
        for (id, _) in &due {
            removed += tx
                .execute(
                    "DELETE FROM files WHERE file_id = ?1 AND status IN ('rejected', 'duplicate')",
                    params![id],
                )
                .map_err(StateError)?;
        }
        // Audited at the end of the round, or by the next one if this one stops before that.
        swept::add_unaudited(&tx, SweptRows { rejected_rows: removed, ..SweptRows::default() })?;
        tx.commit().map_err(StateError)?;
    }
    // Crash test hook: end the process (as a kill -9 would) between the rows and the files.
    if std::env::var_os("MELDPUNT_TEST_ABORT_SWEEP_AFTER_ROWS").is_some() && !due.is_empty() {
        std::process::abort();
    }
    for path in &doomed {
        remove(path)?;
    }
    Ok(())
}

fn has_row(state: &State, id: &str) -> Result<bool, ShredError> {
    let conn = state.lock();
    let found = conn
        .query_row("SELECT 1 FROM files WHERE file_id = ?1", params![id], |_| Ok(()))
        .optional()
        .map_err(StateError)?;
    Ok(found.is_some())
}

/// Creditors' batch reports whose batch ran `months` months before `now` or earlier (when the
/// batch is no longer recorded, the file's last change counts).
pub(super) fn batch_reports(
    layout: &Layout,
    state: &State,
    now: Timestamp,
    months: u32,
    dry_run: bool,
) -> Result<usize, ShredError> {
    let mut n = 0;
    for creditor in creditor_folders(layout)? {
        let dir = layout.receipts(&creditor);
        for name in names(&dir)? {
            let Some((period, version)) = batch_report_of(&name) else { continue };
            let path = dir.join(&name);
            let ran: Option<Timestamp> = {
                let conn = state.lock();
                conn.query_row(
                    "SELECT COALESCE(finished_at, started_at) FROM batches WHERE period = ?1 AND version = ?2",
                    params![period.to_string(), version],
                    |r| r.get::<_, String>(0),
                )
                .optional()
                .map_err(StateError)?
                .and_then(|s| s.parse().ok())
            };
            if ran.or_else(|| mtime(&path)).is_some_and(|ran| months_passed(ran, now, months)) {
                n += 1;
                if !dry_run {
                    remove(&path)?;
                }
            }
        }
    }
    Ok(n)
}
