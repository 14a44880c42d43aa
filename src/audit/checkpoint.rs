//! Signed checkpoints and purge anchors.
//!
//! A **checkpoint** says "the log had `seq` events and event `seq` had hash `head` at `ts`",
//! signed with the audit key. It makes truncation (a checkpoint beyond the last event) and a
//! re-chained rewrite (a checkpoint whose head no longer matches) detectable.
//!
//! An **anchor** says "events 1..=`through` (the last of them with hash `head`) were purged
//! for retention", signed the same way. A log that starts after event 1 is valid only from a
//! signed anchor whose head is the first kept event's `prev`.
//!
//! The signed message is a fixed text of every field but the signature, so nothing of either
//! can change without the signature failing.

use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use super::key::{AuditKey, PublicKey};
use super::{Audit, GENESIS};
use crate::state::StateError;

/// Tables of checkpoints and anchors (applied with the state schema).
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS audit_checkpoints (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    seq    INTEGER NOT NULL,
    head   TEXT NOT NULL,
    ts     TEXT NOT NULL,
    reason TEXT NOT NULL,
    key    TEXT NOT NULL,
    sig    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_anchors (
    through INTEGER PRIMARY KEY,
    head    TEXT NOT NULL,
    purged  INTEGER NOT NULL,
    before  TEXT NOT NULL,
    ts      TEXT NOT NULL,
    key     TEXT NOT NULL,
    sig     TEXT NOT NULL
);
";

/// A signed statement of the log's length and head.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// Events appended so far: the seq of the head event.
    pub seq: u64,
    /// Hash of event `seq` (the genesis hash when `seq` is 0).
    pub head: String,
    /// When it was made (UTC, RFC 3339, ms).
    pub ts: String,
    /// Why: `interval`, `shutdown`, `purge`, `export`.
    pub reason: String,
    /// Id of the signing key (first 16 hex digits of the public key).
    pub key: String,
    /// Ed25519 signature of [`Checkpoint::message`], hex.
    pub sig: String,
}

impl Checkpoint {
    /// The bytes that are signed.
    pub fn message(&self) -> Vec<u8> {
        format!(
            "meldpunt-audit-checkpoint-v1\nseq={}\nhead={}\nts={}\nreason={}\nkey={}\n",
            self.seq, self.head, self.ts, self.reason, self.key
        )
        .into_bytes()
    }

    /// Whether the signature is `public`'s.
    pub fn signed_by(&self, public: &PublicKey) -> bool {
        public.verifies(&self.message(), &self.sig)
    }
}

/// A signed statement that the oldest events were purged for retention.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Anchor {
    /// Events 1..=`through` are gone.
    pub through: u64,
    /// Hash of event `through`: the `prev` of the first kept event.
    pub head: String,
    /// Events this purge removed.
    pub purged: u64,
    /// Events older than this (the start of a calendar month, UTC) were purged.
    pub before: String,
    /// When it was made.
    pub ts: String,
    /// Id of the signing key.
    pub key: String,
    /// Ed25519 signature of [`Anchor::message`], hex.
    pub sig: String,
}

impl Anchor {
    /// The bytes that are signed.
    pub fn message(&self) -> Vec<u8> {
        format!(
            "meldpunt-audit-anchor-v1\nthrough={}\nhead={}\npurged={}\nbefore={}\nts={}\nkey={}\n",
            self.through, self.head, self.purged, self.before, self.ts, self.key
        )
        .into_bytes()
    }

    /// Whether the signature is `public`'s.
    pub fn signed_by(&self, public: &PublicKey) -> bool {
        public.verifies(&self.message(), &self.sig)
    }
}

/// The current time as stored (UTC, RFC 3339, milliseconds).
pub fn now_text() -> String {
    let now = jiff::Timestamp::now();
    format!("{:.3}", now.round(jiff::Unit::Millisecond).unwrap_or(now))
}

/// The head of the log inside a transaction: (seq, hash) of the last event, or of the latest
/// purge anchor when every event was purged, or (0, genesis).
pub(super) fn head(conn: &rusqlite::Connection) -> rusqlite::Result<(u64, String)> {
    let last: Option<(i64, String)> = conn
        .query_row("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let anchored: Option<(i64, String)> = conn
        .query_row("SELECT through, head FROM audit_anchors ORDER BY through DESC LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    Ok(match last.or(anchored) {
        Some((s, h)) => (s as u64, h),
        None => (0, GENESIS.to_owned()),
    })
}

/// Signs and stores a checkpoint of the current head (inside a transaction).
pub(super) fn insert_checkpoint(
    conn: &rusqlite::Connection,
    key: &AuditKey,
    reason: &str,
) -> rusqlite::Result<Checkpoint> {
    let (seq, head) = head(conn)?;
    let mut cp = Checkpoint {
        seq,
        head,
        ts: now_text(),
        reason: reason.to_owned(),
        key: key.public().id(),
        sig: String::new(),
    };
    cp.sig = key.sign(&cp.message());
    conn.execute(
        "INSERT INTO audit_checkpoints (seq, head, ts, reason, key, sig) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![cp.seq as i64, cp.head, cp.ts, cp.reason, cp.key, cp.sig],
    )?;
    Ok(cp)
}

impl Audit {
    /// Writes a signed checkpoint of the current head. With `only_if_new`, nothing is written
    /// when the latest checkpoint already covers the head (the periodic timer uses this).
    pub fn checkpoint_blocking(
        &self,
        key: &AuditKey,
        reason: &str,
        only_if_new: bool,
    ) -> Result<Option<Checkpoint>, StateError> {
        let mut conn = self.state.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if only_if_new {
            let (seq, _) = head(&tx)?;
            let covered: Option<i64> =
                tx.query_row("SELECT MAX(seq) FROM audit_checkpoints", [], |r| r.get(0))?;
            if covered.is_some_and(|c| c as u64 >= seq) {
                return Ok(None);
            }
        }
        let cp = insert_checkpoint(&tx, key, reason)?;
        tx.commit()?;
        tracing::info!(target: "audit", seq = cp.seq, reason, "audit checkpoint signed");
        Ok(Some(cp))
    }

    /// Every stored checkpoint, oldest first.
    pub fn checkpoints(&self) -> Result<Vec<Checkpoint>, StateError> {
        let conn = self.state.lock();
        let mut stmt =
            conn.prepare("SELECT seq, head, ts, reason, key, sig FROM audit_checkpoints ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok(Checkpoint {
                seq: r.get::<_, i64>(0)? as u64,
                head: r.get(1)?,
                ts: r.get(2)?,
                reason: r.get(3)?,
                key: r.get(4)?,
                sig: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every stored purge anchor, oldest first.
    pub fn anchors(&self) -> Result<Vec<Anchor>, StateError> {
        let conn = self.state.lock();
        let mut stmt = conn.prepare(
            "SELECT through, head, purged, before, ts, key, sig FROM audit_anchors ORDER BY through",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Anchor {
                through: r.get::<_, i64>(0)? as u64,
                head: r.get(1)?,
                purged: r.get::<_, i64>(2)? as u64,
                before: r.get(3)?,
                ts: r.get(4)?,
                key: r.get(5)?,
                sig: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
