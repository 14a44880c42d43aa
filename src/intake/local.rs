//! A file on this host handed to the intake whole: the operator's `meldpunt ingest` and the
//! creditors' spool folders (docs/folders-and-protocols.md) read it in chunks into one upload.

use std::io::Read;
use std::path::Path;

use jiff::Timestamp;

use super::pipeline::{Intake, UploadError};
use super::receipt::Receipt;
use crate::domain::party::VerifiedSender;
use crate::domain::upload::UploadName;

/// Why a local file could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// Reading the file.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// The intake refused or failed.
    #[error(transparent)]
    Intake(#[from] super::IntakeError),
    /// A write was refused.
    #[error(transparent)]
    Upload(#[from] UploadError),
}

impl Intake {
    /// Takes the file at `path` as an upload named `name` from `sender`, received now or at
    /// `received_at`; returns its receipt once it is filed.
    pub async fn take_local(
        &self,
        sender: VerifiedSender,
        name: UploadName,
        path: &Path,
        received_at: Option<Timestamp>,
    ) -> Result<Receipt, LocalError> {
        let read_error = |source| LocalError::Read { path: path.display().to_string(), source };
        let mut file = std::fs::File::open(path).map_err(read_error)?;
        let mut upload = match received_at {
            Some(at) => self.begin_at(sender, name, at)?,
            None => self.begin(sender, name)?,
        };
        let mut offset = 0u64;
        loop {
            let mut buf = vec![0u8; 256 * 1024];
            let n = tokio::task::block_in_place(|| file.read(&mut buf)).map_err(read_error)?;
            if n == 0 {
                break;
            }
            buf.truncate(n);
            match upload.write_at(offset, buf).await {
                Err(UploadError::TooLarge { .. }) => break,
                r => r?,
            }
            offset += n as u64;
        }
        Ok(upload.finish().await?.commit().await?)
    }
}
