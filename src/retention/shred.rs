//! Crypto-shredding one period (docs/storage-and-retention.md): its age identity first (overwritten, fsynced,
//! unlinked), so the sealed intake is unreadable from that moment, then the sealed files, the
//! receipts and batch reports, the bundles still in pickup folders, and its rows in the state
//! database. Every step tolerates what an interrupted earlier run already removed, so running
//! it again ends in the same state.

use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::path::Path;

use rusqlite::params;
use serde::Serialize;

use crate::domain::period::Period;
use crate::durable;
use crate::layout::Layout;
use crate::state::{State, StateError};

/// What shredding a period removed (counts only).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Shredded {
    /// The period.
    pub period: String,
    /// Whether its key was still there (and is now gone).
    pub key: bool,
    /// Sealed intake files.
    pub sealed_files: usize,
    /// Receipt and batch-report files.
    pub receipts: usize,
    /// Bundle and manifest files still in pickup folders.
    pub bundles: usize,
    /// Rows of the state database.
    pub state_rows: usize,
}

/// Why shredding failed.
#[derive(Debug, thiserror::Error)]
pub enum ShredError {
    /// Disk.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        source: io::Error,
    },
    /// State database.
    #[error(transparent)]
    State(#[from] StateError),
}

pub(super) fn io_at(path: &Path) -> impl FnOnce(io::Error) -> ShredError + '_ {
    move |source| ShredError::Io { path: path.display().to_string(), source }
}

/// Removes a file if it is there, and its signature `<file>.sig` (docs/receipt.md) before
/// it, so no signature outlives its file; returns whether the file was there.
pub(super) fn remove(path: &Path) -> Result<bool, ShredError> {
    remove_one(&crate::signature::sig_path(path))?;
    remove_one(path)
}

fn remove_one(path: &Path) -> Result<bool, ShredError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_at(path)(e)),
    }
}

/// Overwrites a key file with zeros, syncs it, unlinks it and syncs its folder.
fn destroy_key(path: &Path) -> Result<bool, ShredError> {
    let len = match fs::metadata(path) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(io_at(path)(e)),
    };
    let mut f = OpenOptions::new().write(true).open(path).map_err(io_at(path))?;
    f.write_all(&vec![0u8; len as usize]).and_then(|()| f.sync_all()).map_err(io_at(path))?;
    drop(f);
    remove(path)?;
    if let Some(dir) = path.parent() {
        durable::sync_dir(dir).map_err(io_at(dir))?;
    }
    Ok(true)
}

/// Entries directly in `dir` whose names satisfy `matches`, sorted (none if `dir` is not there).
pub(super) fn names_in(dir: &Path, matches: impl Fn(&str) -> bool) -> Result<Vec<String>, ShredError> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_at(dir)(e)),
    };
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.map_err(io_at(dir))?;
        if let Ok(name) = entry.file_name().into_string()
            && matches(&name)
        {
            out.push(name);
        }
    }
    out.sort();
    Ok(out)
}

/// Party folders under `parties/`.
fn parties(layout: &Layout) -> Result<Vec<String>, ShredError> {
    names_in(&layout.parties(), |_| true)
}

/// Shreds `p` (or, with `dry_run`, counts what would go).
pub fn shred_period(
    layout: &Layout,
    state: &State,
    p: Period,
    dry_run: bool,
) -> Result<Shredded, ShredError> {
    let period = p.to_string();
    let mut out = Shredded { period: period.clone(), ..Shredded::default() };
    let files: Vec<(String, String)> = {
        let conn = state.lock();
        let mut stmt =
            conn.prepare("SELECT file_id, creditor FROM files WHERE period = ?1").map_err(StateError)?;
        let rows = stmt.query_map(params![period], |r| Ok((r.get(0)?, r.get(1)?))).map_err(StateError)?;
        rows.collect::<Result<_, _>>().map_err(StateError)?
    };
    // 1. The key: from here on the period's sealed intake cannot be read.
    let key = layout.period_key(p);
    out.key = key.exists();
    if !dry_run {
        destroy_key(&key)?;
        // Crash test hook: end the process (as a kill -9 would) right after the key is gone.
        if std::env::var_os("MELDPUNT_TEST_ABORT_SHRED_AFTER_KEY").is_some() {
            std::process::abort();
        }
    }
    // 2. Sealed intake.
    let vault = layout.vault(p);
    let sealed = names_in(&vault, |_| true)?;
    // Counted without their key indexes (removed with them).
    out.sealed_files = sealed.iter().filter(|n| !n.ends_with(crate::vault::INDEX_SUFFIX)).count();
    // 3. Receipts of the period's files and its batch reports; 4. bundles in pickup folders.
    let batch_report = |n: &str| crate::batch::report::parse_name(n).is_some_and(|(rp, _)| rp == p);
    let bundle = |n: &str| n.split('_').nth(1) == Some(period.as_str());
    let mut doomed = Vec::new();
    // Receipt files by id, read once per creditor folder.
    let mut on_disk = std::collections::HashMap::new();
    for (file_id, creditor) in &files {
        let dir = layout.receipts(creditor);
        if !on_disk.contains_key(creditor) {
            let found = crate::intake::receipt_files::by_id(&dir).map_err(io_at(&dir))?;
            on_disk.insert(creditor.clone(), found);
        }
        for name in on_disk[creditor].get(file_id).into_iter().flatten() {
            doomed.push(dir.join(name));
            out.receipts += 1;
        }
    }
    for party in parties(layout)? {
        for name in names_in(&layout.receipts(&party), batch_report)? {
            doomed.push(layout.receipts(&party).join(name));
            out.receipts += 1;
        }
        for name in names_in(&layout.pickup(&party), bundle)? {
            doomed.push(layout.pickup(&party).join(name));
            out.bundles += 1;
        }
    }
    out.state_rows = count_rows(state, &period)?;
    if dry_run {
        return Ok(out);
    }
    for name in &sealed {
        remove(&vault.join(name))?;
    }
    // A key index a batch finished after the listing (sealed to the key now gone) goes too.
    for name in names_in(&vault, |n| n.ends_with(crate::vault::INDEX_SUFFIX))? {
        remove(&vault.join(name))?;
    }
    if vault.exists() {
        fs::remove_dir(&vault).map_err(io_at(&vault))?;
    }
    for path in &doomed {
        remove(path)?;
    }
    // 5. Derived state, then the database compacted so nothing lingers in free pages or the WAL.
    delete_rows(state, &period)?;
    Ok(out)
}

const ROWS: [&str; 4] = [
    "SELECT COUNT(*) FROM files WHERE period = ?1",
    "SELECT COUNT(*) FROM delivered WHERE period = ?1",
    "SELECT COUNT(*) FROM feedback WHERE signal_id IN (SELECT signal_id FROM delivered WHERE period = ?1)",
    "SELECT COUNT(*) FROM pickups WHERE name LIKE '%\\_' || ?1 || '\\_%' ESCAPE '\\'",
];

fn count_rows(state: &State, period: &str) -> Result<usize, ShredError> {
    let conn = state.lock();
    let mut n = 0usize;
    for q in ROWS {
        n += conn.query_row(q, params![period], |r| r.get::<_, i64>(0)).map_err(StateError)? as usize;
    }
    Ok(n)
}

fn delete_rows(state: &State, period: &str) -> Result<(), ShredError> {
    let mut conn = state.lock();
    let tx = conn.transaction().map_err(StateError)?;
    for q in [
        "DELETE FROM feedback WHERE signal_id IN (SELECT signal_id FROM delivered WHERE period = ?1)",
        crate::state::via::DELETE_OF_PERIOD,
        "DELETE FROM delivered WHERE period = ?1",
        "DELETE FROM files WHERE period = ?1",
        "DELETE FROM pickups WHERE name LIKE '%\\_' || ?1 || '\\_%' ESCAPE '\\'",
    ] {
        tx.execute(q, params![period]).map_err(StateError)?;
    }
    tx.commit().map_err(StateError)?;
    drop(conn);
    compact(state)?;
    Ok(())
}

/// Compacts the database and empties its write-ahead log, so deleted rows linger neither in
/// free pages nor in the WAL (`secure_delete` overwrites them in the pages they leave).
pub fn compact(state: &State) -> Result<(), StateError> {
    state
        .lock()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")?;
    Ok(())
}
