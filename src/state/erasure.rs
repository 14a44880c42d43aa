//! An erasure in progress (docs/storage-and-retention.md, right to erasure), so that one interrupted at any point is
//! finished by the next `meldpunt erase`: the sealed lines it removes, the terugmelding files
//! it rewrites and the bundle versions it re-issues. Rows hold ids only (file id, line, signal
//! id, creditor, municipality code) — nothing about the person — and go when the erasure ends.
//!
//! A re-issued bundle version is an ordinary batch version limited to some municipalities;
//! its scope is kept in `batch_scope`, so whoever redoes an interrupted version (the erasure,
//! the scheduler or `batch run`) delivers it to the same municipalities only.

use std::collections::BTreeSet;

use rusqlite::{Connection, OptionalExtension as _, params};

use super::StateError;

/// Schema of these tables.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS erase_lines (
    period    TEXT NOT NULL,
    file_id   TEXT NOT NULL,
    line      INTEGER NOT NULL,
    signal_id TEXT NOT NULL,
    PRIMARY KEY (period, file_id, line)
);
CREATE TABLE IF NOT EXISTS erase_terugmeldingen (
    creditor TEXT NOT NULL,
    name     TEXT NOT NULL,
    file_id  TEXT NOT NULL,
    PRIMARY KEY (creditor, name)
);
CREATE TABLE IF NOT EXISTS erase_reissue (
    period       TEXT NOT NULL,
    version      INTEGER NOT NULL,
    municipality TEXT NOT NULL,
    PRIMARY KEY (period, municipality)
);
CREATE TABLE IF NOT EXISTS erase_notify (
    period       TEXT NOT NULL,
    municipality TEXT NOT NULL,
    PRIMARY KEY (period, municipality)
);
CREATE TABLE IF NOT EXISTS batch_scope (
    period       TEXT NOT NULL,
    version      INTEGER NOT NULL,
    municipality TEXT NOT NULL,
    PRIMARY KEY (period, version, municipality)
);
";

/// A sealed line to remove: (period, file id, line in the upload, signal id).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineToErase {
    /// Period `YYYY-MM`.
    pub period: String,
    /// The sealed file.
    pub file_id: String,
    /// The record's line in the upload.
    pub line: u64,
    /// Its signal id.
    pub signal_id: String,
}

/// What an erasure will do, recorded before it changes anything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Sealed lines to remove.
    pub lines: Vec<LineToErase>,
    /// Terugmelding files to rewrite: (creditor, name, feedback file id).
    pub creditor_feedback: Vec<(String, String, String)>,
    /// Bundles to re-issue: (period, new version, municipality).
    pub reissue: Vec<(String, u32, String)>,
    /// Municipalities that picked up a bundle with the signals already: (period, municipality).
    pub notify: Vec<(String, String)>,
}

impl Plan {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
            && self.creditor_feedback.is_empty()
            && self.reissue.is_empty()
            && self.notify.is_empty()
    }
}

/// Records a plan (added to whatever an interrupted erasure left).
pub fn record(conn: &mut Connection, plan: &Plan) -> Result<(), StateError> {
    let tx = conn.transaction()?;
    {
        let mut lines = tx.prepare(
            "INSERT OR IGNORE INTO erase_lines (period, file_id, line, signal_id) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for l in &plan.lines {
            lines.execute(params![l.period, l.file_id, l.line, l.signal_id])?;
        }
        let mut tm = tx.prepare(
            "INSERT OR IGNORE INTO erase_terugmeldingen (creditor, name, file_id) VALUES (?1, ?2, ?3)",
        )?;
        for (c, n, f) in &plan.creditor_feedback {
            tm.execute(params![c, n, f])?;
        }
        let mut re = tx.prepare(
            "INSERT OR IGNORE INTO erase_reissue (period, version, municipality) VALUES (?1, ?2, ?3)",
        )?;
        for (p, v, m) in &plan.reissue {
            re.execute(params![p, v, m])?;
        }
        let mut no =
            tx.prepare("INSERT OR IGNORE INTO erase_notify (period, municipality) VALUES (?1, ?2)")?;
        for (p, m) in &plan.notify {
            no.execute(params![p, m])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// The plan recorded so far (empty when no erasure is in progress).
pub fn pending(conn: &Connection) -> Result<Plan, StateError> {
    let mut plan = Plan::default();
    let mut stmt = conn
        .prepare("SELECT period, file_id, line, signal_id FROM erase_lines ORDER BY period, file_id, line")?;
    plan.lines = stmt
        .query_map([], |r| {
            Ok(LineToErase { period: r.get(0)?, file_id: r.get(1)?, line: r.get(2)?, signal_id: r.get(3)? })
        })?
        .collect::<Result<_, _>>()?;
    let mut stmt =
        conn.prepare("SELECT creditor, name, file_id FROM erase_terugmeldingen ORDER BY creditor, name")?;
    plan.creditor_feedback =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?;
    let mut stmt = conn
        .prepare("SELECT period, version, municipality FROM erase_reissue ORDER BY period, municipality")?;
    plan.reissue =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?;
    let mut stmt =
        conn.prepare("SELECT period, municipality FROM erase_notify ORDER BY period, municipality")?;
    plan.notify = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    Ok(plan)
}

/// Removes the state rows of the erased signals (delivery and feedback) in one transaction.
/// Returns how many rows went.
pub fn delete_signal_rows(conn: &mut Connection) -> Result<usize, StateError> {
    let tx = conn.transaction()?;
    let mut n =
        tx.execute("DELETE FROM feedback WHERE signal_id IN (SELECT signal_id FROM erase_lines)", [])?;
    tx.execute("DELETE FROM delivered_via WHERE signal_id IN (SELECT signal_id FROM erase_lines)", [])?;
    n += tx.execute("DELETE FROM delivered WHERE signal_id IN (SELECT signal_id FROM erase_lines)", [])?;
    tx.commit()?;
    Ok(n)
}

/// Ends an erasure: its plan goes.
pub fn finish(conn: &Connection) -> Result<(), StateError> {
    conn.execute_batch(
        "DELETE FROM erase_lines; DELETE FROM erase_terugmeldingen; DELETE FROM erase_reissue; DELETE FROM erase_notify;",
    )?;
    Ok(())
}

/// Starts a batch version limited to `municipalities` (status `running`), unless that version
/// exists already; returns whether it was started here.
pub fn begin_scoped(
    conn: &mut Connection,
    period: &str,
    version: u32,
    municipalities: &BTreeSet<String>,
    now: &str,
) -> Result<bool, StateError> {
    let tx = conn.transaction()?;
    let exists = tx
        .query_row(
            "SELECT 1 FROM batches WHERE period = ?1 AND version = ?2",
            params![period, version],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if !exists {
        tx.execute(
            "INSERT INTO batches (period, version, status, started_at) VALUES (?1, ?2, 'running', ?3)",
            params![period, version, now],
        )?;
        let mut stmt = tx.prepare(
            "INSERT OR IGNORE INTO batch_scope (period, version, municipality) VALUES (?1, ?2, ?3)",
        )?;
        for m in municipalities {
            stmt.execute(params![period, version, m])?;
        }
    }
    tx.commit()?;
    Ok(!exists)
}

/// The municipalities a batch version is limited to (`None`: all of them).
pub fn scope(conn: &Connection, period: &str, version: u32) -> Result<Option<BTreeSet<String>>, StateError> {
    let mut stmt =
        conn.prepare_cached("SELECT municipality FROM batch_scope WHERE period = ?1 AND version = ?2")?;
    let set: BTreeSet<String> =
        stmt.query_map(params![period, version], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(if set.is_empty() { None } else { Some(set) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> (tempfile::TempDir, crate::state::State) {
        let dir = tempfile::tempdir().unwrap();
        let s = crate::state::State::open(&dir.path().join("s.db")).unwrap();
        (dir, s)
    }

    #[test]
    fn a_plan_survives_until_finished_and_adds_up() {
        let (_d, s) = state();
        let line = |n| LineToErase {
            period: "2026-10".into(),
            file_id: "F1".into(),
            line: n,
            signal_id: format!("S-{n}"),
        };
        let plan = Plan {
            lines: vec![line(2), line(5)],
            creditor_feedback: vec![("C1".into(), "terugmelding_2026-11-02.csv".into(), "FB1".into())],
            reissue: vec![("2026-10".into(), 2, "GM0363".into())],
            notify: vec![("2026-09".into(), "GM0363".into())],
        };
        record(&mut s.lock(), &plan).unwrap();
        // Recording again (a re-run) adds nothing twice.
        record(&mut s.lock(), &Plan { lines: vec![line(5), line(7)], ..Plan::default() }).unwrap();
        let got = pending(&s.lock()).unwrap();
        assert_eq!(got.lines, vec![line(2), line(5), line(7)]);
        assert_eq!(got.creditor_feedback, plan.creditor_feedback);
        assert_eq!(got.reissue, plan.reissue);
        assert_eq!(got.notify, plan.notify);
        finish(&s.lock()).unwrap();
        assert!(pending(&s.lock()).unwrap().is_empty());
    }

    #[test]
    fn a_scoped_version_is_begun_once_and_keeps_its_scope() {
        let (_d, s) = state();
        let set: BTreeSet<String> = ["GM0363".to_string(), "GM0599".to_string()].into();
        assert!(begin_scoped(&mut s.lock(), "2026-10", 2, &set, "t").unwrap());
        assert!(!begin_scoped(&mut s.lock(), "2026-10", 2, &set, "t").unwrap());
        assert_eq!(scope(&s.lock(), "2026-10", 2).unwrap(), Some(set));
        assert_eq!(scope(&s.lock(), "2026-10", 1).unwrap(), None);
        assert_eq!(
            crate::state::batches::latest(&s.lock(), "2026-10").unwrap(),
            Some((2, crate::state::batches::BatchStatus::Running))
        );
    }
}
