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
    pub fn decode(index: u64, text: &'a str) -> Result<SealedKey<'a>, SealedLineError> {
        let err = |e: serde_json::Error| SealedLineError { index, message: e.to_string() };
        if text.starts_with('[') {
            let record: RecordKey<'a> = serde_json::from_str(text).map_err(err)?;
            Ok(SealedKey::Record(record))
        } else {
            let t: Tombstone<'a> = serde_json::from_str(text).map_err(err)?;
            Ok(SealedKey::Withdrawn(t.withdrawn))
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
