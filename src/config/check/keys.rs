//! SSH keys of a party: `authorized_keys` lines in the file or in files it names; no key
//! may serve two parties.

use std::collections::HashMap;

use russh::keys::{Algorithm, PublicKey};
use toml::Spanned;

use super::Checker;
use crate::config::{Creditor, Executor, Municipality, Problem};

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
            self.ssh_key_files.push(path.clone());
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

    /// Reports every SSH key configured for more than one party (creditors first).
    pub(super) fn shared_ssh_keys(
        &mut self,
        creditors: &[Creditor],
        municipalities: &[Municipality],
        executors: &[Executor],
    ) {
        let mut owners: HashMap<Vec<u8>, String> = HashMap::new();
        for (id, keys) in creditors
            .iter()
            .map(|x| (x.id.to_string(), &x.ssh_keys))
            .chain(municipalities.iter().map(|m| (m.code.to_string(), &m.ssh_keys)))
            .chain(executors.iter().map(|e| (e.id.to_string(), &e.ssh_keys)))
        {
            for k in keys {
                let blob = k.to_bytes().unwrap_or_default();
                if let Some(other) = owners.insert(blob, id.clone())
                    && other != id
                {
                    self.problems.push(Problem::whole_file(
                        self.file,
                        format!(
                            "the SSH key {} is configured for both '{other}' and '{id}'",
                            k.fingerprint(Default::default())
                        ),
                        "give every party its own key pair",
                    ));
                }
            }
        }
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
