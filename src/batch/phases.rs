//! Phase timings of a batch run, logged at debug level (`MELDPUNT_LOG=meldpunt=debug`): where
//! an operator or a benchmark sees the time go without a profiler.

use std::time::Instant;

/// A stopwatch that logs the time since the previous phase ended.
pub struct Phases {
    start: Instant,
    last: Instant,
}

impl Phases {
    /// Starts timing.
    pub fn start() -> Phases {
        let now = Instant::now();
        Phases { start: now, last: now }
    }

    /// Logs that phase `name` ended now.
    pub fn done(&mut self, name: &str) {
        let now = Instant::now();
        tracing::debug!(
            phase = name,
            ms = now.duration_since(self.last).as_millis() as u64,
            total_ms = now.duration_since(self.start).as_millis() as u64,
            "batch phase done"
        );
        self.last = now;
    }
}
