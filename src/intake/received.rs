//! A completely received upload, not yet filed: renamed while it waits (a temp name), then
//! committed (vault, state, receipt, audit) or dropped (discarded).

use jiff::Timestamp;

use super::IntakeError;
use super::inflight::InFlight;
use super::pipeline::Intake;
use super::receipt::Receipt;
use super::validate::Format;
use super::worker::Worked;
use crate::domain::party::VerifiedSender;
use crate::domain::period::Period;
use crate::domain::upload::UploadName;
use crate::metrics::Protocol;

/// How a completed upload turned out before filing.
pub(super) enum Outcome {
    /// Read, validated, sealed (or structurally rejected).
    Worked(Box<Worked>),
    /// Over the size limit; nothing kept.
    TooLarge {
        /// Bytes received before the limit.
        bytes: u64,
    },
}

/// A completely received file, not yet filed. Dropping it discards it.
pub struct Received {
    pub(super) intake: Intake,
    pub(super) sender: VerifiedSender,
    pub(super) name: UploadName,
    pub(super) file_id: String,
    pub(super) received_at: Timestamp,
    pub(super) period: Period,
    pub(super) format: Option<Format>,
    pub(super) outcome: Option<Outcome>,
    /// Counts it in flight until it is filed or dropped.
    pub(super) _inflight: Option<InFlight>,
}

impl Received {
    /// The current name.
    pub fn name(&self) -> &UploadName {
        &self.name
    }

    /// Its file id.
    pub fn file_id(&self) -> &str {
        &self.file_id
    }

    /// Bytes received.
    pub fn bytes(&self) -> u64 {
        match &self.outcome {
            Some(Outcome::Worked(w)) => w.bytes,
            Some(Outcome::TooLarge { bytes }) => *bytes,
            None => 0,
        }
    }

    /// Renames an unfinished upload (`a.csv.part` → `a.csv`); the format must stay the same.
    pub fn rename(&mut self, to: UploadName) -> Result<(), IntakeError> {
        if Format::from_name(to.effective()) != self.format {
            return Err(IntakeError::FormatChanged { from: self.name.to_string(), to: to.to_string() });
        }
        self.name = to;
        Ok(())
    }

    /// Files it: vault, state, receipt, audit. Returns the receipt.
    pub async fn commit(mut self) -> Result<Receipt, IntakeError> {
        let outcome = self.outcome.take().expect("outcome is taken only here");
        let over_limit = matches!(outcome, Outcome::TooLarge { .. });
        let intake = self.intake.clone();
        let sender = self.sender.clone();
        let (name, file_id) = (self.name.to_string(), self.file_id.clone());
        let (received_at, period) = (self.received_at, self.period);
        let filed = tokio::task::spawn_blocking(move || {
            super::commit::commit(intake.app(), &sender, &name, &file_id, received_at, period, outcome)
        })
        .await
        .map_err(|e| IntakeError::Unavailable(e.to_string()))
        .and_then(|r| r);
        if filed.is_err() && !over_limit {
            // No receipt: for the client (and the counters) the upload was lost.
            self.intake.app().metrics().upload_aborted(Protocol::from(self.sender.credential()));
        }
        filed
    }
}

impl Drop for Received {
    fn drop(&mut self) {
        // The outcome's sealed file, if any, discards itself when dropped with it.
        if let Some(outcome) = &self.outcome {
            // Never filed (a temp name not renamed before the connection ended); an upload
            // over the limit was counted when it went over.
            if matches!(outcome, Outcome::Worked(_)) {
                self.intake.app().metrics().upload_aborted(Protocol::from(self.sender.credential()));
            }
        }
    }
}
