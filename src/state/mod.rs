//! The state database (SQLite, WAL, `synchronous=FULL`): files received, receipts, audit chain.
//!
//! One connection behind a mutex. Calls block; async callers use `spawn_blocking`.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::Connection;

pub mod bans;
pub mod batches;
pub mod clients;
pub mod ddas;
pub mod erasure;
pub mod exchange;
pub mod files;
pub mod swept;
pub mod via;

pub use files::FileRow;

/// Schema, applied idempotently at open.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS files (
    file_id      TEXT PRIMARY KEY,
    creditor     TEXT NOT NULL,
    period       TEXT NOT NULL,
    name         TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    bytes        INTEGER NOT NULL,
    received_at  TEXT NOT NULL,
    status       TEXT NOT NULL,
    accepted     INTEGER NOT NULL,
    rejected     INTEGER NOT NULL,
    not_forwarded INTEGER NOT NULL,
    replaced     INTEGER NOT NULL,
    refs         BLOB,
    receipt      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS files_by_sha ON files (creditor, period, sha256);
CREATE TABLE IF NOT EXISTS audit (
    seq     INTEGER PRIMARY KEY,
    ts      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    auth    TEXT,
    origin  TEXT,
    action  TEXT NOT NULL,
    object  TEXT NOT NULL,
    outcome TEXT NOT NULL,
    prev    TEXT NOT NULL,
    hash    TEXT NOT NULL
);
";

/// Why the state database failed.
#[derive(Debug, thiserror::Error)]
#[error("state database: {0}")]
pub struct StateError(#[from] pub rusqlite::Error);

/// A shared handle on the state database.
#[derive(Clone)]
pub struct State {
    conn: Arc<Mutex<Connection>>,
}

impl State {
    /// Opens (creating if needed) the database at `path` and applies the schema.
    pub fn open(path: &Path) -> Result<State, StateError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Deleted rows are overwritten, not left in free pages (retention, docs/storage-and-retention.md).
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch(SCHEMA)?;
        conn.execute_batch(bans::SCHEMA)?;
        conn.execute_batch(batches::SCHEMA)?;
        conn.execute_batch(clients::SCHEMA)?;
        conn.execute_batch(exchange::SCHEMA)?;
        exchange::migrate(&conn)?;
        conn.execute_batch(ddas::SCHEMA)?;
        conn.execute_batch(erasure::SCHEMA)?;
        conn.execute_batch(swept::SCHEMA)?;
        conn.execute_batch(via::SCHEMA)?;
        Ok(State { conn: Arc::new(Mutex::new(conn)) })
    }

    /// Exclusive access to the connection.
    pub fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (transactions roll back).
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }
}
