//! Watching the CRL files of the HTTPS listener: a changed file is reloaded (audited
//! `crl_reload`), and a CRL in force past its `nextUpdate` is warned about and shown in
//! `meldpunt_crl_stale` while the verifier refuses every handshake (`tls.rs`).

use std::sync::Arc;

use serde_json::json;
use tokio::sync::watch;

use super::server::Shared;
use crate::audit::{Event, Outcome};

/// Re-reads the CRL files when they change, and checks on every tick (the first at once)
/// whether a CRL in force is past its `nextUpdate`.
pub(super) async fn watch_crls(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    if shared.cfg.crl.is_empty() {
        return;
    }
    let mut tick = tokio::time::interval(shared.tls.interval());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stale = false;
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tick.tick() => {}
        }
        let tls = shared.tls.clone();
        let result = tokio::task::spawn_blocking(move || tls.check()).await;
        stale = crl_freshness(&shared, stale);
        let (outcome, detail) = match result {
            Ok(Ok(false)) => continue,
            Ok(Ok(true)) => (Outcome::Ok, json!({ "files": shared.cfg.crl.len() })),
            Ok(Err(e)) => {
                tracing::error!(error = %format!("{e:#}"), "a CRL file changed but cannot be used; the previous CRLs stay in force");
                (Outcome::Error, json!({ "error": "unreadable_crl" }))
            }
            Err(_) => continue,
        };
        tracing::info!(?outcome, "CRL reload");
        shared.intake.app().audit().record(Event::new("system", "crl_reload", outcome).object(detail)).await;
    }
}

/// Sets `meldpunt_crl_stale` and warns when a CRL in force turns stale (once per change;
/// `was` is the previous state). Returns the state now.
fn crl_freshness(shared: &Shared, was: bool) -> bool {
    let since = shared.tls.current().crl_stale_since(jiff::Timestamp::now().as_second());
    shared.intake.app().metrics().set_crl_stale(since.is_some());
    match (was, since) {
        (false, Some(next)) => tracing::warn!(
            next_update = %jiff::Timestamp::from_second(next).map_or_else(|_| next.to_string(), |t| t.to_string()),
            "a CRL is past its nextUpdate: every HTTPS handshake is refused until a current CRL is in place"
        ),
        (true, None) => tracing::info!("the CRLs are current again: HTTPS handshakes are verified as usual"),
        _ => {}
    }
    since.is_some()
}
