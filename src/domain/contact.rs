//! Contact attempts (DDAS `contactpogingen`, docs/ddas.md): what a municipality did to reach a
//! household, as the optional feedback column `contactpogingen` gives it (docs/feedback.md).
//!
//! The column holds attempts separated by `|`; each attempt is its date, its kind and, in any
//! order, optionally `ja`/`nee` (reached) and a part of the day, separated by spaces:
//! `2026-12-01 telefoon nee ochtend | 2026-12-03 huisbezoek ja`. Kinds and parts of the day
//! are snake-case codes of the DDAS enumerations (`EnumContactsoort`, `EnumDagdeel`).

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// The kinds of contact (`EnumContactsoort`): (code in the feedback file, value in the model).
pub const SOORTEN: [(&str, &str); 10] = [
    ("administratief", "Administratief"),
    ("afspraak_op_locatie", "Afspraak op locatie"),
    ("brief", "Brief"),
    ("huisbezoek", "Huisbezoek"),
    ("kaartje", "Kaartje"),
    ("mail", "Mail"),
    ("onbekend", "Onbekend"),
    ("overige", "Overige"),
    ("sms_whatsapp", "SMS/Whatsapp"),
    ("telefoon", "Telefoon"),
];

/// The parts of the day (`EnumDagdeel`): (code in the feedback file, value in the model).
pub const DAGDELEN: [(&str, &str); 3] = [("ochtend", "Ochtend"), ("middag", "Middag"), ("avond", "Avond")];

/// One contact attempt, with the model's values (stored as JSON with the feedback line).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ContactPoging {
    /// `YYYY-MM-DD`.
    pub datum: String,
    /// The kind, as the model spells it (`Telefoon`).
    pub soort: String,
    /// Whether the person was reached, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bereikt: Option<bool>,
    /// Part of the day as the model spells it (`Ochtend`), when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dagdeel: Option<String>,
}

/// Why a `contactpogingen` field cannot be read; each says how to write it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    /// An attempt without date or kind, or with an unknown word.
    #[error(
        "attempt {0} cannot be read: it needs a date and a kind, then at most ja/nee and a part of the day \
         (ochtend, middag, avond), each once; write each attempt as those words separated by spaces, attempts \
         separated by |, e.g. 2026-12-01 telefoon nee ochtend | 2026-12-03 brief"
    )]
    Malformed(usize),
    /// The date is not a date from 2000 on.
    #[error("attempt {0} does not start with a date written as YYYY-MM-DD (from 2000 on)")]
    Date(usize),
    /// The date lies after the day of receipt.
    #[error("attempt {0} is dated after the day of receipt ({1}); write the date the attempt was made")]
    Future(usize, Date),
    /// The kind is not one of the codes.
    #[error("attempt {0} has an unknown kind; write one of {list}", list = codes(&SOORTEN))]
    Soort(usize),
}

fn codes(table: &[(&str, &str)]) -> String {
    table.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
}

/// A date as feedback writes it: `YYYY-MM-DD`, year 2000 or later.
pub fn feedback_date(text: &str) -> Option<Date> {
    match text.parse::<Date>() {
        Ok(d) if text.len() == 10 && d.year() >= 2000 => Some(d),
        _ => None,
    }
}

/// Reads a `contactpogingen` field (not empty) of a file received on `today`.
pub fn parse(text: &str, today: Date) -> Result<Vec<ContactPoging>, ContactError> {
    let mut out = Vec::new();
    for (i, attempt) in text.split('|').enumerate() {
        let n = i + 1;
        let mut words = attempt.split_whitespace();
        let (Some(datum), Some(soort)) = (words.next(), words.next()) else {
            return Err(ContactError::Malformed(n));
        };
        let datum = feedback_date(datum).ok_or(ContactError::Date(n))?;
        if datum > today {
            return Err(ContactError::Future(n, today));
        }
        let soort = lookup(&SOORTEN, soort).ok_or(ContactError::Soort(n))?;
        let mut poging =
            ContactPoging { datum: datum.to_string(), soort: soort.into(), bereikt: None, dagdeel: None };
        for w in words {
            match (w.to_ascii_lowercase().as_str(), lookup(&DAGDELEN, w)) {
                ("ja", _) if poging.bereikt.is_none() => poging.bereikt = Some(true),
                ("nee", _) if poging.bereikt.is_none() => poging.bereikt = Some(false),
                (_, Some(d)) if poging.dagdeel.is_none() => poging.dagdeel = Some(d.into()),
                _ => return Err(ContactError::Malformed(n)),
            }
        }
        out.push(poging);
    }
    out.sort();
    Ok(out)
}

/// The model's value for a code of `table` (case-insensitive).
fn lookup(table: &[(&'static str, &'static str)], code: &str) -> Option<&'static str> {
    table.iter().find(|(c, _)| c.eq_ignore_ascii_case(code)).map(|(_, v)| *v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: Date = Date::constant(2026, 12, 10);

    #[test]
    fn reads_attempts_in_any_order_of_the_optional_words() {
        let got = parse(
            "2026-12-03 Huisbezoek avond ja|2026-12-01 telefoon nee ochtend | 2026-12-02 sms_whatsapp",
            TODAY,
        )
        .unwrap();
        let shown: Vec<_> = got
            .iter()
            .map(|p| (p.datum.as_str(), p.soort.as_str(), p.bereikt, p.dagdeel.as_deref()))
            .collect();
        assert_eq!(
            shown,
            [
                ("2026-12-01", "Telefoon", Some(false), Some("Ochtend")),
                ("2026-12-02", "SMS/Whatsapp", None, None),
                ("2026-12-03", "Huisbezoek", Some(true), Some("Avond")),
            ]
        );
    }

    #[test]
    fn every_problem_names_the_attempt() {
        assert_eq!(parse("2026-12-01", TODAY), Err(ContactError::Malformed(1)));
        assert_eq!(parse("2026-12-01 brief|1-12-2026 brief", TODAY), Err(ContactError::Date(2)));
        assert_eq!(parse("2026-12-11 brief", TODAY), Err(ContactError::Future(1, TODAY)));
        assert_eq!(parse("2026-12-01 duif", TODAY), Err(ContactError::Soort(1)));
        assert_eq!(parse("2026-12-01 brief ja nee", TODAY), Err(ContactError::Malformed(1)));
        assert_eq!(parse("2026-12-01 brief ochtend avond", TODAY), Err(ContactError::Malformed(1)));
        assert_eq!(parse("2026-12-01 brief|", TODAY), Err(ContactError::Malformed(2)));
        assert!(ContactError::Soort(1).to_string().contains("sms_whatsapp"));
    }
}
