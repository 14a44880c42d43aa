//! Uploads each party filed in the last minutes, known to all of the party's sessions.
//!
//! Clients with a pool of connections (rclone, lftp with `mirror --parallel`) write a file on
//! one connection and then `stat` it or set its times on another. A filed upload is gone from
//! `/inbox`, so the listener remembers the name and size of each party's recent uploads, and
//! any session of that party may `stat` them (size, and the time they were filed) and set
//! their attributes (accepted and ignored, docs/folders-and-protocols.md). Only names and
//! sizes are kept, in memory, for [`KEEP`] and at most [`PER_PARTY`] per party.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::party::PartyId;

/// How long a filed upload is remembered.
pub const KEEP: Duration = Duration::from_secs(15 * 60);

/// Most uploads remembered per party (the oldest are forgotten first).
pub const PER_PARTY: usize = 256;

/// One filed upload.
struct Filed {
    name: String,
    bytes: u64,
    /// When it was filed, Unix seconds (shown as its times).
    unix: u32,
    at: Instant,
}

/// The recent uploads of every party of one listener.
#[derive(Default)]
pub(super) struct Recent {
    by_party: Mutex<HashMap<String, VecDeque<Filed>>>,
}

impl Recent {
    /// Remembers that `party` filed `bytes` bytes under `name`.
    pub fn remember(&self, party: &PartyId, name: &str, bytes: u64) {
        let unix = u32::try_from(jiff::Timestamp::now().as_second()).unwrap_or(0);
        let mut map = self.by_party.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let list = map.entry(party.as_str().to_owned()).or_default();
        forget_old(list);
        if list.len() >= PER_PARTY {
            list.pop_front();
        }
        list.push_back(Filed { name: name.to_owned(), bytes, unix, at: Instant::now() });
    }

    /// Size and filing time (Unix seconds) of the latest upload `party` filed as `name`.
    pub fn find(&self, party: &PartyId, name: &str) -> Option<(u64, u32)> {
        let mut map = self.by_party.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let list = map.get_mut(party.as_str())?;
        forget_old(list);
        list.iter().rev().find(|f| f.name == name).map(|f| (f.bytes, f.unix))
    }
}

fn forget_old(list: &mut VecDeque<Filed>) {
    while list.front().is_some_and(|f| f.at.elapsed() > KEEP) {
        list.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_per_party_latest_first_and_bounded() {
        let r = Recent::default();
        let a = PartyId::Creditor(crate::domain::party::CreditorId::parse("woonstad").unwrap());
        let b = PartyId::Creditor(crate::domain::party::CreditorId::parse("vitens").unwrap());
        r.remember(&a, "x.csv", 10);
        r.remember(&a, "x.csv", 12);
        assert_eq!(r.find(&a, "x.csv").map(|f| f.0), Some(12));
        assert_eq!(r.find(&b, "x.csv"), None, "another party does not see it");
        for i in 0..PER_PARTY {
            r.remember(&a, &format!("{i}.csv"), 1);
        }
        assert_eq!(r.find(&a, "x.csv"), None, "the oldest are forgotten");
        assert!(r.find(&a, "0.csv").is_some());
    }
}
