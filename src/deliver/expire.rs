//! `[pickup] retention_days`: files a municipality picked up (downloaded completely) leave
//! its pickup folder that many days after the first pickup. Files never picked up stay until
//! their period's retention (the shredder's job, SPEC §9).

use jiff::{Timestamp, ToSpan};
use serde_json::json;

use crate::audit::{Audit, Event, Outcome};
use crate::config::Config;
use crate::layout::Layout;
use crate::state::{State, exchange};
use crate::vault::fsutil;

/// Removes the picked-up files whose time is up at `now`; returns how many went.
pub fn expire_picked_up(
    config: &Config,
    layout: &Layout,
    state: &State,
    audit: &Audit,
    now: Timestamp,
) -> std::io::Result<usize> {
    let keep = i64::from(config.pickup_retention_days);
    let mut removed = 0;
    for m in &config.municipalities {
        let dir = layout.pickup(m.code.as_str());
        let entries = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let mut gone = Vec::new();
        for entry in entries {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else { continue };
            if name.starts_with('.') || !entry.file_type()?.is_file() {
                continue;
            }
            let Ok(Some(at)) = exchange::picked_up_at(&state.lock(), m.code.as_str(), &name) else {
                continue;
            };
            let Ok(at) = at.parse::<Timestamp>() else { continue };
            let due = at.checked_add((keep * 24).hours()).unwrap_or(at);
            if due <= now {
                std::fs::remove_file(entry.path())?;
                gone.push(name);
            }
        }
        if gone.is_empty() {
            continue;
        }
        fsutil::sync_dir(&dir)?;
        removed += gone.len();
        gone.sort();
        let ev = Event::new("system", "pickup_expired", Outcome::Ok).object(json!({
            "gemeente": m.code.as_str(),
            "files": gone,
            "retention_days": keep,
        }));
        if let Err(e) = audit.emit_blocking(ev) {
            tracing::error!(error = %e, "could not write audit event");
        }
        tracing::info!(gemeente = %m.code, count = gone.len(), "picked-up files removed after retention");
    }
    Ok(removed)
}
