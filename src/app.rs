//! The application context: the services every wing of meldpunt works with.
//!
//! One [`App`] is opened per process (daemon or command) over a configuration and its data
//! directory. Intake, the transports, the batch, pickup, feedback, retention and the
//! daemon's timers all take it; none of them owns these services.
//!
//! The configuration can be replaced while the daemon runs (`daemon/reload.rs`): whoever
//! needs it asks [`App::config`] at the moment it decides (a login, a request, a batch), and
//! keeps that one for the rest of the decision.

mod sessions;

use std::sync::{Arc, RwLock};

use anyhow::Context as _;

use crate::audit::{Audit, Event, Outcome};
use crate::config::Config;
use crate::durable;
use crate::layout::Layout;
use crate::metrics::Metrics;
use crate::signature::Signer;
use crate::state::State;
use crate::vault::Vault;

/// The shared services: configuration, data layout, state, audit log, vault, receipt signer,
/// metrics. Cheap to clone.
#[derive(Clone)]
pub struct App {
    inner: Arc<Services>,
}

/// What an [`App`] holds.
struct Services {
    config: RwLock<Arc<Config>>,
    layout: Layout,
    state: State,
    audit: Audit,
    vault: Vault,
    signer: Signer,
    metrics: Arc<Metrics>,
    sessions: Sessions,
}

pub use sessions::{OpenSessions, SessionGuard, SessionKey, Sessions};

impl App {
    /// Opens the data directory of `layout` (created if missing): state, audit log, vault, and
    /// the receipt key (created, and that audited, if there is none yet).
    pub fn open(config: Arc<Config>, layout: Layout) -> anyhow::Result<App> {
        durable::create_private_dir(layout.root())
            .with_context(|| format!("creating data directory {}", layout.root().display()))?;
        let state = State::open(&layout.state_db())
            .with_context(|| format!("opening {}", layout.state_db().display()))?;
        let metrics = Arc::new(Metrics::new());
        let mut audit = Audit::open(state.clone())
            .with_context(|| format!("opening the audit log in {}", layout.state_db().display()))?;
        if let Some(target) = &config.audit.syslog {
            let syslog = crate::audit::syslog::Syslog::start(target.clone(), metrics.clone())
                .context("starting the audit copy to syslog")?;
            audit = audit.with_syslog(syslog);
        }
        let vault = Vault::open(layout.clone())?;
        let (signer, created) = Signer::open(&layout)?;
        if let Some(fingerprint) = created {
            let ev = Event::new("system", "receipt_key_created", Outcome::Ok)
                .object(serde_json::json!({ "fingerprint": fingerprint }));
            audit.emit_blocking(ev).context("recording the new receipt key")?;
        }
        let (config, sessions) = (RwLock::new(config), Sessions::default());
        Ok(App {
            inner: Arc::new(Services { config, layout, state, audit, vault, signer, metrics, sessions }),
        })
    }

    /// The configuration in force now.
    pub fn config(&self) -> Arc<Config> {
        self.inner.config.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Puts `config` in force for every later [`App::config`]; returns the one it replaces.
    pub fn replace_config(&self, config: Arc<Config>) -> Arc<Config> {
        std::mem::replace(&mut *self.inner.config.write().unwrap_or_else(|p| p.into_inner()), config)
    }

    /// The open SFTP sessions and HTTPS connections of parties, to close those a new
    /// configuration no longer admits.
    pub fn sessions(&self) -> &Sessions {
        &self.inner.sessions
    }

    /// The data layout.
    pub fn layout(&self) -> &Layout {
        &self.inner.layout
    }

    /// The state database.
    pub fn state(&self) -> &State {
        &self.inner.state
    }

    /// The audit log.
    pub fn audit(&self) -> &Audit {
        &self.inner.audit
    }

    /// The vault.
    pub fn vault(&self) -> &Vault {
        &self.inner.vault
    }

    /// The signer of receipts and batch reports.
    pub fn signer(&self) -> &Signer {
        &self.inner.signer
    }

    /// The Prometheus counters (served by the admin listener).
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }
}
