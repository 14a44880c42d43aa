//! The daemon's audit timer: a signed checkpoint every `checkpoint_interval` (when there are
//! new events), and once a day (and at start) the retention purge.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::app::App;
use crate::audit::retention::purge_boundary;
use crate::audit::{AuditKey, Event, Outcome};

/// Time between retention purges.
const PURGE_EVERY: Duration = Duration::from_secs(24 * 3600);

/// Runs until `stop` turns true.
pub async fn run(app: App, key: Arc<AuditKey>, mut stop: watch::Receiver<bool>) {
    let (audit, cfg) = (app.audit(), app.config().audit.clone());
    let mut checkpoint = tokio::time::interval(cfg.checkpoint_interval);
    checkpoint.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    checkpoint.tick().await;
    let mut purge = tokio::time::interval(PURGE_EVERY);
    purge.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = checkpoint.tick() => {
                let (a, k) = (audit.clone(), key.clone());
                let done = tokio::task::spawn_blocking(move || a.checkpoint_blocking(&k, "interval", true)).await;
                if let Ok(Err(e)) = done {
                    tracing::error!(error = %e, "could not write an audit checkpoint");
                }
            }
            _ = purge.tick() => {
                let (a, k) = (audit.clone(), key.clone());
                let before = purge_boundary(jiff::Timestamp::now(), cfg.retention_months);
                let done = tokio::task::spawn_blocking(move || a.purge_blocking(&k, before)).await;
                match done {
                    Ok(Ok(Some(anchor))) => tracing::info!(through = anchor.through, purged = anchor.purged, "audit events past retention purged"),
                    Ok(Ok(None)) => {}
                    Ok(Err(e)) => {
                        tracing::error!(error = %e, "audit retention purge failed");
                        audit.record(Event::new("system", "audit_purge", Outcome::Error)).await;
                    }
                    Err(e) => tracing::error!(error = %e, "audit retention purge panicked"),
                }
            }
        }
    }
}

/// At start: loads (or creates) the audit key and records `config_load` with the
/// configuration's hash and whether it changed since the last start.
pub fn start_key(app: &App) -> anyhow::Result<Arc<AuditKey>> {
    use anyhow::Context;
    use sha2::{Digest, Sha256};
    let path = app.layout().audit_key();
    let key = AuditKey::load_or_create(&path).with_context(|| {
        format!("the audit key {} (restore it from backup; a daemon that cannot sign its audit log does not start)", path.display())
    })?;
    let config = app.config();
    let bytes = std::fs::read(&config.source).unwrap_or_default();
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let previous = app
        .audit()
        .last_object("config_load")?
        .and_then(|o| o.get("sha256").and_then(|s| s.as_str()).map(str::to_owned));
    let changed = previous.as_deref().is_some_and(|p| p != sha256);
    app.audit().emit_blocking(Event::new("system", "config_load", Outcome::Ok).object(
        serde_json::json!({
            "sha256": sha256,
            "bytes": bytes.len(),
            "previous": previous,
            "changed": changed,
            "creditors": config.creditors.len(),
            "municipalities": config.municipalities.len(),
            "executors": config.executors.len(),
            "audit_key": key.public().id(),
        }),
    ))?;
    Ok(Arc::new(key))
}
