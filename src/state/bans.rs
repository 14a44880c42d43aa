//! Banned origins (the defender's bans), kept here so that `meldpunt ban list|remove`, a
//! separate process, sees and lifts what the daemon decided; the daemon re-reads the table
//! every few seconds.
//!
//! A row stays after its ban ends (`ended` set) so that a repeat ban lasts longer; lifting a
//! ban by hand removes the row.

use rusqlite::{Connection, OptionalExtension, params};

use super::StateError;

/// Schema of the table.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS bans (
    origin   TEXT PRIMARY KEY,
    since    INTEGER NOT NULL,
    until    INTEGER NOT NULL,
    strikes  INTEGER NOT NULL,
    reason   TEXT NOT NULL,
    ended    INTEGER
);
";

/// One ban (times are Unix seconds).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Ban {
    /// The banned address.
    pub origin: String,
    /// When the ban began.
    pub since: i64,
    /// When it ends.
    pub until: i64,
    /// How many bans this origin has had in a row (1 for the first).
    pub strikes: u32,
    /// The cause that crossed the threshold.
    pub reason: String,
}

/// The columns [`row`] reads, in its order.
const COLUMNS: &str = "origin, since, until, strikes, reason";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Ban> {
    Ok(Ban { origin: r.get(0)?, since: r.get(1)?, until: r.get(2)?, strikes: r.get(3)?, reason: r.get(4)? })
}

/// Records a ban of `origin` (replacing an earlier, ended one).
pub fn insert(conn: &Connection, ban: &Ban) -> Result<(), StateError> {
    conn.execute(
        "INSERT INTO bans (origin, since, until, strikes, reason, ended) VALUES (?1, ?2, ?3, ?4, ?5, NULL)
         ON CONFLICT (origin) DO UPDATE SET since = excluded.since, until = excluded.until,
           strikes = excluded.strikes, reason = excluded.reason, ended = NULL",
        params![ban.origin, ban.since, ban.until, ban.strikes, ban.reason],
    )?;
    Ok(())
}

/// The earlier ban of `origin`, if any: (strikes, until), ended or not.
pub fn previous(conn: &Connection, origin: &str) -> Result<Option<(u32, i64)>, StateError> {
    Ok(conn
        .query_row("SELECT strikes, until FROM bans WHERE origin = ?1", params![origin], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?)
}

/// Bans in force at `now`, longest-standing first.
pub fn active(conn: &Connection, now: i64) -> Result<Vec<Ban>, StateError> {
    let sql = format!("SELECT {COLUMNS} FROM bans WHERE until > ?1 AND ended IS NULL ORDER BY since, origin");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params![now], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Marks one ban that ran out by `now` as ended and returns it (call it in the transaction
/// that audits it, so each end is audited once).
pub fn end_expired(conn: &Connection, now: i64) -> Result<Option<Ban>, StateError> {
    let sql =
        format!("SELECT {COLUMNS} FROM bans WHERE until <= ?1 AND ended IS NULL ORDER BY origin LIMIT 1");
    let ended = conn.query_row(&sql, params![now], row).optional()?;
    if let Some(b) = &ended {
        conn.execute("UPDATE bans SET ended = ?1 WHERE origin = ?2", params![now, b.origin])?;
    }
    Ok(ended)
}

/// Lifts the ban of `origin` (and forgets its earlier bans); whether it was in force.
pub fn remove(conn: &Connection, origin: &str, now: i64) -> Result<bool, StateError> {
    let active: bool = conn
        .query_row(
            "SELECT until > ?2 AND ended IS NULL FROM bans WHERE origin = ?1",
            params![origin, now],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(false);
    conn.execute("DELETE FROM bans WHERE origin = ?1", params![origin])?;
    Ok(active)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ban_expire_repeat_and_remove() {
        let dir = tempfile::tempdir().unwrap();
        let state = crate::state::State::open(&dir.path().join("state.db")).unwrap();
        let conn = state.lock();
        let ban = |o: &str, until, strikes| Ban {
            origin: o.into(),
            since: 100,
            until,
            strikes,
            reason: "failed_login".into(),
        };
        insert(&conn, &ban("192.0.2.1", 200, 1)).unwrap();
        insert(&conn, &ban("192.0.2.2", 300, 1)).unwrap();
        assert_eq!(active(&conn, 150).unwrap().len(), 2);
        assert_eq!(end_expired(&conn, 250).unwrap(), Some(ban("192.0.2.1", 200, 1)));
        assert_eq!(end_expired(&conn, 250).unwrap(), None, "ended once");
        assert_eq!(active(&conn, 250).unwrap(), vec![ban("192.0.2.2", 300, 1)]);
        assert_eq!(previous(&conn, "192.0.2.1").unwrap(), Some((1, 200)));
        insert(&conn, &ban("192.0.2.1", 900, 2)).unwrap();
        assert_eq!(active(&conn, 250).unwrap().len(), 2, "a repeat ban is in force again");
        assert!(remove(&conn, "192.0.2.1", 250).unwrap());
        assert!(!remove(&conn, "192.0.2.1", 250).unwrap(), "gone");
        assert_eq!(previous(&conn, "192.0.2.1").unwrap(), None);
    }
}
