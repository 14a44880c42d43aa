//! The SFTP file system of one channel: a party's virtual tree (see [`paths`](crate::transport::folders::paths)).
//!
//! | party | folder | may |
//! |---|---|---|
//! | creditor | `/inbox` | open new files for writing (→ intake), rename own unfinished uploads |
//! | creditor | `/receipts`, `/feedback` | list, stat, read |
//! | municipality | `/pickup` | list, stat, read, remove (= acknowledge pickup) |
//! | municipality | `/feedback` | open new files for writing (→ feedback), rename own unfinished uploads |
//! | municipality | `/clients` | open new files for writing (→ known-client list), rename own unfinished uploads |
//! | municipality | `/receipts` | list, stat, read |
//!
//! Everything else is refused with `PERMISSION_DENIED` and a message, and audited as
//! `denied_path` (op, folder, reason — never a file name). Handles are opaque counters.
//! A write-only folder lists as the session's own uploads still in progress (usually none).
//! `setstat`/`fsetstat` are accepted and ignored for the party's own uploads (open, waiting
//! for their rename, or filed lately by any of its sessions, see [`super::recent`]) and its
//! write-only folder (OpenSSH `put -p`, rclone, lftp, WinSCP and others set times after
//! writing); elsewhere they are refused. `mkdir` of a folder that exists fails with
//! `FAILURE` (as OpenSSH's server answers `EEXIST`), not audited.
//!
//! A file of `/pickup` read completely (every byte, in any order) before its handle is
//! closed counts as picked up, as does its removal: both are recorded by
//! [`crate::pickup::record`].
//!
//! The upload flow (open → write → close → commit) lives in [`super::upload`]. The handler is
//! dropped when the channel ends; open uploads and unfinished (temp-named) uploads are
//! dropped with it, which discards them: nothing is processed.
//!
//! This file holds the handler's state and the checks it shares; `handler` answers the SFTP
//! requests.

use std::collections::HashMap;

use russh_sftp::protocol::{FileAttributes, Handle, Status, StatusCode};
use russh_sftp::server::StatusReply;

use super::attrs;
use super::session::{ListingGuard, OpenGuard};
use super::upload::Uploads;
use crate::domain::party::PartyId;
use crate::pickup::record::{How, Pickup};
use crate::transport::folders::coverage::Coverage;
use crate::transport::folders::files::{self, ReadFile};
use crate::transport::folders::paths::{self, Folder, Target};

/// What a handle refers to.
pub(super) enum Entry {
    /// An upload (see [`super::upload`]).
    Upload(super::upload::Open),
    /// A terugmelding upload (see [`super::feedback_upload`]).
    Feedback(super::feedback_upload::FeedbackOpen),
    /// A file opened for reading; for `/pickup`, what of it was read.
    Read { file: ReadFile, attrs: FileAttributes, pickup: Option<(String, Coverage)>, _guard: OpenGuard },
    /// A folder listing, sent in batches.
    Dir {
        folder: Option<Folder>,
        entries: Vec<russh_sftp::protocol::File>,
        _guard: OpenGuard,
        _listing: ListingGuard,
    },
}

/// The SFTP handler of one channel.
pub(super) struct Fs {
    pub ctx: std::sync::Arc<super::session::SessionCtx>,
    pub handles: HashMap<String, Entry>,
    next_handle: u64,
    pub uploads: Uploads,
    initialized: bool,
    /// The channel's place among the connection's channels, given back when this is dropped.
    slot: Option<super::channel_slot::ChannelSlot>,
}

pub(super) fn denied(msg: impl Into<String>) -> StatusReply {
    StatusCode::PermissionDenied.with_message(msg)
}

pub(super) fn failure(msg: impl Into<String>) -> StatusReply {
    StatusCode::Failure.with_message(msg)
}

fn no_such_file() -> StatusReply {
    StatusCode::NoSuchFile.with_message("no such file")
}

pub(super) fn ok(id: u32, msg: impl Into<String>) -> Status {
    Status { id, status_code: StatusCode::Ok, error_message: msg.into(), language_tag: "en-US".into() }
}

/// Permission bits shown for a folder of this party: the folders it writes into or removes
/// from are `rwx` (a write-only folder lists only the session's uploads in progress).
fn folder_perm(party: &PartyId, f: Folder) -> u32 {
    if writable(party, f)
        || matches!((party, f), (PartyId::Municipality(_) | PartyId::Executor(_), Folder::Pickup))
    {
        0o700
    } else {
        0o500
    }
}

/// Permission bits shown for files in a folder.
fn file_perm(f: Folder) -> u32 {
    if f == Folder::Pickup { 0o640 } else { 0o440 }
}

/// Whether the folder takes the party's uploads (write-only: `/inbox` of a creditor,
/// `/feedback` and `/clients` of a municipality).
fn writable(party: &PartyId, f: Folder) -> bool {
    matches!(
        (party, f),
        (PartyId::Creditor(_), Folder::Inbox)
            | (PartyId::Municipality(_) | PartyId::Executor(_), Folder::Feedback | Folder::Clients)
    )
}

/// Whether the party may list and read the folder.
fn readable(party: &PartyId, f: Folder) -> bool {
    matches!(
        (party, f),
        (PartyId::Creditor(_), Folder::Receipts | Folder::Feedback)
            | (PartyId::Municipality(_) | PartyId::Executor(_), Folder::Pickup | Folder::Receipts)
    )
}

impl Fs {
    pub fn new(ctx: std::sync::Arc<super::session::SessionCtx>) -> Fs {
        Fs {
            ctx,
            handles: HashMap::new(),
            next_handle: 0,
            uploads: Uploads::default(),
            initialized: false,
            slot: None,
        }
    }

    /// The same, holding its channel's place among the connection's channels until dropped
    /// (when the channel's stream ends).
    pub(super) fn holding(mut self, slot: super::channel_slot::ChannelSlot) -> Fs {
        self.slot = Some(slot);
        self
    }

    /// Stores an entry under a fresh opaque handle.
    pub fn insert(&mut self, entry: Entry) -> String {
        self.next_handle += 1;
        let h = self.next_handle.to_string();
        self.handles.insert(h.clone(), entry);
        h
    }

    /// Resolves a path; refusals are audited for `op`.
    pub async fn resolve(&self, op: &'static str, path: &str) -> Result<Target, StatusReply> {
        match paths::resolve(&self.ctx.party, path) {
            Ok(t) => Ok(t),
            Err(e) => {
                self.ctx.denied(op, None, e.reason()).await;
                Err(denied(e.to_string()))
            }
        }
    }

    /// Refuses `op` on `target` with `msg`, audited with `reason`.
    pub async fn refuse(
        &self,
        op: &'static str,
        folder: Option<Folder>,
        reason: &str,
        msg: &str,
    ) -> StatusReply {
        self.ctx.denied(op, folder, reason).await;
        denied(msg)
    }

    pub fn open_guard(&self) -> Result<OpenGuard, StatusReply> {
        self.ctx
            .try_open()
            .ok_or_else(|| failure(format!("too many open files (limit {})", self.ctx.max_open_files)))
    }

    fn real_dir(&self, f: Folder) -> Option<std::path::PathBuf> {
        files::real_dir(self.ctx.intake.app().layout(), &self.ctx.party, f)
    }

    async fn attrs_of(&self, op: &'static str, path: &str) -> Result<FileAttributes, StatusReply> {
        match self.resolve(op, path).await? {
            Target::Root => Ok(attrs::folder(0o500)),
            Target::Folder(f) => Ok(attrs::folder(folder_perm(&self.ctx.party, f))),
            Target::File(f, name) if writable(&self.ctx.party, f) => {
                self.upload_attrs(&name).ok_or_else(no_such_file)
            }
            Target::File(f, name) if readable(&self.ctx.party, f) => {
                let dir = self.real_dir(f).ok_or_else(no_such_file)?;
                files::stat(dir, name).await.map(|i| attrs::of(&i, file_perm(f))).map_err(|_| no_such_file())
            }
            Target::File(f, _) => {
                Err(self.refuse(op, Some(f), "write_only_folder", "this folder is write-only").await)
            }
        }
    }

    /// Records a pickup by this session.
    async fn picked_up(&self, name: String, bytes: u64, how: How) {
        // Only a municipality or an executor can read its pickup folder.
        let Some(party) = self.ctx.party.receiver() else { return };
        let pickup = Pickup {
            party,
            name,
            bytes,
            how,
            protocol: "sftp",
            auth: self.ctx.fingerprint.clone(),
            origin: self.ctx.origin.clone(),
            from: None,
        };
        crate::pickup::record::pickup(self.ctx.intake.app(), pickup).await;
    }

    async fn open_read(&mut self, id: u32, folder: Folder, name: String) -> Result<Handle, StatusReply> {
        if !readable(&self.ctx.party, folder) {
            let msg = format!("/{} is write-only; results appear in /receipts", folder.name());
            return Err(self.refuse("open_read", Some(folder), "write_only_folder", &msg).await);
        }
        let guard = self.open_guard()?;
        let dir = self.real_dir(folder).ok_or_else(no_such_file)?;
        let file = files::open(dir, name.clone()).await.map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                no_such_file()
            } else {
                failure("the file cannot be read now; try again later")
            }
        })?;
        let pickup = (folder == Folder::Pickup).then(|| (name, Coverage::default()));
        let attrs = attrs::of(&file.info, file_perm(folder));
        Ok(Handle { id, handle: self.insert(Entry::Read { file, attrs, pickup, _guard: guard }) })
    }
}

mod extensions;
mod handler;
