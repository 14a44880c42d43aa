//! The known-client key of one party (docs/known-clients.md "Keys"): 32 random bytes that only
//! that party and meldpunt hold, written as a small text file, and its id, a short fingerprint
//! that hashed lists carry so meldpunt can tell a list made with another key.

use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

/// The first line of a key file.
const FIRST_LINE: &str = "# meldpunt known-clients key";

/// A party's known-client key (shown by its id only).
#[derive(Clone)]
pub struct ClientKey {
    secret: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientKey({})", self.id())
    }
}

/// Why a key file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileError {
    /// No line with the key, or more than one.
    #[error("not a meldpunt known-clients key: expected one line of 64 hex digits after the '#' lines")]
    Shape,
    /// The key line is not 32 bytes of hex.
    #[error(
        "not a meldpunt known-clients key: the key line is {0}; use the file `meldpunt clients key new` wrote"
    )]
    Secret(&'static str),
}

impl ClientKey {
    /// The key with these secret bytes.
    pub fn from_secret(secret: [u8; 32]) -> Self {
        Self { secret: Zeroizing::new(secret) }
    }

    /// The secret bytes (the HMAC key).
    pub fn secret(&self) -> &[u8; 32] {
        &self.secret
    }

    /// The key's id: 16 hex digits of SHA-256 over a fixed tag and the key. It says which key
    /// made a list, and nothing of the key.
    pub fn id(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"meldpunt-clients-key-id\0");
        h.update(self.secret.as_slice());
        hex::encode(&h.finalize()[..8])
    }

    /// The key file's text: comment lines naming the party and the key id, then the key.
    pub fn to_file(&self, party: &str) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "{FIRST_LINE} for {party}, id {}\n\
             # Keep it secret and give it only to the people who run `meldpunt clients hash`.\n\
             {}\n",
            self.id(),
            hex::encode(self.secret.as_slice())
        ))
    }

    /// Reads a key file: `#` lines and blank lines aside, one line of 64 hex digits.
    pub fn parse_file(text: &str) -> Result<Self, KeyFileError> {
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#'));
        let (Some(line), None) = (lines.next(), lines.next()) else { return Err(KeyFileError::Shape) };
        let secret = super::super::seed::secret32(line).map_err(KeyFileError::Secret)?;
        Ok(Self { secret })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_reads_back_and_bad_files_say_why() {
        let key = ClientKey::from_secret([0x5a; 32]);
        let text = key.to_file("GM0505");
        assert!(text.starts_with(FIRST_LINE) && text.contains(&key.id()), "{}", *text);
        let back = ClientKey::parse_file(&text).unwrap();
        assert_eq!(back.secret(), key.secret());
        assert_eq!(key.id().len(), 16);
        assert_ne!(ClientKey::from_secret([0x5b; 32]).id(), key.id());
        assert_eq!(ClientKey::parse_file("# only a comment\n").unwrap_err(), KeyFileError::Shape);
        assert_eq!(ClientKey::parse_file("ab\ncd\n").unwrap_err(), KeyFileError::Shape);
        assert_eq!(ClientKey::parse_file("abcd\n").unwrap_err(), KeyFileError::Secret("not 32 bytes"));
        assert!(!format!("{key:?}").contains("5a5a"));
    }
}
