//! Known-client lists (docs/known-clients.md): per party, the keyed hashes of its last upload
//! and when it came. Only hashes are stored; a new upload replaces the old list in one
//! transaction, and `secure_delete` overwrites what it removes.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::StateError;
use crate::domain::clients::{Digest, PersonHashes};

/// Schema of the known-client tables.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS client_lists (
    party       TEXT PRIMARY KEY,
    key_id      TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    persons     INTEGER NOT NULL,
    expired_at  TEXT
);
CREATE TABLE IF NOT EXISTS client_hashes (
    party TEXT NOT NULL,
    name  BLOB NOT NULL,
    dated BLOB
);
CREATE INDEX IF NOT EXISTS client_hashes_by_party ON client_hashes (party);
";

/// What is known of a party's list (no hashes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListInfo {
    /// The party.
    pub party: String,
    /// The id of the key it was made with.
    pub key_id: String,
    /// When it was uploaded.
    pub uploaded_at: Timestamp,
    /// How many persons it held.
    pub persons: u64,
    /// When it expired (its hashes are gone then), if it did.
    pub expired_at: Option<Timestamp>,
}

/// Stores `persons` as `party`'s list, replacing (deleting) its earlier one; how many persons
/// the replaced list still held.
pub fn replace(
    conn: &mut Connection,
    party: &str,
    key_id: &str,
    at: Timestamp,
    persons: &[PersonHashes],
) -> Result<u64, StateError> {
    let tx = conn.transaction()?;
    let replaced = tx.execute("DELETE FROM client_hashes WHERE party = ?1", params![party])? as u64;
    tx.execute("DELETE FROM client_lists WHERE party = ?1", params![party])?;
    tx.execute(
        "INSERT INTO client_lists (party, key_id, uploaded_at, persons) VALUES (?1, ?2, ?3, ?4)",
        params![party, key_id, at.to_string(), persons.len() as u64],
    )?;
    {
        let mut insert = tx.prepare("INSERT INTO client_hashes (party, name, dated) VALUES (?1, ?2, ?3)")?;
        for p in persons {
            insert.execute(params![party, &p.name[..], p.dated.as_ref().map(|d| &d[..])])?;
        }
    }
    tx.commit()?;
    Ok(replaced)
}

/// The list of `party`, if it has one.
pub fn info(conn: &Connection, party: &str) -> Result<Option<ListInfo>, StateError> {
    Ok(conn
        .query_row(
            "SELECT party, key_id, uploaded_at, persons, expired_at FROM client_lists WHERE party = ?1",
            params![party],
            list_info,
        )
        .optional()?)
}

/// Every party's list, by party.
pub fn all(conn: &Connection) -> Result<Vec<ListInfo>, StateError> {
    let mut stmt = conn
        .prepare("SELECT party, key_id, uploaded_at, persons, expired_at FROM client_lists ORDER BY party")?;
    let rows = stmt.query_map([], list_info)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The hashes of `party`'s list (none once it expired).
pub fn hashes(conn: &Connection, party: &str) -> Result<Vec<PersonHashes>, StateError> {
    let mut stmt = conn.prepare("SELECT name, dated FROM client_hashes WHERE party = ?1")?;
    let rows = stmt
        .query_map(params![party], |r| {
            let name: Vec<u8> = r.get(0)?;
            let dated: Option<Vec<u8>> = r.get(1)?;
            Ok((name, dated))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    // Rows are written by `replace` only, so every blob is 32 bytes; anything else is skipped.
    let digest = |b: &[u8]| -> Option<Digest> { b.try_into().ok() };
    Ok(rows
        .into_iter()
        .filter_map(|(n, d)| {
            let dated = match d {
                Some(d) => Some(digest(&d)?),
                None => None,
            };
            Some(PersonHashes { name: digest(&n)?, dated })
        })
        .collect())
}

/// Expires `party`'s list at `at`: its hashes are deleted, the row says when. How many
/// persons it held (0 when it had expired already).
pub fn expire(conn: &mut Connection, party: &str, at: Timestamp) -> Result<u64, StateError> {
    let tx = conn.transaction()?;
    let n = tx.execute(
        "UPDATE client_lists SET expired_at = ?2 WHERE party = ?1 AND expired_at IS NULL",
        params![party, at.to_string()],
    )?;
    let removed = tx.execute("DELETE FROM client_hashes WHERE party = ?1", params![party])? as u64;
    tx.commit()?;
    Ok(if n == 0 { 0 } else { removed })
}

/// Removes `party`'s list altogether (its key was replaced); how many persons it held.
pub fn remove(conn: &mut Connection, party: &str) -> Result<u64, StateError> {
    let tx = conn.transaction()?;
    let removed = tx.execute("DELETE FROM client_hashes WHERE party = ?1", params![party])? as u64;
    tx.execute("DELETE FROM client_lists WHERE party = ?1", params![party])?;
    tx.commit()?;
    Ok(removed)
}

fn list_info(r: &rusqlite::Row<'_>) -> rusqlite::Result<ListInfo> {
    let time = |i: usize, s: String| {
        s.parse::<Timestamp>()
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into()))
    };
    let expired: Option<String> = r.get(4)?;
    Ok(ListInfo {
        party: r.get(0)?,
        key_id: r.get(1)?,
        uploaded_at: time(2, r.get(2)?)?,
        persons: r.get(3)?,
        expired_at: expired.map(|s| time(4, s)).transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(b: u8, dated: bool) -> PersonHashes {
        PersonHashes { name: [b; 32], dated: dated.then_some([b ^ 0xff; 32]) }
    }

    #[test]
    fn an_upload_replaces_the_list_and_expiry_keeps_only_the_count() {
        let dir = tempfile::tempdir().unwrap();
        let state = crate::state::State::open(&dir.path().join("state.db")).unwrap();
        let mut conn = state.lock();
        let t0: Timestamp = "2026-11-01T10:00:00Z".parse().unwrap();
        assert_eq!(
            replace(&mut conn, "GM0505", "00112233aabbccdd", t0, &[person(1, true), person(2, false)])
                .unwrap(),
            0
        );
        assert_eq!(replace(&mut conn, "GM0599", "00112233aabbccdd", t0, &[person(9, true)]).unwrap(), 0);
        let t1: Timestamp = "2026-11-02T10:00:00Z".parse().unwrap();
        assert_eq!(replace(&mut conn, "GM0505", "ffeeddccbbaa9988", t1, &[person(3, false)]).unwrap(), 2);
        assert_eq!(hashes(&conn, "GM0505").unwrap(), [person(3, false)]);
        let i = info(&conn, "GM0505").unwrap().unwrap();
        assert_eq!(
            (i.key_id.as_str(), i.uploaded_at, i.persons, i.expired_at),
            ("ffeeddccbbaa9988", t1, 1, None)
        );
        assert_eq!(expire(&mut conn, "GM0505", t1).unwrap(), 1);
        assert_eq!(expire(&mut conn, "GM0505", t1).unwrap(), 0);
        assert!(hashes(&conn, "GM0505").unwrap().is_empty());
        assert_eq!(info(&conn, "GM0505").unwrap().unwrap().expired_at, Some(t1));
        assert_eq!(all(&conn).unwrap().len(), 2);
        assert_eq!(remove(&mut conn, "GM0599").unwrap(), 1);
        assert_eq!(info(&conn, "GM0599").unwrap(), None);
    }
}
