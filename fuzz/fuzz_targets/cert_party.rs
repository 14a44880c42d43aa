//! The certificate-to-party mapping: `transport::https::identity::PeerCert::read` on arbitrary
//! DER as a chain's leaf, then `Config::party_for_certificate` with the example configuration
//! (config/meldpunt.toml: woonstad by fingerprint, vitens and GM0505 by OIN). A party is only
//! ever found through its own fingerprint or OIN.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use meldpunt::config::{Config, TlsIdentity};
use meldpunt::domain::party::PartyId;
use meldpunt::transport::https::identity::PeerCert;
use rustls_pki_types::CertificateDer;
use sha2::{Digest, Sha256};

fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../config/meldpunt.toml");
        Config::load(path.as_ref()).unwrap_or_else(|p| panic!("{p}"))
    })
}

fuzz_target!(|data: &[u8]| {
    let cfg = config();
    let peer = PeerCert::read(&CertificateDer::from(data));
    let fingerprint: [u8; 32] = Sha256::digest(data).into();
    assert_eq!(peer.fingerprint, fingerprint);
    assert_eq!(peer.fingerprint_hex().len(), 64);
    if let Some(oin) = &peer.oin {
        assert!(oin.len() == 20 && oin.bytes().all(|b| b.is_ascii_digit()), "{oin:?}");
    }
    let Some(party) = cfg.party_for_certificate(&peer.fingerprint, peer.oin.as_deref()) else { return };
    let tls = match &party {
        PartyId::Creditor(id) => &cfg.creditor(id).expect("a configured creditor").tls,
        PartyId::Municipality(code) => &cfg.municipality(code).expect("a configured municipality").tls,
    };
    match tls {
        TlsIdentity::None => panic!("{party:?} has no TLS identity but was found"),
        TlsIdentity::Fingerprints(fps) => assert!(fps.contains(&peer.fingerprint), "{party:?}"),
        TlsIdentity::Oin(o) => assert_eq!(peer.oin.as_deref(), Some(o.as_str()), "{party:?}"),
    }
});
