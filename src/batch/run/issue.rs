//! Which version of a period a run issues: a new one, the interrupted one again, or none
//! (delivered already and not forced); the municipalities it is limited to; when it began.

use std::collections::BTreeSet;

use jiff::Timestamp;

use super::{Context, Options, RunError};
use crate::batch::known::Known;
use crate::domain::period::Period;
use crate::state::batches::{self, BatchStatus};

/// The version a run issues.
pub(super) struct Issue {
    /// The period.
    pub period: Period,
    /// Report without delivering anything.
    pub dry_run: bool,
    /// Its number.
    pub version: u32,
    /// The municipalities it is limited to (a re-issue by an erasure), or `None` for all.
    pub scope: Option<BTreeSet<String>>,
    /// When the run began (whole seconds), as recorded and written into the bundles.
    pub now: String,
    /// The day it began (Europe/Amsterdam): the delivery date in the creditors' reports.
    pub today: jiff::civil::Date,
    /// The known-client lists that count in this run (docs/known-clients.md).
    pub known: Known,
}

/// Decides the version `opts` runs and, unless it is a dry run, records it as running.
pub(super) fn begin(cx: &Context<'_>, opts: Options) -> Result<Issue, RunError> {
    let p = opts.period;
    let latest = batches::latest(&cx.app.state().lock(), &p.to_string())?;
    // A first run before the cutoff strands every file that still arrives for the period,
    // unless it is asked for: then intake sends those files to the next period.
    let cutoff = cx.config.cutoff;
    if latest.is_none() && !opts.dry_run && !opts.early && cutoff.is_open(p, Timestamp::now()) {
        let closes = cutoff.closes_at(p).to_zoned(crate::domain::period::zone()).datetime();
        return Err(RunError::PeriodOpen {
            period: p,
            closes: closes.round(jiff::Unit::Second).unwrap_or(closes).to_string(),
        });
    }
    let version = match latest {
        None => 1,
        Some((v, BatchStatus::Running)) => v,
        Some((v, BatchStatus::Delivered)) if opts.force || opts.dry_run => v + u32::from(opts.force),
        Some((v, BatchStatus::Delivered)) => {
            return Err(RunError::AlreadyDelivered { period: p, version: v });
        }
    };
    // A version re-issued by an erasure goes to some municipalities only (docs/storage-and-retention.md).
    let scope = crate::state::erasure::scope(&cx.app.state().lock(), &p.to_string(), version)?;
    let began = Timestamp::now();
    let now = began.round(jiff::Unit::Second).unwrap_or(began).to_string();
    let today = crate::domain::period::local_date(began);
    if !opts.dry_run {
        // To the millisecond, like `finished_at`: the run's duration (a metric) is their
        // difference, and a run takes well under a second on a small installation.
        let started = began.round(jiff::Unit::Millisecond).unwrap_or(began).to_string();
        batches::begin(&cx.app.state().lock(), &p.to_string(), version, &started)?;
    }
    let known = Known::load(cx.app, &cx.config, began)?;
    Ok(Issue { period: p, dry_run: opts.dry_run, version, scope, now, today, known })
}
