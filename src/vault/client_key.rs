//! Where meldpunt keeps each party's known-client key: `keys/clients/<party>`, mode 0600, in
//! the text form the party gets a copy of (docs/known-clients.md "Keys").

use std::path::PathBuf;

use rand::RngCore;

use crate::domain::clients::ClientKey;
use crate::domain::clients::key::KeyFileError;
use crate::durable;
use crate::layout::Layout;

/// Why a known-client key could not be read or made.
#[derive(Debug, thiserror::Error)]
pub enum ClientKeyError {
    /// `key new` for a party that has a key.
    #[error(
        "{party} has a known-client key already ({path}); use `meldpunt clients key rotate --party {party}` to replace it"
    )]
    Exists {
        /// The party.
        party: String,
        /// Its key file.
        path: PathBuf,
    },
    /// The file is not a key.
    #[error("{path}: {why}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: KeyFileError,
    },
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// The key of `party`, if it has one.
pub fn read(layout: &Layout, party: &str) -> Result<Option<ClientKey>, ClientKeyError> {
    let path = layout.client_key(party);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            ClientKey::parse_file(&text).map(Some).map_err(|why| ClientKeyError::Invalid { path, why })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ClientKeyError::Io { path, source }),
    }
}

/// Makes the first key of `party` (refused when it has one).
pub fn create(layout: &Layout, party: &str) -> Result<ClientKey, ClientKeyError> {
    let path = layout.client_key(party);
    let key = fresh();
    let io = |source| ClientKeyError::Io { path: path.clone(), source };
    durable::create_private_dir(&layout.client_keys()).map_err(io)?;
    if !durable::create_once_private(&path, key.to_file(party).as_bytes()).map_err(io)? {
        return Err(ClientKeyError::Exists { party: party.to_owned(), path });
    }
    Ok(key)
}

/// Replaces the key of `party` with a new one; the id of the one it replaced, if any.
pub fn rotate(layout: &Layout, party: &str) -> Result<(Option<String>, ClientKey), ClientKeyError> {
    let old = read(layout, party).ok().flatten().map(|k| k.id());
    let path = layout.client_key(party);
    let key = fresh();
    let io = |source| ClientKeyError::Io { path: path.clone(), source };
    durable::create_private_dir(&layout.client_keys()).map_err(io)?;
    durable::write_atomic(&path, key.to_file(party).as_bytes(), true).map_err(io)?;
    Ok((old, key))
}

/// 32 random bytes from the operating system's generator.
fn fresh() -> ClientKey {
    let mut secret = zeroize::Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(secret.as_mut_slice());
    ClientKey::from_secret(*secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_refuses_a_second_key_and_rotate_replaces_it() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        assert!(read(&layout, "GM0505").unwrap().is_none());
        let first = create(&layout, "GM0505").unwrap();
        assert!(matches!(create(&layout, "GM0505"), Err(ClientKeyError::Exists { .. })));
        assert_eq!(read(&layout, "GM0505").unwrap().unwrap().id(), first.id());
        let (old, second) = rotate(&layout, "GM0505").unwrap();
        assert_eq!(old, Some(first.id()));
        assert_ne!(second.id(), first.id());
        assert_eq!(read(&layout, "GM0505").unwrap().unwrap().id(), second.id());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(layout.client_key("GM0505")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
