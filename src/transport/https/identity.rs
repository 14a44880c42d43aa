//! Who a verified client certificate is: SHA-256 fingerprint and OIN (docs/parties.md).

use rustls::pki_types::CertificateDer;
use sha2::{Digest, Sha256};
use x509_parser::oid_registry::OID_X509_SERIALNUMBER;

/// What meldpunt reads from a client certificate that rustls has verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerCert {
    /// SHA-256 of the DER.
    pub fingerprint: [u8; 32],
    /// The subject `serialNumber` if it is a 20-digit OIN.
    pub oin: Option<String>,
}

impl PeerCert {
    /// Reads the end-entity certificate. Only called after the TLS handshake verified it.
    pub fn read(der: &CertificateDer<'_>) -> PeerCert {
        let fingerprint: [u8; 32] = Sha256::digest(der.as_ref()).into();
        let oin = x509_parser::parse_x509_certificate(der.as_ref()).ok().and_then(|(_, cert)| {
            let value = cert.subject().iter_by_oid(&OID_X509_SERIALNUMBER).next()?.as_str().ok()?.trim();
            let is_oin = value.len() == 20 && value.bytes().all(|b| b.is_ascii_digit());
            is_oin.then(|| value.to_owned())
        });
        PeerCert { fingerprint, oin }
    }

    /// The fingerprint as lowercase hex (how audit events and messages name it).
    pub fn fingerprint_hex(&self) -> String {
        hex::encode(self.fingerprint)
    }
}
