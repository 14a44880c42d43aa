//! The CSV header: finding the delimiter before parsing, and mapping columns to fields.

use super::FileError;
use super::fields::Field;
use super::file_error;

/// At most this many bytes are scanned to find the header line.
const SNIFF_LIMIT: usize = 64 * 1024;

/// What the start of the file says about the delimiter.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Sniff {
    /// `;` or `,`.
    Delimiter(u8),
    /// The header line is not complete in the bytes so far.
    NeedMore,
}

/// Picks the delimiter from the header line (the first line that is not blank): whichever of
/// `;` and `,` occurs more often outside quotes. A tie goes to `;` (the Dutch spreadsheet
/// default); with neither, the header is one column. Looks at most [`SNIFF_LIMIT`] bytes;
/// `ended`: `start` is the whole file.
pub(super) fn sniff(start: &[u8], ended: bool) -> Sniff {
    let mut scan = Scan::default();
    scan.feed(&start[..start.len().min(SNIFF_LIMIT)]);
    if !scan.done && !ended && start.len() < SNIFF_LIMIT {
        return Sniff::NeedMore;
    }
    Sniff::Delimiter(if scan.commas > scan.semicolons { b',' } else { b';' })
}

/// Whether the header holds a carriage return other than the one of its CRLF: a file whose
/// lines end in CR alone reads as one long header row (no column name has a CR).
pub(super) fn lone_cr(names: &[&str]) -> bool {
    let last = names.len().saturating_sub(1);
    names.iter().enumerate().any(|(i, name)| {
        let name = if i == last { name.strip_suffix('\r').unwrap_or(name) } else { name };
        name.contains('\r')
    })
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
pub(super) fn columns(names: &[&str], line: u64) -> Result<[Option<usize>; Field::COUNT], FileError> {
    let mut cols = [None; Field::COUNT];
    let mut doubled = None;
    for (i, name) in names.iter().enumerate() {
        let Some(field) = Field::from_name(name) else {
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
        match sniff(text.as_bytes(), true) {
            Sniff::Delimiter(d) => d,
            Sniff::NeedMore => panic!("the whole file is there"),
        }
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
    fn waits_for_the_header_line_up_to_the_limit() {
        assert_eq!(sniff(b"a;b", false), Sniff::NeedMore);
        assert_eq!(sniff(b"\n\n", false), Sniff::NeedMore);
        assert_eq!(sniff(b"a;b\n", false), Sniff::Delimiter(b';'));
        assert_eq!(sniff(b"\"a\nb\",c,d", false), Sniff::NeedMore);
        assert_eq!(sniff("a,".repeat(SNIFF_LIMIT).as_bytes(), false), Sniff::Delimiter(b','));
    }

    #[test]
    fn missing_columns_are_all_named() {
        let e = columns(&["Referentie", " SOORT ", "postcode", "extra"], 1).unwrap_err();
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
        let e = columns(&names, 1).unwrap_err();
        assert_eq!(e.code, "columns_duplicate");
    }
}
