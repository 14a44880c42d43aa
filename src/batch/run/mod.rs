//! Running one period's batch: read, route, classify, stage bundles, deliver, report, record.
//!
//! Crash safety: everything is first written to `batch/staging/<period>-v<n>/` (invisible to
//! municipalities) and made durable; only then are files renamed into the pickup folders, all
//! bundle files before any manifest, and the run recorded as delivered. A run interrupted at
//! any point leaves the version `running`; the next run of that period redoes the same
//! version from the sealed input, which gives the same plaintext bundles (deterministic order
//! and ids), and replaces whatever of it had already been renamed into place (except the
//! bundles of a municipality whose manifest is there: those were complete).
//!
//! A version can be limited to some municipalities (`state::erasure::scope`): an erasure
//! re-issues the bundles it changed that way, and a redo of that version keeps the limit.
//!
//! The steps, in order: `issue` (which version runs), `sort_out` (read, route, set aside what
//! cannot be delivered), `group` (households per municipality), `stage` (bundles staged, the
//! delivered signals recorded, the bundle files delivered), `finish` (manifests, reports, the
//! run marked delivered, audit).

use std::fs::File;
use std::sync::Arc;

use jiff::ToSpan;

use super::bundle::{Counts, Row};
use super::classify;
use super::known::Known;
use super::phases::Phases;
use super::signals;
use super::sort::{Place, Sorter};
use crate::app::App;
use crate::config::{Config, Municipality};
use crate::domain::party::{ExecutorId, MunicipalityCode};
use crate::domain::period::Period;
use crate::layout::Layout;

mod finish;
mod group;
mod issue;
mod sort_out;
mod stage;

/// What to run.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// The period.
    pub period: Period,
    /// Report without delivering anything.
    pub dry_run: bool,
    /// Deliver again (as a new version) although the period was delivered.
    pub force: bool,
    /// Run although the period's deliveries have not closed yet: closes it early (files that
    /// arrive later go into the next period, docs/periods.md).
    pub early: bool,
}

/// Why a batch did not run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Already delivered and not forced.
    #[error(
        "period {period} was delivered already (version {version}); use --force to deliver it again as version {}",
        version + 1
    )]
    AlreadyDelivered {
        /// The period.
        period: Period,
        /// Its delivered version.
        version: u32,
    },
    /// The period is still open and the run was not asked to close it early.
    #[error(
        "period {period} is still open: its deliveries close at {closes} (Europe/Amsterdam); run its batch after that, \
         or with --early to close it now (files that arrive later then go into the next period)"
    )]
    PeriodOpen {
        /// The period.
        period: Period,
        /// When its deliveries close, local time.
        closes: String,
    },
    /// Reading the sealed signals failed.
    #[error(transparent)]
    Read(#[from] signals::ReadError),
    /// The routing table.
    #[error("routing table: {0:#}")]
    Routing(anyhow::Error),
    /// Disk.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// State database.
    #[error(transparent)]
    State(#[from] crate::state::StateError),
}

/// What a run did, per municipality.
#[derive(Debug)]
pub struct Summary {
    /// The period.
    pub period: Period,
    /// The version delivered (or that would be).
    pub version: u32,
    /// Dry run: nothing delivered.
    pub dry_run: bool,
    /// Per municipality: code, name, counts (of what it receives itself).
    pub municipalities: Vec<(MunicipalityCode, String, Counts)>,
    /// Per executor and municipality it serves: counts of what the executor receives.
    pub executors: Vec<(ExecutorId, MunicipalityCode, Counts)>,
    /// Signals not delivered (unroutable, no agreement).
    pub not_delivered: usize,
    /// The same per reason (`unroutable`, `no_agreement`, `left_out`, …).
    pub not_delivered_by: std::collections::BTreeMap<&'static str, usize>,
}

/// The services a batch uses.
pub struct Context<'a> {
    /// The services it works with.
    pub app: &'a App,
    /// Who runs it, for the audit: `operator` (command line) or `system` (schedule).
    pub actor: &'a str,
    /// The configuration the whole run uses (one taken at its start: a live reload during
    /// the run applies to the next one).
    pub config: Arc<Config>,
}

impl<'a> Context<'a> {
    /// A run on `app` by `actor`, with the configuration in force now.
    pub fn new(app: &'a App, actor: &'a str) -> Context<'a> {
        Context { app, actor, config: app.config() }
    }
}

/// The period's batch day (the day its batch is due; ages in queue rules are taken on it).
pub fn batch_day(config: &Config, period: Period) -> jiff::civil::Date {
    jiff::civil::Date::new(period.year(), period.month(), config.batch.day).unwrap_or(period.first_day())
}

/// The date signals must be responded to: batch day of the period + 28 days (docs/matching.md).
pub fn reageer_voor(config: &Config, period: Period) -> jiff::civil::Date {
    let day = batch_day(config, period);
    day.checked_add(28.days()).unwrap_or(day)
}

/// The sorter of `m`'s signals in `period`, marking `bekend` against the lists in `known` of
/// `m` and of the executor serving it.
pub fn sorter<'a>(config: &Config, m: &'a Municipality, period: Period, known: &'a Known) -> Sorter<'a> {
    let executor = config.executor_of(&m.code).and_then(|e| known.of(e.id.as_str()));
    Sorter::new(m, batch_day(config, period), [known.of(m.code.as_str()), executor])
}

/// The rows `m` receives of its `households`: one per signal it takes, households in order,
/// each with its work queue.
pub fn rows<'a>(
    config: &'a Config,
    m: &'a Municipality,
    households: &'a [classify::Household],
    period: Period,
    reageer: jiff::civil::Date,
    known: &'a Known,
) -> Vec<Row<'a>> {
    let sorter = sorter(config, m, period, known);
    let mut rows = Vec::new();
    for h in households {
        let onder = sorter.onder_drempel(h);
        for sig in &h.signals {
            let Place::Deliver(werkbak) = sorter.place(h, sig) else { continue };
            let creditor =
                config.creditor(&sig.input.creditor).expect("routed signals have a configured creditor");
            rows.push(Row {
                household: h,
                signal: sig,
                onder_drempel: onder,
                creditor,
                reageer_voor: reageer,
                period,
                municipality: &m.code,
                werkbak,
                bekend: sorter.bekend(h, sig),
            });
        }
    }
    rows
}

/// The batch lock file (`batch.lock`, unlocked): whoever reads or changes what a batch reads
/// or writes (the vault, staging) holds it — batch runs, erasures, the staging sweep.
pub fn lock_file(layout: &Layout) -> std::io::Result<File> {
    File::options().create(true).truncate(false).write(true).open(layout.batch_lock())
}

/// Takes the batch lock, saying so on `progress` when it has to wait for another batch.
fn hold_lock(layout: &Layout, progress: &mut dyn FnMut(&str)) -> std::io::Result<File> {
    let lock = lock_file(layout)?;
    if lock.try_lock().is_err() {
        progress("another batch is running; waiting for it to finish");
        lock.lock()?;
    }
    Ok(lock)
}

/// Runs the batch of `opts.period`. `progress` gets short lines (for a terminal).
pub fn run(cx: &Context<'_>, opts: Options, progress: &mut dyn FnMut(&str)) -> Result<Summary, RunError> {
    let mut phases = Phases::start();
    // Held until the run ends.
    let _lock = hold_lock(cx.app.layout(), progress)?;
    let issue = issue::begin(cx, opts)?;
    let (router, period_signals) = sort_out::read_period(cx, &issue, &mut phases, progress)?;
    let (routes, history) =
        sort_out::route_and_read_history(cx, &issue, &router, &period_signals, &mut phases)?;
    let (deliverable, mut reports) = sort_out::sort_out(&cx.config, period_signals, routes, &mut phases);
    let per_m = group::classify_per_municipality(issue.period, &router, deliverable, history, &mut phases);
    let staging = stage::fresh_staging(cx.app.layout(), &issue)?;
    let households_of = group::group(&cx.config, &issue, per_m, &mut reports, &mut phases);
    let (not_delivered, not_delivered_by) = if issue.scope.is_some() {
        (0, Default::default())
    } else {
        (reports.not_delivered(), reports.not_delivered_by_reason())
    };
    let mut summary = Summary {
        period: issue.period,
        version: issue.version,
        dry_run: issue.dry_run,
        municipalities: Vec::new(),
        executors: Vec::new(),
        not_delivered,
        not_delivered_by,
    };
    let staged = stage::stage_and_deliver_bundles(
        cx,
        &issue,
        &staging,
        &households_of,
        reports,
        &mut summary,
        progress,
    )?;
    phases.done("stage, record, deliver bundles");
    if issue.dry_run {
        std::fs::remove_dir_all(&staging)?;
        return Ok(summary);
    }
    finish::finish(cx, &issue, staged, households_of, &summary, &staging, &mut phases)?;
    Ok(summary)
}
