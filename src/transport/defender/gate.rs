//! The accept gate of one listener: decides, from the address alone and before any SSH or TLS
//! byte is read, whether a new connection may start.
//!
//! In order: a banned origin is closed; then the listener's total, the origin's open
//! connections and the origin's connections not yet authenticated are capped; then, like
//! OpenSSH `MaxStartups`, unauthenticated connections in all are dropped at random from half of
//! `max_unauthenticated` (30 %, rising to 100 % at the maximum). An allow-listed origin skips the
//! per-origin caps. A [`Ticket`] holds the connection's place until it is dropped;
//! [`Ticket::authenticated`] moves it out of the unauthenticated count.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rand::Rng;

use super::{Defender, Strike};
use crate::metrics::{LoginProtocol, Refusal};

/// The gate of one listener.
#[derive(Debug)]
pub struct Gate {
    defender: Arc<Defender>,
    protocol: LoginProtocol,
    max_total: usize,
    counts: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    unauthenticated: usize,
    /// Per origin: (open, not yet authenticated).
    per_origin: HashMap<IpAddr, (usize, usize)>,
}

/// A connection's place at the gate.
#[derive(Debug)]
pub struct Ticket {
    gate: Arc<Gate>,
    ip: IpAddr,
    authenticated: AtomicBool,
}

impl Gate {
    /// A gate for `protocol` with at most `max_total` open connections.
    pub fn new(defender: Arc<Defender>, protocol: LoginProtocol, max_total: usize) -> Arc<Gate> {
        Arc::new(Gate { defender, protocol, max_total: max_total.max(1), counts: Mutex::default() })
    }

    /// The defender behind this gate.
    pub fn defender(&self) -> &Arc<Defender> {
        &self.defender
    }

    /// Admits a connection from `ip`, or counts its refusal and says why.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Ticket, Refusal> {
        let result = self.decide(ip);
        if let Err(cause) = result {
            self.defender.refused(self.protocol, cause);
        }
        result.map(|()| Ticket { gate: self.clone(), ip, authenticated: AtomicBool::new(false) })
    }

    fn decide(&self, ip: IpAddr) -> Result<(), Refusal> {
        if self.defender.banned(ip) {
            return Err(Refusal::Banned);
        }
        let cfg = self.defender.config();
        let exempt = cfg.allowed(ip);
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if c.total >= self.max_total {
            return Err(Refusal::Connections);
        }
        let (open, unauth) = c.per_origin.get(&ip).copied().unwrap_or((0, 0));
        if !exempt && open >= cfg.max_connections_per_origin {
            return Err(Refusal::OriginConnections);
        }
        if !exempt && unauth >= cfg.max_unauthenticated_per_origin {
            return Err(Refusal::OriginUnauthenticated);
        }
        if early_drop(c.unauthenticated, cfg.max_unauthenticated, rand::thread_rng().r#gen()) {
            return Err(Refusal::Unauthenticated);
        }
        c.total += 1;
        c.unauthenticated += 1;
        c.per_origin.insert(ip, (open + 1, unauth + 1));
        Ok(())
    }

    fn release(&self, ip: IpAddr, authenticated: bool) {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        c.total = c.total.saturating_sub(1);
        if !authenticated {
            c.unauthenticated = c.unauthenticated.saturating_sub(1);
        }
        if let Some((open, unauth)) = c.per_origin.get_mut(&ip) {
            *open = open.saturating_sub(1);
            if !authenticated {
                *unauth = unauth.saturating_sub(1);
            }
            if *open == 0 {
                c.per_origin.remove(&ip);
            }
        }
    }

    fn authenticated(&self, ip: IpAddr) {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        c.unauthenticated = c.unauthenticated.saturating_sub(1);
        if let Some((_, unauth)) = c.per_origin.get_mut(&ip) {
            *unauth = unauth.saturating_sub(1);
        }
    }
}

/// Whether a new connection is dropped when `unauth` are waiting to authenticate; `roll` is
/// uniform in [0, 1).
fn early_drop(unauth: usize, max: usize, roll: f64) -> bool {
    let start = max / 2;
    if unauth >= max {
        return true;
    }
    if unauth < start {
        return false;
    }
    let p = 0.3 + 0.7 * (unauth - start) as f64 / (max - start).max(1) as f64;
    roll < p
}

impl Ticket {
    /// The connection has authenticated: it no longer counts as unauthenticated.
    pub fn authenticated(&self) {
        if !self.authenticated.swap(true, Ordering::AcqRel) {
            self.gate.authenticated(self.ip);
        }
    }

    /// The origin address.
    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    /// Scores an event against this connection's origin.
    pub async fn strike(&self, cause: Strike) {
        self.gate.defender.strike(self.ip, cause).await;
    }

    /// Counts a connection cut or refused after accept (timeout, failed handshake, party
    /// limit) in the summary and metrics.
    pub fn cut(&self, cause: Refusal) {
        self.gate.defender.refused(self.gate.protocol, cause);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.gate.release(self.ip, self.authenticated.load(Ordering::Acquire));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn early_drop_curve() {
        assert!(!early_drop(31, 64, 0.0), "below half: never");
        assert!(early_drop(32, 64, 0.29) && !early_drop(32, 64, 0.31), "30 % at half");
        assert!(early_drop(48, 64, 0.64) && !early_drop(48, 64, 0.66), "65 % at three quarters");
        assert!(early_drop(64, 64, 0.999), "always at the maximum");
    }
}
