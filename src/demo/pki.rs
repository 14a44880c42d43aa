//! A small demo and test PKI (rcgen, ECDSA P-256): a self-signed CA, server and client
//! certificates issued by it, and CRLs it signs. Used by `meldpunt demo` and the integration
//! tests (`meldpunt::demo::pki`). Everything it makes says "NOT FOR PRODUCTION" in its subject.
//!
//! Client certificates map to a party by fingerprint (SHA-256 of the DER, [`Issued::fingerprint`])
//! or by the OIN that [`Ca::client`] puts in the subject `serialNumber` (2.5.4.5), as
//! PKIoverheid/Digikoppeling certificates carry it (SPEC §1).

use std::net::IpAddr;
use std::path::Path;
use std::time::{Duration, SystemTime};

use anyhow::{Context, bail};
use rand::RngCore;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
    RevocationReason, RevokedCertParams, SanType, SerialNumber,
};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use sha2::{Digest, Sha256};

use crate::vault::fsutil;

/// The organisation in every subject this PKI makes.
pub const DEMO_ORG: &str = "meldpunt demo — NOT FOR PRODUCTION";

/// OID of the X.520 `serialNumber` attribute, where PKIoverheid certificates carry the OIN.
const OID_SERIAL_NUMBER: [u64; 4] = [2, 5, 4, 5];

/// Validity of the CA certificate.
const CA_VALIDITY: Duration = Duration::from_secs(10 * 365 * 24 * 3600);
/// Validity of server and client certificates.
const LEAF_VALIDITY: Duration = Duration::from_secs(2 * 365 * 24 * 3600);
/// `notBefore` lies this far in the past, so clocks that are a little behind accept a fresh certificate.
const BACKDATE: Duration = Duration::from_secs(3600);
/// `nextUpdate - thisUpdate` of a CRL.
const CRL_VALIDITY: Duration = Duration::from_secs(7 * 24 * 3600);

/// A certificate authority: its self-signed certificate and its signing key.
pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    cert_pem: String,
    cert_der: Vec<u8>,
}

/// A certificate issued by a [`Ca`], with its private key (which `Debug` does not show).
#[derive(Clone)]
pub struct Issued {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The private key, PKCS#8 PEM.
    pub key_pem: String,
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// The serial number as encoded in the certificate (16 bytes, positive; what a CRL lists).
    pub serial: Vec<u8>,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("fingerprint", &self.fingerprint())
            .field("serial", &hex::encode(&self.serial))
            .finish_non_exhaustive()
    }
}

impl Issued {
    /// SHA-256 of the DER certificate, lowercase hex without colons (how configuration names it).
    pub fn fingerprint(&self) -> String {
        hex::encode(Sha256::digest(&self.der))
    }

    /// Writes the certificate (mode 0640) and the key (mode 0600), each atomically; creates
    /// missing parent folders (mode 0700).
    pub fn write(&self, cert: &Path, key: &Path) -> anyhow::Result<()> {
        write_pair(cert, &self.cert_pem, key, &self.key_pem)
    }
}

impl Ca {
    /// A new self-signed CA (ECDSA P-256), `CN=name`, `O=meldpunt demo — NOT FOR PRODUCTION`,
    /// valid for 10 years, allowed to sign end-entity certificates and CRLs.
    pub fn new(name: &str) -> anyhow::Result<Ca> {
        let key = new_key()?;
        let mut params = base_params(name, SystemTime::now() - BACKDATE, SystemTime::now() + CA_VALIDITY);
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        params.serial_number = Some(SerialNumber::from_slice(&random_serial()));
        let cert = params.self_signed(&key).context("self-signing the demo CA")?;
        Ok(Ca { cert_pem: cert.pem(), cert_der: cert.der().to_vec(), issuer: Issuer::new(params, key) })
    }

    /// Loads a CA written by [`Ca::write`] (or any CA certificate and its PKCS#8 key), e.g. to
    /// issue more certificates or a new CRL for a kept demo installation.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> anyhow::Result<Ca> {
        let cert_der = CertificateDer::from_pem_slice(cert_pem.as_bytes())
            .map_err(|e| anyhow::anyhow!("reading the CA certificate (PEM): {e}"))?;
        let key = KeyPair::from_pem(key_pem).context("reading the CA key (PKCS#8 PEM)")?;
        let (_, parsed) =
            x509_parser::parse_x509_certificate(&cert_der).context("parsing the CA certificate")?;
        if parsed.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
            bail!("the CA key does not belong to the CA certificate");
        }
        let issuer = Issuer::from_ca_cert_der(&cert_der, key).context("reading the CA certificate")?;
        Ok(Ca { issuer, cert_pem: cert_pem.to_owned(), cert_der: cert_der.to_vec() })
    }

    /// The CA certificate, PEM (what servers and clients trust).
    pub fn cert_pem(&self) -> String {
        self.cert_pem.clone()
    }

    /// The CA certificate, DER.
    pub fn cert_der(&self) -> Vec<u8> {
        self.cert_der.clone()
    }

    /// The CA's private key, PKCS#8 PEM.
    pub fn key_pem(&self) -> String {
        self.issuer.key().serialize_pem()
    }

    /// A server certificate (EKU serverAuth) for `names`: each becomes a SAN, an IP address
    /// SAN when it parses as one (`127.0.0.1`, `::1`), else a DNS name. CN = the first name.
    pub fn server(&self, names: &[&str]) -> anyhow::Result<Issued> {
        let Some(first) = names.first() else { bail!("a server certificate needs at least one name") };
        let mut params = base_params(first, SystemTime::now() - BACKDATE, SystemTime::now() + LEAF_VALIDITY);
        for name in names {
            let san = match name.parse::<IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName(
                    (*name).try_into().with_context(|| format!("{name:?} is not a valid DNS name"))?,
                ),
            };
            params.subject_alt_names.push(san);
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.issue(params)
    }

    /// A client certificate (EKU clientAuth), `CN=cn`, valid for 2 years from now. With
    /// `oin`, the subject's `serialNumber` is that OIN (20 digits), as PKIoverheid does.
    pub fn client(&self, cn: &str, oin: Option<&str>) -> anyhow::Result<Issued> {
        self.client_valid(cn, oin, SystemTime::now() - BACKDATE, SystemTime::now() + LEAF_VALIDITY)
    }

    /// Like [`Ca::client`] with an explicit validity, e.g. one that has already ended (the
    /// expired-certificate tests). Times are `std::time::SystemTime` (a `jiff::Timestamp`
    /// converts with `SystemTime::from(ts)`).
    pub fn client_valid(
        &self,
        cn: &str,
        oin: Option<&str>,
        not_before: SystemTime,
        not_after: SystemTime,
    ) -> anyhow::Result<Issued> {
        if not_after <= not_before {
            bail!("not_after must lie after not_before");
        }
        let mut params = base_params(cn, not_before, not_after);
        if let Some(oin) = oin {
            if oin.len() != 20 || !oin.bytes().all(|b| b.is_ascii_digit()) {
                bail!("OIN {oin:?} is not 20 digits");
            }
            let value = rcgen::string::PrintableString::try_from(oin).context("OIN as PrintableString")?;
            params
                .distinguished_name
                .push(DnType::CustomDnType(OID_SERIAL_NUMBER.to_vec()), DnValue::PrintableString(value));
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.issue(params)
    }

    /// A CRL signed by this CA, PEM: `thisUpdate` now, `nextUpdate` now + 7 days, CRL number
    /// `number`, revoking `revoked_serials` (as in [`Issued::serial`], reason keyCompromise).
    pub fn crl(&self, revoked_serials: &[&[u8]], number: u64) -> anyhow::Result<String> {
        let now = SystemTime::now();
        let revoked_certs = revoked_serials
            .iter()
            .map(|serial| RevokedCertParams {
                serial_number: SerialNumber::from_slice(serial),
                revocation_time: now.into(),
                reason_code: Some(RevocationReason::KeyCompromise),
                invalidity_date: None,
            })
            .collect();
        let params = CertificateRevocationListParams {
            this_update: now.into(),
            next_update: (now + CRL_VALIDITY).into(),
            crl_number: SerialNumber::from_slice(&number.to_be_bytes()),
            issuing_distribution_point: None,
            revoked_certs,
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let crl = params.signed_by(&self.issuer).context("signing the CRL")?;
        crl.pem().context("encoding the CRL as PEM")
    }

    /// Writes the CA certificate (mode 0640) and key (mode 0600), each atomically; creates
    /// missing parent folders (mode 0700).
    pub fn write(&self, cert: &Path, key: &Path) -> anyhow::Result<()> {
        write_pair(cert, &self.cert_pem(), key, &self.key_pem())
    }

    fn issue(&self, mut params: CertificateParams) -> anyhow::Result<Issued> {
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = true;
        let serial = random_serial();
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        let key = new_key()?;
        let cert = params.signed_by(&key, &self.issuer).context("signing the certificate")?;
        Ok(Issued { cert_pem: cert.pem(), key_pem: key.serialize_pem(), der: cert.der().to_vec(), serial })
    }
}

fn new_key() -> anyhow::Result<KeyPair> {
    KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).context("generating an ECDSA P-256 key")
}

/// Subject `CN=cn, O=DEMO_ORG`, the validity, a SHA-256 key identifier.
fn base_params(cn: &str, not_before: SystemTime, not_after: SystemTime) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, DnValue::Utf8String(cn.to_owned()));
    dn.push(DnType::OrganizationName, DnValue::Utf8String(DEMO_ORG.to_owned()));
    params.distinguished_name = dn;
    params.not_before = not_before.into();
    params.not_after = not_after.into();
    params.key_identifier_method = KeyIdMethod::Sha256;
    params
}

/// 16 random bytes whose first byte is 0x01..=0x7f: a positive INTEGER whose DER content is
/// exactly these bytes (no sign padding, no leading zero to strip).
fn random_serial() -> Vec<u8> {
    let mut serial = vec![0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut serial);
    serial[0] = (serial[0] & 0x7f).max(1);
    serial
}

fn write_pair(cert: &Path, cert_pem: &str, key: &Path, key_pem: &str) -> anyhow::Result<()> {
    for path in [cert, key] {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fsutil::create_private_dir(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
    }
    fsutil::write_atomic(key, key_pem.as_bytes(), true)
        .with_context(|| format!("writing {}", key.display()))?;
    fsutil::write_atomic(cert, cert_pem.as_bytes(), false)
        .with_context(|| format!("writing {}", cert.display()))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::sync::Arc;

    use rustls::client::WebPkiServerVerifier;
    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::{CertificateRevocationListDer, ServerName, UnixTime};
    use rustls::server::WebPkiClientVerifier;
    use rustls::server::danger::ClientCertVerifier;
    use rustls::{CertificateError, RootCertStore};
    use x509_parser::oid_registry::{OID_X509_COMMON_NAME, OID_X509_SERIALNUMBER};

    use super::*;

    const OIN: &str = "00000001823288444000";

    fn provider() -> Arc<rustls::crypto::CryptoProvider> {
        Arc::new(rustls::crypto::aws_lc_rs::default_provider())
    }

    fn roots(ca: &Ca) -> Arc<RootCertStore> {
        let mut roots = RootCertStore::empty();
        roots.add(CertificateDer::from(ca.cert_der())).unwrap();
        Arc::new(roots)
    }

    /// The daemon's kind of verifier: the CA as the only root, optionally a CRL.
    fn client_verifier(ca: &Ca, crl_pem: Option<&str>) -> Arc<dyn ClientCertVerifier> {
        let mut builder = WebPkiClientVerifier::builder_with_provider(roots(ca), provider());
        if let Some(pem) = crl_pem {
            builder =
                builder.with_crls([CertificateRevocationListDer::from_pem_slice(pem.as_bytes()).unwrap()]);
        }
        builder.build().unwrap()
    }

    fn verify_client(verifier: &dyn ClientCertVerifier, issued: &Issued) -> Result<(), rustls::Error> {
        verifier
            .verify_client_cert(&CertificateDer::from(issued.der.clone()), &[], UnixTime::now())
            .map(|_| ())
    }

    fn attr<'a>(
        cert: &'a x509_parser::certificate::X509Certificate<'_>,
        oid: &x509_parser::oid_registry::Oid<'a>,
    ) -> Vec<&'a str> {
        cert.subject().iter_by_oid(oid).map(|a| a.as_str().unwrap()).collect()
    }

    #[test]
    fn client_with_oin_carries_it_in_subject_serial_number() {
        let ca = Ca::new("meldpunt demo CA").unwrap();
        let issued = ca.client("zilveren-kruis", Some(OIN)).unwrap();
        let (rest, cert) = x509_parser::parse_x509_certificate(&issued.der).unwrap();
        assert!(rest.is_empty());
        assert_eq!(attr(&cert, &OID_X509_SERIALNUMBER), [OIN]);
        assert_eq!(attr(&cert, &OID_X509_COMMON_NAME), ["zilveren-kruis"]);
        assert!(cert.subject().to_string().contains("NOT FOR PRODUCTION"));
        let eku = cert.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.client_auth && !eku.server_auth);
        assert!(!cert.is_ca());
        assert_eq!(cert.raw_serial(), issued.serial.as_slice());
        assert_eq!(issued.serial.len(), 16);
        assert!(issued.serial[0] > 0 && issued.serial[0] < 0x80);
        assert_eq!(
            cert.issuer().to_string(),
            x509_parser::parse_x509_certificate(&ca.cert_der()).unwrap().1.subject().to_string()
        );
        // PEM and DER agree; the fingerprint is SHA-256 of the DER in lowercase hex.
        assert_eq!(
            CertificateDer::from_pem_slice(issued.cert_pem.as_bytes()).unwrap().as_ref(),
            issued.der.as_slice()
        );
        let fp = issued.fingerprint();
        assert_eq!(fp.len(), 64);
        assert!(fp.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_eq!(fp, hex::encode(Sha256::digest(&issued.der)));
    }

    #[test]
    fn client_without_oin_has_no_serial_number_attribute_and_bad_oins_are_refused() {
        let ca = Ca::new("meldpunt demo CA").unwrap();
        let issued = ca.client("woonstad", None).unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&issued.der).unwrap();
        assert!(attr(&cert, &OID_X509_SERIALNUMBER).is_empty());
        for bad in ["123", "0000000182328844400a", "000000018232884440001"] {
            assert!(ca.client("x", Some(bad)).is_err(), "{bad}");
        }
        // Serials are random.
        assert_ne!(issued.serial, ca.client("woonstad", None).unwrap().serial);
    }

    #[test]
    fn client_chaining_to_the_ca_is_accepted() {
        let ca = Ca::new("meldpunt demo CA").unwrap();
        let issued = ca.client("woonstad", None).unwrap();
        verify_client(&*client_verifier(&ca, None), &issued).unwrap();
        // With an empty CRL from the same CA as well.
        let crl = ca.crl(&[], 1).unwrap();
        verify_client(&*client_verifier(&ca, Some(&crl)), &issued).unwrap();
        let with_oin = ca.client("zilveren-kruis", Some(OIN)).unwrap();
        verify_client(&*client_verifier(&ca, Some(&crl)), &with_oin).unwrap();
    }

    #[test]
    fn client_revoked_by_crl_is_rejected() {
        let ca = Ca::new("meldpunt demo CA").unwrap();
        let revoked = ca.client("woonstad", None).unwrap();
        let other = ca.client("vitens", None).unwrap();
        let crl = ca.crl(&[&revoked.serial], 2).unwrap();
        let verifier = client_verifier(&ca, Some(&crl));
        let err = verify_client(&*verifier, &revoked).unwrap_err();
        assert_eq!(err, rustls::Error::InvalidCertificate(CertificateError::Revoked));
        verify_client(&*verifier, &other).unwrap();
    }

    #[test]
    fn expired_client_is_rejected() {
        let ca = Ca::new("meldpunt demo CA").unwrap();
        let day = Duration::from_secs(24 * 3600);
        let now = SystemTime::now();
        let expired = ca.client_valid("woonstad", None, now - 30 * day, now - day).unwrap();
        let err = verify_client(&*client_verifier(&ca, None), &expired).unwrap_err();
        assert!(
            matches!(
                err,
                rustls::Error::InvalidCertificate(
                    CertificateError::Expired | CertificateError::ExpiredContext { .. }
                )
            ),
            "{err:?}"
        );
        let future = ca.client_valid("woonstad", None, now + day, now + 30 * day).unwrap();
        assert!(verify_client(&*client_verifier(&ca, None), &future).is_err());
        assert!(ca.client_valid("woonstad", None, now, now - day).is_err());
    }

    #[test]
    fn client_from_another_ca_is_rejected() {
        let ca = Ca::new("meldpunt demo CA").unwrap();
        // A CA with another name: no issuer found.
        let stranger = Ca::new("another CA").unwrap();
        let issued = stranger.client("woonstad", None).unwrap();
        let err = verify_client(&*client_verifier(&ca, None), &issued).unwrap_err();
        assert_eq!(err, rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer));
        // A CA with the same name but its own key (an impostor): the signature does not verify.
        let impostor = Ca::new("meldpunt demo CA").unwrap();
        let issued = impostor.client("woonstad", None).unwrap();
        let err = verify_client(&*client_verifier(&ca, None), &issued).unwrap_err();
        assert_eq!(err, rustls::Error::InvalidCertificate(CertificateError::BadSignature));
        // A CRL from the other CA does not make the daemon's CA accept anything either.
        let crl = stranger.crl(&[], 1).unwrap();
        assert!(verify_client(&*client_verifier(&ca, Some(&crl)), &ca.client("w", None).unwrap()).is_err());
    }

    #[test]
    fn server_certificate_verifies_for_its_dns_and_ip_names() {
        let ca = Ca::new("meldpunt demo CA").unwrap();
        let server = ca.server(&["localhost", "127.0.0.1"]).unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&server.der).unwrap();
        let eku = cert.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.server_auth && !eku.client_auth);
        let verifier = WebPkiServerVerifier::builder_with_provider(roots(&ca), provider()).build().unwrap();
        let der = CertificateDer::from(server.der.clone());
        for name in ["localhost", "127.0.0.1"] {
            let name = ServerName::try_from(name).unwrap();
            verifier.verify_server_cert(&der, &[], &name, &[], UnixTime::now()).unwrap();
        }
        let wrong = ServerName::try_from("example.org").unwrap();
        assert!(verifier.verify_server_cert(&der, &[], &wrong, &[], UnixTime::now()).is_err());
        // A client certificate is no server certificate.
        let client = CertificateDer::from(ca.client("localhost", None).unwrap().der);
        let localhost = ServerName::try_from("localhost").unwrap();
        assert!(verifier.verify_server_cert(&client, &[], &localhost, &[], UnixTime::now()).is_err());
        assert!(ca.server(&[]).is_err());
    }

    #[test]
    fn crl_carries_number_validity_and_serials() {
        let ca = Ca::new("meldpunt demo CA").unwrap();
        let issued = ca.client("woonstad", None).unwrap();
        let pem = ca.crl(&[&issued.serial], 7).unwrap();
        assert!(pem.starts_with("-----BEGIN X509 CRL-----"));
        let der = CertificateRevocationListDer::from_pem_slice(pem.as_bytes()).unwrap();
        let (_, crl) = x509_parser::parse_x509_crl(&der).unwrap();
        assert_eq!(crl.crl_number().map(|n| n.to_string()), Some("7".to_owned()));
        let next = crl.next_update().unwrap().timestamp();
        assert_eq!(next - crl.last_update().timestamp(), 7 * 24 * 3600);
        let serials: Vec<&[u8]> = crl.iter_revoked_certificates().map(|r| r.raw_serial()).collect();
        assert_eq!(serials, [issued.serial.as_slice()]);
    }

    #[test]
    fn write_and_reload() {
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::new("meldpunt demo CA").unwrap();
        let (ca_crt, ca_key) = (dir.path().join("pki/ca.crt"), dir.path().join("pki/ca.key"));
        ca.write(&ca_crt, &ca_key).unwrap();
        let issued = ca.client("woonstad", None).unwrap();
        let (crt, key) =
            (dir.path().join("clients/woonstad/tls.crt"), dir.path().join("clients/woonstad/tls.key"));
        issued.write(&crt, &key).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&key), 0o600);
        assert_eq!(mode(&ca_key), 0o600);
        assert_eq!(std::fs::read_to_string(&crt).unwrap(), issued.cert_pem);
        assert_eq!(std::fs::read_to_string(&key).unwrap(), issued.key_pem);
        // Overwriting works (atomic replace).
        issued.write(&crt, &key).unwrap();

        // A reloaded CA keeps its exact certificate and issues certificates the original trusts.
        let reloaded = Ca::from_pem(
            &std::fs::read_to_string(&ca_crt).unwrap(),
            &std::fs::read_to_string(&ca_key).unwrap(),
        )
        .unwrap();
        assert_eq!(reloaded.cert_der(), ca.cert_der());
        let later = reloaded.client("vitens", None).unwrap();
        let crl = reloaded.crl(&[&issued.serial], 2).unwrap();
        let verifier = client_verifier(&ca, Some(&crl));
        verify_client(&*verifier, &later).unwrap();
        assert!(verify_client(&*verifier, &issued).is_err());
        // A key that does not belong to the certificate is refused.
        let other = Ca::new("other").unwrap();
        assert!(Ca::from_pem(&ca.cert_pem(), &other.key_pem()).is_err());
    }

    /// Interoperability with the reference tool operators use by hand: `openssl verify` (which,
    /// unlike webpki, also matches authority and subject key identifiers) accepts the chain,
    /// honours the CRL and shows the OIN as the subject serialNumber. Skipped without openssl.
    #[test]
    fn openssl_accepts_the_chain_and_the_crl() {
        use std::process::Command;
        if Command::new("openssl").arg("version").output().is_err() {
            eprintln!("openssl not installed; skipped");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let p = |name: &str| dir.path().join(name);
        let ca = Ca::new("meldpunt demo CA").unwrap();
        ca.write(&p("ca.crt"), &p("ca.key")).unwrap();
        let ok = ca.client("zilveren-kruis", Some(OIN)).unwrap();
        ok.write(&p("ok.crt"), &p("ok.key")).unwrap();
        let revoked = ca.client("woonstad", None).unwrap();
        revoked.write(&p("revoked.crt"), &p("revoked.key")).unwrap();
        let server = ca.server(&["localhost", "127.0.0.1"]).unwrap();
        server.write(&p("server.crt"), &p("server.key")).unwrap();
        std::fs::write(p("crl.pem"), ca.crl(&[&revoked.serial], 1).unwrap()).unwrap();
        let verify = |purpose: &str, cert: &str| {
            let out = Command::new("openssl")
                .args(["verify", "-x509_strict", "-purpose", purpose, "-crl_check", "-CAfile"])
                .arg(p("ca.crt"))
                .arg("-CRLfile")
                .arg(p("crl.pem"))
                .arg(p(cert))
                .output()
                .unwrap();
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
            )
        };
        let (ok_status, text) = verify("sslclient", "ok.crt");
        assert!(ok_status, "{text}");
        let (server_status, text) = verify("sslserver", "server.crt");
        assert!(server_status, "{text}");
        let (revoked_status, text) = verify("sslclient", "revoked.crt");
        assert!(!revoked_status && text.contains("revoked"), "{text}");
        let out = Command::new("openssl")
            .args(["x509", "-noout", "-subject", "-nameopt", "RFC2253", "-fingerprint", "-sha256", "-in"])
            .arg(p("ok.crt"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_lowercase();
        assert!(text.contains(&format!("serialnumber={OIN}")), "{text}");
        assert!(text.replace(':', "").contains(&ok.fingerprint()), "{text}");
        // The key files are PKCS#8 that openssl reads, and each belongs to its certificate.
        let pubkey = |args: &[&str], file: &str| {
            Command::new("openssl").args(args).arg(p(file)).output().unwrap().stdout
        };
        assert_eq!(
            pubkey(&["pkey", "-pubout", "-in"], "ok.key"),
            pubkey(&["x509", "-noout", "-pubkey", "-in"], "ok.crt")
        );
    }

    /// The published examples (`certs-example/tls`, made by its `regen.sh` with openssl) work
    /// with the daemon's kind of verifier, and FINGERPRINTS tells the truth about them.
    #[test]
    fn certs_example_tls_files_verify_and_match_fingerprints() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("certs-example/tls");
        let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
        let ca = CertificateDer::from_pem_slice(&read("ca-NOT-FOR-PRODUCTION.crt")).unwrap();
        let mut roots = RootCertStore::empty();
        roots.add(ca).unwrap();
        let roots = Arc::new(roots);
        let crl = CertificateRevocationListDer::from_pem_slice(&read("crl-NOT-FOR-PRODUCTION.pem")).unwrap();
        let verifier = WebPkiClientVerifier::builder_with_provider(roots.clone(), provider())
            .with_crls([crl])
            .enforce_revocation_expiration()
            .build()
            .unwrap();
        let listed = String::from_utf8(read("FINGERPRINTS")).unwrap();
        let mut parties = 0;
        for line in listed.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
            let [party, fingerprint, oin] = line.split_whitespace().collect::<Vec<_>>()[..] else {
                panic!("bad FINGERPRINTS line {line:?}")
            };
            let der =
                CertificateDer::from_pem_slice(&read(&format!("{party}-NOT-FOR-PRODUCTION.crt"))).unwrap();
            // The key belongs to the certificate (and is PKCS#8 that rcgen/rustls read).
            let key = KeyPair::from_pem(
                &String::from_utf8(read(&format!("{party}-NOT-FOR-PRODUCTION.key"))).unwrap(),
            )
            .unwrap();
            let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
            assert_eq!(cert.public_key().subject_public_key.data.as_ref(), key.public_key_raw(), "{party}");
            verifier
                .verify_client_cert(&der, &[], UnixTime::now())
                .unwrap_or_else(|e| panic!("{party}: {e}"));
            assert_eq!(hex::encode(Sha256::digest(&der)), fingerprint, "{party}");
            assert_eq!(attr(&cert, &OID_X509_COMMON_NAME), [party]);
            let expected: Vec<&str> = if oin == "-" { vec![] } else { vec![oin] };
            assert_eq!(attr(&cert, &OID_X509_SERIALNUMBER), expected, "{party}");
            parties += 1;
        }
        assert!(parties >= 2);
        let server = CertificateDer::from_pem_slice(&read("server-NOT-FOR-PRODUCTION.crt")).unwrap();
        let verifier = WebPkiServerVerifier::builder_with_provider(roots, provider()).build().unwrap();
        for name in ["localhost", "127.0.0.1"] {
            let name = ServerName::try_from(name).unwrap();
            verifier.verify_server_cert(&server, &[], &name, &[], UnixTime::now()).unwrap();
        }
    }
}
