//! What became of an uploaded file: its status and its record counts, as stored and as in
//! the receipt (docs/receipt.md).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Outcome of a received file, as stored and as in the receipt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Every record valid.
    Accepted,
    /// Valid records kept, invalid ones listed.
    AcceptedWithErrors,
    /// Structurally rejected; nothing kept.
    Rejected,
    /// Byte-identical to a file already received this period; nothing added.
    Duplicate,
}

impl FileStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::AcceptedWithErrors => "accepted_with_errors",
            Self::Rejected => "rejected",
            Self::Duplicate => "duplicate",
        }
    }

    /// Whether records of this file are in the vault.
    pub fn is_kept(self) -> bool {
        matches!(self, Self::Accepted | Self::AcceptedWithErrors)
    }
}

impl fmt::Display for FileStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Record counts of a file, as in its receipt.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Data records read.
    pub total: u64,
    /// Records kept.
    pub accepted: u64,
    /// Invalid records (listed in `errors`).
    pub rejected: u64,
    /// Records not forwarded because the debtor objected.
    pub not_forwarded: u64,
    /// Records that replaced a record of an earlier file of this period (corrections).
    pub replaced: u64,
}
