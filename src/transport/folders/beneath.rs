//! Files of a party's folder opened at the system-call level (docs/folders-and-protocols.md):
//! `openat2` from the folder's own descriptor with `RESOLVE_BENEATH`, `RESOLVE_NO_SYMLINKS`,
//! `RESOLVE_NO_MAGICLINKS` and `RESOLVE_NO_XDEV`, and the folder itself opened without following
//! a link. So no name, link, rename or race can reach outside the folder, whatever the name
//! checks above this say. A kernel without `openat2` (before Linux 5.6) gets an error: the
//! file is not served (fail closed).

use std::fs::{File, Metadata};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use rustix::fs::{AtFlags, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

/// How every name is resolved: beneath the folder, no link of any kind, no other filesystem.
const RESOLVE: ResolveFlags = ResolveFlags::BENEATH
    .union(ResolveFlags::NO_SYMLINKS)
    .union(ResolveFlags::NO_MAGICLINKS)
    .union(ResolveFlags::NO_XDEV);

/// An error the client sees as "no such file": the name would leave the folder or is a link.
fn refused(e: Errno) -> io::Error {
    match e {
        Errno::XDEV | Errno::LOOP | Errno::NOTDIR => io::Error::from(io::ErrorKind::NotFound),
        Errno::NOSYS => {
            io::Error::other("the kernel has no openat2 (Linux 5.6 or later is needed); file not served")
        }
        e => e.into(),
    }
}

/// The folder itself, not followed if it is a link.
fn folder(dir: &Path) -> io::Result<OwnedFd> {
    rustix::fs::open(
        dir,
        OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
        Mode::empty(),
    )
    .map_err(refused)
}

fn open_with(dir: &Path, name: &str, flags: OFlags) -> io::Result<File> {
    let d = folder(dir)?;
    let fd =
        rustix::fs::openat2(&d, name, flags | OFlags::CLOEXEC | OFlags::NOFOLLOW, Mode::empty(), RESOLVE)
            .map_err(refused)?;
    Ok(File::from(fd))
}

/// The entries of `dir` itself, not followed if it is a link (a folder swapped for a link
/// lists nothing of the link's target; each entry's metadata is not followed either).
pub fn read_dir(dir: &Path) -> io::Result<std::fs::ReadDir> {
    let d = folder(dir)?;
    // The descriptor's own entry in /proc reaches the folder opened above, whatever `dir`
    // leads to by now.
    std::fs::read_dir(format!("/proc/self/fd/{}", d.as_raw_fd()))
}

/// Opens `name` in `dir` for reading; only a regular file beneath `dir`.
pub fn open(dir: &Path, name: &str) -> io::Result<(File, Metadata)> {
    let file = open_with(dir, name, OFlags::RDONLY | OFlags::NONBLOCK)?;
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(io::Error::from(io::ErrorKind::NotFound));
    }
    Ok((file, meta))
}

/// What `name` in `dir` is, without opening it for reading; only a regular file beneath `dir`.
pub fn stat(dir: &Path, name: &str) -> io::Result<Metadata> {
    let meta = open_with(dir, name, OFlags::PATH)?.metadata()?;
    if !meta.file_type().is_file() {
        return Err(io::Error::from(io::ErrorKind::NotFound));
    }
    Ok(meta)
}

/// Removes `name` from `dir` (a regular file beneath it); returns what it was.
pub fn remove(dir: &Path, name: &str) -> io::Result<Metadata> {
    let meta = stat(dir, name)?;
    let d = folder(dir)?;
    // A name without a slash: unlinkat removes the entry itself and never follows it.
    if name.contains('/') {
        return Err(io::Error::from(io::ErrorKind::NotFound));
    }
    rustix::fs::unlinkat(&d, name, AtFlags::empty()).map_err(refused)?;
    Ok(meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_outside_the_folder_is_reached_whatever_the_name() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("party");
        std::fs::create_dir(&dir).unwrap();
        std::fs::create_dir(dir.join("sub")).unwrap();
        std::fs::write(root.path().join("secret"), b"outside").unwrap();
        std::fs::write(dir.join("ok.csv"), b"inside").unwrap();
        std::os::unix::fs::symlink(root.path().join("secret"), dir.join("link")).unwrap();
        std::os::unix::fs::symlink("..", dir.join("up")).unwrap();
        std::os::unix::fs::symlink("/proc/self/root/etc/passwd", dir.join("magic")).unwrap();
        assert_eq!(open(&dir, "ok.csv").unwrap().1.len(), 6);
        let secret = root.path().join("secret");
        for name in [
            "../secret",
            "link",
            "up/secret",
            "sub/../../secret",
            "magic",
            "/etc/passwd",
            secret.to_str().unwrap(),
            "sub",
        ] {
            assert!(open(&dir, name).is_err(), "{name} was opened");
            assert!(stat(&dir, name).is_err(), "{name} was described");
            assert!(remove(&dir, name).is_err(), "{name} was removed");
        }
        assert!(secret.exists() && dir.join("link").exists());
    }

    #[test]
    fn a_folder_swapped_for_a_link_is_not_followed() {
        let root = tempfile::tempdir().unwrap();
        let elsewhere = root.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        std::fs::write(elsewhere.join("bundle.age"), b"x").unwrap();
        let dir = root.path().join("party");
        std::os::unix::fs::symlink(&elsewhere, &dir).unwrap();
        assert!(open(&dir, "bundle.age").is_err());
        assert!(read_dir(&dir).is_err(), "listed through the link");
        assert!(remove(&dir, "bundle.age").is_err());
        assert!(elsewhere.join("bundle.age").exists());
    }
}
