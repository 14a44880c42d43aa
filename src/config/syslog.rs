//! `[audit] syslog`: where a copy of every audit event goes as an RFC 5424 message
//! (docs/audit.md "Streaming to syslog"): `unix:/dev/log`, `udp://host:514` or
//! `tcp://host:601` (octet-counted framing, RFC 6587). Off when absent or empty.

use std::path::PathBuf;

use toml::Spanned;

use super::check::Checker;

/// A syslog collector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyslogTarget {
    /// A local datagram socket (`/dev/log`: the host's syslog daemon, or journald).
    Unix(PathBuf),
    /// A remote collector over UDP (RFC 5426), `host:port`.
    Udp(String),
    /// A remote collector over TCP (RFC 6587 octet counting), `host:port`.
    Tcp(String),
}

impl std::fmt::Display for SyslogTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyslogTarget::Unix(p) => write!(f, "unix:{}", p.display()),
            SyslogTarget::Udp(a) => write!(f, "udp://{a}"),
            SyslogTarget::Tcp(a) => write!(f, "tcp://{a}"),
        }
    }
}

const FIX: &str = "write syslog = \"unix:/dev/log\", \"udp://HOST:514\" or \"tcp://HOST:601\", or leave it out to send no copy";

/// Parses the text of `[audit] syslog`; `Ok(None)` when it is empty.
pub fn parse(text: &str) -> Result<Option<SyslogTarget>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if let Some(path) = t.strip_prefix("unix:") {
        let path = path.strip_prefix("//").unwrap_or(path);
        if !path.starts_with('/') {
            return Err(format!("[audit] syslog = \"{t}\": a unix socket needs an absolute path"));
        }
        return Ok(Some(SyslogTarget::Unix(PathBuf::from(path))));
    }
    let (scheme, addr) = t
        .split_once("://")
        .ok_or_else(|| format!("[audit] syslog = \"{t}\" names no transport (unix:, udp:// or tcp://)"))?;
    let addr = addr.trim_end_matches('/');
    let port_ok = addr
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0));
    if !port_ok {
        return Err(format!("[audit] syslog = \"{t}\": give the collector as HOST:PORT"));
    }
    match scheme {
        "udp" => Ok(Some(SyslogTarget::Udp(addr.to_owned()))),
        "tcp" => Ok(Some(SyslogTarget::Tcp(addr.to_owned()))),
        other => Err(format!("[audit] syslog = \"{t}\": unknown transport {other}://")),
    }
}

/// Whether the collector can be reached now (for `meldpunt check`, a warning only: the daemon
/// runs without it and counts the copies it could not send): the socket exists, the host
/// name resolves, a TCP collector accepts a connection.
pub fn probe(target: &SyslogTarget) -> Result<(), String> {
    use std::net::ToSocketAddrs as _;
    use std::os::unix::fs::FileTypeExt as _;
    match target {
        SyslogTarget::Unix(path) => match std::fs::metadata(path) {
            Ok(m) if m.file_type().is_socket() => Ok(()),
            Ok(_) => Err(format!("{} is not a socket", path.display())),
            Err(e) => Err(format!("{}: {e}", path.display())),
        },
        SyslogTarget::Udp(addr) | SyslogTarget::Tcp(addr) => {
            let to = addr.to_socket_addrs().map_err(|e| format!("{addr}: {e}"))?.next();
            let to = to.ok_or_else(|| format!("{addr} resolves to no address"))?;
            if let SyslogTarget::Tcp(_) = target {
                std::net::TcpStream::connect_timeout(&to, std::time::Duration::from_secs(2))
                    .map_err(|e| format!("{addr}: {e}"))?;
            }
            Ok(())
        }
    }
}

/// Checks `[audit] syslog`; a bad value is reported and no copy is sent.
pub(super) fn check(c: &mut Checker<'_>, raw: &Spanned<String>) -> Option<SyslogTarget> {
    parse(raw.get_ref()).unwrap_or_else(|message| {
        c.report(raw, message, FIX);
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_transports_and_their_mistakes() {
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("unix:/dev/log").unwrap(), Some(SyslogTarget::Unix("/dev/log".into())));
        assert_eq!(parse("udp://10.0.0.5:514").unwrap(), Some(SyslogTarget::Udp("10.0.0.5:514".into())));
        assert_eq!(parse("tcp://[::1]:601").unwrap(), Some(SyslogTarget::Tcp("[::1]:601".into())));
        assert_eq!(
            parse("tcp://logs.example.nl:601").unwrap().unwrap().to_string(),
            "tcp://logs.example.nl:601"
        );
        for bad in ["unix:dev/log", "udp://host", "udp://:514", "tcp://host:0", "http://host:80", "host:514"]
        {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn probe_finds_a_missing_socket_and_a_closed_port() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("log.sock");
        let target = SyslogTarget::Unix(path.clone());
        assert!(probe(&target).unwrap_err().contains("log.sock"));
        let _socket = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
        assert_eq!(probe(&target), Ok(()));
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        assert!(probe(&SyslogTarget::Tcp(format!("127.0.0.1:{port}"))).is_err());
        assert_eq!(probe(&SyslogTarget::Udp(format!("127.0.0.1:{port}"))), Ok(()));
    }

    #[test]
    fn the_configuration_check_locates_a_bad_value_with_its_fix() {
        let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBr+D2qATuE0TounOSoBscADw2xa9JKz6UuJODj0+Jso t";
        let creditor = format!(
            "[[creditor]]\nid = \"vitens\"\nname = \"Vitens\"\nkinds = [\"drinkwater\"]\nagreements = [\"*\"]\nssh_keys = [\"{key}\"]\n"
        );
        let file = std::path::Path::new("/etc/meldpunt/meldpunt.toml");
        let good = format!("data_dir = \"d\"\n[audit]\nsyslog = \"udp://127.0.0.1:514\"\n{creditor}");
        let c = crate::config::Config::parse(file, &good).unwrap();
        assert_eq!(c.audit.syslog, Some(SyslogTarget::Udp("127.0.0.1:514".into())));
        let bad = format!("data_dir = \"d\"\n[audit]\nsyslog = \"http://logs:80\"\n{creditor}");
        let p = crate::config::Config::parse(file, &bad).unwrap_err().0;
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].line, 3);
        assert!(p[0].message.contains("unknown transport http://"), "{p:?}");
        assert!(p[0].fix.contains("unix:/dev/log"), "{p:?}");
    }
}
