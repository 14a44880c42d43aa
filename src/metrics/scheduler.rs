//! When the batch scheduler last woke and when it means to wake next, for `/healthz` and
//! `/metrics`: a scheduler that has not woken by its next wake-up (plus slack) is stuck.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How late the scheduler may be past its planned wake-up before it counts as stuck (a batch
/// run keeps it busy longer: this covers the start of one, not its whole run).
pub const SLACK: Duration = Duration::from_secs(120);

/// The scheduler's heartbeat, Unix seconds (0: never).
#[derive(Debug, Default)]
pub struct Heartbeat {
    last: AtomicU64,
    next: AtomicU64,
    running: AtomicU64,
}

/// Unix seconds of `t`.
pub fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Heartbeat {
    /// The scheduler woke now and sleeps `wait` until its next wake-up.
    pub fn woke(&self, wait: Duration) {
        let now = SystemTime::now();
        self.last.store(unix(now), Ordering::Relaxed);
        self.next.store(unix(now + wait), Ordering::Relaxed);
    }

    /// A scheduled batch runs (`true`) or ended (`false`).
    pub fn running(&self, yes: bool) {
        self.running.store(u64::from(yes), Ordering::Relaxed);
    }

    /// (last wake-up, planned next wake-up), Unix seconds; `None` before the first.
    pub fn times(&self) -> Option<(u64, u64)> {
        let last = self.last.load(Ordering::Relaxed);
        (last > 0).then(|| (last, self.next.load(Ordering::Relaxed)))
    }

    /// Whether the scheduler keeps its own time: running a batch, or woken and not past its
    /// planned wake-up by more than [`SLACK`] (not woken yet: within [`SLACK`] of `uptime`).
    pub fn alive(&self, now: SystemTime, uptime: Duration) -> bool {
        let running = self.running.load(Ordering::Relaxed) == 1;
        running
            || match self.times() {
                Some((_, next)) => unix(now) <= next + SLACK.as_secs(),
                None => uptime <= SLACK,
            }
    }
}
