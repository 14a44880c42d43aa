//! Where everything lives under the data directory.
//!
//! ```text
//! data/state.db                       SQLite: files, receipts, audit chain
//! data/host_ed25519                   SSH host key (created on first start)
//! data/batch.lock                     held by whoever reads or writes what a batch does
//! data/batch/staging/                 a batch's bundles before they are delivered
//! data/keys/periods/YYYY-MM           age identity of a period (0600)
//! data/keys/audit_ed25519             Ed25519 key signing audit checkpoints (0600)
//! data/keys/receipt_ed25519           Ed25519 key signing receipts and batch reports (0600)
//! data/keys/receipt_ed25519.retired   public halves of the receipt keys it replaced
//! data/keys/clients/<party>           a party's known-client key (0600, docs/known-clients.md)
//! data/vault/YYYY-MM/<file-id>.age    sealed accepted records of one upload
//! data/vault/tmp/                     sealed output of uploads still in progress
//! data/parties/<id>/receipts/         receipts (creditors and municipalities)
//! data/parties/<id>/feedback/         terugmeldingen for a creditor
//! data/parties/<GM>/pickup/           bundles for a municipality
//! ```

use std::path::{Path, PathBuf};

use crate::domain::period::Period;

/// Paths under one data directory.
#[derive(Clone, Debug)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// The layout rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The data directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The SQLite state database.
    pub fn state_db(&self) -> PathBuf {
        self.root.join("state.db")
    }

    /// The batch lock file (see [`crate::batch::run::lock_file`]).
    pub fn batch_lock(&self) -> PathBuf {
        self.root.join("batch.lock")
    }

    /// Where a batch stages its bundles before it delivers them.
    pub fn batch_staging(&self) -> PathBuf {
        self.root.join("batch").join("staging")
    }

    /// Directory of the daemon's keys.
    pub fn keys(&self) -> PathBuf {
        self.root.join("keys")
    }

    /// Directory of period identities.
    pub fn period_keys(&self) -> PathBuf {
        self.keys().join("periods")
    }

    /// The age identity file of a period.
    pub fn period_key(&self, p: Period) -> PathBuf {
        self.period_keys().join(p.to_string())
    }

    /// The Ed25519 key that signs audit checkpoints and anchors.
    pub fn audit_key(&self) -> PathBuf {
        self.keys().join("audit_ed25519")
    }

    /// The Ed25519 key that signs receipts and batch reports (never the audit key).
    pub fn receipt_key(&self) -> PathBuf {
        self.keys().join("receipt_ed25519")
    }

    /// The public halves of earlier receipt keys (OpenSSH public key lines, oldest first).
    pub fn retired_receipt_keys(&self) -> PathBuf {
        self.keys().join("receipt_ed25519.retired")
    }

    /// The known-client keys, one file per party.
    pub fn client_keys(&self) -> PathBuf {
        self.keys().join("clients")
    }

    /// The known-client key of a party (docs/known-clients.md).
    pub fn client_key(&self, party: &str) -> PathBuf {
        self.client_keys().join(party)
    }

    /// The vault: one folder per period, and `tmp`.
    pub fn vaults(&self) -> PathBuf {
        self.root.join("vault")
    }

    /// Sealed intake of a period.
    pub fn vault(&self, p: Period) -> PathBuf {
        self.vaults().join(p.to_string())
    }

    /// Sealed output of uploads in progress; emptied at start-up.
    pub fn vault_tmp(&self) -> PathBuf {
        self.vaults().join("tmp")
    }

    /// The folder of every party's folder.
    pub fn parties(&self) -> PathBuf {
        self.root.join("parties")
    }

    /// A party's own folder.
    pub fn party(&self, id: &str) -> PathBuf {
        self.parties().join(id)
    }

    /// A party's receipts.
    pub fn receipts(&self, id: &str) -> PathBuf {
        self.party(id).join("receipts")
    }

    /// A party's feedback folder.
    pub fn feedback(&self, id: &str) -> PathBuf {
        self.party(id).join("feedback")
    }

    /// A municipality's pickup folder.
    pub fn pickup(&self, id: &str) -> PathBuf {
        self.party(id).join("pickup")
    }
}
