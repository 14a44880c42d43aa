//! A sealed file's key index (`vault/P/<file-id>.keys.age`): for each of its lines only what
//! a later batch asks of it as history — referentie, household key and amount of a record, the
//! referentie of a tombstone — sealed to the same period key. A batch reads six months of
//! history; through the indexes it decrypts and scans about a fifth of the bytes.
//!
//! An index is derived data, written by the batch that first reads the file (never by
//! intake) and never trusted over the file itself: a missing, damaged or outdated index is
//! read around (the batch reads the sealed file and writes the index again), an erasure
//! removes the indexes of the files it re-seals, and shredding a period removes them with the
//! rest of its folder. The plaintext is binary, behind a format line that names the household
//! key normalisation it was made with:
//!
//! ```text
//! meldpunt-keys-1\n
//! R <u16 len> referentie <u16 len> household key <u64 cents>      (little-endian)
//! W <u16 len> referentie
//! ```

use std::io::{Read, Write};

use crate::domain::signal::Cents;

/// The format line; the number changes with the format or the household key normalisation.
const FORMAT: &[u8] = b"meldpunt-keys-1\n";

/// One entry of an index, in the order of the sealed file's lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyLine<'a> {
    /// An accepted record.
    Record {
        /// The creditor's reference.
        referentie: &'a str,
        /// Its household key text ([`crate::domain::household::HouseholdKey::as_str`]).
        household: &'a str,
        /// Its amount.
        bedrag: Cents,
    },
    /// A tombstone: the record with this referentie was withdrawn.
    Withdrawn(&'a str),
}

/// Why an index cannot be read (the batch then reads the sealed file instead).
#[derive(Debug, thiserror::Error)]
#[error("key index damaged or of another format at byte {0}")]
pub struct IndexError(pub usize);

/// Builds an index in memory, entry by entry (always behind its format line).
pub struct IndexBuilder {
    buf: Vec<u8>,
}

impl IndexBuilder {
    /// An empty index.
    pub fn new() -> IndexBuilder {
        IndexBuilder { buf: FORMAT.to_vec() }
    }

    /// Adds one entry. Texts longer than 65 535 bytes (which validation never lets through)
    /// make the index unusable: `false`, and the caller does not write it.
    pub fn push(&mut self, line: KeyLine<'_>) -> bool {
        match line {
            KeyLine::Record { referentie, household, bedrag } => {
                self.buf.push(b'R');
                self.text(referentie) && self.text(household) && {
                    self.buf.extend_from_slice(&bedrag.0.to_le_bytes());
                    true
                }
            }
            KeyLine::Withdrawn(referentie) => {
                self.buf.push(b'W');
                self.text(referentie)
            }
        }
    }

    fn text(&mut self, s: &str) -> bool {
        let Ok(len) = u16::try_from(s.len()) else { return false };
        self.buf.extend_from_slice(&len.to_le_bytes());
        self.buf.extend_from_slice(s.as_bytes());
        true
    }

    /// The plaintext of the index.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

impl Default for IndexBuilder {
    /// An empty index (its format line only).
    fn default() -> IndexBuilder {
        IndexBuilder::new()
    }
}

/// Calls `f` with each entry of the index plaintext `bytes`, in order.
pub fn for_each<'b>(bytes: &'b [u8], mut f: impl FnMut(KeyLine<'b>)) -> Result<(), IndexError> {
    let mut rest = bytes.strip_prefix(FORMAT).ok_or(IndexError(0))?;
    let at = |rest: &[u8]| bytes.len() - rest.len();
    while let Some((&tag, after)) = rest.split_first() {
        let bad = IndexError(at(rest));
        rest = after;
        let referentie = text(&mut rest).ok_or(bad)?;
        match tag {
            b'R' => {
                let household = text(&mut rest).ok_or(IndexError(at(rest)))?;
                let (cents, after) = rest.split_first_chunk::<8>().ok_or(IndexError(at(rest)))?;
                rest = after;
                f(KeyLine::Record { referentie, household, bedrag: Cents(u64::from_le_bytes(*cents)) });
            }
            b'W' => f(KeyLine::Withdrawn(referentie)),
            _ => return Err(IndexError(at(rest))),
        }
    }
    Ok(())
}

/// A length-prefixed UTF-8 text at the start of `rest`, which moves past it.
fn text<'a>(rest: &mut &'a [u8]) -> Option<&'a str> {
    let (len, after) = rest.split_first_chunk::<2>()?;
    let len = usize::from(u16::from_le_bytes(*len));
    let s = std::str::from_utf8(after.get(..len)?).ok()?;
    *rest = &after[len..];
    Some(s)
}

/// Encrypts `plaintext` to `recipient` into `out`.
pub(super) fn seal(
    out: impl Write,
    recipient: &age::x25519::Recipient,
    plaintext: &[u8],
) -> std::io::Result<()> {
    let enc = age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut w = enc.wrap_output(out)?;
    w.write_all(plaintext)?;
    w.finish()?.flush()
}

/// Decrypts a whole index with `identity`.
pub(super) fn open(input: impl Read, identity: &age::x25519::Identity) -> std::io::Result<Vec<u8>> {
    let dec = age::Decryptor::new(std::io::BufReader::new(input)).map_err(std::io::Error::other)?;
    let mut r =
        dec.decrypt(std::iter::once(identity as &dyn age::Identity)).map_err(std::io::Error::other)?;
    let mut out = Vec::new();
    r.read_to_end(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_come_back_as_they_went_in_and_damage_is_refused() {
        let lines = [
            KeyLine::Record { referentie: "WS-1", household: "3311AB|12|A|", bedrag: Cents(4711) },
            KeyLine::Withdrawn("WS-\"2\"\\"),
            KeyLine::Record {
                referentie: "Ölçer 漢", household: "1234AB|1||3HG", bedrag: Cents(u64::MAX)
            },
            KeyLine::Record { referentie: "", household: "", bedrag: Cents(0) },
        ];
        let mut b = IndexBuilder::new();
        for l in lines {
            assert!(b.push(l));
        }
        let bytes = b.finish();
        let mut back = Vec::new();
        for_each(&bytes, |l| back.push(format!("{l:?}"))).unwrap();
        assert_eq!(back, lines.iter().map(|l| format!("{l:?}")).collect::<Vec<_>>());
        // Cut anywhere inside an entry, or a wrong tag, or another format: refused.
        for cut in FORMAT.len() + 1..bytes.len() {
            let mut n = 0;
            let whole = for_each(&bytes[..cut], |_| n += 1).is_ok();
            assert!(!whole || n < lines.len(), "a cut at {cut} read as the whole index");
        }
        let mut wrong = bytes.clone();
        wrong[FORMAT.len()] = b'X';
        assert!(for_each(&wrong, |_| {}).is_err());
        assert!(for_each(b"meldpunt-keys-0\n", |_| {}).is_err());
        assert!(!IndexBuilder::new().push(KeyLine::Withdrawn(&"x".repeat(70_000))));
    }
}
