//! A TCP stream that can be cut from outside.
//!
//! russh handles `Handle::disconnect` only between key exchanges and then waits for the peer
//! to close, so a client that stalls in the handshake (or ignores the disconnect) would hold
//! its connection until the idle timeout. The connection task keeps a [`Kill`] switch and
//! cuts the stream when the auth timeout or shutdown grace is over: every read and write
//! then fails and the session ends.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The switch of one [`Killable`] stream.
#[derive(Default)]
pub(super) struct Kill {
    killed: AtomicBool,
    /// Wakers of a pending read (0) and write (1).
    wakers: Mutex<[Option<Waker>; 2]>,
}

impl Kill {
    /// Cuts the stream: pending and later reads and writes fail.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        let wakers = std::mem::take(&mut *self.wakers.lock().unwrap_or_else(|p| p.into_inner()));
        for w in wakers.into_iter().flatten() {
            w.wake();
        }
    }

    /// Registers the waker first, then checks: a kill after the check wakes the task.
    fn check(&self, slot: usize, cx: &Context<'_>) -> io::Result<()> {
        self.wakers.lock().unwrap_or_else(|p| p.into_inner())[slot] = Some(cx.waker().clone());
        if self.killed.load(Ordering::SeqCst) {
            return Err(io::Error::new(io::ErrorKind::ConnectionAborted, "connection cut by the server"));
        }
        Ok(())
    }
}

/// A stream with a [`Kill`] switch.
pub(super) struct Killable<S> {
    inner: S,
    kill: Arc<Kill>,
}

impl<S> Killable<S> {
    pub fn new(inner: S) -> (Killable<S>, Arc<Kill>) {
        let kill = Arc::new(Kill::default());
        (Killable { inner, kill: kill.clone() }, kill)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Killable<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.kill.check(0, cx)?;
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Killable<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.kill.check(1, cx)?;
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.kill.check(1, cx)?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn kill_wakes_a_pending_read() {
        let (a, _b) = tokio::io::duplex(64);
        let (mut k, kill) = Killable::new(a);
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 8];
            k.read(&mut buf).await
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        kill.kill();
        let r = tokio::time::timeout(std::time::Duration::from_secs(2), reader).await.unwrap().unwrap();
        assert_eq!(r.unwrap_err().kind(), io::ErrorKind::ConnectionAborted);
    }
}
