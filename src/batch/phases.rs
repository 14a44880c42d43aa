//! Phase timings of a batch run, logged at debug level (`MELDPUNT_LOG=meldpunt=debug`): where
//! an operator or a benchmark sees the time go without a profiler. Each phase gives its wall
//! time (`ms`) and the CPU time of all the process's threads in it (`cpu_ms`, in steps of
//! 10 ms): `cpu_ms` near twice `ms` on two cores means the phase kept both busy.

use std::time::Instant;

/// A stopwatch that logs the time since the previous phase ended.
pub struct Phases {
    start: Instant,
    last: Instant,
    cpu: u64,
}

/// CPU time of the whole process so far (user + system, all threads), in milliseconds; 0
/// where `/proc` is not there.
fn cpu_ms() -> u64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0 };
    // After the command name (which may hold spaces) in parentheses: field 3 onwards.
    let Some((_, rest)) = stat.rsplit_once(')') else { return 0 };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 (indices 11 and 12 here), in clock ticks (100 Hz).
    (ticks(11) + ticks(12)) * 10
}

impl Phases {
    /// Starts timing.
    pub fn start() -> Phases {
        let now = Instant::now();
        Phases { start: now, last: now, cpu: cpu_ms() }
    }

    /// Logs that phase `name` ended now.
    pub fn done(&mut self, name: &str) {
        let now = Instant::now();
        let cpu = cpu_ms();
        tracing::debug!(
            phase = name,
            cpu_ms = cpu.saturating_sub(self.cpu),
            ms = now.duration_since(self.last).as_millis() as u64,
            total_ms = now.duration_since(self.start).as_millis() as u64,
            "batch phase done"
        );
        self.last = now;
        self.cpu = cpu;
    }
}
