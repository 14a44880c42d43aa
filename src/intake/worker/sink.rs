//! Where checked records go: [`Collected`] gathers a block's outcomes in file order, and
//! [`SealSink`] hands sealed lines on to the back thread, block by block.

use std::io;
use std::sync::mpsc::SyncSender;

use super::{back, ref_hash};
use crate::domain::signal::SignalRecord;
use crate::domain::signal_view::SignalView;
use crate::intake::validate::{RecordError, RecordSink};
use crate::vault::{record_line, sealed_line};

/// Sealed plaintext is handed to the sealer in blocks of this size.
const SEAL_BLOCK: usize = 256 * 1024;

/// Room first made for the sealed plaintext of an upload (it grows to [`SEAL_BLOCK`]).
const FIRST_BLOCK: usize = 8 * 1024;

/// Most objected lines named in the receipt warning.
const MAX_OBJECTED_LINES: usize = 20;

/// The outcomes of some records, in file order: sealed lines (and tombstones), referentie
/// hashes, the first listed errors and objected lines.
pub(super) struct Collected {
    /// Sealed-file plaintext.
    pub buf: Vec<u8>,
    /// (referentie hash, line) of every accepted or objected record.
    pub refs: Vec<(u64, u64)>,
    /// Record errors, up to `max_listed`.
    pub errors: Vec<RecordError>,
    /// Record errors beyond that.
    pub errors_not_listed: u64,
    max_listed: usize,
    /// Lines of objected records (the first few).
    pub objected_lines: Vec<u64>,
}

impl Collected {
    /// Nothing yet; at most `max_listed` errors are kept.
    pub fn new(max_listed: usize) -> Collected {
        Collected {
            buf: Vec::new(),
            refs: Vec::new(),
            errors: Vec::new(),
            errors_not_listed: 0,
            max_listed,
            objected_lines: Vec::new(),
        }
    }

    /// An empty one with the same listing limit.
    pub fn fresh(&self) -> Collected {
        Collected::new(self.max_listed)
    }

    /// Nothing was collected.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty() && self.refs.is_empty() && self.errors.is_empty() && self.errors_not_listed == 0
    }

    /// Appends what `later` collected (from the records after these), keeping the limits.
    fn append_lists(&mut self, later: &mut Collected) {
        self.refs.append(&mut later.refs);
        for e in &later.errors {
            self.list(e);
        }
        self.errors_not_listed += later.errors_not_listed;
        let room = MAX_OBJECTED_LINES - self.objected_lines.len();
        self.objected_lines.extend(later.objected_lines.iter().take(room));
    }

    /// Lists `e` while there is room, else counts it.
    fn list(&mut self, e: &RecordError) {
        if self.errors.len() < self.max_listed {
            self.errors.push(e.clone());
        } else {
            self.errors_not_listed += 1;
        }
    }
}

impl RecordSink for Collected {
    fn accepted(&mut self, line: u64, record: SignalRecord) -> io::Result<()> {
        self.accepted_view(line, record.view())
    }

    fn accepted_view(&mut self, line: u64, record: SignalView<'_>) -> io::Result<()> {
        self.refs.push((ref_hash(record.referentie), line));
        record_line::write(&mut self.buf, line, &record);
        Ok(())
    }

    fn objected(&mut self, line: u64, referentie: &str) -> io::Result<()> {
        self.refs.push((ref_hash(referentie), line));
        if self.objected_lines.len() < MAX_OBJECTED_LINES {
            self.objected_lines.push(line);
        }
        sealed_line::write_tombstone(&mut self.buf, line, referentie)
    }

    fn rejected(&mut self, errors: &[RecordError]) -> io::Result<()> {
        for e in errors {
            self.list(e);
        }
        Ok(())
    }
}

/// Collects the outcomes of a whole upload and hands its sealed lines to the sealer.
pub(super) struct SealSink {
    out: SyncSender<back::Msg>,
    /// Everything so far; its `buf` holds the sealed lines not yet handed on.
    pub all: Collected,
}

impl SealSink {
    /// A sink sending to `out`, with the sealed file's header line written.
    pub fn new(out: SyncSender<back::Msg>, max_listed: usize) -> SealSink {
        let mut all = Collected::new(max_listed);
        // Small at first: most files are small, and a large one soon fills whole blocks.
        all.buf = Vec::with_capacity(FIRST_BLOCK);
        sealed_line::write_header(&mut all.buf);
        SealSink { out, all }
    }

    /// Hands the lines appended so far to the sealer once they fill a block.
    fn block_full(&mut self) -> io::Result<()> {
        if self.all.buf.len() >= SEAL_BLOCK {
            self.flush()?;
        }
        Ok(())
    }

    /// Hands the lines appended so far to the sealer.
    pub fn flush(&mut self) -> io::Result<()> {
        let block = std::mem::replace(&mut self.all.buf, Vec::with_capacity(SEAL_BLOCK + 4096));
        self.send(block)
    }

    fn send(&mut self, block: Vec<u8>) -> io::Result<()> {
        self.out.send(back::Msg::Seal(block)).map_err(|_| io::Error::other("the sealer thread stopped"))
    }

    /// Takes what the records after these produced (a block checked elsewhere).
    pub fn absorb(&mut self, mut later: Collected) -> io::Result<()> {
        self.all.append_lists(&mut later);
        if later.buf.len() < SEAL_BLOCK / 4 {
            self.all.buf.extend_from_slice(&later.buf);
            return self.block_full();
        }
        // A large block goes on as it is, after the lines before it.
        if !self.all.buf.is_empty() {
            self.flush()?;
        }
        self.send(later.buf)
    }
}

impl RecordSink for SealSink {
    fn accepted(&mut self, line: u64, record: SignalRecord) -> io::Result<()> {
        self.accepted_view(line, record.view())
    }

    fn accepted_view(&mut self, line: u64, record: SignalView<'_>) -> io::Result<()> {
        self.all.accepted_view(line, record)?;
        self.block_full()
    }

    fn objected(&mut self, line: u64, referentie: &str) -> io::Result<()> {
        self.all.objected(line, referentie)?;
        self.block_full()
    }

    fn rejected(&mut self, errors: &[RecordError]) -> io::Result<()> {
        self.all.rejected(errors)
    }
}
