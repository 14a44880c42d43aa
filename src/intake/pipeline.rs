//! The intake front: [`Intake`] hands out [`Upload`]s, which become [`Received`] files.

use std::collections::BTreeMap;

use jiff::Timestamp;
use tokio::sync::{mpsc, oneshot};

use super::received::{Outcome, Received};
use super::validate::Format;
use super::worker::{self, Job, Msg, Worked, WorkerError};
use super::{IntakeError, StorageError};
use std::sync::Arc;

use super::inflight::{InFlight, Shared};
use super::threads::Threads;
use crate::app::App;
use crate::domain::party::{Credential, VerifiedSender};
use crate::domain::period::{Period, local_date};
use crate::domain::upload::UploadName;
use crate::metrics::Protocol;

/// Batches queued between an upload and its worker (back-pressure beyond this).
const CHANNEL_BATCHES: usize = 8;

/// In-order chunks are gathered into one buffer of this many bytes and handed to the worker
/// as one batch: an SFTP client writes 32 KiB at a time, each hand-off wakes a thread, and
/// the worker checks larger contiguous blocks (on two threads, see `worker::blocks`).
const BATCH_BYTES: usize = 256 * 1024;

/// A CSV upload beyond this many bytes is checked on two threads: small files, the most,
/// never start a helper.
const PARALLEL_FROM: u64 = 4 << 20;

/// The intake: shared by every transport. Cheap to clone.
#[derive(Clone)]
pub struct Intake {
    app: App,
    shared: Arc<Shared>,
    /// Threads that check uploads, and threads that hash and seal them.
    fronts: Threads,
    backs: Threads,
    /// A CSV upload beyond this many bytes is checked on two threads.
    parallel_from: u64,
}

impl Intake {
    /// The intake of `app`.
    pub fn new(app: App) -> Intake {
        Intake {
            app,
            shared: Arc::default(),
            fronts: Threads::default(),
            backs: Threads::default(),
            parallel_from: PARALLEL_FROM,
        }
    }

    /// The same intake, checking CSV uploads beyond `bytes` on two threads (tests compare
    /// both ways).
    #[cfg(test)]
    pub(crate) fn with_parallel_from(mut self, bytes: u64) -> Intake {
        self.parallel_from = bytes;
        self
    }

    /// Stops taking new uploads and waits for those in flight to be filed, at most
    /// `[intake] stop_grace_secs`; how many were still in flight then (they are discarded
    /// when their connections close, leaving nothing partial).
    pub async fn close(&self) -> usize {
        self.shared.close();
        self.shared.drained(self.app.config().intake.stop_grace).await
    }

    /// Cleans up after an interrupted run: call once at daemon start-up, before serving
    /// (never while another process is receiving into the same data directory).
    pub fn recover(&self) -> anyhow::Result<()> {
        super::recover::recover(&self.app)
    }

    /// The services it works with.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// Starts an upload received now. Must be called inside a Tokio runtime. Its transport
    /// (for the metrics) follows from the sender's credential, see [`Protocol`].
    pub fn begin(&self, sender: VerifiedSender, name: UploadName) -> Result<Upload, IntakeError> {
        let now = Timestamp::now();
        let backdate = self.app.config().receive_backdate;
        self.begin_at(sender, name, now.checked_sub(backdate).unwrap_or(now))
    }

    /// Starts an upload received at `received_at` (the operator's backfill). It goes into the
    /// period of that moment, or, when that period's batch has begun (it was closed early),
    /// into the first later period whose batch has not (docs/periods.md).
    pub fn begin_at(
        &self,
        sender: VerifiedSender,
        name: UploadName,
        received_at: Timestamp,
    ) -> Result<Upload, IntakeError> {
        if self.shared.closing() {
            return Err(IntakeError::Stopping);
        }
        let mut inflight = InFlight::start(&self.shared);
        let config = self.app.config().clone();
        if config.creditor(sender.creditor()).is_none() {
            return Err(IntakeError::UnknownCreditor(sender.creditor().to_string()));
        }
        let received_at = received_at.round(jiff::Unit::Millisecond).unwrap_or(received_at);
        let natural = config.cutoff.period_of(received_at);
        let state = |e| IntakeError::Storage(StorageError::State(e));
        let conn = self.app.state().lock();
        let period = crate::state::batches::first_not_begun(&conn, natural).map_err(state)?;
        // Parties' own uploads are limited per period; the operator's (`ingest`, spool) are not.
        if !matches!(sender.credential(), Credential::Operator) {
            let (creditor, limit) = (sender.creditor().as_str(), config.intake.max_files_per_period);
            let filed =
                crate::state::files::count_in_period(&conn, creditor, &period.to_string()).map_err(state)?;
            if !inflight.count_file(creditor, filed, limit) {
                return Err(IntakeError::TooManyFiles { period: period.to_string(), limit });
            }
        }
        drop(conn);
        let file_id = ulid::Ulid::new().to_string();
        let format = Format::from_name(name.effective());
        let job = Job {
            vault: self.app.vault().clone(),
            file_id: file_id.clone(),
            period,
            format,
            config,
            creditor: sender.creditor().clone(),
            received_on: local_date(received_at),
            backs: self.backs.clone(),
            parallel_from: self.parallel_from,
        };
        let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
        let (done_tx, done_rx) = oneshot::channel();
        self.fronts
            .spawn("intake".into(), move || {
                let _ = done_tx.send(worker::run(job, rx));
            })
            .map_err(|e| IntakeError::Unavailable(e.to_string()))?;
        Ok(Upload {
            intake: self.clone(),
            sender,
            name,
            file_id,
            received_at,
            period,
            format,
            tx: Some(tx),
            batch: Vec::new(),
            done: done_rx,
            next: 0,
            pending: BTreeMap::new(),
            pending_bytes: 0,
            oversize: false,
            finished: false,
            inflight: Some(inflight),
        })
    }
}

/// Why a write was refused. The upload cannot continue after an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UploadError {
    /// The file exceeds the size limit.
    #[error("the file is larger than the limit of {limit} bytes; split it into smaller files")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// Writes arrived too far out of order (for this upload, or for all of the party's).
    #[error("writes arrived more than {window} bytes out of order; upload sequentially")]
    OutOfOrder {
        /// The reorder window.
        window: usize,
    },
    /// A write went back over bytes already received.
    #[error("rewriting bytes already received is not supported; upload the file again under a new name")]
    Rewrite,
    /// The worker stopped.
    #[error("intake stopped while receiving; upload the file again")]
    Unavailable,
}

/// A file being received. Dropping it discards everything received.
pub struct Upload {
    intake: Intake,
    sender: VerifiedSender,
    name: UploadName,
    file_id: String,
    received_at: Timestamp,
    period: Period,
    format: Option<Format>,
    tx: Option<mpsc::Sender<Msg>>,
    /// In-order bytes not yet handed to the worker.
    batch: Vec<u8>,
    done: oneshot::Receiver<Result<Worked, WorkerError>>,
    next: u64,
    pending: BTreeMap<u64, Vec<u8>>,
    pending_bytes: usize,
    oversize: bool,
    /// `finish` handed the bytes on; dropping it is not an abort.
    finished: bool,
    /// Counts it in flight until it is filed (handed on to [`Received`]).
    inflight: Option<InFlight>,
}

impl Upload {
    /// The name it is being uploaded under.
    pub fn name(&self) -> &UploadName {
        &self.name
    }

    /// Its file id.
    pub fn file_id(&self) -> &str {
        &self.file_id
    }

    /// The period it belongs to.
    pub fn period(&self) -> Period {
        self.period
    }

    /// Bytes received in order so far.
    pub fn bytes(&self) -> u64 {
        self.next
    }

    /// Takes `data` at `offset`. Offsets may arrive out of order within the reorder window.
    pub async fn write_at(&mut self, offset: u64, data: Vec<u8>) -> Result<(), UploadError> {
        let limits = self.intake.app.config().intake;
        if self.oversize {
            return Err(UploadError::TooLarge { limit: limits.max_file_bytes });
        }
        if data.is_empty() {
            return Ok(());
        }
        let end = offset.saturating_add(data.len() as u64);
        if end > limits.max_file_bytes {
            self.oversize = true;
            self.intake.app.metrics().upload_aborted(Protocol::from(self.sender.credential()));
            self.pending.clear();
            self.intake
                .shared
                .release(self.sender.creditor().as_str(), std::mem::take(&mut self.pending_bytes));
            self.tx = None; // the worker discards what it sealed
            self.batch = Vec::new();
            return Err(UploadError::TooLarge { limit: limits.max_file_bytes });
        }
        if offset < self.next {
            return Err(UploadError::Rewrite);
        }
        if offset > self.next {
            if self.pending.contains_key(&offset) {
                return Err(UploadError::Rewrite);
            }
            if self.pending_bytes + data.len() > limits.reorder_window_bytes {
                return Err(UploadError::OutOfOrder { window: limits.reorder_window_bytes });
            }
            // All of a party's uploads together hold at most its share (many handles on
            // many sessions cannot add up).
            let party = self.sender.creditor().as_str();
            if !self.intake.shared.hold(party, data.len(), limits.reorder_bytes_per_party) {
                return Err(UploadError::OutOfOrder { window: limits.reorder_bytes_per_party });
            }
            self.pending_bytes += data.len();
            self.pending.insert(offset, data);
            return Ok(());
        }
        self.send(data).await?;
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() != self.next {
                if *entry.key() < self.next {
                    return Err(UploadError::Rewrite);
                }
                break;
            }
            let chunk = entry.remove();
            self.pending_bytes -= chunk.len();
            self.intake.shared.release(self.sender.creditor().as_str(), chunk.len());
            self.send(chunk).await?;
        }
        Ok(())
    }

    /// Takes the next in-order chunk; hands the batch to the worker once it is full.
    async fn send(&mut self, chunk: Vec<u8>) -> Result<(), UploadError> {
        self.next += chunk.len() as u64;
        if self.batch.is_empty() && chunk.len() >= BATCH_BYTES {
            // Large enough by itself (an HTTPS piece): handed on without a copy.
            self.batch = chunk;
        } else {
            if self.batch.capacity() == 0 && self.next > BATCH_BYTES as u64 {
                // Past the first batch the upload is large: one allocation per batch.
                self.batch.reserve_exact(BATCH_BYTES + chunk.len());
            }
            self.batch.extend_from_slice(&chunk);
        }
        if self.batch.len() >= BATCH_BYTES { self.hand_on().await } else { Ok(()) }
    }

    /// Hands the gathered bytes to the worker.
    async fn hand_on(&mut self) -> Result<(), UploadError> {
        let tx = self.tx.as_ref().ok_or(UploadError::Unavailable)?;
        if !self.batch.is_empty() {
            let batch = std::mem::take(&mut self.batch);
            tx.send(Msg::Data(batch)).await.map_err(|_| UploadError::Unavailable)?;
        }
        Ok(())
    }

    /// Ends the upload (the write handle was closed) and waits for validation and sealing.
    pub async fn finish(mut self) -> Result<Received, IntakeError> {
        let outcome = if self.oversize {
            Outcome::TooLarge { bytes: self.next }
        } else if !self.pending.is_empty() {
            return Err(IntakeError::Incomplete);
        } else {
            self.hand_on().await.map_err(|_| IntakeError::Unavailable("worker gone".into()))?;
            let tx = self.tx.take().ok_or_else(|| IntakeError::Unavailable("worker gone".into()))?;
            tx.send(Msg::End).await.map_err(|_| IntakeError::Unavailable("worker gone".into()))?;
            drop(tx);
            let done = std::mem::replace(&mut self.done, oneshot::channel().1);
            match done.await {
                Ok(Ok(worked)) => Outcome::Worked(Box::new(worked)),
                Ok(Err(WorkerError::Aborted)) => return Err(IntakeError::Incomplete),
                Ok(Err(WorkerError::Io(e))) => return Err(StorageError::Sealing(e).into()),
                Ok(Err(WorkerError::Vault(e))) => return Err(StorageError::Vault(e).into()),
                Err(_) => return Err(IntakeError::Unavailable("worker panicked".into())),
            }
        };
        self.finished = true;
        Ok(Received {
            intake: self.intake.clone(),
            sender: self.sender.clone(),
            name: self.name.clone(),
            file_id: self.file_id.clone(),
            received_at: self.received_at,
            period: self.period,
            format: self.format,
            outcome: Some(outcome),
            _inflight: self.inflight.take(),
        })
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        // Over the limit was counted when it happened; anything else unfinished is an abort.
        if !self.finished && !self.oversize {
            self.intake.app.metrics().upload_aborted(Protocol::from(self.sender.credential()));
        }
        self.intake.shared.release(self.sender.creditor().as_str(), self.pending_bytes);
    }
}

#[cfg(test)]
mod tests;
