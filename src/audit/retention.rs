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
}
