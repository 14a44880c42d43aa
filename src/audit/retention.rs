//! Audit retention: purging whole monthly segments of old events, leaving a signed anchor.
//!
//! A segment is a calendar month (UTC) of events. Events of months that ended more than the
//! retention before now are removed in one transaction that first signs a `purge`
//! checkpoint of the head, then a signed [`Anchor`] naming the last purged event and its
//! hash, then deletes the events (and the checkpoints they made obsolete). An `audit_purge`
//! event follows. A verifier accepts a log that starts after event 1 only from such an anchor.

use jiff::{Timestamp, ToSpan};
use rusqlite::{TransactionBehavior, params};
use serde_json::json;

use super::checkpoint::{Anchor, insert_checkpoint, now_text};
use super::key::AuditKey;
use super::{Audit, Event, Outcome};
use crate::state::StateError;

/// Where a purge with `retention_months` at `now` cuts: the start (UTC) of the month that
/// contains `now - retention_months`. Everything before it is old enough.
pub fn purge_boundary(now: Timestamp, retention_months: u32) -> Timestamp {
    let utc = now.to_zoned(jiff::tz::TimeZone::UTC);
    let back = utc.checked_sub((retention_months as i64).months()).unwrap_or(utc);
    back.date()
        .first_of_month()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

impl Audit {
    /// Purges the monthly segments older than `before` (see [`purge_boundary`]). Returns the
    /// anchor written, or `None` when nothing was old enough.
    pub fn purge_blocking(&self, key: &AuditKey, before: Timestamp) -> Result<Option<Anchor>, StateError> {
        let before_text = format!("{:.3}", before);
        let anchor = {
            let mut conn = self.state.lock();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // Timestamps are stored as fixed-width UTC text, so they compare as text.
            let last_old: Option<i64> =
                tx.query_row("SELECT MAX(seq) FROM audit WHERE ts < ?1", params![before_text], |r| r.get(0))?;
            let Some(through) = last_old else { return Ok(None) };
            let head: String =
                tx.query_row("SELECT hash FROM audit WHERE seq = ?1", params![through], |r| r.get(0))?;
            insert_checkpoint(&tx, key, "purge")?;
            let purged = tx.execute("DELETE FROM audit WHERE seq <= ?1", params![through])? as u64;
            tx.execute("DELETE FROM audit_checkpoints WHERE seq < ?1", params![through])?;
            let mut anchor = Anchor {
                through: through as u64,
                head,
                purged,
                before: before_text,
                ts: now_text(),
                key: key.public().id(),
                sig: String::new(),
            };
            anchor.sig = key.sign(&anchor.message());
            tx.execute(
                "INSERT INTO audit_anchors (through, head, purged, before, ts, key, sig)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    anchor.through as i64,
                    anchor.head,
                    anchor.purged as i64,
                    anchor.before,
                    anchor.ts,
                    anchor.key,
                    anchor.sig
                ],
            )?;
            tx.commit()?;
            anchor
        };
        self.emit_blocking(Event::new("system", "audit_purge", Outcome::Ok).object(json!({
            "through": anchor.through,
            "purged": anchor.purged,
            "before": anchor.before,
        })))?;
        Ok(Some(anchor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundary_is_the_start_of_a_utc_month() {
        let now: Timestamp = "2026-11-23T17:00:00Z".parse().unwrap();
        assert_eq!(purge_boundary(now, 84).to_string(), "2019-11-01T00:00:00Z");
        assert_eq!(purge_boundary(now, 1).to_string(), "2026-10-01T00:00:00Z");
    }

    #[test]
    fn purges_old_months_only_and_the_chain_goes_on_from_the_anchor() {
        use crate::audit::verify::{Log, Source, verify};
        let dir = tempfile::tempdir().unwrap();
        let audit = Audit::open(crate::state::State::open(&dir.path().join("s.db")).unwrap()).unwrap();
        let key = AuditKey::load_or_create(&dir.path().join("k")).unwrap();
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        for ts in ["2019-01-05T00:00:00Z", "2019-01-31T23:59:59Z", "2019-02-01T00:00:00Z"] {
            audit.emit_at_blocking(Event::new("system", "test", Outcome::Ok), at(ts)).unwrap();
        }
        let log = |a: &Audit| Log {
            records: a.records().unwrap(),
            checkpoints: a.checkpoints().unwrap(),
            anchors: a.anchors().unwrap(),
        };
        // Nothing before January 2019: nothing purged.
        assert_eq!(audit.purge_blocking(&key, at("2019-01-01T00:00:00Z")).unwrap(), None);
        // January goes as a whole; February stays.
        let a = audit.purge_blocking(&key, at("2019-02-01T00:00:00Z")).unwrap().unwrap();
        assert_eq!((a.through, a.purged), (2, 2));
        let recs = audit.records().unwrap();
        assert_eq!(recs.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![3, 4]);
        assert_eq!(recs[1].action, "audit_purge");
        let v = verify(&log(&audit), &key.public(), Source::Database).unwrap();
        assert_eq!((v.events, v.purged_through, v.anchors), (2, 2, 1));
        // Purging everything: the next event still links to the last anchor.
        audit.purge_blocking(&key, at("2100-01-01T00:00:00Z")).unwrap().unwrap();
        audit.emit_blocking(Event::new("system", "test", Outcome::Ok)).unwrap();
        let v = verify(&log(&audit), &key.public(), Source::Database).unwrap();
        assert_eq!((v.range, v.anchors), (Some((5, 6)), 2));
    }
}
