//! The SFTP file system of one channel: a party's virtual tree (see [`super::paths`]).
//!
//! | party | folder | may |
//! |---|---|---|
//! | creditor | `/inbox` | open new files for writing (→ intake), rename own unfinished uploads |
//! | creditor | `/receipts`, `/feedback` | list, stat, read |
//! | municipality | `/pickup` | list, stat, read, remove (= acknowledge pickup) |
//! | municipality | `/feedback` | open new files for writing (→ feedback), rename own unfinished uploads |
//! | municipality | `/receipts` | list, stat, read |
//!
//! Everything else is refused with `PERMISSION_DENIED` and a message, and audited as
//! `denied_path` (op, folder, reason — never a file name). Handles are opaque counters.
//! `setstat`/`fsetstat` are accepted as no-ops for the session's own uploads only (OpenSSH
//! `put -p`, WinSCP and others set times after writing); elsewhere they are refused.
//!
//! A file of `/pickup` read completely (every byte, in any order) before its handle is
//! closed counts as picked up, as does its removal: both are recorded by
//! [`crate::deliver::pickup`].
//!
//! The upload flow (open → write → close → commit) lives in [`super::upload`]. The handler is
//! dropped when the channel ends; open uploads and unfinished (temp-named) uploads are
//! dropped with it, which discards them: nothing is processed.

use std::collections::HashMap;

use russh_sftp::protocol::{
    Attrs, Data, ExtendedReply, FileAttributes, Handle, Name, OpenFlags, Packet, Status, StatusCode, Version,
};
use russh_sftp::server::StatusReply;

use super::coverage::Coverage;
use super::files::{self, ReadFile};
use super::paths::{self, Folder, Target};
use super::session::OpenGuard;
use super::upload::Uploads;
use crate::deliver::pickup::{How, Pickup};
use crate::domain::party::PartyId;

/// Largest number of directory entries sent in one `readdir` answer.
const READDIR_BATCH: usize = 128;

/// What a handle refers to.
pub(super) enum Entry {
    /// An upload (see [`super::upload`]).
    Upload(super::upload::Open),
    /// A terugmelding upload (see [`super::feedback_upload`]).
    Feedback(super::feedback_upload::FeedbackOpen),
    /// A file opened for reading; for `/pickup`, what of it was read.
    Read { file: ReadFile, pickup: Option<(String, Coverage)>, _guard: OpenGuard },
    /// A folder listing, sent in batches.
    Dir { folder: Option<Folder>, entries: Vec<russh_sftp::protocol::File>, _guard: OpenGuard },
}

/// The SFTP handler of one channel.
pub(super) struct Fs {
    pub ctx: std::sync::Arc<super::session::SessionCtx>,
    pub handles: HashMap<String, Entry>,
    next_handle: u64,
    pub uploads: Uploads,
    initialized: bool,
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

/// Permission bits shown for a folder of this party.
fn folder_perm(party: &PartyId, f: Folder) -> u32 {
    match (party, f) {
        (PartyId::Creditor(_), Folder::Inbox) => 0o300,
        (PartyId::Municipality(_), Folder::Pickup) => 0o700,
        (PartyId::Municipality(_), Folder::Feedback) => 0o300,
        _ => 0o500,
    }
}

/// Permission bits shown for files in a folder.
fn file_perm(f: Folder) -> u32 {
    if f == Folder::Pickup { 0o640 } else { 0o440 }
}

/// Whether the party may list and read the folder.
fn readable(party: &PartyId, f: Folder) -> bool {
    matches!(
        (party, f),
        (PartyId::Creditor(_), Folder::Receipts | Folder::Feedback)
            | (PartyId::Municipality(_), Folder::Pickup | Folder::Receipts)
    )
}

impl Fs {
    pub fn new(ctx: std::sync::Arc<super::session::SessionCtx>) -> Fs {
        Fs { ctx, handles: HashMap::new(), next_handle: 0, uploads: Uploads::default(), initialized: false }
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
        files::real_dir(self.ctx.intake.layout(), &self.ctx.party, f)
    }

    async fn attrs_of(&self, op: &'static str, path: &str) -> Result<FileAttributes, StatusReply> {
        match self.resolve(op, path).await? {
            Target::Root => Ok(files::dir_attrs(0o500)),
            Target::Folder(f) => Ok(files::dir_attrs(folder_perm(&self.ctx.party, f))),
            Target::File(Folder::Inbox, name) => {
                self.uploads.attrs(&self.handles, &name).ok_or_else(no_such_file)
            }
            Target::File(Folder::Feedback, name) if matches!(self.ctx.party, PartyId::Municipality(_)) => {
                self.uploads.attrs(&self.handles, &name).ok_or_else(no_such_file)
            }
            Target::File(f, name) if readable(&self.ctx.party, f) => {
                let dir = self.real_dir(f).ok_or_else(no_such_file)?;
                files::stat(dir, name, file_perm(f)).await.map_err(|_| no_such_file())
            }
            Target::File(f, _) => {
                Err(self.refuse(op, Some(f), "write_only_folder", "this folder is write-only").await)
            }
        }
    }

    /// Records a pickup by this session.
    async fn picked_up(&self, name: String, bytes: u64, how: How) {
        let pickup = Pickup {
            gemeente: self.ctx.party.as_str().to_owned(),
            name,
            bytes,
            how,
            protocol: "sftp",
            auth: self.ctx.fingerprint.clone(),
            origin: self.ctx.origin.clone(),
            from: None,
        };
        crate::deliver::pickup::record(&self.ctx.intake, pickup).await;
    }

    async fn open_read(&mut self, id: u32, folder: Folder, name: String) -> Result<Handle, StatusReply> {
        if !readable(&self.ctx.party, folder) {
            let msg = format!("/{} is write-only; results appear in /receipts", folder.name());
            return Err(self.refuse("open_read", Some(folder), "write_only_folder", &msg).await);
        }
        let guard = self.open_guard()?;
        let dir = self.real_dir(folder).ok_or_else(no_such_file)?;
        let file = files::open(dir, name.clone(), file_perm(folder)).await.map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                no_such_file()
            } else {
                failure("the file cannot be read now; try again later")
            }
        })?;
        let pickup = (folder == Folder::Pickup).then(|| (name, Coverage::default()));
        Ok(Handle { id, handle: self.insert(Entry::Read { file, pickup, _guard: guard }) })
    }
}

impl russh_sftp::server::Handler for Fs {
    type Error = StatusReply;

    fn unimplemented(&self) -> Self::Error {
        StatusCode::OpUnsupported.with_message("not supported by meldpunt")
    }

    async fn init(&mut self, version: u32, _ext: HashMap<String, String>) -> Result<Version, Self::Error> {
        if self.initialized {
            return Err(StatusCode::BadMessage.with_message("duplicate init"));
        }
        self.initialized = true;
        tracing::debug!(version, party = %self.ctx.party, "SFTP session started");
        let mut v = Version::new();
        v.extensions.insert(russh_sftp::extensions::LIMITS.to_owned(), "1".to_owned());
        Ok(v)
    }

    async fn open(
        &mut self,
        id: u32,
        filename: String,
        pflags: OpenFlags,
        _attrs: FileAttributes,
    ) -> Result<Handle, Self::Error> {
        let writing =
            pflags.intersects(OpenFlags::WRITE | OpenFlags::APPEND | OpenFlags::CREATE | OpenFlags::TRUNCATE);
        let op = if writing { "open_write" } else { "open_read" };
        let (folder, name) = match self.resolve(op, &filename).await? {
            Target::File(f, n) => (f, n),
            Target::Root | Target::Folder(_) => {
                return Err(failure("that is a folder; open a file inside it"));
            }
        };
        if writing {
            self.open_upload(id, folder, name, pflags).await
        } else {
            self.open_read(id, folder, name).await
        }
    }

    async fn close(&mut self, id: u32, handle: String) -> Result<Status, Self::Error> {
        match self.handles.remove(&handle) {
            Some(Entry::Upload(open)) => self.close_upload(id, open).await,
            Some(Entry::Feedback(open)) => self.close_feedback(id, open).await,
            Some(Entry::Read { file, pickup: Some((name, read)), .. }) => {
                let size = file.attrs.size.unwrap_or(0);
                if read.covers(size) {
                    self.picked_up(name, size, How::Download).await;
                }
                Ok(ok(id, "closed"))
            }
            Some(_) => Ok(ok(id, "closed")),
            None => Err(failure("invalid handle")),
        }
    }

    async fn read(&mut self, id: u32, handle: String, offset: u64, len: u32) -> Result<Data, Self::Error> {
        match self.handles.get_mut(&handle) {
            Some(Entry::Read { file, pickup, .. }) => {
                let data = file.read_at(offset, len).await.map_err(|_| failure("reading the file failed"))?;
                if data.is_empty() {
                    return Err(StatusCode::Eof.with_message("end of file"));
                }
                if let Some((_, read)) = pickup {
                    read.add(offset, data.len() as u64);
                }
                Ok(Data { id, data })
            }
            Some(_) => Err(denied("this handle is not open for reading")),
            None => Err(failure("invalid handle")),
        }
    }

    async fn write(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<Status, Self::Error> {
        // Bytes held by all of this session's feedback uploads (open and unfinished).
        let held: u64 = self
            .handles
            .values()
            .filter_map(|e| if let Entry::Feedback(o) = e { Some(o.bytes()) } else { None })
            .chain(self.uploads.feedback.values().map(|o| o.bytes()))
            .sum();
        match self.handles.get_mut(&handle) {
            Some(Entry::Upload(open)) => open.write(offset, data).await.map(|()| ok(id, "")),
            Some(Entry::Feedback(open)) => {
                let limit = self.ctx.intake.config().feedback_max_bytes;
                let others = held - open.bytes();
                open.write(offset, &data, limit, others).map(|()| ok(id, ""))
            }
            Some(_) => Err(denied("this handle is not open for writing")),
            None => Err(failure("invalid handle")),
        }
    }

    async fn lstat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        // There are no links in the tree: lstat is stat.
        Ok(Attrs { id, attrs: self.attrs_of("lstat", &path).await? })
    }

    async fn stat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        Ok(Attrs { id, attrs: self.attrs_of("stat", &path).await? })
    }

    async fn fstat(&mut self, id: u32, handle: String) -> Result<Attrs, Self::Error> {
        let attrs = match self.handles.get(&handle) {
            Some(Entry::Upload(open)) => files::file_attrs(open.bytes(), 0, 0o200),
            Some(Entry::Feedback(open)) => files::file_attrs(open.bytes(), 0, 0o200),
            Some(Entry::Read { file, .. }) => file.attrs.clone(),
            Some(Entry::Dir { folder, .. }) => {
                files::dir_attrs(folder.map_or(0o500, |f| folder_perm(&self.ctx.party, f)))
            }
            None => return Err(failure("invalid handle")),
        };
        Ok(Attrs { id, attrs })
    }

    async fn setstat(
        &mut self,
        id: u32,
        path: String,
        _attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        let target = self.resolve("setstat", &path).await?;
        if let Target::File(Folder::Inbox | Folder::Feedback, name) = &target
            && self.uploads.is_own(&self.handles, name)
        {
            return Ok(ok(id, "attributes of uploads are not kept"));
        }
        Err(self
            .refuse("setstat", target.folder(), "setstat_not_allowed", "changing attributes is not allowed")
            .await)
    }

    async fn fsetstat(
        &mut self,
        id: u32,
        handle: String,
        _attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        match self.handles.get(&handle) {
            Some(Entry::Upload(_) | Entry::Feedback(_)) => Ok(ok(id, "attributes of uploads are not kept")),
            Some(Entry::Read { .. } | Entry::Dir { .. }) => Err(self
                .refuse("fsetstat", None, "setstat_not_allowed", "changing attributes is not allowed")
                .await),
            None => Err(failure("invalid handle")),
        }
    }

    async fn opendir(&mut self, id: u32, path: String) -> Result<Handle, Self::Error> {
        let (folder, entries) = match self.resolve("opendir", &path).await? {
            Target::Root => {
                let party = &self.ctx.party;
                let list = Folder::of(party)
                    .iter()
                    .map(|f| {
                        russh_sftp::protocol::File::new(f.name(), files::dir_attrs(folder_perm(party, *f)))
                    })
                    .collect();
                (None, list)
            }
            Target::Folder(f) if readable(&self.ctx.party, f) => {
                let dir = self.real_dir(f).ok_or_else(no_such_file)?;
                let list = files::list(dir, file_perm(f)).await.map_err(|e| {
                    tracing::warn!(error = %e, folder = f.name(), "listing failed");
                    failure("the folder cannot be listed now; try again later")
                })?;
                (Some(f), list)
            }
            Target::Folder(f) => {
                let msg = format!(
                    "/{} cannot be listed: files are taken for processing when closed; see /receipts",
                    f.name()
                );
                return Err(self.refuse("opendir", Some(f), "write_only_folder", &msg).await);
            }
            Target::File(..) => return Err(failure("not a folder")),
        };
        let guard = self.open_guard()?;
        let mut entries = entries;
        entries.reverse(); // handed out from the back
        Ok(Handle { id, handle: self.insert(Entry::Dir { folder, entries, _guard: guard }) })
    }

    async fn readdir(&mut self, id: u32, handle: String) -> Result<Name, Self::Error> {
        match self.handles.get_mut(&handle) {
            Some(Entry::Dir { entries, .. }) => {
                if entries.is_empty() {
                    return Err(StatusCode::Eof.with_message("end of folder"));
                }
                let at = entries.len().saturating_sub(READDIR_BATCH);
                let mut files = entries.split_off(at);
                files.reverse();
                Ok(Name { id, files })
            }
            Some(_) => Err(failure("not a folder handle")),
            None => Err(failure("invalid handle")),
        }
    }

    async fn remove(&mut self, id: u32, filename: String) -> Result<Status, Self::Error> {
        match self.resolve("remove", &filename).await? {
            Target::File(Folder::Pickup, name) => {
                let dir = self.real_dir(Folder::Pickup).ok_or_else(no_such_file)?;
                let bytes = files::remove(dir, name.clone()).await.map_err(|e| {
                    if e.kind() == std::io::ErrorKind::NotFound {
                        no_such_file()
                    } else {
                        failure("removing failed; try again later")
                    }
                })?;
                self.picked_up(name, bytes, How::Remove).await;
                Ok(ok(id, "pickup acknowledged"))
            }
            t => Err(self
                .refuse("remove", t.folder(), "remove_not_allowed", "removing is only allowed in /pickup")
                .await),
        }
    }

    async fn mkdir(&mut self, _id: u32, path: String, _attrs: FileAttributes) -> Result<Status, Self::Error> {
        let folder = paths::resolve(&self.ctx.party, &path).ok().and_then(|t| t.folder());
        Err(self.refuse("mkdir", folder, "mkdir_not_allowed", "creating folders is not allowed").await)
    }

    async fn rmdir(&mut self, _id: u32, path: String) -> Result<Status, Self::Error> {
        let folder = paths::resolve(&self.ctx.party, &path).ok().and_then(|t| t.folder());
        Err(self.refuse("rmdir", folder, "rmdir_not_allowed", "removing folders is not allowed").await)
    }

    async fn realpath(&mut self, id: u32, path: String) -> Result<Name, Self::Error> {
        let target = self.resolve("realpath", &path).await?;
        Ok(Name { id, files: vec![russh_sftp::protocol::File::dummy(target.to_path())] })
    }

    async fn rename(&mut self, id: u32, oldpath: String, newpath: String) -> Result<Status, Self::Error> {
        self.rename_upload(id, &oldpath, &newpath).await
    }

    async fn readlink(&mut self, _id: u32, path: String) -> Result<Name, Self::Error> {
        let folder = paths::resolve(&self.ctx.party, &path).ok().and_then(|t| t.folder());
        Err(self.refuse("readlink", folder, "links", "there are no links here").await)
    }

    async fn symlink(
        &mut self,
        _id: u32,
        _linkpath: String,
        _targetpath: String,
    ) -> Result<Status, Self::Error> {
        Err(self.refuse("symlink", None, "links_not_allowed", "links are not allowed").await)
    }

    async fn extended(&mut self, id: u32, request: String, data: Vec<u8>) -> Result<Packet, Self::Error> {
        match request.as_str() {
            russh_sftp::extensions::LIMITS => {
                let limits = russh_sftp::extensions::LimitsExtension {
                    max_packet_len: u64::from(super::MAX_CLIENT_PACKET),
                    max_read_len: u64::from(files::MAX_READ),
                    max_write_len: u64::from(files::MAX_READ),
                    // 0 = not stated: clients keep their own pipelining depth; the limit is
                    // still enforced per session.
                    max_open_handles: 0,
                };
                let data =
                    russh_sftp::ser::to_bytes(&limits).map_err(|_| failure("internal error"))?.to_vec();
                Ok(Packet::ExtendedReply(ExtendedReply { id, data }))
            }
            "posix-rename@openssh.com" => {
                let mut r = data.as_slice();
                let (Some(old), Some(new)) = (take_string(&mut r), take_string(&mut r)) else {
                    return Err(StatusCode::BadMessage.with_message("bad posix-rename request"));
                };
                Ok(Packet::Status(self.rename_upload(id, &old, &new).await?))
            }
            russh_sftp::extensions::HARDLINK => {
                Err(self.refuse("hardlink", None, "links_not_allowed", "links are not allowed").await)
            }
            _ => Err(self.unimplemented()),
        }
    }
}

/// Reads one SSH string (u32 length + UTF-8 bytes) from `r`.
fn take_string(r: &mut &[u8]) -> Option<String> {
    let len = u32::from_be_bytes(r.get(..4)?.try_into().ok()?) as usize;
    let s = r.get(4..4 + len)?;
    let out = String::from_utf8(s.to_vec()).ok()?;
    *r = &r[4 + len..];
    Some(out)
}
