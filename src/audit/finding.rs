//! What `meldpunt audit verify` can find wrong, each with the message the officer reads.

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
