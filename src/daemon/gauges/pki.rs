//! The HTTPS PKI files as they are on disk (the listener serves what they hold from the next
//! handshake after a change): seconds until the server certificate and each client CA
//! certificate end, and each CRL's age and time to its `nextUpdate`.

use std::path::Path;

use crate::config::HttpsConfig;
use crate::config::pki::{crl_updates, serial_and_not_after};
use crate::config::tls::{load_certs, load_crls};
use crate::metrics::text::Text;

/// Renders the certificate and CRL families for the files `https` names, at `now` (Unix s).
pub(super) fn render(https: &HttpsConfig, now: i64, t: &mut Text) {
    let help = "Seconds until a certificate's notAfter (negative: expired), the server certificate and each client CA.";
    t.family("meldpunt_tls_certificate_expiry_seconds", "gauge", help);
    let server = load_certs(&https.cert).unwrap_or_default();
    let cas = https
        .client_ca
        .iter()
        .flat_map(|p| load_certs(p).unwrap_or_default().into_iter().map(move |c| (p, c)));
    for (role, path, der) in server
        .first()
        .map(|c| ("server", &https.cert, c.clone()))
        .into_iter()
        .chain(cas.map(|(p, c)| ("client_ca", p, c)))
    {
        if let Some((serial, not_after)) = serial_and_not_after(&der) {
            let file = name(path);
            t.sample_f64(&[("role", role), ("file", &file), ("serial", &serial)], (not_after - now) as f64);
        }
    }
    // A file may hold several CRLs: the second and later are labelled `<file>#2`, … so that
    // every series stays unique.
    let crls: Vec<(String, i64, Option<i64>)> = https
        .crl
        .iter()
        .flat_map(|p| {
            load_crls(p).unwrap_or_default().into_iter().enumerate().map(move |(i, c)| {
                let file = if i == 0 { name(p) } else { format!("{}#{}", name(p), i + 1) };
                (file, c)
            })
        })
        .filter_map(|(file, der)| crl_updates(&der).ok().map(|(this, next)| (file, this, next)))
        .collect();
    t.family("meldpunt_crl_age_seconds", "gauge", "Seconds since a CRL's thisUpdate.");
    for (file, this, _) in &crls {
        t.sample_f64(&[("file", file)], (now - this) as f64);
    }
    let help = "Seconds until a CRL's nextUpdate (negative: stale, every HTTPS handshake is refused).";
    t.family("meldpunt_crl_next_update_seconds", "gauge", help);
    for (file, _, next) in &crls {
        if let Some(next) = next {
            t.sample_f64(&[("file", file)], (next - now) as f64);
        }
    }
}

/// A file's label: its path as the configuration resolves it.
fn name(path: &Path) -> String {
    path.display().to_string()
}
