//! The running daemon: opens the data directory, audits an unclean end of the previous run,
//! recovers, starts the listeners and the timers (batch schedule, retention, audit
//! checkpoints), and reloads the configuration when asked or when its files change.

mod audit_timer;
mod ddas;
mod gauges;
pub mod health;
mod reload;
mod retention;
mod unclean;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use serde_json::json;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::app::App;
use crate::audit::{Event, Outcome};
use crate::config::Config;
use crate::intake::Intake;
use crate::layout::Layout;

/// A started daemon.
pub struct Daemon {
    app: App,
    sftp_addr: Option<SocketAddr>,
    https_addr: Option<SocketAddr>,
    admin_addr: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<anyhow::Result<()>>>,
    audit_key: Arc<crate::audit::AuditKey>,
    intake: Intake,
    reload: mpsc::Sender<()>,
}

/// How long a stop waits, after the last upload in flight was filed, before it closes the
/// connections (so the answer to that upload's close is sent first).
const ANSWER_SETTLE: std::time::Duration = std::time::Duration::from_secs(1);

impl Daemon {
    /// Opens the data directory, recovers from an interrupted run and starts listening.
    pub async fn start(config: Arc<Config>) -> anyhow::Result<Daemon> {
        let layout = Layout::new(&config.data_dir);
        let app = App::open(config.clone(), layout)?;
        // First what the previous run left: an unclean end, then its unfinished uploads.
        unclean::audit_unclean_stop(&app).context("checking how the previous run ended")?;
        let intake = Intake::new(app.clone());
        intake.recover().context("recovering from the previous run")?;
        let resumed = crate::feedback::resume(&app).context("finishing feedback of the previous run")?;
        if resumed > 0 {
            tracing::info!(files = resumed, "feedback of the previous run routed");
        }
        let audit_key = audit_timer::start_key(&app)?;
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        // One defender for both listeners: an origin's score and ban hold for both.
        let defender = crate::transport::defender::Defender::new(app.clone());
        tasks.push(tokio::spawn(defender.clone().run(stop_rx.clone())));
        let mut sftp_addr = None;
        if let Some(sftp) = config.sftp.clone() {
            let key = crate::transport::sftp::load_or_create_host_key(&sftp.host_key)?;
            let listener = tokio::net::TcpListener::bind(sftp.listen)
                .await
                .with_context(|| format!("binding SFTP listener {}", sftp.listen))?;
            sftp_addr = Some(listener.local_addr()?);
            let (i, d, rx) = (intake.clone(), defender.clone(), stop_rx.clone());
            tasks.push(tokio::spawn(crate::transport::sftp::serve_with_key(i, sftp, key, d, listener, rx)));
        }
        // What the files it names hold now (the host key created above included): a change
        // made before the reload watcher is up still counts.
        let files = reload::baseline(&config);
        let mut https_addr = None;
        // Notified after every reload: the HTTPS listener reads its TLS files again.
        let tls_files = Arc::new(tokio::sync::Notify::new());
        if let Some(https) = config.https.clone() {
            let listener = tokio::net::TcpListener::bind(https.listen)
                .await
                .with_context(|| format!("binding HTTPS listener {}", https.listen))?;
            https_addr = Some(listener.local_addr()?);
            // Certificates, key, CAs and CRLs are loaded before anything is served, so a bad
            // file stops start-up here rather than later.
            crate::transport::https::tls::build(&https, 0).context("loading the HTTPS certificates")?;
            tasks.push(tokio::spawn(crate::transport::https::serve(
                intake.clone(),
                https,
                defender.clone(),
                listener,
                tls_files.clone(),
                stop_rx.clone(),
            )));
        }
        if config.batch.automatic {
            let (a, rx) = (app.clone(), stop_rx.clone());
            let clock: Arc<dyn crate::batch::schedule::Clock> = Arc::new(crate::batch::schedule::SystemClock);
            tasks.push(tokio::spawn(async move {
                crate::batch::scheduler::run_schedule(a, clock, rx).await;
                anyhow::Ok(())
            }));
        }
        tasks.push(tokio::spawn(retention::run(app.clone(), stop_rx.clone())));
        tasks.push(tokio::spawn(ddas::run(app.clone(), stop_rx.clone())));
        tasks.push(tokio::spawn(crate::transport::spool::run(intake.clone(), stop_rx.clone())));
        // The admin listener (loopback only, checked by the configuration): /healthz, /metrics.
        let admin = tokio::net::TcpListener::bind(config.admin_listen)
            .await
            .with_context(|| format!("binding admin listener {}", config.admin_listen))?;
        let admin_addr = admin.local_addr()?;
        let probes = health::probes(&app, config.batch.automatic);
        let (metrics, gauges) = (app.metrics().clone(), gauges::gauges(&app));
        tasks.push(tokio::spawn(crate::admin::serve(admin, metrics, gauges, probes, stop_rx.clone())));
        app.audit()
            .record(Event::new("system", "start", Outcome::Ok).object(json!({
                "version": env!("CARGO_PKG_VERSION"),
                "creditors": config.creditors.len(),
                "municipalities": config.municipalities.len(),
                "executors": config.executors.len(),
                "sftp": sftp_addr.map(|a| a.to_string()),
                "https": https_addr.map(|a| a.to_string()),
                "admin": admin_addr.to_string(),
            })))
            .await;
        let (a2, rx2) = (app.clone(), stop_rx.clone());
        let (a, k, rx) = (app.clone(), audit_key.clone(), stop_rx.clone());
        tasks.push(tokio::spawn(async move {
            audit_timer::run(a, k, rx).await;
            anyhow::Ok(())
        }));
        let (reload, hangups) = mpsc::channel(1);
        tasks.push(tokio::spawn(async move {
            reload::run(a2, hangups, tls_files, files, rx2).await;
            anyhow::Ok(())
        }));
        if let Some(a) = sftp_addr {
            tracing::info!(addr = %a, "SFTP listening");
        }
        if let Some(a) = https_addr {
            tracing::info!(addr = %a, "HTTPS listening");
        }
        tracing::info!(addr = %admin_addr, "admin listening (/healthz, /readyz, /metrics)");
        Ok(Daemon { app, sftp_addr, https_addr, admin_addr, stop, tasks, audit_key, intake, reload })
    }

    /// The services it runs on.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// Asks for the configuration to be read again (SIGHUP). A reload already waiting
    /// covers this one too.
    pub fn reload(&self) {
        let _ = self.reload.try_send(());
    }

    /// The bound SFTP address.
    pub fn sftp_addr(&self) -> Option<SocketAddr> {
        self.sftp_addr
    }

    /// The bound HTTPS address.
    pub fn https_addr(&self) -> Option<SocketAddr> {
        self.https_addr
    }

    /// `sftp=<addr>` and friends, for the readiness line.
    pub fn ready_line(&self) -> String {
        let mut parts = Vec::new();
        if let Some(a) = self.sftp_addr {
            parts.push(format!("sftp={a}"));
        }
        if let Some(a) = self.https_addr {
            parts.push(format!("https={a}"));
        }
        parts.push(format!("admin={}", self.admin_addr));
        parts.join(" ")
    }

    /// Stops gracefully: no new upload starts; those in flight get `[intake] stop_grace_secs`
    /// to be filed with their receipts; then the listeners close their connections (what is
    /// still open is discarded, nothing partial kept) and the stop event and a checkpoint are
    /// written.
    pub async fn stop(self) {
        let grace = self.app.config().intake.stop_grace;
        tracing::info!(grace_secs = grace.as_secs(), "stopping: no new uploads; waiting for those in flight");
        let left = self.intake.close().await;
        if left > 0 {
            tracing::warn!(uploads = left, "uploads still in flight after the stop grace are discarded");
        }
        // An upload counts as done once it is filed, a moment before its transport answers the
        // close: that answer must reach the client before its connection is closed.
        tokio::time::sleep(ANSWER_SETTLE).await;
        let _ = self.stop.send(true);
        for t in self.tasks {
            match t.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "listener stopped with an error"),
                Err(e) => tracing::error!(error = %e, "listener task failed"),
            }
        }
        let object = serde_json::json!({ "uploads_discarded": left });
        self.app.audit().record(Event::new("system", "stop", Outcome::Ok).object(object)).await;
        let (audit, key) = (self.app.audit().clone(), self.audit_key);
        match tokio::task::spawn_blocking(move || audit.checkpoint_blocking(&key, "shutdown", false)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "could not write the shutdown audit checkpoint"),
            Err(e) => tracing::error!(error = %e, "shutdown audit checkpoint panicked"),
        }
    }
}
