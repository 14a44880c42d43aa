//! Batch runs: one row per (period, version), so each period is delivered exactly once and a
//! forced re-run becomes a new version.

use rusqlite::{Connection, OptionalExtension, params};

use super::StateError;
use crate::domain::period::Period;

/// Schema of the batches table.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS batches (
    period      TEXT NOT NULL,
    version     INTEGER NOT NULL,
    status      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    summary     TEXT,
    PRIMARY KEY (period, version)
);
CREATE TABLE IF NOT EXISTS batch_epoch (
    period TEXT NOT NULL
);
";

/// Where a batch run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchStatus {
    /// Started, not finished (a crash leaves it so; the next run redoes this version).
    Running,
    /// Every bundle and manifest is in the pickup folders.
    Delivered,
}

impl BatchStatus {
    fn as_str(self) -> &'static str {
        match self {
            BatchStatus::Running => "running",
            BatchStatus::Delivered => "delivered",
        }
    }
}

/// The latest version of a period's batch and its status.
pub fn latest(conn: &Connection, period: &str) -> Result<Option<(u32, BatchStatus)>, StateError> {
    let row: Option<(u32, String)> = conn
        .query_row(
            "SELECT version, status FROM batches WHERE period = ?1 ORDER BY version DESC LIMIT 1",
            params![period],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(row.map(|(v, s)| (v, if s == "delivered" { BatchStatus::Delivered } else { BatchStatus::Running })))
}

/// Whether any batch of `period` has begun (running or delivered): its files are read, and
/// files that arrive later go into the next period.
pub fn begun(conn: &Connection, period: &str) -> Result<bool, StateError> {
    Ok(conn
        .query_row("SELECT EXISTS(SELECT 1 FROM batches WHERE period = ?1)", params![period], |r| r.get(0))?)
}

/// `period`, or the first period after it whose batch has not begun: where a file received
/// for `period` goes (docs/periods.md).
pub fn first_not_begun(conn: &Connection, period: Period) -> Result<Period, StateError> {
    let mut p = period;
    while begun(conn, &p.to_string())? {
        p = p.next();
    }
    Ok(p)
}

/// The kept files of `period` received after its first batch began (none should exist:
/// intake refuses them; status reports them as a problem).
pub fn kept_after_batch(conn: &Connection, period: &str) -> Result<u64, StateError> {
    let Some(began) = conn
        .query_row("SELECT MIN(started_at) FROM batches WHERE period = ?1", params![period], |r| {
            r.get::<_, Option<String>>(0)
        })?
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
    else {
        return Ok(0);
    };
    // A batch's start is recorded to the nearest whole second: a file of the same second may
    // have come just before it.
    let began = began.checked_add(jiff::SignedDuration::from_secs(1)).unwrap_or(began);
    let mut stmt = conn.prepare(
        "SELECT received_at FROM files WHERE period = ?1 AND status IN ('accepted', 'accepted_with_errors')",
    )?;
    let received = stmt.query_map(params![period], |r| r.get::<_, String>(0))?;
    let mut late = 0;
    for at in received {
        if at?.parse::<jiff::Timestamp>().is_ok_and(|at| at > began) {
            late += 1;
        }
    }
    Ok(late)
}

/// The period before the first one the scheduler runs on its own, if set (read-only).
pub fn epoch_if_set(conn: &Connection) -> Result<Option<String>, StateError> {
    Ok(conn.query_row("SELECT period FROM batch_epoch LIMIT 1", [], |r| r.get(0)).optional()?)
}

/// The newest period with a delivered batch.
pub fn last_delivered_period(conn: &Connection) -> Result<Option<String>, StateError> {
    Ok(conn
        .query_row("SELECT MAX(period) FROM batches WHERE status = 'delivered'", [], |r| {
            r.get::<_, Option<String>>(0)
        })
        .optional()?
        .flatten())
}

/// A delivered batch run as its row records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveredRun {
    /// Period `YYYY-MM`.
    pub period: String,
    /// Its version.
    pub version: u32,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When it was delivered (RFC 3339).
    pub finished_at: String,
    /// Its summary (counts only, JSON; see `batch/run/finish.rs`).
    pub summary: String,
}

/// The batch run delivered last, whatever its period.
pub fn last_delivered_run(conn: &Connection) -> Result<Option<DeliveredRun>, StateError> {
    Ok(conn
        .query_row(
            "SELECT period, version, started_at, finished_at, COALESCE(summary, '{}') FROM batches
             WHERE status = 'delivered' AND finished_at IS NOT NULL
             ORDER BY finished_at DESC, period DESC, version DESC LIMIT 1",
            [],
            |r| {
                Ok(DeliveredRun {
                    period: r.get(0)?,
                    version: r.get(1)?,
                    started_at: r.get(2)?,
                    finished_at: r.get(3)?,
                    summary: r.get(4)?,
                })
            },
        )
        .optional()?)
}

/// Records that `version` of `period` starts (or starts again after a crash).
pub fn begin(conn: &Connection, period: &str, version: u32, now: &str) -> Result<(), StateError> {
    conn.execute(
        "INSERT INTO batches (period, version, status, started_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (period, version) DO UPDATE SET started_at = excluded.started_at",
        params![period, version, BatchStatus::Running.as_str(), now],
    )?;
    Ok(())
}

/// Records that `version` of `period` is delivered, with its summary (counts only).
pub fn delivered(
    conn: &Connection,
    period: &str,
    version: u32,
    now: &str,
    summary: &str,
) -> Result<(), StateError> {
    conn.execute(
        "UPDATE batches SET status = ?3, finished_at = ?4, summary = ?5 WHERE period = ?1 AND version = ?2",
        params![period, version, BatchStatus::Delivered.as_str(), now, summary],
    )?;
    Ok(())
}

/// The kept files of a period, in the order they were received: (file id, creditor).
pub fn kept_files(conn: &Connection, period: &str) -> Result<Vec<(String, String)>, StateError> {
    let mut stmt = conn.prepare(
        "SELECT file_id, creditor FROM files WHERE period = ?1
           AND status IN ('accepted', 'accepted_with_errors') ORDER BY julianday(received_at), file_id",
    )?;
    let rows = stmt.query_map(params![period], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The period before the first one the scheduler may run on its own, set at the first start
/// (`default`) and kept from then on: periods due before meldpunt was installed are only run
/// by hand, periods due after it are caught up even across downtime.
pub fn epoch(conn: &Connection, default: &str) -> Result<String, StateError> {
    let current: Option<String> =
        conn.query_row("SELECT period FROM batch_epoch LIMIT 1", [], |r| r.get(0)).optional()?;
    if let Some(p) = current {
        return Ok(p);
    }
    conn.execute("INSERT INTO batch_epoch (period) VALUES (?1)", params![default])?;
    Ok(default.to_owned())
}
