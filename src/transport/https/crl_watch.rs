//! Watching the files the TLS configuration is built from (server certificate and key, client
//! CAs, CRLs): a changed file is reloaded for the next handshake (audited `crl_reload` when
//! only CRLs changed, `tls_reload` otherwise), and a CRL in force past its `nextUpdate` is
//! warned about and shown in `meldpunt_crl_stale` while the verifier refuses every handshake
//! (`tls.rs`). The files are checked every `crl_check_secs` and at once when the daemon's
//! reload (SIGHUP, a watched file) says files changed.

use std::sync::Arc;

use serde_json::json;
use tokio::sync::{Notify, watch};

use super::server::Shared;
use crate::audit::{Event, Outcome};

/// Re-reads the files when they change, on every tick (the first at once) and whenever
/// `nudge` is notified, and checks whether a CRL in force is past its `nextUpdate`.
pub(super) async fn watch_files(shared: Arc<Shared>, nudge: Arc<Notify>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(shared.tls.interval());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stale = false;
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tick.tick() => {}
            () = nudge.notified() => {}
        }
        let tls = shared.tls.clone();
        let result = tokio::task::spawn_blocking(move || tls.check()).await;
        stale = crl_freshness(&shared, stale);
        let (action, outcome, detail) = match result {
            Ok(Ok(changed)) if changed.is_empty() => continue,
            Ok(Ok(changed)) if changed == ["crl"] => {
                ("crl_reload", Outcome::Ok, json!({ "files": shared.cfg.crl.len() }))
            }
            Ok(Ok(changed)) => {
                let generation = shared.tls.current().generation;
                tracing::info!(
                    changed = changed.join(" "),
                    "TLS files changed: served from the next handshake"
                );
                ("tls_reload", Outcome::Ok, json!({ "changed": changed, "generation": generation }))
            }
            Ok(Err(e)) => {
                tracing::error!(error = %format!("{e:#}"), "a TLS file changed but cannot be used; the previous certificates, key, CAs and CRLs stay in force");
                ("tls_reload", Outcome::Error, json!({ "error": "unusable_tls_files" }))
            }
            Err(_) => continue,
        };
        tracing::info!(action, ?outcome, "TLS reload");
        shared.intake.app().audit().record(Event::new("system", action, outcome).object(detail)).await;
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
