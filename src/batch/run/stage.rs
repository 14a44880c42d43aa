//! Staging a run and delivering its bundle files: each municipality's bundles are staged side
//! by side while the delivered signals are recorded and the creditors' reports staged; then
//! the staged files are made durable and the bundle files renamed into the pickup folders. The
//! manifests wait for the record (`finish`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::issue::Issue;
use super::{Context, RunError, Summary, reageer_voor, rows};
use crate::batch::publish::{self, HouseholdsOf, Manifests, Pickups};
use crate::batch::report::{Reports, StagedReports};
use crate::batch::{bundle, parallel, receivers};
use crate::durable;
use crate::layout::Layout;

/// Clears what an interrupted run left in staging and makes the staging folder of `issue`.
pub(super) fn fresh_staging(layout: &Layout, issue: &Issue) -> Result<PathBuf, RunError> {
    // Only one batch runs at a time (the lock), so anything left in staging is from an
    // interrupted run and can go.
    let staging_root = layout.batch_staging();
    if staging_root.exists() {
        std::fs::remove_dir_all(&staging_root)?;
    }
    let staging = staging_root.join(format!("{}-v{}", issue.period, issue.version));
    durable::create_private_dir(&staging)?;
    Ok(staging)
}

/// A staged run whose bundle files are in place: what is left to deliver.
pub(super) struct Staged<'a> {
    /// The delivery into the pickup folders.
    pub pickups: Pickups<'a>,
    /// The manifests still to be renamed into place (`None` in a dry run).
    pub manifests: Option<Manifests>,
    /// The creditors' reports, staged (`None` in a dry run and in a re-issue).
    pub reports: Option<StagedReports>,
}

/// Stages the run and delivers its bundle files; the delivered signals are recorded meanwhile.
pub(super) fn stage_and_deliver_bundles<'a>(
    cx: &Context<'a>,
    issue: &Issue,
    staging: &'a Path,
    households_of: &HouseholdsOf<'_>,
    reports: Reports,
    summary: &mut Summary,
    progress: &mut dyn FnMut(&str),
) -> Result<Staged<'a>, RunError> {
    // Stage each municipality's bundles, municipalities side by side (serialisation,
    // encryption and hashing). Meanwhile one more thread records the delivered signals (what
    // feedback will refer to) and another writes the creditors' reports into staging
    // (published after delivery). Once the bundles are staged, all staged files are made
    // durable at once and the bundle files renamed into place, while the recording goes on;
    // the manifests follow once it is done: the run counts as delivered only once its
    // manifests are in place and it is marked so (a crash in between redoes the same version,
    // and recording again replaces the same rows).
    let folders: Vec<String> = households_of
        .iter()
        .filter(|_| !issue.dry_run)
        .flat_map(|(m, _)| receivers::folders(&cx.config, m))
        .collect();
    let pickups = Pickups::new(cx.app.layout(), staging, folders.iter().map(String::as_str))?;
    // The side threads log when they are done, counted from here (which of them, or the
    // bundles, took longest).
    let side_start = Instant::now();
    let (manifests, reports) = std::thread::scope(|s| -> Result<_, RunError> {
        let side =
            s.spawn(|| record_and_stage_reports(cx, issue, households_of, reports, staging, side_start));
        let staged = stage_bundles(cx, issue, staging, households_of, summary, progress)?;
        tracing::debug!(ms = side_start.elapsed().as_millis() as u64, "bundles staged");
        let manifests = (!issue.dry_run).then(|| pickups.deliver_bundles(staged)).transpose()?;
        tracing::debug!(ms = side_start.elapsed().as_millis() as u64, "bundle files delivered");
        let reports = side.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        Ok((manifests, reports))
    })?;
    Ok(Staged { pickups, manifests, reports })
}

/// The side thread of staging: records the delivered signals while the creditors' reports
/// are staged beside it (not in a re-issue); nothing in a dry run.
fn record_and_stage_reports(
    cx: &Context<'_>,
    issue: &Issue,
    households_of: &HouseholdsOf<'_>,
    reports: Reports,
    staging: &Path,
    side_start: Instant,
) -> Result<Option<StagedReports>, RunError> {
    if issue.dry_run {
        return Ok(None);
    }
    let (p, version) = (issue.period, issue.version);
    let delivered =
        publish::delivered_signals(households_of, |m| super::sorter(&cx.config, m, p, &issue.known));
    let delivered = &delivered;
    let reports_dir = staging.join("reports");
    std::thread::scope(|s| {
        // The reports are written while SQLite records (which partly waits for the disk). A
        // re-issue for some municipalities leaves the creditors' reports as they are (an
        // erasure rewrites them itself).
        let staged = issue
            .scope
            .is_none()
            .then(|| s.spawn(move || reports.stage(&reports_dir, p, version, delivered, issue.today)));
        crate::state::exchange::record_delivered(
            &mut cx.app.state().lock(),
            &p.to_string(),
            version,
            &issue.now,
            delivered,
        )?;
        let via = receivers::via_executors(&cx.config, households_of, |m| {
            super::sorter(&cx.config, m, p, &issue.known)
        });
        let run_municipalities: Vec<&str> = households_of.iter().map(|(m, _)| m.code.as_str()).collect();
        crate::state::via::record(&mut cx.app.state().lock(), &p.to_string(), &run_municipalities, &via)?;
        tracing::debug!(ms = side_start.elapsed().as_millis() as u64, "delivered signals recorded");
        let staged =
            staged.map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).transpose()?;
        tracing::debug!(ms = side_start.elapsed().as_millis() as u64, "creditors' reports staged");
        Ok(staged)
    })
}

/// Stages each municipality's bundles, municipalities side by side, and reports their counts
/// (`progress`, `summary`); per municipality its staged file names, the manifest last.
fn stage_bundles(
    cx: &Context<'_>,
    issue: &Issue,
    staging: &Path,
    households_of: &HouseholdsOf<'_>,
    summary: &mut Summary,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<(String, Vec<String>)>, RunError> {
    // Serialisation, encryption, hashing and fsync dominate; each municipality builds its rows
    // as it goes.
    let (p, version) = (issue.period, issue.version);
    let reageer = reageer_voor(&cx.config, p);
    let supersedes = superseded_versions(cx, issue, households_of)?;
    let jobs: Vec<(&_, Option<u32>)> = households_of.iter().zip(supersedes).collect();
    let staged_bundles = parallel::map(&jobs, |((m, households), supersedes)| {
        let rows = rows(&cx.config, m, households, p, reageer, &issue.known);
        let version = bundle::Version { number: version, supersedes: *supersedes };
        // Each row goes to the municipality, its executor or both (docs/bundles.md); each
        // receiver's bundle holds only its own rows, encrypted to its own keys.
        let (own, executor) = receivers::split(&cx.config, m, rows);
        let target = bundle::Target {
            to_executor: executor.as_ref().map(|(e, rows)| (&e.id, rows.len() as u64)),
            ..bundle::Target::municipality(m)
        };
        let own = bundle::stage(staging, target, p, version, &own, reageer, &issue.now)?;
        let executor = executor
            .map(|(e, rows)| {
                let target = bundle::Target::executor(m, e);
                bundle::stage(staging, target, p, version, &rows, reageer, &issue.now).map(|s| (e, s))
            })
            .transpose()?;
        Ok::<_, std::io::Error>((own, executor))
    });
    let mut staged: Vec<(String, Vec<String>)> = Vec::new();
    for ((m, _), result) in households_of.iter().zip(staged_bundles) {
        let (bundle::Staged { names, manifest }, executor) = result?;
        progress(&format!(
            "{}: {} households, {} signals",
            m.code, manifest.counts.households, manifest.counts.signals
        ));
        summary.municipalities.push((m.code.clone(), m.name.clone(), manifest.counts));
        staged.push((m.code.to_string(), names));
        if let Some((e, bundle::Staged { names, manifest })) = executor {
            progress(&format!(
                "{} for {}: {} households, {} signals",
                e.id, m.code, manifest.counts.households, manifest.counts.signals
            ));
            summary.executors.push((e.id.clone(), m.code.clone(), manifest.counts));
            staged.push((e.id.to_string(), names));
        }
    }
    Ok(staged)
}

/// Per municipality of the run, the latest earlier version of the period that reached it (a
/// version limited to some municipalities by an erasure reached only those).
fn superseded_versions(
    cx: &Context<'_>,
    issue: &Issue,
    households_of: &HouseholdsOf<'_>,
) -> Result<Vec<Option<u32>>, RunError> {
    let conn = cx.app.state().lock();
    let period = issue.period.to_string();
    let mut scopes = Vec::new();
    for v in 1..issue.version {
        scopes.push((v, crate::state::erasure::scope(&conn, &period, v)?));
    }
    Ok(households_of
        .iter()
        .map(|(m, _)| {
            scopes
                .iter()
                .rev()
                .find(|(_, scope)| scope.as_ref().is_none_or(|s| s.contains(m.code.as_str())))
                .map(|(v, _)| *v)
        })
        .collect())
}
