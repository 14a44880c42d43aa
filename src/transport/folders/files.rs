//! The real folders behind `/receipts`, `/feedback` and `/pickup`: listing, stat, reading and
//! removing files, confined to one folder.
//!
//! Names are checked with [`plain_name`] before they touch the disk, symbolic links and
//! anything but regular files are treated as absent, and every file is opened, described and
//! removed through [`super::beneath`] (`openat2` beneath the folder, no links), so a link or a
//! folder swapped in after the check is not followed. Nothing here returns a real path to the
//! client.

use std::fs::{File, Metadata};
use std::io;
use std::os::unix::fs::FileExt as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use super::beneath;
use super::paths::{Folder, plain_name};
use crate::domain::party::PartyId;
use crate::layout::Layout;

/// Largest read answered at once (clients read in smaller pieces anyway).
pub const MAX_READ: u32 = 256 * 1024 - 1024;

/// The real folder behind a virtual folder (the inbox and `/clients` have none: what is
/// uploaded there is taken whole, never kept as a file).
pub fn real_dir(layout: &Layout, party: &PartyId, folder: Folder) -> Option<PathBuf> {
    let id = party.as_str();
    match folder {
        Folder::Inbox | Folder::Clients => None,
        Folder::Receipts => Some(layout.receipts(id)),
        Folder::Feedback => Some(layout.feedback(id)),
        Folder::Pickup => Some(layout.pickup(id)),
    }
}

/// A regular file in a party's real folder, as both transports describe it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileInfo {
    /// Its name (a plain name, see [`plain_name`]).
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// When it last changed (Unix seconds; 0 when unknown).
    pub mtime: u32,
}

impl FileInfo {
    fn of(name: String, meta: &Metadata) -> FileInfo {
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX));
        FileInfo { name, size: meta.len(), mtime }
    }
}

fn not_found() -> io::Error {
    io::Error::from(io::ErrorKind::NotFound)
}

/// `name` if it is a plain name; anything else is `NotFound` before the disk is touched.
fn checked(name: &str) -> io::Result<&str> {
    if plain_name(name) { Ok(name) } else { Err(not_found()) }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> io::Result<T> + Send + 'static) -> io::Result<T> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| Err(io::Error::other(e.to_string())))
}

/// The entries of a real folder: regular, non-hidden files with plain names, sorted by name.
/// A folder that does not exist yet, or is a link, is empty.
pub async fn list(dir: PathBuf) -> io::Result<Vec<FileInfo>> {
    blocking(move || {
        let rd = match beneath::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        for entry in rd {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else { continue };
            if !plain_name(&name) {
                continue;
            }
            // DirEntry::metadata does not follow symlinks.
            let Ok(meta) = entry.metadata() else { continue };
            if meta.file_type().is_file() {
                out.push(FileInfo::of(name, &meta));
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    })
    .await
}

/// The newest `max` of `list` (by modification time, then name), in name order: what a
/// listing shows of a folder with more entries.
pub fn newest(mut list: Vec<FileInfo>, max: usize) -> Vec<FileInfo> {
    if list.len() > max {
        list.sort_by(|a, b| b.mtime.cmp(&a.mtime).then_with(|| b.name.cmp(&a.name)));
        list.truncate(max);
        list.sort_by(|a, b| a.name.cmp(&b.name));
    }
    list
}

/// What a file of a real folder is.
pub async fn stat(dir: PathBuf, name: String) -> io::Result<FileInfo> {
    blocking(move || beneath::stat(&dir, checked(&name)?).map(|m| FileInfo::of(name, &m))).await
}

/// A file opened for reading.
pub struct ReadFile {
    file: Arc<File>,
    /// What it was when opened.
    pub info: FileInfo,
}

/// Opens a file of a real folder for reading.
pub async fn open(dir: PathBuf, name: String) -> io::Result<ReadFile> {
    blocking(move || {
        let (file, opened) = beneath::open(&dir, checked(&name)?)?;
        Ok(ReadFile { file: Arc::new(file), info: FileInfo::of(name, &opened) })
    })
    .await
}

impl ReadFile {
    /// Reads up to `len` bytes at `offset` (fewer at the end; empty at or past the end).
    pub async fn read_at(&self, offset: u64, len: u32) -> io::Result<Vec<u8>> {
        let file = self.file.clone();
        let len = len.min(MAX_READ) as usize;
        blocking(move || {
            let mut buf = vec![0u8; len];
            let mut filled = 0;
            while filled < len {
                match file.read_at(&mut buf[filled..], offset + filled as u64) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            buf.truncate(filled);
            Ok(buf)
        })
        .await
    }
}

/// Removes a file of a real folder; returns its size.
pub async fn remove(dir: PathBuf, name: String) -> io::Result<u64> {
    blocking(move || {
        let meta = beneath::remove(&dir, checked(&name)?)?;
        if let Err(e) = File::open(&dir).and_then(|d| d.sync_all()) {
            tracing::warn!(error = %e, "could not sync folder after removing a picked-up file");
        }
        Ok(meta.len())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn confined_to_plain_regular_files() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().to_path_buf();
        std::fs::write(dir.join("a.json"), b"{}").unwrap();
        std::fs::write(dir.join(".hidden"), b"x").unwrap();
        std::fs::create_dir(dir.join("sub")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.join("link")).unwrap();
        let names: Vec<String> = list(dir.clone()).await.unwrap().into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["a.json"]);
        assert_eq!(stat(dir.clone(), "a.json".into()).await.unwrap().size, 2);
        for bad in ["link", ".hidden", "sub", "../a.json", "nope", ""] {
            assert!(open(dir.clone(), bad.into()).await.is_err(), "{bad}");
            assert!(stat(dir.clone(), bad.into()).await.is_err(), "{bad}");
            assert!(remove(dir.clone(), bad.into()).await.is_err(), "{bad}");
        }
        let f = open(dir.clone(), "a.json".into()).await.unwrap();
        assert_eq!(f.read_at(0, 100).await.unwrap(), b"{}");
        assert_eq!(f.read_at(1, 100).await.unwrap(), b"}");
        assert!(f.read_at(5, 100).await.unwrap().is_empty());
        assert_eq!(remove(dir.clone(), "a.json".into()).await.unwrap(), 2);
        assert!(list(dir.join("missing")).await.unwrap().is_empty());
        assert!(std::fs::symlink_metadata(dir.join("link")).is_ok(), "links are left alone");
    }

    #[test]
    fn a_long_listing_keeps_the_newest_in_name_order() {
        let info = |name: &str, mtime| FileInfo { name: name.into(), size: 1, mtime };
        let list = vec![info("a", 3), info("b", 1), info("c", 2), info("d", 3)];
        let names = |l: Vec<FileInfo>| l.into_iter().map(|i| i.name).collect::<Vec<_>>();
        assert_eq!(names(newest(list.clone(), 3)), ["a", "c", "d"]);
        assert_eq!(names(newest(list.clone(), 4)), ["a", "b", "c", "d"]);
    }
}
