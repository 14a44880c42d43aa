//! Configuration: the TOML file, checked into typed values with every problem located.
//!
//! Loading has a pure phase (`parse`: text → [`Config`] or every [`Problem`]) and reads only
//! the SSH key files the configuration names. `meldpunt check` runs the same code.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use russh::keys::PublicKey;

use crate::domain::deliver_to::Destinations;
use crate::domain::party::{CreditorId, ExecutorId, MunicipalityCode};
use crate::domain::period::Cutoff;
use crate::domain::rules::RuleSet;
use crate::domain::signal::{Cents, Kind};

mod audit;
pub mod change;
mod check;
pub mod defender;
pub mod file;
mod lookup;
pub mod pki;
mod problem;
mod retention;
pub mod syslog;
pub mod tls;

pub use defender::{Cidr, DefenderConfig};
pub use problem::{Problem, Problems};
pub use syslog::SyslogTarget;

/// The checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub source: PathBuf,
    /// Data directory (absolute or relative to the working directory).
    pub data_dir: PathBuf,
    /// SFTP listener settings, if SFTP is enabled.
    pub sftp: Option<SftpConfig>,
    /// HTTPS listener settings, if HTTPS is enabled.
    pub https: Option<HttpsConfig>,
    /// Admin listener address (loopback only).
    pub admin_listen: SocketAddr,
    /// Scores, bans and per-origin limits of both listeners (`[defender]`).
    pub defender: DefenderConfig,
    /// Intake limits.
    pub intake: IntakeLimits,
    /// How long before the real time uploads are dated: zero, except in `meldpunt demo`, which
    /// plays a month whose deliveries have closed (not a setting of the file).
    pub receive_backdate: jiff::SignedDuration,
    /// When deliveries close each month.
    pub cutoff: Cutoff,
    /// The monthly batch.
    pub batch: BatchConfig,
    /// Days a picked-up bundle stays in the pickup folder (`[pickup] retention_days`).
    pub pickup_retention_days: u32,
    /// Largest terugmelding file accepted (`[feedback] max_file_bytes`).
    pub feedback_max_bytes: u64,
    /// Day of the month the previous month's DDAS export goes into the pickup folders
    /// (`[ddas] day`; 0 = never).
    pub ddas_day: u8,
    /// Days after its upload that a known-client list stops counting (`[clients]
    /// max_age_days`, docs/known-clients.md).
    pub clients_max_age_days: u32,
    /// Months a period is kept after it ends (`[retention] months`), at least the lookback.
    pub retention_months: u32,
    /// The shorter windows of `[retention]` (rejected uploads, temporary files, feedback,
    /// batch reports).
    pub windows: RetentionWindows,
    /// The audit log.
    pub audit: AuditConfig,
    /// Validation rules per kind.
    pub rules: RuleSet,
    /// Creditors.
    pub creditors: Vec<Creditor>,
    /// Municipalities.
    pub municipalities: Vec<Municipality>,
    /// Executors (uitvoerders), each serving some municipalities.
    pub executors: Vec<Executor>,
    /// The SSH key files the parties name (`ssh_key_files`), for the reload watcher.
    pub ssh_key_files: Vec<PathBuf>,
}

/// SFTP listener settings.
#[derive(Debug, Clone)]
pub struct SftpConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Host key path.
    pub host_key: PathBuf,
    /// Concurrent sessions in all.
    pub max_sessions: usize,
    /// Concurrent sessions per party.
    pub max_sessions_per_party: usize,
    /// Open file handles per session.
    pub max_open_files: usize,
    /// Folder entries a session's open listings hold together; a longer listing shows the
    /// newest (`[sftp] max_listing_entries`).
    pub max_listing_entries: usize,
    /// Time a client has to authenticate.
    pub auth_timeout: Duration,
    /// Silence before a session is closed.
    pub idle_timeout: Duration,
    /// Failed authentication attempts before disconnect.
    pub max_auth_attempts: usize,
}

/// The monthly batch (docs/periods.md–§6).
#[derive(Debug, Clone)]
pub struct BatchConfig {
    /// Whether the daemon runs due batches itself.
    pub automatic: bool,
    /// Day of the month it runs (after the cutoff day).
    pub day: i8,
    /// Local time of day it runs.
    pub time: jiff::civil::Time,
    /// The routing table (CSV).
    pub routing_table: PathBuf,
    /// Earlier periods looked at for *opeenvolgend*.
    pub lookback_months: u32,
}

/// The audit log (docs/audit.md): checkpoints, retention and the review report's thresholds.
#[derive(Debug, Clone)]
pub struct AuditConfig {
    /// Time between signed checkpoints.
    pub checkpoint_interval: Duration,
    /// Months events are kept before their monthly segment is purged.
    pub retention_months: u32,
    /// Failed logins that make a burst …
    pub failed_login_burst: usize,
    /// … within this many minutes.
    pub failed_login_window_mins: i64,
    /// Days after which an unpicked bundle is an anomaly.
    pub unpicked_after_days: i64,
    /// Where a copy of every event goes as RFC 5424 (`None`: nowhere).
    pub syslog: Option<SyslogTarget>,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            checkpoint_interval: Duration::from_secs(3600),
            retention_months: 84,
            failed_login_burst: 5,
            failed_login_window_mins: 10,
            unpicked_after_days: 14,
            syslog: None,
        }
    }
}

/// The shorter retention windows (`[retention]`), each at most the period's retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionWindows {
    /// Days the receipts and state row of a structurally rejected upload are kept.
    pub rejected_days: u32,
    /// Hours after its last change a leftover temporary file is removed.
    pub temp_hours: u32,
    /// Months a municipality's terugmelding upload record and receipt are kept.
    pub feedback_months: u32,
    /// Months a creditor's batch report is kept after its batch ran.
    pub batch_report_months: u32,
}

impl Default for RetentionWindows {
    fn default() -> Self {
        Self { rejected_days: 30, temp_hours: 24, feedback_months: 3, batch_report_months: 3 }
    }
}

/// HTTPS listener settings.
#[derive(Debug, Clone)]
pub struct HttpsConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Server certificate chain (PEM).
    pub cert: PathBuf,
    /// Server private key (PEM).
    pub key: PathBuf,
    /// CA bundles client certificates must chain to.
    pub client_ca: Vec<PathBuf>,
    /// CRL files, re-read when they change.
    pub crl: Vec<PathBuf>,
    /// How often the CRL files are checked for changes.
    pub crl_check: Duration,
    /// Concurrent connections in all.
    pub max_connections: usize,
    /// Time a client has to complete the handshake.
    pub handshake_timeout: Duration,
    /// Time a request may wait for its next bytes.
    pub idle_timeout: Duration,
    /// Concurrent connections per party.
    pub max_connections_per_party: usize,
    /// Slowest average body rate (bytes/s) once a request has had `idle_timeout`.
    pub min_body_bytes_per_sec: u64,
}

/// How a party's TLS client certificate is recognised (docs/parties.md).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TlsIdentity {
    /// No HTTPS access.
    #[default]
    None,
    /// By the SHA-256 fingerprint of the certificate (DER).
    Fingerprints(Vec<[u8; 32]>),
    /// By the 20-digit OIN in the subject `serialNumber`.
    Oin(String),
}

/// Intake limits.
#[derive(Debug, Clone, Copy)]
pub struct IntakeLimits {
    /// Largest accepted file in bytes.
    pub max_file_bytes: u64,
    /// Most per-record errors listed in one receipt.
    pub max_listed_errors: usize,
    /// Bytes of out-of-order writes held per upload.
    pub reorder_window_bytes: usize,
    /// Bytes of out-of-order writes held per creditor, over all its uploads.
    pub reorder_bytes_per_party: usize,
    /// How long a stop waits for uploads in flight before it discards them.
    pub stop_grace: std::time::Duration,
    /// Files one creditor may send per period over SFTP and HTTPS (`[intake] max_files_per_period`).
    pub max_files_per_period: u64,
}

impl Default for IntakeLimits {
    fn default() -> Self {
        Self {
            max_file_bytes: 2 << 30,
            max_listed_errors: 1000,
            reorder_window_bytes: 16 << 20,
            reorder_bytes_per_party: 32 << 20,
            stop_grace: std::time::Duration::from_secs(60),
            max_files_per_period: 2000,
        }
    }
}

/// A creditor (signaalpartner).
#[derive(Debug, Clone)]
pub struct Creditor {
    /// A local folder whose complete files enter the intake as its uploads (docs/folders-and-protocols.md).
    pub spool_dir: Option<PathBuf>,
    /// Its id and SFTP user name.
    pub id: CreditorId,
    /// Display name.
    pub name: String,
    /// Contact phone shown to municipalities.
    pub phone: String,
    /// Contact e-mail shown to municipalities.
    pub email: String,
    /// Kinds it may send.
    pub kinds: Vec<Kind>,
    /// Municipalities it has an agreement with.
    pub agreements: Agreements,
    /// Its SSH public keys.
    pub ssh_keys: Vec<PublicKey>,
    /// How its TLS client certificate is recognised.
    pub tls: TlsIdentity,
}

/// The municipalities a creditor may deliver to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Agreements {
    /// `"*"`: every municipality.
    All,
    /// Only these.
    Only(Vec<MunicipalityCode>),
}

impl Agreements {
    /// Whether signals may go to `m`.
    pub fn covers(&self, m: &MunicipalityCode) -> bool {
        match self {
            Agreements::All => true,
            Agreements::Only(list) => list.contains(m),
        }
    }
}

/// A municipality (gemeente).
#[derive(Debug, Clone)]
pub struct Municipality {
    /// CBS code and SFTP user name.
    pub code: MunicipalityCode,
    /// Name.
    pub name: String,
    /// age recipients (`age1…`) its bundles are encrypted to.
    pub age_recipients: Vec<String>,
    /// Amount threshold.
    pub drempelbedrag: Option<Cents>,
    /// Bundle formats it wants.
    pub formats: Vec<BundleFormat>,
    /// Leave households under the threshold out of its bundles (they are delivered, flagged
    /// `onder_drempel`, by default).
    pub leave_out_onder_drempel: bool,
    /// Its SSH public keys.
    pub ssh_keys: Vec<PublicKey>,
    /// How its TLS client certificate is recognised.
    pub tls: TlsIdentity,
    /// Its work queues, in the order its case system shows them (docs/bundles.md).
    pub werkbakken: Vec<String>,
    /// Its queue rules, in order: the first that holds sorts a signal.
    pub werkbak_rules: Vec<crate::domain::werkbak::Rule>,
    /// Where its signals go (`deliver_to`, `deliver_werkbak`); checked: an executor serves it
    /// whenever any signal can go to one.
    pub deliver_to: Destinations,
}

/// An executor (uitvoerder): receives, for the municipalities it serves, the bundles their
/// configuration sends it, and sends feedback on those signals.
#[derive(Debug, Clone)]
pub struct Executor {
    /// Its id, SFTP user name and folder name.
    pub id: ExecutorId,
    /// Name.
    pub name: String,
    /// age recipients (`age1…`) its bundles are encrypted to.
    pub age_recipients: Vec<String>,
    /// The municipalities it serves (each served by no other executor).
    pub serves: Vec<MunicipalityCode>,
    /// Its SSH public keys.
    pub ssh_keys: Vec<PublicKey>,
    /// How its TLS client certificate is recognised.
    pub tls: TlsIdentity,
}

/// A bundle format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleFormat {
    /// `;`-separated CSV with BOM.
    Csv,
    /// JSON grouped household → persons → signals.
    Json,
}

impl Config {
    /// Reads and checks the file at `path`; every problem found is returned at once.
    pub fn load(path: &Path) -> Result<Config, Problems> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Problems(vec![Problem::whole_file(
                path,
                format!("cannot read the configuration: {e}"),
                "check the path given to --config",
            )])
        })?;
        check::parse(path, &text)
    }

    /// Parses configuration text as if read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Config, Problems> {
        check::parse(path, text)
    }

    /// The configuration file and every file it names that a reload re-reads or a change of
    /// which matters: SSH key files, the host key, the HTTPS certificate, key, CAs and CRLs,
    /// the routing table.
    pub fn named_files(&self) -> Vec<PathBuf> {
        let mut files = vec![self.source.clone(), self.batch.routing_table.clone()];
        files.extend(self.ssh_key_files.iter().cloned());
        if let Some(s) = &self.sftp {
            files.push(s.host_key.clone());
        }
        if let Some(h) = &self.https {
            files.extend([h.cert.clone(), h.key.clone()]);
            files.extend(h.client_ca.iter().chain(&h.crl).cloned());
        }
        files.sort();
        files.dedup();
        files
    }
}
