//! `[sftp]` and `[admin]`: the listeners' addresses and limits (`[https]` is checked in
//! `config/tls.rs`, with the same address check).

use std::net::SocketAddr;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use toml::Spanned;

use super::Checker;
use crate::config::SftpConfig;
use crate::config::file::{RawAdmin, RawSftp};

impl Checker<'_> {
    /// The address `at` holds (host:port), or `None` after reporting it; `example` shows the form.
    pub(in crate::config) fn address(&mut self, at: &Spanned<String>, example: &str) -> Option<SocketAddr> {
        let address = SocketAddr::from_str(at.get_ref()).ok();
        if address.is_none() {
            self.report(
                at,
                format!("'{}' is not an address", at.get_ref()),
                format!("write host:port, e.g. \"{example}\""),
            );
        }
        address
    }
}

/// `[sftp]`: `None` when disabled or when its address is unusable (then reported).
pub(super) fn sftp(c: &mut Checker<'_>, raw: &RawSftp, data_dir: &Path) -> Option<SftpConfig> {
    if !raw.enabled {
        return None;
    }
    let listen = c.address(&raw.listen, "0.0.0.0:2222");
    let host_key = Path::new(&raw.host_key);
    let host_key = if host_key.is_absolute() { host_key.to_owned() } else { data_dir.join(host_key) };
    let max_listing_entries = super::limits::sftp_listing_entries(c, raw);
    listen.map(|listen| SftpConfig {
        listen,
        host_key,
        max_sessions: raw.max_sessions.max(1),
        max_sessions_per_party: raw.max_sessions_per_party.max(1),
        max_open_files: raw.max_open_files.max(1),
        max_listing_entries,
        auth_timeout: Duration::from_secs(raw.auth_timeout_secs.max(1)),
        idle_timeout: Duration::from_secs(raw.idle_timeout_secs.max(1)),
        max_auth_attempts: raw.max_auth_attempts.max(1),
    })
}

/// `[admin] listen`: a loopback address; anything else is reported and 127.0.0.1:9090 used.
pub(super) fn admin(c: &mut Checker<'_>, raw: &RawAdmin) -> SocketAddr {
    match SocketAddr::from_str(raw.listen.get_ref()) {
        Ok(a) if a.ip().is_loopback() => a,
        Ok(_) => {
            c.report(
                &raw.listen,
                "the admin listener must be on a loopback address",
                "write e.g. \"127.0.0.1:9090\"; put a reverse proxy in front if metrics must leave the host",
            );
            SocketAddr::from(([127, 0, 0, 1], 9090))
        }
        Err(_) => {
            c.report(&raw.listen, "not an address", "write host:port, e.g. \"127.0.0.1:9090\"");
            SocketAddr::from(([127, 0, 0, 1], 9090))
        }
    }
}
