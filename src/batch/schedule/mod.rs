//! When each period's batch is due, and which batches are still to run (docs/periods.md).
//!
//! Everything here is pure: "now" is a parameter (or comes from an injected [`Clock`]), and
//! "what already ran" is the caller's `last_done` period, read from state.
//!
//! # Rules
//!
//! - Period P's batch is due at [`due_at`]: day `cfg.day` of P's month at local time `cfg.time`
//!   in Europe/Amsterdam (default the 26th, 02:00). A local time in the spring-forward gap is
//!   shifted forward by the gap's length (02:30 → 03:30 CEST); a local time in the autumn
//!   fold takes the earlier of its two instants (02:30 CEST, not 02:30 CET). This is jiff's
//!   "compatible" disambiguation (RFC 5545, java.time, Temporal).
//! - [`due_periods`] lists the periods due at `now` and not yet done, oldest first: every
//!   period after `last_done` up to the latest period whose due time has passed. A daemon that
//!   was down therefore runs every missed batch at start-up, in order.
//! - A fresh installation (`last_done` is `None`) runs only the latest due period: on the 27th
//!   that is the current month, on the 10th the previous month (whose batch came due on the
//!   26th before). It never walks further back. The latest period is run rather than skipped
//!   because "no batch ever ran" cannot be told apart from "installed, files received, then
//!   down over the 26th"; skipping would lose that period, while running a period that holds
//!   no files costs nothing. A caller that knows of received files in older periods should
//!   pass `Some(oldest.prev())` instead of `None`.
//!
//! # How the daemon drives this
//!
//! Running exactly once is guaranteed by state, not by the timer: `last_done` is the high-water
//! mark of scheduled batches, recorded durably when a batch completes and never moved back.
//! The timer only decides when to look again:
//!
//! ```text
//! loop {
//!     for p in due_periods(clock.now(), state.last_done()?, cfg) {
//!         run_batch(p)?;              // resumes or restarts cleanly after a crash
//!         state.record_done(p)?;      // last_done = p, durably
//!     }
//!     sleep(sleep_for(clock.now(), state.last_done()?, cfg));   // ≤ MAX_SLEEP
//! }
//! ```
//!
//! The caller re-checks [`due_periods`] after every wake-up and never sleeps longer than
//! [`MAX_SLEEP`] at a time, so a wall-clock jump (NTP step, suspend/resume, manual change) is
//! noticed within a minute: a jump forward past a due time runs the batch; a jump back after a
//! batch ran runs nothing again, because `last_done` has already moved past that period.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use jiff::civil::Date;
use jiff::{Timestamp, TimestampArithmetic};

use crate::config::BatchConfig;
use crate::domain::period::{Period, zone};

/// The longest the daemon sleeps before re-checking [`due_periods`], so clock jumps are noticed.
pub const MAX_SLEEP: Duration = Duration::from_secs(60);

/// A source of "now", so tests can move time.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stands still until told otherwise (for tests).
#[derive(Debug)]
pub struct FixedClock(Mutex<Timestamp>);

impl FixedClock {
    /// A clock showing `t`.
    pub fn new(t: Timestamp) -> Self {
        Self(Mutex::new(t))
    }

    /// Sets the clock to `t` (forward or back).
    pub fn set(&self, t: Timestamp) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = t;
    }

    /// Moves the clock by `by` (negative moves it back); spans may use hours and smaller units.
    ///
    /// # Panics
    ///
    /// When `by` has units of days or larger, or the result leaves jiff's range.
    pub fn advance<A: Into<TimestampArithmetic>>(&self, by: A) {
        let mut t = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *t = t.checked_add(by).expect("FixedClock::advance: a span of hours or less, in range");
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// When period `p`'s batch is due: day `cfg.day` of `p`'s month at local `cfg.time` (Amsterdam).
///
/// A local time in a DST gap moves forward by the gap's length; one in a DST fold takes the
/// earlier instant. A day beyond the month's end (the config check keeps it ≤ 28) is clamped to
/// the last day; a period beyond jiff's range saturates to [`Timestamp::MAX`].
pub fn due_at(p: Period, cfg: &BatchConfig) -> Timestamp {
    let Ok(first) = Date::new(p.year(), p.month(), 1) else {
        return Timestamp::MAX;
    };
    let day = cfg.day.clamp(1, first.days_in_month());
    let Ok(date) = Date::new(p.year(), p.month(), day) else {
        return Timestamp::MAX;
    };
    zone().to_ambiguous_timestamp(date.to_datetime(cfg.time)).compatible().unwrap_or(Timestamp::MAX)
}

/// The latest period whose batch is due at `now` (`None` before 1900, where periods start).
fn latest_due(now: Timestamp, cfg: &BatchConfig) -> Option<Period> {
    let local = now.to_zoned(zone()).date();
    let this = Period::new(local.year(), local.month())?;
    // Each period's due time lies inside its own month (the day is clamped to the month and a
    // DST shift stays within the day), so the latest due period is this month's or the one before.
    if due_at(this, cfg) <= now { Some(this) } else { Period::new(this.prev().year(), this.prev().month()) }
}

/// Periods whose batch is due at `now` and not yet done, oldest first.
///
/// Every period after `last_done` up to the latest period whose due time ≤ `now`; with
/// `last_done` `None` (a fresh installation) only that latest due period, never older ones.
/// Empty when `last_done` is at or after the latest due period (e.g. after the clock went back).
pub fn due_periods(now: Timestamp, last_done: Option<Period>, cfg: &BatchConfig) -> Vec<Period> {
    let Some(latest) = latest_due(now, cfg) else {
        return Vec::new();
    };
    let Some(done) = last_done else {
        return vec![latest];
    };
    let mut due = Vec::new();
    let mut p = done.next();
    while p <= latest {
        due.push(p);
        p = p.next();
    }
    due
}

/// The first instant ≥ `now` at which [`due_periods`] is non-empty (for the daemon's timer).
///
/// `now` itself when something is already due; otherwise the due time of the period after
/// `last_done`. The caller still wakes at least every [`MAX_SLEEP`] (see [`sleep_for`]).
pub fn next_due(now: Timestamp, last_done: Option<Period>, cfg: &BatchConfig) -> Timestamp {
    match (last_done, latest_due(now, cfg)) {
        (None, Some(_)) => now,
        (Some(done), Some(latest)) if done < latest => now,
        (Some(done), _) => due_at(done.next(), cfg),
        (None, None) => Period::new(1900, 1).map_or(Timestamp::MAX, |p| due_at(p, cfg)),
    }
}

/// How long the daemon may sleep at `now`: until [`next_due`], but at most [`MAX_SLEEP`].
pub fn sleep_for(now: Timestamp, last_done: Option<Period>, cfg: &BatchConfig) -> Duration {
    let until = now.duration_until(next_due(now, last_done, cfg));
    Duration::try_from(until).unwrap_or(Duration::ZERO).min(MAX_SLEEP)
}

#[cfg(test)]
mod tests;
