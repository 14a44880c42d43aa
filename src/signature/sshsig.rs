//! The SSH signature format (OpenSSH `PROTOCOL.sshsig`) for Ed25519 keys: what
//! `ssh-keygen -Y sign` writes and `ssh-keygen -Y verify` checks. Pure: bytes in, bytes out.
//!
//! Signed data: `"SSHSIG" || string(namespace) || string("") || string("sha512") ||
//! string(SHA-512(message))`. The armored blob: `"SSHSIG" || uint32(1) || string(public key
//! blob) || string(namespace) || string("") || string("sha512") || string(signature blob)`,
//! base64 wrapped at 70 columns between `-----BEGIN SSH SIGNATURE-----` and
//! `-----END SSH SIGNATURE-----`.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};

/// The magic that starts both the signed data and the blob.
const MAGIC: &[u8] = b"SSHSIG";
/// The key and signature algorithm.
const KEY_TYPE: &str = "ssh-ed25519";
/// The message hash (OpenSSH's default for `-Y sign`).
const HASH: &str = "sha512";
const BEGIN: &str = "-----BEGIN SSH SIGNATURE-----";
const END: &str = "-----END SSH SIGNATURE-----";
/// Base64 line length of the armor.
const WRAP: usize = 70;

/// Appends an SSH `string` (uint32 length, then the bytes).
fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// The SSH public key blob: `string("ssh-ed25519") || string(32 bytes)`.
pub fn public_blob(key: &VerifyingKey) -> Vec<u8> {
    let mut out = Vec::with_capacity(51);
    put_string(&mut out, KEY_TYPE.as_bytes());
    put_string(&mut out, key.as_bytes());
    out
}

/// The key as OpenSSH writes a public key: `ssh-ed25519 AAAA…`.
pub fn public_line(key: &VerifyingKey) -> String {
    format!("{KEY_TYPE} {}", STANDARD.encode(public_blob(key)))
}

/// Parses `ssh-ed25519 AAAA…` (a trailing comment is allowed).
pub fn parse_public_line(line: &str) -> Option<VerifyingKey> {
    let mut words = line.split_whitespace();
    if words.next()? != KEY_TYPE {
        return None;
    }
    let blob = STANDARD.decode(words.next()?).ok()?;
    let mut r = Reader(&blob);
    if r.string()? != KEY_TYPE.as_bytes() {
        return None;
    }
    let key: [u8; 32] = r.string()?.try_into().ok()?;
    r.0.is_empty().then_some(())?;
    VerifyingKey::from_bytes(&key).ok()
}

/// The fingerprint as `ssh-keygen -l` prints it: `SHA256:` and unpadded base64.
pub fn fingerprint(key: &VerifyingKey) -> String {
    format!("SHA256:{}", STANDARD_NO_PAD.encode(Sha256::digest(public_blob(key))))
}

/// What the key signs for a message whose SHA-512 is `hash`.
fn signed_data(namespace: &str, hash: &[u8; 64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(MAGIC.len() + namespace.len() + 90);
    out.extend_from_slice(MAGIC);
    put_string(&mut out, namespace.as_bytes());
    put_string(&mut out, b"");
    put_string(&mut out, HASH.as_bytes());
    put_string(&mut out, hash);
    out
}

/// The armored signature of a message whose SHA-512 is `hash`, in `namespace`.
pub fn sign(key: &SigningKey, namespace: &str, hash: &[u8; 64]) -> String {
    let signature = key.sign(&signed_data(namespace, hash));
    let mut sig_blob = Vec::with_capacity(83);
    put_string(&mut sig_blob, KEY_TYPE.as_bytes());
    put_string(&mut sig_blob, &signature.to_bytes());
    let mut blob = Vec::with_capacity(200);
    blob.extend_from_slice(MAGIC);
    blob.extend_from_slice(&1u32.to_be_bytes());
    put_string(&mut blob, &public_blob(&key.verifying_key()));
    put_string(&mut blob, namespace.as_bytes());
    put_string(&mut blob, b"");
    put_string(&mut blob, HASH.as_bytes());
    put_string(&mut blob, &sig_blob);
    let b64 = STANDARD.encode(blob);
    let mut out = String::with_capacity(b64.len() + 80);
    out.push_str(BEGIN);
    out.push('\n');
    for chunk in b64.as_bytes().chunks(WRAP) {
        // Base64 is ASCII, so every chunk is a str.
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(END);
    out.push('\n');
    out
}

/// The key that made `armored`, if it is a valid signature in `namespace` of a message whose
/// SHA-512 is `hash` (any key: the caller decides which keys it trusts).
pub fn verify(armored: &str, namespace: &str, hash: &[u8; 64]) -> Option<VerifyingKey> {
    let body = armored.trim().strip_prefix(BEGIN)?.strip_suffix(END)?;
    let b64: String = body.split_whitespace().collect();
    let blob = STANDARD.decode(b64).ok()?;
    let rest = blob.strip_prefix(MAGIC)?;
    let (version, rest) = rest.split_at_checked(4)?;
    if version != 1u32.to_be_bytes() {
        return None;
    }
    let mut r = Reader(rest);
    let public = r.string()?;
    let signed_ns = r.string()?;
    let _reserved = r.string()?;
    let hash_alg = r.string()?;
    let sig_blob = r.string()?;
    if !r.0.is_empty() || signed_ns != namespace.as_bytes() || hash_alg != HASH.as_bytes() {
        return None;
    }
    let key = parse_public_line(&format!("{KEY_TYPE} {}", STANDARD.encode(public)))?;
    let mut s = Reader(sig_blob);
    if s.string()? != KEY_TYPE.as_bytes() {
        return None;
    }
    let sig: [u8; 64] = s.string()?.try_into().ok()?;
    s.0.is_empty().then_some(())?;
    key.verify(&signed_data(namespace, hash), &Signature::from_bytes(&sig)).ok()?;
    Some(key)
}

/// Reads SSH `string`s off a byte slice.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn string(&mut self) -> Option<&'a [u8]> {
        let (len, rest) = self.0.split_at_checked(4)?;
        let len = u32::from_be_bytes(len.try_into().ok()?) as usize;
        let (s, rest) = rest.split_at_checked(len)?;
        self.0 = rest;
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Sha512;

    fn hash(m: &[u8]) -> [u8; 64] {
        Sha512::digest(m).into()
    }

    #[test]
    fn signs_and_verifies_in_its_namespace_only() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let sig = sign(&key, "meldpunt-receipt", &hash(b"hello\n"));
        assert!(sig.starts_with("-----BEGIN SSH SIGNATURE-----\n"));
        assert!(sig.ends_with("\n-----END SSH SIGNATURE-----\n"));
        assert!(sig.lines().all(|l| l.len() <= 70));
        assert_eq!(verify(&sig, "meldpunt-receipt", &hash(b"hello\n")), Some(key.verifying_key()));
        assert_eq!(verify(&sig, "meldpunt-receipt", &hash(b"hellp\n")), None);
        assert_eq!(verify(&sig, "file", &hash(b"hello\n")), None);
        assert_eq!(verify(&sig.replace('A', "B"), "meldpunt-receipt", &hash(b"hello\n")), None);
    }

    #[test]
    fn public_lines_and_fingerprints_round_trip() {
        let key = SigningKey::from_bytes(&[7u8; 32]).verifying_key();
        let line = public_line(&key);
        assert!(line.starts_with("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"), "{line}");
        assert_eq!(parse_public_line(&format!("{line} a comment")), Some(key));
        assert_eq!(parse_public_line("ssh-rsa AAAA"), None);
        let fp = fingerprint(&key);
        assert!(fp.starts_with("SHA256:") && fp.len() == 7 + 43, "{fp}");
    }

    /// The reference: OpenSSH's own `ssh-keygen -Y verify` accepts what `sign` writes, and
    /// `ssh-keygen -l` prints the same fingerprint (skipped where OpenSSH is not installed).
    #[test]
    fn ssh_keygen_verifies_it() {
        if std::process::Command::new("ssh-keygen").arg("-?").output().is_err() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::from_bytes(&[9u8; 32]);
        let msg = b"{\"file_id\": \"01J\"}\n";
        std::fs::write(dir.path().join("m"), msg).unwrap();
        std::fs::write(dir.path().join("m.sig"), sign(&key, "meldpunt-receipt", &hash(msg))).unwrap();
        let line = public_line(&key.verifying_key());
        std::fs::write(
            dir.path().join("allowed"),
            format!("meldpunt namespaces=\"meldpunt-receipt\" {line}\n"),
        )
        .unwrap();
        std::fs::write(dir.path().join("k.pub"), format!("{line}\n")).unwrap();
        let verify = |file: &str| {
            std::process::Command::new("ssh-keygen")
                .args([
                    "-Y",
                    "verify",
                    "-f",
                    "allowed",
                    "-I",
                    "meldpunt",
                    "-n",
                    "meldpunt-receipt",
                    "-s",
                    "m.sig",
                ])
                .current_dir(dir.path())
                .stdin(std::fs::File::open(dir.path().join(file)).unwrap())
                .output()
                .unwrap()
        };
        let ok = verify("m");
        assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
        std::fs::write(dir.path().join("m2"), b"{\"file_id\": \"01K\"}\n").unwrap();
        assert!(!verify("m2").status.success());
        let l = std::process::Command::new("ssh-keygen")
            .args(["-l", "-f", "k.pub"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let printed = String::from_utf8_lossy(&l.stdout);
        assert!(printed.contains(&fingerprint(&key.verifying_key())), "{printed}");
    }
}
