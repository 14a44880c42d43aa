//! The facts `meldpunt status` shows, gathered once: the text and `--json` cannot disagree.
//! Serialised as the JSON document of docs/commands.md (`version` changes when a key does).

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::Serialize;

use crate::batch::schedule;
use crate::config::Config;
use crate::domain::period::Period;
use crate::layout::Layout;
use crate::state::State;
use crate::state::batches::{self, BatchStatus};

/// The version of the JSON document.
pub const VERSION: u32 = 1;

/// Where the installation stands at one moment.
#[derive(Debug, Serialize)]
pub struct Status {
    /// [`VERSION`].
    pub version: u32,
    /// Always `true` here (`false` only in the document of a data directory not made yet).
    pub installed: bool,
    /// The data directory.
    pub data_dir: String,
    /// The moment described, RFC 3339 UTC.
    pub at: Timestamp,
    /// Which period a file received now goes to.
    pub intake: Intake,
    /// The batch schedule.
    pub batch: Batch,
    /// Every period held, newest first.
    pub periods: Vec<Held>,
    /// What needs the operator (the text's `PROBLEM` lines).
    pub problems: Vec<String>,
    /// Bundle files not picked up.
    pub pickup: Pickup,
}

/// Which period a file received now goes to.
#[derive(Debug, Serialize)]
pub struct Intake {
    /// The period (`YYYY-MM`).
    pub period: Period,
    /// The period by the calendar and cut-off; differs from `period` when it closed early.
    pub natural_period: Period,
    /// Day of the month deliveries close.
    pub cutoff_day: i8,
    /// Local (Amsterdam) time on that day, `HH:MM:SS`.
    pub cutoff_time: String,
}

/// The batch schedule.
#[derive(Debug, Serialize)]
pub struct Batch {
    /// The last delivered period, if any.
    pub last_delivered: Option<Period>,
    /// Periods due now (the daemon runs them at start-up or on its next wake).
    pub due: Vec<Period>,
    /// When nothing is due: the next period and when it is due.
    pub next: Option<Next>,
}

/// The next scheduled batch.
#[derive(Debug, Serialize)]
pub struct Next {
    /// Its period.
    pub period: Period,
    /// When it is due, RFC 3339 UTC.
    pub at: Timestamp,
}

/// One period held.
#[derive(Debug, Serialize)]
pub struct Held {
    /// The period.
    pub period: Period,
    /// Accepted files kept.
    pub files: usize,
    /// Creditors those files came from.
    pub creditors: usize,
    /// Its latest batch, if any.
    pub batch: Option<HeldBatch>,
    /// The first day it may be shredded, `YYYY-MM-DD`.
    pub shred_from: jiff::civil::Date,
}

/// The latest batch of a period.
#[derive(Debug, Serialize)]
pub struct HeldBatch {
    /// Its version, from 1.
    pub version: u32,
    /// `delivered`, `running` (a batch holds the lock now) or `interrupted` (to be redone).
    pub status: &'static str,
}

/// Bundle files not picked up.
#[derive(Debug, Serialize)]
pub struct Pickup {
    /// Municipalities configured.
    pub municipalities: usize,
    /// Codes of those (and ids of executors) with bundle files not picked up.
    pub waiting: Vec<String>,
    /// Bundle files not picked up, in all.
    pub files_waiting: usize,
}

/// Gathers the facts of the installation at `now`.
pub fn gather(config: &Config, layout: &Layout, state: &State, now: Timestamp) -> anyhow::Result<Status> {
    let natural = config.cutoff.period_of(now);
    let open = batches::first_not_begun(&state.lock(), natural)?;
    let intake = Intake {
        period: open,
        natural_period: natural,
        cutoff_day: config.cutoff.day,
        cutoff_time: config.cutoff.time.strftime("%H:%M:%S").to_string(),
    };

    // Oldest first.
    let held = crate::retention::held_periods(layout, state)?;
    let conn = state.lock();
    let last_done = batches::last_delivered_period(&conn)?.and_then(|p| p.parse::<Period>().ok());
    let due = schedule::due_periods(now, last_done, &config.batch);
    let next = due.is_empty().then(|| Next {
        period: last_done.map_or(open.prev(), Period::next),
        at: schedule::next_due(now, last_done, &config.batch),
    });
    let batch = Batch { last_delivered: last_done, due, next };
    // Whether a batch holds the lock now, to tell a running batch from an interrupted one
    // (without the lock file no batch has started, and status makes none).
    let busy = layout.batch_lock().exists()
        && crate::batch::run::lock_file(layout).is_ok_and(|f| f.try_lock().is_err());

    let mut periods = Vec::with_capacity(held.len());
    for p in held.iter().rev() {
        let files = batches::kept_files(&conn, &p.to_string())?;
        let creditors: BTreeSet<&str> = files.iter().map(|(_, c)| c.as_str()).collect();
        let batch = batches::latest(&conn, &p.to_string())?.map(|(version, s)| HeldBatch {
            version,
            status: match s {
                BatchStatus::Delivered => "delivered",
                BatchStatus::Running if busy => "running",
                BatchStatus::Running => "interrupted",
            },
        });
        let shred_from = crate::domain::retention::shred_from(*p, config.retention_months);
        periods.push(Held { period: *p, files: files.len(), creditors: creditors.len(), batch, shred_from });
    }
    let mut problems = stranded(config, &conn, &held, last_done, now)?;
    problems.extend(client_lists(config, layout, &conn, now)?);
    drop(conn);

    let mut pickup =
        Pickup { municipalities: config.municipalities.len(), waiting: Vec::new(), files_waiting: 0 };
    for receiver in config.receivers() {
        let files = crate::pickup::folder::files(layout, state, receiver.as_str())?;
        let unpicked = files.iter().filter(|f| f.picked_up_at.is_none() && f.name.ends_with(".age")).count();
        if unpicked > 0 {
            pickup.waiting.push(receiver.as_str().to_owned());
            pickup.files_waiting += unpicked;
        }
    }
    let data_dir = config.data_dir.display().to_string();
    Ok(Status {
        version: VERSION,
        installed: true,
        data_dir,
        at: now,
        intake,
        batch,
        periods,
        problems,
        pickup,
    })
}

/// Accepted signals of closed periods that no batch will deliver (docs/periods.md): files that
/// arrived after their period's batch began, and closed periods after the first scheduled one
/// that were never batched although later ones were (the scheduler only runs later periods).
fn stranded(
    config: &Config,
    conn: &rusqlite::Connection,
    periods: &[Period],
    last_done: Option<Period>,
    now: Timestamp,
) -> anyhow::Result<Vec<String>> {
    let epoch = batches::epoch_if_set(conn)?.and_then(|p| p.parse::<Period>().ok());
    let mut problems = Vec::new();
    for p in periods.iter().filter(|p| !config.cutoff.is_open(**p, now)) {
        let period = p.to_string();
        let late = batches::kept_after_batch(conn, &period)?;
        if late > 0 {
            problems.push(format!(
                "{late} accepted file(s) of {p} arrived after its batch began and are in no bundle: \
                 deliver them with `meldpunt batch run --period {p} --force`"
            ));
        }
        let files = batches::kept_files(conn, &period)?.len();
        let skipped = epoch.is_some_and(|e| *p > e) && last_done.is_some_and(|d| *p < d);
        if files > 0 && skipped && batches::latest(conn, &period)?.is_none() {
            problems.push(format!(
                "{p} is closed and holds {files} accepted file(s), but it was never batched and later periods were: \
                 deliver it with `meldpunt batch run --period {p}`"
            ));
        }
    }
    Ok(problems)
}

/// Known-client lists that no longer count (docs/known-clients.md): past `[clients]
/// max_age_days`, or made with a key that was replaced since.
fn client_lists(
    config: &Config,
    layout: &Layout,
    conn: &rusqlite::Connection,
    now: Timestamp,
) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    for l in crate::state::clients::all(conn)? {
        let party = &l.party;
        let max = config.clients_max_age_days;
        if l.expired_at.is_some() || !crate::domain::clients::still_counts(l.uploaded_at, now, max) {
            problems.push(format!(
                "the known-client list of {party} (uploaded {}) is older than [clients] max_age_days = {max} and no \
                 longer counts: {party} should upload a new one",
                l.uploaded_at
            ));
        } else if crate::vault::client_key::read(layout, party)
            .ok()
            .flatten()
            .is_none_or(|k| k.id() != l.key_id)
        {
            problems.push(format!(
                "the known-client list of {party} was not made with its current key and does not count: {party} should \
                 hash its export with the current key file and upload it again"
            ));
        }
    }
    Ok(problems)
}
