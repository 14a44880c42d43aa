//! What the kernel says about the bytes one HTTPS connection sent: whether the peer's TCP has
//! acknowledged them (docs/folders-and-protocols.md, "What counts as picked up").
//!
//! A [`Watched`] stream sits between hyper and TLS and counts completed flushes: a flush that
//! completes has put every byte hyper and rustls held into the kernel. A [`Wire::probe`] then
//! reads the socket's unacknowledged bytes (`tx_queue`, the kernel's `write_seq - snd_una`, the
//! number `SIOCOUTQ` gives) from `/proc/self/net/tcp{,6}`, found by the connection's address
//! pair (no file descriptor is kept, so none can be reused). `tx_queue == 0` means everything
//! flushed before the probe reached the peer. The crate forbids `unsafe`, which an `ioctl`
//! needs; the proc file gives the same number safely.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// TCP states as `/proc/net/tcp` writes them (`include/net/tcp_states.h`).
const ESTABLISHED: u8 = 0x01;
const FIN_WAIT1: u8 = 0x04;
const FIN_WAIT2: u8 = 0x05;
const TIME_WAIT: u8 = 0x06;
const CLOSE_WAIT: u8 = 0x08;
const LAST_ACK: u8 = 0x09;
const CLOSING: u8 = 0x0B;

/// Whether a probe found the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// The socket is there; `acked` says whether every byte sent so far was acknowledged.
    Alive {
        /// Nothing is waiting for the peer's acknowledgement.
        acked: bool,
    },
    /// The connection is gone (reset, or closed and reaped), or the proc file is unreadable.
    Gone,
}

/// One connection's flush and acknowledgement counts, shared by its stream and its requests.
#[derive(Debug)]
pub struct Wire {
    local: SocketAddr,
    peer: SocketAddr,
    /// Completed flushes of the stream.
    flushes: AtomicU64,
    /// The flush count read just before a probe found nothing unacknowledged: every byte of
    /// those flushes reached the peer.
    acked: AtomicU64,
    /// The socket's inode as first seen (0: not yet): a line with another inode is another
    /// connection that reuses the address pair.
    inode: AtomicU64,
}

impl Wire {
    /// A wire for the connection from `peer` to our `local` address.
    pub fn new(local: SocketAddr, peer: SocketAddr) -> Wire {
        Wire { local, peer, flushes: AtomicU64::new(0), acked: AtomicU64::new(0), inode: AtomicU64::new(0) }
    }

    /// The flush count now; bytes handed to hyper after this are acknowledged once
    /// [`Wire::acked_after`] of it is true.
    pub fn mark(&self) -> u64 {
        self.flushes.load(Ordering::SeqCst)
    }

    /// Whether a flush that completed after `mark` was taken and fully acknowledged.
    pub fn acked_after(&self, mark: u64) -> bool {
        self.acked.load(Ordering::SeqCst) > mark
    }

    /// Asks the kernel how far the peer has acknowledged, and notes it.
    pub fn probe(&self) -> Probe {
        let flushed = self.flushes.load(Ordering::SeqCst);
        let (probe, inode) = probe_proc(self.local, self.peer);
        if inode != 0 {
            // A closed socket shows inode 0; a different one is a new connection.
            let first = self.inode.compare_exchange(0, inode, Ordering::SeqCst, Ordering::SeqCst);
            if first.is_err_and(|seen| seen != inode) {
                return Probe::Gone;
            }
        }
        if probe == (Probe::Alive { acked: true }) {
            self.acked.fetch_max(flushed, Ordering::SeqCst);
        }
        probe
    }
}

/// Reads the connection's line in `/proc/self/net/tcp` (or `tcp6`): what it says, and the
/// socket's inode.
fn probe_proc(local: SocketAddr, peer: SocketAddr) -> (Probe, u64) {
    let file = if local.is_ipv4() { "/proc/self/net/tcp" } else { "/proc/self/net/tcp6" };
    match std::fs::read_to_string(file) {
        Ok(table) => find(&table, local, peer),
        Err(e) => {
            static WARNED: AtomicBool = AtomicBool::new(false);
            if !WARNED.swap(true, Ordering::SeqCst) {
                tracing::warn!(file, error = %e, "cannot read the kernel's TCP table: HTTPS downloads count as picked up only when acknowledged with DELETE");
            }
            (Probe::Gone, 0)
        }
    }
}

/// An address as `/proc/net/tcp{,6}` prints it: each 32-bit word of the address in host order
/// as `%08X`, then `:%04X` of the port.
fn proc_addr(a: SocketAddr) -> String {
    let words: Vec<u8> = match a {
        SocketAddr::V4(v4) => v4.ip().octets().to_vec(),
        SocketAddr::V6(v6) => v6.ip().octets().to_vec(),
    };
    let mut out = String::new();
    for w in words.chunks_exact(4) {
        out.push_str(&format!("{:08X}", u32::from_ne_bytes([w[0], w[1], w[2], w[3]])));
    }
    out.push_str(&format!(":{:04X}", a.port()));
    out
}

/// What the table says of the connection `local`–`peer`, and its inode.
fn find(table: &str, local: SocketAddr, peer: SocketAddr) -> (Probe, u64) {
    let (l, p) = (proc_addr(local), proc_addr(peer));
    for line in table.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [_sl, la, ra, st, queues, _timer, _retransmits, _uid, _timeout, inode, ..] = f[..] else {
            continue;
        };
        if la != l || ra != p {
            continue;
        }
        let state = u8::from_str_radix(st, 16).unwrap_or(0);
        let tx =
            queues.split_once(':').and_then(|(tx, _)| u64::from_str_radix(tx, 16).ok()).unwrap_or(u64::MAX);
        let acked = match state {
            ESTABLISHED | CLOSE_WAIT => tx == 0,
            // Our FIN is queued and counts as one: only it may be unacknowledged.
            FIN_WAIT1 | CLOSING | LAST_ACK => tx <= 1,
            // Our FIN was acknowledged, so was every byte before it.
            FIN_WAIT2 | TIME_WAIT => true,
            _ => false,
        };
        return (Probe::Alive { acked }, inode.parse().unwrap_or(0));
    }
    (Probe::Gone, 0)
}

/// A stream that counts its completed flushes into a [`Wire`], and probes once more when it
/// shuts down and when it is dropped (a client that closes first would otherwise be gone
/// before anyone looked; after the drop the socket is found by its address pair alone).
pub struct Watched<S> {
    inner: S,
    wire: std::sync::Arc<Wire>,
    shutting_down: bool,
}

impl<S> Watched<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, wire: std::sync::Arc<Wire>) -> Watched<S> {
        Watched { inner, wire, shutting_down: false }
    }
}

impl<S> Drop for Watched<S> {
    fn drop(&mut self) {
        // Before `inner` (and the socket) goes.
        self.wire.probe();
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let done = Pin::new(&mut self.inner).poll_flush(cx);
        if let Poll::Ready(Ok(())) = done {
            self.wire.flushes.fetch_add(1, Ordering::SeqCst);
        }
        done
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.shutting_down {
            // Before our FIN and TLS close_notify join the queue.
            self.shutting_down = true;
            self.wire.probe();
        }
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:20FB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:20FB 0100007F:E6A0 01 0001A000:00000000 01:00000014 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:20FB 0100007F:E6A2 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:20FB 0100007F:E6A4 04 00000001:00000000 01:00000014 00000000     0        0 0 1 0000000000000000 20 4 30 10 -1
   4: 0100007F:20FB 0100007F:E6A6 04 00000002:00000000 01:00000014 00000000     0        0 0 1 0000000000000000 20 4 30 10 -1
";

    fn at(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn addresses_as_the_kernel_prints_them() {
        assert_eq!(proc_addr(at(8443)), "0100007F:20FB");
        let v6: SocketAddr = "[::ffff:127.0.0.1]:8443".parse().unwrap();
        assert_eq!(proc_addr(v6), "0000000000000000FFFF00000100007F:20FB");
    }

    #[test]
    fn reads_the_send_queue_of_one_connection() {
        let me = at(8443);
        let found = |port| find(TABLE, me, at(port));
        assert_eq!(found(0xE6A0), (Probe::Alive { acked: false }, 2), "0x1A000 bytes unacked");
        assert_eq!(found(0xE6A2), (Probe::Alive { acked: true }, 3));
        assert_eq!(found(0xE6A4), (Probe::Alive { acked: true }, 0), "only our FIN waits");
        assert_eq!(found(0xE6A6), (Probe::Alive { acked: false }, 0), "a data byte and the FIN");
        assert_eq!(found(0xE6A8), (Probe::Gone, 0));
        assert_eq!(find(TABLE, at(8444), at(0xE6A2)), (Probe::Gone, 0));
    }

    /// Sends 100 kB over a loopback connection on `bind` and waits for the acknowledgement.
    async fn acknowledged_on(bind: &str) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let Ok(listener) = tokio::net::TcpListener::bind(bind).await else {
            return eprintln!("no {bind} on this machine; skipped");
        };
        let addr = listener.local_addr().unwrap();
        let client = tokio::spawn(async move {
            let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
            let mut got = Vec::new();
            c.read_to_end(&mut got).await.unwrap();
            got.len()
        });
        let (tcp, peer) = listener.accept().await.unwrap();
        let wire = std::sync::Arc::new(Wire::new(tcp.local_addr().unwrap(), peer));
        let mut s = Watched::new(tcp, wire.clone());
        let mark = wire.mark();
        s.write_all(&[7u8; 100_000]).await.unwrap();
        assert!(!wire.acked_after(mark), "nothing flushed yet");
        s.flush().await.unwrap();
        let start = std::time::Instant::now();
        while !wire.acked_after(mark) && start.elapsed() < std::time::Duration::from_secs(5) {
            assert!(matches!(wire.probe(), Probe::Alive { .. }), "{bind}: the connection is found");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert!(wire.acked_after(mark), "{bind}");
        s.shutdown().await.unwrap();
        drop(s);
        assert_eq!(client.await.unwrap(), 100_000);
    }

    #[test]
    fn a_real_socket_is_found_and_acknowledged() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(acknowledged_on("127.0.0.1:0"));
        rt.block_on(acknowledged_on("[::1]:0"));
    }
}
