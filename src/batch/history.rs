//! Reading a period's history out of the vault: the `months` periods before it, each as it
//! stood after corrections and objections, reduced to what classification asks about this
//! period (its households, its creditors' referenties). Only the key fields of each sealed
//! line are decoded, and months and creditors are read side by side.

use foldhash::{HashMap, HashSet};

use super::classify::{History, Input};
use super::parallel;
use super::signals::{ReadError, files_by_creditor, for_each_line};
use crate::domain::household::HouseholdKey;
use crate::domain::party::CreditorId;
use crate::domain::period::Period;
use crate::domain::signal::Cents;
use crate::state::State;
use crate::vault::sealed_key::SealedKey;
use crate::vault::{Vault, VaultError};

/// What the period being batched asks of its history.
pub struct Wanted<'a> {
    /// Household key texts ([`HouseholdKey::as_str`]).
    households: HashSet<Box<str>>,
    references: HashMap<&'a str, HashSet<&'a str>>,
}

impl<'a> Wanted<'a> {
    /// The households and (creditor, referentie) pairs of these signals.
    pub fn of(signals: &'a [Input]) -> Wanted<'a> {
        let mut references: HashMap<&str, HashSet<&str>> = HashMap::default();
        for s in signals {
            references.entry(s.creditor.as_str()).or_default().insert(&s.record.referentie);
        }
        let mut households = HashSet::default();
        let mut text = String::new();
        for s in signals {
            let r = &s.record;
            HouseholdKey::text_into(
                &mut text,
                r.postcode.as_str(),
                r.huisnummer,
                r.huisletter,
                r.huisnummertoevoeging.as_deref(),
            );
            if !households.contains(text.as_str()) {
                households.insert(text.as_str().into());
            }
        }
        Wanted { households, references }
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
) -> Result<History, ReadError> {
    let mut units = Vec::new();
    let mut p = period;
    for _ in 0..months {
        p = p.prev();
        for (creditor, files) in files_by_creditor(state, p)? {
            units.push(Unit { period: p, creditor, files });
        }
    }
    let seen = parallel::map(&units, |u| read_unit(vault, u, wanted));
    let mut history = History::default();
    for (unit, seen) in units.iter().zip(seen) {
        let seen = match seen {
            Ok(s) => s,
            Err(ReadError::Vault(VaultError::Shredded(_))) => continue,
            Err(e) => return Err(e),
        };
        for (household, amount) in seen {
            if let Some(h) = household {
                history.saw_household(h);
            }
            if let Some((referentie, bedrag)) = amount {
                history.saw_amount(&unit.creditor, referentie, bedrag);
            }
        }
    }
    Ok(history)
}

/// Reads one unit's files in order; a later record with the same referentie replaces an
/// earlier one and a tombstone withdraws it, so only what stood at the end counts.
fn read_unit<'w>(vault: &Vault, unit: &Unit, wanted: &'w Wanted<'_>) -> Result<Vec<Seen<'w>>, ReadError> {
    let references = wanted.references.get(unit.creditor.as_str());
    let mut current: HashMap<Box<str>, Seen<'w>> = HashMap::default();
    let mut text = String::with_capacity(64);
    for file_id in &unit.files {
        for_each_line(vault, unit.period, file_id, |n, line| {
            match SealedKey::decode(n, line)? {
                SealedKey::Record(r) => {
                    HouseholdKey::text_into(
                        &mut text,
                        &r.postcode,
                        r.huisnummer,
                        r.huisletter,
                        r.huisnummertoevoeging.as_deref(),
                    );
                    let household = wanted.households.get(text.as_str()).map(|h| &**h);
                    let amount = references.and_then(|set| set.get(&*r.referentie)).map(|&rf| (rf, r.bedrag));
                    if household.is_none() && amount.is_none() {
                        current.remove(&*r.referentie);
                    } else {
                        current.insert(r.referentie.into(), (household, amount));
                    }
                }
                SealedKey::Withdrawn(referentie) => {
                    current.remove(&*referentie);
                }
            }
            Ok(())
        })?;
    }
    Ok(current.into_values().collect())
}
