//! Municipalities' feedback uploads: the receipt files in their `/receipts` folder, and the
//! upload record (`feedback_files`). The record of a file none of whose lines is left (a rejected
//! file, or one whose lines went with their period) is removed with its `terugmeldingen` name
//! reservations; a record whose lines still live keeps its id and date (routing and inzage
//! order feedback by them) and loses its stored receipt. Files not yet routed are left to
//! start-up's `feedback::resume`.

use std::collections::BTreeSet;

use jiff::Timestamp;
use rusqlite::params;
use serde::Deserialize;

use super::uploads::{receipt_pair, receipts_by_id};
use super::{Swept, months_passed, names, remove};
use crate::domain::party::{ExecutorId, MunicipalityCode};
use crate::layout::Layout;
use crate::retention::ShredError;
use crate::state::swept::{self, SweptRows};
use crate::state::{State, StateError};

#[derive(Deserialize)]
struct ReceiptStub {
    received_at: String,
}

/// Expires feedback upload records and receipts received `months` months before `now`.
pub(super) fn expire(
    layout: &Layout,
    state: &State,
    now: Timestamp,
    months: u32,
    dry_run: bool,
    out: &mut Swept,
) -> Result<(), ShredError> {
    let due = |at: &str| at.parse::<Timestamp>().is_ok_and(|at| months_passed(at, now, months));
    let (mut gone, mut reduced, mut unrouted) = (Vec::new(), Vec::new(), BTreeSet::new());
    {
        let conn = state.lock();
        let mut stmt = conn
            .prepare(
                "SELECT ff.file_id, ff.received_at, ff.routed, ff.receipt != '',
                        EXISTS (SELECT 1 FROM feedback f WHERE f.file_id = ff.file_id)
                   FROM feedback_files ff",
            )
            .map_err(StateError)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, bool>(2)?,
                    r.get::<_, bool>(3)?,
                    r.get::<_, bool>(4)?,
                ))
            })
            .map_err(StateError)?;
        for row in rows {
            let (id, at, routed, has_receipt, has_lines) = row.map_err(StateError)?;
            if !routed {
                unrouted.insert(id);
            } else if due(&at) && !has_lines {
                gone.push(id);
            } else if due(&at) && has_receipt {
                reduced.push(id);
            }
        }
    }
    let mut doomed = Vec::new();
    let folders = names(&layout.parties())?;
    // Municipalities' and executors' folders: both send feedback.
    let senders =
        folders.iter().filter(|n| MunicipalityCode::parse(n).is_ok() || ExecutorId::parse(n).is_ok());
    for gm in senders {
        let dir = layout.receipts(gm);
        let found = receipts_by_id(&dir)?;
        for (id, files) in &found {
            let Some(json) = files.iter().find(|n| n.ends_with(".json")) else { continue };
            if unrouted.contains(id.as_str()) {
                continue;
            }
            let stub = std::fs::read(dir.join(json))
                .ok()
                .and_then(|b| serde_json::from_slice::<ReceiptStub>(&b).ok());
            if stub.is_some_and(|s| due(&s.received_at)) {
                doomed.extend(receipt_pair(&dir, &found, id));
            }
        }
    }
    out.rows.feedback_rows = gone.len();
    out.rows.feedback_reduced = reduced.len();
    out.feedback_receipts = doomed.len();
    if dry_run {
        return Ok(());
    }
    {
        let mut conn = state.lock();
        let tx = conn.transaction().map_err(StateError)?;
        let mut rows = SweptRows::default();
        for id in &gone {
            tx.execute("DELETE FROM terugmeldingen WHERE file_id = ?1", params![id]).map_err(StateError)?;
            rows.feedback_rows += tx
                .execute("DELETE FROM feedback_files WHERE file_id = ?1", params![id])
                .map_err(StateError)?;
        }
        for id in &reduced {
            rows.feedback_reduced += tx
                .execute("UPDATE feedback_files SET receipt = '' WHERE file_id = ?1", params![id])
                .map_err(StateError)?;
        }
        // Audited at the end of the round, or by the next one if this one stops before that.
        swept::add_unaudited(&tx, rows)?;
        tx.commit().map_err(StateError)?;
    }
    for path in &doomed {
        remove(path)?;
    }
    Ok(())
}
