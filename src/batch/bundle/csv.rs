//! The CSV bundle: one row per signal, `;`-separated, UTF-8 with BOM, CRLF, so case systems
//! (Allegro, Stratech, Mens Centraal, Suite4) and spreadsheets import it directly. Column names
//! follow the VNG/DDAS vroegsignalering model where it has one.

use super::{Row, cents, yes_no};

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

/// Writes the whole CSV for `rows`.
pub fn write(rows: &[Row<'_>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + rows.len() * 400);
    out.extend_from_slice("\u{feff}".as_bytes());
    line(&mut out, COLUMNS.iter().map(|c| (*c).to_owned()));
    for r in rows {
        let s = &r.signal.input.record;
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let date = |d: Option<jiff::civil::Date>| d.map(|d| d.to_string()).unwrap_or_default();
        let flag = |b: Option<bool>| b.map(yes_no).unwrap_or("").to_owned();
        line(
            &mut out,
            [
                r.signal.input.signal_id.clone(),
                r.household.id.clone(),
                (r.signal.person + 1).to_string(),
                yes_no(r.household.enkelvoudig()).to_owned(),
                yes_no(r.household.meervoudig).to_owned(),
                yes_no(r.household.opeenvolgend).to_owned(),
                yes_no(r.signal.herhaald).to_owned(),
                yes_no(r.onder_drempel).to_owned(),
                yes_no(s.crisissignaal).to_owned(),
                s.soort.as_str().to_owned(),
                s.fase.as_str().to_owned(),
                opt(&s.voorletters),
                opt(&s.voorvoegsel),
                s.achternaam.clone(),
                date(s.geboortedatum),
                opt(&s.straatnaam),
                s.huisnummer.to_string(),
                s.huisletter.map(String::from).unwrap_or_default(),
                opt(&s.huisnummertoevoeging),
                s.postcode.as_str().to_owned(),
                opt(&s.plaatsnaam),
                opt(&s.telefoonnummer),
                opt(&s.email),
                cents(s.bedrag),
                s.ontstaansdatum.to_string(),
                s.signaaldatum.to_string(),
                crate::batch::signals::days_in_arrears(s).to_string(),
                date(s.herinneringsdatum),
                flag(s.contactpoging),
                flag(s.schuldhulp_gewezen),
                cents(r.household.total),
                r.creditor.name.clone(),
                r.creditor.phone.clone(),
                r.creditor.email.clone(),
                r.reageer_voor.to_string(),
                r.period.to_string(),
                r.municipality.to_string(),
            ]
            .into_iter(),
        );
    }
    out
}

fn line(out: &mut Vec<u8>, fields: impl Iterator<Item = String>) {
    for (i, f) in fields.enumerate() {
        if i > 0 {
            out.push(b';');
        }
        if f.contains([';', '"', '\r', '\n']) {
            out.push(b'"');
            out.extend_from_slice(f.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(f.as_bytes());
        }
    }
    out.extend_from_slice(b"\r\n");
}
