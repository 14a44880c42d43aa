//! Checking each feedback line against what was delivered (docs/feedback.md). Pure: the lookup of
//! delivered signals is passed in.
//!
//! Line codes: `signaal_id_missing`, `signaal_id_invalid`, `signaal_id_unknown`,
//! `signaal_id_other_gemeente`, `signaal_id_duplicate`, `referentie_unknown`,
//! `referentie_mismatch`, `resultaat_missing`,
//! `resultaat_invalid`, `datum_missing`, `datum_invalid`, `datum_future`, and those of the
//! optional DDAS columns ([`super::case`]). A line with any error is not routed.

#![allow(clippy::result_large_err, reason = "an ErrorEntry is built once per bad line of a small file")]

use std::collections::HashMap;

use jiff::civil::Date;

use super::case;
use super::parse::{RawLine, line_error};
use crate::domain::contact::{ContactPoging, feedback_date};
use crate::domain::feedback::Resultaat;
use crate::intake::receipt::ErrorEntry;
use crate::state::exchange::DeliveredSignal;

/// A line that passed every check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    /// Physical line.
    pub line: u64,
    /// The delivered signal it is about.
    pub signal: DeliveredSignal,
    /// The result.
    pub resultaat: Resultaat,
    /// The result's date.
    pub datum: Date,
    /// When the case was taken up, if the line says.
    pub datum_opgepakt: Option<Date>,
    /// The contact attempts the line gives (sorted), maybe none.
    pub contactpogingen: Vec<ContactPoging>,
}

/// How a line names its signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Named<'a> {
    /// By the signal id from the bundle.
    Id(&'a str),
    /// By the creditor (its id or name) and the creditor's own reference.
    Reference {
        /// `signaalpartner`.
        partner: &'a str,
        /// `referentie_signaalpartner`.
        referentie: &'a str,
    },
}

/// Whether `id` looks like a signal id from a bundle: `S-` and 20 lowercase hex digits.
pub fn well_formed(id: &str) -> bool {
    id.len() == 22
        && id.starts_with("S-")
        && id[2..].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Checks `lines` of a file from `municipality` (a municipality code, or an executor id: then
/// the signals delivered to that executor count as its own), received on `today` (local date).
/// `lookup` finds a delivered signal by id (any municipality's), or by creditor and reference
/// (the latest delivered to `municipality`). Returns the good lines and the errors, in line order.
pub fn check(
    lines: Vec<RawLine>,
    municipality: &str,
    today: Date,
    lookup: &mut dyn FnMut(Named<'_>) -> Option<DeliveredSignal>,
) -> (Vec<Checked>, Vec<ErrorEntry>) {
    let mut good = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for l in lines {
        let mut errs = Vec::new();
        let signal = signal(&l, municipality, &mut seen, lookup).map_err(|e| errs.push(e)).ok();
        let resultaat = resultaat(&l).map_err(|e| errs.push(e)).ok();
        let datum = datum(&l, today).map_err(|e| errs.push(e)).ok();
        let opgepakt = case::datum_opgepakt(&l, today).map_err(|e| errs.push(e)).ok();
        let pogingen = case::contactpogingen(&l, today).map_err(|e| errs.push(e)).ok();
        match (signal, resultaat, datum, opgepakt, pogingen) {
            (Some(signal), Some(resultaat), Some(datum), Some(datum_opgepakt), Some(contactpogingen))
                if errs.is_empty() =>
            {
                good.push(Checked {
                    line: l.line,
                    signal,
                    resultaat,
                    datum,
                    datum_opgepakt,
                    contactpogingen,
                });
            }
            _ => errors.extend(errs),
        }
    }
    (good, errors)
}

fn signal(
    l: &RawLine,
    municipality: &str,
    seen: &mut HashMap<String, u64>,
    lookup: &mut dyn FnMut(Named<'_>) -> Option<DeliveredSignal>,
) -> Result<DeliveredSignal, ErrorEntry> {
    let s = if l.signaal_id.is_empty() && !l.signaalpartner.is_empty() && !l.referentie.is_empty() {
        by_reference(l, municipality, lookup)?
    } else {
        by_id(l, municipality, lookup)?
    };
    if !l.referentie.is_empty() && l.referentie != s.referentie {
        return Err(line_error(
            l.line,
            Some("referentie_signaalpartner"),
            "referentie_mismatch",
            "signaal_id and referentie_signaalpartner name different signals; copy both from the same bundle row",
        ));
    }
    if let Some(first) = seen.get(&s.signal_id) {
        return Err(line_error(
            l.line,
            Some("signaal_id"),
            "signaal_id_duplicate",
            format!(
                "this signal already has a result on line {first} of this file; send one result per signal"
            ),
        ));
    }
    seen.insert(s.signal_id.clone(), l.line);
    Ok(s)
}

/// The signal a line names by creditor and reference: the latest delivered to `municipality`.
fn by_reference(
    l: &RawLine,
    municipality: &str,
    lookup: &mut dyn FnMut(Named<'_>) -> Option<DeliveredSignal>,
) -> Result<DeliveredSignal, ErrorEntry> {
    lookup(Named::Reference { partner: &l.signaalpartner, referentie: &l.referentie }).ok_or_else(|| {
        line_error(
            l.line,
            Some("referentie_signaalpartner"),
            "referentie_unknown",
            format!(
                "no signal of this signaalpartner with this referentie_signaalpartner was delivered to \
                 {municipality}; copy both from the bundle, or give signaal_id"
            ),
        )
    })
}

/// The signal a line names by its id.
fn by_id(
    l: &RawLine,
    municipality: &str,
    lookup: &mut dyn FnMut(Named<'_>) -> Option<DeliveredSignal>,
) -> Result<DeliveredSignal, ErrorEntry> {
    let field = Some("signaal_id");
    let id = l.signaal_id.as_str();
    if id.is_empty() {
        return Err(line_error(
            l.line,
            field,
            "signaal_id_missing",
            "signaal_id is empty; copy it from the bundle, or give signaalpartner and referentie_signaalpartner",
        ));
    }
    if !well_formed(id) {
        return Err(line_error(
            l.line,
            field,
            "signaal_id_invalid",
            "signaal_id must be the id from the bundle: S- followed by 20 hexadecimal digits",
        ));
    }
    match lookup(Named::Id(id)) {
        None => Err(line_error(
            l.line,
            field,
            "signaal_id_unknown",
            "no signal with this id was delivered; copy signaal_id from the bundle as it is",
        )),
        Some(s) if !s.reached(municipality) => Err(line_error(
            l.line,
            field,
            "signaal_id_other_gemeente",
            format!(
                "this signal was not delivered to {municipality}; send feedback only on your own signals"
            ),
        )),
        Some(s) => Ok(s),
    }
}

fn resultaat(l: &RawLine) -> Result<Resultaat, ErrorEntry> {
    let field = Some("resultaat");
    if l.resultaat.is_empty() {
        return Err(line_error(
            l.line,
            field,
            "resultaat_missing",
            "resultaat is empty; write one of the result codes",
        ));
    }
    Resultaat::parse(&l.resultaat).ok_or_else(|| {
        let codes: Vec<&str> = Resultaat::ALL.iter().map(|r| r.as_str()).collect();
        line_error(
            l.line,
            field,
            "resultaat_invalid",
            format!("resultaat is not a known result code; write one of {}", codes.join(", ")),
        )
    })
}

fn datum(l: &RawLine, today: Date) -> Result<Date, ErrorEntry> {
    let field = Some("datum");
    if l.datum.is_empty() {
        return Err(line_error(
            l.line,
            field,
            "datum_missing",
            "datum is empty; write the date of the result as YYYY-MM-DD",
        ));
    }
    let Some(d) = feedback_date(&l.datum) else {
        return Err(line_error(l.line, field, "datum_invalid", "datum must be a date written as YYYY-MM-DD"));
    };
    if d > today {
        return Err(line_error(
            l.line,
            field,
            "datum_future",
            format!("datum lies after the day of receipt ({today}); write the date the result was reached"),
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "S-0000000000000000000a";
    const B: &str = "S-0000000000000000000b";

    fn lookup(named: Named<'_>) -> Option<DeliveredSignal> {
        let (id, m) = match named {
            Named::Id(A) => (A, "GM0505"),
            Named::Id(B) => (B, "GM0363"),
            Named::Reference { partner: "woonstad", referentie: "R1" } => (A, "GM0505"),
            _ => return None,
        };
        Some(DeliveredSignal {
            signal_id: id.into(),
            period: "2026-11".into(),
            municipality: m.into(),
            creditor: "woonstad".into(),
            referentie: "R1".into(),
            executor: None,
            to_municipality: true,
        })
    }

    fn line(n: u64, id: &str, r: &str, d: &str) -> RawLine {
        RawLine {
            line: n,
            signaal_id: id.into(),
            resultaat: r.into(),
            datum: d.into(),
            signaalpartner: String::new(),
            referentie: String::new(),
            datum_opgepakt: String::new(),
            contactpogingen: String::new(),
        }
    }

    fn by_reference(n: u64, id: &str, partner: &str, referentie: &str) -> RawLine {
        RawLine {
            signaalpartner: partner.into(),
            referentie: referentie.into(),
            ..line(n, id, "quick_fix", "2026-12-01")
        }
    }

    #[test]
    fn a_signal_can_be_named_by_creditor_and_reference() {
        let today = Date::constant(2026, 12, 10);
        let lines = vec![
            by_reference(2, "", "woonstad", "R1"),
            by_reference(3, "", "woonstad", "R2"),
            by_reference(4, "", "", "R1"),
            by_reference(5, A, "woonstad", "R9"),
            by_reference(6, A, "", ""),
        ];
        let mut look = lookup;
        let (good, errors) = check(lines, "GM0505", today, &mut look);
        assert_eq!(good.iter().map(|g| (g.line, g.signal.signal_id.as_str())).collect::<Vec<_>>(), [(2, A)]);
        let got: Vec<_> = errors.iter().map(|e| (e.line.unwrap(), e.code.as_str())).collect();
        assert_eq!(
            got,
            [
                (3, "referentie_unknown"),
                (4, "signaal_id_missing"),
                (5, "referentie_mismatch"),
                (6, "signaal_id_duplicate")
            ]
        );
        assert!(errors[0].message.contains("GM0505") && !errors[0].message.contains("R2"), "{:?}", errors[0]);
    }

    #[test]
    fn the_ddas_columns_are_checked_like_every_field() {
        let today = Date::constant(2026, 12, 10);
        let with = |n: u64, id: &str, opgepakt: &str, pogingen: &str| RawLine {
            datum_opgepakt: opgepakt.into(),
            contactpogingen: pogingen.into(),
            ..line(n, id, "quick_fix", "2026-12-01")
        };
        let lines = vec![
            with(2, A, "2026-12-02", "2026-12-03 telefoon ja middag | 2026-12-02 brief"),
            with(3, "S-0000000000000000000c", "2026-02-30", "2026-12-01 duif"),
            with(4, "S-0000000000000000000d", "2026-12-11", ""),
        ];
        let mut look = |n: Named<'_>| match n {
            Named::Id(id) if id != B => {
                lookup(Named::Id(A)).map(|s| DeliveredSignal { signal_id: id.into(), ..s })
            }
            _ => None,
        };
        let (good, errors) = check(lines, "GM0505", today, &mut look);
        assert_eq!(good.len(), 1);
        assert_eq!(good[0].datum_opgepakt, Some(Date::constant(2026, 12, 2)));
        let dates: Vec<&str> = good[0].contactpogingen.iter().map(|p| p.datum.as_str()).collect();
        assert_eq!(dates, ["2026-12-02", "2026-12-03"], "sorted by date");
        let got: Vec<_> =
            errors.iter().map(|e| (e.line.unwrap(), e.field.as_deref().unwrap(), e.code.as_str())).collect();
        assert_eq!(
            got,
            [
                (3, "datum_opgepakt", "datum_opgepakt_invalid"),
                (3, "contactpogingen", "contactpogingen_invalid"),
                (4, "datum_opgepakt", "datum_opgepakt_future"),
            ]
        );
        assert!(
            errors.iter().all(|e| !e.message.contains("duif") && !e.message.contains("02-30")),
            "{errors:?}"
        );
    }

    #[test]
    fn every_line_error_has_its_code_and_field() {
        let today = Date::constant(2026, 12, 10);
        let lines = vec![
            line(2, A, "hulp_geaccepteerd", "2026-12-10"),
            line(3, "", "quick_fix", "2026-12-01"),
            line(4, "S-123", "quick_fix", "2026-12-01"),
            line(5, "S-ffffffffffffffffffff", "quick_fix", "2026-12-01"),
            line(6, B, "quick_fix", "2026-12-01"),
            line(7, A, "quick_fix", "2026-12-01"),
            line(8, "S-0000000000000000000c", "", "2026-12-11"),
            line(9, "S-0000000000000000000d", "betaald", "1-12-2026"),
            line(10, "S-0000000000000000000e", "quick_fix", ""),
        ];
        let mut look = lookup;
        let (good, errors) = check(lines, "GM0505", today, &mut look);
        assert_eq!(good.len(), 1);
        assert_eq!(good[0].resultaat, Resultaat::HulpGeaccepteerd);
        let got: Vec<_> =
            errors.iter().map(|e| (e.line.unwrap(), e.field.as_deref().unwrap(), e.code.as_str())).collect();
        assert_eq!(
            got,
            [
                (3, "signaal_id", "signaal_id_missing"),
                (4, "signaal_id", "signaal_id_invalid"),
                (5, "signaal_id", "signaal_id_unknown"),
                (6, "signaal_id", "signaal_id_other_gemeente"),
                (7, "signaal_id", "signaal_id_duplicate"),
                (8, "signaal_id", "signaal_id_unknown"),
                (8, "resultaat", "resultaat_missing"),
                (8, "datum", "datum_future"),
                (9, "signaal_id", "signaal_id_unknown"),
                (9, "resultaat", "resultaat_invalid"),
                (9, "datum", "datum_invalid"),
                (10, "signaal_id", "signaal_id_unknown"),
                (10, "datum", "datum_missing"),
            ]
        );
        assert!(errors[3].message.contains("GM0505") && !errors[3].message.contains("GM0363"));
        assert!(
            errors.iter().all(|e| !e.message.contains("1-12-2026") && !e.message.contains("S-123")),
            "values are not echoed"
        );
    }
}
