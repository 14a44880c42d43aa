//! Reading a terugmelding file (docs/feedback.md) into lines: UTF-8 (a BOM is accepted), then CSV with
//! a header naming `resultaat`, `datum` and the signal — `signaal_id`, or `signaalpartner` with
//! `referentie_signaalpartner`, or all three — (`;` or `,`, any order), or JSON Lines with
//! objects holding those keys. Pure: bytes in, lines and errors out.
//!
//! File-level codes: `encoding_invalid`, `columns_missing`, `columns_unknown`,
//! `columns_duplicate`, `no_data_rows`. Line codes: `field_count`, `record_malformed`.

#![allow(clippy::result_large_err, reason = "an ErrorEntry is built once per bad line of a small file")]

use crate::domain::upload::UploadName;
use crate::intake::receipt::ErrorEntry;
use crate::intake::validate::Format;

/// Why a name cannot be a terugmelding's (see [`name_refusal`]).
pub const BAD_NAME: &str = "a terugmelding's file name must end in .csv or .jsonl, like \
    terugmelding_2026-11.csv; nothing was processed";

/// [`BAD_NAME`] when `name` is a final name (not `.part`, `.filepart`, `.tmp`) without a
/// terugmelding extension: such a file is refused when it is opened or renamed to, and never
/// processed. A temporary name may be anything; its rename is checked.
pub fn name_refusal(name: &UploadName) -> Option<&'static str> {
    (!name.is_temp() && Format::from_name(name.as_str()).is_none()).then_some(BAD_NAME)
}

/// The columns a terugmelding may have: its usual three first, then the creditor and its
/// reference, which may name the signal instead of `signaal_id`, then the optional DDAS
/// columns (docs/ddas.md): when the case was taken up, and the contact attempts.
pub const COLUMNS: [&str; 7] = [
    "signaal_id",
    "resultaat",
    "datum",
    "signaalpartner",
    "referentie_signaalpartner",
    "datum_opgepakt",
    "contactpogingen",
];

/// What a header must hold besides a way to name the signal.
const REQUIRED: [usize; 2] = [1, 2];

/// One data line, fields trimmed (empty = absent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawLine {
    /// Physical line (the CSV header is line 1).
    pub line: u64,
    /// `signaal_id`.
    pub signaal_id: String,
    /// `resultaat`.
    pub resultaat: String,
    /// `datum`.
    pub datum: String,
    /// `signaalpartner`: the creditor's id or name (empty when the file names signals by id).
    pub signaalpartner: String,
    /// `referentie_signaalpartner`: the creditor's own reference of the signal.
    pub referentie: String,
    /// `datum_opgepakt` (optional): when the municipality took the case up.
    pub datum_opgepakt: String,
    /// `contactpogingen` (optional): the contact attempts ([`crate::domain::contact`]).
    pub contactpogingen: String,
}

/// What a file holds: its readable lines and the lines that could not be read.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Lines with the three fields.
    pub lines: Vec<RawLine>,
    /// Lines that could not be read (wrong field count, not a JSON object).
    pub errors: Vec<ErrorEntry>,
}

/// A file-level error entry.
pub fn file_error(
    code: &str,
    message: impl Into<String>,
    line: Option<u64>,
    offset: Option<u64>,
) -> ErrorEntry {
    ErrorEntry {
        line,
        referentie: None,
        field: None,
        byte_offset: offset,
        code: code.into(),
        message: message.into(),
    }
}

/// A line-level error entry.
pub fn line_error(line: u64, field: Option<&str>, code: &str, message: impl Into<String>) -> ErrorEntry {
    ErrorEntry {
        line: Some(line),
        referentie: None,
        field: field.map(str::to_owned),
        byte_offset: None,
        code: code.into(),
        message: message.into(),
    }
}

/// The format of a file: by its name's extension, else (an HTTPS post without a name) by its
/// first character (`{` → JSON Lines).
pub fn format_of(name: &str, bytes: &[u8]) -> Format {
    Format::from_name(name).unwrap_or_else(|| {
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        match body.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => Format::Jsonl,
            _ => Format::Csv,
        }
    })
}

/// Reads a whole file; `Err` is the one file-level error that rejects it.
pub fn parse(bytes: &[u8], format: Format) -> Result<Parsed, ErrorEntry> {
    let text = utf8(bytes)?;
    let parsed = match format {
        Format::Csv => csv(text)?,
        Format::Jsonl => jsonl(text),
    };
    if parsed.lines.is_empty() && parsed.errors.is_empty() {
        return Err(file_error(
            "no_data_rows",
            "the file holds no feedback lines; write one line per signal: signaal_id;resultaat;datum",
            None,
            None,
        ));
    }
    Ok(parsed)
}

/// The text without its BOM, or `encoding_invalid` at the first bad byte.
fn utf8(bytes: &[u8]) -> Result<&str, ErrorEntry> {
    let (bom, body) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (3, rest),
        None => (0, bytes),
    };
    std::str::from_utf8(body).map_err(|e| {
        let at = e.valid_up_to();
        let line = 1 + body[..at].iter().filter(|b| **b == b'\n').count() as u64;
        let offset = (bom + at) as u64;
        file_error(
            "encoding_invalid",
            format!(
                "the file is not valid UTF-8: the first bad byte is at byte offset {offset} (line {line}); \
                 save the file as UTF-8 and upload it again"
            ),
            Some(line),
            Some(offset),
        )
    })
}

/// A column name as the header spells it, safe to repeat in a message.
fn shown(name: &str) -> String {
    if !name.is_empty() && name.len() <= 40 && name.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
        format!("'{name}'")
    } else {
        "a column with an unexpected name".to_owned()
    }
}

fn csv(text: &str) -> Result<Parsed, ErrorEntry> {
    let first = text.lines().next().unwrap_or("");
    let delimiter = if first.contains(';') || !first.contains(',') { b';' } else { b',' };
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        // `\n` only: the csv crate miscounts lines on CRLF; a CR left at a field's end is trimmed.
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(text.as_bytes());
    let mut records = rdr.records();
    let header = match records.next() {
        None => return Ok(Parsed::default()),
        Some(Ok(h)) => h,
        Some(Err(_)) => return Err(columns_error("the header row cannot be read".into())),
    };
    let mut index = [None; COLUMNS.len()];
    let mut unknown = Vec::new();
    for (i, name) in header.iter().enumerate() {
        let key = name.trim().to_ascii_lowercase();
        match COLUMNS.iter().position(|c| *c == key) {
            Some(k) if index[k].is_some() => {
                return Err(file_error(
                    "columns_duplicate",
                    format!(
                        "the column {} appears more than once in the header row; keep exactly one",
                        COLUMNS[k]
                    ),
                    Some(1),
                    None,
                ));
            }
            Some(k) => index[k] = Some(i),
            None if key.is_empty() => {}
            None => unknown.push(shown(name.trim())),
        }
    }
    let mut missing: Vec<&str> =
        REQUIRED.iter().filter(|k| index[**k].is_none()).map(|k| COLUMNS[*k]).collect();
    let by_reference = index[3].is_some() && index[4].is_some();
    if index[0].is_none() && !by_reference {
        missing.insert(0, "signaal_id (or signaalpartner and referentie_signaalpartner)");
    }
    if !missing.is_empty() {
        return Err(file_error(
            "columns_missing",
            format!("the header row lacks {}; {COLUMNS_FIX}", missing.join(", ")),
            Some(1),
            None,
        ));
    }
    if !unknown.is_empty() {
        return Err(columns_error(format!("the header row has {} besides them", unknown.join(", "))));
    }
    let width = header.len();
    let mut out = Parsed::default();
    for rec in records {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                out.errors.push(line_error(line, None, "record_malformed", "the line cannot be read as CSV"));
                continue;
            }
        };
        let line = rec.position().map_or(0, |p| p.line());
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if rec.len() != width {
            out.errors.push(line_error(
                line,
                None,
                "field_count",
                format!(
                    "the line has {} fields, the header {width}; write one field for each column of the header",
                    rec.len()
                ),
            ));
            continue;
        }
        let get = |k: usize| index[k].and_then(|i| rec.get(i)).unwrap_or("").trim().to_owned();
        out.lines.push(RawLine {
            line,
            signaal_id: get(0),
            resultaat: get(1),
            datum: get(2),
            signaalpartner: get(3),
            referentie: get(4),
            datum_opgepakt: get(5),
            contactpogingen: get(6),
        });
    }
    Ok(out)
}

/// What a header may hold, for messages.
const COLUMNS_FIX: &str = "a terugmelding has the columns signaal_id;resultaat;datum, where signaalpartner and \
                           referentie_signaalpartner may name the signal instead of (or besides) signaal_id";

fn columns_error(detail: String) -> ErrorEntry {
    file_error("columns_unknown", format!("{detail}; {COLUMNS_FIX}"), Some(1), None)
}

fn jsonl(text: &str) -> Parsed {
    let mut out = Parsed::default();
    for (i, raw) in text.split('\n').enumerate() {
        let line = i as u64 + 1;
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let malformed = |out: &mut Parsed| {
            out.errors.push(line_error(
                line,
                None,
                "record_malformed",
                "each line must be a JSON object with the string keys signaal_id, resultaat and datum \
                 (signaalpartner and referentie_signaalpartner may stand for signaal_id), and no others",
            ));
        };
        let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(raw) else {
            malformed(&mut out);
            continue;
        };
        if map.keys().any(|k| !COLUMNS.contains(&k.as_str())) {
            malformed(&mut out);
            continue;
        }
        let mut fields: [String; COLUMNS.len()] = Default::default();
        let mut ok = true;
        for (k, slot) in COLUMNS.iter().zip(fields.iter_mut()) {
            match map.get(*k) {
                None | Some(serde_json::Value::Null) => {}
                Some(serde_json::Value::String(s)) => *slot = s.trim().to_owned(),
                Some(_) => ok = false,
            }
        }
        if !ok {
            malformed(&mut out);
            continue;
        }
        let [signaal_id, resultaat, datum, signaalpartner, referentie, datum_opgepakt, contactpogingen] =
            fields;
        out.lines.push(RawLine {
            line,
            signaal_id,
            resultaat,
            datum,
            signaalpartner,
            referentie,
            datum_opgepakt,
            contactpogingen,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(r: Result<Parsed, ErrorEntry>) -> Vec<String> {
        match r {
            Ok(p) => p.errors.into_iter().map(|e| e.code).collect(),
            Err(e) => vec![e.code],
        }
    }

    #[test]
    fn reads_csv_in_any_column_order_with_bom_and_either_separator() {
        let f = "\u{feff}Datum;SIGNAAL_ID ; resultaat\r\n2026-12-01;S-1;quick_fix\r\n\r\n;;\n";
        let p = parse(f.as_bytes(), Format::Csv).unwrap();
        assert_eq!(
            p.lines,
            [RawLine {
                line: 2,
                signaal_id: "S-1".into(),
                resultaat: "quick_fix".into(),
                datum: "2026-12-01".into(),
                signaalpartner: String::new(),
                referentie: String::new(),
                datum_opgepakt: String::new(),
                contactpogingen: String::new(),
            }]
        );
        let p = parse(b"signaal_id,resultaat,datum\nS-2,overleden,2026-12-02\n", Format::Csv).unwrap();
        assert_eq!(p.lines[0].signaal_id, "S-2");
    }

    #[test]
    fn the_creditor_and_its_reference_may_name_the_signal() {
        let f =
            "Signaalpartner;referentie_signaalpartner;resultaat;datum\nWoonstad;R-1;quick_fix;2026-12-01\n";
        let p = parse(f.as_bytes(), Format::Csv).unwrap();
        assert_eq!((p.lines[0].signaalpartner.as_str(), p.lines[0].referentie.as_str()), ("Woonstad", "R-1"));
        assert_eq!(p.lines[0].signaal_id, "");
        let j = b"{\"signaalpartner\":\"woonstad\",\"referentie_signaalpartner\":\"R-2\",\"resultaat\":\"overleden\",\"datum\":\"2026-12-01\"}\n";
        assert_eq!(parse(j, Format::Jsonl).unwrap().lines[0].referentie, "R-2");
        let e = parse(b"signaalpartner;resultaat;datum\nx;quick_fix;2026-12-01\n", Format::Csv).unwrap_err();
        assert_eq!(e.code, "columns_missing");
        assert!(e.message.contains("referentie_signaalpartner"), "{e:?}");
    }

    #[test]
    fn the_ddas_columns_are_optional_in_both_formats() {
        let f = "signaal_id;resultaat;datum;Datum_Opgepakt;contactpogingen\nS-1;quick_fix;2026-12-02;2026-12-01;2026-12-01 brief\n";
        let l = &parse(f.as_bytes(), Format::Csv).unwrap().lines[0];
        assert_eq!(
            (l.datum_opgepakt.as_str(), l.contactpogingen.as_str()),
            ("2026-12-01", "2026-12-01 brief")
        );
        let j = b"{\"signaal_id\":\"S-1\",\"resultaat\":\"quick_fix\",\"datum\":\"2026-12-02\",\"datum_opgepakt\":null,\"contactpogingen\":\"2026-12-01 mail\"}\n";
        let l = &parse(j, Format::Jsonl).unwrap().lines[0];
        assert_eq!((l.datum_opgepakt.as_str(), l.contactpogingen.as_str()), ("", "2026-12-01 mail"));
        let old = parse(b"signaal_id;resultaat;datum\nS-1;quick_fix;2026-12-02\n", Format::Csv).unwrap();
        assert_eq!((old.lines[0].datum_opgepakt.as_str(), old.lines[0].contactpogingen.as_str()), ("", ""));
    }

    #[test]
    fn file_level_errors() {
        assert_eq!(codes(parse(b"", Format::Csv)), ["no_data_rows"]);
        assert_eq!(codes(parse(b"signaal_id;resultaat;datum\n", Format::Csv)), ["no_data_rows"]);
        assert_eq!(codes(parse(b"signaal_id;resultaat\nS-1;x\n", Format::Csv)), ["columns_missing"]);
        assert_eq!(codes(parse(b"signaal_id;resultaat;datum;naam\n", Format::Csv)), ["columns_unknown"]);
        assert_eq!(codes(parse(b"signaal_id;datum;datum;resultaat\n", Format::Csv)), ["columns_duplicate"]);
        // Latin-1: 'é' as one byte 0xE9 on line 2.
        let latin1 = b"signaal_id;resultaat;datum\nS-1;geen_contact;2026-12-01 caf\xe9\n";
        let err = parse(latin1, Format::Csv).unwrap_err();
        assert_eq!(err.code, "encoding_invalid");
        assert_eq!(
            (err.line, err.byte_offset),
            (Some(2), Some(latin1.iter().position(|b| *b == 0xE9).unwrap() as u64))
        );
        assert!(err.message.contains("UTF-8"));
    }

    #[test]
    fn line_errors_keep_the_other_lines() {
        let p = parse(b"signaal_id;resultaat;datum\nS-1;quick_fix\nS-2;quick_fix;2026-12-01\n", Format::Csv)
            .unwrap();
        assert_eq!(p.errors.len(), 1);
        assert_eq!((p.errors[0].line, p.errors[0].code.as_str()), (Some(2), "field_count"));
        assert_eq!(p.lines.len(), 1);
        assert_eq!(p.lines[0].line, 3);
    }

    #[test]
    fn json_lines() {
        let f = b"{\"signaal_id\":\"S-1\",\"resultaat\":\"quick_fix\",\"datum\":\"2026-12-01\"}\n\n[1]\n{\"signaal_id\":\"S-2\",\"naam\":\"x\"}\n{\"signaal_id\":3}\n";
        let p = parse(f, Format::Jsonl).unwrap();
        assert_eq!(p.lines.len(), 1);
        let lines: Vec<_> = p.errors.iter().map(|e| (e.line.unwrap(), e.code.as_str())).collect();
        assert_eq!(lines, [(3, "record_malformed"), (4, "record_malformed"), (5, "record_malformed")]);
        assert!(!p.errors[1].message.contains("naam"), "values and names are not echoed");
    }

    #[test]
    fn format_by_name_or_content() {
        assert_eq!(format_of("x.jsonl", b"a;b"), Format::Jsonl);
        assert_eq!(format_of("x.csv", b"{}"), Format::Csv);
        assert_eq!(format_of("upload", b"\xEF\xBB\xBF  {\"a\":1}"), Format::Jsonl);
        assert_eq!(format_of("upload", b"signaal_id;resultaat;datum"), Format::Csv);
    }
}
