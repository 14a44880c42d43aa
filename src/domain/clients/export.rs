//! Reading a case system's export of clients (docs/known-clients.md "The export"): CSV with a
//! header, `;` or `,` as delimiter, columns found by name. Each good line gives a household and
//! a person, normalised by the same functions the batch groups on; each bad line gives a
//! problem naming the line and field and how to fix it, never the value.

use jiff::civil::Date;

use crate::domain::household::{HouseholdKey, PersonKey};
use crate::domain::signal::Postcode;

/// The columns read, as the header names them (case and surrounding spaces do not matter).
pub const COLUMNS: [&str; 7] = [
    "postcode",
    "huisnummer",
    "huisletter",
    "huisnummertoevoeging",
    "voorvoegsel",
    "achternaam",
    "geboortedatum",
];

/// The columns a header must have.
pub const REQUIRED: [&str; 3] = ["postcode", "huisnummer", "achternaam"];

/// One client of the export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    /// The line it was on (1 is the header).
    pub line: u64,
    /// The household (normalised address).
    pub household: HouseholdKey,
    /// The person (normalised surname, date of birth if given).
    pub person: PersonKey,
}

/// A bad line: where, which field, what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The line (1 is the header).
    pub line: u64,
    /// The column.
    pub field: &'static str,
    /// What is wrong and how to fix it (never the value).
    pub message: &'static str,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, {}: {}", self.line, self.field, self.message)
    }
}

/// Why the export could not be read at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// Nothing, or a header only.
    #[error(
        "the export has no header line; the first line must name the columns (postcode;huisnummer;…;achternaam;geboortedatum)"
    )]
    Empty,
    /// Required columns are missing from the header.
    #[error("the header lacks the column(s) {}; name them in the first line (case does not matter)", .0.join(", "))]
    Columns(Vec<&'static str>),
    /// The header is not UTF-8.
    #[error("line 1 is not UTF-8; export the file as UTF-8 (with or without a byte-order mark)")]
    Encoding,
}

/// What was read: the clients of the good lines and the problems of the bad ones.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Export {
    /// Good lines, in file order.
    pub clients: Vec<Client>,
    /// Bad lines, in file order.
    pub problems: Vec<Problem>,
}

/// Reads an export.
pub fn read(bytes: &[u8]) -> Result<Export, ExportError> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let first = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let delimiter =
        if first.iter().filter(|b| **b == b';').count() >= first.iter().filter(|b| **b == b',').count() {
            b';'
        } else {
            b','
        };
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(bytes);
    let header = reader.headers().map_err(|_| ExportError::Encoding)?.clone();
    if header.iter().all(|h| h.trim().is_empty()) {
        return Err(ExportError::Empty);
    }
    let index: Vec<Option<usize>> =
        COLUMNS.iter().map(|c| header.iter().position(|h| h.trim().eq_ignore_ascii_case(c))).collect();
    let missing: Vec<&'static str> = REQUIRED
        .iter()
        .copied()
        .filter(|r| index[COLUMNS.iter().position(|c| c == r).unwrap_or(0)].is_none())
        .collect();
    if !missing.is_empty() {
        return Err(ExportError::Columns(missing));
    }
    let mut out = Export::default();
    let mut record = csv::StringRecord::new();
    // The reader's own line count skips blank lines, and a record's offset may lie before
    // the blank lines in front of it: the line is counted from the first byte of the record.
    let line_at = |p: &csv::Position| {
        let mut at = (p.byte() as usize).min(bytes.len());
        while bytes.get(at).is_some_and(|b| matches!(b, b'\n' | b'\r')) {
            at += 1;
        }
        // A line ends in LF, CRLF, or (old exports) CR alone, as the reader takes them.
        let ends = bytes[..at]
            .iter()
            .enumerate()
            .filter(|(i, b)| **b == b'\n' || (**b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
            .count();
        ends as u64 + 1
    };
    loop {
        let line = line_at(reader.position());
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(line, line_at);
                let get = |i: usize| index[i].and_then(|i| record.get(i)).map(str::trim).unwrap_or("");
                if (0..COLUMNS.len()).all(|i| get(i).is_empty()) {
                    continue;
                }
                match client(line, get) {
                    Ok(c) => out.clients.push(c),
                    Err(p) => out.problems.push(p),
                }
            }
            Err(e) => {
                let line = e.position().map_or(line, line_at);
                let message =
                    "this line cannot be read: it is not UTF-8 or has an unclosed quote; export as UTF-8 CSV";
                out.problems.push(Problem { line, field: "line", message });
                if !matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    break;
                }
            }
        }
    }
    Ok(out)
}

/// The client of one line, or its first problem. `get(i)` is the trimmed value of
/// `COLUMNS[i]` (empty when absent).
fn client<'a>(line: u64, get: impl Fn(usize) -> &'a str) -> Result<Client, Problem> {
    let bad = |field: &'static str, message: &'static str| Problem { line, field, message };
    let postcode = Postcode::parse(get(0))
        .ok_or(bad("postcode", "a postcode is 4 digits and 2 letters, e.g. 3311AB (a space is fine)"))?;
    let huisnummer = get(1)
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=99_999).contains(n))
        .ok_or(bad("huisnummer", "write the house number alone, 1 to 99999; a letter goes in huisletter"))?;
    let letter = get(2);
    if letter.chars().count() > 1 || letter.chars().any(|c| !c.is_alphabetic()) {
        return Err(bad(
            "huisletter",
            "a house letter is one letter; put anything longer in huisnummertoevoeging",
        ));
    }
    let toevoeging = get(3);
    if toevoeging.chars().count() > 4 {
        return Err(bad("huisnummertoevoeging", "an addition is at most 4 characters"));
    }
    let voorvoegsel = get(4);
    if voorvoegsel.chars().count() > 20 {
        return Err(bad("voorvoegsel", "a prefix is at most 20 characters (van der, de, 't)"));
    }
    let achternaam = get(5);
    if achternaam.is_empty() || achternaam.chars().count() > 200 {
        return Err(bad(
            "achternaam",
            "write the surname, 1 to 200 characters (Berg, van der or van der Berg)",
        ));
    }
    let born = match get(6) {
        "" => None,
        d => Some(date(d).ok_or(bad(
            "geboortedatum",
            "write the date of birth as YYYY-MM-DD or DD-MM-YYYY, or leave it empty",
        ))?),
    };
    let opt = |s: &'a str| (!s.is_empty()).then_some(s);
    Ok(Client {
        line,
        household: HouseholdKey::new(&postcode, huisnummer, opt(letter), opt(toevoeging)),
        person: PersonKey::new(opt(voorvoegsel), achternaam, born),
    })
}

/// A date written `YYYY-MM-DD` or `DD-MM-YYYY`.
fn date(s: &str) -> Option<Date> {
    let parts: Vec<&str> = s.split('-').collect();
    let [a, b, c] = parts.as_slice() else { return None };
    let (y, m, d) = if a.len() == 4 {
        (a, b, c)
    } else if c.len() == 4 {
        (c, b, a)
    } else {
        return None;
    };
    if !(m.len() == 2 && d.len() == 2) {
        return None;
    }
    Date::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_lines_give_the_batch_keys_and_bad_lines_name_line_and_field() {
        let text = "\u{feff}Postcode;Huisnummer;Huisletter;Huisnummertoevoeging;Achternaam;Geboortedatum;Dossier\n\
                    3311 ab;12;a;;Berg, van der;1980-05-01;D-1\n\
                    3311AB;12;A;;;1980-05-01;D-2\n\
                    \n\
                    3311AB;12x;;;Jansen;;D-3\n\
                    3311AB;7;;bis;Jansen;01-02-1990;D-4\n\
                    3311AB;7;;;Jansen;1990-02-30;D-5\n";
        let e = read(text.as_bytes()).unwrap();
        assert_eq!(e.clients.len(), 2, "{e:?}");
        let c = &e.clients[0];
        assert_eq!((c.line, c.household.as_str(), c.person.surname()), (2, "3311AB|12|A|", "berg, van der"));
        assert_eq!(c.person, PersonKey::new(Some("van der"), "Berg", Some(Date::constant(1980, 5, 1))));
        assert_eq!(e.clients[1].person.geboortedatum(), Some(Date::constant(1990, 2, 1)));
        let got: Vec<(u64, &str)> = e.problems.iter().map(|p| (p.line, p.field)).collect();
        assert_eq!(got, [(3, "achternaam"), (5, "huisnummer"), (7, "geboortedatum")]);
        assert!(e.problems[0].to_string().starts_with("line 3, achternaam: "));
    }

    #[test]
    fn lines_ending_in_cr_alone_are_counted() {
        // Found by the known_clients fuzz target: a record after a bare CR was "line 1".
        let e =
            read(b"postcode;huisnummer;achternaam\r3311AB;x;Smit\r\r3311AB;2;Smit\r\n3311AB;3;\n").unwrap();
        let got: Vec<(u64, &str)> = e.problems.iter().map(|p| (p.line, p.field)).collect();
        assert_eq!(got, [(2, "huisnummer"), (5, "achternaam")]);
        assert_eq!(e.clients[0].line, 4);
    }

    #[test]
    fn comma_files_and_file_level_errors() {
        let e = read(b"postcode,huisnummer,voorvoegsel,achternaam\n3311AB,1,van der,Berg\n").unwrap();
        assert_eq!(e.clients[0].person.surname(), "berg, van der");
        assert_eq!(read(b"").unwrap_err(), ExportError::Empty);
        assert_eq!(
            read(b"postcode;naam\n").unwrap_err(),
            ExportError::Columns(vec!["huisnummer", "achternaam"])
        );
        let e = read(b"postcode;huisnummer;achternaam\n3311AB;1;\xff\xfe\n3311AB;2;Smit\n").unwrap();
        assert_eq!((e.problems[0].line, e.problems[0].field, e.clients.len()), (2, "line", 1));
    }
}
