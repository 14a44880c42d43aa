//! Sorting the signals a municipality receives (docs/bundles.md): households under its
//! threshold that it does not take are left out; then its queue rules put each signal into a
//! work queue ("werkbak") or leave it out. One decision serves the bundle rows, the recorded
//! deliveries and the creditors' reports, so they always agree.

use jiff::civil::Date;

use super::classify::{Classified, Household};
use super::report::NotDelivered;
use crate::config::Municipality;
use crate::domain::clients::known::KnownClients;
use crate::domain::household::PersonKey;
use crate::domain::werkbak::{Decision, Facts, decide};

/// Where one signal goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place<'a> {
    /// Into the bundle, in this queue (`None`: no rule sorted it).
    Deliver(Option<&'a str>),
    /// Not into the bundle, for this reason.
    LeftOut(NotDelivered),
}

/// Sorts the signals of one municipality in one period.
#[derive(Clone, Copy, Debug)]
pub struct Sorter<'a> {
    m: &'a Municipality,
    /// The day ages are taken on: the period's batch day.
    on: Date,
    /// The known-client lists that count in this run: the municipality's own and that of the
    /// executor serving it.
    known: [Option<&'a KnownClients>; 2],
}

impl<'a> Sorter<'a> {
    /// A sorter for `m`, taking ages on `on` (the period's batch day), marking signals
    /// `bekend` against `known`: the municipality's list and its executor's.
    pub fn new(m: &'a Municipality, on: Date, known: [Option<&'a KnownClients>; 2]) -> Self {
        Sorter { m, on, known }
    }

    /// Whether the person of `sig` is on the known-client list of the municipality or of the
    /// executor serving it (its own surname and date of birth, at the household's address).
    /// Both count: the work queue the flag chooses may decide which of the two receives it.
    pub fn bekend(&self, h: &Household, sig: &Classified) -> bool {
        let person = PersonKey::of(&sig.input.record);
        self.known.iter().flatten().any(|k| k.is_known(&h.key, &person))
    }

    /// Whether the household is under the municipality's threshold.
    pub fn onder_drempel(&self, h: &Household) -> bool {
        self.m.drempelbedrag.is_some_and(|d| h.total < d)
    }

    /// Where `sig` of household `h` goes.
    pub fn place(&self, h: &Household, sig: &Classified) -> Place<'a> {
        let onder_drempel = self.onder_drempel(h);
        if onder_drempel && self.m.leave_out_onder_drempel {
            return Place::LeftOut(NotDelivered::BelowThreshold);
        }
        if self.m.werkbak_rules.is_empty() {
            return Place::Deliver(None);
        }
        let s = &sig.input.record;
        let facts = Facts {
            soort: s.soort,
            fase: s.fase,
            crisissignaal: s.crisissignaal,
            enkelvoudig: h.enkelvoudig(),
            meervoudig: h.meervoudig,
            opeenvolgend: h.opeenvolgend,
            herhaald: sig.herhaald,
            bekend: self.bekend(h, sig),
            onder_drempel,
            total: h.total,
            creditor: &sig.input.creditor,
            geboortedatum: s.geboortedatum,
            on: self.on,
        };
        match decide(&self.m.werkbak_rules, &facts) {
            Decision::Queue(q) => Place::Deliver(Some(q)),
            Decision::Unsorted => Place::Deliver(None),
            Decision::LeaveOut => Place::LeftOut(NotDelivered::LeftOut),
        }
    }
}
