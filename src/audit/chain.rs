//! Checking a chain of audit records.

use super::Record;
use super::verify::{Finding, Log, Source, verify_structure};

/// The first place where a chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A sequence number is missing or out of order.
    #[error("event {found}: expected sequence number {expected} (events missing or reordered)")]
    Gap {
        /// Expected seq.
        expected: u64,
        /// Seq found.
        found: u64,
    },
    /// `prev` does not name the previous event's hash.
    #[error("event {seq}: 'prev' does not match the hash of event {}", seq - 1)]
    BrokenLink {
        /// Seq of the bad event.
        seq: u64,
    },
    /// The event's content does not match its hash (it was altered).
    #[error("event {seq}: content does not match its hash (altered)")]
    Altered {
        /// Seq of the bad event.
        seq: u64,
    },
}

/// Checks that `records` form an unbroken chain from the first event; returns the count.
/// (The hash chain alone; `audit::verify::verify` adds checkpoints, anchors and signatures.)
pub fn verify_chain(records: &[Record]) -> Result<u64, VerifyError> {
    let log = Log { records: records.to_vec(), ..Log::default() };
    match verify_structure(&log, Source::Database) {
        Ok(v) => Ok(v.events),
        Err(Finding::BrokenLink { seq }) => Err(VerifyError::BrokenLink { seq }),
        Err(Finding::Gap { expected, found }) | Err(Finding::Deleted { first: found, expected }) => {
            Err(VerifyError::Gap { expected, found })
        }
        Err(f) => Err(VerifyError::Altered { seq: f.seq() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Audit, Event, Outcome};
    use crate::state::State;

    fn audit() -> (tempfile::TempDir, Audit) {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(&dir.path().join("s.db")).unwrap();
        (dir, Audit::open(state).unwrap())
    }

    #[test]
    fn chain_verifies_and_detects_changes() {
        let (_d, a) = audit();
        for i in 0..5 {
            a.emit_blocking(Event::new("system", "test", Outcome::Ok).object(serde_json::json!({"n": i})))
                .unwrap();
        }
        let recs = a.records().unwrap();
        assert_eq!(verify_chain(&recs), Ok(5));

        let mut altered = recs.clone();
        altered[2].object = serde_json::json!({"n": 99});
        assert_eq!(verify_chain(&altered), Err(VerifyError::Altered { seq: 3 }));

        let mut dropped = recs.clone();
        dropped.remove(1);
        assert_eq!(verify_chain(&dropped), Err(VerifyError::Gap { expected: 2, found: 3 }));

        let mut relinked = recs.clone();
        relinked.remove(1);
        for (i, r) in relinked.iter_mut().enumerate() {
            r.seq = i as u64 + 1;
            r.hash = r.compute_hash();
        }
        assert_eq!(verify_chain(&relinked), Err(VerifyError::BrokenLink { seq: 2 }));
    }
}
