//! A copy of every audit event for syslog (`[audit] syslog`, docs/audit.md "Streaming to
//! syslog"), as one RFC 5424 message each ([`message`]).
//!
//! The audit log in the state database stays the source of truth: an event is committed
//! there first, then its copy is queued for a thread of its own, without waiting. A full
//! queue, an unreachable collector or a socket error drops the copy, counts it in
//! `meldpunt_audit_syslog_messages_total{outcome="failed"}` and is logged as a warning at
//! most once a minute; the event in the audit log is never held up or lost by it.

mod message;
mod socket;

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Record;
use crate::config::SyslogTarget;
use crate::metrics::{Metrics, SyslogOutcome};

pub use message::{SD_ID, format};

/// Messages waiting for the forwarding thread; beyond this they are dropped (and counted).
const QUEUE: usize = 4096;

/// At most one warning about failures per this long.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// How long dropping the last handle waits for the queue to be sent (a command that ends).
const FLUSH: Duration = Duration::from_secs(2);

/// The forwarder: queues messages for its thread.
pub struct Syslog {
    tx: Option<SyncSender<String>>,
    done: Mutex<Receiver<()>>,
    failures: Arc<Failures>,
    host: String,
    pid: u32,
}

/// Counts failures and warns about them at most once per [`WARN_EVERY`].
struct Failures {
    target: String,
    metrics: Arc<Metrics>,
    last_warning: Mutex<Option<Instant>>,
}

impl Failures {
    fn failed(&self, why: &str) {
        self.metrics.syslog(SyslogOutcome::Failed);
        let mut last = self.last_warning.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_none_or(|t| t.elapsed() >= WARN_EVERY) {
            *last = Some(Instant::now());
            tracing::warn!(
                collector = %self.target,
                error = why,
                "an audit event could not be copied to syslog (it is in the audit log; further failures within a minute are only counted in meldpunt_audit_syslog_messages_total)"
            );
        }
    }
}

impl Syslog {
    /// Starts the forwarding thread for `target`; `metrics` counts what it sends and drops.
    pub fn start(target: SyslogTarget, metrics: Arc<Metrics>) -> std::io::Result<Syslog> {
        let (tx, rx) = mpsc::sync_channel::<String>(QUEUE);
        let (done_tx, done) = mpsc::channel();
        let failures =
            Arc::new(Failures { target: target.to_string(), metrics, last_warning: Mutex::new(None) });
        let f = failures.clone();
        std::thread::Builder::new().name("audit-syslog".into()).spawn(move || {
            let mut socket = socket::Socket::new(target);
            for m in rx {
                match socket.send(m.as_bytes()) {
                    Ok(()) => f.metrics.syslog(SyslogOutcome::Sent),
                    Err(e) => f.failed(&e.to_string()),
                }
            }
            let _ = done_tx.send(());
        })?;
        Ok(Syslog {
            tx: Some(tx),
            done: Mutex::new(done),
            failures,
            host: message::host_name(),
            pid: std::process::id(),
        })
    }

    /// Queues the copy of a recorded event; never waits.
    pub fn send(&self, rec: &Record) {
        let Some(tx) = &self.tx else { return };
        match tx.try_send(format(rec, &self.host, self.pid)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => self.failures.failed("queue full"),
            Err(TrySendError::Disconnected(_)) => self.failures.failed("forwarding thread ended"),
        }
    }
}

impl Drop for Syslog {
    /// Lets the thread send what is queued, for at most [`FLUSH`].
    fn drop(&mut self) {
        drop(self.tx.take());
        let _ = self.done.lock().unwrap_or_else(|p| p.into_inner()).recv_timeout(FLUSH);
    }
}
