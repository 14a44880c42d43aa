//! The CSV bundle: one row per signal, `;`-separated, UTF-8 with BOM, CRLF, so case systems
//! (Allegro, Stratech, Mens Centraal, Suite4) and spreadsheets import it directly. Column names
//! follow the VNG/DDAS vroegsignalering model where it has one.

use std::io::{self, Write};

use super::per_creditor::PerCreditor;
use super::{Row, compact, yes_no};
use crate::domain::signal::Cents;

/// The columns, in order.
pub const COLUMNS: [&str; 40] = [
    "signaal_id",
    "huishouden_id",
    "persoon_nr",
    "enkelvoudig",
    "meervoudig",
    "opeenvolgend",
    "herhaald",
    "onder_drempel",
    "crisissignaal",
    "soort_signaal",
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
    "bedrag_achterstand",
    "ontstaansdatum",
    "signaaldatum",
    "dagen_achterstand",
    "herinneringsdatum",
    "contactpoging",
    "schuldhulp_gewezen",
    "totaal_achterstand_huishouden",
    "signaalpartner",
    "signaalpartner_telefoon",
    "signaalpartner_email",
    "reageer_voor",
    "periode",
    "gemeente",
    "referentie_signaalpartner",
    "werkbak",
    "bekend",
];

/// Writes the whole CSV for `rows` into `out` (streamed: lines are gathered in one buffer
/// that goes on in chunks; nothing else is built in memory).
pub fn write<W: Write + ?Sized>(out: &mut W, rows: &[Row<'_>]) -> io::Result<()> {
    let mut l = Line { out, buf: Vec::with_capacity(CHUNK + 4096), first: true };
    l.buf.extend_from_slice("\u{feff}".as_bytes());
    for c in COLUMNS {
        l.text(c);
    }
    l.end()?;
    let mut letter = [0u8; 4];
    // The last columns are the creditor's (the same on each of its rows) and the file's
    // (the same on every row): rendered once each.
    let mut partners = PerCreditor::default();
    let mut tail: Option<(&Row<'_>, Vec<u8>)> = None;
    for r in rows {
        let s = &r.signal.input.record;
        let flag = |b: Option<bool>| b.map(yes_no).unwrap_or("");
        l.safe(&r.signal.input.signal_id);
        l.safe(&r.household.id);
        l.number(r.signal.person as u64 + 1);
        l.safe(yes_no(r.household.enkelvoudig()));
        l.safe(yes_no(r.household.meervoudig));
        l.safe(yes_no(r.household.opeenvolgend));
        l.safe(yes_no(r.signal.herhaald));
        l.safe(yes_no(r.onder_drempel));
        l.safe(yes_no(s.crisissignaal));
        l.safe(s.soort.as_str());
        l.safe(s.fase.as_str());
        l.opt(&s.voorletters);
        l.opt(&s.voorvoegsel);
        l.text(&s.achternaam);
        l.date(s.geboortedatum);
        l.opt(&s.straatnaam);
        l.number(s.huisnummer.into());
        l.text(s.huisletter.map_or("", |c| c.encode_utf8(&mut letter)));
        l.opt(&s.huisnummertoevoeging);
        l.safe(s.postcode.as_str());
        l.opt(&s.plaatsnaam);
        l.opt(&s.telefoonnummer);
        l.opt(&s.email);
        l.euros(s.bedrag);
        l.date(Some(s.ontstaansdatum));
        l.date(Some(s.signaaldatum));
        l.integer(crate::batch::signals::days_in_arrears(s));
        l.date(s.herinneringsdatum);
        l.safe(flag(s.contactpoging));
        l.safe(flag(s.schuldhulp_gewezen));
        l.euros(r.household.total);
        l.raw(partners.get(r.creditor, |c, text| {
            for field in [&c.name, &c.phone, &c.email] {
                text.push(b';');
                quoted_into(text, field);
            }
        }));
        if !tail.as_ref().is_some_and(|(t, _)| same_file(t, r)) {
            let mut text = Vec::new();
            text.push(b';');
            compact::push_date(&mut text, r.reageer_voor);
            write!(text, ";{};{}", r.period, r.municipality).expect("a Vec takes any bytes");
            tail = Some((r, text));
        }
        l.raw(tail.as_ref().map_or(&[][..], |(_, text)| text));
        l.text(&s.referentie);
        l.safe(r.werkbak.unwrap_or(""));
        l.safe(yes_no(r.bekend));
        l.end()?;
    }
    out_rest(l)
}

/// Whether two rows end in the same columns of the file (respond-by date, period,
/// municipality).
fn same_file(a: &Row<'_>, b: &Row<'_>) -> bool {
    a.reageer_voor == b.reageer_voor && a.period == b.period && a.municipality == b.municipality
}

/// Whether a field of `bytes` must be quoted (it holds a separator, a quote or a line break).
/// Checked without an early exit, so the compiler can check many bytes at once.
fn needs_quotes(bytes: &[u8]) -> bool {
    bytes.iter().fold(false, |any, &b| any | matches!(b, b';' | b'"' | b'\r' | b'\n'))
}

/// Whether a spreadsheet would take a cell starting with these bytes as a formula (OWASP's
/// CSV injection list: `=`, `+`, `-`, `@`, tab, carriage return).
fn formula_start(bytes: &[u8]) -> bool {
    matches!(bytes.first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r'))
}

/// Appends a text field, quoted (quotes doubled) when it holds a separator, a quote or a line
/// break, and behind a `'` when a spreadsheet would take it as a formula (the JSON bundle
/// keeps the value as it is).
fn quoted_into(buf: &mut Vec<u8>, f: &str) {
    let bytes = f.as_bytes();
    let neutralised: &[u8] = if formula_start(bytes) { b"'" } else { b"" };
    if !needs_quotes(bytes) {
        buf.extend_from_slice(neutralised);
        buf.extend_from_slice(bytes);
        return;
    }
    buf.push(b'"');
    buf.extend_from_slice(neutralised);
    for part in bytes.split_inclusive(|&b| b == b'"') {
        buf.extend_from_slice(part);
        if part.last() == Some(&b'"') {
            buf.push(b'"');
        }
    }
    buf.push(b'"');
}

/// Sends what is left in the buffer on.
fn out_rest<W: Write + ?Sized>(l: Line<'_, W>) -> io::Result<()> {
    l.out.write_all(&l.buf)
}

/// Bytes gathered before they go to the writer.
const CHUNK: usize = 1 << 16;

/// Builds CSV lines field by field in a buffer.
struct Line<'w, W: Write + ?Sized> {
    out: &'w mut W,
    buf: Vec<u8>,
    first: bool,
}

impl<W: Write + ?Sized> Line<'_, W> {
    fn sep(&mut self) {
        if !std::mem::take(&mut self.first) {
            self.buf.push(b';');
        }
    }

    /// A text field, quoted (quotes doubled) when it holds a separator, a quote or a line break.
    fn text(&mut self, f: &str) {
        self.sep();
        quoted_into(&mut self.buf, f);
    }

    /// A field that never needs quoting or neutralising (ids, codes, flags, a validated
    /// postcode).
    fn safe(&mut self, f: &str) {
        debug_assert!(!needs_quotes(f.as_bytes()) && !formula_start(f.as_bytes()), "{f:?}");
        self.sep();
        self.buf.extend_from_slice(f.as_bytes());
    }

    /// Fields rendered already (each with its leading separator).
    fn raw(&mut self, fields: &[u8]) {
        self.buf.extend_from_slice(fields);
    }

    /// A signed number.
    fn integer(&mut self, n: i64) {
        self.sep();
        if n < 0 {
            self.buf.push(b'-');
        }
        compact::push_u64(&mut self.buf, n.unsigned_abs());
    }

    /// An optional text field (empty when absent).
    fn opt(&mut self, f: &Option<String>) {
        self.text(f.as_deref().unwrap_or(""));
    }

    /// A number.
    fn number(&mut self, n: u64) {
        self.sep();
        compact::push_u64(&mut self.buf, n);
    }

    /// An amount (`1234,56`).
    fn euros(&mut self, c: Cents) {
        self.sep();
        compact::push_euros(&mut self.buf, c.0);
    }

    /// A date, or an empty field.
    fn date(&mut self, d: Option<jiff::civil::Date>) {
        self.sep();
        if let Some(d) = d {
            compact::push_date(&mut self.buf, d);
        }
    }

    fn end(&mut self) -> io::Result<()> {
        self.first = true;
        self.buf.extend_from_slice(b"\r\n");
        if self.buf.len() >= CHUNK {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(f: &str) -> String {
        let mut buf = Vec::new();
        quoted_into(&mut buf, f);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn cells_a_spreadsheet_would_evaluate_are_neutralised_and_others_kept() {
        assert_eq!(cell("=1+1"), "'=1+1");
        assert_eq!(cell("+31 6 1234"), "'+31 6 1234");
        assert_eq!(cell("-2+3"), "'-2+3");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("\tx"), "'\tx");
        assert_eq!(cell("\r=1"), "\"'\r=1\"");
        assert_eq!(cell("=HYPERLINK(\"http://x\";\"y\")"), "\"'=HYPERLINK(\"\"http://x\"\";\"\"y\"\")\"");
        for kept in ["Dorpsstraat", "van der", "a=b", "1-2", "", "'=already"] {
            assert_eq!(cell(kept), kept);
        }
    }
}
