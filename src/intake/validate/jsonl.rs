//! JSON Lines files: one object per line, keys named like the CSV columns.

use std::io::{self, BufRead, Read};

use serde_json::Value;

use super::fields::{Field, Raw, Row};
use super::file_error::{self, MAX_RECORD_BYTES};
use super::problem::Problem;
use super::utf8::Utf8Reader;
use super::{Context, Format, RecordSink, Tally, ValidateError, deliver, record};

/// Reads and checks a JSON Lines file. Blank lines are skipped; line 1 is the first line.
pub(super) fn run<R: Read>(
    input: R,
    ctx: &Context<'_>,
    sink: &mut dyn RecordSink,
) -> Result<Tally, ValidateError> {
    let mut src = io::BufReader::with_capacity(64 * 1024, Utf8Reader::new(input));
    let mut buf = Vec::with_capacity(4 * 1024);
    let mut tally = Tally::default();
    let mut line = 0u64;
    loop {
        line += 1;
        buf.clear();
        let max = MAX_RECORD_BYTES as usize;
        let (read, too_long) =
            read_line(&mut src, &mut buf, max).map_err(|e| file_error::from_io(e, line))?;
        if read == 0 {
            break;
        }
        let problem = if too_long {
            (Problem::RecordTooLong { max }, None)
        } else if buf.trim_ascii().is_empty() {
            continue;
        } else {
            // Without its line end, so that a cut-off object is reported at its last column.
            let text = buf.strip_suffix(b"\n").unwrap_or(&buf);
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            match serde_json::from_slice::<Pairs>(text) {
                Ok(Pairs(pairs)) => {
                    let numbers = numbers(&pairs);
                    match row(&pairs, &numbers) {
                        Ok(row) => {
                            tally.total += 1;
                            deliver(record::check(&row, line, ctx), line, sink, &mut tally)?;
                            continue;
                        }
                        Err(field) => (Problem::Duplicate, Some(field)),
                    }
                }
                Err(e) if e.is_data() => (Problem::RecordMalformed { column: None }, None),
                Err(e) => (Problem::RecordMalformed { column: Some(e.column()) }, None),
            }
        };
        let (problem, field) = problem;
        tally.total += 1;
        tally.rejected += 1;
        sink.rejected(&[problem.to_error(line, None, field, ctx.allowed_kinds)])
            .map_err(ValidateError::Sink)?;
    }
    if tally.total == 0 {
        return Err(ValidateError::File(file_error::no_data_rows(Format::Jsonl, true)));
    }
    Ok(tally)
}

/// The members of one JSON object in the order written, duplicates kept (a `Map` keeps only
/// the last of two equal keys, which would let `{"bedrag":10,"bedrag":9000}` pass as 9000).
#[derive(Debug)]
struct Pairs(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Pairs {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = Pairs;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(24));
                while let Some(pair) = map.next_entry::<String, Value>()? {
                    pairs.push(pair);
                }
                Ok(Pairs(pairs))
            }
        }
        de.deserialize_map(Members)
    }
}

/// The decimal text of each field given as a JSON number.
fn numbers(pairs: &[(String, Value)]) -> [Option<String>; Field::COUNT] {
    let mut out = std::array::from_fn(|_| None);
    for (key, value) in pairs {
        if let (Some(field), Value::Number(n)) = (Field::from_name(key), value) {
            out[field as usize] = Some(n.to_string());
        }
    }
    out
}

/// The raw values of a JSON object; keys are trimmed and case-insensitive, unknown keys
/// ignored. Numbers count as their decimal text (from `numbers`), `null` as absent. A field
/// given twice (`"bedrag"` and `" Bedrag"` too) is an error: which one was meant is unknown.
fn row<'a>(
    pairs: &'a [(String, Value)],
    numbers: &'a [Option<String>; Field::COUNT],
) -> Result<Row<'a>, Field> {
    let mut row = Row::new();
    let mut seen = [false; Field::COUNT];
    for (key, value) in pairs {
        let Some(field) = Field::from_name(key) else {
            continue;
        };
        if std::mem::replace(&mut seen[field as usize], true) {
            return Err(field);
        }
        let raw = match value {
            Value::Null => Raw::Absent,
            Value::Bool(b) => Raw::Bool(*b),
            Value::Number(_) => numbers[field as usize].as_deref().map_or(Raw::Absent, Raw::text),
            Value::String(s) => Raw::text(s),
            Value::Array(_) | Value::Object(_) => Raw::Nested,
        };
        row.set(field, raw);
    }
    Ok(row)
}

/// Reads one line (with its `\n`) into `buf`, keeping at most `max` bytes: a longer line is
/// read to its end but not kept. Returns the bytes read (0 at end of input) and whether
/// the line was too long.
fn read_line<B: BufRead>(src: &mut B, buf: &mut Vec<u8>, max: usize) -> io::Result<(usize, bool)> {
    let (mut read, mut too_long) = (0, false);
    loop {
        let avail = match src.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            return Ok((read, too_long));
        }
        let (take, done) = match avail.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (avail.len(), false),
        };
        if !too_long {
            if buf.len() + take > max {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(&avail[..take]);
            }
        }
        src.consume(take);
        read += take;
        if done {
            return Ok((read, too_long));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_skipped_not_kept() {
        let mut data = vec![b'x'; 100];
        data.extend_from_slice(b"\nshort\n");
        let mut src = io::BufReader::with_capacity(16, &data[..]);
        let mut buf = Vec::new();
        assert_eq!(read_line(&mut src, &mut buf, 50).unwrap(), (101, true));
        assert!(buf.is_empty());
        buf.clear();
        assert_eq!(read_line(&mut src, &mut buf, 50).unwrap(), (6, false));
        assert_eq!(buf, b"short\n");
        buf.clear();
        assert_eq!(read_line(&mut src, &mut buf, 50).unwrap(), (0, false));
    }

    #[test]
    fn values_map_to_raw() {
        let Pairs(pairs) = serde_json::from_str(
            r#"{"HuisNummer":12,"bedrag":12.5,"bezwaar":false,"email":null,"plaatsnaam":[1],"x":1}"#,
        )
        .unwrap();
        let numbers = numbers(&pairs);
        let row = row(&pairs, &numbers).unwrap();
        assert_eq!(row.get(Field::Huisnummer), &Raw::Text("12"));
        assert_eq!(row.get(Field::Bedrag), &Raw::Text("12.5"));
        assert_eq!(row.get(Field::Bezwaar), &Raw::Bool(false));
        assert_eq!(row.get(Field::Email), &Raw::Absent);
        assert_eq!(row.get(Field::Plaatsnaam), &Raw::Nested);
    }

    #[test]
    fn a_field_given_twice_is_refused_whatever_its_spelling() {
        for json in [r#"{"bedrag":10,"bedrag":9000}"#, r#"{"bedrag":10," BEDRAG ":9000}"#] {
            let Pairs(pairs) = serde_json::from_str(json).unwrap();
            assert_eq!(row(&pairs, &numbers(&pairs)).err(), Some(Field::Bedrag), "{json}");
        }
        let Pairs(pairs) = serde_json::from_str(r#"{"bedrag":10,"x":1,"x":2}"#).unwrap();
        assert!(row(&pairs, &numbers(&pairs)).is_ok(), "unknown keys are ignored, twice too");
    }

    #[test]
    fn what_is_not_an_object_is_a_data_error_and_a_cut_off_object_is_not() {
        assert!(serde_json::from_str::<Pairs>("[1]").unwrap_err().is_data());
        assert!(serde_json::from_str::<Pairs>("\"x\"").unwrap_err().is_data());
        let cut = serde_json::from_str::<Pairs>(r#"{"a":1"#).unwrap_err();
        assert!(cut.is_eof());
        assert_eq!(cut.column(), 6);
    }
}
