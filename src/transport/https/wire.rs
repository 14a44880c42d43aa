//! What the kernel and the client say about the bytes one HTTPS connection sent: how many the
//! peer's TCP has acknowledged, and whether the client then spoke or closed in order
//! (docs/folders-and-protocols.md, "What counts as picked up").
//!
//! A [`Tap`] under TLS counts the bytes the kernel accepted and sees what the client sends:
//! data, its FIN, or a reset. A [`Tap`] between hyper and TLS sees flushes: one that completes
//! has put every byte hyper and rustls held into the kernel, so [`Wire::after_flush`] gives a
//! response, at the first flush after its last byte, the counts it must wait for.
//! [`Wire::probe`] reads the socket's unacknowledged bytes and state from the kernel's TCP table
//! (`tcp_table.rs`), found by the connection's address pair (no file descriptor is kept, so
//! none can be reused); acknowledged = accepted − unacknowledged.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::oneshot;

pub use super::tcp_table::Probe;
use super::tcp_table::probe_proc;

/// One connection's byte counts, shared by its streams and its requests.
#[derive(Debug)]
pub struct Wire {
    local: SocketAddr,
    peer: SocketAddr,
    /// Bytes the kernel accepted for sending.
    written: AtomicU64,
    /// Bytes the peer acknowledged, as far as probes saw.
    acked: AtomicU64,
    /// The socket's inode as first seen (0: not yet): a line with another inode is another
    /// connection that reuses the address pair.
    inode: AtomicU64,
    /// What the client did that shows it read what it had: data sent (its next request, its
    /// TLS close_notify) or its FIN, counted.
    heard: AtomicU64,
    /// Whether the client's FIN was counted in `heard`.
    fin: AtomicBool,
    /// `heard` when the connection first failed (a reset: a client closing with unread data
    /// resets), `u64::MAX` while it has not.
    broke_at: AtomicU64,
    /// Responses waiting for the next completed flush.
    waiting: Mutex<Vec<oneshot::Sender<Flushed>>>,
    /// Whether any response ever waited: only then is the closing connection probed.
    watched: AtomicBool,
}

/// The connection's counts when a flush completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flushed {
    /// Bytes the kernel had accepted: all of them must be acknowledged.
    pub written: u64,
    /// [`Wire`]'s `heard`: the client must do something after this.
    pub heard: u64,
}

/// What a [`Wire`] says of the bytes of a [`Flushed`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Judged {
    /// Not yet known.
    Open,
    /// The connection failed before the client showed it read them: never taken.
    Refused,
    /// Acknowledged, and the client then spoke or closed in order: taken.
    Taken,
}

impl Wire {
    /// A wire for the connection from `peer` to our `local` address.
    pub fn new(local: SocketAddr, peer: SocketAddr) -> Wire {
        Wire {
            local,
            peer,
            written: AtomicU64::new(0),
            acked: AtomicU64::new(0),
            inode: AtomicU64::new(0),
            heard: AtomicU64::new(0),
            fin: AtomicBool::new(false),
            broke_at: AtomicU64::new(u64::MAX),
            waiting: Mutex::new(Vec::new()),
            watched: AtomicBool::new(false),
        }
    }

    /// The counts when the next flush completes: everything handed to hyper before this call
    /// is within them. Fails if the connection closes first.
    pub fn after_flush(&self) -> oneshot::Receiver<Flushed> {
        let (tx, rx) = oneshot::channel();
        self.watched.store(true, Ordering::SeqCst);
        self.waiting.lock().unwrap_or_else(|e| e.into_inner()).push(tx);
        rx
    }

    /// Bytes the peer acknowledged, as far as the last probe saw.
    pub fn acked(&self) -> u64 {
        self.acked.load(Ordering::SeqCst)
    }

    /// Whether the bytes of `f` were taken: every one acknowledged by the client's TCP, and
    /// then the client sent something or its FIN, before any reset. An acknowledgement alone
    /// can mean the bytes sit unread in the client's receive buffer; but a client that closes
    /// with unread data resets the connection instead of sending a FIN (RFC 2525, 2.17), and a
    /// client sends its next request only after reading the response.
    pub fn judge(&self, f: Flushed) -> Judged {
        // `broke_at` first: an event counted after it is read must not hide a failure.
        let broke_at = self.broke_at.load(Ordering::SeqCst);
        if broke_at <= f.heard {
            return Judged::Refused;
        }
        if self.acked() >= f.written && self.heard.load(Ordering::SeqCst) > f.heard {
            return Judged::Taken;
        }
        Judged::Open
    }

    fn heard_data(&self) {
        self.heard.fetch_add(1, Ordering::SeqCst);
    }

    fn heard_fin(&self) {
        if !self.fin.swap(true, Ordering::SeqCst) {
            self.heard.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn broke(&self) {
        let heard = self.heard.load(Ordering::SeqCst);
        let _ = self.broke_at.compare_exchange(u64::MAX, heard, Ordering::SeqCst, Ordering::SeqCst);
    }

    /// Asks the kernel how far the peer has acknowledged, and notes it.
    pub fn probe(&self) -> Probe {
        let written = self.written.load(Ordering::SeqCst);
        let (probe, inode) = probe_proc(self.local, self.peer);
        if inode != 0 {
            // A closed socket shows inode 0; a different one is a new connection.
            let first = self.inode.compare_exchange(0, inode, Ordering::SeqCst, Ordering::SeqCst);
            if first.is_err_and(|seen| seen != inode) {
                return Probe::Gone;
            }
        }
        if let Probe::Alive { unacked, peer_fin } = probe {
            // Bytes written after `written` was read only make `unacked` larger: never too much.
            self.acked.fetch_max(written.saturating_sub(unacked), Ordering::SeqCst);
            if peer_fin {
                self.heard_fin();
            }
        }
        probe
    }

    fn flushed(&self) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        if !waiting.is_empty() {
            let f = Flushed {
                written: self.written.load(Ordering::SeqCst),
                heard: self.heard.load(Ordering::SeqCst),
            };
            for tx in waiting.drain(..) {
                let _ = tx.send(f);
            }
        }
    }
}

/// Where a [`Tap`] sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// Under TLS, on the TCP stream: counts the bytes the kernel accepts, and what the client
    /// sends (data, its FIN, a reset).
    UnderTls,
    /// Between hyper and TLS: a completed flush answers [`Wire::after_flush`]; probes once more
    /// at shutdown and drop (a client that closes first would otherwise be gone before anyone
    /// looked; after the drop the socket is found by its address pair alone).
    OverTls,
}

/// A stream passed through, reporting to its connection's [`Wire`].
pub struct Tap<S> {
    inner: S,
    wire: Arc<Wire>,
    place: Place,
    shutting_down: bool,
}

impl<S> Tap<S> {
    /// Wraps the TCP stream that TLS will run over.
    pub fn under_tls(tcp: S, wire: Arc<Wire>) -> Tap<S> {
        Tap { inner: tcp, wire, place: Place::UnderTls, shutting_down: false }
    }

    /// Wraps the TLS stream that hyper will write to.
    pub fn over_tls(tls: S, wire: Arc<Wire>) -> Tap<S> {
        Tap { inner: tls, wire, place: Place::OverTls, shutting_down: false }
    }

    fn wrote(&self, done: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        if self.place == Place::UnderTls {
            match &done {
                Poll::Ready(Ok(n)) => {
                    self.wire.written.fetch_add(*n as u64, Ordering::SeqCst);
                }
                Poll::Ready(Err(_)) => self.wire.broke(),
                Poll::Pending => {}
            }
        }
        done
    }
}

impl<S> Drop for Tap<S> {
    fn drop(&mut self) {
        if self.place == Place::OverTls {
            // Before `inner` (and the socket) goes. No flush follows: the waiting learn so.
            if self.wire.watched.load(Ordering::SeqCst) {
                self.wire.probe();
            }
            self.wire.waiting.lock().unwrap_or_else(|e| e.into_inner()).clear();
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tap<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let (before, room) = (buf.filled().len(), buf.remaining());
        let done = Pin::new(&mut self.inner).poll_read(cx, buf);
        if self.place == Place::UnderTls {
            match &done {
                Poll::Ready(Ok(())) if buf.filled().len() > before => self.wire.heard_data(),
                Poll::Ready(Ok(())) if room > 0 => self.wire.heard_fin(),
                Poll::Ready(Err(_)) => self.wire.broke(),
                _ => {}
            }
        }
        done
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tap<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let done = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.wrote(done)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let done = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.wrote(done)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let done = Pin::new(&mut self.inner).poll_flush(cx);
        if self.place == Place::OverTls
            && let Poll::Ready(Ok(())) = done
        {
            self.wire.flushed();
        }
        done
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.place == Place::OverTls && !self.shutting_down {
            // Before our TLS close_notify and FIN join the queue.
            self.shutting_down = true;
            if self.wire.watched.load(Ordering::SeqCst) {
                self.wire.probe();
            }
        }
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A loopback connection on `bind` through both taps; the client reads `reads` bytes and
    /// closes when `release` says so. `None` where `bind` is not available.
    async fn connected(
        bind: &str,
        reads: usize,
        release: oneshot::Receiver<()>,
    ) -> Option<(Tap<Tap<tokio::net::TcpStream>>, Arc<Wire>, tokio::task::JoinHandle<()>)> {
        use tokio::io::AsyncReadExt;
        let Ok(listener) = tokio::net::TcpListener::bind(bind).await else {
            eprintln!("no {bind} on this machine; skipped");
            return None;
        };
        let addr = listener.local_addr().unwrap();
        let client = tokio::spawn(async move {
            let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
            let mut got = vec![0u8; reads];
            c.read_exact(&mut got).await.unwrap();
            let _ = release.await;
            // Dropped: a FIN if nothing is left unread, else a reset.
        });
        let (tcp, peer) = listener.accept().await.unwrap();
        let wire = Arc::new(Wire::new(tcp.local_addr().unwrap(), peer));
        Some((Tap::over_tls(Tap::under_tls(tcp, wire.clone()), wire.clone()), wire, client))
    }

    /// Sends 100 kB; the client reads all of it and closes: taken, by the counts.
    async fn taken_on(bind: &str) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (release, hold) = oneshot::channel();
        let Some((mut s, wire, client)) = connected(bind, 100_000, hold).await else { return };
        s.write_all(&[7u8; 100_000]).await.unwrap();
        let flushed = wire.after_flush();
        s.flush().await.unwrap();
        let f = flushed.await.unwrap();
        assert_eq!(f, Flushed { written: 100_000, heard: 0 });
        let start = std::time::Instant::now();
        while wire.acked() < f.written && start.elapsed() < std::time::Duration::from_secs(5) {
            assert!(matches!(wire.probe(), Probe::Alive { .. }), "{bind}: the connection is found");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert_eq!(wire.acked(), f.written, "{bind}");
        assert_eq!(wire.judge(f), Judged::Open, "acknowledged, but the client has not spoken");
        release.send(()).unwrap();
        client.await.unwrap();
        assert_eq!(s.read(&mut [0u8; 16]).await.unwrap(), 0, "the client's FIN");
        assert_eq!(wire.judge(f), Judged::Taken, "{bind}");
        let never = wire.after_flush();
        s.shutdown().await.unwrap();
        drop(s);
        assert!(never.await.is_err(), "closed without another flush: the waiting learn it");
    }

    #[test]
    fn a_response_read_and_closed_in_order_is_taken() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(taken_on("127.0.0.1:0"));
        rt.block_on(taken_on("[::1]:0"));
    }

    #[test]
    fn a_client_that_closes_with_unread_bytes_takes_nothing() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let (release, hold) = oneshot::channel();
            let (mut s, wire, client) = connected("127.0.0.1:0", 10_000, hold).await.unwrap();
            s.write_all(&[7u8; 40_000]).await.unwrap();
            let flushed = wire.after_flush();
            s.flush().await.unwrap();
            let f = flushed.await.unwrap();
            // The client's TCP acknowledges all 40 kB (they fit its receive buffer) ...
            let start = std::time::Instant::now();
            while wire.acked() < f.written && start.elapsed() < std::time::Duration::from_secs(5) {
                wire.probe();
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            assert_eq!(wire.acked(), f.written);
            assert_eq!(wire.judge(f), Judged::Open, "an acknowledgement alone is not taken");
            // ... but the program read 10 kB and closes, which resets.
            release.send(()).unwrap();
            client.await.unwrap();
            assert!(s.read(&mut [0u8; 16]).await.is_err(), "a reset");
            assert_eq!(wire.judge(f), Judged::Refused);
            assert_eq!(wire.probe(), Probe::Gone);
        });
    }
}
