//! Sorting out a period's signals: read them, route each to its municipality, read the history
//! their classification needs, and set aside (reported, with why) those that cannot be
//! delivered.

use std::collections::{HashMap, HashSet};

use super::issue::Issue;
use super::{Context, RunError};
use crate::batch::classify::{History, Input};
use crate::batch::phases::Phases;
use crate::batch::report::{Entry, NotDelivered, Reports};
use crate::batch::routing::RoutingTable;
use crate::batch::{history, signals};
use crate::config::Config;
use crate::domain::party::MunicipalityCode;
use crate::domain::signal::Postcode;

/// Where a run's signals go: where they went before (a re-issue), else by the routing table.
pub(super) struct Router {
    routing: RoutingTable,
    /// A re-issue's signals and where each was delivered before.
    earlier: Option<HashMap<String, MunicipalityCode>>,
}

impl Router {
    /// Where a signal goes: where it went before (`earlier`, a re-issue), else by the table.
    pub fn route(&self, signal_id: &str, postcode: &Postcode, huisnummer: u32) -> Option<&MunicipalityCode> {
        match &self.earlier {
            Some(map) => map.get(signal_id),
            None => self.routing.route(postcode, huisnummer),
        }
    }
}

/// Reads the routing table and the period's sealed signals; the router that sends them on.
pub(super) fn read_period(
    cx: &Context<'_>,
    issue: &Issue,
    phases: &mut Phases,
    progress: &mut dyn FnMut(&str),
) -> Result<(Router, Vec<Input>), RunError> {
    let p = issue.period;
    progress(&format!("reading the sealed signals of {p}"));
    let routing = RoutingTable::load(&cx.config.batch.routing_table).map_err(RunError::Routing)?;
    let period_signals = signals::period_signals(cx.app.state(), cx.app.vault(), p, !issue.dry_run)?;
    phases.done("read period");
    progress(&format!(
        "{} signals; reading {} months of history",
        period_signals.len(),
        cx.config.batch.lookback_months
    ));
    // A re-issue sends each signal where it went before (the routing table may have changed
    // since); a signal not delivered before is not delivered by a re-issue either.
    let earlier: Option<HashMap<String, MunicipalityCode>> = match &issue.scope {
        None => None,
        Some(_) => Some(
            crate::state::exchange::delivered_in(&cx.app.state().lock(), &p.to_string())?
                .into_iter()
                .filter_map(|(id, m)| Some((id, MunicipalityCode::parse(&m).ok()?)))
                .collect(),
        ),
    };
    Ok((Router { routing, earlier }, period_signals))
}

/// Routes each signal (in signal order) while working out which history can matter, then
/// reads that history.
pub(super) fn route_and_read_history<'r>(
    cx: &Context<'_>,
    issue: &Issue,
    router: &'r Router,
    period_signals: &[Input],
    phases: &mut Phases,
) -> Result<(Vec<Option<&'r MunicipalityCode>>, History), RunError> {
    // Only history that can matter: the households of this period (opeenvolgend) and its
    // (creditor, referentie) pairs (herhaald). Meanwhile the signals are routed.
    let (wanted, routes) = std::thread::scope(|s| {
        let routes = s.spawn(|| {
            period_signals
                .iter()
                .map(|s| router.route(&s.signal_id, &s.record.postcode, s.record.huisnummer))
                .collect()
        });
        let wanted = history::Wanted::of(period_signals);
        let routes: Vec<Option<&MunicipalityCode>> =
            routes.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (wanted, routes)
    });
    phases.done("wanted, route");
    // A dry run changes nothing, key indexes included.
    let history = history::read(
        cx.app.state(),
        cx.app.vault(),
        issue.period,
        cx.config.batch.lookback_months,
        &wanted,
        !issue.dry_run,
    )?;
    drop(wanted);
    phases.done("read history");
    Ok((routes, history))
}

/// Sets aside the signals that cannot be delivered, each reported with why; those that can,
/// and the reports so far (every creditor with signals in the period has one).
pub(super) fn sort_out(
    config: &Config,
    period_signals: Vec<Input>,
    routes: Vec<Option<&MunicipalityCode>>,
    phases: &mut Phases,
) -> (Vec<Input>, Reports) {
    // What cannot be delivered is reported and left out before classification, so no
    // municipality learns anything from a signal it may not receive.
    let mut reports = Reports::default();
    let mut deliverable: Vec<Input> = Vec::with_capacity(period_signals.len());
    // Looked up per signal: a set, not a walk through the 342 configured municipalities.
    let served: HashSet<&MunicipalityCode> = config.municipalities.iter().map(|m| &m.code).collect();
    for (s, routed) in period_signals.into_iter().zip(routes) {
        let creditor = config.creditor(&s.creditor);
        let verdict = match routed {
            None => Err(NotDelivered::Unroutable),
            Some(m) if !served.contains(m) => Err(NotDelivered::MunicipalityNotConfigured),
            Some(m) if !creditor.is_some_and(|c| c.agreements.covers(m)) => Err(NotDelivered::NoAgreement),
            Some(_) => Ok(()),
        };
        // Delivered signals enter the reports when they are written (from the households), so
        // the reports do not hold a copy of every signal meanwhile.
        match verdict {
            Ok(()) => {
                reports.creditor(s.creditor.as_str());
                deliverable.push(s);
            }
            Err(reason) => reports.add(
                s.creditor.as_str(),
                Entry::not_delivered(&s.record.referentie, &s.signal_id, routed, reason),
            ),
        }
    }
    phases.done("sort out");
    (deliverable, reports)
}
