//! The CSV bundle: one row per signal, `;`-separated, UTF-8 with BOM, CRLF, so case systems
//! (Allegro, Stratech, Mens Centraal, Suite4) and spreadsheets import it directly. Column names
//! follow the VNG/DDAS vroegsignalering model where it has one.

use std::fmt;
use std::io::{self, Write};

use super::{Euros, Row, yes_no};

/// The columns, in order.
pub const COLUMNS: [&str; 37] = [
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
];

/// Writes the whole CSV for `rows` into `out` (streamed: nothing is built in memory).
pub fn write<W: Write + ?Sized>(out: &mut W, rows: &[Row<'_>]) -> io::Result<()> {
    out.write_all("\u{feff}".as_bytes())?;
    let mut l = Line::new(out);
    for c in COLUMNS {
        l.text(c)?;
    }
    l.end()?;
    let mut letter = [0u8; 4];
    for r in rows {
        let s = &r.signal.input.record;
        let date = |d: Option<jiff::civil::Date>| d.map(Either::Left).unwrap_or(Either::Right(""));
        let flag = |b: Option<bool>| b.map(yes_no).unwrap_or("");
        l.text(&r.signal.input.signal_id)?;
        l.text(&r.household.id)?;
        l.value(r.signal.person + 1)?;
        l.text(yes_no(r.household.enkelvoudig()))?;
        l.text(yes_no(r.household.meervoudig))?;
        l.text(yes_no(r.household.opeenvolgend))?;
        l.text(yes_no(r.signal.herhaald))?;
        l.text(yes_no(r.onder_drempel))?;
        l.text(yes_no(s.crisissignaal))?;
        l.text(s.soort.as_str())?;
        l.text(s.fase.as_str())?;
        l.opt(&s.voorletters)?;
        l.opt(&s.voorvoegsel)?;
        l.text(&s.achternaam)?;
        l.value(date(s.geboortedatum))?;
        l.opt(&s.straatnaam)?;
        l.value(s.huisnummer)?;
        l.text(s.huisletter.map_or("", |c| c.encode_utf8(&mut letter)))?;
        l.opt(&s.huisnummertoevoeging)?;
        l.text(s.postcode.as_str())?;
        l.opt(&s.plaatsnaam)?;
        l.opt(&s.telefoonnummer)?;
        l.opt(&s.email)?;
        l.value(Euros(s.bedrag))?;
        l.value(s.ontstaansdatum)?;
        l.value(s.signaaldatum)?;
        l.value(crate::batch::signals::days_in_arrears(s))?;
        l.value(date(s.herinneringsdatum))?;
        l.text(flag(s.contactpoging))?;
        l.text(flag(s.schuldhulp_gewezen))?;
        l.value(Euros(r.household.total))?;
        l.text(&r.creditor.name)?;
        l.text(&r.creditor.phone)?;
        l.text(&r.creditor.email)?;
        l.value(r.reageer_voor)?;
        l.value(r.period)?;
        l.value(r.municipality)?;
        l.end()?;
    }
    Ok(())
}

/// One value or the other, displayed.
enum Either<A, B> {
    Left(A),
    Right(B),
}

impl<A: fmt::Display, B: fmt::Display> fmt::Display for Either<A, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Either::Left(a) => a.fmt(f),
            Either::Right(b) => b.fmt(f),
        }
    }
}

/// Writes one CSV line field by field.
struct Line<'w, W: Write + ?Sized> {
    out: &'w mut W,
    first: bool,
}

impl<'w, W: Write + ?Sized> Line<'w, W> {
    fn new(out: &'w mut W) -> Self {
        Line { out, first: true }
    }

    fn sep(&mut self) -> io::Result<()> {
        if !std::mem::take(&mut self.first) {
            self.out.write_all(b";")?;
        }
        Ok(())
    }

    /// A text field, quoted when it holds a separator, a quote or a line break.
    fn text(&mut self, f: &str) -> io::Result<()> {
        self.sep()?;
        if f.contains([';', '"', '\r', '\n']) {
            self.out.write_all(b"\"")?;
            self.out.write_all(f.replace('"', "\"\"").as_bytes())?;
            self.out.write_all(b"\"")
        } else {
            self.out.write_all(f.as_bytes())
        }
    }

    /// An optional text field (empty when absent).
    fn opt(&mut self, f: &Option<String>) -> io::Result<()> {
        self.text(f.as_deref().unwrap_or(""))
    }

    /// A number, date or code: never needs quoting.
    fn value(&mut self, v: impl fmt::Display) -> io::Result<()> {
        self.sep()?;
        write!(self.out, "{v}")
    }

    fn end(&mut self) -> io::Result<()> {
        self.first = true;
        self.out.write_all(b"\r\n")
    }
}
