//! The configuration file as written: serde structs with source spans.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

mod parties;

pub use parties::{RawCreditor, RawExecutor, RawMunicipality, RawWerkbakRule};

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Where state, keys, vault and party folders live (relative to the config file).
    pub data_dir: Spanned<String>,
    /// SFTP listener.
    #[serde(default)]
    pub sftp: RawSftp,
    /// HTTPS listener with mutual TLS; absent = no HTTPS.
    #[serde(default)]
    pub https: Option<Spanned<RawHttps>>,
    /// Admin listener (`/healthz`, `/metrics`).
    #[serde(default)]
    pub admin: RawAdmin,
    /// `[defender]`: per-origin scores, bans and connection limits.
    #[serde(default)]
    pub defender: RawDefender,
    /// Intake limits.
    #[serde(default)]
    pub intake: RawIntake,
    /// Period cutoff.
    #[serde(default)]
    pub periods: RawPeriods,
    /// The monthly batch.
    #[serde(default)]
    pub batch: RawBatch,
    /// `[pickup]`: municipal pickup folders.
    #[serde(default)]
    pub pickup: RawPickup,
    /// `[feedback]`: terugmelding uploads.
    #[serde(default)]
    pub feedback: RawFeedback,
    /// `[ddas]`: the monthly DDAS export into pickup folders.
    #[serde(default)]
    pub ddas: RawDdas,
    /// `[clients]`: known-client lists (docs/known-clients.md).
    #[serde(default)]
    pub clients: RawClients,
    /// `[retention]`: how long periods are kept.
    #[serde(default)]
    pub retention: RawRetention,
    /// The audit log: checkpoints, retention, report thresholds.
    #[serde(default)]
    pub audit: RawAudit,
    /// Per-kind rule overrides.
    #[serde(default)]
    pub rules: BTreeMap<Spanned<String>, RawKindRules>,
    /// Creditors.
    #[serde(default, rename = "creditor")]
    pub creditors: Vec<RawCreditor>,
    /// Municipalities.
    #[serde(default, rename = "municipality")]
    pub municipalities: Vec<RawMunicipality>,
    /// Executors (uitvoerders).
    #[serde(default, rename = "executor")]
    pub executors: Vec<RawExecutor>,
}

/// `[sftp]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawSftp {
    /// Whether to serve SFTP.
    pub enabled: bool,
    /// Address to listen on.
    pub listen: Spanned<String>,
    /// Host key file (created on first start if missing).
    pub host_key: String,
    /// Concurrent sessions in all.
    pub max_sessions: usize,
    /// Concurrent sessions per party.
    pub max_sessions_per_party: usize,
    /// Open file handles per session.
    pub max_open_files: usize,
    /// Folder entries a session's open listings hold together.
    pub max_listing_entries: Spanned<i64>,
    /// Seconds a client has to authenticate.
    pub auth_timeout_secs: u64,
    /// Seconds of silence before a session is closed.
    pub idle_timeout_secs: u64,
    /// Failed authentication attempts before disconnect.
    pub max_auth_attempts: usize,
}

impl Default for RawSftp {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: Spanned::new(0..0, "0.0.0.0:2222".to_owned()),
            host_key: "host_ed25519".to_owned(),
            max_sessions: 64,
            max_sessions_per_party: 8,
            max_open_files: 16,
            max_listing_entries: Spanned::new(0..0, 10_000),
            auth_timeout_secs: 30,
            idle_timeout_secs: 300,
            max_auth_attempts: 3,
        }
    }
}

/// `[https]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttps {
    /// Whether to serve HTTPS.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Address to listen on.
    #[serde(default = "default_https_listen")]
    pub listen: Spanned<String>,
    /// Server certificate chain (PEM), relative to the config file.
    pub cert: Spanned<String>,
    /// Server private key (PEM), relative to the config file.
    pub key: Spanned<String>,
    /// CA bundles (PEM) that client certificates must chain to.
    pub client_ca: Vec<Spanned<String>>,
    /// CRL files (PEM or DER), re-read when they change.
    #[serde(default)]
    pub crl: Vec<Spanned<String>>,
    /// Seconds between checks of the CRL files for changes.
    #[serde(default = "default_crl_check")]
    pub crl_check_secs: u64,
    /// Concurrent connections in all.
    #[serde(default = "default_https_connections")]
    pub max_connections: usize,
    /// Seconds a client has to complete the TLS handshake.
    #[serde(default = "default_handshake")]
    pub handshake_timeout_secs: u64,
    /// Seconds a request may wait for the next bytes of its body or headers.
    #[serde(default = "default_https_idle")]
    pub idle_timeout_secs: u64,
    /// Concurrent connections per party (certificate holder).
    #[serde(default = "default_https_per_party")]
    pub max_connections_per_party: usize,
    /// Slowest average rate (bytes/s) a request body may arrive at, after its first
    /// `idle_timeout_secs`.
    #[serde(default = "default_min_body_rate")]
    pub min_body_bytes_per_sec: u64,
}

fn yes() -> bool {
    true
}
fn default_https_listen() -> Spanned<String> {
    Spanned::new(0..0, "0.0.0.0:8443".to_owned())
}
fn default_crl_check() -> u64 {
    30
}
fn default_https_connections() -> usize {
    256
}
fn default_handshake() -> u64 {
    10
}
fn default_https_idle() -> u64 {
    60
}
fn default_https_per_party() -> usize {
    8
}
fn default_min_body_rate() -> u64 {
    1024
}

/// `[defender]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawDefender {
    /// Whether origins are scored and banned.
    pub enabled: bool,
    /// Seconds a scored event counts.
    pub window_secs: Spanned<i64>,
    /// Score within the window that bans an origin.
    pub ban_threshold: Spanned<i64>,
    /// Seconds of a first ban (doubled for each repeat).
    pub ban_secs: Spanned<i64>,
    /// Longest ban, seconds.
    pub max_ban_secs: Spanned<i64>,
    /// Networks (CIDR) never scored, banned or limited per origin.
    pub allow: Vec<Spanned<String>>,
    /// Open connections from one address, per listener.
    pub max_connections_per_origin: Spanned<i64>,
    /// Connections not yet authenticated, per listener.
    pub max_unauthenticated: Spanned<i64>,
    /// Connections not yet authenticated from one address, per listener.
    pub max_unauthenticated_per_origin: Spanned<i64>,
}

impl Default for RawDefender {
    fn default() -> Self {
        let n = |v| Spanned::new(0..0, v);
        Self {
            enabled: true,
            window_secs: n(600),
            ban_threshold: n(20),
            ban_secs: n(600),
            max_ban_secs: n(86_400),
            allow: Vec::new(),
            max_connections_per_origin: n(32),
            max_unauthenticated: n(64),
            max_unauthenticated_per_origin: n(8),
        }
    }
}

/// `[admin]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawAdmin {
    /// Address to listen on; must be loopback.
    pub listen: Spanned<String>,
}

impl Default for RawAdmin {
    fn default() -> Self {
        Self { listen: Spanned::new(0..0, "127.0.0.1:9090".to_owned()) }
    }
}

/// `[intake]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawIntake {
    /// Largest accepted file in bytes.
    pub max_file_bytes: u64,
    /// Most per-record errors listed in one receipt (the counts stay exact).
    pub max_listed_errors: usize,
    /// Bytes of out-of-order SFTP writes held in memory per upload.
    pub reorder_window_bytes: usize,
    /// Bytes of out-of-order writes held for one creditor, all its uploads together.
    pub reorder_bytes_per_party: usize,
    /// Seconds a stop waits for uploads in flight.
    pub stop_grace_secs: u64,
    /// Files one creditor may send per period over SFTP and HTTPS.
    pub max_files_per_period: Spanned<i64>,
}

impl Default for RawIntake {
    fn default() -> Self {
        Self {
            max_file_bytes: 2 << 30,
            max_listed_errors: 1000,
            reorder_window_bytes: 16 << 20,
            reorder_bytes_per_party: 32 << 20,
            stop_grace_secs: 60,
            max_files_per_period: Spanned::new(0..0, 2000),
        }
    }
}

/// `[periods]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawPeriods {
    /// Day of the month deliveries close (at 23:59:59 local time).
    pub cutoff_day: Spanned<i64>,
}

impl Default for RawPeriods {
    fn default() -> Self {
        Self { cutoff_day: Spanned::new(0..0, 25) }
    }
}

/// `[batch]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawBatch {
    /// Whether the daemon runs due batches itself (otherwise only `meldpunt batch run`).
    pub automatic: bool,
    /// Day of the month the batch runs (the day after the cutoff by default).
    pub day: Spanned<i64>,
    /// Local time of day it runs, `HH:MM`.
    pub time: Spanned<String>,
    /// Routing table (CSV), relative to the config file.
    pub routing_table: Spanned<String>,
    /// Earlier periods looked at for *opeenvolgend*.
    pub lookback_months: Spanned<i64>,
}

impl Default for RawBatch {
    fn default() -> Self {
        Self {
            automatic: true,
            day: Spanned::new(0..0, 26),
            time: Spanned::new(0..0, "02:00".to_owned()),
            routing_table: Spanned::new(0..0, "routing.csv".to_owned()),
            lookback_months: Spanned::new(0..0, 6),
        }
    }
}

/// `[pickup]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawPickup {
    /// Days a picked-up bundle stays in the pickup folder.
    pub retention_days: Spanned<i64>,
}

impl Default for RawPickup {
    fn default() -> Self {
        Self { retention_days: Spanned::new(0..0, 14) }
    }
}

/// `[feedback]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawFeedback {
    /// Largest terugmelding file accepted, in bytes.
    pub max_file_bytes: Spanned<i64>,
}

impl Default for RawFeedback {
    fn default() -> Self {
        Self { max_file_bytes: Spanned::new(0..0, 16 << 20) }
    }
}

/// `[ddas]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawDdas {
    /// Day of the month the previous month's DDAS export is dropped (0 = never).
    pub day: Spanned<i64>,
}

impl Default for RawDdas {
    fn default() -> Self {
        Self { day: Spanned::new(0..0, 0) }
    }
}

/// `[clients]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawClients {
    /// Days after its upload that a known-client list stops counting.
    pub max_age_days: Spanned<i64>,
}

impl Default for RawClients {
    fn default() -> Self {
        Self { max_age_days: Spanned::new(0..0, 45) }
    }
}

/// `[retention]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawRetention {
    /// Months a period is kept after it ends.
    pub months: Spanned<i64>,
    /// Days the receipts and state row of a structurally rejected upload are kept.
    pub rejected_days: Spanned<i64>,
    /// Hours after its last change a leftover temporary file is removed.
    pub temp_hours: Spanned<i64>,
    /// Months a municipality's terugmelding upload record and receipt are kept.
    pub feedback_months: Spanned<i64>,
    /// Months a creditor's batch report is kept after its batch ran.
    pub batch_report_months: Spanned<i64>,
}

impl Default for RawRetention {
    fn default() -> Self {
        let n = |v| Spanned::new(0..0, v);
        Self {
            months: n(6),
            rejected_days: n(30),
            temp_hours: n(24),
            feedback_months: n(3),
            batch_report_months: n(3),
        }
    }
}

/// `[audit]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawAudit {
    /// Seconds between signed checkpoints (one is also written at shutdown and before a purge).
    pub checkpoint_interval_secs: Spanned<i64>,
    /// Months audit events are kept; older whole months are purged, leaving a signed anchor.
    pub retention_months: Spanned<i64>,
    /// Failed logins (per party or per address) that make a burst in the monthly report …
    pub failed_login_burst: Spanned<i64>,
    /// … within this many minutes.
    pub failed_login_window_mins: Spanned<i64>,
    /// A delivered bundle not picked up after this many days is reported as an anomaly.
    pub unpicked_after_days: Spanned<i64>,
    /// Where a copy of every event goes as RFC 5424 (`unix:/dev/log`, `udp://…`, `tcp://…`).
    pub syslog: Spanned<String>,
}

impl Default for RawAudit {
    fn default() -> Self {
        let n = |v| Spanned::new(0..0, v);
        Self {
            checkpoint_interval_secs: n(3600),
            retention_months: n(84),
            failed_login_burst: n(5),
            failed_login_window_mins: n(10),
            unpicked_after_days: n(14),
            syslog: Spanned::new(0..0, String::new()),
        }
    }
}

/// `[rules.<kind>]`: each field given replaces that kind's default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKindRules {
    /// Minimum days in arrears.
    pub min_days: Option<u32>,
    /// Maximum days in arrears; 0 means no maximum.
    pub max_days: Option<u32>,
    /// Required fields: `herinneringsdatum`, `contactpoging`, `schuldhulp_gewezen`.
    pub requires: Option<Vec<Spanned<String>>>,
}
