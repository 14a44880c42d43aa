//! Finishing a run whose bundle files are in place and whose signals are recorded: the
//! manifests renamed in (which makes the delivery count), the creditors' reports published, the
//! run marked delivered and audited, staging cleared.

use std::path::Path;

use serde_json::json;

use super::issue::Issue;
use super::stage::Staged;
use super::{Context, RunError, Summary};
use crate::audit::{Event, Outcome};
use crate::batch::classify::Household;
use crate::batch::phases::Phases;
use crate::config::Municipality;
use crate::state::batches;

/// Completes the delivery of a staged run, from its manifests to its audit event.
pub(super) fn finish(
    cx: &Context<'_>,
    issue: &Issue,
    staged: Staged<'_>,
    households_of: Vec<(&Municipality, Vec<Household>)>,
    summary: &Summary,
    staging: &Path,
    phases: &mut Phases,
) -> Result<(), RunError> {
    free_households(households_of);
    if let Some(manifests) = staged.manifests {
        staged.pickups.deliver_manifests(manifests)?;
    }
    phases.done("deliver manifests");
    if let Some(reports) = &staged.reports {
        reports.publish(cx.app.layout(), cx.app.signer())?;
    }
    phases.done("reports");
    let detail = audit_detail(issue, summary);
    // When the run ended (its start is `issue.now`): `/metrics` shows the difference.
    let now = jiff::Timestamp::now();
    let finished = now.round(jiff::Unit::Millisecond).unwrap_or(now).to_string();
    batches::delivered(
        &cx.app.state().lock(),
        &issue.period.to_string(),
        issue.version,
        &finished,
        &detail.to_string(),
    )?;
    phases.done("mark delivered");
    let _ = cx.app.audit().emit_blocking(Event::new(cx.actor, "batch", Outcome::Ok).object(detail));
    phases.done("audit");
    std::fs::remove_dir_all(staging)?;
    phases.done("finish");
    Ok(())
}

/// Frees the households on a thread of their own, which nothing waits for.
fn free_households(households_of: Vec<(&Municipality, Vec<Household>)>) {
    // The households are the period's records, most of the memory: a million small
    // allocations at national scale.
    let households: Vec<Vec<Household>> = households_of.into_iter().map(|(_, h)| h).collect();
    if let Err(e) = std::thread::Builder::new().name("batch-free".into()).spawn(move || drop(households)) {
        tracing::debug!(error = %e, "no thread to free the households on; freed when the run ends");
    }
}

/// What the run's record and audit event say of it: period, version, counts per
/// municipality, not delivered (in all and per reason), and whether it is a re-issue.
fn audit_detail(issue: &Issue, summary: &Summary) -> serde_json::Value {
    let counts: Vec<_> = summary
        .municipalities
        .iter()
        .map(|(code, _, c)| json!({ "gemeente": code.to_string(), "households": c.households, "signals": c.signals }))
        .collect();
    let mut detail = json!({ "period": issue.period.to_string(), "version": issue.version, "municipalities": counts, "not_delivered": summary.not_delivered, "not_delivered_by": summary.not_delivered_by });
    if !summary.executors.is_empty() {
        let executors: Vec<_> = summary
            .executors
            .iter()
            .map(|(e, code, c)| json!({ "uitvoerder": e.to_string(), "gemeente": code.to_string(), "households": c.households, "signals": c.signals }))
            .collect();
        detail["executors"] = json!(executors);
    }
    if issue.scope.is_some() {
        detail["reissue"] = json!(true);
    }
    detail
}
