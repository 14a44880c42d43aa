//! The daemon's Ed25519 audit key: signs checkpoints and purge anchors.
//!
//! The private key is 32 random bytes, hex, in one file (mode 0600) under the data directory;
//! the public key is written as one line `meldpunt-audit-ed25519 <hex>` (what
//! `meldpunt keys audit-pub` prints and the officer keeps off the host).

use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use rand::RngCore;
use zeroize::Zeroizing;

/// The prefix of a public key line.
pub const PUBLIC_PREFIX: &str = "meldpunt-audit-ed25519";

/// Why the audit key could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key file exists but is not a key.
    #[error("{path}: not a meldpunt audit key ({why})")]
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

/// The private audit key.
pub struct AuditKey {
    signing: SigningKey,
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditKey({})", self.public())
    }
}

impl AuditKey {
    /// Reads the key at `path`, creating a new one (mode 0600) if there is none.
    pub fn load_or_create(path: &Path) -> Result<AuditKey, KeyError> {
        let io = |source| KeyError::Io { path: path.to_owned(), source };
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut secret = Zeroizing::new([0u8; 32]);
                rand::rngs::OsRng.fill_bytes(secret.as_mut());
                let text = Zeroizing::new(format!("{}\n", hex::encode(secret.as_ref())));
                // Two processes starting at once end up with the same key (the loser reads
                // the winner's).
                if crate::durable::create_once_private(path, text.as_bytes()).map_err(io)? {
                    Ok(AuditKey { signing: SigningKey::from_bytes(&secret) })
                } else {
                    Self::load(path)
                }
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Reads an existing key.
    pub fn load(path: &Path) -> Result<AuditKey, KeyError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| KeyError::Io { path: path.to_owned(), source })?;
        Self::parse(path, &text)
    }

    fn parse(path: &Path, text: &str) -> Result<AuditKey, KeyError> {
        let secret = crate::domain::seed::ed25519_seed(text)
            .map_err(|why| KeyError::Invalid { path: path.to_owned(), why })?;
        Ok(AuditKey { signing: SigningKey::from_bytes(&secret) })
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.signing.verifying_key())
    }

    /// Signs `message`; the signature as lowercase hex.
    pub fn sign(&self, message: &[u8]) -> String {
        hex::encode(self.signing.sign(message).to_bytes())
    }
}

/// A public audit key, as the officer holds it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")
    }
}

impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{PUBLIC_PREFIX} {}", hex::encode(self.0.to_bytes()))
    }
}

impl PublicKey {
    /// Parses a public key line (`meldpunt-audit-ed25519 <hex>`; the first such line of a file).
    pub fn parse(text: &str) -> Option<PublicKey> {
        let line = text.lines().map(str::trim).find(|l| l.starts_with(PUBLIC_PREFIX))?;
        let hex_part = line.strip_prefix(PUBLIC_PREFIX)?.trim();
        let bytes: [u8; 32] = strict_hex(hex_part)?.try_into().ok()?;
        VerifyingKey::from_bytes(&bytes).ok().map(PublicKey)
    }

    /// The key id: the first 16 hex digits of the key (shown with checkpoints).
    pub fn id(&self) -> String {
        hex::encode(&self.0.to_bytes()[..8])
    }

    /// Whether `sig_hex` (lowercase hex) is a valid signature of `message` by this key.
    pub fn verifies(&self, message: &[u8], sig_hex: &str) -> bool {
        let Some(bytes) = strict_hex(sig_hex) else { return false };
        let Ok(bytes) = <[u8; 64]>::try_from(bytes.as_slice()) else { return false };
        self.0.verify(message, &Signature::from_bytes(&bytes)).is_ok()
    }
}

/// Decodes hex only in its canonical lowercase form (so no two texts decode the same).
pub fn strict_hex(s: &str) -> Option<Vec<u8>> {
    if s.bytes().any(|b| !matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    hex::decode(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_read_back_and_signatures_verify() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join("audit_ed25519");
        let k1 = AuditKey::load_or_create(&path).unwrap();
        let k2 = AuditKey::load_or_create(&path).unwrap();
        assert_eq!(k1.public(), k2.public());
        let sig = k1.sign(b"hello");
        let public = PublicKey::parse(&k2.public().to_string()).unwrap();
        assert!(public.verifies(b"hello", &sig));
        assert!(!public.verifies(b"hellp", &sig));
        assert!(!public.verifies(b"hello", &sig.to_uppercase()), "only lowercase hex is accepted");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        std::fs::write(&path, "nonsense").unwrap();
        assert!(matches!(AuditKey::load(&path), Err(KeyError::Invalid { .. })));
    }
}
