//! Refusals counted per listener and cause, for one summary log line per cause every
//! [`SUMMARY_EVERY`] instead of a line per refused connection (a flood cannot fill the disk).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::metrics::{LoginProtocol, Refusal};

/// How often the counts are logged (and reset).
pub const SUMMARY_EVERY: Duration = Duration::from_secs(10);

/// Counts since the last summary.
#[derive(Debug, Default)]
pub struct Tally {
    counts: [[AtomicU64; Refusal::ALL.len()]; LoginProtocol::ALL.len()],
}

impl Tally {
    /// Counts one refusal.
    pub fn add(&self, protocol: LoginProtocol, cause: Refusal) {
        self.counts[protocol as usize][cause as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Takes the non-zero counts (and resets them).
    pub fn take(&self) -> Vec<(LoginProtocol, Refusal, u64)> {
        let mut out = Vec::new();
        for p in LoginProtocol::ALL {
            for c in Refusal::ALL {
                let n = self.counts[p as usize][c as usize].swap(0, Ordering::Relaxed);
                if n > 0 {
                    out.push((p, c, n));
                }
            }
        }
        out
    }

    /// Logs one line per listener and cause counted since the last call.
    pub fn log_summary(&self) {
        for (protocol, cause, count) in self.take() {
            tracing::warn!(
                protocol = protocol.as_str(),
                cause = cause.as_str(),
                count,
                "connections refused or cut in the last 10 s"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_until_taken() {
        let t = Tally::default();
        for _ in 0..300 {
            t.add(LoginProtocol::Https, Refusal::Banned);
        }
        t.add(LoginProtocol::Sftp, Refusal::OriginUnauthenticated);
        let got = t.take();
        assert_eq!(
            got,
            vec![
                (LoginProtocol::Sftp, Refusal::OriginUnauthenticated, 1),
                (LoginProtocol::Https, Refusal::Banned, 300)
            ]
        );
        assert!(t.take().is_empty());
    }
}
