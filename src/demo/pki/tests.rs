//! Tests of the parent module.
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
        builder = builder.with_crls([CertificateRevocationListDer::from_pem_slice(pem.as_bytes()).unwrap()]);
    }
    builder.build().unwrap()
}

fn verify_client(verifier: &dyn ClientCertVerifier, issued: &Issued) -> Result<(), rustls::Error> {
    verifier.verify_client_cert(&CertificateDer::from(issued.der.clone()), &[], UnixTime::now()).map(|_| ())
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
    let reloaded =
        Ca::from_pem(&std::fs::read_to_string(&ca_crt).unwrap(), &std::fs::read_to_string(&ca_key).unwrap())
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
    let pubkey =
        |args: &[&str], file: &str| Command::new("openssl").args(args).arg(p(file)).output().unwrap().stdout;
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
        let der = CertificateDer::from_pem_slice(&read(&format!("{party}-NOT-FOR-PRODUCTION.crt"))).unwrap();
        // The key belongs to the certificate (and is PKCS#8 that rcgen/rustls read).
        let key =
            KeyPair::from_pem(&String::from_utf8(read(&format!("{party}-NOT-FOR-PRODUCTION.key"))).unwrap())
                .unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        assert_eq!(cert.public_key().subject_public_key.data.as_ref(), key.public_key_raw(), "{party}");
        verifier.verify_client_cert(&der, &[], UnixTime::now()).unwrap_or_else(|e| panic!("{party}: {e}"));
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
