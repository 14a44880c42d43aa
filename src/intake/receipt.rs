//! Receipts (docs/receipt.md): the answer to every arriving file, as JSON and a short text twin.

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::validate::{FileError, RecordError};
use crate::durable;
use crate::signature::Signer;

pub use crate::domain::outcome::{Counts, FileStatus as ReceiptStatus};

/// A warning: the file was taken, but something deserves attention.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// Line it concerns, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// Stable code, e.g. `referentie_duplicate`.
    pub code: String,
    /// Explanation.
    pub message: String,
}

/// One entry of `errors`: a record error, or the single file-level error of a rejected file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorEntry {
    /// Line, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The record's referentie, if readable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referentie: Option<String>,
    /// The field at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Byte offset (encoding errors).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub byte_offset: Option<u64>,
    /// Stable snake_case code.
    pub code: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl From<RecordError> for ErrorEntry {
    fn from(e: RecordError) -> Self {
        Self {
            line: Some(e.line),
            referentie: e.referentie,
            field: e.field,
            byte_offset: None,
            code: e.code,
            message: e.message,
        }
    }
}

impl From<FileError> for ErrorEntry {
    fn from(e: FileError) -> Self {
        Self {
            line: e.line,
            referentie: None,
            field: None,
            byte_offset: e.byte_offset,
            code: e.code,
            message: e.message,
        }
    }
}

/// The receipt of one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// Opaque id of the file (ULID).
    pub file_id: String,
    /// The name it was uploaded under (final name).
    pub file_name: String,
    /// SHA-256 of the bytes received, hex.
    pub sha256: String,
    /// Bytes received.
    pub bytes: u64,
    /// When the upload started, UTC RFC 3339 with milliseconds.
    pub received_at: String,
    /// The period the file belongs to.
    pub period: String,
    /// Outcome.
    pub status: ReceiptStatus,
    /// Record counts.
    pub records: Counts,
    /// For a duplicate: the file it repeats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    /// Invalid records (up to the listing limit), or the file-level error.
    pub errors: Vec<ErrorEntry>,
    /// Errors beyond the listing limit that are counted but not listed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub errors_not_listed: u64,
    /// Warnings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Appends one `error:` line per entry (and the count of those not listed) to a text receipt.
pub fn write_errors(t: &mut String, errors: &[ErrorEntry], not_listed: u64) {
    for e in errors {
        let mut at = String::new();
        if let Some(l) = e.line {
            let _ = write!(at, "line {l}");
        }
        if let Some(b) = e.byte_offset {
            let _ = write!(at, "{}byte {b}", if at.is_empty() { "" } else { ", " });
        }
        if let Some(rf) = &e.referentie {
            let _ = write!(at, " ({rf})");
        }
        if let Some(f) = &e.field {
            let _ = write!(at, " {f}");
        }
        let _ = writeln!(t, "error:     {at}: {} — {}", e.code, e.message);
    }
    if not_listed > 0 {
        let _ = writeln!(t, "error:     … and {} more not listed", not_listed);
    }
}

impl Receipt {
    /// Base file name: `<file-name>.<file-id>.receipt` (see [`super::receipt_files`]).
    pub fn base_name(&self) -> String {
        super::receipt_files::base_name(&self.file_name, &self.file_id)
    }

    /// The short human text twin.
    pub fn to_text(&self) -> String {
        let mut t = String::new();
        let r = &self.records;
        let _ = writeln!(t, "meldpunt receipt {}", self.file_id);
        let _ = writeln!(t, "file:      {} ({} bytes, sha256 {})", self.file_name, self.bytes, self.sha256);
        let _ = writeln!(t, "received:  {} (period {})", self.received_at, self.period);
        let _ = writeln!(t, "status:    {}", self.status);
        if let Some(d) = &self.duplicate_of {
            let _ = writeln!(t, "           identical to file {d} of this period; nothing was added");
        }
        let _ = writeln!(
            t,
            "records:   {} total, {} accepted, {} rejected, {} not forwarded (debtor objected), {} replaced earlier records",
            r.total, r.accepted, r.rejected, r.not_forwarded, r.replaced
        );
        write_errors(&mut t, &self.errors, self.errors_not_listed);
        for w in &self.warnings {
            let at = w.line.map(|l| format!("line {l}: ")).unwrap_or_default();
            let _ = writeln!(t, "warning:   {at}{} — {}", w.code, w.message);
        }
        t
    }

    /// Writes `<base>.json` (with its signature `.json.sig`) and `<base>.txt` atomically into
    /// `dir`, `<base>` being [`Self::base_name`].
    pub fn write_to(&self, dir: &Path, signer: &Signer) -> std::io::Result<()> {
        write_pair(dir, &self.base_name(), self, &self.to_text(), signer)
    }
}

/// Writes `<base>.json`, `<base>.txt` and the JSON's signature `<base>.json.sig`
/// (docs/receipt.md) atomically into `dir` (created if needed); the signature last, so a
/// crash before it leaves a file start-up recovery signs.
pub fn write_pair(
    dir: &Path,
    base: &str,
    json: &impl Serialize,
    text: &str,
    signer: &Signer,
) -> std::io::Result<()> {
    durable::create_private_dir(dir)?;
    let json = serde_json::to_vec_pretty(json).map_err(std::io::Error::other)?;
    let json_path = dir.join(format!("{base}.json"));
    durable::write_atomic(&json_path, &json, false)?;
    durable::write_atomic(&dir.join(format!("{base}.txt")), text.as_bytes(), false)?;
    Ok(signer.write_sig(&json_path, &json)?)
}
