//! The plaintext inside a sealed file: one header line, then one line per record.
//!
//! ```text
//! {"format":"meldpunt-sealed-1","fields":["line","referentie","soort",…]}
//! [2,"WS-1","woninghuur","aanmaning",null,"van der","Berg",…]
//! {"line":7,"withdrawn":"WS-6"}
//! ```
//!
//! An accepted record is a JSON array in [`FIELDS`] order (no key names: the sealed file is
//! about as large as the CSV it came from, which matters for 1 GiB uploads). A record the
//! debtor objected to leaves only a tombstone with its `referentie`, which withdraws any
//! earlier record with that referentie; nothing about the debtor is kept.

use std::fmt;
use std::io;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::domain::signal::SignalRecord;

/// The format name in the header line.
pub const FORMAT: &str = "meldpunt-sealed-1";

/// Column order of a record line.
pub const FIELDS: [&str; 24] = [
    "line",
    "referentie",
    "soort",
    "fase",
    "voorletters",
    "voorvoegsel",
    "achternaam",
    "geboortedatum",
    "straatnaam",
    "huisnummer",
    "huisletter",
    "huisnummertoevoeging",
    "postcode",
    "plaatsnaam",
    "telefoonnummer",
    "email",
    "bedrag",
    "ontstaansdatum",
    "signaaldatum",
    "herinneringsdatum",
    "contactpoging",
    "schuldhulp_gewezen",
    "crisissignaal",
    // Reserved so the arity is fixed even if a field is added later (always null for now).
    "reserved",
];

/// One line of a sealed file after the header (one lives at a time, so its size does not matter).
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum SealedLine {
    /// An accepted record and the line it started on in the upload.
    Record(u64, SignalRecord),
    /// The debtor objected to the record with this referentie (at this line).
    Withdrawn(u64, String),
}

/// Why a sealed line could not be read.
#[derive(Debug, thiserror::Error)]
#[error("sealed file line {index}: {message}")]
pub struct SealedLineError {
    /// 1-based line in the sealed plaintext.
    pub index: u64,
    /// What is wrong.
    pub message: String,
}

/// Writes the header line into `out`.
pub fn write_header(out: &mut Vec<u8>) {
    #[derive(Serialize)]
    struct Header<'a> {
        format: &'a str,
        fields: &'a [&'a str],
    }
    serde_json::to_writer(&mut *out, &Header { format: FORMAT, fields: &FIELDS }).expect("in memory");
    out.push(b'\n');
}

impl SealedLine {
    /// Appends this line (with its newline) to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) -> io::Result<()> {
        match self {
            SealedLine::Record(line, r) => {
                super::record_line::write(out, *line, &r.view());
                Ok(())
            }
            SealedLine::Withdrawn(line, referentie) => write_tombstone(out, *line, referentie),
        }
    }

    /// Reads one line (the header is not a `SealedLine`: see [`is_header`]).
    pub fn decode<T: AsRef<[u8]> + ?Sized>(index: u64, text: &T) -> Result<SealedLine, SealedLineError> {
        let text = text.as_ref();
        let err = |e: serde_json::Error| SealedLineError { index, message: e.to_string() };
        if text.first() == Some(&b'[') {
            let FromTuple(line, record) = serde_json::from_slice(text).map_err(err)?;
            Ok(SealedLine::Record(line, record))
        } else {
            let t: Tombstone = serde_json::from_slice(text).map_err(err)?;
            Ok(SealedLine::Withdrawn(t.line, t.withdrawn))
        }
    }
}

/// Appends the tombstone line (with its newline) of an objected record.
pub fn write_tombstone(out: &mut Vec<u8>, line: u64, referentie: &str) -> io::Result<()> {
    #[derive(Serialize)]
    struct Borrowed<'a> {
        line: u64,
        withdrawn: &'a str,
    }
    serde_json::to_writer(&mut *out, &Borrowed { line, withdrawn: referentie }).map_err(io::Error::other)?;
    out.push(b'\n');
    Ok(())
}

/// Whether `text` is a header line of this format.
pub fn is_header<T: AsRef<[u8]> + ?Sized>(text: &T) -> bool {
    let text = text.as_ref();
    text.starts_with(b"{\"format\":\"") && memchr::memmem::find(text, FORMAT.as_bytes()).is_some()
}

#[derive(Serialize, Deserialize)]
struct Tombstone {
    line: u64,
    withdrawn: String,
}

struct FromTuple(u64, SignalRecord);

impl<'de> Deserialize<'de> for FromTuple {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_tuple(FIELDS.len(), TupleVisitor)
    }
}

struct TupleVisitor;

impl<'de> Visitor<'de> for TupleVisitor {
    type Value = FromTuple;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an array of {} fields", FIELDS.len())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FromTuple, A::Error> {
        let mut index = 0;
        let mut next = || {
            let i = index;
            index += 1;
            i
        };
        macro_rules! field {
            () => {{
                let i = next();
                seq.next_element()?.ok_or_else(|| de::Error::invalid_length(i, &self))?
            }};
        }
        let line = field!();
        let record = SignalRecord {
            referentie: field!(),
            soort: field!(),
            fase: field!(),
            voorletters: field!(),
            voorvoegsel: field!(),
            achternaam: field!(),
            geboortedatum: field!(),
            straatnaam: field!(),
            huisnummer: field!(),
            huisletter: field!(),
            huisnummertoevoeging: field!(),
            postcode: field!(),
            plaatsnaam: field!(),
            telefoonnummer: field!(),
            email: field!(),
            bedrag: field!(),
            ontstaansdatum: field!(),
            signaaldatum: field!(),
            herinneringsdatum: field!(),
            contactpoging: field!(),
            schuldhulp_gewezen: field!(),
            crisissignaal: field!(),
        };
        let _reserved: () = field!();
        if seq.next_element::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(FIELDS.len() + 1, &self));
        }
        Ok(FromTuple(line, record))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::signal::{Cents, Fase, Kind, Postcode};

    /// A record with a prefix, quotes and a `;` in the surname (also used by `sealed_key`).
    pub(crate) fn record() -> SignalRecord {
        SignalRecord {
            referentie: "WS-1".into(),
            soort: Kind::Woninghuur,
            fase: Fase::Eerste,
            voorletters: Some("J.".into()),
            voorvoegsel: Some("van der".into()),
            achternaam: "Bérg \"de\" ; Çelik".into(),
            geboortedatum: Some("1980-02-29".parse().unwrap()),
            straatnaam: None,
            huisnummer: 12,
            huisletter: Some('A'),
            huisnummertoevoeging: Some("bis".into()),
            postcode: Postcode::parse("3311 ab").unwrap(),
            plaatsnaam: Some("Dordrecht".into()),
            telefoonnummer: None,
            email: None,
            bedrag: Cents(123456),
            ontstaansdatum: "2026-08-01".parse().unwrap(),
            signaaldatum: "2026-11-20".parse().unwrap(),
            herinneringsdatum: None,
            contactpoging: Some(true),
            schuldhulp_gewezen: None,
            crisissignaal: false,
        }
    }

    #[test]
    fn record_and_tombstone_round_trip_and_records_have_no_key_names() {
        let lines = [SealedLine::Record(2, record()), SealedLine::Withdrawn(3, "WS-2".into())];
        let mut buf = Vec::new();
        write_header(&mut buf);
        for l in &lines {
            l.encode(&mut buf).unwrap();
        }
        let text = String::from_utf8(buf).unwrap();
        let mut it = text.lines();
        assert!(is_header(it.next().unwrap()));
        let rec = it.next().unwrap();
        assert!(rec.starts_with("[2,\"WS-1\",") && !rec.contains("achternaam"), "{rec}");
        let back: Vec<SealedLine> =
            it.enumerate().map(|(i, l)| SealedLine::decode(i as u64 + 2, l).unwrap()).collect();
        assert_eq!(back, lines[1..]);
        let first = SealedLine::decode(2, rec).unwrap();
        assert_eq!(first, lines[0]);
    }

    #[test]
    fn short_and_long_arrays_are_refused_with_the_line() {
        let mut buf = Vec::new();
        SealedLine::Record(2, record()).encode(&mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        let short = text.trim_end().replacen(",null]", "]", 1);
        let e = SealedLine::decode(9, &short).unwrap_err();
        assert_eq!(e.index, 9);
        assert!(e.to_string().contains("array of 24"), "{e}");
        let long = text.trim_end().replacen("null]", "null,1]", 1);
        assert!(SealedLine::decode(9, &long).is_err());
    }
}
