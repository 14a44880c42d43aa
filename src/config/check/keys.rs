//! SSH keys of a party: `authorized_keys` lines in the file or in files it names.

use russh::keys::{Algorithm, PublicKey};
use toml::Spanned;

use super::Checker;

impl Checker<'_> {
    /// The usable keys of `party` from its lines and key files; each unusable one is reported.
    pub(super) fn ssh_keys(
        &mut self,
        party: &str,
        lines: &[Spanned<String>],
        files: &[Spanned<String>],
    ) -> Vec<PublicKey> {
        let mut keys = Vec::new();
        for line in lines {
            match parse_key(line.get_ref()) {
                Ok(k) => keys.push(k),
                Err(e) => self.report(line, format!("SSH key of '{party}' is not usable: {e}"), KEY_FIX),
            }
        }
        for f in files {
            let path = self.resolve(f.get_ref());
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    for (n, l) in text.lines().enumerate() {
                        let l = l.trim();
                        if l.is_empty() || l.starts_with('#') {
                            continue;
                        }
                        match parse_key(l) {
                            Ok(k) => keys.push(k),
                            Err(e) => self.report(
                                f,
                                format!(
                                    "{}:{}: SSH key of '{party}' is not usable: {e}",
                                    path.display(),
                                    n + 1
                                ),
                                KEY_FIX,
                            ),
                        }
                    }
                }
                Err(e) => self.report(
                    f,
                    format!("cannot read SSH key file {}: {e}", path.display()),
                    "give the path of an authorized_keys file, relative to this configuration file",
                ),
            }
        }
        keys
    }
}

const KEY_FIX: &str = "write one authorized_keys line: 'ssh-ed25519 AAAA… comment' (ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa keys of at least 2048 bits)";

fn parse_key(line: &str) -> Result<PublicKey, String> {
    let key = PublicKey::from_openssh(line.trim()).map_err(|_| {
        "it is not a valid authorized_keys line (type, base64 key, optional comment)".to_owned()
    })?;
    match key.algorithm() {
        Algorithm::Ed25519 | Algorithm::Ecdsa { .. } => Ok(key),
        Algorithm::Rsa { .. } => {
            let bits = key
                .key_data()
                .rsa()
                .map(|r| r.n().as_positive_bytes().map_or(0, |b| b.len() * 8))
                .unwrap_or(0);
            if bits >= 2048 { Ok(key) } else { Err(format!("RSA key of {bits} bits is too short")) }
        }
        other => Err(format!("key type {other} is not accepted")),
    }
}
