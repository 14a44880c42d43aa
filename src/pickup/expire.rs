//! `[pickup] retention_days`: files a municipality picked up (downloaded completely) leave
//! its pickup folder that many days after the first pickup. Files never picked up stay until
//! their period's retention (the shredder's job, docs/storage-and-retention.md). A manifest stays as long as any
//! bundle file it lists is still there, so a bundle in the folder always has its manifest.

use jiff::{Timestamp, ToSpan};
use serde_json::json;

use super::folder;
use crate::app::App;
use crate::audit::{Event, Outcome};
use crate::domain::party::Receiver;
use crate::durable;

/// Removes the picked-up files whose time is up at `now`; returns how many went.
pub fn expire_picked_up(app: &App, now: Timestamp) -> std::io::Result<usize> {
    let (config, layout, state, audit) = (app.config(), app.layout(), app.state(), app.audit());
    let keep = i64::from(config.pickup_retention_days);
    let mut removed = 0;
    for receiver in config.receivers() {
        let id = receiver.as_str();
        let dir = layout.pickup(id);
        let here = folder::files(layout, state, id)?;
        let mut present: std::collections::HashSet<String> = here.iter().map(|f| f.name.clone()).collect();
        let due: Vec<String> = here
            .into_iter()
            .filter(|f| {
                f.picked_up_at.is_some_and(|at| at.checked_add((keep * 24).hours()).unwrap_or(at) <= now)
            })
            .map(|f| f.name)
            .collect();
        // Bundle files first; then manifests none of whose files remain.
        let (manifests, files): (Vec<String>, Vec<String>) =
            due.into_iter().partition(|n| n.ends_with("_manifest.json"));
        let mut gone = Vec::new();
        for name in files {
            std::fs::remove_file(dir.join(&name))?;
            present.remove(&name);
            gone.push(name);
        }
        for name in manifests {
            let listed = folder::manifest_files(&dir.join(&name));
            if listed.iter().all(|(f, _)| !present.contains(f)) {
                std::fs::remove_file(dir.join(&name))?;
                gone.push(name);
            }
        }
        if gone.is_empty() {
            continue;
        }
        durable::sync_dir(&dir)?;
        removed += gone.len();
        gone.sort();
        let whose = match receiver {
            Receiver::Municipality(_) => "gemeente",
            Receiver::Executor(_) => "uitvoerder",
        };
        let ev = Event::new("system", "pickup_expired", Outcome::Ok).object(json!({
            whose: id,
            "files": gone,
            "retention_days": keep,
        }));
        if let Err(e) = audit.emit_blocking(ev) {
            tracing::error!(error = %e, "could not write audit event");
        }
        tracing::info!(party = %id, count = gone.len(), "picked-up files removed after retention");
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::exchange;

    #[test]
    fn picked_up_files_go_after_their_days_and_manifests_last() {
        let d = tempfile::tempdir().unwrap();
        let app = crate::demo::setup::open_app(&d.path().join("i"));
        let layout = app.layout();
        let (state, audit) = (app.state(), app.audit());
        let dir = layout.pickup("GM0505");
        std::fs::create_dir_all(&dir).unwrap();
        let (csv, json, manifest) = ("B_signalen.csv.age", "B_signalen.json.age", "B_manifest.json");
        for f in [csv, json] {
            std::fs::write(dir.join(f), b"x").unwrap();
        }
        std::fs::write(
            dir.join(manifest),
            format!(r#"{{"files":[{{"name":"{csv}"}},{{"name":"{json}"}}]}}"#),
        )
        .unwrap();
        let day0: Timestamp = "2026-12-01T10:00:00Z".parse().unwrap();
        for f in [csv, manifest] {
            exchange::record_pickup(&state.lock(), "GM0505", f, &day0.to_string(), "download:sftp").unwrap();
        }
        let at = |days: i64| day0.checked_add((days * 24).hours()).unwrap();
        assert_eq!(expire_picked_up(&app, at(13)).unwrap(), 0);
        // Day 14: the picked-up CSV goes; the manifest stays while the JSON bundle is there.
        assert_eq!(expire_picked_up(&app, at(14)).unwrap(), 1);
        assert!(!dir.join(csv).exists() && dir.join(json).exists() && dir.join(manifest).exists());
        // The JSON bundle is picked up later; 14 days after that both it and the manifest go.
        exchange::record_pickup(&state.lock(), "GM0505", json, &at(20).to_string(), "remove:https").unwrap();
        assert_eq!(expire_picked_up(&app, at(34)).unwrap(), 2);
        assert!(!dir.join(json).exists() && !dir.join(manifest).exists());
        let events = audit.records().unwrap();
        assert_eq!(events.iter().filter(|e| e.action == "pickup_expired").count(), 2);
    }
}
