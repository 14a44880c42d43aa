//! What `meldpunt audit verify` checks: the hash chain, the checkpoints and the purge anchors,
//! all against the officer's public key. The first problem found (in event order) is named.

use std::collections::BTreeMap;

use super::checkpoint::{Anchor, Checkpoint};
pub use super::finding::Finding;
use super::key::PublicKey;
use super::{GENESIS, Record};

/// The events, checkpoints and anchors to verify (from the database or an export).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Log {
    /// Events in seq order.
    pub records: Vec<Record>,
    /// Checkpoints.
    pub checkpoints: Vec<Checkpoint>,
    /// Purge anchors.
    pub anchors: Vec<Anchor>,
}

/// Where the log came from: an export may start right after a checkpoint (`--since`) and must
/// end with one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The live database.
    Database,
    /// An export file.
    Export,
}

/// What a successful verification found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// Events checked.
    pub events: u64,
    /// First and last seq, if any.
    pub range: Option<(u64, u64)>,
    /// Checkpoints whose signature and head were checked.
    pub checkpoints: usize,
    /// Purge anchors checked.
    pub anchors: usize,
    /// Events purged legitimately before the first event (per the anchor).
    pub purged_through: u64,
    /// Events after the last checkpoint (covered by the hash chain only, not yet signed).
    pub unsigned_tail: u64,
}

/// Verifies `log` with `public`; the first problem is returned.
pub fn verify(log: &Log, public: &PublicKey, source: Source) -> Result<Verified, Finding> {
    let mut v = Verifier::new(&log.checkpoints, &log.anchors, Some(public), source)?;
    for r in &log.records {
        v.push(r)?;
    }
    v.finish()
}

/// Everything but the signatures: where the log starts, the chain, checkpoint heads, the end.
pub(super) fn verify_structure(log: &Log, source: Source) -> Result<Verified, Finding> {
    let mut v = Verifier::new(&log.checkpoints, &log.anchors, None, source)?;
    for r in &log.records {
        v.push(r)?;
    }
    v.finish()
}

/// Verification one event at a time, so a log of years is checked without holding it in
/// memory: [`Verifier::new`] checks the signatures, [`Verifier::push`] each event in seq order,
/// [`Verifier::finish`] the end.
pub struct Verifier<'a> {
    checkpoints: &'a [Checkpoint],
    /// Checkpoints by the seq they cover.
    at: BTreeMap<u64, Vec<&'a Checkpoint>>,
    anchors: usize,
    purged_through: u64,
    source: Source,
    expected: u64,
    prev: String,
    start: Option<u64>,
    last_matching: u64,
    events: u64,
    earlier: Option<(BTreeMap<u64, String>, u64)>,
}

impl<'a> Verifier<'a> {
    /// Checks every anchor's and checkpoint's signature (when `public` is given).
    pub fn new(
        checkpoints: &'a [Checkpoint],
        anchors: &'a [Anchor],
        public: Option<&PublicKey>,
        source: Source,
    ) -> Result<Verifier<'a>, Finding> {
        if let Some(public) = public {
            if let Some(a) = anchors.iter().find(|a| !a.signed_by(public)) {
                return Err(Finding::AnchorSignature { through: a.through });
            }
            if let Some(c) = checkpoints.iter().find(|c| !c.signed_by(public)) {
                return Err(Finding::CheckpointSignature { seq: c.seq, ts: c.ts.clone() });
            }
        }
        let mut at: BTreeMap<u64, Vec<&Checkpoint>> = BTreeMap::new();
        for c in checkpoints {
            at.entry(c.seq).or_default().push(c);
        }
        let anchor = anchors.iter().max_by_key(|a| a.through);
        let (expected, prev) = anchor.map_or((1, GENESIS.to_owned()), |a| (a.through + 1, a.head.clone()));
        Ok(Verifier {
            checkpoints,
            at,
            anchors: anchors.len(),
            purged_through: anchor.map_or(0, |a| a.through),
            source,
            expected,
            prev,
            start: None,
            last_matching: 0,
            events: 0,
            earlier: None,
        })
    }

    /// Also requires every event of `earlier` (the officer's verified earlier export) to be
    /// there with the same hash, unless a signed anchor purged it. This holds even against
    /// someone who has the signing key: they cannot change the officer's copy.
    pub fn against(mut self, earlier: &Log) -> Self {
        let hashes = earlier.records.iter().map(|r| (r.seq, r.hash.clone())).collect();
        self.earlier = Some((hashes, self.purged_through));
        self
    }

    /// Where the log starts: set by the first event (or by the end, when there is none).
    fn begin(&mut self, first: Option<&Record>) -> Result<u64, Finding> {
        if let Some(s) = self.start {
            return Ok(s);
        }
        match first {
            Some(first) if first.seq != self.expected => {
                // An export made with --since starts right after a checkpoint of its own.
                let before = first.seq.checked_sub(1).and_then(|s| self.at.get(&s));
                let from_checkpoint = self.source == Source::Export
                    && before.is_some_and(|cs| cs.iter().any(|c| c.head == first.prev));
                if from_checkpoint {
                    (self.expected, self.prev) = (first.seq, first.prev.clone());
                } else if first.seq > self.expected {
                    return Err(Finding::Deleted { first: first.seq, expected: self.expected });
                } else {
                    return Err(Finding::Gap { expected: self.expected, found: first.seq });
                }
            }
            None if self.source == Source::Export => {
                // An export of no new events: its checkpoints all name the same head.
                if let Some((&seq, cs)) = self.at.iter().next()
                    && seq + 1 > self.expected
                {
                    (self.expected, self.prev) = (seq + 1, cs[0].head.clone());
                }
            }
            _ => {}
        }
        let start = self.expected;
        self.start = Some(start);
        self.last_matching = start - 1;
        if let Some(c) = self.at.get(&(start - 1)).and_then(|cs| cs.iter().find(|c| c.head != self.prev)) {
            return Err(Finding::CheckpointMismatch { seq: c.seq, ts: c.ts.clone(), from: c.seq });
        }
        Ok(start)
    }

    /// Checks the next event.
    pub fn push(&mut self, r: &Record) -> Result<(), Finding> {
        self.begin(Some(r))?;
        if r.seq != self.expected {
            return Err(Finding::Gap { expected: self.expected, found: r.seq });
        }
        if r.prev != self.prev {
            return Err(Finding::BrokenLink { seq: r.seq });
        }
        if r.compute_hash() != r.hash {
            return Err(Finding::Altered { seq: r.seq });
        }
        for c in self.at.get(&r.seq).into_iter().flatten() {
            if c.head != r.hash {
                return Err(Finding::CheckpointMismatch {
                    seq: r.seq,
                    ts: c.ts.clone(),
                    from: self.last_matching + 1,
                });
            }
            self.last_matching = r.seq;
        }
        if let Some((hashes, _)) = &self.earlier
            && hashes.get(&r.seq).is_some_and(|h| *h != r.hash)
        {
            return Err(Finding::DivergedFromExport { seq: r.seq });
        }
        self.prev = r.hash.clone();
        self.expected += 1;
        self.events += 1;
        Ok(())
    }

    /// Checks the end: nothing signed beyond the last event, an export's own seal, and (with
    /// [`Verifier::against`]) no event of the earlier export lost.
    pub fn finish(mut self) -> Result<Verified, Finding> {
        let start = self.begin(None)?;
        let last = self.expected - 1;
        if let Some((&seq, cs)) = self.at.range(last + 1..).next_back() {
            return Err(Finding::Truncated { last, seq, ts: cs[0].ts.clone() });
        }
        let signed = self.at.range(start.saturating_sub(1)..).next_back().map(|(s, _)| *s);
        let unsigned_tail = last - signed.unwrap_or(start - 1).max(start - 1);
        // An export ends with the one `export` checkpoint signed when it was made (earlier
        // exports' checkpoints are left out), so cutting it back to an older checkpoint shows.
        let mut own = self.checkpoints.iter().filter(|c| c.reason == "export");
        let sealed = matches!((own.next(), own.next()), (Some(c), None) if c.seq == last);
        if self.source == Source::Export && (unsigned_tail > 0 || !sealed) {
            return Err(Finding::ExportTail { last });
        }
        if let Some((hashes, purged)) = &self.earlier
            && let Some(&seq) = hashes.keys().find(|s| **s > *purged && !(start..=last).contains(*s))
        {
            return Err(Finding::LostSinceExport { seq });
        }
        Ok(Verified {
            events: self.events,
            range: (self.events > 0).then_some((start, last)),
            checkpoints: self.at.range(start.saturating_sub(1)..).map(|(_, cs)| cs.len()).sum(),
            anchors: self.anchors,
            purged_through: self.purged_through,
            unsigned_tail,
        })
    }
}
