//! Small durable-file helpers: private modes, atomic writes, directory fsync.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

/// Creates `dir` and its parents with mode 0700 (existing directories are left as they are).
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Creates a new file with mode 0600; fails if it exists.
pub fn create_new_private(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)
}

/// Fsyncs a directory so a rename or create in it is durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The filesystem that holds a directory, to make everything written to it durable at once
/// (`syncfs`): one writeback and one disk-cache flush for many files, where an fsync per file
/// pays a flush (and on a virtual disk an exit to the host) each. It flushes the whole
/// filesystem, other programs' writes included.
pub struct Filesystem(File);

impl Filesystem {
    /// The filesystem of `dir`. Open it before writing what it is to make durable: a write-back
    /// error on that filesystem after this is reported by [`Filesystem::sync`].
    pub fn of(dir: &Path) -> io::Result<Filesystem> {
        File::open(dir).map(Filesystem)
    }

    /// Writes back everything written to the filesystem so far (data, names, renames) and
    /// flushes the disk's cache; fails if any write-back since [`Filesystem::of`] failed.
    pub fn sync(&self) -> io::Result<()> {
        rustix::fs::syncfs(&self.0).map_err(io::Error::from)
    }
}

/// Writes `bytes` to `path` atomically: a hidden temporary name, fsync, rename, fsync of the
/// directory. Readers see the old file or the whole new one, never a part.
pub fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.{}.tmp", ulid::Ulid::new()));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(if private { 0o600 } else { 0o640 })
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Writes `bytes` as a private file (0600) at `path` unless one is there already, the first
/// writer winning when two processes race; whether this call wrote it. Written under a hidden
/// temporary name and hard-linked into place, so nobody ever reads a partial file. For keys
/// created at first use.
pub fn create_once_private(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.{}.tmp", ulid::Ulid::new()));
    write_atomic(&tmp, bytes, true)?;
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => sync_dir(dir).map(|()| true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filesystem_is_synced_through_a_folder_and_a_missing_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let fs = Filesystem::of(dir.path()).unwrap();
        std::fs::write(dir.path().join("a"), b"written after the handle was opened").unwrap();
        fs.sync().unwrap();
        let missing = Filesystem::of(&dir.path().join("missing")).err().expect("no such folder");
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    }
}
