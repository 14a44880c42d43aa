//! Recording pickups (docs/folders-and-protocols.md, issue 5): a completed download or a remove of a file in a
//! municipality's `/pickup` is an audit event; the first pickup of a bundle file is also
//! recorded in the state database (for `[pickup] retention_days`) and in the bundle's
//! manifest (`picked_up`), which is rewritten atomically.

use std::io::{self, Read};
use std::path::Path;
use std::sync::Mutex;

use jiff::Timestamp;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::app::App;
use crate::audit::{Event, Outcome};
use crate::domain::party::Receiver;
use crate::durable;
use crate::state::exchange;

/// Manifest rewrites, one at a time.
static MANIFESTS: Mutex<()> = Mutex::new(());

/// How a file left the pickup folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    /// Downloaded completely (every byte was read).
    Download,
    /// Removed by the municipality (acknowledged).
    Remove,
}

impl How {
    fn action(self) -> &'static str {
        match self {
            How::Download => "pickup",
            How::Remove => "pickup_ack",
        }
    }

    fn word(self) -> &'static str {
        match self {
            How::Download => "download",
            How::Remove => "remove",
        }
    }
}

/// One pickup as the protocol saw it.
#[derive(Clone, Debug)]
pub struct Pickup {
    /// The municipality or executor whose pickup folder it is.
    pub party: Receiver,
    /// File name in its pickup folder.
    pub name: String,
    /// Size of the file.
    pub bytes: u64,
    /// Download or remove.
    pub how: How,
    /// `sftp` or `https`.
    pub protocol: &'static str,
    /// Key or certificate fingerprint.
    pub auth: String,
    /// Peer address.
    pub origin: String,
    /// For a ranged download: the first byte sent.
    pub from: Option<u64>,
}

/// The SHA-256 (hex) of a file, streamed.
fn sha256_file(path: &Path) -> io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// The SHA-256 (hex) of a file in a pickup folder: as its manifest lists it (written by the
/// batch), else hashed from the file (the manifest itself).
pub fn sha256_in(dir: &Path, name: &str) -> io::Result<String> {
    let listed = manifest_of(name).map(|m| super::folder::manifest_files(&dir.join(m))).unwrap_or_default();
    match listed.into_iter().find(|(n, sha)| n == name && sha.len() == 64) {
        Some((_, sha)) => Ok(sha),
        None => sha256_file(&dir.join(name)),
    }
}

/// The manifest a bundle file belongs to: `GM0505_2026-11_v1_signalen.csv.age` →
/// `GM0505_2026-11_v1_manifest.json`.
pub fn manifest_of(name: &str) -> Option<String> {
    let base = name.strip_suffix(".age")?.rsplit_once("_signalen.")?.0;
    Some(format!("{base}_manifest.json"))
}

/// Records a pickup: the audit event always; state and manifest the first time.
pub async fn pickup(app: &App, p: Pickup) {
    let app = app.clone();
    let done = tokio::task::spawn_blocking(move || record_blocking(&app, &p)).await;
    if let Err(e) = done {
        tracing::error!(error = %e, "recording a pickup failed");
    }
}

fn record_blocking(app: &App, p: &Pickup) {
    let now = Timestamp::now().round(jiff::Unit::Second).unwrap_or(Timestamp::now()).to_string();
    let how = format!("{}:{}", p.how.word(), p.protocol);
    let first = exchange::record_pickup(&app.state().lock(), p.party.as_str(), &p.name, &now, &how)
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "could not record a pickup");
            false
        });
    if first && let Some(manifest) = manifest_of(&p.name) {
        let path = app.layout().pickup(p.party.as_str()).join(manifest);
        if let Err(e) = mark_manifest(&path, &p.name, &now, &how) {
            tracing::warn!(error = %e, "could not note the pickup in the manifest");
        }
    }
    let ev = Event::new(p.party.actor(), p.how.action(), Outcome::Ok)
        .auth(p.auth.clone())
        .origin(p.origin.clone())
        .object(json!({
            "protocol": p.protocol,
            "bundle": p.name,
            "bytes": p.bytes,
            "from": p.from,
            "first": first,
        }));
    if let Err(e) = app.audit().emit_blocking(ev) {
        tracing::error!(error = %e, "could not write audit event");
    }
    tracing::info!(party = %p.party, how = %how, first, "pickup");
}

/// Adds `picked_up.<name> = {at, how}` to a manifest, if it is there and lists `name`.
fn mark_manifest(path: &Path, name: &str, at: &str, how: &str) -> io::Result<()> {
    let _one = MANIFESTS.lock().unwrap_or_else(|e| e.into_inner());
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut doc: serde_json::Value = serde_json::from_slice(&text).map_err(io::Error::other)?;
    let listed = doc["files"].as_array().is_some_and(|fs| fs.iter().any(|f| f["name"] == name));
    if !listed || doc.get("picked_up").and_then(|p| p.get(name)).is_some() {
        return Ok(());
    }
    if !doc.get("picked_up").is_some_and(serde_json::Value::is_object) {
        doc["picked_up"] = json!({});
    }
    doc["picked_up"][name] = json!({ "at": at, "how": how });
    let mut out = serde_json::to_vec_pretty(&doc).map_err(io::Error::other)?;
    out.push(b'\n');
    durable::write_atomic(path, &out, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_names() {
        assert_eq!(
            manifest_of("GM0505_2026-11_v1_signalen.csv.age").as_deref(),
            Some("GM0505_2026-11_v1_manifest.json")
        );
        assert_eq!(
            manifest_of("GM0505_2026-11_v2_signalen.json.age").as_deref(),
            Some("GM0505_2026-11_v2_manifest.json")
        );
        assert_eq!(manifest_of("GM0505_2026-11_v1_manifest.json"), None);
        assert_eq!(manifest_of("other.age"), None);
    }

    #[test]
    fn marks_listed_files_once() {
        let d = tempfile::tempdir().unwrap();
        let m = d.path().join("GM0505_2026-11_v1_manifest.json");
        std::fs::write(&m, br#"{"files":[{"name":"a.csv.age"}],"counts":{}}"#).unwrap();
        mark_manifest(&m, "a.csv.age", "2026-12-01T10:00:00Z", "download:sftp").unwrap();
        mark_manifest(&m, "a.csv.age", "2026-12-02T10:00:00Z", "remove:https").unwrap();
        mark_manifest(&m, "b.csv.age", "2026-12-02T10:00:00Z", "remove:https").unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&m).unwrap()).unwrap();
        assert_eq!(
            doc["picked_up"],
            json!({"a.csv.age": {"at": "2026-12-01T10:00:00Z", "how": "download:sftp"}})
        );
        assert!(mark_manifest(&d.path().join("missing.json"), "a", "t", "h").is_ok());
    }
}
