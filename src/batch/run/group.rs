//! Grouping a run's deliverable signals: classified into households once, each household to the
//! municipality its address is routed to.

use std::collections::BTreeMap;

use super::issue::Issue;
use super::sort_out::Router;
use crate::batch::classify::{self, History, Household, Input};
use crate::batch::phases::Phases;
use crate::batch::report::{Entry, Reports};
use crate::batch::sort::Place;
use crate::config::{Config, Municipality};
use crate::domain::party::MunicipalityCode;
use crate::domain::period::Period;

/// Classifies the deliverable signals into households and splits those per municipality.
pub(super) fn classify_per_municipality(
    period: Period,
    router: &Router,
    deliverable: Vec<Input>,
    history: History,
    phases: &mut Phases,
) -> BTreeMap<MunicipalityCode, Vec<Household>> {
    // One classification for all (its history index is built once); each household lies at
    // one address and so in one municipality.
    // Households are large and many: each municipality's list is sized before it is filled.
    let households = classify::classify_with(period, deliverable, &history);
    drop(history);
    phases.done("classify");
    let routed: Vec<Option<&MunicipalityCode>> = households
        .iter()
        .map(|h| router.route(&h.signals[0].input.signal_id, h.key.postcode(), h.key.huisnummer()))
        .collect();
    let mut sizes: BTreeMap<&MunicipalityCode, usize> = BTreeMap::new();
    for m in routed.iter().flatten() {
        *sizes.entry(m).or_default() += 1;
    }
    let mut per_m: BTreeMap<MunicipalityCode, Vec<Household>> =
        sizes.into_iter().map(|(m, n)| (m.clone(), Vec::with_capacity(n))).collect();
    for (h, m) in households.into_iter().zip(routed) {
        if let Some(list) = m.and_then(|m| per_m.get_mut(m)) {
            list.push(h);
        }
    }
    per_m
}

/// The run's municipalities (all, or those of its `scope`) with their households, in the
/// configured order; the signals each leaves out (below its threshold, or by a queue rule)
/// are reported so.
pub(super) fn group<'c>(
    config: &'c Config,
    issue: &Issue,
    mut per_m: BTreeMap<MunicipalityCode, Vec<Household>>,
    reports: &mut Reports,
    phases: &mut Phases,
) -> Vec<(&'c Municipality, Vec<Household>)> {
    let households_of: Vec<(&Municipality, Vec<Household>)> = config
        .municipalities
        .iter()
        .filter(|m| issue.scope.as_ref().is_none_or(|s| s.contains(m.code.as_str())))
        .map(|m| (m, per_m.remove(&m.code).unwrap_or_default()))
        .collect();
    // Signals a municipality leaves out are reported as such (never which rule did it).
    for (m, households) in &households_of {
        let sorter = super::sorter(config, m, issue.period, &issue.known);
        for h in households {
            for sig in &h.signals {
                if let Place::LeftOut(reason) = sorter.place(h, sig) {
                    let entry = Entry::not_delivered(
                        &sig.input.record.referentie,
                        &sig.input.signal_id,
                        Some(&m.code),
                        reason,
                    );
                    reports.add(sig.input.creditor.as_str(), entry);
                }
            }
        }
    }
    phases.done("group");
    households_of
}
