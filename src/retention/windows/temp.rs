//! Temporary files left by interrupted work: `vault/tmp` (uploads being sealed), batch staging
//! and the hidden `.<name>.<ulid>.tmp` files of atomic writes. A file goes when it has not
//! changed for `temp_hours`; an upload in flight writes its file continuously (and a silent
//! connection is closed after its idle timeout), so it is never that old.

use std::path::{Path, PathBuf};

use jiff::Timestamp;

use super::{hours_passed, io_at, is_temp_name, mtime, names, remove};
use crate::layout::Layout;
use crate::retention::ShredError;

/// Removes (or with `dry_run` counts) the temporary files unchanged for `hours` at `now`.
pub(super) fn expire(
    layout: &Layout,
    now: Timestamp,
    hours: u32,
    dry_run: bool,
) -> Result<usize, ShredError> {
    let old = |p: &Path| mtime(p).is_some_and(|m| hours_passed(m, now, hours));
    let mut doomed: Vec<PathBuf> = Vec::new();
    let tmp = layout.vault_tmp();
    doomed.extend(names(&tmp)?.into_iter().map(|n| tmp.join(n)).filter(|p| p.is_file() && old(p)));
    let root = layout.root();
    let mut dirs = vec![root.to_owned(), layout.keys(), layout.period_keys()];
    for party in names(&layout.parties())? {
        dirs.extend([layout.receipts(&party), layout.feedback(&party), layout.pickup(&party)]);
    }
    for dir in dirs {
        doomed.extend(
            names(&dir)?.into_iter().filter(|n| is_temp_name(n)).map(|n| dir.join(n)).filter(|p| old(p)),
        );
    }
    let mut n = doomed.len();
    if !dry_run {
        for p in &doomed {
            remove(p)?;
        }
    }
    n += staging(layout, &old, dry_run)?;
    Ok(n)
}

/// Batch staging folders (`batch/staging/<period>-v<n>`) whose newest file is old; only while
/// no batch runs (its lock is free), as a running batch stages there.
fn staging(layout: &Layout, old: &dyn Fn(&Path) -> bool, dry_run: bool) -> Result<usize, ShredError> {
    let root = layout.batch_staging();
    let entries = names(&root)?;
    if entries.is_empty() {
        return Ok(0);
    }
    let lock_path = layout.batch_lock();
    let lock = crate::batch::run::lock_file(layout).map_err(io_at(&lock_path))?;
    if lock.try_lock().is_err() {
        return Ok(0);
    }
    let mut n = 0;
    for name in entries {
        let path = root.join(name);
        let files = files_under(&path);
        if files.iter().all(|f| old(f)) && old(&path) {
            n += files.len();
            if !dry_run {
                let gone =
                    if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
                gone.map_err(io_at(&path))?;
            }
        }
    }
    Ok(n)
}

/// Every file under `path` (itself if it is a file).
fn files_under(path: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(path) {
        Ok(rd) => rd.flatten().flat_map(|e| files_under(&e.path())).collect(),
        Err(_) if path.is_file() => vec![path.to_owned()],
        Err(_) => Vec::new(),
    }
}
