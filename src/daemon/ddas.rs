//! The daemon's hourly look at the monthly DDAS drop (docs/ddas.md): from `[ddas] day` on, the
//! previous month's export goes into each municipality's pickup folder that lacks it.

use tokio::sync::watch;

use crate::app::App;

/// How often the drop is looked at.
const EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// At start and then every [`EVERY`]: drops the export due, if any (the configuration in
/// force decides the day, so a reload applies at the next look).
pub async fn run(app: App, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
    loop {
        let a = app.clone();
        match tokio::task::spawn_blocking(move || crate::ddas::monthly::drop_due(&a)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "the monthly DDAS export failed; trying again later"),
            Err(e) => tracing::error!(error = %e, "the monthly DDAS export task failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stop.changed() => return Ok(()),
        }
    }
}
