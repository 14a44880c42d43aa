//! The `files` table: one row per received file, with its receipt.

use rusqlite::{Connection, OptionalExtension, params};

use super::StateError;
use crate::domain::outcome::FileStatus;

/// One row of `files`.
#[derive(Clone, Debug)]
pub struct FileRow {
    /// ULID of the file.
    pub file_id: String,
    /// Creditor id.
    pub creditor: String,
    /// Period `YYYY-MM`.
    pub period: String,
    /// Final file name.
    pub name: String,
    /// SHA-256 of the original bytes, hex.
    pub sha256: String,
    /// Size of the original.
    pub bytes: u64,
    /// RFC 3339 UTC.
    pub received_at: String,
    /// Outcome.
    pub status: FileStatus,
    /// Records accepted.
    pub accepted: u64,
    /// Records rejected.
    pub rejected: u64,
    /// Records not forwarded (objection).
    pub not_forwarded: u64,
    /// Records that replaced earlier ones.
    pub replaced: u64,
    /// Sorted, distinct 8-byte referentie hashes (big-endian), for corrections.
    pub refs: Vec<u8>,
    /// The receipt JSON.
    pub receipt: String,
}

/// Inserts a file row.
pub fn insert(conn: &Connection, row: &FileRow) -> Result<(), StateError> {
    conn.execute(
        "INSERT INTO files (file_id, creditor, period, name, sha256, bytes, received_at, status,
             accepted, rejected, not_forwarded, replaced, refs, receipt)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        params![
            row.file_id,
            row.creditor,
            row.period,
            row.name,
            row.sha256,
            row.bytes as i64,
            row.received_at,
            row.status.as_str(),
            row.accepted as i64,
            row.rejected as i64,
            row.not_forwarded as i64,
            row.replaced as i64,
            row.refs,
            row.receipt,
        ],
    )?;
    Ok(())
}

/// Inserts `row` unless a batch of its period has begun, checked in the same write
/// transaction: a batch records its start before it reads the period's files, so either that
/// batch reads this row or the row is refused. `false`: refused, nothing inserted.
pub fn insert_while_open(conn: &Connection, row: &FileRow) -> Result<bool, StateError> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let inserted = (|| -> Result<bool, StateError> {
        if super::batches::begun(conn, &row.period)? {
            return Ok(false);
        }
        insert(conn, row)?;
        Ok(true)
    })();
    match inserted {
        Ok(inserted) => {
            conn.execute_batch("COMMIT")?;
            Ok(inserted)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// The kept file of this creditor and period with this sha256, if any.
pub fn find_kept_by_sha(
    conn: &Connection,
    creditor: &str,
    period: &str,
    sha256: &str,
) -> Result<Option<String>, StateError> {
    Ok(conn
        .query_row(
            "SELECT file_id FROM files WHERE creditor = ?1 AND period = ?2 AND sha256 = ?3
               AND status IN ('accepted', 'accepted_with_errors') ORDER BY julianday(received_at) LIMIT 1",
            params![creditor, period, sha256],
            |r| r.get(0),
        )
        .optional()?)
}

/// How many files of this creditor and period are recorded, whatever their outcome.
pub fn count_in_period(conn: &Connection, creditor: &str, period: &str) -> Result<u64, StateError> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM files WHERE creditor = ?1 AND period = ?2",
        params![creditor, period],
        |r| r.get(0),
    )?;
    Ok(n as u64)
}

/// The referentie-hash blobs of the kept files of this creditor and period.
pub fn kept_refs(conn: &Connection, creditor: &str, period: &str) -> Result<Vec<Vec<u8>>, StateError> {
    let mut stmt = conn.prepare(
        "SELECT refs FROM files WHERE creditor = ?1 AND period = ?2
           AND status IN ('accepted', 'accepted_with_errors') AND refs IS NOT NULL",
    )?;
    let rows = stmt.query_map(params![creditor, period], |r| r.get::<_, Vec<u8>>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every file id with its period and status (for start-up reconciliation).
pub fn all_ids(conn: &Connection) -> Result<Vec<(String, String, String)>, StateError> {
    let mut stmt = conn.prepare("SELECT file_id, period, status FROM files")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The receipts of one creditor: (file id, receipt JSON), oldest first.
pub fn receipts_of(conn: &Connection, creditor: &str) -> Result<Vec<(String, String)>, StateError> {
    let mut stmt =
        conn.prepare("SELECT file_id, receipt FROM files WHERE creditor = ?1 ORDER BY julianday(received_at), file_id")?;
    let rows = stmt.query_map(params![creditor], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
