//! Authentication policy and its audit trail.
//!
//! Public keys only: ed25519, ECDSA (P-256/384/521) and RSA with SHA-2 signatures
//! (`rsa-sha2-256`, `rsa-sha2-512`). Legacy `ssh-rsa` (SHA-1) is refused even for a registered
//! key. The user name must be a configured party and the key one of its keys.
//!
//! Every refused attempt is audited as `login`/`denied` (at most `max_auth_attempts` + 2 per
//! connection; russh disconnects after `max_auth_attempts` rejections). The actor is the
//! party when the user name is one, else `unknown`: a user name that is not a party may be
//! personal data and is never written anywhere. A connection that tried to log in and
//! ended without success or an audited refusal (a client that only had methods the server
//! does not offer, or that timed out) gets one `login`/`denied` event when it ends — unless it
//! only ever sent `none`: such probes are counted (metrics) and scored by the defender, and
//! only the ban they lead to is audited, so a flood of them cannot flood the audit log.
//!
//! Every refusal is scored against the origin address (never the name), a known and an
//! unknown user alike, with the same answer and the same delay.

use std::sync::Mutex;

use russh::keys::{Algorithm, HashAlg, PublicKey};
use serde_json::json;

use crate::audit::{Event, Outcome};
use crate::config::Config;
use crate::domain::party::PartyId;
use crate::intake::Intake;
use crate::metrics::{LoginOutcome, LoginProtocol};
use crate::transport::defender::{Strike, Ticket};

/// Actor for attempts that do not name a configured party.
pub const UNKNOWN_ACTOR: &str = "unknown";

/// Whether a public-key algorithm (as named in the request) is accepted.
pub fn algorithm_allowed(alg: &Algorithm) -> bool {
    matches!(
        alg,
        Algorithm::Ed25519
            | Algorithm::Ecdsa { .. }
            | Algorithm::Rsa { hash: Some(HashAlg::Sha256 | HashAlg::Sha512) }
    )
}

/// The `SHA256:…` fingerprint of a key.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// The configured party a user name names, if any (whatever the key).
pub fn party_named(config: &Config, user: &str) -> Option<PartyId> {
    config.party_named(user)
}

/// What happened during authentication on one connection (shared with the connection task).
#[derive(Debug, Default)]
pub struct AuthLog {
    /// The client sent at least one authentication request.
    pub tried: bool,
    /// The party named by the last user name, if it was one.
    pub last_party: Option<PartyId>,
    /// The last method tried.
    pub last_method: &'static str,
    /// Refusals audited so far.
    pub audited: usize,
    /// The key was accepted (admitted, or refused for a session limit, which is audited).
    pub concluded: bool,
    /// `none` requests so far (OpenSSH sends one to learn the methods; more is a probe).
    pub nones: u32,
    /// The login time ran out first: no key is admitted any more on this connection, even
    /// one whose request was already on its way (checked with `concluded` under one lock).
    pub timed_out: bool,
}

/// `none` requests a connection may send before each further one is scored.
const FREE_NONES: u32 = 2;

/// Notes a `none` request; `true` when it is one too many (the caller scores it).
pub fn note_none(log: &Mutex<AuthLog>, config: &Config, user: &str) -> bool {
    note_attempt(log, config, user, "none");
    let mut l = log.lock().unwrap_or_else(|p| p.into_inner());
    l.nones = l.nones.saturating_add(1);
    l.nones > FREE_NONES
}

/// A refused attempt.
pub struct Denial<'a> {
    pub user: &'a str,
    pub method: &'static str,
    pub reason: &'static str,
    pub key: Option<(&'a PublicKey, &'a Algorithm)>,
}

/// Records an attempt in the log (before the outcome is known).
pub fn note_attempt(log: &Mutex<AuthLog>, config: &Config, user: &str, method: &'static str) {
    let mut l = log.lock().unwrap_or_else(|p| p.into_inner());
    l.tried = true;
    l.last_method = method;
    l.last_party = party_named(config, user);
}

/// Audits a refused attempt (within the per-connection cap), counts it and scores it against
/// the origin (always).
pub async fn audit_denial(
    intake: &Intake,
    log: &Mutex<AuthLog>,
    origin: &str,
    ticket: &Ticket,
    max: usize,
    d: Denial<'_>,
) {
    intake.app().metrics().login(LoginProtocol::Sftp, LoginOutcome::Failed);
    let party = party_named(&intake.app().config(), d.user);
    ticket.strike(if party.is_some() { Strike::FailedLogin } else { Strike::UnknownUser }).await;
    tracing::info!(
        party = party.as_ref().map(PartyId::as_str),
        method = d.method,
        reason = d.reason,
        origin,
        "SSH login refused"
    );
    {
        let mut l = log.lock().unwrap_or_else(|p| p.into_inner());
        if l.audited >= max {
            return;
        }
        l.audited += 1;
    }
    let actor = party.as_ref().map_or_else(|| UNKNOWN_ACTOR.to_owned(), PartyId::actor);
    let mut object = json!({ "user_known": party.is_some(), "method": d.method, "reason": d.reason });
    let mut ev = Event::new(actor, "login", Outcome::Denied).origin(origin);
    if let Some((key, alg)) = d.key {
        ev = ev.auth(fingerprint(key));
        object["algorithm"] = json!(alg.to_string());
    }
    intake.app().audit().record(ev.object(object)).await;
}

/// At the end of a connection: audits a login attempt that left no other trace (a probe that
/// only sent `none` is counted and scored instead).
pub async fn audit_unfinished(
    intake: &Intake,
    log: &Mutex<AuthLog>,
    origin: &str,
    ticket: &Ticket,
    timed_out: bool,
) {
    let (party, method) = {
        let l = log.lock().unwrap_or_else(|p| p.into_inner());
        if !l.tried || l.concluded || l.audited > 0 {
            return;
        }
        (l.last_party.clone(), l.last_method)
    };
    intake.app().metrics().login(LoginProtocol::Sftp, LoginOutcome::Failed);
    if method == "none" {
        tracing::debug!(origin, "SSH connection ended after only a 'none' request");
        return ticket.strike(Strike::ProtocolError).await;
    }
    let reason = if timed_out { "auth_timeout" } else { "no_acceptable_method" };
    tracing::info!(
        party = party.as_ref().map(PartyId::as_str),
        method,
        reason,
        origin,
        "SSH login did not complete"
    );
    let actor = party.as_ref().map_or_else(|| UNKNOWN_ACTOR.to_owned(), PartyId::actor);
    let ev = Event::new(actor, "login", Outcome::Denied)
        .origin(origin)
        .object(json!({ "user_known": party.is_some(), "method": method, "reason": reason }));
    intake.app().audit().record(ev).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use russh::keys::EcdsaCurve;

    #[test]
    fn algorithms() {
        assert!(algorithm_allowed(&Algorithm::Ed25519));
        assert!(algorithm_allowed(&Algorithm::Ecdsa { curve: EcdsaCurve::NistP256 }));
        assert!(algorithm_allowed(&Algorithm::Rsa { hash: Some(HashAlg::Sha512) }));
        assert!(algorithm_allowed(&Algorithm::Rsa { hash: Some(HashAlg::Sha256) }));
        assert!(!algorithm_allowed(&Algorithm::Rsa { hash: None }), "ssh-rsa (SHA-1) is refused");
        assert!(!algorithm_allowed(&Algorithm::Dsa));
        assert!(!algorithm_allowed(&Algorithm::new("ssh-rsa").unwrap()));
        assert!(algorithm_allowed(&Algorithm::new("rsa-sha2-256").unwrap()));
    }
}
