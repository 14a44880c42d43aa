//! Prometheus counters of the daemon: lock-free atomics, rendered in the text exposition
//! format 0.0.4 by the admin listener (`/metrics`).
//!
//! Labels come from small enums, so their values (and the number of series) are fixed: no
//! party ids, file names or other personal data ever become a label. Every label combination
//! is rendered from the start, zeros included, so dashboards see each series at once.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::domain::outcome::{Counts, FileStatus};

pub mod scheduler;
pub mod text;

use text::Text;

use crate::domain::party::Credential;

/// Defines label enums: their variants, `ALL` in rendering order and `as_str`.
macro_rules! labels {
    ($($(#[$m:meta])* $vis:vis $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal,)+ })+) => {$(
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name { $($(#[$vm])* $v,)+ }

        impl $name {
            /// Every value, in rendering order.
            $vis const ALL: [Self; [$($s),+].len()] = [$(Self::$v),+];

            /// The label value.
            $vis fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s,)+ }
            }
        }
    )+};
}

labels! {
    /// The transport an upload arrived by (label `protocol`).
    pub Protocol {
        /// SFTP (SSH public key).
        Sftp = "sftp",
        /// HTTPS with a client certificate.
        Https = "https",
        /// The operator's `meldpunt ingest` on the host.
        Cli = "cli",
    }

    /// The listener a login was attempted on (label `protocol` of `meldpunt_logins_total`).
    pub LoginProtocol {
        /// An SSH authentication attempt.
        Sftp = "sftp",
        /// A TLS client-certificate handshake.
        Https = "https",
    }

    /// How a login attempt ended (label `outcome`).
    pub LoginOutcome {
        /// Authenticated and admitted.
        Ok = "ok",
        /// Refused (key, certificate, method, unknown party, session limit) or never completed.
        Failed = "failed",
    }

    /// Why the defender refused or cut a connection (label `cause`).
    pub Refusal {
        /// The origin is banned: closed at accept.
        Banned = "banned",
        /// The origin has its maximum of open connections.
        OriginConnections = "origin_connections",
        /// The listener has its maximum of open connections.
        Connections = "connections",
        /// The origin has its maximum of connections not yet authenticated.
        OriginUnauthenticated = "origin_unauthenticated",
        /// Too many connections not yet authenticated in all (random early drop).
        Unauthenticated = "unauthenticated",
        /// The party has its maximum of HTTPS connections.
        PartyConnections = "party_connections",
        /// No SSH login or TLS handshake within its time.
        AuthTimeout = "auth_timeout",
        /// A TLS handshake or SSH key exchange failed.
        HandshakeFailed = "handshake_failed",
    }

    /// How a configuration reload ended (label `outcome` of `meldpunt_config_reloads_total`).
    pub ReloadOutcome {
        /// The new configuration is in force.
        Applied = "applied",
        /// It was not valid; the one in force keeps serving.
        Refused = "refused",
    }

    /// What became of an audit event's copy for syslog (label `outcome`).
    pub SyslogOutcome {
        /// Handed to the collector's socket.
        Sent = "sent",
        /// Not sent (collector unreachable, socket error, queue full); the event is in the
        /// audit log all the same.
        Failed = "failed",
    }

    /// A change of the ban list (label `event`).
    pub BanEvent {
        /// An origin was banned.
        Ban = "ban",
        /// A ban ended or was lifted.
        Unban = "unban",
    }
}

impl From<&Credential> for Protocol {
    /// The transport a sender authenticated through: SSH key → SFTP, certificate → HTTPS.
    fn from(c: &Credential) -> Self {
        match c {
            Credential::SshKey(_) => Self::Sftp,
            Credential::Certificate(_) => Self::Https,
            Credential::Operator => Self::Cli,
        }
    }
}

/// Receipt statuses, in rendering order (label `status`).
const STATUSES: [FileStatus; 4] =
    [FileStatus::Accepted, FileStatus::AcceptedWithErrors, FileStatus::Rejected, FileStatus::Duplicate];

/// Record outcomes, in rendering order (label `outcome` of `meldpunt_records_total`).
const RECORD_OUTCOMES: [&str; 4] = ["accepted", "rejected", "not_forwarded", "replaced"];

fn status_index(s: FileStatus) -> usize {
    match s {
        FileStatus::Accepted => 0,
        FileStatus::AcceptedWithErrors => 1,
        FileStatus::Rejected => 2,
        FileStatus::Duplicate => 3,
    }
}

/// The daemon's counters. Share as `Arc<Metrics>`; every method takes `&self`.
#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    start_time: f64,
    uploads: [[AtomicU64; STATUSES.len()]; Protocol::ALL.len()],
    upload_bytes: [AtomicU64; Protocol::ALL.len()],
    records: [AtomicU64; RECORD_OUTCOMES.len()],
    logins: [[AtomicU64; LoginOutcome::ALL.len()]; LoginProtocol::ALL.len()],
    aborted: [AtomicU64; Protocol::ALL.len()],
    unpicked: [AtomicU64; 2],
    refused: [[AtomicU64; Refusal::ALL.len()]; LoginProtocol::ALL.len()],
    bans: [AtomicU64; BanEvent::ALL.len()],
    banned: AtomicU64,
    crl_stale: AtomicU64,
    reloads: [AtomicU64; ReloadOutcome::ALL.len()],
    syslog: [AtomicU64; SyslogOutcome::ALL.len()],
    scheduler: scheduler::Heartbeat,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// All counters at zero; the start time is now.
    pub fn new() -> Metrics {
        let start_time = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        Metrics {
            started: Instant::now(),
            start_time,
            uploads: Default::default(),
            upload_bytes: Default::default(),
            records: Default::default(),
            logins: Default::default(),
            aborted: Default::default(),
            unpicked: Default::default(),
            refused: Default::default(),
            bans: Default::default(),
            banned: AtomicU64::new(0),
            crl_stale: AtomicU64::new(0),
            reloads: Default::default(),
            syslog: Default::default(),
            scheduler: scheduler::Heartbeat::default(),
        }
    }

    /// The batch scheduler's heartbeat.
    pub fn scheduler(&self) -> &scheduler::Heartbeat {
        &self.scheduler
    }

    /// Time since [`Metrics::new`].
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Counts an upload that got a receipt: its status, bytes and records per outcome.
    pub fn upload_filed(&self, protocol: Protocol, status: FileStatus, bytes: u64, records: &Counts) {
        let p = protocol as usize;
        self.uploads[p][status_index(status)].fetch_add(1, Ordering::Relaxed);
        self.upload_bytes[p].fetch_add(bytes, Ordering::Relaxed);
        let per_outcome = [records.accepted, records.rejected, records.not_forwarded, records.replaced];
        for (counter, n) in self.records.iter().zip(per_outcome) {
            if n > 0 {
                counter.fetch_add(n, Ordering::Relaxed);
            }
        }
    }

    /// Counts an upload that ended without a receipt (connection dropped, write refused) or
    /// went over the size limit.
    pub fn upload_aborted(&self, protocol: Protocol) {
        self.aborted[protocol as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a login attempt.
    pub fn login(&self, protocol: LoginProtocol, outcome: LoginOutcome) {
        self.logins[protocol as usize][outcome as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts connections the defender refused or cut.
    pub fn refused(&self, protocol: LoginProtocol, cause: Refusal, n: u64) {
        self.refused[protocol as usize][cause as usize].fetch_add(n, Ordering::Relaxed);
    }

    /// Counts a ban or unban and sets the number of origins banned now.
    pub fn ban_event(&self, event: BanEvent, banned_now: u64) {
        self.bans[event as usize].fetch_add(1, Ordering::Relaxed);
        self.banned.store(banned_now, Ordering::Relaxed);
    }

    /// Sets the number of origins banned now.
    pub fn set_banned(&self, banned_now: u64) {
        self.banned.store(banned_now, Ordering::Relaxed);
    }

    /// Sets whether a CRL in force is past its `nextUpdate` (HTTPS handshakes are refused).
    pub fn set_crl_stale(&self, stale: bool) {
        self.crl_stale.store(u64::from(stale), Ordering::Relaxed);
    }

    /// Counts a configuration reload (SIGHUP or a changed file).
    pub fn reload(&self, outcome: ReloadOutcome) {
        self.reloads[outcome as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an audit event's copy for syslog.
    pub fn syslog(&self, outcome: SyslogOutcome) {
        self.syslog[outcome as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Sets the unpicked bundle files: all, and those whose period is shredded soon.
    pub fn set_unpicked(&self, total: u64, near_shred: u64) {
        self.unpicked[0].store(total, Ordering::Relaxed);
        self.unpicked[1].store(near_shred, Ordering::Relaxed);
    }

    /// The text exposition format 0.0.4 (`Content-Type: text/plain; version=0.0.4`).
    pub fn render(&self) -> String {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut t = Text { out: String::with_capacity(4096), name: "" };
        t.family("meldpunt_uploads_total", "counter", "Uploads that got a receipt, by transport and status.");
        for p in Protocol::ALL {
            for s in STATUSES {
                let v = get(&self.uploads[p as usize][status_index(s)]);
                t.sample(&[("protocol", p.as_str()), ("status", s.as_str())], v);
            }
        }
        t.family("meldpunt_upload_bytes_total", "counter", "Bytes of uploads that got a receipt.");
        for p in Protocol::ALL {
            t.sample(&[("protocol", p.as_str())], get(&self.upload_bytes[p as usize]));
        }
        t.family("meldpunt_records_total", "counter", "Records of uploads that got a receipt, by outcome.");
        for (o, counter) in RECORD_OUTCOMES.iter().zip(&self.records) {
            t.sample(&[("outcome", o)], get(counter));
        }
        t.family("meldpunt_logins_total", "counter", "Login attempts, by protocol and outcome.");
        for p in LoginProtocol::ALL {
            for o in LoginOutcome::ALL {
                let v = get(&self.logins[p as usize][o as usize]);
                t.sample(&[("protocol", p.as_str()), ("outcome", o.as_str())], v);
            }
        }
        let help =
            "Uploads ended without a receipt (connection dropped, write refused) or over the size limit.";
        t.family("meldpunt_uploads_aborted_total", "counter", help);
        for p in Protocol::ALL {
            t.sample(&[("protocol", p.as_str())], get(&self.aborted[p as usize]));
        }
        let help = "Connections the defender refused or cut before authentication, by listener and cause.";
        t.family("meldpunt_connections_refused_total", "counter", help);
        for p in LoginProtocol::ALL {
            for c in Refusal::ALL {
                t.sample(
                    &[("protocol", p.as_str()), ("cause", c.as_str())],
                    get(&self.refused[p as usize][c as usize]),
                );
            }
        }
        t.family(
            "meldpunt_bans_total",
            "counter",
            "Origins banned by the defender, and bans ended or lifted.",
        );
        for e in BanEvent::ALL {
            t.sample(&[("event", e.as_str())], get(&self.bans[e as usize]));
        }
        t.family("meldpunt_banned_origins", "gauge", "Origins banned now.");
        let _ = writeln!(t.out, "meldpunt_banned_origins {}", get(&self.banned));
        let help = "Bundle files in pickup folders not picked up yet (all; and those whose period is shredded within 30 days).";
        t.family("meldpunt_unpicked_bundles", "gauge", help);
        t.sample(&[("when", "any")], get(&self.unpicked[0]));
        t.sample(&[("when", "before_shred")], get(&self.unpicked[1]));
        let help =
            "1 while a CRL in force is past its nextUpdate: every HTTPS handshake is refused (alert on it).";
        t.family("meldpunt_crl_stale", "gauge", help);
        let _ = writeln!(t.out, "meldpunt_crl_stale {}", get(&self.crl_stale));
        t.family("meldpunt_config_reloads_total", "counter", "Configuration reloads, by outcome.");
        for o in ReloadOutcome::ALL {
            t.sample(&[("outcome", o.as_str())], get(&self.reloads[o as usize]));
        }
        let help = "Audit events copied to syslog ([audit] syslog), by outcome; a failure never loses the event in the audit log.";
        t.family("meldpunt_audit_syslog_messages_total", "counter", help);
        for o in SyslogOutcome::ALL {
            t.sample(&[("outcome", o.as_str())], get(&self.syslog[o as usize]));
        }
        if let Some((last, next)) = self.scheduler.times() {
            t.family(
                "meldpunt_scheduler_wake_time_seconds",
                "gauge",
                "The batch scheduler's last and planned next wake-up, Unix seconds.",
            );
            t.sample(&[("when", "last")], last);
            t.sample(&[("when", "next")], next);
        }
        t.family("meldpunt_start_time_seconds", "gauge", "Start time of the daemon, Unix seconds.");
        let _ = writeln!(t.out, "meldpunt_start_time_seconds {:.3}", self.start_time);
        t.out
    }
}

#[cfg(test)]
mod tests;
