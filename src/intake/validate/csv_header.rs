//! The CSV header: finding the delimiter before parsing, and mapping columns to fields.

use std::io::{self, Read};

use super::FileError;
use super::fields::Field;
use super::file_error;

/// At most this many bytes are read to find the header line.
const SNIFF_LIMIT: usize = 64 * 1024;

/// The first bytes of the file (everything read while looking for the header line) and
/// the delimiter found in that line.
pub(super) struct Sniffed {
    /// `;` or `,`.
    pub delimiter: u8,
    /// Bytes read so far; parsing must start with these.
    pub prefix: Vec<u8>,
}

/// Reads until the header line (the first line that is not blank) is complete, and picks
/// the delimiter: whichever of `;` and `,` occurs more often outside quotes. A tie goes to
/// `;` (the Dutch spreadsheet default); with neither, the header is one column.
pub(super) fn sniff<R: Read>(src: &mut R) -> io::Result<Sniffed> {
    let mut prefix = Vec::with_capacity(8 * 1024);
    let mut scan = Scan::default();
    let mut chunk = [0u8; 8 * 1024];
    while !scan.done && prefix.len() < SNIFF_LIMIT {
        let n = match src.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        prefix.extend_from_slice(&chunk[..n]);
        scan.feed(&chunk[..n]);
    }
    let delimiter = if scan.commas > scan.semicolons { b',' } else { b';' };
    Ok(Sniffed { delimiter, prefix })
}

/// State of the header-line scan.
#[derive(Default)]
struct Scan {
    in_quotes: bool,
    content: bool,
    semicolons: usize,
    commas: usize,
    done: bool,
}

impl Scan {
    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.done {
                return;
            }
            match b {
                b'"' => {
                    self.in_quotes = !self.in_quotes;
                    self.content = true;
                }
                _ if self.in_quotes => {}
                b'\n' => self.done = self.content,
                b';' => {
                    self.semicolons += 1;
                    self.content = true;
                }
                b',' => {
                    self.commas += 1;
                    self.content = true;
                }
                b' ' | b'\t' | b'\r' => {}
                _ => self.content = true,
            }
        }
    }
}

/// The column index of each field (`None`: no such column), from the header record.
/// Names are trimmed and case-insensitive; unknown columns are ignored. Errors when required
/// columns are missing (naming all of them) or a known column is doubled.
pub(super) fn columns(
    header: &csv::ByteRecord,
    line: u64,
) -> Result<[Option<usize>; Field::COUNT], FileError> {
    let mut cols = [None; Field::COUNT];
    let mut doubled = None;
    for (i, name) in header.iter().enumerate() {
        let Some(field) = std::str::from_utf8(name).ok().and_then(Field::from_name) else {
            continue;
        };
        if cols[field as usize].is_some() {
            doubled.get_or_insert(field);
        } else {
            cols[field as usize] = Some(i);
        }
    }
    let missing: Vec<Field> =
        Field::ALL.into_iter().filter(|f| f.required() && cols[*f as usize].is_none()).collect();
    if !missing.is_empty() {
        return Err(file_error::columns_missing(&missing, line));
    }
    if let Some(field) = doubled {
        return Err(file_error::columns_duplicate(field, line));
    }
    Ok(cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delimiter(text: &str) -> u8 {
        sniff(&mut text.as_bytes()).unwrap().delimiter
    }

    #[test]
    fn delimiter_is_the_more_frequent_one_outside_quotes() {
        assert_eq!(delimiter("a;b;c\n1,2;3\n"), b';');
        assert_eq!(delimiter("a,b,c\n1;2;3;4;5\n"), b',');
        assert_eq!(delimiter("\"a;b;c\",d,e\n"), b',');
        assert_eq!(delimiter("\n\r\n  \na,b\n"), b',');
        assert_eq!(delimiter("a,b;c\n"), b';');
        assert_eq!(delimiter("referentie\n"), b';');
    }

    #[test]
    fn prefix_holds_everything_read() {
        let text = "a;b\n1;2\n".repeat(5000);
        let s = sniff(&mut text.as_bytes()).unwrap();
        assert!(text.as_bytes().starts_with(&s.prefix));
        assert!(s.prefix.len() <= SNIFF_LIMIT + 8 * 1024);
    }

    #[test]
    fn missing_columns_are_all_named() {
        let header = csv::ByteRecord::from(vec!["Referentie", " SOORT ", "postcode", "extra"]);
        let e = columns(&header, 1).unwrap_err();
        assert_eq!(e.code, "columns_missing");
        for name in ["achternaam", "huisnummer", "bedrag", "ontstaansdatum"] {
            assert!(e.message.contains(name), "{}", e.message);
        }
        assert!(!e.message.contains("extra"));
    }

    #[test]
    fn doubled_column_is_an_error() {
        let mut names = vec!["referentie", "soort", "achternaam", "huisnummer", "postcode", "bedrag"];
        names.extend(["ontstaansdatum", "Postcode"]);
        let e = columns(&csv::ByteRecord::from(names), 1).unwrap_err();
        assert_eq!(e.code, "columns_duplicate");
    }
}
