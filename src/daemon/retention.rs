//! The daemon's hourly retention round: picked-up bundles past their days, unpicked bundles
//! counted, periods and shorter windows past retention shredded, known-client lists past
//! `[clients] max_age_days` expired.

use tokio::sync::watch;

use crate::app::App;

/// How often retention is applied (picked-up bundles, expired periods).
const EXPIRE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Retention: removes picked-up bundles whose days are over and shreds periods past their
/// retention, at start and then every [`EXPIRE_EVERY`].
pub async fn run(app: App, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
    loop {
        let a = app.clone();
        let done = tokio::task::spawn_blocking(move || apply_retention(&a)).await;
        if let Err(e) = done {
            tracing::error!(error = %e, "retention task failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(EXPIRE_EVERY) => {}
            _ = stop.changed() => return Ok(()),
        }
    }
}

/// One round of retention; each part logs its own failure and the others still run.
fn apply_retention(app: &App) {
    let now = jiff::Timestamp::now();
    if let Err(e) = crate::pickup::expire::expire_picked_up(app, now) {
        tracing::warn!(error = %e, "removing picked-up bundles failed; trying again later");
    }
    let today = crate::domain::period::local_date(now);
    match crate::pickup::unpicked::unpicked(app, today) {
        Ok(u) => {
            app.metrics().set_unpicked(u.total, u.near_shred.len() as u64);
            for (municipality, file, shred) in &u.near_shred {
                tracing::warn!(gemeente = %municipality, %file, %shred, "bundle not picked up; it is shredded with its period on that date");
            }
        }
        Err(e) => tracing::warn!(error = %e, "counting unpicked bundles failed"),
    }
    if let Err(e) = crate::clients::expire(app, now) {
        tracing::warn!(error = %e, "expiring known-client lists failed; trying again later");
    }
    if let Err(e) = crate::retention::run(app, now, false, "system") {
        tracing::warn!(error = %e, "shredding expired periods failed; trying again later");
    }
}
