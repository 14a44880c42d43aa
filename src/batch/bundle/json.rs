//! The JSON bundle: the same data as the CSV, grouped household → persons → signals.
//!
//! Streamed with serde straight into the (encrypting) writer, pretty-printed. Keys are in
//! alphabetical order at every level, as the bundle has always had them (it was first built
//! as a `serde_json::Value`, whose maps are sorted); a test holds the output to exactly what
//! pretty-printing it as a `Value` gives.

use std::fmt;
use std::io::{self, Write};

use serde::ser::{SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};

use super::{Euros, Row};
use crate::batch::classify::{Household, Person};
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
    serde_json::to_writer_pretty(&mut *out, &Doc { head, rows }).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

/// Serialises with `Display` (dates, amounts, codes).
struct Shown<T>(T);

impl<T: fmt::Display> Serialize for Shown<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// An optional date, as text or null.
fn date(d: Option<jiff::civil::Date>) -> Option<Shown<jiff::civil::Date>> {
    d.map(Shown)
}

struct Doc<'a> {
    head: &'a Head<'a>,
    rows: &'a [Row<'a>],
}

impl Serialize for Doc<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_struct("Doc", 5)?;
        m.serialize_field("gemeente", &Shown(self.head.municipality))?;
        m.serialize_field("huishoudens", &Households(self.rows))?;
        m.serialize_field("periode", &Shown(self.head.period))?;
        m.serialize_field("reageer_voor", &Shown(self.head.reageer_voor))?;
        m.serialize_field("versie", &self.head.version)?;
        m.end()
    }
}

/// The rows grouped per household.
struct Households<'a>(&'a [Row<'a>]);

impl Serialize for Households<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        let rows = self.0;
        let mut i = 0;
        while i < rows.len() {
            let h = rows[i].household;
            let mut j = i;
            while j < rows.len() && std::ptr::eq(rows[j].household, h) {
                j += 1;
            }
            seq.serialize_element(&HouseholdJson { h, rows: &rows[i..j] })?;
            i = j;
        }
        seq.end()
    }
}

struct HouseholdJson<'a> {
    h: &'a Household,
    rows: &'a [Row<'a>],
}

impl Serialize for HouseholdJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let h = self.h;
        let first = &self.rows[0].signal.input.record;
        let mut m = s.serialize_struct("Household", 8)?;
        m.serialize_field("adres", &Address(first))?;
        m.serialize_field("enkelvoudig", &h.enkelvoudig())?;
        m.serialize_field("huishouden_id", &h.id)?;
        m.serialize_field("meervoudig", &h.meervoudig)?;
        m.serialize_field("onder_drempel", &self.rows[0].onder_drempel)?;
        m.serialize_field("opeenvolgend", &h.opeenvolgend)?;
        m.serialize_field("personen", &Persons { h, rows: self.rows })?;
        m.serialize_field("totaal_achterstand", &Shown(Euros(h.total)))?;
        m.end()
    }
}

struct Address<'a>(&'a crate::domain::signal::SignalRecord);

impl Serialize for Address<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut m = s.serialize_struct("Address", 6)?;
        m.serialize_field("huisletter", &r.huisletter)?;
        m.serialize_field("huisnummer", &r.huisnummer)?;
        m.serialize_field("huisnummertoevoeging", &r.huisnummertoevoeging)?;
        m.serialize_field("plaatsnaam", &r.plaatsnaam)?;
        m.serialize_field("postcode", r.postcode.as_str())?;
        m.serialize_field("straatnaam", &r.straatnaam)?;
        m.end()
    }
}

struct Persons<'a> {
    h: &'a Household,
    rows: &'a [Row<'a>],
}

impl Serialize for Persons<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.h.persons.len()))?;
        for (p, person) in self.h.persons.iter().enumerate() {
            seq.serialize_element(&PersonJson { h: self.h, p, person, rows: self.rows })?;
        }
        seq.end()
    }
}

struct PersonJson<'a> {
    h: &'a Household,
    p: usize,
    person: &'a Person,
    rows: &'a [Row<'a>],
}

impl Serialize for PersonJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let any = &self.h.signals[self.person.signals[0]].input.record;
        let mut m = s.serialize_struct("Person", 6)?;
        m.serialize_field("achternaam", &any.achternaam)?;
        m.serialize_field("geboortedatum", &date(any.geboortedatum))?;
        m.serialize_field("persoon_nr", &(self.p + 1))?;
        m.serialize_field("signalen", &Signals { p: self.p, rows: self.rows })?;
        m.serialize_field("voorletters", &any.voorletters)?;
        m.serialize_field("voorvoegsel", &any.voorvoegsel)?;
        m.end()
    }
}

/// The signals of person `p` among a household's rows.
struct Signals<'a> {
    p: usize,
    rows: &'a [Row<'a>],
}

impl Serialize for Signals<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for r in self.rows.iter().filter(|r| r.signal.person == self.p) {
            seq.serialize_element(&SignalJson(r))?;
        }
        seq.end()
    }
}

struct SignalJson<'a>(&'a Row<'a>);

impl Serialize for SignalJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let sig = &r.signal.input.record;
        let mut m = s.serialize_struct("Signal", 16)?;
        m.serialize_field("bedrag_achterstand", &Shown(Euros(sig.bedrag)))?;
        m.serialize_field("contactpoging", &sig.contactpoging)?;
        m.serialize_field("crisissignaal", &sig.crisissignaal)?;
        m.serialize_field("dagen_achterstand", &crate::batch::signals::days_in_arrears(sig))?;
        m.serialize_field("email", &sig.email)?;
        m.serialize_field("fase", sig.fase.as_str())?;
        m.serialize_field("herhaald", &r.signal.herhaald)?;
        m.serialize_field("herinneringsdatum", &date(sig.herinneringsdatum))?;
        m.serialize_field("ontstaansdatum", &Shown(sig.ontstaansdatum))?;
        m.serialize_field("reageer_voor", &Shown(r.reageer_voor))?;
        m.serialize_field("schuldhulp_gewezen", &sig.schuldhulp_gewezen)?;
        m.serialize_field("signaal_id", &r.signal.input.signal_id)?;
        m.serialize_field("signaaldatum", &Shown(sig.signaaldatum))?;
        m.serialize_field("signaalpartner", &Partner(r.creditor))?;
        m.serialize_field("soort_signaal", sig.soort.as_str())?;
        m.serialize_field("telefoonnummer", &sig.telefoonnummer)?;
        m.end()
    }
}

struct Partner<'a>(&'a crate::config::Creditor);

impl Serialize for Partner<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_struct("Partner", 3)?;
        m.serialize_field("email", &self.0.email)?;
        m.serialize_field("naam", &self.0.name)?;
        m.serialize_field("telefoon", &self.0.phone)?;
        m.end()
    }
}
