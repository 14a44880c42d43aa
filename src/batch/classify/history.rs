//! What the months before a period say about it: which of its households had a signal in
//! the lookback window (opeenvolgend), and the highest amount each (creditor, referentie)
//! was reported for before (herhaald). Only keys the period asks about need to be in it, so
//! its size follows the period, not the history.

use foldhash::{HashMap, HashSet};

use super::{Earlier, month_index};
use crate::domain::household::HouseholdKey;
use crate::domain::party::CreditorId;
use crate::domain::period::Period;
use crate::domain::signal::Cents;

/// The history of a period, reduced to what classification looks up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    /// Households by their key text ([`HouseholdKey::as_str`]).
    recent: HashSet<Box<str>>,
    highest: HashMap<CreditorId, HashMap<String, Cents>>,
}

impl History {
    /// The history of `period` from single earlier signals. Entries in `period` or later are
    /// ignored; households count only within `lookback_months`, amounts at any distance.
    pub fn of(period: Period, earlier: &[Earlier], lookback_months: u32) -> History {
        let now = month_index(period);
        let mut h = History::default();
        for e in earlier {
            let back = now - month_index(e.period);
            if back <= 0 {
                continue;
            }
            if back <= i64::from(lookback_months) {
                h.saw_household(e.household.as_str());
            }
            h.saw_amount(&e.creditor, &e.referentie, e.bedrag);
        }
        h
    }

    /// The household with this key text ([`HouseholdKey::as_str`]) had a signal within the
    /// lookback window.
    pub fn saw_household(&mut self, key: &str) {
        if !self.recent.contains(key) {
            self.recent.insert(key.into());
        }
    }

    /// The creditor reported `referentie` for `bedrag` in an earlier period.
    pub fn saw_amount(&mut self, creditor: &CreditorId, referentie: &str, bedrag: Cents) {
        let per = match self.highest.get_mut(creditor) {
            Some(per) => per,
            None => self.highest.entry(creditor.clone()).or_default(),
        };
        match per.get_mut(referentie) {
            Some(max) => *max = (*max).max(bedrag),
            None => {
                per.insert(referentie.to_owned(), bedrag);
            }
        }
    }

    /// Adds the amounts of `other`, whose creditors this history has no amounts of (its
    /// households are left out).
    pub fn take_amounts(&mut self, other: History) {
        for (creditor, amounts) in other.highest {
            debug_assert!(!self.highest.contains_key(&creditor), "{creditor} merged twice");
            self.highest.insert(creditor, amounts);
        }
    }

    /// Whether the household had a signal within the lookback window.
    pub fn opeenvolgend(&self, key: &HouseholdKey) -> bool {
        self.recent.contains(key.as_str())
    }

    /// The highest amount the creditor reported `referentie` for before, if ever.
    pub fn highest(&self, creditor: &CreditorId, referentie: &str) -> Option<Cents> {
        self.highest.get(creditor)?.get(referentie).copied()
    }
}
