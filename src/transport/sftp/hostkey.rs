//! The SSH host key: read at start, created (ed25519, OpenSSH format, mode 0600) if missing.

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

use anyhow::Context as _;
use rand::RngCore as _;
use russh::keys::ssh_key::LineEnding;
use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::{HashAlg, PrivateKey};

use crate::durable;

/// Reads the OpenSSH private key at `path`, or creates a new ed25519 key there if no file
/// exists (mode 0600, parent folders 0700). Logs the key's SHA-256 fingerprint, which
/// operators hand to parties for `known_hosts`.
///
/// An existing file that cannot be read or parsed is an error (it is never replaced: the
/// parties have pinned its fingerprint). An existing key readable by group or others is
/// refused, as sshd does.
pub fn load_or_create_host_key(path: &Path) -> anyhow::Result<PrivateKey> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) => {
            anyhow::ensure!(
                meta.file_type().is_file(),
                "the SSH host key {} is not a regular file; point sftp.host_key at the key file",
                path.display()
            );
            let mode = meta.permissions().mode() & 0o777;
            anyhow::ensure!(
                mode & 0o077 == 0,
                "the SSH host key {} has mode {mode:03o}; it must be readable by the daemon's user only (chmod 600)",
                path.display()
            );
            let key = PrivateKey::read_openssh_file(path).with_context(|| {
                format!(
                    "reading the SSH host key {}; remove it to have a new ed25519 key created (clients will see a new fingerprint)",
                    path.display()
                )
            })?;
            tracing::info!(
                path = %path.display(),
                fingerprint = %key.public_key().fingerprint(HashAlg::Sha256),
                algorithm = %key.algorithm(),
                "SSH host key loaded"
            );
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key =
                create(path).with_context(|| format!("creating the SSH host key {}", path.display()))?;
            tracing::warn!(
                path = %path.display(),
                fingerprint = %key.public_key().fingerprint(HashAlg::Sha256),
                "created a new ed25519 SSH host key; give this fingerprint to the parties"
            );
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("checking the SSH host key {}", path.display())),
    }
}

/// Creates a new key at `path` without ever replacing an existing file: the key is written
/// to a hidden temporary file, synced, and hard-linked into place (which fails if another
/// process created the file in the meantime).
fn create(path: &Path) -> anyhow::Result<PrivateKey> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    durable::create_private_dir(dir)?;
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    let mut key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
    zeroize::Zeroize::zeroize(&mut seed);
    key.set_comment("meldpunt host key");
    let text = key.to_openssh(LineEnding::LF)?;
    let tmp = dir.join(format!(".host-key.{}.tmp", ulid::Ulid::new()));
    let result = (|| -> anyhow::Result<()> {
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::hard_link(&tmp, path)?;
        Ok(())
    })();
    let _ = std::fs::remove_file(&tmp);
    result?;
    durable::sync_dir(dir)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_once_then_loads_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("host_ed25519");
        let a = load_or_create_host_key(&path).unwrap();
        assert_eq!(a.algorithm(), russh::keys::Algorithm::Ed25519);
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"));
        let b = load_or_create_host_key(&path).unwrap();
        assert_eq!(a.public_key().key_data(), b.public_key().key_data());
        // No temporary files are left behind.
        assert_eq!(std::fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn refuses_a_broken_or_loose_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("host_ed25519");
        std::fs::write(&path, "not a key").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(load_or_create_host_key(&path).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a key", "never replaced");
        load_or_create_host_key(&dir.path().join("ok")).unwrap();
        std::fs::set_permissions(dir.path().join("ok"), std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = load_or_create_host_key(&dir.path().join("ok")).unwrap_err();
        assert!(e.to_string().contains("chmod 600"), "{e}");
    }
}
