//! Every record error code, each from at least one case, and how problems are reported.

use super::*;
use Field as F;

/// Changes to the base record, the code they must give, and the field it must name.
type Case = (&'static [(Field, &'static str)], &'static str, Field);

#[rustfmt::skip]
const CASES: &[Case] = &[
    (&[(F::Referentie, "")], "referentie_missing", F::Referentie),
    (&[(F::Referentie, "A 1#")], "referentie_invalid", F::Referentie),
    (&[(F::Referentie, "R-123456789012345678901234567890123456789012345678901234567890xyz")], "referentie_too_long", F::Referentie),
    (&[(F::Soort, "")], "soort_missing", F::Soort),
    (&[(F::Soort, "lening")], "soort_invalid", F::Soort),
    (&[(F::Soort, "warmte")], "soort_not_allowed", F::Soort),
    (&[(F::Fase, "laatste")], "fase_invalid", F::Fase),
    (&[(F::Voorletters, "A.B.C.D.E.F.G.H.I.J.K")], "voorletters_too_long", F::Voorletters),
    (&[(F::Voorletters, "A.\tB.")], "voorletters_invalid", F::Voorletters),
    (&[(F::Voorvoegsel, "van der van den van de")], "voorvoegsel_too_long", F::Voorvoegsel),
    (&[(F::Achternaam, "")], "achternaam_missing", F::Achternaam),
    (&[(F::Achternaam, "Berg\nJansen")], "achternaam_invalid", F::Achternaam),
    (&[(F::Geboortedatum, "17-05-1980")], "geboortedatum_invalid", F::Geboortedatum),
    (&[(F::Geboortedatum, "2027-01-01")], "geboortedatum_future", F::Geboortedatum),
    (&[(F::Geboortedatum, "2015-01-01")], "geboortedatum_age", F::Geboortedatum),
    (&[(F::Geboortedatum, "1900-01-01")], "geboortedatum_age", F::Geboortedatum),
    (&[(F::Huisnummer, "")], "huisnummer_missing", F::Huisnummer),
    (&[(F::Huisnummer, "12a")], "huisnummer_invalid", F::Huisnummer),
    (&[(F::Huisnummer, "100000")], "huisnummer_invalid", F::Huisnummer),
    (&[(F::Huisletter, "bis")], "huisletter_invalid", F::Huisletter),
    (&[(F::Huisnummertoevoeging, "zwart")], "huisnummertoevoeging_too_long", F::Huisnummertoevoeging),
    (&[(F::Postcode, "")], "postcode_missing", F::Postcode),
    (&[(F::Postcode, "12345")], "postcode_invalid", F::Postcode),
    (&[(F::Postcode, "0123AB")], "postcode_invalid", F::Postcode),
    (&[(F::Telefoonnummer, "06-CALLME")], "telefoonnummer_invalid", F::Telefoonnummer),
    (&[(F::Telefoonnummer, "+31 6 1234 5678 9012 34")], "telefoonnummer_too_long", F::Telefoonnummer),
    (&[(F::Email, "jan.example.nl")], "email_invalid", F::Email),
    (&[(F::Email, "jan@@example.nl")], "email_invalid", F::Email),
    (&[(F::Bedrag, "")], "bedrag_missing", F::Bedrag),
    (&[(F::Bedrag, "1.234,56")], "bedrag_invalid", F::Bedrag),
    (&[(F::Bedrag, "12,345")], "bedrag_invalid", F::Bedrag),
    (&[(F::Bedrag, "€ 12")], "bedrag_invalid", F::Bedrag),
    (&[(F::Bedrag, "0,00")], "bedrag_out_of_range", F::Bedrag),
    (&[(F::Bedrag, "1000000,01")], "bedrag_out_of_range", F::Bedrag),
    (&[(F::Ontstaansdatum, "")], "ontstaansdatum_missing", F::Ontstaansdatum),
    (&[(F::Ontstaansdatum, "2026-13-01")], "ontstaansdatum_invalid", F::Ontstaansdatum),
    (&[(F::Ontstaansdatum, "2026-11-21"), (F::Signaaldatum, "")], "ontstaansdatum_future", F::Ontstaansdatum),
    (&[(F::Signaaldatum, "19-11-2026")], "signaaldatum_invalid", F::Signaaldatum),
    (&[(F::Signaaldatum, "2026-11-21")], "signaaldatum_future", F::Signaaldatum),
    (&[(F::Herinneringsdatum, "2026-9-15")], "herinneringsdatum_invalid", F::Herinneringsdatum),
    (&[(F::Herinneringsdatum, "2026-12-01")], "herinneringsdatum_future", F::Herinneringsdatum),
    (&[(F::Herinneringsdatum, "")], "herinneringsdatum_missing", F::Herinneringsdatum),
    (&[(F::Ontstaansdatum, "2026-10-21")], "arrears_too_short", F::Ontstaansdatum),
    (&[(F::Soort, "zorgverzekering"), (F::Ontstaansdatum, "2026-05-01"), ], "arrears_too_long", F::Ontstaansdatum),
    (&[(F::Contactpoging, "misschien")], "contactpoging_invalid", F::Contactpoging),
    (&[(F::Contactpoging, "nee")], "contactpoging_required", F::Contactpoging),
    (&[(F::Soort, "gas"), (F::Contactpoging, "")], "contactpoging_required", F::Contactpoging),
    (&[(F::SchuldhulpGewezen, "yes")], "schuldhulp_gewezen_invalid", F::SchuldhulpGewezen),
    (&[(F::SchuldhulpGewezen, "")], "schuldhulp_gewezen_required", F::SchuldhulpGewezen),
    (&[(F::Bezwaar, "true")], "bezwaar_invalid", F::Bezwaar),
    (&[(F::Crisissignaal, "J")], "crisissignaal_invalid", F::Crisissignaal),
];

/// Runs one case and checks it gives exactly that one error, without the bad value.
fn check_case(changes: &[(Field, &str)], code: &str, field: Field) {
    let (r, events) = run(&csv(&[with(changes)]), Format::Csv);
    assert_eq!(r.unwrap(), Tally { total: 1, rejected: 1, ..Tally::default() }, "{code}");
    let errors = only_rejection(&events);
    assert_eq!(errors.len(), 1, "{code}: {errors:#?}");
    let e = &errors[0];
    assert_eq!((e.code.as_str(), e.field.as_deref(), e.line), (code, Some(field.name()), 2));
    let referentie_ok = code.starts_with("referentie_");
    assert_eq!(e.referentie.as_deref(), if referentie_ok { None } else { Some("A-1") }, "{code}");
    // The kind is not personal data (messages name kinds on purpose); every other value is.
    for (f, value) in changes {
        if *f != F::Soort && value.len() >= 3 {
            assert!(!e.message.contains(value), "{code}: message echoes the value: {}", e.message);
        }
    }
    assert!(e.message.len() > 20, "{code}: message too thin: {}", e.message);
}

#[test]
fn the_base_record_is_valid() {
    let (r, events) = run(&csv(&[base()]), Format::Csv);
    assert_eq!(r.unwrap(), Tally { total: 1, accepted: 1, ..Tally::default() });
    let [Event::Accepted(2, rec)] = &events[..] else { panic!("{events:?}") };
    assert_eq!(rec.postcode.as_str(), "3311AB");
    assert_eq!(rec.huisletter, Some('A'));
    assert_eq!(rec.bedrag.0, 123_456);
    assert_eq!(rec.signaaldatum, Date::constant(2026, 11, 19));
    assert_eq!(
        (rec.contactpoging, rec.schuldhulp_gewezen, rec.crisissignaal),
        (Some(true), Some(true), false)
    );
    assert_eq!(rec.voorvoegsel.as_deref(), Some("van der"));
}

#[test]
fn every_code_from_its_case() {
    for (changes, code, field) in CASES {
        check_case(changes, code, *field);
    }
    // Lengths that are awkward as constants.
    let long = |n: usize| "é".repeat(n);
    let cases = [
        (F::Achternaam, long(201), "achternaam_too_long"),
        (F::Straatnaam, long(201), "straatnaam_too_long"),
        (F::Plaatsnaam, long(201), "plaatsnaam_too_long"),
        (F::Email, format!("{}@example.nl", "a".repeat(250)), "email_too_long"),
    ];
    for (field, value, code) in cases {
        check_case(&[(field, &value)], code, field);
    }
}

#[test]
fn limits_count_characters_not_bytes() {
    // 200 two-byte characters are 400 bytes but within the limit.
    let name = "é".repeat(200);
    let (r, _) = run(&csv(&[with(&[(F::Achternaam, &name), (F::Plaatsnaam, &name)])]), Format::Csv);
    assert_eq!(r.unwrap().accepted, 1);
}

#[test]
fn arrears_window_edges() {
    // signaaldatum 2026-11-19: exactly 30 days is enough, 29 is not.
    let ok = with(&[(F::Ontstaansdatum, "2026-10-20")]);
    let short = with(&[(F::Ontstaansdatum, "2026-10-21")]);
    // Without signaaldatum the day of receipt (2026-11-20) counts.
    let defaulted = with(&[(F::Ontstaansdatum, "2026-10-21"), (F::Signaaldatum, "")]);
    // zorgverzekering: at most 100 days.
    let zvw = |d: &str| with(&[(F::Soort, "zorgverzekering"), (F::Ontstaansdatum, d)]);
    let (r, events) = run(&csv(&[ok, short, defaulted, zvw("2026-08-11"), zvw("2026-08-10")]), Format::Csv);
    assert_eq!(r.unwrap(), tally(5, 3, 2, 0));
    let codes: Vec<_> = events
        .iter()
        .map(|e| match e {
            Event::Accepted(line, _) => format!("{line}:ok"),
            Event::Rejected(errs) => format!("{}:{}", errs[0].line, errs[0].code),
            Event::Objected(..) => "objected".into(),
        })
        .collect();
    assert_eq!(codes, ["2:ok", "3:arrears_too_short", "4:ok", "5:ok", "6:arrears_too_long"]);
}

#[test]
fn three_problems_give_three_errors_in_one_call_in_field_order() {
    let rec = with(&[(F::Bedrag, ""), (F::Email, "geen-adres"), (F::Postcode, "12345")]);
    let (r, events) = run(&csv(&[rec]), Format::Csv);
    assert_eq!(r.unwrap().rejected, 1);
    let errors = only_rejection(&events);
    let codes: Vec<&str> = errors.iter().map(|e| e.code.as_str()).collect();
    assert_eq!(codes, ["postcode_invalid", "email_invalid", "bedrag_missing"]);
    assert!(errors.iter().all(|e| e.line == 2 && e.referentie.as_deref() == Some("A-1")));
    let all = format!("{errors:?}");
    assert!(!all.contains("12345") && !all.contains("geen-adres"), "{all}");
}

#[test]
fn messages_never_echo_personal_values() {
    let rec = with(&[
        (F::Achternaam, &"Öztürk".repeat(40)),
        (F::Postcode, "9999XYZ"),
        (F::Bedrag, "98765,432"),
        (F::Geboortedatum, "2019-03-04"),
        (F::Telefoonnummer, "06-ABCDEFG"),
    ]);
    let (_, events) = run(&csv(&[rec]), Format::Csv);
    let errors = only_rejection(&events);
    assert_eq!(errors.len(), 5, "{errors:#?}");
    let all = serde_json::to_string(errors).unwrap();
    for secret in ["Öztürk", "9999", "XYZ", "98765", "2019-03-04", "ABCDEFG"] {
        assert!(!all.contains(secret), "{secret} in {all}");
    }
}

#[test]
fn invalid_referentie_is_not_reported_but_others_are_listed() {
    let rec = with(&[(F::Referentie, "3311AB Berg"), (F::Postcode, "x")]);
    let (_, events) = run(&csv(&[rec]), Format::Csv);
    let errors = only_rejection(&events);
    assert_eq!(errors.len(), 2);
    assert!(errors.iter().all(|e| e.referentie.is_none()));
    assert!(!format!("{errors:?}").contains("Berg"));
}

#[test]
fn objected_valid_record_is_not_forwarded_and_invalid_one_is_rejected() {
    let objected = with(&[(F::Referentie, "OBJ-1"), (F::Bezwaar, "JA")]);
    let objected_bad = with(&[(F::Referentie, "OBJ-2"), (F::Bezwaar, "ja"), (F::Postcode, "")]);
    let (r, events) = run(&csv(&[objected, objected_bad]), Format::Csv);
    assert_eq!(r.unwrap(), tally(2, 0, 1, 1));
    assert_eq!(events[0], Event::Objected(2, "OBJ-1".into()));
    let Event::Rejected(errs) = &events[1] else { panic!("{events:?}") };
    assert_eq!(errs[0].code, "postcode_missing");
}

#[test]
fn kinds_without_requirements_need_no_sociale_incasso() {
    let rec = with(&[
        (F::Soort, "Drinkwater"),
        (F::Herinneringsdatum, ""),
        (F::Contactpoging, "nee"),
        (F::SchuldhulpGewezen, ""),
        (F::Fase, "UPDATE"),
    ]);
    let (r, events) = run(&csv(&[rec]), Format::Csv);
    assert_eq!(r.unwrap().accepted, 1, "{events:?}");
    let [Event::Accepted(_, rec)] = &events[..] else { panic!() };
    assert_eq!((rec.soort, rec.fase), (Kind::Drinkwater, crate::domain::signal::Fase::Update));
    assert_eq!((rec.contactpoging, rec.schuldhulp_gewezen), (Some(false), None));
}
