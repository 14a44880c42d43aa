//! The tamper-evident audit log (docs/audit.md): an append-only, hash-chained table in the state
//! database. Every event is also written as a structured log line.
//!
//! Events carry ids, hashes, fingerprints and counts only — never personal data. The
//! [`Event`] builder takes an `object` as JSON so callers decide, and reviewers can see, what
//! goes in.
//!
//! Signed [checkpoints](checkpoint) and purge [anchors](checkpoint::Anchor) make truncation,
//! deletion and re-chained rewrites detectable ([`verify`]); [`export`] writes a file that
//! verifies offline; [`report`] summarises a month for the officer's review.
//!
//! # Action names
//!
//! The report counts by these names (actor `creditor:<id>` / `gemeente:<code>` unless noted;
//! any other action is still counted per party under its own name, so `shred` and `erase`
//! appear as soon as they are emitted):
//!
//! | action | who | object |
//! |---|---|---|
//! | `login` | party or `unknown` | `method`, `reason` (denied) |
//! | `upload` | creditor | `file_id`, `sha256`, `bytes`, `period` |
//! | `receipt` | `system` | `creditor`, `file_id`, `status`, `records.{total,accepted,…}` |
//! | `batch` | `system`/`operator` | `period`, `version`, `municipalities[{gemeente,households,signals}]` — each entry is one delivery |
//! | `delivery` | `system`/`operator` | `gemeente`, `period`, `version` (if emitted per municipality) |
//! | `pickup`, `pickup_ack` | municipality | `bundle` (file name `<GM>_<period>_v<n>_…`) |
//! | `feedback` | municipality | file id, counts |
//! | `feedback_routed` | `system` | `creditor`, counts |
//! | `shred`, `erase` | `system`/`operator` | ids, counts |
//! | `config_load` | `system` | `sha256` of the file, `changed`, `previous` |
//! | `config_reload` | `system` | `trigger`, `sha256`; parties and key fingerprints added/removed, `settings`, `restart_needed`, `sessions_closed`; or `problems` |
//! | `start`, `stop`, `audit_purge` | `system` | counts |
//! | `unclean_stop` | `system` | at start-up after a run without `stop`: `started`, `last_event`, `last_seq` |
//! | `upload_discarded` | `system` | at start-up: unfinished uploads of that run, `count`, `bytes`, `file_ids` |

use jiff::Timestamp;
use rusqlite::{TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::state::{State, StateError};

pub mod actions;
mod chain;
pub mod checkpoint;
pub mod escape;
pub mod export;
pub mod finding;
pub mod key;
pub mod offline;
pub mod operator;
pub mod report;
pub mod retention;
pub mod syslog;
pub mod verify;

pub use chain::{VerifyError, verify_chain};
use checkpoint::SCHEMA;
pub use checkpoint::{Anchor, Checkpoint};
pub use key::{AuditKey, PublicKey};

/// The hash of the (absent) event before the first one.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Whether the action succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Done.
    Ok,
    /// Refused (authentication, permission, validation).
    Denied,
    /// Failed on our side.
    Error,
}

impl Outcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Denied => "denied",
            Self::Error => "error",
        }
    }
}

/// An event about to be recorded.
#[derive(Clone, Debug)]
pub struct Event {
    actor: String,
    auth: Option<String>,
    origin: Option<String>,
    action: &'static str,
    object: serde_json::Value,
    outcome: Outcome,
}

impl Event {
    /// An event by `actor` (`creditor:<id>`, `gemeente:<code>`, `system`, `operator`).
    pub fn new(actor: impl Into<String>, action: &'static str, outcome: Outcome) -> Self {
        Self {
            actor: actor.into(),
            auth: None,
            origin: None,
            action,
            object: serde_json::Value::Object(Default::default()),
            outcome,
        }
    }

    /// The key or certificate fingerprint used.
    pub fn auth(mut self, auth: impl Into<String>) -> Self {
        self.auth = Some(auth.into());
        self
    }

    /// The remote address (default for `system` and `operator`: `local`; an `operator`
    /// event's `auth` ends with the OS user and the person behind it, see [`operator`]).
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// What the event is about: ids, hashes and counts only.
    pub fn object(mut self, object: serde_json::Value) -> Self {
        self.object = object;
        self
    }
}

/// One recorded event, as exported (JSON Lines) and hashed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// Position in the chain, from 1.
    pub seq: u64,
    /// UTC, RFC 3339 with milliseconds.
    pub ts: String,
    /// Who acted.
    pub actor: String,
    /// Key or certificate fingerprint.
    pub auth: Option<String>,
    /// Remote address.
    pub origin: Option<String>,
    /// What was done, e.g. `login`, `upload`, `receipt`.
    pub action: String,
    /// Ids, hashes, counts.
    pub object: serde_json::Value,
    /// `ok`, `denied`, `error`.
    pub outcome: Outcome,
    /// Hash of the previous event.
    pub prev: String,
    /// SHA-256 over this event without `hash` (canonical JSON), hex.
    pub hash: String,
}

impl Record {
    /// The hash this record must carry: SHA-256 of its canonical JSON without `hash`.
    pub fn compute_hash(&self) -> String {
        let body = serde_json::json!([
            self.seq,
            self.ts,
            self.actor,
            self.auth,
            self.origin,
            self.action,
            self.object,
            self.outcome,
            self.prev
        ]);
        hex::encode(Sha256::digest(body.to_string().as_bytes()))
    }
}

/// Whether the actor acts on this host (`system`, `operator`): BIO 8.15 wants an origin for
/// every event, and for them it is `local`.
fn local_actor(actor: &str) -> bool {
    matches!(actor, "system" | "operator")
}

/// The `auth` of an event: an `operator` event names the OS user and the person behind it
/// ([`operator::identity`]) after its own credential, if it has one (`local uid:0 sudo:alice`).
fn local_auth(actor: &str, auth: Option<String>) -> Option<String> {
    if actor != "operator" {
        return auth;
    }
    let who = operator::identity();
    Some(match auth {
        Some(a) => format!("{a} {who}"),
        None => who,
    })
}

/// The audit log.
#[derive(Clone)]
pub struct Audit {
    state: State,
    syslog: Option<std::sync::Arc<syslog::Syslog>>,
}

impl Audit {
    /// The audit log kept in `state`, its tables created if missing.
    pub fn open(state: State) -> Result<Self, StateError> {
        state.lock().execute_batch(SCHEMA)?;
        Ok(Self { state, syslog: None })
    }

    /// This log with a copy of every event appended from now on sent to syslog.
    pub fn with_syslog(mut self, syslog: syslog::Syslog) -> Self {
        self.syslog = Some(std::sync::Arc::new(syslog));
        self
    }

    /// Appends an event (blocking). Returns its sequence number.
    pub fn emit_blocking(&self, ev: Event) -> Result<u64, StateError> {
        self.emit_at_blocking(ev, Timestamp::now())
    }

    /// Appends an event stamped `ts` (tests of retention need old events; everything else
    /// uses [`Audit::emit_blocking`]).
    #[doc(hidden)]
    pub fn emit_at_blocking(&self, ev: Event, ts: Timestamp) -> Result<u64, StateError> {
        let seq = self.emit_built_at(ts, |_| Ok(Some(ev)))?;
        Ok(seq.expect("an event was given"))
    }

    /// Appends the event `build` makes, if it makes one, in the transaction `build` runs in
    /// (blocking): for what must be read and changed in the same transaction as its event is
    /// written, so that it is audited exactly once. Returns the event's sequence number.
    pub fn emit_built_blocking(
        &self,
        build: impl FnOnce(&rusqlite::Connection) -> Result<Option<Event>, StateError>,
    ) -> Result<Option<u64>, StateError> {
        self.emit_built_at(Timestamp::now(), build)
    }

    fn emit_built_at(
        &self,
        ts: Timestamp,
        build: impl FnOnce(&rusqlite::Connection) -> Result<Option<Event>, StateError>,
    ) -> Result<Option<u64>, StateError> {
        let mut conn = self.state.lock();
        // IMMEDIATE: the daemon and a command (batch run, ingest) may append at the same
        // time from two processes; the write lock is taken before the head is read.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let Some(ev) = build(&tx)? else {
            tx.commit()?;
            return Ok(None);
        };
        let (head_seq, prev) = checkpoint::head(&tx)?;
        let seq = head_seq + 1;
        let ts = ts.round(jiff::Unit::Millisecond).unwrap_or(ts);
        let mut rec = Record {
            seq,
            ts: format!("{ts:.3}"),
            auth: local_auth(&ev.actor, ev.auth),
            origin: ev.origin.or_else(|| local_actor(&ev.actor).then(|| "local".to_owned())),
            actor: ev.actor,
            action: ev.action.to_owned(),
            object: ev.object,
            outcome: ev.outcome,
            prev,
            hash: String::new(),
        };
        rec.hash = rec.compute_hash();
        tx.execute(
            "INSERT INTO audit (seq, ts, actor, auth, origin, action, object, outcome, prev, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                rec.seq as i64,
                rec.ts,
                rec.actor,
                rec.auth,
                rec.origin,
                rec.action,
                rec.object.to_string(),
                rec.outcome.as_str(),
                rec.prev,
                rec.hash
            ],
        )?;
        tx.commit()?;
        if let Some(s) = &self.syslog {
            s.send(&rec);
        }
        tracing::info!(
            target: "audit",
            seq = rec.seq,
            actor = %escape::text(&rec.actor),
            action = %escape::text(&rec.action),
            outcome = rec.outcome.as_str(),
            object = %escape::json(&rec.object),
            "audit"
        );
        Ok(Some(rec.seq))
    }

    /// Appends an event from async code.
    pub async fn emit(&self, ev: Event) -> Result<u64, StateError> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.emit_blocking(ev))
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }

    /// Appends an event; a failure is logged (used where the caller cannot do better).
    pub async fn record(&self, ev: Event) {
        let action = ev.action;
        if let Err(e) = self.emit(ev).await {
            tracing::error!(action, error = %e, "could not write audit event");
        }
    }

    /// Whether any event in the log has `action` (one an older version recorded, say).
    pub fn has_action(&self, action: &str) -> Result<bool, StateError> {
        let conn = self.state.lock();
        let found =
            conn.query_row("SELECT EXISTS(SELECT 1 FROM audit WHERE action = ?1)", params![action], |r| {
                r.get(0)
            })?;
        Ok(found)
    }

    /// The object of the latest event with `action`, if any.
    pub fn last_object(&self, action: &str) -> Result<Option<serde_json::Value>, StateError> {
        let conn = self.state.lock();
        let text: Option<String> = rusqlite::OptionalExtension::optional(conn.query_row(
            "SELECT object FROM audit WHERE action = ?1 ORDER BY seq DESC LIMIT 1",
            params![action],
            |r| r.get(0),
        ))?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// The latest event, and the latest `start` or `stop` of the daemon (actor `system`), if
    /// any: when that one is a `start` and the log has no `stop` after it, the daemon that
    /// wrote it ended uncleanly (killed, crashed, power lost).
    pub fn last_and_lifecycle(&self) -> Result<(Option<Record>, Option<Record>), StateError> {
        let last = self.last_matching("1")?;
        let lifecycle = self.last_matching("actor = 'system' AND action IN ('start', 'stop')")?;
        Ok((last, lifecycle))
    }

    /// The latest event matching the SQL condition `filter` (a constant of this file).
    fn last_matching(&self, filter: &'static str) -> Result<Option<Record>, StateError> {
        let mut found = None;
        let conn = self.state.lock();
        let sql = format!(
            "SELECT seq, ts, actor, auth, origin, action, object, outcome, prev, hash
             FROM audit WHERE {filter} ORDER BY seq DESC LIMIT 1"
        );
        let mut stmt = conn.prepare(&sql)?;
        let mut rows = stmt.query([])?;
        if let Some(r) = rows.next()? {
            found = Some(record_of(r)?);
        }
        Ok(found)
    }

    /// Every event in order (tests and small logs; the officer's commands use
    /// [`Audit::scan`], which does not hold the log in memory).
    pub fn records(&self) -> Result<Vec<Record>, StateError> {
        let mut out = Vec::new();
        self.scan(None, &mut |r| {
            out.push(r);
            true
        })?;
        Ok(out)
    }

    /// Calls `f` with each event in seq order (only those at or after `since`, a stored
    /// timestamp text, when given) until it returns `false`.
    pub fn scan(&self, since: Option<&str>, f: &mut dyn FnMut(Record) -> bool) -> Result<(), StateError> {
        let conn = self.state.lock();
        let mut stmt = conn.prepare(
            "SELECT seq, ts, actor, auth, origin, action, object, outcome, prev, hash
             FROM audit WHERE ?1 IS NULL OR ts >= ?1 ORDER BY seq",
        )?;
        let mut rows = stmt.query(params![since])?;
        while let Some(r) = rows.next()? {
            if !f(record_of(r)?) {
                break;
            }
        }
        Ok(())
    }
}

/// A row of `SELECT seq, ts, actor, auth, origin, action, object, outcome, prev, hash`.
fn record_of(r: &rusqlite::Row<'_>) -> Result<Record, rusqlite::Error> {
    let object: String = r.get(6)?;
    let outcome: String = r.get(7)?;
    Ok(Record {
        seq: r.get::<_, i64>(0)? as u64,
        ts: r.get(1)?,
        actor: r.get(2)?,
        auth: r.get(3)?,
        origin: r.get(4)?,
        action: r.get(5)?,
        object: serde_json::from_str(&object).unwrap_or(serde_json::Value::String(object)),
        outcome: match outcome.as_str() {
            "ok" => Outcome::Ok,
            "denied" => Outcome::Denied,
            _ => Outcome::Error,
        },
        prev: r.get(8)?,
        hash: r.get(9)?,
    })
}
