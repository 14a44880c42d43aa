//! The receipt signing key (`keys/receipt_ed25519`) and the public halves of the keys it
//! replaced (`keys/receipt_ed25519.retired`), which keep verifying what they signed.
//!
//! The private key is 32 random bytes, hex, mode 0600, as the audit key is; it is never the
//! audit key. The retired file holds one OpenSSH public key line per earlier key, oldest
//! first.

use std::path::{Path, PathBuf};

use ed25519_dalek::{SigningKey, VerifyingKey};
use rand::RngCore;
use zeroize::Zeroizing;

use super::sshsig;
use crate::durable;

/// Why the receipt key could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key file (or the retired keys' file) exists but does not hold a key.
    #[error(
        "{path}: not a meldpunt receipt key ({why}); restore it from a backup, or move it aside and run `meldpunt keys rotate-receipt`"
    )]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: &'static str,
    },
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

impl From<KeyError> for std::io::Error {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::Io { source, .. } => source,
            e => std::io::Error::other(e),
        }
    }
}

/// The private receipt key (shown by its fingerprint only).
pub struct ReceiptKey {
    signing: SigningKey,
}

impl std::fmt::Debug for ReceiptKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReceiptKey({})", sshsig::fingerprint(&self.public()))
    }
}

impl ReceiptKey {
    /// Reads the key at `path`.
    pub fn load(path: &Path) -> Result<ReceiptKey, KeyError> {
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(io_at(path))?);
        let secret = crate::domain::seed::ed25519_seed(&text)
            .map_err(|why| KeyError::Invalid { path: path.to_owned(), why })?;
        Ok(ReceiptKey { signing: SigningKey::from_bytes(&secret) })
    }

    /// Reads the key at `path`, creating one if there is none; whether it was created here.
    pub fn load_or_create(path: &Path) -> Result<(ReceiptKey, bool), KeyError> {
        match Self::load(path) {
            Err(KeyError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                let (key, text) = Self::generate();
                // Two processes starting at once end up with the same key (the loser reads
                // the winner's).
                if durable::create_once_private(path, text.as_bytes()).map_err(io_at(path))? {
                    Ok((key, true))
                } else {
                    Ok((Self::load(path)?, false))
                }
            }
            other => other.map(|k| (k, false)),
        }
    }

    /// Replaces the key at `path` with a new one, after adding the old one's public half to
    /// `retired`; the old and the new public key.
    pub fn rotate(path: &Path, retired: &Path) -> Result<(VerifyingKey, VerifyingKey), KeyError> {
        let (old, _) = Self::load_or_create(path)?;
        let mut keys = retired_keys(retired)?;
        if !keys.contains(&old.public()) {
            keys.push(old.public());
        }
        let text: String = keys.iter().map(|k| format!("{}\n", sshsig::public_line(k))).collect();
        // The old half is kept before the old key goes: a crash in between loses nothing.
        durable::write_atomic(retired, text.as_bytes(), false).map_err(io_at(retired))?;
        let (new, text) = Self::generate();
        durable::write_atomic(path, text.as_bytes(), true).map_err(io_at(path))?;
        Ok((old.public(), new.public()))
    }

    /// A new random key and its file's text.
    fn generate() -> (ReceiptKey, Zeroizing<String>) {
        let mut secret = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(secret.as_mut());
        let text = Zeroizing::new(format!("{}\n", hex::encode(secret.as_ref())));
        (ReceiptKey { signing: SigningKey::from_bytes(&secret) }, text)
    }

    /// The public half.
    pub fn public(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// The armored SSH signature, in `namespace`, of a message whose SHA-512 is `hash`.
    pub fn sign(&self, namespace: &str, hash: &[u8; 64]) -> String {
        sshsig::sign(&self.signing, namespace, hash)
    }
}

/// The public keys in the retired keys' file, oldest first (none if there is no file).
pub fn retired_keys(path: &Path) -> Result<Vec<VerifyingKey>, KeyError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_at(path)(e)),
    };
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            sshsig::parse_public_line(l).ok_or(KeyError::Invalid {
                path: path.to_owned(),
                why: "a line is not an ssh-ed25519 public key",
            })
        })
        .collect()
}

fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io { path: path.to_owned(), source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_rotated_and_the_old_half_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join("receipt_ed25519");
        let retired = dir.path().join("keys").join("receipt_ed25519.retired");
        let (k1, created) = ReceiptKey::load_or_create(&path).unwrap();
        assert!(created);
        let (k2, created) = ReceiptKey::load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(k1.public(), k2.public());
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let (old, new) = ReceiptKey::rotate(&path, &retired).unwrap();
        assert_eq!(old, k1.public());
        assert_ne!(old, new);
        assert_eq!(ReceiptKey::load(&path).unwrap().public(), new);
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let (_, newer) = ReceiptKey::rotate(&path, &retired).unwrap();
        assert_eq!(retired_keys(&retired).unwrap(), vec![old, new]);
        assert_ne!(newer, new);
        std::fs::write(&path, "nonsense").unwrap();
        assert!(matches!(ReceiptKey::load(&path), Err(KeyError::Invalid { .. })));
    }
}
