//! Uploads into a creditor's `/inbox`: open → write → close → commit, and renames of
//! unfinished (temp-named) uploads.
//!
//! - open (WRITE|CREATE, TRUNCATE/EXCL allowed; READ or APPEND refused) → [`Intake::begin`];
//!   the name must be an [`UploadName`], its error message goes back to the client.
//! - write → [`Upload::write_at`] (out-of-order offsets within the window; back-pressure by
//!   awaiting). A failed write ends the upload: later writes and the close fail with the
//!   same message. An upload over the size limit is still filed at close (so the creditor
//!   gets a `file_too_large` receipt), but the close reports the failure.
//! - close → [`Upload::finish`]; a temp name (`.part`, `.filepart`, `.tmp`) is kept in the
//!   session until it is renamed, anything else is committed **before** the close is
//!   answered: a client that got OK knows the file is filed.
//! - rename of the session's own unfinished upload → [`Received::rename`] and commit.
//!
//! [`Intake::begin`]: crate::intake::Intake::begin

use std::collections::HashMap;

use russh_sftp::protocol::{FileAttributes, Handle, OpenFlags, Status, StatusCode};
use russh_sftp::server::StatusReply;

use super::attrs;
use super::fs::{Entry, Fs, failure, ok};
use super::session::OpenGuard;
use crate::domain::party::PartyId;
use crate::domain::upload::UploadName;
use crate::intake::{IntakeError, Received, Upload, UploadError};
use crate::transport::folders::paths::{Folder, Target};

/// Permission bits shown for an upload.
const UPLOAD_PERM: u32 = 0o200;

/// The message a client gets for an intake error: storage details (which may name server
/// paths) stay in the log.
fn client_message(e: &IntakeError) -> String {
    match e {
        IntakeError::Incomplete
        | IntakeError::FormatChanged { .. }
        | IntakeError::PeriodClosed(_)
        | IntakeError::Stopping => e.to_string(),
        _ => {
            tracing::error!(error = e as &dyn std::error::Error, "intake failed");
            "the server could not store the upload; upload the file again later".to_owned()
        }
    }
}

/// An upload handle.
pub(super) struct Open {
    name: UploadName,
    upload: Option<Upload>,
    /// The first write error; the upload cannot continue.
    error: Option<String>,
    _guard: OpenGuard,
}

impl Open {
    /// Bytes received in order so far.
    pub fn bytes(&self) -> u64 {
        self.upload.as_ref().map_or(0, Upload::bytes)
    }

    /// Takes one SFTP write.
    pub async fn write(&mut self, offset: u64, data: Vec<u8>) -> Result<(), StatusReply> {
        if let Some(msg) = &self.error {
            return Err(failure(msg.clone()));
        }
        let Some(upload) = self.upload.as_mut() else {
            return Err(failure("the upload failed; upload the file again"));
        };
        match upload.write_at(offset, data).await {
            Ok(()) => Ok(()),
            Err(e) => {
                let msg = e.to_string();
                tracing::info!(file_id = upload.file_id(), error = %msg, "upload write refused");
                if !matches!(e, UploadError::TooLarge { .. }) {
                    self.upload = None; // discarded: nothing is processed
                }
                self.error = Some(msg.clone());
                Err(failure(msg))
            }
        }
    }
}

/// A closed upload with a temp name, waiting for its rename.
pub(super) struct Pending {
    received: Received,
    guard: OpenGuard,
}

/// The session's uploads that outlive their handle.
#[derive(Default)]
pub(super) struct Uploads {
    pending: HashMap<String, Pending>,
    /// Unfinished (temp-named) feedback uploads of a municipality.
    pub feedback: HashMap<String, super::feedback_upload::FeedbackOpen>,
}

impl Uploads {
    /// Name and bytes so far of every upload of this session still in progress: open, or
    /// closed under a temporary name and waiting for its rename.
    pub fn in_progress<'a>(
        &'a self,
        handles: &'a HashMap<String, Entry>,
    ) -> impl Iterator<Item = (&'a str, u64)> + 'a {
        let open = handles.values().filter_map(|e| match e {
            Entry::Upload(o) => Some((o.name.as_str(), o.bytes())),
            Entry::Feedback(o) => Some((o.name().as_str(), o.bytes())),
            _ => None,
        });
        let pending = self.pending.iter().map(|(n, p)| (n.as_str(), p.received.bytes()));
        let feedback = self.feedback.iter().map(|(n, o)| (n.as_str(), o.bytes()));
        pending.chain(feedback).chain(open)
    }
}

impl Fs {
    /// Attributes of an upload of this party by name: in progress in this session, or filed
    /// lately by any of its sessions ([`super::recent`]).
    pub(super) fn upload_attrs(&self, name: &str) -> Option<FileAttributes> {
        let now = u32::try_from(jiff::Timestamp::now().as_second()).unwrap_or(0);
        let in_session = self.uploads.in_progress(&self.handles).find(|(n, _)| *n == name);
        let (bytes, time) = match in_session {
            Some((_, bytes)) => (bytes, now),
            None => self.ctx.recent.find(&self.ctx.party, name)?,
        };
        Some(attrs::file(bytes, time, UPLOAD_PERM))
    }

    /// The uploads in progress of this session, as a listing of its write-only folder.
    pub(super) fn upload_listing(&self) -> Vec<russh_sftp::protocol::File> {
        let now = u32::try_from(jiff::Timestamp::now().as_second()).unwrap_or(0);
        let list = self.uploads.in_progress(&self.handles);
        list.map(|(n, b)| russh_sftp::protocol::File::new(n, attrs::file(b, now, UPLOAD_PERM))).collect()
    }

    /// Remembers a filed upload for the party's sessions.
    pub(super) fn remember(&self, name: &str, bytes: u64) {
        self.ctx.recent.remember(&self.ctx.party, name, bytes);
    }

    /// Opens a file for writing.
    pub(super) async fn open_upload(
        &mut self,
        id: u32,
        folder: Folder,
        name: String,
        pflags: OpenFlags,
    ) -> Result<Handle, StatusReply> {
        match (&self.ctx.party, folder) {
            (PartyId::Creditor(_), Folder::Inbox) => {}
            (PartyId::Municipality(_) | PartyId::Executor(_), Folder::Feedback | Folder::Clients) => {
                return self.open_feedback(id, folder, name, pflags).await;
            }
            _ => {
                let msg = format!("/{} is read-only", folder.name());
                return Err(self.refuse("open_write", Some(folder), "read_only_folder", &msg).await);
            }
        }
        if pflags.contains(OpenFlags::READ) {
            let msg = "the inbox is write-only; open new files for writing only";
            return Err(self.refuse("open_write", Some(folder), "read_write_open", msg).await);
        }
        if pflags.contains(OpenFlags::APPEND) {
            return Err(StatusCode::OpUnsupported
                .with_message("appending or resuming is not supported; upload the whole file again"));
        }
        if !pflags.contains(OpenFlags::WRITE | OpenFlags::CREATE) {
            let msg = "only new files can be written to /inbox (open with write and create)";
            return Err(self.refuse("open_write", Some(folder), "not_create", msg).await);
        }
        let upload_name = match UploadName::parse(&name) {
            Ok(n) => n,
            Err(e) => return Err(self.refuse("open_write", Some(folder), "bad_name", &e.to_string()).await),
        };
        let guard = self.open_guard()?;
        let sender = self.ctx.sender().ok_or_else(|| failure("only creditors upload here"))?;
        // A new upload under the name of an unfinished one replaces (discards) it.
        self.uploads.pending.remove(upload_name.as_str());
        let upload = match self.ctx.intake.begin(sender, upload_name.clone()) {
            Ok(u) => u,
            Err(e @ IntakeError::TooManyFiles { .. }) => {
                return Err(self
                    .refuse("open_write", Some(folder), "files_per_period", &e.to_string())
                    .await);
            }
            Err(e) => return Err(failure(client_message(&e))),
        };
        tracing::info!(party = %self.ctx.party, file_id = upload.file_id(), "upload started");
        let open = Open { name: upload_name, upload: Some(upload), error: None, _guard: guard };
        Ok(Handle { id, handle: self.insert(Entry::Upload(open)) })
    }

    /// Closes an upload handle: finish, then keep (temp name) or commit.
    pub(super) async fn close_upload(&mut self, id: u32, open: Open) -> Result<Status, StatusReply> {
        let Open { name, upload, error, _guard: guard } = open;
        let Some(upload) = upload else {
            return Err(failure(error.unwrap_or_else(|| "the upload failed; upload the file again".into())));
        };
        let received = upload.finish().await.map_err(|e| failure(client_message(&e)))?;
        if let Some(msg) = error {
            // Over the size limit: file the rejection so a receipt explains it.
            let _ = self.commit(id, received).await;
            return Err(failure(msg));
        }
        if name.is_temp() {
            self.uploads.pending.insert(name.as_str().to_owned(), Pending { received, guard });
            return Ok(ok(id, "unfinished upload kept for this session; rename it to its final name"));
        }
        let status = self.commit(id, received).await;
        drop(guard);
        status
    }

    async fn commit(&mut self, id: u32, received: Received) -> Result<Status, StatusReply> {
        let name = received.name().as_str().to_owned();
        match received.commit().await {
            Ok(receipt) => {
                self.remember(&name, receipt.bytes);
                Ok(ok(id, format!("received as {} ({})", receipt.file_id, receipt.status)))
            }
            Err(e) => Err(failure(client_message(&e))),
        }
    }

    /// Renames an unfinished upload of this session; the only rename there is.
    pub(super) async fn rename_upload(
        &mut self,
        id: u32,
        old: &str,
        new: &str,
    ) -> Result<Status, StatusReply> {
        let from = self.resolve("rename", old).await?;
        let to = self.resolve("rename", new).await?;
        if let (Target::File(f @ (Folder::Feedback | Folder::Clients), from), Target::File(t, to)) =
            (&from, &to)
            && f == t
            && self.uploads.feedback.get(from).is_none_or(|o| o.folder() == *f)
            && self.ctx.party.receiver().is_some()
        {
            return self.rename_feedback(id, from, to).await;
        }
        let (Target::File(Folder::Inbox, from), Target::File(Folder::Inbox, to)) = (&from, &to) else {
            let msg = "renaming is only allowed for your own unfinished uploads in /inbox";
            return Err(self.refuse("rename", from.folder(), "rename_not_allowed", msg).await);
        };
        let Some(Pending { mut received, guard }) = self.uploads.pending.remove(from) else {
            let msg = "only unfinished uploads (.part, .filepart, .tmp) of this session can be renamed";
            return Err(self.refuse("rename", Some(Folder::Inbox), "not_own_unfinished_upload", msg).await);
        };
        let renamed = UploadName::parse(to)
            .map_err(|e| e.to_string())
            .and_then(|n| received.rename(n.clone()).map(|()| n).map_err(|e| client_message(&e)));
        let to_name = match renamed {
            Ok(n) => n,
            Err(msg) => {
                self.uploads.pending.insert(from.clone(), Pending { received, guard });
                return Err(self.refuse("rename", Some(Folder::Inbox), "bad_name", &msg).await);
            }
        };
        if to_name.is_temp() {
            self.uploads.pending.insert(to.clone(), Pending { received, guard });
            return Ok(ok(id, "renamed; still unfinished"));
        }
        let status = self.commit(id, received).await;
        drop(guard);
        status
    }
}
