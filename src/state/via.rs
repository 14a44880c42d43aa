//! Signals delivered to an executor (docs/parties.md, "Executors"): per signal, the executor
//! that received it and whether the municipality itself did too. A signal without a row went
//! to its municipality only. Feedback asks it (through `exchange::delivered`) whether a sender
//! received the signal; rows go with their `delivered` rows (shred, erasure).

use rusqlite::{Connection, params};

use super::StateError;

/// Schema of this table.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS delivered_via (
    signal_id        TEXT PRIMARY KEY,
    executor         TEXT NOT NULL,
    municipality_too INTEGER NOT NULL
);
";

/// A signal of a batch version that went to an executor.
#[derive(Clone, Copy, Debug)]
pub struct ViaExecutor<'a> {
    /// The signal id in the bundle.
    pub signal_id: &'a str,
    /// The executor that received it.
    pub executor: &'a str,
    /// Whether its municipality received it as well.
    pub municipality_too: bool,
}

/// Records where the signals of one batch version went: for the signals of `period` delivered
/// to `municipalities` (the run's), the earlier version's rows are replaced by `via`.
pub fn record(
    conn: &mut Connection,
    period: &str,
    municipalities: &[&str],
    via: &[ViaExecutor<'_>],
) -> Result<(), StateError> {
    let tx = conn.transaction()?;
    {
        let mut clear = tx.prepare(
            "DELETE FROM delivered_via WHERE signal_id IN
               (SELECT signal_id FROM delivered WHERE period = ?1 AND municipality = ?2)",
        )?;
        for m in municipalities {
            clear.execute(params![period, m])?;
        }
        let mut insert = tx.prepare(
            "INSERT OR REPLACE INTO delivered_via (signal_id, executor, municipality_too) VALUES (?1, ?2, ?3)",
        )?;
        for v in via {
            insert.execute(params![v.signal_id, v.executor, v.municipality_too])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// The statement that removes the rows of `period`'s signals (run before its `delivered` rows go).
pub const DELETE_OF_PERIOD: &str =
    "DELETE FROM delivered_via WHERE signal_id IN (SELECT signal_id FROM delivered WHERE period = ?1)";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::exchange::{self, Delivery};

    #[test]
    fn a_new_version_replaces_where_signals_went() {
        let d = tempfile::tempdir().unwrap();
        let state = crate::state::State::open(&d.path().join("s.db")).unwrap();
        let mut conn = state.lock();
        let delivery =
            |id| Delivery { signal_id: id, municipality: "GM0505", creditor: "w", referentie: "R" };
        exchange::record_delivered(&mut conn, "2026-11", 1, "t", &[delivery("S-1"), delivery("S-2")])
            .unwrap();
        let via = |id| ViaExecutor { signal_id: id, executor: "SDD", municipality_too: false };
        record(&mut conn, "2026-11", &["GM0505"], &[via("S-1"), via("S-2")]).unwrap();
        let s1 = exchange::delivered(&conn, "S-1").unwrap().unwrap();
        assert!(s1.reached("SDD") && !s1.reached("GM0505"));
        // Version 2 sends S-2 to the municipality only.
        record(&mut conn, "2026-11", &["GM0505"], &[via("S-1")]).unwrap();
        let s2 = exchange::delivered(&conn, "S-2").unwrap().unwrap();
        assert!(s2.reached("GM0505") && !s2.reached("SDD"));
        let s1 = exchange::delivered(&conn, "S-1").unwrap().unwrap();
        assert_eq!(s1.executor.as_deref(), Some("SDD"));
    }
}
