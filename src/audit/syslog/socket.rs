//! The three ways to a collector, with plain std sockets: a local datagram socket, UDP, and
//! TCP with octet-counted framing (RFC 6587 §3.4.1: `LENGTH SP MESSAGE`). Every call is
//! bounded in time (non-blocking datagrams, connect and write timeouts), so a collector that
//! hangs delays only the forwarding thread.

use std::io::{self, Write as _};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use crate::config::SyslogTarget;

/// Longest wait to connect to or write to a TCP collector.
const TIMEOUT: Duration = Duration::from_secs(2);

/// How long after a failed connection no new one is tried (messages meanwhile count as failed).
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// A connection to the collector, made when needed and dropped after an error.
pub struct Socket {
    target: SyslogTarget,
    open: Option<Open>,
    last_try: Option<Instant>,
}

enum Open {
    Unix(UnixDatagram),
    Udp(UdpSocket, SocketAddr),
    Tcp(TcpStream),
}

impl Socket {
    /// Not connected yet.
    pub fn new(target: SyslogTarget) -> Socket {
        Socket { target, open: None, last_try: None }
    }

    /// Sends one message; on an error the connection is dropped and made again later.
    pub fn send(&mut self, message: &[u8]) -> io::Result<()> {
        if self.open.is_none() {
            if self.last_try.is_some_and(|t| t.elapsed() < RETRY_AFTER) {
                return Err(io::Error::new(io::ErrorKind::NotConnected, "collector unreachable (retrying)"));
            }
            self.last_try = Some(Instant::now());
            self.open = Some(connect(&self.target)?);
        }
        let result = match self.open.as_mut().expect("connected above") {
            Open::Unix(s) => s.send_to(message, unix_path(&self.target)).map(drop),
            Open::Udp(s, to) => s.send_to(message, *to).map(drop),
            Open::Tcp(s) => {
                let mut framed = format!("{} ", message.len()).into_bytes();
                framed.extend_from_slice(message);
                s.write_all(&framed)
            }
        };
        if result.is_err() {
            self.open = None;
        }
        result
    }
}

fn unix_path(target: &SyslogTarget) -> &std::path::Path {
    match target {
        SyslogTarget::Unix(p) => p,
        _ => std::path::Path::new("/dev/null"),
    }
}

fn connect(target: &SyslogTarget) -> io::Result<Open> {
    match target {
        SyslogTarget::Unix(_) => {
            let s = UnixDatagram::unbound()?;
            s.set_nonblocking(true)?;
            Ok(Open::Unix(s))
        }
        SyslogTarget::Udp(addr) => {
            let to = resolve(addr)?;
            let local: SocketAddr =
                if to.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
            let s = UdpSocket::bind(local)?;
            s.set_nonblocking(true)?;
            Ok(Open::Udp(s, to))
        }
        SyslogTarget::Tcp(addr) => {
            let s = TcpStream::connect_timeout(&resolve(addr)?, TIMEOUT)?;
            s.set_write_timeout(Some(TIMEOUT))?;
            s.set_nodelay(true)?;
            Ok(Open::Tcp(s))
        }
    }
}

fn resolve(addr: &str) -> io::Result<SocketAddr> {
    addr.to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("{addr} resolves to no address")))
}
