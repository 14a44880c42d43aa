//! The intake worker: two threads per upload, and a third that helps check a large CSV file
//! (all reused, see [`super::threads`]), that validate, hash and seal as bytes arrive.
//!
//! The async side sends in-order chunks, gathered into batches of about 256 KiB (one wake-up
//! per batch, not per 32 KiB SFTP write), through a bounded channel (back-pressure); the worker
//! checks a CSV file chunk by chunk where the bytes lie (past [`Job::parallel_from`] bytes in
//! blocks shared with a helper, see [`blocks`]), and reads a JSON Lines file through a `Read`,
//! so validation and sealing stream in constant memory.

use std::io;
use std::sync::mpsc::SyncSender;

use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::validate::{self, Context, FileError, Format, RecordError, Tally, ValidateError};
use crate::vault::{SealedTmp, Vault, VaultError};
use input::ChannelReader;
use sink::SealSink;

mod back;
mod blocks;
mod input;
mod sink;

/// A message from the upload to its worker.
pub(super) enum Msg {
    /// The next bytes, in order (a batch of writes: one hand-off for several).
    Data(Vec<u8>),
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
    /// Where the back thread (and a CSV helper) comes from.
    pub backs: super::threads::Threads,
    /// A CSV upload beyond this many bytes is checked on two threads (see [`blocks`]).
    pub parallel_from: u64,
}

/// What the checks of `creditor`'s records need to know.
fn context<'a>(
    config: &'a crate::config::Config,
    creditor: &crate::domain::party::CreditorId,
    received_on: jiff::civil::Date,
) -> Context<'a> {
    let creditor = config.creditor(creditor).expect("intake checks the creditor at begin");
    Context { allowed_kinds: &creditor.kinds, rules: &config.rules, received_on }
}

/// The first 8 bytes of SHA-256 of a referentie: enough to find corrections, reveals nothing.
pub(super) fn ref_hash(referentie: &str) -> u64 {
    let d = Sha256::digest(referentie.as_bytes());
    u64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
}

/// Runs a job to completion, reading from `rx`. Its temporary file is discarded on failure.
///
/// Two threads share the work: this one checks the UTF-8, parses and validates and encodes
/// the sealed lines (with a helper for a large CSV file); a [`back`] thread hashes the raw
/// chunks and encrypts and writes the sealed lines, so the two halves overlap.
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
    let mut input = ChannelReader::new(rx, tx.clone());
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
    let ctx = context(&job.config, &job.creditor, job.received_on);
    let mut sink = SealSink::new(back, job.config.intake.max_listed_errors);
    let checked = match format {
        // CSV is checked chunk by chunk as it arrives, in place (a large one on two threads).
        Format::Csv => blocks::check_csv(job, input, &ctx, &mut sink),
        Format::Jsonl => validate::validate(&mut *input, format, &ctx, &mut sink),
    };
    let tally = match checked {
        Ok(t) => t,
        Err(ValidateError::File(fe)) => return Ok(Err(fe)),
        Err(ValidateError::Input(_)) => return Err(WorkerError::Aborted),
        Err(ValidateError::Sink(e)) => return Err(WorkerError::Io(e)),
    };
    sink.flush().map_err(WorkerError::Io)?;
    let sink::Collected { refs, errors, errors_not_listed, objected_lines, .. } = sink.all;
    Ok(Ok(Checked { tally, errors, errors_not_listed, refs, objected_lines }))
}

/// Messages that may wait for the back thread (each a chunk of about 256 KiB or a block of
/// sealed lines).
const BACK_QUEUE: usize = 8;

#[cfg(test)]
mod tests;
