//! Rows a retention sweep removed and has not audited yet.
//!
//! A sweep removes rows in one transaction, its files after that, and audits the round at the
//! end. The counts of the removed rows are added here in the rows' own transaction and taken
//! out in the audit event's transaction, so a round stopped in between (a kill, a failed file
//! removal) leaves them for the next round's event: every removal is audited exactly once.

use rusqlite::{Connection, Transaction, params};

use super::StateError;

/// Schema of the table (at most one row).
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS swept_unaudited (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    rejected_rows    INTEGER NOT NULL,
    feedback_rows    INTEGER NOT NULL,
    feedback_reduced INTEGER NOT NULL
);
";

/// Row counts of a sweep (removed, or not yet audited).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SweptRows {
    /// State rows of rejected and duplicate uploads removed.
    pub rejected_rows: usize,
    /// Feedback upload records removed.
    pub feedback_rows: usize,
    /// Feedback upload records whose stored receipt was dropped.
    pub feedback_reduced: usize,
}

/// Adds `rows`, removed in `tx`, to what is not audited yet (committed with the removal).
pub fn add_unaudited(tx: &Transaction<'_>, rows: SweptRows) -> Result<(), StateError> {
    if rows == SweptRows::default() {
        return Ok(());
    }
    tx.execute(
        "INSERT INTO swept_unaudited (id, rejected_rows, feedback_rows, feedback_reduced)
         VALUES (1, ?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET rejected_rows = rejected_rows + excluded.rejected_rows,
           feedback_rows = feedback_rows + excluded.feedback_rows,
           feedback_reduced = feedback_reduced + excluded.feedback_reduced",
        params![rows.rejected_rows as i64, rows.feedback_rows as i64, rows.feedback_reduced as i64],
    )?;
    Ok(())
}

/// Takes what is not audited yet: call it in the transaction that writes the audit event.
pub fn take_unaudited(conn: &Connection) -> Result<SweptRows, StateError> {
    let rows = rusqlite::OptionalExtension::optional(conn.query_row(
        "SELECT rejected_rows, feedback_rows, feedback_reduced FROM swept_unaudited WHERE id = 1",
        [],
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)),
    ))?;
    let Some((rejected, gone, reduced)) = rows else { return Ok(SweptRows::default()) };
    conn.execute("DELETE FROM swept_unaudited", [])?;
    let count = |n: i64| usize::try_from(n).unwrap_or(0);
    Ok(SweptRows {
        rejected_rows: count(rejected),
        feedback_rows: count(gone),
        feedback_reduced: count(reduced),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_until_taken_and_a_rolled_back_removal_adds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let state = crate::state::State::open(&dir.path().join("state.db")).unwrap();
        let mut conn = state.lock();
        assert_eq!(take_unaudited(&conn).unwrap(), SweptRows::default());
        for rows in [
            SweptRows { rejected_rows: 2, ..SweptRows::default() },
            SweptRows { rejected_rows: 1, feedback_rows: 3, feedback_reduced: 4 },
        ] {
            let tx = conn.transaction().unwrap();
            add_unaudited(&tx, rows).unwrap();
            tx.commit().unwrap();
        }
        // Not committed: as if the removal had failed.
        let tx = conn.transaction().unwrap();
        add_unaudited(&tx, SweptRows { feedback_rows: 9, ..SweptRows::default() }).unwrap();
        drop(tx);
        let expected = SweptRows { rejected_rows: 3, feedback_rows: 3, feedback_reduced: 4 };
        assert_eq!(take_unaudited(&conn).unwrap(), expected);
        assert_eq!(take_unaudited(&conn).unwrap(), SweptRows::default(), "taken once");
    }
}
