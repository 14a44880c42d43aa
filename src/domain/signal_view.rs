//! [`SignalView`]: an accepted signal borrowed from the bytes it was read from.
//!
//! Intake checks a record and seals it without giving each field its own `String`: the text
//! fields point into the upload's buffer, and only a value that changed under Unicode
//! normalisation (NFC) is owned. [`SignalView::to_record`] makes the owned
//! [`SignalRecord`] when one is needed.

use std::borrow::Cow;

use jiff::civil::Date;

use super::signal::{Cents, Fase, Kind, Postcode, SignalRecord};

/// One accepted signal, normalised, with its text borrowed (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignalView<'a> {
    /// The creditor's own unique reference.
    pub referentie: &'a str,
    /// Kind of arrears.
    pub soort: Kind,
    /// Phase.
    pub fase: Fase,
    /// Initials.
    pub voorletters: Option<Cow<'a, str>>,
    /// Surname prefix (`van der`).
    pub voorvoegsel: Option<Cow<'a, str>>,
    /// Surname.
    pub achternaam: Cow<'a, str>,
    /// Date of birth.
    pub geboortedatum: Option<Date>,
    /// Street.
    pub straatnaam: Option<Cow<'a, str>>,
    /// House number, 1–99999.
    pub huisnummer: u32,
    /// House letter, upper case.
    pub huisletter: Option<char>,
    /// House number addition.
    pub huisnummertoevoeging: Option<Cow<'a, str>>,
    /// Normalised postcode.
    pub postcode: Postcode,
    /// Town.
    pub plaatsnaam: Option<Cow<'a, str>>,
    /// Phone number.
    pub telefoonnummer: Option<&'a str>,
    /// E-mail address.
    pub email: Option<Cow<'a, str>>,
    /// Arrears.
    pub bedrag: Cents,
    /// Date the arrears arose.
    pub ontstaansdatum: Date,
    /// Date of the signal (defaults to the day of receipt).
    pub signaaldatum: Date,
    /// Date of the written payment reminder.
    pub herinneringsdatum: Option<Date>,
    /// Personal contact was sought.
    pub contactpoging: Option<bool>,
    /// Debtor was pointed to debt help.
    pub schuldhulp_gewezen: Option<bool>,
    /// Eviction or disconnection is imminent.
    pub crisissignaal: bool,
}

impl SignalView<'_> {
    /// The owned record.
    pub fn to_record(&self) -> SignalRecord {
        let own = |t: &Option<Cow<'_, str>>| t.as_deref().map(str::to_owned);
        SignalRecord {
            referentie: self.referentie.to_owned(),
            soort: self.soort,
            fase: self.fase,
            voorletters: own(&self.voorletters),
            voorvoegsel: own(&self.voorvoegsel),
            achternaam: self.achternaam.clone().into_owned(),
            geboortedatum: self.geboortedatum,
            straatnaam: own(&self.straatnaam),
            huisnummer: self.huisnummer,
            huisletter: self.huisletter,
            huisnummertoevoeging: own(&self.huisnummertoevoeging),
            postcode: self.postcode,
            plaatsnaam: own(&self.plaatsnaam),
            telefoonnummer: self.telefoonnummer.map(str::to_owned),
            email: own(&self.email),
            bedrag: self.bedrag,
            ontstaansdatum: self.ontstaansdatum,
            signaaldatum: self.signaaldatum,
            herinneringsdatum: self.herinneringsdatum,
            contactpoging: self.contactpoging,
            schuldhulp_gewezen: self.schuldhulp_gewezen,
            crisissignaal: self.crisissignaal,
        }
    }
}

impl SignalRecord {
    /// The record as a view borrowing from it.
    pub fn view(&self) -> SignalView<'_> {
        fn b(t: &Option<String>) -> Option<Cow<'_, str>> {
            t.as_deref().map(Cow::Borrowed)
        }
        SignalView {
            referentie: &self.referentie,
            soort: self.soort,
            fase: self.fase,
            voorletters: b(&self.voorletters),
            voorvoegsel: b(&self.voorvoegsel),
            achternaam: Cow::Borrowed(&self.achternaam),
            geboortedatum: self.geboortedatum,
            straatnaam: b(&self.straatnaam),
            huisnummer: self.huisnummer,
            huisletter: self.huisletter,
            huisnummertoevoeging: b(&self.huisnummertoevoeging),
            postcode: self.postcode,
            plaatsnaam: b(&self.plaatsnaam),
            telefoonnummer: self.telefoonnummer.as_deref(),
            email: b(&self.email),
            bedrag: self.bedrag,
            ontstaansdatum: self.ontstaansdatum,
            signaaldatum: self.signaaldatum,
            herinneringsdatum: self.herinneringsdatum,
            contactpoging: self.contactpoging,
            schuldhulp_gewezen: self.schuldhulp_gewezen,
            crisissignaal: self.crisissignaal,
        }
    }
}
