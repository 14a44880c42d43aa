//! The running daemon: opens the data directory, recovers, starts the listeners.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use serde_json::json;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::audit::{Event, Outcome};
use crate::config::Config;
use crate::intake::Intake;
use crate::layout::Layout;

/// How often retention is applied (picked-up bundles, expired periods).
const EXPIRE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Retention: removes picked-up bundles whose days are over and shreds periods past their
/// retention, at start and then every [`EXPIRE_EVERY`].
async fn expire_pickups(intake: Intake, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
    loop {
        let i = intake.clone();
        let done = tokio::task::spawn_blocking(move || apply_retention(&i)).await;
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
fn apply_retention(i: &Intake) {
    let now = jiff::Timestamp::now();
    let (config, layout, state, audit) = (i.config(), i.layout(), i.state(), i.audit());
    if let Err(e) = crate::pickup::expire::expire_picked_up(config, layout, state, audit, now) {
        tracing::warn!(error = %e, "removing picked-up bundles failed; trying again later");
    }
    let today = crate::domain::period::local_date(now);
    match crate::pickup::unpicked::unpicked(config, layout, state, today) {
        Ok(u) => {
            i.metrics().set_unpicked(u.total, u.near_shred.len() as u64);
            for (gemeente, file, shred) in &u.near_shred {
                tracing::warn!(%gemeente, %file, %shred, "bundle not picked up; it is shredded with its period on that date");
            }
        }
        Err(e) => tracing::warn!(error = %e, "counting unpicked bundles failed"),
    }
    if let Err(e) = crate::retention::run(config, layout, state, audit, now, false, "system") {
        tracing::warn!(error = %e, "shredding expired periods failed; trying again later");
    }
}

/// A started daemon.
pub struct Daemon {
    intake: Intake,
    sftp_addr: Option<SocketAddr>,
    https_addr: Option<SocketAddr>,
    admin_addr: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<anyhow::Result<()>>>,
    audit_key: Arc<crate::audit::AuditKey>,
}

impl Daemon {
    /// Opens the data directory, recovers from an interrupted run and starts listening.
    pub async fn start(config: Arc<Config>) -> anyhow::Result<Daemon> {
        let layout = Layout::new(&config.data_dir);
        let intake = Intake::open(config.clone(), layout)?;
        intake.recover().context("recovering from the previous run")?;
        let resumed = crate::feedback::resume(&intake).context("finishing feedback of the previous run")?;
        if resumed > 0 {
            tracing::info!(files = resumed, "feedback of the previous run routed");
        }
        let audit_key = crate::audit::timer::start_key(&intake, &config)?;
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        let mut sftp_addr = None;
        if let Some(sftp) = config.sftp.clone() {
            let key = crate::transport::sftp::load_or_create_host_key(&sftp.host_key)?;
            let listener = tokio::net::TcpListener::bind(sftp.listen)
                .await
                .with_context(|| format!("binding SFTP listener {}", sftp.listen))?;
            sftp_addr = Some(listener.local_addr()?);
            let (i, rx) = (intake.clone(), stop_rx.clone());
            tasks.push(tokio::spawn(crate::transport::sftp::serve_with_key(i, sftp, key, listener, rx)));
        }
        let mut https_addr = None;
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
                listener,
                stop_rx.clone(),
            )));
        }
        if config.batch.automatic {
            let (i, rx) = (intake.clone(), stop_rx.clone());
            let clock: Arc<dyn crate::batch::schedule::Clock> = Arc::new(crate::batch::schedule::SystemClock);
            tasks.push(tokio::spawn(async move {
                crate::batch::scheduler::run_schedule(i, clock, rx).await;
                anyhow::Ok(())
            }));
        }
        tasks.push(tokio::spawn(expire_pickups(intake.clone(), stop_rx.clone())));
        // The admin listener (loopback only, checked by the configuration): /healthz, /metrics.
        let admin = tokio::net::TcpListener::bind(config.admin_listen)
            .await
            .with_context(|| format!("binding admin listener {}", config.admin_listen))?;
        let admin_addr = admin.local_addr()?;
        let tmp = intake.layout().vault_tmp();
        let health: crate::admin::HealthCheck = Arc::new(move || crate::admin::check_writable(&tmp));
        tasks.push(tokio::spawn(crate::admin::serve(
            admin,
            intake.metrics().clone(),
            health,
            stop_rx.clone(),
        )));
        intake
            .audit()
            .record(Event::new("system", "start", Outcome::Ok).object(json!({
                "version": env!("CARGO_PKG_VERSION"),
                "creditors": config.creditors.len(),
                "municipalities": config.municipalities.len(),
                "sftp": sftp_addr.map(|a| a.to_string()),
                "https": https_addr.map(|a| a.to_string()),
                "admin": admin_addr.to_string(),
            })))
            .await;
        let (a, k, cfg) = (intake.audit().clone(), audit_key.clone(), config.audit);
        let rx = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            crate::audit::timer::run(a, k, cfg, rx).await;
            anyhow::Ok(())
        }));
        if let Some(a) = sftp_addr {
            tracing::info!(addr = %a, "SFTP listening");
        }
        if let Some(a) = https_addr {
            tracing::info!(addr = %a, "HTTPS listening");
        }
        tracing::info!(addr = %admin_addr, "admin listening (/healthz, /metrics)");
        Ok(Daemon { intake, sftp_addr, https_addr, admin_addr, stop, tasks, audit_key })
    }

    /// The intake (shared by all listeners).
    pub fn intake(&self) -> &Intake {
        &self.intake
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

    /// Stops the listeners and waits for them.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            match t.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "listener stopped with an error"),
                Err(e) => tracing::error!(error = %e, "listener task failed"),
            }
        }
        self.intake.audit().record(Event::new("system", "stop", Outcome::Ok)).await;
        let (audit, key) = (self.intake.audit().clone(), self.audit_key);
        match tokio::task::spawn_blocking(move || audit.checkpoint_blocking(&key, "shutdown", false)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "could not write the shutdown audit checkpoint"),
            Err(e) => tracing::error!(error = %e, "shutdown audit checkpoint panicked"),
        }
    }
}
