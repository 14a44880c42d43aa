//! A logged-in session: who it is, its limits, and the audit events it writes.
//!
//! One [`SessionCtx`] exists per admitted SSH connection and is shared (through an `Arc`) by
//! the SSH handler and the SFTP handler of each of its channels. It holds the session slot,
//! so the slot is freed only when the last of them is gone.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;

use super::recent::Recent;
use super::server::{Shared, TicketRef};
use crate::audit::{Event, Outcome};
use crate::domain::party::{Credential, PartyId, VerifiedSender};
use crate::intake::Intake;
use crate::transport::defender::Strike;
use crate::transport::defender::party::Slot;
use crate::transport::folders::paths::Folder;

/// Permission denials audited one by one per session; further ones are counted and written
/// as one summary event when the session ends (so a looping client cannot flood the log).
const MAX_AUDITED_DENIALS: usize = 32;

/// An admitted session.
pub(super) struct SessionCtx {
    pub intake: Intake,
    pub party: PartyId,
    /// `SHA256:…` of the key the party logged in with.
    pub fingerprint: String,
    /// The peer address.
    pub origin: String,
    pub max_open_files: usize,
    /// Folder entries the session's open listings may hold together.
    pub max_listing_entries: usize,
    /// The listener's record of each party's recent uploads.
    pub recent: Arc<Recent>,
    open_files: AtomicUsize,
    listed: AtomicUsize,
    denials: AtomicUsize,
    _slot: Slot,
    /// The connection's place at the defender's gate (refusals are scored against it).
    ticket: TicketRef,
}

/// One open SFTP handle (or unfinished upload waiting for its rename), counted against
/// `max_open_files` until dropped.
pub(super) struct OpenGuard(Arc<SessionCtx>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open_files.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The entries of one open folder listing, counted against `max_listing_entries` until dropped.
pub(super) struct ListingGuard(Arc<SessionCtx>, usize);

impl Drop for ListingGuard {
    fn drop(&mut self) {
        self.0.listed.fetch_sub(self.1, Ordering::AcqRel);
    }
}

impl SessionCtx {
    /// A session of `party` on the listener that `shared` describes.
    pub fn new(
        shared: &Shared,
        party: PartyId,
        fingerprint: String,
        origin: String,
        slot: Slot,
        ticket: TicketRef,
    ) -> Arc<SessionCtx> {
        Arc::new(SessionCtx {
            intake: shared.intake.clone(),
            party,
            fingerprint,
            origin,
            max_open_files: shared.cfg.max_open_files.max(1),
            max_listing_entries: shared.cfg.max_listing_entries.max(1),
            recent: shared.recent.clone(),
            open_files: AtomicUsize::new(0),
            listed: AtomicUsize::new(0),
            denials: AtomicUsize::new(0),
            _slot: slot,
            ticket,
        })
    }

    /// An event by this session's party, with its key and address.
    pub fn event(&self, action: &'static str, outcome: Outcome) -> Event {
        Event::new(self.party.actor(), action, outcome)
            .auth(self.fingerprint.clone())
            .origin(self.origin.clone())
    }

    /// The proof of authentication intake requires, for a creditor.
    pub fn sender(&self) -> Option<VerifiedSender> {
        match &self.party {
            PartyId::Creditor(c) => Some(VerifiedSender::authenticated(
                c.clone(),
                Credential::SshKey(self.fingerprint.clone()),
                self.origin.clone(),
            )),
            PartyId::Municipality(_) | PartyId::Executor(_) => None,
        }
    }

    /// Counts one more open handle, or `None` at the limit.
    pub fn try_open(self: &Arc<Self>) -> Option<OpenGuard> {
        let prev = self.open_files.fetch_add(1, Ordering::AcqRel);
        if prev >= self.max_open_files {
            self.open_files.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(OpenGuard(self.clone()))
    }

    /// Counts a listing of `entries` in, or `None` when the session's open listings would then
    /// hold more than `max_listing_entries`.
    pub fn try_list(self: &Arc<Self>, entries: usize) -> Option<ListingGuard> {
        let prev = self.listed.fetch_add(entries, Ordering::AcqRel);
        if prev + entries > self.max_listing_entries {
            self.listed.fetch_sub(entries, Ordering::AcqRel);
            return None;
        }
        Some(ListingGuard(self.clone(), entries))
    }

    /// Audits a refused operation: `denied_path` with the operation, the folder (never a
    /// file name) and a stable reason.
    pub async fn denied(&self, op: &'static str, folder: Option<Folder>, reason: &str) {
        tracing::info!(party = %self.party, op, folder = folder.map(Folder::name), reason, "SFTP operation refused");
        self.ticket.strike(Strike::RefusedPath).await;
        let n = self.denials.fetch_add(1, Ordering::AcqRel);
        if n >= MAX_AUDITED_DENIALS {
            return;
        }
        let ev = self.event("denied_path", Outcome::Denied).object(json!({
            "op": op,
            "folder": folder.map(Folder::name),
            "reason": reason,
        }));
        self.intake.app().audit().record(ev).await;
    }
}

impl Drop for SessionCtx {
    fn drop(&mut self) {
        let n = self.denials.load(Ordering::Acquire);
        if n <= MAX_AUDITED_DENIALS {
            return;
        }
        let ev = self.event("denied_path", Outcome::Denied).object(json!({
            "op": "more",
            "reason": "further_denials_in_session",
            "count": n - MAX_AUDITED_DENIALS,
        }));
        let audit = self.intake.app().audit().clone();
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move { audit.record(ev).await });
            }
            Err(_) => {
                if let Err(e) = audit.emit_blocking(ev) {
                    tracing::error!(error = %e, "could not write audit event");
                }
            }
        }
    }
}
