//! What the intake keeps across uploads: which are in flight (a stop lets them finish, up to
//! `[intake] stop_grace_secs`, docs/commands.md) and how many out-of-order bytes each creditor
//! holds in memory (at most `[intake] reorder_bytes_per_party` over all its uploads, so the
//! memory of one party's uploads is bounded whatever the order of its writes), and how many
//! uploads each creditor has in flight (they count towards `[intake] max_files_per_period`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Shared by every clone of an intake.
#[derive(Default)]
pub(super) struct Shared {
    closing: AtomicBool,
    uploads: AtomicUsize,
    changed: tokio::sync::Notify,
    held: Mutex<HashMap<String, usize>>,
    /// Uploads in flight per creditor (those subject to the files-per-period limit).
    files: Mutex<HashMap<String, u64>>,
}

impl Shared {
    /// No new upload may start from now on.
    pub fn close(&self) {
        self.closing.store(true, Ordering::SeqCst);
    }

    /// Whether [`Shared::close`] was called.
    pub fn closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }

    /// Waits until no upload is in flight, at most `grace`; how many still are.
    pub async fn drained(&self, grace: Duration) -> usize {
        let wait = async {
            loop {
                let changed = self.changed.notified();
                if self.uploads.load(Ordering::SeqCst) == 0 {
                    return;
                }
                changed.await;
            }
        };
        let _ = tokio::time::timeout(grace, wait).await;
        self.uploads.load(Ordering::SeqCst)
    }

    /// Takes `bytes` of `party`'s out-of-order allowance; `false` when it would pass `limit`.
    pub fn hold(&self, party: &str, bytes: usize, limit: usize) -> bool {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let now = held.get(party).copied().unwrap_or(0);
        if now + bytes > limit {
            return false;
        }
        held.insert(party.to_owned(), now + bytes);
        true
    }

    /// Gives `bytes` of `party`'s allowance back.
    pub fn release(&self, party: &str, bytes: usize) {
        if bytes == 0 {
            return;
        }
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(now) = held.get_mut(party) {
            *now = now.saturating_sub(bytes);
            if *now == 0 {
                held.remove(party);
            }
        }
    }
}

/// One upload in flight, from its start until it is filed or dropped.
pub(super) struct InFlight {
    shared: Arc<Shared>,
    /// The creditor whose files-per-period count it holds.
    party: Option<String>,
}

impl InFlight {
    /// Counts an upload in.
    pub fn start(shared: &Arc<Shared>) -> InFlight {
        shared.uploads.fetch_add(1, Ordering::SeqCst);
        InFlight { shared: shared.clone(), party: None }
    }

    /// Counts it as one of `party`'s files, unless the `filed` files of its period and those it
    /// has in flight reach `limit`: then `false`, and nothing is counted.
    pub fn count_file(&mut self, party: &str, filed: u64, limit: u64) -> bool {
        let mut files = self.shared.files.lock().unwrap_or_else(|p| p.into_inner());
        let now = files.get(party).copied().unwrap_or(0);
        if filed.saturating_add(now) >= limit {
            return false;
        }
        files.insert(party.to_owned(), now + 1);
        self.party = Some(party.to_owned());
        true
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(party) = &self.party {
            let mut files = self.shared.files.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(n) = files.get_mut(party) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    files.remove(party);
                }
            }
        }
        self.shared.uploads.fetch_sub(1, Ordering::SeqCst);
        self.shared.changed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_party_holds_at_most_its_limit_and_gets_it_back() {
        let s = Shared::default();
        assert!(s.hold("a", 10, 16) && !s.hold("a", 7, 16) && s.hold("b", 16, 16));
        s.release("a", 10);
        assert!(s.hold("a", 16, 16));
    }

    #[test]
    fn files_in_flight_count_towards_a_creditors_limit_until_dropped() {
        let s = Arc::new(Shared::default());
        let mut a = InFlight::start(&s);
        let mut b = InFlight::start(&s);
        assert!(a.count_file("a", 1, 3));
        assert!(!b.count_file("a", 2, 3), "2 filed and 1 in flight reach 3");
        assert!(b.count_file("b", 2, 3), "another creditor has its own count");
        drop(a);
        let mut c = InFlight::start(&s);
        assert!(c.count_file("a", 2, 3));
    }

    #[tokio::test]
    async fn a_stop_waits_for_uploads_in_flight_up_to_its_grace() {
        let s = Arc::new(Shared::default());
        let one = InFlight::start(&s);
        assert_eq!(s.drained(Duration::from_millis(20)).await, 1);
        let waiter = {
            let s = s.clone();
            tokio::spawn(async move { s.drained(Duration::from_secs(10)).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(one);
        assert_eq!(waiter.await.unwrap(), 0);
    }
}
