//! Party slots: at most so many logged-in sessions (SFTP `max_sessions`,
//! `max_sessions_per_party`) or connections (HTTPS `max_connections_per_party`) in all and per
//! party. A slot is held by a [`Slot`] guard and freed when the last holder (the SSH handler,
//! the SFTP handlers of its channels; the HTTPS connection) drops it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The slot counters of one listener.
#[derive(Debug)]
pub struct Limits {
    /// What a slot is called in messages: `sessions` or `connections`.
    noun: &'static str,
    max_total: usize,
    max_per_party: usize,
    counts: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_party: HashMap<String, usize>,
}

/// Which limit refused a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitHit {
    /// The party has its maximum open.
    Party(usize, &'static str),
    /// All slots of the listener are in use.
    Total(usize, &'static str),
}

impl LimitHit {
    /// A stable reason for audit events.
    pub fn reason(self) -> &'static str {
        match self {
            LimitHit::Party(_, "sessions") => "max_sessions_per_party",
            LimitHit::Party(..) => "max_connections_per_party",
            LimitHit::Total(_, "sessions") => "max_sessions",
            LimitHit::Total(..) => "max_connections",
        }
    }

    /// The limit that was hit.
    pub fn limit(self) -> usize {
        match self {
            LimitHit::Total(n, _) | LimitHit::Party(n, _) => n,
        }
    }

    /// The message the client is disconnected with.
    pub fn message(self, party: &str) -> String {
        match self {
            LimitHit::Party(n, what) => {
                format!("{party} already has its maximum of {n} {what} open; close one or try again later")
            }
            LimitHit::Total(n, what) => {
                format!("the server has its maximum of {n} {what} open; try again in a few minutes")
            }
        }
    }
}

/// A held session slot.
#[derive(Debug)]
pub struct Slot {
    limits: Arc<Limits>,
    party: String,
}

impl Limits {
    /// Counters with these maxima (each at least 1); `noun` names a slot in messages.
    pub fn new(noun: &'static str, max_total: usize, max_per_party: usize) -> Arc<Limits> {
        Arc::new(Limits {
            noun,
            max_total: max_total.max(1),
            max_per_party: max_per_party.max(1),
            counts: Mutex::new(Counts::default()),
        })
    }

    /// Takes a slot for `party`, or says which limit is reached.
    pub fn acquire(self: &Arc<Self>, party: &str) -> Result<Slot, LimitHit> {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if c.total >= self.max_total {
            return Err(LimitHit::Total(self.max_total, self.noun));
        }
        let n = c.per_party.get(party).copied().unwrap_or(0);
        if n >= self.max_per_party {
            return Err(LimitHit::Party(self.max_per_party, self.noun));
        }
        c.total += 1;
        c.per_party.insert(party.to_owned(), n + 1);
        Ok(Slot { limits: self.clone(), party: party.to_owned() })
    }

    /// Sessions held now (in all).
    #[cfg(test)]
    pub fn in_use(&self) -> usize {
        self.counts.lock().unwrap_or_else(|p| p.into_inner()).total
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut c = self.limits.counts.lock().unwrap_or_else(|p| p.into_inner());
        c.total = c.total.saturating_sub(1);
        if let Some(n) = c.per_party.get_mut(&self.party) {
            *n -= 1;
            if *n == 0 {
                c.per_party.remove(&self.party);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_party_and_total() {
        let l = Limits::new("sessions", 3, 2);
        let a1 = l.acquire("a").unwrap();
        let _a2 = l.acquire("a").unwrap();
        assert_eq!(l.acquire("a").unwrap_err(), LimitHit::Party(2, "sessions"));
        let _b1 = l.acquire("b").unwrap();
        assert_eq!(l.acquire("c").unwrap_err(), LimitHit::Total(3, "sessions"));
        drop(a1);
        assert_eq!(l.in_use(), 2);
        let _c1 = l.acquire("c").unwrap();
        assert_eq!(l.acquire("a").unwrap_err(), LimitHit::Total(3, "sessions"));
    }
}
