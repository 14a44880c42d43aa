//! The receipt a municipality gets for a terugmelding file: counts, every bad line with its
//! field, code and fix, and how much was routed on to creditors (counts only).

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::intake::receipt::{ErrorEntry, ReceiptStatus, write_errors, write_pair};
use crate::signature::Signer;

/// Line counts of a terugmelding file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineCounts {
    /// Data lines read.
    pub total: u64,
    /// Lines accepted (routed, or unchanged).
    pub accepted: u64,
    /// Lines with errors (listed); nothing of them is routed.
    pub rejected: u64,
    /// Accepted lines that repeat the result already reported for the signal (not routed again).
    pub unchanged: u64,
}

/// The receipt of one terugmelding file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackReceipt {
    /// Opaque id of the file (ULID).
    pub file_id: String,
    /// The name it was uploaded under.
    pub file_name: String,
    /// The municipality that sent it.
    #[serde(rename = "gemeente")]
    pub municipality: String,
    /// SHA-256 of the bytes received, hex.
    pub sha256: String,
    /// Bytes received.
    pub bytes: u64,
    /// When it was received, UTC RFC 3339 with milliseconds.
    pub received_at: String,
    /// `accepted`, `accepted_with_errors` or `rejected`.
    pub status: ReceiptStatus,
    /// Line counts.
    pub lines: LineCounts,
    /// Creditors that got a terugmelding from this file.
    pub routed_to_creditors: u64,
    /// Bad lines (up to the listing limit), or the file-level error.
    pub errors: Vec<ErrorEntry>,
    /// Errors beyond the listing limit.
    #[serde(default)]
    pub errors_not_listed: u64,
}

impl FeedbackReceipt {
    /// Base file name: `<file-id>.receipt`.
    pub fn base_name(&self) -> String {
        format!("{}.receipt", self.file_id)
    }

    /// The short human text twin.
    pub fn to_text(&self) -> String {
        let mut t = String::new();
        let l = &self.lines;
        let _ = writeln!(t, "meldpunt feedback receipt {}", self.file_id);
        let _ = writeln!(t, "file:      {} ({} bytes, sha256 {})", self.file_name, self.bytes, self.sha256);
        let _ = writeln!(t, "received:  {} from {}", self.received_at, self.municipality);
        let _ = writeln!(t, "status:    {}", self.status);
        let _ = writeln!(
            t,
            "lines:     {} total, {} accepted ({} unchanged), {} rejected; routed to {} creditor(s)",
            l.total, l.accepted, l.unchanged, l.rejected, self.routed_to_creditors
        );
        write_errors(&mut t, &self.errors, self.errors_not_listed);
        t
    }

    /// Writes `<id>.receipt.json` (with its signature `.json.sig`) and `.txt` atomically
    /// into `dir`.
    pub fn write_to(&self, dir: &Path, signer: &Signer) -> std::io::Result<()> {
        write_pair(dir, &self.base_name(), self, &self.to_text(), signer)
    }
}
