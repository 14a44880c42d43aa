//! The SFTP requests of one channel, answered over the party's virtual tree (see the parent).

use std::collections::HashMap;

use russh_sftp::protocol::{
    Attrs, Data, FileAttributes, Handle, Name, OpenFlags, Packet, Status, StatusCode, Version,
};

use super::super::attrs;
use crate::transport::folders::files;
use crate::transport::folders::paths::{self, Folder, Target};
use russh_sftp::server::StatusReply;

use super::{Entry, Fs, denied, failure, file_perm, folder_perm, no_such_file, ok, readable, writable};
use crate::pickup::record::How;

/// Largest number of directory entries sent in one `readdir` answer.
const READDIR_BATCH: usize = 128;

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
        v.extensions = super::extensions::announced();
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
                let size = file.info.size;
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
                let limit = open.limit(self.ctx.intake.app().config().feedback_max_bytes);
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
            Some(Entry::Upload(open)) => attrs::file(open.bytes(), 0, 0o200),
            Some(Entry::Feedback(open)) => attrs::file(open.bytes(), 0, 0o200),
            Some(Entry::Read { attrs, .. }) => attrs.clone(),
            Some(Entry::Dir { folder, .. }) => {
                attrs::folder(folder.map_or(0o500, |f| folder_perm(&self.ctx.party, f)))
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
        let own = match &target {
            Target::File(f, name) => writable(&self.ctx.party, *f) && self.upload_attrs(name).is_some(),
            Target::Folder(f) => writable(&self.ctx.party, *f),
            Target::Root => false,
        };
        if own {
            return Ok(ok(id, "accepted and ignored: meldpunt keeps no attributes of uploads"));
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
            Some(Entry::Upload(_) | Entry::Feedback(_)) => {
                Ok(ok(id, "accepted and ignored: meldpunt keeps no attributes of uploads"))
            }
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
                let list: Vec<_> = Folder::of(party)
                    .iter()
                    .map(|f| russh_sftp::protocol::File::new(f.name(), attrs::folder(folder_perm(party, *f))))
                    .collect();
                (None, list)
            }
            Target::Folder(f) if readable(&self.ctx.party, f) => {
                let dir = self.real_dir(f).ok_or_else(no_such_file)?;
                let list = files::list(dir).await.map_err(|e| {
                    tracing::warn!(error = %e, folder = f.name(), "listing failed");
                    failure("the folder cannot be listed now; try again later")
                })?;
                let list = files::newest(list, self.ctx.max_listing_entries);
                let list = list.into_iter().map(|i| attrs::entry(i, file_perm(f))).collect();
                (Some(f), list)
            }
            // Write-only: files are taken when closed; only this session's uploads in
            // progress are listed.
            Target::Folder(f) if writable(&self.ctx.party, f) => (Some(f), self.upload_listing()),
            Target::Folder(f) => {
                let msg = format!("/{} cannot be listed", f.name());
                return Err(self.refuse("opendir", Some(f), "not_readable", &msg).await);
            }
            Target::File(..) => return Err(failure("not a folder")),
        };
        let guard = self.open_guard()?;
        let listing = self.ctx.try_list(entries.len()).ok_or_else(|| {
            failure(format!(
                "this session's open folder listings hold up to {} entries ([sftp] max_listing_entries); read listings to their end and close them before opening more",
                self.ctx.max_listing_entries
            ))
        })?;
        let mut entries = entries;
        entries.reverse(); // handed out from the back
        let dir = Entry::Dir { folder, entries, _guard: guard, _listing: listing };
        Ok(Handle { id, handle: self.insert(dir) })
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
        let target = paths::resolve(&self.ctx.party, &path).ok();
        if let Some(Target::Root | Target::Folder(_)) = target {
            // What OpenSSH's server answers for EEXIST; `makedirs(exist_ok=True)` relies on it.
            return Err(failure("the folder already exists"));
        }
        let folder = target.and_then(|t| t.folder());
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
        self.extension(id, &request, &data).await
    }
}
