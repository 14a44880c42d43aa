//! Erasure on request (docs/storage-and-retention.md, right to erasure): a debtor's signals leave every period still
//! held — the sealed intake (re-sealed without them), the state (deliveries, feedback), the
//! creditors' batch reports and terugmelding files, and the bundles not yet picked up (each
//! re-issued as a new version without them, the older unpicked versions removed).
//!
//! Order, so that an erasure interrupted anywhere is finished by running it again:
//! 1. search the vault ([`find`]) and work out what else changes; refuse if a period's batch
//!    is unfinished (its redo would race the erasure);
//! 2. record that plan in the state database (ids only, `state::erasure`);
//! 3. re-seal the files, delete the state rows, rewrite the reports and terugmelding files —
//!    each step idempotent;
//! 4. re-issue: a batch version limited to the municipalities concerned, begun as `running`
//!    only now that the vault no longer holds the signals, so whoever redoes it gives the same;
//! 5. remove the superseded unpicked versions; 6. drop the plan, compact the database, audit.
//!
//! A later `meldpunt erase` first finishes a recorded plan, whatever its selector.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;

use serde::Serialize;
use serde_json::json;

use super::inzage::Selector;
use crate::audit::{Event, Outcome};
use crate::batch::run::{Context, Options, RunError};
use crate::batch::signals::ReadError;
use crate::domain::period::Period;
use crate::state::batches::{self, BatchStatus};
use crate::state::erasure::{self, Plan};
use crate::state::{StateError, exchange};

pub mod bundles;
pub mod find;
pub mod reseal;

/// What an erasure removed (counts for the audit; the municipality lists for the operator).
#[derive(Debug, Default, Serialize)]
pub struct Erased {
    /// An interrupted erasure was finished first.
    pub resumed: bool,
    /// Records about the subject found in the vault.
    pub records: usize,
    /// Periods they were in.
    pub periods: usize,
    /// Sealed lines removed (their records, other versions of the same signals, objections).
    pub sealed_lines: usize,
    /// Sealed files re-sealed.
    pub files_resealed: usize,
    /// State rows removed (deliveries, feedback).
    pub state_rows: usize,
    /// Creditors' batch reports rewritten.
    pub batch_reports: usize,
    /// Creditors' terugmelding files rewritten.
    #[serde(rename = "terugmeldingen")]
    pub creditor_feedback: usize,
    /// Bundles re-issued (one per municipality and period).
    pub bundles_reissued: usize,
    /// Older unpicked bundle versions removed.
    pub versions_removed: usize,
    /// A dry run found an interrupted erasure still to finish.
    #[serde(skip)]
    pub interrupted: bool,
    /// (period, municipality, new version) of each re-issued bundle.
    #[serde(skip)]
    pub reissued: Vec<(String, String, u32)>,
    /// (period, municipality) that had picked up a bundle with the subject in it already.
    #[serde(skip)]
    pub picked_up: Vec<(String, String)>,
}

/// Why an erasure stopped.
#[derive(Debug, thiserror::Error)]
pub enum EraseError {
    /// Reading or re-sealing the vault.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// State database.
    #[error(transparent)]
    State(#[from] StateError),
    /// Listing periods.
    #[error(transparent)]
    Shred(#[from] super::ShredError),
    /// Disk.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Signing a rewritten batch report again.
    #[error(transparent)]
    Key(#[from] crate::signature::KeyError),
    /// Re-issuing a bundle.
    #[error("re-issuing the bundles of {period}: {source}")]
    Reissue {
        /// The period.
        period: String,
        /// Why.
        source: Box<RunError>,
    },
    /// A period's batch is unfinished.
    #[error(
        "the batch of {0} is unfinished; finish it first (`meldpunt batch run --period {0}`), then run the erasure again"
    )]
    BatchUnfinished(Period),
}

impl From<rusqlite::Error> for EraseError {
    fn from(e: rusqlite::Error) -> Self {
        EraseError::State(StateError(e))
    }
}

/// The batch lock (`batch.lock`), held while the vault and state change.
fn batch_lock(cx: &Context<'_>) -> std::io::Result<File> {
    let lock = crate::batch::run::lock_file(cx.app.layout())?;
    lock.lock()?;
    Ok(lock)
}

/// Erases what is held about `who` (with `dry_run`, only counts it); `progress` gets short lines.
pub fn erase(
    cx: &Context<'_>,
    who: &Selector,
    dry_run: bool,
    progress: &mut dyn FnMut(&str),
) -> Result<Erased, EraseError> {
    let mut out = Erased::default();
    let pending = erasure::pending(&cx.app.state().lock())?;
    out.interrupted = dry_run && !pending.is_empty();
    if !dry_run && !pending.is_empty() {
        progress("finishing an erasure that was interrupted");
        out.resumed = true;
        execute(cx, batch_lock(cx)?, &pending, &mut out, progress)?;
    }
    let lock = batch_lock(cx)?;
    let periods: Vec<Period> = super::held_periods(cx.app.layout(), cx.app.state())?
        .into_iter()
        .filter(|p| cx.app.layout().period_key(*p).exists())
        .collect();
    progress(&format!("searching {} period(s)", periods.len()));
    let found = find::find(cx.app.state(), cx.app.vault(), &periods, who)?;
    out.records += found.records;
    out.periods += found.periods.len();
    for p in &found.periods {
        if matches!(batches::latest(&cx.app.state().lock(), &p.to_string())?, Some((_, BatchStatus::Running)))
        {
            return Err(EraseError::BatchUnfinished(*p));
        }
    }
    let plan = plan(cx, found.lines)?;
    if dry_run {
        out.picked_up.extend(plan.notify.iter().cloned());
        out.sealed_lines += plan.lines.len();
        out.creditor_feedback += plan.creditor_feedback.len();
        out.reissued.extend(plan.reissue.iter().map(|(p, v, m)| (p.clone(), m.clone(), *v)));
        out.bundles_reissued += plan.reissue.len();
        return Ok(out);
    }
    if !plan.is_empty() {
        erasure::record(&mut cx.app.state().lock(), &plan)?;
        execute(cx, lock, &plan, &mut out, progress)?;
    }
    // Every request is audited, one that found nothing too (counts only).
    {
        let ev = Event::new(cx.actor, "erase", Outcome::Ok).object(json!(out));
        cx.app.audit().emit_blocking(ev)?;
        tracing::info!(
            records = out.records,
            periods = out.periods,
            bundles = out.bundles_reissued,
            "erasure done"
        );
    }
    Ok(out)
}

/// Works out the terugmelding files and bundles that change with `lines`.
fn plan(cx: &Context<'_>, lines: Vec<erasure::LineToErase>) -> Result<Plan, EraseError> {
    let mut creditor_feedback = BTreeSet::new();
    let mut delivered_to: BTreeSet<(String, String)> = BTreeSet::new();
    {
        let conn = cx.app.state().lock();
        let mut tm = conn.prepare_cached(
            "SELECT DISTINCT t.creditor, t.name, t.file_id FROM feedback f
               JOIN delivered d ON d.signal_id = f.signal_id
               JOIN terugmeldingen t ON t.file_id = f.file_id AND t.creditor = d.creditor
              WHERE f.signal_id = ?1",
        )?;
        for l in &lines {
            let rows = tm.query_map([&l.signal_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            for row in rows {
                creditor_feedback.insert(row?);
            }
            if let Some(d) = exchange::delivered(&conn, &l.signal_id)? {
                delivered_to.insert((d.period, d.municipality));
            }
        }
    }
    // A municipality's bundle is re-issued when a version of it nobody picked up is there;
    // one new version per period, for all its municipalities concerned.
    let (mut reissue, mut notify) = (Vec::new(), Vec::new());
    let mut next_version: BTreeMap<String, u32> = BTreeMap::new();
    for (period, municipality) in delivered_to {
        let Ok(p) = period.parse::<Period>() else { continue };
        // Its own folder and its executor's: the erased person may be in either bundle.
        let mut versions = Vec::new();
        for folder in bundles::folders(&cx.config, &municipality) {
            versions.extend(
                bundles::versions(cx.app.layout(), cx.app.state(), &folder, &municipality, p)?.into_values(),
            );
        }
        if versions.iter().any(|v| !v.picked_up) {
            let v = match next_version.get(&period) {
                Some(v) => *v,
                None => batches::latest(&cx.app.state().lock(), &period)?.map_or(1, |(v, _)| v + 1),
            };
            next_version.insert(period.clone(), v);
            reissue.push((period, v, municipality));
        } else if !versions.is_empty() {
            notify.push((period, municipality));
        }
    }
    Ok(Plan { lines, creditor_feedback: creditor_feedback.into_iter().collect(), reissue, notify })
}

/// Carries out a recorded plan (steps 3 to 6); every step can be done again. `lock` is the
/// batch lock, held from the search on so that no batch reads the vault before it is re-sealed;
/// it is let go before the re-issue (a batch run takes it itself).
fn execute(
    cx: &Context<'_>,
    lock: File,
    plan: &Plan,
    out: &mut Erased,
    progress: &mut dyn FnMut(&str),
) -> Result<(), EraseError> {
    {
        let _lock = lock;
        // 3a. The vault: each file once, without its erased lines.
        let mut by_file: BTreeMap<(&str, &str), BTreeSet<u64>> = BTreeMap::new();
        for l in &plan.lines {
            by_file.entry((&l.period, &l.file_id)).or_default().insert(l.line);
        }
        for ((period, file_id), gone) in &by_file {
            let Ok(p) = period.parse::<Period>() else { continue };
            // Shredded meanwhile: nothing left to erase there.
            if !cx.app.vault().sealed_path(p, file_id).exists() || !cx.app.layout().period_key(p).exists() {
                continue;
            }
            let n = reseal::reseal(cx.app.vault(), p, file_id, gone)?;
            if n > 0 {
                out.files_resealed += 1;
                out.sealed_lines += n;
                // Crash test hook: end the process (as a kill -9 would) after the first re-seal.
                if std::env::var_os("MELDPUNT_TEST_ABORT_ERASE_AFTER_RESEAL").is_some() {
                    std::process::abort();
                }
            }
        }
        // 3b. Deliveries and feedback.
        out.state_rows += erasure::delete_signal_rows(&mut cx.app.state().lock())?;
        // 3c. Terugmelding files, rebuilt from what is left of their lines.
        for (creditor, name, file_id) in &plan.creditor_feedback {
            let dir = cx.app.layout().feedback(creditor);
            if dir.join(name).exists() {
                let lines = exchange::lines_for(&cx.app.state().lock(), file_id, creditor)?;
                crate::feedback::route::write(&dir, name, &lines)?;
                out.creditor_feedback += 1;
            }
        }
        // 3d. The creditors' batch reports of those periods.
        out.batch_reports += rewrite_reports(cx, plan)?;
    }
    // 4. Re-issue, per period one version for its municipalities concerned.
    let mut by_version: BTreeMap<(&str, u32), BTreeSet<String>> = BTreeMap::new();
    for (period, version, municipality) in &plan.reissue {
        by_version.entry((period, *version)).or_default().insert(municipality.clone());
    }
    for ((period, version), municipalities) in &by_version {
        let Ok(p) = period.parse::<Period>() else { continue };
        let now =
            jiff::Timestamp::now().round(jiff::Unit::Second).unwrap_or(jiff::Timestamp::now()).to_string();
        erasure::begin_scoped(&mut cx.app.state().lock(), period, *version, municipalities, &now)?;
        if batches::latest(&cx.app.state().lock(), period)? != Some((*version, BatchStatus::Delivered)) {
            progress(&format!(
                "re-issuing {period} as version {version} for {} municipality(ies)",
                municipalities.len()
            ));
            let opts = Options { period: p, dry_run: false, force: false, early: false };
            crate::batch::run::run(cx, opts, progress)
                .map_err(|e| EraseError::Reissue { period: period.to_string(), source: Box::new(e) })?;
        }
        // 5. The older versions nobody picked up.
        for municipality in municipalities {
            let mut removed = 0;
            for folder in bundles::folders(&cx.config, municipality) {
                let layout = cx.app.layout();
                removed +=
                    bundles::remove_superseded(layout, cx.app.state(), &folder, municipality, p, *version)?.0;
            }
            out.versions_removed += removed;
            out.bundles_reissued += 1;
            out.reissued.push((period.to_string(), municipality.clone(), *version));
        }
    }
    out.picked_up.extend(plan.notify.iter().cloned());
    // 6. Done: the plan goes, and the database is compacted so nothing lingers in free pages.
    erasure::finish(&cx.app.state().lock())?;
    super::shred::compact(cx.app.state())?;
    Ok(())
}

/// Removes the erased signals from the batch reports of their creditors and periods.
fn rewrite_reports(cx: &Context<'_>, plan: &Plan) -> Result<usize, EraseError> {
    let gone: BTreeSet<&str> = plan.lines.iter().map(|l| l.signal_id.as_str()).collect();
    let mut places: BTreeSet<(String, String)> = BTreeSet::new();
    {
        let conn = cx.app.state().lock();
        let mut stmt = conn.prepare_cached("SELECT creditor FROM files WHERE file_id = ?1")?;
        for l in &plan.lines {
            let creditors = stmt.query_map([&l.file_id], |r| r.get::<_, String>(0))?;
            for c in creditors {
                places.insert((c?, l.period.clone()));
            }
        }
    }
    let mut n = 0;
    for (creditor, period) in places {
        let dir = cx.app.layout().receipts(&creditor);
        let Ok(rd) = std::fs::read_dir(&dir) else { continue };
        for entry in rd {
            let name = entry?.file_name().to_string_lossy().into_owned();
            let ours =
                crate::batch::report::parse_name(&name).is_some_and(|(rp, _)| rp.to_string() == period);
            if !ours {
                continue;
            }
            let path = dir.join(&name);
            if crate::batch::report::remove_signals(&path, |id| gone.contains(id))? > 0 {
                n += 1;
            }
            // Signed again if rewritten, now or by an erasure this one resumes.
            cx.app.signer().ensure_signed(&path)?;
        }
    }
    Ok(n)
}
