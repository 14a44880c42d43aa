//! What the `[https]` PKI files say about themselves, for `meldpunt check`
//! (docs/commands.md "check"): the server key belongs to the server certificate, certificates
//! (server and client CAs) are within their validity, and CRLs are not past `nextUpdate`.
//! The daemon enforces CRL freshness itself at every handshake (`transport/https/tls.rs`).

use std::path::Path;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use x509_parser::prelude::FromDer as _;

use super::tls::{load_certs, load_crls, load_key};
use super::{HttpsConfig, Problem};

/// A certificate that ends within this long is a warning.
pub const EXPIRY_WARNING: Duration = Duration::from_secs(30 * 24 * 3600);

/// What the check found: errors fail `meldpunt check`, warnings are printed only.
#[derive(Debug, Default)]
pub struct Findings {
    /// Problems the daemon would run into (an expired certificate, a key that does not
    /// match, a stale CRL).
    pub errors: Vec<Problem>,
    /// Things that will become errors soon (a certificate that ends within 30 days).
    pub warnings: Vec<Problem>,
}

/// Checks the files `https` names at `now` (Unix seconds). Unreadable files are left to the
/// configuration check, which reports them.
pub fn check(https: &HttpsConfig, now: i64) -> Findings {
    let mut f = Findings::default();
    if let Ok(chain) = load_certs(&https.cert) {
        if let Some(leaf) = chain.first() {
            f.validity(&https.cert, leaf, now, "server certificate", SERVER_CERT_FIX);
        }
        if let Ok(key) = load_key(&https.key) {
            let provider = rustls::crypto::aws_lc_rs::default_provider();
            if let Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) =
                rustls::sign::CertifiedKey::from_der(chain, key, &provider)
            {
                f.errors.push(Problem::whole_file(
                    &https.key,
                    format!("this key does not belong to the server certificate {}", https.cert.display()),
                    "give the key the certificate was issued for (openssl x509 -noout -pubkey -in CERT and openssl pkey -pubout -in KEY must print the same)",
                ));
            }
        }
    }
    for path in &https.client_ca {
        for ca in load_certs(path).unwrap_or_default() {
            f.validity(path, &ca, now, "client CA certificate", CA_FIX);
        }
    }
    for path in &https.crl {
        for crl in load_crls(path).unwrap_or_default() {
            match next_update(&crl) {
                Ok(Some(next)) if next < now => f.errors.push(Problem::whole_file(
                    path,
                    format!(
                        "this CRL is stale: its nextUpdate {} has passed, so the daemon refuses every HTTPS handshake",
                        date(next)
                    ),
                    "put the current CRL from your CA in its place (the daemon rereads it within crl_check_secs)",
                )),
                Ok(Some(_)) => {}
                Ok(None) => f.warnings.push(Problem::whole_file(
                    path,
                    "this CRL has no nextUpdate, so nobody can tell when it is stale",
                    "ask your CA for CRLs with a nextUpdate (RFC 5280 requires one)",
                )),
                Err(e) => f.errors.push(Problem::whole_file(path, format!("cannot parse this CRL: {e}"), CRL_FIX)),
            }
        }
    }
    f
}

/// `nextUpdate` of a DER CRL, Unix seconds (`None`: the CRL has none).
pub fn next_update(der: &[u8]) -> Result<Option<i64>, String> {
    crl_updates(der).map(|(_, next)| next)
}

/// A certificate's serial number (hex) and `notAfter` (Unix seconds); `None` if it does not
/// parse.
pub fn serial_and_not_after(der: &[u8]) -> Option<(String, i64)> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some((cert.raw_serial_as_string().replace(':', ""), cert.validity().not_after.timestamp()))
}

/// A DER CRL's `thisUpdate` and `nextUpdate` (Unix seconds; `None`: it has none).
pub fn crl_updates(der: &[u8]) -> Result<(i64, Option<i64>), String> {
    let (_, crl) =
        x509_parser::revocation_list::CertificateRevocationList::from_der(der).map_err(|e| e.to_string())?;
    Ok((crl.last_update().timestamp(), crl.next_update().map(|t| t.timestamp())))
}

const SERVER_CERT_FIX: &str = "renew the server certificate with your CA and put it (and its key) in place";
const CA_FIX: &str = "replace the CA certificate with its renewed one from the CA (client certificates under an expired CA are all refused)";
const CRL_FIX: &str = "give the CRL your CA publishes, in PEM or DER";

impl Findings {
    /// An error for a certificate outside its validity, a warning for one ending soon.
    fn validity(&mut self, path: &Path, der: &CertificateDer<'_>, now: i64, what: &str, fix: &str) {
        let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
            self.errors.push(Problem::whole_file(path, format!("cannot parse the {what}"), fix));
            return;
        };
        let subject = cert.subject().to_string();
        let (from, until) = (cert.validity().not_before.timestamp(), cert.validity().not_after.timestamp());
        if until < now {
            let msg = format!("the {what} {subject} expired on {}", date(until));
            self.errors.push(Problem::whole_file(path, msg, fix));
        } else if from > now {
            let msg = format!("the {what} {subject} is not valid before {}", date(from));
            self.errors.push(Problem::whole_file(path, msg, fix));
        } else if until - now < EXPIRY_WARNING.as_secs() as i64 {
            let msg = format!("the {what} {subject} expires on {}, within 30 days", date(until));
            self.warnings.push(Problem::whole_file(path, msg, fix));
        }
    }
}

/// A Unix time as an RFC 3339 UTC timestamp.
fn date(unix: i64) -> String {
    jiff::Timestamp::from_second(unix).map_or_else(|_| unix.to_string(), |t| t.to_string())
}
