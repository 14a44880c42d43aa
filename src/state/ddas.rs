//! What the DDAS export (docs/ddas.md) reads and records: when each period was first matched,
//! which signals went to a municipality, and the monthly exports already dropped into pickup
//! folders (so a restart does not drop one twice). Ids, codes and dates only.

use rusqlite::{Connection, OptionalExtension, params};

use super::StateError;

/// Schema of the drops table.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS ddas_drops (
    municipality TEXT NOT NULL,
    month        TEXT NOT NULL,
    name         TEXT NOT NULL,
    dropped_at   TEXT NOT NULL,
    PRIMARY KEY (municipality, month)
);
";

/// Every delivered period with the start of its first delivered batch run (RFC 3339 UTC):
/// (period, matched at).
pub fn matched_periods(conn: &Connection) -> Result<Vec<(String, String)>, StateError> {
    let mut stmt = conn.prepare(
        "SELECT period, MIN(started_at) FROM batches WHERE status = 'delivered' GROUP BY period ORDER BY period",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The ids of the signals of `period` delivered to `municipality`.
pub fn delivered_to(conn: &Connection, municipality: &str, period: &str) -> Result<Vec<String>, StateError> {
    let mut stmt = conn.prepare("SELECT signal_id FROM delivered WHERE municipality = ?1 AND period = ?2")?;
    let rows = stmt.query_map(params![municipality, period], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The file the monthly export of `month` for `municipality` was dropped as, if it was.
pub fn dropped(conn: &Connection, municipality: &str, month: &str) -> Result<Option<String>, StateError> {
    Ok(conn
        .query_row(
            "SELECT name FROM ddas_drops WHERE municipality = ?1 AND month = ?2",
            params![municipality, month],
            |r| r.get(0),
        )
        .optional()?)
}

/// Records that the export of `month` for `municipality` is in its pickup folder as `name`.
pub fn record_drop(
    conn: &Connection,
    municipality: &str,
    month: &str,
    name: &str,
    at: &str,
) -> Result<(), StateError> {
    conn.execute(
        "INSERT INTO ddas_drops (municipality, month, name, dropped_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (municipality, month) DO UPDATE SET name = excluded.name, dropped_at = excluded.dropped_at",
        params![municipality, month, name, at],
    )?;
    Ok(())
}
