//! SFTP attributes of the virtual tree: folders, files in the real folders, uploads.

use russh_sftp::protocol::{File, FileAttributes, FileMode};

use crate::transport::folders::files::FileInfo;

/// Attributes of a virtual folder with permission bits `perm` (e.g. `0o500`).
pub fn folder(perm: u32) -> FileAttributes {
    FileAttributes {
        size: Some(0),
        uid: Some(0),
        gid: Some(0),
        permissions: Some(FileMode::DIR.bits() | perm),
        atime: Some(0),
        mtime: Some(0),
        ..Default::default()
    }
}

/// Attributes of a regular file of `size` bytes modified at `mtime` (Unix seconds).
pub fn file(size: u64, mtime: u32, perm: u32) -> FileAttributes {
    FileAttributes {
        size: Some(size),
        uid: Some(0),
        gid: Some(0),
        permissions: Some(FileMode::REG.bits() | perm),
        atime: Some(mtime),
        mtime: Some(mtime),
        ..Default::default()
    }
}

/// Attributes of a file in a real folder.
pub fn of(info: &FileInfo, perm: u32) -> FileAttributes {
    file(info.size, info.mtime, perm)
}

/// A directory-listing entry for a file in a real folder.
pub fn entry(info: FileInfo, perm: u32) -> File {
    let attrs = of(&info, perm);
    File::new(info.name, attrs)
}
