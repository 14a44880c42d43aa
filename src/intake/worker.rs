//! The intake worker: two threads per upload (reused, see [`super::threads`]) that validate,
//! hash and seal as bytes arrive.
//!
//! The async side sends in-order chunks, gathered into batches of about 256 KiB (one wake-up
//! per batch, not per 32 KiB SFTP write), through a bounded channel (back-pressure); the worker
//! checks a CSV file chunk by chunk where the bytes lie, and reads a JSON Lines file through a
//! `Read`, so validation and sealing stream in constant memory.

use std::io::{self, Read};
use std::sync::mpsc::SyncSender;

use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::validate::{self, Context, FileError, Format, RecordError, RecordSink, Tally, ValidateError};
use crate::domain::signal::SignalRecord;
use crate::domain::signal_view::SignalView;
use crate::vault::record_line;
use crate::vault::sealed_line;
use crate::vault::{SealedTmp, Vault, VaultError};

mod back;

/// A message from the upload to its worker.
pub(super) enum Msg {
    /// The next chunks, in order (a batch: one hand-off for several writes).
    Data(Vec<Vec<u8>>),
    /// The upload is complete.
    End,
}

/// What a finished worker hands back.
pub(super) struct Worked {
    /// SHA-256 of every byte received, hex.
    pub sha256: String,
    /// Bytes received.
    pub bytes: u64,
    /// The validation outcome; on `Err` nothing is sealed.
    pub result: Result<Sealed, FileError>,
}

/// A file that could be read: what validation found, and the accepted records sealed.
pub(super) struct Sealed {
    /// What validation found.
    pub checked: Checked,
    /// The sealed file, not yet filed into its period (discarded if dropped).
    pub file: SealedTmp,
}

/// What validation found in a file that could be read.
pub(super) struct Checked {
    /// Counts.
    pub tally: Tally,
    /// Record errors, up to the listing limit.
    pub errors: Vec<RecordError>,
    /// Record errors beyond the listing limit.
    pub errors_not_listed: u64,
    /// (referentie hash, line) of every accepted or objected record.
    pub refs: Vec<(u64, u64)>,
    /// Lines of objected records (the first few).
    pub objected_lines: Vec<u64>,
}

/// Why a worker stopped without a result.
#[derive(Debug, thiserror::Error)]
pub(super) enum WorkerError {
    /// The upload was dropped before it ended.
    #[error("the upload was aborted")]
    Aborted,
    /// Sealing failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// Writing sealed output failed.
    #[error("writing sealed output: {0}")]
    Io(io::Error),
}

/// What the worker needs to run.
pub(super) struct Job {
    pub vault: Vault,
    pub file_id: String,
    pub period: crate::domain::period::Period,
    pub format: Option<Format>,
    pub config: std::sync::Arc<crate::config::Config>,
    pub creditor: crate::domain::party::CreditorId,
    pub received_on: jiff::civil::Date,
    /// Where the back thread comes from.
    pub backs: super::threads::Threads,
}

/// The first 8 bytes of SHA-256 of a referentie: enough to find corrections, reveals nothing.
pub(super) fn ref_hash(referentie: &str) -> u64 {
    let d = Sha256::digest(referentie.as_bytes());
    u64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
}

/// Runs a job to completion, reading from `rx`. Its temporary file is discarded on failure.
///
/// Two threads share the work: this one checks the UTF-8, parses and validates and encodes
/// the sealed lines; a [`back`] thread hashes the raw chunks and encrypts and writes the
/// sealed lines, so the two halves overlap.
pub(super) fn run(job: Job, rx: mpsc::Receiver<Msg>) -> Result<Worked, WorkerError> {
    let writer = match job.format {
        Some(_) => Some(job.vault.seal_tmp(job.period, &job.file_id)?),
        None => None,
    };
    let (tx, back_rx) = std::sync::mpsc::sync_channel(BACK_QUEUE);
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    job.backs
        .spawn("seal".into(), move || {
            let _ = done_tx.send(back::run(back_rx, writer));
        })
        .map_err(WorkerError::Io)?;
    let mut input =
        ChannelReader { rx, batch: Vec::new(), at: 0, pos: 0, back: tx.clone(), bytes: 0, ended: false };
    let result = run_inner(&job, &mut input, tx);
    // Hash the rest of a file that was rejected early, so the receipt names the whole file.
    let drained = input.drain();
    let bytes = input.bytes;
    input.finish();
    let back::Done { sha256, writer } =
        done_rx.recv().map_err(|_| WorkerError::Io(io::Error::other("the sealer thread stopped")))?;
    // Every way out but a sealed result drops the writer, which discards its file.
    let result = result?;
    drained.map_err(|_| WorkerError::Aborted)?;
    let writer = writer.map_err(WorkerError::Io)?;
    let result = match (result, writer) {
        (Ok(checked), Some(w)) => Ok(Sealed { checked, file: w.finish()? }),
        (Ok(_), None) => return Err(WorkerError::Io(io::Error::other("a readable file had no sealer"))),
        (Err(fe), _) => Err(fe),
    };
    Ok(Worked { sha256, bytes, result })
}

fn run_inner(
    job: &Job,
    input: &mut ChannelReader,
    back: SyncSender<back::Msg>,
) -> Result<Result<Checked, FileError>, WorkerError> {
    let Some(format) = job.format else {
        return Ok(Err(FileError {
            code: "extension_unknown".into(),
            message: "the file name must end in .csv or .jsonl (unfinished uploads: .csv.part, .jsonl.part)"
                .into(),
            line: None,
            byte_offset: None,
        }));
    };
    let creditor = job.config.creditor(&job.creditor).expect("intake checks the creditor at begin");
    let ctx =
        Context { allowed_kinds: &creditor.kinds, rules: &job.config.rules, received_on: job.received_on };
    let mut sink = SealSink {
        out: back,
        refs: Vec::new(),
        errors: Vec::new(),
        errors_not_listed: 0,
        max_listed: job.config.intake.max_listed_errors,
        objected_lines: Vec::new(),
        // Small at first: most files are small, and a large one soon fills whole blocks.
        buf: Vec::with_capacity(FIRST_BLOCK),
    };
    sealed_line::write_header(&mut sink.buf);
    let checked = match format {
        // CSV is checked chunk by chunk as it arrives, in place.
        Format::Csv => input.each_chunk(&ctx, &mut sink),
        Format::Jsonl => validate::validate(&mut *input, format, &ctx, &mut sink),
    };
    let tally = match checked {
        Ok(t) => t,
        Err(ValidateError::File(fe)) => return Ok(Err(fe)),
        Err(ValidateError::Input(_)) => return Err(WorkerError::Aborted),
        Err(ValidateError::Sink(e)) => return Err(WorkerError::Io(e)),
    };
    sink.flush().map_err(WorkerError::Io)?;
    let SealSink { refs, errors, errors_not_listed, objected_lines, .. } = sink;
    Ok(Ok(Checked { tally, errors, errors_not_listed, refs, objected_lines }))
}

/// A `Read` over the chunks of an upload; every batch of chunks, once read, goes to the back
/// thread to be hashed, and is counted.
struct ChannelReader {
    rx: mpsc::Receiver<Msg>,
    /// The batch being read; `batch[at]` is the current chunk (none while it is empty).
    batch: Vec<Vec<u8>>,
    at: usize,
    /// Read position in the current chunk.
    pos: usize,
    back: SyncSender<back::Msg>,
    bytes: u64,
    ended: bool,
}

impl ChannelReader {
    /// Hands the current batch to the back thread.
    fn pass_on(&mut self) {
        let batch = std::mem::take(&mut self.batch);
        (self.at, self.pos) = (0, 0);
        if !batch.is_empty() {
            // A closed back thread only happens when this worker is failing anyway.
            let _ = self.back.send(back::Msg::Hash(batch));
        }
    }

    /// Hands over the last batch and lets the back thread finish.
    fn finish(mut self) {
        self.pass_on();
    }

    /// Moves to the next chunk, receiving the next batch when this one is read; `false` at
    /// the end of the upload.
    fn advance(&mut self) -> io::Result<bool> {
        if self.ended {
            return Ok(false);
        }
        if self.at + 1 < self.batch.len() {
            (self.at, self.pos) = (self.at + 1, 0);
            return Ok(true);
        }
        loop {
            match self.rx.blocking_recv() {
                Some(Msg::Data(batch)) => {
                    self.pass_on();
                    self.bytes += batch.iter().map(|c| c.len() as u64).sum::<u64>();
                    self.batch = batch;
                    if !self.batch.is_empty() {
                        return Ok(true);
                    }
                }
                Some(Msg::End) => {
                    self.ended = true;
                    return Ok(false);
                }
                None => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "upload aborted")),
            }
        }
    }

    /// The next chunk in order (`None` at the end). Bytes of the current chunk not yet read
    /// are skipped.
    fn next_chunk(&mut self) -> io::Result<Option<&[u8]>> {
        if !self.advance()? {
            return Ok(None);
        }
        let chunk = &self.batch[self.at];
        self.pos = chunk.len();
        Ok(Some(chunk))
    }

    /// Checks a CSV file chunk by chunk as it arrives, with no copy in between.
    fn each_chunk(&mut self, ctx: &Context<'_>, sink: &mut dyn RecordSink) -> Result<Tally, ValidateError> {
        let mut csv = validate::CsvValidator::new();
        while let Some(chunk) = self.next_chunk().map_err(ValidateError::Input)? {
            csv.feed(chunk, ctx, sink)?;
        }
        csv.finish(ctx, sink)
    }

    /// Reads what is left of the upload, so that all of it is hashed.
    fn drain(&mut self) -> io::Result<()> {
        while self.next_chunk()?.is_some() {}
        Ok(())
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.batch.get(self.at).is_none_or(|c| self.pos == c.len()) {
            if !self.advance()? {
                return Ok(0);
            }
        }
        let chunk = &self.batch[self.at][self.pos..];
        let n = buf.len().min(chunk.len());
        buf[..n].copy_from_slice(&chunk[..n]);
        self.pos += n;
        Ok(n)
    }
}

/// Messages that may wait for the back thread (each a batch of chunks or a sealed block).
const BACK_QUEUE: usize = 8;

/// Sealed plaintext is handed to the sealer in blocks of this size.
const SEAL_BLOCK: usize = 256 * 1024;

/// Room first made for the sealed plaintext of an upload (it grows to [`SEAL_BLOCK`]).
const FIRST_BLOCK: usize = 8 * 1024;

/// Most objected lines named in the receipt warning.
const MAX_OBJECTED_LINES: usize = 20;

/// Seals accepted records, keeps tombstones for objected ones, collects errors.
struct SealSink {
    out: SyncSender<back::Msg>,
    refs: Vec<(u64, u64)>,
    errors: Vec<RecordError>,
    errors_not_listed: u64,
    max_listed: usize,
    objected_lines: Vec<u64>,
    buf: Vec<u8>,
}

impl SealSink {
    /// Hands the lines appended so far to the sealer once they fill a block.
    fn block_full(&mut self) -> io::Result<()> {
        if self.buf.len() >= SEAL_BLOCK {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        let block = std::mem::replace(&mut self.buf, Vec::with_capacity(SEAL_BLOCK + 4096));
        self.out.send(back::Msg::Seal(block)).map_err(|_| io::Error::other("the sealer thread stopped"))
    }
}

impl RecordSink for SealSink {
    fn accepted(&mut self, line: u64, record: SignalRecord) -> io::Result<()> {
        self.accepted_view(line, record.view())
    }

    fn accepted_view(&mut self, line: u64, record: SignalView<'_>) -> io::Result<()> {
        self.refs.push((ref_hash(record.referentie), line));
        record_line::write(&mut self.buf, line, &record);
        self.block_full()
    }

    fn objected(&mut self, line: u64, referentie: &str) -> io::Result<()> {
        self.refs.push((ref_hash(referentie), line));
        if self.objected_lines.len() < MAX_OBJECTED_LINES {
            self.objected_lines.push(line);
        }
        sealed_line::write_tombstone(&mut self.buf, line, referentie)?;
        self.block_full()
    }

    fn rejected(&mut self, errors: &[RecordError]) -> io::Result<()> {
        for e in errors {
            if self.errors.len() < self.max_listed {
                self.errors.push(e.clone());
            } else {
                self.errors_not_listed += 1;
            }
        }
        Ok(())
    }
}
