//! The few fields of a sealed line that history needs (referentie, address, amount), decoded
//! without building a [`SignalRecord`](crate::domain::signal::SignalRecord): strings are
//! borrowed from the line where they have no escapes and every other field is skipped. A
//! batch reads six months of history, so this is most of the lines it decodes.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::sealed_line::{FIELDS, SealedLineError};
use crate::domain::signal::Cents;

/// What history needs of one sealed line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SealedKey<'a> {
    /// An accepted record.
    Record(RecordKey<'a>),
    /// A tombstone: the record with this referentie was withdrawn.
    Withdrawn(Cow<'a, str>),
}

/// The fields of an accepted record that history needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordKey<'a> {
    /// The creditor's reference.
    pub referentie: Cow<'a, str>,
    /// The normalised postcode (as sealed).
    pub postcode: Cow<'a, str>,
    /// House number.
    pub huisnummer: u32,
    /// House letter.
    pub huisletter: Option<char>,
    /// House number addition.
    pub huisnummertoevoeging: Option<Cow<'a, str>>,
    /// Arrears.
    pub bedrag: Cents,
}

impl<'a> SealedKey<'a> {
    /// Reads one line after the header (see [`super::sealed_line::is_header`]).
    pub fn decode<T: AsRef<[u8]> + ?Sized>(
        index: u64,
        text: &'a T,
    ) -> Result<SealedKey<'a>, SealedLineError> {
        let text = text.as_ref();
        let err = |e: serde_json::Error| SealedLineError { index, message: e.to_string() };
        if text.first() == Some(&b'[') {
            if let Some(record) = scan(text) {
                return Ok(SealedKey::Record(record));
            }
            let record: RecordKey<'a> = serde_json::from_slice(text).map_err(err)?;
            Ok(SealedKey::Record(record))
        } else {
            let t: Tombstone<'a> = serde_json::from_slice(text).map_err(err)?;
            Ok(SealedKey::Withdrawn(t.withdrawn))
        }
    }
}

/// The fast path: a record line exactly as [`SealedLine::encode`](super::sealed_line::SealedLine::encode)
/// writes it (compact JSON, no white space), split at its commas without building anything.
/// The fields history needs must be plain (no escapes) UTF-8; anything else gives `None`, and
/// the line goes through serde instead, which also reports what is wrong with a damaged line.
/// (Skipped fields are not validated here; sealed files are authenticated by age, so they hold
/// only what the encoder wrote.)
fn scan(b: &[u8]) -> Option<RecordKey<'_>> {
    let mut at = 1; // after '['
    let field = |at: &mut usize| -> Option<&[u8]> {
        let start = *at;
        if b.get(start) == Some(&b'"') {
            // The closing quote: the first quote not escaped by a backslash.
            let mut i = start + 1;
            loop {
                i += memchr::memchr2(b'"', b'\\', b.get(i..)?)?;
                if b[i] == b'"' {
                    break;
                }
                i += 2;
            }
            *at = i + 1;
        } else {
            *at += memchr::memchr2(b',', b']', b.get(start..)?)?;
        }
        let token = b.get(start..*at)?;
        // The separator: a comma, or the closing bracket after the last field.
        *at += 1;
        Some(token)
    };
    let mut tokens: [&[u8]; FIELDS.len()] = [b""; FIELDS.len()];
    for (i, t) in tokens.iter_mut().enumerate() {
        *t = field(&mut at)?;
        let sep = b[at - 1];
        if sep != if i + 1 == FIELDS.len() { b']' } else { b',' } {
            return None;
        }
    }
    if at != b.len() {
        return None;
    }
    let mut letter = plain(tokens[10])?.map(str::chars);
    let huisletter = match &mut letter {
        None => None,
        Some(chars) => {
            let c = chars.next()?;
            chars.next().is_none().then_some(())?;
            Some(c)
        }
    };
    Some(RecordKey {
        referentie: Cow::Borrowed(plain(tokens[1])??),
        postcode: Cow::Borrowed(plain(tokens[12])??),
        huisnummer: std::str::from_utf8(tokens[9]).ok()?.parse().ok()?,
        huisletter,
        huisnummertoevoeging: plain(tokens[11])?.map(Cow::Borrowed),
        bedrag: Cents(std::str::from_utf8(tokens[16]).ok()?.parse().ok()?),
    })
}

/// A token that is `null` or a string without escapes: its text.
fn plain(token: &[u8]) -> Option<Option<&str>> {
    match token {
        b"null" => Some(None),
        t => {
            let inner = t.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
            (!inner.contains(&b'\\')).then_some(Some(std::str::from_utf8(inner).ok()?))
        }
    }
}

#[derive(Deserialize)]
struct Tombstone<'a> {
    #[serde(borrow)]
    withdrawn: Cow<'a, str>,
}

/// A string borrowed from the input when it has no escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Deserialize<'de> for RecordKey<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_tuple(FIELDS.len(), KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = RecordKey<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an array of {} fields", FIELDS.len())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RecordKey<'de>, A::Error> {
        // Positions in FIELDS: 1 referentie, 9 huisnummer, 10 huisletter,
        // 11 huisnummertoevoeging, 12 postcode, 16 bedrag; the rest is skipped.
        let mut index = 0;
        let mut next = || {
            let i = index;
            index += 1;
            i
        };
        macro_rules! field {
            ($t:ty) => {{
                let i = next();
                seq.next_element::<$t>()?.ok_or_else(|| de::Error::invalid_length(i, &self))?
            }};
        }
        macro_rules! skip {
            ($n:expr) => {
                for _ in 0..$n {
                    field!(IgnoredAny);
                }
            };
        }
        skip!(1);
        let referentie = field!(Text<'de>).0;
        skip!(7);
        let huisnummer = field!(u32);
        let huisletter = field!(Option<char>);
        let huisnummertoevoeging = field!(Option<Text<'de>>).map(|t| t.0);
        let postcode = field!(Text<'de>).0;
        skip!(3);
        let bedrag = field!(Cents);
        skip!(FIELDS.len() - 17);
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(FIELDS.len() + 1, &self));
        }
        Ok(RecordKey { referentie, postcode, huisnummer, huisletter, huisnummertoevoeging, bedrag })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::signal::SignalRecord;
    use crate::vault::sealed_line::SealedLine;

    fn record(referentie: &str) -> SignalRecord {
        let mut r = crate::vault::sealed_line::tests::record();
        r.referentie = referentie.into();
        r.huisnummertoevoeging = Some("bis \"2\"".into());
        r.bedrag = Cents(4711);
        r
    }

    #[test]
    fn the_key_fields_of_an_encoded_record_and_a_tombstone() {
        let mut buf = Vec::new();
        SealedLine::Record(5, record("GAS-1")).encode(&mut buf).unwrap();
        SealedLine::Withdrawn(6, "GAS\\2".into()).encode(&mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        let mut lines = text.lines();
        let SealedKey::Record(k) = SealedKey::decode(2, lines.next().unwrap()).unwrap() else {
            panic!("a record")
        };
        assert!(matches!(k.referentie, Cow::Borrowed("GAS-1")));
        assert_eq!(k.postcode, "3311AB");
        assert_eq!(k.referentie, "GAS-1");
        assert_eq!((k.huisnummer, k.huisletter, k.bedrag), (12, Some('A'), Cents(4711)));
        assert_eq!(k.huisnummertoevoeging.as_deref(), Some("bis \"2\""));
        assert_eq!(
            SealedKey::decode(3, lines.next().unwrap()).unwrap(),
            SealedKey::Withdrawn("GAS\\2".into())
        );
    }

    #[test]
    fn the_fast_path_and_serde_agree() {
        let mut r = record("GAS-\"3\"");
        let mut lines = Vec::new();
        SealedLine::Record(5, r.clone()).encode(&mut lines).unwrap();
        r.referentie = "GAS-4".into();
        r.huisletter = None;
        r.huisnummertoevoeging = None;
        r.achternaam = "Ölçer \\ \"x\", y]".into();
        SealedLine::Record(6, r).encode(&mut lines).unwrap();
        let text = String::from_utf8(lines).unwrap();
        let mut fast = 0;
        for line in text.lines() {
            let by_serde: RecordKey<'_> = serde_json::from_str(line).unwrap();
            assert_eq!(SealedKey::decode(1, line).unwrap(), SealedKey::Record(by_serde.clone()));
            if let Some(k) = scan(line.as_bytes()) {
                assert_eq!(k, by_serde);
                fast += 1;
            }
        }
        // The escaped referentie goes through serde; the escaped surname is only skipped.
        assert_eq!(fast, 1);
        assert!(scan(text.lines().nth(1).unwrap().replace(",", ", ").as_bytes()).is_none());
    }

    #[test]
    fn wrong_arity_is_refused_with_the_line() {
        let mut buf = Vec::new();
        SealedLine::Record(2, record("R")).encode(&mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        let short = text.trim_end().replacen(",null]", "]", 1);
        let e = SealedKey::decode(9, &short).unwrap_err();
        assert_eq!(e.index, 9);
        assert!(SealedKey::decode(9, &text.trim_end().replacen("null]", "null,1]", 1)).is_err());
    }
}
