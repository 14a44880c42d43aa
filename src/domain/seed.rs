//! The text form of meldpunt's Ed25519 private keys (the audit key, the receipt key) and of the
//! known-client keys: 32 random bytes as hex on one line. Pure: text in, seed out.

use zeroize::Zeroizing;

/// The 32-byte seed written in `text` (surrounding white space aside), or what is wrong.
pub fn ed25519_seed(text: &str) -> Result<Zeroizing<[u8; 32]>, &'static str> {
    secret32(text)
}

/// 32 secret bytes written as hex in `text` (surrounding white space aside): the form of the
/// Ed25519 seeds and of the known-client keys (`domain::clients::key`).
pub fn secret32(text: &str) -> Result<Zeroizing<[u8; 32]>, &'static str> {
    let bytes = Zeroizing::new(hex::decode(text.trim()).map_err(|_| "not hex")?);
    Ok(Zeroizing::new(bytes.as_slice().try_into().map_err(|_| "not 32 bytes")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_is_32_hex_bytes() {
        assert_eq!(*ed25519_seed(&format!(" {}\n", "ab".repeat(32))).unwrap(), [0xab; 32]);
        assert_eq!(ed25519_seed("zz").unwrap_err(), "not hex");
        assert_eq!(ed25519_seed("abab").unwrap_err(), "not 32 bytes");
    }
}
