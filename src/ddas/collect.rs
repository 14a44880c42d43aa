//! One municipality's `levering`: the signals delivered to it in the batches matched within a
//! date range, one case per household per batch, and what its feedback reported on them.
//!
//! Read from the state database (which batches ran when, which signals went where, the
//! feedback lines) and from the sealed signals through the vault (amounts, dates, addresses):
//! the plaintext stays in memory.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use jiff::civil::Date;

use super::DdasError;
use super::map;
use super::model::{Client, Levering, Organisatie, Partner, SignaalRef, Vroegsignaal, Zaak};
use crate::batch::classify::Input;
use crate::config::Municipality;
use crate::domain::contact::ContactPoging;
use crate::domain::feedback::Resultaat;
use crate::domain::household::HouseholdKey;
use crate::domain::period::{Period, local_date};
use crate::state::exchange::FeedbackLine;
use crate::state::{State, ddas, exchange};

/// The periods whose first delivered batch began on a day (Europe/Amsterdam) from `from` to
/// `to`, with that day.
pub fn matched_between(state: &State, from: Date, to: Date) -> Result<Vec<(Period, Date)>, DdasError> {
    let mut out = Vec::new();
    for (period, at) in ddas::matched_periods(&state.lock())? {
        let (Ok(period), Ok(at)) = (period.parse::<Period>(), at.parse::<jiff::Timestamp>()) else {
            continue;
        };
        let day = local_date(at);
        if (from..=to).contains(&day) {
            out.push((period, day));
        }
    }
    Ok(out)
}

/// What the feedback on one signal adds up to.
#[derive(Default)]
struct Reported {
    /// The latest result.
    latest: Option<Resultaat>,
    /// The earliest `datum_opgepakt` of any line.
    opgepakt: Option<String>,
    /// Every contact attempt of any line.
    pogingen: BTreeSet<ContactPoging>,
}

/// Per signal id: what its feedback adds up to, and the place of its latest line among all
/// lines (so a case takes the latest result of its signals).
type BySignal = (HashMap<String, Reported>, HashMap<String, usize>);

/// The feedback on the signals of `period` delivered to `municipality`.
fn reported(state: &State, municipality: &str, period: Period) -> Result<BySignal, DdasError> {
    let lines = exchange::feedback_on(&state.lock(), municipality, &period.to_string())?;
    let mut by_signal: HashMap<String, Reported> = HashMap::new();
    let mut order = HashMap::new();
    for (i, (_, FeedbackLine { signal_id, resultaat, datum_opgepakt, contactpogingen, .. })) in
        lines.into_iter().enumerate()
    {
        let r = by_signal.entry(signal_id.clone()).or_default();
        r.latest = Resultaat::parse(&resultaat).or(r.latest);
        if let Some(d) = datum_opgepakt
            && r.opgepakt.as_ref().is_none_or(|o| d < *o)
        {
            r.opgepakt = Some(d);
        }
        let pogingen: Vec<ContactPoging> =
            contactpogingen.and_then(|j| serde_json::from_str(&j).ok()).unwrap_or_default();
        r.pogingen.extend(pogingen);
        order.insert(signal_id, i);
    }
    Ok((by_signal, order))
}

/// An empty `levering` of `m`, numbered `teller`.
pub fn levering(m: &Municipality, teller: u32) -> Levering {
    Levering {
        teller,
        gemeentecode: m.code.as_str().trim_start_matches("GM").to_owned(),
        aanleverende_organisatie: Organisatie { naam: m.name.clone() },
        vroegsignalen: Vec::new(),
        vroegsignaalzaken: Vec::new(),
    }
}

/// Adds to `out`, the `levering` of `m`, the signals and cases of `period`'s batch, matched on
/// `matched`; `all` is every signal of the period (read once for all municipalities).
pub fn add_period(
    state: &State,
    out: &mut Levering,
    m: &Municipality,
    period: Period,
    matched: Date,
    all: &[Input],
) -> Result<(), DdasError> {
    let code = m.code.as_str();
    let ids: HashSet<String> =
        ddas::delivered_to(&state.lock(), code, &period.to_string())?.into_iter().collect();
    if ids.is_empty() {
        return Ok(());
    }
    let by_signal = reported(state, code, period)?;
    let mut households: BTreeMap<HouseholdKey, Vec<&Input>> = BTreeMap::new();
    for s in all {
        if ids.contains(&s.signal_id) {
            households.entry(HouseholdKey::of(&s.record)).or_default().push(s);
        }
    }
    let (first, last) = super::monthly::days_of(period);
    for signals in households.values() {
        let ids: Vec<&str> = signals.iter().map(|s| s.signal_id.as_str()).collect();
        out.vroegsignaalzaken.push(zaak(&ids, &by_signal, matched, first, last));
        for s in signals {
            out.vroegsignalen.push(vroegsignaal(s, by_signal.0.get(&s.signal_id).and_then(|r| r.latest)));
        }
    }
    Ok(())
}

/// The case of one household's signals (`ids`): its result is the latest reported on any of them,
/// its `datumOpgepakt` the earliest, its contact attempts all of theirs.
fn zaak(ids: &[&str], (reported, order): &BySignal, matched: Date, first: Date, last: Date) -> Zaak {
    let mut zaak = Zaak {
        resultaat: None,
        matchingsdatum: matched.to_string(),
        startdatum_matchingperiode: first.to_string(),
        einddatum_matchingperiode: last.to_string(),
        datum_opgepakt: None,
        vroegsignalen: Vec::new(),
        contactpogingen: Vec::new(),
    };
    let mut pogingen = BTreeSet::new();
    let mut latest: Option<(usize, Resultaat)> = None;
    for id in ids {
        zaak.vroegsignalen.push(SignaalRef { id: (*id).to_owned() });
        let (Some(r), Some(i)) = (reported.get(*id), order.get(*id)) else { continue };
        if let Some(res) = r.latest
            && latest.is_none_or(|(j, _)| *i > j)
        {
            latest = Some((*i, res));
        }
        if let Some(d) = &r.opgepakt
            && zaak.datum_opgepakt.as_ref().is_none_or(|o| d < o)
        {
            zaak.datum_opgepakt = Some(d.clone());
        }
        pogingen.extend(r.pogingen.iter().cloned());
    }
    zaak.resultaat = latest.map(|(_, r)| map::eindresultaat(r));
    zaak.contactpogingen = pogingen.into_iter().collect();
    zaak
}

/// One signal in the model.
fn vroegsignaal(s: &Input, latest: Option<Resultaat>) -> Vroegsignaal {
    let r = &s.record;
    let toevoeging: String =
        r.huisletter.into_iter().chain(r.huisnummertoevoeging.iter().flat_map(|t| t.chars())).collect();
    Vroegsignaal {
        id: s.signal_id.clone(),
        crisissignaal: r.crisissignaal,
        bedrag: map::whole_euros(r.bedrag),
        ontstaansdatum: r.ontstaansdatum.to_string(),
        signaaldatum: r.signaaldatum.to_string(),
        status: map::signaalstatus(latest),
        signaalpartner: Partner { kind: map::signaalpartner(r.soort) },
        client: Client {
            geboortedatum: r.geboortedatum.map(|d| d.to_string()),
            postcode: r.postcode.as_str().to_owned(),
            huisnummer: r.huisnummer.to_string(),
            huisnummertoevoeging: (!toevoeging.is_empty()).then_some(toevoeging),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poging(datum: &str, soort: &str) -> ContactPoging {
        ContactPoging { datum: datum.into(), soort: soort.into(), bereikt: None, dagdeel: None }
    }

    #[test]
    fn a_case_takes_the_latest_result_the_earliest_pickup_and_every_attempt_once() {
        let mut reported = HashMap::new();
        let mut order = HashMap::new();
        // S-1 was reported first (line 0), S-2 later (line 3): S-2's result is the case's.
        reported.insert(
            "S-1".to_owned(),
            Reported {
                latest: Some(Resultaat::QuickFix),
                opgepakt: Some("2026-11-05".into()),
                pogingen: [poging("2026-11-04", "Brief"), poging("2026-11-06", "Telefoon")].into(),
            },
        );
        order.insert("S-1".to_owned(), 0);
        reported.insert(
            "S-2".to_owned(),
            Reported {
                latest: Some(Resultaat::GeenContact),
                opgepakt: Some("2026-11-07".into()),
                pogingen: [poging("2026-11-06", "Telefoon")].into(),
            },
        );
        order.insert("S-2".to_owned(), 3);
        let d = |s: &str| s.parse::<Date>().unwrap();
        let by = (reported, order);
        let z = zaak(&["S-1", "S-2", "S-3"], &by, d("2026-11-26"), d("2026-11-01"), d("2026-11-30"));
        assert_eq!(z.resultaat, Some("Definitief geen contact kunnen krijgen"));
        assert_eq!(z.datum_opgepakt.as_deref(), Some("2026-11-05"));
        let dates: Vec<&str> = z.contactpogingen.iter().map(|p| p.datum.as_str()).collect();
        assert_eq!(dates, ["2026-11-04", "2026-11-06"], "each attempt once, by date");
        assert_eq!(z.vroegsignalen.len(), 3, "a signal without feedback is in its case too");
        let open = zaak(&["S-3"], &by, d("2026-11-26"), d("2026-11-01"), d("2026-11-30"));
        assert_eq!((open.resultaat, open.datum_opgepakt, open.contactpogingen.len()), (None, None, 0));
    }
}
