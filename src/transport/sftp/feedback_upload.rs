//! Terugmelding uploads into a municipality's `/feedback` (docs/feedback.md, §8), and
//! known-client lists into its `/clients` (docs/known-clients.md), which are gathered the same
//! way and handed to [`crate::clients::receive`] (limit [`crate::clients::MAX_LIST_BYTES`], any
//! final name).
//!
//! Feedback files are small, so they are gathered in memory (up to `[feedback]
//! max_file_bytes`; a write past it fails and nothing is kept), in any write order; the close
//! of the handle hands the whole file to [`crate::feedback::receive`] and is answered after
//! the receipt is written. As in `/inbox`, a temp name (`.part`, `.filepart`, `.tmp`) waits
//! in the session for its rename, and a dropped connection leaves nothing processed. A final
//! name must end in `.csv` or `.jsonl` ([`crate::feedback::parse::name_refusal`]): opening or renaming
//! to another name is refused, so nothing is processed under it.

use russh_sftp::protocol::{Handle, OpenFlags, Status, StatusCode};
use russh_sftp::server::StatusReply;

use super::fs::{Entry, Fs, failure, ok};
use super::session::OpenGuard;
use crate::domain::upload::UploadName;
use crate::feedback::{self, Incoming};
use crate::transport::folders::coverage::Coverage;
use crate::transport::folders::paths::Folder;

/// An open feedback (or known-client list) upload.
pub(super) struct FeedbackOpen {
    /// `/feedback` or `/clients`.
    folder: Folder,
    name: UploadName,
    buf: Vec<u8>,
    written: Coverage,
    error: Option<String>,
    guard: OpenGuard,
}

impl FeedbackOpen {
    /// Bytes received so far (the end of the furthest write).
    pub fn bytes(&self) -> u64 {
        self.buf.len() as u64
    }

    /// The name it was opened under.
    pub fn name(&self) -> &UploadName {
        &self.name
    }

    /// The folder it is uploaded into.
    pub fn folder(&self) -> Folder {
        self.folder
    }

    /// The most this upload may hold (`[feedback] max_file_bytes`, or the list limit).
    pub fn limit(&self, feedback_max_bytes: u64) -> u64 {
        if self.folder == Folder::Clients { crate::clients::MAX_LIST_BYTES } else { feedback_max_bytes }
    }

    /// Takes one write at `offset`. `limit` is `[feedback] max_file_bytes`; `others` are the
    /// bytes the session's other feedback uploads hold, which count against the same limit
    /// (so a session cannot hold more than one file's worth in memory).
    pub fn write(&mut self, offset: u64, data: &[u8], limit: u64, others: u64) -> Result<(), StatusReply> {
        if let Some(msg) = &self.error {
            return Err(failure(msg.clone()));
        }
        let end = offset.saturating_add(data.len() as u64);
        if end.saturating_add(others) > limit {
            let msg = if self.folder == Folder::Clients {
                format!("a known-client list may be at most {limit} bytes; nothing of this file is kept")
            } else if others == 0 {
                format!(
                    "a terugmelding may be at most {limit} bytes; nothing of this file is kept; split it into smaller files"
                )
            } else {
                format!(
                    "the terugmeldingen this session is uploading may hold at most {limit} bytes together; \
                     nothing of this file is kept; upload one file at a time"
                )
            };
            self.error = Some(msg.clone());
            self.buf = Vec::new();
            return Err(failure(msg));
        }
        let (start, end) = (offset as usize, end as usize);
        if self.buf.len() < end {
            self.buf.resize(end, 0);
        }
        self.buf[start..end].copy_from_slice(data);
        self.written.add(offset, data.len() as u64);
        Ok(())
    }
}

impl Fs {
    /// Opens a new feedback file (or known-client list, `into` = `/clients`) for writing
    /// (municipalities only).
    pub(super) async fn open_feedback(
        &mut self,
        id: u32,
        into: Folder,
        name: String,
        pflags: OpenFlags,
    ) -> Result<Handle, StatusReply> {
        let folder = Some(into);
        if pflags.contains(OpenFlags::READ) {
            let msg = if into == Folder::Clients {
                "/clients is write-only; the result is the answer to closing the file"
            } else {
                "/feedback is write-only; results appear in /receipts"
            };
            return Err(self.refuse("open_write", folder, "read_write_open", msg).await);
        }
        if pflags.contains(OpenFlags::APPEND) {
            return Err(StatusCode::OpUnsupported
                .with_message("appending or resuming is not supported; upload the whole file again"));
        }
        if !pflags.contains(OpenFlags::WRITE | OpenFlags::CREATE) {
            let msg =
                format!("only new files can be written to /{} (open with write and create)", into.name());
            let msg = msg.as_str();
            return Err(self.refuse("open_write", folder, "not_create", msg).await);
        }
        let name = match UploadName::parse(&name) {
            Ok(n) => n,
            Err(e) => return Err(self.refuse("open_write", folder, "bad_name", &e.to_string()).await),
        };
        if let Some(msg) = refusal(into, &name) {
            return Err(self.refuse("open_write", folder, "bad_name", msg).await);
        }
        let guard = self.open_guard()?;
        self.uploads.feedback.remove(name.as_str());
        let open = FeedbackOpen {
            folder: into,
            name,
            buf: Vec::new(),
            written: Coverage::default(),
            error: None,
            guard,
        };
        Ok(Handle { id, handle: self.insert(Entry::Feedback(open)) })
    }

    /// Closes a feedback handle: keep it for a rename (temp name) or process it now.
    pub(super) async fn close_feedback(
        &mut self,
        id: u32,
        open: FeedbackOpen,
    ) -> Result<Status, StatusReply> {
        if let Some(msg) = open.error {
            return Err(failure(msg));
        }
        if !open.written.covers(open.buf.len() as u64) {
            return Err(failure(
                "the upload has gaps (bytes never written); nothing is kept; upload the file again",
            ));
        }
        if open.name.is_temp() {
            self.uploads.feedback.insert(open.name.as_str().to_owned(), open);
            return Ok(ok(id, "unfinished upload kept for this session; rename it to its final name"));
        }
        let guard = open.guard;
        let status = self.process(id, open.folder, open.name.as_str().to_owned(), open.buf).await;
        drop(guard);
        status
    }

    /// Renames an unfinished feedback upload of this session (and processes it at its final name).
    pub(super) async fn rename_feedback(
        &mut self,
        id: u32,
        from: &str,
        to: &str,
    ) -> Result<Status, StatusReply> {
        let into = self.uploads.feedback.get(from).map_or(Folder::Feedback, FeedbackOpen::folder);
        let folder = Some(into);
        let Some(mut open) = self.uploads.feedback.remove(from) else {
            let msg = "only unfinished uploads (.part, .filepart, .tmp) of this session can be renamed";
            return Err(self.refuse("rename", folder, "not_own_unfinished_upload", msg).await);
        };
        let renamed = UploadName::parse(to)
            .map_err(|e| e.to_string())
            .and_then(|n| refusal(into, &n).map_or(Ok(n), |msg| Err(msg.to_owned())));
        match renamed {
            Ok(n) => open.name = n,
            Err(msg) => {
                // Refused: the upload keeps waiting under its temporary name, unprocessed.
                self.uploads.feedback.insert(from.to_owned(), open);
                return Err(self.refuse("rename", folder, "bad_name", &msg).await);
            }
        }
        if open.name.is_temp() {
            self.uploads.feedback.insert(to.to_owned(), open);
            return Ok(ok(id, "renamed; still unfinished"));
        }
        let guard = open.guard;
        let status = self.process(id, open.folder, to.to_owned(), open.buf).await;
        drop(guard);
        status
    }

    /// Processes a finished upload into `folder`.
    async fn process(
        &mut self,
        id: u32,
        folder: Folder,
        name: String,
        bytes: Vec<u8>,
    ) -> Result<Status, StatusReply> {
        if folder == Folder::Clients {
            self.process_clients(id, bytes).await
        } else {
            self.process_feedback(id, name, bytes).await
        }
    }

    /// Takes a known-client list: the close is answered with the result (a rejection fails it).
    async fn process_clients(&mut self, id: u32, bytes: Vec<u8>) -> Result<Status, StatusReply> {
        let incoming = crate::clients::Incoming {
            party: self.ctx.party.clone(),
            bytes,
            auth: self.ctx.fingerprint.clone(),
            origin: self.ctx.origin.clone(),
            protocol: "sftp",
        };
        match crate::clients::receive(self.ctx.intake.app(), incoming).await {
            Ok(answer) if answer.status == crate::clients::Status::Accepted => Ok(ok(id, answer.summary())),
            Ok(answer) => Err(failure(answer.summary())),
            Err(e) => {
                tracing::error!(error = %e, "known-client list failed");
                Err(failure("the server could not store the list; upload it again later"))
            }
        }
    }

    async fn process_feedback(
        &mut self,
        id: u32,
        name: String,
        bytes: Vec<u8>,
    ) -> Result<Status, StatusReply> {
        let Some(sender) = self.ctx.party.receiver() else {
            return Err(failure("only municipalities and executors send feedback"));
        };
        let incoming = Incoming {
            sender,
            name,
            bytes,
            auth: self.ctx.fingerprint.clone(),
            origin: self.ctx.origin.clone(),
            protocol: "sftp",
        };
        let bytes = incoming.bytes.len() as u64;
        let remembered = incoming.name.clone();
        match feedback::receive(self.ctx.intake.app(), incoming).await {
            Ok(r) => {
                self.remember(&remembered, bytes);
                Ok(ok(id, format!("received as {} ({}); the receipt is in /receipts", r.file_id, r.status)))
            }
            Err(e) => {
                tracing::error!(error = %e, "feedback failed");
                Err(failure("the server could not store the feedback; upload the file again later"))
            }
        }
    }
}

/// Why an upload may not be taken under `name` in `folder` (feedback must be `.csv` or
/// `.jsonl`; a known-client list may have any name).
fn refusal(folder: Folder, name: &UploadName) -> Option<&'static str> {
    if folder == Folder::Clients { None } else { feedback::parse::name_refusal(name) }
}
