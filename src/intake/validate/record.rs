//! Checking one record: every field, then the rules across fields (dates, arrears window,
//! what the kind requires), into a [`SignalRecord`] or the full list of its problems.

use std::borrow::Cow;

use jiff::civil::Date;

use super::fields::{Field, Field as F, Row};
use super::problem::Problem;
use super::{Context, RecordError, values};
use crate::domain::period::{age_on, days_between};
use crate::domain::rules::{KindRules, Requirement};
use crate::domain::signal::{Cents, Fase, Kind, Postcode};
use crate::domain::signal_view::SignalView;

/// What became of one record.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "the record moves straight on to the sink; boxing would cost an allocation per record"
)]
pub(super) enum Outcome<'a> {
    /// Valid: keep it.
    Accepted(SignalView<'a>),
    /// Valid with `bezwaar = ja`: report the referentie only; nothing is kept.
    Objected(&'a str),
    /// Invalid: every problem, in field order.
    Rejected(Vec<RecordError>),
}

/// Problems found so far in one record.
struct Found {
    problems: Vec<(Field, Problem)>,
}

impl Found {
    /// The value of `r`, or `None` after noting its problem under `field`.
    fn take<T>(&mut self, field: Field, r: Result<T, Problem>) -> Option<T> {
        r.map_err(|p| self.problems.push((field, p))).ok()
    }

    /// Like [`Found::take`] for a required field: absent is `Missing`.
    fn need<T>(&mut self, field: Field, r: values::Parsed<T>) -> Option<T> {
        self.take(field, r).and_then(|v| {
            if v.is_none() {
                self.problems.push((field, Problem::Missing));
            }
            v
        })
    }
}

/// Checks one record that starts on `line`.
pub(super) fn check<'a>(row: &Row<'a>, line: u64, ctx: &Context<'_>) -> Outcome<'a> {
    let mut found = Found { problems: Vec::new() };
    let f = &mut found;
    let (identity, person, address, mut arrears, flags) = read(f, row);

    // Rules across fields. A field that already has a problem is not checked again.
    let today = ctx.received_on;
    f.kind_allowed(identity.soort, ctx.allowed_kinds);
    f.birth_date(person.geboortedatum, today);
    f.dates_not_in_future(&mut arrears, today);
    if let Some(kind) = identity.soort {
        let rules = ctx.rules.for_kind(kind);
        f.arrears_window(kind, rules, &arrears, today);
        f.required_for_kind(kind, rules, &arrears, &flags);
    }
    if !f.problems.is_empty() {
        return found.rejected(line, identity.referentie, ctx.allowed_kinds);
    }

    // Objection is decided after validation: an objected record is reported as objected
    // only when it is valid; an invalid one is rejected like any other. Neither is stored.
    let objected = flags.bezwaar.flatten() == Some(true);
    let Some(record) = record(identity, person, address, arrears, flags, today) else {
        return Outcome::Rejected(vec![Problem::Invalid.to_error(line, None, None, ctx.allowed_kinds)]);
    };
    if objected { Outcome::Objected(record.referentie) } else { Outcome::Accepted(record) }
}

// The fields as read, in groups in field order: `None` once a field's problem is noted,
// `Some(None)` for an optional field that is absent.

/// `referentie`, `soort` and `fase`.
struct Identity<'a> {
    referentie: Option<&'a str>,
    soort: Option<Kind>,
    fase: Option<Fase>,
}

/// `voorletters`, `voorvoegsel`, `achternaam` and `geboortedatum`.
struct Person<'a> {
    voorletters: Option<Option<Cow<'a, str>>>,
    voorvoegsel: Option<Option<Cow<'a, str>>>,
    achternaam: Option<Cow<'a, str>>,
    geboortedatum: Option<Option<Date>>,
}

/// The address, then the phone number and e-mail address: `straatnaam` to `email`.
struct Address<'a> {
    straatnaam: Option<Option<Cow<'a, str>>>,
    huisnummer: Option<u32>,
    huisletter: Option<Option<char>>,
    toevoeging: Option<Option<Cow<'a, str>>>,
    postcode: Option<Postcode>,
    plaatsnaam: Option<Option<Cow<'a, str>>>,
    telefoonnummer: Option<Option<&'a str>>,
    email: Option<Option<Cow<'a, str>>>,
}

/// `bedrag` and the dates of the arrears.
struct Arrears {
    bedrag: Option<Cents>,
    ontstaansdatum: Option<Date>,
    signaaldatum: Option<Option<Date>>,
    herinneringsdatum: Option<Option<Date>>,
}

/// The yes/no fields.
struct Flags {
    contactpoging: Option<Option<bool>>,
    schuldhulp: Option<Option<bool>>,
    bezwaar: Option<Option<bool>>,
    crisissignaal: Option<Option<bool>>,
}

/// Reads every field of `row` into its group, noting each field's own problem in `f`.
#[inline]
fn read<'a>(f: &mut Found, row: &Row<'a>) -> (Identity<'a>, Person<'a>, Address<'a>, Arrears, Flags) {
    // A tuple and a struct literal evaluate their parts in the order written: field order.
    (
        Identity {
            referentie: f.need(F::Referentie, values::referentie(row.get(F::Referentie))),
            soort: f.need(F::Soort, values::kind(row.get(F::Soort))),
            fase: f.take(F::Fase, values::fase(row.get(F::Fase))),
        },
        Person {
            voorletters: f.take(F::Voorletters, values::text(row.get(F::Voorletters), 20)),
            voorvoegsel: f.take(F::Voorvoegsel, values::text(row.get(F::Voorvoegsel), 20)),
            achternaam: f.need(F::Achternaam, values::text(row.get(F::Achternaam), 200)),
            geboortedatum: f.take(F::Geboortedatum, values::date(row.get(F::Geboortedatum))),
        },
        Address {
            straatnaam: f.take(F::Straatnaam, values::text(row.get(F::Straatnaam), 200)),
            huisnummer: f.need(F::Huisnummer, values::huisnummer(row.get(F::Huisnummer))),
            huisletter: f.take(F::Huisletter, values::huisletter(row.get(F::Huisletter))),
            toevoeging: f.take(F::Huisnummertoevoeging, values::text(row.get(F::Huisnummertoevoeging), 4)),
            postcode: f.need(F::Postcode, values::postcode(row.get(F::Postcode))),
            plaatsnaam: f.take(F::Plaatsnaam, values::text(row.get(F::Plaatsnaam), 200)),
            telefoonnummer: f.take(F::Telefoonnummer, values::telefoonnummer(row.get(F::Telefoonnummer))),
            email: f.take(F::Email, values::email(row.get(F::Email))),
        },
        Arrears {
            bedrag: f.need(F::Bedrag, values::bedrag(row.get(F::Bedrag))),
            ontstaansdatum: f.need(F::Ontstaansdatum, values::date(row.get(F::Ontstaansdatum))),
            signaaldatum: f.take(F::Signaaldatum, values::date(row.get(F::Signaaldatum))),
            herinneringsdatum: f.take(F::Herinneringsdatum, values::date(row.get(F::Herinneringsdatum))),
        },
        Flags {
            contactpoging: f.take(F::Contactpoging, values::yes_no(row.get(F::Contactpoging))),
            schuldhulp: f.take(F::SchuldhulpGewezen, values::yes_no(row.get(F::SchuldhulpGewezen))),
            bezwaar: f.take(F::Bezwaar, values::yes_no(row.get(F::Bezwaar))),
            crisissignaal: f.take(F::Crisissignaal, values::yes_no(row.get(F::Crisissignaal))),
        },
    )
}

/// The record the groups make once they have no problem, `signaaldatum` defaulting to
/// `today`; `None` if a required value is missing.
#[inline]
fn record<'a>(
    identity: Identity<'a>,
    person: Person<'a>,
    address: Address<'a>,
    arrears: Arrears,
    flags: Flags,
    today: Date,
) -> Option<SignalView<'a>> {
    // Without problems every `take` returned `Some`, every `need` a value, so `None` is
    // unreachable; it rejects rather than panics should that ever change.
    Some(SignalView {
        referentie: identity.referentie?,
        soort: identity.soort?,
        fase: identity.fase?,
        voorletters: person.voorletters.flatten(),
        voorvoegsel: person.voorvoegsel.flatten(),
        achternaam: person.achternaam?,
        geboortedatum: person.geboortedatum.flatten(),
        straatnaam: address.straatnaam.flatten(),
        huisnummer: address.huisnummer?,
        huisletter: address.huisletter.flatten(),
        huisnummertoevoeging: address.toevoeging.flatten(),
        postcode: address.postcode?,
        plaatsnaam: address.plaatsnaam.flatten(),
        telefoonnummer: address.telefoonnummer.flatten(),
        email: address.email.flatten(),
        bedrag: arrears.bedrag?,
        ontstaansdatum: arrears.ontstaansdatum?,
        signaaldatum: arrears.signaaldatum.flatten().unwrap_or(today),
        herinneringsdatum: arrears.herinneringsdatum.flatten(),
        contactpoging: flags.contactpoging.flatten(),
        schuldhulp_gewezen: flags.schuldhulp.flatten(),
        crisissignaal: flags.crisissignaal.flatten().unwrap_or(false),
    })
}

impl Found {
    /// `soort` must be a kind this creditor may send.
    #[inline]
    fn kind_allowed(&mut self, soort: Option<Kind>, allowed: &[Kind]) {
        if let Some(kind) = soort
            && !allowed.contains(&kind)
        {
            self.problems.push((Field::Soort, Problem::NotAllowed));
        }
    }

    /// `geboortedatum`, when given, lies before `today` and makes the person 16 to 120.
    #[inline]
    fn birth_date(&mut self, geboortedatum: Option<Option<Date>>, today: Date) {
        if let Some(Some(born)) = geboortedatum {
            if born > today {
                self.problems.push((Field::Geboortedatum, Problem::Future { received_on: today }));
            } else if !(16..=120).contains(&age_on(born, today)) {
                self.problems.push((Field::Geboortedatum, Problem::Age));
            }
        }
    }

    /// The dates of the arrears lie on or before `today`; one after it is noted and dropped.
    #[inline]
    fn dates_not_in_future(&mut self, a: &mut Arrears, today: Date) {
        a.ontstaansdatum =
            self.not_future(Field::Ontstaansdatum, a.ontstaansdatum.map(Some), today).flatten();
        a.signaaldatum = self.not_future(Field::Signaaldatum, a.signaaldatum, today);
        a.herinneringsdatum = self.not_future(Field::Herinneringsdatum, a.herinneringsdatum, today);
    }

    /// The date `d` of `field`, or `None` after noting that it lies after `today`.
    #[inline]
    fn not_future(&mut self, field: Field, d: Option<Option<Date>>, today: Date) -> Option<Option<Date>> {
        match d {
            Some(Some(d)) if d > today => {
                self.problems.push((field, Problem::Future { received_on: today }));
                None
            }
            other => other,
        }
    }

    /// The days from `ontstaansdatum` to `signaaldatum` (or `today`) lie in the kind's window.
    #[inline]
    fn arrears_window(&mut self, kind: Kind, rules: &KindRules, arrears: &Arrears, today: Date) {
        if let (Some(from), Some(to)) =
            (arrears.ontstaansdatum, arrears.signaaldatum.map(|d| d.unwrap_or(today)))
        {
            let days = days_between(from, to);
            if days < i64::from(rules.min_days) {
                self.problems
                    .push((Field::Ontstaansdatum, Problem::ArrearsTooShort { kind, min: rules.min_days }));
            } else if let Some(max) = rules.max_days
                && days > i64::from(max)
            {
                self.problems.push((Field::Ontstaansdatum, Problem::ArrearsTooLong { kind, max }));
            }
        }
    }

    /// The fields the kind requires are there (and `ja` where it asks for a yes).
    #[inline]
    fn required_for_kind(&mut self, kind: Kind, rules: &KindRules, arrears: &Arrears, flags: &Flags) {
        for req in &rules.requires {
            match req {
                Requirement::Herinneringsdatum if arrears.herinneringsdatum == Some(None) => {
                    self.problems.push((Field::Herinneringsdatum, Problem::MissingForKind(kind)));
                }
                Requirement::Contactpoging if matches!(flags.contactpoging, Some(None | Some(false))) => {
                    self.problems.push((Field::Contactpoging, Problem::Required(kind)));
                }
                Requirement::SchuldhulpGewezen if matches!(flags.schuldhulp, Some(None | Some(false))) => {
                    self.problems.push((Field::SchuldhulpGewezen, Problem::Required(kind)));
                }
                _ => {}
            }
        }
    }

    /// The rejection of the record: every problem, in field order.
    #[inline]
    fn rejected(mut self, line: u64, referentie: Option<&str>, allowed: &[Kind]) -> Outcome<'static> {
        // Stable: problems of one field keep the order they were found in.
        self.problems.sort_by_key(|(field, _)| *field);
        let errors = self
            .problems
            .into_iter()
            .map(|(field, p)| p.to_error(line, referentie, Some(field), allowed))
            .collect();
        Outcome::Rejected(errors)
    }
}
