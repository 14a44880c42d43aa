//! Known clients, privately (docs/known-clients.md): a municipality (or executor) uploads the
//! keyed hashes of its client list; meldpunt checks it was made with that party's key and
//! stores it in place of the last one ([`receive`]); a list past `[clients] max_age_days`
//! stops counting and its hashes are deleted ([`expire`]). The batch reads the lists itself
//! (`batch::known`). Nothing here logs or audits a hash: counts and key ids only.

mod expire;
#[cfg(test)]
mod tests;

pub use expire::{Expired, expire};

use jiff::Timestamp;
use serde::Serialize;
use serde_json::json;

use crate::app::App;
use crate::audit::{Event, Outcome};
use crate::domain::clients::list::{self, LineProblem};
use crate::domain::party::PartyId;
use crate::state::{StateError, clients};
use crate::vault::client_key::{self, ClientKeyError};

/// The file in the party's receipts folder that holds the answer to its latest upload
/// (replaced by each upload): what an SFTP client reads, as its close's status message is
/// shown by few clients.
pub const RESULT_FILE: &str = "known_clients.json";

/// Largest hashed list accepted, in bytes (about 250 000 persons).
pub const MAX_LIST_BYTES: u64 = 32 << 20;

/// One uploaded list as it arrived.
#[derive(Clone, Debug)]
pub struct Incoming {
    /// The uploading party (authenticated; a municipality, or any party that receives bundles).
    pub party: PartyId,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Key or certificate fingerprint, for the audit.
    pub auth: String,
    /// Peer address, for the audit.
    pub origin: String,
    /// `sftp` or `https`.
    pub protocol: &'static str,
}

/// Whether a list was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Stored; it replaced the party's earlier list.
    Accepted,
    /// Not stored; the earlier list (if any) stays.
    Rejected,
}

/// The answer to an upload (the HTTPS body; over SFTP the close's status message; both as
/// [`RESULT_FILE`] in the party's receipts folder).
#[derive(Clone, Debug, Serialize)]
pub struct Answer {
    /// Taken or not.
    pub status: Status,
    /// When it arrived (UTC).
    pub received_at: Timestamp,
    /// Persons stored (distinct lines).
    pub persons: u64,
    /// Persons of the list it replaced.
    pub replaced: u64,
    /// The key id the list names.
    pub key_id: String,
    /// `ok`, `mismatch` (made with another key than meldpunt holds for the party) or `no_key`.
    pub key: &'static str,
    /// Until when it counts (UTC), when accepted.
    pub counts_until: Option<Timestamp>,
    /// Bad lines in all.
    pub bad_lines: u64,
    /// Why it was rejected: the first bad lines, or one problem with line 0 for the whole list.
    pub errors: Vec<LineProblem>,
}

impl Answer {
    /// One line for an SFTP status message.
    pub fn summary(&self) -> String {
        match self.status {
            Status::Accepted => format!(
                "known-client list accepted: {} persons (replacing {}), key {}, counts until {}",
                self.persons,
                self.replaced,
                self.key_id,
                self.counts_until.map_or_else(String::new, |t| t.to_string())
            ),
            Status::Rejected => {
                let first: Vec<String> =
                    self.errors.iter().take(3).map(|e| format!("line {}: {}", e.line, e.message)).collect();
                format!(
                    "known-client list rejected ({} bad line(s)); the previous list stays: {}",
                    self.bad_lines,
                    first.join("; ")
                )
            }
        }
    }
}

/// Why an upload could not be handled (not a problem of the list).
#[derive(Debug, thiserror::Error)]
pub enum ClientsError {
    /// The state database.
    #[error(transparent)]
    State(#[from] StateError),
    /// The party's key file.
    #[error(transparent)]
    Key(#[from] ClientKeyError),
    /// The worker thread.
    #[error("known-client list processing failed: {0}")]
    Worker(String),
}

/// Takes one uploaded list: checks, stores (replacing), audits; returns the answer.
pub async fn receive(app: &App, incoming: Incoming) -> Result<Answer, ClientsError> {
    let app = app.clone();
    tokio::task::spawn_blocking(move || process(&app, incoming))
        .await
        .map_err(|e| ClientsError::Worker(e.to_string()))?
}

/// The blocking work of [`receive`].
pub fn process(app: &App, inc: Incoming) -> Result<Answer, ClientsError> {
    let now = Timestamp::now();
    let mut answer = Answer {
        status: Status::Rejected,
        received_at: now,
        persons: 0,
        replaced: 0,
        key_id: String::new(),
        key: "no_key",
        counts_until: None,
        bad_lines: 0,
        errors: Vec::new(),
    };
    let whole = |message: &'static str| vec![LineProblem { line: 0, message }];
    let parsed = list::parse(&inc.bytes);
    let key = client_key::read(app.layout(), inc.party.as_str())?;
    let reason = match (&parsed, &key) {
        (Err(refusal), _) => {
            answer.bad_lines = refusal.bad_lines;
            answer.errors = refusal.problems.clone();
            "bad_lines"
        }
        (Ok(l), None) => {
            answer.key_id = l.key_id.clone();
            answer.errors = whole(
                "meldpunt holds no known-client key for this party; ask meldpunt's operator for one \
                 (`meldpunt clients key new`) and hash the export with it",
            );
            "no_key"
        }
        (Ok(l), Some(k)) if l.key_id != k.id() => {
            answer.key_id = l.key_id.clone();
            answer.key = "mismatch";
            answer.errors = whole(
                "the list was made with another key than meldpunt holds for this party (the key was \
                 rotated?); hash the export again with the current key file",
            );
            "key_mismatch"
        }
        (Ok(l), Some(_)) => {
            let replaced = {
                let mut conn = app.state().lock();
                clients::replace(&mut conn, inc.party.as_str(), &l.key_id, now, &l.persons)?
            };
            let max_age = app.config().clients_max_age_days;
            answer.status = Status::Accepted;
            answer.key = "ok";
            answer.key_id = l.key_id.clone();
            answer.persons = l.persons.len() as u64;
            answer.replaced = replaced;
            answer.counts_until =
                now.checked_add(jiff::SignedDuration::from_hours(24 * i64::from(max_age))).ok();
            ""
        }
    };
    let mut object = json!({
        "protocol": inc.protocol,
        "persons": answer.persons,
        "replaced": answer.replaced,
        "key_id": answer.key_id,
    });
    let outcome = if answer.status == Status::Accepted {
        tracing::info!(party = %inc.party, persons = answer.persons, replaced = answer.replaced, "known-client list stored");
        Outcome::Ok
    } else {
        object["reason"] = json!(reason);
        object["bad_lines"] = json!(answer.bad_lines);
        tracing::warn!(party = %inc.party, reason, bad_lines = answer.bad_lines, "known-client list rejected");
        Outcome::Error
    };
    let ev = Event::new(inc.party.actor(), "clients_upload", outcome)
        .auth(inc.auth)
        .origin(inc.origin)
        .object(object);
    app.audit().emit_blocking(ev)?;
    write_result(app, &inc.party, &answer);
    Ok(answer)
}

/// Writes the answer as [`RESULT_FILE`] into the party's receipts folder (counts, key id and
/// line numbers only); a failure is logged, the upload stands.
fn write_result(app: &App, party: &PartyId, answer: &Answer) {
    let dir = app.layout().receipts(party.as_str());
    let written = serde_json::to_vec_pretty(answer).map_err(std::io::Error::other).and_then(|mut json| {
        json.push(b'\n');
        std::fs::create_dir_all(&dir)?;
        crate::durable::write_atomic(&dir.join(RESULT_FILE), &json, false)
    });
    if let Err(e) = written {
        tracing::warn!(party = %party, error = %e, "writing the known-client list result failed");
    }
}
