//! What was delivered to whom, and what came back: delivered signals (for feedback routing),
//! feedback files and lines, the terugmelding files made of them, and pickups.
//!
//! Rows hold ids, codes, dates and the creditor's own `referentie` — never names, addresses or
//! amounts. They belong to their period and are shredded with it (docs/storage-and-retention.md).

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::StateError;

/// Schema of these tables.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS delivered (
    signal_id    TEXT PRIMARY KEY,
    period       TEXT NOT NULL,
    version      INTEGER NOT NULL,
    municipality TEXT NOT NULL,
    creditor     TEXT NOT NULL,
    referentie   TEXT NOT NULL,
    delivered_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS delivered_by_period ON delivered (period);
CREATE INDEX IF NOT EXISTS delivered_by_reference ON delivered (municipality, creditor, referentie);
CREATE TABLE IF NOT EXISTS feedback_files (
    file_id      TEXT PRIMARY KEY,
    municipality TEXT NOT NULL,
    name         TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    bytes        INTEGER NOT NULL,
    received_at  TEXT NOT NULL,
    status       TEXT NOT NULL,
    routed       INTEGER NOT NULL,
    receipt      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    file_id      TEXT NOT NULL,
    line         INTEGER NOT NULL,
    signal_id    TEXT NOT NULL,
    resultaat    TEXT NOT NULL,
    datum        TEXT NOT NULL,
    datum_opgepakt  TEXT,
    contactpogingen TEXT,
    PRIMARY KEY (file_id, signal_id)
);
CREATE INDEX IF NOT EXISTS feedback_by_signal ON feedback (signal_id);
CREATE TABLE IF NOT EXISTS terugmeldingen (
    creditor     TEXT NOT NULL,
    name         TEXT NOT NULL,
    file_id      TEXT NOT NULL,
    lines        INTEGER NOT NULL,
    PRIMARY KEY (creditor, name)
);
CREATE TABLE IF NOT EXISTS pickups (
    municipality TEXT NOT NULL,
    name         TEXT NOT NULL,
    first_at     TEXT NOT NULL,
    how          TEXT NOT NULL,
    PRIMARY KEY (municipality, name)
);
";

/// Adds the optional DDAS columns of `feedback` (`datum_opgepakt`, `contactpogingen`) to a
/// database made before they existed.
pub(super) fn migrate(conn: &Connection) -> Result<(), StateError> {
    let has: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM pragma_table_info('feedback') WHERE name = 'datum_opgepakt')",
        [],
        |r| r.get(0),
    )?;
    if !has {
        conn.execute_batch(
            "ALTER TABLE feedback ADD COLUMN datum_opgepakt TEXT; ALTER TABLE feedback ADD COLUMN contactpogingen TEXT;",
        )?;
    }
    Ok(())
}

/// A delivered signal, as feedback needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveredSignal {
    /// The signal id in the bundle.
    pub signal_id: String,
    /// Period `YYYY-MM`.
    pub period: String,
    /// Municipality it was delivered to.
    pub municipality: String,
    /// Creditor that sent it.
    pub creditor: String,
    /// The creditor's reference.
    pub referentie: String,
    /// The executor it was delivered to, if any (`state::via`).
    pub executor: Option<String>,
    /// Whether the municipality itself received it (false when it went to the executor only).
    pub to_municipality: bool,
}

impl DeliveredSignal {
    /// Whether the party with this id (a municipality code or an executor id) received it.
    pub fn reached(&self, party: &str) -> bool {
        (self.to_municipality && self.municipality == party) || self.executor.as_deref() == Some(party)
    }
}

/// A signal of a batch version being recorded (borrowed from the batch's households).
#[derive(Clone, Copy, Debug)]
pub struct Delivery<'a> {
    /// The signal id in the bundle.
    pub signal_id: &'a str,
    /// Municipality it goes to.
    pub municipality: &'a str,
    /// Creditor that sent it.
    pub creditor: &'a str,
    /// The creditor's reference.
    pub referentie: &'a str,
}

/// Records the signals of one batch version of `period` (replacing earlier versions' rows).
pub fn record_delivered(
    conn: &mut Connection,
    period: &str,
    version: u32,
    now: &str,
    signals: &[Delivery<'_>],
) -> Result<(), StateError> {
    // A national month is ~85 000 rows: with SQLite's default 2 MiB page cache each upsert
    // re-reads (and spills) pages of a table many times that size. A larger cache for this
    // transaction only; the connection's own setting is restored afterwards.
    let cache: i64 = conn.pragma_query_value(None, "cache_size", |r| r.get(0))?;
    conn.pragma_update(None, "cache_size", DELIVERED_CACHE_KIB)?;
    let result = upsert_delivered(conn, period, version, now, signals);
    conn.pragma_update(None, "cache_size", cache)?;
    result
}

/// Page cache (KiB, as SQLite's negative `cache_size`) while recording delivered signals.
const DELIVERED_CACHE_KIB: i64 = -64 * 1024;

fn upsert_delivered(
    conn: &mut Connection,
    period: &str,
    version: u32,
    now: &str,
    signals: &[Delivery<'_>],
) -> Result<(), StateError> {
    let tx = conn.transaction()?;
    {
        // Many rows per statement: each statement run has a fixed cost (binding the shared
        // values, starting and ending the program) that one row per run pays 85 000 times.
        let mut full = tx.prepare(&upsert_sql(ROWS_PER_UPSERT))?;
        let mut chunks = signals.chunks_exact(ROWS_PER_UPSERT);
        for chunk in &mut chunks {
            bind_upsert(&mut full, period, version, now, chunk)?;
            full.raw_execute()?;
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = tx.prepare(&upsert_sql(rest.len()))?;
            bind_upsert(&mut last, period, version, now, rest)?;
            last.raw_execute()?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Rows of delivered signals per upsert statement (7 values each, far below SQLite's limit of
/// 32 766 parameters).
const ROWS_PER_UPSERT: usize = 64;

/// An upsert of `rows` delivered signals: `?1` period, `?2` version, `?3` time, then per row
/// signal id, municipality, creditor and referentie.
fn upsert_sql(rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|i| {
            let p = 4 + 4 * i;
            format!("(?{p}, ?1, ?2, ?{}, ?{}, ?{}, ?3)", p + 1, p + 2, p + 3)
        })
        .collect();
    format!(
        "INSERT INTO delivered (signal_id, period, version, municipality, creditor, referentie, delivered_at)
         VALUES {}
         ON CONFLICT (signal_id) DO UPDATE SET version = excluded.version,
           municipality = excluded.municipality, delivered_at = excluded.delivered_at",
        values.join(", ")
    )
}

/// Binds the values of [`upsert_sql`] for `rows`.
fn bind_upsert(
    stmt: &mut rusqlite::Statement<'_>,
    period: &str,
    version: u32,
    now: &str,
    rows: &[Delivery<'_>],
) -> rusqlite::Result<()> {
    stmt.raw_bind_parameter(1, period)?;
    stmt.raw_bind_parameter(2, version)?;
    stmt.raw_bind_parameter(3, now)?;
    for (i, s) in rows.iter().enumerate() {
        let p = 4 + 4 * i;
        stmt.raw_bind_parameter(p, s.signal_id)?;
        stmt.raw_bind_parameter(p + 1, s.municipality)?;
        stmt.raw_bind_parameter(p + 2, s.creditor)?;
        stmt.raw_bind_parameter(p + 3, s.referentie)?;
    }
    Ok(())
}

/// Where each signal of `period` was delivered: (signal id, municipality).
pub fn delivered_in(conn: &Connection, period: &str) -> Result<Vec<(String, String)>, StateError> {
    let mut stmt = conn.prepare("SELECT signal_id, municipality FROM delivered WHERE period = ?1")?;
    let rows = stmt.query_map(params![period], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A delivered signal by id.
pub fn delivered(conn: &Connection, signal_id: &str) -> Result<Option<DeliveredSignal>, StateError> {
    Ok(conn
        .query_row(
            "SELECT d.signal_id, d.period, d.municipality, d.creditor, d.referentie, v.executor, v.municipality_too \
             FROM delivered d LEFT JOIN delivered_via v USING (signal_id) WHERE d.signal_id = ?1",
            params![signal_id],
            delivered_signal,
        )
        .optional()?)
}

/// The latest signal of `creditor` with `referentie` delivered to `receiver` (a municipality
/// code or an executor id; a reference repeated over months names its latest delivery).
pub fn delivered_by_reference(
    conn: &Connection,
    receiver: &str,
    creditor: &str,
    referentie: &str,
) -> Result<Option<DeliveredSignal>, StateError> {
    Ok(conn
        .query_row(
            "SELECT d.signal_id, d.period, d.municipality, d.creditor, d.referentie, v.executor, v.municipality_too \
             FROM delivered d LEFT JOIN delivered_via v USING (signal_id) \
             WHERE ((d.municipality = ?1 AND COALESCE(v.municipality_too, 1)) OR v.executor = ?1) \
               AND d.creditor = ?2 AND d.referentie = ?3 \
             ORDER BY d.period DESC, d.version DESC, d.signal_id DESC LIMIT 1",
            params![receiver, creditor, referentie],
            delivered_signal,
        )
        .optional()?)
}

/// A `delivered` row read as a [`DeliveredSignal`] (columns signal_id, period, municipality,
/// creditor, referentie, then `delivered_via`'s executor and municipality_too, null when the
/// signal went to its municipality only).
fn delivered_signal(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeliveredSignal> {
    Ok(DeliveredSignal {
        signal_id: r.get(0)?,
        period: r.get(1)?,
        municipality: r.get(2)?,
        creditor: r.get(3)?,
        referentie: r.get(4)?,
        executor: r.get(5)?,
        to_municipality: r.get::<_, Option<bool>>(6)?.unwrap_or(true),
    })
}

/// The latest feedback line on a signal, from any earlier file.
pub fn latest_feedback(conn: &Connection, signal_id: &str) -> Result<Option<FeedbackLine>, StateError> {
    Ok(conn
        .query_row(
            "SELECT f.line, f.signal_id, f.resultaat, f.datum, f.datum_opgepakt, f.contactpogingen
               FROM feedback f JOIN feedback_files ff ON ff.file_id = f.file_id
              WHERE f.signal_id = ?1 ORDER BY julianday(ff.received_at) DESC, ff.file_id DESC LIMIT 1",
            params![signal_id],
            feedback_line,
        )
        .optional()?)
}

/// Every feedback line on the signals delivered to `municipality` in `period`, oldest file
/// first: (received at, line).
pub fn feedback_on(
    conn: &Connection,
    municipality: &str,
    period: &str,
) -> Result<Vec<(String, FeedbackLine)>, StateError> {
    let mut stmt = conn.prepare(
        "SELECT f.line, f.signal_id, f.resultaat, f.datum, f.datum_opgepakt, f.contactpogingen, ff.received_at
           FROM feedback f JOIN feedback_files ff ON ff.file_id = f.file_id
           JOIN delivered d ON d.signal_id = f.signal_id
          WHERE d.municipality = ?1 AND d.period = ?2
          ORDER BY julianday(ff.received_at), ff.file_id, f.line",
    )?;
    let rows = stmt.query_map(params![municipality, period], |r| Ok((r.get(6)?, feedback_line(r)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A `feedback` row read as a [`FeedbackLine`] (columns line, signal_id, resultaat, datum,
/// datum_opgepakt, contactpogingen).
fn feedback_line(r: &rusqlite::Row<'_>) -> rusqlite::Result<FeedbackLine> {
    Ok(FeedbackLine {
        line: r.get(0)?,
        signal_id: r.get(1)?,
        resultaat: r.get(2)?,
        datum: r.get(3)?,
        datum_opgepakt: r.get(4)?,
        contactpogingen: r.get(5)?,
    })
}

/// One feedback file as stored.
#[derive(Clone, Debug)]
pub struct FeedbackFile<'a> {
    /// File id (ULID).
    pub file_id: &'a str,
    /// Municipality.
    pub municipality: &'a str,
    /// Uploaded name.
    pub name: &'a str,
    /// SHA-256 of the bytes.
    pub sha256: &'a str,
    /// Size.
    pub bytes: u64,
    /// RFC 3339 UTC.
    pub received_at: &'a str,
    /// Receipt status.
    pub status: &'a str,
    /// The receipt JSON.
    pub receipt: &'a str,
}

/// One accepted feedback line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedbackLine {
    /// Line in the file.
    pub line: u64,
    /// Signal id.
    pub signal_id: String,
    /// Result code.
    pub resultaat: String,
    /// `YYYY-MM-DD`.
    pub datum: String,
    /// When the case was taken up (`YYYY-MM-DD`), if the line said.
    pub datum_opgepakt: Option<String>,
    /// The contact attempts as a JSON array ([`crate::domain::contact::ContactPoging`]), if
    /// the line gave any.
    pub contactpogingen: Option<String>,
}

impl FeedbackLine {
    /// Whether `other` reports the same (result, date, DDAS columns): then it is `unchanged`.
    pub fn same_report(&self, other: &FeedbackLine) -> bool {
        (&self.resultaat, &self.datum, &self.datum_opgepakt, &self.contactpogingen)
            == (&other.resultaat, &other.datum, &other.datum_opgepakt, &other.contactpogingen)
    }
}

/// Stores a feedback file, its accepted lines and the terugmelding files they will be
/// routed into, in one transaction; `routed` stays 0 until [`mark_routed`].
pub fn record_feedback(
    conn: &mut Connection,
    file: &FeedbackFile<'_>,
    lines: &[FeedbackLine],
    creditor_feedback: &[(String, String, u64)],
) -> Result<(), StateError> {
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO feedback_files (file_id, municipality, name, sha256, bytes, received_at, status, routed, receipt)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8)",
        params![
            file.file_id,
            file.municipality,
            file.name,
            file.sha256,
            file.bytes,
            file.received_at,
            file.status,
            file.receipt
        ],
    )?;
    insert_lines(&tx, file.file_id, lines)?;
    {
        let mut stmt = tx
            .prepare("INSERT INTO terugmeldingen (creditor, name, file_id, lines) VALUES (?1, ?2, ?3, ?4)")?;
        for (creditor, name, n) in creditor_feedback {
            stmt.execute(params![creditor, name, file.file_id, n])?;
        }
    }
    tx.commit()?;
    Ok(())
}

fn insert_lines(tx: &Transaction<'_>, file_id: &str, lines: &[FeedbackLine]) -> Result<(), StateError> {
    let mut stmt = tx.prepare(
        "INSERT INTO feedback (file_id, line, signal_id, resultaat, datum, datum_opgepakt, contactpogingen)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for l in lines {
        stmt.execute(params![
            file_id,
            l.line,
            l.signal_id,
            l.resultaat,
            l.datum,
            l.datum_opgepakt,
            l.contactpogingen
        ])?;
    }
    Ok(())
}

/// Whether `name` is taken in the creditor's terugmeldingen.
pub fn creditor_feedback_taken(conn: &Connection, creditor: &str, name: &str) -> Result<bool, StateError> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM terugmeldingen WHERE creditor = ?1 AND name = ?2",
            params![creditor, name],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Feedback files stored but not yet routed (a crash came in between): (file id, municipality).
pub fn unrouted(conn: &Connection) -> Result<Vec<(String, String)>, StateError> {
    let mut stmt =
        conn.prepare("SELECT file_id, municipality FROM feedback_files WHERE routed = 0 ORDER BY file_id")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The receipt JSON of a feedback file.
pub fn feedback_receipt(conn: &Connection, file_id: &str) -> Result<Option<String>, StateError> {
    Ok(conn
        .query_row("SELECT receipt FROM feedback_files WHERE file_id = ?1", params![file_id], |r| r.get(0))
        .optional()?)
}

/// The terugmelding files of a feedback file: (creditor, name).
pub fn creditor_feedback_of(conn: &Connection, file_id: &str) -> Result<Vec<(String, String)>, StateError> {
    let mut stmt =
        conn.prepare("SELECT creditor, name FROM terugmeldingen WHERE file_id = ?1 ORDER BY creditor, name")?;
    let rows = stmt.query_map(params![file_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The lines of a feedback file for one creditor, in file order:
/// (referentie, resultaat, datum).
pub fn lines_for(
    conn: &Connection,
    file_id: &str,
    creditor: &str,
) -> Result<Vec<(String, String, String)>, StateError> {
    let mut stmt = conn.prepare(
        "SELECT d.referentie, f.resultaat, f.datum FROM feedback f JOIN delivered d ON d.signal_id = f.signal_id
          WHERE f.file_id = ?1 AND d.creditor = ?2 ORDER BY f.line",
    )?;
    let rows = stmt.query_map(params![file_id, creditor], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Marks a feedback file as routed.
pub fn mark_routed(conn: &Connection, file_id: &str) -> Result<(), StateError> {
    conn.execute("UPDATE feedback_files SET routed = 1 WHERE file_id = ?1", params![file_id])?;
    Ok(())
}

/// Records the first pickup of a file (`how`: `download:sftp`, `remove:https`, …); returns
/// whether this was the first.
pub fn record_pickup(
    conn: &Connection,
    municipality: &str,
    name: &str,
    at: &str,
    how: &str,
) -> Result<bool, StateError> {
    let n = conn.execute(
        "INSERT INTO pickups (municipality, name, first_at, how) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (municipality, name) DO NOTHING",
        params![municipality, name, at, how],
    )?;
    Ok(n == 1)
}

/// When a file was first picked up, if it was.
pub fn picked_up_at(conn: &Connection, municipality: &str, name: &str) -> Result<Option<String>, StateError> {
    Ok(conn
        .query_row(
            "SELECT first_at FROM pickups WHERE municipality = ?1 AND name = ?2",
            params![municipality, name],
            |r| r.get(0),
        )
        .optional()?)
}

#[cfg(test)]
mod tests;
