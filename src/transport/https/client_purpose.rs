//! Client certificates must say they are for client authentication: the extended key usage
//! extension must be present and list clientAuth (1.3.6.1.5.5.7.3.2), as PKIoverheid and the
//! CA/Browser Forum require of a client certificate. webpki alone accepts a certificate
//! without the extension (RFC 5280 leaves that open), so a server-only or general-purpose
//! certificate of a trusted CA could log in; this verifier wraps rustls's and refuses those.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};

/// A client verifier that also requires the clientAuth extended key usage.
#[derive(Debug)]
pub struct ClientAuthRequired {
    inner: Arc<dyn ClientCertVerifier>,
}

impl ClientAuthRequired {
    /// Wraps `inner` (chain, validity and CRL checks stay its job).
    pub fn wrap(inner: Arc<dyn ClientCertVerifier>) -> Arc<dyn ClientCertVerifier> {
        Arc::new(ClientAuthRequired { inner })
    }
}

impl ClientCertVerifier for ClientAuthRequired {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self.inner.verify_client_cert(end_entity, intermediates, now)?;
        if !has_client_auth(end_entity) {
            tracing::info!(
                "client certificate refused: its extended key usage does not include clientAuth \
                 (1.3.6.1.5.5.7.3.2); the party needs a client certificate"
            );
            return Err(rustls::Error::InvalidCertificate(CertificateError::InvalidPurpose));
        }
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }

    fn requires_raw_public_keys(&self) -> bool {
        self.inner.requires_raw_public_keys()
    }
}

/// Whether the certificate has an extended key usage extension that lists clientAuth.
fn has_client_auth(der: &CertificateDer<'_>) -> bool {
    x509_parser::parse_x509_certificate(der.as_ref())
        .ok()
        .and_then(|(_, cert)| cert.extended_key_usage().ok().flatten().map(|eku| eku.value.client_auth))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::pki::Ca;
    use rcgen::ExtendedKeyUsagePurpose as Eku;

    #[test]
    fn only_certificates_listing_client_auth_pass() {
        let ca = Ca::new("test").unwrap();
        let der = |purposes| CertificateDer::from(ca.client_with_purposes("x", None, purposes).unwrap().der);
        assert!(has_client_auth(&CertificateDer::from(ca.client("x", None).unwrap().der)));
        assert!(has_client_auth(&der(vec![Eku::ServerAuth, Eku::ClientAuth])));
        assert!(!has_client_auth(&der(vec![])));
        assert!(!has_client_auth(&der(vec![Eku::ServerAuth])));
        assert!(!has_client_auth(&der(vec![Eku::Any])));
    }
}
