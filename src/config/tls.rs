//! Checking `[https]` and the parties' TLS identities (`tls_fingerprints`, `oin`).

use std::path::Path;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use toml::Spanned;

use super::check::Checker;
use super::file::RawHttps;
use super::{HttpsConfig, TlsIdentity};

/// Checks `[https]`: address, and that every named file holds what it should.
pub(super) fn https(c: &mut Checker<'_>, raw: &Spanned<RawHttps>) -> Option<HttpsConfig> {
    let h = raw.get_ref();
    if !h.enabled {
        return None;
    }
    let listen = c.address(&h.listen, "0.0.0.0:8443");
    let cert = c.resolve(h.cert.get_ref());
    match load_certs(&cert) {
        Ok(v) if !v.is_empty() => {}
        Ok(_) => c.report(&h.cert, format!("{} holds no certificate", cert.display()), CERT_FIX),
        Err(e) => c.report(&h.cert, format!("cannot read {}: {e}", cert.display()), CERT_FIX),
    }
    let key = c.resolve(h.key.get_ref());
    if let Err(e) = load_key(&key) {
        c.report(&h.key, format!("cannot use {} as the server key: {e}", key.display()), KEY_FIX);
    }
    if h.client_ca.is_empty() {
        c.report(
            raw,
            "[https] names no client CA, so no client could log in",
            "add client_ca = [\"ca.crt\"]: the CA bundle(s) client certificates chain to",
        );
    }
    let mut client_ca = Vec::new();
    for ca in &h.client_ca {
        let path = c.resolve(ca.get_ref());
        match load_certs(&path) {
            Ok(v) if !v.is_empty() => client_ca.push(path),
            Ok(_) => c.report(ca, format!("{} holds no certificate", path.display()), CERT_FIX),
            Err(e) => c.report(ca, format!("cannot read {}: {e}", path.display()), CERT_FIX),
        }
    }
    let mut crl = Vec::new();
    for f in &h.crl {
        let path = c.resolve(f.get_ref());
        match load_crls(&path) {
            Ok(_) => crl.push(path),
            Err(e) => c.report(
                f,
                format!("cannot read CRL {}: {e}", path.display()),
                "give a CRL file in PEM (-----BEGIN X509 CRL-----) or DER form, as your CA publishes it",
            ),
        }
    }
    Some(HttpsConfig {
        listen: listen?,
        cert,
        key,
        client_ca,
        crl,
        crl_check: Duration::from_secs(h.crl_check_secs.max(1)),
        max_connections: h.max_connections.max(1),
        handshake_timeout: Duration::from_secs(h.handshake_timeout_secs.max(1)),
        idle_timeout: Duration::from_secs(h.idle_timeout_secs.max(1)),
        max_connections_per_party: h.max_connections_per_party.max(1),
        min_body_bytes_per_sec: h.min_body_bytes_per_sec,
    })
}

const CERT_FIX: &str =
    "give a PEM file with -----BEGIN CERTIFICATE----- blocks, relative to this configuration file";
const KEY_FIX: &str = "give the PEM private key (PKCS#8, SEC1 or PKCS#1) that belongs to [https] cert";

/// Checks a party's `tls_fingerprints` / `oin` and remembers them to find clashes.
pub(super) fn identity(
    c: &mut Checker<'_>,
    party: &str,
    fingerprints: &[Spanned<String>],
    oin: Option<&Spanned<String>>,
) -> TlsIdentity {
    if let (Some(o), false) = (oin, fingerprints.is_empty()) {
        c.report(
            o,
            format!("'{party}' has both tls_fingerprints and oin"),
            "keep one: oin for PKIoverheid certificates, tls_fingerprints for any other",
        );
    }
    if let Some(o) = oin {
        let v = o.get_ref().trim();
        if v.len() != 20 || !v.bytes().all(|b| b.is_ascii_digit()) {
            c.report(
                o,
                format!("the OIN of '{party}' must be 20 digits"),
                "write e.g. \"00000001823288444000\"",
            );
            return TlsIdentity::None;
        }
        if let Some(other) = c.tls_seen.insert(format!("oin:{v}"), party.to_owned()) {
            c.report(o, format!("OIN {v} is configured for both '{other}' and '{party}'"), CLASH_FIX);
        }
        return TlsIdentity::Oin(v.to_owned());
    }
    let mut fps = Vec::new();
    for f in fingerprints {
        match parse_fingerprint(f.get_ref()) {
            Some(fp) => {
                if let Some(other) = c.tls_seen.insert(format!("fp:{}", hex::encode(fp)), party.to_owned()) {
                    c.report(f, format!("this fingerprint is configured for both '{other}' and '{party}'"), CLASH_FIX);
                }
                fps.push(fp);
            }
            None => c.report(
                f,
                format!("TLS fingerprint of '{party}' is not a SHA-256 fingerprint"),
                "write 64 hex digits (colons allowed), e.g. the output of: openssl x509 -noout -fingerprint -sha256 -in client.crt",
            ),
        }
    }
    if fps.is_empty() { TlsIdentity::None } else { TlsIdentity::Fingerprints(fps) }
}

const CLASH_FIX: &str = "give every party its own certificate";

/// `AB:CD:…` or `abcd…` (optionally prefixed `sha256:`) → 32 bytes.
pub fn parse_fingerprint(text: &str) -> Option<[u8; 32]> {
    let t = text.trim();
    let t = t.strip_prefix("sha256:").or_else(|| t.strip_prefix("SHA256:")).unwrap_or(t);
    let hex: String = t.chars().filter(|ch| *ch != ':').collect();
    let bytes = hex::decode(hex).ok()?;
    bytes.try_into().ok()
}

/// Every certificate in a PEM file.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    CertificateDer::pem_slice_iter(&bytes).collect::<Result<Vec<_>, _>>().map_err(|e| format!("{e:?}"))
}

/// The private key in a PEM file.
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| format!("no private key found ({e:?})"))
}

/// The CRLs in a file: PEM blocks, or one DER CRL.
pub fn load_crls(path: &Path) -> Result<Vec<CertificateRevocationListDer<'static>>, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    if bytes.first() != Some(&0x30) {
        let v = CertificateRevocationListDer::pem_slice_iter(&bytes)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("{e:?}"))?;
        if v.is_empty() {
            return Err("no -----BEGIN X509 CRL----- block".into());
        }
        Ok(v)
    } else {
        Ok(vec![CertificateRevocationListDer::from(bytes)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_in_the_usual_spellings() {
        let hex = "ab".repeat(32);
        let colons = vec!["AB"; 32].join(":");
        assert_eq!(parse_fingerprint(&hex), Some([0xab; 32]));
        assert_eq!(parse_fingerprint(&colons), Some([0xab; 32]));
        assert_eq!(parse_fingerprint(&format!("sha256:{hex}")), Some([0xab; 32]));
        assert_eq!(parse_fingerprint("abcd"), None);
        assert_eq!(parse_fingerprint(&"zz".repeat(32)), None);
    }
}
