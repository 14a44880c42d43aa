//! Which bytes of a pickup file a municipality has taken over HTTPS, across its requests
//! (docs/folders-and-protocols.md, "What counts as picked up").
//!
//! A response's bytes are taken when every one was handed to the connection and flushed into
//! the kernel, the peer's TCP acknowledged them, and the client then sent something or closed
//! in order, before any reset ([`Wire::judge`]); a response cut off, or whose connection failed
//! first, adds nothing. A request that resumes (`Range: bytes=N-`) says the client has the
//! first `N` bytes, and they count as taken if earlier responses to this municipality sent
//! them. When the taken ranges cover the whole file, that is a download and it is recorded
//! ([`record::pickup`]); the ranges then start again from nothing. Kept in memory: a restart
//! forgets partial coverage (the municipality downloads again or acknowledges with `DELETE`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::wire::{Flushed, Judged, Probe, Wire};
use crate::app::App;
use crate::pickup::record::{self, Pickup};
use crate::transport::folders::coverage::Coverage;

/// How long a sent response may wait for the peer's acknowledgement.
const ACK_WAIT: Duration = Duration::from_secs(300);

/// Most responses waiting for their acknowledgement at once; beyond it a response is not
/// watched (so it does not count), which bounds the probing a client can cause.
const MAX_WATCHING: usize = 1024;

/// One file of one municipality, as served: a new file under the same name starts afresh.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FileKey {
    /// Municipality code.
    pub municipality: String,
    /// File name in its pickup folder.
    pub name: String,
    /// SHA-256 (hex) of the file.
    pub sha256: String,
}

#[derive(Debug, Default)]
struct Ranges {
    /// Handed to a connection (acknowledged or not).
    sent: Coverage,
    /// Acknowledged by the peer, or claimed by a resume after being sent.
    taken: Coverage,
}

/// The HTTPS listener's record of taken byte ranges.
#[derive(Debug, Default)]
pub struct Taken {
    files: Mutex<HashMap<FileKey, Ranges>>,
    watching: AtomicUsize,
}

impl Taken {
    /// A request resumes at `start`: the client says it has `0..start`, taken if it was sent.
    pub fn resumed(&self, key: &FileKey, start: u64) {
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = files.get_mut(key)
            && r.sent.covers(start)
        {
            r.taken.add(0, start);
        }
    }

    fn sent(&self, key: &FileKey, start: u64, end: u64) {
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        files.entry(key.clone()).or_default().sent.add(start, end - start);
    }

    /// Adds `start..end` as taken; whether every byte of a file of `size` now is (then the
    /// ranges are forgotten, for the next download).
    fn took(&self, key: &FileKey, start: u64, end: u64, size: u64) -> bool {
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        let r = files.entry(key.clone()).or_default();
        r.taken.add(start, end - start);
        let whole = r.taken.covers(size);
        if whole {
            files.remove(key);
        }
        whole
    }
}

/// One response's bytes on their way. The body stream tells it each chunk it hands over; when
/// the body is dropped (sent, or cut off), it notes what was sent and, if all of it was, waits
/// for the acknowledgement and then for the file to be whole.
pub struct Sending {
    taken: Arc<Taken>,
    wire: Arc<Wire>,
    key: FileKey,
    start: u64,
    end: u64,
    size: u64,
    /// The end of the bytes handed over so far.
    handed_to: u64,
    app: App,
    pickup: Pickup,
}

impl Sending {
    /// A response of bytes `start..end` of `key`'s file of `size` bytes; `pickup` is what to
    /// record when the file is whole.
    pub fn new(
        taken: Arc<Taken>,
        wire: Arc<Wire>,
        key: FileKey,
        (start, end, size): (u64, u64, u64),
        app: App,
        pickup: Pickup,
    ) -> Sending {
        Sending { taken, wire, key, start, end, size, handed_to: start, app, pickup }
    }

    /// The bytes up to `to` are handed to hyper.
    pub fn handed(&mut self, to: u64) {
        self.handed_to = to;
    }
}

impl Drop for Sending {
    fn drop(&mut self) {
        if self.handed_to > self.start {
            self.taken.sent(&self.key, self.start, self.handed_to);
        }
        if self.handed_to < self.end || self.end == self.start {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else { return };
        if self.taken.watching.fetch_add(1, Ordering::SeqCst) >= MAX_WATCHING {
            self.taken.watching.fetch_sub(1, Ordering::SeqCst);
            tracing::warn!(gemeente = %self.key.municipality, "too many HTTPS responses waiting for acknowledgement; this one is not counted");
            return;
        }
        // Hyper drops the body right after taking its last chunk, before flushing it.
        let flushed = self.wire.after_flush();
        let (taken, wire, key, app) =
            (self.taken.clone(), self.wire.clone(), self.key.clone(), self.app.clone());
        let (start, end, size, pickup) = (self.start, self.end, self.size, self.pickup.clone());
        rt.spawn(async move {
            let acked = acknowledged(&wire, flushed).await;
            taken.watching.fetch_sub(1, Ordering::SeqCst);
            if let Err(missing) = acked {
                // `missing`: bytes the client's TCP had not acknowledged (none: never flushed).
                tracing::info!(gemeente = %key.municipality, start, end, unacknowledged_bytes = ?missing, "HTTPS response not taken (reset, gone or silent before the client acknowledged every byte and then spoke or closed in order); not counted");
            } else if taken.took(&key, start, end, size) {
                record::pickup(&app, pickup).await;
            }
        });
    }
}

/// Waits until the bytes of the response, `flushed`, are taken ([`Wire::judge`]). Fails when
/// the connection closes before that flush (`None`), or fails, is gone or [`ACK_WAIT`] passes
/// before they are taken (the bytes then still unacknowledged, TLS included).
async fn acknowledged(wire: &Wire, flushed: oneshot::Receiver<Flushed>) -> Result<(), Option<u64>> {
    let deadline = Instant::now() + ACK_WAIT;
    let Ok(Ok(f)) = tokio::time::timeout(ACK_WAIT, flushed).await else { return Err(None) };
    let mut pause = Duration::from_millis(2);
    loop {
        let gone = match wire.judge(f) {
            Judged::Taken => return Ok(()),
            Judged::Refused => true,
            Judged::Open => wire.probe() == Probe::Gone,
        };
        match wire.judge(f) {
            Judged::Taken => return Ok(()),
            Judged::Refused => return Err(Some(f.written.saturating_sub(wire.acked()))),
            Judged::Open if gone || Instant::now() > deadline => {
                return Err(Some(f.written.saturating_sub(wire.acked())));
            }
            Judged::Open => {}
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> FileKey {
        FileKey { municipality: "GM0505".into(), name: "a.csv.age".into(), sha256: "00".into() }
    }

    #[test]
    fn ranges_add_up_and_a_resume_claims_only_what_was_sent() {
        let t = Taken::default();
        let k = key();
        t.resumed(&k, 50);
        assert!(!t.took(&k, 50, 100, 100), "0..50 never sent: a resume claims nothing");
        t.sent(&k, 0, 30);
        t.resumed(&k, 50);
        assert!(!t.took(&k, 99, 100, 100), "sent 0..30 does not back a claim of 0..50");
        t.sent(&k, 30, 60);
        t.resumed(&k, 50);
        assert!(t.took(&k, 50, 99, 100), "0..50 claimed, 50..99 and 99..100 taken");
        assert!(!t.took(&k, 0, 99, 100), "forgotten after a whole download");
    }
}
