//! Live configuration: on SIGHUP, or when the configuration file or a file it names (SSH key
//! files, host key, HTTPS certificate, key, CAs, CRLs, routing table) changes, the
//! configuration is read again with the same checks as at start.
//!
//! - A valid one is put in force at once: every later login, request, upload and batch uses
//!   it. Sessions it no longer admits (a removed party or key) are closed. What needs a new
//!   listener (`[sftp]`, `[https]`, `[admin]`, `data_dir`, `[defender]`, …) keeps its
//!   running value and is logged as needing a restart; so does a changed SSH host key file.
//! - The HTTPS listener is told to read its certificate, key, CAs and CRLs again: a file
//!   changed at the same path is served from the next handshake (`tls_reload`).
//! - An invalid one is refused with every problem logged; the one in force keeps serving.
//! - Each attempt is audited as `config_reload` (ids, fingerprints, setting names, the named
//!   files whose contents changed, counts) and counted in `meldpunt_config_reloads_total`.
//!
//! File events are hints (`notify`): they are gathered for [`SETTLE`] after the last one,
//! and nothing happens when the files read the same as at the last reload. Once the watcher
//! is up the files are compared with what they held at start-up, so a change made before
//! the watcher was up is not missed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher as _};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::{Notify, mpsc, watch};

use crate::app::App;
use crate::audit::{Event, Outcome};
use crate::config::Config;
use crate::config::change::{applicable, changes};
use crate::metrics::ReloadOutcome;

/// Quiet time after the last file event before the files are read (an editor's save or a
/// `cp` is several events).
const SETTLE: Duration = Duration::from_millis(300);

/// What asked for a reload.
#[derive(Clone, Copy, Debug)]
enum Trigger {
    /// A named file changed.
    File,
    /// SIGHUP (`systemctl reload`).
    Hangup,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Trigger::File => "file_change",
            Trigger::Hangup => "sighup",
        }
    }
}

/// Runs until `stop` turns true: reloads on every message of `hangup` and on changes of the
/// named files; after each reload `tls_files` is notified (the HTTPS listener reads its
/// certificate, key, CAs and CRLs again).
///
/// `baseline` is what the named files held when the daemon started ([`baseline`]): a change
/// made before the watcher was up is read as soon as it is.
pub async fn run(
    app: App,
    mut hangup: mpsc::Receiver<()>,
    tls_files: Arc<Notify>,
    baseline: Baseline,
    mut stop: watch::Receiver<bool>,
) {
    let (events_tx, mut events) = mpsc::unbounded_channel::<()>();
    // Held for as long as it should watch; replaced when the files named change.
    let mut _watcher = watch_files(&app.config(), events_tx.clone());
    let mut last = baseline.0;
    let _ = events_tx.send(());
    loop {
        let trigger = tokio::select! {
            _ = stop.changed() => return,
            Some(()) = hangup.recv() => Trigger::Hangup,
            Some(()) = events.recv() => {
                // Let the writer finish: wait until the events stop for a moment.
                while let Ok(Some(())) = tokio::time::timeout(SETTLE, events.recv()).await {}
                Trigger::File
            }
        };
        let files = app.config().named_files();
        let now = contents_hashes(&files);
        if matches!(trigger, Trigger::File) && now == last {
            continue;
        }
        let changed: Vec<PathBuf> =
            now.iter().filter(|(f, h)| last.get(*f) != Some(h)).map(|(f, _)| f.clone()).collect();
        let applied = reload(&app, trigger, &changed).await;
        tls_files.notify_one();
        if applied {
            // The new configuration may name other files.
            _watcher = watch_files(&app.config(), events_tx.clone());
        }
        // The contents as read before this reload: a file written while it ran still differs
        // from them, so its event reloads again instead of being taken for nothing new.
        let named = app.config().named_files();
        let mut current = contents_hashes(&named);
        for (f, h) in current.iter_mut() {
            if let Some(before) = now.get(f) {
                *h = *before;
            }
        }
        last = current;
    }
}

/// Reads the configuration again and puts it in force if it is valid. `true` when it was.
/// `files` are the named files whose contents changed since the last reload.
async fn reload(app: &App, trigger: Trigger, files: &[PathBuf]) -> bool {
    let old = app.config();
    let source = old.source.clone();
    let loaded = tokio::task::spawn_blocking(move || {
        let bytes = std::fs::read(&source).unwrap_or_default();
        (Config::load(&source), hex::encode(Sha256::digest(&bytes)))
    })
    .await;
    let Ok((loaded, sha256)) = loaded else {
        tracing::error!("configuration reload panicked; the configuration in force keeps serving");
        return false;
    };
    let new = match loaded {
        Ok(c) => c,
        Err(problems) => {
            for p in &problems.0 {
                tracing::error!(problem = %p, "configuration reload refused");
            }
            app.metrics().reload(ReloadOutcome::Refused);
            tracing::error!(
                problems = problems.0.len(),
                trigger = trigger.as_str(),
                "the new configuration is not valid; the configuration in force keeps serving"
            );
            let ev = Event::new("system", "config_reload", Outcome::Error).object(json!({
                "trigger": trigger.as_str(),
                "sha256": sha256,
                "problems": problems.0.len(),
            }));
            app.audit().record(ev).await;
            return false;
        }
    };
    let mut ch = changes(&old, &new);
    let host_key = old.sftp.as_ref().map(|s| s.host_key.clone());
    if host_key.is_some_and(|k| files.contains(&k)) && !ch.restart_needed.contains(&"sftp") {
        ch.restart_needed.push("sftp.host_key");
    }
    let new = Arc::new(applicable(&old, new));
    app.metrics().reload(ReloadOutcome::Applied);
    app.replace_config(new.clone());
    let closed = app.sessions().close_unadmitted(&new);
    if !ch.restart_needed.is_empty() {
        tracing::warn!(
            settings = ch.restart_needed.join(", "),
            "changed settings that need a new listener or a restart; they keep their running values until meldpunt restarts"
        );
    }
    tracing::info!(
        trigger = trigger.as_str(),
        parties_added = ch.parties_added.join(" "),
        parties_removed = ch.parties_removed.join(" "),
        keys_added = ch.keys_added.len(),
        keys_removed = ch.keys_removed.len(),
        settings = ch.settings.join(" "),
        sessions_closed = closed.iter().map(|(_, n)| n).sum::<usize>(),
        "configuration reloaded"
    );
    let mut object = serde_json::to_value(&ch).unwrap_or_else(|_| json!({}));
    object["trigger"] = json!(trigger.as_str());
    object["sha256"] = json!(sha256);
    object["changed"] = json!(!ch.is_empty());
    object["files_changed"] = json!(files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>());
    object["creditors"] = json!(new.creditors.len());
    object["municipalities"] = json!(new.municipalities.len());
    object["executors"] = json!(new.executors.len());
    object["sessions_closed"] = closed
        .iter()
        .map(|(p, n)| (p.as_str().to_owned(), json!(n)))
        .collect::<serde_json::Map<_, _>>()
        .into();
    app.audit().record(Event::new("system", "config_reload", Outcome::Ok).object(object)).await;
    true
}

/// Watches the folders of the named files (so that a file replaced by a rename is seen) and
/// sends a message for every change of one of them. `None` when no watch could be set up
/// (logged; SIGHUP still reloads).
fn watch_files(config: &Config, tx: mpsc::UnboundedSender<()>) -> Option<notify::RecommendedWatcher> {
    let files = config.named_files();
    let names: BTreeSet<(PathBuf, std::ffi::OsString)> =
        files.iter().filter_map(|f| Some((folder_of(f), f.file_name()?.to_owned()))).collect();
    let folders: BTreeSet<PathBuf> = names.iter().map(|(d, _)| d.clone()).collect();
    let handler = move |res: notify::Result<notify::Event>| {
        let Ok(ev) = res else {
            // An overflow or watch error: read the files again to be sure.
            let _ = tx.send(());
            return;
        };
        if !is_change(&ev.kind) {
            return;
        }
        let ours = ev.need_rescan()
            || ev
                .paths
                .iter()
                .any(|p| p.file_name().is_some_and(|n| names.contains(&(folder_of(p), n.to_owned()))));
        if ours {
            let _ = tx.send(());
        }
    };
    let mut watcher = match notify::recommended_watcher(handler) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch the configuration files; only SIGHUP reloads");
            return None;
        }
    };
    for folder in &folders {
        if let Err(e) = watcher.watch(folder, RecursiveMode::NonRecursive) {
            tracing::warn!(folder = %folder.display(), error = %e, "cannot watch this folder; SIGHUP reloads its files");
        }
    }
    Some(watcher)
}

/// Whether an event can mean new contents (opening and reading a file cannot).
fn is_change(kind: &EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode, MetadataKind, ModifyKind};
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)) => false,
        _ => true,
    }
}

/// The folder of a file as the watcher names it (`.` for a bare name).
fn folder_of(file: &Path) -> PathBuf {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// What the named files held at a moment, for [`run`].
pub struct Baseline(BTreeMap<PathBuf, [u8; 32]>);

/// The named files of `config` as they are now (take it when the configuration is read).
pub fn baseline(config: &Config) -> Baseline {
    Baseline(contents_hashes(&config.named_files()))
}

/// The SHA-256 of each file's contents (a missing file counts as empty), to skip events
/// that changed nothing and to name the files that did change.
fn contents_hashes(files: &[PathBuf]) -> BTreeMap<PathBuf, [u8; 32]> {
    files.iter().map(|f| (f.clone(), Sha256::digest(std::fs::read(f).unwrap_or_default()).into())).collect()
}
