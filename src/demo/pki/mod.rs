//! A small demo and test PKI (rcgen, ECDSA P-256): a self-signed CA, server and client
//! certificates issued by it, and CRLs it signs. Used by `meldpunt demo` and the integration
//! tests (`meldpunt::demo::pki`). Everything it makes says "NOT FOR PRODUCTION" in its subject.
//!
//! Client certificates map to a party by fingerprint (SHA-256 of the DER, [`Issued::fingerprint`])
//! or by the OIN that [`Ca::client`] puts in the subject `serialNumber` (2.5.4.5), as
//! PKIoverheid/Digikoppeling certificates carry it (docs/parties.md).

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

use crate::durable;

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
        self.server_valid(names, SystemTime::now() - BACKDATE, SystemTime::now() + LEAF_VALIDITY)
    }

    /// Like [`Ca::server`] with an explicit validity, e.g. one that has already ended (the
    /// tests of `meldpunt check`).
    pub fn server_valid(
        &self,
        names: &[&str],
        not_before: SystemTime,
        not_after: SystemTime,
    ) -> anyhow::Result<Issued> {
        let Some(first) = names.first() else { bail!("a server certificate needs at least one name") };
        if not_after <= not_before {
            bail!("not_after must lie after not_before");
        }
        let mut params = base_params(first, not_before, not_after);
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
        self.client_for(cn, oin, not_before, not_after, vec![ExtendedKeyUsagePurpose::ClientAuth])
    }

    /// Like [`Ca::client`] with other extended key usages than clientAuth (none at all when
    /// empty): certificates meldpunt must refuse as client certificates (the tests of that).
    pub fn client_with_purposes(
        &self,
        cn: &str,
        oin: Option<&str>,
        purposes: Vec<ExtendedKeyUsagePurpose>,
    ) -> anyhow::Result<Issued> {
        self.client_for(cn, oin, SystemTime::now() - BACKDATE, SystemTime::now() + LEAF_VALIDITY, purposes)
    }

    fn client_for(
        &self,
        cn: &str,
        oin: Option<&str>,
        not_before: SystemTime,
        not_after: SystemTime,
        purposes: Vec<ExtendedKeyUsagePurpose>,
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
        params.extended_key_usages = purposes;
        self.issue(params)
    }

    /// A CRL signed by this CA, PEM: `thisUpdate` now, `nextUpdate` now + 7 days, CRL number
    /// `number`, revoking `revoked_serials` (as in [`Issued::serial`], reason keyCompromise).
    pub fn crl(&self, revoked_serials: &[&[u8]], number: u64) -> anyhow::Result<String> {
        let now = SystemTime::now();
        self.crl_dated(revoked_serials, number, now, now + CRL_VALIDITY)
    }

    /// Like [`Ca::crl`] with explicit `thisUpdate` and `nextUpdate`, e.g. a stale CRL whose
    /// `nextUpdate` has passed (the tests of CRL freshness).
    pub fn crl_dated(
        &self,
        revoked_serials: &[&[u8]],
        number: u64,
        this_update: SystemTime,
        next_update: SystemTime,
    ) -> anyhow::Result<String> {
        let now = this_update;
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
            this_update: this_update.into(),
            next_update: next_update.into(),
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
            durable::create_private_dir(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
    }
    durable::write_atomic(key, key_pem.as_bytes(), true)
        .with_context(|| format!("writing {}", key.display()))?;
    durable::write_atomic(cert, cert_pem.as_bytes(), false)
        .with_context(|| format!("writing {}", cert.display()))
}

#[cfg(test)]
mod tests;
