//! The back half of an intake worker: hashes the raw upload and encrypts the sealed lines.

use std::io::{self, Write};
use std::sync::mpsc::Receiver;

use sha2::{Digest, Sha256};

use crate::vault::Sealing;

/// Work for the back thread.
pub(super) enum Msg {
    /// Raw bytes of the upload, in order, to hash.
    Hash(std::sync::Arc<Vec<u8>>),
    /// Sealed-file plaintext, in order, to encrypt and write.
    Seal(Vec<u8>),
}

/// What the back thread hands back when every sender is gone.
pub(super) struct Done {
    /// SHA-256 of every raw byte, hex.
    pub sha256: String,
    /// The sealer, ready to finish (`None` when the job seals nothing), or the first write error.
    pub writer: io::Result<Option<Sealing>>,
}

/// Runs until both the reader and the sink have hung up.
pub(super) fn run(rx: Receiver<Msg>, mut writer: Option<Sealing>) -> Done {
    let mut hasher = Sha256::new();
    let mut failed = None;
    for msg in rx {
        match msg {
            Msg::Hash(chunk) => hasher.update(&chunk[..]),
            Msg::Seal(block) => {
                if let (None, Some(w)) = (&failed, writer.as_mut())
                    && let Err(e) = w.write_all(&block)
                {
                    failed = Some(e);
                }
            }
        }
    }
    Done { sha256: hex::encode(hasher.finalize()), writer: failed.map_or(Ok(writer), Err) }
}
