//! Reading a period's history out of the vault: the `months` periods before it, each as it
//! stood after corrections and objections, reduced to what classification asks about this
//! period (its households, its creditors' referenties). Only the key fields of each sealed
//! line are decoded — from the file's key index where it has one — and months and creditors
//! are read side by side.

use foldhash::{HashMap, HashSet};

use super::classify::{History, Input};
use super::parallel;
use super::signals::{ReadError, files_by_creditor, for_each_line};
use crate::domain::household::HouseholdKey;
use crate::domain::party::CreditorId;
use crate::domain::period::Period;
use crate::domain::signal::Cents;
use crate::state::State;
use crate::vault::key_index::{self, IndexBuilder, KeyLine};
use crate::vault::sealed_key::SealedKey;
use crate::vault::{Vault, VaultError};

/// What the period being batched asks of its history.
pub struct Wanted<'a> {
    /// Household key texts ([`HouseholdKey::as_str`]).
    households: HashSet<Box<str>>,
    references: HashMap<&'a str, HashSet<&'a str>>,
}

impl<'a> Wanted<'a> {
    /// The households and (creditor, referentie) pairs of these signals (the two sets built
    /// side by side).
    pub fn of(signals: &'a [Input]) -> Wanted<'a> {
        std::thread::scope(|scope| {
            let references = scope.spawn(|| {
                let mut references: HashMap<&str, HashSet<&str>> = HashMap::default();
                for s in signals {
                    references.entry(s.creditor.as_str()).or_default().insert(&s.record.referentie);
                }
                references
            });
            let mut households = HashSet::default();
            let mut text = String::new();
            for s in signals {
                HouseholdKey::record_text_into(&mut text, &s.record);
                if !households.contains(text.as_str()) {
                    households.insert(text.as_str().into());
                }
            }
            let references = references.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            Wanted { households, references }
        })
    }
}

/// One creditor's files of one earlier month.
struct Unit {
    period: Period,
    creditor: CreditorId,
    files: Vec<String>,
}

/// What one record stood for at the end of its month: its household if wanted, and its
/// referentie (if wanted) with its amount.
type Seen<'w> = (Option<&'w str>, Option<(&'w str, Cents)>);

/// The history of `period` over the `months` before it, as far as `wanted` asks about it. A
/// month whose key has been shredded has nothing to give.
pub fn read(
    state: &State,
    vault: &Vault,
    period: Period,
    months: u32,
    wanted: &Wanted<'_>,
    keep_index: bool,
) -> Result<History, ReadError> {
    let mut units = Vec::new();
    let mut p = period;
    for _ in 0..months {
        p = p.prev();
        for (creditor, files) in files_by_creditor(state, p)? {
            units.push(Unit { period: p, creditor, files });
        }
    }
    let seen = parallel::map(&units, |u| read_unit(vault, u, wanted, keep_index));
    let mut read = Vec::with_capacity(units.len());
    for (unit, seen) in units.iter().zip(seen) {
        match seen {
            Ok(s) => read.push((&unit.creditor, s)),
            Err(ReadError::Vault(VaultError::Shredded(_))) => continue,
            Err(e) => return Err(e),
        }
    }
    // Merged side by side: the households of all units, and each creditor's amounts.
    let mut creditors: Vec<&CreditorId> = read.iter().map(|(c, _)| *c).collect();
    creditors.sort_unstable();
    creditors.dedup();
    let tasks: Vec<Option<&CreditorId>> =
        std::iter::once(None).chain(creditors.iter().copied().map(Some)).collect();
    let mut merged = parallel::map(&tasks, |task| {
        let mut part = History::default();
        for (creditor, seen) in &read {
            match task {
                None => seen.iter().filter_map(|(h, _)| *h).for_each(|h| part.saw_household(h)),
                Some(only) if only == creditor => {
                    seen.iter().filter_map(|(_, a)| *a).for_each(|(r, b)| part.saw_amount(only, r, b))
                }
                Some(_) => {}
            }
        }
        part
    })
    .into_iter();
    let mut history = merged.next().unwrap_or_default();
    for part in merged {
        history.take_amounts(part);
    }
    Ok(history)
}

/// Reads one unit's files in order; a later record with the same referentie replaces an
/// earlier one and a tombstone withdraws it, so only what stood at the end counts. Each file
/// is read through its key index where it has a sound one; otherwise the sealed file is read
/// and, if `keep_index`, its index written for the next batch.
fn read_unit<'w>(
    vault: &Vault,
    unit: &Unit,
    wanted: &'w Wanted<'_>,
    keep_index: bool,
) -> Result<Vec<Seen<'w>>, ReadError> {
    let references = wanted.references.get(unit.creditor.as_str());
    let mut current: HashMap<Box<str>, Seen<'w>> = HashMap::default();
    let mut apply = |line: KeyLine<'_>| match line {
        KeyLine::Record { referentie, household, bedrag } => {
            let household = wanted.households.get(household).map(|h| &**h);
            let amount = references.and_then(|set| set.get(referentie)).map(|&rf| (rf, bedrag));
            if household.is_none() && amount.is_none() {
                current.remove(referentie);
            } else {
                current.insert(referentie.into(), (household, amount));
            }
        }
        KeyLine::Withdrawn(referentie) => {
            current.remove(referentie);
        }
    };
    let mut text = String::with_capacity(64);
    for file_id in &unit.files {
        match vault.read_index(unit.period, file_id) {
            Ok(Some(bytes)) => {
                // Read whole (and so checked) before any of it counts.
                let mut lines = Vec::with_capacity(bytes.len() / 32);
                if key_index::for_each(&bytes, |line| lines.push(line)).is_ok() {
                    lines.into_iter().for_each(&mut apply);
                    continue;
                }
                tracing::debug!(file_id, "key index of another format or damaged; reading the file")
            }
            Ok(None) => {}
            Err(e) => tracing::debug!(file_id, error = %e, "key index unreadable; reading the file"),
        }
        let mut index = keep_index.then(IndexBuilder::new);
        for_each_line(vault, unit.period, file_id, |n, line| {
            let key = match SealedKey::decode(n, line)? {
                SealedKey::Record(r) => {
                    HouseholdKey::text_into(
                        &mut text,
                        &r.postcode,
                        r.huisnummer,
                        r.huisletter,
                        r.huisnummertoevoeging.as_deref(),
                    );
                    let line =
                        KeyLine::Record { referentie: &r.referentie, household: &text, bedrag: r.bedrag };
                    apply(line);
                    add_to(&mut index, line);
                    return Ok(());
                }
                SealedKey::Withdrawn(referentie) => referentie,
            };
            apply(KeyLine::Withdrawn(&key));
            add_to(&mut index, KeyLine::Withdrawn(&key));
            Ok(())
        })?;
        if let Some(index) = index {
            keep(vault, unit.period, file_id, index);
        }
    }
    Ok(current.into_values().collect())
}

/// Adds `line` to the index being built, if one is (an entry it cannot hold drops it).
pub(super) fn add_to(index: &mut Option<IndexBuilder>, line: KeyLine<'_>) {
    if index.as_mut().is_some_and(|b| !b.push(line)) {
        *index = None;
    }
}

/// Writes the key index of a file just read, for the next batch; a failure only costs that
/// batch the full read again.
pub(super) fn keep(vault: &Vault, period: Period, file_id: &str, index: IndexBuilder) {
    if let Err(e) = vault.write_index(period, file_id, &index.finish()) {
        tracing::debug!(file_id, error = %e, "key index not written");
    }
}

#[cfg(test)]
mod tests;
