//! Matching and classification (docs/matching.md): group a period's signals per household, find the
//! persons within each household, and flag meervoudig, opeenvolgend and herhaald. Pure: the
//! caller reads the period's signals and the sealed history; nothing here does I/O.
//!
//! The output is deterministic: the same signals and history, in any order, give the same
//! households, persons, signals and ids in the same order, so bundles can be rebuilt
//! byte-identically.

mod history;
mod persons;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::parallel;

use crate::domain::household::{HouseholdKey, PersonKey};
use crate::domain::party::CreditorId;
use crate::domain::period::Period;
use crate::domain::signal::{Cents, SignalRecord};

pub use history::History;

/// One signal of the period being batched (after corrections and withdrawals).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// The opaque signal id.
    pub signal_id: String,
    /// The creditor that sent it.
    pub creditor: CreditorId,
    /// The signal (boxed: signals are moved around while grouped and sorted, and a record is
    /// large).
    pub record: Box<SignalRecord>,
}

/// A signal of an earlier period (from sealed history), only what classification needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Earlier {
    /// The period it belonged to.
    pub period: Period,
    /// The creditor that sent it.
    pub creditor: CreditorId,
    /// Its household.
    pub household: HouseholdKey,
    /// The creditor's reference.
    pub referentie: String,
    /// Its amount.
    pub bedrag: Cents,
}

/// One household of the period with its classification, persons and signals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Household {
    /// The normalised address.
    pub key: HouseholdKey,
    /// Opaque household id for the bundle: `H-` + 16 hex chars of SHA-256 over a domain tag,
    /// the period and the key (see [`household_id`]).
    pub id: String,
    /// At least two distinct (creditor, soort) pairs in this period.
    pub meervoudig: bool,
    /// At least one signal in one of the previous `lookback_months` periods (P-1 … P-lookback).
    pub opeenvolgend: bool,
    /// Sum of `bedrag` of this period's signals.
    pub total: Cents,
    /// The persons, in order of their first signal.
    pub persons: Vec<Person>,
    /// The signals, ordered by (creditor, referentie, signal_id).
    pub signals: Vec<Classified>,
}

/// A person within a household.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    /// The person's key; its date of birth is the one its signals give, if any does.
    pub key: PersonKey,
    /// Indices into [`Household::signals`], ascending.
    pub signals: Vec<usize>,
}

/// A signal with its own classification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Classified {
    /// The signal.
    pub input: Input,
    /// The same creditor reported the same referentie in an earlier period, for at least as much.
    pub herhaald: bool,
    /// Index into [`Household::persons`].
    pub person: usize,
}

impl Household {
    /// Neither meervoudig nor opeenvolgend.
    pub fn enkelvoudig(&self) -> bool {
        !self.meervoudig && !self.opeenvolgend
    }
}

/// Domain tag of household ids (version 1).
const HOUSEHOLD_ID_TAG: &[u8] = b"meldpunt/household-id/v1";

/// The household id of `key` in `period`: `H-` + the first 16 hex chars of
/// SHA-256(tag ‖ 0x00 ‖ period ‖ 0x00 ‖ key).
pub fn household_id(period: Period, key: &HouseholdKey) -> String {
    household_id_with(&period_tag(period), key)
}

/// What [`household_id`] hashes before the key: the tag, the period, their separators.
fn period_tag(period: Period) -> Vec<u8> {
    let mut tag = HOUSEHOLD_ID_TAG.to_vec();
    tag.push(0);
    tag.extend_from_slice(period.to_string().as_bytes());
    tag.push(0);
    tag
}

/// [`household_id`] with the period's part made once ([`period_tag`]).
fn household_id_with(period_tag: &[u8], key: &HouseholdKey) -> String {
    let mut h = Sha256::new();
    h.update(period_tag);
    h.update(key.as_str().as_bytes());
    let digest = h.finalize();
    format!("H-{}", hex::encode(&digest[..8]))
}

/// Months since year 0 (for distances between periods).
fn month_index(p: Period) -> i64 {
    i64::from(p.year()) * 12 + i64::from(p.month()) - 1
}

/// Groups `signals` of `period` per household and classifies them against `earlier`.
///
/// Entries of `earlier` in `period` itself or later are ignored. Households come sorted by key.
pub fn classify(
    period: Period,
    signals: Vec<Input>,
    earlier: &[Earlier],
    lookback_months: u32,
) -> Vec<Household> {
    classify_with(period, signals, &History::of(period, earlier, lookback_months))
}

/// Groups `signals` of `period` per household and classifies them against `history` (see
/// [`classify`]). Households come sorted by key.
pub fn classify_with(period: Period, signals: Vec<Input>, history: &History) -> Vec<Household> {
    // Households are independent, and their order begins with the postcode: the signals are
    // split into postcode ranges, and each range is grouped and classified on its own, side by
    // side; the ranges in order give the households in key order.
    let ranges = postcode_ranges(&signals, PARTS_PER_THREAD * parallel::threads());
    // Each part sized for its share and some more (the ranges come from a sample).
    let expected = signals.len() / (ranges.len() + 1) + signals.len() / 8;
    let mut parts: Vec<Vec<Input>> = (0..=ranges.len()).map(|_| Vec::with_capacity(expected)).collect();
    for s in signals {
        let part = ranges.partition_point(|bound| bound.as_str() <= s.record.postcode.as_str());
        parts[part].push(s);
    }
    let tag = period_tag(period);
    let classified = parallel::map_owned(parts, |part| {
        let mut groups: BTreeMap<HouseholdKey, Vec<Input>> = BTreeMap::new();
        for s in part {
            // Most households have one or two signals: no room for four on the first.
            groups.entry(HouseholdKey::of(&s.record)).or_insert_with(|| Vec::with_capacity(1)).push(s);
        }
        groups.into_iter().map(|(key, inputs)| household(&tag, key, inputs, history)).collect::<Vec<_>>()
    });
    let mut households = Vec::with_capacity(classified.iter().map(Vec::len).sum());
    for part in classified {
        households.extend(part);
    }
    households
}

/// Postcode ranges per thread when grouping and classifying side by side (more than one, so
/// that a range with more households does not leave a core idle).
const PARTS_PER_THREAD: usize = 4;

/// One signal in so many decides the postcode ranges.
const SAMPLE_EVERY: usize = 16;

/// Up to `parts - 1` ascending postcodes that split `signals` into about equal parts: part
/// `i` holds the postcodes from bound `i - 1` (inclusive) to bound `i` (exclusive).
/// The bounds come from a sample (every [`SAMPLE_EVERY`]th signal), which splits as evenly
/// as all of them would, without sorting a national month's postcodes.
fn postcode_ranges(signals: &[Input], parts: usize) -> Vec<String> {
    let mut postcodes: Vec<&str> =
        signals.iter().step_by(SAMPLE_EVERY).map(|s| s.record.postcode.as_str()).collect();
    postcodes.sort_unstable();
    let mut bounds: Vec<String> = Vec::with_capacity(parts);
    for i in 1..parts {
        let Some(&pc) = postcodes.get(i * postcodes.len() / parts) else { break };
        if bounds.last().is_none_or(|b| b.as_str() < pc) {
            bounds.push(pc.to_owned());
        }
    }
    bounds
}

/// One household of the period with its signals, classified.
fn household(period_tag: &[u8], key: HouseholdKey, mut inputs: Vec<Input>, history: &History) -> Household {
    inputs.sort_by(|a, b| {
        (&a.creditor, a.referentie(), &a.signal_id).cmp(&(&b.creditor, b.referentie(), &b.signal_id))
    });
    // Two distinct (creditor, soort) pairs exist exactly when some pair differs from the first.
    let first = &inputs[0];
    let meervoudig =
        inputs.iter().any(|s| s.creditor != first.creditor || s.record.soort != first.record.soort);
    let total = Cents(inputs.iter().fold(0u64, |t, s| t.saturating_add(s.record.bedrag.0)));
    let keys: Vec<PersonKey> = inputs.iter().map(|s| PersonKey::of(&s.record)).collect();
    let (persons, person_of) = persons::group(&keys);
    let signals = inputs
        .into_iter()
        .zip(person_of)
        .map(|(input, person)| {
            let herhaald = history
                .highest(&input.creditor, input.referentie())
                .is_some_and(|max| input.record.bedrag <= max);
            Classified { input, herhaald, person }
        })
        .collect();
    Household {
        id: household_id_with(period_tag, &key),
        opeenvolgend: history.opeenvolgend(&key),
        key,
        meervoudig,
        total,
        persons,
        signals,
    }
}

impl Input {
    /// The creditor's reference of this signal.
    fn referentie(&self) -> &str {
        &self.record.referentie
    }
}
