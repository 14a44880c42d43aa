//! Unit tests of matching and classification: one or more per rule of docs/matching.md.

use std::time::Instant;

use jiff::civil::Date;
use rand::SeedableRng;
use rand::seq::SliceRandom;

use super::*;
use crate::domain::signal::{Fase, Kind, Postcode};

fn period(s: &str) -> Period {
    s.parse().unwrap()
}

fn creditor(s: &str) -> CreditorId {
    CreditorId::parse(s).unwrap()
}

/// A signal at `postcode` `nr` for Jansen, 100.00.
fn record(referentie: &str, soort: Kind, postcode: &str, nr: u32) -> SignalRecord {
    SignalRecord {
        referentie: referentie.into(),
        soort,
        fase: Fase::Eerste,
        voorletters: Some("J".into()),
        voorvoegsel: None,
        achternaam: "Jansen".into(),
        geboortedatum: None,
        straatnaam: Some("Voorstraat".into()),
        huisnummer: nr,
        huisletter: None,
        huisnummertoevoeging: None,
        postcode: Postcode::parse(postcode).unwrap(),
        plaatsnaam: Some("Dordrecht".into()),
        telefoonnummer: None,
        email: None,
        bedrag: Cents(10_000),
        ontstaansdatum: Date::constant(2026, 8, 1),
        signaaldatum: Date::constant(2026, 11, 2),
        herinneringsdatum: None,
        contactpoging: Some(true),
        schuldhulp_gewezen: Some(true),
        crisissignaal: false,
    }
}

fn input(id: &str, cred: &str, record: SignalRecord) -> Input {
    Input { signal_id: id.into(), creditor: creditor(cred), record: Box::new(record) }
}

/// A default signal: `cred` reports `referentie` of `soort` at 3311AA 1.
fn sig(id: &str, cred: &str, referentie: &str, soort: Kind) -> Input {
    input(id, cred, record(referentie, soort, "3311AA", 1))
}

fn with_amount(mut s: Input, cents: u64) -> Input {
    s.record.bedrag = Cents(cents);
    s
}

fn earlier(p: &str, cred: &str, household_of: &Input, referentie: &str, cents: u64) -> Earlier {
    Earlier {
        period: period(p),
        creditor: creditor(cred),
        household: HouseholdKey::of(&household_of.record),
        referentie: referentie.into(),
        bedrag: Cents(cents),
    }
}

fn one(signals: Vec<Input>, hist: &[Earlier]) -> Household {
    let mut hs = classify(period("2026-11"), signals, hist, 6);
    assert_eq!(hs.len(), 1, "expected one household");
    hs.remove(0)
}

#[test]
fn two_kinds_from_one_creditor_is_meervoudig() {
    let h =
        one(vec![sig("s1", "eneco", "A1", Kind::Gas), sig("s2", "eneco", "A2", Kind::Elektriciteit)], &[]);
    assert!(h.meervoudig);
    assert!(!h.opeenvolgend);
    assert!(!h.enkelvoudig());
}

#[test]
fn same_kind_from_two_creditors_is_meervoudig() {
    let h = one(vec![sig("s1", "eneco", "A1", Kind::Gas), sig("s2", "vattenfall", "A1", Kind::Gas)], &[]);
    assert!(h.meervoudig);
    let h = one(
        vec![sig("s1", "woonstad", "A1", Kind::Woninghuur), sig("s2", "vitens", "B1", Kind::Drinkwater)],
        &[],
    );
    assert!(h.meervoudig);
}

#[test]
fn same_creditor_same_kind_twice_is_not_meervoudig() {
    let h = one(vec![sig("s1", "eneco", "A1", Kind::Gas), sig("s2", "eneco", "A2", Kind::Gas)], &[]);
    assert!(!h.meervoudig);
    assert!(h.enkelvoudig());
    assert_eq!(h.signals.len(), 2);
}

#[test]
fn history_six_months_back_is_opeenvolgend() {
    let s = sig("s1", "eneco", "A1", Kind::Gas);
    let hist = [earlier("2026-05", "vitens", &s, "W9", 5_000)];
    let h = one(vec![s], &hist);
    assert!(h.opeenvolgend);
    assert!(!h.meervoudig);
    assert!(!h.enkelvoudig());
}

#[test]
fn history_seven_months_back_is_not_opeenvolgend() {
    let s = sig("s1", "eneco", "A1", Kind::Gas);
    let hist = [earlier("2026-04", "vitens", &s, "W9", 5_000)];
    let h = one(vec![s], &hist);
    assert!(!h.opeenvolgend);
    assert!(h.enkelvoudig());
}

#[test]
fn history_one_month_back_and_across_a_year_boundary_counts() {
    let s = sig("s1", "eneco", "A1", Kind::Gas);
    let hist = [earlier("2026-10", "vitens", &s, "W9", 5_000)];
    assert!(one(vec![s.clone()], &hist).opeenvolgend);
    let hist = [earlier("2026-07", "vitens", &s, "W9", 5_000)];
    let hs = classify(period("2027-01"), vec![s.clone()], &hist, 6);
    assert!(hs[0].opeenvolgend);
    let hist = [earlier("2026-06", "vitens", &s, "W9", 5_000)];
    assert!(!classify(period("2027-01"), vec![s], &hist, 6)[0].opeenvolgend);
}

#[test]
fn lookback_is_configurable() {
    let s = sig("s1", "eneco", "A1", Kind::Gas);
    let hist = [earlier("2026-08", "vitens", &s, "W9", 5_000)];
    assert!(classify(period("2026-11"), vec![s.clone()], &hist, 3)[0].opeenvolgend);
    assert!(!classify(period("2026-11"), vec![s.clone()], &hist, 2)[0].opeenvolgend);
    assert!(!classify(period("2026-11"), vec![s], &hist, 0)[0].opeenvolgend);
}

#[test]
fn history_of_the_same_or_a_later_period_does_not_count() {
    let s = sig("s1", "eneco", "A1", Kind::Gas);
    let hist = [earlier("2026-11", "eneco", &s, "A1", 20_000), earlier("2026-12", "eneco", &s, "A1", 20_000)];
    let h = one(vec![s], &hist);
    assert!(!h.opeenvolgend);
    assert!(!h.signals[0].herhaald);
    assert!(h.enkelvoudig());
}

#[test]
fn history_of_another_household_does_not_count() {
    let s = sig("s1", "eneco", "A1", Kind::Gas);
    let next_door = input("x", "eneco", record("A1", Kind::Gas, "3311AA", 3));
    let hist = [earlier("2026-10", "vitens", &next_door, "W9", 5_000)];
    assert!(!one(vec![s], &hist).opeenvolgend);
}

#[test]
fn same_referentie_lower_or_equal_amount_is_herhaald() {
    let s = sig("s1", "eneco", "A1", Kind::Gas); // 100.00
    for earlier_cents in [10_000, 12_000] {
        let hist = [earlier("2026-09", "eneco", &s, "A1", earlier_cents)];
        let h = one(vec![s.clone()], &hist);
        assert!(h.signals[0].herhaald, "earlier {earlier_cents}");
    }
}

#[test]
fn same_referentie_higher_amount_is_not_herhaald() {
    let s = sig("s1", "eneco", "A1", Kind::Gas); // 100.00
    let hist = [earlier("2026-09", "eneco", &s, "A1", 9_999)];
    assert!(!one(vec![s], &hist).signals[0].herhaald);
}

#[test]
fn herhaald_compares_with_the_highest_earlier_amount() {
    let s = with_amount(sig("s1", "eneco", "A1", Kind::Gas), 20_000);
    let hist = [earlier("2026-08", "eneco", &s, "A1", 30_000), earlier("2026-10", "eneco", &s, "A1", 10_000)];
    assert!(one(vec![s], &hist).signals[0].herhaald);
}

#[test]
fn herhaald_looks_at_any_earlier_period_not_only_the_lookback() {
    let s = sig("s1", "eneco", "A1", Kind::Gas);
    let hist = [earlier("2025-01", "eneco", &s, "A1", 10_000)];
    let h = one(vec![s], &hist);
    assert!(h.signals[0].herhaald);
    assert!(!h.opeenvolgend);
}

#[test]
fn same_referentie_from_another_creditor_is_not_herhaald() {
    let s = sig("s1", "eneco", "A1", Kind::Gas);
    let hist =
        [earlier("2026-09", "vattenfall", &s, "A1", 10_000), earlier("2026-09", "eneco", &s, "A2", 10_000)];
    let h = one(vec![s], &hist);
    assert!(!h.signals[0].herhaald);
    assert!(h.opeenvolgend);
}

#[test]
fn prefix_spellings_are_one_person() {
    let mut a = sig("s1", "eneco", "A1", Kind::Gas);
    a.record.voorvoegsel = Some("van der".into());
    a.record.achternaam = "Berg".into();
    let mut b = sig("s2", "vitens", "B1", Kind::Drinkwater);
    b.record.achternaam = "Berg, van der".into();
    let mut c = sig("s3", "woonstad", "C1", Kind::Woninghuur);
    c.record.achternaam = "Van Der Bérg".into();
    c.record.geboortedatum = Some(Date::constant(1970, 3, 4));
    let h = one(vec![a, b, c], &[]);
    assert_eq!(h.persons.len(), 1);
    assert_eq!(h.persons[0].signals, [0, 1, 2]);
    assert_eq!(h.persons[0].key.surname(), "berg, van der");
    assert_eq!(h.persons[0].key.geboortedatum(), Some(Date::constant(1970, 3, 4)));
    assert!(h.signals.iter().all(|s| s.person == 0));
}

#[test]
fn different_birth_dates_are_two_persons() {
    let mut a = sig("s1", "eneco", "A1", Kind::Gas);
    a.record.geboortedatum = Some(Date::constant(1970, 3, 4));
    let mut b = sig("s2", "vitens", "B1", Kind::Drinkwater);
    b.record.geboortedatum = Some(Date::constant(2001, 6, 7));
    let h = one(vec![a, b], &[]);
    assert_eq!(h.persons.len(), 2);
    assert_eq!((h.signals[0].person, h.signals[1].person), (0, 1));
    assert_eq!(h.persons[1].signals, [1]);
}

#[test]
fn different_surnames_are_two_persons() {
    let a = sig("s1", "eneco", "A1", Kind::Gas);
    let mut b = sig("s2", "vitens", "B1", Kind::Drinkwater);
    b.record.achternaam = "Bakker".into();
    assert_eq!(one(vec![a, b], &[]).persons.len(), 2);
}

#[test]
fn signal_without_birth_date_joins_the_only_dated_person() {
    let mut a = sig("s1", "eneco", "A1", Kind::Gas);
    a.record.geboortedatum = None;
    let mut b = sig("s2", "vitens", "B1", Kind::Drinkwater);
    b.record.geboortedatum = Some(Date::constant(1970, 3, 4));
    let h = one(vec![a, b], &[]);
    assert_eq!(h.persons.len(), 1);
    assert_eq!(h.persons[0].signals, [0, 1]);
    assert_eq!(h.persons[0].key.geboortedatum(), Some(Date::constant(1970, 3, 4)));
}

#[test]
fn signal_without_birth_date_among_two_dated_namesakes_stays_apart() {
    let a = sig("s1", "eneco", "A1", Kind::Gas);
    let mut b = sig("s2", "vitens", "B1", Kind::Drinkwater);
    b.record.geboortedatum = Some(Date::constant(1970, 3, 4));
    let mut c = sig("s3", "woonstad", "C1", Kind::Woninghuur);
    c.record.geboortedatum = Some(Date::constant(2001, 6, 7));
    let d = sig("s4", "zilveren-kruis", "D1", Kind::Zorgverzekering);
    let h = one(vec![d, c, b, a], &[]);
    assert_eq!(h.persons.len(), 3);
    // Order of first appearance: eneco (undated), vitens (1970), woonstad (2001).
    assert_eq!(h.persons[0].key.geboortedatum(), None);
    assert_eq!(h.persons[0].signals, [0, 3]);
    assert_eq!(h.persons[1].signals, [1]);
    assert_eq!(h.persons[2].signals, [2]);
    let of: Vec<usize> = h.signals.iter().map(|s| s.person).collect();
    assert_eq!(of, [0, 1, 2, 0]);
}

#[test]
fn postcode_spelling_is_one_household() {
    let a = input("s1", "eneco", record("A1", Kind::Gas, "3311 aa", 1));
    let b = input("s2", "vitens", record("B1", Kind::Drinkwater, "3311AA", 1));
    let h = one(vec![a, b], &[]);
    assert_eq!(h.key.as_str(), "3311AA|1||");
    assert_eq!(h.signals.len(), 2);
}

#[test]
fn house_letters_and_additions_are_kept_apart() {
    let mut letter = sig("s1", "eneco", "A1", Kind::Gas);
    letter.record.huisletter = Some('A');
    let mut add_space = sig("s2", "eneco", "A2", Kind::Gas);
    add_space.record.huisnummertoevoeging = Some("a ".into());
    let mut add_dash = sig("s3", "vitens", "B1", Kind::Drinkwater);
    add_dash.record.huisnummertoevoeging = Some("-A".into());
    let plain = sig("s4", "vitens", "B2", Kind::Drinkwater);
    let hs = classify(period("2026-11"), vec![letter, add_space, add_dash, plain], &[], 6);
    let keys: Vec<&str> = hs.iter().map(|h| h.key.as_str()).collect();
    assert_eq!(keys, ["3311AA|1||", "3311AA|1||A", "3311AA|1|A|"]);
    let ids: Vec<Vec<&str>> =
        hs.iter().map(|h| h.signals.iter().map(|s| s.input.signal_id.as_str()).collect()).collect();
    assert_eq!(ids, [vec!["s4"], vec!["s2", "s3"], vec!["s1"]]);
    assert!(hs[1].meervoudig && !hs[0].meervoudig && !hs[2].meervoudig);
}

#[test]
fn total_sums_this_periods_amounts() {
    let a = with_amount(sig("s1", "eneco", "A1", Kind::Gas), 12_345);
    let b = with_amount(sig("s2", "vitens", "B1", Kind::Drinkwater), 55);
    let c = with_amount(sig("s3", "vitens", "B2", Kind::Drinkwater), 100_000_000);
    let hist = [earlier("2026-10", "eneco", &a, "A1", 99_999)];
    let h = one(vec![a, b, c], &hist);
    assert_eq!(h.total, Cents(100_012_400));
    assert_eq!(h.total.to_string(), "1000124.00");
}

#[test]
fn enkelvoudig_is_neither() {
    let h = one(vec![sig("s1", "eneco", "A1", Kind::Gas)], &[]);
    assert!(h.enkelvoudig() && !h.meervoudig && !h.opeenvolgend);
    let s = sig("s1", "eneco", "A1", Kind::Gas);
    let hist = [earlier("2026-10", "eneco", &s, "A0", 1)];
    let h = one(vec![s, sig("s2", "vitens", "B1", Kind::Drinkwater)], &hist);
    assert!(h.meervoudig && h.opeenvolgend && !h.enkelvoudig());
}

#[test]
fn household_ids_are_deterministic_per_period_and_key() {
    let s = sig("s1", "eneco", "A1", Kind::Gas);
    let key = HouseholdKey::of(&s.record);
    let id = household_id(period("2026-11"), &key);
    assert!(id.starts_with("H-") && id.len() == 18, "{id}");
    assert!(id[2..].bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    assert_eq!(id, household_id(period("2026-11"), &key));
    assert_ne!(id, household_id(period("2026-12"), &key));
    let next_door = HouseholdKey::of(&record("A1", Kind::Gas, "3311AA", 2));
    assert_ne!(id, household_id(period("2026-11"), &next_door));
    assert_eq!(one(vec![s], &[]).id, id);
    // Pinned, so that a change of the derivation is a deliberate one.
    let mut h = Sha256::new();
    h.update(b"meldpunt/household-id/v1\x002026-11\x003311AA|1||");
    assert_eq!(id, format!("H-{}", &hex::encode(h.finalize())[..16]));
}

/// Many households, persons and histories, for the order tests.
fn mixed() -> (Vec<Input>, Vec<Earlier>) {
    let creditors = ["eneco", "vitens", "woonstad", "zilveren-kruis"];
    let names = ["Berg, van der", "van der Berg", "Jansen", "de Vries", "Öztürk"];
    let mut signals = Vec::new();
    let mut hist = Vec::new();
    for i in 0..200u32 {
        let cred = creditors[(i % 4) as usize];
        let mut r = record(&format!("R{}", i % 37), Kind::ALL[(i % 6) as usize], "3311AA", 1 + i % 13);
        r.achternaam = names[(i % 5) as usize].into();
        r.huisletter = i.is_multiple_of(7).then_some('B');
        r.geboortedatum = i.is_multiple_of(3).then(|| Date::constant(1950 + (i % 4) as i16, 1, 1));
        r.bedrag = Cents(u64::from(1_000 + i * 17));
        let s = input(&format!("S{i:04}"), cred, r);
        if i.is_multiple_of(5) {
            hist.push(earlier(
                &format!("2026-{:02}", 1 + i % 10),
                cred,
                &s,
                &s.record.referentie.clone(),
                2_000,
            ));
        }
        signals.push(s);
    }
    (signals, hist)
}

#[test]
fn output_is_the_same_for_any_input_order() {
    let (signals, hist) = mixed();
    let reference = classify(period("2026-11"), signals.clone(), &hist, 6);
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for _ in 0..5 {
        let mut s = signals.clone();
        let mut e = hist.clone();
        s.shuffle(&mut rng);
        e.shuffle(&mut rng);
        assert_eq!(classify(period("2026-11"), s, &e, 6), reference);
    }
    // Households by key; signals by (creditor, referentie, signal_id); persons by first signal.
    assert!(reference.windows(2).all(|w| w[0].key < w[1].key));
    for h in &reference {
        let order: Vec<_> = h
            .signals
            .iter()
            .map(|s| (&s.input.creditor, &s.input.record.referentie, &s.input.signal_id))
            .collect();
        assert!(order.windows(2).all(|w| w[0] <= w[1]));
        let firsts: Vec<usize> = h.persons.iter().map(|p| p.signals[0]).collect();
        assert!(firsts.windows(2).all(|w| w[0] < w[1]));
        for (i, s) in h.signals.iter().enumerate() {
            assert!(h.persons[s.person].signals.contains(&i));
        }
        assert_eq!(h.persons.iter().map(|p| p.signals.len()).sum::<usize>(), h.signals.len());
    }
}

#[test]
fn no_signals_no_households() {
    assert!(classify(period("2026-11"), Vec::new(), &[], 6).is_empty());
}

/// `cargo test --release --lib classify_throughput -- --ignored --nocapture`
///
/// 85 000 signals in 60 000 households (one in three gets a second signal from another
/// creditor), against seven earlier periods of 85 000 signals each.
#[test]
#[ignore]
fn classify_throughput() {
    const N: u32 = 85_000;
    const HOUSEHOLDS: u32 = 60_000;
    let creditors: Vec<CreditorId> =
        ["eneco", "vitens", "woonstad", "zilveren-kruis", "vattenfall", "evides"].map(creditor).into();
    let names = ["Jansen", "de Vries", "Berg, van der", "Bakker", "Öztürk", "El Amrani", "Visser"];
    let make = |i: u32| {
        let h = i % HOUSEHOLDS;
        let c = (i + i / HOUSEHOLDS) % 6;
        let postcode = format!("{}AB", 1000 + h / 20);
        let mut r = record(&format!("R-{i}"), Kind::ALL[c as usize], &postcode, 1 + h % 20);
        r.huisletter = h.is_multiple_of(9).then_some('A');
        r.achternaam = names[(h % 7) as usize].into();
        r.geboortedatum =
            i.is_multiple_of(2).then(|| Date::constant(1940 + (i % 60) as i16, 1 + (i % 12) as i8, 1));
        r.bedrag = Cents(u64::from(5_000 + i % 100_000));
        Input {
            signal_id: format!("01JD{i:022}"),
            creditor: creditors[c as usize].clone(),
            record: Box::new(r),
        }
    };
    let signals: Vec<Input> = (0..N).map(make).collect();
    let earlier: Vec<Earlier> = (0..7 * N)
        .map(|j| {
            let month = j / N;
            let s = make(j % N + month * 9_000);
            Earlier {
                period: period(&format!("2026-{:02}", 4 + month)),
                creditor: s.creditor.clone(),
                household: HouseholdKey::of(&s.record),
                referentie: s.record.referentie.clone(),
                bedrag: Cents(6_000),
            }
        })
        .collect();
    let start = Instant::now();
    let households = classify(period("2026-11"), signals, &earlier, 6);
    let took = start.elapsed();
    let signals: usize = households.iter().map(|h| h.signals.len()).sum();
    let persons: usize = households.iter().map(|h| h.persons.len()).sum();
    let meervoudig = households.iter().filter(|h| h.meervoudig).count();
    let opeenvolgend = households.iter().filter(|h| h.opeenvolgend).count();
    let herhaald = households.iter().flat_map(|h| &h.signals).filter(|s| s.herhaald).count();
    println!(
        "classified {signals} signals against {} earlier into {} households and {persons} persons \
         ({meervoudig} meervoudig, {opeenvolgend} opeenvolgend, {herhaald} herhaald signals) in {took:?}",
        earlier.len(),
        households.len()
    );
    assert_eq!(signals, N as usize);
}
