//! The defender both listeners share (docs/folders-and-protocols.md, "Defender"): a score per
//! origin address, bans, and the accept gate with per-origin connection limits.
//!
//! - Scored events ([`Strike`]): failed logins, unknown users, SSH protocol errors and
//!   probes, TLS handshake failures, logins that time out, refused SFTP paths. Only the
//!   address is scored, never the party name, so nobody can lock a creditor out by failing
//!   logins in its name. A known and an unknown user are scored alike.
//!   A refused SFTP path (by a party that logged in) counts a quarter point, the rest one.
//! - At `[defender] ban_threshold` points within `window_secs` the origin is banned for
//!   `ban_secs`, doubled for each repeat up to `max_ban_secs`. The ban is written to the
//!   `bans` table and audited in one transaction (`ban`, with the address as origin); its end
//!   is audited as `unban`. The daemon re-reads the table every [`SYNC_EVERY`], so
//!   `meldpunt ban remove` takes effect within seconds.
//! - `gate`: a banned origin's connection is closed at accept, before any SSH or TLS byte is
//!   read; such closes and every other refusal are counted (metrics) and logged as one summary
//!   line per cause every 10 s (`tally`), never one line each.
//! - `party`: the per-party slots (SFTP sessions, HTTPS connections).
//! - Allow-listed networks (`[defender] allow`) are never scored, banned or limited per
//!   origin.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::watch;

use crate::app::App;
use crate::audit::{Event, Outcome};
use crate::config::DefenderConfig;
use crate::metrics::{BanEvent, LoginProtocol, Refusal};
use crate::state::bans::{self, Ban};

mod gate;
pub mod party;
mod score;
mod tally;

pub use gate::{Gate, Ticket};
use score::Scores;
use tally::Tally;

/// How often the daemon re-reads the bans (a ban lifted by the operator, one that ran out).
pub const SYNC_EVERY: Duration = Duration::from_secs(2);

/// A scored event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strike {
    /// A refused login by a configured party's name (wrong key, method, certificate).
    FailedLogin,
    /// No login or TLS handshake within its time.
    AuthTimeout,
    /// A failed TLS handshake (no, unknown, revoked or expired certificate; protocol error).
    HandshakeFailed,
    /// An SSH protocol error, or a probe (repeated `none` authentication, no method tried).
    ProtocolError,
    /// A refused SFTP operation (a path or request a party may not use).
    RefusedPath,
    /// A login attempt with a name that is no party.
    UnknownUser,
}

/// Points of a whole strike; a refused SFTP path, by a party that did log in, is a quarter.
const POINTS: u32 = 4;

impl Strike {
    /// Its points: [`POINTS`], or a quarter of it for a refused path.
    fn points(self) -> u32 {
        match self {
            Strike::RefusedPath => 1,
            _ => POINTS,
        }
    }

    /// A stable name (the `reason` of a ban).
    pub fn as_str(self) -> &'static str {
        match self {
            Strike::AuthTimeout => "auth_timeout",
            Strike::FailedLogin => "failed_login",
            Strike::HandshakeFailed => "tls_handshake_failed",
            Strike::ProtocolError => "protocol_error",
            Strike::RefusedPath => "refused_path",
            Strike::UnknownUser => "unknown_user",
        }
    }
}

/// Scores, bans and refusal counts of the daemon.
pub struct Defender {
    app: App,
    cfg: DefenderConfig,
    scores: Mutex<Scores>,
    /// Banned origins and the Unix second their ban ends.
    banned: RwLock<HashMap<IpAddr, i64>>,
    /// Keeps a ban being written and a re-read of the table apart.
    writing: tokio::sync::Mutex<()>,
    tally: Tally,
}

impl std::fmt::Debug for Defender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Defender").field("cfg", &self.cfg).finish_non_exhaustive()
    }
}

fn unix_now() -> i64 {
    jiff::Timestamp::now().as_second()
}

impl Defender {
    /// The defender of `app` (its `[defender]` settings), with the bans now in force loaded.
    pub fn new(app: App) -> Arc<Defender> {
        let cfg = app.config().defender.clone();
        let d = Arc::new(Defender {
            app,
            cfg,
            scores: Mutex::default(),
            banned: RwLock::default(),
            writing: tokio::sync::Mutex::new(()),
            tally: Tally::default(),
        });
        if let Err(e) = d.reload() {
            tracing::error!(error = %e, "could not read the bans");
        }
        d
    }

    /// Its settings.
    pub fn config(&self) -> &DefenderConfig {
        &self.cfg
    }

    /// Whether `ip` is banned now.
    pub fn banned(&self, ip: IpAddr) -> bool {
        let banned = self.banned.read().unwrap_or_else(|p| p.into_inner());
        banned.get(&ip).is_some_and(|until| *until > unix_now())
    }

    /// Counts a refused or cut connection (metrics now, the log in the next summary).
    pub fn refused(&self, protocol: LoginProtocol, cause: Refusal) {
        self.app.metrics().refused(protocol, cause, 1);
        self.tally.add(protocol, cause);
    }

    /// Scores `cause` against `ip`; bans it when that reaches the threshold.
    pub async fn strike(&self, ip: IpAddr, cause: Strike) {
        if !self.cfg.enabled || self.cfg.allowed(ip) {
            return;
        }
        let crossed = {
            let mut s = self.scores.lock().unwrap_or_else(|p| p.into_inner());
            s.add(
                ip,
                Instant::now(),
                self.cfg.window,
                self.cfg.threshold.saturating_mul(POINTS),
                cause.points(),
            )
        };
        if crossed {
            self.ban(ip, cause).await;
        }
    }

    /// Bans `ip`: the row and its audit event in one transaction, then in force here.
    async fn ban(&self, ip: IpAddr, cause: Strike) {
        let _writing = self.writing.lock().await;
        let (audit, cfg, origin) = (self.app.audit().clone(), self.cfg.clone(), ip.to_string());
        let now = unix_now();
        let written = tokio::task::spawn_blocking(move || {
            let mut until = now;
            audit
                .emit_built_blocking(|tx| {
                    let strikes = match bans::previous(tx, &origin)? {
                        // A repeat within the longest ban of the last one's end.
                        Some((n, end)) if now - end < cfg.max_ban.as_secs() as i64 => n.saturating_add(1),
                        _ => 1,
                    };
                    let secs = score::ban_length(cfg.ban, cfg.max_ban, strikes).as_secs() as i64;
                    until = now + secs;
                    let ban = Ban {
                        origin: origin.clone(),
                        since: now,
                        until,
                        strikes,
                        reason: cause.as_str().into(),
                    };
                    bans::insert(tx, &ban)?;
                    Ok(Some(Event::new("system", "ban", Outcome::Ok).origin(origin.clone()).object(json!({
                        "reason": cause.as_str(),
                        "seconds": secs,
                        "strikes": strikes,
                    }))))
                })
                .map(|_| until)
        })
        .await;
        let until = match written {
            Ok(Ok(until)) => until,
            // Fail closed: the ban holds in this process even if it cannot be written.
            Ok(Err(e)) => {
                tracing::error!(error = %e, "could not record a ban; it holds until restart");
                now + self.cfg.ban.as_secs() as i64
            }
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        let n = {
            let mut b = self.banned.write().unwrap_or_else(|p| p.into_inner());
            b.insert(ip, until);
            b.len()
        };
        self.app.metrics().ban_event(BanEvent::Ban, n as u64);
        tracing::warn!(origin = %ip, reason = cause.as_str(), seconds = until - now, "origin banned");
    }

    /// Re-reads the bans in force from the state database.
    fn reload(&self) -> Result<(), crate::state::StateError> {
        let active = bans::active(&self.app.state().lock(), unix_now())?;
        let fresh: HashMap<IpAddr, i64> =
            active.iter().filter_map(|b| Some((b.origin.parse().ok()?, b.until))).collect();
        let lifted: Vec<IpAddr> = {
            let mut b = self.banned.write().unwrap_or_else(|p| p.into_inner());
            let gone = b.keys().filter(|ip| !fresh.contains_key(ip)).copied().collect();
            *b = fresh;
            gone
        };
        let mut scores = self.scores.lock().unwrap_or_else(|p| p.into_inner());
        for ip in &lifted {
            scores.forget(*ip);
            self.app.metrics().ban_event(BanEvent::Unban, 0);
        }
        scores.prune(Instant::now(), self.cfg.window);
        self.app.metrics().set_banned(self.banned.read().unwrap_or_else(|p| p.into_inner()).len() as u64);
        Ok(())
    }

    /// Audits the bans that ran out (one `unban` event each, exactly once) and re-reads the
    /// table.
    async fn sync(&self) {
        let _writing = self.writing.lock().await;
        let audit = self.app.audit().clone();
        let ended = tokio::task::spawn_blocking(move || -> Result<usize, crate::state::StateError> {
            let mut n = 0;
            while audit
                .emit_built_blocking(|tx| {
                    Ok(bans::end_expired(tx, unix_now())?.map(|b| {
                        Event::new("system", "unban", Outcome::Ok)
                            .origin(b.origin)
                            .object(json!({ "reason": "expired", "strikes": b.strikes }))
                    }))
                })?
                .is_some()
            {
                n += 1;
            }
            Ok(n)
        })
        .await;
        match ended {
            Ok(Ok(n)) if n > 0 => tracing::info!(bans = n, "bans ended"),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "could not end expired bans"),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
        if let Err(e) = self.reload() {
            tracing::error!(error = %e, "could not re-read the bans");
        }
    }

    /// Re-reads the bans every [`SYNC_EVERY`] and logs the refusal summary every 10 s, until
    /// `stop`.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
        let mut sync = tokio::time::interval(SYNC_EVERY);
        let mut summary = tokio::time::interval(tally::SUMMARY_EVERY);
        sync.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        summary.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                changed = stop.changed() => if changed.is_err() || *stop.borrow() {
                    self.tally.log_summary();
                    return Ok(());
                },
                _ = sync.tick() => self.sync().await,
                _ = summary.tick() => self.tally.log_summary(),
            }
        }
    }
}
