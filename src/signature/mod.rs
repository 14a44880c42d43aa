//! Signed receipts and batch reports (docs/receipt.md, "Signatures"): every `*.receipt.json`
//! and every creditor batch report `batch_<period>*.json` gets an SSH signature beside it,
//! `<file>.sig`, made with the receipt key (never the audit key) in the namespace
//! [`NAMESPACE`], which `ssh-keygen -Y verify` checks against the allowed-signers lines
//! `meldpunt keys receipt-pub` prints.

use std::io::Read as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha512};

use crate::durable;
use crate::layout::Layout;

pub mod key;
pub mod sshsig;

pub use key::{KeyError, ReceiptKey};

/// The SSHSIG namespace of every signature meldpunt makes on receipts and reports
/// (`ssh-keygen -Y verify -n meldpunt-receipt`).
pub const NAMESPACE: &str = "meldpunt-receipt";

/// The principal the allowed-signers lines name (`ssh-keygen -Y verify -I meldpunt`).
pub const PRINCIPAL: &str = "meldpunt";

/// What a signature's name adds to the signed file's name.
pub const SIG_SUFFIX: &str = ".sig";

/// Where the signature of `file` lives: `<file>.sig`.
pub fn sig_path(file: &Path) -> PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(SIG_SUFFIX);
    PathBuf::from(s)
}

/// Whether a file of a receipts folder is one meldpunt signs: a receipt (`*.receipt.json`,
/// creditors' and municipalities') or a creditor's batch report (`batch_*.json`).
pub fn is_signed_name(name: &str) -> bool {
    !name.starts_with('.')
        && (name.ends_with(".receipt.json") || (name.starts_with("batch_") && name.ends_with(".json")))
}

/// The allowed-signers line of `key`, as `ssh-keygen -Y verify -f` reads it.
pub fn allowed_signers_line(key: &VerifyingKey) -> String {
    format!("{PRINCIPAL} namespaces=\"{NAMESPACE}\" {}", sshsig::public_line(key))
}

/// Signs files with the current receipt key; reads the key again when it was rotated (by
/// `meldpunt keys rotate-receipt` while the daemon runs).
pub struct Signer {
    path: PathBuf,
    retired: PathBuf,
    current: Mutex<Loaded>,
}

/// The key as last read, and which file it came from.
struct Loaded {
    dev: u64,
    ino: u64,
    key: Arc<ReceiptKey>,
}

impl Signer {
    /// The signer of the data directory `layout`; creates its key if there is none yet and
    /// then also returns the new key's fingerprint (for the audit log).
    pub fn open(layout: &Layout) -> Result<(Signer, Option<String>), KeyError> {
        let path = layout.receipt_key();
        let (key, created) = ReceiptKey::load_or_create(&path)?;
        let meta = std::fs::metadata(&path).map_err(|source| KeyError::Io { path: path.clone(), source })?;
        let created = created.then(|| sshsig::fingerprint(&key.public()));
        let current = Mutex::new(Loaded { dev: meta.dev(), ino: meta.ino(), key: Arc::new(key) });
        Ok((Signer { path, retired: layout.retired_receipt_keys(), current }, created))
    }

    /// The current key (read again if the file was replaced since).
    fn key(&self) -> Result<Arc<ReceiptKey>, KeyError> {
        let meta = std::fs::metadata(&self.path)
            .map_err(|source| KeyError::Io { path: self.path.clone(), source })?;
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if (current.dev, current.ino) != (meta.dev(), meta.ino()) {
            *current =
                Loaded { dev: meta.dev(), ino: meta.ino(), key: Arc::new(ReceiptKey::load(&self.path)?) };
        }
        Ok(current.key.clone())
    }

    /// Writes `<file>.sig`, the signature of `bytes` (the content of `file`), atomically.
    pub fn write_sig(&self, file: &Path, bytes: &[u8]) -> Result<(), KeyError> {
        let armored = self.key()?.sign(NAMESPACE, &Sha512::digest(bytes).into());
        write(&sig_path(file), &armored)
    }

    /// Signs the file `file` (read in pieces) and writes the signature to `sig` atomically.
    pub fn sign_file(&self, file: &Path, sig: &Path) -> Result<(), KeyError> {
        let armored = self.key()?.sign(NAMESPACE, &hash_file(file)?);
        write(sig, &armored)
    }

    /// Makes sure `<file>.sig` is a valid signature of `file` by a key of this installation
    /// (current or retired), signing it again if not; whether it did.
    pub fn ensure_signed(&self, file: &Path) -> Result<bool, KeyError> {
        let sig = sig_path(file);
        let known = self.public_keys()?;
        let valid = match std::fs::read_to_string(&sig) {
            Ok(armored) => sshsig::verify(&armored, NAMESPACE, &hash_file(file)?)
                .is_some_and(|k| known.iter().any(|(p, _)| *p == k)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(source) => return Err(KeyError::Io { path: sig, source }),
        };
        if !valid {
            self.sign_file(file, &sig)?;
        }
        Ok(!valid)
    }

    /// Every public key whose signatures hold, oldest first, each with whether it is the
    /// current one.
    pub fn public_keys(&self) -> Result<Vec<(VerifyingKey, bool)>, KeyError> {
        let current = self.key()?.public();
        let mut keys: Vec<(VerifyingKey, bool)> = key::retired_keys(&self.retired)?
            .into_iter()
            .filter(|k| *k != current)
            .map(|k| (k, false))
            .collect();
        keys.push((current, true));
        Ok(keys)
    }

    /// Replaces the current key with a new one, keeping the old public half; the old and
    /// the new key's fingerprints.
    pub fn rotate(&self) -> Result<(String, String), KeyError> {
        let (old, new) = ReceiptKey::rotate(&self.path, &self.retired)?;
        Ok((sshsig::fingerprint(&old), sshsig::fingerprint(&new)))
    }
}

/// Signs every signed kind of file in every party's receipts folder that has no signature
/// (left by a crash between writing a file and its signature); how many it signed.
pub fn sign_missing(layout: &Layout, signer: &Signer) -> Result<usize, KeyError> {
    let mut signed = 0;
    for party in read_names(&layout.parties())? {
        let dir = layout.receipts(&party);
        for name in read_names(&dir)?.iter().filter(|n| is_signed_name(n)) {
            let file = dir.join(name);
            if !sig_path(&file).exists() {
                signer.sign_file(&file, &sig_path(&file))?;
                signed += 1;
            }
        }
    }
    Ok(signed)
}

/// The names in `dir` (none if it does not exist).
fn read_names(dir: &Path) -> Result<Vec<String>, KeyError> {
    let io = |source| KeyError::Io { path: dir.to_owned(), source };
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(e)),
    };
    let mut out = Vec::new();
    for entry in rd {
        if let Ok(name) = entry.map_err(io)?.file_name().into_string() {
            out.push(name);
        }
    }
    Ok(out)
}

/// SHA-512 of a file, read in pieces.
fn hash_file(file: &Path) -> Result<[u8; 64], KeyError> {
    let io = |source| KeyError::Io { path: file.to_owned(), source };
    let mut f = std::fs::File::open(file).map_err(io)?;
    let mut hasher = Sha512::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e)),
        }
    }
    Ok(hasher.finalize().into())
}

fn write(sig: &Path, armored: &str) -> Result<(), KeyError> {
    durable::write_atomic(sig, armored.as_bytes(), false)
        .map_err(|source| KeyError::Io { path: sig.to_owned(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_names() {
        for n in ["01J.receipt.json", "batch_2026-05.json", "batch_2026-05_v2.json"] {
            assert!(is_signed_name(n), "{n}");
        }
        for n in ["01J.receipt.txt", "01J.receipt.json.sig", ".batch_2026-05.json.01J.tmp", "GM0505_x.json"] {
            assert!(!is_signed_name(n), "{n}");
        }
    }

    #[test]
    fn missing_and_stale_signatures_are_made_again_and_rotation_keeps_the_old_key() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        let (signer, created) = Signer::open(&layout).unwrap();
        assert!(created.is_some());
        assert!(Signer::open(&layout).unwrap().1.is_none(), "created once");
        let receipts = layout.receipts("woonstad");
        std::fs::create_dir_all(&receipts).unwrap();
        let file = receipts.join("01J.receipt.json");
        std::fs::write(&file, b"{}\n").unwrap();
        std::fs::write(receipts.join("01J.receipt.txt"), b"x").unwrap();
        assert_eq!(sign_missing(&layout, &signer).unwrap(), 1);
        assert_eq!(sign_missing(&layout, &signer).unwrap(), 0);
        assert!(!signer.ensure_signed(&file).unwrap(), "a valid signature is kept");
        let (old_fp, new_fp) = signer.rotate().unwrap();
        assert_ne!(old_fp, new_fp);
        assert!(!signer.ensure_signed(&file).unwrap(), "the retired key still counts");
        let keys = signer.public_keys().unwrap();
        assert_eq!(keys.len(), 2);
        assert!(!keys[0].1 && keys[1].1);
        assert_eq!(sshsig::fingerprint(&keys[1].0), new_fp, "the signer reads the rotated key");
        std::fs::write(&file, b"{\"changed\": 1}\n").unwrap();
        assert!(signer.ensure_signed(&file).unwrap(), "a stale signature is made again");
        let armored = std::fs::read_to_string(sig_path(&file)).unwrap();
        let hash: [u8; 64] = Sha512::digest(std::fs::read(&file).unwrap()).into();
        assert_eq!(sshsig::verify(&armored, NAMESPACE, &hash), Some(keys[1].0));
    }
}
