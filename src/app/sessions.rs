//! The open sessions of parties (SFTP sessions, HTTPS connections), each with the credential
//! it logged in with, so that a new configuration can close those it no longer admits.
//!
//! A transport registers a session once it has authenticated a party ([`Sessions::open`])
//! with a [`Notify`] that its connection task waits on beside its other work, and keeps the
//! [`SessionGuard`] for as long as the session lives. When notified it ends the session.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use russh::keys::PublicKey;
use tokio::sync::Notify;

use crate::config::Config;
use crate::domain::party::PartyId;

/// What a session authenticated with.
#[derive(Clone, Debug)]
pub enum SessionKey {
    /// A TLS client certificate: its SHA-256 fingerprint and the OIN in its subject.
    Certificate {
        /// SHA-256 of the certificate (DER).
        fingerprint: [u8; 32],
        /// The 20-digit OIN of its subject, if any.
        oin: Option<String>,
    },
    /// An SSH public key offered for a user name.
    Ssh {
        /// The user name logged in as.
        user: String,
        /// The key.
        key: PublicKey,
    },
}

impl SessionKey {
    /// Whether `config` still admits this credential as `party`.
    pub fn admitted(&self, config: &Config, party: &PartyId) -> bool {
        let now = match self {
            SessionKey::Certificate { fingerprint, oin } => {
                config.party_for_certificate(fingerprint, oin.as_deref())
            }
            SessionKey::Ssh { user, key } => config.party_for_ssh_key(user, key),
        };
        now.as_ref() == Some(party)
    }
}

/// The registry of open sessions. Cheap to share (held by the `App`).
#[derive(Default)]
pub struct Sessions {
    next: AtomicU64,
    open: Arc<Mutex<HashMap<u64, Entry>>>,
}

/// One registered session.
struct Entry {
    party: PartyId,
    key: SessionKey,
    close: Arc<Notify>,
}

/// Registered sessions per protocol.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenSessions {
    /// SFTP sessions (logged in with an SSH key).
    pub sftp: usize,
    /// HTTPS connections (a client certificate of a configured party).
    pub https: usize,
}

/// A registered session; dropping it unregisters the session.
pub struct SessionGuard {
    id: u64,
    open: Arc<Mutex<HashMap<u64, Entry>>>,
}

impl Sessions {
    /// Registers an authenticated session of `party`; `close` is notified when it must end.
    pub fn open(&self, party: PartyId, key: SessionKey, close: Arc<Notify>) -> SessionGuard {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let entry = Entry { party, key, close };
        self.open.lock().unwrap_or_else(|p| p.into_inner()).insert(id, entry);
        SessionGuard { id, open: self.open.clone() }
    }

    /// Tells every session that `config` no longer admits to close; returns how many were
    /// told, per party.
    pub fn close_unadmitted(&self, config: &Config) -> Vec<(PartyId, usize)> {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let mut closed: Vec<(PartyId, usize)> = Vec::new();
        for e in open.values().filter(|e| !e.key.admitted(config, &e.party)) {
            // A stored permit: a session that is not waiting yet sees it when it does.
            e.close.notify_one();
            match closed.iter_mut().find(|(p, _)| p == &e.party) {
                Some((_, n)) => *n += 1,
                None => closed.push((e.party.clone(), 1)),
            }
        }
        closed.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        closed
    }

    /// How many sessions are registered per protocol (SSH key: SFTP; certificate: HTTPS).
    pub fn open_per_protocol(&self) -> OpenSessions {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let https = open.values().filter(|e| matches!(e.key, SessionKey::Certificate { .. })).count();
        OpenSessions { sftp: open.len() - https, https }
    }

    /// How many sessions are registered.
    pub fn len(&self) -> usize {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether no session is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.id);
    }
}
