//! The JSON bundle: the same data as the CSV, grouped household → persons → signals.
//!
//! Streamed as compact JSON straight into the (encrypting) writer by a hand-written writer
//! ([`super::compact`]). Keys are in alphabetical order at every level, as the bundle has
//! always had them (it was first built as a `serde_json::Value`, whose maps are sorted); a test
//! holds the output to exactly what serde_json writes for it as a `Value`.

use std::io::{self, Write};

use super::Row;
use super::compact::{Compact, escape_into};
use super::per_creditor::PerCreditor;
use crate::batch::classify::Household;
use crate::domain::party::MunicipalityCode;
use crate::domain::period::Period;

/// What stands above the households.
pub struct Head<'a> {
    /// The period.
    pub period: Period,
    /// The municipality.
    pub municipality: &'a MunicipalityCode,
    /// Bundle version.
    pub version: u32,
    /// Respond-by date.
    pub reageer_voor: jiff::civil::Date,
}

/// Writes the JSON document for the rows of one municipality (rows grouped per household, in
/// order, as the delivery produces them) into `out`.
pub fn write<W: Write + ?Sized>(out: &mut W, rows: &[Row<'_>], head: &Head<'_>) -> io::Result<()> {
    let mut w = Compact::new(out);
    w.open(b'{');
    w.key(true, "gemeente");
    w.shown(head.municipality);
    w.key(false, "huishoudens");
    w.open(b'[');
    let mut partners = PerCreditor::default();
    let mut i = 0;
    while i < rows.len() {
        let h = rows[i].household;
        let mut j = i;
        while j < rows.len() && std::ptr::eq(rows[j].household, h) {
            j += 1;
        }
        w.element(i == 0);
        household(&mut w, h, &rows[i..j], &mut partners)?;
        i = j;
    }
    w.close(b']')?;
    w.key(false, "periode");
    w.shown(head.period);
    w.key(false, "reageer_voor");
    w.date(head.reageer_voor);
    w.key(false, "versie");
    w.u64(head.version.into());
    w.close(b'}')?;
    w.finish()
}

/// One household with its rows.
fn household<'r, W: Write + ?Sized>(
    w: &mut Compact<'_, W>,
    h: &Household,
    rows: &[Row<'r>],
    partners: &mut PerCreditor<'r>,
) -> io::Result<()> {
    let first = &rows[0].signal.input.record;
    w.open(b'{');
    w.key(true, "adres");
    w.open(b'{');
    w.key(true, "huisletter");
    let mut letter = [0u8; 4];
    w.opt_str(first.huisletter.map(|c| &*c.encode_utf8(&mut letter)));
    w.key(false, "huisnummer");
    w.u64(first.huisnummer.into());
    w.key(false, "huisnummertoevoeging");
    w.opt_str(first.huisnummertoevoeging.as_deref());
    w.key(false, "plaatsnaam");
    w.opt_str(first.plaatsnaam.as_deref());
    w.key(false, "postcode");
    w.plain(first.postcode.as_str());
    w.key(false, "straatnaam");
    w.opt_str(first.straatnaam.as_deref());
    w.close(b'}')?;
    w.key(false, "enkelvoudig");
    w.bool(h.enkelvoudig());
    w.key(false, "huishouden_id");
    w.plain(&h.id);
    w.key(false, "meervoudig");
    w.bool(h.meervoudig);
    w.key(false, "onder_drempel");
    w.bool(rows[0].onder_drempel);
    w.key(false, "opeenvolgend");
    w.bool(h.opeenvolgend);
    w.key(false, "personen");
    w.open(b'[');
    // A person none of whose signals the municipality takes is not shown.
    let shown = h.persons.iter().enumerate().filter(|(p, _)| rows.iter().any(|r| r.signal.person == *p));
    for (k, (p, person)) in shown.enumerate() {
        let any = &h.signals[person.signals[0]].input.record;
        w.element(k == 0);
        w.open(b'{');
        w.key(true, "achternaam");
        w.str(&any.achternaam);
        w.key(false, "geboortedatum");
        w.opt_date(any.geboortedatum);
        w.key(false, "persoon_nr");
        w.u64(p as u64 + 1);
        w.key(false, "signalen");
        w.open(b'[');
        for (k, r) in rows.iter().filter(|r| r.signal.person == p).enumerate() {
            w.element(k == 0);
            signal(w, r, partners)?;
        }
        w.close(b']')?;
        w.key(false, "voorletters");
        w.opt_str(any.voorletters.as_deref());
        w.key(false, "voorvoegsel");
        w.opt_str(any.voorvoegsel.as_deref());
        w.close(b'}')?;
    }
    w.close(b']')?;
    w.key(false, "totaal_achterstand");
    w.euros(h.total.0);
    w.close(b'}')
}

/// One signal.
fn signal<'r, W: Write + ?Sized>(
    w: &mut Compact<'_, W>,
    r: &Row<'r>,
    partners: &mut PerCreditor<'r>,
) -> io::Result<()> {
    let sig = &r.signal.input.record;
    w.open(b'{');
    w.key(true, "bedrag_achterstand");
    w.euros(sig.bedrag.0);
    w.key(false, "bekend");
    w.bool(r.bekend);
    w.key(false, "contactpoging");
    w.opt_bool(sig.contactpoging);
    w.key(false, "crisissignaal");
    w.bool(sig.crisissignaal);
    w.key(false, "dagen_achterstand");
    w.i64(crate::batch::signals::days_in_arrears(sig));
    w.key(false, "email");
    w.opt_str(sig.email.as_deref());
    w.key(false, "fase");
    w.plain(sig.fase.as_str());
    w.key(false, "herhaald");
    w.bool(r.signal.herhaald);
    w.key(false, "herinneringsdatum");
    w.opt_date(sig.herinneringsdatum);
    w.key(false, "ontstaansdatum");
    w.date(sig.ontstaansdatum);
    w.key(false, "reageer_voor");
    w.date(r.reageer_voor);
    w.key(false, "referentie_signaalpartner");
    w.str(&sig.referentie);
    w.key(false, "schuldhulp_gewezen");
    w.opt_bool(sig.schuldhulp_gewezen);
    w.key(false, "signaal_id");
    w.plain(&r.signal.input.signal_id);
    w.key(false, "signaaldatum");
    w.date(sig.signaaldatum);
    w.key(false, "signaalpartner");
    w.raw(partners.get(r.creditor, |c, text| {
        text.extend_from_slice(b"{\"email\":");
        escape_into(text, &c.email);
        text.extend_from_slice(b",\"naam\":");
        escape_into(text, &c.name);
        text.extend_from_slice(b",\"telefoon\":");
        escape_into(text, &c.phone);
        text.push(b'}');
    }));
    w.key(false, "soort_signaal");
    w.plain(sig.soort.as_str());
    w.key(false, "telefoonnummer");
    w.opt_str(sig.telefoonnummer.as_deref());
    w.key(false, "werkbak");
    w.opt_str(r.werkbak);
    w.close(b'}')
}
