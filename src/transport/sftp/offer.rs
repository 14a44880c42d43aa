//! What the SSH server offers in its KEXINIT: modern algorithms only (issue 20, item 7;
//! docs/folders-and-protocols.md "SSH algorithms"). `tests/offer.rs` reads the offer off the
//! wire and compares it with a pinned list, so a change here must be made on purpose there too.
//!
//! - Key exchange: the post-quantum hybrid `mlkem768x25519-sha256` first, then Curve25519
//!   (both names; paramiko only knows the `@libssh.org` one). No finite-field
//!   `diffie-hellman-group*` at all: a group18 handshake costs the server hundreds of
//!   milliseconds of CPU before any login (DHEat), and every supported client (OpenSSH ≥ 6.5,
//!   paramiko ≥ 2.7, asyncssh, Go's x/crypto/ssh as in rclone) has Curve25519. No NIST ECDH
//!   either: no supported client needs it. (`sntrup761x25519-sha512` is not in russh 0.65.)
//! - Strict key exchange (`kex-strict-s-v00@openssh.com`, against Terrapin) and `ext-info-s`.
//! - Ciphers: the AEAD ones (ChaCha20-Poly1305, AES-256-GCM, AES-128-GCM), then AES-CTR for
//!   paramiko, which has no AEAD cipher; CTR only ever pairs with an encrypt-then-MAC MAC.
//! - MACs: only the `-etm@openssh.com` SHA-2 ones (AEAD ciphers use none).
//! - Host key algorithms: russh advertises only those of the keys it holds, so an Ed25519 host
//!   key gives `ssh-ed25519` alone. The same list is what client keys may sign with (and is sent
//!   as `server-sig-algs`): never SHA-1 `ssh-rsa`.
//! - No compression.

use russh::keys::{Algorithm, EcdsaCurve, HashAlg};
use russh::{Preferred, cipher, kex, mac};

/// The algorithms the SSH server offers, in order of preference.
pub(super) fn preferred() -> Preferred {
    Preferred {
        kex: vec![
            kex::MLKEM768X25519_SHA256,
            kex::CURVE25519,
            kex::CURVE25519_PRE_RFC_8731,
            kex::EXTENSION_SUPPORT_AS_SERVER,
            kex::EXTENSION_OPENSSH_STRICT_KEX_AS_SERVER,
            // Not sent (russh leaves the client-side names out of a server's KEXINIT); kept so
            // that the names a client sends are recognised as extensions.
            kex::EXTENSION_SUPPORT_AS_CLIENT,
            kex::EXTENSION_OPENSSH_STRICT_KEX_AS_CLIENT,
        ]
        .into(),
        key: vec![
            Algorithm::Ed25519,
            Algorithm::Ecdsa { curve: EcdsaCurve::NistP256 },
            Algorithm::Ecdsa { curve: EcdsaCurve::NistP384 },
            Algorithm::Ecdsa { curve: EcdsaCurve::NistP521 },
            Algorithm::Rsa { hash: Some(HashAlg::Sha512) },
            Algorithm::Rsa { hash: Some(HashAlg::Sha256) },
        ]
        .into(),
        cipher: vec![
            cipher::CHACHA20_POLY1305,
            cipher::AES_256_GCM,
            cipher::AES_128_GCM,
            cipher::AES_256_CTR,
            cipher::AES_128_CTR,
        ]
        .into(),
        mac: vec![mac::HMAC_SHA512_ETM, mac::HMAC_SHA256_ETM].into(),
        compression: vec![russh::compression::NONE].into(),
        ..Preferred::DEFAULT
    }
}
