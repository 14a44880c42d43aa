//! The vault: accepted records sealed with age to a per-period identity.
//!
//! Each period `P` has an age X25519 identity in `keys/periods/P` (mode 0600, created on first
//! need). Intake seals into `vault/tmp/<file-id>.age` while the upload streams in, and
//! [`Vault::file_sealed`] moves a finished file to `vault/P/<file-id>.age`. Deleting the key of
//! a period makes everything sealed to it unreadable (crypto-shredding).
//!
//! The plaintext of a sealed file is described in [`sealed_line`]; beside it a batch may keep
//! a [`key_index`] of it (`vault/P/<file-id>.keys.age`, sealed to the same key).

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use age::secrecy::ExposeSecret;
use age::x25519::{Identity, Recipient};

use crate::domain::period::Period;
use crate::durable;
use crate::layout::Layout;

pub mod client_key;
pub mod key_index;
pub mod record_line;
pub mod sealed_key;
pub mod sealed_line;
mod sealing;

pub use sealing::{SealedTmp, Sealing};

/// Why a vault operation failed.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// Disk I/O.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A key file is not an age identity.
    #[error("{0}: not an age identity (expected a line starting with AGE-SECRET-KEY-1)")]
    BadKey(PathBuf),
    /// A period's key is gone (shredded).
    #[error("the key of period {0} is gone; its data has been shredded")]
    Shredded(Period),
    /// Decryption failed.
    #[error("{path}: cannot decrypt: {message}")]
    Decrypt {
        /// The file.
        path: PathBuf,
        /// What age said.
        message: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> VaultError + '_ {
    move |source| VaultError::Io { path: path.to_owned(), source }
}

/// Sealed storage and period keys.
#[derive(Clone)]
pub struct Vault {
    layout: Layout,
    keys: Arc<Mutex<HashMap<Period, Recipient>>>,
}

impl Vault {
    /// The vault under `layout`; creates its folders.
    pub fn open(layout: Layout) -> Result<Vault, VaultError> {
        for dir in [layout.period_keys(), layout.vault_tmp()] {
            durable::create_private_dir(&dir).map_err(io_err(&dir))?;
        }
        Ok(Vault { layout, keys: Arc::default() })
    }

    /// The recipient of a period, creating its identity on first need.
    pub fn recipient(&self, period: Period) -> Result<Recipient, VaultError> {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = keys.get(&period) {
            return Ok(r.clone());
        }
        let path = self.layout.period_key(period);
        let identity = match read_identity(&path) {
            Ok(id) => id,
            Err(VaultError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                let id = Identity::generate();
                let text = format!(
                    "# meldpunt period key {period}: deleting this file shreds the period\n\
                     # public key: {}\n{}\n",
                    id.to_public(),
                    id.to_string().expose_secret()
                );
                durable::write_atomic(&path, text.as_bytes(), true).map_err(io_err(&path))?;
                tracing::info!(%period, "created period key");
                id
            }
            Err(e) => return Err(e),
        };
        let r = identity.to_public();
        keys.insert(period, r.clone());
        Ok(r)
    }

    /// The identity of a period, if its key still exists.
    pub fn identity(&self, period: Period) -> Result<Identity, VaultError> {
        let path = self.layout.period_key(period);
        read_identity(&path).map_err(|e| match e {
            VaultError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound => {
                VaultError::Shredded(period)
            }
            e => e,
        })
    }

    /// Path of the temporary sealed file of an upload in progress.
    pub fn tmp_path(&self, file_id: &str) -> PathBuf {
        self.layout.vault_tmp().join(format!("{file_id}.age"))
    }

    /// Path of a sealed file of a period.
    pub fn sealed_path(&self, period: Period, file_id: &str) -> PathBuf {
        self.layout.vault(period).join(format!("{file_id}.age"))
    }

    /// Starts sealing a file to the key of `period`, under `vault/tmp` until it is filed
    /// into the period as `<file-id>.age`.
    pub fn seal_tmp(&self, period: Period, file_id: &str) -> Result<Sealing, VaultError> {
        let recipient = self.recipient(period)?;
        Sealing::create(
            &recipient,
            self.tmp_path(file_id),
            self.layout.vault(period),
            self.sealed_path(period, file_id),
        )
    }

    /// Removes a temporary sealed file left by an interrupted run (a [`Sealing`] or
    /// [`SealedTmp`] discards its own).
    pub fn discard_tmp(&self, file_id: &str) {
        let path = self.tmp_path(file_id);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "could not remove temporary sealed file")
            }
        }
    }

    /// Opens a sealed file of a period for reading (plaintext JSON Lines).
    pub fn open_sealed(&self, period: Period, file_id: &str) -> Result<impl io::BufRead + use<>, VaultError> {
        let identity = self.identity(period)?;
        let path = self.sealed_path(period, file_id);
        let file = File::open(&path).map_err(io_err(&path))?;
        let dec = age::Decryptor::new_buffered(BufReader::new(file))
            .map_err(|e| VaultError::Decrypt { path: path.clone(), message: e.to_string() })?;
        let reader = dec
            .decrypt(std::iter::once(&identity as &dyn age::Identity))
            .map_err(|e| VaultError::Decrypt { path: path.clone(), message: e.to_string() })?;
        Ok(BufReader::with_capacity(1 << 16, reader))
    }

    /// Path of the key index of a sealed file.
    pub fn index_path(&self, period: Period, file_id: &str) -> PathBuf {
        self.layout.vault(period).join(format!("{file_id}{INDEX_SUFFIX}"))
    }

    /// The plaintext of the key index of a sealed file; `None` when there is none.
    pub fn read_index(&self, period: Period, file_id: &str) -> Result<Option<Vec<u8>>, VaultError> {
        let path = self.index_path(period, file_id);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(VaultError::Io { path, source: e }),
        };
        let identity = self.identity(period)?;
        key_index::open(file, &identity)
            .map(Some)
            .map_err(|e| VaultError::Decrypt { path, message: e.to_string() })
    }

    /// Seals `plaintext` as the key index of a sealed file: written under a temporary name in
    /// `vault/tmp`, then renamed into place (not fsynced: a lost or damaged index is only read
    /// around and written again).
    pub fn write_index(&self, period: Period, file_id: &str, plaintext: &[u8]) -> Result<(), VaultError> {
        // Never a new key: a period shredded since its file was read stays shredded.
        let recipient = self.identity(period)?.to_public();
        let tmp = self.layout.vault_tmp().join(format!("{file_id}.{}{INDEX_SUFFIX}", ulid::Ulid::new()));
        let written = durable::create_new_private(&tmp)
            .and_then(|f| key_index::seal(BufWriter::with_capacity(1 << 16, f), &recipient, plaintext))
            .and_then(|()| fs::rename(&tmp, self.index_path(period, file_id)));
        written.map_err(|e| {
            let _ = fs::remove_file(&tmp);
            VaultError::Io { path: tmp.clone(), source: e }
        })
    }

    /// Removes the key index of a sealed file, if there is one (before the file changes).
    pub fn remove_index(&self, period: Period, file_id: &str) -> Result<(), VaultError> {
        let path = self.index_path(period, file_id);
        match fs::remove_file(&path) {
            Ok(()) => durable::sync_dir(&self.layout.vault(period)).map_err(io_err(&path)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(VaultError::Io { path, source: e }),
        }
    }

    /// Empties `vault/tmp` (uploads interrupted by a stop or crash); returns what it removed,
    /// by file id (the name without `.age`) and size, sorted.
    pub fn clear_tmp(&self) -> Result<Vec<(String, u64)>, VaultError> {
        let dir = self.layout.vault_tmp();
        let mut removed = Vec::new();
        for entry in fs::read_dir(&dir).map_err(io_err(&dir))? {
            let entry = entry.map_err(io_err(&dir))?;
            let bytes = entry.metadata().map(|m| m.len()).unwrap_or(0);
            fs::remove_file(entry.path()).map_err(io_err(&entry.path()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            removed.push((file_id_of(&name).to_owned(), bytes));
        }
        removed.sort();
        Ok(removed)
    }
}

/// The name ending of a key index (`<file-id>.keys.age`).
pub const INDEX_SUFFIX: &str = ".keys.age";

/// The file id of a name in a period's vault folder: a sealed file's or its key index's.
pub fn file_id_of(name: &str) -> &str {
    name.strip_suffix(INDEX_SUFFIX).or_else(|| name.strip_suffix(".age")).unwrap_or(name)
}

/// Reads an age identity file (comments allowed).
fn read_identity(path: &Path) -> Result<Identity, VaultError> {
    let text = fs::read_to_string(path).map_err(io_err(path))?;
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .and_then(|l| Identity::from_str(l).ok())
        .ok_or_else(|| VaultError::BadKey(path.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, Write};
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn seal_and_open_round_trip_with_private_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(Layout::new(dir.path())).unwrap();
        let p: Period = "2026-11".parse().unwrap();
        let mut w = vault.seal_tmp(p, "F1").unwrap();
        writeln!(w, "{{\"line\":2}}").unwrap();
        let filed = w.finish().unwrap().file().unwrap();
        assert_eq!(filed, vault.sealed_path(p, "F1"));
        assert!(!vault.tmp_path("F1").exists());
        let key = Layout::new(dir.path()).period_key(p);
        assert_eq!(fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        let lines: Vec<String> = vault.open_sealed(p, "F1").unwrap().lines().map(Result::unwrap).collect();
        assert_eq!(lines, vec!["{\"line\":2}"]);
        // The same key is used again, not regenerated.
        let r1 = vault.recipient(p).unwrap().to_string();
        let fresh = Vault::open(Layout::new(dir.path())).unwrap();
        assert_eq!(fresh.recipient(p).unwrap().to_string(), r1);
        // Without the key the period is unreadable.
        fs::remove_file(&key).unwrap();
        assert!(matches!(fresh.open_sealed(p, "F1"), Err(VaultError::Shredded(_))));
        // And its key is never made again, not by a key index written late.
        assert!(matches!(fresh.write_index(p, "F1", b"x"), Err(VaultError::Shredded(_))));
        assert!(matches!(vault.write_index(p, "F1", b"x"), Err(VaultError::Shredded(_))), "cached recipient");
        assert!(!key.exists() && !fresh.index_path(p, "F1").exists());
    }

    #[test]
    fn a_temporary_sealed_file_is_discarded_unless_filed() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(Layout::new(dir.path())).unwrap();
        let p: Period = "2026-11".parse().unwrap();
        // Dropped while writing.
        let mut w = vault.seal_tmp(p, "A").unwrap();
        w.write_all(b"x\n").unwrap();
        assert!(vault.tmp_path("A").exists());
        drop(w);
        assert!(!vault.tmp_path("A").exists(), "an unfinished file is discarded");
        // Dropped when finished but not filed.
        let mut w = vault.seal_tmp(p, "B").unwrap();
        w.write_all(b"x\n").unwrap();
        let done = w.finish().unwrap();
        assert!(vault.tmp_path("B").exists());
        drop(done);
        assert!(!vault.tmp_path("B").exists(), "a finished file not filed is discarded");
        assert!(!vault.sealed_path(p, "B").exists());
        // Filed: it stays, in its period.
        let w = vault.seal_tmp(p, "C").unwrap();
        w.finish().unwrap().file().unwrap();
        assert!(!vault.tmp_path("C").exists() && vault.sealed_path(p, "C").exists());
    }
}
