//! Access requests (docs/storage-and-retention.md, right of access): everything meldpunt holds about one address,
//! or one person at it — each signal still held, which municipality received it and when, and
//! the feedback on it — for the operator to hand to the data subject.
//!
//! The export holds personal data by nature: it is written only where the operator says,
//! with mode 0600, and the audit event records counts only.

use jiff::Timestamp;
use serde::Serialize;

use super::held_periods;
use crate::batch::signals;
use crate::domain::household::{HouseholdKey, surname_key};
use crate::domain::period::Period;
use crate::domain::signal::{Postcode, SignalRecord};
use crate::layout::Layout;
use crate::state::{State, StateError};
use crate::vault::Vault;

/// Whom an access (or erasure) request is about.
#[derive(Clone, Debug)]
pub struct Selector {
    /// The address.
    pub household: HouseholdKey,
    /// Only this person at it (surname, compared as the batch compares surnames).
    pub achternaam: Option<String>,
}

impl Selector {
    /// A selector from the command line's parts; `None` for a postcode that is not one.
    pub fn new(
        postcode: &str,
        huisnummer: u32,
        huisletter: Option<&str>,
        toevoeging: Option<&str>,
        achternaam: Option<&str>,
    ) -> Option<Selector> {
        let pc = Postcode::parse(postcode)?;
        Some(Selector {
            household: HouseholdKey::new(&pc, huisnummer, huisletter, toevoeging),
            achternaam: achternaam.map(|a| surname_key(None, a)),
        })
    }

    /// Whether a record is about this address (and person).
    pub fn matches(&self, r: &SignalRecord) -> bool {
        HouseholdKey::of(r) == self.household
            && self
                .achternaam
                .as_ref()
                .is_none_or(|a| *a == surname_key(r.voorvoegsel.as_deref(), &r.achternaam))
    }
}

/// One signal held about the subject.
#[derive(Debug, Serialize)]
pub struct Held {
    /// Period.
    pub periode: String,
    /// Signal id.
    pub signaal_id: String,
    /// The creditor that reported it.
    pub signaalpartner: String,
    /// The signal as received (normalised).
    pub signaal: SignalRecord,
    /// The municipality it was delivered to, and when (none: not (yet) delivered).
    pub geleverd_aan: Option<Delivery>,
    /// Feedback from the municipality, in the order received.
    pub terugmeldingen: Vec<Feedback>,
}

/// A delivery.
#[derive(Debug, Serialize)]
pub struct Delivery {
    /// Municipality code.
    #[serde(rename = "gemeente")]
    pub municipality: String,
    /// The executor that received it for the municipality, if one did (docs/executor.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uitvoerder: Option<String>,
    /// Whether the municipality itself received it (false when only its executor did).
    pub gemeente_zelf: bool,
    /// When.
    pub op: String,
}

/// One feedback line.
#[derive(Debug, Serialize)]
pub struct Feedback {
    /// The result code.
    pub resultaat: String,
    /// Its date.
    pub datum: String,
    /// When the case was taken up, if the line said (docs/ddas.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datum_opgepakt: Option<String>,
    /// The contact attempts the line gave, if any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contactpogingen: Vec<crate::domain::contact::ContactPoging>,
}

/// The whole export.
#[derive(Debug, Serialize)]
pub struct Inzage {
    /// When it was made.
    pub gemaakt_op: String,
    /// Periods searched (every period whose key is still there).
    pub perioden: Vec<String>,
    /// The signals found.
    pub signalen: Vec<Held>,
}

/// Why an export could not be made.
#[derive(Debug, thiserror::Error)]
pub enum InzageError {
    /// Reading a period.
    #[error(transparent)]
    Read(#[from] signals::ReadError),
    /// State.
    #[error(transparent)]
    State(#[from] StateError),
    /// Listing periods.
    #[error(transparent)]
    Shred(#[from] super::ShredError),
}

/// Collects what is held about `who`, in every period still held.
pub fn collect(layout: &Layout, state: &State, vault: &Vault, who: &Selector) -> Result<Inzage, InzageError> {
    let periods: Vec<Period> =
        held_periods(layout, state)?.into_iter().filter(|p| layout.period_key(*p).exists()).collect();
    let mut out = Inzage {
        gemaakt_op: Timestamp::now().round(jiff::Unit::Second).unwrap_or(Timestamp::now()).to_string(),
        perioden: periods.iter().map(ToString::to_string).collect(),
        signalen: Vec::new(),
    };
    for p in periods {
        for s in signals::period_signals(state, vault, p, false)? {
            if !who.matches(&s.record) {
                continue;
            }
            let conn = state.lock();
            let geleverd_aan = conn
                .query_row(
                    "SELECT d.municipality, d.delivered_at, v.executor, v.municipality_too \
                     FROM delivered d LEFT JOIN delivered_via v USING (signal_id) WHERE d.signal_id = ?1",
                    [&s.signal_id],
                    |r| {
                        Ok(Delivery {
                            municipality: r.get(0)?,
                            op: r.get(1)?,
                            uitvoerder: r.get(2)?,
                            gemeente_zelf: r.get::<_, Option<bool>>(3)?.unwrap_or(true),
                        })
                    },
                )
                .ok();
            let mut stmt = conn
                .prepare_cached(
                    "SELECT f.resultaat, f.datum, f.datum_opgepakt, f.contactpogingen
                       FROM feedback f JOIN feedback_files ff ON ff.file_id = f.file_id
                      WHERE f.signal_id = ?1 ORDER BY julianday(ff.received_at), ff.file_id",
                )
                .map_err(StateError)?;
            let terugmeldingen = stmt
                .query_map([&s.signal_id], |r| {
                    let pogingen: Option<String> = r.get(3)?;
                    Ok(Feedback {
                        resultaat: r.get(0)?,
                        datum: r.get(1)?,
                        datum_opgepakt: r.get(2)?,
                        contactpogingen: pogingen
                            .and_then(|j| serde_json::from_str(&j).ok())
                            .unwrap_or_default(),
                    })
                })
                .map_err(StateError)?
                .collect::<Result<_, _>>()
                .map_err(StateError)?;
            out.signalen.push(Held {
                periode: p.to_string(),
                signaal_id: s.signal_id.clone(),
                signaalpartner: s.creditor.to_string(),
                signaal: *s.record,
                geleverd_aan,
                terugmeldingen,
            });
        }
    }
    Ok(out)
}
