//! Checking one record: every field, then the rules across fields (dates, arrears window,
//! what the kind requires), into a [`SignalRecord`] or the full list of its problems.

use jiff::civil::Date;

use super::fields::{Field, Row};
use super::problem::Problem;
use super::{Context, RecordError, values};
use crate::domain::period::{age_on, days_between};
use crate::domain::rules::Requirement;
use crate::domain::signal::SignalRecord;

/// What became of one record.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "the record moves straight on to the sink; boxing would cost an allocation per record"
)]
pub(super) enum Outcome {
    /// Valid: keep it.
    Accepted(SignalRecord),
    /// Valid with `bezwaar = ja`: report the referentie only; nothing is kept.
    Objected(String),
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
pub(super) fn check(row: &Row<'_>, line: u64, ctx: &Context<'_>) -> Outcome {
    use Field as F;
    let mut found = Found { problems: Vec::new() };
    let f = &mut found;

    let referentie = f.need(F::Referentie, values::referentie(row.get(F::Referentie)));
    let soort = f.need(F::Soort, values::kind(row.get(F::Soort)));
    let fase = f.take(F::Fase, values::fase(row.get(F::Fase)));
    let voorletters = f.take(F::Voorletters, values::text(row.get(F::Voorletters), 20));
    let voorvoegsel = f.take(F::Voorvoegsel, values::text(row.get(F::Voorvoegsel), 20));
    let achternaam = f.need(F::Achternaam, values::text(row.get(F::Achternaam), 200));
    let geboortedatum = f.take(F::Geboortedatum, values::date(row.get(F::Geboortedatum)));
    let straatnaam = f.take(F::Straatnaam, values::text(row.get(F::Straatnaam), 200));
    let huisnummer = f.need(F::Huisnummer, values::huisnummer(row.get(F::Huisnummer)));
    let huisletter = f.take(F::Huisletter, values::huisletter(row.get(F::Huisletter)));
    let toevoeging = f.take(F::Huisnummertoevoeging, values::text(row.get(F::Huisnummertoevoeging), 4));
    let postcode = f.need(F::Postcode, values::postcode(row.get(F::Postcode)));
    let plaatsnaam = f.take(F::Plaatsnaam, values::text(row.get(F::Plaatsnaam), 200));
    let telefoonnummer = f.take(F::Telefoonnummer, values::telefoonnummer(row.get(F::Telefoonnummer)));
    let email = f.take(F::Email, values::email(row.get(F::Email)));
    let bedrag = f.need(F::Bedrag, values::bedrag(row.get(F::Bedrag)));
    let ontstaansdatum = f.need(F::Ontstaansdatum, values::date(row.get(F::Ontstaansdatum)));
    let signaaldatum = f.take(F::Signaaldatum, values::date(row.get(F::Signaaldatum)));
    let herinneringsdatum = f.take(F::Herinneringsdatum, values::date(row.get(F::Herinneringsdatum)));
    let contactpoging = f.take(F::Contactpoging, values::yes_no(row.get(F::Contactpoging)));
    let schuldhulp = f.take(F::SchuldhulpGewezen, values::yes_no(row.get(F::SchuldhulpGewezen)));
    let bezwaar = f.take(F::Bezwaar, values::yes_no(row.get(F::Bezwaar)));
    let crisissignaal = f.take(F::Crisissignaal, values::yes_no(row.get(F::Crisissignaal)));

    // Rules across fields. A field that already has a problem is not checked again.
    let today = ctx.received_on;
    if let Some(kind) = soort
        && !ctx.allowed_kinds.contains(&kind)
    {
        f.problems.push((F::Soort, Problem::NotAllowed));
    }
    if let Some(Some(born)) = geboortedatum {
        if born > today {
            f.problems.push((F::Geboortedatum, Problem::Future { received_on: today }));
        } else if !(16..=120).contains(&age_on(born, today)) {
            f.problems.push((F::Geboortedatum, Problem::Age));
        }
    }
    let not_future = |f: &mut Found, field: Field, d: Option<Option<Date>>| match d {
        Some(Some(d)) if d > today => {
            f.problems.push((field, Problem::Future { received_on: today }));
            None
        }
        other => other,
    };
    let ontstaansdatum = not_future(f, F::Ontstaansdatum, ontstaansdatum.map(Some)).flatten();
    let signaaldatum = not_future(f, F::Signaaldatum, signaaldatum);
    let herinneringsdatum = not_future(f, F::Herinneringsdatum, herinneringsdatum);

    if let Some(kind) = soort {
        let rules = ctx.rules.for_kind(kind);
        if let (Some(from), Some(to)) = (ontstaansdatum, signaaldatum.map(|d| d.unwrap_or(today))) {
            let days = days_between(from, to);
            if days < i64::from(rules.min_days) {
                f.problems.push((F::Ontstaansdatum, Problem::ArrearsTooShort { kind, min: rules.min_days }));
            } else if let Some(max) = rules.max_days
                && days > i64::from(max)
            {
                f.problems.push((F::Ontstaansdatum, Problem::ArrearsTooLong { kind, max }));
            }
        }
        for req in &rules.requires {
            match req {
                Requirement::Herinneringsdatum if herinneringsdatum == Some(None) => {
                    f.problems.push((F::Herinneringsdatum, Problem::MissingForKind(kind)));
                }
                Requirement::Contactpoging if matches!(contactpoging, Some(None | Some(false))) => {
                    f.problems.push((F::Contactpoging, Problem::Required(kind)));
                }
                Requirement::SchuldhulpGewezen if matches!(schuldhulp, Some(None | Some(false))) => {
                    f.problems.push((F::SchuldhulpGewezen, Problem::Required(kind)));
                }
                _ => {}
            }
        }
    }

    if !found.problems.is_empty() {
        // Stable: problems of one field keep the order they were found in.
        found.problems.sort_by_key(|(field, _)| *field);
        let errors = found
            .problems
            .into_iter()
            .map(|(field, p)| p.to_error(line, referentie.as_deref(), Some(field), ctx.allowed_kinds))
            .collect();
        return Outcome::Rejected(errors);
    }

    // No problems: every `take` returned `Some`, every `need` a value. `else` arms are
    // unreachable; they reject rather than panic should that ever change.
    let (
        Some(referentie),
        Some(soort),
        Some(fase),
        Some(achternaam),
        Some(huisnummer),
        Some(postcode),
        Some(bedrag),
        Some(ontstaansdatum),
    ) = (referentie, soort, fase, achternaam, huisnummer, postcode, bedrag, ontstaansdatum)
    else {
        return Outcome::Rejected(vec![Problem::Invalid.to_error(line, None, None, ctx.allowed_kinds)]);
    };
    // Objection is decided after validation: an objected record is reported as objected
    // only when it is valid; an invalid one is rejected like any other. Neither is stored.
    if bezwaar.flatten() == Some(true) {
        return Outcome::Objected(referentie);
    }
    Outcome::Accepted(SignalRecord {
        referentie,
        soort,
        fase,
        voorletters: voorletters.flatten(),
        voorvoegsel: voorvoegsel.flatten(),
        achternaam,
        geboortedatum: geboortedatum.flatten(),
        straatnaam: straatnaam.flatten(),
        huisnummer,
        huisletter: huisletter.flatten(),
        huisnummertoevoeging: toevoeging.flatten(),
        postcode,
        plaatsnaam: plaatsnaam.flatten(),
        telefoonnummer: telefoonnummer.flatten(),
        email: email.flatten(),
        bedrag,
        ontstaansdatum,
        signaaldatum: signaaldatum.flatten().unwrap_or(today),
        herinneringsdatum: herinneringsdatum.flatten(),
        contactpoging: contactpoging.flatten(),
        schuldhulp_gewezen: schuldhulp.flatten(),
        crisissignaal: crisissignaal.flatten().unwrap_or(false),
    })
}
