//! The TLS side of HTTPS: the rustls server configuration, client-certificate verification
//! with CRLs, and reloading when a file it is built from (server certificate, key, client
//! CAs, CRLs) changes at its path.
//!
//! - Client certificates must carry the extended key usage clientAuth
//!   ([`super::client_purpose`]); one without it is refused at the handshake.
//! - TLS 1.3, and TLS 1.2 only with ECDHE and AEAD suites (AES-GCM, ChaCha20-Poly1305), the
//!   NCSC "good" set. rustls has no CBC suites, no renegotiation; 0-RTT stays off. Groups:
//!   X25519MLKEM768 (TLS 1.3 only), X25519, secp256r1, secp384r1; no finite-field DH.
//! - No session resumption at all (no session cache, no tickets): a resumed session would
//!   restore a peer certificate without checking the current CRL.
//! - A CRL past its `nextUpdate` fails every client verification (fail closed,
//!   `enforce_revocation_expiration`): new handshakes and requests on open connections are
//!   refused until a current CRL is in place; `server` warns and sets `meldpunt_crl_stale`.
//! - When one of those files changes, a new configuration is built and used for every new
//!   handshake (a renewed server certificate is served from the next handshake on), and the
//!   generation counter moves on: requests on connections verified under an older generation
//!   re-verify their certificate with the new verifier (see `server`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use anyhow::Context;
use rustls::crypto::{CryptoProvider, aws_lc_rs};
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::ClientCertVerifier;
use rustls::server::{NoServerSessionStorage, WebPkiClientVerifier};
use rustls::{RootCertStore, ServerConfig};
use sha2::{Digest, Sha256};

use crate::config::HttpsConfig;
use crate::config::pki::next_update;
use crate::config::tls::{load_certs, load_crls, load_key};

/// The crypto provider: aws-lc-rs with only the NCSC "good" suites and groups, the
/// post-quantum hybrid group first (pinned by `tests/offer.rs`).
pub fn provider() -> Arc<CryptoProvider> {
    use aws_lc_rs::cipher_suite as cs;
    use aws_lc_rs::kx_group as kx;
    Arc::new(CryptoProvider {
        cipher_suites: vec![
            cs::TLS13_AES_256_GCM_SHA384,
            cs::TLS13_AES_128_GCM_SHA256,
            cs::TLS13_CHACHA20_POLY1305_SHA256,
            cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        ],
        kx_groups: vec![kx::X25519MLKEM768, kx::X25519, kx::SECP256R1, kx::SECP384R1],
        ..aws_lc_rs::default_provider()
    })
}

/// One loaded configuration.
pub struct Loaded {
    /// For new handshakes.
    pub server: Arc<ServerConfig>,
    /// The client verifier inside it, to re-verify older connections.
    pub verifier: Arc<dyn ClientCertVerifier>,
    /// Increases with every reload.
    pub generation: u64,
    /// The earliest `nextUpdate` of its CRLs (Unix seconds), if any has one.
    pub crl_next_update: Option<i64>,
}

impl Loaded {
    /// Verifies a client chain (end entity first) against the CAs and CRLs of this generation.
    pub fn verify(&self, chain: &[CertificateDer<'static>]) -> Result<(), rustls::Error> {
        let (end, rest) = chain.split_first().ok_or(rustls::Error::NoCertificatesPresented)?;
        self.verifier.verify_client_cert(end, rest, UnixTime::now()).map(|_| ())
    }

    /// The passed `nextUpdate` (Unix seconds) if a CRL of this generation is stale at `now`.
    pub fn crl_stale_since(&self, now: i64) -> Option<i64> {
        self.crl_next_update.filter(|next| *next < now)
    }
}

/// Builds the configuration from the files named in `cfg`.
pub fn build(cfg: &HttpsConfig, generation: u64) -> anyhow::Result<Loaded> {
    let provider = provider();
    let mut roots = RootCertStore::empty();
    for path in &cfg.client_ca {
        let certs =
            load_certs(path).map_err(anyhow::Error::msg).with_context(|| path.display().to_string())?;
        for c in certs {
            roots.add(c).with_context(|| format!("{}: not a usable CA certificate", path.display()))?;
        }
    }
    let mut crls = Vec::new();
    for path in &cfg.crl {
        crls.extend(load_crls(path).map_err(anyhow::Error::msg).with_context(|| path.display().to_string())?);
    }
    let mut crl_next_update = None;
    for crl in &crls {
        if let Some(next) =
            next_update(crl).map_err(anyhow::Error::msg).context("reading a CRL's nextUpdate")?
        {
            crl_next_update = Some(crl_next_update.map_or(next, |n: i64| n.min(next)));
        }
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .with_crls(crls)
        .enforce_revocation_expiration()
        .build()
        .context("building the client certificate verifier")?;
    let verifier = super::client_purpose::ClientAuthRequired::wrap(verifier);
    let chain = load_certs(&cfg.cert).map_err(anyhow::Error::msg).context("server certificate")?;
    let key = load_key(&cfg.key).map_err(anyhow::Error::msg).context("server key")?;
    let mut server = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .context("TLS versions")?
        .with_client_cert_verifier(verifier.clone())
        .with_single_cert(chain, key)
        .context("the server certificate and key do not belong together")?;
    server.session_storage = Arc::new(NoServerSessionStorage {});
    server.send_tls13_tickets = 0;
    server.max_early_data_size = 0;
    // HTTP/1.1 only: uploads are single large streams, and an early answer (400, 413) to an
    // HTTP/2 stream resets it, which some clients report as a framing error instead of
    // showing the answer.
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Loaded { server: Arc::new(server), verifier, generation, crl_next_update })
}

/// The current configuration, swapped when one of its files changes.
pub struct Reloading {
    cfg: HttpsConfig,
    current: RwLock<Arc<Loaded>>,
    generation: AtomicU64,
    stamps: RwLock<Vec<Stamp>>,
}

/// A file the configuration is built from: its role (`cert`, `key`, `client_ca`, `crl`) and
/// the SHA-256 of its contents (`None`: unreadable).
type Stamp = (&'static str, Option<[u8; 32]>);

impl Reloading {
    /// Loads the first generation.
    pub fn new(cfg: HttpsConfig) -> anyhow::Result<Reloading> {
        let loaded = build(&cfg, 0)?;
        let stamps = stamps(&cfg);
        Ok(Reloading {
            cfg,
            current: RwLock::new(Arc::new(loaded)),
            generation: AtomicU64::new(0),
            stamps: RwLock::new(stamps),
        })
    }

    /// The configuration for the next handshake or re-verification.
    pub fn current(&self) -> Arc<Loaded> {
        self.current.read().expect("not poisoned").clone()
    }

    /// Reloads if a file changed: the roles of those that did (`cert`, `key`, `client_ca`,
    /// `crl`; empty when none did), a new generation then in use. On error the previous
    /// generation stays (its CRLs are still enforced) until a file changes again.
    pub fn check(&self) -> anyhow::Result<Vec<&'static str>> {
        let now = stamps(&self.cfg);
        let before = std::mem::replace(&mut *self.stamps.write().expect("not poisoned"), now.clone());
        let mut changed: Vec<&'static str> =
            now.iter().zip(&before).filter(|(a, b)| a != b).map(|(a, _)| a.0).collect();
        changed.dedup();
        if changed.is_empty() {
            return Ok(changed);
        }
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let loaded = build(&self.cfg, generation)?;
        *self.current.write().expect("not poisoned") = Arc::new(loaded);
        Ok(changed)
    }

    /// How often to call [`Reloading::check`].
    pub fn interval(&self) -> std::time::Duration {
        self.cfg.crl_check
    }
}

/// The role and content hash of each file, as a change detector.
fn stamps(cfg: &HttpsConfig) -> Vec<Stamp> {
    let hash = |p: &std::path::Path| std::fs::read(p).ok().map(|b| <[u8; 32]>::from(Sha256::digest(b)));
    let files = [("cert", &cfg.cert), ("key", &cfg.key)]
        .into_iter()
        .chain(cfg.client_ca.iter().map(|p| ("client_ca", p)))
        .chain(cfg.crl.iter().map(|p| ("crl", p)));
    files.map(|(role, p)| (role, hash(p))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every suite and group, also the `ECDHE_RSA` ones `tests/offer.rs` cannot see with the
    /// demo's ECDSA certificate: a change must be made here on purpose.
    #[test]
    fn the_offer_is_pinned() {
        let p = provider();
        let suites: Vec<String> = p.cipher_suites.iter().map(|s| format!("{:?}", s.suite())).collect();
        assert_eq!(
            suites,
            [
                "TLS13_AES_256_GCM_SHA384",
                "TLS13_AES_128_GCM_SHA256",
                "TLS13_CHACHA20_POLY1305_SHA256",
                "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            ]
        );
        let groups: Vec<String> = p.kx_groups.iter().map(|g| format!("{:?}", g.name())).collect();
        assert_eq!(groups, ["X25519MLKEM768", "X25519", "secp256r1", "secp384r1"]);
    }
}
