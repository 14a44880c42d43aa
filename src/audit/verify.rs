//! What `meldpunt audit verify` checks: the hash chain, the checkpoints and the purge anchors,
//! all against the officer's public key. The first problem found (in event order) is named.

use super::checkpoint::{Anchor, Checkpoint};
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

/// The first problem found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Finding {
    /// The content of an event does not match its hash.
    #[error("event {seq}: content does not match its hash (the event was altered)")]
    Altered {
        /// The event.
        seq: u64,
    },
    /// An anchor's signature is not the key's.
    #[error(
        "purge anchor through event {through}: signature does not verify with this public key (anchor forged or altered)"
    )]
    AnchorSignature {
        /// Its `through`.
        through: u64,
    },
    /// An event's `prev` is not the previous event's hash.
    #[error("event {seq}: 'prev' does not match the hash of event {} (events reordered or replaced)", seq - 1)]
    BrokenLink {
        /// The event.
        seq: u64,
    },
    /// A checkpoint's head differs from the event it covers: the chain was re-computed.
    #[error(
        "event {seq}: does not match the checkpoint signed at {ts}: events {from}..={seq} were rewritten and re-chained (forgery)"
    )]
    CheckpointMismatch {
        /// The event.
        seq: u64,
        /// The checkpoint's time.
        ts: String,
        /// First event that may be forged (after the last matching checkpoint).
        from: u64,
    },
    /// A checkpoint's signature is not the key's.
    #[error(
        "checkpoint of event {seq} signed at {ts}: signature does not verify with this public key (checkpoint forged or altered)"
    )]
    CheckpointSignature {
        /// Its seq.
        seq: u64,
        /// Its time.
        ts: String,
    },
    /// Events before the first one are gone without a signed anchor.
    #[error(
        "event {first}: the log starts here but events {expected}..={} are missing and no signed purge anchor covers them (deleted)",
        first - 1
    )]
    Deleted {
        /// First seq present.
        first: u64,
        /// Seq that should have come first.
        expected: u64,
    },
    /// A seq is missing or out of order.
    #[error("event {found}: expected event {expected} here (events missing or reordered)")]
    Gap {
        /// Seq expected.
        expected: u64,
        /// Seq found.
        found: u64,
    },
    /// An export does not end with a checkpoint of its last event.
    #[error(
        "event {last}: the export does not end with its own signed export checkpoint of its last event (its tail was cut)"
    )]
    ExportTail {
        /// Its last event.
        last: u64,
    },
    /// An event differs from the officer's earlier export of it.
    #[error(
        "event {seq}: differs from your earlier export (whose checkpoints were valid): rewritten since, even if re-signed with this host's key"
    )]
    DivergedFromExport {
        /// The event.
        seq: u64,
    },
    /// An event of the officer's earlier export is gone although no anchor purged it.
    #[error("event {seq}: was in your earlier export but is gone from the log (deleted or truncated since)")]
    LostSinceExport {
        /// The event.
        seq: u64,
    },
    /// Events a checkpoint covered are gone from the end.
    #[error(
        "event {last}: the log ends here but the checkpoint signed at {ts} covers {seq} events: events {}..={seq} were removed (truncated)",
        last + 1
    )]
    Truncated {
        /// The last event present.
        last: u64,
        /// The checkpoint's seq.
        seq: u64,
        /// The checkpoint's time.
        ts: String,
    },
}

impl Finding {
    /// The event the finding names (for the officer: where to look).
    pub fn seq(&self) -> u64 {
        match self {
            Self::Altered { seq } | Self::BrokenLink { seq } | Self::CheckpointMismatch { seq, .. } => *seq,
            Self::CheckpointSignature { seq, .. } => *seq,
            Self::AnchorSignature { through } => *through,
            Self::Deleted { first, .. } => *first,
            Self::Gap { found, .. } => *found,
            Self::DivergedFromExport { seq } | Self::LostSinceExport { seq } => *seq,
            Self::ExportTail { last } | Self::Truncated { last, .. } => *last,
        }
    }
}

/// Verifies `log` with `public`; the first problem is returned.
pub fn verify(log: &Log, public: &PublicKey, source: Source) -> Result<Verified, Finding> {
    for a in &log.anchors {
        if !a.signed_by(public) {
            return Err(Finding::AnchorSignature { through: a.through });
        }
    }
    for c in &log.checkpoints {
        if !c.signed_by(public) {
            return Err(Finding::CheckpointSignature { seq: c.seq, ts: c.ts.clone() });
        }
    }
    verify_structure(log, source)
}

/// Everything but the signatures: where the log starts, the chain, checkpoint heads, the end.
pub(super) fn verify_structure(log: &Log, source: Source) -> Result<Verified, Finding> {
    let anchor = log.anchors.iter().max_by_key(|a| a.through);
    let (mut expected, mut prev) =
        anchor.map_or((1, GENESIS.to_owned()), |a| (a.through + 1, a.head.clone()));
    match log.records.first() {
        Some(first) if first.seq != expected => {
            // An export made with --since starts right after a checkpoint of its own.
            let from_checkpoint = source == Source::Export
                && log.checkpoints.iter().any(|c| c.seq + 1 == first.seq && c.head == first.prev);
            if from_checkpoint {
                (expected, prev) = (first.seq, first.prev.clone());
            } else if first.seq > expected {
                return Err(Finding::Deleted { first: first.seq, expected });
            } else {
                return Err(Finding::Gap { expected, found: first.seq });
            }
        }
        None if source == Source::Export => {
            // An export of no new events: its checkpoints all name the same head.
            if let Some(c) = log.checkpoints.iter().min_by_key(|c| c.seq)
                && c.seq + 1 > expected
            {
                (expected, prev) = (c.seq + 1, c.head.clone());
            }
        }
        _ => {}
    }
    let start = expected;
    let mut last_matching = start - 1;
    if let Some(c) = log.checkpoints.iter().find(|c| c.seq + 1 == start && c.head != prev) {
        return Err(Finding::CheckpointMismatch { seq: c.seq, ts: c.ts.clone(), from: c.seq });
    }
    for r in &log.records {
        if r.seq != expected {
            return Err(Finding::Gap { expected, found: r.seq });
        }
        if r.prev != prev {
            return Err(Finding::BrokenLink { seq: r.seq });
        }
        if r.compute_hash() != r.hash {
            return Err(Finding::Altered { seq: r.seq });
        }
        for c in log.checkpoints.iter().filter(|c| c.seq == r.seq) {
            if c.head != r.hash {
                return Err(Finding::CheckpointMismatch {
                    seq: r.seq,
                    ts: c.ts.clone(),
                    from: last_matching + 1,
                });
            }
            last_matching = r.seq;
        }
        prev = r.hash.clone();
        expected += 1;
    }
    let last = expected - 1;
    if let Some(c) = log.checkpoints.iter().filter(|c| c.seq > last).max_by_key(|c| c.seq) {
        return Err(Finding::Truncated { last, seq: c.seq, ts: c.ts.clone() });
    }
    let signed = log.checkpoints.iter().map(|c| c.seq).filter(|s| *s >= start.saturating_sub(1)).max();
    let unsigned_tail = last - signed.unwrap_or(start - 1).max(start - 1);
    // An export ends with the one `export` checkpoint signed when it was made (earlier
    // exports' checkpoints are left out), so cutting it back to an older checkpoint shows.
    let mut own = log.checkpoints.iter().filter(|c| c.reason == "export");
    let sealed = matches!((own.next(), own.next()), (Some(c), None) if c.seq == last);
    if source == Source::Export && (unsigned_tail > 0 || !sealed) {
        return Err(Finding::ExportTail { last });
    }
    Ok(Verified {
        events: log.records.len() as u64,
        range: log.records.first().map(|f| (f.seq, last)),
        checkpoints: log.checkpoints.iter().filter(|c| c.seq + 1 >= start).count(),
        anchors: log.anchors.len(),
        purged_through: anchor.map_or(0, |a| a.through),
        unsigned_tail,
    })
}

/// Compares a verified log with the officer's earlier, verified export: every event of the
/// export must still be there with the same hash, unless a signed anchor purged it. This holds
/// even against someone who has the signing key: they cannot change the officer's copy.
pub fn compare_with_earlier(now: &Log, earlier: &Log) -> Result<(), Finding> {
    let purged = now.anchors.iter().map(|a| a.through).max().unwrap_or(0);
    for old in &earlier.records {
        match now.records.binary_search_by_key(&old.seq, |r| r.seq) {
            Ok(i) if now.records[i].hash == old.hash => {}
            Ok(_) => return Err(Finding::DivergedFromExport { seq: old.seq }),
            Err(_) if old.seq <= purged => {}
            Err(_) => return Err(Finding::LostSinceExport { seq: old.seq }),
        }
    }
    Ok(())
}
