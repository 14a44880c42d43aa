//! Spool folders (docs/folders-and-protocols.md): a creditor's local folder, for example a
//! share its own system writes into. A complete file — closed after writing, or renamed or
//! moved in — enters the same intake as an upload of that creditor; temporary names
//! (`.part`, `.filepart`, `.tmp`), hidden names and receipts are left alone. Once it is filed,
//! the file moves to `processed/` in the folder and its receipt (`.receipt.json`, `.txt`,
//! `.sig`) is written beside it there. The folder is rescanned at start-up and whenever the
//! watcher overflows, so no file is missed, and a file is never taken twice: it leaves the
//! folder once filed.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use notify::event::{AccessKind, AccessMode, ModifyKind, RenameMode};
use notify::{EventKind, RecursiveMode, Watcher};
use rustix::fs::{Mode, OFlags};
use tokio::sync::{mpsc, watch};

use crate::domain::party::{Credential, CreditorId, VerifiedSender};
use crate::domain::upload::UploadName;
use crate::intake::Intake;

/// The subfolder filed files and their receipts move to.
pub const PROCESSED: &str = "processed";

/// What the watcher tells the worker.
enum Seen {
    /// This file may be complete now.
    File(PathBuf),
    /// Events were lost: look at the whole folder.
    Rescan,
}

/// Watches every configured spool folder until `stop` turns `true`.
pub async fn run(intake: Intake, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
    let spools: Vec<(CreditorId, PathBuf)> = intake
        .app()
        .config()
        .creditors
        .iter()
        .filter_map(|c| Some((c.id.clone(), c.spool_dir.clone()?)))
        .collect();
    let mut tasks = tokio::task::JoinSet::new();
    for (creditor, dir) in spools {
        tasks.spawn(watch_one(intake.clone(), creditor, dir, stop.clone()));
    }
    let _ = stop.wait_for(|s| *s).await;
    while tasks.join_next().await.is_some() {}
    Ok(())
}

async fn watch_one(intake: Intake, creditor: CreditorId, dir: PathBuf, mut stop: watch::Receiver<bool>) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let events = tx.clone();
    let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let Ok(event) = res else {
            let _ = events.send(Seen::Rescan);
            return;
        };
        if event.need_rescan() {
            let _ = events.send(Seen::Rescan);
            return;
        }
        let complete = matches!(
            event.kind,
            EventKind::Access(AccessKind::Close(AccessMode::Write))
                | EventKind::Modify(ModifyKind::Name(RenameMode::To | RenameMode::Both))
        );
        if complete {
            // For a rename the new name is the last path.
            if let Some(path) = event.paths.last() {
                let _ = events.send(Seen::File(path.clone()));
            }
        }
    });
    let mut watcher = match watcher {
        Ok(w) => w,
        Err(e) => return tracing::error!(creditor = %creditor, error = %e, "cannot watch the spool folder"),
    };
    if let Err(e) = watcher.watch(&dir, RecursiveMode::NonRecursive) {
        return tracing::error!(creditor = %creditor, error = %e, "cannot watch the spool folder");
    }
    // What is there already (a start-up, or files written while meldpunt was down).
    let _ = tx.send(Seen::Rescan);
    tracing::info!(creditor = %creditor, "spool folder watched");
    loop {
        let seen = tokio::select! {
            seen = rx.recv() => seen,
            _ = stop.wait_for(|s| *s) => None,
        };
        match seen {
            None => break,
            Some(Seen::File(path)) if path.parent() == Some(dir.as_path()) => {
                take(&intake, &creditor, &dir, &path).await
            }
            Some(Seen::File(_)) => {}
            Some(Seen::Rescan) => {
                for path in candidates(&dir) {
                    take(&intake, &creditor, &dir, &path).await;
                }
            }
        }
    }
    drop(watcher);
}

/// The complete files of the folder now, oldest name first.
fn candidates(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

/// The upload name of a spooled file, if it is one to take.
fn upload_name(path: &Path) -> Option<UploadName> {
    let name = path.file_name()?.to_str()?;
    if name.starts_with('.') || name.contains(".receipt.") {
        return None;
    }
    UploadName::parse(name).ok().filter(|n| !n.is_temp())
}

/// Files one spooled file: intake, then `processed/` with its receipt beside it.
///
/// The creditor's side owns the folder, so nothing in it is trusted as a path: the file is
/// opened without following a link (and must be a regular file), and `processed/` is opened
/// as itself, refused if it is a link, then reached only through that descriptor. A link
/// planted as `processed` (into a pickup folder, say) or swapped in meanwhile cannot redirect
/// the daemon's move or receipts (tests/attacks/autorun.rs).
async fn take(intake: &Intake, creditor: &CreditorId, dir: &Path, path: &Path) {
    let Some(name) = upload_name(path) else { return };
    let processed = match open_processed(dir) {
        Ok(fd) => fd,
        Err(e) => {
            return tracing::error!(
                creditor = %creditor, error = %e,
                "the spool folder's processed/ is not a plain folder (a link?); its files are not taken"
            );
        }
    };
    // Still there and a regular file (an event can outlive the file it was about), opened as
    // itself: read through its descriptor, whatever the name leads to later.
    let Some(file) = open_plain(path) else { return };
    let sender = VerifiedSender::authenticated(creditor.clone(), Credential::Operator, "spool".into());
    let receipt = match intake.take_local(sender, name.clone(), &through(&file), None).await {
        Ok(r) => r,
        Err(e) => {
            // Left in place: the next event or rescan tries again (a stop, a full disk).
            return tracing::warn!(creditor = %creditor, error = %e, "spool file not taken yet");
        }
    };
    let processed = through(&processed);
    let moved = std::fs::rename(path, processed.join(name.as_str()))
        .and_then(|()| receipt.write_to(&processed, intake.app().signer()));
    match moved {
        Ok(()) => tracing::info!(creditor = %creditor, file_id = %receipt.file_id, "spool file taken"),
        Err(e) => {
            tracing::error!(creditor = %creditor, file_id = %receipt.file_id, error = %e, "spool file filed but not moved")
        }
    }
}

/// `processed/` of a spool folder, created if missing and opened without following a link.
fn open_processed(dir: &Path) -> std::io::Result<OwnedFd> {
    match std::fs::create_dir(dir.join(PROCESSED)) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
        _ => {}
    }
    let flags = OFlags::DIRECTORY | OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    Ok(rustix::fs::open(dir.join(PROCESSED), flags, Mode::empty())?)
}

/// `path` opened for reading if it is a regular file and not a link (nor a FIFO to hang on).
fn open_plain(path: &Path) -> Option<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let fd = rustix::fs::open(path, flags, Mode::empty()).ok()?;
    let stat = rustix::fs::fstat(&fd).ok()?;
    (rustix::fs::FileType::from_raw_mode(stat.st_mode) == rustix::fs::FileType::RegularFile).then_some(fd)
}

/// A path that reaches what `fd` is open on, whatever its name leads to now.
fn through(fd: &OwnedFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}
