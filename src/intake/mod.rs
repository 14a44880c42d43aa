//! Intake: every uploaded file, whatever the transport, goes through here.
//!
//! The lifecycle is a chain of types. [`Intake::begin`] returns an [`Upload`] that takes the
//! bytes as they arrive (in any order within a window) and streams them into a worker thread
//! that checks UTF-8, validates every record and seals the accepted ones with age to the
//! period key. [`Upload::finish`] waits for the worker and returns a [`Received`] file;
//! [`Received::commit`] files it in the vault and the state database and writes the receipt.
//! Dropping an `Upload` or a `Received` discards everything: nothing is processed.

mod commit;
mod inflight;
mod local;
mod pipeline;
pub mod receipt;
pub mod receipt_files;
mod received;
mod recover;
mod threads;
pub mod validate;
mod worker;

pub use local::LocalError;
pub use pipeline::{Intake, Upload, UploadError};
pub use receipt::{Receipt, ReceiptStatus};
pub use received::Received;

/// Why intake could not complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IntakeError {
    /// A storage step failed (disk, database); the upload is not accepted.
    #[error("storing the upload failed")]
    Storage(#[from] StorageError),
    /// The creditor is not (or no longer) configured.
    #[error("creditor '{0}' is not configured")]
    UnknownCreditor(String),
    /// A temp upload was renamed to a name of another format.
    #[error("rename must keep the file type: '{from}' cannot become '{to}'")]
    FormatChanged {
        /// Name the upload was started under.
        from: String,
        /// Name it was renamed to.
        to: String,
    },
    /// The upload ended with bytes missing (a gap, or the connection dropped).
    #[error("the upload is incomplete; upload the file again")]
    Incomplete,
    /// The batch of the upload's period began while it was being received: nothing was kept;
    /// sent again, the file goes into the next period.
    #[error(
        "period {0} closed while the file was being received (its batch began); nothing was kept: upload the file again, it then goes into the next period"
    )]
    PeriodClosed(String),
    /// The creditor has sent `[intake] max_files_per_period` files for this period (those in
    /// flight included): no new upload starts until the next period.
    #[error(
        "the limit of {limit} files per period is reached for period {period} ([intake] max_files_per_period); nothing was kept: put more records in one file, or ask the meldpunt operator to raise the limit"
    )]
    TooManyFiles {
        /// The period the upload would go into, `YYYY-MM`.
        period: String,
        /// The limit.
        limit: u64,
    },
    /// The daemon is stopping: no new upload starts.
    #[error("meldpunt is stopping; upload the file again in a minute")]
    Stopping,
    /// The daemon is shutting down or the worker died.
    #[error("intake is unavailable: {0}")]
    Unavailable(String),
}

/// The storage step that failed, with its own error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The receipt could not be encoded.
    #[error("encoding the receipt")]
    Receipt(#[source] serde_json::Error),
    /// Writing the sealed file failed.
    #[error("writing the sealed file")]
    Sealing(#[source] std::io::Error),
    /// The state database failed.
    #[error("the state database")]
    State(#[from] crate::state::StateError),
    /// The vault failed (keys, sealed files).
    #[error("the vault")]
    Vault(#[from] crate::vault::VaultError),
}
